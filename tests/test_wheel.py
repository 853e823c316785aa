"""The wheel is the product: build it, install it into a fresh venv outside the
source tree, and run what a user runs (scan, signals, explain, the TUI).

The fresh venv gets the built wheel and nothing of this checkout. Its
dependencies come from the project's own venv through a path line in a `.pth`
file (a path, not a site dir: the editable install's own `.pth` hook there is not
run), because tests never reach the network to download them again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.conftest import DATA, LOCKS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding only the built wheel; its bin/ folder."""
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(dist)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("trustscan-*.whl")
    target = work / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "trustscan-test-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return target / "bin"


def run(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(cwd),
        "TRUSTSCAN_DB": str(cwd / "store.db"),
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [str(bin_dir / "trustscan"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_installed_wheel_runs_from_its_own_files(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [str(installed / "python"), "-c", "import scanner, tui; print(scanner.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(installed.parent)), where  # not this checkout
    assert str(ROOT) not in where


def test_the_installed_wheel_scans_explains_and_documents(
    installed: Path, tmp_path: Path, index: object
) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_bytes((LOCKS / "warehouse-deploy.txt").read_bytes())
    scan = run(
        installed,
        tmp_path,
        "scan",
        "requirements.txt",
        "--index-url",
        index.url,  # type: ignore[attr-defined]
        "--format",
        "json",
        "--no-live-advisories",
        "--advisory-db",
        str(DATA / "advisories" / "pypa-subset.zip"),
        "--python-version",
        "3.11.7",
        "--platform",
        "linux",
    )
    assert "Traceback" not in scan.stderr
    assert scan.stdout, scan.stderr
    report = json.loads(scan.stdout)
    assert scan.returncode in (0, 1), scan.stderr
    assert report["summary"]["packages"] == report["summary"]["evaluated"] == 8

    explain = run(installed, tmp_path, "explain", "gunicorn")
    assert explain.returncode == 0, explain.stderr
    assert explain.stdout.startswith("gunicorn ")

    signals = run(installed, tmp_path, "signals")
    assert signals.returncode == 0 and "typosquat" in signals.stdout
    doc = run(installed, tmp_path, "signals", "typosquat")
    assert doc.returncode == 0 and "Fires when" in doc.stdout


def test_the_installed_wheel_opens_the_tui(installed: Path, tmp_path: Path) -> None:
    helped = run(installed, tmp_path, "tui", "--help")
    assert helped.returncode == 0 and "usage: trustscan tui" in helped.stdout
    script = (
        "import asyncio, json, sys\n"
        "from tui.app import TrustscanApp\n"
        "report = json.loads(open(sys.argv[1]).read())\n"
        "async def main():\n"
        "    async with TrustscanApp(report=report).run_test(size=(100, 30)) as pilot:\n"
        "        await pilot.pause()\n"
        "        print(type(pilot.app.screen).__name__)\n"
        "asyncio.run(main())\n"
    )
    opened = subprocess.run(
        [str(installed / "python"), "-c", script, str(DATA / "tui" / "report.json")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert opened.returncode == 0, opened.stderr
    assert "Screen" in opened.stdout
