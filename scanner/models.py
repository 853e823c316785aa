"""The nouns every part of trustscan shares: locks, registry evidence, findings.

All are frozen, slotted dataclasses. Names are canonical (PEP 503) and versions
are `packaging.version.Version` wherever a version is known.
"""

from __future__ import annotations

import enum
import functools
import heapq
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from packaging.utils import NormalizedName
from packaging.version import Version


class Severity(enum.IntEnum):
    """How bad a finding is; ordered, so `max()` gives the worst."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of {names})") from None


class SourceKind(enum.StrEnum):
    """Where a locked package comes from."""

    INDEX = "index"  # the index being scanned (by default the public PyPI)
    OTHER_INDEX = "other-index"  # a different package index, named in `location`
    URL = "url"  # a direct archive URL
    VCS = "vcs"  # a git/hg/svn/bzr checkout
    PATH = "path"  # a local file or directory (editable installs included)


@dataclass(frozen=True, slots=True)
class PackageSource:
    kind: SourceKind
    location: str | None = None

    @property
    def from_index(self) -> bool:
        return self.kind in (SourceKind.INDEX, SourceKind.OTHER_INDEX)


INDEX_SOURCE = PackageSource(SourceKind.INDEX)


@dataclass(frozen=True, slots=True)
class LockEdge:
    """A dependency edge a lock format records (uv, poetry, pdm)."""

    name: NormalizedName
    marker: str | None = None
    version: Version | None = None  # which locked version, when a name has several (uv)
    extras: frozenset[str] = frozenset()  # extras requested of the target
    group: str | None = None  # None: a main dependency; else the extra or group it is in


DEFAULT_GROUP = "default"  # the production group, whatever the format calls it


@functools.lru_cache(maxsize=8192)  # a hashed lock lists dozens a package, asked often
def _sha256s(hashes: frozenset[str]) -> frozenset[str]:
    return frozenset(h.split(":", 1)[1] for h in hashes if h.startswith("sha256:"))


@dataclass(frozen=True, slots=True)
class LockedPackage:
    """One entry of a lockfile, as the file states it."""

    name: NormalizedName
    version: Version | None  # None when the input does not pin one exact version
    source: PackageSource = INDEX_SOURCE
    hashes: frozenset[str] = frozenset()  # "algorithm:hexdigest", lower case
    extras: frozenset[str] = frozenset()
    marker: str | None = None
    line: int | None = None  # 1-based line in `file` where the entry starts
    file: str | None = None  # the file the entry was read from (includes differ)
    direct: bool | None = None  # None: the input does not say
    requirement: str | None = None  # the requirement as written, when not a plain pin
    dependencies: tuple[LockEdge, ...] | None = None  # edges the format records
    attestation_identities: tuple[Mapping[str, str], ...] = ()
    groups: frozenset[str] = frozenset()  # groups the entry belongs to; empty: production
    written: str = ""  # the name exactly as the input wrote it ("jeIlyfish"), if known
    named_hashes: tuple[tuple[str, str], ...] = ()  # (file name, "sha256:hex") where known

    @property
    def shown_name(self) -> str:
        """The name as written in the input (a homoglyph stays visible), else canonical."""
        return self.written or self.name

    @property
    def display_version(self) -> str:
        return str(self.version) if self.version is not None else "-"

    def sha256s(self) -> frozenset[str]:
        return _sha256s(self.hashes)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A problem located in an input file."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Lock:
    """A parsed input: the packages it pins and what the file says about them."""

    path: str
    format: str
    packages: tuple[LockedPackage, ...]
    index_url: str | None = None  # the index the file asks installers to use
    extra_index_urls: tuple[str, ...] = ()  # further indexes installers may take any name from
    notes: tuple[Diagnostic, ...] = ()  # non-fatal observations about the input
    has_direct_info: bool = False  # whether `direct` is meaningful for its packages
    default_groups: frozenset[str] = frozenset()  # PEP 751 `default-groups`
    members: tuple[NormalizedName, ...] = ()  # the project (workspace members): walk from here
    groups: tuple[str, ...] = ()  # every group and extra the input knows, for --groups/--extras
    resolved_for: Mapping[str, str] | None = None  # a resolved input: the one environment


# --- registry evidence ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Evidence that could not be obtained, and why. Never read as 'clean'."""

    reason: str
    url: str | None = None
    archive: bool = False  # the file was fetched, and refused as unsafe or malformed
    mismatch: bool = False  # fetched, and its sha256 is not the one the index declared


