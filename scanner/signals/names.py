"""Names: typosquats of popular projects.

A name one step from a popular one is a typosquat only when nothing else explains
it. Not one when the same people own both (`httpx2`, published by the owners of
`httpx`), when it is a version or variant sibling (`-cu11` / `-cu12`, a trailing
`2`), or when the project is established itself (years of releases). High only
when something corroborates it: the name is not on the index (removed, as
malicious names are), the project is young, or it has one or two releases.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from scanner.models import (
    Evidence,
    Finding,
    Lookalike,
    Missing,
    ProjectFiles,
    ProjectInfo,
    Severity,
)
from scanner.names import describe, lookalikes
from scanner.signals.history import release_dates
from scanner.signals.interface import Signal, SignalContext

DAY = 86400.0


def _typosquat(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    if ctx.reference is None:
        return
    package = evidence.package
    popular = ctx.reference.popular
    if package.name in popular or len(package.name) < ctx.threshold(signal, "min_length"):
        return
    matches = [
        m
        for m in lookalikes(package.name, popular, int(ctx.threshold(signal, "top")))
        if not m.difference.sibling(package.name)
    ]
    if not matches:
        return
    known = {look.name: look for look in evidence.lookalikes}
    shared = [m for m in matches if _shared_owners(evidence, known.get(m.target))]
    if shared:
        return  # the same people publish both: a fork or a sibling, not a squat
    history = _history(evidence, ctx)
    if history.established(ctx.threshold(signal, "established_years")):
        return
    match = matches[0]
    corroborated = history.corroboration(
        ctx.threshold(signal, "young_days"), ctx.threshold(signal, "few_releases")
    )
    target = known.get(match.target)
    yield signal.finding(
        evidence,
        f"{describe(package.shown_name, package.name, match)}; '{match.target}' is the "
        f"#{match.rank} most downloaded project"
        + (f", and {' and '.join(corroborated)}" if corroborated else "")
        + ("" if corroborated else " (nothing else corroborates it: medium)"),
        severity=signal.severity if corroborated else Severity.MEDIUM,
        written=package.shown_name,
        popular=match.target,
        popular_rank=match.rank,
        difference=match.difference.kind,
        corroborated_by=corroborated,
        **history.observed(),
        **_owners(evidence, target),
        others=[m.target for m in matches[1:5]],
    )


def _owners_of(project: ProjectInfo | Lookalike | None) -> tuple[set[str], str | None] | None:
    if project is None or project.roles is None:
        return None
    return {r.user.lower() for r in project.roles}, project.organization


def _shared_owners(evidence: Evidence, target: Lookalike | None) -> bool:
    """Whether an account or the organization owning the package also owns `target`."""
    project = evidence.project if isinstance(evidence.project, ProjectInfo) else None
    ours, theirs = _owners_of(project), _owners_of(target)
    if ours is None or theirs is None:
        return False
    users, organization = ours
    their_users, their_organization = theirs
    return bool(users & their_users) or (
        organization is not None and organization == their_organization
    )


def _owners(evidence: Evidence, target: Lookalike | None) -> dict[str, object]:
    """Both projects' owners, for the reviewer who dismisses or confirms the finding."""
    project = evidence.project if isinstance(evidence.project, ProjectInfo) else None
    return {
        "owners": sorted(r.user for r in project.roles)
        if project is not None and project.roles is not None
        else None,
        "organization": project.organization if project is not None else None,
        "popular_owners": sorted(r.user for r in target.roles)
        if target is not None and target.roles is not None
        else None,
        "popular_organization": target.organization if target is not None else None,
        "popular_url": target.url if target is not None else None,
        "popular_first_upload": target.first_upload.isoformat()
        if target is not None and target.first_upload
        else None,
        "popular_releases": target.releases if target is not None else None,
    }


class _History:
    """What the index shows of the package's own past."""

    def __init__(self, missing: bool, first: datetime | None, releases: int, age: float) -> None:
        self.missing = missing
        self.first = first
        self.releases = releases
        self.age_days = age

    def established(self, years: float) -> bool:
        """Years of releases: a project that old is not a squat waiting for a typo."""
        return not self.missing and self.age_days >= years * 365.25 and self.releases >= 5

    def corroboration(self, young_days: float, few: float) -> list[str]:
        if self.missing:
            return ["it does not exist on the index (removed, or never published)"]
        found = []
        if self.first is not None and self.age_days < young_days:
            found.append(f"it is {self.age_days:.0f} days old")
        if self.releases and self.releases <= few:
            found.append(f"it has {self.releases} release{'s' * (self.releases != 1)}")
        return found

    def observed(self) -> dict[str, object]:
        return {
            "on_index": not self.missing,
            "first_upload": self.first.isoformat() if self.first else None,
            "age_days": round(self.age_days) if self.first else None,
            "releases": self.releases,
        }


def _history(evidence: Evidence, ctx: SignalContext) -> _History:
    files = evidence.files
    if isinstance(files, Missing):
        return _History(True, None, 0, 0.0)
    if not isinstance(files, ProjectFiles):
        return _History(False, None, 0, 0.0)
    dates = release_dates(files)
    first = min(dates.values()) if dates else None
    age = (ctx.now - first).total_seconds() / DAY if first else 0.0
    return _History(False, first, len(files.releases) or len(dates), age)


TYPOSQUAT = Signal(
    id="typosquat",
    title="Typosquat of a popular name",
    severity=Severity.HIGH,
    family="names",
    rationale="One edit from a popular name, not popular itself, not published by the same "
    "owners, not a version sibling and not established: the shape of a typosquat waiting for "
    "a slip of the keyboard. High when the name is gone from the index, young, or has one or "
    "two releases; medium otherwise.",
    check=_typosquat,
    thresholds={
        "top": 5000,
        "min_length": 4,
        "established_years": 3,
        "young_days": 180,
        "few_releases": 2,
    },
)
