"""The GitHub Action as written: its steps, its pinned install, and its scan step run
here against the local index (the install step needs the package index, so only its
inputs are checked)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import DATA, LOCKS

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


def test_the_action_splices_no_input_into_a_script():
    """Inputs reach the script as environment variables: `${{ inputs.x }}` inside a
    `run:` would let a branch name or a path become shell code."""
    steps = ACTION["runs"]["steps"]
    assert [s.get("run", s.get("uses")) for s in steps][:2] == [
        '"$GITHUB_ACTION_PATH/scripts/action.sh" install',
        '"$GITHUB_ACTION_PATH/scripts/action.sh" scan',
    ]
    assert not any("${{" in s.get("run", "") for s in steps)


def test_the_action_installs_trustscan_pinned_with_hashes():
    text = (ROOT / "action-requirements.lock").read_text()
    pinned = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        if block.startswith("#") or not block.strip():
            continue
        requirement = Requirement(block.split("\\")[0].split(";")[0].strip())
        assert "--hash=sha256:" in block, requirement.name
        pinned[canonicalize_name(requirement.name)] = requirement
    assert all(str(r.specifier).startswith("==") for r in pinned.values())
    project = (ROOT / "pyproject.toml").read_text()
    needed = re.search(r"dependencies = \[(.*?)\]", project, re.S).group(1)  # type: ignore[union-attr]
    for line in re.findall(r'"([^"]+)"', needed):
        assert canonicalize_name(Requirement(line).name) in pinned, line
    assert "hatchling" in pinned  # built from the Action's own ref, with no unpinned fetch


def test_the_scan_step_runs_as_written(index, tmp_path):
    (tmp_path / "requirements.txt").write_text((LOCKS / "warehouse-deploy.txt").read_text())
    summary = tmp_path / "summary.md"
    summary.write_text("")
    advisories = DATA / "advisories" / "pypa-subset.zip"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_STEP_SUMMARY": str(summary),
        "TRUSTSCAN_DB": str(tmp_path / "store.db"),
        "INPUT_PATH": "requirements.txt",
        "INPUT_BASELINE_REF": "",
        "INPUT_ARGS": f"--index-url {index.url} --no-live-advisories --advisory-db {advisories} "
        "--python-version 3.11 --platform linux",
        "INPUT_SARIF": "trustscan.sarif",
    }
    done = subprocess.run(
        [str(ROOT / "scripts" / "action.sh"), "scan"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    assert json.loads((tmp_path / "trustscan.sarif").read_text())["version"] == "2.1.0"
    assert summary.read_text().startswith("## trustscan: ")
