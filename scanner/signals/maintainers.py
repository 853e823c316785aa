"""Maintainers: who can publish the next release."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from scanner.models import (
    CoreMetadata,
    Evidence,
    Finding,
    ProjectFiles,
    ProjectInfo,
    Severity,
    email_addresses,
)
from scanner.signals.history import release_dates
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


def _owner_added(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    project = evidence.project
    before = evidence.previous_owners
    if not isinstance(project, ProjectInfo) or project.roles is None or before is None:
        return
    known = {(r.user, r.role) for r in before.roles}
    newest = _newest_upload(evidence)
    window = ctx.threshold(signal, "days")
    for role in project.roles:
        if (role.user, role.role) in known:
            continue
        recent = newest is not None and (ctx.now - newest[1]).total_seconds() <= window * 86400
        yield signal.finding(
            evidence,
            f"{role.user} holds the {role.role} role, which the scan of {before.observed_at[:10]} "
            "did not show"
            + (
                f"; the newest release, {newest[0]}, is {_ago(ctx, newest[1])}"
                if recent and newest
                else ""
            ),
            severity=signal.severity if recent else Severity.MEDIUM,
            user=role.user,
            role=role.role,
            previous_scan=before.scan_id,
            previous_observed_at=before.observed_at,
            observed_at=ctx.now.isoformat(),
            previous_roles=[{"user": r.user, "role": r.role} for r in before.roles],
            newest_release=newest[0] if newest else None,
            newest_upload=newest[1].isoformat() if newest else None,
            url=project.url,
        )


def _owners_replaced(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    project = evidence.project
    before = evidence.previous_owners
    if not isinstance(project, ProjectInfo) or project.roles is None or before is None:
        return
    old = {r.user for r in before.roles}
    now = {r.user for r in project.roles}
    if old and now and not old & now:
        yield signal.finding(
            evidence,
            f"none of the owners seen on {before.observed_at[:10]} ({', '.join(sorted(old))}) "
            f"remains; now: {', '.join(sorted(now))}",
            previous_users=sorted(old),
            users=sorted(now),
            previous_scan=before.scan_id,
            previous_observed_at=before.observed_at,
            observed_at=ctx.now.isoformat(),
            url=project.url,
        )


def _maintainer_email_changed(
    signal: Signal, evidence: Evidence, ctx: SignalContext
) -> Iterator[Finding]:
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
    yield signal.finding(
        evidence,
        f"{evidence.package.version} names {', '.join(sorted(current))}; the "
        f"{len(earlier)} release(s) before it named {', '.join(sorted(before))}"
        + ("" if domains_now & domains_before else " (a different domain)"),
        addresses=sorted(current),
        earlier={
            e.version: sorted(email_addresses(e.author_email, e.maintainer_email)) for e in earlier
        },
        sources=[metadata.source_url, *(e.source_url for e in earlier)],
    )


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
    rationale="A new account that can publish, shortly before a release, is how account "
    "takeovers and quiet transfers begin. High within the window before the newest release.",
    check=_owner_added,
    thresholds={"days": 30},
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
    severity=Severity.MEDIUM,
    family="maintainers",
    rationale="A release whose author or maintainer address appears in none of the earlier "
    "releases may come from someone else.",
    check=_maintainer_email_changed,
)
