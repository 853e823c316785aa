"""Which entries of a lock a scan covers: by default all of them.

A lockfile pins what gets installed somewhere: on a developer's laptop, in CI
with its secrets, in production. Most supply-chain attacks aim at the first two,
so a scan covers every package the lock pins: every group, every extra, every
environment its markers name. A `Scope` narrows that (`--production`, `--groups`,
`--extras`, `--python-version`, `--platform`), and the selection's notes say what
was narrowed and what it left out.

When a lock pins one name at several versions (a universal lock pins numpy 1.x
for old Pythons and 2.x for new ones), each version is a package of its own: its
key is `name@version` instead of the name.

Locks that record edges from the project itself (uv.lock) are walked from the
project's members; the others are filtered entry by entry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from packaging.utils import NormalizedName

from scanner.models import DEFAULT_GROUP, Lock, LockedPackage
from scanner.resolve import describe_environment, lock_marker_applies, marker_applies

ALL = "all"


@dataclass(frozen=True, slots=True)
class Scope:
    """What part of a lock to scan. The default, everything, narrows no dimension.

    `groups`/`extras`: None is not narrowed; a set narrows the scan to production
    plus the groups and extras named (naming either narrows both: one namespace,
    as most formats keep them). `env` is a partial marker environment: a variable
    it does not name may take any value."""

    groups: frozenset[str] | None = None
    extras: frozenset[str] | None = None
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        groups: Iterable[str] | None = None,
        extras: Iterable[str] | None = None,
        env: Mapping[str, str] | None = None,
        production: bool = False,
    ) -> Scope:
        """From the command line's options: `--production` means no group and no extra
        unless `--groups`/`--extras` name some."""
        named_groups = None if groups is None else frozenset(groups)
        named_extras = None if extras is None else frozenset(extras)
        if production:
            named_groups = named_groups or frozenset()
            named_extras = named_extras or frozenset()
        return cls(named_groups, named_extras, dict(env or {}))

    def wanted(self, lock: Lock) -> frozenset[str] | None:
        """The groups and extras to include beyond production; None: all of them."""
        if self.groups is None and self.extras is None:
            return None
        named = (self.groups or frozenset()) | (self.extras or frozenset())
        return frozenset(lock.groups) | (named - {ALL}) if ALL in named else named

    def describe(self, lock: Lock) -> str:
        """What this scan covers, in a line: 'every group, extra and environment'."""
        wanted = self.wanted(lock)
        if wanted is None:
            groups = "every group and extra"
        elif wanted:
            groups = "production and " + ", ".join(sorted(wanted))
        else:
            groups = "production only (no dev group, no extra)"
        return f"covered: {groups}; {describe_environment(self.env)}"


@dataclass(frozen=True, slots=True)
class Selection:
    packages: tuple[LockedPackage, ...]
    notes: tuple[str, ...]
    skipped: int = 0
    edges: tuple[tuple[str, str], ...] | None = None  # recorded by the lock, by key
    roots: tuple[str, ...] | None = None  # the project's direct dependencies, by key
    duplicated: frozenset[NormalizedName] = frozenset()  # names pinned at several versions

    def key(self, package: LockedPackage) -> str:
        """The package's identity in this scan: its name, or `name@version` when the
        lock pins the name at several versions."""
        return package_key(package.name, package.display_version, self.duplicated)


def package_key(name: str, version: str, duplicated: AbstractSet[str]) -> str:
    return f"{name}@{version}" if name in duplicated else name


def select(lock: Lock, scope: Scope | None = None) -> Selection:
    """The packages of `lock` that `scope` covers (by default: all of them)."""
    scope = scope or Scope()
    if lock.members and any(p.dependencies is not None for p in lock.packages):
        return _walk(lock, scope)
    return _filter(lock, scope)


def _filter(lock: Lock, scope: Scope) -> Selection:
    wanted = scope.wanted(lock)
    active = None if wanted is None else {DEFAULT_GROUP, *lock.default_groups, *wanted}
    chosen: dict[tuple[str, str], LockedPackage] = {}
    skipped = 0
    left_out: dict[str, int] = defaultdict(int)
    for package in lock.packages:
        if active is not None and package.groups and not package.groups & active:
            for group in package.groups:
                left_out[group] += 1
            continue
        if not lock_marker_applies(package.marker, scope.env, active, active):
            skipped += 1
            continue
        chosen.setdefault((package.name, package.display_version), package)
    packages = list(chosen.values())
    duplicated = _duplicated(packages)
    notes = [_versions_note(packages, duplicated)] if duplicated else []
    if skipped:
        notes.append(_skipped_note(skipped, len(lock.packages), scope.env))
    if left_out:
        notes.append(_groups_note(left_out))
    edges = _recorded_edges(packages, scope.env, duplicated)
    return Selection(tuple(packages), tuple(notes), skipped, edges, None, duplicated)


def _duplicated(packages: Iterable[LockedPackage]) -> frozenset[NormalizedName]:
    versions: dict[NormalizedName, set[str]] = defaultdict(set)
    for package in packages:
        versions[package.name].add(package.display_version)
    return frozenset(name for name, found in versions.items() if len(found) > 1)


def _versions_note(packages: Sequence[LockedPackage], duplicated: AbstractSet[str]) -> str:
    named = ", ".join(
        f"{name} ({', '.join(p.display_version for p in packages if p.name == name)})"
        for name in sorted(duplicated)
    )
    count = f"{len(duplicated)} names are" if len(duplicated) > 1 else "1 name is"
    return (
        f"{count} pinned at several versions for different environments; "
        f"each version is scanned as a package of its own: {named}"
    )


def _recorded_edges(
    packages: list[LockedPackage], env: Mapping[str, str], duplicated: AbstractSet[str]
) -> tuple[tuple[str, str], ...] | None:
    """Edges the lock records among the selected packages (poetry, pdm), markers applied;
    an edge to a name pinned at several versions reaches each of them."""
    if not packages or any(p.dependencies is None for p in packages if p.source.from_index):
        return None
    keys: dict[str, list[str]] = defaultdict(list)
    for package in packages:
        keys[package.name].append(package_key(package.name, package.display_version, duplicated))
    edges: set[tuple[str, str]] = set()
    for package in packages:
        source = package_key(package.name, package.display_version, duplicated)
        for edge in package.dependencies or ():
            if edge.name == package.name or not marker_applies(
                edge.marker, env, sorted(package.extras)
            ):
                continue
            edges.update((source, target) for target in keys.get(edge.name, ()))
    return tuple(sorted(edges))


def _walk(lock: Lock, scope: Scope) -> Selection:
    wanted = scope.wanted(lock)
    chosen, edges, roots, missing = _reach(lock, scope.env, wanted)
    notes = [f"{m} is required but not in the lock" for m in sorted(missing)]
    members = [f"{p.name} ({p.source.kind.value})" for p in lock.packages if p.name in lock.members]
    notes.append("the project itself is not scanned: " + ", ".join(members))
    if wanted is not None:
        everything, _, _, _ = _reach(lock, scope.env, None)
        extra_only = len({k for k in everything if k not in chosen})
        if extra_only:
            names = ", ".join(sorted(set(lock.groups) - wanted)) or "-"
            notes.append(
                f"{extra_only} more packages come only with groups or extras not selected "
                f"({names}); drop --production, or name them with --groups and --extras"
            )
    packages = list(chosen.values())
    duplicated = _duplicated(packages)
    if duplicated:
        notes.insert(0, _versions_note(packages, duplicated))
    return Selection(
        tuple(packages),
        tuple(notes),
        0,
        tuple(
            sorted({(package_key(*a, duplicated), package_key(*b, duplicated)) for a, b in edges})
        ),
        tuple(sorted({package_key(*r, duplicated) for r in roots})),
        duplicated,
    )


Pin = tuple[str, str]  # (name, version): a node of the walk before keys are known


def _reach(
    lock: Lock, env: Mapping[str, str], wanted: AbstractSet[str] | None
) -> tuple[dict[Pin, LockedPackage], set[tuple[Pin, Pin]], set[Pin], set[str]]:
    """Everything reachable from the project's members for `env` with the groups and
    extras `wanted` (None: all). An edge with a marker that holds in some environment
    (when `env` does not name it) is followed, to every locked version it may pick."""
    by_name: dict[NormalizedName, list[LockedPackage]] = defaultdict(list)
    for package in lock.packages:
        by_name[package.name].append(package)
    members = set(lock.members)
    requested_extras = frozenset(lock.groups) if wanted is None else frozenset(wanted)
    queue: list[tuple[LockedPackage, frozenset[str]]] = [
        (p, requested_extras) for p in lock.packages if p.name in members
    ]
    seen: set[tuple[str, str, frozenset[str]]] = set()
    chosen: dict[Pin, LockedPackage] = {}
    edges: set[tuple[Pin, Pin]] = set()
    roots: set[Pin] = set()
    missing: set[str] = set()
    while queue:
        package, requested = queue.pop()
        key = (package.name, package.display_version, requested)
        if key in seen:
            continue
        seen.add(key)
        is_member = package.name in members
        source = (package.name, package.display_version)
        for edge in package.dependencies or ():
            if edge.group is not None:
                if is_member and wanted is not None and edge.group not in wanted:
                    continue
                if not is_member and edge.group not in requested:
                    continue
            if not marker_applies(edge.marker, env, sorted(requested)):
                continue
            candidates = by_name.get(edge.name, [])
            if edge.version is not None:
                candidates = [c for c in candidates if c.version == edge.version]
            if not candidates:
                missing.add(f"{edge.name} {edge.version or ''}".strip())
                continue
            for target in candidates:
                pin = (target.name, target.display_version)
                queue.append((target, edge.extras))
                if target.name in members:
                    continue
                chosen[pin] = target
                if is_member:
                    roots.add(pin)
                elif target.name != package.name:
                    edges.add((source, pin))
    return chosen, edges, roots, missing


def _skipped_note(skipped: int, total: int, env: Mapping[str, str]) -> str:
    return (
        f"{skipped} of {total} entries do not apply to {describe_environment(env)} "
        "and were not scanned (narrowed by --python-version/--platform)"
    )


def _groups_note(left_out: Mapping[str, int]) -> str:
    counts = ", ".join(f"{group}: {n}" for group, n in sorted(left_out.items()))
    return (
        f"entries only in groups or extras not selected were not scanned ({counts}); "
        "drop --production, or name them with --groups and --extras"
    )
