"""The evidence store: schema, migrations, history signals, commands, crash safety."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zlib

import pytest
from sqlite_utils import Database

from scanner.cli import main
from scanner.store import Store
from scanner.store.migrations import MIGRATIONS
from scanner.store.schema import SCHEMA
from tests.conftest import LOCKS, scan_json

EXPECTED = {
    "http_cache": (
        {
            "key",
            "url",
            "status",
            "content_type",
            "etag",
            "last_modified",
            "fetched_at",
            "body",
            "generation",
        },
        ["key"],
    ),
    "scans": (
        {
            "id",
            "started_at",
            "input",
            "input_sha256",
            "format",
            "options",
            "packages",
            "exit_code",
            "report",
        },
        ["id"],
    ),
    "packages": ({"name", "first_scan", "last_scan"}, ["name"]),
    "releases": (
        {
            "id",
            "name",
            "version",
            "first_upload",
            "author_email",
            "maintainer_email",
            "metadata_url",
        },
        ["id"],
    ),
    "files": (
        {
            "sha256",
            "release_id",
            "filename",
            "upload_time",
            "yanked",
            "yanked_reason",
            "provenance_state",
            "publisher",
        },
        ["sha256"],
    ),
    "observations": (
        {"scan_id", "name", "observed_at", "organization", "roles"},
        ["scan_id", "name"],
    ),
    "ownership": (
        {
            "name",
            "user",
            "role",
            "organization",
            "first_scan",
            "last_scan",
            "first_seen",
            "last_seen",
        },
        ["name", "user", "role"],
    ),
    "findings": (
        {"scan_id", "name", "position", "version", "signal", "severity", "message", "evidence"},
        ["scan_id", "name", "position"],
    ),
}


def test_schema_of_a_migrated_empty_database():
    store = Store(":memory:")
    db = store.db
    assert set(EXPECTED) <= set(db.table_names())
    for name, (columns, pk) in EXPECTED.items():
        table = db[name]
        assert set(table.columns_dict) == columns, name
        assert table.pks == pk, name
    fks = {(fk.column, fk.other_table) for fk in db["files"].foreign_keys}
    assert fks == {("release_id", "releases")}
    assert {("scan_id", "scans"), ("name", "packages")} <= {
        (fk.column, fk.other_table) for fk in db["observations"].foreign_keys
    }
    indexes = {tuple(i.columns) for i in db["observations"].indexes}
    assert ("name", "scan_id") in indexes
    assert ("input", "started_at") in {tuple(i.columns) for i in db["scans"].indexes}
    applied = [m.name for m in MIGRATIONS.applied(db)]
    assert applied == ["m001_http_cache_and_scans", "m002_history", "m003_cache_generation"]


def test_cache_entries_of_an_older_schema_get_a_generation(tmp_path):
    """Views name the generation of the page they were built from: an entry cached
    before generations existed must get one, or its views would never be reused."""
    path = tmp_path / "old.db"
    db = Database(path)
    MIGRATIONS.apply(db, stop_before="m003_cache_generation")
    row = {"key": "k", "url": "u", "status": 200, "fetched_at": 1.0, "body": zlib.compress(b"x")}
    db["http_cache"].insert(row)
    db.close()
    store = Store(path)
    entry = store.lookup("k")
    assert entry is not None and entry.body == b"x"
    assert entry.generation and len(entry.generation) == 16
    store.close()


def test_a_database_of_the_first_schema_version_migrates(tmp_path):
    path = tmp_path / "old.db"
    db = Database(path)
    MIGRATIONS.apply(db, stop_before="m002_history")
    db["scans"].insert(
        {
            "started_at": "2026-01-01T00:00:00+00:00",
            "input": "old.txt",
            "format": "requirements",
            "packages": 1,
            "exit_code": 0,
            "report": "{}",
        }
    )
    db.close()
    store = Store(path)
    assert "observations" in store.db.table_names()
    assert store.scans()[0]["input"] == "old.txt"
    store.close()


def test_wal_mode(tmp_path):
    store = Store(tmp_path / "s.db")
    assert store.db.journal_mode == "wal"


def scan(capsys, index, lock, *extra):
    target = ("--python-version", "3.11.7", "--platform", "linux")
    code, report, _ = scan_json(capsys, lock, "--index-url", index.url, *target, *extra)
    return code, report


def test_owner_added_between_two_scans_and_diff_shows_it(capsys, index, tmp_path):
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.16.0\n")
    _, first = scan(capsys, index, lock)
    assert not [f for p in first["packages"] for f in p["findings"] if f["signal"] == "owner-added"]
    project = json.loads((index.root / "pypi" / "six" / "json.json").read_text())
    project["ownership"]["roles"].append({"role": "Maintainer", "user": "mallory"})
    index.overrides["/pypi/six/json"] = json.dumps(project).encode()
    _, second = scan(capsys, index, lock, "--refresh")
    (six,) = second["packages"]
    added = next(f for f in six["findings"] if f["signal"] == "owner-added")
    assert added["evidence"]["user"] == "mallory"
    assert added["evidence"]["previous_observed_at"] == first["started_at"]
    assert added["evidence"]["observed_at"] == second["started_at"]
    assert added["severity"] == "medium"  # six's newest release is years old
    assert main(["diff"]) == 0
    out = capsys.readouterr().out
    assert "owner    six: + mallory (Maintainer)" in out
    assert "new      six: owner-added" in out
    assert main(["history", "six"]) == 0
    history = capsys.readouterr().out
    assert "+ mallory (Maintainer)" in history and "release 1.16.0" in history


def test_owners_replaced(capsys, index, tmp_path):
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.16.0\n")
    scan(capsys, index, lock)
    project = json.loads((index.root / "pypi" / "six" / "json.json").read_text())
    project["ownership"]["roles"] = [{"role": "Owner", "user": "newcomer"}]
    index.overrides["/pypi/six/json"] = json.dumps(project).encode()
    code, report = scan(capsys, index, lock, "--refresh")
    signals = {f["signal"]: f for f in report["packages"][0]["findings"]}
    assert signals["owners-replaced"]["severity"] == "critical"
    assert signals["owners-replaced"]["evidence"]["users"] == ["newcomer"]
    assert code == 1


def test_maintainer_email_changed_on_real_metadata(capsys, index):
    # pluggy 1.7.0 names core@pytest.org; 1.6.0 named holger@merlinux.eu (recorded).
    _, report = scan(capsys, index, LOCKS / "history.txt")
    (pluggy,) = report["packages"]
    changed = next(f for f in pluggy["findings"] if f["signal"] == "maintainer-email-changed")
    assert changed["evidence"]["addresses"] == ["core@pytest.org"]
    assert changed["evidence"]["earlier"]["1.6.0"] == ["holger@merlinux.eu"]
    assert "pluggy-1.7.0-py3-none-any.whl" in changed["evidence"]["sources"][0]
    # 1.6.0 shared no address, so earlier releases were read too (at most five)
    assert 2 <= len(changed["evidence"]["sources"]) <= 6


def test_steady_email_does_not_fire(capsys, index):
    _, report = scan(capsys, index, LOCKS / "flask-tests.txt")
    assert not [
        f
        for p in report["packages"]
        for f in p["findings"]
        if f["signal"] == "maintainer-email-changed"
    ]


def test_scans_command_and_history_export_import(capsys, index, tmp_path):
    scan(capsys, index, LOCKS / "flask-tests.txt")
    assert main(["scans"]) == 0
    assert "flask-tests.txt" in capsys.readouterr().out
    exported = tmp_path / "history.jsonl"
    assert main(["history", "export", str(exported)]) == 0
    lines = exported.read_text().splitlines()
    assert len(lines) == 6 and json.loads(lines[0])["roles"]
    other = tmp_path / "other.db"
    assert main(["history", "import", str(exported), "--db", str(other)]) == 0
    store = Store(other)
    assert len(store.observations("pytest")) == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "x"}\n')
    assert main(["history", "import", str(bad), "--db", str(other)]) == 2


def test_offline_scan_records_no_new_observation(capsys, index, tmp_path):
    scan(capsys, index, LOCKS / "flask-tests.txt")
    scan(capsys, index, LOCKS / "flask-tests.txt", "--offline")
    store = Store(os.environ["TRUSTSCAN_DB"])
    assert len(store.observations("pytest")) == 1
    assert len(store.scans()) == 2


def test_kill_9_during_a_scan_leaves_a_consistent_store(index, tmp_path):
    from tests.indexserver import Fault

    db = tmp_path / "crash.db"
    env = {**os.environ, "TRUSTSCAN_DB": str(db)}
    argv = [
        sys.executable,
        "-m",
        "scanner",
        "scan",
        str(LOCKS / "warehouse-deploy.txt"),
        "--index-url",
        index.url,
        "--no-live-advisories",
        "--format",
        "json",
        "--jobs",
        "2",
    ]
    # a slow answer keeps the scan busy while cached responses are being written
    index.faults["/pypi/wrapt/json"] = Fault(action=lambda handler: time.sleep(5), times=1)
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not db.exists():
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    index.faults.clear()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 3), done.stderr
    assert json.loads(done.stdout)["summary"]["packages"] == 8
    connection = sqlite3.connect(db)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert connection.execute("select count(*) from scans").fetchone()[0] == 1


def test_the_schema_list_names_every_migration():
    """Opening a store skips sqlite-utils when SCHEMA's migrations are all applied."""
    assert [m.name for m in MIGRATIONS._migrations] == list(SCHEMA)


