"""Writing what a scan observed: packages, releases, files, owners, findings.

Called inside one transaction with the scan's own row, so a scan is recorded
whole or not at all.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from scanner.models import (
    CoreMetadata,
    Evidence,
    OwnerRole,
    OwnershipObservation,
    ProjectFiles,
    ProjectInfo,
    ScanResult,
)


def observation_from_row(row: dict[str, Any]) -> OwnershipObservation:
    return OwnershipObservation(
        scan_id=row["scan_id"],
        observed_at=row["observed_at"],
        organization=row["organization"],
        roles=tuple(OwnerRole(r["user"], r["role"]) for r in json.loads(row["roles"])),
    )


def record_history(db: Database, scan_id: int, result: ScanResult, observe: bool) -> None:
    at = result.started_at.isoformat()
    for report in result.packages:
        evidence = result.evidence.get(report.name)
        if evidence is None or not report.source.from_index:
            continue
        _upsert_package(db, report.name, scan_id)
        if (
            observe
            and isinstance(evidence.project, ProjectInfo)
            and evidence.project.roles is not None
        ):
            observe_owners(
                db, scan_id, report.name, at, evidence.project.organization, evidence.project.roles
            )
        _record_release(db, evidence)
        for position, finding in enumerate(report.findings):
            db["findings"].upsert(  # type: ignore[union-attr]
                {
                    "scan_id": scan_id,
                    "name": report.name,
                    "position": position,
                    "version": report.version,
                    "signal": finding.signal,
                    "severity": finding.severity.label,
                    "message": finding.message,
                    "evidence": json.dumps(finding.evidence, sort_keys=True, default=str),
                },
                pk=("scan_id", "name", "position"),
            )


def _upsert_package(db: Database, name: str, scan_id: int) -> None:
    table = db["packages"]
    existing = list(db.query("select first_scan from packages where name = ?", [name]))
    first = existing[0]["first_scan"] if existing else scan_id
    table.upsert(  # type: ignore[union-attr]
        {"name": name, "first_scan": first, "last_scan": scan_id}, pk="name"
    )


def observe_owners(
    db: Database,
    scan_id: int,
    name: str,
    at: str,
    organization: str | None,
    roles: tuple[OwnerRole, ...],
) -> None:
    _upsert_package(db, name, scan_id)
    db["observations"].upsert(  # type: ignore[union-attr]
        {
            "scan_id": scan_id,
            "name": name,
            "observed_at": at,
            "organization": organization,
            "roles": json.dumps([{"user": r.user, "role": r.role} for r in roles]),
        },
        pk=("scan_id", "name"),
    )
    for role in roles:
        key = [name, role.user, role.role]
        existing = list(
            db.query(
                "select first_scan, first_seen from ownership "
                "where name = ? and user = ? and role = ?",
                key,
            )
        )
        db["ownership"].upsert(  # type: ignore[union-attr]
            {
                "name": name,
                "user": role.user,
                "role": role.role,
                "organization": organization,
                "first_scan": existing[0]["first_scan"] if existing else scan_id,
                "first_seen": existing[0]["first_seen"] if existing else at,
                "last_scan": scan_id,
                "last_seen": at,
            },
            pk=("name", "user", "role"),
        )


def _record_release(db: Database, evidence: Evidence) -> None:
    package = evidence.package
    files = evidence.files
    if package.version is None or not isinstance(files, ProjectFiles):
        return
    release_id = f"{package.name}=={package.version}"
    times = [f.upload_time for f in evidence.release_files if f.upload_time]
    metadata = evidence.metadata if isinstance(evidence.metadata, CoreMetadata) else None
    db["releases"].upsert(  # type: ignore[union-attr]
        {
            "id": release_id,
            "name": package.name,
            "version": str(package.version),
            "first_upload": min(times).isoformat() if times else None,
            "author_email": metadata.author_email if metadata else None,
            "maintainer_email": metadata.maintainer_email if metadata else None,
            "metadata_url": metadata.source_url if metadata else None,
        },
        pk="id",
    )
    for emails in evidence.earlier_emails:
        db["releases"].upsert(  # type: ignore[union-attr]
            {
                "id": f"{package.name}=={emails.version}",
                "name": package.name,
                "version": emails.version,
                "author_email": emails.author_email,
                "maintainer_email": emails.maintainer_email,
                "metadata_url": emails.source_url,
            },
            pk="id",
        )
    provenance = {f.filename: f for f in (evidence.provenance.files if evidence.provenance else ())}
    for file in evidence.release_files:
        if not file.sha256:
            continue
        state = provenance.get(file.filename)
        db["files"].upsert(  # type: ignore[union-attr]
            {
                "sha256": file.sha256,
                "release_id": release_id,
                "filename": file.filename,
                "upload_time": file.upload_time.isoformat() if file.upload_time else None,
                "yanked": int(file.yanked),
                "yanked_reason": file.yanked_reason,
                "provenance_state": state.state if state else "unknown",
                "publisher": str(state.publisher) if state and state.publisher else None,
            },
            pk="sha256",
        )
