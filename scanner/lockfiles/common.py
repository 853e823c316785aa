"""Helpers the lock parsers share: typed access with key paths, sources, line numbers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.version import InvalidVersion, Version

from scanner.models import INDEX_SOURCE, Diagnostic, PackageSource, SourceKind
from scanner.text import excerpt, inert

PUBLIC_INDEXES = ("https://pypi.org/simple", "https://pypi.python.org/simple")
PUBLIC_FILE_HOSTS = ("files.pythonhosted.org", "pypi.org")


def index_source(url: str | None) -> PackageSource:
    """The public index, or another one named by its URL."""
    if not url or url.rstrip("/") in PUBLIC_INDEXES:
        return INDEX_SOURCE if not url else PackageSource(SourceKind.INDEX, url)
    return PackageSource(SourceKind.OTHER_INDEX, url)


def table_lines(text: str, header: str, name_key: str = "name") -> list[int]:
    """For each `[[header]]` table, in order, the line of its name key (else the header's)."""
    start = re.compile(r"^\s*\[\[\s*" + re.escape(header) + r"\s*\]\]\s*$")
    name = re.compile(r"^\s*" + re.escape(name_key) + r"\s*=")
    lines: list[int] = []
    open_table = False
    for number, line in enumerate(text.splitlines(), start=1):
        if start.match(line):
            lines.append(number)
            open_table = True
        elif open_table and name.match(line):
            lines[-1] = number
            open_table = False
        elif line.lstrip().startswith("["):
            open_table = False
    return lines


class Problems:
    """Collects problems with a file, each located by line or key path."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[Diagnostic] = []

    def add(self, line: int | None, key: str, message: str) -> None:
        key = inert(key, 120)  # a key path can hold a name from the file (Pipfile.lock)
        self.items.append(Diagnostic(self.path, line, f"{key}: {message}" if key else message))


def as_table(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def as_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def hash_string(value: object) -> str | None:
    """'sha256:HEX' from the forms locks use ('sha256:hex', or a table)."""
    if isinstance(value, str) and ":" in value:
        algorithm, _, digest = value.partition(":")
        if algorithm and digest and all(c in "0123456789abcdefABCDEF" for c in digest):
            return f"{algorithm.lower()}:{digest.lower()}"
    return None


def named_hashes(artifacts: Iterable[object]) -> tuple[tuple[str, str], ...]:
    """(file name, 'sha256:hex') for each artifact table that names its file (`file`,
    `name`, or the last part of its `url`/`path`) and gives a sha256: what lets a
    mismatch tell a replaced file (same name, other bytes) from one no longer served."""
    found = []
    for artifact in artifacts:
        table = as_table(artifact)
        where = as_str(table.get("file")) or as_str(table.get("name"))
        if where is None:
            location = as_str(table.get("url")) or as_str(table.get("path")) or ""
            where = unquote(urlsplit(location).path.rpartition("/")[2]) or None
        digests = [hash_string(table.get("hash"))]
        digests += [
            f"{a.lower()}:{str(d).lower()}" for a, d in as_table(table.get("hashes")).items()
        ]
        for digest in digests:
            if where and digest and digest.startswith("sha256:"):
                found.append((where, digest))
    return tuple(sorted(set(found)))


_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


def valid_name(name: str) -> bool:
    """A project name as PEP 508 allows it: what no lock tool writes otherwise, and what
    keeps a control character out of every message built from it."""
    return _NAME.fullmatch(name) is not None


def name_and_version(
    raw: Mapping[str, Any], key: str, line: int | None, problems: Problems
) -> tuple[str, Version | None] | None:
    """A lock entry's name and optional version; None after saying what is wrong."""
    name = as_str(raw.get("name"))
    if name is None:
        problems.add(line, f"{key}.name", "missing or not a string")
        return None
    if not valid_name(name):
        problems.add(line, f"{key}.name", f"not a valid project name: {excerpt(name)}")
        return None
    if raw.get("version") is None:
        return name, None
    try:
        return name, Version(str(raw["version"]))
    except InvalidVersion:
        problems.add(line, f"{key}.version", f"invalid {excerpt(raw['version'])}")
        return None
