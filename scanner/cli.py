"""The command line: the only place that prints reports, reads env vars and exits.

Exit codes: 0 pass, 1 policy violated, 2 usage or input error, 3 could not
evaluate (under fail-closed), 70 an internal error (a crash is never a verdict),
130 interrupted.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sqlite3
import stat
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name

from scanner import __version__, gitref, trust
from scanner.errors import StoreError, TrustscanError, UsageError
from scanner.lockfiles import FORMATS as INPUT_FORMATS
from scanner.lockfiles import MAX_INPUT_BYTES, find_lockfile, load_lock, read_text
from scanner.models import ScanResult, Severity
from scanner.options import ScanOptions
from scanner.registry import DEFAULT_INDEX, ClientConfig, HttpClient, Index
from scanner.registry.advisories import DEFAULT_OSV
from scanner.registry.attestations import project_provenance
from scanner.report import FORMATS
from scanner.report.explain import render_catalog, render_explanation, render_signal_doc
from scanner.report.history import render_diff, render_history, render_scans
from scanner.report.json import document, summary_counts
from scanner.report.provenance import render_provenance
from scanner.report.table import render_table, why
from scanner.scan import Progress, run
from scanner.store import Store, default_store_path
from scanner.store.history import parse_records
from scanner.text import inert


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trustscan",
        description="Dependency and package-registry trust scanner for Python lockfiles.",
    )
    parser.add_argument("--version", "-V", action="version", version=f"trustscan {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    s = commands.add_parser("scan", help="scan a lockfile and report trust signals")
    s.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="lockfiles (default: the one found in the current directory); with "
        "--recursive, folders to search for lockfiles",
    )
    s.add_argument(
        "--recursive",
        "-r",
        action="store_true",
        help="scan every lockfile under the folders given (a monorepo, many repos)",
    )
    add_scan_options(s)

    t = commands.add_parser(
        "trust",
        help="the trust record: record [NAME...|--all], check, diff [--baseline-ref REF], prune",
    )
    t.add_argument("action", choices=("record", "check", "diff", "prune"))
    t.add_argument("names", nargs="*", help="for record: the packages to (re)record")
    t.add_argument("--all", action="store_true", help="record: every package of the lock")
    t.add_argument("--lock", dest="path", help="the lockfile (default: found here)")
    t.add_argument("--approved-by", default="", help="record: who reviewed (free text)")
    t.add_argument(
        "--days", type=int, default=365, help="record: how long the approval lasts (at most 365)"
    )
    t.add_argument("--notes", help="record: a note kept with the entries written")
    add_scan_options(t)

    e = commands.add_parser("explain", help="a package's score, finding by finding (last scan)")
    e.add_argument("name")
    e.add_argument(
        "--input",
        help="the lockfile whose last scan to read (default: the lockfile here, "
        "else the last scan with NAME)",
    )
    e.add_argument("--db", help="evidence store (env TRUSTSCAN_DB)")

    sig = commands.add_parser(
        "signals", help="the signal catalog, or one signal's documentation: signals [ID]"
    )
    sig.add_argument("id", nargs="?", help="a signal id: print its documentation")
    commands.add_parser(
        "tui", help="browse a scan's graph in the terminal: trustscan tui [PATH] [--scan ID]"
    )

    h = commands.add_parser(
        "history",
        help="a package's releases, emails, publishers and owners over time; "
        "or `history export FILE` / `history import FILE` (JSON Lines)",
    )
    h.add_argument("name", help="a package name, or 'export' / 'import'")
    h.add_argument("file", nargs="?", help="for export/import: the JSON Lines file ('-': stdio)")
    h.add_argument("--db", help="evidence store (env TRUSTSCAN_DB)")

    sc = commands.add_parser("scans", help="past scans in the store")
    sc.add_argument("--db", help="evidence store (env TRUSTSCAN_DB)")
    sc.add_argument("--limit", type=int, default=20)

    d = commands.add_parser("diff", help="what changed between two scans (default: the last two)")
    d.add_argument("scans", nargs="*", type=int, help="SCAN_A SCAN_B")
    d.add_argument("--db", help="evidence store (env TRUSTSCAN_DB)")

    p = commands.add_parser("provenance", help="PEP 740 provenance of a release, file by file")
    p.add_argument("spec", help="NAME or NAME==VERSION (default: the newest release)")
    p.add_argument("--index-url", help="package index (env TRUSTSCAN_INDEX_URL; default PyPI)")
    p.add_argument("--db", help="evidence store (env TRUSTSCAN_DB)")
    p.add_argument("--offline", action="store_true", help="answer from the local cache only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "scan":
            return _scan(args)
        if args.command == "explain":
            return _explain(args)
        if args.command == "trust":
            return _trust(args)
        if args.command == "provenance":
            return _provenance(args)
        if args.command in ("history", "scans", "diff"):
            return _store_command(args)
        if args.command == "tui":  # the trustscan command starts it: scanner never loads it
            raise UsageError("the terminal UI starts from the `trustscan` command")
        if args.command == "signals":
            sys.stdout.write(render_signal_doc(args.id) if args.id else render_catalog())
            return 0
    except TrustscanError as e:
        report_error(e)
        return e.exit_code
    except KeyboardInterrupt:
        print("trustscan: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except sqlite3.DatabaseError as e:  # the store went bad under a running command
        report_error(
            StoreError(
                f"the store is damaged ({e}); move it aside (a new one is made) or pass --db"
            )
        )
        return 2
    except Exception as e:  # a crash must not read as a verdict: its own code, one line
        return internal_error(e)
    return 2


EXIT_INTERNAL = 70  # EX_SOFTWARE: none of 0-3, so CI can tell a crash from a verdict
EXIT_INTERRUPTED = 130


def report_error(error: TrustscanError) -> None:
    """An error's diagnostics on stderr, each inert: paths and excerpts come from input."""
    for line in error.diagnostics():
        print(f"trustscan: {inert(line, 600)}", file=sys.stderr)


