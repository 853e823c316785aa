"""Markdown for PR comments and $GITHUB_STEP_SUMMARY.

Untrusted text is made inert and then escaped for Markdown: it cannot open a
link, an image, an HTML tag or break the table.
"""

from __future__ import annotations

import re
from pathlib import Path

from scanner.models import Finding, PackageReport, ScanResult
from scanner.report.json import repositories, summary_counts
from scanner.text import inert


def md(value: object, limit: int = 200) -> str:
    """Untrusted text as an inert Markdown code span.

    Inside a code span nothing is a link (autolinks included), an image, HTML or
    emphasis; backticks cannot close it (they become U+02CB) and pipes are
    escaped so a table cell cannot be split.
    """
    text = inert(value, limit).replace("`", "\u02cb").replace("|", "\\|")
    return f"`` {text} ``" if text.strip() else ""


LIMIT = 65_536  # GitHub's limit for a comment body
_ADVISORY_ID = re.compile(r"(?:PYSEC|GHSA|CVE|MAL|OSV)-[A-Za-z0-9-]{2,40}")
WORST_FIRST = 200  # finding rows at most, worst first; the JSON and SARIF reports hold all


def render_markdown(result: ScanResult) -> str:
    """A PR comment or step summary: the verdict and why first, then what changed
    (with a baseline, only added and changed packages), then the worst findings; at
    most 65,536 characters, saying what was cut."""
    c = summary_counts(result)
    head = [
        f"## trustscan: {result.verdict.label} (exit {result.verdict.exit_code})",
        "",
    ]
    if result.verdict.reasons:
        head += ["**Why:**", ""]
        head += [f"- {md(reason, 300)}" for reason in result.verdict.reasons[:30]]
        if len(result.verdict.reasons) > 30:
            head.append(f"- … and {len(result.verdict.reasons) - 30} more")
        head.append("")
    head += [
        f"{md(relative(result.input), 200)}: {c['packages']} packages, "
        f"{c['evaluated']} evaluated, {c['not_evaluated']} not evaluated, "
        f"{c['with_findings']} with findings; vulnerabilities unknown for "
        f"{c['vulnerabilities_unknown']}. Publishers: {c['packages_publisher_verified']} "
        f"packages verified, {c['packages_publisher_invalid']} invalid, "
        f"{c['packages_publisher_none']} none, {c['packages_publisher_unknown']} unknown"
        + (
            f"; built by {', '.join(md(r, 120) for r in repositories(result)[:20])}."
            if repositories(result)
            else "."
        ),
        "",
        f"Policy: {_policy(result.policy_source)}.",
        "",
    ]
    packages = list(result.packages)
    if result.baseline is not None:
        b = result.baseline
        head += [
            f"Against {md(relative(b.baseline))}: {len(b.added)} added, {len(b.changed)} "
            f"changed, {len(b.removed)} removed; only those added and changed are shown and gated.",
            "",
        ]
        packages = [p for p in packages if p.name in b.gated]
    if result.input_findings:
        head += ["**The lockfile itself:**", ""]
        head += [
            f"- {f.severity.label} `{f.signal}`: {md(f.message, 300)}"
            for f in result.input_findings
        ]
        head.append("")
    rows = sorted(
        ((p, f) for p in packages for f in p.findings),
        key=lambda pf: (-pf[1].severity, pf[0].name, pf[1].signal),
    )
    lines = [_row(p, f) for p, f in rows[:WORST_FIRST]]
    tail = []
    unevaluated = [p for p in packages if not p.evaluated]
    if unevaluated:
        tail += ["**Not evaluated:**", ""]
        tail += [f"- {md(p.name)}: {md(p.not_evaluated_reason, 300)}" for p in unevaluated[:50]]
        tail.append("")
    if result.notes:
        tail += ["<details><summary>Notes</summary>", ""]
        tail += [f"- {md(note, 300)}" for note in result.notes[:50]]
        if len(result.notes) > 50:
            tail.append(f"- … and {len(result.notes) - 50} more (the JSON report lists them all)")
        tail += ["", "</details>", ""]
    return _fit(head, lines, len(rows), tail)


def _row(package: PackageReport, finding: Finding) -> str:
    fixed = finding.evidence.get("fixed_in")
    ids = finding.evidence.get("ids")
    links = [_advisory_link(i) for i in ids] if isinstance(ids, list) else []
    fixes = md(", ".join(map(str, fixed)), 80) if isinstance(fixed, list) and fixed else ""
    return (
        f"| {md(package.name, 80)} | {md(package.version or '-', 40)} | "
        f"{'n/e' if package.score is None else f'{package.score:.1f}'} | "
        f"{finding.severity.label} | `{finding.signal}` | {md(finding.message, 300)} | "
        f"{' '.join(links[:5])}{' ' if links and fixes else ''}{fixes} |"
    )


def _advisory_link(advisory: object) -> str:
    """An advisory id as a link to OSV, only when it has an id's exact shape."""
    text = str(advisory)
    if _ADVISORY_ID.fullmatch(text):
        return f"[{text}](https://osv.dev/vulnerability/{text})"
    return md(text, 60)


_TABLE = [
    "| package | version | score | severity | signal | finding | advisories, fixed in |",
    "|---|---|---|---|---|---|---|",
]


def _fit(head: list[str], rows: list[str], total: int, tail: list[str]) -> str:
    """The comment within LIMIT characters: rows (worst first) are dropped from the
    end until it fits, and a line says how many are not shown."""
    shown = len(rows)
    while True:
        body = [*_TABLE, *rows[:shown]] if total else ["No findings."]
        cut = total - shown
        note = [f"… {cut} more findings not shown here (the JSON and SARIF reports have them all)."]
        text = "\n".join([*head, *body, "", *(note if cut else []), "", *tail])
        if len(text) <= LIMIT or shown == 0:
            break
        shown -= max(1, shown // 10)
    if len(text) > LIMIT:  # the head and tail alone are over: cut, and say so
        text = text[: LIMIT - 60] + "\n\n… cut at GitHub's comment limit.\n"
    return text


def _policy(source: str | None) -> str:
    return md(relative(source)) if source else "the defaults (no policy file found)"


def relative(path: str | None) -> str:
    """`path` relative to the current directory (the repository, in CI) when inside it."""
    if not path:
        return ""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return path
