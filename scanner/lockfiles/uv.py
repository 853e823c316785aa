"""uv.lock (version 1): packages, their sources and hashes, and the edges uv records.

Reference: https://docs.astral.sh/uv/concepts/projects/layout/#the-lockfile
"""

from __future__ import annotations

from collections.abc import Mapping
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
    name_and_version,
    named_hashes,
    table_lines,
)
from scanner.lockfiles.toml import load_toml
from scanner.models import Lock, LockEdge, LockedPackage, PackageSource, SourceKind
from scanner.text import excerpt

SUPPORTED = (1,)
_MEMBER_SOURCES = ("editable", "virtual", "workspace")


def parse_uv_lock(text: str, path: str) -> Lock:
    data = load_toml(text, path)
    version = data.get("version")
    if version not in SUPPORTED:
        raise InputError.single(
            path, None, f"uv.lock version {excerpt(version)} is not supported (supported: 1)"
        )
    problems = Problems(path)
    lines = table_lines(text, "package")
    packages: list[LockedPackage] = []
    groups: set[str] = set()
    for i, raw in enumerate(as_list(data.get("package"))):
        line = lines[i] if i < len(lines) else None
        package = _package(as_table(raw), f"package[{i}]", line, path, problems)
        if package is not None:
            packages.append(package)
            groups |= {e.group for e in package.dependencies or () if e.group}
    if problems.items:
        raise InputError(problems.items)
    members = tuple(
        dict.fromkeys(
            p.name for p in packages if p.requirement and p.requirement in _MEMBER_SOURCES
        )
    )
    return Lock(
        path=path,
        format="uv.lock",
        packages=tuple(packages),
        members=members,
        groups=tuple(sorted(groups)),
    )


def _package(
    raw: Mapping[str, Any], key: str, line: int | None, path: str, problems: Problems
) -> LockedPackage | None:
    identity = name_and_version(raw, key, line, problems)
    if identity is None:
        return None
    name, version = identity
    source, kind = _source(as_table(raw.get("source")))
    hashes = [as_table(raw.get("sdist")).get("hash")]
    hashes += [as_table(w).get("hash") for w in as_list(raw.get("wheels"))]
    edges = [*_edges(raw.get("dependencies"), None, key, line, problems)]
    for extra, deps in as_table(raw.get("optional-dependencies")).items():
        edges += _edges(deps, str(extra), key, line, problems)
    for group, deps in as_table(raw.get("dev-dependencies")).items():
        edges += _edges(deps, str(group), key, line, problems)
    return LockedPackage(
        name=canonicalize_name(name),
        written=str(name),
        version=version,
        source=source,
        hashes=frozenset(h for h in map(hash_string, hashes) if h),
        named_hashes=named_hashes([raw.get("sdist"), *as_list(raw.get("wheels"))]),
        line=line,
        file=path,
        requirement=kind,
        dependencies=tuple(edges),
    )


def _source(raw: Mapping[str, Any]) -> tuple[PackageSource, str | None]:
    """The package's source, and the kind of member it is (editable, virtual, ...)."""
    if "registry" in raw:
        return index_source(as_str(raw["registry"])), None
    for kind in _MEMBER_SOURCES:
        if kind in raw:
            location = raw[kind] if isinstance(raw[kind], str) else None
            return PackageSource(SourceKind.PATH, location), kind
    if "git" in raw:
        return PackageSource(SourceKind.VCS, as_str(raw["git"])), None
    if "url" in raw:
        return PackageSource(SourceKind.URL, as_str(raw["url"])), None
    for kind in ("path", "directory"):
        if kind in raw:
            return PackageSource(SourceKind.PATH, as_str(raw[kind])), None
    return index_source(None), None


def _edges(
    raw: object, group: str | None, key: str, line: int | None, problems: Problems
) -> list[LockEdge]:
    edges = []
    for j, item in enumerate(as_list(raw)):
        entry = as_table(item)
        name = as_str(entry.get("name"))
        if name is None:
            problems.add(line, f"{key}.dependencies[{j}].name", "missing")
            continue
        version = None
        if entry.get("version") is not None:
            try:
                version = Version(str(entry["version"]))
            except InvalidVersion:
                problems.add(line, f"{key}.dependencies[{j}].version", "invalid")
                continue
        edges.append(
            LockEdge(
                name=canonicalize_name(name),
                marker=as_str(entry.get("marker")),
                version=version,
                extras=frozenset(canonicalize_name(str(e)) for e in as_list(entry.get("extra"))),
                group=group,
            )
        )
    return edges
