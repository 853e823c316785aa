"""Lock -> DependencyGraph: which pinned package needs which.

Edges come from each release's Requires-Dist (or from the lock, when the
format records them), with markers evaluated for one target environment and
extras followed transitively. A requirement whose target is not in the lock
is reported, not ignored.
"""

from __future__ import annotations

import functools
import platform
import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import NamedTuple

import networkx as nx
from packaging.markers import (
    InvalidMarker,
    Marker,
    UndefinedComparison,
    UndefinedEnvironmentName,
    default_environment,
)
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from scanner.models import LockedPackage

_PLATFORMS = {
    "linux": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"},
    "darwin": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"},
    "win32": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"},
}


def target_environment(
    python_version: str | None = None, platform_name: str | None = None
) -> dict[str, str]:
    """Marker environment: the running interpreter, with overrides."""
    env: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    if python_version:
        parts = python_version.split(".")
        env["python_version"] = ".".join(parts[:2])
        env["python_full_version"] = python_version if len(parts) > 2 else f"{python_version}.0"
    if platform_name:
        key = platform_name.lower()
        if key not in _PLATFORMS:
            raise ValueError(f"unknown platform {platform_name!r} (use {', '.join(_PLATFORMS)})")
        env.update(_PLATFORMS[key])
        if key != platform.system().lower():
            env["platform_machine"] = "x86_64" if key != "darwin" else "arm64"
    return env


# The same few hundred requirement and marker strings recur across a lock's packages:
# parse each once (the objects are only read).
_marker = functools.lru_cache(maxsize=4096)(Marker)
_specifier = functools.lru_cache(maxsize=4096)(SpecifierSet)


class Dependency(NamedTuple):
    """What the graph reads of one Requires-Dist line."""

    name: str
    extras: frozenset[str]
    specifier: SpecifierSet
    marker: Marker | None
    text: str  # the line as the metadata wrote it


# name [extras] specifiers ; marker, the shape of nearly every Requires-Dist line
_ONE = r"(?:===|~=|==|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+"
_SIMPLE = re.compile(
    r"\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*"
    r"(?:\[(?P<extras>[A-Za-z0-9._,\s-]*)\])?\s*"
    rf"(?P<open>\()?\s*(?P<spec>(?:{_ONE}(?:\s*,\s*{_ONE})*)?)\s*(?(open)\))\s*"
    r"(?:;(?P<marker>[^@]*))?"
)
_EXTRA = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


@functools.lru_cache(maxsize=16384)
def parse_dependency(line: str) -> Dependency:
    """A Requires-Dist line, read as packaging's Requirement reads it; InvalidRequirement
    when it cannot be. Lines of the usual shape go by a regular expression and cached
    specifier and marker parses (a full PEP 508 parse costs more than the rest of the
    graph); anything else, URLs included, by packaging itself."""
    found = _SIMPLE.fullmatch(line)
    if found is not None:
        extras = [e.strip() for e in (found["extras"] or "").split(",")]
        if found["extras"] is None or all(_EXTRA.fullmatch(e) for e in extras):
            try:
                specifier = _specifier(found["spec"] or "")
                marker = _marker(found["marker"].strip()) if found["marker"] is not None else None
            except (InvalidSpecifier, InvalidMarker):
                pass  # packaging says what is wrong
            else:
                wanted = frozenset(e for e in extras if e) if found["extras"] else frozenset()
                return Dependency(found["name"], wanted, specifier, marker, line)
    requirement = Requirement(line)
    return Dependency(
        requirement.name,
        frozenset(requirement.extras),
        requirement.specifier,
        requirement.marker,
        line,
    )


def marker_applies(marker: str | None, env: Mapping[str, str], extras: Sequence[str] = ()) -> bool:
    """Whether a Requires-Dist `marker` holds in `env` for no extra or any of `extras`."""
    if not marker:
        return True
    try:
        parsed = _marker(marker)
        return any(parsed.evaluate({**env, "extra": extra}) for extra in ("", *extras))
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return True  # unknown markers: keep the package rather than silently drop it


def lock_marker_applies(
    marker: str | None, env: Mapping[str, str], groups: AbstractSet[str]
) -> bool:
    """Whether a lock entry's marker holds; PEP 751 markers may test groups and extras."""
    if not marker:
        return True
    lock_env: dict[str, str | AbstractSet[str]] = {
        **env,
        "dependency_groups": frozenset(groups),
        "extras": frozenset(),
    }
    try:
        return _marker(marker).evaluate(lock_env, context="lock_file")
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return True


