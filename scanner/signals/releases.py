"""Releases and project status: what the index's history says about the pinned release."""

from __future__ import annotations

import re
from collections.abc import Iterator

from scanner.models import Evidence, Finding, ProjectFiles, ProjectInfo, Severity
from scanner.signals.history import pinned_release, release_dates
from scanner.signals.interface import Signal, SignalContext

DAY = 86400.0
_SECURITY = re.compile(
    r"secur|vulnerab|\bcve-|exploit|malicious|malware|compromis|backdoor|attack|"
    r"unauthori[sz]ed|credential|\brce\b|injection",
    re.IGNORECASE,
)


def _yanked(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    files = evidence.release_files
    yanked = [f for f in files if f.yanked]
    if not yanked:
        return
    reasons = sorted({f.yanked_reason for f in yanked if f.yanked_reason})
    whole = len(yanked) == len(files)
    # No reason, or one that names a security problem: high. A packaging mistake
    # ("wrong python_requires", "broken wheel") or some files only: medium.
    security = not reasons or any(_SECURITY.search(r) for r in reasons)
    yield signal.finding(
        evidence,
        f"{evidence.package.name} {evidence.package.version} is yanked"
        + ("" if whole else f" ({len(yanked)} of {len(files)} files)")
        + (f": {reasons[0]}" if reasons else " (no reason given)"),
        severity=Severity.HIGH if whole and security else Severity.MEDIUM,
        security_reason=bool(reasons) and security,
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
    """The pinned release, once, when it ended a long silence and is itself recent: a
    hijacked project reappears with a new release, and that release is the danger
    while it is new (an old release after a gap has had years of users' eyes)."""
    found = pinned_release(evidence)
    if found is None:
        return
    files, version, _ = found
    dates = sorted(release_dates(files).items(), key=lambda item: item[1])
    at = next((i for i, (release, _) in enumerate(dates) if release == version), None)
    if not at:  # unknown, or the first release
        return
    uploaded = dates[at][1]
    previous, before = dates[at - 1]
    gap = (uploaded - before).total_seconds() / DAY
    age = (ctx.now - uploaded).total_seconds() / DAY
    if gap >= ctx.threshold(signal, "days") and age <= ctx.threshold(signal, "recent_days"):
        yield signal.finding(
            evidence,
            f"the pinned release {version} ({uploaded.date()}, {age:.0f} days ago) came after "
            f"{gap:.0f} days without a release (previous: {previous}, {before.date()})",
            release=str(version),
            uploaded=uploaded.isoformat(),
            previous=str(previous),
            previous_uploaded=before.isoformat(),
            gap_days=round(gap),
            age_days=round(age),
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
        # Wheels for a new platform are added to old releases all the time: low, unless
        # the late file is itself new, or unattested beside attested ones.
        states = {
            f.filename: f.state for f in (evidence.provenance.files if evidence.provenance else ())
        }
        newest = max(f.upload_time for f in late if f.upload_time)
        corroborated = [
            why
            for why, holds in (
                (
                    f"the latest was added {(ctx.now - newest).days} days ago",
                    (ctx.now - newest).total_seconds() / DAY
                    <= ctx.threshold(signal, "recent_days"),
                ),
                (
                    "a late file is unattested while the release's first files are attested",
                    any(states.get(f.filename) == "verified" for f in timed if f not in late)
                    and any(states.get(f.filename) != "verified" for f in late),
                ),
            )
            if holds
        ]
        yield signal.finding(
            evidence,
            f"{len(late)} file(s) of {version} were added more than {limit:.0f} days after "
            f"its first file ({first.date()})"
            + (f"; {' and '.join(corroborated)}" if corroborated else ""),
            severity=Severity.MEDIUM if corroborated else Severity.LOW,
            corroborated_by=corroborated,
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
    rationale="A release after years of silence is how hijacked projects often reappear; "
    "the pinned release only, and only while it is recent.",
    check=_dormant_then_release,
    thresholds={"days": 730, "recent_days": 180},
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
    severity=Severity.LOW,
    family="releases",
    rationale="A wheel added to an old release reaches every new install of that pin without a "
    "new version number. Wheels for new platforms are added late all the time: low, and medium "
    "when the late file is itself recent or unattested beside attested files.",
    check=_late_file,
    thresholds={"days": 30, "recent_days": 30},
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
