"""The HTTP cache table, read and written without making fetch threads queue.

A scan's fetch threads read the cache and add to it all the time. Through one
shared connection they took turns: a cold scan of 303 packages spent 11 s of
thread time waiting for the store's lock, which was held 3 s of its 13 s.
Here each thread reads through a connection of its own (WAL lets readers
proceed while one writer writes), and writes are handed to one writer thread
that compresses them and commits them in batches, so a fetching thread goes
back to fetching at once. Until committed, an entry is answered from memory:
a thread always reads what any thread saved.

An in-memory database cannot be shared between connections: there, reads and
writes go through the store's connection, one at a time.
"""

from __future__ import annotations

import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from scanner.cache import CachedResponse
from scanner.errors import StoreError

COLUMNS = "key, url, status, content_type, etag, last_modified, fetched_at, generation"
_INSERT = (
    f"insert or replace into http_cache ({COLUMNS}, body) "  # noqa: S608 (constants)
    "values (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

_STALE_VIEWS = (
    "delete from http_cache where key like 'view %' and (etag is null or etag not in "
    "(select generation from http_cache where generation is not null and key not like 'view %'))"
)


def _row(entry: CachedResponse) -> tuple[object, ...]:
    return (
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


class HttpCache:
    def __init__(
        self,
        path: Path,
        shared: sqlite3.Connection,
        atomic: Callable[[], AbstractContextManager[sqlite3.Connection]],
        lock: threading.RLock,
    ) -> None:
        self._path = path
        self._shared = shared if str(path) == ":memory:" else None
        self._atomic = atomic
        self._shared_lock = lock
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._pending: dict[str, CachedResponse] = {}  # saved, not yet given to the writer
        self._writing: dict[str, CachedResponse] = {}  # being committed
        self._guard = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._writer: threading.Thread | None = None
        self._failure: Exception | None = None

    def lookup(self, key: str, body: bool = True) -> CachedResponse | None:
        with self._guard:
            held = self._pending.get(key) or self._writing.get(key)
        if held is not None:  # saved, not yet committed: as it was saved
            return held if body else replace(held, body=b"")
        columns = COLUMNS + (", body" if body else "")
        sql = f"select {columns} from http_cache where key = ?"  # noqa: S608 (constant)
        with self._reading() as conn:
            row: Any = conn.execute(sql, [key]).fetchone()
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
        if self._shared is not None:
            with self._atomic() as conn:
                conn.execute(_INSERT, _row(entry))
            return
        with self._guard:
            self._pending[entry.key] = entry
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_behind, name="trustscan-cache-writer", daemon=True
                )
                self._writer.start()
        self._wake.set()

    def close(self) -> None:
        """Commit what is pending, close every connection; a failed write is raised."""
        self._closing = True
        self._wake.set()
        if self._writer is not None:
            self._writer.join()
        for conn in self._readers:
            conn.close()
        if self._failure is not None:
            raise StoreError(f"cannot write the cache at {self._path}: {self._failure}")

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        if self._shared is not None:
            with self._shared_lock:
                yield self._shared
            return
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(str(self._path), check_same_thread=False, timeout=30)
            self._local.conn = conn
            with self._guard:
                self._readers.append(conn)
        yield conn

    def _write_behind(self) -> None:
        conn = sqlite3.connect(str(self._path), timeout=30, isolation_level=None)
        conn.execute("PRAGMA synchronous = normal")
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                with self._guard:
                    batch, self._pending = self._pending, {}
                    self._writing = batch
                if batch:
                    try:
                        conn.execute("BEGIN IMMEDIATE")
                        # Compressed here, off the fetching threads (zlib lets go of the GIL).
                        conn.executemany(_INSERT, map(_row, batch.values()))
                        conn.execute("COMMIT")
                    except sqlite3.Error as e:
                        self._failure = e
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                    with self._guard:
                        self._writing = {}
                if self._closing and not self._pending:
                    self._prune(conn)
                    return
        finally:
            conn.close()

    def _prune(self, conn: sqlite3.Connection) -> None:
        """Drop views built from bodies that are no longer kept: a view names the
        generation of its page (in its etag), and a new body gets a new generation."""
        try:
            conn.execute(_STALE_VIEWS)
        except sqlite3.Error as e:
            self._failure = e
