"""Vulnerabilities: the offline OSV database, the live source, and 'unknown is not clean'."""

from __future__ import annotations

import json
import zipfile

import pytest
import yaml
from packaging.utils import canonicalize_name
from packaging.version import Version

from scanner.cli import main
from scanner.models import Advisory, Unavailable
from scanner.registry import ClientConfig, HttpClient, Index
from scanner.registry.advisories import OsvSource, PyPIJsonSource
from scanner.vulns import OsvDatabase
from scanner.vulns.interface import merge_advisories
from tests.conftest import DATA, LOCKS
from tests.osvserver import OsvServer

SUBSET = DATA / "advisories" / "pypa-subset.zip"
PINS = [
    ("jinja2", "2.10"),
    ("urllib3", "1.26.12"),
    ("certifi", "2022.9.24"),
    ("pyyaml", "5.3"),
    ("requests", "2.19.0"),
    ("ctx", "0.2.6"),
    ("flask", "0.12"),
    ("cryptography", "3.2"),
]


def listed_as_affected(name: str, version: str) -> set[str]:
    """Ids whose explicit `versions` list names the release: independent of range logic."""
    ids = set()
    with zipfile.ZipFile(SUBSET) as archive:
        for entry in archive.namelist():
            record = yaml.safe_load(archive.read(entry))
            if record.get("withdrawn"):
                continue
            for affected in record["affected"]:
                if canonicalize_name(affected["package"]["name"]) != name:
                    continue
                if any(Version(v) == Version(version) for v in affected.get("versions", [])):
                    ids.add(record["id"])
    return ids


@pytest.mark.parametrize(("name", "version"), PINS)
def test_exactly_the_advisories_the_database_lists(name, version):
    database = OsvDatabase.load(str(SUBSET))
    found = database.query(canonicalize_name(name), Version(version))
    assert not isinstance(found, Unavailable)
    reported = {i for a in found for i in a.ids if i.startswith("PYSEC-")}
    expected = listed_as_affected(name, version)
    assert expected, f"test data should cover {name} {version}"
    assert reported == expected


def test_fixed_release_has_none():
    database = OsvDatabase.load(str(SUBSET))
    assert database.query(canonicalize_name("urllib3"), Version("2.2.3")) == ()


def test_range_events():
    from scanner.vulns.osv import _in_range

    events = [
        {"introduced": "1.0"},
        {"fixed": "1.5"},
        {"introduced": "2.0"},
        {"last_affected": "2.3"},
    ]
    covered = {
        v: _in_range(events, Version(v)) for v in ["0.9", "1.0", "1.4", "1.5", "2.0", "2.3", "2.4"]
    }
    assert covered == {
        "0.9": False,
        "1.0": True,
        "1.4": True,
        "1.5": False,
        "2.0": True,
        "2.3": True,
        "2.4": False,
    }


def test_aliases_merge_into_one_advisory():
    a = Advisory("PYSEC-1", ("CVE-1",), "x", ("1.1",), None, ("https://a",))
    b = Advisory("GHSA-1", ("CVE-1",), None, ("1.2",), "HIGH", ("https://b",))
    c = Advisory("PYSEC-2", (), "other", (), None, ())
    merged = merge_advisories([a, b, c])
    assert [m.id for m in merged] == ["PYSEC-1", "PYSEC-2"]
    assert merged[0].aliases == ("CVE-1", "GHSA-1") and merged[0].fixed == ("1.1", "1.2")


def test_withdrawn_advisories_are_skipped(tmp_path):
    record = {
        "id": "PYSEC-9",
        "withdrawn": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"name": "x", "ecosystem": "PyPI"}, "versions": ["1.0"]}],
    }
    (tmp_path / "PYSEC-9.json").write_text(json.dumps(record))
    assert OsvDatabase.load(str(tmp_path)).query(canonicalize_name("x"), Version("1.0")) == ()


