"""Findings first: every finding of the scan in one table, worst first, searchable.

Enter jumps to the package in the graph with its Findings tab open.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from tui.model import SEVERITY_ORDER, ReportModel
from tui.widgets.text import safe

STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


class FindingsScreen(Screen[str | None]):
    """Dismissed with the package to show, or None."""

    BINDINGS = [
        Binding("escape,F", "close", "graph"),
        Binding("slash", "search", "search findings"),
        Binding("q", "app.quit", "quit"),
    ]

    def __init__(self, model: ReportModel) -> None:
        super().__init__()
        self.model = model
        self.rows = sorted(
            (
                (key, p["name"], p["version"] or "-", f)
                for key, p in model.packages.items()  # key: the id (name@version when pinned twice)
                for f in p["findings"]
            ),
            key=lambda r: (-SEVERITY_ORDER.index(r[3]["severity"]), r[0], r[3]["signal"]),
        )

    def compose(self) -> ComposeResult:
        with Vertical(id="findings-view"):
            yield Static("", id="findings-count", markup=False)
            yield Input(
                placeholder="search findings (package, signal, message)", id="findings-search"
            )
            yield DataTable(id="findings-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("severity", "signal", "package", "message")
        self.query_one("#findings-search", Input).display = False
        self._fill("")
        table.focus()

    def _fill(self, query: str) -> None:
        table = self.query_one(DataTable)
        table.clear()
        query = query.strip().lower()
        shown = 0
        for key, name, version, finding in self.rows:
            text = f"{name} {finding['signal']} {finding['message']}".lower()
            if query and query not in text:
                continue
            shown += 1
            table.add_row(
                Text(finding["severity"], style=STYLE.get(finding["severity"], "")),
                safe(finding["signal"], 40),
                safe(f"{name} {version}", 60),
                safe(finding["message"], 200),
                key=f"{shown}:{key}",
            )
        what = f" matching {query!r}" if query else ""
        self.query_one("#findings-count", Static).update(
            f" {shown} of {len(self.rows)} findings{what}, worst first · Enter: show the package"
        )

    def action_search(self) -> None:
        search = self.query_one("#findings-search", Input)
        search.display = True
        search.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value or ""
        self.dismiss(key.partition(":")[2] or None)

    def action_close(self) -> None:
        self.dismiss(None)
