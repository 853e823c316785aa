"""The gate end to end: policy files, CLI overrides, waivers, baseline, fail-closed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from scanner.errors import InputError
from scanner.policy import load_policy
from scanner.signals import CATALOG
from tests.conftest import DATA, LOCKS, scan_json

KNOWN = {s.id: s.thresholds for s in CATALOG}
DB = str(DATA / "advisories" / "pypa-subset.zip")


def scan(capsys, lock: Path, index, *extra):
    return scan_json(capsys, lock, "--index-url", index.url, "--advisory-db", DB, *extra)


@pytest.fixture
def project(tmp_path):
    """A project folder with the warehouse deploy lock (clean but for hygiene)."""
    shutil.copy(LOCKS / "warehouse-deploy.txt", tmp_path / "requirements.txt")
    return tmp_path


def test_pass(capsys, index, project):
    code, report, _ = scan(capsys, project / "requirements.txt", index)
    assert code == 0 and report["verdict"]["label"] == "pass"


def test_fail_under(capsys, index, project):
    code, report, _ = scan(capsys, project / "requirements.txt", index, "--fail-under", "9.8")
    assert code == 1
    below = [p for p in report["packages"] if p["score"] is not None and p["score"] < 9.8]
    assert below
    for package in below:
        label = f"{package['name']} {package['version']}: score {package['score']:.1f} < 9.8"
        assert label in report["verdict"]["reasons"]


def test_fail_on_from_policy_file(capsys, index, project):
    (project / "trustscan.toml").write_text('fail-on = ["low"]\n')
    code, report, _ = scan(capsys, project / "requirements.txt", index)
    assert code == 1 and report["policy"].endswith("trustscan.toml")
    assert any("sole-owner" in r for r in report["verdict"]["reasons"])


def test_waiver_applied(capsys, index, project):
    (project / "pyproject.toml").write_text(
        '[tool.trustscan]\nfail-on = ["low"]\n'
        "[[tool.trustscan.ignore]]\n"
        'package = "gunicorn"\nsignal = "sole-owner"\nreason = "benoitc is the author"\n'
        "expires = 2099-01-01\n"
        "[[tool.trustscan.ignore]]\n"
        'package = "envier"\nsignal = "sole-owner"\nreason = "vendor library"\n'
        "[[tool.trustscan.ignore]]\n"
        'package = "wrapt"\nsignal = "sole-owner"\nversion = "2.2.2"\nreason = "well known"\n'
    )
    code, report, _ = scan(capsys, project / "requirements.txt", index)
    assert code == 0
    gunicorn = next(p for p in report["packages"] if p["name"] == "gunicorn")
    assert gunicorn["findings"] == [] and gunicorn["score"] == gunicorn["standing"]  # none off
    assert gunicorn["waived"][0]["reason"] == "benoitc is the author"


def test_waiver_expired(capsys, index, project):
    (project / "trustscan.toml").write_text(
        'fail-on = ["low"]\n[[ignore]]\npackage = "gunicorn"\nsignal = "sole-owner"\n'
        'reason = "temporary"\nexpires = 2020-01-01\n'
    )
    code, report, _ = scan(capsys, project / "requirements.txt", index)
    assert code == 1
    assert any("expired on 2020-01-01" in n for n in report["notes"])
    gunicorn = next(p for p in report["packages"] if p["name"] == "gunicorn")
    assert gunicorn["waived"] == [] and gunicorn["findings"]


def test_severity_override_and_threshold(capsys, index, project):
    (project / "trustscan.toml").write_text(
        '[severity]\nsole-owner = "high"\n[thresholds]\n"stale.years" = 1\n'
    )
    code, report, _ = scan(capsys, project / "requirements.txt", index)
    assert code == 1
    findings = [f for p in report["packages"] for f in p["findings"]]
    assert {f["severity"] for f in findings if f["signal"] == "sole-owner"} == {"high"}


def test_unevaluated_package_exits_3(capsys, index, project):
    from tests.indexserver import Fault

    index.faults["/simple/wrapt/"] = Fault(status=500)
    code, report, _ = scan(capsys, project / "requirements.txt", index, "--retries", "1")
    assert code == 3
    assert any(r.startswith("wrapt 2.2.2: not evaluated") for r in report["verdict"]["reasons"])
    code, _, _ = scan(
        capsys, project / "requirements.txt", index, "--allow-unevaluated", "--retries", "0"
    )
    assert code == 0


def test_baseline_gates_only_new_packages(capsys, index, tmp_path):
    # Old lock: the signals lock without six; new lock adds six (hash mismatch, critical).
    new = (LOCKS / "signals.txt").read_text()
    old = new.replace("six==1.16.0 \\\n", "").replace(
        "    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000\n", ""
    )
    (tmp_path / "old.txt").write_text(old)
    (tmp_path / "new.txt").write_text(new)
    code, report, _ = scan(
        capsys, tmp_path / "new.txt", index, "--baseline", str(tmp_path / "old.txt")
    )
    assert report["baseline"]["added"] == ["six"]
    assert code == 1
    assert all(r.startswith("six ") for r in report["verdict"]["reasons"])
    # Without six, what the baseline already had (yanked requests, ...) does not fail the gate.
    (tmp_path / "same.txt").write_text(new)
    code, report, _ = scan(
        capsys, tmp_path / "new.txt", index, "--baseline", str(tmp_path / "same.txt")
    )
    assert report["baseline"] == {
        "file": str(tmp_path / "same.txt"),
        "added": [],
        "removed": [],
        "changed": [],
        "indexes_added": [],
    }
    assert code == 0


def test_baseline_ref_reads_the_lock_from_git(capsys, index, tmp_path):
    lock = tmp_path / "requirements.txt"
    lock.write_text((LOCKS / "flask-tests.txt").read_text())
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    lock.write_text(lock.read_text().replace("pluggy==1.5.0", "pluggy==1.6.0"))
    _, report, _ = scan(capsys, lock, index, "--baseline-ref", "HEAD")
    assert report["baseline"]["changed"] == [{"name": "pluggy", "from": "1.5.0", "to": "1.6.0"}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fial-under = 3\n", "fial-under: unknown key"),
        ('[[ignore]]\npackage = "x"\nsignal = "yanked"\n', "ignore[0].reason: required: say why"),
        ('[severity]\nnope = "high"\n', "severity.nope: unknown signal"),
        ('[thresholds]\n"stale.months" = 3\n', "thresholds.stale.months: unknown threshold"),
        ('fail-on = ["severe"]\n', "fail-on: unknown severity 'severe'"),
    ],
)
def test_policy_errors_name_the_key_and_file(tmp_path, text, message):
    path = tmp_path / "trustscan.toml"
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        load_policy(path, KNOWN)
    assert raised.value.diagnostics() == [f"{path}: {message}"] or message in str(raised.value)
    assert str(path) in raised.value.diagnostics()[0]


def test_policy_error_exits_2(capsys, index, project):
    (project / "trustscan.toml").write_text("bogus = 1\n")
    code, report, err = scan(capsys, project / "requirements.txt", index)
    assert code == 2 and report is None and "bogus: unknown key" in err
