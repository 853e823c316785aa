"""The evidence cache's records and interface: the layer between the network and the
store. The registry uses it (`ResponseCache`), the store implements it; neither
imports the other.

Entries are keyed by kind: an HTTP answer under `ACCEPT URL` (validators, a TTL),
a view under `view ...` tied to the `generation` of the page it was cut from,
a derived value under `derived ...` (lasting for an immutable file's answer), and
a kept value under `kept ...` whose age its producer judges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CachedResponse:
    key: str
    url: str
    status: int
    content_type: str
    etag: str | None
    last_modified: str | None
    fetched_at: float
    body: bytes
    # Changes whenever a new body is stored (not on a 304): views built from a body
    # name the generation they were built from.
    generation: str | None = None


class ResponseCache(Protocol):
    """Where responses are kept between scans (the store implements it)."""

    def lookup(self, key: str, body: bool = True) -> CachedResponse | None:
        """The entry under `key`; with `body=False`, without its body (b"")."""
        ...

    def save(self, entry: CachedResponse) -> None: ...
