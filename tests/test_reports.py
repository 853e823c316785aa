"""Report formats: JSON against our schema, SARIF against the official 2.1.0 schema, Markdown."""

from __future__ import annotations

import json

import jsonschema
import pytest

from scanner.cli import main
from scanner.report.markdown import md
from tests.conftest import DATA, LOCKS

ROOT = DATA.parents[1]
DB = str(DATA / "advisories" / "pypa-subset.zip")


def render(capsys, index, lock, fmt):
    main(
        [
            "scan",
            str(LOCKS / lock),
            "--index-url",
            index.url,
            "--format",
            fmt,
            "--no-live-advisories",
            "--advisory-db",
            DB,
        ]
    )
    return capsys.readouterr().out


@pytest.mark.parametrize("lock", ["warehouse-deploy.txt", "signals.txt", "pylock.toml"])
def test_json_validates_against_the_schema(capsys, index, lock):
    schema = json.loads((ROOT / "data" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(render(capsys, index, lock, "json")), schema)


def test_json_has_one_package_a_line_and_stays_ascii(capsys, index):
    text = render(capsys, index, "warehouse-deploy.txt", "json")
    report = json.loads(text)
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and text.isascii()
    for package in report["packages"]:  # each whole on its own line
        line = json.dumps(package)
        assert f"    {line}," in lines or f"    {line}" in lines
    assert len(lines) == len(report) + 2 + len(report["packages"]) + 1


def test_json_of_an_empty_lock_is_valid(capsys, index, tmp_path):
    empty = tmp_path / "requirements.txt"
    empty.write_text("# nothing\n")
    main(["scan", str(empty), "--index-url", index.url, "--format", "json"])
    assert json.loads(capsys.readouterr().out)["packages"] == []


@pytest.mark.parametrize("lock", ["warehouse-deploy.txt", "signals.txt", "pylock.toml"])
def test_sarif_validates_against_sarif_2_1_0(capsys, index, lock):
    schema = json.loads((DATA / "schemas" / "sarif-schema-2.1.0.json").read_text())
    document = json.loads(render(capsys, index, lock, "sarif"))
    jsonschema.Draft4Validator(schema).validate(document)
    run = document["runs"][0]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} >= {"yanked", "known-vulnerability"}
    for result in run["results"]:
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1


def test_sarif_carries_advisory_ids(capsys, index):
    document = json.loads(render(capsys, index, "pylock.toml", "sarif"))
    vulns = [r for r in document["runs"][0]["results"] if r["ruleId"] == "known-vulnerability"]
    assert vulns and all(r["properties"]["advisories"] for r in vulns)
    assert all(r["properties"]["advisories"][0] in r["message"]["text"] for r in vulns)


def test_markdown_is_a_table_of_findings(capsys, index):
    text = render(capsys, index, "pylock.toml", "markdown")
    assert text.startswith("## trustscan: fail (exit 1)")
    header = "| package | version | score | severity | signal | finding | advisories, fixed in |"
    assert header in text
    assert text.index("**Why:**") < text.index(header)  # the verdict's reasons come first
    rows = [line for line in text.splitlines() if line.startswith("| `` urllib3 `` |")]
    assert rows and any("known-vulnerability" in r and "1.26.17" in r for r in rows)
    assert "[PYSEC-2023-192](https://osv.dev/vulnerability/PYSEC-2023-192)" in text
    severities = [line.split(" | ")[3] for line in text.splitlines() if line.startswith("| `` ")]
    order = ["critical", "high", "medium", "low", "info"]
    assert severities == sorted(severities, key=order.index)  # worst first


def test_markdown_stays_within_githubs_comment_limit():
    """The 303-package odh lock's report was too long for a PR comment: rows are cut,
    worst kept, and a line says how many were left out."""
    from datetime import UTC, datetime

    from packaging.utils import canonicalize_name

    from scanner.models import INDEX_SOURCE, Finding, PackageReport, ScanResult, Severity, Verdict
    from scanner.report.markdown import LIMIT, render_markdown

    def package(i: int) -> PackageReport:
        name = canonicalize_name(f"package-{i}")
        severity = Severity.CRITICAL if i == 7 else Severity.LOW
        findings = tuple(Finding("sole-owner", severity, name, "1.0", "x" * 250) for _ in range(3))
        return PackageReport(
            name=name, version="1.0", source=INDEX_SOURCE, file=None, line=None,
            direct=True, evaluated=True, not_evaluated_reason=None, families={},
            findings=findings, score=9.5, confidence=1.0, deductions=(), summary=None,
            urls={}, provenance={}, dependencies=(), dependents=(),
        )  # fmt: skip

    result = ScanResult(
        input="requirements.txt", format="requirements", index_url="", environment={},
        started_at=datetime.now(UTC), seconds=1.0, roots=(), notes=(),
        packages=tuple(package(i) for i in range(300)), verdict=Verdict(1, ("x",)),
    )  # fmt: skip
    text = render_markdown(result)
    assert len(text) <= LIMIT
    assert "more findings not shown here" in text
    assert text.count("| critical |") == 3  # the worst are kept


