"""`make bench`: trustscan against the network floor and its peer, in one table.

- Inputs: the largest corpus locks (>= 200 packages) and a synthetic lock of
  1,000 packages (the union of the corpus's pins), plus 50/200/1,000 subsets.
- Index: a local replay index on 127.0.0.1 that answers from recordings made
  on first use from the live index (record-on-miss, kept in bench/.recordings),
  with a fixed per-request latency, so figures repeat; and the live index.
- The floor: a minimal concurrent script fetching (and parsing, for JSON)
  exactly the URLs trustscan fetched, read from its own request log, with the
  same concurrency, in the same run.
- trustscan cold (empty store), warm (fresh cache) and --offline; requests per
  package, bytes, wall time, peak RSS. Cold runs and floors are repeated
  (`--repeat`, 2) and warm/offline run three times; the best of each is shown,
  since noise on a shared machine only ever adds time.
- Start-up (`trustscan --version`) and the scaling slope per added package.
- The peer: pip-audit -r FILE (and --no-deps for hashed locks), and what it evaluated.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
BIN = Path(sys.executable).parent
RECORDINGS = ROOT / "bench" / ".recordings"
LIVE = {"pypi.org": "https://pypi.org", "files": "https://files.pythonhosted.org"}
JOBS = 8
PYTHON = "3.12.7"


class Replay(ThreadingHTTPServer):
    """Answers from recordings; records from the live index on a miss."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that stops reading an oversized body hangs up: expected

    def __init__(self, latency: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.latency = latency
        self.base = f"http://127.0.0.1:{self.server_address[1]}/"
        self.session = requests.Session()
        self.lock = threading.Lock()
        RECORDINGS.mkdir(parents=True, exist_ok=True)

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        upstream = (
            LIVE["files"] + path.removeprefix("/files")
            if path.startswith("/files/")
            else LIVE["pypi.org"] + path
        )
        wanted = {k: v for k, v in headers.items() if k.lower() in ("accept", "range")}
        key = hashlib.sha256(json.dumps([upstream, sorted(wanted.items())]).encode()).hexdigest()
        file = RECORDINGS / key
        if file.exists():
            data = file.read_bytes()
            meta_len = int.from_bytes(data[:4], "big")
            meta = json.loads(data[4 : 4 + meta_len])
            return meta["status"], meta["headers"], self._local(data[4 + meta_len :])
        response = self.session.get(upstream, headers=wanted, timeout=60, allow_redirects=False)
        keep = {
            k: v
            for k, v in response.headers.items()
            if k.lower() in ("content-type", "content-range", "location")
        }
        meta = json.dumps({"status": response.status_code, "headers": keep}).encode()
        if response.status_code in (200, 206, 404):  # stored as served; links rewritten on reply
            file.write_bytes(len(meta).to_bytes(4, "big") + meta + response.content)
        return response.status_code, keep, self._local(response.content)

    def _local(self, body: bytes) -> bytes:
        return body.replace(b"https://files.pythonhosted.org/", self.base.encode() + b"files/")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        server: Replay = self.server  # type: ignore[assignment]
        time.sleep(server.latency)
        status, headers, body = server.answer(self.path, dict(self.headers.items()))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def synthetic(size: int) -> Path:
    """A requirements file of `size` distinct pins drawn from the corpus locks."""
    sys.path.insert(0, str(ROOT))
    from scanner.lockfiles import load_lock

    pins: dict[str, str] = {}
    for path in sorted(CORPUS.glob("*/*")):
        if path.suffix in (".md", ".json") or "pyproject" in path.parts[-2]:
            continue
        try:
            lock = load_lock(str(path))
        except Exception:
            continue
        for package in lock.packages:
            if package.version is not None and package.source.kind.value == "index":
                pins.setdefault(package.name, str(package.version))
    names = sorted(pins)[:size]
    target = Path(tempfile.gettempdir()) / f"trustscan-bench-{size}.txt"
    target.write_text("".join(f"{n}=={pins[n]}\n" for n in names))
    return target


def trustscan(
    lock: Path, index: str, db: Path, *extra: str, live: bool = False
) -> dict[str, float | int]:
    """One scan. `live`: the live advisory sources on, as by default; off otherwise,
    so that the figures measure the index. Every package is looked up on `index`
    (the odh lock names Red Hat's index, which this machine cannot reach)."""
    log = db.with_suffix(".requests.jsonl")
    argv = [
        "/usr/bin/time",
        "-f",
        "%e %M",
        str(BIN / "trustscan"),
        "scan",
        str(lock),
        "--index-url",
        index,
        "--format",
        "json",
        "--no-progress",
        "--db",
        str(db),
        "--python-version",
        PYTHON,
        "--platform",
        "linux",
        "--jobs",
        str(JOBS),
        "--request-log",
        str(log),
        "--ignore-lock-index",
        *([] if live else ["--no-live-advisories"]),
        *extra,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall, rss = done.stderr.strip().splitlines()[-1].split()
    report = json.loads(done.stdout) if done.stdout.strip() else {"packages": []}
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    network = [r for r in records if r["source"] in ("network", "revalidated")]
    return {
        "wall": float(wall),
        "rss_mb": int(rss) / 1024,
        "packages": len(report["packages"]),
        "evaluated": sum(p["evaluated"] for p in report["packages"]),
        "requests": len(network),
        "bytes": sum(r["bytes"] for r in network),
        "log": str(log),
    }


def floor(log: str, jobs: int = JOBS) -> float:
    """Fetch exactly the URLs trustscan fetched, parse the JSON ones; wall seconds."""
    records = [json.loads(line) for line in Path(log).read_text().splitlines() if line.strip()]
    records = [r for r in records if r["source"] == "network"]
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=jobs)
    session.mount("http://", adapter)
    session.mount("https://", adapter)

    def fetch(record: dict[str, object]) -> None:
        url = str(record["url"])
        headers = {"Range": str(record["range"])} if record.get("range") else {}
        if "/simple/" in url:
            headers["Accept"] = "application/vnd.pypi.simple.v1+json"
        response = session.get(url, headers=headers, timeout=60)
        if response.headers.get("content-type", "").endswith("json"):
            json.loads(response.content)

    started = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(fetch, records))
    return time.perf_counter() - started


