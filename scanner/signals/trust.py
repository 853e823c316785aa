"""The trust record as a source of findings: what changed since a reviewer approved.

Where the record has an entry for a package, `owner-added`, `owners-replaced`,
`publisher-changed`, `provenance-dropped` and `maintainer-email-changed` compare
with it (the checks below, called from maintainers.py and provenance.py) instead
of with the store's history, so one event is one finding, and a CI job that starts
with no store sees it. Each finding shows the recorded value and the current one
and stays on every run until the record is updated (`trustscan trust record NAME`)
or the finding waived. `trust-expired` and `untrusted` are the record's own.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.models import CoreMetadata, Evidence, Finding, Severity, email_addresses
from scanner.signals.interface import Signal, SignalContext
from scanner.trust import RecordedPublisher


def record_publisher_changed(
    signal: Signal, evidence: Evidence, ctx: SignalContext
) -> Iterator[Finding]:
    entry = ctx.entry(evidence)
    release = evidence.provenance
    if entry is None or release is None:
        return
    trusted = ctx.record.trusted_publishers if ctx.record else ()
    for publisher in release.publishers:
        if any(p.matches(publisher) for p in entry.publishers):
            continue
        if any(t.matches(publisher) for t in trusted):
            continue
        yield signal.finding(
            evidence,
            f"{release.version} was published by {RecordedPublisher.of(publisher)}, which the "
            f"trust record does not name (recorded: "
            f"{', '.join(map(str, entry.publishers)) or 'no publisher'})",
            recorded=[str(p) for p in entry.publishers],
            current=str(RecordedPublisher.of(publisher)),
            record=ctx.record_path,
        )


def record_provenance_dropped(
    signal: Signal, evidence: Evidence, ctx: SignalContext
) -> Iterator[Finding]:
    entry = ctx.entry(evidence)
    release = evidence.provenance
    if entry is None or not entry.publishers or release is None:
        return
    if release.attested or not all(f.state == "none" for f in release.files):
        return  # attested, invalid (attestation-invalid says so) or unknown (not evaluated)
    yield signal.finding(
        evidence,
        f"{release.version} has no attestation, but the trust record approved releases "
        f"published by {', '.join(map(str, entry.publishers))}",
        recorded=[str(p) for p in entry.publishers],
        current="no attestation",
        record=ctx.record_path,
    )


def record_email_changed(
    signal: Signal, evidence: Evidence, ctx: SignalContext
) -> Iterator[Finding]:
    entry = ctx.entry(evidence)
    metadata = evidence.metadata
    if entry is None or not entry.emails or not isinstance(metadata, CoreMetadata):
        return
    current = email_addresses(metadata.author_email, metadata.maintainer_email)
    if current and not current & set(entry.emails):
        yield signal.finding(
            evidence,
            f"{evidence.package.version} names {', '.join(sorted(current))}; the trust record "
            f"approved {', '.join(entry.emails)}",
            recorded=list(entry.emails),
            current=sorted(current),
            record=ctx.record_path,
        )


def _trust_expired(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    entry = ctx.entry(evidence)
    if entry is None or entry.end is None:
        return
    today = ctx.now.date()
    uploads = [f.upload_time for f in evidence.release_files if f.upload_time]
    uploaded = max(uploads) if uploads else None
    after = uploaded is not None and uploaded.date() > entry.end
    facts = []
    if entry.end < today:
        facts.append(f"the trust record's approval ended on {entry.end}")
    if after and uploaded is not None:
        facts.append(
            f"{evidence.package.version} was uploaded on {uploaded.date()}, after the "
            f"approval's end ({entry.end})"
        )
    if facts:
        yield signal.finding(
            evidence,
            "; ".join(facts) + "; review it again (`trustscan trust record NAME`)",
            end=entry.end.isoformat(),
            uploaded=uploaded.isoformat() if uploaded else None,
            record=ctx.record_path,
        )


def _untrusted(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    missing = ctx.require_record and ctx.record is not None and ctx.entry(evidence) is None
    if missing and evidence.package.source.from_index:
        yield signal.finding(
            evidence,
            f"{evidence.package.name} has no entry in the trust record, which the policy "
            "requires of every package",
            record=ctx.record_path,
        )


TRUST_EXPIRED = Signal(
    id="trust-expired",
    title="Trust record entry expired",
    severity=Severity.MEDIUM,
    family="maintainers",
    rationale="An approval is for a time (cargo-vet's rule): past its end, or for a release "
    "uploaded after it, nobody has looked.",
    check=_trust_expired,
)
UNTRUSTED = Signal(
    id="untrusted",
    title="No trust record entry",
    severity=Severity.HIGH,
    family="maintainers",
    rationale="The policy asks that every dependency be reviewed and recorded "
    "(`require-record = true`); this one was not.",
    check=_untrusted,
)
