"""What a vulnerability source answers: advisories for one release, or why it cannot."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from packaging.utils import NormalizedName
from packaging.version import Version

from scanner.models import Advisory, Unavailable


class VulnerabilitySource(Protocol):
    name: str

    def query(self, name: NormalizedName, version: Version) -> tuple[Advisory, ...] | Unavailable:
        """Advisories covering `name` at `version`; Unavailable when the source cannot say."""
        ...

    def describe(self) -> str:
        """What the source holds or answered, for the report's notes."""
        ...

    def prefetch(self, packages: Iterable[tuple[NormalizedName, Version]]) -> None:
        """Ask for many packages at once, before `query` is called for each (a no-op
        for sources that answer one at a time)."""
        ...


def merge_advisories(advisories: list[Advisory]) -> tuple[Advisory, ...]:
    """One Advisory per vulnerability: entries sharing any id or alias become one."""
    groups: list[list[Advisory]] = []
    for advisory in advisories:
        ids = set(advisory.ids)
        joined = [g for g in groups if ids & {i for a in g for i in a.ids}]
        merged = [advisory]
        for group in joined:
            merged += group
            groups.remove(group)
        groups.append(merged)
    return tuple(sorted((_combine(g) for g in groups), key=lambda a: a.id))


def _combine(group: list[Advisory]) -> Advisory:
    ids = {i for a in group for i in a.ids}
    primary = sorted(ids, key=lambda i: (not i.startswith(("PYSEC-", "MAL-")), i))[0]
    return Advisory(
        id=primary,
        aliases=tuple(sorted(ids - {primary})),
        summary=next((a.summary for a in group if a.summary), None),
        fixed=tuple(sorted({v for a in group for v in a.fixed})),
        severity=next((a.severity for a in group if a.severity), None),
        links=tuple(dict.fromkeys(link for a in group for link in a.links)),
        cvss=next((a.cvss for a in group if a.cvss), None),
    )
