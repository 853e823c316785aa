"""The re-tunes of issue [N]: each signal where it should now be quiet, or lower,
and where it must still fire (the labelled incidents)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from scanner.models import (
    Advisory,
    Lookalike,
    Missing,
    OwnerRole,
    ReleaseEmails,
    Severity,
    VulnerabilityReport,
)
from scanner.signals import BY_ID
from tests.signals.build import NOW, context, dist, evidence, history, metadata, project_info

DAYS = timedelta(days=1)


def fire(signal_id, ev, **thresholds):
    signal = BY_ID[signal_id]
    return list(signal.check(signal, ev, context(**thresholds)))


def gone(ev):
    return replace(ev, files=Missing(f"https://index.example/simple/{ev.package.name}/"))


# --- typosquat -----------------------------------------------------------------


def test_a_removed_homoglyph_squat_is_high_and_shown_as_written():
    ev = gone(evidence(name="jeilyfish"))
    ev = replace(ev, package=replace(ev.package, version=None, written="jeIlyfish"))
    (f,) = fire("typosquat", ev)
    assert f.severity is Severity.HIGH
    assert f.message.startswith("'jeIlyfish' is 'jellyfish' with 'l' written as 'I'")
    assert "reads as 'l'" in f.message and "does not exist on the index" in f.message
    assert f.evidence["written"] == "jeIlyfish" and f.evidence["on_index"] is False


def test_python3_dateutil_and_loquru_still_fire():
    for name, popular in (("python3-dateutil", "python-dateutil"), ("loquru", "loguru")):
        (f,) = fire("typosquat", gone(evidence(name=name)))
        assert f.severity is Severity.HIGH and f.evidence["popular"] == popular


def test_a_fork_by_the_same_owners_is_not_a_typosquat():
    owners = (OwnerRole("samuelcolvin", "Owner"), OwnerRole("dmontagu", "Maintainer"))
    fork = evidence(name="httpx2", project=project_info("httpx2", roles=owners))
    httpx = Lookalike("httpx", 50, "https://index.example/pypi/httpx/json", owners[:1])
    assert fire("typosquat", replace(fork, lookalikes=(httpx,))) == []
    by_org = project_info("reqeusts", organization="psf", roles=(OwnerRole("x", "Owner"),))
    requests = Lookalike("requests", 4, "u", (OwnerRole("nateprewitt", "Owner"),), "psf")
    ev = replace(evidence(name="reqeusts", project=by_org), lookalikes=(requests,))
    assert fire("typosquat", ev) == []


def test_version_siblings_are_not_typosquats():
    # a digit for a digit, or a digit added at the end: variants, not slips of the keyboard
    for name in ("nvidia-nvshmem-cu11", "httpcore2", "urllib4"):
        assert fire("typosquat", gone(evidence(name=name))) == [], name


def test_an_established_project_is_not_a_typosquat():
    years = history("flux", {f"0.{i}": NOW - (4000 - 300 * i) * DAYS for i in range(8)})
    assert fire("typosquat", evidence(name="flux", version="0.7", files=years)) == []


def test_an_uncorroborated_lookalike_is_medium_and_shows_both_owners():
    releases = history("reqeusts", {f"1.{i}": NOW - (700 - 100 * i) * DAYS for i in range(5)})
    ev = evidence(name="reqeusts", version="1.4", files=releases)
    requests = Lookalike("requests", 4, "u", (OwnerRole("nateprewitt", "Owner"),), "psf")
    (f,) = fire("typosquat", replace(ev, lookalikes=(requests,)))
    assert f.severity is Severity.MEDIUM and f.evidence["corroborated_by"] == []
    assert f.evidence["owners"] == ["alice", "bob"]
    assert f.evidence["popular_owners"] == ["nateprewitt"]
    assert f.evidence["releases"] == 5 and f.evidence["age_days"] == 700


# --- the others ------------------------------------------------------------------


def test_yanked_is_high_for_security_or_no_reason_and_medium_for_packaging():
    def yanked(reason):
        files = [dist("demo", "1.0", NOW - 9 * DAYS, yanked=True, yanked_reason=reason)]
        (f,) = fire("yanked", evidence(files=files))
        return f.severity

    assert yanked(None) is Severity.HIGH
    assert yanked("Security vulnerability CVE-2024-1234") is Severity.HIGH
    assert yanked("compromised release") is Severity.HIGH
    assert yanked("Incorrect package metadata") is Severity.MEDIUM
    assert yanked("wrong python_requires") is Severity.MEDIUM


def test_hash_mismatch_tells_a_replaced_file_from_a_removed_one():
    served = dist("demo", "1.0", NOW - 9 * DAYS, sha256="a" * 64)
    other = dist("demo", "1.0", NOW - 9 * DAYS, wheel=False, sha256="c" * 64)
    name = served.filename

    def locked(pairs, files):
        ev = evidence(files=files)
        package = replace(
            ev.package,
            hashes=frozenset(d for _, d in pairs),
            named_hashes=tuple(pairs),
        )
        return replace(ev, package=package)

    replaced = locked([(name, "sha256:" + "b" * 64)], [served])
    (f,) = fire("hash-mismatch", replaced)
    assert f.severity is Severity.CRITICAL and f.evidence["replaced"][0]["file"] == name
    assert fire("file-not-served", replaced) == []
    removed = locked(
        [(name, "sha256:" + "a" * 64), ("demo-1.0-cp39-linux.whl", "sha256:" + "d" * 64)],
        [served],
    )
    assert fire("hash-mismatch", removed) == []
    (g,) = fire("file-not-served", removed)
    assert g.severity is Severity.MEDIUM and g.evidence["files"] == ["demo-1.0-cp39-linux.whl"]
    # bare digests: one unmatched while the index serves a file the lock does not know
    bare = locked([], [served, other])
    bare = replace(
        bare,
        package=replace(
            bare.package, hashes=frozenset({"sha256:" + "a" * 64, "sha256:" + "e" * 64})
        ),
    )
    (h,) = fire("hash-mismatch", bare)
    assert h.severity is Severity.CRITICAL


def test_dormant_then_release_fires_once_for_a_recent_pinned_release_only():
    files = history("demo", {"0.9": NOW - 1300 * DAYS, "1.0": NOW - 400 * DAYS, "1.1": NOW})
    assert fire("dormant-then-release", evidence(version="1.1", files=files)) == []
    old = history("demo", {"0.9": NOW - 1300 * DAYS, "1.0": NOW - 400 * DAYS})
    assert fire("dormant-then-release", evidence(version="1.0", files=old)) == []  # not recent
    recent = history("demo", {"0.9": NOW - 1000 * DAYS, "1.0": NOW - 20 * DAYS})
    (f,) = fire("dormant-then-release", evidence(version="1.0", files=recent))
    assert f.evidence["release"] == "1.0" and f.evidence["age_days"] == 20


def test_known_vulnerability_takes_its_severity_from_the_cvss_vector():
    low = Advisory(
        "PYSEC-1",
        (),
        "local DoS",
        ("2.0",),
        "HIGH",
        (),
        "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:L",
    )
    ev = replace(evidence(), vulnerabilities=VulnerabilityReport((low,), "db"))
    (f,) = fire("known-vulnerability", ev)
    assert f.severity is Severity.LOW and "CVSS 3.3 (low)" in f.message
    worded = replace(low, cvss=None)
    ev = replace(evidence(), vulnerabilities=VulnerabilityReport((worded,), "db"))
    (g,) = fire("known-vulnerability", ev)
    assert g.severity is Severity.HIGH and "rated high" in g.message


def test_maintainer_email_changed_is_low_unless_corroborated():
    now = metadata(author_email="new@elsewhere.example")
    earlier = (ReleaseEmails("0.9", "old@project.example", None, "u"),)
    quiet = replace(evidence(metadata=now), earlier_emails=earlier)
    (f,) = fire("maintainer-email-changed", quiet)
    assert f.severity is Severity.LOW
    recent = evidence(metadata=now, files=[dist("demo", "1.0", NOW - 5 * DAYS)])
    (g,) = fire("maintainer-email-changed", replace(recent, earlier_emails=earlier))
    assert g.severity is Severity.MEDIUM and g.evidence["corroborated_by"]


def test_late_file_is_low_unless_recent():
    files = [
        dist("demo", "1.0", NOW - 400 * DAYS),
        dist("demo", "1.0", NOW - 200 * DAYS, wheel=False),
    ]
    (f,) = fire("late-file", evidence(files=files))
    assert f.severity is Severity.LOW
    files[1] = dist("demo", "1.0", NOW - 3 * DAYS, wheel=False)
    (g,) = fire("late-file", evidence(files=files))
    assert g.severity is Severity.MEDIUM


def test_no_source_url_reads_download_url_and_every_project_url_label():
    bare = project_info(project_urls=())
    download = metadata(
        project_urls=(), download_url="https://github.com/microsoft/onnxruntime/tags"
    )
    assert fire("no-source-url", evidence(metadata=download, project=bare)) == []
    labelled = metadata(project_urls=(("Homepage", "https://gitlab.com/x/y"),))
    assert fire("no-source-url", evidence(metadata=labelled, project=bare)) == []