def internal_error(error: BaseException) -> int:
    """One line for a bug, without a traceback (TRUSTSCAN_DEBUG=1 shows it)."""
    if os.environ.get("TRUSTSCAN_DEBUG"):
        import traceback

        traceback.print_exception(error, file=sys.stderr)
    where = ""
    if error.__traceback__ is not None:
        import traceback

        frame = traceback.extract_tb(error.__traceback__)[-1]
        where = f" at {Path(frame.filename).name}:{frame.lineno}"
    print(
        f"trustscan: internal error {type(error).__name__}{where}: {inert(error, 300)} "
        f"(exit {EXIT_INTERNAL}; please report it; TRUSTSCAN_DEBUG=1 shows the traceback)",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def add_scan_options(s: argparse.ArgumentParser) -> None:
    """The options of `trustscan scan`, shared by `trustscan trust`."""
    s.add_argument("--format", choices=sorted(FORMATS), help="report format (default: table)")
    s.add_argument(
        "--input-format",
        choices=INPUT_FORMATS,
        help="the input's format, when its name and content do not tell",
    )
    source = s.add_mutually_exclusive_group()
    source.add_argument(
        "--env", action="store_true", help="scan this interpreter's installed distributions"
    )
    source.add_argument("--python", help="scan the distributions of another venv or python")
    scope = s.add_argument_group(
        "what to scan",
        "By default every package the lock pins: every group, every extra, every "
        "environment its markers name. These narrow it; the report says what was left out.",
    )
    scope.add_argument(
        "--production",
        action="store_true",
        help="only what a production install gets: no dev group, no extra (unless named)",
    )
    scope.add_argument(
        "--groups",
        help="only production and these groups (comma-separated, or 'all'); also narrows extras",
    )
    scope.add_argument(
        "--extras",
        help="only production and these extras (comma-separated, or 'all'); also narrows groups",
    )
    s.add_argument(
        "--exclude-newer",
        help="resolve unpinned inputs ignoring files uploaded after this date (reproducible)",
    )
    s.add_argument("--pre", action="store_true", help="allow pre-releases when resolving")
    s.add_argument(
        "--no-resolve",
        action="store_true",
        help="do not resolve unpinned inputs: list them as not evaluated",
    )
    s.add_argument("--output", "-o", help="write the report here (only once it is complete)")
    s.add_argument(
        "--include-root",
        help="let -r/-c includes and symlinks reach files under DIR "
        "(default: the lockfile's own directory tree)",
        metavar="DIR",
    )
    s.add_argument("--index-url", help="package index (env TRUSTSCAN_INDEX_URL; default PyPI)")
    s.add_argument(
        "--no-inventory",
        action="store_true",
        help="do not read what each wheel installs (.pth hooks, commands, native code)",
    )
    s.add_argument(
        "--ignore-lock-index",
        action="store_true",
        help="look every package up on --index-url, also those the lock pins to another index",
    )
    s.add_argument("--jobs", "-j", type=int, default=8, help="concurrent requests (default 8)")
    s.add_argument("--offline", action="store_true", help="answer from the local cache only")
    s.add_argument(
        "--retries", type=int, default=3, help="retries per request on errors (default 3)"
    )
    s.add_argument(
        "--max-age",
        type=float,
        default=3600.0,
        help="seconds a cached index answer is used without asking again (default 3600)",
    )
    s.add_argument("--refresh", action="store_true", help="revalidate every cached answer")
    s.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for a server (default 30)"
    )
    s.add_argument(
        "--deadline",
        type=float,
        help="seconds the whole scan may spend asking the index; what is left unasked "
        "then is not evaluated",
    )
    s.add_argument(
        "--max-page-mb", type=float, default=64.0, help="largest index answer accepted (MB)"
    )
    s.add_argument("--db", help="evidence store (env TRUSTSCAN_DB; default: user data dir)")
    scope.add_argument(
        "--python-version",
        help="only what this Python installs (default: any; unpinned inputs are resolved "
        "for this one, or the Python most of their markers name if under 90%% apply here)",
    )
    scope.add_argument(
        "--platform", help="only what this platform installs: linux, darwin, win32 (default: any)"
    )
    s.add_argument("--policy", help="policy file (default: trustscan.toml or [tool.trustscan])")
    s.add_argument("--fail-under", type=_score, help="fail when a package scores below this (0-10)")
    s.add_argument(
        "--fail-on",
        help="comma-separated severities that fail the gate (default: critical,high)",
    )
    s.add_argument(
        "--allow-unevaluated",
        action="store_true",
        help="do not fail (exit 3) when something could not be evaluated",
    )
    s.add_argument(
        "--advisory-db",
        help="offline OSV database: directory or zip of OSV JSON/YAML (env TRUSTSCAN_ADVISORY_DB)",
    )
    s.add_argument(
        "--no-live-advisories",
        action="store_true",
        help="do not ask the live advisory sources (OSV, the index's per-release JSON)",
    )
    s.add_argument(
        "--osv-url", help=f"OSV API to ask (env TRUSTSCAN_OSV_URL; default {DEFAULT_OSV})"
    )
    s.add_argument(
        "--pypi-json-url",
        help="index whose /pypi/NAME/VERSION/json to ask for vulnerabilities "
        "(env TRUSTSCAN_PYPI_JSON_URL; default: --index-url)",
    )
    s.add_argument(
        "--trust",
        metavar="FILE",
        help="the trust record (default: supply-chain/trust.toml beside the lockfile)",
    )
    s.add_argument("--baseline", help="gate only packages added or changed since this lockfile")
    s.add_argument("--baseline-ref", help="like --baseline, reading the same path at this git ref")
    s.add_argument(
        "--require-attestations",
        action="store_true",
        help="fail on packages without PEP 740 attestations, and on unknown provenance",
    )
    s.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    for extra in ("json", "sarif", "markdown", "text", "cyclonedx"):  # several from one scan
        s.add_argument(f"--{extra}", metavar="FILE", help=f"also write the {extra} report to FILE")
    s.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour in the table: auto (a terminal, unless NO_COLOR is set), always, never",
    )
    noise = s.add_mutually_exclusive_group()
    noise.add_argument("--quiet", "-q", action="store_true", help="nothing on stderr but errors")
    noise.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="also the verdict's reasons and notes on stderr",
    )
    s.add_argument("--request-log", help=argparse.SUPPRESS)  # JSON Lines, for `make bench`


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 10.0:  # nan fails this too
        raise argparse.ArgumentTypeError(f"{text!r} is not a score from 0 to 10")
    return value


