"""The details of one package, in tabs: the evidence behind its score."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

from tui.model import ReportModel
from tui.widgets.text import SEVERITY_STYLE, badge, safe

# name -> (ownership observations, releases) from the store, when there is one
HistoryLookup = Callable[[str], tuple[Sequence[Any], Sequence[dict[str, Any]]]]
TABS = ("summary", "findings", "maintainers", "releases", "provenance", "files", "paths")
# Labels that fit beside the tree in an 80-column terminal, used when the pane is narrow.
SHORT = {
    "summary": "Sum",
    "findings": "Find",
    "maintainers": "Own",
    "releases": "Rel",
    "provenance": "Prov",
    "files": "File",
    "paths": "Path",
}
NARROW = 60  # the pane's width below which the short labels are shown


class Details(Vertical):
    def __init__(self, model: ReportModel, history: HistoryLookup | None = None) -> None:
        super().__init__(id="details")
        self.model = model
        self.history = history
        self.views: dict[str, RenderableType] = {}

    def compose(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            for tab in TABS:
                with TabPane(tab.capitalize(), id=f"tab-{tab}"), VerticalScroll():
                    yield Static(id=f"body-{tab}", markup=False)

    def on_resize(self, event: events.Resize) -> None:
        """Tab names stay readable on a small terminal: short labels below NARROW."""
        tabs = self.query_one(TabbedContent)
        for tab in TABS:
            label = SHORT[tab] if event.size.width < NARROW else tab.capitalize()
            tabs.get_tab(f"tab-{tab}").label = label

    def show(self, name: str) -> None:
        package = self.model.packages[name]
        views = {
            "summary": self._summary(package),
            "findings": self._findings(package),
            "maintainers": self._maintainers(package),
            "releases": self._releases(package),
            "provenance": self._provenance(package),
            "files": self._files(package),
            "paths": self._paths(package),
        }
        self.views = views
        for tab, view in views.items():
            self.query_one(f"#body-{tab}", Static).update(view)

    def _summary(self, p: dict[str, Any]) -> RenderableType:
        head = safe(p["name"], 80, "bold") + Text(" ") + safe(p["version"] or "-", 40)
        head.append("  ")
        head.append_text(badge(p["score"], self.model.worst(p.get("id") or p["name"])))
        lines: list[RenderableType] = [head]
        if p["summary"]:
            lines.append(safe(p["summary"], 300, "italic"))
        if not p["evaluated"]:
            lines.append(
                Text("not evaluated: ", style="bold magenta") + safe(p["not_evaluated_reason"], 300)
            )
        lines.append(
            Text(
                f"confidence {p['confidence']:.0%}   path risk {p['path_risk']}   "
                f"blast radius {p['blast_radius']}   source {p['source']['kind']}"
            )
        )
        if p.get("credits"):
            standing = Table(
                f"standing {p['standing']:.1f} from", "value", "observed", box=None, expand=True
            )
            for credit in p["credits"]:
                standing.add_row(
                    credit["component"],
                    f"{credit['value']:.2f} x {credit['weight']:g}",
                    safe(credit["observed"], 200),
                )
            lines.append(standing)
        table = Table("points", "severity", "signal", "finding", box=None, expand=True)
        for deduction, finding in zip(p["deductions"], p["findings"], strict=False):
            table.add_row(
                f"-{deduction['points']}",
                Text(finding["severity"], style=SEVERITY_STYLE[finding["severity"]]),
                finding["signal"],
                safe(finding["message"], 300),
            )
        lines.append(table)
        states = Table("evidence", "state", "why", box=None, expand=True)
        for family, state in p["families"].items():
            states.add_row(family, state["state"], safe(state["reason"] or "", 300))
        lines.append(states)
        return Group(*lines)

    def _findings(self, p: dict[str, Any]) -> RenderableType:
        if not p["findings"] and not p["waived"]:
            return Text("no findings")
        parts: list[RenderableType] = []
        for finding in p["findings"]:
            title = Text(f"{finding['severity']:<8} ", style=SEVERITY_STYLE[finding["severity"]])
            title.append(finding["signal"], style="bold")
            title.append("  ")
            title.append_text(safe(finding["message"], 400))
            parts.append(title)
            for key, value in finding["evidence"].items():
                text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
                parts.append(Text(f"    {key}: ", style="dim") + safe(text, 400))
        for waived in p["waived"]:
            parts.append(
                Text("waived   ", style="dim")
                + Text(waived["signal"])
                + Text(": ")
                + safe(waived["reason"], 200)
            )
        for label, url in p["urls"].items():
            parts.append(Text(f"{label}: ", style="dim") + safe(url, 300))
        return Group(*parts)

    def _maintainers(self, p: dict[str, Any]) -> RenderableType:
        if self.history is None:
            return Text("no evidence store attached: open a stored scan (trustscan tui --scan ID)")
        observations, releases = self.history(p["name"])
        parts: list[RenderableType] = []
        table = Table("user", "role", "first seen", "last seen", box=None, expand=True)
        seen: dict[tuple[str, str], list[str]] = {}
        for observation in observations:
            for role in observation.roles:
                when = seen.setdefault(
                    (role.user, role.role), [observation.observed_at, observation.observed_at]
                )
                when[1] = observation.observed_at
        for (user, role), (first, last) in sorted(seen.items()):
            table.add_row(safe(user, 60), role, first[:10], last[:10])
        parts.append(table if seen else Text("no ownership observed yet"))
        emails = Table("release", "author / maintainer e-mail", box=None, expand=True)
        for release in releases:
            addresses = ", ".join(
                e for e in (release["author_email"], release["maintainer_email"]) if e
            )
            emails.add_row(safe(release["version"], 30), safe(addresses or "-", 200))
        parts.append(emails)
        return Group(*parts)

    def _releases(self, p: dict[str, Any]) -> RenderableType:
        points = p.get("releases") or []
        if not points:
            return Text("no release history")
        return Group(timeline(points), _release_table(points[-15:]))

    def _provenance(self, p: dict[str, Any]) -> RenderableType:
        states = p["provenance"]
        lines = [Text(", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no files")]
        family = p["families"].get("provenance")
        if family and family["reason"]:
            lines.append(safe(family["reason"], 300, "dim"))
        for finding in p["findings"]:
            if finding["signal"] in (
                "attestation-invalid",
                "provenance-dropped",
                "publisher-changed",
                "publisher-repo-mismatch",
                "unattested",
                "lock-identity-mismatch",
            ):
                lines.append(Text(f"{finding['signal']}: ") + safe(finding["message"], 300))
        return Group(*lines)

    def _files(self, p: dict[str, Any]) -> RenderableType:
        """What the release installs: start-up hooks shown inert, new files highlighted."""
        contents = p.get("contents")
        if not contents:
            return Text("the wheel's file list was not read (no wheel, or --no-inventory)")
        since = f", against {contents['previous_wheel']}" if contents["previous_wheel"] else ""
        lines = [
            safe(f"{contents['wheel']}: {contents['files']} files, {contents['native']} native"
                 f"{since}", 300),
            Text(f"{contents['added_count']} added, {contents['removed_count']} removed since the "
                 "release before", style="dim"),
        ]  # fmt: skip
        for name, text in contents["pth"].items():
            lines.append(Text("start-up hook ", style="bold red") + safe(name, 100, "bold"))
            lines.append(Text("  ") + safe(text, 400))
        if contents["commands"]:
            lines.append(Text("commands: ") + safe(", ".join(contents["commands"]), 300))
        for added in contents["added"]:
            lines.append(Text("+ ", style="green") + safe(added, 200, "green"))
        for removed in contents["removed"]:
            lines.append(Text("- ", style="red") + safe(removed, 200, "red"))
        return Group(*lines)

    def _paths(self, p: dict[str, Any]) -> RenderableType:
        key = p.get("id") or p["name"]  # name@version for a name pinned twice
        paths = self.model.paths_to(key)
        lines = [
            Text(f"blast radius {p['blast_radius']}: {len(paths)} path(s) from a direct dependency")
        ]
        for path in paths:
            line = Text()
            for i, step in enumerate(path):
                if i:
                    line.append(" → ", style="dim")
                line.append_text(safe(step, 60, "bold" if step == key else ""))
            lines.append(line)
        return Group(*lines)


def _release_table(points: list[dict[str, Any]]) -> Table:
    table = Table("version", "uploaded", "yanked", "attested", box=None)
    for point in reversed(points):
        attested = {True: "yes", False: "no", None: "?"}[point["attested"]]
        table.add_row(
            safe(point["version"], 30),
            point["uploaded"][:10],
            "yanked" if point["yanked"] else "",
            attested,
        )
    return table


def timeline(points: list[dict[str, Any]], width: int = 60) -> Text:
    """Release dates on one line: ● a release, ✗ yanked, ✓ attested."""
    times = [datetime.fromisoformat(p["uploaded"]) for p in points]
    start, end = min(times), max(times)
    span = max((end - start).total_seconds(), 1.0)
    cells = [" "] * width
    styles = [""] * width
    for point, moment in zip(points, times, strict=True):
        i = min(width - 1, int((moment - start).total_seconds() / span * (width - 1)))
        mark, style = (
            ("✗", "bold red")
            if point["yanked"]
            else (("✓", "green") if point["attested"] else ("●", "cyan"))
        )
        cells[i], styles[i] = mark, style
    line = Text(f"{start.date()} ")
    for cell, style in zip(cells, styles, strict=True):
        line.append(cell, style=style)
    line.append(f" {end.date()}")
    return line
