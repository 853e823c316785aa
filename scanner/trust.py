"""The trust record: what a reviewer approved, committed beside the lockfile.

Modelled on cargo-vet's audits and trusted-publisher entries, on PyPI's own
identities: per project, the Trusted Publishers seen on attested releases, the
owners and maintainers, the maintainer e-mails of the pinned release, the versions
it was recorded at, who approved it, from `start` until `end` (required, at most a
year out), and notes. A policy-wide `[[trusted-publishers]]` trusts an identity
across projects (`repository = "pallets/*"`, `workflow = "publish.yml"`).

The file is TOML, written by `render()` in one stable form (sorted, one entry per
project, fixed key order), so recording an unchanged state changes no byte and a
changed owner is a one-entry diff. Parsing and writing are pure: no I/O here.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name

from scanner.errors import InputError
from scanner.lockfiles.toml import load_toml
from scanner.models import (
    CoreMetadata,
    Diagnostic,
    Evidence,
    ProjectInfo,
    Publisher,
    email_addresses,
)

DEFAULT_PATH = "supply-chain/trust.toml"
MAX_IMPORT = 4 * 1024 * 1024  # an imported record's size bound
MAX_DAYS = 366  # an approval lasts at most a year (cargo-vet's rule for trusted publishers)
_ENTRY_KEYS = (
    "owners",
    "maintainers",
    "organization",
    "emails",
    "publishers",
    "versions",
    "approved-by",
    "start",
    "end",
    "notes",
)
_PUBLISHER_KEYS = ("kind", "repository", "workflow", "environment")


@dataclass(frozen=True, slots=True)
class RecordedPublisher:
    """A Trusted Publisher identity as recorded (kind, repository, workflow, environment)."""

    kind: str
    repository: str = ""
    workflow: str = ""
    environment: str = ""

    @classmethod
    def of(cls, publisher: Publisher) -> RecordedPublisher:
        return cls(
            publisher.kind,
            publisher.repository or publisher.email or "",
            publisher.workflow or "",
            publisher.environment or "",
        )

    def matches(self, publisher: Publisher) -> bool:
        return _identity(self) == _identity(RecordedPublisher.of(publisher))

    def __str__(self) -> str:
        parts = [self.kind, self.repository, self.workflow]
        env = f" (environment {self.environment})" if self.environment else ""
        return " ".join(p for p in parts if p) + env


def _identity(p: RecordedPublisher) -> tuple[str, str, str, str]:
    return (p.kind.lower(), p.repository.lower(), p.workflow.lower(), p.environment.lower())


@dataclass(frozen=True, slots=True)
class TrustEntry:
    """What was observed of one project, and approved, for a time."""

    owners: tuple[str, ...] = ()
    maintainers: tuple[str, ...] = ()
    organization: str = ""
    emails: tuple[str, ...] = ()
    publishers: tuple[RecordedPublisher, ...] = ()
    versions: tuple[str, ...] = ()
    approved_by: str = ""
    start: date | None = None
    end: date | None = None
    notes: str = ""

    def users(self) -> frozenset[tuple[str, str]]:
        return frozenset(
            {(u, "Owner") for u in self.owners} | {(u, "Maintainer") for u in self.maintainers}
        )


@dataclass(frozen=True, slots=True)
class TrustedPublisher:
    """A policy-wide trust: any project published from this identity (fnmatch globs)."""

    repository: str
    workflow: str = "*"
    environment: str = "*"
    kind: str = "*"

    def matches(self, publisher: Publisher) -> bool:
        recorded = RecordedPublisher.of(publisher)
        return all(
            fnmatch.fnmatchcase(value.lower(), pattern.lower())
            for value, pattern in (
                (recorded.kind, self.kind),
                (recorded.repository, self.repository),
                (recorded.workflow, self.workflow),
                (recorded.environment or "", self.environment),
            )
        )


@dataclass(frozen=True, slots=True)
class Import:
    """Another team's record, pinned by its sha256."""

    source: str  # a path (relative to this record) or an https URL
    sha256: str


@dataclass(frozen=True, slots=True)
class TrustRecord:
    path: str
    entries: Mapping[NormalizedName, TrustEntry] = field(default_factory=dict)
    trusted_publishers: tuple[TrustedPublisher, ...] = ()
    imports: tuple[Import, ...] = ()

    def entry(self, name: NormalizedName) -> TrustEntry | None:
        return self.entries.get(name)

    def merged(self, other: TrustRecord) -> TrustRecord:
        """This record with an imported one's entries where this one has none."""
        entries = {**other.entries, **self.entries}
        publishers = self.trusted_publishers + other.trusted_publishers
        return replace(self, entries=entries, trusted_publishers=publishers)


