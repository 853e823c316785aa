"""The dependency graph: edges from metadata, markers, extras, roots, problems."""

from __future__ import annotations

import random

import networkx as nx
import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from scanner.models import LockedPackage
from scanner.resolve import build_graph, marker_environment, target_environment

ENV = target_environment("3.11.7", "linux")


def pkg(name, version="1.0", **kw):
    return LockedPackage(name=canonicalize_name(name), version=Version(version), **kw)


def edges(graph):
    return sorted(graph.graph.edges)


def test_diamond():
    packages = [pkg("app"), pkg("left"), pkg("right"), pkg("base")]
    requires = {"app": ["left", "right"], "left": ["base>=1"], "right": ["base"], "base": []}
    graph = build_graph(packages, requires, ENV)
    assert edges(graph) == [("app", "left"), ("app", "right"), ("left", "base"), ("right", "base")]
    assert graph.roots == ("app",)
    assert graph.problems == ()


def test_cycle_nobody_depends_on_still_gets_a_root():
    packages = [pkg("a"), pkg("b")]
    graph = build_graph(packages, {"a": ["b"], "b": ["a"]}, ENV)
    assert edges(graph) == [("a", "b"), ("b", "a")]
    assert graph.roots == ("a",)


def test_self_loop_through_extras_is_not_an_edge():
    graph = build_graph([pkg("a", extras=frozenset({"all"}))], {"a": ['a[x]; extra == "all"']}, ENV)
    assert edges(graph) == []


def test_markers_are_evaluated_for_the_target():
    packages = [pkg("a"), pkg("win"), pkg("old")]
    requires = {
        "a": ['win; sys_platform == "win32"', 'old; python_version < "3.8"'],
        "win": [],
        "old": [],
    }
    assert edges(build_graph(packages, requires, ENV)) == []
    windows = target_environment("3.11", "win32")
    assert edges(build_graph(packages, requires, windows)) == [("a", "win")]


def test_extras_are_followed_transitively():
    packages = [pkg("app"), pkg("lib"), pkg("socks"), pkg("unused")]
    requires = {
        "app": ["lib[proxy]"],
        "lib": ['socks; extra == "proxy"', 'unused; extra == "other"'],
        "socks": [],
        "unused": [],
    }
    graph = build_graph(packages, requires, ENV)
    assert edges(graph) == [("app", "lib"), ("lib", "socks")]


def test_missing_target_and_conflicts_are_reported():
    packages = [pkg("app"), pkg("lib", "1.0")]
    graph = build_graph(packages, {"app": ["lib>=2", "gone"], "lib": []}, ENV)
    assert "app requires 'gone', which is not in the lock" in graph.problems
    assert "app requires 'lib>=2', but the lock pins lib 1.0" in graph.problems


def test_unknown_dependencies_are_reported():
    graph = build_graph([pkg("a")], {"a": None}, ENV)
    assert graph.problems == ("a 1.0: dependencies unknown (no metadata)",)


def test_direct_info_sets_roots():
    packages = [pkg("a", direct=True), pkg("b", direct=False), pkg("c", direct=True)]
    graph = build_graph(packages, {"a": ["b"], "b": [], "c": ["b"]}, ENV, has_direct_info=True)
    assert graph.roots == ("a", "c")


def test_shuffled_input_gives_identical_output():
    packages = [pkg(n) for n in "abcdefgh"]
    requires = {"a": ["b", "c"], "b": ["d"], "c": ["d", "e"], "d": [], "e": ["f"], "f": []}
    requires |= {"g": ["h"], "h": ["g"]}
    first = build_graph(packages, requires, ENV)
    for seed in range(5):
        shuffled = packages[:]
        random.Random(seed).shuffle(shuffled)
        other = build_graph(shuffled, dict(reversed(list(requires.items()))), ENV)
        assert edges(other) == edges(first) and other.roots == first.roots
        assert other.problems == first.problems


def test_a_target_environment_keeps_the_entries_its_markers_pick():
    from scanner.models import Lock
    from scanner.selection import Scope, select

    packages = [
        pkg("x", "1.0", marker='python_version < "3.10"'),
        pkg("x", "2.0", marker='python_version >= "3.10"'),
        pkg("y", marker='"dev" in dependency_groups'),
    ]
    lock = Lock(path="pylock.toml", format="pylock", packages=tuple(packages), groups=("dev",))
    narrowed = select(lock, Scope.of(env=ENV, production=True))
    assert [(p.name, str(p.version)) for p in narrowed.packages] == [("x", "2.0")]
    assert narrowed.skipped == 2 and narrowed.key(narrowed.packages[0]) == "x"
    # the default covers every environment and group: each pin of x is its own package
    everything = select(lock)
    assert [everything.key(p) for p in everything.packages] == ["x@1.0", "x@2.0", "y"]
    assert any("x (1.0, 2.0)" in n for n in everything.notes)


