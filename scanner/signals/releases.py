"""Releases: what the index says about the pinned release itself."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.models import Evidence, Finding, Severity
from scanner.signals.interface import Signal, SignalContext


def _yanked(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    files = evidence.release_files
    yanked = [f for f in files if f.yanked]
    if not yanked:
        return
    reasons = sorted({f.yanked_reason for f in yanked if f.yanked_reason})
    whole = len(yanked) == len(files)
    yield signal.finding(
        evidence,
        f"{evidence.package.name} {evidence.package.version} is yanked"
        + ("" if whole else f" ({len(yanked)} of {len(files)} files)")
        + (f": {reasons[0]}" if reasons else " (no reason given)"),
        severity=None if whole else Severity.MEDIUM,
        reasons=list(reasons),
        files=[f.filename for f in yanked],
    )


def _sdist_only(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    files = evidence.release_files
    if files and not any(f.is_wheel for f in files):
        yield signal.finding(
            evidence,
            "no wheel: installing it runs the package's build code",
            files=[f.filename for f in files],
        )


YANKED = Signal(
    id="yanked",
    title="Yanked release",
    severity=Severity.HIGH,
    family="releases",
    rationale="Maintainers yank releases that are broken or dangerous (PEP 592); "
    "a lock that still pins one should be looked at.",
    check=_yanked,
)
SDIST_ONLY = Signal(
    id="sdist-only",
    title="No wheel",
    severity=Severity.LOW,
    family="releases",
    rationale="Without a wheel, installing runs arbitrary build code on the installing machine.",
    check=_sdist_only,
)
