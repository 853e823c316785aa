"""Evidence families: which exist, what state each is in for a package, and why.

A family is `evaluated`, `unknown` (with the reason) or `not-applicable`. Which
families must be evaluated for the gate to pass is policy (`Policy.require`,
default `policy.REQUIRED_FAMILIES`); this module says only what was observed.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from scanner.models import (
    FAMILIES,
    CoreMetadata,
    Evidence,
    FamilyState,
    Missing,
    ProjectInfo,
    SourceKind,
    Unavailable,
)
from scanner.policy import Policy

OWNERSHIP_INDEXES = frozenset({"pypi.org", "test.pypi.org"})  # hosts that publish ownership


def not_evaluated_reason(evidence: Evidence, policy: Policy | None = None) -> str | None:
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
    reason = not_evaluated_reason(evidence)
    if reason is not None:
        return dict.fromkeys(FAMILIES, FamilyState("unknown", reason))
    if not evidence.release_files:  # not on the index: nothing more to look at
        na = FamilyState("not-applicable", "release not served by the index")
        return {
            "registry": FamilyState("evaluated"),
            "dependencies": na,
            "ownership": _ownership_state(evidence.project, ownership_hosts),
            "provenance": na,
            "vulnerabilities": _vulnerability_state(evidence)
            if evidence.vulnerabilities is not None
            else FamilyState("unknown", "release not served: no advisory lookup"),
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
