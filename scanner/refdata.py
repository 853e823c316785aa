"""Reference data shipped in data/: popular names and disposable e-mail domains.

Loaded once, on first use; signals receive it through their context, so they
stay free of I/O.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _folders() -> tuple[Path, ...]:
    """Where shipped data lives: inside the package in a wheel (force-included),
    in the repository's data/ in a checkout or editable install. A folder named
    `data` beside an installed package belongs to nobody in particular, so the
    checkout's is used only when it really is this project's checkout."""
    folders = [_PACKAGE / "data"]
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "scanner").is_dir():
        folders.append(_CHECKOUT / "data")
    return tuple(folders)


def data_path(name: str) -> Path:
    """The path of shipped reference data `name` (see data/README.md)."""
    folders = _folders()
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"reference data {name} not found in {', '.join(map(str, folders))}: "
        "this installation of trustscan is incomplete; reinstall it"
    )


def signal_docs() -> Path:
    """docs/signals.md (shipped in the wheel as scanner/data/signals.md)."""
    packaged = _PACKAGE / "data" / "signals.md"
    return packaged if packaged.is_file() else _CHECKOUT / "docs" / "signals.md"


_CANONICAL = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # already canonical: nothing to do


@dataclass(frozen=True, slots=True)
class ReferenceData:
    popular: dict[NormalizedName, int]  # name -> download rank (1 = most downloaded)
    disposable_domains: frozenset[str]


@functools.cache
def load() -> ReferenceData:
    popular: dict[NormalizedName, int] = {}
    for line in data_path("top-pypi-packages.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        rank, _, name = line.partition("\t")
        if rank.isdigit() and name:
            canonical = name if _CANONICAL.fullmatch(name) else canonicalize_name(name)
            popular.setdefault(NormalizedName(canonical), int(rank))
    domains = data_path("disposable-email-domains.txt").read_text(encoding="utf-8").split()
    return ReferenceData(popular, frozenset(d.strip().lower() for d in domains if d.strip()))
