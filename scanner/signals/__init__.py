"""The signal catalog: every signal trustscan computes, in one explicit list."""

from __future__ import annotations

from collections.abc import Iterable

from scanner.models import Evidence, Finding
from scanner.signals.integrity import HASH_MISMATCH, NOT_FROM_INDEX, NOT_ON_INDEX
from scanner.signals.interface import Signal, SignalContext
from scanner.signals.releases import SDIST_ONLY, YANKED
from scanner.signals.vulnerabilities import KNOWN_VULNERABILITY, MALICIOUS_PACKAGE

CATALOG: tuple[Signal, ...] = (
    NOT_ON_INDEX,
    HASH_MISMATCH,
    NOT_FROM_INDEX,
    YANKED,
    SDIST_ONLY,
    MALICIOUS_PACKAGE,
    KNOWN_VULNERABILITY,
)
BY_ID = {signal.id: signal for signal in CATALOG}

__all__ = ["BY_ID", "CATALOG", "Signal", "SignalContext", "run_signals"]


def run_signals(
    evidence: Evidence, context: SignalContext, signals: Iterable[Signal] = CATALOG
) -> list[Finding]:
    """Every finding the signals raise for one package, worst first."""
    findings = [f for signal in signals for f in signal.check(signal, evidence, context)]
    return sorted(findings, key=lambda f: (-f.severity, f.signal))
