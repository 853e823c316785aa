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

_CANDIDATES = (
    Path(__file__).resolve().parent.parent / "data",  # a checkout or editable install
    Path(__file__).resolve().parent / "data",  # a wheel (force-included)
)


def data_path(name: str) -> Path:
    for folder in _CANDIDATES:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"reference data {name} not found in {', '.join(map(str, _CANDIDATES))}"
    )


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
