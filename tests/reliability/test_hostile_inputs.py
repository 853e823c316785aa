"""The lockfile, its includes and the output path come from a pull request's author.

Each trick ends in exit 2 within seconds, with no traceback and no byte of the
environment on stdout or stderr; nothing outside the lockfile's tree is read, and
no output path that is not a regular file is replaced. The scans run in a
subprocess: `/proc/self/environ` is the environment the process started with.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scanner.cli import EXIT_INTERNAL, main

SECRET = "TRUSTSCAN_TEST_SECRET=ghp_0123456789abcdefSECRET"
ROOT = Path(__file__).resolve().parents[2]


def trustscan(cwd: Path, *args: str) -> tuple[int, str, str, float]:
    env = {**os.environ, "TRUSTSCAN_TEST_SECRET": SECRET.split("=", 1)[1]}
    env["TRUSTSCAN_DB"] = str(cwd / "store.db")
    env["PYTHONPATH"] = str(ROOT)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "scanner", "scan", *args, "--offline", "--no-progress"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def assert_refused(cwd: Path, *args: str) -> str:
    code, out, err, seconds = trustscan(cwd, *args)
    assert code == 2, (code, err)
    assert seconds < 5
    assert "Traceback" not in err
    for stream in (out, err):
        assert "ghp_0123456789" not in stream
        assert "TRUSTSCAN_TEST_SECRET" not in stream
        assert "\x1b" not in stream and "\x07" not in stream
    return err


def test_an_include_of_proc_self_environ_is_refused_unread(tmp_path):
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n-r /proc/self/environ\n")
    err = assert_refused(tmp_path, "requirements.txt")
    assert "requirements.txt:2: cannot read '/proc/self/environ'" in err
    assert "outside the lockfile's directory tree" in err


def test_a_relative_include_that_climbs_out_is_refused(tmp_path):
    inner = tmp_path / "repo"
    inner.mkdir()
    (tmp_path / "outside.txt").write_text("six==1.16.0\n")
    (inner / "requirements.txt").write_text("-r ../outside.txt\n")
    assert "outside the lockfile's directory tree" in assert_refused(inner, "requirements.txt")


def test_a_lockfile_symlinked_to_proc_self_environ_is_refused(tmp_path):
    (tmp_path / "requirements.txt").symlink_to("/proc/self/environ")
    assert "outside the lockfile's directory tree" in assert_refused(tmp_path, "requirements.txt")


def test_an_include_symlinked_out_of_the_tree_is_refused(tmp_path):
    (tmp_path / "base.txt").symlink_to("/proc/self/environ")
    (tmp_path / "requirements.txt").write_text("-r base.txt\n")
    assert "outside the lockfile's directory tree" in assert_refused(tmp_path, "requirements.txt")


def test_a_fifo_is_refused_at_once(tmp_path):
    os.mkfifo(tmp_path / "requirements.txt")
    assert "not a regular file (a FIFO)" in assert_refused(tmp_path, "requirements.txt")


def test_dev_zero_is_refused_at_once(tmp_path):
    (tmp_path / "requirements.txt").symlink_to("/dev/zero")
    assert_refused(tmp_path, "requirements.txt")
    assert "character device" in assert_refused(tmp_path, "/dev/zero", "--include-root", "/dev")


def test_a_deeply_nested_toml_is_an_input_error(tmp_path):
    (tmp_path / "pylock.toml").write_text("x = " + "[" * 2000 + "]" * 2000 + "\n")
    assert "nested too deeply" in assert_refused(tmp_path, "pylock.toml")


def test_a_deeply_nested_json_is_an_input_error(tmp_path):
    (tmp_path / "Pipfile.lock").write_text("[" * 100_000 + "]" * 100_000)
    assert_refused(tmp_path, "Pipfile.lock")


def test_escape_sequences_in_an_include_path_stay_off_the_terminal(tmp_path):
    osc52 = "\x1b]52;c;cm0gLXJmIH4=\x07"
    (tmp_path / "requirements.txt").write_text(f"-r {osc52}.txt\n-r missing-too.txt\n")
    err = assert_refused(tmp_path, "requirements.txt")
    assert "requirements.txt:1: cannot read" in err  # every missing include, each at its line
    assert "requirements.txt:2: cannot read 'missing-too.txt'" in err


def test_a_bad_line_is_echoed_only_as_a_short_excerpt(tmp_path):
    (tmp_path / "requirements.txt").write_text("not a requirement " + "SECRETPART" * 20 + "\n")
    err = assert_refused(tmp_path, "requirements.txt")
    assert err.count("SECRETPART") <= 3


def test_includes_within_the_tree_still_work(tmp_path):
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "base.txt").write_text("six==1.16.0\n")
    (tmp_path / "requirements.txt").write_text("-r reqs/base.txt\n")
    code, _, err, _ = trustscan(tmp_path, "requirements.txt", "--format", "json")
    assert code == 3 and "Traceback" not in err  # offline, empty store: not evaluated


# --- output paths ------------------------------------------------------------------


def scan_to(capsys, tmp_path, output: Path) -> tuple[int, str]:
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.16.0\n")
    code = main(["scan", str(lock), "--offline", "--no-live-advisories", "-o", str(output)])
    return code, capsys.readouterr().err


def test_output_never_replaces_a_symlink(capsys, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "report.json"
    link.symlink_to(victim)
    code, err = scan_to(capsys, tmp_path, link)
    assert code == 2 and "is a symlink" in err
    assert link.is_symlink() and victim.read_text() == "keep me"


def test_output_never_replaces_a_fifo(capsys, tmp_path):
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    code, err = scan_to(capsys, tmp_path, fifo)
    assert code == 2 and "not a regular file" in err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_output_in_a_missing_directory_fails_before_the_scan(capsys, tmp_path):
    code, err = scan_to(capsys, tmp_path, tmp_path / "nowhere" / "report.json")
    assert code == 2 and "does not exist" in err
    assert not (tmp_path / "trustscan.db").exists()  # nothing was scanned or recorded


def test_output_gets_the_mode_the_umask_gives(capsys, tmp_path):
    previous = os.umask(0o027)
    try:
        scan_to(capsys, tmp_path, tmp_path / "report.txt")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "report.txt").stat().st_mode) == 0o640


def test_a_crash_is_not_a_verdict(capsys, tmp_path, monkeypatch):
    import scanner.cli

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(scanner.cli, "run", broken)
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.16.0\n")
    code = main(["scan", str(lock)])
    err = capsys.readouterr().err
    assert code == EXIT_INTERNAL and code not in (0, 1, 2, 3)
    assert "internal error KeyError" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("bad", ["-1", "11", "nan"])
def test_fail_under_outside_its_range_is_a_usage_error(capsys, tmp_path, bad):
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.16.0\n")
    with pytest.raises(SystemExit) as exited:
        main(["scan", str(lock), "--fail-under", bad])
    assert exited.value.code == 2


# --- git refs and the policy file of a pull request ------------------------------------


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "trustscan.toml").write_text('fail-on = ["critical", "high"]\nfail-under = 5\n')
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    return tmp_path


@pytest.mark.parametrize("ref", ["--output=/tmp/trustscan-pwned", "-h", "HEAD\0x", "nope"])
def test_a_baseline_ref_is_never_an_option_to_git(capsys, repo, ref):
    lock = str(repo / "requirements.txt")
    code = main(["scan", lock, "--offline", "--no-live-advisories", f"--baseline-ref={ref}"])
    err = capsys.readouterr().err
    assert code == 2 and "--baseline-ref" in err
    assert not Path("/tmp/trustscan-pwned").exists()


def test_a_weaker_policy_in_the_change_is_in_the_verdict_reasons(capsys, repo):
    (repo / "trustscan.toml").write_text(
        'fail-on = ["critical"]\nallow-unevaluated = true\n'
        '[[ignore]]\npackage = "six"\nsignal = "yanked"\nreason = "trust me"\n'
    )
    lock = str(repo / "requirements.txt")
    code = main(["scan", lock, "--offline", "--format", "json", "--baseline-ref", "main"])
    report = json.loads(capsys.readouterr().out)
    weaker = [r for r in report["verdict"]["reasons"] if "is weaker than at main" in r]
    assert any("fail-on no longer includes high" in r for r in weaker)
    assert any("fail-under lowered from 5.0 to None" in r for r in weaker)
    assert any("allow-unevaluated turned on" in r for r in weaker)
    assert any("waivers added: six / yanked" in r for r in weaker)
    assert report["policy"].endswith("trustscan.toml")
    assert code == 0  # the change allows what it does; the reviewer sees that it did


# --- the store ----------------------------------------------------------------------


def test_a_damaged_store_is_exit_2_with_what_to_do(capsys, tmp_path, monkeypatch):
    db = tmp_path / "damaged.db"
    db.write_bytes(b"SQLite format 3\0" + b"\xff" * 4096)
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.16.0\n")
    code = main(["scan", str(lock), "--offline", "--no-live-advisories", "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2 and "move the file aside" in err and "Traceback" not in err


def test_a_store_from_a_newer_trustscan_is_refused(capsys, tmp_path):
    import sqlite3

    from scanner.store import Store

    db = tmp_path / "store.db"
    Store(db).close()
    connection = sqlite3.connect(db)
    connection.execute(
        "insert into _sqlite_migrations (migration_set, name, applied_at) "
        "values ('trustscan', 'm999_from_the_future', '2030-01-01')"
    )
    connection.commit()
    connection.close()
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.16.0\n")
    code = main(["scan", str(lock), "--offline", "--no-live-advisories", "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2 and "written by a newer trustscan (schema m999_from_the_future)" in err