# --- reading ----------------------------------------------------------------------


def parse(text: str, path: str) -> TrustRecord:
    """A trust record from its TOML text; every problem reported at once (exit 2)."""
    data = load_toml(text, path)
    problems: list[Diagnostic] = []

    def problem(key: str, message: str) -> None:
        problems.append(Diagnostic(path, None, f"{key}: {message}"))

    for key in sorted(set(data) - {"projects", "trusted-publishers", "imports"}):
        problem(key, "unknown key")
    entries: dict[NormalizedName, TrustEntry] = {}
    projects = data.get("projects", {})
    if not isinstance(projects, Mapping):
        problem("projects", "expected a table")
        projects = {}
    for name, raw in projects.items():
        where = f"projects.{name}"
        if not isinstance(raw, Mapping):
            problem(where, "expected a table")
            continue
        entry = _entry(raw, where, problem)
        if entry is not None:
            entries[canonicalize_name(str(name))] = entry
    trusted = []
    for i, raw in enumerate(_list(data.get("trusted-publishers"))):
        if not isinstance(raw, Mapping) or not isinstance(raw.get("repository"), str):
            problem(f"trusted-publishers[{i}]", "needs a repository (a glob)")
            continue
        trusted.append(
            TrustedPublisher(
                repository=raw["repository"],
                workflow=str(raw.get("workflow", "*")),
                environment=str(raw.get("environment", "*")),
                kind=str(raw.get("kind", "*")),
            )
        )
    imports = []
    for i, raw in enumerate(_list(data.get("imports"))):
        source = raw.get("path") or raw.get("url") if isinstance(raw, Mapping) else None
        digest = raw.get("sha256") if isinstance(raw, Mapping) else None
        if not isinstance(source, str) or not isinstance(digest, str):
            problem(f"imports[{i}]", "needs a path or url, and the sha256 it was reviewed at")
            continue
        imports.append(Import(source, digest.lower()))
    if problems:
        raise InputError(problems)
    return TrustRecord(path, entries, tuple(trusted), tuple(imports))


def _entry(raw: Mapping[str, Any], where: str, problem: Any) -> TrustEntry | None:
    for key in sorted(set(raw) - set(_ENTRY_KEYS)):
        problem(f"{where}.{key}", "unknown key")
    start, end = raw.get("start"), raw.get("end")
    if not isinstance(end, date):
        problem(f"{where}.end", "required: the date this approval ends (at most a year out)")
        return None
    if start is not None and not isinstance(start, date):
        problem(f"{where}.start", "expected a date")
        return None
    if start is not None and (end - start).days > MAX_DAYS:
        problem(f"{where}.end", f"{end} is more than a year after start ({start})")
        return None
    publishers = []
    for i, p in enumerate(_list(raw.get("publishers"))):
        if not isinstance(p, Mapping) or not isinstance(p.get("kind"), str):
            problem(
                f"{where}.publishers[{i}]", "expected {kind, repository, workflow, environment}"
            )
            continue
        publishers.append(RecordedPublisher(**{k: str(p.get(k, "")) for k in _PUBLISHER_KEYS}))
    return TrustEntry(
        owners=_strings(raw.get("owners")),
        maintainers=_strings(raw.get("maintainers")),
        organization=str(raw.get("organization", "")),
        emails=_strings(raw.get("emails")),
        publishers=tuple(publishers),
        versions=_strings(raw.get("versions")),
        approved_by=str(raw.get("approved-by", "")),
        start=start,
        end=end,
        notes=str(raw.get("notes", "")),
    )


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in _list(value))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- observing and writing --------------------------------------------------------


