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