@dataclass(frozen=True, slots=True)
class Missing:
    """The index answered, authoritatively, that the thing does not exist (404)."""

    url: str


ProvenanceRef = Literal["unknown", "none", "available"]


@dataclass(frozen=True, slots=True)
class DistFile:
    """One file of a release, as the Simple API (PEP 691/700/740) describes it."""

    filename: str
    url: str  # absolute: already joined against the response URL
    version: Version | None  # parsed from the filename; None when it cannot be
    sha256: str | None
    size: int | None
    upload_time: datetime | None
    yanked: bool
    yanked_reason: str | None
    requires_python: str | None
    core_metadata: bool | None  # None: the index does not say (PEP 658/714 key absent)
    core_metadata_sha256: str | None
    provenance: ProvenanceRef
    provenance_url: str | None

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


@dataclass(frozen=True, slots=True)
class ReleaseSummary:
    """One release as a project's page shows it, without its files."""

    first_upload: datetime | None  # the earliest upload time of its files
    yanked: bool  # every file of the release is yanked


@dataclass(frozen=True, slots=True)
class ProjectFiles:
    """A project's Simple API page: every release, and the files of all or some of them.

    `releases` always covers every release on the page. `files` holds every file
    (`complete`), or, read for one pinned release, that release's files and those
    of the releases just before it (see `scanner.registry.index.Index.release_files`).
    """

    name: NormalizedName
    url: str
    api_version: str
    versions: tuple[str, ...]
    files: tuple[DistFile, ...]
    project_status: str | None = None
    releases: Mapping[Version, ReleaseSummary] = field(default_factory=dict)
    complete: bool = True
    # Derived once: the files of each release, and each release's first upload.
    by_version: Mapping[Version, tuple[DistFile, ...]] = field(
        init=False, repr=False, compare=False
    )
    first_uploads: Mapping[Version, datetime] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        grouped: dict[Version, list[DistFile]] = {}
        for file in self.files:
            if file.version is not None:
                grouped.setdefault(file.version, []).append(file)
        by_version = {v: tuple(fs) for v, fs in grouped.items()}
        object.__setattr__(self, "by_version", by_version)
        if not self.releases:
            object.__setattr__(self, "releases", summarise(by_version))
        first = {v: r.first_upload for v, r in self.releases.items() if r.first_upload}
        object.__setattr__(self, "first_uploads", first)

    def earlier(self, pinned: Version, count: int) -> list[Version]:
        """The `count` releases before `pinned`, oldest first. Of a page read for one
        release, those whose files it holds (it holds as many as were asked for)."""
        known = self.releases if self.complete else self.by_version
        return sorted(heapq.nlargest(count, (v for v in known if v < pinned)))

    def release(self, version: Version) -> tuple[DistFile, ...]:
        return self.by_version.get(version, ())

    @property
    def exposes_provenance(self) -> bool:
        """PEP 740 provenance appears in the Simple API from api-version 1.3."""
        return _api_at_least(self.api_version, (1, 3))


_UNIVERSAL_TAGS = ("-py3-none-any.whl", "-py2.py3-none-any.whl")


def metadata_file(
    release: Sequence[DistFile], locked: AbstractSet[str] = frozenset()
) -> DistFile | None:
    """The cheapest file of a release to read core metadata from: a locked one (of the
    `locked` sha256s) first, then a universal wheel, any wheel, a file with PEP 658."""
    if not release:
        return None

    def cost(file: DistFile) -> tuple[bool, bool, bool, bool, bool, str]:
        return (
            bool(locked) and file.sha256 not in locked,
            not file.is_wheel,
            file.filename.endswith(".egg"),  # an egg's PKG-INFO lists no dependencies
            not file.filename.endswith(_UNIVERSAL_TAGS),
            file.core_metadata is False,
            file.filename,
        )

    return min(release, key=cost)


def representative(release: Sequence[DistFile]) -> DistFile:
    """The one file that stands for a release (its sdist when it has one)."""
    return min(release, key=lambda f: (f.is_wheel, f.filename))


def summarise(by_version: Mapping[Version, Sequence[DistFile]]) -> dict[Version, ReleaseSummary]:
    """Each release's first upload and whether all its files are yanked."""
    summary = {}
    for version, files in by_version.items():
        times = [f.upload_time for f in files if f.upload_time is not None]
        summary[version] = ReleaseSummary(
            min(times) if times else None, all(f.yanked for f in files)
        )
    return summary