def pip_audit(lock: Path, hashed: bool) -> str:
    argv = [str(BIN / "pip-audit"), "-r", str(lock), "--progress-spinner", "off"]
    if hashed:
        argv += ["--no-deps", "--disable-pip"]
    started = time.perf_counter()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        return "timed out after 600 s"
    wall = time.perf_counter() - started
    text = done.stdout + done.stderr
    skipped = text.count("not found on PyPI") + text.count("could not be audited")
    verdict = (
        "No known vulnerabilities found"
        if "No known vulnerabilities" in text
        else (text.strip().splitlines()[-1][:80] if text.strip() else "no output")
    )
    return f"{wall:.1f} s, exit {done.returncode}; skipped {skipped}; says: {verdict}"


def tui_first_screen(lock: Path, index: str, db: Path, runs: int = 3) -> float:
    """Seconds from `trustscan tui LOCK` to the graph on screen (Textual's headless
    driver, default options, warm cache): best of `runs`."""
    argv = [sys.executable, str(ROOT / "bench" / "tui_first_screen.py"), str(lock)]
    argv += ["--index-url", index, "--db", str(db), "--python-version", PYTHON]
    argv += ["--platform", "linux", "--ignore-lock-index"]
    seconds = []
    for _ in range(runs):
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        seconds.append(float(done.stdout.strip() or "nan"))
    return min(seconds)


def best(runs: list[dict[str, float | int]]) -> dict[str, float | int]:
    """The fastest of repeated runs (noise on a shared machine only ever adds time)."""
    return min(runs, key=lambda r: r["wall"])


