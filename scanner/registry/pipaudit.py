"""The live vulnerability source: pip-audit's PyPI and OSV services.

pip-audit's Python API is not a stable public one, so everything that touches
it lives here, against the version range pinned in pyproject.toml
(`pip-audit>=2.9,<3`). A service that cannot answer (404 for the release,
network failure, malformed data) is reported as such: never as "no
vulnerabilities". Answers (and failures) are kept in the response cache, so
`--offline` reproduces what the online scan saw.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

from packaging.utils import NormalizedName
from packaging.version import Version

from scanner.models import Advisory, Unavailable
from scanner.registry.http import CachedResponse, ResponseCache, describe, needs_network


class PipAuditSource:
    name = "pip-audit (PyPI, OSV)"

    def __init__(
        self,
        cache_dir: Path,
        cache: ResponseCache | None = None,
        *,
        offline: bool = False,
        ttl: float = 3600.0,
        timeout: int = 15,
    ) -> None:
        self._cache = cache
        self._offline = offline
        self._ttl = ttl
        self._cache_dir = cache_dir
        self._timeout = timeout
        self._services: list[tuple[str, object]] | None = None  # made when first asked
        self._answers = Counter[str]()  # "answered" / "unavailable", for describe()
        self._counting = threading.Lock()  # queries come from the scan's fetch threads

    def _connect(self) -> list[tuple[str, object]]:
        """pip-audit's services; heavy to import, so only when the cache cannot answer."""
        if self._services is None:
            from pip_audit._service import OsvService, PyPIService

            self._services = [
                ("PyPI", PyPIService(cache_dir=self._cache_dir, timeout=self._timeout)),
                ("OSV", OsvService(cache_dir=self._cache_dir, timeout=self._timeout)),
            ]
        return self._services

    def describe(self) -> str:
        answered, failed = self._answers["answered"], self._answers["unavailable"]
        return f"{self.name}: answered for {answered} of {answered + failed} packages"

    def query(self, name: NormalizedName, version: Version) -> tuple[Advisory, ...] | Unavailable:
        answer = self._query(name, version)
        with self._counting:
            self._answers["unavailable" if isinstance(answer, Unavailable) else "answered"] += 1
        return answer

    def _query(self, name: NormalizedName, version: Version) -> tuple[Advisory, ...] | Unavailable:
        key = f"pip-audit {name} {version}"
        cached = self._cache.lookup(key) if self._cache is not None else None
        if cached is not None:
            answer = _decode(cached.body)
            fresh = time.time() - cached.fetched_at < self._ttl
            # Online, a remembered failure is asked again; offline, it is the answer we had.
            if self._offline or (fresh and not isinstance(answer, Unavailable)):
                return answer
        if self._offline:
            return Unavailable("offline, and no earlier answer from pip-audit is cached")
        needs_network(key)
        answer = self._ask(name, version)
        if self._cache is not None:
            body = _encode(answer)
            self._cache.save(CachedResponse(key, key, 200, "", None, None, time.time(), body))
        return answer

    def _ask(self, name: NormalizedName, version: Version) -> tuple[Advisory, ...] | Unavailable:
        import requests
        from pip_audit._service import ResolvedDependency, ServiceError, SkippedDependency

        reasons = []
        for label, service in self._connect():
            try:
                spec, results = service.query(ResolvedDependency(name=name, version=version))  # type: ignore[attr-defined]
            except ServiceError as e:
                reasons.append(f"{label}: {e or type(e).__name__}")
                continue
            except requests.RequestException as e:  # pip-audit lets some through unwrapped
                reasons.append(f"{label}: {describe(e)}")
                continue
            if isinstance(spec, SkippedDependency):
                reasons.append(f"{label}: {spec.skip_reason}")
                continue
            return tuple(
                Advisory(
                    id=str(r.id),
                    aliases=tuple(sorted(str(a) for a in r.aliases)),
                    summary=r.description or None,
                    fixed=tuple(str(v) for v in r.fix_versions),
                    severity=None,
                    links=(f"https://osv.dev/vulnerability/{r.id}",),
                )
                for r in results
            )
        return Unavailable("; ".join(reasons) or "no service configured")


def _encode(answer: tuple[Advisory, ...] | Unavailable) -> bytes:
    if isinstance(answer, Unavailable):
        return json.dumps({"unavailable": answer.reason}).encode()
    return json.dumps(
        {
            "advisories": [
                {
                    "id": a.id,
                    "aliases": list(a.aliases),
                    "summary": a.summary,
                    "fixed": list(a.fixed),
                    "links": list(a.links),
                }
                for a in answer
            ]
        }
    ).encode()


def _decode(body: bytes) -> tuple[Advisory, ...] | Unavailable:
    data = json.loads(body)
    if "unavailable" in data:
        return Unavailable(str(data["unavailable"]))
    return tuple(
        Advisory(
            id=a["id"],
            aliases=tuple(a["aliases"]),
            summary=a["summary"],
            fixed=tuple(a["fixed"]),
            severity=None,
            links=tuple(a["links"]),
        )
        for a in data["advisories"]
    )