def test_markdown_cannot_inject_links_or_html():
    hostile = "[click](https://evil.example) <img src=x onerror=alert(1)> | ![i](x) `code`"
    escaped = md(hostile, 500)
    # One code span from start to end: nothing inside is a link, an image or HTML.
    assert escaped.startswith("`` ") and escaped.endswith(" ``")
    assert escaped.count("`") == 4 and " | " not in escaped and "\\|" in escaped


def test_table_shows_fix_versions(capsys, index):
    text = render(capsys, index, "pylock.toml", "text")
    assert "fixed in 1.26.17" in text or "fixed in" in text


def test_explain_and_signals_commands(capsys, index):
    render(capsys, index, "signals.txt", "json")
    assert main(["explain", "requests"]) == 0
    out = capsys.readouterr().out
    yanked = next(line for line in out.splitlines() if "yanked:" in line)
    assert yanked.split()[:3] == ["-4.0", "high", "yanked:"] and "CVE-2024-35195" in yanked
    assert "vulnerabilities: evaluated" in out
    assert main(["explain", "nonexistent"]) == 2
    assert main(["signals"]) == 0
    catalog = capsys.readouterr().out
    assert "threshold too-new.hours = 72" in catalog and "typosquat  [high]" in catalog


def test_sarif_is_what_code_scanning_takes(capsys, index, tmp_path, monkeypatch):
    """help per rule, URIs relative to the repository, waivers as suppressions, packages
    not evaluated as results, security-severity from the policy's severity, and one
    result per package and signal."""
    repo = tmp_path / "repo"
    (repo / "deps").mkdir(parents=True)
    (repo / ".git").mkdir()
    lock = repo / "deps" / "pylock.toml"
    lock.write_text((LOCKS / "pylock.toml").read_text())
    policy = repo / "trustscan.toml"
    policy.write_text(
        '[severity]\nhash-mismatch = "medium"\n[[ignore]]\npackage = "certifi"\n'
        'signal = "known-vulnerability"\nreason = "not reachable"\n'
    )
    monkeypatch.chdir(repo / "deps")  # a subfolder: the URI is still the repository's
    options = ["--policy", str(policy), "--no-live-advisories", "--advisory-db", DB]
    main(["scan", str(lock), "--index-url", index.url, "--format", "sarif", *options])
    document = json.loads(capsys.readouterr().out)
    schema = json.loads((DATA / "schemas" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(document, schema)
    run = document["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert all(r["help"]["text"] and r["help"]["markdown"] for r in rules.values())
    results = run["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == {"deps/pylock.toml"}
    keys = [
        (r["ruleId"], r["properties"].get("package")) for r in results if "suppressions" not in r
    ]
    assert len(keys) == len(set(keys))  # one result per package and signal
    suppressed = [r for r in results if "suppressions" in r]
    assert suppressed and suppressed[0]["properties"]["package"] == "certifi"
    lowered = next(r for r in results if r["ruleId"] == "hash-mismatch")  # critical by default
    assert lowered["level"] == "warning" and lowered["properties"]["security-severity"] == "5.5"
    urllib3 = [r for r in results if r["properties"].get("package") == "urllib3"]
    assert len(urllib3) == 1 and len(urllib3[0]["properties"]["findings"]) > 1


def test_sarif_lists_packages_not_evaluated(capsys, index, tmp_path):
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.16.0\nfoo @ https://example.com/foo-1.0.tar.gz\n")
    main(["scan", str(lock), "--index-url", index.url, "--format", "sarif", "--no-live-advisories"])
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    (unevaluated,) = [r for r in results if r["ruleId"] == "not-evaluated"]
    assert unevaluated["properties"]["package"] == "foo"
    assert "allow-sources" in unevaluated["message"]["text"]


def test_cyclonedx_validates_and_carries_what_trustscan_found(capsys, index):
    from cyclonedx.schema import OutputFormat, SchemaVersion
    from cyclonedx.validation import make_schemabased_validator

    text = render(capsys, index, "pylock.toml", "cyclonedx")
    assert (
        make_schemabased_validator(OutputFormat.JSON, SchemaVersion.V1_6).validate_str(text) is None
    )
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    urllib3 = next(c for c in bom["components"] if c["name"] == "urllib3")
    assert urllib3["purl"] == "pkg:pypi/urllib3@1.26.12"
    assert urllib3["hashes"] and urllib3["hashes"][0]["alg"] == "SHA-256"
    names = {p["name"] for p in urllib3["properties"]}
    assert {"trustscan:score", "trustscan:provenance", "trustscan:finding"} <= names
    assert any(d["ref"].startswith("requests@") and d.get("dependsOn") for d in bom["dependencies"])


def test_the_same_reason_for_many_packages_is_said_once():
    from scanner.report.table import grouped

    reasons = [f"p{i} 1.0: vulnerabilities unknown (no source)" for i in range(7)]
    reasons.append("six 1.16.0: hash-mismatch")
    assert grouped(reasons) == [
        "7 packages (p0 1.0, p1 1.0, p2 1.0, p3 1.0, p4 1.0 and 2 more): "
        "vulnerabilities unknown (no source)",
        "six 1.16.0: hash-mismatch",
    ]
