"""Text for `trustscan history`, `trustscan scans` and `trustscan diff`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scanner.models import OwnershipObservation
from scanner.text import inert


def render_history(
    name: str, releases: Sequence[dict[str, Any]], observations: Sequence[OwnershipObservation]
) -> str:
    events: list[tuple[str, str]] = []
    for release in releases:
        emails = ", ".join(e for e in (release["author_email"], release["maintainer_email"]) if e)
        when = (release["first_upload"] or "")[:10] or "date unknown"
        line = f"release {inert(release['version'], 40)}"
        if emails:
            line += f"  emails: {inert(emails, 200)}"
        if release.get("provenance"):
            line += f"  files: {inert(release['provenance'], 300)}"
        events.append((when, line))
    previous: OwnershipObservation | None = None
    for observation in observations:
        now = {(r.user, r.role) for r in observation.roles}
        before = {(r.user, r.role) for r in previous.roles} if previous else set()
        label = f"scan {observation.scan_id}" if observation.scan_id is not None else "imported"
        if previous is None:
            roles = ", ".join(f"{u} ({r})" for u, r in sorted(now)) or "no roles"
            events.append((observation.observed_at[:10], f"{label}: owners {inert(roles, 300)}"))
        for user, role in sorted(now - before) if previous else ():
            events.append((observation.observed_at[:10], f"{label}: + {inert(user)} ({role})"))
        for user, role in sorted(before - now):
            events.append((observation.observed_at[:10], f"{label}: - {inert(user)} ({role})"))
        if previous and previous.organization != observation.organization:
            events.append(
                (
                    observation.observed_at[:10],
                    f"{label}: organization {previous.organization} -> {observation.organization}",
                )
            )
        previous = observation
    if not events:
        return f"{name}: nothing recorded yet (scan a lock that pins it)\n"
    lines = [f"{name}: history from the store"]
    lines += [f"  {when}  {text}" for when, text in sorted(events)]
    return "\n".join(lines) + "\n"


def render_scans(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "no scans recorded\n"
    lines = ["id  started                   exit  packages  input"]
    for row in rows:
        lines.append(
            f"{row['id']:<3} {row['started_at'][:25]:<25} {row['exit_code']:<5} "
            f"{row['packages']:<9} {inert(row['input'], 200)}"
        )
    return "\n".join(lines) + "\n"


def render_diff(
    pair: tuple[int, int],
    old: dict[str, Any],
    new: dict[str, Any],
    owners: tuple[Mapping[str, OwnershipObservation], Mapping[str, OwnershipObservation]],
) -> str:
    # by id: a name pinned at several versions is one entry per version
    before = {p.get("id") or p["name"]: p for p in old["packages"]}
    after = {p.get("id") or p["name"]: p for p in new["packages"]}
    lines = [
        f"scan {pair[0]} ({old['started_at'][:19]}) -> scan {pair[1]} ({new['started_at'][:19]})"
    ]
    for name in sorted(after.keys() - before.keys()):
        lines.append(f"  added    {name} {after[name]['version']}")
    for name in sorted(before.keys() - after.keys()):
        lines.append(f"  removed  {name} {before[name]['version']}")
    for name in sorted(before.keys() & after.keys()):
        if before[name]["version"] != after[name]["version"]:
            lines.append(f"  changed  {name} {before[name]['version']} -> {after[name]['version']}")
        old_findings = {(f["signal"], f["message"]) for f in before[name]["findings"]}
        new_findings = {(f["signal"], f["message"]) for f in after[name]["findings"]}
        for signal, message in sorted(new_findings - old_findings):
            lines.append(f"  new      {name}: {signal}: {inert(message, 300)}")
        for signal, message in sorted(old_findings - new_findings):
            lines.append(f"  resolved {name}: {signal}: {inert(message, 300)}")
    for name in sorted(owners[0].keys() & owners[1].keys()):
        was = {(r.user, r.role) for r in owners[0][name].roles}
        now = {(r.user, r.role) for r in owners[1][name].roles}
        for user, role in sorted(now - was):
            lines.append(f"  owner    {name}: + {inert(user)} ({role})")
        for user, role in sorted(was - now):
            lines.append(f"  owner    {name}: - {inert(user)} ({role})")
    if len(lines) == 1:
        lines.append("  no changes")
    return "\n".join(lines) + "\n"
