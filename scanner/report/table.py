"""The table: rich on a terminal, plain text elsewhere. All metadata passes `inert()`."""

from __future__ import annotations

import io

from scanner.models import PackageReport, ScanResult, Severity
from scanner.text import inert

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def _score(p: PackageReport) -> str:
    return "n/e" if p.score is None else f"{p.score:.1f}"


def _findings(p: PackageReport) -> str:
    if not p.evaluated:
        return f"not evaluated: {p.not_evaluated_reason}"
    return "; ".join(f"{f.severity.label} {f.signal}: {f.message}" for f in p.findings[:3])


def _state(p: PackageReport, family: str) -> str:
    state = p.families.get(family)
    if state is None:
        return "-"
    if family == "provenance" and state.state == "evaluated":
        return "verified" if p.provenance.get("verified") else "none"
    return {"evaluated": "ok", "not-applicable": "n/a"}.get(state.state, state.state)


COLUMNS = ("package", "version", "score", "provenance", "vulns", "findings")


def _row(p: PackageReport) -> tuple[str, ...]:
    return (
        inert(p.name, 60),
        inert(p.version or "-", 40),
        _score(p),
        _state(p, "provenance"),
        _state(p, "vulnerabilities"),
        inert(_findings(p), 300),
    )


def render_table(result: ScanResult) -> str:
    from rich.console import Console  # only a terminal needs rich: import it then
    from rich.table import Table
    from rich.text import Text

    table = Table(title=inert(result.input, 200), title_justify="left", expand=False)
    for column in COLUMNS:
        table.add_column(column, overflow="fold", no_wrap=column in ("package", "score"))
    for p in result.packages:
        cells = [Text(c) for c in _row(p)]  # Text(): never parsed as markup
        if p.worst is not None:
            cells[5].stylize(SEVERITY_STYLE[p.worst])
        if not p.evaluated:
            cells[2].stylize("magenta")
        table.add_row(*cells)
    buffer = io.StringIO()
    Console(file=buffer, force_terminal=True, width=160, highlight=False).print(table)
    return buffer.getvalue()


def render_plain(result: ScanResult) -> str:
    rows = [COLUMNS, *(_row(p) for p in result.packages)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS) - 1)]
    lines = []
    for row in rows:
        head = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False))
        lines.append(f"{head}  {row[-1]}".rstrip())
    return "\n".join(lines) + "\n"
