"""PR gating: compare the lock with a baseline; only added or changed packages are gated."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from packaging.utils import NormalizedName

from scanner.models import BaselineDiff, Lock, LockedPackage
from scanner.selection import Scope, select


def diff_locks(old: Lock, new: Lock, scope: Scope | None = None) -> BaselineDiff:
    """Added, removed and changed names between two locks, both seen through `scope`.
    A name pinned at several versions changes when any of its pins does."""
    before = _pins(select(old, scope).packages)
    after = _pins(select(new, scope).packages)
    changed = []
    for name in sorted(before.keys() & after.keys()):
        was, now = before[name], after[name]
        if len(was) == 1 and len(now) == 1:
            if _new(was[0], now[0]) != was[0].display_version:
                changed.append((name, was[0].display_version, _new(was[0], now[0])))
        elif _versions(was) != _versions(now) or {p.hashes for p in was} != {p.hashes for p in now}:
            changed.append((name, _versions(was), _versions(now)))
    return BaselineDiff(
        baseline=old.path,
        added=tuple(sorted(after.keys() - before.keys())),
        removed=tuple(sorted(before.keys() - after.keys())),
        changed=tuple(changed),
        indexes_added=tuple(u for u in index_urls(new) if u not in index_urls(old)),
    )


def _pins(packages: Iterable[LockedPackage]) -> dict[NormalizedName, list[LockedPackage]]:
    found: dict[NormalizedName, list[LockedPackage]] = defaultdict(list)
    for package in packages:
        found[package.name].append(package)
    return found


def _versions(pins: Iterable[LockedPackage]) -> str:
    return ", ".join(sorted(p.display_version for p in pins))


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
