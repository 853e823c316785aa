"""Markdown for PR comments and $GITHUB_STEP_SUMMARY.

Untrusted text is made inert and then escaped for Markdown: it cannot open a
link, an image, an HTML tag or break the table.
"""

from __future__ import annotations

from scanner.models import ScanResult
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


def render_markdown(result: ScanResult) -> str:
    c = summary_counts(result)
    lines = [
        f"## trustscan: {result.verdict.label} (exit {result.verdict.exit_code})",
        "",
        f"{md(result.input, 200)}: {c['packages']} packages, "
        f"{c['evaluated']} evaluated, {c['not_evaluated']} not evaluated, "
        f"{c['with_findings']} with findings; vulnerabilities unknown for "
        f"{c['vulnerabilities_unknown']}; provenance: {c['files_provenance_verified']} verified, "
        f"{c['files_provenance_invalid']} invalid, {c['files_provenance_none']} none, "
        f"{c['files_provenance_unknown']} unknown.",
        "",
        f"Publishers: {c['packages_publisher_verified']} packages verified, "
        f"{c['packages_publisher_invalid']} invalid, {c['packages_publisher_none']} none, "
        f"{c['packages_publisher_unknown']} unknown"
        + (
            f"; built by {', '.join(md(r, 120) for r in repositories(result)[:20])}."
            if repositories(result)
            else "."
        ),
        "",
    ]
    if result.baseline is not None:
        b = result.baseline
        lines += [
            f"Against {md(b.baseline)}: {len(b.added)} added, {len(b.changed)} changed, "
            f"{len(b.removed)} removed (only added and changed packages are gated).",
            "",
        ]
    if result.input_findings:
        lines += ["**The lockfile itself:**", ""]
        lines += [
            f"- {f.severity.label} `{f.signal}`: {md(f.message, 300)}"
            for f in result.input_findings
        ]
        lines.append("")
    rows = [
        (p, f)
        for p in sorted(result.packages, key=lambda p: (p.score is not None, p.score or 0))
        for f in p.findings
    ]
    if rows:
        lines += [
            "| package | version | score | severity | signal | finding | fixed in |",
            "|---|---|---|---|---|---|---|",
        ]
        for package, finding in rows:
            fixed = finding.evidence.get("fixed_in")
            lines.append(
                f"| {md(package.name, 80)} | {md(package.version or '-', 40)} | "
                f"{'n/e' if package.score is None else f'{package.score:.1f}'} | "
                f"{finding.severity.label} | `{finding.signal}` | {md(finding.message, 300)} | "
                f"{md(', '.join(map(str, fixed)) if isinstance(fixed, list) else '', 80)} |"
            )
        lines.append("")
    else:
        lines += ["No findings.", ""]
    unevaluated = [p for p in result.packages if not p.evaluated]
    if unevaluated:
        lines += ["**Not evaluated:**", ""]
        lines += [f"- {md(p.name)}: {md(p.not_evaluated_reason, 300)}" for p in unevaluated]
        lines.append("")
    if result.verdict.reasons:
        lines += ["<details><summary>Why this verdict</summary>", ""]
        lines += [f"- {md(reason, 300)}" for reason in result.verdict.reasons[:50]]
        lines += ["", "</details>", ""]
    lines += [f"Policy: {md(result.policy_source) or 'the defaults (no policy file found)'}", ""]
    if result.notes:
        lines += ["<details><summary>Notes</summary>", ""]
        lines += [f"- {md(note, 300)}" for note in result.notes[:50]]
        if len(result.notes) > 50:
            lines.append(f"- … and {len(result.notes) - 50} more (the JSON report lists them all)")
        lines += ["", "</details>", ""]
    return "\n".join(lines)
