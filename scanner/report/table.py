"""The table: rich on a terminal, plain text elsewhere. All metadata passes `inert()`."""

from __future__ import annotations

import io
from collections.abc import Sequence

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
        if p.publishers:  # who built it, in short: GitHub owner/repo
            publisher = p.publishers[0][1]
            return f"{publisher.kind} {publisher.repository or publisher.email or ''}".strip()
        return p.publisher_state
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


SHOWN = 20  # reasons and notes listed before "and N more"


def why(result: ScanResult) -> list[str]:
    """What a person needs beside the table: why the verdict is what it is, what the
    input itself was found to do, the policy that judged it, what changed against a
    baseline, and the notes (what was narrowed, left out, resolved, asked)."""
    verdict = result.verdict
    lines = [f"verdict: {verdict.label} (exit {verdict.exit_code})"]
    lines += _listed("because", grouped(verdict.reasons))
    lines += _listed(
        "the lockfile itself",
        [f"{f.severity.label} {f.signal}: {f.message}" for f in result.input_findings],
    )
    lines.append(f"policy: {result.policy_source or 'the defaults (no policy file found)'}")
    if result.baseline is not None:
        b = result.baseline
        lines.append(
            f"against {b.baseline}: {len(b.added)} added, {len(b.changed)} changed, "
            f"{len(b.removed)} removed (only added and changed packages are gated)"
        )
        lines += _listed("added", b.added)
        lines += _listed("changed", [f"{n} {old} -> {new}" for n, old, new in b.changed])
        lines += _listed("removed", b.removed)
    lines += _listed("notes", result.notes)
    return [inert(line, 500) for line in lines]


def grouped(reasons: Sequence[str]) -> list[str]:
    """Reasons that say the same of many packages ("six 1.16.0: vulnerabilities unknown
    (...)") said once, with the packages named: the first few, and how many."""
    by_reason: dict[str, list[str]] = {}
    for reason in reasons:
        package, sep, why = reason.partition(": ")
        key = why if sep else reason
        by_reason.setdefault(key, []).append(package if sep else "")
    lines = []
    for why, packages in by_reason.items():
        if len(packages) == 1:
            lines.append(f"{packages[0]}: {why}" if packages[0] else why)
            continue
        named = ", ".join(packages[:5]) + (
            f" and {len(packages) - 5} more" if len(packages) > 5 else ""
        )
        lines.append(f"{len(packages)} packages ({named}): {why}")
    return lines


def _listed(title: str, items: Sequence[str]) -> list[str]:
    if not items:
        return []
    shown = [f"  - {item}" for item in items[:SHOWN]]
    more = (
        [f"  … and {len(items) - SHOWN} more (--format json lists them all)"]
        if len(items) > SHOWN
        else []
    )
    return [f"{title}:", *shown, *more]


def render_table(result: ScanResult, color: bool = True) -> str:
    """The rich table; `color=False` draws it without escape codes."""
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
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        width=160,
        highlight=False,
    )
    console.print(table)
    console.print(Text("\n".join(why(result))))  # Text(): never parsed as markup
    return buffer.getvalue()


def render_plain(result: ScanResult) -> str:
    rows = [COLUMNS, *(_row(p) for p in result.packages)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS) - 1)]
    lines = []
    for row in rows:
        head = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False))
        lines.append(f"{head}  {row[-1]}".rstrip())
    return "\n".join([*lines, "", *why(result)]) + "\n"
