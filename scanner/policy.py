"""Policy and the gate: from package reports to an exit code.

0 pass; 1 a gated package violates the policy; 3 something could not be
evaluated and the policy fails closed. Hygiene findings (low) alone never fail
the default policy.

A policy comes from `[tool.trustscan]` in pyproject.toml, or trustscan.toml,
or `--policy FILE`; CLI flags override it. Unknown keys are errors naming the
key and file; a waiver without a reason is an error; an expired waiver stops
applying and is reported.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name

from scanner.errors import InputError
from scanner.lockfiles import read_text
from scanner.lockfiles.toml import load_toml
from scanner.models import (
    FAMILIES,
    Diagnostic,
    Finding,
    PackageReport,
    PackageSource,
    Severity,
    SourceKind,
    Verdict,
)
from scanner.text import excerpt

# Evidence families whose `unknown` fails the gate unless allowed (policy `require`).
# Ownership is unknown only on an index that publishes it (see scan.serves_ownership).
REQUIRED_FAMILIES = ("registry", "dependencies", "ownership", "vulnerabilities")
POLICY_FILES = ("trustscan.toml", "pyproject.toml")


@dataclass(frozen=True, slots=True)
class Waiver:
    package: NormalizedName
    signal: str
    reason: str
    version: str | None = None
    expires: date | None = None

    def matches(self, finding: Finding) -> bool:
        return (
            finding.package == self.package
            and finding.signal == self.signal
            and (self.version is None or finding.version == self.version)
        )

    def expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today

    def __str__(self) -> str:
        version = f" {self.version}" if self.version else ""
        return f"{self.package}{version} / {self.signal}"


@dataclass(frozen=True, slots=True)
class Policy:
    fail_on: frozenset[Severity] = frozenset({Severity.CRITICAL, Severity.HIGH})
    fail_under: float | None = None
    allow_unevaluated: bool = False
    require_attestations: bool = False
    require: tuple[str, ...] = REQUIRED_FAMILIES  # families whose `unknown` fails the gate
    allow_sources: tuple[str, ...] = ()  # globs of URL, VCS and path pins accepted as they are
    trust_record: str | None = None  # the trust record's path, relative to the lockfile
    require_record: bool = False  # every package needs a trust record entry (`untrusted`)
    severity: Mapping[str, Severity] = field(default_factory=dict)  # signal id -> override
    thresholds: Mapping[str, float] = field(default_factory=dict)  # "signal.key" -> value
    waivers: tuple[Waiver, ...] = ()
    source: str | None = None  # the file it was read from

    def allows_source(self, source: PackageSource) -> bool:
        """Whether a URL, VCS or path pin is accepted without registry evidence: the
        project's own root (`-e .`) always is; anything else only when the policy's
        `allow-sources` names it (fnmatch globs on the location as the lock writes it)."""
        location = source.location or ""
        if source.kind is SourceKind.PATH and location.rstrip("/") in ("", ".", "file:."):
            return True
        return any(fnmatch.fnmatchcase(location, pattern) for pattern in self.allow_sources)

    @property
    def required_families(self) -> tuple[str, ...]:
        extra = ("provenance",) if self.require_attestations else ()
        return self.require + tuple(f for f in extra if f not in self.require)


@dataclass(frozen=True, slots=True)
class Applied:
    """Findings after the policy: kept, waived, and the notes it produced."""

    kept: tuple[Finding, ...]
    waived: tuple[tuple[Finding, Waiver], ...]


def apply_policy(findings: Iterable[Finding], policy: Policy, today: date) -> Applied:
    """Severity overrides, then waivers that have not expired."""
    kept: list[Finding] = []
    waived: list[tuple[Finding, Waiver]] = []
    for finding in findings:
        override = policy.severity.get(finding.signal)
        if override is not None:
            finding = replace(finding, severity=override)
        waiver = next(
            (w for w in policy.waivers if w.matches(finding) and not w.expired(today)), None
        )
        if waiver is not None:
            waived.append((finding, waiver))
        else:
            kept.append(finding)
    return Applied(tuple(kept), tuple(waived))


def expired_waivers(policy: Policy, today: date) -> list[str]:
    return [
        f"waiver for {w} expired on {w.expires} and no longer applies"
        for w in policy.waivers
        if w.expired(today)
    ]


def gate(
    packages: Sequence[PackageReport],
    policy: Policy,
    gated: frozenset[NormalizedName] | None = None,
    input_findings: Sequence[Finding] = (),
) -> Verdict:
    """The verdict; with `gated`, only those packages can fail it (baseline mode).
    Findings of the input itself (`input_findings`) are always gated."""
    violations: list[str] = [
        f"{f.package}: {f.signal} ({f.message})"
        for f in input_findings
        if f.severity in policy.fail_on
    ]
    unevaluated: list[str] = []
    for package in packages:
        if gated is not None and package.name not in gated:
            continue
        label = f"{package.name} {package.version or ''}".strip()
        failing = sorted(
            {
                f.signal
                for f in package.findings
                if f.severity in policy.fail_on
                or (policy.require_attestations and f.signal == "unattested")
            }
        )
        if failing:
            violations.append(f"{label}: {', '.join(failing)}")
        elif (
            policy.fail_under is not None
            and package.score is not None
            and package.score < policy.fail_under
        ):
            violations.append(f"{label}: score {package.score:.1f} < {policy.fail_under}")
        if not package.evaluated:
            unevaluated.append(f"{label}: not evaluated ({package.not_evaluated_reason})")
            continue
        for family in policy.required_families:
            state = package.families.get(family)
            if state is not None and state.state == "unknown" and state.gated:
                unevaluated.append(f"{label}: {family} unknown ({state.reason})")
    if violations:
        return Verdict(1, tuple(violations))
    if unevaluated and not policy.allow_unevaluated:
        return Verdict(3, tuple(unevaluated))
    return Verdict(0, ())


def weakening(
    base: Policy, head: Policy, defaults: Mapping[str, Severity] | None = None
) -> list[str]:
    """How `head` lets through what `base` would have stopped, one line per change;
    `defaults` are the signals' own severities (what no override means)."""
    defaults = defaults or {}
    changes = []
    dropped = sorted(s.label for s in base.fail_on - head.fail_on)
    if dropped:
        changes.append(f"fail-on no longer includes {', '.join(dropped)}")
    if base.fail_under is not None and (
        head.fail_under is None or head.fail_under < base.fail_under
    ):
        changes.append(f"fail-under lowered from {base.fail_under} to {head.fail_under}")
    if head.allow_unevaluated and not base.allow_unevaluated:
        changes.append("allow-unevaluated turned on")
    if base.require_attestations and not head.require_attestations:
        changes.append("require-attestations turned off")
    unrequired = [f for f in base.required_families if f not in head.required_families]
    if unrequired:
        changes.append(f"families no longer required: {', '.join(unrequired)}")
    lowered = []
    for signal, severity in head.severity.items():
        before = base.severity.get(signal, defaults.get(signal))
        if before is None or severity < before:
            lowered.append(f"{signal} {before.label if before else '?'} -> {severity.label}")
    if lowered:
        changes.append(f"severities overridden: {', '.join(lowered)}")
    new_sources = sorted(set(head.allow_sources) - set(base.allow_sources))
    if new_sources:
        changes.append(f"allow-sources added: {', '.join(new_sources)}")
    old_waivers = {(str(w), w.reason) for w in base.waivers}
    new_waivers = [str(w) for w in head.waivers if (str(w), w.reason) not in old_waivers]
    if new_waivers:
        changes.append(f"waivers added: {', '.join(new_waivers)}")
    return changes