@dataclass
class DependencyGraph:
    """Nodes are canonical names; node attribute `package` is the LockedPackage."""

    graph: nx.DiGraph = field(default_factory=nx.DiGraph)
    roots: tuple[NormalizedName, ...] = ()
    problems: tuple[str, ...] = ()

    def dependencies(self, name: NormalizedName) -> tuple[NormalizedName, ...]:
        return tuple(sorted(self.graph.successors(name)))

    def dependents(self, name: NormalizedName) -> tuple[NormalizedName, ...]:
        return tuple(sorted(self.graph.predecessors(name)))


def build_graph(
    packages: Sequence[LockedPackage],
    requires: Mapping[NormalizedName, Sequence[str] | None],
    env: Mapping[str, str],
    has_direct_info: bool = False,
    recorded: Sequence[tuple[NormalizedName, NormalizedName]] | None = None,
    roots: Sequence[NormalizedName] | None = None,
) -> DependencyGraph:
    """Edges from each package's requirements; `requires[name]` None means unknown.

    A lock that records its edges (`recorded`, with `roots` when it knows the
    project's direct dependencies) is taken at its word instead.
    """
    graph: nx.DiGraph = nx.DiGraph()
    by_name = {p.name: p for p in packages}
    for package in sorted(packages, key=lambda p: p.name):
        graph.add_node(package.name, package=package)
    if recorded is not None:
        graph.add_edges_from(e for e in recorded if e[0] in by_name and e[1] in by_name)
        if roots is not None:
            return DependencyGraph(graph, _cover(graph, set(roots) & set(by_name)), ())
        return DependencyGraph(graph, _roots(graph, by_name, False), ())
    problems: list[str] = []
    extras: dict[NormalizedName, set[str]] = {p.name: set(p.extras) for p in packages}
    # Extras propagate (a[x] may require b[y]): repeat until nothing new is requested.
    pending = set(by_name)

    @functools.cache
    def applies(marker: str | None, extras: tuple[str, ...]) -> bool:  # markers recur
        return marker_applies(marker, env, extras)

    while pending:
        name = min(pending)
        pending.discard(name)
        for line in requires.get(name) or ():
            try:
                requirement = parse_dependency(line)
            except InvalidRequirement:
                problems.append(f"{name}: unparsable requirement {line!r} in its metadata")
                continue
            marker = str(requirement.marker) if requirement.marker else None
            if not applies(marker, tuple(sorted(extras[name]))):
                continue
            target = canonicalize_name(requirement.name)
            if _add_edge(graph, name, target, by_name, problems, requirement):
                wanted = {canonicalize_name(e) for e in requirement.extras}
                if not wanted <= extras[target]:
                    extras[target] |= wanted
                    pending.add(target)
    for name, package in by_name.items():
        if requires.get(name) is None and package.version is not None and package.source.from_index:
            problems.append(f"{name} {package.version}: dependencies unknown (no metadata)")
    roots = _roots(graph, by_name, has_direct_info)
    return DependencyGraph(graph=graph, roots=roots, problems=tuple(dict.fromkeys(problems)))


def _add_edge(
    graph: nx.DiGraph,
    source: NormalizedName,
    target: NormalizedName,
    by_name: Mapping[NormalizedName, LockedPackage],
    problems: list[str],
    requirement: Dependency | None,
) -> bool:
    if target == source:
        return False  # self-requirement via extras (e.g. `pkg[all]` -> `pkg[x]`)
    locked = by_name.get(target)
    if locked is None:
        text = requirement.text if requirement is not None else target
        problems.append(f"{source} requires {text!r}, which is not in the lock")
        return False
    graph.add_edge(source, target)
    if (
        requirement is not None
        and locked.version is not None
        and requirement.specifier
        and not requirement.specifier.contains(locked.version, prereleases=True)
    ):
        problems.append(
            f"{source} requires {requirement.text!r}, but the lock pins {target} {locked.version}"
        )
    return True


def _roots(
    graph: nx.DiGraph, by_name: Mapping[NormalizedName, LockedPackage], has_direct_info: bool
) -> tuple[NormalizedName, ...]:
    """Direct requirements where the input tells; else nodes without parents.

    Nodes reachable from no root (a cycle nobody depends on) get the
    smallest name of each such component as an extra root, so every node
    hangs somewhere in a tree view.
    """
    if has_direct_info:
        roots = {name for name, p in by_name.items() if p.direct}
    else:
        roots = {name for name in graph.nodes if graph.in_degree(name) == 0}
    return _cover(graph, roots)


def _cover(graph: nx.DiGraph, roots: set[NormalizedName]) -> tuple[NormalizedName, ...]:
    """`roots`, plus one root per part of the graph none of them reaches."""
    reached: set[NormalizedName] = set()
    for root in roots:
        reached |= nx.descendants(graph, root) | {root}
    for name in sorted(graph.nodes):
        if name not in reached:
            roots.add(name)
            reached |= nx.descendants(graph, name) | {name}
    return tuple(sorted(roots))
