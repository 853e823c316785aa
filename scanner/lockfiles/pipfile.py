"""Pipfile.lock (pipenv): `default` is production, `develop` the dev group.

It records no edges; they come from each release's metadata.
"""

from __future__ import annotations

import json
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
    valid_name,
)
from scanner.models import DEFAULT_GROUP, Lock, LockedPackage, PackageSource, SourceKind
from scanner.text import excerpt

SECTIONS = {"default": DEFAULT_GROUP, "develop": "develop"}


def parse_pipfile_lock(text: str, path: str) -> Lock:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError.single(path, e.lineno, f"invalid JSON: {e.msg}") from e
    except RecursionError as e:
        raise InputError.single(path, None, "invalid JSON: nested too deeply") from e
    if not isinstance(data, dict) or not isinstance(data.get("_meta"), dict):
        raise InputError.single(path, None, "not a Pipfile.lock (no _meta object)")
    spec = as_table(data["_meta"]).get("pipfile-spec")
    if spec is not None and spec not in (5, 6):
        raise InputError.single(path, None, f"pipfile-spec {excerpt(spec)} is not supported (5, 6)")
    sources = {
        str(s.get("name")): str(s.get("url"))
        for s in as_list(as_table(data["_meta"]).get("sources"))
        if isinstance(s, Mapping)
    }
    problems = Problems(path)
    lines = _entry_lines(text)
    found: dict[str, LockedPackage] = {}
    for section, group in SECTIONS.items():
        for name, raw in as_table(data.get(section)).items():
            key = f"{section}.{name}"
            package = _package(
                str(name), as_table(raw), key, lines.get(key), path, sources, problems
            )
            if package is None:
                continue
            previous = found.get(package.name)
            groups = (previous.groups if previous else frozenset()) | {group}
            if previous is None or previous.version == package.version:
                found[package.name] = LockedPackage(**{**_fields(package), "groups": groups})
            else:
                found[f"{package.name} ({group})"] = LockedPackage(
                    **{**_fields(package), "groups": frozenset({group})}
                )
    if problems.items:
        raise InputError(problems.items)
    urls = list(dict.fromkeys(sources.values()))  # the first source is the index
    return Lock(
        path=path,
        format="Pipfile.lock",
        packages=tuple(found.values()),
        groups=("develop",),
        index_url=urls[0] if urls else None,
        extra_index_urls=tuple(urls[1:]),
    )


def _fields(package: LockedPackage) -> dict[str, Any]:
    return {f: getattr(package, f) for f in LockedPackage.__dataclass_fields__}


def _package(
    name: str,
    raw: Mapping[str, Any],
    key: str,
    line: int | None,
    path: str,
    sources: Mapping[str, str],
    problems: Problems,
) -> LockedPackage | None:
    if not valid_name(name):
        problems.add(line, key, f"not a valid project name: {excerpt(name)}")
        return None
    version: Version | None = None
    pin = as_str(raw.get("version"))
    if pin is not None:
        try:
            version = Version(pin.lstrip("=").strip())
        except InvalidVersion:
            problems.add(line, f"{key}.version", f"invalid {excerpt(pin)}")
            return None
    if as_str(raw.get("git")):
        source = PackageSource(SourceKind.VCS, as_str(raw.get("git")))
    elif as_str(raw.get("path")) or raw.get("editable"):
        source = PackageSource(SourceKind.PATH, as_str(raw.get("path")))
    elif as_str(raw.get("file")):
        source = PackageSource(SourceKind.URL, as_str(raw.get("file")))
    else:
        source = index_source(sources.get(str(raw.get("index", "pypi"))))
    return LockedPackage(
        name=canonicalize_name(name),
        written=str(name),
        version=version,
        source=source,
        hashes=frozenset(h for h in map(hash_string, as_list(raw.get("hashes"))) if h),
        marker=as_str(raw.get("markers")),
        extras=frozenset(str(e) for e in as_list(raw.get("extras"))),
        line=line,
        file=path,
    )


def _entry_lines(text: str) -> dict[str, int]:
    """`section.name` -> the line where its entry starts (json gives no positions)."""
    lines: dict[str, int] = {}
    section = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if stripped.startswith('"') and stripped.endswith("{"):
            name = stripped.split('"')[1]
            if indent <= 4 and name in SECTIONS:
                section = name
            elif section and indent <= 8:
                lines.setdefault(f"{section}.{name}", number)
    return lines