# --- loading --------------------------------------------------------------------

_KEYS = {
    "fail-under",
    "fail-on",
    "allow-unevaluated",
    "require-attestations",
    "require",
    "allow-sources",
    "trust-record",
    "require-record",
    "severity",
    "thresholds",
    "ignore",
}
_WAIVER_KEYS = {"package", "signal", "version", "reason", "expires"}


def find_policy(directory: Path) -> Path | None:
    """trustscan.toml, else a pyproject.toml that has [tool.trustscan]."""
    for name in POLICY_FILES:
        candidate = directory / name
        if candidate.is_file():
            if name == "pyproject.toml" and "[tool.trustscan" not in read_text(str(candidate)):
                continue
            return candidate
    return None


def load_policy(path: Path, known_signals: Mapping[str, Mapping[str, float]]) -> Policy:
    """Read a policy file; `known_signals` maps signal ids to their threshold defaults."""
    return policy_from_text(read_text(str(path)), str(path), known_signals)


def policy_from_text(
    text: str, path: str, known_signals: Mapping[str, Mapping[str, float]]
) -> Policy:
    """A policy from the text of a policy file (`path` names it, and its kind)."""
    data = load_toml(text, path)
    if Path(path.partition("@")[0]).name == "pyproject.toml" or "tool" in data:
        data = data.get("tool", {}).get("trustscan", {})
        prefix = "tool.trustscan"
    else:
        prefix = ""
    return parse_policy(data, path, prefix, known_signals)


