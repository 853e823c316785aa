"""The gate: from package reports and a policy to an exit code.

0 pass; 1 a package violates the policy; 3 something could not be evaluated
and the policy fails closed. Hygiene findings (low) alone never fail the
default policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scanner.models import PackageReport, Severity, Verdict

# Evidence families whose `unknown` fails the gate unless allowed.
REQUIRED_FAMILIES = ("registry", "vulnerabilities")


@dataclass(frozen=True, slots=True)
class Policy:
    fail_on: frozenset[Severity] = frozenset({Severity.CRITICAL, Severity.HIGH})
    fail_under: float | None = None
    allow_unevaluated: bool = False
    require_attestations: bool = False

    @property
    def required_families(self) -> tuple[str, ...]:
        return REQUIRED_FAMILIES + (("provenance",) if self.require_attestations else ())


def gate(packages: Sequence[PackageReport], policy: Policy) -> Verdict:
    violations: list[str] = []
    unevaluated: list[str] = []
    for package in packages:
        label = f"{package.name} {package.version or ''}".strip()
        failing = sorted({f.signal for f in package.findings if f.severity in policy.fail_on})
        if failing:
            violations.append(f"{label}: {', '.join(failing)}")
        elif (
            policy.fail_under is not None
            and package.score is not None
            and package.score < policy.fail_under
        ):
            violations.append(f"{label}: score {package.score:.1f} < {policy.fail_under}")
        if not package.evaluated:
            unevaluated.append(f"{label}: not evaluated ({package.not_evaluated_reason})")
            continue
        for family in policy.required_families:
            state = package.families.get(family)
            if state is not None and state.state == "unknown":
                unevaluated.append(f"{label}: {family} unknown ({state.reason})")
    if violations:
        return Verdict(1, tuple(violations))
    if unevaluated and not policy.allow_unevaluated:
        return Verdict(3, tuple(unevaluated))
    return Verdict(0, ())
