"""PR gating: compare the lock with a baseline; only added or changed packages are gated."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet

from scanner.models import BaselineDiff, Lock, LockedPackage
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
        (name, before[name].display_version, _new(before[name], after[name]))
        for name in sorted(before.keys() & after.keys())
        if _new(before[name], after[name]) != before[name].display_version
    )
    return BaselineDiff(
        baseline=old.path,
        added=tuple(sorted(after.keys() - before.keys())),
        removed=tuple(sorted(before.keys() - after.keys())),
        changed=changed,
        indexes_added=tuple(u for u in index_urls(new) if u not in index_urls(old)),
    )


def _new(old: LockedPackage, new: LockedPackage) -> str:
    """How the new pin reads against the old: its version, and what else changed for
    the same version (a pull request that swaps a hash or a source keeps the version)."""
    what = new.display_version
    if old.version != new.version:
        return what
    changes = []
    if old.source != new.source:
        changes.append(
            f"source {old.source.location or old.source.kind.value} -> "
            f"{new.source.location or new.source.kind.value}"
        )
    if old.hashes != new.hashes:
        changes.append("hashes changed")
    return f"{what} ({'; '.join(changes)})" if changes else what


def index_urls(lock: Lock) -> tuple[str, ...]:
    """Every index the input names, normalised for comparison."""
    urls = ([lock.index_url] if lock.index_url else []) + list(lock.extra_index_urls)
    return tuple(dict.fromkeys(u.rstrip("/") for u in urls))
