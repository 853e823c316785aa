"""pdm.lock: lock_version 4.x, with per-package groups (4.4+) and PEP 508 dependency lines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
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
    name_and_version,
    named_hashes,
    table_lines,
)
from scanner.lockfiles.toml import load_toml
from scanner.models import DEFAULT_GROUP, Lock, LockEdge, LockedPackage, PackageSource, SourceKind
from scanner.text import excerpt

SUPPORTED_MAJORS = (3, 4)


def parse_pdm_lock(text: str, path: str) -> Lock:
    data = load_toml(text, path)
    metadata = as_table(data.get("metadata"))
    version = metadata.get("lock_version")
    try:
        major = Version(str(version)).major
    except InvalidVersion:
        major = -1
    if major not in SUPPORTED_MAJORS:
        raise InputError.single(
            path,
            None,
            f"pdm lock_version {excerpt(version)} is not supported (supported: 3.x, 4.x)",
        )
    legacy_files = as_table(metadata.get("files"))
    problems = Problems(path)
    lines = table_lines(text, "package")
    merged: dict[tuple[str, str], LockedPackage] = {}
    for i, raw in enumerate(as_list(data.get("package"))):
        line = lines[i] if i < len(lines) else None
        package = _package(as_table(raw), f"package[{i}]", line, path, legacy_files, problems)
        if package is None:
            continue
        key = (package.name, package.display_version)
        previous = merged.get(key)
        if previous is None:
            merged[key] = package
        else:  # pdm repeats a package once per extra ("foo[bar]"): one node, all edges
            merged[key] = LockedPackage(
                name=previous.name,
                version=previous.version,
                source=previous.source,
                hashes=previous.hashes | package.hashes,
                marker=previous.marker,
                line=previous.line,
                file=path,
                dependencies=(previous.dependencies or ()) + (package.dependencies or ()),
                groups=previous.groups | package.groups,
            )
    if problems.items:
        raise InputError(problems.items)
    groups = {str(g) for g in as_list(metadata.get("groups"))} - {DEFAULT_GROUP}
    return Lock(
        path=path, format="pdm.lock", packages=tuple(merged.values()), groups=tuple(sorted(groups))
    )


def _package(
    raw: Mapping[str, Any],
    key: str,
    line: int | None,
    path: str,
    legacy_files: Mapping[str, Any],
    problems: Problems,
) -> LockedPackage | None:
    identity = name_and_version(raw, key, line, problems)
    if identity is None:
        return None
    name, version = identity
    files = as_list(raw.get("files")) or as_list(legacy_files.get(f"{name} {raw.get('version')}"))
    edges = []
    for j, line_text in enumerate(as_list(raw.get("dependencies"))):
        try:
            requirement = Requirement(str(line_text))
        except InvalidRequirement:
            problems.add(
                line, f"{key}.dependencies[{j}]", f"invalid requirement {excerpt(line_text)}"
            )
            continue
        edges.append(
            LockEdge(
                name=canonicalize_name(requirement.name),
                marker=str(requirement.marker) if requirement.marker else None,
                extras=frozenset(requirement.extras),
            )
        )
    return LockedPackage(
        name=canonicalize_name(name),
        written=str(name),
        version=version,
        source=_source(raw),
        hashes=frozenset(h for h in (hash_string(as_table(f).get("hash")) for f in files) if h),
        named_hashes=named_hashes(files),
        marker=as_str(raw.get("marker")),
        line=line,
        file=path,
        dependencies=tuple(edges),
        groups=frozenset(str(g) for g in as_list(raw.get("groups"))),
        requirement=None if version is not None else name,
    )


def _source(raw: Mapping[str, Any]) -> PackageSource:
    if as_str(raw.get("git")):
        return PackageSource(SourceKind.VCS, as_str(raw.get("git")))
    if as_str(raw.get("path")) or raw.get("editable"):
        return PackageSource(SourceKind.PATH, as_str(raw.get("path")))
    if as_str(raw.get("url")):
        return PackageSource(SourceKind.URL, as_str(raw.get("url")))
    return index_source(None)
