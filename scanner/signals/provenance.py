"""Provenance: was the artifact attested, by whom, and did that change?"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict
from urllib.parse import urlsplit

from scanner.models import Evidence, Finding, Publisher, ReleaseProvenance, Severity
from scanner.signals.interface import Signal, SignalContext
from scanner.signals.metadata import source_repositories, urls_of
from scanner.signals.trust import record_provenance_dropped, record_publisher_changed


def _pinned(evidence: Evidence) -> ReleaseProvenance | None:
    return evidence.provenance


def _all_known(release: ReleaseProvenance) -> bool:
    return all(f.state != "unknown" for f in release.files)


def _attestation_invalid(
    signal: Signal, evidence: Evidence, ctx: SignalContext
) -> Iterator[Finding]:
    release = _pinned(evidence)
    for file in release.files if release else ():
        if file.state == "invalid":
            yield signal.finding(
                evidence,
                f"the attestation of {file.filename} does not verify: {file.reason}",
                file=file.filename,
                sha256=file.sha256,
                reason=file.reason,
                url=file.url,
            )


def _unattested(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    release = _pinned(evidence)
    if release is None or not release.files or not _all_known(release):
        return  # unknown is not "none": say nothing, the family stays unknown
    if all(f.state == "none" for f in release.files):
        yield signal.finding(
            evidence,
            f"no file of {evidence.package.name} {release.version} has an attestation",
            files=[f.filename for f in release.files],
        )


def _provenance_dropped(
    signal: Signal, evidence: Evidence, ctx: SignalContext
) -> Iterator[Finding]:
    if ctx.entry(evidence) is not None:  # the reviewer's record is the baseline
        yield from record_provenance_dropped(signal, evidence, ctx)
        return
    release = _pinned(evidence)
    earlier = evidence.earlier_provenance
    if release is None or not earlier or not _all_known(release) or release.attested:
        return
    if not all(f.state == "none" for f in release.files):
        return  # invalid attestations are attestation-invalid's to report
    previous = earlier[0]
    attested = [r for r in earlier if r.attested]
    if previous.attested or len(attested) * 2 > len(earlier):
        publishers = sorted({str(p) for r in attested for p in r.publishers})
        yield signal.finding(
            evidence,
            f"{release.version} has no attestation, but "
            + (
                f"the release before it ({previous.version}) had"
                if previous.attested
                else f"{len(attested)} of the last {len(earlier)} releases had"
            )
            + f" ({', '.join(publishers)})",
            attested_before=[r.version for r in attested],
            checked=[r.version for r in earlier],
            publishers=publishers,
        )


def _publisher_changed(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    if ctx.entry(evidence) is not None:  # the reviewer's record is the baseline
        yield from record_publisher_changed(signal, evidence, ctx)
        return
    release = _pinned(evidence)
    if release is None or not release.attested:
        return
    before = next((r for r in evidence.earlier_provenance if r.attested), None)
    if before is None:
        return
    old = {p.identity for p in before.publishers}
    for publisher in release.publishers:
        if publisher.identity not in old:
            previous = before.publishers[0]
            yield signal.finding(
                evidence,
                f"{release.version} was published by {publisher}; {before.version} by {previous}",
                publisher=_describe(publisher),
                previous_publisher=_describe(previous),
                previous_version=before.version,
            )


def _publisher_repo_mismatch(
    signal: Signal, evidence: Evidence, ctx: SignalContext
) -> Iterator[Finding]:
    release = _pinned(evidence)
    if release is None:
        return
    declared = {_repo_path(url) for url in source_repositories(urls_of(evidence))} - {None}
    if not declared:
        return  # no repository declared: no-source-url's concern
    for publisher in release.publishers:
        if publisher.repository and publisher.repository.lower() not in declared:
            yield signal.finding(
                evidence,
                f"attested from {publisher.repository}, but the metadata declares "
                f"{', '.join(sorted(str(d) for d in declared))}",
                attested_repository=publisher.repository,
                declared=sorted(str(d) for d in declared),
            )
            return


def _lock_identity_mismatch(
    signal: Signal, evidence: Evidence, ctx: SignalContext
) -> Iterator[Finding]:
    wanted = evidence.package.attestation_identities
    release = _pinned(evidence)
    if not wanted or release is None or not _all_known(release):
        return
    shown = release.publishers
    for identity in wanted:
        if not any(_identity_matches(identity, p) for p in shown):
            yield signal.finding(
                evidence,
                f"the lock expects attestations from {dict(identity)}, the index shows "
                + (", ".join(str(p) for p in shown) if shown else "none"),
                expected=dict(identity),
                shown=[_describe(p) for p in shown],
            )


def _identity_matches(expected: Mapping[str, str], publisher: Publisher) -> bool:
    described = _describe(publisher)
    for key, value in expected.items():
        key = {"workflow_filepath": "workflow"}.get(key, key)
        have = described.get(key)
        if have is None:
            if value and key != "environment":
                return False
        elif str(have).lower() != str(value).lower():
            return False
    return True


def _describe(publisher: Publisher) -> dict[str, str | None]:
    return asdict(publisher)


def _repo_path(url: str) -> str | None:
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2:
        return None
    return f"{segments[0]}/{segments[1].removesuffix('.git')}".lower()


ATTESTATION_INVALID = Signal(
    id="attestation-invalid",
    title="Attestation does not verify",
    severity=Severity.CRITICAL,
    family="provenance",
    rationale="An attestation that does not verify for the file's name and digest means the "
    "file or its signature was altered, or signed by someone other than who it claims.",
    check=_attestation_invalid,
)
LOCK_IDENTITY_MISMATCH = Signal(
    id="lock-identity-mismatch",
    title="Publisher differs from the lock's",
    severity=Severity.CRITICAL,
    family="provenance",
    rationale="pylock.toml records who must have published each package; the index shows "
    "someone else, or no attestation at all.",
    check=_lock_identity_mismatch,
)
PROVENANCE_DROPPED = Signal(
    id="provenance-dropped",
    title="Provenance dropped",
    severity=Severity.HIGH,
    family="provenance",
    rationale="Earlier releases came attested from CI and this one does not: the mark of a "
    "release uploaded with a stolen token instead of the project's pipeline.",
    check=_provenance_dropped,
)
PUBLISHER_CHANGED = Signal(
    id="publisher-changed",
    title="Publisher changed",
    severity=Severity.HIGH,
    family="provenance",
    rationale="A different repository, workflow or environment published this release than "
    "the earlier attested ones.",
    check=_publisher_changed,
)
PUBLISHER_REPO_MISMATCH = Signal(
    id="publisher-repo-mismatch",
    title="Attested repository is not the declared one",
    severity=Severity.MEDIUM,
    family="provenance",
    rationale="The attestation proves a build from one repository while the metadata points "
    "readers at another.",
    check=_publisher_repo_mismatch,
)
UNATTESTED = Signal(
    id="unattested",
    title="No attestation",
    severity=Severity.LOW,
    family="provenance",
    rationale="The index supports PEP 740 and nothing vouches for how these files were built.",
    check=_unattested,
)
