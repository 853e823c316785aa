"""Renderers: each turns a ScanResult into a string; only the CLI decides where it goes."""

from __future__ import annotations

from collections.abc import Callable

from scanner.models import ScanResult
from scanner.report.cyclonedx import render_cyclonedx
from scanner.report.json import render_json
from scanner.report.markdown import render_markdown
from scanner.report.sarif import render_sarif
from scanner.report.table import render_plain, render_table

FORMATS: dict[str, Callable[[ScanResult], str]] = {
    "table": render_table,
    "text": render_plain,
    "json": render_json,
    "sarif": render_sarif,
    "markdown": render_markdown,
    "cyclonedx": render_cyclonedx,
}
