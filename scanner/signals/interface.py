"""What a signal is: a stable id, a default severity, a rationale, a pure check.

A check takes the evidence of one package and returns findings; it does no
I/O and knows nothing of HTTP, SQL or terminals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from scanner.models import Evidence, EvidenceValue, Finding, Severity
from scanner.refdata import ReferenceData
from scanner.trust import TrustEntry, TrustRecord


@dataclass(frozen=True, slots=True)
class SignalContext:
    """What checks may read besides the evidence: the clock, thresholds, reference
    data, and the committed trust record (what a reviewer approved)."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    thresholds: dict[str, float] = field(default_factory=dict)  # "signal-id.key" -> value
    reference: ReferenceData | None = None
    record: TrustRecord | None = None
    require_record: bool = False  # policy: every package needs an entry (`untrusted`)

    def entry(self, evidence: Evidence) -> TrustEntry | None:
        return self.record.entry(evidence.package.name) if self.record else None

    @property
    def record_path(self) -> str | None:
        """The trust record's file, for a finding's evidence."""
        return self.record.path if self.record else None

    def threshold(self, signal: Signal, key: str) -> float:
        return self.thresholds.get(f"{signal.id}.{key}", signal.thresholds[key])


Check = Callable[["Signal", Evidence, SignalContext], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Signal:
    id: str
    title: str
    severity: Severity
    family: str  # integrity, releases, names, metadata, maintainers, provenance, vulnerabilities
    rationale: str
    check: Check
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def anchor(self) -> str:
        return f"docs/signals.md#{self.id}"

    def finding(
        self,
        evidence: Evidence,
        message: str,
        severity: Severity | None = None,
        **observed: EvidenceValue,
    ) -> Finding:
        return Finding(
            signal=self.id,
            severity=severity if severity is not None else self.severity,
            package=evidence.package.name,
            version=str(evidence.package.version) if evidence.package.version else None,
            message=message,
            evidence=observed,
        )
