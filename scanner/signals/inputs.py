"""Signals of the input itself (the lockfile), not of one package.

pip takes a name from whichever index offers the highest version, so a lock that
names more than one index lets a name on the extra index shadow the real one: the
dependency-confusion shape (Birsan, 2021). A pull request that adds an index line
changes where every package may come from, whatever the pins say.
"""

from __future__ import annotations

from collections.abc import Iterator

from packaging.utils import NormalizedName

from scanner.models import BaselineDiff, Evidence, Finding, Lock, Severity
from scanner.signals.interface import Signal, SignalContext


def _of_the_input(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    return iter(())  # these fire once per input, from `input_findings`, not per package


EXTRA_INDEX = Signal(
    id="extra-index",
    title="Lock names an extra index",
    severity=Severity.MEDIUM,
    family="integrity",
    rationale="With more than one index, an installer takes a name from whichever offers "
    "the highest version: a name registered on the other index shadows the real one "
    "(dependency confusion).",
    check=_of_the_input,
)
INDEX_ADDED = Signal(
    id="index-added",
    title="Pull request adds an index",
    severity=Severity.HIGH,
    family="integrity",
    rationale="An index line added to the lock changes where every package may be "
    "installed from, while every pin reads the same.",
    check=_of_the_input,
)


def input_findings(lock: Lock, baseline: BaselineDiff | None) -> tuple[Finding, ...]:
    """Findings of the lockfile itself: the extra indexes it names, and (with a
    baseline) the indexes the change adds."""

    def finding(signal: Signal, message: str, **observed: str) -> Finding:
        return Finding(
            signal.id, signal.severity, NormalizedName(lock.path), None, message, observed
        )

    found = [
        finding(
            EXTRA_INDEX,
            f"{lock.path} names an extra index, {url}: a name there can shadow "
            "the main index's (dependency confusion)",
            index=url,
            main_index=lock.index_url or "(default)",
        )
        for url in lock.extra_index_urls
    ]
    if baseline is not None:
        found += [
            finding(
                INDEX_ADDED,
                f"the change adds index {url} to {lock.path}, which {baseline.baseline} "
                "did not name",
                index=url,
                baseline=baseline.baseline,
            )
            for url in baseline.indexes_added
        ]
    return tuple(found)
