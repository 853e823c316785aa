"""Whoever answers for the index controls every byte: nothing it withholds, breaks or
forges may come out as "pass". Each case here passed the gate (exit 0) before.

The baseline: six and gunicorn, with the offline advisory database, pass (exit 0);
every test changes one answer of the index and checks the gate no longer passes.
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from scanner.cli import main
from tests.conftest import DATA
from tests.indexserver import RECORDED, Fault

SIX_METADATA = "/" + str(
    next(RECORDED.glob("packages/*/*/*/six-1.16.0-py2.py3-none-any.whl.metadata")).relative_to(
        RECORDED
    )
)
ADVISORIES = str(DATA / "advisories" / "pypa-subset.zip")


def gate(capsys, index, tmp_path, *extra: str):
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.16.0\ngunicorn==26.0.0\n")
    options = ["--no-live-advisories", "--advisory-db", ADVISORIES, "--retries", "0"]
    target = ["--python-version", "3.11", "--platform", "linux"]
    command = ["scan", str(lock), "--index-url", index.url, "--format", "json"]
    code = main([*command, *options, *target, *extra])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    report = json.loads(captured.out)
    return code, {p["name"]: p for p in report["packages"]}, report


def test_the_baseline_passes(capsys, index, tmp_path):
    code, packages, _ = gate(capsys, index, tmp_path)
    assert code == 0
    assert packages["six"]["families"]["dependencies"]["state"] == "evaluated"
    assert packages["six"]["families"]["ownership"]["state"] == "evaluated"


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_metadata_the_index_will_not_serve_is_not_evaluated(capsys, index, tmp_path, status):
    index.faults[SIX_METADATA] = Fault(status=status)
    code, packages, report = gate(capsys, index, tmp_path)
    assert code == 3
    six = packages["six"]
    assert six["evaluated"] is False
    assert "core metadata could not be read" in six["not_evaluated_reason"]
    assert any(r.startswith("six 1.16.0: not evaluated") for r in report["verdict"]["reasons"])


def test_metadata_that_differs_from_its_declared_digest_is_critical(capsys, index, tmp_path):
    body = (RECORDED / SIX_METADATA.lstrip("/")).read_bytes()
    page = json.loads((RECORDED / "simple" / "six" / "index.json").read_text())
    for entry in page["files"]:  # the index declares the digest of the real document
        if entry["filename"] == "six-1.16.0-py2.py3-none-any.whl":
            entry["core-metadata"] = {"sha256": hashlib.sha256(body).hexdigest()}
    index.overrides["/simple/six/"] = json.dumps(page).encode()
    index.overrides[SIX_METADATA] = body.replace(b"Summary:", b"Requires-Dist: evil\nSummary:")
    code, packages, _ = gate(capsys, index, tmp_path)
    assert code == 1
    six = packages["six"]
    assert six["evaluated"] is False
    (finding,) = [f for f in six["findings"] if f["signal"] == "metadata-mismatch"]
    assert finding["severity"] == "critical"
    assert "does not match" in finding["evidence"]["reason"]


def test_missing_project_json_on_an_index_that_publishes_ownership_is_unknown(
    capsys, index, tmp_path
):
    index.faults["/pypi/six/json"] = Fault(status=404)
    code, packages, report = gate(capsys, index, tmp_path)
    assert code == 3
    ownership = packages["six"]["families"]["ownership"]
    assert ownership["state"] == "unknown" and "404" in ownership["reason"]
    assert any("six 1.16.0: ownership unknown" in r for r in report["verdict"]["reasons"])


def test_an_index_that_publishes_no_ownership_is_not_held_to_it(capsys, index, tmp_path):
    for name in ("six", "gunicorn"):
        project = json.loads((RECORDED / "pypi" / name / "json.json").read_text())
        project.pop("ownership", None)
        index.overrides[f"/pypi/{name}/json"] = json.dumps(project).encode()
    code, packages, _ = gate(capsys, index, tmp_path)
    assert code == 0
    assert packages["six"]["families"]["ownership"]["state"] == "not-applicable"


def test_required_families_are_policy(capsys, index, tmp_path):
    index.faults["/pypi/six/json"] = Fault(status=404)
    (tmp_path / "trustscan.toml").write_text(
        'require = ["registry", "dependencies", "vulnerabilities"]\n'
    )
    code, _, _ = gate(capsys, index, tmp_path)
    assert code == 0  # the team chose not to require ownership; the report still says unknown


WRONG = [5, "text", [], {}, None, True, [1, "a"], {"x": [None]}]


@pytest.mark.parametrize(
    "where",
    [
        *("info", "ownership", "ownership.roles", "ownership.organization", "vulnerabilities"),
        *("info.classifiers", "info.project_urls", "info.version", "info.name", "releases"),
    ],
)
def test_project_json_of_the_wrong_shape_never_crashes_or_passes_clean(
    capsys, index, tmp_path, where
):
    recorded = json.loads((RECORDED / "pypi" / "six" / "json.json").read_text())
    for value in WRONG:
        project = json.loads(json.dumps(recorded))
        *parents, key = where.split(".")
        node = project
        for part in parents:
            node = node[part]
        node[key] = value
        index.overrides["/pypi/six/json"] = json.dumps(project).encode()
        code, packages, _ = gate(capsys, index, tmp_path, "--refresh")
        assert code in (0, 1, 3), (where, value)
        six = packages["six"]
        if code == 0:  # what was read is good, and ownership was evaluated from it
            assert six["evaluated"] and six["families"]["ownership"]["state"] == "evaluated"


@pytest.mark.parametrize("key", ["files", "meta", "versions", "project-status", "name"])
def test_simple_json_of_the_wrong_shape_never_crashes(capsys, index, tmp_path, key):
    recorded = json.loads((RECORDED / "simple" / "six" / "index.json").read_text())
    for value in WRONG:
        page = json.loads(json.dumps(recorded))
        page[key] = value
        index.overrides["/simple/six/"] = json.dumps(page).encode()
        code, _, _ = gate(capsys, index, tmp_path, "--refresh")
        assert code in (0, 1, 3), (key, value)


@pytest.mark.parametrize(
    "key",
    ["filename", "url", "hashes", "yanked", "upload-time", "core-metadata", "requires-python"],
)
def test_simple_file_entries_of_the_wrong_shape_never_crash(capsys, index, tmp_path, key):
    recorded = json.loads((RECORDED / "simple" / "six" / "index.json").read_text())
    for value in WRONG:
        page = json.loads(json.dumps(recorded))
        for entry in page["files"]:
            entry[key] = value
        index.overrides["/simple/six/"] = json.dumps(page).encode()
        code, _, _ = gate(capsys, index, tmp_path, "--refresh")
        assert code in (0, 1, 3), (key, value)


# --- where packages come from: other indexes, URL/VCS/path pins, extra indexes --------


def scan_text(capsys, index_url, tmp_path, text: str, *extra: str):
    lock = tmp_path / "requirements.txt"
    lock.write_text(text)
    options = ["--no-live-advisories", "--advisory-db", ADVISORIES, "--retries", "0"]
    target = ["--python-version", "3.11", "--platform", "linux", "--timeout", "2"]
    code = main(
        ["scan", str(lock), "--index-url", index_url, "--format", "json", *options, *target, *extra]
    )
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, json.loads(captured.out)


def test_packages_of_an_unreachable_lock_index_are_not_evaluated_never_not_on_index(
    capsys, index, tmp_path
):
    code, report = scan_text(
        capsys, index.url, tmp_path, "-i http://127.0.0.1:9/simple/\nsix==1.16.0\n"
    )
    assert code == 3
    (six,) = report["packages"]
    assert six["evaluated"] is False
    assert six["not_evaluated_reason"].startswith(
        "locked from another index (http://127.0.0.1:9/simple/)"
    )
    assert not [f for f in six["findings"] if f["signal"] == "not-on-index"]


def test_the_lock_index_is_honoured_when_reachable(capsys, index, tmp_path):
    text = f"--index-url {index.url}simple/\nsix==1.16.0\n"
    code, report = scan_text(capsys, f"{index.url}elsewhere/", tmp_path, text)
    (six,) = report["packages"]
    assert six["evaluated"] is True and code == 0
    assert six["source"] == {"kind": "other-index", "location": f"{index.url}simple/"}


def test_ignore_lock_index_looks_everything_up_on_the_scanned_index(capsys, index, tmp_path):
    text = "-i http://127.0.0.1:9/simple/\nsix==1.16.0\n"
    code, report = scan_text(capsys, index.url, tmp_path, text, "--ignore-lock-index")
    assert report["packages"][0]["evaluated"] is True and code == 0


@pytest.mark.parametrize(
    "pin",
    [
        "foo @ https://example.com/foo-1.0.tar.gz",
        "git+https://github.com/pallets/click@8.1.7#egg=click",
        "-e ./tools/helper",
    ],
)
def test_url_vcs_and_path_pins_are_not_evaluated_unless_the_policy_allows_them(
    capsys, index, tmp_path, pin
):
    code, report = scan_text(capsys, index.url, tmp_path, f"six==1.16.0\n{pin}\n")
    assert code == 3
    pinned = next(p for p in report["packages"] if p["name"] != "six")
    assert pinned["evaluated"] is False and "allow-sources" in pinned["not_evaluated_reason"]
    location = pinned["source"]["location"]
    (tmp_path / "trustscan.toml").write_text(
        f"allow-sources = [{json.dumps(location[:12] + '*')}]\n"
    )
    code, report = scan_text(capsys, index.url, tmp_path, f"six==1.16.0\n{pin}\n")
    assert code == 0 and report["policy"].endswith("trustscan.toml")


def test_the_projects_own_editable_root_stays_excluded(capsys, index, tmp_path):
    code, _ = scan_text(capsys, index.url, tmp_path, "-e .\nsix==1.16.0\n")
    assert code == 0


def test_an_extra_index_is_a_finding_of_the_lockfile(capsys, index, tmp_path):
    text = "--extra-index-url https://evil.example/simple/\nsix==1.16.0\n"
    code, report = scan_text(capsys, index.url, tmp_path, text)
    (finding,) = report["input_findings"]
    assert finding["signal"] == "extra-index" and finding["severity"] == "medium"
    assert finding["evidence"]["index"] == "https://evil.example/simple/"
    assert code == 0  # named and reported; a medium finding does not fail the default gate


def test_a_pull_request_that_adds_an_index_fails_the_gate(capsys, index, tmp_path):
    base = tmp_path / "base.txt"
    base.write_text("six==1.16.0\n")
    text = "--extra-index-url https://evil.example/simple/\nsix==1.16.0\n"
    code, report = scan_text(capsys, index.url, tmp_path, text, "--baseline", str(base))
    assert code == 1
    assert report["baseline"]["indexes_added"] == ["https://evil.example/simple"]
    assert any("index-added" in r for r in report["verdict"]["reasons"])


def test_a_changed_hash_for_the_same_version_is_a_gated_change(capsys, index, tmp_path):
    base = tmp_path / "base.txt"
    base.write_text("six==1.16.0\n")
    forged = "six==1.16.0 --hash=sha256:" + "0" * 64 + "\n"
    code, report = scan_text(capsys, index.url, tmp_path, forged, "--baseline", str(base))
    assert report["baseline"]["changed"] == [
        {"name": "six", "from": "1.16.0", "to": "1.16.0 (hashes changed)"}
    ]
    assert code == 1  # the forged hash (hash-mismatch, critical) is gated


# --- advisory databases -----------------------------------------------------------------


def _zip(path, members: dict[str, str]) -> str:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return str(path)


NPM_ONLY = json.dumps(
    {"id": "GHSA-npm", "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"}}]}
)
YAML_BOMB = (
    'id: PYSEC-BOMB\na: &a ["x","x","x","x","x","x","x","x","x"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
)


@pytest.mark.parametrize(
    "make",
    [
        lambda tmp: str(tmp),  # an empty folder
        lambda tmp: _zip(tmp / "empty.zip", {"README.md": "nothing here"}),
        lambda tmp: _zip(tmp / "npm.zip", {"GHSA-npm.json": NPM_ONLY}),
        lambda tmp: "/etc",
        lambda tmp: _zip(tmp / "bomb.zip", {"PYSEC-BOMB.yaml": YAML_BOMB}),
        lambda tmp: _zip(tmp / "deep.zip", {"deep.json": "[" * 100_000 + "]" * 100_000}),
    ],
    ids=["empty folder", "zip without JSON", "npm only", "/etc", "YAML bomb", "deep JSON"],
)
def test_an_advisory_database_that_knows_no_pypi_advisory_is_an_input_error(
    capsys, index, tmp_path, make
):
    folder = tmp_path / "db"
    folder.mkdir()
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.16.0\n")
    database = make(folder)
    code = main(
        [
            "scan",
            str(lock),
            "--index-url",
            index.url,
            "--no-live-advisories",
            "--advisory-db",
            database,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err


def test_the_report_names_each_vulnerability_source_with_its_records(capsys, index, tmp_path):
    _, _, report = gate(capsys, index, tmp_path)
    (note,) = [n for n in report["notes"] if n.startswith("vulnerability source")]
    assert "PyPI records, newest modified 20" in note and "pypa-subset.zip" in note


# --- bounded time ----------------------------------------------------------------------


def _byte_a_second(handler):
    body = (RECORDED / "simple" / "six" / "index.json").read_bytes()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    for byte in body[:30]:  # a byte a second: a read timeout never trips
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(0.3)


def test_a_byte_a_second_body_is_cut_at_the_wall_clock_deadline(capsys, index, tmp_path):
    index.faults["/simple/six/"] = Fault(action=_byte_a_second)
    started = time.monotonic()
    code, packages, _ = gate(capsys, index, tmp_path, "--timeout", "1", "--retries", "1")
    assert time.monotonic() - started < 1 * 2 + 10
    assert code == 3 and packages["six"]["evaluated"] is False
    assert "timed out" in packages["six"]["not_evaluated_reason"]


def test_the_scan_deadline_leaves_the_rest_not_evaluated(capsys, index, tmp_path):
    index.faults["/simple/six/"] = Fault(action=_byte_a_second)
    started = time.monotonic()
    code, packages, _ = gate(capsys, index, tmp_path, "--deadline", "1.5", "--jobs", "1")
    assert time.monotonic() - started < 6
    assert code == 3 and packages["six"]["evaluated"] is False


# --- where the scanner may connect -------------------------------------------------------


def test_a_lock_index_on_a_private_address_is_not_asked(capsys, index, tmp_path):
    text = "-i http://10.0.0.1/simple/\nsix==1.16.0\n"
    code, report = scan_text(capsys, index.url, tmp_path, text)
    (six,) = report["packages"]
    assert code == 3 and "refused: a private or reserved address" in six["not_evaluated_reason"]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/six.whl", "link-local"),
        ("http://127.0.0.2:9/six.whl", "loopback"),
        ("http://localhost:9/six.whl", "loopback"),
        ("file:///etc/passwd", "scheme"),
        ("ftp://files.example/six.whl", "scheme"),
    ],
)
def test_file_urls_the_index_answers_may_not_reach_private_addresses(
    capsys, index, tmp_path, url, why
):
    page = json.loads((RECORDED / "simple" / "six" / "index.json").read_text())
    for entry in page["files"]:
        entry["url"] = url
    index.overrides["/simple/six/"] = json.dumps(page).encode()
    code, packages, _ = gate(capsys, index, tmp_path)
    assert code == 3
    assert why in packages["six"]["not_evaluated_reason"]
    assert not [p for p in index.paths() if "six.whl" in p]
