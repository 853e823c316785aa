"""The graph browser: the tree on the left, a package's evidence on the right."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TabbedContent, Tree

from scanner.report.markdown import md
from scanner.text import inert
from tui.model import ReportModel
from tui.screens.dialogs import ApproveScreen, DiffScreen, FilterScreen, HelpScreen
from tui.screens.findings import FindingsScreen
from tui.widgets.details import TABS, Details, HistoryLookup
from tui.widgets.graph_tree import Entry, GraphTree


def _finding_url(package: dict[str, Any]) -> str | None:
    for finding in package["findings"]:
        evidence = finding["evidence"]
        ids = evidence.get("ids")
        if isinstance(ids, list) and ids:
            return f"https://osv.dev/vulnerability/{ids[0]}"
        url = evidence.get("url")
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            return url
    return None


# Approves a package's current state into the trust record: (name, note, end) -> diff.
Approver = Callable[[str, str, date], str]


class BrowserScreen(Screen[None]):
    BINDINGS = [
        Binding("/", "search", "search"),
        Binding("f", "filter", "filter"),
        Binding("s", "sort", "sort by score"),
        Binding("i", "invert", "dependents"),
        Binding("a", "approve", "approve into the trust record"),
        Binding("F", "findings", "all findings"),
        Binding("c", "copy_purl", "copy purl", show=False),
        Binding("u", "copy_url", "copy URL", show=False),
        Binding("e", "export", "export view", show=False),
        Binding("?", "help", "keys"),
        Binding("q", "app.quit", "quit"),
        Binding("escape", "close_search", show=False),
        Binding("n", "next_match(1)", show=False),
        Binding("N", "next_match(-1)", show=False),
        Binding("j", "cursor('down')", show=False),
        Binding("k", "cursor('up')", show=False),
        *(Binding(str(i), f"tab({i})", show=False) for i in range(1, len(TABS) + 1)),
    ]

    def __init__(
        self,
        model: ReportModel,
        history: HistoryLookup | None = None,
        approver: Approver | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.history = history
        self.approver = approver
        self.found: list[str] = []  # the last search's matches, for n / N
        self.found_at = 0

    def compose(self) -> ComposeResult:
        yield Static(self._summary_line(), id="summary", markup=False)
        yield Static("", id="filter-indicator", markup=False)
        with Horizontal(id="main"):
            yield GraphTree(self.model, id="tree")
            yield Details(self.model, self.history)
        yield Input(placeholder="package name, Enter to jump", id="search", select_on_focus=False)
        yield Footer()

    def on_mount(self) -> None:
        tree = self.query_one(GraphTree)
        tree.rebuild()
        tree.focus()
        self._show_filter()
        first = next(iter(self.model.roots), None)
        if first is not None:
            self.query_one(Details).show(first)

    def _show_filter(self) -> None:
        """The filter in force and how many packages it matches, always in view."""
        rule = self.query_one(GraphTree).rule
        indicator = self.query_one("#filter-indicator", Static)
        indicator.display = bool(rule)
        if rule:
            indicator.update(f" filter {rule}: {self.model.count(rule)} packages (f to change)")

    def _summary_line(self) -> Text:
        s = self.model.summary()
        style = {"pass": "bold green", "fail": "bold red"}.get(s["verdict"], "bold magenta")
        # The verdict first: on an 80-column terminal the end of the line is cut.
        line = Text(" verdict ")
        line.append(f"{s['verdict']} (exit {s['exit_code']})", style=style)
        line.append(
            f" · {s['packages']} packages · {s['failing']} failing (high+) · "
            f"{s['not_evaluated']} not evaluated · vulnerabilities unknown for "
            f"{s['vulnerabilities_unknown']}"
        )
        return line

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Entry]) -> None:
        entry = event.node.data
        if entry is not None and entry.name is not None:
            self.query_one(Details).show(entry.name)

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.display = True
        search.value = ""
        search.focus()

    def on_key(self, event: events.Key) -> None:
        """Keys typed right after `/`, before the search box has focus, are the search's:
        they must not reach the tree (where `i` inverts it)."""
        search = self.query_one("#search", Input)
        if search.display and not search.has_focus and event.is_printable and event.character:
            search.insert_text_at_cursor(event.character)
            search.focus()
            event.stop()
            event.prevent_default()

    def action_close_search(self) -> None:
        self.query_one("#search", Input).display = False
        self.query_one(GraphTree).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.found = list(self.model.matches(event.value))
        self.found_at = 0
        self.action_close_search()
        if not self.found:
            self.notify(f"no package matches {event.value!r}", severity="warning")
            return
        self._go(self.found[0])

    def action_next_match(self, step: int) -> None:
        """n / N: the next or previous package the last search matched."""
        if not self.found:
            return
        self.found_at = (self.found_at + step) % len(self.found)
        self._go(self.found[self.found_at])

    def _go(self, name: str) -> None:
        """Select `name` in the tree (clearing a filter that hides it) and show it."""
        tree = self.query_one(GraphTree)
        if not tree.select_name(name):
            tree.rule, tree.inverted = None, None
            tree.rebuild()
            tree.select_name(name)
            self._show_filter()
        self.query_one(Details).show(name)

    def action_filter(self) -> None:
        def apply(rule: str | None) -> None:
            error = self.model.rule_error(rule) if rule else None
            if error is not None:
                self.notify(error, severity="error")
                return  # the filter in force stays, and says so
            tree = self.query_one(GraphTree)
            tree.rule = rule or None
            tree.rebuild()
            self._show_filter()

        self.app.push_screen(FilterScreen(self.model), apply)

    def action_sort(self) -> None:
        tree = self.query_one(GraphTree)
        tree.sort_by_score = not tree.sort_by_score
        tree.rebuild()

    def action_invert(self) -> None:
        tree = self.query_one(GraphTree)
        node = tree.cursor_node
        if tree.inverted:
            tree.inverted = None
        elif node is not None and node.data is not None and node.data.name is not None:
            tree.inverted = node.data.name
        tree.rebuild()

    def action_findings(self) -> None:
        """Every finding, worst first; Enter comes back to the package's Findings tab."""

        def show(name: str | None) -> None:
            if name is None or name not in self.model.packages:
                return
            self._go(name)
            self.query_one(TabbedContent).active = "tab-findings"

        self.app.push_screen(FindingsScreen(self.model), show)

    def _selected(self) -> dict[str, Any] | None:
        node = self.query_one(GraphTree).cursor_node
        name = node.data.name if node is not None and node.data is not None else None
        return self.model.packages.get(name) if name else None

    def action_copy_purl(self) -> None:
        """c: the selected package's purl to the clipboard (Textual's, by OSC 52)."""
        package = self._selected()
        if package is None:
            return
        purl = f"pkg:pypi/{package['name']}" + (
            f"@{package['version']}" if package["version"] else ""
        )
        self.app.copy_to_clipboard(purl)
        self.notify(f"copied {purl}")

    def action_copy_url(self) -> None:
        """u: the worst finding's advisory or evidence URL, else the package's page."""
        package = self._selected()
        if package is None:
            return
        url = _finding_url(package) or next(iter(package["urls"].values()), None)
        if not url:
            self.notify("no URL for this package", severity="warning")
            return
        self.app.copy_to_clipboard(url)
        self.notify(f"copied {inert(url, 200)}")

    def action_export(self) -> None:
        """e: the findings of the packages in view (the filter applies) to JSON and
        Markdown files in the current directory."""
        rule = self.query_one(GraphTree).rule
        shown = [p for n, p in sorted(self.model.packages.items()) if self.model.passes(n, rule)]
        rows = [
            {"package": p["name"], "version": p["version"], **f}
            for p in shown
            for f in p["findings"]
        ]
        view = {"input": self.model.report.get("input"), "filter": rule, "findings": rows}
        Path("trustscan-view.json").write_text(json.dumps(view, indent=1) + "\n", encoding="utf-8")
        lines = [f"# trustscan findings{f' ({rule})' if rule else ''}", ""]
        lines += ["| package | version | severity | signal | finding |", "|---|---|---|---|---|"]
        lines += [
            f"| {md(r['package'], 80)} | {md(r['version'] or '-', 40)} | {r['severity']} | "
            f"`{r['signal']}` | {md(r['message'], 300)} |"
            for r in rows
        ]
        Path("trustscan-view.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.notify(f"{len(rows)} findings written to trustscan-view.json and trustscan-view.md")

    def action_cursor(self, direction: str) -> None:
        tree = self.query_one(GraphTree)
        if direction == "down":
            tree.action_cursor_down()
        else:
            tree.action_cursor_up()

    def action_tab(self, number: int) -> None:
        """Number keys pick the details tab: 1 summary … 7 paths."""
        self.query_one(TabbedContent).active = f"tab-{TABS[number - 1]}"

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_approve(self) -> None:
        node = self.query_one(GraphTree).cursor_node
        key = node.data.name if node is not None and node.data is not None else None
        if key is None or key not in self.model.packages:
            return
        name = self.model.packages[key]["name"]  # owners are per project, not per pin
        if self.approver is None:
            self.notify(
                "approval needs a scan run here (a stored scan has no evidence to record)",
                severity="warning",
            )
            return
        approver = self.approver

        def write(answer: tuple[str, str] | None) -> None:
            if answer is None:
                return
            note, end = answer
            try:
                diff = approver(name, note, date.fromisoformat(end))
            except ValueError as e:
                self.notify(str(e), severity="error")
                return
            self.app.push_screen(DiffScreen(diff))

        default_end = (date.today() + timedelta(days=365)).isoformat()
        self.app.push_screen(ApproveScreen(name, default_end), write)
