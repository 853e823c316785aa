"""Writing what a scan observed: packages, releases, files, owners, findings.

Called inside one transaction with the scan's own row, so a scan is recorded
whole or not at all. Rows are gathered per table and written with one
`executemany` each (SQLite UPSERT), so recording costs milliseconds, not a
round of schema introspection per row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from packaging.utils import canonicalize_name

from scanner.errors import InputError
from scanner.models import (
    CoreMetadata,
    Diagnostic,
    Evidence,
    OwnerRole,
    OwnershipObservation,
    ProjectFiles,
    ProjectInfo,
    ScanResult,
)
from scanner.text import inert


def parse_records(text: str, file: str) -> list[dict[str, Any]]:
    """`history export` lines, checked: a canonical name, an ISO 8601 time with its
    zone (kept in UTC, the form scans write, so observations order by time), a list
    of {user, role} strings, an organization or null. Every bad line is reported."""
    records, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(_record(json.loads(line)))
        except (ValueError, TypeError, RecursionError) as e:
            problems.append(Diagnostic(file, number, f"not a history record: {inert(e, 120)}"))
    if problems:
        raise InputError(problems)
    return records


def _record(raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict) or not {"name", "observed_at", "roles"} <= set(raw):
        raise ValueError("needs name, observed_at and roles")
    name, at, roles = raw["name"], raw["observed_at"], raw["roles"]
    if not isinstance(name, str) or canonicalize_name(name) != name:
        raise ValueError("name must be a canonical project name")
    when = datetime.fromisoformat(at) if isinstance(at, str) else None
    if when is None or when.tzinfo is None:
        raise ValueError("observed_at must be an ISO 8601 time with a zone")
    if not isinstance(roles, list) or not all(
        isinstance(r, dict) and isinstance(r.get("user"), str) and isinstance(r.get("role"), str)
        for r in roles
    ):
        raise ValueError("roles must be a list of {user, role} strings")
    organization = raw.get("organization")
    if organization is not None and not isinstance(organization, str):
        raise ValueError("organization must be a string or null")
    return {
        "name": name,
        "observed_at": when.astimezone(UTC).isoformat(),
        "organization": organization,
        "roles": [{"user": r["user"], "role": r["role"]} for r in roles],
    }


def observation_from_row(row: dict[str, Any]) -> OwnershipObservation:
    return OwnershipObservation(
        scan_id=row["scan_id"],
        observed_at=row["observed_at"],
        organization=row["organization"],
        roles=tuple(OwnerRole(r["user"], r["role"]) for r in json.loads(row["roles"])),
    )


def record_history(
    conn: sqlite3.Connection, scan_id: int, result: ScanResult, observe: bool
) -> None:
    at = result.started_at.isoformat()
    rows = _Rows()
    positions: dict[str, int] = {}  # a name pinned at several versions: one numbering
    for report in result.packages:
        evidence = result.evidence.get(report.key)
        if evidence is None or not report.source.from_index:
            continue
        rows.packages.append((report.name, scan_id, scan_id))
        project = evidence.project
        if observe and isinstance(project, ProjectInfo) and project.roles is not None:
            rows.observe(scan_id, report.name, at, project.organization, project.roles)
        rows.release(evidence)
        first = positions.get(report.name, 0)
        positions[report.name] = first + len(report.findings)
        rows.findings.extend(
            (
                scan_id,
                report.name,
                position,
                report.version,
                finding.signal,
                finding.severity.label,
                finding.message,
                json.dumps(finding.evidence, sort_keys=True, default=str),
            )
            for position, finding in enumerate(report.findings, start=first)
        )
    rows.write(conn)


def observe_owners(
    conn: sqlite3.Connection,
    scan_id: int,
    name: str,
    at: str,
    organization: str | None,
    roles: tuple[OwnerRole, ...],
) -> None:
    rows = _Rows()
    rows.packages.append((name, scan_id, scan_id))
    rows.observe(scan_id, name, at, organization, roles)
    rows.write(conn)


class _Rows:
    """What one scan writes, table by table, in the order foreign keys need."""

    def __init__(self) -> None:
        self.packages: list[tuple[Any, ...]] = []
        self.observations: list[tuple[Any, ...]] = []
        self.ownership: list[tuple[Any, ...]] = []
        self.releases: list[tuple[Any, ...]] = []
        self.earlier_releases: list[tuple[Any, ...]] = []
        self.files: list[tuple[Any, ...]] = []
        self.findings: list[tuple[Any, ...]] = []

    def observe(
        self,
        scan_id: int,
        name: str,
        at: str,
        organization: str | None,
        roles: tuple[OwnerRole, ...],
    ) -> None:
        listed = json.dumps([{"user": r.user, "role": r.role} for r in roles])
        self.observations.append((scan_id, name, at, organization, listed))
        self.ownership.extend(
            (name, r.user, r.role, organization, scan_id, scan_id, at, at) for r in roles
        )

    def release(self, evidence: Evidence) -> None:
        package = evidence.package
        if package.version is None or not isinstance(evidence.files, ProjectFiles):
            return
        release_id = f"{package.name}=={package.version}"
        times = [f.upload_time for f in evidence.release_files if f.upload_time]
        metadata = evidence.metadata if isinstance(evidence.metadata, CoreMetadata) else None
        self.releases.append(
            (
                release_id,
                package.name,
                str(package.version),
                min(times).isoformat() if times else None,
                metadata.author_email if metadata else None,
                metadata.maintainer_email if metadata else None,
                metadata.source_url if metadata else None,
            )
        )
        self.earlier_releases.extend(
            (
                f"{package.name}=={e.version}",
                package.name,
                e.version,
                e.author_email,
                e.maintainer_email,
                e.source_url,
            )
            for e in evidence.earlier_emails
        )
        states = {f.filename: f for f in (evidence.provenance.files if evidence.provenance else ())}
        for file in evidence.release_files:
            if not file.sha256:
                continue
            state = states.get(file.filename)
            self.files.append(
                (
                    file.sha256,
                    release_id,
                    file.filename,
                    file.upload_time.isoformat() if file.upload_time else None,
                    int(file.yanked),
                    file.yanked_reason,
                    state.state if state else "unknown",
                    str(state.publisher) if state and state.publisher else None,
                )
            )

    def write(self, conn: sqlite3.Connection) -> None:
        release = ("id", "name", "version", "first_upload", "author_email", "maintainer_email")
        _upsert(
            conn,
            "packages",
            ("name", "first_scan", "last_scan"),
            self.packages,
            ("name",),
            keep=("first_scan",),
        )
        _upsert(
            conn,
            "observations",
            ("scan_id", "name", "observed_at", "organization", "roles"),
            self.observations,
            ("scan_id", "name"),
        )
        _upsert(
            conn,
            "ownership",
            (
                "name",
                "user",
                "role",
                "organization",
                "first_scan",
                "last_scan",
                "first_seen",
                "last_seen",
            ),
            self.ownership,
            ("name", "user", "role"),
            keep=("first_scan", "first_seen"),
        )
        _upsert(conn, "releases", (*release, "metadata_url"), self.releases, ("id",))
        # What earlier releases' metadata said; their first upload stays as recorded.
        _upsert(
            conn,
            "releases",
            (*release[:3], *release[4:], "metadata_url"),
            self.earlier_releases,
            ("id",),
        )
        _upsert(
            conn,
            "files",
            (
                "sha256",
                "release_id",
                "filename",
                "upload_time",
                "yanked",
                "yanked_reason",
                "provenance_state",
                "publisher",
            ),
            self.files,
            ("sha256",),
        )
        _upsert(
            conn,
            "findings",
            ("scan_id", "name", "position", "version", "signal", "severity", "message", "evidence"),
            self.findings,
            ("scan_id", "name", "position"),
        )


def _upsert(
    conn: sqlite3.Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    pk: Sequence[str],
    keep: Sequence[str] = (),
) -> None:
    """Insert `rows`; a row whose key exists updates every column but the key and `keep`."""
    if not rows:
        return
    updated = [c for c in columns if c not in pk and c not in keep]
    sql = (
        f"insert into {table} ({', '.join(columns)}) "  # noqa: S608 (names are constants)
        f"values ({', '.join('?' * len(columns))}) "
        f"on conflict ({', '.join(pk)}) do update set "
        + ", ".join(f"{c} = excluded.{c}" for c in updated)
    )
    conn.executemany(sql, rows)
