"""Wire the pieces: Lock -> evidence -> graph -> findings -> scores -> verdict.

`run(options, progress)` is `trustscan scan` for the CLI and the TUI alike: it
reads the input, opens the store and the client, scans and records. `scan()` is
the part that fetches (the only place that runs fetches concurrently). Progress is
reported through a callback so the CLI can draw a bar and the TUI post messages.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from packaging.utils import NormalizedName

from scanner import gitref, refdata, trust
from scanner.allocator import return_large_blocks
from scanner.baseline import diff_locks
from scanner.errors import InputError, UsageError
from scanner.evaluate import evaluate
from scanner.lockfiles import confined_reader, load_lock, parse_lock
from scanner.lockfiles.environment import parse_environment, site_packages
from scanner.models import (
    BaselineDiff,
    Evidence,
    Lock,
    LockedPackage,
    OwnershipObservation,
    ScanResult,
    SourceKind,
)
from scanner.names import lookalikes
from scanner.options import ScanOptions
from scanner.policy import Policy, find_policy, load_policy, policy_from_text, weakening
from scanner.registry import ClientConfig, HttpClient
from scanner.registry.advisories import DEFAULT_OSV, OsvSource, PyPIJsonSource
from scanner.registry.evidence import IndexMetadata, collect_evidence
from scanner.registry.http import NeedsNetwork, cache_only, private_hosts_of
from scanner.registry.index import Index
from scanner.report.json import document
from scanner.resolve import describe_environment, marker_environment, target_environment
from scanner.resolver import ResolverOptions, resolve_lock
from scanner.selection import Scope, Selection, select
from scanner.signals import CATALOG, SignalContext
from scanner.signals.names import TYPOSQUAT
from scanner.store import Store
from scanner.trust import TrustRecord
from scanner.vulns import OsvDatabase
from scanner.vulns.interface import VulnerabilitySource

Progress = Callable[[int, int, str], None]  # done, total, package just finished


class Cancelled(KeyboardInterrupt):
    """The caller asked the scan to stop (the TUI's Esc): what was not fetched is dropped."""


def scan(
    lock: Lock,
    index: Index,
    policy: Policy | None = None,
    *,
    jobs: int = 8,
    progress: Progress | None = None,
    context: SignalContext | None = None,
    vuln_sources: Sequence[VulnerabilitySource] = (),
    baseline: BaselineDiff | None = None,
    scope: Scope | None = None,
    resolver: ResolverOptions | None = None,
    history: Callable[[str], OwnershipObservation | None] | None = None,
    lock_indexes: bool = True,
    record: TrustRecord | None = None,
    inventory: bool = True,
    cancelled: threading.Event | None = None,
) -> ScanResult:
    """Fetch the evidence for every package of `lock` that `scope` covers (by default
    every package it pins), then evaluate it.

    With `resolver`, unpinned requirements are first resolved against the index, for
    the resolver's one environment; without, they are listed as not evaluated. A package
    the lock says comes from another index is looked up on that index (`lock_indexes`),
    else on `index`.
    """
    started_at = datetime.now(UTC)
    started = time.monotonic()
    scope = scope or Scope()
    selection = select(lock, scope)
    _check_not_empty(lock, scope, selection)
    scope_notes = [scope.describe(lock)]
    unpinned = [p for p in selection.packages if p.version is None and p.source.from_index]
    # pyproject.toml names only direct dependencies, pinned or not: always resolve it.
    if resolver is not None and (unpinned or lock.format == "pyproject.toml"):
        if scope.wanted(lock) is None and lock.groups:
            # Nothing pins the groups and extras of an unpinned input, and resolving them
            # all at once asks for one release of every name that satisfies them all
            # (extras that conflict never resolve): production, as an install gets it.
            scope = Scope(frozenset(), frozenset(), scope.env)
            selection = select(lock, scope)
            scope_notes = [
                "covered: production, for one environment (an unpinned input is resolved "
                "as one install gets it; the next notes say for which); name groups or "
                f"extras to add ({', '.join(lock.groups)}) with --groups and --extras"
            ]
        lock = resolve_lock(lock, IndexMetadata(index), resolver, selection.packages)
        selection = select(lock)  # pinned for one environment now: the notes say which
    pinned = [
        (p.name, p.version)
        for p in selection.packages
        if p.version is not None and p.source.from_index
    ]
    for source in vuln_sources:  # batch sources ask for everything at once, here
        source.prefetch(pinned)
    router = IndexRouter(index, lock_indexes)
    evidence = _collect(router, selection, vuln_sources, jobs, progress, inventory, cancelled)
    if history is not None:
        evidence = {
            k: replace(e, previous_owners=history(e.package.name)) for k, e in evidence.items()
        }
    if context is None:
        policy_thresholds = dict(policy.thresholds) if policy else {}
        context = SignalContext(
            now=started_at,
            thresholds=policy_thresholds,
            reference=refdata.load(),
            record=record,
            require_record=policy.require_record if policy else False,
        )
    # a resolved input was pinned for one environment: its graph is that environment's
    env = lock.resolved_for if lock.resolved_for is not None else scope.env
    result = evaluate(lock, selection, evidence, env, policy, context, baseline)
    sources = tuple(f"vulnerability source {s.describe()}" for s in vuln_sources)
    return replace(
        result,
        notes=tuple(scope_notes) + result.notes + sources,
        index_url=index.base,
        started_at=started_at,
        seconds=time.monotonic() - started,
        evidence=evidence,
    )


def _check_not_empty(lock: Lock, scope: Scope, selection: Selection) -> None:
    """A scan in which nothing applies is an input error that says why and what to
    pass, never a quiet pass or 'not evaluated'. (A lock that pins nothing, such as a
    project with no dependencies, simply passes.)"""
    if selection.packages or not lock.packages:
        return
    if lock.members and all(p.name in lock.members for p in lock.packages):
        return  # only the project itself: nothing to depend on
    why = []
    if selection.skipped:
        why.append(
            f"none of its {selection.skipped} entries applies to {describe_environment(scope.env)}"
        )
    wanted = scope.wanted(lock)
    if wanted is not None:
        why.append(
            "every entry is in a group or extra not selected ("
            + (", ".join(sorted(lock.groups)) or "-")
            + ")"
        )
    raise InputError.single(
        lock.path,
        None,
        "; ".join(why or ["nothing to scan"])
        + f"; {scope.describe(lock)}. Drop --production/--groups/--extras/"
        "--python-version/--platform, or name what applies",
    )


class IndexRouter:
    """The index each package is looked up on: the one scanned, or the other index
    the lock names for it (one `Index` per such URL, sharing the client)."""

    def __init__(self, scanned: Index, lock_indexes: bool) -> None:
        self.scanned = scanned
        self.lock_indexes = lock_indexes
        self._others: dict[str, Index] = {}

    def __call__(self, package: LockedPackage) -> Index:
        location = package.source.location
        if not self.lock_indexes or package.source.kind is not SourceKind.OTHER_INDEX:
            return self.scanned
        if not location:
            return self.scanned
        if location not in self._others:
            self._others[location] = Index(self.scanned.client, location, scanned=False)
        return self._others[location]


LOOKALIKES_FETCHED = 3  # a name resembling more popular ones is a squat either way


def resembles(package: LockedPackage) -> list[tuple[NormalizedName, int]]:
    """The popular projects (data/top-pypi-packages.tsv) `package`'s name is one step
    from, most popular first: whose owners the typosquat signal needs to see."""
    popular = refdata.load().popular
    if package.name in popular or len(package.name) < TYPOSQUAT.thresholds["min_length"]:
        return []
    found = lookalikes(package.name, popular, len(popular))
    return [(m.target, m.rank) for m in found[:LOOKALIKES_FETCHED]]


def _collect(
    index_for: Callable[[LockedPackage], Index],
    selection: Selection,
    vuln_sources: Sequence[VulnerabilitySource],
    jobs: int,
    progress: Progress | None,
    inventory: bool = True,
    cancelled: threading.Event | None = None,
) -> dict[str, Evidence]:
    """Evidence for every package: first from the cache alone, in this thread (for a
    rescan that is all of it, and threads would only take turns at the GIL), then
    what needs the network, `jobs` at a time."""
    packages = selection.packages
    results: dict[str, Evidence] = {}
    pending: list[LockedPackage] = []

    def done(item: Evidence) -> None:
        results[selection.key(item.package)] = item
        if progress is not None:
            progress(len(results), len(packages), selection.key(item.package))

    with cache_only():
        for package in packages:
            try:
                done(
                    collect_evidence(
                        index_for(package), package, vuln_sources, inventory, resembles
                    )
                )
            except NeedsNetwork:
                pending.append(package)
    if pending:
        return_large_blocks()
        pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        try:
            waiting = {
                pool.submit(collect_evidence, index_for(p), p, vuln_sources, inventory, resembles)
                for p in pending
            }
            while waiting:
                finished, waiting = wait(waiting, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in finished:
                    done(future.result())
                if cancelled is not None and cancelled.is_set():
                    raise Cancelled("the scan was cancelled")
        except BaseException:  # Ctrl-C, a cancelled TUI scan: drop what has not started
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
    return results


def run(
    options: ScanOptions,
    progress: Progress | None = None,
    cancelled: threading.Event | None = None,
) -> tuple[ScanResult, int]:
    """Scan as `options` say, and record the scan in the store: (result, scan id)."""
    if options.environment:
        lock = parse_environment(site_packages(options.path), options.path)
    else:
        lock = load_lock(options.path, options.input_format, include_root=options.include_root)
    try:
        scope = Scope.of(
            options.groups,
            options.extras,
            marker_environment(options.python_version, options.platform),
            options.production,
        )
        env = target_environment(options.python_version, options.platform)
    except ValueError as e:
        raise UsageError(str(e)) from e
    if options.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    policy = _policy(options, Path(options.path).resolve().parent)
    baseline = _baseline(options, lock, scope)
    sources: list[VulnerabilitySource] = []
    if options.advisory_db:
        sources.append(OsvDatabase.load(options.advisory_db))
    store = Store(options.store)
    client = HttpClient(
        ClientConfig(
            jobs=options.jobs,
            offline=options.offline,
            retries=max(0, options.retries),
            ttl=options.ttl,
            connect_timeout=min(10.0, options.timeout),
            read_timeout=options.timeout,
            max_page_bytes=int(options.max_page_mb * 1024 * 1024),
            deadline=None if options.deadline is None else time.monotonic() + options.deadline,
            refresh=options.refresh,
        ),
        cache=store,
    )
    index = Index(client, options.index_url)
    if options.live_advisories:
        sources += _live_sources(options, client)
    try:
        result = scan(
            lock,
            index,
            policy,
            jobs=options.jobs,
            progress=progress,
            vuln_sources=sources,
            baseline=baseline,
            scope=scope,
            resolver=ResolverOptions(
                env,
                options.exclude_newer,
                options.pre,
                python_named=bool(options.python_version),
                progress=_resolving(progress),
            )
            if options.resolve
            else None,
            history=store.first_observation,
            lock_indexes=options.lock_indexes,
            record=_trust_record(options, policy, client),
            inventory=options.inventory,
            cancelled=cancelled,
        )
        weakened = _weakened_policy(options, policy)
        if weakened:  # reported where the verdict is read, whatever the verdict
            verdict = replace(result.verdict, reasons=result.verdict.reasons + weakened)
            result = replace(result, verdict=verdict)
        scan_id = _record(store, result, options)
        if options.request_log:
            _write_request_log(client, options.request_log)
    finally:
        client.close()
        store.close()
    return result, scan_id


def _trust_record(options: ScanOptions, policy: Policy, client: HttpClient) -> TrustRecord | None:
    """The committed trust record: --trust FILE, the policy's `trust-record`, else
    supply-chain/trust.toml beside the lockfile, when there is one; with its imports."""
    lock_dir = Path(options.path).resolve().parent
    named = options.trust or policy.trust_record
    if named:
        path = Path(named) if Path(named).is_absolute() or options.trust else lock_dir / named
        if not path.is_file():
            raise UsageError(f"trust record {named} not found")
    else:
        path = lock_dir / trust.DEFAULT_PATH
        if not path.is_file():
            return None
    read = confined_reader(options.path, options.include_root)
    record = trust.parse(read(str(path)), str(path))
    for item in record.imports:
        if item.source.startswith(("https://", "http://")):
            response = client.get(item.source, max_bytes=trust.MAX_IMPORT)
            if response.status != 200:
                raise InputError.single(
                    str(path), None, f"import {item.source}: HTTP {response.status}"
                )
            text = response.body.decode("utf-8", "replace")
        else:
            text = read(str(path.parent / item.source))
        if trust.digest(text) != item.sha256:
            raise InputError.single(
                str(path),
                None,
                f"import {item.source}: sha256 {trust.digest(text)} is not the reviewed "
                f"{item.sha256}; review the change and update the pin",
            )
        record = record.merged(trust.parse(text, item.source))
    return record


def _live_sources(options: ScanOptions, client: HttpClient) -> list[VulnerabilitySource]:
    """OSV and the index's per-release JSON, at the URLs the user chose. A URL named
    by the user (not by an index) may be on a private address, like --index-url."""
    for chosen in (options.osv_url, options.pypi_json_url):
        if chosen:
            client.private_hosts |= private_hosts_of(chosen)
    return [
        OsvSource(client, options.osv_url or DEFAULT_OSV, options.ttl),
        PyPIJsonSource(client, options.pypi_json_url or options.index_url),
    ]


def _resolving(progress: Progress | None) -> Callable[[int, float], None] | None:
    """The scan's progress, told of a resolution under way (total 0: not counted)."""
    if progress is None:
        return None
    return lambda tried, seconds: progress(
        tried, 0, f"resolving: {tried} candidates tried in {seconds:.0f} s"
    )


def _policy(options: ScanOptions, lock_dir: Path) -> Policy:
    """The policy file (named, or found beside the lock or here), then the overrides."""
    known = {s.id: s.thresholds for s in CATALOG}
    path = (
        Path(options.policy) if options.policy else find_policy(lock_dir) or find_policy(Path.cwd())
    )
    if options.policy and not Path(options.policy).is_file():
        raise UsageError(f"--policy: {options.policy} not found")
    policy = load_policy(path, known) if path is not None else Policy()
    if options.fail_on is not None:
        policy = replace(policy, fail_on=options.fail_on)
    if options.fail_under is not None:
        policy = replace(policy, fail_under=options.fail_under)
    if options.allow_unevaluated:
        policy = replace(policy, allow_unevaluated=True)
    if options.require_attestations:
        policy = replace(policy, require_attestations=True)
    return policy


def _baseline(options: ScanOptions, lock: Lock, scope: Scope) -> BaselineDiff | None:
    if options.baseline:
        baseline = load_lock(options.baseline, include_root=options.include_root)
        return diff_locks(baseline, lock, scope)
    if options.baseline_ref:
        text = gitref.read_at(Path(options.path), options.baseline_ref)
        if text is None:
            raise UsageError(
                f"--baseline-ref: {options.path} does not exist at {options.baseline_ref}"
            )
        at_ref = parse_lock(text, f"{options.path}@{options.baseline_ref}")
        return diff_locks(at_ref, lock, scope)
    return None


def _weakened_policy(options: ScanOptions, policy: Policy) -> tuple[str, ...]:
    """With --baseline-ref: how the policy file of this change is weaker than the one
    at the ref (the policy file is part of the pull request, like the lock)."""
    ref = options.baseline_ref
    if not ref or policy.source is None:
        return ()
    text = gitref.read_at(Path(policy.source), ref)
    known = {s.id: s.thresholds for s in CATALOG}
    base = policy_from_text(text, f"{policy.source}@{ref}", known) if text else Policy()
    head = load_policy(Path(policy.source), known)
    defaults = {s.id: s.severity for s in CATALOG}
    return tuple(
        f"policy {policy.source} is weaker than at {ref}: {change}"
        for change in weakening(base, head, defaults)
    )


def _record(store: Store, result: ScanResult, options: ScanOptions) -> int:
    kept = {
        "index_url": result.index_url,
        "offline": options.offline,
        "python_version": result.environment.get("python_full_version"),
        "platform": result.environment.get("sys_platform"),
    }
    path = Path(options.path)
    return store.record_scan(
        {
            "started_at": result.started_at.isoformat(),
            "input": str(path.resolve()),
            "input_sha256": hashlib.sha256(path.read_bytes()).hexdigest()
            if path.is_file() and not options.environment
            else None,
            "format": result.format,
            "options": json.dumps(kept, sort_keys=True),
            "packages": len(result.packages),
            "exit_code": result.verdict.exit_code,
        },
        document(result),
        result,
        observe=not options.offline,  # cached answers are not a new observation
    )


def _write_request_log(client: HttpClient, path: str) -> None:
    lines = [
        json.dumps(
            {
                "url": r.url,
                "status": r.status,
                "bytes": r.bytes,
                "seconds": round(r.seconds, 4),
                "source": r.source,
                "range": r.byte_range,
            }
        )
        for r in client.log.records
    ]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
