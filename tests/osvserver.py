"""A local OSV-shaped API on 127.0.0.1: `/v1/querybatch` and `/v1/vulns/ID`.

Its advisories are the real PyPA records of `tests/data/advisories/pypa-subset.zip`
(see its README), matched to (name, version) with trustscan's own OSV matching, so
the answers are what OSV answers for those records. Every request is counted.
"""

from __future__ import annotations

import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from scanner.vulns.osv import OsvDatabase

SUBSET = Path(__file__).parent / "data" / "advisories" / "pypa-subset.zip"


def _records() -> dict[str, dict[str, Any]]:
    records = {}
    with zipfile.ZipFile(SUBSET) as archive:
        for name in archive.namelist():
            if name.endswith(".yaml"):
                record = yaml.safe_load(archive.read(name))
                records[record["id"]] = json.loads(json.dumps(record, default=str))
    return records


class OsvServer:
    def __init__(self) -> None:
        self.records = _records()
        self.database = OsvDatabase(list(self.records.values()), "local OSV")
        self.requests: list[tuple[str, str, int]] = []  # method, path, queries in a batch
        self.fail = False  # answer 503 to everything
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                queries = json.loads(self.rfile.read(length)).get("queries", [])
                with server._lock:
                    server.requests.append(("POST", self.path, len(queries)))
                if server.fail:
                    self._send(503, {"message": "unavailable"})
                    return
                if self.path != "/v1/querybatch":
                    self._send(404, {})
                    return
                self._send(200, {"results": [server.answer(q) for q in queries]})

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(("GET", self.path, 0))
                record = self.path.removeprefix("/v1/vulns/")
                if server.fail:
                    self._send(503, {"message": "unavailable"})
                elif self.path.startswith("/v1/vulns/") and record in server.records:
                    self._send(200, server.records[record])
                else:
                    self._send(404, {"code": 5, "message": "Bug not found."})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, query: dict[str, Any]) -> dict[str, Any]:
        package = query.get("package", {})
        try:
            version = Version(str(query.get("version")))
        except InvalidVersion:
            return {}
        found = self.database.query(canonicalize_name(str(package.get("name"))), version)
        ids = sorted({a.id for a in found} if isinstance(found, tuple) else set())
        return (
            {"vulns": [{"id": i, "modified": "2024-10-10T00:00:00Z"} for i in ids]} if ids else {}
        )

    def __enter__(self) -> OsvServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