def exit_fast(code: int) -> NoReturn:
    """End the process once everything is written: the store is closed by now and
    reports are flushed here. Unwinding the interpreter (hundreds of imported modules
    and their caches) took 0.2 s, a fifth of a rescan; os._exit skips it."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # a profiler or coverage writes its data at exit: let it
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # a reader that left early (`| head`): nothing more to say
        pass
    os._exit(code)


def _scan(args: argparse.Namespace) -> int:
    paths = _lockfiles(args.paths, args.recursive) if getattr(args, "paths", None) else []
    if len(paths) > 1:
        return _scan_many(args, paths)
    if paths:
        args.path = paths[0]
    outputs = {
        fmt: path
        for fmt in ("json", "sarif", "markdown", "text", "cyclonedx")
        if (path := getattr(args, fmt))
    }
    for path in [args.output, *outputs.values()]:
        if path:
            check_output(path)  # before any work: a bad path is exit 2, not a lost scan
    options = scan_options(args, announce=not args.quiet)
    progress = None if args.no_progress or args.quiet else _progress_bar()
    result, _ = run(options, progress)
    fmt = args.format or ("table" if sys.stdout.isatty() and not args.output else "text")
    color = _color(args.color, to_terminal=args.output is None and sys.stdout.isatty())
    main_report = render_table(result, color) if fmt == "table" else FORMATS[fmt](result)
    _emit(main_report, args.output)
    for extra, path in outputs.items():
        _emit(FORMATS[extra](result), path)
    if args.verbose:
        for line in why(result):
            print(f"trustscan: {line}", file=sys.stderr)
    if not args.quiet:
        print(summary_line(result), file=sys.stderr)
    return result.verdict.exit_code


def _lockfiles(paths: list[str], recursive: bool) -> list[str]:
    """The inputs named, with --recursive every lockfile under the folders named (by the
    names trustscan reads; virtualenvs, .git and node_modules left out)."""
    if not recursive:
        return paths
    found: list[str] = []
    skip = {".git", ".venv", "venv", "node_modules", ".tox", "__pycache__", "site-packages"}
    for path in paths:
        root = Path(path)
        if root.is_file():
            found.append(path)
            continue
        for folder, dirs, _ in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in skip)
            try:
                found.append(str(find_lockfile(Path(folder))))
            except UsageError:
                continue
    if not found:
        raise UsageError(f"no lockfile found under {', '.join(paths)}")
    return found


def _scan_many(args: argparse.Namespace, paths: list[str]) -> int:
    """Several lockfiles in one run: a verdict for each and one overall; evidence shared
    through the store, so a package in several locks is fetched once."""
    fmt = args.format or ("table" if sys.stdout.isatty() and not args.output else "text")
    if fmt == "cyclonedx" or args.cyclonedx:
        raise UsageError("a CycloneDX SBOM describes one lockfile: scan them one at a time")
    results = []
    for path in paths:
        args.path = path
        options = scan_options(args, announce=False)
        result, _ = run(options, None if args.no_progress or args.quiet else _progress_bar())
        results.append(result)
        if not args.quiet:
            print(
                summary_line(result).replace("trustscan:", f"trustscan: {path}:", 1),
                file=sys.stderr,
            )
    codes = {r.verdict.exit_code for r in results}
    overall = 1 if 1 in codes else 3 if 3 in codes else 0
    color = _color(args.color, to_terminal=args.output is None and sys.stdout.isatty())
    _emit(_combined(fmt, results, color, overall), args.output)
    for extra in ("json", "sarif", "markdown", "text"):
        if getattr(args, extra):
            _emit(_combined(extra, results, False, overall), getattr(args, extra))
    if not args.quiet:
        print(
            f"trustscan: {len(results)} lockfiles; overall verdict: exit {overall}", file=sys.stderr
        )
    return overall


def _combined(fmt: str, results: list[ScanResult], color: bool, overall: int) -> str:
    if fmt == "json":
        documents = [document(r) for r in results]
        return (
            json.dumps({"tool": "trustscan", "overall_exit_code": overall, "lockfiles": documents})
            + "\n"
        )
    if fmt == "sarif":
        runs = [run_ for r in results for run_ in json.loads(FORMATS["sarif"](r))["runs"]]
        first = json.loads(FORMATS["sarif"](results[0]))
        return json.dumps({**first, "runs": runs}, indent=2) + "\n"
    parts = []
    for result in results:
        body = render_table(result, color) if fmt == "table" else FORMATS[fmt](result)
        title = f"## {result.input}" if fmt == "markdown" else f"== {result.input} =="
        parts.append(f"{title}\n\n{body}")
    return "\n".join(parts) + f"\noverall verdict: exit {overall}\n"


def _color(choice: str, to_terminal: bool) -> bool:
    """--color: always, never, or auto (a terminal, and NO_COLOR unset: no-color.org)."""
    if choice != "auto":
        return choice == "always"
    return to_terminal and not os.environ.get("NO_COLOR")


def scan_options(args: argparse.Namespace, announce: bool = True) -> ScanOptions:
    """`trustscan scan`'s arguments and the environment, resolved once into the
    options `scan.run` takes. A lockfile found in the current directory is named on
    stderr (`announce`)."""
    path = getattr(args, "path", None)
    if args.env or args.python:
        path = args.python or sys.executable
    elif path is None:
        path = str(find_lockfile(Path.cwd()))
        if announce:
            print(f"trustscan: scanning {inert(path, 300)}", file=sys.stderr)
    fail_on = None
    if args.fail_on:
        try:
            fail_on = frozenset(Severity.parse(s) for s in args.fail_on.split(",") if s.strip())
        except ValueError as e:
            raise UsageError(f"--fail-on: {e}") from e
    groups, extras = _selected(args)
    return ScanOptions(
        path=path,
        store=store_path(args.db),
        environment=bool(args.env or args.python),
        input_format=args.input_format,
        groups=groups,
        extras=extras,
        production=args.production,
        python_version=args.python_version,
        platform=args.platform,
        resolve=not args.no_resolve,
        exclude_newer=_cutoff(args.exclude_newer),
        pre=args.pre,
        include_root=args.include_root,
        index_url=args.index_url or os.environ.get("TRUSTSCAN_INDEX_URL") or DEFAULT_INDEX,
        lock_indexes=not args.ignore_lock_index,
        inventory=not args.no_inventory,
        jobs=args.jobs,
        offline=args.offline,
        retries=args.retries,
        max_age=args.max_age,
        refresh=args.refresh,
        timeout=args.timeout,
        deadline=args.deadline,
        max_page_mb=args.max_page_mb,
        advisory_db=args.advisory_db or os.environ.get("TRUSTSCAN_ADVISORY_DB"),
        live_advisories=not args.no_live_advisories,
        osv_url=args.osv_url or os.environ.get("TRUSTSCAN_OSV_URL"),
        pypi_json_url=args.pypi_json_url or os.environ.get("TRUSTSCAN_PYPI_JSON_URL"),
        policy=args.policy,
        fail_on=fail_on,
        fail_under=args.fail_under,
        allow_unevaluated=args.allow_unevaluated,
        require_attestations=args.require_attestations,
        trust=args.trust,
        baseline=args.baseline,
        baseline_ref=args.baseline_ref,
        request_log=args.request_log,
    )


def tui_scan_options(argv: list[str], db: str | None) -> ScanOptions:
    """The TUI's scan options: `trustscan scan`'s, parsed and resolved here."""
    args = build_parser().parse_args(
        ["scan", *argv, *(["--db", db] if db else []), "--no-progress"]
    )
    if len(args.paths) > 1:
        raise UsageError("the TUI browses one lockfile at a time")
    args.path = args.paths[0] if args.paths else None
    return scan_options(args, announce=False)


def store_path(db: str | None) -> Path:
    """--db, else TRUSTSCAN_DB, else the user data directory's store."""
    configured = db or os.environ.get("TRUSTSCAN_DB")
    return Path(configured) if configured else default_store_path()


