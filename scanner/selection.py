"""Which entries of a lock a given install would get: markers, groups, extras.

By default: what a production install gets for the target environment. Dev
groups (and extras) are included only when asked for (`--groups`, `--extras`);
what they would add is counted in the notes, never silently dropped.

Locks that record edges from the project itself (uv.lock) are walked from the
project's members; the others are filtered entry by entry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from packaging.utils import NormalizedName

from scanner.models import DEFAULT_GROUP, Lock, LockedPackage
from scanner.resolve import lock_marker_applies, marker_applies

ALL = "all"


@dataclass(frozen=True, slots=True)
class Selection:
    packages: tuple[LockedPackage, ...]
    notes: tuple[str, ...]
    skipped: int = 0
    edges: tuple[tuple[NormalizedName, NormalizedName], ...] | None = None  # recorded by the lock
    roots: tuple[NormalizedName, ...] | None = None  # the project's direct dependencies


def select(
    lock: Lock,
    env: Mapping[str, str],
    groups: AbstractSet[str] = frozenset(),
    extras: AbstractSet[str] = frozenset(),
) -> Selection:
    """The packages of `lock` to scan for `env`, with the chosen groups and extras."""
    if ALL in groups:
        groups = frozenset(lock.groups)
    if ALL in extras:
        extras = frozenset(lock.groups)
    if lock.members and any(p.dependencies is not None for p in lock.packages):
        return _walk(lock, env, groups, extras)
    return _filter(lock, env, groups | extras)


def select_packages(
    packages: Sequence[LockedPackage],
    env: Mapping[str, str],
    groups: AbstractSet[str] = frozenset(),
) -> Selection:
    """Entry by entry (no groups known): markers decide; one entry per name."""
    lock = Lock(path="", format="", packages=tuple(packages), default_groups=frozenset(groups))
    return _filter(lock, env, frozenset())


def _filter(lock: Lock, env: Mapping[str, str], wanted: AbstractSet[str]) -> Selection:
    active = {DEFAULT_GROUP, *lock.default_groups, *wanted}
    chosen: dict[NormalizedName, LockedPackage] = {}
    notes: list[str] = []
    skipped = 0
    left_out: dict[str, int] = defaultdict(int)
    for package in lock.packages:
        if package.groups and not package.groups & active:
            for group in package.groups:
                left_out[group] += 1
            continue
        if not lock_marker_applies(package.marker, env, active):
            skipped += 1
            continue
        previous = chosen.get(package.name)
        if previous is None:
            chosen[package.name] = package
        elif previous.version != package.version:
            notes.append(
                f"{package.name}: pinned to both {previous.display_version} and "
                f"{package.display_version} for this environment; scanning "
                f"{previous.display_version}"
            )
    if skipped:
        notes.append(_skipped_note(skipped, len(lock.packages), env))
    if left_out:
        notes.append(_groups_note(left_out))
    edges = _recorded_edges(list(chosen.values()), env)
    return Selection(tuple(chosen.values()), tuple(notes), skipped, edges)


def _recorded_edges(
    packages: list[LockedPackage], env: Mapping[str, str]
) -> tuple[tuple[NormalizedName, NormalizedName], ...] | None:
    """Edges the lock records among the selected packages (poetry, pdm), markers applied."""
    if not packages or any(p.dependencies is None for p in packages if p.source.from_index):
        return None
    present = {p.name for p in packages}
    edges = set()
    for package in packages:
        for edge in package.dependencies or ():
            if (
                edge.name in present
                and edge.name != package.name
                and marker_applies(edge.marker, env, sorted(package.extras))
            ):
                edges.add((package.name, edge.name))
    return tuple(sorted(edges))


def _walk(
    lock: Lock, env: Mapping[str, str], groups: AbstractSet[str], extras: AbstractSet[str]
) -> Selection:
    chosen, edges, roots, missing = _reach(lock, env, groups, extras)
    everything, _, _, _ = _reach(lock, env, frozenset(lock.groups), frozenset(lock.groups))
    notes = [f"{m} is required but not in the lock" for m in sorted(missing)]
    members = [f"{p.name} ({p.source.kind.value})" for p in lock.packages if p.name in lock.members]
    notes.append("the project itself is not scanned: " + ", ".join(members))
    extra_only = len({k for k in everything if k not in chosen})
    if extra_only:
        names = ", ".join(sorted(lock.groups)) or "-"
        notes.append(
            f"{extra_only} more packages come only with groups or extras not selected "
            f"({names}); see --groups and --extras"
        )
    return Selection(
        tuple(chosen.values()),
        tuple(notes),
        0,
        tuple(sorted(edges)),
        tuple(sorted(roots)),
    )


def _reach(
    lock: Lock, env: Mapping[str, str], groups: AbstractSet[str], extras: AbstractSet[str]
) -> tuple[
    dict[tuple[str, str], LockedPackage],
    set[tuple[NormalizedName, NormalizedName]],
    set[NormalizedName],
    set[str],
]:
    by_name: dict[NormalizedName, list[LockedPackage]] = defaultdict(list)
    for package in lock.packages:
        by_name[package.name].append(package)
    members = set(lock.members)
    queue: list[tuple[LockedPackage, frozenset[str]]] = [
        (p, frozenset(extras)) for p in lock.packages if p.name in members
    ]
    seen: set[tuple[str, str, frozenset[str]]] = set()
    chosen: dict[tuple[str, str], LockedPackage] = {}
    edges: set[tuple[NormalizedName, NormalizedName]] = set()
    roots: set[NormalizedName] = set()
    missing: set[str] = set()
    while queue:
        package, requested = queue.pop()
        key = (package.name, package.display_version, requested)
        if key in seen:
            continue
        seen.add(key)
        is_member = package.name in members
        for edge in package.dependencies or ():
            if edge.group is not None:
                allowed = (groups | extras) if is_member else requested
                if edge.group not in allowed:
                    continue
            if not marker_applies(edge.marker, env, sorted(requested)):
                continue
            candidates = by_name.get(edge.name, [])
            if edge.version is not None:
                candidates = [c for c in candidates if c.version == edge.version]
            if not candidates:
                missing.add(f"{edge.name} {edge.version or ''}".strip())
                continue
            target = candidates[0]
            if target.name in members:
                queue.append((target, edge.extras))
                continue
            chosen[(target.name, target.display_version)] = target
            if is_member:
                roots.add(target.name)
            elif target.name != package.name:
                edges.add((package.name, target.name))
            queue.append((target, edge.extras))
    return chosen, edges, roots, missing


def _skipped_note(skipped: int, total: int, env: Mapping[str, str]) -> str:
    return (
        f"{skipped} of {total} entries do not apply to the target environment "
        f"(Python {env.get('python_full_version')}, {env.get('sys_platform')}) and were "
        "not scanned; see --python-version and --platform"
    )


def _groups_note(left_out: Mapping[str, int]) -> str:
    counts = ", ".join(f"{group}: {n}" for group, n in sorted(left_out.items()))
    return f"entries only in groups not selected were not scanned ({counts}); see --groups"