def test_a_requirement_on_a_name_pinned_twice_reaches_the_versions_it_allows():
    from scanner.models import Lock
    from scanner.selection import select

    packages = [
        pkg("app", "1.0"),
        pkg("x", "1.0", marker='python_version < "3.10"'),
        pkg("x", "2.0", marker='python_version >= "3.10"'),
    ]
    selection = select(Lock(path="r.txt", format="requirements", packages=tuple(packages)))
    requires = {"app": ["x>=1"], "x@1.0": [], "x@2.0": []}
    graph = build_graph(selection.packages, requires, {}, key=selection.key)
    assert graph.dependencies("app") == ("x@1.0", "x@2.0")
    requires["app"] = ["x<2"]
    graph = build_graph(selection.packages, requires, {}, key=selection.key)
    assert graph.dependencies("app") == ("x@1.0",) and graph.roots == ("app", "x@2.0")


def _packaging_reads(line):
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        found = Requirement(line)
    except InvalidRequirement:
        return "invalid"
    marker = str(found.marker) if found.marker else None
    return found.name, frozenset(found.extras), str(found.specifier), marker


def _fast_reads(line):
    from packaging.requirements import InvalidRequirement

    from scanner.resolve import parse_dependency

    try:
        found = parse_dependency(line)
    except InvalidRequirement:
        return "invalid"
    marker = str(found.marker) if found.marker else None
    return found.name, found.extras, str(found.specifier), marker


def test_requirement_lines_are_read_as_packaging_reads_them():
    import random

    from scanner.registry.metadata import read_headers
    from tests.conftest import DATA

    recorded = set()
    for path in (DATA / "index").rglob("*.metadata"):
        recorded.update(read_headers(path.read_text("utf-8", "replace")).get("requires-dist", []))
    assert len(recorded) > 50
    crafted = [
        "foo (>=1.0)",
        "foo[bar, baz] >=1 ; extra == 'x'",
        "foo @ https://example.invalid/foo.whl",
        "foo bar",
        "foo>=1,",
        "foo[]",
        "foo[bar,]",
        "Foo_Bar.baz[A-B]==1.*",
        "foo ===arbitrary",
        "foo>=1.0;extra=='a'or extra=='b'",
        "foo (>=1.0",
        "-foo",
    ]
    rng = random.Random(508)
    tokens = ["foo", "[", "]", "(", ")", ">=", "1.0", ",", ";", " ", "extra == 'x'", "@", "=="]
    fuzzed = ["".join(rng.choices(tokens, k=rng.randrange(1, 12))) for _ in range(3000)]
    for line in sorted(recorded) + crafted + fuzzed:
        assert _fast_reads(line) == _packaging_reads(line), line


def _naive_figures(graph, roots, scores):
    """The definition: min score over a node and its ancestors; roots that reach it."""
    reach = {r: nx.descendants(graph, r) | {r} for r in roots}
    out = {}
    for n in graph.nodes:
        known = [scores[a] for a in nx.ancestors(graph, n) | {n} if scores[a] is not None]
        out[n] = (min(known) if known else None, sum(n in reached for reached in reach.values()))
    return out


@pytest.mark.parametrize("seed", range(30))
def test_path_risk_and_blast_radius_match_their_definition_on_random_graphs(seed):
    """The one-pass computation (condensation, topological order) equals the
    per-package ancestor walk it replaced, cycles and unscored packages included."""
    from dataclasses import replace

    from scanner.evaluate import _with_graph_figures
    from scanner.models import INDEX_SOURCE, PackageReport
    from scanner.resolve import DependencyGraph

    rng = random.Random(seed)
    names = [f"p{i}" for i in range(rng.randint(1, 40))]
    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    for _ in range(rng.randint(0, 80)):
        graph.add_edge(rng.choice(names), rng.choice(names))
    roots = tuple(sorted(rng.sample(names, rng.randint(1, len(names)))))
    scores = {n: rng.choice([None, 0.0, 2.5, 7.0, 10.0]) for n in names}
    base = PackageReport(
        name="x", version="1", source=INDEX_SOURCE, file=None, line=None, direct=False,
        evaluated=True, not_evaluated_reason=None, families={}, findings=(), score=None,
        confidence=1.0, deductions=(), summary=None, urls={}, provenance={}, dependencies=(),
        dependents=(),
    )  # fmt: skip
    reports = [replace(base, name=n, key=n, score=scores[n]) for n in names]
    figures = _with_graph_figures(reports, DependencyGraph(graph, roots))
    expected = _naive_figures(graph, roots, scores)
    assert {r.name: (r.path_risk, r.blast_radius) for r in figures} == expected


def test_a_requirement_for_other_environments_is_not_missing_from_the_lock():
    packages = [pkg("app", "1.0")]
    requires = {"app": ['old ; python_version < "3.11"', "gone", 'ext ; extra == "x"']}
    problems = build_graph(packages, requires, {}).problems
    assert problems == ("app requires 'gone', which is not in the lock",)
    narrowed = build_graph(packages, requires, marker_environment("3.10")).problems
    assert any("'old ; python_version < \"3.11\"'" in p for p in narrowed)