def _api_at_least(version: str, wanted: tuple[int, int]) -> bool:
    try:
        major, minor = (int(p) for p in version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= wanted


@dataclass(frozen=True, slots=True)
class OwnerRole:
    user: str
    role: str


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    """What the project JSON API says of the project (not of one release)."""

    name: str
    url: str
    latest_version: str | None
    summary: str | None
    project_urls: tuple[tuple[str, str], ...]
    home_page: str | None
    author_email: str | None
    maintainer_email: str | None
    classifiers: tuple[str, ...]
    roles: tuple[OwnerRole, ...] | None  # None: the index gave no ownership data
    organization: str | None
    latest_vulnerabilities: tuple[Mapping[str, object], ...]
    download_url: str | None = None
    release_count: int | None = None  # from the JSON's `releases`, when it had them
    first_upload: datetime | None = None


@dataclass(frozen=True, slots=True)
class CoreMetadata:
    """Core metadata of one distribution file, read as data."""

    source_url: str
    method: Literal["pep658", "wheel-range", "sdist"]
    metadata_version: str | None
    name: str | None
    version: str | None
    summary: str | None
    requires_dist: tuple[str, ...]
    requires_python: str | None
    author_email: str | None
    maintainer_email: str | None
    home_page: str | None
    project_urls: tuple[tuple[str, str], ...]
    dynamic: tuple[str, ...]
    download_url: str | None = None

    @property
    def dependencies_known(self) -> bool:
        """False for an sdist whose dependencies are computed at build time."""
        if self.method != "sdist":
            return True
        if any(d.lower() == "requires-dist" for d in self.dynamic):
            return False
        # Before Metadata 2.2 an sdist's PKG-INFO makes no promise about them.
        return _api_at_least(self.metadata_version or "1.0", (2, 2))


@dataclass(frozen=True, slots=True)
class Advisory:
    """One vulnerability, with every id it is known by (aliases merged)."""

    id: str
    aliases: tuple[str, ...]
    summary: str | None
    fixed: tuple[str, ...]
    severity: str | None  # the advisory's own word (e.g. "HIGH"), when it gives one
    links: tuple[str, ...]
    cvss: str | None = None  # its CVSS v3 vector, when it has one: severity is scored from it

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)

    @property
    def malicious(self) -> bool:
        return any(i.startswith("MAL-") for i in self.ids)


@dataclass(frozen=True, slots=True)
class VulnerabilityReport:
    """What the vulnerability sources said of one release."""

    advisories: tuple[Advisory, ...] | Unavailable
    source: str  # which source answered, or which were asked


@dataclass(frozen=True, slots=True)
class Inventory:
    """What one wheel installs, from its zip central directory (nothing extracted)."""

    filename: str
    files: tuple[str, ...]
    pth: Mapping[str, str]  # top-level .pth file -> its text (bounded)
    commands: tuple[str, ...]  # console and GUI scripts

    @property
    def top_level(self) -> frozenset[str]:
        """Import names it installs: top-level packages and modules (not metadata)."""
        names = set()
        for path in self.files:
            head = path.split("/", 1)[0]
            if head.endswith((".dist-info", ".data")) or head.endswith(".pth"):
                continue
            names.add(head.removesuffix(".py") if "/" not in path else head)
        return frozenset(n for n in names if n and not n.startswith("."))

    @property
    def native(self) -> tuple[str, ...]:
        """Native code and executables it installs."""
        suffixes = (".so", ".pyd", ".dll", ".dylib", ".exe")
        return tuple(
            p
            for p in self.files
            if p.endswith(suffixes) or ".so." in p or ("/scripts/" in p and ".data/" in p)
        )


@dataclass(frozen=True, slots=True)
class ReleaseContents:
    """What a release installs, against the release before it (for reports)."""

    wheel: str
    files: int
    pth: Mapping[str, str]
    commands: tuple[str, ...]
    native: int
    previous_wheel: str | None
    added: tuple[str, ...]  # files new since the previous release's wheel
    removed: tuple[str, ...]

    @classmethod
    def of(cls, current: Inventory, previous: Inventory | None) -> ReleaseContents:
        def strip(path: str) -> str:  # compare paths without the versioned dist-info folder
            head, sep, rest = path.partition("/")
            return f"*.dist-info/{rest}" if head.endswith(".dist-info") and sep else path

        now = {strip(p) for p in current.files}
        before = {strip(p) for p in previous.files} if previous else now
        return cls(
            current.filename,
            len(current.files),
            current.pth,
            current.commands,
            len(current.native),
            previous.filename if previous else None,
            tuple(sorted(now - before)),
            tuple(sorted(before - now)),
        )


