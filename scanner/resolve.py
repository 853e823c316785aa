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
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, NamedTuple

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
from packaging.utils import canonicalize_name

from scanner.models import LockedPackage

_PLATFORMS = {
    "linux": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"},
    "darwin": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"},
    "win32": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"},
}


def target_environment(
    python_version: str | None = None, platform_name: str | None = None
) -> dict[str, str]:
    """A full marker environment: the running interpreter, with overrides (what a
    resolver needs: it picks one release per name for one interpreter)."""
    env: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    env.update(marker_environment(python_version, platform_name))
    if platform_name and platform_name.lower() != platform.system().lower():
        env["platform_machine"] = "x86_64" if platform_name.lower() != "darwin" else "arm64"
    return env


def marker_environment(
    python_version: str | None = None, platform_name: str | None = None
) -> dict[str, str]:
    """The part of a marker environment the user named; what is not named is *any*.

    Empty (the default) means every environment the lock's markers name: a scan of
    a lock covers every package it pins, wherever it would be installed."""
    env: dict[str, str] = {}
    if python_version:
        parts = python_version.split(".")
        if not all(p.isdigit() for p in parts) or not 1 < len(parts) < 4:
            raise ValueError(f"--python-version {python_version!r}: expected X.Y or X.Y.Z")
        env["python_version"] = ".".join(parts[:2])
        env["python_full_version"] = python_version if len(parts) > 2 else f"{python_version}.0"
    if platform_name:
        key = platform_name.lower()
        if key not in _PLATFORMS:
            raise ValueError(f"unknown platform {platform_name!r} (use {', '.join(_PLATFORMS)})")
        env.update(_PLATFORMS[key])
    return env


def describe_environment(env: Mapping[str, str]) -> str:
    """'Python 3.12.0 on linux', 'any Python on win32', 'every environment'."""
    python = env.get("python_full_version")
    where = env.get("sys_platform")
    if python is None and where is None:
        return "every environment"
    return f"{f'Python {python}' if python else 'any Python'} on {where or 'any platform'}"


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


def marker_applies(
    marker: str | None, env: Mapping[str, str], extras: Sequence[str] = (), *, surely: bool = False
) -> bool:
    """Whether a Requires-Dist `marker` can hold in `env` for no extra or any of `extras`.

    `env` may be partial (`marker_environment`): a variable it does not name can take
    any value, so a comparison on it may hold. With `surely`, whether it holds
    whatever those variables are (a comparison on one is taken as false)."""
    if not marker:
        return True
    return any(
        _holds(marker, tuple(sorted({**env, "extra": extra}.items())), "metadata", not surely)
        for extra in ("", *extras)
    )


def lock_marker_applies(
    marker: str | None,
    env: Mapping[str, str],
    groups: AbstractSet[str] | None,
    extras: AbstractSet[str] | None = frozenset(),
) -> bool:
    """Whether a lock entry's marker can hold; PEP 751 markers may test groups and
    extras (None: any group, any extra)."""
    if not marker:
        return True
    known: dict[str, str | frozenset[str]] = dict(env)
    if groups is not None:
        known["dependency_groups"] = frozenset(groups)
    if extras is not None:
        known["extras"] = frozenset(extras)
    return _holds(marker, tuple(sorted(known.items(), key=lambda kv: kv[0])), "lock_file")


@functools.lru_cache(maxsize=16384)
def _holds(
    marker: str,
    known: tuple[tuple[str, str | frozenset[str]], ...],
    context: str,
    unknown: bool = True,
) -> bool:
    """Whether `marker` holds for some environment that agrees with `known`.

    Each comparison on a variable in `known` is evaluated (by packaging, one at a
    time); any other comparison may hold. Markers have `and` and `or` but no `not`,
    so this is exact for what is known and generous for what is not: a package that
    some environment installs is never left out. A marker we cannot read is kept."""
    try:
        parsed = _marker(marker)
        return _any_env(parsed._markers, dict(known), context, unknown)
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName, AttributeError):
        return True
    except (TypeError, ValueError):
        return True


def _any_env(
    items: Sequence[object], known: Mapping[str, object], context: str, unknown: bool
) -> bool:
    alternatives: list[list[bool]] = [[]]
    for item in items:
        if item == "or":
            alternatives.append([])
        elif item == "and":
            continue
        elif isinstance(item, list):
            alternatives[-1].append(_any_env(item, known, context, unknown))
        elif isinstance(item, tuple) and len(item) == 3:
            alternatives[-1].append(_comparison(item, known, context, unknown))
        else:
            return True
    return any(all(group) for group in alternatives)


def _comparison(
    atom: tuple[Any, Any, Any], known: Mapping[str, object], context: str, unknown: bool
) -> bool:
    left, op, right = atom
    variables = [n.value for n in (left, right) if type(n).__name__ == "Variable"]
    if not variables or any(v not in known for v in variables):
        return unknown  # a variable the user did not name: some environment satisfies it
    text = f"{left.serialize()} {op.serialize()} {right.serialize()}"
    env = {v: known[v] for v in variables}
    if context == "lock_file":
        env.setdefault("extras", frozenset())
        env.setdefault("dependency_groups", frozenset())
    return bool(_marker(text).evaluate(env, context=context))  # type: ignore[arg-type]


@dataclass
class DependencyGraph:
    """Nodes are package keys (the canonical name, or `name@version` for a name the
    lock pins at several versions); node attribute `package` is the LockedPackage."""

    graph: nx.DiGraph = field(default_factory=nx.DiGraph)
    roots: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def dependencies(self, key: str) -> tuple[str, ...]:
        return tuple(sorted(self.graph.successors(key)))

    def dependents(self, key: str) -> tuple[str, ...]:
        return tuple(sorted(self.graph.predecessors(key)))


