"""Score 0-10 per package from its findings, and a separate confidence figure.

Every point lost names the finding that took it. What could not be evaluated
lowers confidence; it neither raises nor lowers the score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from scanner.models import Deduction, FamilyState, Finding, Severity

MAX_SCORE = 10.0
# Registry-proven facts (critical/high) weigh far more than hygiene (low).
WEIGHTS: Mapping[Severity, float] = {
    Severity.CRITICAL: 10.0,
    Severity.HIGH: 4.0,
    Severity.MEDIUM: 1.5,
    Severity.LOW: 0.5,
    Severity.INFO: 0.0,
}


def deductions(findings: Iterable[Finding]) -> tuple[Deduction, ...]:
    return tuple(
        Deduction(f.signal, f.severity, WEIGHTS[f.severity], f.message)
        for f in findings
        if WEIGHTS[f.severity] > 0
    )


def score(taken: Iterable[Deduction]) -> float:
    return max(0.0, MAX_SCORE - sum(d.points for d in taken))


def confidence(families: Mapping[str, FamilyState]) -> float:
    """The share of applicable evidence families that were evaluated, 0-1."""
    applicable = [f for f in families.values() if f.state != "not-applicable"]
    if not applicable:
        return 0.0
    return sum(f.state == "evaluated" for f in applicable) / len(applicable)
