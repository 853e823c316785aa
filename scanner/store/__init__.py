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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import platformdirs
from sqlite_utils import Database

from scanner.errors import StoreError
from scanner.models import OwnerRole, OwnershipObservation, ScanResult
from scanner.registry.http import CachedResponse
from scanner.store.history import observation_from_row, observe_owners, record_history
from scanner.store.migrations import MIGRATIONS

_CACHE_COLUMNS = "key, url, status, content_type, etag, last_modified, fetched_at, generation"


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
            self._lock = threading.RLock()
            with self.atomic() as db:  # another process may be migrating the same file
                MIGRATIONS.apply(db)
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"cannot open the store at {target}: {e}") from e

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def atomic(self) -> Iterator[Database]:
        """A write transaction that takes the write lock first (BEGIN IMMEDIATE).

        A deferred transaction that reads and then writes can fail at once with
        "database is locked" when another process wrote in between; an immediate
        one waits its turn (up to the connection's 30 s busy timeout).
        """
        with self._lock:
            connection = self.db.conn
            if connection.in_transaction:
                with self.db.atomic():
                    yield self.db
                return
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    # --- HTTP cache (implements scanner.registry.http.ResponseCache) -----------

    def lookup(self, key: str, body: bool = True) -> CachedResponse | None:
        columns = _CACHE_COLUMNS + (", body" if body else "")
        with self._lock:
            row = self.db.conn.execute(
                f"select {columns} from http_cache where key = ?",  # noqa: S608 (constant)
                [key],
            ).fetchone()
        if row is None:
            return None
        return CachedResponse(
            key=row[0],
            url=row[1],
            status=row[2],
            content_type=row[3] or "",
            etag=row[4],
            last_modified=row[5],
            fetched_at=row[6],
            generation=row[7],
            body=zlib.decompress(row[8]) if body else b"",
        )

    def save(self, entry: CachedResponse) -> None:
        row = (
            entry.key,
            entry.url,
            entry.status,
            entry.content_type,
            entry.etag,
            entry.last_modified,
            entry.fetched_at,
            entry.generation,
            zlib.compress(entry.body, 1),
        )
        with self.atomic() as db:
            db.conn.execute(
                f"insert or replace into http_cache ({_CACHE_COLUMNS}, body) "  # noqa: S608
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    # --- scans ------------------------------------------------------------------

    def record_scan(
        self,
        summary: dict[str, Any],
        report: dict[str, Any],
        result: ScanResult | None = None,
        observe: bool = True,
    ) -> int:
        """Record a scan, and (unless `observe` is off, as offline) what it observed."""
        with self.atomic() as db:
            table = db["scans"]
            table.insert(  # type: ignore[union-attr]
                {**summary, "report": json.dumps(report, sort_keys=True)}
            )
            scan_id = int(table.last_pk)  # type: ignore[union-attr,arg-type]
            if result is not None:
                record_history(db, scan_id, result, observe)
            return scan_id

    def previous_observation(self, name: str) -> OwnershipObservation | None:
        """The latest ownership observation of `name` by an earlier scan."""
        with self._lock:
            rows = list(
                self.db.query(
                    "select * from observations where name = ? order by scan_id desc limit 1",
                    [name],
                )
            )
        return observation_from_row(rows[0]) if rows else None

    def scans(self, limit: int = 50) -> list[dict[str, Any]]:
        with self._lock:
            return list(
                self.db.query(
                    "select id, started_at, input, format, packages, exit_code from scans "
                    "order by id desc limit ?",
                    [limit],
                )
            )

    def report(self, scan_id: int) -> dict[str, Any] | None:
        with self._lock:
            rows = list(self.db.query("select report from scans where id = ?", [scan_id]))
        return json.loads(rows[0]["report"]) if rows else None

    def last_two(self) -> tuple[int, int] | None:
        """The last two scans of the same input (the newest scan's)."""
        with self._lock:
            newest = list(self.db.query("select id, input from scans order by id desc limit 1"))
            if not newest:
                return None
            rows = list(
                self.db.query(
                    "select id from scans where input = ? order by id desc limit 2",
                    [newest[0]["input"]],
                )
            )
        return (rows[1]["id"], rows[0]["id"]) if len(rows) == 2 else None

    def owners_at(self, scan_id: int) -> dict[str, OwnershipObservation]:
        """Every package's ownership as scan `scan_id` observed it."""
        with self._lock:
            rows = self.db.query("select * from observations where scan_id = ?", [scan_id])
            return {r["name"]: observation_from_row(r) for r in rows}

    def observations(self, name: str) -> list[OwnershipObservation]:
        with self._lock:
            rows = self.db.query(
                "select * from observations where name = ? order by scan_id", [name]
            )
            return [observation_from_row(r) for r in rows]

    def releases(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(
                self.db.query(
                    "select r.*, group_concat(f.provenance_state || ' ' || "
                    "coalesce(f.publisher, ''), '; ') as provenance "
                    "from releases r left join files f on f.release_id = r.id "
                    "where r.name = ? group by r.id order by r.first_upload",
                    [name],
                )
            )

    def export_observations(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            rows = list(self.db.query("select * from observations order by name, scan_id"))
        for row in rows:
            yield {
                "name": row["name"],
                "observed_at": row["observed_at"],
                "organization": row["organization"],
                "roles": json.loads(row["roles"]),
            }

    def import_observations(self, records: Iterable[dict[str, Any]], source: str) -> int:
        """Seed history from another store's export, as scans of their own."""
        count = 0
        with self.atomic() as db:
            scans = db["scans"]
            for record in records:
                scans.insert(  # type: ignore[union-attr]
                    {
                        "started_at": str(record["observed_at"]),
                        "input": f"import:{source}",
                        "format": "history-import",
                        "packages": 1,
                        "exit_code": 0,
                        "report": "{}",
                    }
                )
                scan_id = int(scans.last_pk)  # type: ignore[union-attr,arg-type]
                roles = tuple(OwnerRole(str(r["user"]), str(r["role"])) for r in record["roles"])
                observe_owners(
                    db,
                    scan_id,
                    str(record["name"]),
                    str(record["observed_at"]),
                    record.get("organization"),
                    roles,
                )
                count += 1
        return count

    def last_report(self, input_path: str | None = None) -> dict[str, Any] | None:
        where, params = ("where input = ?", [input_path]) if input_path else ("", [])
        with self._lock:
            rows = list(
                self.db.query(f"select report from scans {where} order by id desc limit 1", params)  # noqa: S608
            )
        return json.loads(rows[0]["report"]) if rows else None