def test_an_imported_old_record_neither_hides_a_change_nor_poses_as_a_scan(capsys, index, tmp_path):
    """An import of a 2019 observation made after a scan used to become the 'previous'
    observation (by import order) and hide owners-replaced; it also showed as a scan."""
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.16.0\n")
    scan(capsys, index, lock)  # observes six's real owner now
    old = tmp_path / "old.jsonl"
    record = {"name": "six", "observed_at": "2019-01-01T00:00:00+00:00", "organization": None}
    old.write_text(json.dumps({**record, "roles": [{"user": "someone-else", "role": "Owner"}]}))
    assert main(["history", "import", str(old)]) == 0
    project = json.loads((index.root / "pypi" / "six" / "json.json").read_text())
    project["ownership"]["roles"] = [{"role": "Owner", "user": "mallory"}]
    index.overrides["/pypi/six/json"] = json.dumps(project).encode()
    _, report = scan(capsys, index, lock, "--refresh")
    signals = {f["signal"] for p in report["packages"] for f in p["findings"]}
    assert "owners-replaced" in signals
    capsys.readouterr()
    assert main(["scans"]) == 0
    assert "import:" not in capsys.readouterr().out
    assert main(["explain", "six"]) == 0 and capsys.readouterr().out.startswith("six 1.16.0")
    assert main(["diff"]) == 0


@pytest.mark.parametrize(
    "line",
    [
        '{"name": "Six", "observed_at": "2019-01-01T00:00:00+00:00", "roles": []}',
        '{"name": "six", "observed_at": "yesterday", "roles": []}',
        '{"name": "six", "observed_at": "2019-01-01T00:00:00", "roles": []}',
        '{"name": "six", "observed_at": "2019-01-01T00:00:00Z", "roles": [{"user": 1}]}',
        '{"name": "six", "observed_at": "2019-01-01T00:00:00Z", "roles": "owner"}',
        "[" * 100_000,
    ],
)
def test_history_import_validates_every_record(capsys, tmp_path, line):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "six", "observed_at": "2019-01-01T00:00:00Z", "roles": []}\n' + line)
    assert main(["history", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl:2: not a history record" in err and "Traceback" not in err
