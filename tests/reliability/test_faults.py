"""The fault matrix: a hostile or failing index, fault by fault, end to end.

For each fault on one project's pages: the scan completes, the affected package is
listed as not evaluated with the reason, the gate exits 3 (fail-closed), the store
stays consistent, nothing prints a traceback, and the affected package never reads
as clean.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import threading
import time

import pytest

from scanner.cli import main
from tests.conftest import LOCKS
from tests.indexserver import Fault

AFFECTED = "six"
LOCK_TEXT = "six==1.16.0\ngunicorn==26.0.0\n"


def _slow_body(handler):
    """Headers, half a body, then silence past the read timeout."""
    body = json.dumps({"meta": {"api-version": "1.1"}, "files": []}).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
    handler.send_header("Content-Length", str(len(body) * 2))
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()
    time.sleep(3)


def _reset(handler):
    handler.close_connection = True
    handler.connection.setsockopt(
        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
    )
    handler.connection.close()


def _redirect(location: str):
    def answer(handler):
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def _typed(status: int, body: bytes, content_type: str):
    def answer(handler):
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


SIMPLE = f"/simple/{AFFECTED}/"
PROJECT = f"/pypi/{AFFECTED}/json"
FAULTS = {
    "read timeout mid-body": (SIMPLE, Fault(action=_slow_body), "read timed out|broken"),
    "connection reset": (SIMPLE, Fault(action=_reset), "connection reset|connection broken|failed"),
    "429 with Retry-After": (SIMPLE, Fault(status=429, headers={"Retry-After": "1"}), "HTTP 429"),
    "429 without Retry-After": (SIMPLE, Fault(status=429), "HTTP 429"),
    "500": (PROJECT, Fault(status=500), "HTTP 500"),
    "502": (PROJECT, Fault(status=502), "HTTP 502"),
    "503": (SIMPLE, Fault(status=503), "HTTP 503"),
    "truncated JSON": (
        PROJECT,
        Fault(action=_typed(200, b'{"info": {"name": "six", "sum', "application/json")),
        "invalid JSON",
    ),
    "HTML error page with 200": (
        SIMPLE,
        Fault(action=_typed(200, b"<html>Down for maintenance</html>", "text/html")),
        "got text/html",
    ),
    "wrong content type": (
        SIMPLE,
        Fault(action=_typed(200, b'{"files": []}', "text/plain")),
        "expected application/vnd.pypi.simple.v1\\+json",
    ),
    "body larger than the bound": (
        PROJECT,
        Fault(action=_typed(200, b"x" * 3_000_000, "application/json")),
        "limit",
    ),
    "redirect loop": (SIMPLE, Fault(action=_redirect(SIMPLE)), "redirects"),
    "redirect to another host": (
        SIMPLE,
        Fault(action=_redirect("http://127.0.0.2:9/simple/six/")),
        "another host",
    ),
    "deeply nested JSON": (
        PROJECT,
        Fault(action=_typed(200, b"[" * 200_000 + b"]" * 200_000, "application/json")),
        "invalid JSON",
    ),
}


def run_scan(capsys, index_url: str, tmp_path, *extra: str):
    lock = tmp_path / "requirements.txt"
    lock.write_text(LOCK_TEXT)
    code = main(
        [
            "scan",
            str(lock),
            "--index-url",
            index_url,
            "--format",
            "json",
            "--no-live-advisories",
            "--retries",
            "1",
            "--timeout",
            "1",
            "--max-page-mb",
            "2",
            *extra,
        ]
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def consistent(db_path) -> None:
    connection = sqlite3.connect(db_path)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    assert connection.execute("select count(*) from scans").fetchone()[0] >= 1


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_matrix(fault, capsys, index, tmp_path, _private_store):
    path, injected, reason = FAULTS[fault]
    index.faults[path] = injected
    code, out, err = run_scan(capsys, index.url, tmp_path)
    assert "Traceback" not in err and "Traceback" not in out
    report = json.loads(out)  # the scan completed and reported
    packages = {p["name"]: p for p in report["packages"]}
    affected = packages[AFFECTED]
    assert affected["evaluated"] is False, fault
    assert affected["score"] is None
    import re

    assert re.search(reason, affected["not_evaluated_reason"]), affected["not_evaluated_reason"]
    assert packages["gunicorn"]["evaluated"] is True  # the others carry on
    assert code == 3 and report["verdict"]["label"] == "not evaluated"
    assert any(
        r.startswith(f"{AFFECTED} 1.16.0: not evaluated") for r in report["verdict"]["reasons"]
    )
    assert "1 not evaluated" in err
    consistent(_private_store)


def test_connect_timeout(capsys, tmp_path, _private_store):
    """A listener that never accepts: its backlog full, new connections time out."""
    blackhole = socket.socket()
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(0)
    port = blackhole.getsockname()[1]
    fillers = []
    for _ in range(8):  # fill the accept queue so the kernel drops further SYNs
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        code, out, err = run_scan(capsys, f"http://127.0.0.1:{port}/", tmp_path)
    finally:
        for filler in fillers:
            filler.close()
        blackhole.close()
    report = json.loads(out)
    assert "Traceback" not in err
    assert code == 3
    for package in report["packages"]:
        assert package["evaluated"] is False
        assert (
            "timed out" in package["not_evaluated_reason"]
            or "failed" in package["not_evaluated_reason"]
        )
    consistent(_private_store)


def test_fail_closed_can_be_relaxed_but_never_reads_clean(capsys, index, tmp_path):
    index.faults[SIMPLE] = Fault(status=503)
    code, out, _ = run_scan(capsys, index.url, tmp_path, "--allow-unevaluated")
    report = json.loads(out)
    six = next(p for p in report["packages"] if p["name"] == AFFECTED)
    assert code == 0 and six["evaluated"] is False and six["score"] is None
    assert report["summary"]["not_evaluated"] == 1


def test_two_scans_write_the_same_store_at_once(index, tmp_path):
    import os
    import subprocess
    import sys

    db = tmp_path / "shared.db"
    env = {**os.environ, "TRUSTSCAN_DB": str(db)}
    argv = [
        sys.executable,
        "-m",
        "scanner",
        "scan",
        "--index-url",
        index.url,
        "--format",
        "json",
        "--no-live-advisories",
        "--refresh",
    ]
    runs = [
        subprocess.Popen(
            [*argv, str(LOCKS / name)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("warehouse-deploy.txt", "flask-tests.txt", "signals.txt")
    ]
    results = [run.communicate(timeout=120) for run in runs]
    for run, (out, err) in zip(runs, results, strict=True):
        assert run.returncode in (0, 1, 3), err
        assert "Traceback" not in err
        assert json.loads(out)["packages"]
    connection = sqlite3.connect(db)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert connection.execute("select count(*) from scans").fetchone()[0] == 3


def test_scan_killed_at_random_points_then_rescanned(index, tmp_path):
    import os
    import random
    import signal
    import subprocess
    import sys

    db = tmp_path / "killed.db"
    env = {**os.environ, "TRUSTSCAN_DB": str(db)}
    argv = [
        sys.executable,
        "-m",
        "scanner",
        "scan",
        str(LOCKS / "warehouse-deploy.txt"),
        "--index-url",
        index.url,
        "--format",
        "json",
        "--no-live-advisories",
        "--refresh",
    ]
    rng = random.Random(1234)
    for _ in range(5):
        process = subprocess.Popen(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.2, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if db.exists():
            connection = sqlite3.connect(db)
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            connection.close()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 3) and json.loads(done.stdout)["summary"]["packages"] == 8


def test_the_tui_reads_while_a_scan_writes(index, tmp_path):
    """WAL: a reader (the TUI opening stored scans) is never blocked or broken by a writer."""
    import asyncio

    from scanner.store import Store
    from tui.app import TrustscanApp

    db = tmp_path / "live.db"
    store = Store(db)
    scan_id = store.record_scan(
        {
            "started_at": "2026-11-25T00:00:00+00:00",
            "input": "x",
            "format": "requirements",
            "packages": 0,
            "exit_code": 0,
        },
        json.loads((LOCKS.parent / "tui" / "report.json").read_text()),
    )
    stop = threading.Event()

    def writer():
        other = Store(db)
        while not stop.is_set():
            other.record_scan(
                {
                    "started_at": "2026-11-25T00:00:01+00:00",
                    "input": "y",
                    "format": "requirements",
                    "packages": 0,
                    "exit_code": 0,
                },
                {"packages": []},
            )
        other.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:

        async def browse():
            for _ in range(5):
                report = Store(db).report(scan_id)
                async with TrustscanApp(report=report).run_test(size=(100, 30)) as pilot:
                    await pilot.press("down", "enter", "down")

        asyncio.run(browse())
    finally:
        stop.set()
        thread.join()
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
