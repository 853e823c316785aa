"""Releases and project status: what the index's history says about the pinned release."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.models import Evidence, Finding, ProjectFiles, ProjectInfo, Severity
from scanner.signals.history import pinned_release, release_dates
from scanner.signals.interface import Signal, SignalContext

DAY = 86400.0


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


_STATUS_SEVERITY = {
    "quarantined": Severity.HIGH,
    "archived": Severity.MEDIUM,
    "deprecated": Severity.MEDIUM,
}
_INACTIVE = "Development Status :: 7 - Inactive"


def _project_status(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    files = evidence.files
    status = files.project_status if isinstance(files, ProjectFiles) else None
    if status in _STATUS_SEVERITY:
        yield signal.finding(
            evidence,
            f"the index marks the project {status} (PEP 792)",
            severity=_STATUS_SEVERITY[status],
            status=status,
            url=files.url if isinstance(files, ProjectFiles) else None,
        )
        return
    project = evidence.project
    if isinstance(project, ProjectInfo) and _INACTIVE in project.classifiers:
        yield signal.finding(
            evidence,
            f"the project declares itself inactive ({_INACTIVE})",
            severity=Severity.MEDIUM,
            classifier=_INACTIVE,
            url=project.url,
        )


def _dormant_then_release(
    signal: Signal, evidence: Evidence, ctx: SignalContext
) -> Iterator[Finding]:
    found = pinned_release(evidence)
    if found is None:
        return
    files, version, _ = found
    dates = sorted(release_dates(files).items(), key=lambda item: item[1])
    gap_days = ctx.threshold(signal, "days")
    which = {version: "pinned"}
    if dates:
        which.setdefault(dates[-1][0], "newest")
    for i, (release, uploaded) in enumerate(dates):
        if release not in which or i == 0:
            continue
        previous, before = dates[i - 1]
        gap = (uploaded - before).total_seconds() / DAY
        if gap >= gap_days:
            yield signal.finding(
                evidence,
                f"the {which[release]} release {release} ({uploaded.date()}) came after "
                f"{gap:.0f} days without a release (previous: {previous}, {before.date()})",
                release=str(release),
                uploaded=uploaded.isoformat(),
                previous=str(previous),
                previous_uploaded=before.isoformat(),
                gap_days=round(gap),
                url=files.url,
            )


def _too_new(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    found = pinned_release(evidence)
    if found is None:
        return
    files, version, release = found
    uploaded = [f.upload_time for f in release if f.upload_time]
    if not uploaded:
        return
    age = (ctx.now - min(uploaded)).total_seconds() / 3600
    if age < ctx.threshold(signal, "hours"):
        yield signal.finding(
            evidence,
            f"{version} was first uploaded {age:.0f} hours ago ({min(uploaded).isoformat()})",
            uploaded=min(uploaded).isoformat(),
            age_hours=round(age, 1),
            url=files.url,
        )


def _young_project(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    found = pinned_release(evidence)
    if found is None:
        return
    files, _, _ = found
    dates = release_dates(files)
    if not dates:
        return
    first = min(dates.values())
    age = (ctx.now - first).total_seconds() / DAY
    if age < ctx.threshold(signal, "days"):
        yield signal.finding(
            evidence,
            f"the project's first upload was {age:.0f} days ago ({first.date()})",
            first_upload=first.isoformat(),
            age_days=round(age),
            url=files.url,
        )


def _few_releases(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    found = pinned_release(evidence)
    if found is None:
        return
    files, _, _ = found
    if len(files.first_uploads) <= ctx.threshold(signal, "max"):
        releases = sorted(release_dates(files))
        yield signal.finding(
            evidence,
            f"the project has {len(releases)} release(s)",
            releases=[str(r) for r in releases],
            url=files.url,
        )


def _late_file(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    found = pinned_release(evidence)
    if found is None:
        return
    files, version, release = found
    timed = [f for f in release if f.upload_time]
    if not timed:
        return
    first = min(f.upload_time for f in timed if f.upload_time)
    limit = ctx.threshold(signal, "days")
    late = [
        f for f in timed if f.upload_time and (f.upload_time - first).total_seconds() / DAY > limit
    ]
    if late:
        yield signal.finding(
            evidence,
            f"{len(late)} file(s) of {version} were added more than {limit:.0f} days after "
            f"its first file ({first.date()})",
            first_upload=first.isoformat(),
            late_files={f.filename: f.upload_time.isoformat() for f in late if f.upload_time},
            url=files.url,
        )


def _stale(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    found = pinned_release(evidence)
    if found is None:
        return
    files, _, _ = found
    dates = release_dates(files)
    if not dates:
        return
    newest, uploaded = max(dates.items(), key=lambda item: item[1])
    years = (ctx.now - uploaded).total_seconds() / DAY / 365.25
    if years > ctx.threshold(signal, "years"):
        yield signal.finding(
            evidence,
            f"the newest release, {newest}, is {years:.1f} years old ({uploaded.date()})",
            newest=str(newest),
            uploaded=uploaded.isoformat(),
            url=files.url,
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
PROJECT_STATUS = Signal(
    id="project-status",
    title="Project quarantined, archived or inactive",
    severity=Severity.HIGH,
    family="releases",
    rationale="PyPI quarantines projects under investigation (PEP 792); archived or inactive "
    "projects receive no fixes.",
    check=_project_status,
)
DORMANT_THEN_RELEASE = Signal(
    id="dormant-then-release",
    title="Release after long dormancy",
    severity=Severity.MEDIUM,
    family="releases",
    rationale="A release after years of silence is how hijacked projects often reappear.",
    check=_dormant_then_release,
    thresholds={"days": 730},
)
TOO_NEW = Signal(
    id="too-new",
    title="Release too new",
    severity=Severity.MEDIUM,
    family="releases",
    rationale="Most malicious releases are found and removed within days; waiting costs little.",
    check=_too_new,
    thresholds={"hours": 72},
)
YOUNG_PROJECT = Signal(
    id="young-project",
    title="Young project",
    severity=Severity.MEDIUM,
    family="releases",
    rationale="A project weeks old has no track record, and is the usual shape of a typosquat.",
    check=_young_project,
    thresholds={"days": 90},
)
FEW_RELEASES = Signal(
    id="few-releases",
    title="Few releases",
    severity=Severity.LOW,
    family="releases",
    rationale="A project with one or two releases has little history to judge it by.",
    check=_few_releases,
    thresholds={"max": 2},
)
LATE_FILE = Signal(
    id="late-file",
    title="File added late to a release",
    severity=Severity.MEDIUM,
    family="releases",
    rationale="A wheel added to an old release reaches every new install of that pin without a "
    "new version number.",
    check=_late_file,
    thresholds={"days": 30},
)
STALE = Signal(
    id="stale",
    title="Stale project",
    severity=Severity.LOW,
    family="releases",
    rationale="No release for years: fixes will not come (finished projects exist, so: low).",
    check=_stale,
    thresholds={"years": 3},
)
