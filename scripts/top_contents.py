"""What the release-contents signals say of the most downloaded projects ([O]).

Pins the top N projects of data/top-pypi-packages.tsv at their newest release on the
live index (its Simple API, newest non-yanked version with a wheel), scans that lock
with the defaults, and prints every startup-hook, command-shadowing, module-shadowing
and new-binary finding, and which of them would fail the default gate.

    .venv/bin/python scripts/top_contents.py [N]   (default 500; needs the live index)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from packaging.utils import canonicalize_name  # noqa: E402

from scanner.registry import ClientConfig, HttpClient, Index  # noqa: E402

SIGNALS = {"startup-hook", "command-shadowing", "module-shadowing", "new-binary"}


def newest_pins(count: int) -> list[str]:
    names = []
    for line in (ROOT / "data" / "top-pypi-packages.tsv").read_text().splitlines()[1 : count + 1]:
        names.append(canonicalize_name(line.split("\t")[1]))
    index = Index(HttpClient(ClientConfig(jobs=8)))
    pins = []
    for name in names:
        try:
            files = index.files(name)
        except Exception as e:  # a project the mirror will not serve: say so, go on
            print(f"skipped {name}: {e}", file=sys.stderr)
            continue
        releases = getattr(files, "by_version", {})
        wheeled = [v for v, fs in releases.items() if any(f.is_wheel and not f.yanked for f in fs)]
        stable = [v for v in wheeled if not v.is_prerelease]
        if stable:
            pins.append(f"{name}=={max(stable)}")
    return pins


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    pins = newest_pins(count)
    with tempfile.TemporaryDirectory() as work:
        lock = Path(work) / "requirements.txt"
        lock.write_text("\n".join(pins) + "\n")
        options = ["--no-live-advisories", "--allow-unevaluated", "--db", str(Path(work) / "db")]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "scanner",
                "scan",
                str(lock),
                "--format",
                "json",
                "-q",
                *options,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    report = json.loads(done.stdout)
    found = [
        (p["name"], p["version"], f)
        for p in report["packages"]
        for f in p["findings"]
        if f["signal"] in SIGNALS
    ]
    print(f"{len(pins)} projects pinned at their newest release; {len(report['packages'])} scanned")
    print(Counter(f"{f['signal']} {f['severity']}" for _, _, f in found))
    for name, version, f in found:
        gate = "FAILS the default gate" if f["severity"] in ("critical", "high") else "passes"
        print(f"  {name} {version}: {f['severity']} {f['signal']} ({gate}): {f['message'][:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