def observe(
    evidence: Evidence,
    previous: TrustEntry | None,
    today: date,
    approved_by: str,
    days: int,
    notes: str | None,
) -> TrustEntry | None:
    """The entry for what the index says of a package now; None when nothing is known
    of its owners (a record must not approve what was never seen)."""
    project = evidence.project
    if not isinstance(project, ProjectInfo) or project.roles is None:
        return None
    release = evidence.provenance
    publishers = release.publishers if release is not None else ()
    metadata = evidence.metadata
    emails = (
        email_addresses(metadata.author_email, metadata.maintainer_email)
        if isinstance(metadata, CoreMetadata)
        else frozenset()
    )
    version = str(evidence.package.version) if evidence.package.version else ""
    observed = TrustEntry(
        owners=tuple(sorted({r.user for r in project.roles if r.role == "Owner"})),
        maintainers=tuple(sorted({r.user for r in project.roles if r.role != "Owner"})),
        organization=project.organization or "",
        emails=tuple(sorted(emails)),
        publishers=tuple(sorted({RecordedPublisher.of(p) for p in publishers}, key=str)),
        versions=(version,) if version else (),
    )
    if previous is not None and _same_state(previous, observed):
        return previous  # nothing changed: the approval stands as it was written
    return replace(
        observed,
        approved_by=approved_by or (previous.approved_by if previous else ""),
        start=today,
        end=today + timedelta(days=min(days, MAX_DAYS - 1)),
        notes=notes if notes is not None else (previous.notes if previous else ""),
    )


def observable(evidence: Evidence) -> bool:
    """Whether the index told who owns the project (what a record entry needs)."""
    return isinstance(evidence.project, ProjectInfo) and evidence.project.roles is not None


def approve(
    record: TrustRecord,
    evidence: Mapping[str, Evidence],
    names: Iterable[str],
    today: date,
    approved_by: str = "",
    days: int = MAX_DAYS - 1,
    notes: str | None = None,
) -> TrustRecord:
    """`record` with the current state of `names` approved into it; an entry whose
    state did not change stays as written. Raises ValueError for a name whose owners
    were not observed."""
    entries = dict(record.entries)
    by_name = {e.package.name: e for e in evidence.values()}  # owners are per project
    for given in names:
        name = canonicalize_name(given)
        entry = observe(by_name[name], entries.get(name), today, approved_by, days, notes)
        if entry is None:
            raise ValueError(f"{name}: its owners are unknown; nothing to record")
        entries[name] = entry
    return replace(record, entries=entries)


def load(text: str, path: str) -> TrustRecord:
    """The record in `text`, or an empty one at `path` when there is none yet."""
    return parse(text, path) if text.strip() else TrustRecord(path)


def _same_state(a: TrustEntry, b: TrustEntry) -> bool:
    return (
        a.owners,
        a.maintainers,
        a.organization,
        a.emails,
        {_identity(p) for p in a.publishers},
    ) == (b.owners, b.maintainers, b.organization, b.emails, {_identity(p) for p in b.publishers})


def render(record: TrustRecord) -> str:
    """The record as TOML, in one stable form."""
    out = [
        "# The trust record: what was reviewed and approved, per project.",
        "# Written by `trustscan trust record`; review changes to it like code.",
        "",
    ]
    for item in record.imports:
        key = "url" if item.source.startswith(("https://", "http://")) else "path"
        out += ["[[imports]]", f"{key} = {_q(item.source)}", f"sha256 = {_q(item.sha256)}", ""]
    for trusted in record.trusted_publishers:
        out += ["[[trusted-publishers]]", f"repository = {_q(trusted.repository)}"]
        out += [
            f"{k} = {_q(v)}"
            for k, v in (
                ("workflow", trusted.workflow),
                ("environment", trusted.environment),
                ("kind", trusted.kind),
            )
            if v != "*"
        ]
        out.append("")
    for name in sorted(record.entries):
        e = record.entries[name]
        out.append(f"[projects.{_q(name) if not name.replace('-', '').isalnum() else name}]")
        out.append(f"owners = {_array(e.owners)}")
        out.append(f"maintainers = {_array(e.maintainers)}")
        if e.organization:
            out.append(f"organization = {_q(e.organization)}")
        out.append(f"emails = {_array(e.emails)}")
        publishers = ", ".join(
            "{ " + ", ".join(f"{k} = {_q(getattr(p, k))}" for k in _PUBLISHER_KEYS) + " }"
            for p in e.publishers
        )
        out.append(f"publishers = [{publishers}]")
        out.append(f"versions = {_array(e.versions)}")
        out.append(f"approved-by = {_q(e.approved_by)}")
        if e.start is not None:
            out.append(f"start = {e.start.isoformat()}")
        if e.end is not None:
            out.append(f"end = {e.end.isoformat()}")
        if e.notes:
            out.append(f"notes = {_q(e.notes)}")
        out.append("")
    return "\n".join(out)


def _q(value: str) -> str:
    return json.dumps(value)  # a TOML basic string: JSON's escapes are TOML's


def _array(values: Iterable[str]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"
