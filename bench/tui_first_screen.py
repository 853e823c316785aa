"""Time to the TUI's first screen of a scan: from the command to the graph shown.

Runs `trustscan tui`'s own path (options resolved by the CLI, `scan.run`, the app)
under Textual's headless driver and stops as soon as the browser screen is up.

    .venv/bin/python bench/tui_first_screen.py LOCK [scan options...]
prints the seconds since this process started (interpreter start-up included).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def first_screen(argv: list[str]) -> float:
    from scanner import scan
    from scanner.cli import tui_scan_options
    from scanner.report.json import to_dict
    from tui.app import TrustscanApp
    from tui.screens.browser import BrowserScreen

    options = tui_scan_options(argv, None)

    def runner(progress, cancelled):  # type: ignore[no-untyped-def]
        result, scan_id = scan.run(options, progress, cancelled)
        return to_dict(result), scan_id

    app = TrustscanApp(runner=runner, label=options.path)
    async with app.run_test(size=(160, 48)) as pilot:
        while not isinstance(pilot.app.screen, BrowserScreen):
            await asyncio.sleep(0.01)
        await pilot.pause()
        return time.perf_counter() - STARTED


if __name__ == "__main__":
    print(f"{asyncio.run(first_screen(sys.argv[1:])):.2f}")
