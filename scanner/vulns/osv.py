"""An offline OSV database (a directory or zip of OSV JSON/YAML), matched locally.

Matching follows the OSV schema (https://ossf.github.io/osv-schema/): an
affected entry covers a version listed in `versions`, or inside an ECOSYSTEM
range (`introduced` / `fixed` / `last_affected` / `limit` events), compared as
PEP 440 versions. Withdrawn advisories are skipped; advisories that alias each
other are merged into one.
"""

from __future__ import annotations

import functools
import json
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from scanner.errors import InputError
from scanner.models import Advisory, Unavailable

MAX_ENTRY = 4 * 1024 * 1024


class OsvDatabase:
    """All PyPI advisories of a database, indexed by package name."""

    def __init__(self, records: list[Mapping[str, Any]], origin: str) -> None:
        self.origin = origin
        self.name = f"OSV database {origin}"
        self._by_package: dict[NormalizedName, list[Mapping[str, Any]]] = defaultdict(list)
        self.records = 0  # PyPI records (withdrawn ones included: the database knows them)
        self.newest: str | None = None  # the latest `modified` stamp of those
        for record in records:
            pypi = [
                canonicalize_name(package["name"])
                for affected in _list(record.get("affected"))
                if isinstance(affected, Mapping)
                and isinstance(package := affected.get("package"), Mapping)
                and str(package.get("ecosystem", "")).lower() == "pypi"
                and isinstance(package.get("name"), str)
                and package["name"]
            ]
            if not pypi:
                continue
            self.records += 1
            modified = record.get("modified")
            if isinstance(modified, str) and (self.newest is None or modified > self.newest):
                self.newest = modified
            if record.get("withdrawn"):
                continue
            for name in dict.fromkeys(pypi):
                self._by_package[name].append(record)

    @classmethod
    def load(cls, path: str) -> OsvDatabase:
        """Load a database; one that holds no PyPI record is an input error, since it
        would answer "no advisories" for every package without knowing any."""
        database = cls(list(_read_records(Path(path))), path)
        if database.records == 0:
            raise InputError.single(
                path,
                None,
                "advisory database holds no PyPI advisory (OSV records with an affected "
                "package in the PyPI ecosystem); give the PyPA or OSV PyPI export",
            )
        return database

    def prefetch(self, packages: Iterable[tuple[NormalizedName, Version]]) -> None:
        """Answers come one at a time (from memory, or through the HTTP cache)."""

    def describe(self) -> str:
        newest = f", newest modified {self.newest[:10]}" if self.newest else ""
        return f"{self.name}: {self.records} PyPI records{newest}"

    def query(self, name: NormalizedName, version: Version) -> tuple[Advisory, ...] | Unavailable:
        return advisories_for(self._by_package.get(name, ()), name, version)


def advisories_for(
    records: Iterable[Mapping[str, Any]], name: NormalizedName, version: Version
) -> tuple[Advisory, ...]:
    """The advisories among `records` (OSV, as `clean_record` keeps them) that cover
    `name` at `version`, withdrawn ones left out, aliases merged."""
    matches = [r for r in records if _covers(r, name, version)]
    return merged(matches, name)


def merged(records: Iterable[Mapping[str, Any]], name: NormalizedName) -> tuple[Advisory, ...]:
    """One Advisory per vulnerability of `records` (withdrawn ones left out)."""
    return _merge([r for r in records if not r.get("withdrawn")], name)


def _read_records(path: Path) -> Iterator[Mapping[str, Any]]:
    if not path.exists():
        raise InputError.single(str(path), None, "advisory database not found")
    if not path.is_dir() and not path.is_file():
        raise InputError.single(str(path), None, "advisory database is not a file or directory")
    if path.is_dir():
        for file in sorted(path.rglob("*")):
            if file.suffix in (".json", ".yaml", ".yml") and file.is_file():
                yield _parse(file.read_bytes(), str(file))
        return
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.endswith((".json", ".yaml", ".yml")):
                    if info.file_size > MAX_ENTRY:
                        raise InputError.single(f"{path}!{info.filename}", None, "entry too large")
                    yield _parse(archive.read(info), f"{path}!{info.filename}")
    except zipfile.BadZipFile as e:
        raise InputError.single(str(path), None, f"not a zip or directory: {e}") from e


def _parse(data: bytes, where: str) -> Mapping[str, Any]:
    import yaml  # advisory databases only: not loaded by scans without one

    try:
        record = json.loads(data) if where.endswith(".json") else yaml.load(data, Loader=_loader())  # noqa: S506 (a safe loader)
    except (ValueError, yaml.YAMLError, RecursionError) as e:
        raise InputError.single(where, None, f"unreadable advisory: {type(e).__name__}") from e
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise InputError.single(where, None, "not an OSV record (no 'id')")
    return clean_record(record)


