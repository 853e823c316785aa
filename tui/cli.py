"""The `trustscan` command: `trustscan tui` opens the browser, the rest is scanner.cli.

Keeping this entry point in `tui` lets `scanner` stay free of Textual: importing
this module loads neither Textual nor the app until `tui` is asked for.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from packaging.utils import canonicalize_name

from scanner import cli as scanner_cli
from scanner import scan, trust
from scanner.errors import TrustscanError, UsageError
from scanner.lockfiles import read_text
from scanner.models import ScanResult
from scanner.options import ScanOptions
from scanner.report.json import to_dict
from scanner.store import Store


def run() -> NoReturn:
    """The `trustscan` command (main(), then a fast exit)."""
    scanner_cli.exit_fast(main())


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "tui":
        try:
            return run_tui(args[1:])
        except TrustscanError as e:
            scanner_cli.report_error(e)
            return e.exit_code
        except Exception as e:  # a crash is not a verdict
            return scanner_cli.internal_error(e)
    return scanner_cli.main(args)


def run_tui(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="trustscan tui",
        usage="trustscan tui [PATH] [--scan ID] [--db DB] [scan options]",
        add_help=True,
        description="Scan PATH (default: the lockfile here), or open a stored scan, and "
        "browse it in the terminal.",
        epilog="Every option of `trustscan scan` applies (see `trustscan scan --help`): "
        "--index-url, --advisory-db, --offline, --groups, --extras, --python-version, "
        "--platform, --policy, --baseline, ...",
    )
    parser.add_argument("--scan", type=int, help="open this stored scan (see `trustscan scans`)")
    parser.add_argument("--db", help="evidence store (env TRUSTSCAN_DB)")
    own, rest = parser.parse_known_args(argv)
    store = Store(scanner_cli.store_path(own.db))
    history = _history(store)
    from tui.app import TrustscanApp  # Textual loads only here

    if own.scan is not None:
        report = store.report(own.scan)
        if not report or (not report.get("packages") and report.get("tool") != "trustscan"):
            raise UsageError(f"no scan {own.scan} in the store ({store.path})")
        TrustscanApp(report=report, history=history).run()
        return 0
    # The scan options are the CLI's, resolved (and checked) before the app starts.
    options = scanner_cli.tui_scan_options(rest, own.db)

    if not options.environment:
        read_text(options.path)  # a missing or unreadable input fails here, before full screen

    scanned: list[ScanResult] = []

    def runner(progress: Any, cancelled: threading.Event) -> tuple[dict[str, Any], int | None]:
        result, scan_id = scan.run(options, progress, cancelled)
        scanned.append(result)
        return to_dict(result), scan_id

    approver = make_approver(options, lambda: scanned[-1])
    TrustscanApp(runner=runner, label=options.path, history=history, approver=approver).run()
    return 0


def make_approver(
    options: ScanOptions, last: Callable[[], ScanResult]
) -> Callable[[str, str, date], str]:
    """The TUI's `a`: approve a package's state, as the last scan saw it, into the
    trust record (the same record and writer as `trustscan trust record`)."""

    def approve(name: str, note: str, end: date) -> str:
        path = Path(options.trust) if options.trust else scanner_cli.record_path(options.path)
        before = read_text(str(path)) if path.is_file() else ""
        days = (end - date.today()).days
        if days < 1:
            raise ValueError("the end date must be in the future")
        record = trust.approve(
            trust.load(before, str(path)),
            last().evidence,
            [canonicalize_name(name)],
            date.today(),
            approved_by=note,
            days=days,
        )
        return scanner_cli.write_record(record, before)

    return approve


def _history(store: Store) -> Any:
    def lookup(name: str) -> tuple[list[Any], list[dict[str, Any]]]:
        return store.observations(name), store.releases(name)

    return lookup
