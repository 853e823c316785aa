"""`trustscan explain` and `trustscan signals`: plain text for people."""

from __future__ import annotations

import json
from typing import Any

from packaging.utils import canonicalize_name

from scanner import refdata
from scanner.errors import UsageError
from scanner.signals import CATALOG
from scanner.text import inert


def render_explanation(report: dict[str, Any], name: str) -> str:
    """A package's score, deduction by deduction, with the evidence behind each. `NAME`
    explains every version the scan pinned it at; `NAME@VERSION` one of them."""
    project, _, version = name.partition("@")
    wanted = canonicalize_name(project)
    found = [
        p
        for p in report["packages"]
        if p["name"] == wanted and (not version or p["version"] == version)
    ]
    if not found:
        raise UsageError(f"{name} is not in the last scan of {report['input']}")
    return "\n".join(_explain(report, package) for package in found)


def _explain(report: dict[str, Any], package: dict[str, Any]) -> str:
    lines = [
        f"{inert(package['name'])} {inert(package['version'] or '-')}  "
        f"(scan of {inert(report['input'])} at {report['started_at']})",
    ]
    if not package["evaluated"]:
        lines.append(f"  not evaluated: {inert(package['not_evaluated_reason'], 400)}")
    else:
        lines.append(f"  score {package['score']:.1f} / 10, confidence {package['confidence']:.0%}")
        if package.get("credits"):
            lines.append(
                f"  standing {package['standing']:.1f}, from what was observed "
                "(component: value x weight):"
            )
            for credit in package["credits"]:
                part = f"{credit['component']:<10} {credit['value']:.2f} x {credit['weight']:g}"
                lines.append(f"    + {part}: {inert(credit['observed'], 200)}")
    for deduction, finding in zip(package["deductions"], package["findings"], strict=False):
        lines.append(
            f"  -{deduction['points']:<4} {finding['severity']:<8} {finding['signal']}: "
            f"{inert(finding['message'], 300)}"
        )
        for key, value in finding["evidence"].items():
            text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            lines.append(f"         {key}: {inert(text, 400)}")
    for finding in package["findings"][len(package["deductions"]) :]:
        lines.append(f"  (no points) {finding['signal']}: {inert(finding['message'], 300)}")
    for waived in package.get("waived", []):
        lines.append(
            f"  waived  {waived['signal']}: {inert(waived['message'], 200)} "
            f"(reason: {inert(waived['reason'], 200)})"
        )
    for publisher in package.get("publishers", []):
        lines.append(
            f"  built by: {inert(publisher['kind'])} {inert(publisher['repository'] or '')} "
            f"{inert(publisher['workflow'] or '')}"
            + (
                f" (environment {inert(publisher['environment'])})"
                if publisher["environment"]
                else ""
            )
            + f" — verified for {inert(publisher['file'])}"
        )
    contents = package.get("contents")
    if contents:
        since = f" since {inert(contents['previous_wheel'])}" if contents["previous_wheel"] else ""
        lines.append(
            f"  installs: {inert(contents['wheel'])}: {contents['files']} files, "
            f"{contents['added_count']} added and {contents['removed_count']} removed{since}"
        )
        for name, text in contents["pth"].items():
            lines.append(f"    start-up hook {inert(name)}: {inert(text, 200)}")
        for added in contents["added"][:10]:
            lines.append(f"    + {inert(added, 200)}")
    lines.append("  evidence families:")
    for family, state in package["families"].items():
        reason = f" ({inert(state['reason'], 300)})" if state["reason"] else ""
        lines.append(f"    {family}: {state['state']}{reason}")
    if package["dependents"]:
        lines.append(f"  required by: {', '.join(package['dependents'])}")
    lines.append(f"  path risk {package['path_risk']}, blast radius {package['blast_radius']}")
    for label, url in package["urls"].items():
        lines.append(f"  {label}: {inert(url, 300)}")
    return "\n".join(lines) + "\n"


def render_catalog() -> str:
    lines = []
    for signal in CATALOG:
        lines.append(f"{signal.id}  [{signal.severity.label}]  {signal.title}")
        lines.append(f"    {signal.rationale}")
        for key, value in signal.thresholds.items():
            lines.append(f"    threshold {signal.id}.{key} = {value:g}")
        lines.append(f"    docs: trustscan signals {signal.id}")
    return "\n".join(lines) + "\n"


def render_signal_doc(signal_id: str) -> str:
    """One signal's section of docs/signals.md, which ships with the package."""
    if signal_id not in {s.id for s in CATALOG}:
        raise UsageError(f"no signal {inert(signal_id, 60)!s}; `trustscan signals` lists them")
    try:
        text = refdata.signal_docs().read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"the signal docs are missing from this installation: {e}") from e
    start = text.find(f'<a id="{signal_id}"></a>')
    if start < 0:
        raise UsageError(f"{signal_id} has no section in {refdata.signal_docs()}")
    end = text.find("<a id=", start + 1)
    section = text[start : end if end >= 0 else len(text)]
    return section.split("\n", 1)[1].strip() + "\n"
