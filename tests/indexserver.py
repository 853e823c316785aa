"""A local package index on 127.0.0.1 serving recorded responses, with faults on demand.

URL space, as on PyPI: `/simple/NAME/` (Simple API JSON), `/pypi/NAME/json`,
`/packages/...` (files and `.metadata`, with HTTP range support). Absolute
`https://files.pythonhosted.org/` links in recorded Simple pages are served
relative (`../../packages/...`) for some projects and absolute to this server
for others, so both forms are exercised, as a mirror and PyPI serve them.

Faults are set per path: `server.faults["/simple/six/"] = Fault(status=503, times=1)`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RECORDED = Path(__file__).parent / "data" / "index"
PYPI_FILES = "https://files.pythonhosted.org/"


@dataclass
class Fault:
    """What to do instead of answering normally, for the next `times` requests."""

    status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1_000_000
    action: Callable[[BaseHTTPRequestHandler], None] | None = None


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up mid-answer are what the fault tests do on purpose


class IndexServer:
    def __init__(self, root: Path = RECORDED, latency: float = 0.0) -> None:
        self.root = root
        self.latency = latency
        self.faults: dict[str, Fault] = {}
        self.overrides: dict[str, bytes] = {}  # path -> body replacing the recorded one
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # method, path, headers
        self.etags = True
        self._lock = threading.Lock()
        handler = _handler_for(self)
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> IndexServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self) -> list[str]:
        with self._lock:
            return [p for _, p, _ in self.requests]

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            fault = self.faults.get(path)
            if fault is None or fault.times <= 0:
                return None
            fault.times -= 1
            return fault

    def body_for(self, path: str) -> tuple[bytes, str] | None:
        """(body, content type) for a path, or None for a 404."""
        if path in self.overrides:
            if path.startswith("/simple/"):
                name = path.strip("/").split("/")[1]
                body = self._rewrite_links(self.overrides[path], name)
                return body, "application/vnd.pypi.simple.v1+json"
            return self.overrides[path], "application/json"
        if path.startswith("/simple/") and path.endswith("/"):
            file = self.root / path.strip("/") / "index.json"
            if not file.is_file():
                return None
            name = path.strip("/").split("/")[1]
            return self._rewrite_links(
                file.read_bytes(), name
            ), "application/vnd.pypi.simple.v1+json"
        if path.startswith("/pypi/") and path.endswith("/json"):
            file = self.root / (path.strip("/") + ".json")
            return (file.read_bytes(), "application/json") if file.is_file() else None
        if path.startswith("/packages/"):
            file = (self.root / path.lstrip("/")).resolve()
            if self.root.resolve() not in file.parents or not file.is_file():
                return None
            return file.read_bytes(), "application/octet-stream"
        return None

    def _rewrite_links(self, body: bytes, name: str) -> bytes:
        relative = sum(map(ord, name)) % 2 == 0
        target = "../../" if relative else self.url
        return body.replace(PYPI_FILES.encode(), target.encode())

    @staticmethod
    def relative_links(name: str) -> bool:
        return sum(map(ord, name)) % 2 == 0


def _handler_for(server: IndexServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            with server._lock:
                server.requests.append(("GET", path, dict(self.headers.items())))
            if server.latency:
                time.sleep(server.latency)
            fault = server.take_fault(path)
            if fault is not None:
                if fault.action is not None:
                    fault.action(self)
                    return
                self._send(fault.status or 500, fault.body, "text/plain", fault.headers)
                return
            found = server.body_for(path)
            if found is None:
                self._send(404, b"", "text/plain")
                return
            body, content_type = found
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            if server.etags and self.headers.get("If-None-Match") == etag:
                self._send(304, b"", content_type, {"ETag": etag})
                return
            headers = {"ETag": etag} if server.etags else {}
            byte_range = self.headers.get("Range")
            if byte_range and path.startswith("/packages/"):
                self._send_range(body, byte_range, content_type, headers)
                return
            self._send(200, body, content_type, headers)

        def _send_range(
            self, body: bytes, byte_range: str, content_type: str, headers: dict[str, str]
        ) -> None:
            spec = byte_range.removeprefix("bytes=")
            first, _, last = spec.partition("-")
            size = len(body)
            if not first:
                start, end = max(0, size - int(last)), size - 1
            else:
                start, end = int(first), min(size - 1, int(last) if last else size - 1)
            headers = {**headers, "Content-Range": f"bytes {start}-{end}/{size}"}
            self._send(206, body[start : end + 1], content_type, headers)

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str,
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    return Handler


def simple_page(name: str) -> dict[str, object]:
    """A recorded Simple page as data, for tests that build variants of it."""
    data: dict[str, object] = json.loads(
        (RECORDED / "simple" / name / "index.json").read_text(encoding="utf-8")
    )
    return data