def _provenance(args: argparse.Namespace) -> int:
    name, _, version = args.spec.partition("==")
    index_url = args.index_url or os.environ.get("TRUSTSCAN_INDEX_URL") or DEFAULT_INDEX
    store = Store(store_path(args.db))
    client = HttpClient(ClientConfig(offline=args.offline), cache=store)
    try:
        found = project_provenance(Index(client, index_url), name.strip(), version.strip() or None)
    finally:
        client.close()
        store.close()
    sys.stdout.write(render_provenance(found))
    return 0


def _store_command(args: argparse.Namespace) -> int:
    store = Store(store_path(args.db))
    try:
        if args.command == "scans":
            sys.stdout.write(render_scans(store.scans(args.limit)))
        elif args.command == "diff":
            sys.stdout.write(_diff(store, args.scans))
        elif args.name in ("export", "import"):
            return _exchange(store, args.name, args.file)
        else:
            name = canonicalize_name(args.name)
            sys.stdout.write(render_history(name, store.releases(name), store.observations(name)))
    finally:
        store.close()
    return 0


def _diff(store: Store, ids: list[int]) -> str:
    if len(ids) == 2:
        pair: tuple[int, int] | None = (ids[0], ids[1])
    elif not ids:
        pair = store.last_two()
    else:
        raise UsageError("diff takes two scan ids, or none for the last two of the same input")
    if pair is None:
        raise UsageError("the store has no two scans of the same input yet")
    old, new = store.report(pair[0]), store.report(pair[1])
    if old is None or new is None:
        raise UsageError(f"no scan {pair[0] if old is None else pair[1]} in the store")
    owners = (store.owners_at(pair[0]), store.owners_at(pair[1]))
    return render_diff(pair, old, new, owners)


