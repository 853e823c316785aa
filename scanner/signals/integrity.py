"""Integrity: does what the lock names exist on the index, byte for byte?"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.models import (
    Evidence,
    Finding,
    Missing,
    ProjectFiles,
    Severity,
    SourceKind,
    Unavailable,
)
from scanner.signals.interface import Check, Signal, SignalContext


def _not_on_index(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    files = evidence.files
    if isinstance(files, Missing):
        yield signal.finding(
            evidence,
            f"'{evidence.package.name}' does not exist on the index",
            url=files.url,
        )
        return
    version = evidence.package.version
    if not isinstance(files, ProjectFiles) or version is None:
        return
    if not evidence.release_files:
        listed = [v for v in files.versions if v == str(version)]
        yield signal.finding(
            evidence,
            f"release {version} is not served by the index"
            + (" (listed, but with no files)" if listed else ""),
            url=files.url,
            versions_served=len(files.versions),
            newest_versions=list(files.versions[-5:]),
        )


def _hash_mismatch(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    locked = evidence.package.sha256s()
    files = evidence.release_files
    if not locked or not files or evidence.package.source.kind is not SourceKind.INDEX:
        return  # hashes of another index's builds say nothing about this index's files
    served = {f.sha256 for f in files if f.sha256}
    unmatched = sorted(locked - served)
    if unmatched:
        yield signal.finding(
            evidence,
            f"{len(unmatched)} of {len(locked)} sha256 hashes in the lock match no file "
            f"of {evidence.package.name} {evidence.package.version} on the index",
            unmatched=list(unmatched),
            served={f.filename: f.sha256 for f in files},
            lock=f"{evidence.package.file}:{evidence.package.line}",
        )


def _not_from_index(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    source = evidence.package.source
    if source.kind.value == "index":
        return
    if source.kind.value == "other-index":
        yield signal.finding(
            evidence,
            f"installed from another index ({source.location}), not the one scanned",
            severity=Severity.LOW,
            source=source.kind.value,
            location=source.location,
        )
        return
    yield signal.finding(
        evidence,
        f"installed from a {source.kind.value} ({source.location}): no index vouches for it",
        source=source.kind.value,
        location=source.location,
    )


def _refused_metadata(what: str, flag: str) -> Check:
    """A check firing when the core metadata was fetched and refused for `flag`
    (`archive`: unsafe or malformed; `mismatch`: not the bytes the index declared)."""

    def check(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
        metadata = evidence.metadata
        if isinstance(metadata, Unavailable) and getattr(metadata, flag):
            yield signal.finding(
                evidence, f"{what}: {metadata.reason}", url=metadata.url, reason=metadata.reason
            )

    return check


_unsafe_archive = _refused_metadata(
    "a file of this release was refused when read as data", "archive"
)
_metadata_mismatch = _refused_metadata(
    "the index served core metadata that is not what it declared", "mismatch"
)


METADATA_MISMATCH = Signal(
    id="metadata-mismatch",
    title="Core metadata does not match its digest",
    severity=Severity.CRITICAL,
    family="integrity",
    rationale="The index declares a sha256 for a file's core metadata (PEP 658) and served "
    "other bytes: the index, a mirror or something between is not serving what was uploaded.",
    check=_metadata_mismatch,
)
UNSAFE_ARCHIVE = Signal(
    id="unsafe-archive",
    title="Archive refused",
    severity=Severity.HIGH,
    family="integrity",
    rationale="A wheel or sdist that is malformed, a compression bomb, or carries links and "
    "traversing paths where metadata should be, is not what a build tool makes.",
    check=_unsafe_archive,
)
NOT_ON_INDEX = Signal(
    id="not-on-index",
    title="Not on the index",
    severity=Severity.CRITICAL,
    family="integrity",
    rationale="A name the index does not know is open to dependency confusion; a pinned "
    "release the index no longer serves is often one removed after a compromise.",
    check=_not_on_index,
)
HASH_MISMATCH = Signal(
    id="hash-mismatch",
    title="Lock hash matches no file",
    severity=Severity.CRITICAL,
    family="integrity",
    rationale="The lock vouches for bytes the index does not serve: the file was replaced, "
    "or the lock was edited.",
    check=_hash_mismatch,
)
NOT_FROM_INDEX = Signal(
    id="not-from-index",
    title="Not from the index",
    severity=Severity.MEDIUM,
    family="integrity",
    rationale="A package from a URL, VCS or local path has no registry record: no upload "
    "history, no owners, no provenance to check.",
    check=_not_from_index,
)
