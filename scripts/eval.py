"""`make eval`: how precise trustscan's findings are, and which incidents it catches.

Scans the labelled set of tests/data/eval/ (see its README) with the default options
against the index, then prints, per signal and overall: findings on malicious
packages (true positives) and on benign ones (false positives unless a person
reviewed them as true), precision, the recall of the labelled incidents, and the
share of benign packages that fail the default gate.

    .venv/bin/python scripts/eval.py [--top N] [--older-top N] [--no-corpus]
        [--advisory-db PATH] [--index-url URL] [--store PATH] [--max-age SECONDS]

Not part of `make test` (it needs the live index); tests/test_eval.py runs the same
code on a slice the local test index serves.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from packaging.utils import canonicalize_name  # noqa: E402
from packaging.version import Version  # noqa: E402

from scanner.lockfiles import load_lock  # noqa: E402
from scanner.models import PackageReport, ProjectFiles, ScanResult, Severity  # noqa: E402
from scanner.options import DEFAULT_INDEX, ScanOptions  # noqa: E402
from scanner.registry import ClientConfig, HttpClient, Index  # noqa: E402
from scanner.scan import run  # noqa: E402
from scanner.selection import select  # noqa: E402
from scanner.store import Store  # noqa: E402

LABELS = ROOT / "tests" / "data" / "eval"
CORPUS = ROOT.parent / "shared" / "corpus"
ADVISORY_DB = ROOT.parent / "shared" / "data" / "pypa-advisory-db.zip"
VULNERABILITY = "known-vulnerability"
GATE = (Severity.HIGH, Severity.CRITICAL)  # the default policy's fail-on


@dataclass(frozen=True)
class Incident:
    name: str  # as the attacker wrote it
    version: str | None
    kind: str
    sources: tuple[str, ...]


@dataclass
class Pins:
    """What to scan: `name==version` lines and bare names, with their labels."""

    malicious: dict[str, Incident] = field(default_factory=dict)  # key -> incident
    benign: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # key -> sets

    def lines(self) -> tuple[list[str], list[str]]:
        """(pinned lines, unpinned names): scanned apart, so that one bare name does not
        make the resolver re-resolve thousands of pins."""
        pinned, bare = [], []
        for key in sorted({*self.benign, *self.malicious}):
            name, _, version = key.partition("==")
            if key in self.malicious:
                name = self.malicious[key].name  # as written: jeIlyfish stays jeIlyfish
            (pinned if version else bare).append(f"{name}=={version}" if version else name)
        return pinned, bare


def key_of(name: str, version: str | None) -> str:
    return f"{canonicalize_name(name)}=={version}" if version else canonicalize_name(name)


def load_incidents(path: Path) -> list[Incident]:
    data = tomllib.loads(path.read_text())
    return [
        Incident(
            name=str(raw["name"]),
            version=str(raw["version"]) if raw.get("version") else None,
            kind=str(raw["kind"]),
            sources=tuple(raw.get("sources", ())),
        )
        for raw in data.get("incident", [])
    ]


def load_reviewed(path: Path) -> dict[tuple[str, str, str], bool]:
    """(name, version, signal) -> whether the finding was judged true."""
    data = tomllib.loads(path.read_text()) if path.is_file() else {}
    return {
        (canonicalize_name(r["name"]), str(r.get("version", "")), str(r["signal"])): r["verdict"]
        == "true"
        for r in data.get("finding", [])
    }


def top_names(count: int) -> list[str]:
    rows = (ROOT / "data" / "top-pypi-packages.tsv").read_text().splitlines()[1:]
    return [canonicalize_name(row.split("\t")[1]) for row in rows[:count]]


def choose_versions(
    index: Index, names: Sequence[str], as_of: datetime | None, jobs: int = 8
) -> dict[str, str]:
    """Each name's newest stable release (else pre-release) that has files, as of `as_of`
    (None: now)."""

    def newest(name: str) -> tuple[str, str | None]:
        try:
            files = index.files(canonicalize_name(name))
        except Exception as e:  # a project the index will not serve: skip it
            print(f"eval: skipped {name}: {e}", file=sys.stderr)
            return name, None
        if not isinstance(files, ProjectFiles):
            return name, None
        candidates: list[Version] = [
            v
            for v, r in files.releases.items()
            if not r.yanked
            and r.first_upload is not None
            and (as_of is None or r.first_upload <= as_of)
        ]
        stable = [v for v in candidates if not v.is_prerelease]
        # a project that only makes pre-releases (opentelemetry-instrumentation-*): its newest
        chosen = max(stable or candidates, default=None)
        return name, str(chosen) if chosen is not None else None

    with ThreadPoolExecutor(jobs) as pool:
        return {n: v for n, v in pool.map(newest, names) if v is not None}


def corpus_pins(corpus: Path) -> set[str]:
    """Every pinned package of the corpus lockfiles (whatever group or environment)."""
    keys = set()
    for path in sorted(corpus.glob("*/*")):
        if path.suffix in (".md", ".json") or "risky" in path.parent.name:
            continue
        try:
            lock = load_lock(str(path), include_root=str(corpus))
        except Exception as e:  # a file we cannot read is reported, not fatal
            print(f"eval: skipped {path.name}: {e}", file=sys.stderr)
            continue
        for package in select(lock).packages:
            if package.version is not None and package.source.from_index:
                keys.add(key_of(package.name, str(package.version)))
    return keys


@dataclass
class Tally:
    true: int = 0
    false: int = 0
    unreviewed: int = 0

    @property
    def precision(self) -> float | None:
        judged = self.true + self.false
        return self.true / judged if judged else None


@dataclass
class Outcome:
    per_signal: dict[str, Tally]
    gated: Tally  # high/critical findings outside known-vulnerability
    caught: list[str]
    missed: list[str]
    benign_total: int
    benign_failing: list[str]  # on a finding other than an advisory
    benign_failing_advisory: int  # on an advisory only
    top_latest_failing: list[str]
    top_latest_total: int
    typosquat_in_top: list[str]
    false_findings: list[str]
    top_scores: list[float] = field(default_factory=list)


def classify(
    reports: Iterable[PackageReport],
    pins: Pins,
    reviewed: Mapping[tuple[str, str, str], bool],
    top_latest: set[str],
) -> Outcome:
    per_signal: dict[str, Tally] = defaultdict(Tally)
    gated = Tally()
    caught, missed, failing, false_findings, in_top, top_failing = [], [], [], [], [], []
    advisory_only = 0
    benign_total = 0
    top_scores: dict[str, float] = {}  # by key: the apps' scan may report one again
    seen_malicious = set()
    for report in reports:
        key = key_of(report.name, report.version)
        incident = pins.malicious.get(key)
        benign = key in pins.benign and incident is None
        if incident is None and not benign:
            continue
        label = f"{incident.name if incident else report.name} {report.version or ''}".strip()
        gate_findings = [f for f in report.findings if f.severity in GATE]
        if incident is not None:
            seen_malicious.add(key)
            (caught if gate_findings else missed).append(label)
        else:
            benign_total += 1
            other = [f for f in gate_findings if f.signal != VULNERABILITY]
            if other:
                failing.append(f"{label} ({', '.join(sorted({f.signal for f in other}))})")
                if key in top_latest:
                    top_failing.append(failing[-1])
            elif gate_findings:
                advisory_only += 1
            if key in top_latest and any(f.signal == "typosquat" for f in report.findings):
                in_top.append(label)
            if key in top_latest and report.score is not None:
                top_scores[key] = report.score
        for finding in report.findings:
            if finding.signal == VULNERABILITY:
                continue
            tally = per_signal[finding.signal]
            if incident is not None:
                verdict: bool | None = True
            else:
                verdict = reviewed.get((report.name, report.version or "", finding.signal))
                if verdict is None:
                    verdict = False  # a finding on a benign package is false until reviewed
            if verdict:
                tally.true += 1
            else:
                tally.false += 1
            if finding.severity in GATE:
                if verdict:
                    gated.true += 1
                else:
                    gated.false += 1
                    false_findings.append(f"{label}: {finding.signal}: {finding.message}")
    for key, incident in pins.malicious.items():
        if key not in seen_malicious:
            missed.append(f"{incident.name} (not in the report)")
    return Outcome(
        per_signal=dict(per_signal),
        gated=gated,
        caught=caught,
        missed=missed,
        benign_total=benign_total,
        benign_failing=failing,
        benign_failing_advisory=advisory_only,
        top_latest_failing=top_failing,
        top_latest_total=len(top_latest),
        typosquat_in_top=in_top,
        false_findings=false_findings,
        top_scores=list(top_scores.values()),
    )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _spread(scores: Sequence[float]) -> str:
    """How the top projects' scores spread: what a score that discriminates looks like."""
    if not scores:
        return "scores of the top projects: none"
    bands = Counter(min(int(s), 9) for s in scores)
    share = sum(s >= 9 for s in scores) / len(scores)
    return (
        f"scores of the top projects at their newest release: {_percent(share)} score 9-10; "
        + ", ".join(f"{b}-{b + 1}: {bands[b]}" for b in sorted(bands, reverse=True))
    )


