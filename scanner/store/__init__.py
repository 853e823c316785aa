"""The evidence store: SQLite through sqlite-utils, migrated on open.

Holds the HTTP cache and the record of every scan. Writes that touch several
tables run inside `db.atomic()`; WAL mode lets a reader (the TUI) read while a
scan writes. One connection serves all threads, guarded by a lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from packaging.utils import canonicalize_name

from scanner.cache import CachedResponse
from scanner.errors import StoreError
from scanner.models import OwnerRole, OwnershipObservation, ScanResult
from scanner.store.cache import HttpCache
from scanner.store.history import observation_from_row, observe_owners, record_history
from scanner.store.schema import SCHEMA

if TYPE_CHECKING:
    from sqlite_utils import Database

if TYPE_CHECKING:
    from sqlite_utils import Database


def default_store_path() -> Path:
    """trustscan.db in the user data directory (the CLI resolves --db and TRUSTSCAN_DB)."""
    return Path(platformdirs.user_data_dir("trustscan", appauthor=False)) / "trustscan.db"


class Store:
    def __init__(self, path: Path | str | None = None) -> None:
        target = Path(path) if path is not None else default_store_path()
        self.path = target
        self._lock = threading.RLock()
        try:
            if str(target) != ":memory:":
                target.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(str(target), check_same_thread=False, timeout=30)
            self.conn.execute("PRAGMA foreign_keys = ON")
            if str(target) != ":memory:":
                self.conn.execute("PRAGMA journal_mode = wal")
                # In WAL mode, NORMAL keeps the file consistent through any crash and
                # syncs at checkpoints, not at each of a scan's thousand cache writes.
                self.conn.execute("PRAGMA synchronous = normal")
            if not self._migrated():
                from scanner.store.migrations import MIGRATIONS

                with self.atomic():  # another process may be migrating the same file
                    MIGRATIONS.apply(self.db)
            self.cache = HttpCache(target, self.conn, self.atomic, self._lock)
        except (sqlite3.Error, OSError) as e:
            raise StoreError(
                f"cannot open the store at {target}: {e}; move the file aside "
                "(it is a cache and a history: a new one is made) or pass --db"
            ) from e

    def _migrated(self) -> bool:
        """Every migration applied already (the usual case: sqlite-utils is then not loaded)."""
        try:
            rows = self.conn.execute(
                "select name from _sqlite_migrations where migration_set = 'trustscan'"
            ).fetchall()
        except sqlite3.OperationalError:  # a new file: no migrations table yet
            return False
        applied = {name for (name,) in rows}
        newer = sorted(applied - set(SCHEMA))
        if newer:  # written by a later trustscan: its tables mean what this one cannot know
            raise StoreError(
                f"the store at {self.path} was written by a newer trustscan "
                f"(schema {', '.join(newer)}); upgrade trustscan or use another --db"
            )
        return set(SCHEMA) <= applied

    @cached_property
    def db(self) -> Database:
        """The store through sqlite-utils (migrations, ad hoc queries)."""
        from sqlite_utils import Database

        return Database(self.conn)

    def close(self) -> None:
        try:
            self.cache.close()
        finally:
            self.conn.close()

    @contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock first (BEGIN IMMEDIATE).

        A deferred transaction that reads and then writes can fail at once with
        "database is locked" when another process wrote in between; an immediate
        one waits its turn (up to the connection's 30 s busy timeout). Nested, it
        is a savepoint.
        """
        with self._lock:
            connection = self.conn
            if connection.in_transaction:
                connection.execute("SAVEPOINT nested")
                try:
                    yield connection
                except BaseException:
                    connection.execute("ROLLBACK TO nested")
                    raise
                finally:
                    connection.execute("RELEASE nested")
                return
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self.conn.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # --- HTTP cache (implements scanner.cache.ResponseCache) -----------

    def lookup(self, key: str, body: bool = True) -> CachedResponse | None:
        return self.cache.lookup(key, body)

    def save(self, entry: CachedResponse) -> None:
        self.cache.save(entry)

    # --- scans ------------------------------------------------------------------

    def record_scan(
        self,
        summary: dict[str, Any],
        report: dict[str, Any],
        result: ScanResult | None = None,
        observe: bool = True,
    ) -> int:
        """Record a scan, and (unless `observe` is off, as offline) what it observed."""
        with self.atomic() as conn:
            scan_id = _insert_scan(conn, {**summary, "report": json.dumps(report)})
            if result is not None:
                record_history(conn, scan_id, result, observe)
            return scan_id

    def first_observation(self, name: str) -> OwnershipObservation | None:
        """The earliest ownership observation of `name`: the baseline a change in
        ownership is measured against, so that it is reported on every scan until it
        is acknowledged (a trust record entry, or a waiver), not only on the first."""
        rows = self._rows(
            "select * from observations where name = ? order by observed_at, scan_id limit 1",
            [name],
        )
        return observation_from_row(rows[0]) if rows else None

    def scans(self, limit: int = 50) -> list[dict[str, Any]]:
        return self._rows(
            "select id, started_at, input, format, packages, exit_code from scans "
            "where format != 'history-import' order by id desc limit ?",
            [limit],
        )

    def report(self, scan_id: int) -> dict[str, Any] | None:
        rows = self._rows("select report from scans where id = ?", [scan_id])
        return json.loads(rows[0]["report"]) if rows else None

    def last_two(self) -> tuple[int, int] | None:
        """The last two scans of the same input (the newest scan's)."""
        with self._lock:
            newest = self._rows(
                "select id, input from scans where format != 'history-import' "
                "order by id desc limit 1"
            )
            if not newest:
                return None
            rows = self._rows(
                "select id from scans where input = ? order by id desc limit 2",
                [newest[0]["input"]],
            )
        return (rows[1]["id"], rows[0]["id"]) if len(rows) == 2 else None

    def owners_at(self, scan_id: int) -> dict[str, OwnershipObservation]:
        """Every package's ownership as scan `scan_id` observed it."""
        rows = self._rows("select * from observations where scan_id = ?", [scan_id])
        return {r["name"]: observation_from_row(r) for r in rows}

    def observations(self, name: str) -> list[OwnershipObservation]:
        rows = self._rows(
            "select * from observations where name = ? order by observed_at, scan_id", [name]
        )
        return [observation_from_row(r) for r in rows]

    def releases(self, name: str) -> list[dict[str, Any]]:
        return self._rows(
            "select r.*, group_concat(f.provenance_state || ' ' || "
            "coalesce(f.publisher, ''), '; ') as provenance "
            "from releases r left join files f on f.release_id = r.id "
            "where r.name = ? group by r.id order by r.first_upload",
            [name],
        )

    def export_observations(self) -> Iterator[dict[str, Any]]:
        for row in self._rows("select * from observations order by name, scan_id"):
            yield {
                "name": row["name"],
                "observed_at": row["observed_at"],
                "organization": row["organization"],
                "roles": json.loads(row["roles"]),
            }

    def import_observations(self, records: Iterable[dict[str, Any]], source: str) -> int:
        """Seed history from another store's export (records checked by the caller:
        see `scanner.store.history.parse_records`). Each is kept under a row of its
        own in `scans`, marked `history-import`: never listed, diffed or explained as
        a scan, and ordered among observations by when it was observed."""
        count = 0
        with self.atomic() as conn:
            for record in records:
                scan_id = _insert_scan(
                    conn,
                    {
                        "started_at": str(record["observed_at"]),
                        "input": f"import:{source}",
                        "format": "history-import",
                        "packages": 1,
                        "exit_code": 0,
                        "report": "{}",
                    },
                )
                roles = tuple(OwnerRole(str(r["user"]), str(r["role"])) for r in record["roles"])
                observe_owners(
                    conn,
                    scan_id,
                    str(record["name"]),
                    str(record["observed_at"]),
                    record.get("organization"),
                    roles,
                )
                count += 1
        return count

    def last_report_with(self, name: str) -> dict[str, Any] | None:
        """The last scan whose report has the package `name`."""
        wanted = canonicalize_name(name)
        rows = self._rows(
            "select s.report from scans s join packages p on p.name = ? "
            "where s.format != 'history-import' and s.id >= p.first_scan "
            "order by s.id desc limit 20",
            [wanted],
        )
        for row in rows:
            report = json.loads(row["report"])
            if any(p.get("name") == wanted for p in report.get("packages", ())):
                return dict(report)
        return None

    def last_report(self, input_path: str | None = None) -> dict[str, Any] | None:
        where, params = ("and input = ?", [input_path]) if input_path else ("", [])
        rows = self._rows(
            f"select report from scans where format != 'history-import' {where} "  # noqa: S608
            "order by id desc limit 1",
            params,
        )
        return json.loads(rows[0]["report"]) if rows else None


def _insert_scan(conn: sqlite3.Connection, row: dict[str, Any]) -> int:
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    cursor = conn.execute(
        f"insert into scans ({columns}) values ({marks})",  # noqa: S608 (our own keys)
        list(row.values()),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid
