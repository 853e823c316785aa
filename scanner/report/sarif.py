"""SARIF 2.1.0: one rule per signal, one result per finding, located in the lockfile.

https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
"""

from __future__ import annotations

import json
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


def render_sarif(result: ScanResult) -> str:
    rules = [
        {
            "id": signal.id,
            "name": signal.title,
            "shortDescription": {"text": signal.title},
            "fullDescription": {"text": signal.rationale},
            "helpUri": f"{HOME}/blob/main/{signal.anchor}",
            "defaultConfiguration": {"level": _LEVEL[signal.severity]},
            "properties": {
                "security-severity": _SECURITY_SEVERITY[signal.severity],
                "tags": ["security", "supply-chain", signal.family],
            },
        }
        for signal in CATALOG
    ]
    index = {signal.id: i for i, signal in enumerate(CATALOG)}
    results = [_input_result(result.input, f, index) for f in result.input_findings]
    results += [
        _result(package, finding_index, index)
        for package in result.packages
        for finding_index in range(len(package.findings))
    ]
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


def _result(package: PackageReport, i: int, index: dict[str, int]) -> dict[str, Any]:
    finding = package.findings[i]
    ids = finding.evidence.get("ids")
    text = f"{package.name} {package.version or ''}: {inert(finding.message, 500)}"
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": _uri(package.file)}},
        "logicalLocations": [{"name": f"{package.name}", "kind": "package"}],
    }
    if package.line:
        location["physicalLocation"]["region"] = {"startLine": package.line}
    properties: dict[str, Any] = {
        "package": package.name,
        "version": package.version,
        "publishers": [
            {
                "file": f,
                "kind": p.kind,
                "repository": p.repository or p.email,
                "workflow": p.workflow,
            }
            for f, p in package.publishers
        ],
        "severity": finding.severity.label,
        "evidence": {k: v for k, v in finding.evidence.items()},
    }
    if isinstance(ids, list):
        properties["advisories"] = ids
    return {
        "ruleId": finding.signal,
        "ruleIndex": index.get(finding.signal, 0),
        "level": _LEVEL[finding.severity],
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {
            "trustscan/v1": f"{finding.signal}:{package.name}:{package.version or ''}"
        },
        "properties": properties,
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
        "properties": {"severity": finding.severity.label, "evidence": dict(finding.evidence)},
    }


def _uri(file: str | None) -> str:
    if not file:
        return "unknown"
    return file.lstrip("/") if not file.startswith(("./", "../")) else file
