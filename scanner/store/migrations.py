"""Schema migrations, applied in order on every open; never edit one that shipped."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

MIGRATIONS = Migrations("trustscan")


@MIGRATIONS()
def m001_http_cache_and_scans(db: Database) -> None:
    db["http_cache"].create(  # type: ignore[union-attr]
        {
            "key": str,
            "url": str,
            "status": int,
            "content_type": str,
            "etag": str,
            "last_modified": str,
            "fetched_at": float,
            "body": bytes,
        },
        pk="key",
    )
    db["scans"].create(  # type: ignore[union-attr]
        {
            "id": int,
            "started_at": str,
            "input": str,
            "input_sha256": str,
            "format": str,
            "options": str,
            "packages": int,
            "exit_code": int,
            "report": str,
        },
        pk="id",
    )
    db["scans"].create_index(["input", "started_at"])  # type: ignore[union-attr]


@MIGRATIONS()
def m002_history(db: Database) -> None:
    """What each scan observed: packages, releases, files, owners, emails, findings."""
    db["packages"].create(  # type: ignore[union-attr]
        {"name": str, "first_scan": int, "last_scan": int},
        pk="name",
        foreign_keys=[("first_scan", "scans", "id"), ("last_scan", "scans", "id")],
    )
    db["releases"].create(  # type: ignore[union-attr]
        {
            "id": str,  # "name==version"
            "name": str,
            "version": str,
            "first_upload": str,
            "author_email": str,
            "maintainer_email": str,
            "metadata_url": str,
        },
        pk="id",
        foreign_keys=[("name", "packages", "name")],
    )
    db["releases"].create_index(["name"])  # type: ignore[union-attr]
    db["files"].create(  # type: ignore[union-attr]
        {
            "sha256": str,
            "release_id": str,
            "filename": str,
            "upload_time": str,
            "yanked": int,
            "yanked_reason": str,
            "provenance_state": str,
            "publisher": str,  # JSON of the verified publisher, if any
        },
        pk="sha256",
        foreign_keys=[("release_id", "releases", "id")],
    )
    db["files"].create_index(["release_id"])  # type: ignore[union-attr]
    db["observations"].create(  # type: ignore[union-attr]
        {"scan_id": int, "name": str, "observed_at": str, "organization": str, "roles": str},
        pk=("scan_id", "name"),
        foreign_keys=[("scan_id", "scans", "id"), ("name", "packages", "name")],
    )
    db["observations"].create_index(["name", "scan_id"])  # type: ignore[union-attr]
    db["ownership"].create(  # type: ignore[union-attr]
        {
            "name": str,
            "user": str,
            "role": str,
            "organization": str,
            "first_scan": int,
            "last_scan": int,
            "first_seen": str,
            "last_seen": str,
        },
        pk=("name", "user", "role"),
        foreign_keys=[
            ("name", "packages", "name"),
            ("first_scan", "scans", "id"),
            ("last_scan", "scans", "id"),
        ],
    )
    db["findings"].create(  # type: ignore[union-attr]
        {
            "scan_id": int,
            "name": str,
            "position": int,
            "version": str,
            "signal": str,
            "severity": str,
            "message": str,
            "evidence": str,
        },
        pk=("scan_id", "name", "position"),
        foreign_keys=[("scan_id", "scans", "id"), ("name", "packages", "name")],
    )
    db["findings"].create_index(["signal"])  # type: ignore[union-attr]


@MIGRATIONS()
def m003_cache_generation(db: Database) -> None:
    """A token that changes with each new body, so views built from a page know when
    it changed. Entries cached before get one each."""
    db["http_cache"].add_column("generation", str)  # type: ignore[union-attr]
    db.execute("update http_cache set generation = lower(hex(randomblob(8)))")
