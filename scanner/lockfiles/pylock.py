"""pylock.toml (PEP 751).

Parsed leniently from the TOML tables rather than with `packaging.pylock`,
whose strict validation rejects real files (pipenv writes `upload-time` as a
string); every key we rely on is still checked, and problems name their key
path, e.g. `packages[3].version`.

Reference: https://packaging.python.org/en/latest/specifications/pylock-toml/
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from scanner.errors import InputError
from scanner.lockfiles.common import (
    PUBLIC_FILE_HOSTS,
    PUBLIC_INDEXES,
    named_hashes,
    table_lines,
    valid_name,
)
from scanner.lockfiles.toml import load_toml
from scanner.models import Diagnostic, Lock, LockedPackage, PackageSource, SourceKind
from scanner.text import excerpt

SUPPORTED_MAJOR = 1


def parse_pylock(text: str, path: str) -> Lock:
    data = load_toml(text, path)
    problems: list[Diagnostic] = []
    version = str(data.get("lock-version", ""))
    try:
        major = Version(version).major
    except InvalidVersion:
        major = -1
    if major != SUPPORTED_MAJOR:
        raise InputError.single(
            path, None, f"lock-version {excerpt(version)} is not supported (supported: 1.x)"
        )
    raw_packages = data.get("packages")
    if not isinstance(raw_packages, list):
        raise InputError.single(path, None, "packages: expected an array of tables")
    lines = table_lines(text, "packages")
    packages = []
    for i, raw in enumerate(raw_packages):
        line = lines[i] if i < len(lines) else None
        package = _package(raw, f"packages[{i}]", path, line, problems)
        if package is not None:
            packages.append(package)
    if problems:
        raise InputError(problems)
    return Lock(
        path=path,
        format="pylock",
        packages=tuple(packages),
        default_groups=frozenset(_names(data.get("default-groups"))),
        # the groups and extras its markers may test (`'dev' in dependency_groups`)
        groups=tuple(
            sorted(set(_names(data.get("dependency-groups"))) | set(_names(data.get("extras"))))
        ),
    )


def _names(value: object) -> list[str]:
    return [str(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _package(
    raw: object, key: str, path: str, line: int | None, problems: list[Diagnostic]
) -> LockedPackage | None:
    if not isinstance(raw, Mapping):
        problems.append(Diagnostic(path, line, f"{key}: expected a table"))
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        problems.append(Diagnostic(path, line, f"{key}.name: missing or not a string"))
        return None
    if not valid_name(name):
        problems.append(
            Diagnostic(path, line, f"{key}.name: not a valid project name: {excerpt(name)}")
        )
        return None
    version: Version | None = None
    if "version" in raw:
        try:
            version = Version(str(raw["version"]))
        except InvalidVersion:
            problems.append(
                Diagnostic(path, line, f"{key}.version: invalid {excerpt(raw['version'])}")
            )
            return None
    marker = raw.get("marker")
    identities = raw.get("attestation-identities") or ()
    return LockedPackage(
        name=canonicalize_name(name),
        written=name,
        version=version,
        source=_source(raw),
        hashes=frozenset(_hashes(raw)),
        named_hashes=named_hashes([raw.get("sdist"), *(raw.get("wheels") or [])]),
        marker=marker if isinstance(marker, str) else None,
        line=line,
        file=path,
        attestation_identities=tuple(i for i in identities if isinstance(i, Mapping)),
    )


def _source(raw: Mapping[str, Any]) -> PackageSource:
    for key, kind in (("vcs", SourceKind.VCS), ("directory", SourceKind.PATH)):
        if isinstance(raw.get(key), Mapping):
            where = raw[key].get("url") or raw[key].get("path")
            return PackageSource(kind, str(where) if where else None)
    archive = raw.get("archive")
    if isinstance(archive, Mapping):
        kind = SourceKind.URL if archive.get("url") else SourceKind.PATH
        return PackageSource(kind, str(archive.get("url") or archive.get("path")))
    index = raw.get("index")
    if isinstance(index, str):
        if index.rstrip("/") in PUBLIC_INDEXES:
            return PackageSource(SourceKind.INDEX, index)
        return PackageSource(SourceKind.OTHER_INDEX, index)
    # No `index` key: the artifact URLs say where the files come from.
    for url in _artifact_urls(raw):
        host = urlsplit(url).hostname or ""
        if host not in PUBLIC_FILE_HOSTS:
            return PackageSource(SourceKind.OTHER_INDEX, f"{urlsplit(url).scheme}://{host}")
    return PackageSource(SourceKind.INDEX)


def _artifact_urls(raw: Mapping[str, Any]) -> list[str]:
    artifacts = [raw.get("sdist"), *(raw.get("wheels") or [])]
    return [
        str(a["url"]) for a in artifacts if isinstance(a, Mapping) and isinstance(a.get("url"), str)
    ]


def _hashes(raw: Mapping[str, Any]) -> list[str]:
    artifacts = [raw.get("sdist"), raw.get("archive"), *(raw.get("wheels") or [])]
    found = []
    for artifact in artifacts:
        if isinstance(artifact, Mapping) and isinstance(artifact.get("hashes"), Mapping):
            for algorithm, digest in artifact["hashes"].items():
                found.append(f"{algorithm.lower()}:{str(digest).lower()}")
    return found