def _exchange(store: Store, verb: str, file: str | None) -> int:
    if verb == "export":
        lines = "".join(json.dumps(r, sort_keys=True) + "\n" for r in store.export_observations())
        _emit(lines, None if file in (None, "-") else file)
        return 0
    if file is None:
        raise UsageError("history import needs a file ('-' for standard input)")
    text = sys.stdin.read(MAX_INPUT_BYTES) if file == "-" else read_text(file)
    records = parse_records(text, file)
    count = store.import_observations(records, file)
    print(
        f"trustscan: imported {count} ownership observations from {inert(file, 300)}",
        file=sys.stderr,
    )
    return 0


def _explain(args: argparse.Namespace) -> int:
    store = Store(store_path(args.db))
    try:
        if args.input:
            report = store.last_report(str(Path(args.input).resolve()))
        else:  # the lockfile here, else the last scan that has the package
            project = args.name.partition("@")[0]  # NAME@VERSION explains one pin
            report = _last_report_here(store) or store.last_report_with(project)
    finally:
        store.close()
    if report is None:
        raise UsageError("no scan in the store yet: run `trustscan scan` first")
    sys.stdout.write(render_explanation(report, args.name))
    return 0


def _trust(args: argparse.Namespace) -> int:
    """`trustscan trust ACTION`: keep the committed trust record in step with the lock."""
    if args.action == "check":  # a scan, judged against the record
        return _scan(args)
    options = scan_options(args, announce=not args.quiet)
    path = Path(options.trust) if options.trust else record_path(options.path)
    before = read_text(str(path)) if path.is_file() else ""
    record = trust.load(before, str(path))
    if args.action == "diff":
        ref = args.baseline_ref or "HEAD"
        old_text = gitref.read_at(path, ref) or ""
        sys.stdout.write(_unified(old_text, before, f"{path}@{ref}", str(path)))
        return 0
    if args.action == "prune":
        names = {p.name for p in load_lock(options.path, options.input_format).packages}
        kept = {n: e for n, e in record.entries.items() if n in names}
        record = replace(record, entries=kept)
    else:  # record
        if not args.all and not args.names:
            raise UsageError("trust record: name the packages to record, or --all")
        result, _ = run(replace(options, trust=str(path) if before else None), None)
        wanted = {canonicalize_name(n) for n in args.names}
        missing = wanted - {e.package.name for e in result.evidence.values()}
        if missing:
            raise UsageError(f"not in the lock: {', '.join(sorted(missing))}")
        observed = {e.package.name for e in result.evidence.values() if trust.observable(e)}
        chosen = sorted(observed if args.all else wanted)
        try:
            record = trust.approve(
                record,
                result.evidence,
                chosen,
                datetime.now(UTC).date(),
                args.approved_by,
                args.days,
                args.notes,
            )
        except ValueError as e:
            raise UsageError(str(e)) from e
    sys.stdout.write(write_record(record, before) or "no change\n")
    return 0


