"""Integrity: does what the lock names exist on the index, byte for byte?"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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
            f"'{evidence.package.shown_name}' does not exist on the index: a name that "
            "was removed (often a malicious one) or never published, which anyone may "
            "register next (dependency confusion)",
            url=files.url,
            written=evidence.package.shown_name,
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
            + (" (listed, but with no files)" if listed else "")
            + ": a pinned release that disappears was removed by its maintainers or the "
            "index, often after a compromise; look for an advisory or incident report",
            url=files.url,
            versions_served=len(files.versions),
            newest_versions=list(files.versions[-5:]),
        )


@dataclass(frozen=True, slots=True)
class _Unmatched:
    """The lock's sha256 digests the index does not serve for the pinned release, split
    three ways: `replaced` (same file name, other digest: (file, locked, served)),
    `gone` (a named file the index no longer serves), `unnamed` (a bare digest)."""

    locked: frozenset[str]
    served: frozenset[str]
    replaced: list[tuple[str, str, str]]
    gone: list[str]
    unnamed: list[str]

    @property
    def suspect(self) -> bool:
        """A replaced file: one served under a name the lock gives other bytes; or bare
        digests that match nothing (what pip refuses to install) or do not match while
        the index serves files the lock does not know (else files were only removed)."""
        if self.replaced:
            return True
        return bool(self.unnamed) and (
            not self.locked & self.served or bool(self.served - self.locked)
        )


def _unmatched(evidence: Evidence) -> _Unmatched | None:
    """None when there is nothing to compare: no hashes, no files, or a package locked
    from another index (its builds say nothing about this index's files)."""
    package = evidence.package
    locked = package.sha256s()
    files = evidence.release_files
    if not locked or not files or package.source.kind is not SourceKind.INDEX:
        return None
    served = frozenset(f.sha256 for f in files if f.sha256)
    by_name = {f.filename: f.sha256 for f in files if f.sha256}
    names = {digest.split(":", 1)[1]: name for name, digest in package.named_hashes}
    replaced, gone, unnamed = [], [], []
    for digest in sorted(locked - served):
        name = names.get(digest)
        if name is None:
            unnamed.append(digest)
        elif name in by_name:
            replaced.append((name, digest, by_name[name]))
        else:
            gone.append(name)
    return _Unmatched(locked, served, replaced, gone, unnamed)


def _hash_mismatch(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    """Critical when the index serves a file the lock names with other bytes, or when the
    lock's bare digests point at a replaced file (`_Unmatched.suspect`). A digest for a
    file the index merely no longer serves is `file-not-served`."""
    found = _unmatched(evidence)
    if found is None or not found.suspect:
        return
    where = f"{evidence.package.file}:{evidence.package.line}"
    package = f"{evidence.package.name} {evidence.package.version}"
    if found.replaced:
        name, was, now = found.replaced[0]
        yield signal.finding(
            evidence,
            f"the index serves {name} with sha256 {now[:16]}..., the lock says {was[:16]}...: "
            f"the file was replaced after the lock was made"
            + (f" ({len(found.replaced)} files)" if len(found.replaced) > 1 else ""),
            replaced=[{"file": n, "locked": w, "served": s} for n, w, s in found.replaced],
            lock=where,
        )
        return
    yield signal.finding(
        evidence,
        (
            f"none of the {len(found.locked)} sha256 hashes in the lock matches a file of {package}"
            if not found.locked & found.served
            else f"{len(found.unnamed)} of {len(found.locked)} sha256 hashes in the lock match "
            f"no file of {package}, while the index serves files the lock does not know"
        )
        + " on the index: files were replaced, or the lock edited",
        unmatched=found.unnamed,
        served={f.filename: f.sha256 for f in evidence.release_files},
        lock=where,
    )


def _file_not_served(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    found = _unmatched(evidence)
    if found is None or found.suspect or not (found.gone or found.unnamed):
        return  # nothing gone, or hash-mismatch says it
    gone = found.gone
    what = ", ".join(gone[:3]) + (" ..." if len(gone) > 3 else "") if gone else None
    yield signal.finding(
        evidence,
        f"{len(gone) + len(found.unnamed)} file(s) the lock vouches for are no longer served "
        "by the index"
        + (f" ({what})" if what else "")
        + "; the others match: removed after upload, often a broken build",
        files=gone,
        unmatched=found.unnamed,
        served={f.filename: f.sha256 for f in evidence.release_files},
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
    rationale="The index serves a file the lock names with other bytes, or nothing the lock "
    "vouches for: the file was replaced, or the lock was edited.",
    check=_hash_mismatch,
)
FILE_NOT_SERVED = Signal(
    id="file-not-served",
    title="Locked file no longer served",
    severity=Severity.MEDIUM,
    family="integrity",
    rationale="The lock vouches for a file the index removed, while the release's other files "
    "match: usually a broken build taken down, sometimes a file pulled after a compromise.",
    check=_file_not_served,
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
