"""The graph browser: the tree on the left, a package's evidence on the right."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TabbedContent, Tree

from tui.model import ReportModel
from tui.screens.dialogs import ApproveScreen, DiffScreen, FilterScreen, HelpScreen
from tui.screens.findings import FindingsScreen
from tui.widgets.details import TABS, Details, HistoryLookup
from tui.widgets.graph_tree import Entry, GraphTree

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
        name = node.data.name if node is not None and node.data is not None else None
        if name is None:
            return
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
