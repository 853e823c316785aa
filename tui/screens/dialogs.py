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
  ↑ ↓ ← → / Enter   move, expand and collapse the tree
  o                 jump from a (*) to the package's expanded place
  /                 search a package by name
  f                 filter: severity:high, signal:ID, unevaluated (empty clears)
  s                 sort siblings by score (lowest first)
  i                 invert: show who depends on the selected package
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
