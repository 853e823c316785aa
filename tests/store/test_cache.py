"""The HTTP cache table: readers on their own connections, one writer committing in batches."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from scanner.cache import CachedResponse
from scanner.errors import StoreError
from scanner.store import Store


def entry(key: str, body: bytes = b"x") -> CachedResponse:
    return CachedResponse(key, f"https://example.invalid/{key}", 200, "", None, None, 1.0, body)


@pytest.mark.parametrize("where", ["file", "memory"])
def test_what_one_thread_saves_every_thread_reads_at_once(tmp_path, where):
    store = Store(tmp_path / "cache.db" if where == "file" else ":memory:")
    misses = []

    def work(n: int) -> None:
        for i in range(50):
            key = f"{n}-{i}"
            store.save(entry(key, key.encode() * 100))
            found = store.lookup(key)
            if found is None or found.body != key.encode() * 100:
                misses.append(key)
            other = store.lookup(f"{(n + 1) % 8}-{i}", body=False)  # may not exist yet
            if other is not None and other.body != b"":
                misses.append(f"body of {other.key}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert misses == []
    if where == "file":
        store.close()
        store = Store(tmp_path / "cache.db")
    assert store.db.execute("select count(*) from http_cache").fetchone()[0] == 400
    assert store.lookup("7-49").body == b"7-49" * 100


def test_a_newer_save_of_a_key_wins(tmp_path):
    store = Store(tmp_path / "cache.db")
    for i in range(20):
        store.save(entry("k", str(i).encode()))
    assert store.lookup("k").body == b"19"
    store.close()
    assert Store(tmp_path / "cache.db").lookup("k").body == b"19"


def test_a_failed_cache_write_is_reported_when_the_store_closes(tmp_path):
    store = Store(tmp_path / "cache.db")
    other = sqlite3.connect(tmp_path / "cache.db")
    other.execute("drop table http_cache")  # what the writer will find
    other.commit()
    store.save(entry("k"))
    time.sleep(0.2)
    with pytest.raises(StoreError, match="cannot write the cache"):
        store.close()


def test_views_of_a_replaced_body_are_dropped_when_the_store_closes(tmp_path):
    store = Store(tmp_path / "cache.db")
    page = "application/vnd.pypi.simple.v1+json https://example.invalid/simple/a/"

    def save(key, generation=None, etag=None):
        store.save(CachedResponse(key, "u", 200, "", etag, None, 1.0, b"x", generation))

    save(page, generation="old")
    save(f"view release/2 1.0 5 {page}", etag="old")
    save("derived https://example.invalid/a-1.0.whl#METADATA")
    store.close()
    store = Store(tmp_path / "cache.db")
    assert store.lookup(f"view release/2 1.0 5 {page}") is not None  # its page is current
    save(page, generation="new")  # a new body came
    save(f"view release/2 2.0 5 {page}", etag="new")
    store.close()
    store = Store(tmp_path / "cache.db")
    assert store.lookup(f"view release/2 1.0 5 {page}") is None
    assert store.lookup(f"view release/2 2.0 5 {page}") is not None
    assert store.lookup("derived https://example.invalid/a-1.0.whl#METADATA") is not None
