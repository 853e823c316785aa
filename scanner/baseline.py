"""PR gating: compare the lock with a baseline; only added or changed packages are gated."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet

from scanner.models import BaselineDiff, Lock
from scanner.selection import select


def diff_locks(
    old: Lock,
    new: Lock,
    env: Mapping[str, str],
    groups: AbstractSet[str] = frozenset(),
    extras: AbstractSet[str] = frozenset(),
) -> BaselineDiff:
    before = {p.name: p for p in select(old, env, groups, extras).packages}
    after = {p.name: p for p in select(new, env, groups, extras).packages}
    changed = tuple(
        (name, before[name].display_version, after[name].display_version)
        for name in sorted(before.keys() & after.keys())
        if before[name].version != after[name].version or before[name].source != after[name].source
    )
    return BaselineDiff(
        baseline=old.path,
        added=tuple(sorted(after.keys() - before.keys())),
        removed=tuple(sorted(before.keys() - after.keys())),
        changed=changed,
    )
