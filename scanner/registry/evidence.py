"""Fetch the evidence for one locked package: files, project, core metadata.

Failures become `Unavailable` values with a reason; they are never raised
past this point and never read as clean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from packaging.utils import NormalizedName
from packaging.version import Version

from scanner.errors import ArchiveRejected, DigestMismatch, FetchError
from scanner.models import (
    Advisory,
    CoreMetadata,
    DistFile,
    Evidence,
    LockedPackage,
    Lookalike,
    Missing,
    ProjectFiles,
    ProjectInfo,
    ReleaseEmails,
    ReleaseProvenance,
    Unavailable,
    VulnerabilityReport,
    email_addresses,
    metadata_file,
)
from scanner.registry.attestations import (
    EARLIER_RELEASES,
    earlier_provenance,
    release_provenance,
)
from scanner.registry.index import Index
from scanner.registry.inventory import release_inventories
from scanner.registry.metadata import fetch_core_metadata
from scanner.resolver import ResolutionError
from scanner.vulns.interface import VulnerabilitySource, merge_advisories


def collect_evidence(
    index: Index,
    package: LockedPackage,
    vuln_sources: Sequence[VulnerabilitySource] = (),
    inventory: bool = True,
    resembles: Callable[[LockedPackage], Sequence[tuple[NormalizedName, int]]] | None = None,
) -> Evidence:
    """What the index says of `package`; with `resembles`, also who owns the popular
    projects its name resembles (asked only for the rare name that resembles one)."""
    if not package.source.from_index:
        reason = f"installed from a {package.source.kind.value}, not from an index"
        return Evidence(package, Unavailable(reason), Unavailable(reason), None)
    files: ProjectFiles | Missing | Unavailable
    project: ProjectInfo | Missing | Unavailable
    try:
        if package.version is None:
            files = index.files(package.name)
        else:
            files = index.release_files(package.name, package.version, EARLIER_RELEASES)
    except FetchError as e:
        files = Unavailable(e.reason, e.url)
    try:
        project = index.project(package.name)
    except FetchError as e:
        project = Unavailable(e.reason, e.url)
    evidence = Evidence(package, files, project, None)
    metadata: CoreMetadata | Unavailable | None = None
    chosen = metadata_file(evidence.release_files, package.sha256s())
    if chosen is not None:
        try:
            metadata = fetch_core_metadata(index.client, chosen)
        except FetchError as e:
            metadata = Unavailable(
                e.reason,
                e.url,
                archive=isinstance(e, ArchiveRejected),
                mismatch=isinstance(e, DigestMismatch),
            )
    vulnerabilities = None
    emails: tuple[ReleaseEmails, ...] = ()
    provenance = None
    earlier: tuple[ReleaseProvenance, ...] = ()
    if package.version is not None and isinstance(files, ProjectFiles | Missing):
        # asked even for a release the index no longer serves: a removed release is
        # often a malicious one, and the advisory databases say so (ctx 0.2.6)
        vulnerabilities = query_vulnerabilities(vuln_sources, package.name, package.version)
    if evidence.release_files and package.version is not None:
        assert isinstance(files, ProjectFiles)
        provenance = release_provenance(index, files, package.version, evidence.release_files)
        earlier = earlier_provenance(index, files, package.version)
        if isinstance(metadata, CoreMetadata):
            emails = earlier_emails(index, files, package.version, addresses(metadata))
    current = previous = None
    refused = isinstance(metadata, Unavailable) and metadata.archive  # read once, refused once
    if inventory and not refused and isinstance(files, ProjectFiles) and evidence.release_files:
        current, previous = release_inventories(index.client, files, evidence.release_files)
    return Evidence(
        package,
        files,
        project,
        metadata,
        vulnerabilities,
        provenance,
        earlier,
        emails,
        inventory=current,
        previous_inventory=previous,
        lookalikes=tuple(_lookalike(index, n, r) for n, r in resembles(package))
        if resembles is not None
        else (),
    )


def _lookalike(index: Index, name: NormalizedName, rank: int) -> Lookalike:
    try:
        project = index.project(name)
    except FetchError as e:
        return Lookalike(name, rank, e.url or index.project_url(name), None, reason=e.reason)
    if isinstance(project, ProjectInfo):
        return Lookalike(
            name,
            rank,
            project.url,
            project.roles,
            project.organization,
            first_upload=project.first_upload,
            releases=project.release_count,
        )
    return Lookalike(name, rank, project.url, None, reason="the index does not know it")


def addresses(metadata: CoreMetadata) -> frozenset[str]:
    """The author and maintainer e-mail addresses a release declares, lower case."""
    return email_addresses(metadata.author_email, metadata.maintainer_email)


def earlier_emails(
    index: Index, files: ProjectFiles, pinned: Version, wanted: frozenset[str]
) -> tuple[ReleaseEmails, ...]:
    """Earlier releases' addresses, newest first, read only until one shares an address
    with the pinned release (then nothing changed), and at most five."""
    if not wanted:
        return ()
    found: list[ReleaseEmails] = []
    for version in reversed(files.earlier(pinned, EARLIER_RELEASES)):
        chosen = metadata_file(files.release(version))
        if chosen is None:
            continue
        try:
            metadata = fetch_core_metadata(index.client, chosen)
        except FetchError:
            continue
        found.append(
            ReleaseEmails(
                str(version), metadata.author_email, metadata.maintainer_email, metadata.source_url
            )
        )
        if addresses(metadata) & wanted:
            break
    return tuple(found)


def query_vulnerabilities(
    sources: Sequence[VulnerabilitySource], name: NormalizedName, version: Version
) -> VulnerabilityReport:
    """Ask every source; the answer is known when at least one source could say."""
    if not sources:
        return VulnerabilityReport(Unavailable("no advisory source was queried"), "")
    found: list[Advisory] = []
    answered, failed = [], []
    for source in sources:
        answer = source.query(name, version)
        if isinstance(answer, Unavailable):
            failed.append(f"{source.name}: {answer.reason}")
        else:
            answered.append(source.name)
            found.extend(answer)
    if not answered:
        return VulnerabilityReport(
            Unavailable("; ".join(failed)), ", ".join(s.name for s in sources)
        )
    return VulnerabilityReport(merge_advisories(found), ", ".join(answered))


class IndexMetadata:
    """The resolver's view of an index (scanner.resolver.MetadataSource)."""

    def __init__(self, index: Index) -> None:
        self.index = index

    def files(self, name: NormalizedName) -> ProjectFiles | Missing:
        try:
            return self.index.files(name)
        except FetchError as e:
            raise ResolutionError(f"{name}: could not fetch {e.url}: {e.reason}") from e

    def metadata(self, file: DistFile) -> CoreMetadata | None:
        try:
            return fetch_core_metadata(self.index.client, file)
        except FetchError:
            return None