def write_record(record: trust.TrustRecord, before: str) -> str:
    """Write `record` when it changed; the unified diff of the change."""
    after = trust.render(record)
    if after == before:
        return ""
    path = Path(record.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _emit(after, str(path))
    return _unified(before, after, str(path), str(path))


def record_path(lock: str) -> Path:
    """Where the trust record of `lock` lives: supply-chain/trust.toml beside it."""
    return Path(lock).resolve().parent / trust.DEFAULT_PATH


def _unified(before: str, after: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), old, new
    )
    return inert_lines("".join(lines))


def inert_lines(text: str) -> str:
    """Each line of `text` made inert, lines kept."""
    return "".join(inert(line, 2000) + "\n" for line in text.splitlines())


def _last_report_here(store: Store) -> dict[str, Any] | None:
    try:
        here = find_lockfile(Path.cwd())
    except UsageError:
        return None
    return store.last_report(str(here.resolve()))


def _progress_bar() -> Progress | None:
    """A rich bar on stderr, shown only once the scan has run for a second. Without a
    terminal (CI), only a resolution under way is told, a line every 15 seconds."""
    if not sys.stderr.isatty():
        return _ticker()
    from rich.console import Console
    from rich.progress import Progress as Bar

    started = time.monotonic()
    bar = Bar(transient=True, console=Console(stderr=True))  # stdout holds only the report
    task = bar.add_task("scanning", total=None)

    def update(done: int, total: int, name: str) -> None:
        if not bar.live.is_started and time.monotonic() - started > 1.0:
            bar.start()
        counted = total > 0  # 0: a resolution under way, not counted against a total
        bar.update(
            task, completed=done, total=total if counted else None, description=inert(name, 60)
        )
        if counted and done == total and bar.live.is_started:
            bar.stop()

    return update


