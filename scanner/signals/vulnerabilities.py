"""Vulnerabilities: advisories that cover the pinned release."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.models import Advisory, Evidence, Finding, Severity
from scanner.signals.interface import Signal, SignalContext

_SEVERITY_WORDS = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
}


def _advisories(evidence: Evidence) -> tuple[Advisory, ...]:
    report = evidence.vulnerabilities
    if report is None or not isinstance(report.advisories, tuple):
        return ()
    return report.advisories


def _observed(advisory: Advisory, source: str) -> dict[str, object]:
    return {
        "ids": list(advisory.ids),
        "fixed_in": list(advisory.fixed),
        "summary": advisory.summary,
        "links": list(advisory.links),
        "source": source,
    }


def _known(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    source = evidence.vulnerabilities.source if evidence.vulnerabilities else ""
    for advisory in _advisories(evidence):
        if advisory.malicious:
            continue
        severity = _SEVERITY_WORDS.get((advisory.severity or "").upper(), signal.severity)
        fixed = f"; fixed in {', '.join(advisory.fixed)}" if advisory.fixed else "; no fix listed"
        yield signal.finding(
            evidence,
            f"{advisory.id}"
            + (f" ({', '.join(advisory.aliases[:3])})" if advisory.aliases else "")
            + fixed,
            severity=severity,
            **_observed(advisory, source),
        )


def _malicious(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    source = evidence.vulnerabilities.source if evidence.vulnerabilities else ""
    for advisory in _advisories(evidence):
        if advisory.malicious:
            yield signal.finding(
                evidence,
                f"{advisory.id}: this release is reported malicious",
                **_observed(advisory, source),  # type: ignore[arg-type]
            )


KNOWN_VULNERABILITY = Signal(
    id="known-vulnerability",
    title="Known vulnerability",
    severity=Severity.HIGH,
    family="vulnerabilities",
    rationale="A published, non-withdrawn advisory covers the pinned version.",
    check=_known,
)
MALICIOUS_PACKAGE = Signal(
    id="malicious-package",
    title="Malicious release",
    severity=Severity.CRITICAL,
    family="vulnerabilities",
    rationale="An OSV MAL- advisory reports the release as malware: remove it, rotate secrets.",
    check=_malicious,
)
