"""Messages between the TUI's workers, screens and widgets (dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class ScanProgress(Message):
    done: int
    total: int
    name: str


@dataclass
class ScanFinished(Message):
    report: dict[str, Any]
    scan_id: int | None


@dataclass
class ScanFailed(Message):
    reason: str
