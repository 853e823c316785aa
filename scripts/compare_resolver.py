"""Compare trustscan's resolution with `uv pip compile` (`make compare-resolver`; online).

For each pyproject.toml in ../shared/corpus/pyproject/, both resolve the
project's dependencies for the same Python, platform and upload cutoff; the
script prints the share of identical (name, version) pairs and every difference.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "pyproject"
BIN = Path(sys.executable).parent
CUTOFF = "2026-11-01T00:00:00Z"
PYTHON = "3.12.7"


def uv_pins(pyproject: Path) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "pyproject.toml"
        shutil.copy(pyproject, target)
        out = subprocess.run(
            [
                str(BIN / "uv"),
                "pip",
                "compile",
                str(target),
                "--exclude-newer",
                CUTOFF,
                "--python-version",
                PYTHON[:4],
                "--python-platform",
                "linux",
                "--no-header",
                "--no-annotate",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            cwd=folder,
            check=False,
        )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr else "uv failed")
    pins = {}
    for line in out.stdout.splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.split(";")[0].strip().partition("==")
            pins[name.strip().lower().replace("_", "-").replace(".", "-")] = version.strip()
    return pins


def trustscan_pins(pyproject: Path) -> tuple[dict[str, str], list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run(
            [
                str(BIN / "trustscan"),
                "scan",
                str(pyproject),
                "--exclude-newer",
                CUTOFF,
                "--python-version",
                PYTHON,
                "--platform",
                "linux",
                "--format",
                "json",
                "--no-progress",
                "--no-live-advisories",
                "--db",
                f"{folder}/db.sqlite",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    report = json.loads(out.stdout)
    pins = {p["name"]: p["version"] for p in report["packages"] if p["source"]["kind"] == "index"}
    return pins, report["notes"]


def main() -> int:
    total_same = total = 0
    for pyproject in sorted(CORPUS.glob("*.toml")):
        try:
            ours, notes = trustscan_pins(pyproject)
            theirs = uv_pins(pyproject)
        except (RuntimeError, ValueError) as e:
            print(f"{pyproject.name}: could not compare: {e}")
            continue
        names = set(ours) | set(theirs)
        same = {n for n in names if ours.get(n) == theirs.get(n)}
        total_same += len(same)
        total += len(names)
        print(
            f"{pyproject.name}: {len(same)}/{len(names)} identical (trustscan {len(ours)}, uv {len(theirs)})"
        )
        for name in sorted(names - same):
            print(f"    {name}: trustscan {ours.get(name, '-')}, uv {theirs.get(name, '-')}")
        for note in notes:
            if "metadata unavailable" in note:
                print(f"    note: {note}")
    if total:
        print(f"overall: {total_same}/{total} identical ({100 * total_same / total:.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
