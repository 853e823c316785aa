"""The HTTP client: pooled, bounded, retrying, cached. The only code using requests.

- Retries with exponential backoff and jitter on connection errors, timeouts,
  429 (honouring `Retry-After`) and 5xx.
- Every body is read with a size bound; a larger one is an error, not a crash.
- Responses are cached (see `ResponseCache`): a fresh entry answers without a
  request, a stale one is revalidated with ETag / Last-Modified, and
  `offline=True` answers from the cache alone.
- Every request is logged (`RequestLog`) so benchmarks can replay exactly the
  URLs a scan fetched.
"""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import itertools
import json
import os
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from scanner import __version__
from scanner.cache import CachedResponse, ResponseCache
from scanner.errors import FetchError, NotServed, TooLarge

if TYPE_CHECKING:
    import requests

_FAILED = 0  # the status of a kept `lasting` failure (see HttpClient.derived)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 5
USER_AGENT = f"trustscan/{__version__}"


class NeedsNetwork(Exception):
    """Raised inside `cache_only()` where an answer would need the network."""


_PASS = threading.local()


@contextmanager
def cache_only() -> Iterator[None]:
    """In this thread, answer from the cache or raise NeedsNetwork (never a FetchError,
    so nothing records it as a failure): a scan's first pass runs this way."""
    _PASS.cache_only = True
    try:
        yield
    finally:
        _PASS.cache_only = False


def needs_network(url: str) -> None:
    """Call before going to the network (after the offline check: offline, a miss is a
    FetchError)."""
    if getattr(_PASS, "cache_only", False):
        raise NeedsNetwork(url)


@dataclass(frozen=True, slots=True)
class Response:
    url: str  # the final URL, after redirects: relative links are joined against it
    status: int
    headers: Mapping[str, str]
    body: bytes
    from_cache: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass(frozen=True, slots=True)
class RequestRecord:
    url: str
    status: int | None
    bytes: int
    seconds: float
    source: str  # "network", "cache", "revalidated"
    byte_range: str | None = None  # the Range header of a range request


