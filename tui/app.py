"""trustscan's terminal UI: browse a scan's dependency graph and its evidence."""

from __future__ import annotations

from typing import Any

from textual.app import App

from tui.messages import ScanFinished
from tui.model import ReportModel
from tui.screens.browser import Approver, BrowserScreen
from tui.screens.scan import Runner, ScanScreen
from tui.widgets.details import HistoryLookup


class TrustscanApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "trustscan"

    def __init__(
        self,
        report: dict[str, Any] | None = None,
        runner: Runner | None = None,
        label: str = "",
        history: HistoryLookup | None = None,
        approver: Approver | None = None,
    ) -> None:
        super().__init__()
        self.report = report
        self.runner = runner
        self.label = label
        self.history = history
        self.approver = approver

    def on_mount(self) -> None:
        if self.report is not None:
            self.push_screen(BrowserScreen(ReportModel(self.report), self.history, self.approver))
        elif self.runner is not None:
            self.push_screen(ScanScreen(self.label, self.runner))

    def on_scan_finished(self, message: ScanFinished) -> None:
        self.report = message.report
        screen = BrowserScreen(ReportModel(message.report), self.history, self.approver)
        self.switch_screen(screen)
