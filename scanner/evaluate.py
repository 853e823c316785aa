"""Evidence -> graph, findings, scores and verdict: the part of a scan with no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import date

import networkx as nx

from scanner import refdata, scoring
from scanner.families import (
    OWNERSHIP_INDEXES,
    evidence_families,
    not_evaluated_reason,
    serves_ownership,
)
from scanner.models import (
    BaselineDiff,
    CoreMetadata,
    Evidence,
    Inventory,
    Lock,
    Missing,
    PackageReport,
    ProjectFiles,
    ProjectInfo,
    ReleaseContents,
    ReleasePoint,
    ScanResult,
    SourceKind,
    Waived,
)
from scanner.policy import Policy, apply_policy, expired_waivers, gate
from scanner.resolve import DependencyGraph, build_graph
from scanner.selection import Selection
from scanner.signals import SignalContext, run_signals
from scanner.signals.inputs import input_findings


def evaluate(
    lock: Lock,
    selection: Selection,
    evidence: Mapping[str, Evidence],
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
        key: e.metadata.requires_dist
        if isinstance(e.metadata, CoreMetadata) and e.metadata.dependencies_known
        else None
        for key, e in evidence.items()
    }
    graph = build_graph(
        selection.packages,
        requires,
        env,
        lock.has_direct_info,
        recorded=selection.edges,
        roots=selection.roots,
        key=selection.key,
    )
    ownership_hosts = serves_ownership(evidence.values())
    reports = [
        _report(
            selection.key(p),
            evidence[selection.key(p)],
            graph,
            context,
            policy,
            today,
            ownership_hosts,
        )
        for p in selection.packages
    ]
    reports = _with_graph_figures(reports, graph)
    gated = baseline.gated if baseline is not None else None
    lock_findings = apply_policy(input_findings(lock, baseline), policy, today).kept
    verdict = gate(reports, policy, gated, lock_findings)
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
        packages=tuple(sorted(reports, key=lambda r: (r.name, r.key))),
        roots=graph.roots,
        notes=notes,
        verdict=verdict,
        baseline=baseline,
        policy_source=policy.source,
        input_findings=lock_findings,
    )


def _report(
    key: str,
    evidence: Evidence,
    graph: DependencyGraph,
    context: SignalContext,
    policy: Policy,
    today: date,
    ownership_hosts: frozenset[str] = OWNERSHIP_INDEXES,
) -> PackageReport:
    package = evidence.package
    families = evidence_families(evidence, ownership_hosts)
    reason = not_evaluated_reason(evidence, policy)
    applied = apply_policy(run_signals(evidence, context), policy, today)
    findings = tuple(sorted(applied.kept, key=lambda f: (-f.severity, f.signal)))
    taken = scoring.deductions(findings)
    given = scoring.credits(evidence, context.now)
    project = evidence.project if isinstance(evidence.project, ProjectInfo) else None
    metadata = evidence.metadata if isinstance(evidence.metadata, CoreMetadata) else None
    return PackageReport(
        name=package.name,
        key=key,
        version=str(package.version) if package.version is not None else None,
        source=package.source,
        file=package.file,
        line=package.line,
        direct=key in graph.roots,
        evaluated=reason is None,
        not_evaluated_reason=reason,
        families=families,
        findings=findings,
        score=scoring.score(taken, given) if reason is None else None,
        confidence=scoring.confidence(families),
        deductions=taken,
        credits=given,
        summary=(metadata.summary if metadata else None) or (project.summary if project else None),
        urls=_urls(evidence),
        provenance=dict(Counter(f.state for f in evidence.provenance.files))
        if evidence.provenance
        else {},
        contents=_contents(evidence),
        publishers=tuple(
            (f.filename, f.publisher)
            for f in (evidence.provenance.files if evidence.provenance else ())
            if f.state == "verified" and f.publisher is not None
        ),
        dependencies=graph.dependencies(key),
        dependents=graph.dependents(key),
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


def _contents(evidence: Evidence) -> ReleaseContents | None:
    if not isinstance(evidence.inventory, Inventory):
        return None
    previous = evidence.previous_inventory
    return ReleaseContents.of(
        evidence.inventory, previous if isinstance(previous, Inventory) else None
    )


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
    scores = {r.key: r.score for r in reports}
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
            path_risk=risk[members[report.key]] if report.key in members else report.score,
            blast_radius=reached[members[report.key]].bit_count() if report.key in members else 0,
        )
        for report in reports
    ]