def render(outcome: Outcome) -> str:
    lines = [
        "per signal: findings on malicious packages (true), on benign ones (false unless "
        "reviewed true; a low hygiene finding is a fact, not a claim of compromise)",
        f"{'signal':28} {'true':>6} {'false':>6} {'precision':>10}",
    ]
    for signal, tally in sorted(outcome.per_signal.items(), key=lambda kv: -kv[1].false):
        lines.append(
            f"{signal:28} {tally.true:>6} {tally.false:>6} {_percent(tally.precision):>10}"
        )
    total = len(outcome.caught) + len(outcome.missed)
    recall = len(outcome.caught) / total if total else None
    g = outcome.gated
    lines += [
        "",
        f"precision of high/critical findings outside advisories: {_percent(g.precision)} "
        f"({g.true} true, {g.false} false)",
        f"recall of the labelled incidents: {_percent(recall)} ({len(outcome.caught)} of {total})",
        f"benign packages failing the default gate on a finding other than an advisory: "
        f"{len(outcome.benign_failing)} of {outcome.benign_total} "
        f"({_percent(len(outcome.benign_failing) / max(1, outcome.benign_total))}); "
        f"on an advisory only: {outcome.benign_failing_advisory}",
        f"top projects at their newest release failing on a finding other than an advisory: "
        f"{len(outcome.top_latest_failing)} of {outcome.top_latest_total}"
        + (": " + ", ".join(outcome.top_latest_failing) if outcome.top_latest_failing else ""),
        f"typosquat findings on the top projects: {len(outcome.typosquat_in_top)}",
        _spread(outcome.top_scores),
    ]
    if outcome.missed:
        lines.append("missed: " + ", ".join(outcome.missed))
    if outcome.false_findings:
        lines.append("false high/critical findings (review them into reviewed.toml):")
        lines += [f"  - {f}" for f in outcome.false_findings[:60]]
        if len(outcome.false_findings) > 60:
            lines.append(f"  ... and {len(outcome.false_findings) - 60} more")
    return "\n".join(lines)


