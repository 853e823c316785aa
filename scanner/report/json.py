"""The JSON report (versioned: bump SCHEMA_VERSION on any incompatible change)."""

from __future__ import annotations

import json
from typing import Any

from scanner.models import Finding, PackageReport, ScanResult
from scanner.scoring import COMPONENTS, standing
from scanner.text import bounded

SCHEMA_VERSION = "1.0"


def to_dict(result: ScanResult) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": "trustscan",
        "input": result.input,
        "format": result.format,
        "index_url": result.index_url,
        "started_at": result.started_at.isoformat(),
        "seconds": round(result.seconds, 3),
        "environment": dict(result.environment),
        "summary": summary_counts(result),
        "publisher_repositories": repositories(result),
        "verdict": {
            "exit_code": result.verdict.exit_code,
            "label": result.verdict.label,
            "reasons": list(result.verdict.reasons),
        },
        "policy": result.policy_source,
        "baseline": None
        if result.baseline is None
        else {
            "file": result.baseline.baseline,
            "added": list(result.baseline.added),
            "removed": list(result.baseline.removed),
            "indexes_added": list(result.baseline.indexes_added),
            "changed": [
                {"name": n, "from": old, "to": new} for n, old, new in result.baseline.changed
            ],
        },
        "roots": list(result.roots),
        "notes": list(result.notes),
        "input_findings": [finding_dict(f) for f in result.input_findings],
        "packages": [_package(p) for p in result.packages],
    }


_last: tuple[ScanResult, dict[str, Any]] | None = None


def document(result: ScanResult) -> dict[str, Any]:
    """The report as JSON data with long metadata strings cut (`bounded`): what is
    printed and what the store keeps. Made once per result (the CLI needs it twice)."""
    global _last
    if _last is None or _last[0] is not result:
        made = bounded(to_dict(result))
        assert isinstance(made, dict)
        _last = (result, made)
    return _last[1]


def render_json(result: ScanResult) -> str:
    """One package per line, so two reports diff package by package (`jq .` indents
    it all). JSON escapes control and non-ASCII characters; long metadata strings are
    cut. Written by the C encoder, line by line: indent=2 would be the slow pure-Python
    one."""
    report = document(result)
    head = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in report.items() if k != "packages"]
    packages = ",\n".join(f"    {json.dumps(p)}" for p in report["packages"])
    body = ",\n".join(
        [*head, f'  "packages": [\n{packages}\n  ]' if packages else '  "packages": []']
    )
    return "{\n" + body + "\n}\n"


def summary_counts(result: ScanResult) -> dict[str, int]:
    packages = result.packages
    provenance: dict[str, int] = {}
    for p in packages:
        for state, count in p.provenance.items():
            provenance[state] = provenance.get(state, 0) + count
    return {
        "packages": len(packages),
        "evaluated": sum(p.evaluated for p in packages),
        "not_evaluated": sum(not p.evaluated for p in packages),
        "with_findings": sum(bool(p.findings) for p in packages),
        "findings": sum(len(p.findings) for p in packages),
        "vulnerabilities_unknown": sum(
            p.families.get("vulnerabilities") is not None
            and p.families["vulnerabilities"].state == "unknown"
            for p in packages
        ),
        "files_provenance_verified": provenance.get("verified", 0),
        "files_provenance_invalid": provenance.get("invalid", 0),
        "files_provenance_none": provenance.get("none", 0),
        "files_provenance_unknown": provenance.get("unknown", 0),
        **{
            f"packages_publisher_{state}": sum(p.publisher_state == state for p in packages)
            for state in ("verified", "invalid", "none", "unknown")
        },
    }


def repositories(result: ScanResult) -> list[str]:
    """The distinct repositories whose Trusted Publishers built the dependencies."""
    return sorted(
        {
            f"{publisher.kind} {publisher.repository or publisher.email}"
            for p in result.packages
            for _, publisher in p.publishers
        }
    )


def _package(p: PackageReport) -> dict[str, Any]:
    return {
        "name": p.name,
        "id": p.key,  # the name, or name@version when the lock pins it at several
        "version": p.version,
        "source": {"kind": p.source.kind.value, "location": p.source.location},
        "location": {"file": p.file, "line": p.line},
        "direct": p.direct,
        "evaluated": p.evaluated,
        "not_evaluated_reason": p.not_evaluated_reason,
        "score": p.score,
        "confidence": round(p.confidence, 3),
        "path_risk": p.path_risk,
        "blast_radius": p.blast_radius,
        "families": {k: {"state": v.state, "reason": v.reason} for k, v in p.families.items()},
        "provenance": dict(p.provenance),
        "contents": None
        if p.contents is None
        else {
            "wheel": p.contents.wheel,
            "files": p.contents.files,
            "pth": dict(p.contents.pth),
            "commands": list(p.contents.commands),
            "native": p.contents.native,
            "previous_wheel": p.contents.previous_wheel,
            "added": list(p.contents.added[:50]),
            "removed": list(p.contents.removed[:50]),
            "added_count": len(p.contents.added),
            "removed_count": len(p.contents.removed),
        },
        "publishers": [
            {
                "file": filename,
                "kind": publisher.kind,
                "repository": publisher.repository or publisher.email,
                "workflow": publisher.workflow,
                "environment": publisher.environment,
            }
            for filename, publisher in p.publishers
        ],
        "summary": p.summary,
        "urls": dict(p.urls),
        "dependencies": list(p.dependencies),
        "dependents": list(p.dependents),
        "standing": standing(p.credits),
        "credits": [
            {
                "component": c.component,
                "value": c.value,
                "weight": COMPONENTS[c.component],
                "observed": c.observed,
            }
            for c in p.credits
        ],
        "deductions": [
            {"signal": d.signal, "severity": d.severity.label, "points": d.points}
            for d in p.deductions
        ],
        "findings": [finding_dict(f) for f in p.findings],
        "releases": [
            {
                "version": r.version,
                "uploaded": r.uploaded,
                "yanked": r.yanked,
                "attested": r.attested,
            }
            for r in p.releases
        ],
        "waived": [
            {**finding_dict(w.finding), "reason": w.reason, "expires": w.expires} for w in p.waived
        ],
    }


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "signal": f.signal,
        "severity": f.severity.label,
        "message": f.message,
        "evidence": dict(f.evidence),
    }
