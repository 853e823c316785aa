"""Maintainers: who can publish the next release."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.models import Evidence, Finding, ProjectInfo, Severity
from scanner.signals.interface import Signal, SignalContext


def _sole_owner(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    project = evidence.project
    if not isinstance(project, ProjectInfo) or project.roles is None:
        return
    owners = [r.user for r in project.roles if r.role == "Owner"]
    if len(owners) == 1 and not project.organization:
        yield signal.finding(
            evidence,
            f"one account, {owners[0]}, owns the project, and no organization does",
            owner=owners[0],
            roles=[{"user": r.user, "role": r.role} for r in project.roles],
            url=project.url,
        )


SOLE_OWNER = Signal(
    id="sole-owner",
    title="Single owner",
    severity=Severity.LOW,
    family="maintainers",
    rationale="One account is one phished password away from a malicious release.",
    check=_sole_owner,
)