def scan_pins(pins: Pins, apps: Sequence[str], options: ScanOptions) -> list[PackageReport]:
    """Scan the pins (pinned and bare apart), and the apps with their dependencies, which
    become benign pins themselves."""
    pinned, bare = pins.lines()
    with tempfile.TemporaryDirectory() as work:
        results = [scan_lines(pinned, options, Path(work), "requirements.txt")] if pinned else []
        if bare:
            results.append(scan_lines(bare, options, Path(work), "requirements-bare.txt"))
        if apps:  # resolved with their dependencies: every package they bring is benign
            applied = scan_lines(apps, options, Path(work), "requirements-apps.txt")
            for package in applied.packages:
                pins.benign[key_of(package.name, package.version)].add("apps")
            results.append(applied)
            print(_apps_verdict(applied))
    return [p for r in results for p in r.packages]


def scan_lines(lines: Sequence[str], options: ScanOptions, work: Path, name: str) -> ScanResult:
    path = work / name
    path.write_text("\n".join(lines) + "\n")
    result, _ = run(replace(options, path=str(path)))
    return result


def _apps_verdict(result: ScanResult) -> str:
    failing = [
        f"{p.name} {p.version}: {', '.join(sorted({f.signal for f in p.findings if f.severity in GATE}))}"
        for p in result.packages
        if any(f.severity in GATE for f in p.findings)
    ]
    return (
        f"eval: the apps and their {len(result.packages)} packages: verdict "
        f"{result.verdict.label}" + (" (" + "; ".join(failing) + ")" if failing else "")
    )


