"""poetry.lock: lock-version 1.x (category, [metadata.files]) and 2.x (groups, files).

Poetry records edges by name (with markers) but not which packages the project
itself requires, so roots are the packages nothing else depends on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from scanner.errors import InputError
from scanner.lockfiles.common import (
    Problems,
    as_list,
    as_str,
    as_table,
    hash_string,
    index_source,
    named_hashes,
    table_lines,
    valid_name,
)
from scanner.lockfiles.toml import load_toml
from scanner.models import DEFAULT_GROUP, Lock, LockEdge, LockedPackage, PackageSource, SourceKind
from scanner.text import excerpt

SUPPORTED_MAJORS = (1, 2)


def parse_poetry_lock(text: str, path: str) -> Lock:
    data = load_toml(text, path)
    metadata = as_table(data.get("metadata"))
    version = metadata.get("lock-version")
    if version is not None:
        try:
            major = Version(str(version)).major
        except InvalidVersion:
            major = -1
        if major not in SUPPORTED_MAJORS:
            raise InputError.single(
                path,
                None,
                f"poetry lock-version {excerpt(version)} is not supported (supported: 1.x, 2.x)",
            )
    legacy_files = as_table(metadata.get("files"))
    problems = Problems(path)
    lines = table_lines(text, "package")
    packages = []
    optional: set[str] = set()
    for i, raw in enumerate(as_list(data.get("package"))):
        line = lines[i] if i < len(lines) else None
        package = _package(as_table(raw), f"package[{i}]", line, path, legacy_files, problems)
        if package is not None:
            packages.append(package)
            if as_table(raw).get("optional") is True:
                optional.add(package.name)
    if problems.items:
        raise InputError(problems.items)
    packages = _extras_as_groups(packages, optional, as_table(data.get("extras")))
    groups: set[str] = set()
    for package in packages:
        groups |= package.groups
    return Lock(
        path=path,
        format="poetry.lock",
        packages=tuple(packages),
        groups=tuple(sorted(groups - {DEFAULT_GROUP})),
    )


def _extras_as_groups(
    packages: list[LockedPackage], optional: set[str], extras: Mapping[str, Any]
) -> list[LockedPackage]:
    """An `optional = true` package is installed only with an extra: it belongs to the
    extras (`[extras]`) that name it or reach it through the lock's edges, so that
    `--production` leaves it out and the default scan keeps it."""
    if not optional:
        return packages
    by_name = {p.name: p for p in packages}
    reached: dict[str, set[str]] = defaultdict(set)
    for extra, names in extras.items():
        stack = [canonicalize_name(str(n).split("[")[0]) for n in as_list(names)]
        while stack:
            name = stack.pop()
            if name not in optional or extra in reached[name]:
                continue
            reached[name].add(str(extra))
            stack.extend(e.name for e in by_name[name].dependencies or () if name in by_name)
    return [
        replace(p, groups=frozenset(reached[p.name] or {"optional"})) if p.name in optional else p
        for p in packages
    ]


def _package(
    raw: Mapping[str, Any],
    key: str,
    line: int | None,
    path: str,
    legacy_files: Mapping[str, Any],
    problems: Problems,
) -> LockedPackage | None:
    name = as_str(raw.get("name"))
    version_text = raw.get("version")
    if name is None or version_text is None:
        problems.add(line, key, "needs a name and a version")
        return None
    if not valid_name(name):
        problems.add(line, f"{key}.name", f"not a valid project name: {excerpt(name)}")
        return None
    try:
        version = Version(str(version_text))
    except InvalidVersion:
        problems.add(line, f"{key}.version", f"invalid {excerpt(version_text)}")
        return None
    files = as_list(raw.get("files")) or as_list(legacy_files.get(name))
    hashes = {h for h in (hash_string(as_table(f).get("hash")) for f in files) if h}
    groups = {str(g) for g in as_list(raw.get("groups"))} or {str(raw.get("category", "main"))}
    groups = {DEFAULT_GROUP if g == "main" else g for g in groups}
    marker = raw.get("markers")
    return LockedPackage(
        name=canonicalize_name(name),
        written=str(name),
        version=version,
        source=_source(as_table(raw.get("source"))),
        hashes=frozenset(hashes),
        named_hashes=named_hashes(files),
        marker=marker if isinstance(marker, str) else None,
        line=line,
        file=path,
        dependencies=tuple(_edges(as_table(raw.get("dependencies")))),
        groups=frozenset(groups),
    )


def _source(raw: Mapping[str, Any]) -> PackageSource:
    kind = as_str(raw.get("type"))
    url = as_str(raw.get("url"))
    if kind == "git":
        return PackageSource(SourceKind.VCS, url)
    if kind == "url":
        return PackageSource(SourceKind.URL, url)
    if kind in ("directory", "file"):
        return PackageSource(SourceKind.PATH, url)
    if kind == "legacy":
        return index_source(url) if url else index_source(None)
    return index_source(None)


def _edges(raw: Mapping[str, Any]) -> list[LockEdge]:
    edges = []
    for name, spec in raw.items():
        for entry in spec if isinstance(spec, list) else [spec]:
            table = as_table(entry)
            edges.append(
                LockEdge(
                    name=canonicalize_name(str(name)),
                    marker=as_str(table.get("markers")),
                    extras=frozenset(str(e) for e in as_list(table.get("extras"))),
                    group="optional" if table.get("optional") else None,
                )
            )
    return edges