def _by_name(package: LockedPackage) -> str:
    return package.name


def build_graph(
    packages: Sequence[LockedPackage],
    requires: Mapping[str, Sequence[str] | None],
    env: Mapping[str, str],
    has_direct_info: bool = False,
    recorded: Sequence[tuple[str, str]] | None = None,
    roots: Sequence[str] | None = None,
    key: Callable[[LockedPackage], str] = _by_name,
) -> DependencyGraph:
    """Edges from each package's requirements; `requires[key]` None means unknown.

    A lock that records its edges (`recorded`, with `roots` when it knows the
    project's direct dependencies) is taken at its word instead. A requirement on
    a name pinned at several versions reaches each version its specifier allows.
    """
    graph: nx.DiGraph = nx.DiGraph()
    by_key = {key(p): p for p in packages}
    for node in sorted(by_key):
        graph.add_node(node, package=by_key[node])
    if recorded is not None:
        graph.add_edges_from(e for e in recorded if e[0] in by_key and e[1] in by_key)
        if roots is not None:
            return DependencyGraph(graph, _cover(graph, set(roots) & set(by_key)), ())
        return DependencyGraph(graph, _roots(graph, by_key, False), ())
    versions: dict[str, list[str]] = defaultdict(list)
    for node, package in by_key.items():
        versions[package.name].append(node)
    problems: list[str] = []
    extras: dict[str, set[str]] = {k: set(p.extras) for k, p in by_key.items()}
    # Extras propagate (a[x] may require b[y]): repeat until nothing new is requested.
    pending = set(by_key)

    @functools.cache
    def applies(marker: str | None, extras: tuple[str, ...]) -> bool:  # markers recur
        return marker_applies(marker, env, extras)

    @functools.cache
    def applies_surely(marker: str | None, extras: tuple[str, ...]) -> bool:
        return marker_applies(marker, env, extras, surely=True)

    while pending:
        node = min(pending)
        pending.discard(node)
        for line in requires.get(node) or ():
            try:
                requirement = parse_dependency(line)
            except InvalidRequirement:
                problems.append(f"{node}: unparsable requirement {line!r} in its metadata")
                continue
            marker = str(requirement.marker) if requirement.marker else None
            if not applies(marker, tuple(sorted(extras[node]))):
                continue
            target_name = canonicalize_name(requirement.name)
            if target_name not in versions and not applies_surely(marker, tuple(extras[node])):
                continue  # e.g. `python_version < "3.11"` in a lock made for 3.12: not missing
            targets = _targets(by_key, versions, target_name, requirement)
            for target in targets:
                if _add_edge(graph, node, target, by_key, problems, requirement):
                    wanted = {canonicalize_name(e) for e in requirement.extras}
                    if not wanted <= extras[target]:
                        extras[target] |= wanted
                        pending.add(target)
    for node, package in by_key.items():
        if requires.get(node) is None and package.version is not None and package.source.from_index:
            problems.append(f"{node} {package.version}: dependencies unknown (no metadata)")
    found_roots = _roots(graph, by_key, has_direct_info)
    return DependencyGraph(graph=graph, roots=found_roots, problems=tuple(dict.fromkeys(problems)))


def _targets(
    by_key: Mapping[str, LockedPackage],
    versions: Mapping[str, list[str]],
    name: str,
    requirement: Dependency,
) -> list[str]:
    """The nodes a requirement on `name` reaches: the one pin, or, for a name pinned at
    several versions, those its specifier allows (all of them if it allows none, so
    that `_add_edge` reports the mismatch)."""
    nodes = versions.get(name)
    if not nodes:
        return [name]  # not in the lock: `_add_edge` says so
    if len(nodes) == 1:
        return nodes
    allowed = [
        n
        for n in nodes
        if (v := by_key[n].version) is None or requirement.specifier.contains(v, prereleases=True)
    ]
    return allowed or nodes


def _add_edge(
    graph: nx.DiGraph,
    source: str,
    target: str,
    by_key: Mapping[str, LockedPackage],
    problems: list[str],
    requirement: Dependency | None,
) -> bool:
    locked = by_key.get(target)
    if locked is None:
        text = requirement.text if requirement is not None else target
        problems.append(f"{source} requires {text!r}, which is not in the lock")
        return False
    if locked.name == by_key[source].name:
        return False  # self-requirement via extras (e.g. `pkg[all]` -> `pkg[x]`)
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
    graph: nx.DiGraph, by_key: Mapping[str, LockedPackage], has_direct_info: bool
) -> tuple[str, ...]:
    """Direct requirements where the input tells; else nodes without parents.

    Nodes reachable from no root (a cycle nobody depends on) get the
    smallest name of each such component as an extra root, so every node
    hangs somewhere in a tree view.
    """
    if has_direct_info:
        roots = {key for key, p in by_key.items() if p.direct}
    else:
        roots = {name for name in graph.nodes if graph.in_degree(name) == 0}
    return _cover(graph, roots)


def _cover(graph: nx.DiGraph, roots: set[str]) -> tuple[str, ...]:
    """`roots`, plus one root per part of the graph none of them reaches."""
    reached: set[str] = set()
    for root in roots:
        reached |= nx.descendants(graph, root) | {root}
    for name in sorted(graph.nodes):
        if name not in reached:
            roots.add(name)
            reached |= nx.descendants(graph, name) | {name}
    return tuple(sorted(roots))
