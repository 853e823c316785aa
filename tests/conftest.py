"""Shared fixtures: a local recorded index, a private store, and no network."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.indexserver import IndexServer

DATA = Path(__file__).parent / "data"
LOCKS = DATA / "locks"
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Refuse connections to anything but loopback, unless the test is marked online."""
    if request.node.get_closest_marker("online"):
        return
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else ""
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in (
            "127.0.0.1",
            "::1",
            "localhost",
        ):
            raise OSError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    real_getaddrinfo = socket.getaddrinfo

    def local_names_only(host: object, *args: object, **kwargs: object) -> object:
        if host not in ("127.0.0.1", "::1", "localhost", None):
            raise socket.gaierror(socket.EAI_NONAME, f"test tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "getaddrinfo", local_names_only)


@pytest.fixture(autouse=True)
def _private_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "trustscan.db"
    monkeypatch.setenv("TRUSTSCAN_DB", str(db))
    monkeypatch.delenv("TRUSTSCAN_INDEX_URL", raising=False)
    return db


def scan_json(capsys: pytest.CaptureFixture[str], lock: object, *args: str):
    """`trustscan scan LOCK --format json --no-live-advisories ARGS` in process:
    (exit code, the JSON report or None when nothing was printed, stderr)."""
    from scanner.cli import main

    code = main(["scan", str(lock), "--format", "json", "--no-live-advisories", *args])
    captured = capsys.readouterr()
    report = json.loads(captured.out) if captured.out.strip() else None
    return code, report, captured.err


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        yield server