def build_pins(
    index: Index,
    incidents: Sequence[Incident],
    top: int,
    older_top: int,
    years_ago: int,
    corpus: Path | None,
    names: Sequence[str] = (),
) -> tuple[Pins, set[str]]:
    pins = Pins()
    for incident in incidents:
        pins.malicious[key_of(incident.name, incident.version)] = incident
    ranked = top_names(max(top, older_top))
    latest = choose_versions(index, ranked[:top], None)
    top_latest = {key_of(n, v) for n, v in latest.items()}
    for key in top_latest:
        pins.benign[key].add("top")
    as_of = datetime.now(UTC) - timedelta(days=365 * years_ago)
    for n, v in choose_versions(index, ranked[:older_top], as_of).items():
        pins.benign[key_of(n, v)].add(f"top, {years_ago} years ago")
    if corpus is not None and corpus.is_dir():
        for key in corpus_pins(corpus):
            pins.benign[key].add("corpus")
    for n, v in choose_versions(index, names, None).items():
        pins.benign[key_of(n, v)].add("named")
    for key in list(pins.benign):
        if key in pins.malicious:
            del pins.benign[key]  # a malicious release is labelled as such
    return pins, top_latest


def main(argv: Sequence[str] | None = None) -> int:
    settings = tomllib.loads((LABELS / "benign.toml").read_text())
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=int(settings["top"]))
    parser.add_argument("--older-top", type=int, default=int(settings["older_top"]))
    parser.add_argument("--years-ago", type=int, default=int(settings["years_ago"]))
    parser.add_argument("--no-corpus", action="store_true")
    parser.add_argument("--corpus", default=str(CORPUS))
    parser.add_argument("--labels", default=str(LABELS))
    parser.add_argument(
        "--advisory-db", default=str(ADVISORY_DB) if ADVISORY_DB.is_file() else None
    )
    parser.add_argument("--index-url", default=DEFAULT_INDEX)
    parser.add_argument("--store", default=str(Path.home() / ".cache" / "trustscan-eval.db"))
    parser.add_argument("--max-age", type=float, default=7 * 24 * 3600.0)
    args = parser.parse_args(argv)
    labels = Path(args.labels)
    store = Path(args.store)
    store.parent.mkdir(parents=True, exist_ok=True)
    index = Index(
        HttpClient(ClientConfig(jobs=8, ttl=args.max_age), cache=Store(store)), args.index_url
    )
    incidents = load_incidents(labels / "incidents.toml")
    corpus = None if args.no_corpus or not settings.get("corpus", True) else Path(args.corpus)
    names = [str(n) for n in settings.get("names", ())]
    pins, top_latest = build_pins(
        index, incidents, args.top, args.older_top, args.years_ago, corpus, names
    )
    apps = [str(a) for a in settings.get("apps", ())]
    options = ScanOptions(
        path="",
        store=store,
        index_url=args.index_url,
        lock_indexes=False,
        advisory_db=args.advisory_db,
        max_age=args.max_age,
        allow_unevaluated=True,
    )
    started = datetime.now(UTC)
    reports = scan_pins(pins, apps, options)
    outcome = classify(reports, pins, load_reviewed(labels / "reviewed.toml"), top_latest)
    seconds = (datetime.now(UTC) - started).total_seconds()
    counts = Counter(s for sets in pins.benign.values() for s in sets)
    print(
        f"eval: {len(pins.malicious)} labelled incidents; {len(pins.benign)} benign pins "
        f"({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}); "
        f"advisory database: {args.advisory_db or 'none'}; scanned in {seconds:.0f} s\n"
    )
    print(render(outcome))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
