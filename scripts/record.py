"""Record the local test index from the live index (`make record`).

Scans every lock in tests/data/locks/ with the real client against the live
index, then stores each URL the scan fetched under tests/data/index/, laid out
like the index's own URL space, trimmed so the repository stays small:

- Simple JSON keeps every version but only the files of the versions the
  locks pin, the five before each of them, and the newest two;
- project JSON loses `info.description` and the `releases` of other versions;
- files read with range requests are stored whole (the test server serves ranges).

SOURCES.json records, for every stored file, the URL and time it came from.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.lockfiles import load_lock  # noqa: E402
from scanner.registry import ClientConfig, HttpClient, Index  # noqa: E402
from scanner.registry.index import SIMPLE_JSON, file_version  # noqa: E402
from scanner.resolve import target_environment  # noqa: E402
from scanner.scan import scan  # noqa: E402

LOCKS = ROOT / "tests" / "data" / "locks"
OUT = ROOT / "tests" / "data" / "index"
LIVE = "https://pypi.org/"
KEEP_BEFORE = 5
KEEP_NEWEST = 2
SPARSE_OVER = 512 * 1024  # wheels larger than this are stored sparse


def local_path(url: str) -> Path | None:
    """Where a live URL is stored in the recorded index."""
    parts = urlsplit(url)
    path = parts.path
    if path.startswith("/simple/"):
        return OUT / path.lstrip("/") / "index.json"
    if path.startswith("/pypi/") and path.endswith("/json"):
        return OUT / (path.lstrip("/") + ".json")
    if path.startswith("/packages/"):
        return OUT / path.lstrip("/")
    return None


def keep_versions(all_versions: list[str], pinned: set[Version]) -> set[str]:
    parsed = []
    for v in all_versions:
        try:
            parsed.append(Version(v))
        except InvalidVersion:
            continue
    parsed.sort()
    keep = {str(v) for v in parsed[-KEEP_NEWEST:]}
    for pin in pinned:
        earlier = [v for v in parsed if v <= pin]
        keep |= {str(v) for v in earlier[-(KEEP_BEFORE + 1) :]}
    return keep


def sparse_wheel(data: bytes) -> bytes:
    """The wheel with every byte a metadata reader does not need set to zero.

    Same size, so range requests and Content-Range stay real; git stores the
    zeros in a few kilobytes. Kept: the central directory and the
    `*.dist-info/METADATA` member with its local header.
    """
    keep = bytearray(len(data))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        start_dir = archive.start_dir  # type: ignore[attr-defined]
        keep[start_dir:] = data[start_dir:]
        for info in archive.infolist():
            if info.filename.endswith(".dist-info/METADATA"):
                begin = info.header_offset
                end = begin + 30 + len(info.orig_filename) + 1024 + info.compress_size
                keep[begin:end] = data[begin:end]
    return bytes(keep)


def trim_simple(data: dict, name: str, pinned: set[Version]) -> dict:
    keep = keep_versions(data.get("versions", []), pinned)
    data["files"] = [
        f for f in data["files"] if str(file_version(name, f["filename"]) or "") in keep
    ]
    return data


def trim_project(data: dict, pinned: set[Version]) -> dict:
    data["info"]["description"] = "(trimmed by scripts/record.py)"
    releases = data.get("releases", {})
    keep = keep_versions(list(releases), pinned)
    data["releases"] = {v: files for v, files in releases.items() if v in keep}
    return data


def main() -> int:
    client = HttpClient(ClientConfig(jobs=8))
    pins: dict[str, set[Version]] = {}
    for lock_path in sorted(p for p in LOCKS.iterdir() if p.suffix in (".txt", ".toml")):
        lock = load_lock(str(lock_path))
        for p in lock.packages:
            if p.version is not None:
                pins.setdefault(p.name, set()).add(p.version)
        result = scan(lock, Index(client, LIVE), target_environment("3.11.7", "linux"))
        print(f"scanned {lock_path.name}: {len(result.packages)} packages", file=sys.stderr)
    session = requests.Session()
    sources = {}
    for url in sorted({r.url for r in client.log.records}):
        target = local_path(url)
        if target is None:
            continue
        headers = {"Accept": SIMPLE_JSON} if "/simple/" in url else {}
        response = session.get(url, headers=headers, timeout=60)
        if response.status_code != 200:
            continue  # a 404 is what the test server answers for a missing file
        body = response.content
        trimmed = False
        parts = urlsplit(url).path.strip("/").split("/")
        if parts[0] == "simple":
            data = trim_simple(response.json(), parts[1], pins.get(parts[1], set()))
            body, trimmed = json.dumps(data, separators=(",", ":")).encode(), True
        elif parts[0] == "pypi":
            data = trim_project(response.json(), pins.get(parts[1], set()))
            body, trimmed = json.dumps(data, separators=(",", ":")).encode(), True
        elif url.endswith(".whl") and len(body) > SPARSE_OVER:
            body, trimmed = sparse_wheel(body), True
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        sources[str(target.relative_to(OUT))] = {
            "url": url,
            "sparse": url.endswith(".whl") and trimmed,
            "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "sha256_as_served": hashlib.sha256(response.content).hexdigest(),
            "trimmed": trimmed,
        }
        print(f"recorded {url}", file=sys.stderr)
    (OUT / "SOURCES.json").write_text(json.dumps(sources, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