def _ticker() -> Progress:
    said = time.monotonic()

    def update(done: int, total: int, name: str) -> None:
        nonlocal said
        if total == 0 and time.monotonic() - said >= 15.0:
            said = time.monotonic()
            print(f"trustscan: {inert(name, 120)}", file=sys.stderr)

    return update


def _cutoff(text: str | None) -> datetime | None:
    """--exclude-newer as an aware datetime (a date means its first instant, UTC)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        raise UsageError(f"--exclude-newer: not a date or time: {text!r}") from e
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _selected(
    args: argparse.Namespace,
) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """--groups and --extras as sets of names; None where not given (not narrowed)."""

    def names(text: str | None) -> frozenset[str] | None:
        return None if text is None else frozenset(n.strip() for n in text.split(",") if n.strip())

    return names(args.groups), names(args.extras)


def check_output(output: str) -> Path:
    """Refuse, before any work, an output path that is not a place for a report: a
    missing directory, or an existing file that is not regular or is a symlink (as root,
    replacing `/dev/null` with a report broke a machine)."""
    target = Path(output)
    if not target.absolute().parent.is_dir():
        raise UsageError(f"-o {output}: directory {target.absolute().parent} does not exist")
    try:
        info = target.lstat()
    except FileNotFoundError:
        return target
    except OSError as e:
        raise UsageError(f"-o {output}: {e.strerror}") from e
    if stat.S_ISLNK(info.st_mode):
        raise UsageError(f"-o {output}: is a symlink; name the file itself")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"-o {output}: not a regular file; reports are written to files")
    return target


def _emit(text: str, output: str | None) -> None:
    """Write the report to stdout, or to `output` atomically once complete, with the
    mode a new file gets under the umask (mkstemp's is 0600)."""
    if output is None:
        sys.stdout.write(text)
        return
    target = check_output(output)
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        fd, temporary = tempfile.mkstemp(dir=target.absolute().parent, prefix=f".{target.name}.")
    except OSError as e:
        raise UsageError(f"-o {output}: {e.strerror}") from e
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(temporary).chmod(0o666 & ~umask)
        Path(temporary).replace(target)
    except OSError as e:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"-o {output}: {e.strerror or e}") from e
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def summary_line(result: ScanResult) -> str:
    """One line on stderr: counts, the verdict and, when it could not evaluate, what."""
    c = summary_counts(result)
    line = (
        f"trustscan: {c['packages']} packages, {c['evaluated']} evaluated, "
        f"{c['not_evaluated']} not evaluated, {c['with_findings']} with findings; "
        f"provenance of {c['files_provenance_verified']} files verified, "
        f"{c['files_provenance_invalid']} invalid, {c['files_provenance_none']} none, "
        f"{c['files_provenance_unknown']} unknown; vulnerabilities unknown for "
        f"{c['vulnerabilities_unknown']}; verdict: {result.verdict.label} "
        f"(exit {result.verdict.exit_code}) in {result.seconds:.1f} s"
    )
    if result.verdict.exit_code == 3:
        line += f" -- {unevaluated_summary(result.verdict.reasons)}"
    return line


