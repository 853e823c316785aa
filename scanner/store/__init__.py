"""The evidence store: SQLite through sqlite-utils, migrated on open.

Holds the HTTP cache and the record of every scan. Writes that touch several
tables run inside `db.atomic()`; WAL mode lets a reader (the TUI) read while a
scan writes. One connection serves all threads, guarded by a lock.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import platformdirs
from sqlite_utils import Database

from scanner.errors import StoreError
from scanner.registry.http import CachedResponse
from scanner.store.migrations import MIGRATIONS


def default_path() -> Path:
    """`TRUSTSCAN_DB`, else trustscan.db in the user data directory."""
    configured = os.environ.get("TRUSTSCAN_DB")
    if configured:
        return Path(configured)
    return Path(platformdirs.user_data_dir("trustscan", appauthor=False)) / "trustscan.db"


class Store:
    def __init__(self, path: Path | str | None = None) -> None:
        target = Path(path) if path is not None else default_path()
        self.path = target
        try:
            if str(target) != ":memory:":
                target.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(str(target), check_same_thread=False, timeout=30)
            self.db = Database(connection)
            self.db.execute("PRAGMA foreign_keys = ON")
            if str(target) != ":memory:":
                self.db.enable_wal()
            MIGRATIONS.apply(self.db)
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"cannot open the store at {target}: {e}") from e
        self._lock = threading.RLock()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def atomic(self) -> Iterator[Database]:
        with self._lock, self.db.atomic():
            yield self.db

    # --- HTTP cache (implements scanner.registry.http.ResponseCache) -----------

    def lookup(self, key: str) -> CachedResponse | None:
        with self._lock:
            rows = list(self.db.query("select * from http_cache where key = ?", [key]))
        if not rows:
            return None
        row = rows[0]
        return CachedResponse(
            key=row["key"],
            url=row["url"],
            status=row["status"],
            content_type=row["content_type"] or "",
            etag=row["etag"],
            last_modified=row["last_modified"],
            fetched_at=row["fetched_at"],
            body=zlib.decompress(row["body"]),
        )

    def save(self, entry: CachedResponse) -> None:
        row = {
            "key": entry.key,
            "url": entry.url,
            "status": entry.status,
            "content_type": entry.content_type,
            "etag": entry.etag,
            "last_modified": entry.last_modified,
            "fetched_at": entry.fetched_at,
            "body": zlib.compress(entry.body, 1),
        }
        with self.atomic() as db:
            db["http_cache"].upsert(row, pk="key")  # type: ignore[union-attr]

    # --- scans ------------------------------------------------------------------

    def record_scan(self, summary: dict[str, Any], report: dict[str, Any]) -> int:
        with self.atomic() as db:
            table = db["scans"]
            table.insert(  # type: ignore[union-attr]
                {**summary, "report": json.dumps(report, sort_keys=True)}
            )
            return int(table.last_pk)  # type: ignore[union-attr,arg-type]

    def last_report(self, input_path: str | None = None) -> dict[str, Any] | None:
        where, params = ("where input = ?", [input_path]) if input_path else ("", [])
        with self._lock:
            rows = list(
                self.db.query(f"select report from scans {where} order by id desc limit 1", params)  # noqa: S608
            )
        return json.loads(rows[0]["report"]) if rows else None
