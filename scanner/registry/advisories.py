"""Live advisory sources that ask once: OSV in batches, and PyPI's per-release JSON.

- OSV (`/v1/querybatch`, https://google.github.io/osv.dev/post-v1-querybatch/): one
  request per 1,000 packages answers which advisory ids cover each; each distinct
  advisory is then fetched once (`/v1/vulns/ID`) and kept. A package's answer is
  kept for the TTL (`--max-age`): a rescan within it asks nothing.
- PyPI's `/pypi/NAME/VERSION/json` (`vulnerabilities`), through the HTTP cache.

Each source stops asking once it has failed at the network level a few times in
a run (DNS, connect, repeated 5xx), or, for per-release JSON, once the index has
shown it does not serve it: every later package gets the same `Unavailable`
reason at once, instead of waiting for its own failure. Nothing here turns an
unanswered package into "no vulnerabilities".
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from packaging.utils import NormalizedName
from packaging.version import Version

from scanner.errors import FetchError
from scanner.models import Advisory, Unavailable
from scanner.registry.http import HttpClient, Response
from scanner.text import inert
from scanner.vulns.osv import clean_record, merged

DEFAULT_OSV = "https://api.osv.dev/"
BATCH = 1000  # OSV's limit of queries per batch
MAX_ANSWER = 32 * 1024 * 1024
FAILURES_BEFORE_DOWN = 3  # network-level failures in one run before a source stops asking
ABSENT_BEFORE_DOWN = (
    3  # per-release JSON 404s, with no 200, before the index is judged not to serve it
)

Key = tuple[NormalizedName, Version]


class _Breaker:
    """Counts a source's failures in this run; past the limit, the source is down."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.failures = 0
        self.reason: str | None = None  # set when down
        self._lock = threading.Lock()

    def failed(self, reason: str) -> None:
        with self._lock:
            self.failures += 1
            if self.failures >= self.limit and self.reason is None:
                self.reason = (
                    f"unavailable for the rest of this scan after {self.failures} failures "
                    f"({reason})"
                )

    def succeeded(self) -> None:
        with self._lock:
            self.failures = 0


