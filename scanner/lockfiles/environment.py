"""An installed environment: the distributions in a site-packages, read as data.

Nothing is imported from the environment and its interpreter is not run:
`importlib.metadata` reads each `*.dist-info/METADATA` (and PEP 610
`direct_url.json`) from the folder.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from scanner.errors import UsageError
from scanner.models import INDEX_SOURCE, Lock, LockedPackage, PackageSource, SourceKind


def site_packages(python: str | None) -> list[Path]:
    """The site-packages of the running interpreter, or of the venv or python at `python`."""
    if python is None:
        return [Path(p) for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    given = Path(python).resolve()
    root = given if given.is_dir() else given.parent.parent
    found = sorted(root.glob("lib/python3*/site-packages")) + sorted(root.glob("Lib/site-packages"))
    if not found:
        raise UsageError(f"--python {python}: no site-packages under {root}")
    return found


def parse_environment(paths: list[Path], label: str) -> Lock:
    packages: dict[str, LockedPackage] = {}
    for dist in metadata.distributions(path=[str(p) for p in paths]):
        name = dist.name
        if not name or canonicalize_name(name) in packages:
            continue  # the first on the path wins, as for the interpreter
        try:
            version: Version | None = Version(dist.version)
        except InvalidVersion:
            version = None
        packages[canonicalize_name(name)] = LockedPackage(
            name=canonicalize_name(name),
            version=version,
            source=_source(dist),
            file=label,
        )
    return Lock(path=label, format="environment", packages=tuple(packages.values()))


def _source(dist: metadata.Distribution) -> PackageSource:
    """PEP 610: a direct_url.json means the distribution did not come from an index."""
    text = dist.read_text("direct_url.json")
    if not text:
        return INDEX_SOURCE
    try:
        data = json.loads(text)
    except ValueError:
        return PackageSource(SourceKind.URL, None)
    url = str(data.get("url", ""))
    if "vcs_info" in data:
        return PackageSource(SourceKind.VCS, url)
    if url.startswith("file:"):
        return PackageSource(SourceKind.PATH, url)
    return PackageSource(SourceKind.URL, url)