def clean_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of an OSV record that are read, each of the type the schema gives;
    anything of another shape is left out, so matching never meets a surprise."""
    affected = []
    for entry in _list(record.get("affected")):
        if not isinstance(entry, Mapping):
            continue
        package = entry.get("package")
        package = package if isinstance(package, Mapping) else {}
        name = package.get("name")
        ranges = [
            {
                "type": str(r.get("type")),
                "events": [e for e in _list(r.get("events")) if isinstance(e, Mapping)],
            }
            for r in _list(entry.get("ranges"))
            if isinstance(r, Mapping)
        ]
        affected.append(
            {
                "package": {
                    "ecosystem": str(package.get("ecosystem", "")),
                    "name": name if isinstance(name, str) else "",
                },
                "versions": [str(v) for v in _list(entry.get("versions")) if _scalar(v)],
                "ranges": ranges,
            }
        )
    specific = record.get("database_specific")
    return {
        "id": record["id"],
        "aliases": [a for a in _list(record.get("aliases")) if isinstance(a, str)],
        "summary": _text(record.get("summary")),
        "details": _text(record.get("details")),
        "modified": _text(record.get("modified")),
        "withdrawn": _text(record.get("withdrawn")),
        "affected": affected,
        "references": [
            {"url": r["url"]}
            for r in _list(record.get("references"))
            if isinstance(r, Mapping) and isinstance(r.get("url"), str)
        ],
        "database_specific": {"severity": _text(specific.get("severity"))}
        if isinstance(specific, Mapping)
        else {},
        "severity": [
            {"type": str(s.get("type")), "score": str(s.get("score"))}
            for s in _list(record.get("severity"))
            if isinstance(s, Mapping) and isinstance(s.get("score"), str)
        ],
    }


def _scalar(value: object) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _text(value: object) -> str | None:
    if isinstance(value, datetime):  # YAML reads an unquoted timestamp as one
        return value.isoformat()
    return str(value) if _scalar(value) else None


@functools.cache
def _loader() -> type:
    """libyaml's safe loader (~10x faster), refusing aliases: an OSV record needs none,
    and an alias is how a YAML bomb makes a few bytes into billions of items."""
    import yaml

    base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class NoAliases(base):  # type: ignore[misc]
        def construct_object(self, node: Any, deep: bool = False) -> Any:
            if node in self.constructed_objects or node in self.recursive_objects:
                raise yaml.constructor.ConstructorError(
                    None, None, "YAML aliases are refused in advisories", node.start_mark
                )
            return super().construct_object(node, deep)

    return NoAliases


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _version(text: object) -> Version | None:
    try:
        return Version(str(text))
    except InvalidVersion:
        return None


def _covers(record: Mapping[str, Any], name: NormalizedName, version: Version) -> bool:
    for affected in record.get("affected") or ():
        package = affected.get("package") or {}
        if canonicalize_name(str(package.get("name", ""))) != name:
            continue
        if any(_version(v) == version for v in affected.get("versions") or ()):
            return True
        for r in affected.get("ranges") or ():
            if r.get("type") == "ECOSYSTEM" and _in_range(list(r.get("events") or ()), version):
                return True
    return False


def _in_range(events: list[Mapping[str, Any]], version: Version) -> bool:
    """OSV range evaluation: walk events in version order, toggling 'affected'."""
    points: list[tuple[Version, int, str]] = []
    for event in events:
        for kind, order in (("introduced", 0), ("fixed", 1), ("last_affected", 2), ("limit", 1)):
            if kind in event:
                at = Version("0") if event[kind] == "0" else _version(event[kind])
                if at is not None:
                    points.append((at, order, kind))
    affected = False
    for at, _, kind in sorted(points):
        if version < at or (kind == "last_affected" and version == at):
            continue  # events past the version do not apply to it
        affected = kind == "introduced"
    return affected


def _merge(records: list[Mapping[str, Any]], name: NormalizedName) -> tuple[Advisory, ...]:
    """One Advisory per vulnerability: records sharing an id or alias are merged."""
    groups: list[tuple[set[str], list[Mapping[str, Any]]]] = []
    for record in records:
        ids = {str(record["id"]), *(str(a) for a in record.get("aliases") or ())}
        joined = [g for g in groups if g[0] & ids]
        merged_ids, merged = set(ids), [record]
        for group in joined:
            merged_ids |= group[0]
            merged += group[1]
            groups.remove(group)
        groups.append((merged_ids, merged))
    return tuple(sorted((_advisory(ids, group, name) for ids, group in groups), key=lambda a: a.id))


def _advisory(ids: set[str], group: list[Mapping[str, Any]], name: NormalizedName) -> Advisory:
    primary = sorted(str(r["id"]) for r in group)[0]
    fixed: set[str] = set()
    links: list[str] = []
    severity = None
    vector = None
    for record in group:
        for affected in record.get("affected") or ():
            if canonicalize_name(str((affected.get("package") or {}).get("name", ""))) != name:
                continue
            for r in affected.get("ranges") or ():
                if r.get("type") == "ECOSYSTEM":  # GIT ranges name commits, not versions
                    fixed |= {str(e["fixed"]) for e in r.get("events") or () if "fixed" in e}
        links += [str(ref["url"]) for ref in record.get("references") or () if ref.get("url")]
        specific = record.get("database_specific") or {}
        severity = severity or specific.get("severity")
        vector = vector or next(
            (
                str(s["score"])
                for s in record.get("severity") or ()
                if str(s.get("score", "")).startswith("CVSS:3")
            ),
            None,
        )
    return Advisory(
        id=primary,
        aliases=tuple(sorted(ids - {primary})),
        summary=next((str(r.get("summary") or r.get("details")) for r in group), None),
        fixed=tuple(sorted(fixed, key=lambda v: _version(v) or Version("0"))),
        severity=str(severity).upper() if severity else None,
        links=tuple(dict.fromkeys(links))[:10],
        cvss=vector,
    )