@dataclass(frozen=True, slots=True)
class Lookalike:
    """A popular project a package's name resembles, with who owns it: the evidence to
    tell a squat from a sibling by the same people (`httpx2` by httpx's owners)."""

    name: NormalizedName
    rank: int
    url: str
    roles: tuple[OwnerRole, ...] | None  # None: not known (not fetched, or not served)
    organization: str | None = None
    reason: str | None = None  # why the owners are not known
    first_upload: datetime | None = None
    releases: int | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything the registry told us about one locked package."""

    package: LockedPackage
    files: ProjectFiles | Missing | Unavailable
    project: ProjectInfo | Missing | Unavailable
    metadata: CoreMetadata | Unavailable | None  # None: not looked for
    vulnerabilities: VulnerabilityReport | None = None  # None: no source was asked
    provenance: ReleaseProvenance | None = None  # the pinned release's files
    earlier_provenance: tuple[ReleaseProvenance, ...] = ()  # newest first
    earlier_emails: tuple[ReleaseEmails, ...] = ()  # newest first, read only as far as needed
    previous_owners: OwnershipObservation | None = None  # the store's baseline observation
    inventory: Inventory | Unavailable | None = None  # the pinned release's wheel
    previous_inventory: Inventory | Unavailable | None = None  # the release before's wheel
    lookalikes: tuple[Lookalike, ...] = ()  # popular projects the name resembles

    @property
    def release_files(self) -> tuple[DistFile, ...]:
        if isinstance(self.files, ProjectFiles) and self.package.version is not None:
            return self.files.release(self.package.version)
        return ()


# --- findings and results ------------------------------------------------------

EvidenceValue = object  # JSON-able: str, numbers, bools, None, lists and dicts of them


@dataclass(frozen=True, slots=True)
class Finding:
    """One signal firing for one package, with what was observed and where."""

    signal: str
    severity: Severity
    package: NormalizedName
    version: str | None
    message: str
    evidence: Mapping[str, EvidenceValue] = field(default_factory=dict)


FamilyStateName = Literal["evaluated", "unknown", "not-applicable"]
FAMILIES = ("registry", "dependencies", "ownership", "provenance", "vulnerabilities")


@dataclass(frozen=True, slots=True)
class FamilyState:
    """Whether one family of evidence (provenance, vulnerabilities, ...) was evaluated.

    `gated` is False only for a documented exception: unknown by the package's own
    declaration (an sdist that declares its dependencies dynamic), which lowers
    confidence but does not fail a gate that requires the family."""

    state: FamilyStateName
    reason: str | None = None
    gated: bool = True


@dataclass(frozen=True, slots=True)
class Deduction:
    """Points of score one finding took."""

    signal: str
    severity: Severity
    points: float
    message: str


@dataclass(frozen=True, slots=True)
class Credit:
    """Positive evidence behind a package's standing: one component, 0-1, and what was
    observed (see scanner/scoring.py)."""

    component: str  # provenance, ownership, age, upkeep
    value: float
    observed: str


@dataclass(frozen=True, slots=True)
class Waived:
    """A finding a policy waiver set aside, and the waiver's reason."""

    finding: Finding
    reason: str
    expires: str | None


@dataclass(frozen=True, slots=True)
class BaselineDiff:
    """What changed against a baseline lock: only added and changed packages are gated."""

    baseline: str
    added: tuple[NormalizedName, ...]
    removed: tuple[NormalizedName, ...]
    changed: tuple[tuple[NormalizedName, str, str], ...]  # name, old version, new version
    indexes_added: tuple[str, ...] = ()  # index URLs the new lock names and the old did not

    @property
    def gated(self) -> frozenset[NormalizedName]:
        return frozenset(self.added) | {name for name, _, _ in self.changed}


@dataclass(frozen=True, slots=True)
class ReleasePoint:
    """One release on a package's timeline."""

    version: str
    uploaded: str  # ISO date-time of its first file
    yanked: bool
    attested: bool | None  # None: provenance not known for it