class OsvSource:
    """OSV's API, asked in batches; answers kept for the TTL."""

    def __init__(
        self, client: HttpClient, base_url: str = DEFAULT_OSV, ttl: float = 3600.0
    ) -> None:
        self.client = client
        self.base = base_url.rstrip("/") + "/"
        self.name = f"OSV ({self.base})"
        self.ttl = ttl
        self._answers: dict[Key, tuple[str, ...] | Unavailable] = {}
        self._modified: dict[str, str] = {}  # advisory id -> `modified`, as the batch said
        self._advisories: dict[str, Mapping[str, Any]] = {}
        self._breaker = _Breaker(FAILURES_BEFORE_DOWN)
        self._lock = threading.Lock()
        self._counts = {"answered": 0, "unavailable": 0}

    def describe(self) -> str:
        down = f"; {self._breaker.reason}" if self._breaker.reason else ""
        return (
            f"{self.name}: answered for {self._counts['answered']} of "
            f"{self._counts['answered'] + self._counts['unavailable']} packages{down}"
        )

    def prefetch(self, packages: Iterable[Key]) -> None:
        """Answer as many packages as possible at once: kept answers first, then one
        batch request per 1,000 packages, then each advisory not yet known."""
        missing = []
        for key in dict.fromkeys(packages):
            if key in self._answers:
                continue
            kept = self._kept(key)
            if kept is not None:
                self._answers[key] = kept
            else:
                missing.append(key)
        for start in range(0, len(missing), BATCH):
            self._batch(missing[start : start + BATCH])
        wanted = {
            i for answer in self._answers.values() if isinstance(answer, tuple) for i in answer
        }
        for advisory_id in sorted(wanted - self._advisories.keys()):
            self._advisory(advisory_id)

    def query(self, name: NormalizedName, version: Version) -> tuple[Advisory, ...] | Unavailable:
        key = (name, version)
        if key not in self._answers:
            self.prefetch([key])
        ids = self._answers.get(key)
        if ids is None:
            ids = Unavailable("OSV gave no answer")
        answer: tuple[Advisory, ...] | Unavailable = ids if isinstance(ids, Unavailable) else ()
        if not isinstance(ids, Unavailable):
            records = [self._advisories.get(i) for i in ids]
            if any(r is None for r in records):
                answer = Unavailable("OSV listed an advisory it would not serve")
            else:
                # OSV matched them to this version already: merged, not matched again
                answer = merged([r for r in records if r is not None], name)
        with self._lock:
            self._counts["unavailable" if isinstance(answer, Unavailable) else "answered"] += 1
        return answer

    def _kept(self, key: Key) -> tuple[str, ...] | Unavailable | None:
        """The kept answer for `key` within the TTL (any age offline). A kept failure
        is the answer only offline: online, the package is asked again."""
        kept = self.client.recall(_kept_key(self.base, key))
        if kept is None:
            return None
        body, age = kept
        offline = self.client.config.offline
        if age > self.ttl and not offline:
            return None
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            return None
        if isinstance(value, dict) and isinstance(value.get("unavailable"), str):
            return Unavailable(value["unavailable"]) if offline else None
        pairs = _pairs(value)
        if pairs is None:
            return None
        self._modified.update(pairs)
        return tuple(i for i, _ in pairs)

    def _batch(self, keys: Sequence[Key]) -> None:
        if self._breaker.reason is not None:
            self._answers.update(dict.fromkeys(keys, Unavailable(f"OSV {self._breaker.reason}")))
            return
        if self.client.config.offline:
            none_kept = Unavailable("offline, and no OSV answer is kept")
            self._answers.update(dict.fromkeys(keys, none_kept))
            return
        queries = [
            {"package": {"ecosystem": "PyPI", "name": name}, "version": str(version)}
            for name, version in keys
        ]
        try:
            response = self.client.post_json(
                f"{self.base}v1/querybatch", {"queries": queries}, max_bytes=MAX_ANSWER
            )
            results = _batch_results(response.status, response.body, len(keys))
        except FetchError as e:
            self._breaker.failed(e.reason)
            failed = Unavailable(f"OSV: {e.reason}")
            for key in keys:
                self._answers[key] = failed
                self.client.keep(
                    _kept_key(self.base, key), json.dumps({"unavailable": failed.reason}).encode()
                )
            return
        self._breaker.succeeded()
        for key, pairs in zip(keys, results, strict=True):
            if isinstance(pairs, Unavailable):
                self._answers[key] = pairs
                continue
            self._modified.update(pairs)
            self._answers[key] = tuple(i for i, _ in pairs)
            self.client.keep(_kept_key(self.base, key), json.dumps(pairs).encode())

    def _advisory(self, advisory_id: str) -> None:
        """One advisory, kept under its `modified` stamp: fetched again only when OSV
        says it changed."""
        kept_key = f"osv-vuln {self.base} {advisory_id} {self._modified.get(advisory_id, '')}"
        kept = self.client.recall(kept_key)
        if kept is not None:
            with contextlib.suppress(ValueError, RecursionError):
                self._advisories[advisory_id] = json.loads(kept[0])
                return
        if self._breaker.reason is not None or self.client.config.offline:
            return
        try:
            response = self.client.get(
                f"{self.base}v1/vulns/{quote(advisory_id, safe='')}",
                accept="application/json",
                max_bytes=MAX_ANSWER,
            )
            record = json.loads(response.body) if response.status == 200 else None
        except (FetchError, ValueError, RecursionError) as e:
            if isinstance(e, FetchError):
                self._breaker.failed(e.reason)
            return
        if isinstance(record, dict) and record.get("id") == advisory_id:
            cleaned = clean_record(record)
            self._advisories[advisory_id] = cleaned
            self.client.keep(kept_key, json.dumps(cleaned).encode())


def _kept_key(base: str, key: Key) -> str:
    return f"osv {base} {key[0]} {key[1]}"


Pairs = list[tuple[str, str]]  # (advisory id, its `modified` stamp)


def _pairs(value: object) -> Pairs | None:
    if not isinstance(value, list):
        return None
    pairs = [tuple(p) for p in value if isinstance(p, list) and len(p) == 2]
    if len(pairs) != len(value) or not all(isinstance(x, str) for p in pairs for x in p):
        return None
    return [(str(i), str(m)) for i, m in pairs]