def test_live_sources_that_cannot_answer_are_unavailable_never_empty(index):
    # The network is blocked in tests, as OSV is on this machine; the local index, like
    # this machine's mirror, has no per-release JSON.
    client = HttpClient(ClientConfig(retries=0))
    Index(client, index.url)  # the local index may be asked
    for source in (OsvSource(client), PyPIJsonSource(client, index.url)):
        answer = source.query(canonicalize_name("urllib3"), Version("1.26.12"))
        assert isinstance(answer, Unavailable), source.name


def scan(capsys, *extra):
    # --production: the lock's three production packages (its dev group and extra are
    # not on the test index; that the default covers them is tested in test_cli)
    code = main(["scan", str(LOCKS / "pylock.toml"), "--production", "--format", "json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_scan_never_reports_unknown_as_clean(capsys, index):
    # pip-audit's behaviour on this index is "No known vulnerabilities found";
    # trustscan says it could not check, and fails closed.
    code, report = scan(capsys, "--index-url", index.url, "--fail-on", "critical")
    for package in report["packages"]:
        assert package["families"]["vulnerabilities"]["state"] == "unknown"
        reason = package["families"]["vulnerabilities"]["reason"]
        assert "OSV" in reason and "per-release JSON" in reason
    assert report["summary"]["vulnerabilities_unknown"] == 3
    assert code in (1, 3) and report["verdict"]["label"] != "pass"


def test_offline_database_turns_unknown_into_answers(capsys, index):
    code, report = scan(capsys, "--index-url", index.url, "--advisory-db", str(SUBSET))
    assert code == 1  # real advisories (and the example's made-up hashes) fail the gate
    packages = {p["name"]: p for p in report["packages"]}
    assert all(p["families"]["vulnerabilities"]["state"] == "evaluated" for p in packages.values())
    urllib3 = [f for f in packages["urllib3"]["findings"] if f["signal"] == "known-vulnerability"]
    ids = {i for f in urllib3 for i in f["evidence"]["ids"]}
    assert listed_as_affected("urllib3", "1.26.12") <= ids
    assert all(f["evidence"]["fixed_in"] for f in urllib3)
    certifi = [f for f in packages["certifi"]["findings"] if f["signal"] == "known-vulnerability"]
    assert certifi and certifi[0]["severity"] == "high"


def test_malicious_advisory_is_critical(tmp_path):
    from scanner.models import Evidence, LockedPackage, VulnerabilityReport
    from scanner.signals import SignalContext, run_signals

    advisory = Advisory("MAL-2024-1", (), "steals tokens", (), None, ())
    package = LockedPackage(name=canonicalize_name("evil"), version=Version("1.0"))
    evidence = Evidence(
        package, Unavailable("-"), Unavailable("-"), None, VulnerabilityReport((advisory,), "test")
    )
    (finding,) = run_signals(evidence, SignalContext())
    assert finding.signal == "malicious-package" and finding.severity.label == "critical"


def test_fix_versions_are_versions_not_commits():
    database = OsvDatabase.load(str(SUBSET))
    for advisory in database.query(canonicalize_name("requests"), Version("2.19.0")):
        assert all(Version(v) for v in advisory.fixed), advisory.fixed


def test_an_index_without_per_release_json_is_asked_a_few_times_then_no_more(index):
    """On this machine's index, /pypi/NAME/VERSION/json is a 404: pip-audit skips the
    package and still prints "No known vulnerabilities found". trustscan says unknown,
    and after probing three releases (in a fixed order) asks nothing more."""
    client = HttpClient(ClientConfig(retries=0))
    Index(client, index.url)
    source = PyPIJsonSource(client, index.url)
    releases = [(canonicalize_name(n), Version(v)) for n, v in RELEASES]
    source.prefetch(releases)
    answers = {source.query(*release) for release in releases}
    assert answers == {
        Unavailable(
            "the index has no per-release JSON "
            "(404 for gunicorn 26.0.0, packaging 24.1, six 1.16.0)"
        )
    }
    asked = [p for p in index.paths() if p.startswith("/pypi/") and p.count("/") == 4]
    assert len(asked) == 3, asked


RELEASES = [("six", "1.16.0"), ("gunicorn", "26.0.0"), ("packaging", "24.1"), ("wrapt", "1.16.0")]


# --- OSV, against a local OSV-shaped API ------------------------------------------------


def osv_scan(capsys, index, osv, *extra):
    options = ["--index-url", index.url, "--osv-url", osv.url, "--retries", "0"]
    code = main(
        ["scan", str(LOCKS / "pylock.toml"), "--production", "--format", "json", *options, *extra]
    )
    return code, json.loads(capsys.readouterr().out)


def test_osv_answers_in_one_batch_then_each_advisory_once(capsys, index):
    with OsvServer() as osv:
        code, report = osv_scan(capsys, index, osv)
        packages = {p["name"]: p for p in report["packages"]}
        states = {p["families"]["vulnerabilities"]["state"] for p in packages.values()}
        assert states == {"evaluated"}
        urllib3 = packages["urllib3"]["findings"]
        ids = {
            i for f in urllib3 if f["signal"] == "known-vulnerability" for i in f["evidence"]["ids"]
        }
        assert listed_as_affected("urllib3", "1.26.12") <= ids
        assert [r for r in osv.requests if r[0] == "POST"] == [("POST", "/v1/querybatch", 3)]
        fetched = [r[1] for r in osv.requests if r[0] == "GET"]
        assert len(fetched) == len(set(fetched)) > 0  # each distinct advisory once
        assert code == 1
        assert any("OSV" in n and "answered for 3 of 3" in n for n in report["notes"])

        osv.requests.clear()  # a rescan within the TTL asks OSV nothing
        osv_scan(capsys, index, osv)
        assert osv.requests == []

        osv_scan(capsys, index, osv, "--max-age", "0")  # past the TTL: one batch again
        assert [r for r in osv.requests if r[0] == "POST"] == [("POST", "/v1/querybatch", 3)]
        assert not [r for r in osv.requests if r[0] == "GET"]  # advisories unchanged: kept


def test_osv_batches_a_thousand_packages_at_a_time(index):
    client = HttpClient(ClientConfig(retries=0))
    with OsvServer() as osv:
        Index(client, osv.url)
        source = OsvSource(client, osv.url)
        source.prefetch([(canonicalize_name(f"p{i}"), Version("1.0")) for i in range(2500)])
        assert [r[2] for r in osv.requests if r[0] == "POST"] == [1000, 1000, 500]


def test_an_osv_that_fails_is_asked_a_few_times_then_reported_once(capsys, index):
    with OsvServer() as osv:
        osv.fail = True
        code, report = osv_scan(capsys, index, osv)
        assert len(osv.requests) <= 3
        for package in report["packages"]:
            state = package["families"]["vulnerabilities"]
            assert state["state"] == "unknown" and "OSV" in state["reason"]
        assert code in (1, 3)  # never a pass (the example lock's hashes are made up: 1)


def test_a_removed_project_is_still_looked_up_in_the_advisory_database(capsys, index, tmp_path):
    # ctx was taken over in 2022 and removed; its pin is PYSEC-2022-199 in the database
    lock = tmp_path / "requirements.txt"
    lock.write_text("ctx==0.2.6\n")
    options = ["--advisory-db", str(SUBSET), "--no-live-advisories", "--format", "json"]
    code = main(["scan", str(lock), "--index-url", index.url, *options])
    (ctx,) = json.loads(capsys.readouterr().out)["packages"]
    signals = {f["signal"] for f in ctx["findings"]}
    assert {"not-on-index", "known-vulnerability"} <= signals
    assert ctx["families"]["vulnerabilities"]["state"] == "evaluated"
    assert code == 1
