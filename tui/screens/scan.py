"""Scanning before browsing: progress from a worker thread, cancellable."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar, Static
from textual.worker import get_current_worker

from tui.messages import ScanFailed, ScanFinished, ScanProgress

# Runs the scan: (progress callback, cancel event) -> (report dict, scan id).
Runner = Callable[
    [Callable[[int, int, str], None], threading.Event], tuple[dict[str, Any], int | None]
]


class ScanScreen(Screen[None]):
    BINDINGS = [Binding("escape,q", "cancel", "cancel")]

    def __init__(self, label: str, runner: Runner) -> None:
        super().__init__()
        self.label = label
        self.runner = runner
        self.cancelled = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical(id="scanning"):
            yield Static(f"scanning {self.label}", id="scan-label", markup=False)
            yield ProgressBar(id="scan-progress", show_eta=False)
            yield Static("", id="scan-current", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.run_worker(self._scan, thread=True, exclusive=True, name="scan")

    def _scan(self) -> None:
        worker = get_current_worker()

        def progress(done: int, total: int, name: str) -> None:
            if worker.is_cancelled:
                raise KeyboardInterrupt  # stops the scan at the next package
            self.post_message(ScanProgress(done, total, name))

        try:
            report, scan_id = self.runner(progress, self.cancelled)
        except KeyboardInterrupt:
            return
        except Exception as e:  # shown to the user; the TUI must not die with a traceback
            self.post_message(ScanFailed(str(e) or type(e).__name__))
            return
        self.post_message(ScanFinished(report, scan_id))

    def on_scan_progress(self, message: ScanProgress) -> None:
        self.query_one(ProgressBar).update(total=message.total, progress=message.done)
        self.query_one("#scan-current", Static).update(message.name)

    def on_scan_failed(self, message: ScanFailed) -> None:
        self.query_one("#scan-current", Static).update(f"scan failed: {message.reason}")

    def action_cancel(self) -> None:
        self.cancelled.set()  # the scan stops within 0.2 s, dropping pending fetches
        self.workers.cancel_all()
        self.app.exit(message="scan cancelled")