def _batch_results(status: int, body: bytes, expected: int) -> list[Pairs | Unavailable]:
    """The advisory ids per query of a batch answer; FetchError when it is not one."""
    if status != 200:
        raise FetchError("OSV querybatch", f"HTTP {status}")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as e:
        raise FetchError("OSV querybatch", "invalid JSON") from e
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list) or len(results) != expected:
        raise FetchError("OSV querybatch", "the answer does not have one result per query")
    out: list[Pairs | Unavailable] = []
    for result in results:
        vulns = result.get("vulns", []) if isinstance(result, dict) else None
        if not isinstance(vulns, list) or not all(
            isinstance(v, dict) and isinstance(v.get("id"), str) for v in vulns
        ):
            out.append(Unavailable("OSV answered this query in an unexpected shape"))
        elif isinstance(result, dict) and result.get("next_page_token"):
            out.append(Unavailable("OSV paged its answer; the rest was not asked for"))
        else:
            found = {v["id"]: str(v.get("modified") or "") for v in vulns}
            out.append(sorted(found.items()))
    return out


class PyPIJsonSource:
    """The `vulnerabilities` of PyPI's per-release JSON (`/pypi/NAME/VERSION/json`).

    Before the scan asks package by package, `prefetch` probes a few releases in a
    fixed order: when the index answers 404 for each, it does not serve per-release
    JSON (this machine's mirror does not), and every package gets that one reason
    without a request, the same on every run and offline."""

    def __init__(self, client: HttpClient, index_url: str) -> None:
        self.client = client
        self.base = index_url.rstrip("/").removesuffix("/simple") + "/"
        self.name = f"PyPI per-release JSON ({self.base})"
        self._breaker = _Breaker(FAILURES_BEFORE_DOWN)
        self._absent: str | None = None  # why the index is judged not to serve it
        self._lock = threading.Lock()
        self._counts = {"answered": 0, "unavailable": 0}

    def describe(self) -> str:
        down = self._absent or self._breaker.reason
        return (
            f"{self.name}: answered for {self._counts['answered']} of "
            f"{self._counts['answered'] + self._counts['unavailable']} packages"
            + (f"; {down}" if down else "")
        )

    def prefetch(self, packages: Iterable[tuple[NormalizedName, Version]]) -> None:
        probes = sorted(set(packages))[:ABSENT_BEFORE_DOWN]
        if len(probes) < ABSENT_BEFORE_DOWN:
            return  # too few to judge the index by: each is asked on its own
        statuses = []
        for name, version in probes:
            try:
                statuses.append(self._get(name, version).status)
            except FetchError:
                return  # the breaker counts it; `query` says why
        if all(status == 404 for status in statuses):
            asked = ", ".join(f"{n} {v}" for n, v in probes)
            self._absent = f"the index has no per-release JSON (404 for {asked})"

    def query(self, name: NormalizedName, version: Version) -> tuple[Advisory, ...] | Unavailable:
        answer = self._query(name, version)
        with self._lock:
            self._counts["unavailable" if isinstance(answer, Unavailable) else "answered"] += 1
        return answer

    def _get(self, name: NormalizedName, version: Version) -> Response:
        url = f"{self.base}pypi/{name}/{version}/json"
        try:
            response = self.client.get(url, accept="application/json", max_bytes=MAX_ANSWER)
        except FetchError as e:
            self._breaker.failed(e.reason)
            raise
        self._breaker.succeeded()
        return response

    def _query(self, name: NormalizedName, version: Version) -> tuple[Advisory, ...] | Unavailable:
        if self._absent is not None:
            return Unavailable(self._absent)
        if self._breaker.reason is not None:
            return Unavailable(f"PyPI per-release JSON {self._breaker.reason}")
        try:
            response = self._get(name, version)
        except FetchError as e:
            return Unavailable(f"PyPI per-release JSON: {e.reason}")
        if response.status == 404:
            return Unavailable(f"the index has no per-release JSON for {name} {version} (404)")
        return _release_vulnerabilities(response.body, response.url, name)


def _release_vulnerabilities(
    body: bytes, url: str, name: str
) -> tuple[Advisory, ...] | Unavailable:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return Unavailable(f"invalid JSON at {url}")
    vulns = data.get("vulnerabilities") if isinstance(data, dict) else None
    if not isinstance(vulns, list) or not all(isinstance(v, dict) for v in vulns):
        return Unavailable(f"{url} has no 'vulnerabilities' list")
    found = []
    for v in vulns:
        if v.get("withdrawn") or not isinstance(v.get("id"), str):
            continue
        found.append(
            Advisory(
                id=v["id"],
                aliases=tuple(sorted(a for a in _strings(v.get("aliases")))),
                summary=inert(v.get("summary") or v.get("details") or "", 4000) or None,
                fixed=tuple(_strings(v.get("fixed_in"))),
                severity=None,
                links=tuple(_strings([v.get("link")])),
            )
        )
    return tuple(sorted(found, key=lambda a: a.id))


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
