"""SARIF 2.1.0: one rule per signal, one result per finding, located in the lockfile.

https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scanner import __version__
from scanner.models import Finding, PackageReport, ScanResult, Severity
from scanner.signals import CATALOG
from scanner.text import bounded, inert

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
HOME = "https://github.com/trustscan/trustscan"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


NOT_EVALUATED = "not-evaluated"  # the rule of packages that could not be evaluated


def render_sarif(result: ScanResult) -> str:
    """One run; a rule per signal (with help text and Markdown), one result per package
    and signal (several findings of a signal on one package are one result, all of them
    in its properties), waived findings as suppressed results, packages that could not
    be evaluated as results of their own rule. Locations are relative to the repository."""
    rules = [_rule(s.id, s.title, s.rationale, s.severity, s.family) for s in CATALOG]
    rules.append(
        _rule(
            NOT_EVALUATED,
            "Not evaluated",
            "trustscan could not fetch or check what the gate requires for this package: "
            "unknown is not safe, and the gate fails closed (exit 3) unless allowed.",
            Severity.HIGH,
            "integrity",
        )
    )
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [_input_result(result.input, f, index) for f in result.input_findings]
    for package in result.packages:
        if not package.evaluated:
            results.append(_not_evaluated(package, index))
        by_signal: dict[str, list[Finding]] = {}
        for finding in package.findings:
            by_signal.setdefault(finding.signal, []).append(finding)
        for findings in by_signal.values():
            results.append(_result(package, findings, index))
        for waived in package.waived:
            suppressed = _result(package, [waived.finding], index)
            suppressed["suppressions"] = [
                {"kind": "external", "justification": inert(waived.reason, 500)}
            ]
            results.append(suppressed)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "trustscan",
                        "version": __version__,
                        "informationUri": HOME,
                        "rules": rules,
                    }
                },
                "results": results,
                "properties": {"verdict": result.verdict.label},
            }
        ],
    }
    return json.dumps(bounded(document), indent=2) + "\n"


def _rule(
    rule_id: str, title: str, rationale: str, severity: Severity, family: str
) -> dict[str, Any]:
    return {
        "id": rule_id,
        "name": title,
        "shortDescription": {"text": title},
        "fullDescription": {"text": rationale},
        "help": {
            "text": f"{title}. {rationale} Run `trustscan signals {rule_id}` for when it fires.",
            "markdown": f"**{title}**\n\n{rationale}\n\n`trustscan signals {rule_id}` says "
            "when it fires and what it reads; `trustscan explain PACKAGE` shows the evidence.",
        },
        "helpUri": f"{HOME}/blob/main/docs/signals.md#{rule_id}",
        "defaultConfiguration": {"level": _LEVEL[severity]},
        "properties": {
            "security-severity": _SECURITY_SEVERITY[severity],
            "tags": ["security", "supply-chain", family],
        },
    }


def _location(package: PackageReport) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": _uri(package.file)}},
        "logicalLocations": [{"name": f"{package.name}", "kind": "package"}],
    }
    if package.line:
        location["physicalLocation"]["region"] = {"startLine": package.line}
    return location


def _result(
    package: PackageReport, findings: list[Finding], index: dict[str, int]
) -> dict[str, Any]:
    """One result for a package and signal; its level and security-severity from the
    effective (policy) severity of the worst finding."""
    worst = max(findings, key=lambda f: f.severity)
    more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
    text = f"{package.name} {package.version or ''}: {inert(worst.message, 500)}{more}"
    ids = [i for f in findings for i in _list(f.evidence.get("ids"))]
    properties: dict[str, Any] = {
        "package": package.name,
        "version": package.version,
        "severity": worst.severity.label,
        "security-severity": _SECURITY_SEVERITY[worst.severity],
        "publishers": [
            {
                "file": f,
                "kind": p.kind,
                "repository": p.repository or p.email,
                "workflow": p.workflow,
            }
            for f, p in package.publishers
        ],
        "evidence": dict(worst.evidence),
        "findings": [
            {
                "severity": f.severity.label,
                "message": inert(f.message, 500),
                "evidence": dict(f.evidence),
            }
            for f in findings
        ],
    }
    if ids:
        properties["advisories"] = sorted(set(map(str, ids)))
    return {
        "ruleId": worst.signal,
        "ruleIndex": index.get(worst.signal, 0),
        "level": _LEVEL[worst.severity],
        "message": {"text": text},
        "locations": [_location(package)],
        "partialFingerprints": {
            "trustscan/v1": f"{worst.signal}:{package.name}:{package.version or ''}"
        },
        "properties": properties,
    }


def _not_evaluated(package: PackageReport, index: dict[str, int]) -> dict[str, Any]:
    return {
        "ruleId": NOT_EVALUATED,
        "ruleIndex": index[NOT_EVALUATED],
        "level": "error",
        "message": {
            "text": f"{package.name} {package.version or ''}: not evaluated: "
            f"{inert(package.not_evaluated_reason, 500)}"
        },
        "locations": [_location(package)],
        "partialFingerprints": {
            "trustscan/v1": f"{NOT_EVALUATED}:{package.name}:{package.version or ''}"
        },
        "properties": {"package": package.name, "version": package.version},
    }


def _input_result(path: str, finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    """A finding of the lockfile itself, located at the file."""
    return {
        "ruleId": finding.signal,
        "ruleIndex": index.get(finding.signal, 0),
        "level": _LEVEL[finding.severity],
        "message": {"text": inert(finding.message, 500)},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(path)}}}],
        "partialFingerprints": {
            "trustscan/v1": f"{finding.signal}:{finding.evidence.get('index', '')}"
        },
        "properties": {
            "severity": finding.severity.label,
            "security-severity": _SECURITY_SEVERITY[finding.severity],
            "evidence": dict(finding.evidence),
        },
    }


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _uri(file: str | None) -> str:
    """The lockfile's path relative to the repository's top (the folder holding .git),
    else to the current directory, as code scanning wants it: a scan run in a subfolder
    still points at the file."""
    if not file:
        return "unknown"
    path = Path(file)
    for root in (_git_top(path), Path.cwd()):
        if root is None:
            continue
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except (ValueError, OSError):
            continue
    return file.lstrip("/")


def _git_top(path: Path) -> Path | None:
    """The nearest folder above `path` holding `.git`, without running git."""
    for parent in path.resolve().parents:
        if (parent / ".git").exists():
            return parent
    return None
