"""The trust record: what a reviewer approved, committed beside the lockfile.

Every scan here runs as a CI runner does: a fresh store each time (no history), the
lock and its committed record in the repository, against the local index.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from scanner import trust
from scanner.cli import main
from tests.conftest import DATA
from tests.indexserver import RECORDED
from tests.test_provenance import FIXTURES, google_provenance, serve_pep740

ADVISORIES = str(DATA / "advisories" / "pypa-subset.zip")
GATE = ["--no-live-advisories", "--advisory-db", ADVISORIES, "--python-version", "3.11"]


class Repo:
    def __init__(self, root: Path, index: object, lock: str) -> None:
        self.root = root
        self.index = index
        self.runs = 0
        (root / "requirements.txt").write_text(lock)

    @property
    def record(self) -> Path:
        return self.root / "supply-chain" / "trust.toml"

    def _db(self) -> list[str]:
        self.runs += 1  # every run a fresh store: what a CI runner starts with
        return ["--db", str(self.root / f"store-{self.runs}.db")]

    def scan(self, capsys, *extra: str) -> tuple[int, dict]:
        lock = str(self.root / "requirements.txt")
        url = ["--index-url", self.index.url]  # type: ignore[attr-defined]
        code = main(["scan", lock, "--format", "json", *url, *GATE, *self._db(), *extra])
        return code, json.loads(capsys.readouterr().out)

    def record_trust(self, capsys, *names: str) -> str:
        lock = str(self.root / "requirements.txt")
        url = ["--index-url", self.index.url]  # type: ignore[attr-defined]
        which = list(names) or ["--all"]
        code = main(["trust", "record", *which, "--lock", lock, *url, *GATE, *self._db(), "-q"])
        assert code == 0
        return capsys.readouterr().out


def signals(report: dict, name: str) -> dict[str, dict]:
    package = next(p for p in report["packages"] if p["name"] == name)
    return {f["signal"]: f for f in package["findings"]}


def add_owner(index, user: str) -> None:
    project = json.loads((RECORDED / "pypi" / "six" / "json.json").read_text())
    project["ownership"]["roles"].append({"role": "Maintainer", "user": user})
    index.overrides["/pypi/six/json"] = json.dumps(project).encode()


def test_an_owner_added_since_the_record_fails_every_run_until_recorded(capsys, index, tmp_path):
    repo = Repo(tmp_path, index, "six==1.16.0\n")
    repo.record_trust(capsys, "six")
    assert repo.scan(capsys)[0] == 0
    add_owner(index, "mallory")
    for _ in range(2):  # a re-run of the failed job still fails: the record remembers
        code, report = repo.scan(capsys)
        finding = signals(report, "six")["owner-added"]
        assert code == 1
        assert finding["evidence"]["user"] == "mallory"
        assert finding["evidence"]["record"].endswith("supply-chain/trust.toml")
        assert "the trust record" in finding["message"]
    diff = repo.record_trust(capsys, "six")  # a reviewer looked, and approves
    assert '+maintainers = ["mallory"]' in diff
    assert repo.scan(capsys)[0] == 0


def test_recording_is_stable_and_a_change_is_one_entry(capsys, index, tmp_path):
    repo = Repo(tmp_path, index, "six==1.16.0\ngunicorn==26.0.0\n")
    repo.record_trust(capsys)
    first = repo.record.read_bytes()
    assert repo.record_trust(capsys) == "no change\n"
    assert repo.record.read_bytes() == first  # byte-identical
    add_owner(index, "mallory")
    diff = repo.record_trust(capsys)
    changed = [line for line in diff.splitlines() if line.startswith(("+", "-"))]
    changed = [line for line in changed if not line.startswith(("+++", "---"))]
    assert all(("maintainers" in line or "start" in line or "end" in line) for line in changed)
    assert "[projects.gunicorn]" not in diff


def test_publisher_change_and_dropped_provenance_against_the_record(capsys, index, tmp_path):
    real = (FIXTURES / "sampleproject-4.0.0.tar.gz.provenance").read_bytes()
    serve_pep740(index, {"sampleproject-4.0.0.tar.gz": real})
    repo = Repo(tmp_path, index, "sampleproject==4.0.0\n")
    repo.record_trust(capsys, "sampleproject")
    assert 'repository = "pypa/sampleproject"' in repo.record.read_text()
    assert repo.scan(capsys)[0] == 0

    serve_pep740(index, {})  # the same release, now with no attestation
    code, report = repo.scan(capsys)
    dropped = signals(report, "sampleproject")["provenance-dropped"]
    assert code == 1 and dropped["evidence"]["current"] == "no attestation"
    assert dropped["evidence"]["recorded"] == ["GitHub pypa/sampleproject release.yml"]

    serve_pep740(index, {"sampleproject-3.0.0.tar.gz": google_provenance()})
    (tmp_path / "requirements.txt").write_text("sampleproject==3.0.0\n")
    code, report = repo.scan(capsys)
    changed = signals(report, "sampleproject")["publisher-changed"]
    assert code == 1 and changed["evidence"]["current"].startswith("Google")


def write_record(repo: Repo, **entry: object) -> None:
    record = trust.TrustRecord(str(repo.record), {"six": trust.TrustEntry(**entry)})  # type: ignore[arg-type, dict-item]
    repo.record.parent.mkdir(parents=True, exist_ok=True)
    repo.record.write_text(trust.render(record))


def test_an_expired_entry_and_a_release_after_its_end_are_reported(capsys, index, tmp_path):
    repo = Repo(tmp_path, index, "six==1.16.0\n")
    today = date.today()
    write_record(
        repo,
        owners=("gutworth",),
        start=today - timedelta(days=400),
        end=today - timedelta(days=40),
    )
    _, report = repo.scan(capsys)
    assert "trust-expired" in signals(report, "six")
    write_record(repo, owners=("gutworth",), start=date(2020, 1, 1), end=date(2020, 12, 31))
    found = signals(repo.scan(capsys)[1], "six")["trust-expired"]
    assert "ended on 2020-12-31" in found["message"]
    assert "1.16.0 was uploaded on 2021-05-05, after the approval's end" in found["message"]


def test_an_entry_for_more_than_a_year_is_refused(capsys, index, tmp_path):
    repo = Repo(tmp_path, index, "six==1.16.0\n")
    write_record(repo, owners=("gutworth",), start=date(2026, 1, 1), end=date(2027, 6, 1))
    lock = str(tmp_path / "requirements.txt")
    assert main(["scan", lock, "--offline", "-q"]) == 2
    assert "more than a year after start" in capsys.readouterr().err


def test_an_import_whose_sha256_does_not_match_is_an_input_error(capsys, index, tmp_path):
    repo = Repo(tmp_path, index, "six==1.16.0\n")
    shared = tmp_path / "supply-chain" / "org.toml"
    shared.parent.mkdir(parents=True)
    shared.write_text('[projects.six]\nowners = ["gutworth"]\nend = 2099-01-01\n')
    repo.record.write_text(f'[[imports]]\npath = "org.toml"\nsha256 = "{"0" * 64}"\n')
    lock = str(tmp_path / "requirements.txt")
    assert main(["scan", lock, "--index-url", index.url, *GATE, "-q"]) == 2
    assert "is not the reviewed" in capsys.readouterr().err
    repo.record.write_text(
        f'[[imports]]\npath = "org.toml"\nsha256 = "{trust.digest(shared.read_text())}"\n'
    )
    code, _ = repo.scan(capsys)
    assert code == 0  # the imported entry applies: six's owners are the recorded ones


@pytest.mark.parametrize("require", [True, False])
def test_a_policy_can_require_an_entry_for_every_package(capsys, index, tmp_path, require):
    repo = Repo(tmp_path, index, "six==1.16.0\ngunicorn==26.0.0\n")
    repo.record_trust(capsys, "six")
    (tmp_path / "trustscan.toml").write_text(f"require-record = {str(require).lower()}\n")
    code, report = repo.scan(capsys)
    assert ("untrusted" in signals(report, "gunicorn")) is require
    assert code == (1 if require else 0)


def test_the_tui_approves_the_current_state_into_the_record(capsys, index, tmp_path):
    import asyncio

    from scanner import scan
    from scanner.cli import tui_scan_options
    from scanner.report.json import to_dict
    from tui.app import TrustscanApp
    from tui.cli import make_approver
    from tui.widgets.graph_tree import GraphTree

    repo = Repo(tmp_path, index, "six==1.16.0\n")
    repo.record_trust(capsys, "six")
    add_owner(index, "mallory")
    lock = str(tmp_path / "requirements.txt")
    options = tui_scan_options([lock, "--index-url", index.url, *GATE], str(tmp_path / "t.db"))
    result, _ = scan.run(options)
    assert "owner-added" in {f.signal for p in result.packages for f in p.findings}

    async def approve() -> None:
        app = TrustscanApp(report=to_dict(result), approver=make_approver(options, lambda: result))
        async with app.run_test(size=(120, 36)) as pilot:
            tree = pilot.app.screen.query_one(GraphTree)
            tree.move_cursor(tree.primary["six"])
            await pilot.press("a")
            await pilot.pause()
            for key in "looked: bob":
                await pilot.press("space" if key == " " else key)
            await pilot.press("enter", "enter")  # the note, then the end date as offered
            await pilot.pause()
            shown = str(pilot.app.screen.query_one("#diff").content)
            assert '+maintainers = ["mallory"]' in shown

    asyncio.run(approve())
    written = trust.parse(repo.record.read_text(), str(repo.record))  # a valid record
    entry = written.entries["six"]
    assert entry.maintainers == ("mallory",) and entry.approved_by == "looked: bob"
    assert repo.scan(capsys)[0] == 0  # the approved change is no longer reported
