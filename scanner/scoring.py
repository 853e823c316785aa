"""Score 0-10 per package, and a separate confidence figure.

The score is what a reviewer weighs, in two steps:

1. **Standing** (5-10), from positive evidence where it was observed: attested
   provenance of the pinned release, who owns the project (an organization, several
   owners, one), how long it has been published, and whether it is maintained. Each
   component is 0-1 with a weight; the standing is 5 + 5 x their weighted mean over
   the components that were *observed*. What was not observed (an index that does
   not expose provenance) is left out of the mean: it lowers confidence, not score.
2. **Findings** take points off the standing: 10 per critical, 4 per high, 1.5 per
   medium, 0.5 per low (never below 0).

Every point given names what was observed, and every point lost names its finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from scanner.models import (
    Credit,
    Deduction,
    Evidence,
    FamilyState,
    Finding,
    ProjectFiles,
    ProjectInfo,
    Severity,
)

MAX_SCORE = 10.0
FLOOR = 5.0  # the standing of a package about which nothing good was observed
# Registry-proven facts (critical/high) weigh far more than hygiene (low).
WEIGHTS: Mapping[Severity, float] = {
    Severity.CRITICAL: 10.0,
    Severity.HIGH: 4.0,
    Severity.MEDIUM: 1.5,
    Severity.LOW: 0.5,
    Severity.INFO: 0.0,
}
# How much each kind of positive evidence counts in the standing.
COMPONENTS: Mapping[str, float] = {"provenance": 3.0, "ownership": 2.0, "age": 2.0, "upkeep": 1.0}
DAY = 86400.0


def deductions(findings: Iterable[Finding]) -> tuple[Deduction, ...]:
    return tuple(
        Deduction(f.signal, f.severity, WEIGHTS[f.severity], f.message)
        for f in findings
        if WEIGHTS[f.severity] > 0
    )


def credits(evidence: Evidence, now: datetime) -> tuple[Credit, ...]:
    """The positive evidence observed for one package, each component 0-1."""
    found = [
        c
        for c in (
            _provenance(evidence),
            _ownership(evidence),
            _age(evidence, now),
            _upkeep(evidence, now),
        )
        if c is not None
    ]
    return tuple(found)


def standing(given: Iterable[Credit]) -> float:
    """5 + 5 x the weighted mean of the observed components (10 when none was observed:
    nothing known is held against a package; confidence says how little was known)."""
    given = list(given)
    weight = sum(COMPONENTS[c.component] for c in given)
    if not weight:
        return MAX_SCORE
    mean = sum(COMPONENTS[c.component] * c.value for c in given) / weight
    return round(FLOOR + (MAX_SCORE - FLOOR) * mean, 1)


def score(taken: Iterable[Deduction], given: Iterable[Credit] = ()) -> float:
    return max(0.0, round(standing(given) - sum(d.points for d in taken), 1))


def confidence(families: Mapping[str, FamilyState]) -> float:
    """The share of applicable evidence families that were evaluated, 0-1."""
    applicable = [f for f in families.values() if f.state != "not-applicable"]
    if not applicable:
        return 0.0
    return sum(f.state == "evaluated" for f in applicable) / len(applicable)


def _provenance(evidence: Evidence) -> Credit | None:
    """Verified attestations (1), none where the index supports them (0.2), an invalid
    one (0); unknown (the index does not expose provenance) is not observed."""
    if evidence.provenance is None:
        return None
    states = {f.state for f in evidence.provenance.files}
    if "invalid" in states:
        return Credit("provenance", 0.0, "an attestation does not verify")
    if "verified" in states:
        return Credit("provenance", 1.0, "the pinned release's files are attested and verify")
    if states == {"none"}:
        return Credit("provenance", 0.2, "the index supports attestations; this release has none")
    return None


def _ownership(evidence: Evidence) -> Credit | None:
    project = evidence.project
    if not isinstance(project, ProjectInfo) or project.roles is None:
        return None
    owners = sorted({r.user for r in project.roles if r.role == "Owner"})
    if project.organization:
        return Credit("ownership", 1.0, f"owned by the organization {project.organization}")
    if len(owners) >= 2:
        return Credit("ownership", 0.75, f"{len(owners)} owners ({', '.join(owners[:4])})")
    return Credit("ownership", 0.4, f"one owner ({owners[0] if owners else 'none listed'})")


def _first_and_releases(evidence: Evidence) -> tuple[datetime, list[datetime]] | None:
    files = evidence.files
    if not isinstance(files, ProjectFiles):
        return None
    dates = sorted(r.first_upload for r in files.releases.values() if r.first_upload)
    return (dates[0], dates) if dates else None


def _age(evidence: Evidence, now: datetime) -> Credit | None:
    """Years published, up to five: a long public history is hard to fake."""
    found = _first_and_releases(evidence)
    if found is None:
        return None
    years = (now - found[0]).total_seconds() / DAY / 365.25
    return Credit(
        "age", round(min(years / 5, 1.0), 2), f"first upload {found[0].date()} ({years:.1f} years)"
    )


def _upkeep(evidence: Evidence, now: datetime) -> Credit | None:
    """Maintained: releases over time, and one in the last two years."""
    found = _first_and_releases(evidence)
    if found is None:
        return None
    dates = found[1]
    recent = sum((now - d).total_seconds() / DAY <= 730 for d in dates)
    value = min(len(dates) / 10, 1.0) * (1.0 if recent else 0.5)
    return Credit(
        "upkeep",
        round(value, 2),
        f"{len(dates)} releases, {recent} in the last two years",
    )