def parse_policy(
    data: Mapping[str, Any],
    file: str,
    prefix: str,
    known_signals: Mapping[str, Mapping[str, float]],
) -> Policy:
    problems: list[Diagnostic] = []

    def key(name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    def problem(name: str, message: str) -> None:
        problems.append(Diagnostic(file, None, f"{key(name)}: {message}"))

    for unknown in sorted(set(data) - _KEYS):
        problem(unknown, "unknown key")
    fail_on = Policy().fail_on
    if "fail-on" in data:
        try:
            fail_on = frozenset(Severity.parse(str(s)) for s in _as_list(data["fail-on"]))
        except ValueError as e:
            problem("fail-on", str(e))
    fail_under = data.get("fail-under")
    if fail_under is not None and (
        not isinstance(fail_under, int | float) or isinstance(fail_under, bool)
    ):
        problem("fail-under", "expected a number")
        fail_under = None

    def table(name: str) -> Mapping[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, Mapping):
            problem(name, "expected a table")
            return {}
        return value

    if "trust-record" in data and not isinstance(data["trust-record"], str):
        problem("trust-record", "expected a path")
    for flag in ("allow-unevaluated", "require-attestations", "require-record"):
        if flag in data and not isinstance(data[flag], bool):
            problem(flag, "expected true or false")
    severity: dict[str, Severity] = {}
    for signal, value in table("severity").items():
        if signal not in known_signals:
            problem(f"severity.{signal}", "unknown signal")
            continue
        try:
            severity[signal] = Severity.parse(str(value))
        except ValueError as e:
            problem(f"severity.{signal}", str(e))
    thresholds: dict[str, float] = {}
    for name, value in table("thresholds").items():
        signal, _, setting = str(name).partition(".")
        if setting not in known_signals.get(signal, {}):
            problem(f"thresholds.{name}", "unknown threshold (see `trustscan signals`)")
        elif not isinstance(value, int | float) or isinstance(value, bool):
            problem(f"thresholds.{name}", "expected a number")
        else:
            thresholds[name] = float(value)
    require: tuple[str, ...] = REQUIRED_FAMILIES
    if "require" in data:
        names = [str(f) for f in _as_list(data["require"])]
        strangers = sorted(set(names) - set(FAMILIES))
        if strangers:
            problem("require", f"unknown families {strangers}; known: {', '.join(FAMILIES)}")
        require = tuple(f for f in FAMILIES if f in names)
    allow_sources = tuple(str(p) for p in _as_list(data.get("allow-sources", [])) if str(p))
    waivers = []
    for i, raw in enumerate(_as_list(data.get("ignore", []))):
        waiver = _waiver(raw, f"ignore[{i}]", problem, known_signals)
        if waiver is not None:
            waivers.append(waiver)
    if problems:
        raise InputError(problems)
    return Policy(
        fail_on=fail_on,
        fail_under=float(fail_under) if fail_under is not None else None,
        allow_unevaluated=data.get("allow-unevaluated") is True,
        require_attestations=data.get("require-attestations") is True,
        require=require,
        allow_sources=allow_sources,
        trust_record=data["trust-record"] if isinstance(data.get("trust-record"), str) else None,
        require_record=data.get("require-record") is True,
        severity=severity,
        thresholds=thresholds,
        waivers=tuple(waivers),
        source=file,
    )


def _waiver(
    raw: object,
    where: str,
    problem: Callable[[str, str], None],
    known_signals: Mapping[str, Mapping[str, float]],
) -> Waiver | None:
    if not isinstance(raw, Mapping):
        problem(where, "expected a table")
        return None
    bad = False
    for unknown in sorted(set(raw) - _WAIVER_KEYS):
        problem(f"{where}.{unknown}", "unknown key")
        bad = True
    for required in ("package", "signal", "reason"):
        if not str(raw.get(required, "")).strip():
            problem(
                f"{where}.{required}", "required" + (": say why" if required == "reason" else "")
            )
            bad = True
    if raw.get("signal") and raw["signal"] not in known_signals:
        problem(f"{where}.signal", f"unknown signal {excerpt(raw['signal'])}")
        bad = True
    expires = raw.get("expires")
    if isinstance(expires, datetime):
        expires = expires.date()
    elif isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires)
        except ValueError:
            problem(f"{where}.expires", f"not a date: {excerpt(expires)}")
            bad = True
    elif expires is not None and not isinstance(expires, date):
        problem(f"{where}.expires", "expected a date")
        bad = True
    if bad:
        return None
    return Waiver(
        package=canonicalize_name(str(raw["package"])),
        signal=str(raw["signal"]),
        reason=str(raw["reason"]),
        version=str(raw["version"]) if raw.get("version") else None,
        expires=expires if isinstance(expires, date) else None,
    )


def _as_list(value: object) -> list[Any]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value) if isinstance(value, list | tuple) else [value]