def startup() -> float:
    """Wall seconds of `trustscan --version`: interpreter, imports, argument parser."""
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([str(BIN / "trustscan"), "--version"], capture_output=True, check=True)
        runs.append(time.perf_counter() - started)
    return min(runs)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--repeat", type=int, default=2, help="cold runs and floors per input")
    parser.add_argument("--no-live", action="store_true")
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    largest = (
        CORPUS / "requirements-hashed" / "odh-notebooks-jupyter-datascience-requirements.cpu.txt"
    )
    inputs = [("odh requirements.cpu.txt (303)", largest, True)]
    inputs += [(f"synthetic {n}", synthetic(n), False) for n in (50, 200, 1000)]
    replay = Replay(args.latency)
    threading.Thread(target=replay.serve_forever, daemon=True).start()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for label, lock, _hashed in inputs:
            # a first pass records whatever the replay index has not seen yet
            trustscan(lock, replay.base, Path(work) / f"prime-{lock.stem}.db")
            colds, floors = [], []
            for attempt in range(args.repeat):
                db = Path(work) / f"{lock.stem}-{attempt}.db"
                colds.append(trustscan(lock, replay.base, db))
                floors.append(floor(str(colds[-1]["log"])))
            cold = best(colds)
            warm = best([trustscan(lock, replay.base, db) for _ in range(3)])
            offline = best([trustscan(lock, replay.base, db, "--offline") for _ in range(3)])
            rows.append(
                (label, f"replay +{args.latency * 1000:.0f} ms", cold, warm, offline, min(floors))
            )
            if not args.no_live:
                live_db = Path(work) / f"live-{lock.stem}.db"
                live = trustscan(lock, "https://pypi.org/", live_db)
                live_floor = floor(str(live["log"]))
                rows.append((label, "live", live, None, None, live_floor))
        print(
            "| input | index | pkgs | cold s | floor s | cold/floor | warm s | offline s | "
            "req/pkg | MB fetched | peak RSS MB (cold) |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for label, where, cold, warm, offline, floor_s in rows:
            per = cold["requests"] / max(1, cold["packages"])
            rested = f"{warm['wall']:.2f} | {offline['wall']:.2f}" if warm and offline else "- | -"
            print(
                f"| {label} | {where} | {cold['packages']} | {cold['wall']:.2f} | {floor_s:.2f} | "
                f"{cold['wall'] / max(floor_s, 0.01):.2f}x | {rested} | "
                f"{per:.1f} | {cold['bytes'] / 1e6:.1f} | {cold['rss_mb']:.0f} |"
            )
        replayed = [r for r in rows if r[1] != "live" and r[0].startswith("synthetic")]
        print()
        print(f"start-up (`trustscan --version`, best of 5): {startup():.2f} s")
        print("scaling (synthetic locks, replay): time and memory per package")
        for label, _, cold, warm, _, _ in replayed:
            n = max(1, int(cold["packages"]))
            print(
                f"  {label:>14}: cold {cold['wall'] / n * 1000:.0f} ms/pkg, "
                f"warm {warm['wall'] / n * 1000:.1f} ms/pkg, "
                f"RSS cold {cold['rss_mb']:.0f} MB / warm {warm['rss_mb']:.0f} MB"
            )
        if len(replayed) >= 2:
            (_, _, c0, w0, _, _), (_, _, c1, w1, _, _) = replayed[0], replayed[-1]
            dn = max(1, int(c1["packages"]) - int(c0["packages"]))
            print(
                f"  slope {replayed[0][0]} -> {replayed[-1][0]}: cold "
                f"{(c1['wall'] - c0['wall']) / dn * 1000:.0f} ms per added package, warm "
                f"{(w1['wall'] - w0['wall']) / dn * 1000:.1f} ms, RSS "
                f"{(c1['rss_mb'] - c0['rss_mb']) / dn * 1000:.0f} kB"
            )
        print()
        print("default path: warm rescans with the live advisory sources on, as users get them")
        print("| input | advisory sources | warm s | vs --no-live-advisories | requests |")
        print("|---|---|---:|---:|---:|")
        _, _, _, warm_off, _, _ = rows[0]
        db = Path(work) / f"{largest.stem}-0.db"
        default = best([trustscan(largest, replay.base, db, live=True) for _ in range(3)])
        print(
            f"| odh (303) | default: OSV unreachable here, index without per-release JSON | "
            f"{default['wall']:.2f} | {default['wall'] / warm_off['wall']:.2f}x | {default['requests']} |"
        )
        sys.path.insert(0, str(ROOT))
        from tests.osvserver import OsvServer

        with OsvServer() as osv:
            osv_db = Path(work) / "osv.db"
            trustscan(largest, replay.base, osv_db, "--osv-url", osv.url, live=True)  # cold
            answering = best(
                [
                    trustscan(largest, replay.base, osv_db, "--osv-url", osv.url, live=True)
                    for _ in range(3)
                ]
            )
            asked = len(osv.requests)
        print(
            f"| odh (303) | a local OSV-shaped API that answers | {answering['wall']:.2f} | "
            f"{answering['wall'] / warm_off['wall']:.2f}x | {answering['requests']} "
            f"(OSV requests in all four runs: {asked}) |"
        )
        print()
        first = tui_first_screen(largest, replay.base, db)
        print(
            "TUI: first screen of the odh lock (303), warm, default options, headless: "
            f"{first:.2f} s from the command (best of 3)"
        )
        print()
        print(
            "release inventory (what each wheel installs): its cost on the odh lock, cold, replay"
        )
        print("| inventory | cold s | floor s | cold/floor | requests | MB | req/pkg | kB/pkg |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for label, extra in (("on (default)", ()), ("off (--no-inventory)", ("--no-inventory",))):
            db = Path(work) / f"inventory-{bool(extra)}.db"
            cold = trustscan(largest, replay.base, db, *extra)
            floor_s = floor(str(cold["log"]))
            n = max(1, int(cold["packages"]))
            print(
                f"| {label} | {cold['wall']:.2f} | {floor_s:.2f} | "
                f"{cold['wall'] / max(floor_s, 0.01):.2f}x | {cold['requests']} | "
                f"{cold['bytes'] / 1e6:.1f} | {int(cold['requests']) / n:.1f} | "
                f"{int(cold['bytes']) / n / 1e3:.0f} |"
            )
        if not args.no_peer:
            print()
            print("| peer on the same input | what it did |")
            print("|---|---|")
            print(
                f"| pip-audit -r {largest.name} --no-deps --disable-pip | {pip_audit(largest, True)} |"
            )
            small = synthetic(50)
            print(
                f"| pip-audit -r synthetic 50 (default: resolves into a venv) | {pip_audit(small, False)} |"
            )
    replay.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
