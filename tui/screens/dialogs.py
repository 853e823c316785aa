"""Small screens: the key help and the filter prompt."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.model import ReportModel

KEYS = """\
Keys
  ↑ ↓ ← → / Enter   move, expand and collapse the tree (j, k move too)
  1 … 7             the details tabs: summary, findings, maintainers, releases,
                    provenance, files, paths
  o                 jump from a (*) to the package's expanded place
  /                 search a package by name; n, N: the next, previous match
  f                 filter: severity:high, signal:ID, unevaluated (empty clears);
                    the filter in force is shown under the summary
  s                 sort siblings by score (lowest first)
  i                 invert: show who depends on the selected package
  F                 every finding in one table, worst first (/ searches, Enter shows)
  c, u              copy the package's purl, or its finding's advisory or page URL
  e                 export the findings in view (the filter applies) to
                    trustscan-view.json and trustscan-view.md here
  a                 approve the package's current owners and publishers into the trust record
  Tab, Shift+Tab    move between the tree and the tabs
  ?                 this help
  q                 quit
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "close")]

    def compose(self) -> ComposeResult:
        yield Static(KEYS, id="help", markup=False)


class FilterScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, model: ReportModel) -> None:
        super().__init__()
        self.model = model

    def compose(self) -> ComposeResult:
        signals = sorted({f["signal"] for p in self.model.packages.values() for f in p["findings"]})
        with Vertical(id="filter"):
            yield Static(
                "Filter: severity:low|medium|high|critical, signal:ID, unevaluated", markup=False
            )
            yield Static("signals in this scan: " + (", ".join(signals) or "none"), markup=False)
            yield Input(placeholder="severity:high", id="rule")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ApproveScreen(ModalScreen[tuple[str, str] | None]):
    """Asks for a note and an end date before the current state is approved."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, name: str, default_end: str) -> None:
        super().__init__()
        self.package = name
        self.default_end = default_end

    def compose(self) -> ComposeResult:
        with Vertical(id="approve"):
            yield Static(
                f"Approve {self.package}'s current owners, maintainers, e-mails and publishers "
                "into the trust record. Enter in the last field writes it; Esc cancels.",
                markup=False,
            )
            yield Input(placeholder="who reviewed, and why (kept as a note)", id="approve-note")
            yield Input(
                value=self.default_end, placeholder="end date (YYYY-MM-DD)", id="approve-end"
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "approve-note":
            self.query_one("#approve-end", Input).focus()
            return
        note = self.query_one("#approve-note", Input).value.strip()
        self.dismiss((note, self.query_one("#approve-end", Input).value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)


class DiffScreen(ModalScreen[None]):
    """What the approval changed in the record, as a unified diff."""

    BINDINGS = [Binding("escape,q,enter", "app.pop_screen", "close")]

    def __init__(self, diff: str) -> None:
        super().__init__()
        self.diff = diff

    def compose(self) -> ComposeResult:
        yield Static(
            self.diff or "the record already says this: no change", id="diff", markup=False
        )
