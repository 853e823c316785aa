"""Each signal: one case where it fires (evidence asserted), one where it does not."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from scanner.models import Missing, OwnerRole, Severity
from scanner.signals import BY_ID, CATALOG
from tests.signals.build import NOW, context, dist, evidence, history, metadata, project_info

DAYS = timedelta(days=1)


def fire(signal_id, ev, **thresholds):
    signal = BY_ID[signal_id]
    return list(signal.check(signal, ev, context(**thresholds)))


def old_history(name="demo", n=5, last="1.4"):
    releases = {f"1.{i}": NOW - (600 - i * 100) * DAYS for i in range(n)}
    return history(name, releases)


def test_every_signal_is_documented():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "signals.md").read_text()
    for signal in CATALOG:
        assert f'<a id="{signal.id}"></a>' in docs, signal.id
        assert signal.rationale and signal.title


def test_yanked():
    files = [dist("demo", "1.0", NOW - 400 * DAYS, yanked=True, yanked_reason="broken")]
    (f,) = fire("yanked", evidence(files=files))
    assert f.severity is Severity.MEDIUM and f.evidence["reasons"] == ["broken"]
    assert fire("yanked", evidence()) == []


def test_project_status_from_pep_792_and_classifier():
    (f,) = fire("project-status", evidence(status="quarantined"))
    assert f.severity is Severity.HIGH and f.evidence["status"] == "quarantined"
    inactive = project_info(classifiers=("Development Status :: 7 - Inactive",))
    (g,) = fire("project-status", evidence(project=inactive))
    assert g.severity is Severity.MEDIUM
    assert fire("project-status", evidence(status="active")) == []


def test_dormant_then_release():
    files = history("demo", {"0.9": NOW - 1200 * DAYS, "1.0": NOW - 100 * DAYS})
    (f,) = fire("dormant-then-release", evidence(files=files))
    assert f.evidence["gap_days"] == 1100 and f.evidence["previous"] == "0.9"
    assert fire("dormant-then-release", evidence(version="1.4", files=old_history())) == []


def test_too_new():
    files = [dist("demo", "1.0", NOW - timedelta(hours=5))]
    (f,) = fire("too-new", evidence(files=files))
    assert f.evidence["age_hours"] == 5.0
    assert fire("too-new", evidence(files=files), **{"too-new.hours": 4}) == []


def test_young_project():
    files = history("demo", {"0.1": NOW - 30 * DAYS, "1.0": NOW - 10 * DAYS})
    (f,) = fire("young-project", evidence(files=files))
    assert f.evidence["age_days"] == 30
    assert fire("young-project", evidence(version="1.4", files=old_history())) == []


def test_few_releases():
    (f,) = fire("few-releases", evidence())
    assert f.evidence["releases"] == ["1.0"]
    assert fire("few-releases", evidence(version="1.4", files=old_history())) == []


def test_late_file():
    files = [
        dist("demo", "1.0", NOW - 400 * DAYS, wheel=False),
        dist("demo", "1.0", NOW - 10 * DAYS),
    ]
    (f,) = fire("late-file", evidence(files=files))
    assert list(f.evidence["late_files"]) == ["demo-1.0-py3-none-any.whl"]
    on_time = [
        dist("demo", "1.0", NOW - 400 * DAYS, wheel=False),
        dist("demo", "1.0", NOW - 399 * DAYS),
    ]
    assert fire("late-file", evidence(files=on_time)) == []


def test_sdist_only():
    (f,) = fire("sdist-only", evidence(files=[dist("demo", "1.0", NOW - 9 * DAYS, wheel=False)]))
    assert f.evidence["files"] == ["demo-1.0.tar.gz"]
    assert fire("sdist-only", evidence()) == []


def test_stale():
    files = [dist("demo", "1.0", NOW - 4 * 365 * DAYS)]
    (f,) = fire("stale", evidence(files=files))
    assert f.evidence["newest"] == "1.0"
    assert fire("stale", evidence()) == []


def test_not_on_index():
    ev = evidence()
    gone = type(ev)(ev.package, Missing("https://index.example/simple/demo/"), ev.project, None)
    (f,) = fire("not-on-index", gone)
    assert f.evidence["url"].endswith("/simple/demo/")
    missing_release = evidence(version="2.0", files=[dist("demo", "1.0", NOW - 9 * DAYS)])
    (g,) = fire("not-on-index", missing_release)
    assert g.evidence["newest_versions"] == ["1.0"]
    assert fire("not-on-index", evidence()) == []


def test_typosquat():
    (f,) = fire("typosquat", evidence(name="reqeusts"))
    assert f.evidence["popular"] == "requests" and f.evidence["difference"] == "swap"
    assert fire("typosquat", evidence(name="requests")) == []
    assert fire("typosquat", evidence(name="trustscan-demo")) == []


def test_no_source_url():
    bare = metadata(project_urls=(("Documentation", "https://docs.example"),))
    (f,) = fire("no-source-url", evidence(metadata=bare, project=project_info(project_urls=())))
    assert f.evidence["urls"] == {"Documentation": "https://docs.example"}
    assert fire("no-source-url", evidence(metadata=metadata())) == []
    github_home = metadata(project_urls=(), home_page="https://github.com/x/y")
    assert fire("no-source-url", evidence(metadata=github_home)) == []


def test_hash_mismatch():
    (f,) = fire("hash-mismatch", evidence(hashes=frozenset({"sha256:" + "b" * 64})))
    assert f.evidence["unmatched"] == ["b" * 64]
    assert fire("hash-mismatch", evidence(hashes=frozenset({"sha256:" + "a" * 64}))) == []


def test_not_from_index():
    from dataclasses import replace

    from scanner.models import PackageSource, SourceKind

    ev = evidence()
    vcs = replace(ev, package=replace(ev.package, source=PackageSource(SourceKind.VCS, "git+x")))
    (f,) = fire("not-from-index", vcs)
    assert f.evidence == {"source": "vcs", "location": "git+x"}
    assert fire("not-from-index", ev) == []


def test_sole_owner():
    solo = project_info(roles=(OwnerRole("alice", "Owner"), OwnerRole("eve", "Maintainer")))
    (f,) = fire("sole-owner", evidence(project=solo))
    assert f.evidence["owner"] == "alice"
    assert (
        fire("sole-owner", evidence(project=project_info(roles=solo.roles, organization="org")))
        == []
    )
    assert fire("sole-owner", evidence()) == []


@pytest.mark.parametrize(
    ("address", "kind"),
    [("Dev <x@mailinator.com>", "disposable"), ("a@example.com", "placeholder")],
)
def test_disposable_email(address, kind):
    (f,) = fire("disposable-email", evidence(metadata=metadata(author_email=address)))
    assert f.evidence["kind"] == kind
    assert fire("disposable-email", evidence(metadata=metadata(author_email="a@python.org"))) == []


def test_signal_docs_are_current():
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts" / "signal_docs.py"
    spec = importlib.util.spec_from_file_location("signal_docs", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    docs = script.parent.parent / "docs" / "signals.md"
    assert docs.read_text() == module.render(), "run: python scripts/signal_docs.py"
