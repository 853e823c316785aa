"""Vulnerabilities: advisories that cover the pinned release."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.models import Advisory, Evidence, Finding, Severity
from scanner.signals.interface import Signal, SignalContext
from scanner.vulns.cvss import base_score, severity_word

_SEVERITY_WORDS = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
}


def _severity(advisory: Advisory, default: Severity) -> tuple[Severity, str]:
    """From the advisory's CVSS v3 vector when it has one, else its own word, else
    `default`; and how it was rated, for the message."""
    score = base_score(advisory.cvss) if advisory.cvss else None
    if score is not None:
        word = severity_word(score)
        return _SEVERITY_WORDS.get(word, Severity.LOW), f"CVSS {score} ({word.lower()})"
    if advisory.severity and advisory.severity.upper() in _SEVERITY_WORDS:
        return _SEVERITY_WORDS[advisory.severity.upper()], f"rated {advisory.severity.lower()}"
    return default, f"no severity given ({default.label} assumed)"


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
        severity, rated = _severity(advisory, signal.severity)
        fixed = f"; fixed in {', '.join(advisory.fixed)}" if advisory.fixed else "; no fix listed"
        yield signal.finding(
            evidence,
            f"{advisory.id}"
            + (f" ({', '.join(advisory.aliases[:3])})" if advisory.aliases else "")
            + f", {rated}"
            + fixed,
            severity=severity,
            cvss=advisory.cvss,
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