@dataclass(frozen=True, slots=True)
class PackageReport:
    """Everything the scan concluded about one package."""

    name: NormalizedName
    version: str | None
    source: PackageSource
    file: str | None
    line: int | None
    direct: bool
    evaluated: bool
    not_evaluated_reason: str | None
    families: Mapping[str, FamilyState]
    findings: tuple[Finding, ...]
    score: float | None
    confidence: float
    deductions: tuple[Deduction, ...]
    summary: str | None
    urls: Mapping[str, str]
    provenance: Mapping[str, int]  # file count per provenance state
    dependencies: tuple[str, ...]  # keys
    dependents: tuple[str, ...]
    path_risk: float | None = None
    blast_radius: int = 0
    waived: tuple[Waived, ...] = ()
    releases: tuple[ReleasePoint, ...] = ()  # the timeline, newest last (at most 60)
    # Who built it: each verified file of the pinned release and its publisher identity.
    publishers: tuple[tuple[str, Publisher], ...] = ()  # (filename, identity)
    contents: ReleaseContents | None = None  # what the pinned release's wheel installs
    credits: tuple[Credit, ...] = ()  # the positive evidence its standing comes from
    # Its identity in the scan: the name, or `name@version` when the lock pins the
    # name at several versions (each is then a package of its own). "" = the name.
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.name)

    @property
    def publisher_state(self) -> str:
        """verified, invalid, none or unknown: the pinned release's provenance in a word."""
        for state in ("invalid", "verified", "unknown", "none"):
            if self.provenance.get(state):
                return state
        return "unknown"

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)


@dataclass(frozen=True, slots=True)
class Verdict:
    exit_code: int  # 0 pass, 1 policy violated, 3 could not evaluate
    reasons: tuple[str, ...]

    @property
    def label(self) -> str:
        return {0: "pass", 1: "fail", 3: "not evaluated"}.get(self.exit_code, "error")


@dataclass(frozen=True, slots=True)
class ScanResult:
    input: str
    format: str
    index_url: str
    started_at: datetime
    seconds: float
    environment: Mapping[str, str]
    packages: tuple[PackageReport, ...]
    roots: tuple[str, ...]  # keys
    notes: tuple[str, ...]
    verdict: Verdict
    baseline: BaselineDiff | None = None
    policy_source: str | None = None
    input_findings: tuple[Finding, ...] = ()  # of the input itself, not of one package
    evidence: Mapping[str, Evidence] = field(  # by package key
        default_factory=dict, compare=False, repr=False
    )


ProvenanceState = Literal["verified", "invalid", "none", "unknown"]


@dataclass(frozen=True, slots=True)
class Publisher:
    """A Trusted Publisher identity, as a PEP 740 attestation bundle names it."""

    kind: str  # GitHub, GitLab, Google, ...
    repository: str | None = None
    workflow: str | None = None  # GitHub `workflow`, GitLab `workflow_filepath`
    environment: str | None = None
    email: str | None = None  # Google

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """What must stay the same between releases (empty environment == none)."""
        return (
            self.kind.lower(),
            (self.repository or self.email or "").lower(),
            self.workflow or "",
            self.environment or "",
        )

    def __str__(self) -> str:
        parts = [self.kind, self.repository or self.email or "?"]
        if self.workflow:
            parts.append(self.workflow)
        if self.environment:
            parts.append(f"environment {self.environment}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class FileProvenance:
    """The PEP 740 provenance of one file, and what verifying it showed."""

    filename: str
    sha256: str | None
    state: ProvenanceState
    reason: str | None = None  # why invalid or unknown
    publisher: Publisher | None = None  # verified publisher (state == "verified")
    predicates: tuple[str, ...] = ()  # predicate types that verified
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ReleaseProvenance:
    version: str
    files: tuple[FileProvenance, ...]

    @property
    def attested(self) -> bool:
        return any(f.state == "verified" for f in self.files)

    @property
    def publishers(self) -> tuple[Publisher, ...]:
        return tuple(dict.fromkeys(f.publisher for f in self.files if f.publisher))


@dataclass(frozen=True, slots=True)
class OwnershipObservation:
    """Who held roles on a project when a scan looked (from the store's history)."""

    scan_id: int | None
    observed_at: str
    organization: str | None
    roles: tuple[OwnerRole, ...]


@dataclass(frozen=True, slots=True)
class ReleaseEmails:
    """Author and maintainer addresses of one release, from its core metadata."""

    version: str
    author_email: str | None
    maintainer_email: str | None
    source_url: str


@functools.lru_cache(maxsize=8192)  # the same fields are read by the registry and by signals
def email_addresses(*fields: str | None) -> frozenset[str]:
    """The addresses in Author-email / Maintainer-email style fields, lower case."""
    from email.utils import getaddresses

    return frozenset(a.lower() for _, a in getaddresses([f or "" for f in fields]) if "@" in a)


@dataclass(frozen=True, slots=True)
class ProjectProvenance:
    """What `trustscan provenance` shows: the pinned release and the earlier ones read."""

    project: str
    index: str
    api_version: str
    releases: tuple[ReleaseProvenance, ...]
