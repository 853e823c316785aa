"""Wire the pieces: Lock -> evidence -> graph -> findings -> scores -> verdict.

The only place that runs fetches concurrently. Progress is reported through a
callback so the CLI can draw a bar and the TUI can post messages.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import networkx as nx
from packaging.utils import NormalizedName

from scanner import refdata, scoring
from scanner.allocator import return_large_blocks
from scanner.models import (
    FAMILIES,
    BaselineDiff,
    CoreMetadata,
    Evidence,
    FamilyState,
    Lock,
    LockedPackage,
    Missing,
    OwnershipObservation,
    PackageReport,
    ProjectFiles,
    ProjectInfo,
    ReleasePoint,
    ScanResult,
    SourceKind,
    Unavailable,
    Verdict,
    Waived,
)
from scanner.policy import Policy, apply_policy, expired_waivers, gate
from scanner.registry.evidence import IndexMetadata, collect_evidence
from scanner.registry.http import NeedsNetwork, cache_only
from scanner.registry.index import Index
from scanner.resolve import DependencyGraph, build_graph
from scanner.resolver import ResolverOptions, resolve_lock
from scanner.selection import Selection, select
from scanner.signals import SignalContext, run_signals
from scanner.signals.inputs import input_findings
from scanner.vulns.interface import VulnerabilitySource

Progress = Callable[[int, int, str], None]  # done, total, package just finished
OWNERSHIP_INDEXES = frozenset({"pypi.org", "test.pypi.org"})  # hosts that publish ownership


def scan(
    lock: Lock,
    index: Index,
    env: Mapping[str, str],
    policy: Policy | None = None,
    *,
    jobs: int = 8,
    progress: Progress | None = None,
    context: SignalContext | None = None,
    vuln_sources: Sequence[VulnerabilitySource] = (),
    baseline: BaselineDiff | None = None,
    groups: AbstractSet[str] = frozenset(),
    extras: AbstractSet[str] = frozenset(),
    resolver: ResolverOptions | None = None,
    history: Callable[[str], OwnershipObservation | None] | None = None,
    lock_indexes: bool = True,
) -> ScanResult:
    """Fetch the evidence for every package of `lock`, then evaluate it.

    With `resolver`, unpinned requirements are first resolved against the index;
    without, they are listed as not evaluated. A package the lock says comes from
    another index is looked up on that index (`lock_indexes`), else on `index`.
    """
    started_at = datetime.now(UTC)
    started = time.monotonic()
    selection = select(lock, env, groups, extras)
    unpinned = [p for p in selection.packages if p.version is None and p.source.from_index]
    # pyproject.toml names only direct dependencies, pinned or not: always resolve it.
    if resolver is not None and (unpinned or lock.format == "pyproject.toml"):
        lock = resolve_lock(lock, IndexMetadata(index), resolver, selection.packages)
        selection = select(lock, env)
    pinned = [
        (p.name, p.version)
        for p in selection.packages
        if p.version is not None and p.source.from_index
    ]
    for source in vuln_sources:  # batch sources ask for everything at once, here
        source.prefetch(pinned)
    router = IndexRouter(index, lock_indexes)
    evidence = _collect(router, selection.packages, vuln_sources, jobs, progress)
    if history is not None:
        evidence = {n: replace(e, previous_owners=history(n)) for n, e in evidence.items()}
    if context is None:
        policy_thresholds = dict(policy.thresholds) if policy else {}
        context = SignalContext(
            now=started_at, thresholds=policy_thresholds, reference=refdata.load()
        )
    result = evaluate(lock, selection, evidence, env, policy, context, baseline)
    sources = tuple(f"vulnerability source {s.describe()}" for s in vuln_sources)
    return replace(
        result,
        notes=result.notes + sources,
        index_url=index.base,
        started_at=started_at,
        seconds=time.monotonic() - started,
        evidence=evidence,
    )


def evaluate(
    lock: Lock,
    selection: Selection,
    evidence: Mapping[NormalizedName, Evidence],
    env: Mapping[str, str],
    policy: Policy | None = None,
    context: SignalContext | None = None,
    baseline: BaselineDiff | None = None,
) -> ScanResult:
    """Evidence -> graph, findings, scores and verdict. No I/O."""
    policy = policy or Policy()
    context = context or SignalContext(reference=refdata.load(), thresholds=dict(policy.thresholds))
    today = context.now.date()
    requires = {
        name: e.metadata.requires_dist
        if isinstance(e.metadata, CoreMetadata) and e.metadata.dependencies_known
        else None
        for name, e in evidence.items()
    }
    graph = build_graph(
        selection.packages,
        requires,
        env,
        lock.has_direct_info,
        recorded=selection.edges,
        roots=selection.roots,
    )
    ownership_hosts = serves_ownership(evidence.values())
    reports = [
        _report(evidence[p.name], graph, context, policy, today, ownership_hosts)
        for p in selection.packages
    ]
    reports = _with_graph_figures(reports, graph)
    gated = baseline.gated if baseline is not None else None
    # Markers that leave nothing to scan mean the input was not evaluated for this target;
    # a project whose production install simply has no dependencies passes.
    nothing = not reports and selection.skipped > 0
    lock_findings = apply_policy(input_findings(lock, baseline), policy, today).kept
    verdict = _nothing_scanned() if nothing else gate(reports, policy, gated, lock_findings)
    notes = (
        tuple(str(n) for n in lock.notes)
        + selection.notes
        + graph.problems
        + tuple(expired_waivers(policy, today))
    )
    return ScanResult(
        input=lock.path,
        format=lock.format,
        index_url="",
        started_at=context.now,
        seconds=0.0,
        environment=dict(env),
        packages=tuple(sorted(reports, key=lambda r: r.name)),
        roots=graph.roots,
        notes=notes,
        verdict=verdict,
        baseline=baseline,
        policy_source=policy.source,
        input_findings=lock_findings,
    )


def _nothing_scanned() -> Verdict:
    """A lock whose every entry was filtered out was not evaluated: never a pass."""
    return Verdict(3, ("no entry of the lock applies to the target environment",))


class IndexRouter:
    """The index each package is looked up on: the one scanned, or the other index
    the lock names for it (one `Index` per such URL, sharing the client)."""

    def __init__(self, scanned: Index, lock_indexes: bool) -> None:
        self.scanned = scanned
        self.lock_indexes = lock_indexes
        self._others: dict[str, Index] = {}

    def __call__(self, package: LockedPackage) -> Index:
        location = package.source.location
        if not self.lock_indexes or package.source.kind is not SourceKind.OTHER_INDEX:
            return self.scanned
        if not location:
            return self.scanned
        if location not in self._others:
            self._others[location] = Index(self.scanned.client, location, scanned=False)
        return self._others[location]


def _collect(
    index_for: Callable[[LockedPackage], Index],
    packages: Sequence[LockedPackage],
    vuln_sources: Sequence[VulnerabilitySource],
    jobs: int,
    progress: Progress | None,
) -> dict[NormalizedName, Evidence]:
    """Evidence for every package: first from the cache alone, in this thread (for a
    rescan that is all of it, and threads would only take turns at the GIL), then
    what needs the network, `jobs` at a time."""
    results: dict[NormalizedName, Evidence] = {}
    pending: list[LockedPackage] = []

    def done(item: Evidence) -> None:
        results[item.package.name] = item
        if progress is not None:
            progress(len(results), len(packages), item.package.name)

    with cache_only():
        for package in packages:
            try:
                done(collect_evidence(index_for(package), package, vuln_sources))
            except NeedsNetwork:
                pending.append(package)
    if pending:
        return_large_blocks()
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [
                pool.submit(collect_evidence, index_for(p), p, vuln_sources) for p in pending
            ]
            for future in as_completed(futures):
                done(future.result())
    return results


def _report(
    evidence: Evidence,
    graph: DependencyGraph,
    context: SignalContext,
    policy: Policy,
    today: date,
    ownership_hosts: frozenset[str] = OWNERSHIP_INDEXES,
) -> PackageReport:
    package = evidence.package
    families = evidence_families(evidence, ownership_hosts)
    reason = _not_evaluated_reason(evidence, policy)
    applied = apply_policy(run_signals(evidence, context), policy, today)
    findings = tuple(sorted(applied.kept, key=lambda f: (-f.severity, f.signal)))
    taken = scoring.deductions(findings)
    project = evidence.project if isinstance(evidence.project, ProjectInfo) else None
    metadata = evidence.metadata if isinstance(evidence.metadata, CoreMetadata) else None
    return PackageReport(
        name=package.name,
        version=str(package.version) if package.version is not None else None,
        source=package.source,
        file=package.file,
        line=package.line,
        direct=package.name in graph.roots,
        evaluated=reason is None,
        not_evaluated_reason=reason,
        families=families,
        findings=findings,
        score=scoring.score(taken) if reason is None else None,
        confidence=scoring.confidence(families),
        deductions=taken,
        summary=(metadata.summary if metadata else None) or (project.summary if project else None),
        urls=_urls(evidence),
        provenance=dict(Counter(f.state for f in evidence.provenance.files))
        if evidence.provenance
        else {},
        dependencies=graph.dependencies(package.name),
        dependents=graph.dependents(package.name),
        waived=tuple(
            Waived(f, w.reason, str(w.expires) if w.expires else None) for f, w in applied.waived
        ),
        releases=_timeline(evidence),
    )


TIMELINE = 60


def _timeline(evidence: Evidence) -> tuple[ReleasePoint, ...]:
    """The last releases with their first upload, yanked state and, where read, attestation."""
    files = evidence.files
    if not isinstance(files, ProjectFiles):
        return ()
    attested = {r.version: r.attested for r in evidence.earlier_provenance}
    if evidence.provenance is not None:
        known = all(f.state != "unknown" for f in evidence.provenance.files)
        if known:
            attested[evidence.provenance.version] = evidence.provenance.attested
    dated = [(r.first_upload, v, r.yanked) for v, r in files.releases.items() if r.first_upload]
    dated.sort(key=lambda item: item[0])
    points = []
    for uploaded, version, yanked in dated[-TIMELINE:]:
        key = str(version)
        points.append(ReleasePoint(key, uploaded.isoformat(), yanked, attested.get(key)))
    return tuple(points)


def _not_evaluated_reason(evidence: Evidence, policy: Policy | None = None) -> str | None:
    package = evidence.package
    if not package.source.from_index:
        if policy is not None and not policy.allows_source(package.source):
            return (
                f"installed from a {package.source.kind.value} ({package.source.location}): "
                "no registry evidence; the policy's allow-sources can accept it"
            )
        return None  # allowed: what it is, is known, and the not-from-index finding says it
    for part in (evidence.files, evidence.project):
        if isinstance(part, Unavailable):
            where = ""
            if package.source.kind is SourceKind.OTHER_INDEX:
                where = f"locked from another index ({package.source.location}); "
            return f"{where}could not fetch {part.url or 'registry data'}: {part.reason}"
    if isinstance(evidence.files, Missing):
        return None  # the index says it does not exist: that is a finding
    if package.version is None:
        return f"not pinned to one version ({package.requirement})"
    if isinstance(evidence.metadata, Unavailable):  # dependencies unknown: the graph has a hole
        return (
            f"core metadata could not be read ({evidence.metadata.url}): {evidence.metadata.reason}"
        )
    return None


def serves_ownership(evidence: Iterable[Evidence]) -> frozenset[str]:
    """The hosts of this scan that publish ownership (PyPI, or an index that answered
    with ownership roles for some project): there, a project without them is unknown,
    not a project with no owners."""
    hosts = set(OWNERSHIP_INDEXES)
    for item in evidence:
        project = item.project
        if isinstance(project, ProjectInfo) and project.roles is not None:
            hosts.add(urlsplit(project.url).netloc)
    return frozenset(hosts)


def evidence_families(
    evidence: Evidence, ownership_hosts: frozenset[str] = OWNERSHIP_INDEXES
) -> dict[str, FamilyState]:
    """Per family of evidence: evaluated, unknown (with why), or not applicable."""
    package = evidence.package
    if not package.source.from_index:
        why = f"installed from a {package.source.kind.value}"
        return dict.fromkeys(FAMILIES, FamilyState("not-applicable", why))
    reason = _not_evaluated_reason(evidence)
    if reason is not None:
        return dict.fromkeys(FAMILIES, FamilyState("unknown", reason))
    if not evidence.release_files:  # not on the index: nothing more to look at
        na = FamilyState("not-applicable", "release not served by the index")
        return {
            "registry": FamilyState("evaluated"),
            "dependencies": na,
            "ownership": _ownership_state(evidence.project, ownership_hosts),
            "provenance": na,
            "vulnerabilities": FamilyState("unknown", "release not served: no advisory lookup"),
        }
    return {
        "registry": FamilyState("evaluated"),
        "dependencies": _dependencies_state(evidence.metadata),
        "ownership": _ownership_state(evidence.project, ownership_hosts),
        "provenance": _provenance_state(evidence),
        "vulnerabilities": _vulnerability_state(evidence),
    }


def _ownership_state(
    project: ProjectInfo | Missing | Unavailable, hosts: frozenset[str]
) -> FamilyState:
    if isinstance(project, ProjectInfo) and project.roles is not None:
        return FamilyState("evaluated")
    served = isinstance(project, ProjectInfo | Missing) and urlsplit(project.url).netloc in hosts
    what = (
        f"no project JSON ({project.url} answered 404)"
        if isinstance(project, Missing)
        else "the project JSON has no ownership data"
    )
    if served:
        return FamilyState("unknown", f"{what}, although this index publishes ownership")
    return FamilyState("not-applicable", f"{what}: the index does not publish ownership")


def _vulnerability_state(evidence: Evidence) -> FamilyState:
    report = evidence.vulnerabilities
    if report is None:
        return FamilyState("unknown", "no advisory source was queried")
    if isinstance(report.advisories, Unavailable):
        return FamilyState("unknown", report.advisories.reason)
    return FamilyState("evaluated", f"answered by {report.source}")


def _dependencies_state(metadata: CoreMetadata | Unavailable | None) -> FamilyState:
    if isinstance(metadata, Unavailable):
        return FamilyState("unknown", f"core metadata: {metadata.reason}")
    if metadata is None:
        return FamilyState("unknown", "no file to read core metadata from")
    if not metadata.dependencies_known:  # the documented exception: unknown, not gated
        return FamilyState(
            "unknown", "sdist declares its dependencies dynamic (build needed)", gated=False
        )
    return FamilyState("evaluated")


def _provenance_state(evidence: Evidence) -> FamilyState:
    if evidence.provenance is None:
        return FamilyState("unknown", "provenance was not looked up")
    unknown = [f for f in evidence.provenance.files if f.state == "unknown"]
    if unknown:
        return FamilyState("unknown", unknown[0].reason)
    return FamilyState("evaluated")


def _urls(evidence: Evidence) -> dict[str, str]:
    urls: dict[str, str] = {}
    if isinstance(evidence.files, ProjectFiles | Missing):
        urls["simple"] = evidence.files.url
    if isinstance(evidence.project, ProjectInfo | Missing):
        urls["project"] = evidence.project.url
    if isinstance(evidence.metadata, CoreMetadata):
        urls["metadata"] = evidence.metadata.source_url
    if evidence.package.source.kind is not SourceKind.INDEX and evidence.package.source.location:
        urls["source"] = evidence.package.source.location
    return urls


def _with_graph_figures(
    reports: list[PackageReport], graph: DependencyGraph
) -> list[PackageReport]:
    """Path risk (lowest score on any path from a direct dependency) and blast radius
    (how many direct dependencies reach the package), in one pass over the graph's
    condensation in topological order: linear in its size (a 5,000-line requirements
    file made the per-package ancestor walks quadratic)."""
    scores = {r.name: r.score for r in reports}
    condensed = nx.condensation(graph.graph)
    members = condensed.graph["mapping"]  # node -> component
    root_bits = {root: 1 << i for i, root in enumerate(graph.roots)}
    risk: dict[int, float | None] = {}
    reached: dict[int, int] = {}
    for component in nx.topological_sort(condensed):
        nodes = condensed.nodes[component]["members"]
        known = [s for n in nodes if (s := scores.get(n)) is not None]
        bits = 0
        for n in nodes:
            bits |= root_bits.get(n, 0)
        for parent in condensed.predecessors(component):
            if risk[parent] is not None:
                known.append(risk[parent])  # type: ignore[arg-type]
            bits |= reached[parent]
        risk[component] = min(known) if known else None
        reached[component] = bits
    return [
        replace(
            report,
            path_risk=risk[members[report.name]] if report.name in members else report.score,
            blast_radius=reached[members[report.name]].bit_count() if report.name in members else 0,
        )
        for report in reports
    ]