def unevaluated_summary(reasons: Sequence[str]) -> str:
    """What kept the gate from evaluating, counted, with what to do about it."""
    unknown: dict[str, int] = {}
    causes: Counter[str] = Counter()
    for reason in reasons:
        if ": not evaluated (" in reason:
            causes[_cause(reason.split(": not evaluated (", 1)[1].removesuffix(")"))] += 1
        elif match := _UNKNOWN.search(reason):
            unknown[match.group(1)] = unknown.get(match.group(1), 0) + 1
    not_evaluated = sum(causes.values())
    parts = []
    if not_evaluated:
        named = ", ".join(f"{n} {cause}" for cause, n in causes.most_common(3))
        more = " ..." if len(causes) > 3 else ""
        parts.append(
            f"{not_evaluated} package{'s' * (not_evaluated != 1)} not evaluated ({named}{more})"
        )
    parts += [f"{family} unknown for {n}" for family, n in unknown.items()]
    hints = []
    if "vulnerabilities" in unknown:
        hints.append("no advisory source answered: give one with --advisory-db PATH")
    if any(c.startswith("locked from another index") for c in causes):
        hints.append("--ignore-lock-index looks them up on --index-url instead")
    if not_evaluated:
        hints.append("--format json or `trustscan explain NAME` says why for each")
    if not parts:
        parts = [r for r in reasons[:1]] or ["nothing in the input applies"]
    return "could not evaluate: " + ", ".join(parts) + ("; " + "; ".join(hints) if hints else "")


_UNKNOWN = re.compile(r": (\w+) unknown \(")


def _cause(reason: str) -> str:
    """A not-evaluated reason's first clause, with URLs cut to their host: what many
    packages share ('locked from another index (packages.example.com)')."""
    first = reason.split("; ", 1)[0].split(": ", 1)[0]
    return _URL.sub(lambda m: urlsplit(m.group(0)).hostname or "…", first)[:120]


_URL = re.compile(r"https?://[^\s);]+")
