"""Maintainers: who can publish the next release."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time

from scanner.models import (
    CoreMetadata,
    Evidence,
    EvidenceValue,
    Finding,
    ProjectFiles,
    ProjectInfo,
    Severity,
    email_addresses,
)
from scanner.signals.history import pinned_release, release_dates
from scanner.signals.interface import Signal, SignalContext
from scanner.signals.trust import record_email_changed


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


@dataclass(frozen=True, slots=True)
class _Baseline:
    """The ownership a change is measured against: the trust record's entry when there
    is one, else the store's first observation (a change stays reported until the
    record is updated or the finding waived, not only on the scan that first saw it)."""

    roles: frozenset[tuple[str, str]]
    label: str  # "the trust record (FILE, approved DATE)" / "the scan of DATE"
    observed: dict[str, EvidenceValue]
    reviewed: bool = False  # the record: a reviewer approved exactly these roles
    since: datetime | None = None  # when these roles were seen: a new one appeared after


def _baseline(evidence: Evidence, ctx: SignalContext) -> _Baseline | None:
    entry = ctx.entry(evidence)
    if entry is not None:
        path = ctx.record_path or "the trust record"
        approved = f", approved {entry.start}" if entry.start else ""
        return _Baseline(
            entry.users(),
            f"the trust record ({path}{approved})",
            {
                "record": path,
                "recorded_owners": list(entry.owners),
                "recorded_maintainers": list(entry.maintainers),
            },
            reviewed=True,
            since=datetime.combine(entry.start, time(), UTC) if entry.start else None,
        )
    before = evidence.previous_owners
    if before is None:
        return None
    return _Baseline(
        frozenset((r.user, r.role) for r in before.roles),
        f"the scan of {before.observed_at[:10]}",
        {
            "previous_scan": before.scan_id,
            "previous_observed_at": before.observed_at,
            "previous_roles": [{"user": r.user, "role": r.role} for r in before.roles],
        },
        since=_moment(before.observed_at),
    )


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _current(evidence: Evidence) -> ProjectInfo | None:
    project = evidence.project
    return project if isinstance(project, ProjectInfo) and project.roles is not None else None


def _owner_added(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    project, baseline = _current(evidence), _baseline(evidence, ctx)
    if project is None or baseline is None or _replaced(project, baseline):
        return  # owners-replaced reports the whole event once
    newest = _newest_upload(evidence)
    for role in project.roles or ():
        if (role.user, role.role) in baseline.roles:
            continue
        # The account appeared after `since`; a release uploaded after that may be theirs.
        released_since = (
            newest is not None and baseline.since is not None and newest[1] > baseline.since
        )
        yield signal.finding(
            evidence,
            f"{role.user} holds the {role.role} role, which {baseline.label} did not show"
            + (
                f"; a release came since: {newest[0]}, {_ago(ctx, newest[1])}"
                if released_since and newest
                else "; no release has come since"
            ),
            # against a reviewed record, any new publisher is gated until reviewed
            severity=signal.severity if released_since or baseline.reviewed else Severity.MEDIUM,
            released_since=released_since,
            user=role.user,
            role=role.role,
            observed_at=ctx.now.isoformat(),
            newest_release=newest[0] if newest else None,
            newest_upload=newest[1].isoformat() if newest else None,
            url=project.url,
            **baseline.observed,
        )


def _replaced(project: ProjectInfo, baseline: _Baseline) -> bool:
    old = {user for user, _ in baseline.roles}
    now = {r.user for r in project.roles or ()}
    return bool(old and now and not old & now)


def _owners_replaced(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    project, baseline = _current(evidence), _baseline(evidence, ctx)
    if project is None or baseline is None or not _replaced(project, baseline):
        return
    old = sorted({user for user, _ in baseline.roles})
    now = sorted({r.user for r in project.roles or ()})
    yield signal.finding(
        evidence,
        f"none of the owners in {baseline.label} ({', '.join(old)}) remains; now: {', '.join(now)}",
        severity=signal.severity,
        previous_users=old,
        users=now,
        observed_at=ctx.now.isoformat(),
        url=project.url,
        **baseline.observed,
    )


def _maintainer_email_changed(
    signal: Signal, evidence: Evidence, ctx: SignalContext
) -> Iterator[Finding]:
    if ctx.entry(evidence) is not None:  # the reviewer's record is the baseline
        yield from record_email_changed(signal, evidence, ctx)
        return
    metadata = evidence.metadata
    earlier = evidence.earlier_emails
    if not isinstance(metadata, CoreMetadata) or not earlier:
        return
    current = email_addresses(metadata.author_email, metadata.maintainer_email)
    before = frozenset().union(
        *(email_addresses(e.author_email, e.maintainer_email) for e in earlier)
    )
    if not current or not before or current & before:
        return
    domains_before = {a.rpartition("@")[2] for a in before}
    domains_now = {a.rpartition("@")[2] for a in current}
    new_domain = not domains_now & domains_before
    # Addresses change for dull reasons (a new job, a project address): low, unless the
    # domain is new and the release is recent or the owners changed too.
    corroborated = [
        why
        for why, holds in (
            ("the release is recent", _recent_release(evidence, ctx, 90)),
            ("the owners changed since the last scan", _owners_changed(evidence)),
        )
        if holds and new_domain
    ]
    yield signal.finding(
        evidence,
        f"{evidence.package.version} names {', '.join(sorted(current))}; the "
        f"{len(earlier)} release(s) before it named {', '.join(sorted(before))}"
        + (" (a different domain)" if new_domain else "")
        + (f"; {' and '.join(corroborated)}" if corroborated else ""),
        severity=Severity.MEDIUM if corroborated else Severity.LOW,
        corroborated_by=corroborated,
        addresses=sorted(current),
        earlier={
            e.version: sorted(email_addresses(e.author_email, e.maintainer_email)) for e in earlier
        },
        sources=[metadata.source_url, *(e.source_url for e in earlier)],
    )


def _recent_release(evidence: Evidence, ctx: SignalContext, days: float) -> bool:
    found = pinned_release(evidence)
    if found is None:
        return False
    uploads = [f.upload_time for f in found[2] if f.upload_time]
    return bool(uploads) and (ctx.now - min(uploads)).total_seconds() <= days * 86400


def _owners_changed(evidence: Evidence) -> bool:
    project, before = _current(evidence), evidence.previous_owners
    if project is None or before is None:
        return False
    return {(r.user, r.role) for r in project.roles or ()} != {
        (r.user, r.role) for r in before.roles
    }


def _newest_upload(evidence: Evidence) -> tuple[str, datetime] | None:
    files = evidence.files
    if not isinstance(files, ProjectFiles):
        return None
    dates = release_dates(files)
    if not dates:
        return None
    version, uploaded = max(dates.items(), key=lambda item: item[1])
    return str(version), uploaded


def _ago(ctx: SignalContext, moment: datetime) -> str:
    days = (ctx.now - moment).total_seconds() / 86400
    return f"{days:.0f} days old ({moment.date()})"


OWNER_ADDED = Signal(
    id="owner-added",
    title="Owner or maintainer added",
    severity=Severity.HIGH,
    family="maintainers",
    rationale="A new account that can publish, and a release since it appeared, is how "
    "account takeovers and quiet transfers begin. High once a release came after the account "
    "appeared (or against a reviewed trust record); medium while none has.",
    check=_owner_added,
)
OWNERS_REPLACED = Signal(
    id="owners-replaced",
    title="All owners replaced",
    severity=Severity.CRITICAL,
    family="maintainers",
    rationale="Nobody who could publish before can publish now: the project changed hands.",
    check=_owners_replaced,
)
MAINTAINER_EMAIL_CHANGED = Signal(
    id="maintainer-email-changed",
    title="Maintainer e-mail changed",
    severity=Severity.LOW,
    family="maintainers",
    rationale="A release whose author or maintainer address appears in none of the earlier "
    "releases may come from someone else. Addresses change for dull reasons too: low, and "
    "medium only when the domain is new and the release is recent or the owners changed.",
    check=_maintainer_email_changed,
)
