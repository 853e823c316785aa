"""Safe text for the TUI: package metadata is never parsed as markup or escapes."""

from __future__ import annotations

from rich.text import Text

from scanner.text import inert

SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
    None: "green",
}


def safe(value: object, limit: int = 200, style: str = "") -> Text:
    """Untrusted text as a rich Text: escapes stripped, markup inert, length bounded."""
    return Text(inert(value, limit), style=style)


def badge(score: float | None, worst: str | None) -> Text:
    if score is None:
        return Text(" n/e ", style="bold magenta")
    return Text(f" {score:4.1f} ", style=SEVERITY_STYLE.get(worst, "green"))