@dataclass
class RequestLog:
    records: list[RequestRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self.records.append(record)


@dataclass(frozen=True, slots=True)
class ClientConfig:
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.5  # seconds; doubled per attempt, with jitter
    max_retry_after: float = 60.0  # a server asking for a longer wait is an error
    ttl: float = 3600.0  # seconds a cached index page is fresh
    max_page_bytes: int = 64 * 1024 * 1024  # an index page (the largest seen is ~38 MB)
    jobs: int = 8
    offline: bool = False
    deadline: float | None = None  # time.monotonic() after which no request is made
    refresh: bool = False  # recompute derived values too (--refresh)


class _Watchdog:
    """Ends responses that run past their wall-clock deadline.

    A read timeout bounds each wait for bytes, so a server that sends a byte a second
    never trips it; one daemon thread checks armed responses every 0.1 s and shuts down
    the socket of an overdue one, which ends the blocked read in the fetching thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[int, tuple[float, object]] = {}
        self.expired: set[int] = set()
        self._thread: threading.Thread | None = None
        self._tokens = itertools.count()

    def arm(self, deadline: float, response: object) -> int:
        with self._lock:
            token = next(self._tokens)
            self._armed[token] = (deadline, response)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadlines", daemon=True)
                self._thread.start()
        return token

    def disarm(self, token: int) -> bool:
        """Stop watching; whether the deadline had passed."""
        with self._lock:
            self._armed.pop(token, None)
            if token in self.expired:
                self.expired.discard(token)
                return True
            return False

    def _run(self) -> None:
        while True:
            time.sleep(0.1)
            now = time.monotonic()
            with self._lock:
                overdue = [(t, r) for t, (d, r) in self._armed.items() if d <= now]
                for token, _ in overdue:
                    del self._armed[token]
                    self.expired.add(token)
            for _, response in overdue:
                shutdown = getattr(getattr(response, "raw", None), "shutdown", None)
                if shutdown is not None:
                    with contextlib.suppress(Exception):  # a socket already gone is fine
                        shutdown()


_WATCHDOG = _Watchdog()
UNREACHABLE_AFTER = 3  # requests that found no route to a host before it is not asked again
_NO_ROUTE = frozenset({"host name not resolved", "connection refused", "connection timed out"})
_WALL_CLOCK = "no complete answer within the request's wall-clock deadline"


class HttpClient:
    """GET with retries, size bounds and caching; thread-safe."""

    def __init__(
        self,
        config: ClientConfig | None = None,
        cache: ResponseCache | None = None,
        log: RequestLog | None = None,
    ) -> None:
        self.config = config or ClientConfig()
        self.cache = cache
        self.log = log if log is not None else RequestLog()
        self._session_lock = threading.Lock()
        self._requests_session: requests.Session | None = None
        self._environments: dict[str, dict[str, object]] = {}
        # Hosts on loopback, link-local or private addresses that may be asked: the
        # scanned index's own, when it is on one (see `Index`). Any other URL there (a
        # file link an index answered with, an index a lock names) is refused: nobody
        # who answers for an index may make the scanner reach into the network it runs in.
        self.private_hosts: frozenset[str] = frozenset()
        # Hosts whose name does not resolve or that refuse connections: after a few
        # such requests they are not asked again this run (an unreachable index must
        # not cost retries and backoff for every package).
        self._unreachable: dict[str, tuple[int, str]] = {}

    @property
    def _session(self) -> requests.Session:
        """Made on the first request: a scan answered from the cache never loads requests."""
        with self._session_lock:
            if self._requests_session is None:
                import requests
                from requests.adapters import HTTPAdapter

                session = requests.Session()
                session.trust_env = False  # read once per host instead: see _environment
                session.headers["User-Agent"] = USER_AGENT
                session.max_redirects = MAX_REDIRECTS
                adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(self.config.jobs, 4))
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                self._requests_session = session
            return self._requests_session

    def _environment(self, url: str) -> dict[str, object]:
        """What requests takes from the environment (proxies and no_proxy, a CA bundle,
        .netrc credentials), read once per host: requests would re-read it per request,
        which costs more than a cached request itself."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        found = self._environments.get(key)
        if found is None:
            from requests.utils import get_environ_proxies, get_netrc_auth

            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            found = {
                "proxies": get_environ_proxies(url),
                "verify": bundle or True,
                "auth": get_netrc_auth(url),
            }
            self._environments[key] = found
        return found

    def close(self) -> None:
        if self._requests_session is not None:
            self._requests_session.close()

    def get(
        self,
        url: str,
        *,
        accept: str | None = None,
        max_bytes: int,
        immutable: bool = False,
        shrink: Callable[[bytes], bytes] | None = None,
    ) -> Response:
        """GET `url`; 200 and 404 are answers, anything else after retries raises.

        `shrink` turns a fresh 200 body into what is kept and returned (say, a
        project JSON without the keys nobody reads); it must be idempotent.
        """
        key = f"{accept or '*'} {url}"
        cached = self.cache.lookup(key) if self.cache is not None else None
        started = time.monotonic()
        if cached is not None and (immutable or self._fresh(cached)):
            self._record(url, cached.status, len(cached.body), started, "cache")
            return _from_cache(cached)
        if self.config.offline:
            raise FetchError(url, "not in the local cache (offline mode)")
        needs_network(url)
        headers = {"Accept": accept} if accept else {}
        if cached is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        response = self._fetch(url, headers, max_bytes)
        if response.status == 304 and cached is not None:
            self._save(
                key,
                cached.url,
                cached.status,
                cached.content_type,
                response,
                cached.body,
                cached.generation,
            )
            self._record(url, 304, 0, started, "revalidated")
            return _from_cache(cached)
        if response.status not in (200, 404):
            raise FetchError(url, f"unexpected HTTP {response.status}", response.status)
        if shrink is not None and response.status == 200:
            response = Response(response.url, 200, response.headers, shrink(response.body))
        self._save(key, response.url, response.status, response.content_type, response)
        self._record(url, response.status, len(response.body), started, "network")
        return response

    def get_view(
        self,
        url: str,
        *,
        view: str,
        build: Callable[[Response], bytes],
        accept: str | None = None,
        max_bytes: int,
    ) -> Response:
        """A view of the page at `url`: `build(page)`, kept next to the page and rebuilt
        only when a new body arrives (a 304 keeps it). The response carries the page's
        URL and status with the view as its body.

        A warm scan then reads a few kilobytes where the page is megabytes. `build`
        must depend on nothing but the page and `view`; what it raises is raised.
        """
        key = f"{accept or '*'} {url}"
        view_key = f"view {view} {key}"
        started = time.monotonic()
        if self.cache is not None:
            page = self.cache.lookup(key, body=False)
            if page is not None and self._fresh(page):
                kept = self._kept_view(view_key, page)
                if kept is not None:
                    self._record(url, page.status, len(kept.body), started, "cache")
                    return kept
        response = self.get(url, accept=accept, max_bytes=max_bytes)
        page = self.cache.lookup(key, body=False) if self.cache is not None else None
        if page is not None:
            kept = self._kept_view(view_key, page)
            if kept is not None:
                return kept
        body = build(response)
        if page is not None and self.cache is not None:
            self.cache.save(
                CachedResponse(
                    view_key,
                    page.url,
                    page.status,
                    page.content_type,
                    page.generation,
                    None,
                    time.time(),
                    body,
                )
            )
        return Response(response.url, response.status, response.headers, body, response.from_cache)

    def _kept_view(self, view_key: str, page: CachedResponse) -> Response | None:
        assert self.cache is not None
        kept = self.cache.lookup(view_key)
        if kept is None or page.generation is None or kept.etag != page.generation:
            return None
        headers = {"content-type": page.content_type}
        return Response(page.url, page.status, headers, kept.body, from_cache=True)

    def _fresh(self, entry: CachedResponse) -> bool:
        return self.config.offline or time.time() - entry.fetched_at < self.config.ttl

    def derived(
        self,
        key: str,
        compute: Callable[[], bytes],
        network: bool = True,
        lasting: tuple[type[FetchError], ...] = (),
        keep: Callable[[bytes], bool] | None = None,
    ) -> bytes:
        """Bytes computed from remote data (METADATA read out of a wheel, a verification
        result), cached: immutable like the files they come from, so `--offline` can
        answer. `network=False` computations run offline too.

        `lasting` failures (an archive refused, a file over its bound) will recur for
        the same immutable file: they are kept as the answer and raised again, rather
        than downloaded again by every scan. `keep` lets the producer decide whether a
        value lasts (a verifier's passing error does not: the next scan tries again).
        `refresh` (--refresh) computes every value again.
        """
        cache_key = f"derived {key}"
        cached = self.cache.lookup(cache_key) if self.cache is not None else None
        if cached is not None and self.config.refresh and not self.config.offline:
            cached = None
        if cached is not None:
            if cached.status == _FAILED:
                kinds = {kind.__name__: kind for kind in lasting}
                kind = kinds.get(cached.content_type, FetchError)
                raise kind(cached.url, cached.body.decode("utf-8", "replace"))
            return cached.body
        if network:
            if self.config.offline:
                raise FetchError(key, "not in the local cache (offline mode)")
            needs_network(key)
        try:
            body = compute()
        except lasting as e:
            if self.cache is not None:
                failure = CachedResponse(
                    cache_key,
                    e.url,
                    _FAILED,
                    type(e).__name__,
                    None,
                    None,
                    time.time(),
                    e.reason.encode(),
                )
                self.cache.save(failure)
            raise
        if self.cache is not None and (keep is None or keep(body)):
            self.cache.save(CachedResponse(cache_key, key, 200, "", None, None, time.time(), body))
        return body

    def get_whole(self, url: str, *, max_bytes: int) -> Response:
        """A file fetched once to be read, not kept: only what is derived from it is cached."""
        if self.config.offline:
            raise FetchError(url, "not in the local cache (offline mode)")
        needs_network(url)
        started = time.monotonic()
        response = self._fetch(url, {}, max_bytes)
        if response.status != 200:
            raise FetchError(url, f"file not served (HTTP {response.status})", response.status)
        self._record(url, response.status, len(response.body), started, "network")
        return response

    def get_range(self, url: str, start: int | None, length: int, *, max_bytes: int) -> Response:
        """Bytes [start, start+length) of `url`, or the last `length` when start is None.

        A 206 carries `Content-Range`; a server that ignores ranges answers 200
        with the whole body, which is accepted up to `max_bytes`.
        """
        if self.config.offline:
            raise FetchError(url, "not in the local cache (offline mode)")
        needs_network(url)
        byte_range = f"bytes=-{length}" if start is None else f"bytes={start}-{start + length - 1}"
        started = time.monotonic()
        response = self._fetch(url, {"Range": byte_range}, max_bytes)
        if response.status in (404, 410):
            raise NotServed(url, f"file not served (HTTP {response.status})", response.status)
        if response.status not in (200, 206):
            raise FetchError(url, f"unexpected HTTP {response.status} to a range request")
        self.log.add(
            RequestRecord(
                url,
                response.status,
                len(response.body),
                time.monotonic() - started,
                "network",
                byte_range,
            )
        )
        return response

    def post_json(self, url: str, payload: object, *, max_bytes: int) -> Response:
        """POST a JSON document (OSV's batch query); retried like a GET, never cached
        here: the caller keeps what it derives (see `recall`/`keep`)."""
        if self.config.offline:
            raise FetchError(url, "not in the local cache (offline mode)")
        needs_network(url)
        started = time.monotonic()
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        response = self._fetch(url, headers, max_bytes, body)
        self._record(url, response.status, len(response.body), started, "network")
        return response

    def recall(self, key: str) -> tuple[bytes, float] | None:
        """A value kept with `keep`, and its age in seconds."""
        entry = self.cache.lookup(f"kept {key}") if self.cache is not None else None
        return (entry.body, time.time() - entry.fetched_at) if entry is not None else None

    def keep(self, key: str, body: bytes) -> None:
        """Keep a value derived from answers the cache does not hold (a POST's)."""
        if self.cache is not None:
            entry = CachedResponse(f"kept {key}", key, 200, "", None, None, time.time(), body)
            self.cache.save(entry)

    def _fetch(
        self, url: str, headers: dict[str, str], max_bytes: int, data: bytes | None = None
    ) -> Response:
        import requests

        refused = refused_target(url, self.private_hosts)
        if refused:
            raise FetchError(url, refused)
        host = urlsplit(url).netloc
        down = self._unreachable.get(host)
        if down is not None and down[0] >= UNREACHABLE_AFTER:
            raise FetchError(url, f"{host} unreachable ({down[1]}; not asked again this run)")
        last_error = "no attempt made"
        for attempt in range(self.config.retries + 1):
            if attempt:
                time.sleep(self._backoff(attempt))
            if self.config.deadline is not None and time.monotonic() >= self.config.deadline:
                raise FetchError(url, "the scan's --deadline passed before it could be asked")
            try:
                response = self._attempt(url, headers, max_bytes, data)
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as e:
                last_error = describe(e)
                if last_error == "host name not resolved":  # will not resolve on a retry
                    self._no_route(host, last_error)
                    raise FetchError(url, last_error) from e
                continue
            except requests.TooManyRedirects as e:
                raise FetchError(url, "too many redirects") from e
            except requests.RequestException as e:
                raise FetchError(url, describe(e)) from e
            if response.status not in RETRY_STATUSES:
                self._unreachable.pop(host, None)
                return response
            last_error = f"HTTP {response.status}"
            wait = _retry_after(response.headers.get("retry-after"))
            if wait is not None:
                if wait > self.config.max_retry_after:
                    raise FetchError(url, f"HTTP {response.status}, retry after {wait:.0f} s")
                time.sleep(wait)
        if last_error in _NO_ROUTE:
            self._no_route(host, last_error)
        raise FetchError(url, f"{last_error} (after {self.config.retries + 1} attempts)")

    def _no_route(self, host: str, reason: str) -> None:
        with self._session_lock:
            failures = self._unreachable.get(host, (0, ""))[0] + 1
            self._unreachable[host] = (failures, reason)

    def _attempt(
        self, url: str, headers: dict[str, str], max_bytes: int, data: bytes | None = None
    ) -> Response:
        """One GET, following at most MAX_REDIRECTS redirects, never to another host."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self._get_once(url, headers, max_bytes, data)
            location = response.headers.get("location")
            if response.status not in (301, 302, 303, 307, 308) or not location:
                return response
            target = urljoin(response.url, location)
            if urlsplit(target).netloc != urlsplit(url).netloc:
                raise FetchError(
                    url, f"redirect to another host refused ({urlsplit(target).netloc})"
                )
            url = target
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")

    def _get_once(
        self, url: str, headers: dict[str, str], max_bytes: int, data: bytes | None = None
    ) -> Response:
        """One GET, its body bounded in size and in wall-clock time (the read timeout
        bounds each wait; `_WATCHDOG` the whole answer, by --timeout or --deadline)."""
        import requests

        timeout = (self.config.connect_timeout, self.config.read_timeout)
        limit = time.monotonic() + self.config.connect_timeout + self.config.read_timeout
        if self.config.deadline is not None:
            limit = min(limit, self.config.deadline)
        with self._session.request(
            "GET" if data is None else "POST",
            url,
            headers=headers,
            data=data,
            timeout=timeout,
            stream=True,
            allow_redirects=False,
            **self._environment(url),  # type: ignore[arg-type]
        ) as raw:
            declared = raw.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise TooLarge(
                    url, f"response of {declared} bytes exceeds the {max_bytes} byte limit"
                )
            chunks: list[bytes] = []
            size = 0
            token = _WATCHDOG.arm(limit, raw)
            try:
                for chunk in raw.iter_content(chunk_size=1 << 16):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(url, f"response exceeds the {max_bytes} byte limit")
                    chunks.append(chunk)
            except requests.RequestException:
                if _WATCHDOG.disarm(token):
                    raise requests.ReadTimeout(_WALL_CLOCK) from None
                raise
            finally:
                overdue = _WATCHDOG.disarm(token)
            if overdue:  # shut down mid-body: what came is not the answer
                raise requests.ReadTimeout(_WALL_CLOCK)
            return Response(
                url=raw.url,
                status=raw.status_code,
                headers={k.lower(): v for k, v in raw.headers.items()},
                body=b"".join(chunks),
            )

    def _backoff(self, attempt: int) -> float:
        base = self.config.backoff * (2 ** (attempt - 1))
        return float(base + random.uniform(0, base))  # noqa: S311 (jitter, not crypto)

    def _save(
        self,
        key: str,
        url: str,
        status: int,
        content_type: str,
        response: Response,
        body: bytes | None = None,
        generation: str | None = None,
    ) -> None:
        if self.cache is None:
            return
        self.cache.save(
            CachedResponse(
                key=key,
                url=url,
                status=status,
                content_type=content_type,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                fetched_at=time.time(),
                body=response.body if body is None else body,
                generation=generation or secrets.token_hex(8),
            )
        )

    def _record(self, url: str, status: int | None, size: int, started: float, source: str) -> None:
        self.log.add(RequestRecord(url, status, size, time.monotonic() - started, source))


def refused_target(url: str, private_hosts: frozenset[str]) -> str | None:
    """Why `url` may not be fetched, or None: only http(s), and never a loopback,
    link-local or private address (an IP literal or `localhost`) that is not the
    index's own. Host names are not resolved here: a name is the index's to answer."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"refused: {parts.scheme or 'no'} scheme (only http and https are fetched)"
    host = (parts.hostname or "").lower()
    if parts.netloc.lower() in private_hosts:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return "refused: a loopback host that is not the index's"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_global:
        return f"refused: a {_kind_of(address)} address that is not the index's"
    return None


def _kind_of(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    return "private or reserved"


def private_hosts_of(index_url: str) -> frozenset[str]:
    """The index's host (and port) when it is on a loopback, link-local or private
    address."""
    netloc = urlsplit(index_url).netloc.lower()
    if refused_target(f"http://{netloc}/", frozenset()):
        return frozenset({netloc})
    return frozenset()


def _from_cache(entry: CachedResponse) -> Response:
    return Response(
        url=entry.url,
        status=entry.status,
        headers={"content-type": entry.content_type},
        body=entry.body,
        from_cache=True,
    )


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait per a `Retry-After` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def describe(error: requests.RequestException) -> str:
    """A short, stable reason for a transport error (no object reprs)."""
    import requests

    if isinstance(error, requests.ConnectTimeout):
        return "connection timed out"
    if isinstance(error, requests.ReadTimeout):
        return "read timed out" + (f" ({_WALL_CLOCK})" if _WALL_CLOCK in str(error) else "")
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return "connection broken mid-body"
    if isinstance(error, requests.ConnectionError):
        text = str(error)
        if "Read timed out" in text:
            return "read timed out"
        if "Connection reset" in text or "RemoteDisconnected" in text:
            return "connection reset"
        if "Name or service not known" in text or "NameResolutionError" in text:
            return "host name not resolved"
        if "Connection refused" in text or "Errno 111" in text:
            return "connection refused"
        return "connection failed"
    return type(error).__name__
