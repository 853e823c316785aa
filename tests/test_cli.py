"""`trustscan scan` end to end: the real client against the local recorded index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import DATA, LOCKS
from tests.indexserver import Fault


def run(capsys, *args):
    code = main(["scan", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def scan_json(capsys, index, lock, *extra):
    target = ["--python-version", "3.11.7", "--platform", "linux"]
    options = ["--index-url", index.url, "--format", "json", *target, *extra]
    code, out, err = run(capsys, str(LOCKS / lock), *options)
    return code, json.loads(out), err


def test_clean_lock_is_fully_evaluated_but_fails_closed_on_unknown_vulnerabilities(capsys, index):
    code, report, err = scan_json(capsys, index, "warehouse-deploy.txt")
    assert report["schema_version"] == "1.0"
    assert report["summary"]["packages"] == 8
    assert report["summary"]["evaluated"] == 8
    severities = {f["severity"] for p in report["packages"] for f in p["findings"]}
    assert severities <= {"low"}  # hygiene only (sole-owner): real, and never failing
    assert code == 3 and report["verdict"]["label"] == "not evaluated"
    assert "vulnerabilities unknown" in report["verdict"]["reasons"][0]
    assert "8 packages, 8 evaluated" in err and "exit 3" in err
    # never "0 not evaluated ... verdict: not evaluated" with no word of why
    assert "could not evaluate: vulnerabilities unknown for 8" in err
    assert "give one with --advisory-db PATH" in err


def test_allow_unevaluated_passes(capsys, index):
    code, report, _ = scan_json(capsys, index, "warehouse-deploy.txt", "--allow-unevaluated")
    assert code == 0 and report["verdict"]["label"] == "pass"


def test_graph_roots_and_edges_from_real_metadata(capsys, index):
    _, report, _ = scan_json(capsys, index, "warehouse-deploy.txt", "--allow-unevaluated")
    packages = {p["name"]: p for p in report["packages"]}
    assert report["roots"] == ["ddtrace", "gunicorn"]
    assert "packaging" in packages["gunicorn"]["dependencies"]
    assert set(packages["typing-extensions"]["dependents"]) >= {"opentelemetry-api"}
    assert packages["packaging"]["blast_radius"] >= 1


def test_provenance_is_unknown_with_the_reason_on_an_api_1_1_index(capsys, index):
    _, report, _ = scan_json(capsys, index, "warehouse-deploy.txt")
    for package in report["packages"]:
        provenance = package["families"]["provenance"]
        assert provenance["state"] == "unknown"
        assert "does not expose provenance" in provenance["reason"]
        assert set(package["provenance"]) == {"unknown"}
    assert report["summary"]["files_provenance_none"] == 0


def test_signals_fire_with_evidence(capsys, index):
    code, report, _ = scan_json(capsys, index, "signals.txt")
    assert code == 1
    found = {(f["signal"], p["name"]): f for p in report["packages"] for f in p["findings"]}
    yanked = found["yanked", "requests"]
    assert yanked["severity"] == "high"
    assert "CVE-2024-35195" in yanked["evidence"]["reasons"][0]
    mismatch = found["hash-mismatch", "six"]
    assert mismatch["evidence"]["unmatched"] == ["0" * 64]
    assert "six-1.16.0-py2.py3-none-any.whl" in mismatch["evidence"]["served"]
    assert found["not-on-index", "jeilyfish"]["evidence"]["url"].endswith("/simple/jeilyfish/")
    assert found["sdist-only", "docopt"]["evidence"]["files"] == ["docopt-0.6.2.tar.gz"]
    assert found["not-from-index", "click"]["evidence"]["source"] == "vcs"
    assert found["not-from-index", "local-helper"]["evidence"]["source"] == "path"
    packages = {p["name"]: p for p in report["packages"]}
    assert packages["requests"]["score"] < packages["docopt"]["score"] < 10
    assert packages["docopt"]["families"]["dependencies"]["state"] == "unknown"
    assert any("requires" in n and "not in the lock" in n for n in report["notes"])


def test_unreachable_package_is_not_evaluated_and_fails_closed(capsys, index):
    index.faults["/pypi/gunicorn/json"] = Fault(status=503)
    code, report, err = scan_json(
        capsys, index, "warehouse-deploy.txt", "--jobs", "2", "--retries", "1"
    )
    gunicorn = next(p for p in report["packages"] if p["name"] == "gunicorn")
    assert gunicorn["evaluated"] is False and gunicorn["score"] is None
    assert "HTTP 503" in gunicorn["not_evaluated_reason"]
    assert code == 3 and "1 not evaluated" in err


def test_pylock_hashes_that_match_nothing(capsys, index):
    code, report, _ = scan_json(capsys, index, "pylock.toml", "--production")
    assert {p["name"] for p in report["packages"]} == {"requests", "urllib3", "certifi"}
    assert code == 1  # the example's hashes match no real file
    assert any("production only" in n for n in report["notes"])


def test_a_scan_covers_every_group_and_extra_of_the_lock_by_default(capsys, index):
    # pylock's `'dev' in dependency_groups` and `'crypto' in extras` entries are pinned
    # too: a dev dependency runs on laptops and in CI, where the secrets are
    code, report, _ = scan_json(capsys, index, "pylock.toml")
    names = {p["name"] for p in report["packages"]}
    assert names == {"requests", "urllib3", "certifi", "pytest", "cryptography"}
    covered = "covered: every group and extra; Python 3.11.7 on linux"
    assert any(covered in n for n in report["notes"])
    assert code != 0
    _, dev, _ = scan_json(capsys, index, "pylock.toml", "--groups", "dev")
    assert {p["name"] for p in dev["packages"]} == {"requests", "urllib3", "certifi", "pytest"}
    assert any("production and dev" in n for n in dev["notes"])


def test_offline_rescan_matches_online(capsys, index):
    _, online, _ = scan_json(capsys, index, "warehouse-deploy.txt")
    _, offline, _ = scan_json(capsys, index, "warehouse-deploy.txt", "--offline")
    for report in (online, offline):
        report.pop("started_at"), report.pop("seconds")
    assert offline == online


def test_text_output_is_one_row_per_package(capsys, index):
    code, out, _ = run(capsys, str(LOCKS / "warehouse-deploy.txt"), "--index-url", index.url)
    assert code == 3
    table, _, why = out.partition("\n\n")
    rows = table.splitlines()
    assert rows[0].split()[:3] == ["package", "version", "score"]
    assert len(rows) == 1 + 8
    assert why.startswith("verdict: not evaluated (exit 3)\nbecause:\n")
    assert "policy: the defaults (no policy file found)" in why


def test_output_file_is_written_only_when_complete(capsys, index, tmp_path):
    target = tmp_path / "report.json"
    run(
        capsys,
        str(LOCKS / "flask-tests.txt"),
        "--index-url",
        index.url,
        "--format",
        "json",
        "-o",
        str(target),
    )
    assert json.loads(target.read_text())["summary"]["packages"] == 6
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


def test_malformed_requirements_exit_2_with_every_line(capsys, tmp_path):
    bad = tmp_path / "requirements.txt"
    bad.write_text("ok==1.0\nnot a requirement!\n--bogus\nx==1 --hash=md5\n")
    code, out, err = run(capsys, str(bad))
    assert code == 2 and out == ""
    assert [line.split(":")[2] for line in err.strip().splitlines()] == ["2", "3", "4"]
    assert all(line.startswith(f"trustscan: {bad}:") for line in err.strip().splitlines())


def test_missing_file_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, str(tmp_path / "nope.txt"))
    assert code == 2 and "No such file" in err


def test_finds_the_lockfile_in_the_current_directory(capsys, index, tmp_path, monkeypatch):
    (tmp_path / "requirements.txt").write_text((LOCKS / "flask-tests.txt").read_text())
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "--index-url", index.url, "--allow-unevaluated")
    assert "scanning" in err and "requirements.txt" in err
    assert code == 0


def test_nothing_applies_to_the_target_is_never_a_pass(capsys, tmp_path):
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.16.0 ; python_version == '2.7'\n")
    code, _, err = run(capsys, str(lock), "--allow-unevaluated", "--python-version", "3.11")
    assert code == 2  # an input error that says what to pass, not "not evaluated"
    assert "none of its 1 entries applies to Python 3.11.0 on any platform" in err


@pytest.mark.parametrize("argv", [["python", "-m", "scanner", "--version"]])
def test_python_dash_m_works(argv):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("trustscan ")


def test_hashes_of_another_index_are_not_compared(capsys, index, tmp_path):
    lock = tmp_path / "requirements.txt"
    lock.write_text(
        "--index-url https://mirror.example/simple\nsix==1.16.0 --hash=sha256:" + "0" * 64 + "\n"
    )
    _, out, _ = run(capsys, str(lock), "--index-url", index.url, "--format", "json")
    (six,) = json.loads(out)["packages"]
    signals = {f["signal"]: f for f in six["findings"]}
    assert "hash-mismatch" not in signals
    assert signals["not-from-index"]["severity"] == "low"


def test_the_command_exits_fast_with_everything_written(index, tmp_path):
    """`python -m scanner` (and `trustscan`) end with os._exit: the report on stdout, the
    one written with -o, the stored scan and the exit code must all be complete."""
    import subprocess
    import sys

    from scanner.store import Store

    db, report = tmp_path / "store.db", tmp_path / "report.json"
    argv = [sys.executable, "-m", "scanner", "scan", str(LOCKS / "warehouse-deploy.txt")]
    argv += ["--index-url", index.url, "--db", str(db), "--no-live-advisories"]
    shown = subprocess.run([*argv, "--format", "json"], capture_output=True, text=True)
    assert shown.returncode == 3, shown.stderr  # vulnerabilities unknown: fails closed
    assert json.loads(shown.stdout)["verdict"]["exit_code"] == 3
    written = subprocess.run([*argv, "--format", "sarif", "-o", str(report)], check=False)
    assert written.returncode == 3 and json.loads(report.read_text())["version"] == "2.1.0"
    store = Store(db)
    assert (
        len(store.scans()) == 2
        and store.lookup(f"application/json {index.url}pypi/packaging/json") is not None
    )


def test_several_reports_from_one_scan(capsys, index, tmp_path):
    sarif, markdown, report = tmp_path / "a.sarif", tmp_path / "b.md", tmp_path / "c.json"
    code, out, _ = run(
        capsys,
        str(LOCKS / "warehouse-deploy.txt"),
        "--index-url",
        index.url,
        "--format",
        "text",
        "--sarif",
        str(sarif),
        "--markdown",
        str(markdown),
        "--json",
        str(report),
    )
    assert code == 3
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
    assert markdown.read_text().startswith("## trustscan: not evaluated (exit 3)")
    assert json.loads(report.read_text())["summary"]["packages"] == 8
    assert out.startswith("package  ")  # stdout holds the one report, from its first byte


def test_quiet_is_quiet_and_version_has_a_short_flag(capsys, index):
    code, _, err = run(capsys, str(LOCKS / "warehouse-deploy.txt"), "--index-url", index.url, "-q")
    assert code == 3 and err == ""
    with pytest.raises(SystemExit):
        main(["-V"])
    assert capsys.readouterr().out.startswith("trustscan ")


@pytest.mark.parametrize(("choice", "escapes"), [("never", False), ("always", True)])
def test_color_is_asked_for_not_assumed(capsys, index, tmp_path, choice, escapes):
    target = tmp_path / "table.txt"
    args = ["--index-url", index.url, "--format", "table", "-o", str(target), "--color", choice]
    run(capsys, str(LOCKS / "warehouse-deploy.txt"), *args)
    assert ("\x1b[" in target.read_text()) is escapes


def test_no_color_is_honoured(capsys, index, monkeypatch):
    from scanner.cli import _color

    monkeypatch.setenv("NO_COLOR", "1")
    assert _color("auto", to_terminal=True) is False
    assert _color("always", to_terminal=False) is True


def test_an_input_whose_format_cannot_be_told_is_refused(capsys, tmp_path):
    hostname = tmp_path / "hostname"
    hostname.write_text("vm\n")
    assert main(["scan", str(hostname), "--offline"]) == 2
    assert "--input-format" in capsys.readouterr().err
    code = main(["scan", str(hostname), "--offline", "--input-format", "requirements", "-q"])
    assert code in (2, 3)  # read as requirements now: `vm` is unpinned, not a format error


def test_tui_on_a_missing_file_fails_before_going_full_screen(capsys, tmp_path):
    from tui.cli import main as tui_main

    assert tui_main(["tui", str(tmp_path / "missing.txt")]) == 2
    assert "No such file" in capsys.readouterr().err


def test_explain_reads_the_last_scan_of_the_lockfile_here(capsys, index, tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    (here / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "other.txt").write_text("gunicorn==26.0.0\n")
    for lock in (here / "requirements.txt", tmp_path / "other.txt"):
        run(capsys, str(lock), "--index-url", index.url, "--no-live-advisories", "-q")
    monkeypatch.chdir(here)
    assert main(["explain", "six"]) == 0  # the last scan is other.txt's: the one here is used
    assert capsys.readouterr().out.startswith("six 1.16.0")
    monkeypatch.chdir(tmp_path)
    assert main(["explain", "six"]) == 0  # no lockfile here: the last scan that has six
    assert "requirements.txt" in capsys.readouterr().out.splitlines()[0]


def test_ctrl_c_stops_within_a_second(index, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.indexserver import Fault

    for name in ("six", "gunicorn"):  # the index keeps every fetch waiting
        index.faults[f"/simple/{name}/"] = Fault(action=lambda handler: time.sleep(20))
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.16.0\ngunicorn==26.0.0\n")
    env = {**os.environ, "TRUSTSCAN_DB": str(tmp_path / "db")}
    argv = [sys.executable, "-m", "scanner", "scan", str(lock), "--index-url", index.url]
    process = subprocess.Popen(
        [*argv, "--no-live-advisories"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    time.sleep(1.5)
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=10)
    assert time.monotonic() - sent < 1.5
    assert process.returncode == 130 and b"interrupted" in err and b"Traceback" not in err


def test_a_scan_in_which_nothing_applies_is_an_input_error(capsys, tmp_path):
    lock = tmp_path / "requirements.txt"
    lock.write_text('tomli==2.0.1 ; python_version >= "3.12"\n')
    assert main(["scan", str(lock), "--offline", "--python-version", "3.11"]) == 2
    assert "Drop --production/--groups/--extras/--python-version" in capsys.readouterr().err


def test_several_lockfiles_in_one_run(capsys, index, tmp_path):
    for name, text in (("a", "six==1.16.0\n"), ("b", "gunicorn==26.0.0\nsix==1.16.0\n")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "requirements.txt").write_text(text)
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "requirements.txt").write_text("never-scanned==1.0\n")
    code, out, err = run(
        capsys,
        str(tmp_path),
        "--recursive",
        "--index-url",
        index.url,
        "--format",
        "json",
        "--no-live-advisories",
        "--advisory-db",
        str(DATA / "advisories" / "pypa-subset.zip"),
        "--python-version",
        "3.11",
    )
    report = json.loads(out)
    inputs = [Path(d["input"]).parent.name for d in report["lockfiles"]]
    assert inputs == ["a", "b"]
    assert report["overall_exit_code"] == code == 0
    assert "2 lockfiles; overall verdict: exit 0" in err
    six = [p for p in index.paths() if p == "/simple/six/"]
    assert len(six) == 1  # six's evidence was fetched once for both lockfiles


def test_the_summary_names_why_packages_were_not_evaluated():
    from scanner.cli import unevaluated_summary

    other = "https://packages.example.com/simple/"
    reasons = [
        f"p{i} 1.0: not evaluated (locked from another index ({other}); "
        f"could not fetch {other}p{i}/: host name not resolved)"
        for i in range(3)
    ] + ["q 2.0: not evaluated (core metadata could not be read (https://x/q.metadata): HTTP 503)"]
    line = unevaluated_summary(reasons)
    assert "4 packages not evaluated (3 locked from another index (packages.example.com), " in line
    assert "1 core metadata could not be read (x))" in line
    assert "--ignore-lock-index" in line


def test_a_name_pinned_at_two_versions_is_two_packages(capsys, index, tmp_path):
    lock = tmp_path / "requirements.txt"
    lock.write_text(
        'packaging==24.1 ; python_version < "3.11"\n'
        'packaging==26.2 ; python_version >= "3.11"\n'
        "six==1.16.0\n"
    )
    _, out, _ = run(capsys, str(lock), "--index-url", index.url, "--format", "json")
    report = json.loads(out)
    ids = sorted(p["id"] for p in report["packages"])
    assert ids == ["packaging@24.1", "packaging@26.2", "six"]
    lines = {p["id"]: p["location"]["line"] for p in report["packages"]}
    assert lines == {"packaging@24.1": 1, "packaging@26.2": 2, "six": 3}
    assert all(p["evaluated"] for p in report["packages"])
    assert any("each version is scanned as a package of its own" in n for n in report["notes"])
    assert main(["explain", "packaging", "--input", str(lock)]) == 0
    both = capsys.readouterr().out
    assert "packaging 24.1" in both and "packaging 26.2" in both
    assert main(["explain", "packaging@26.2", "--input", str(lock)]) == 0
    one = capsys.readouterr().out
    assert one.startswith("packaging 26.2") and one.count("(scan of") == 1
    assert both.count("(scan of") == 2
    # narrowed to one Python, one of them is left out, and the note says so
    _, out, _ = run(
        capsys, str(lock), "--index-url", index.url, "--format", "json", "--python-version", "3.12"
    )
    narrowed = json.loads(out)
    assert sorted(p["id"] for p in narrowed["packages"]) == ["packaging", "six"]
    assert any("1 of 3 entries do not apply to Python 3.12.0" in n for n in narrowed["notes"])


def test_line_numbers_survive_resolution(capsys, index, tmp_path):
    # one unpinned line used to make every package's line null (and SARIF lose regions)
    lock = tmp_path / "requirements.txt"
    lock.write_text("# pins\nsix==1.16.0\n\ngunicorn\n")
    _, out, _ = run(capsys, str(lock), "--index-url", index.url, "--format", "json")
    lines = {p["name"]: p["location"]["line"] for p in json.loads(out)["packages"]}
    assert lines["six"] == 2 and lines["gunicorn"] == 4
