"""Resolve unpinned requirements (pyproject.toml, loose requirements) with resolvelib.

Candidates come from the index's Simple API; dependencies from core metadata
(PEP 658, wheel range reads, or an sdist's PKG-INFO), read as data. Nothing is
built: an sdist whose dependencies are dynamic is resolved without them and
reported as "metadata unavailable".

Honours requires-python, markers, extras, yanked releases (PEP 592: only an
exact `==` pin selects one), pre-releases (off unless asked or pinned), and an
upload-time cutoff (`exclude_newer`) that makes a resolution reproducible.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib import AbstractProvider, BaseReporter, Resolver
from resolvelib.resolvers import ResolutionImpossible, ResolutionTooDeep

from scanner.errors import TrustscanError
from scanner.models import (
    CoreMetadata,
    Diagnostic,
    DistFile,
    Lock,
    LockedPackage,
    Missing,
    ProjectFiles,
)
from scanner.resolve import describe_environment, marker_applies


class MetadataSource(Protocol):
    """What the resolver needs from an index (the registry provides it)."""

    def files(self, name: NormalizedName) -> ProjectFiles | Missing: ...

    def metadata(self, file: DistFile) -> CoreMetadata | None: ...


class ResolutionError(TrustscanError):
    exit_code = 3


@dataclass(frozen=True, slots=True)
class Candidate:
    name: NormalizedName
    version: Version
    extras: frozenset[str]
    files: tuple[DistFile, ...]

    @property
    def identifier(self) -> str:
        return _identifier(self.name, self.extras)


@dataclass(frozen=True, slots=True)
class ResolverOptions:
    environment: Mapping[str, str]  # a full one: a resolver picks for one interpreter
    exclude_newer: datetime | None = None
    prereleases: bool = False
    python_named: bool = True  # False: the input's markers may choose the Python
    budget: float = 300.0  # seconds a resolution may take before it stops with an error
    deadline: float | None = None  # time.monotonic() the budget runs out (set when it starts)
    progress: Callable[[int, float], None] | None = None  # (candidates tried, seconds)


def _identifier(name: str, extras: Iterable[str]) -> str:
    extras = sorted(extras)
    return f"{name}[{','.join(extras)}]" if extras else name


@dataclass
class _Provider(AbstractProvider[Requirement, Candidate, str]):
    source: MetadataSource
    options: ResolverOptions
    notes: list[str] = field(default_factory=list)
    _releases_of: dict[str, dict[Version, list[DistFile]]] = field(default_factory=dict)
    _deps: dict[tuple[str, Version], tuple[str, ...] | None] = field(default_factory=dict)
    rounds: int = 0  # candidates tried, for progress and the bound

    def identify(self, requirement_or_candidate: Requirement | Candidate) -> str:
        if isinstance(requirement_or_candidate, Candidate):
            return requirement_or_candidate.identifier
        r = requirement_or_candidate
        return _identifier(canonicalize_name(r.name), (canonicalize_name(e) for e in r.extras))

    def get_preference(
        self,
        identifier: str,
        resolutions: Any,
        candidates: Any,
        information: Any,
        backtrack_causes: Any,
    ) -> Any:
        """As pip orders them: pinned requirements first, then those named in the last
        conflict (backtracking on them is what resolves it), then bounded ones."""
        specifiers = [s for info in information[identifier] for s in info.requirement.specifier]
        pinned = any(s.operator in ("==", "===") for s in specifiers)
        upper = any(s.operator in ("<", "<=", "~=") for s in specifiers)
        return (not pinned, identifier not in self._causes(backtrack_causes), not upper, identifier)

    def narrow_requirement_selection(
        self,
        identifiers: Any,
        resolutions: Any,
        candidates: Any,
        information: Any,
        backtrack_causes: Any,
    ) -> Any:
        """After a conflict, work on what caused it first (resolvelib 1.1+, as pip does)."""
        causes = self._causes(backtrack_causes)
        if causes:
            found = [i for i in identifiers if i in causes]
            if found:
                return found
        return identifiers

    def _causes(self, backtrack_causes: Any) -> set[str]:
        found = set()
        for cause in backtrack_causes:
            found.add(self.identify(cause.requirement))
            if cause.parent is not None:
                found.add(cause.parent.identifier)
        return found

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Requirement]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> list[Candidate]:
        wanted = list(requirements[identifier])
        name = canonicalize_name(wanted[0].name)
        extras = frozenset(canonicalize_name(e) for r in wanted for e in r.extras)
        bad = {c.version for c in incompatibilities[identifier]}
        specifier = SpecifierSet()
        for requirement in wanted:
            specifier &= requirement.specifier
        exact = {
            Version(s.version) for s in specifier if s.operator == "==" and "*" not in s.version
        }
        found = []
        for version, files in self._releases(name).items():
            if version in bad:
                continue
            allow_pre = self.options.prereleases or bool(exact) or None
            if not specifier.contains(version, prereleases=allow_pre):
                continue
            if version.is_prerelease and not allow_pre and not _pre_in(specifier):
                continue
            usable = [f for f in files if not f.yanked or version in exact]
            if usable:
                found.append(Candidate(name, version, extras, tuple(usable)))
        return sorted(found, key=lambda c: c.version, reverse=True)

    def is_satisfied_by(self, requirement: Requirement, candidate: Candidate) -> bool:
        return canonicalize_name(
            requirement.name
        ) == candidate.name and requirement.specifier.contains(candidate.version, prereleases=True)

    def get_dependencies(self, candidate: Candidate) -> list[Requirement]:
        env = self.options.environment
        deps = []
        if candidate.extras:  # `a[x]` is `a` plus what x adds
            deps.append(Requirement(f"{candidate.name}=={candidate.version}"))
        for line in self._requires(candidate) or ():
            try:
                requirement = Requirement(line)
            except ValueError:
                self.notes.append(f"{candidate.name} {candidate.version}: bad requirement {line!r}")
                continue
            marker = str(requirement.marker) if requirement.marker else None
            if marker_applies(marker, env, sorted(candidate.extras)):
                requirement.marker = None
                deps.append(requirement)
        return deps

    def _releases(self, name: NormalizedName) -> dict[Version, list[DistFile]]:
        """A project's releases this resolution may pick from, read and filtered once: the
        resolver asks for them on every backtrack (boto3 has thousands of files)."""
        found = self._releases_of.get(name)
        if found is None:
            found = self._releases_of[name] = self._read_releases(name)
        return found

    def _read_releases(self, name: NormalizedName) -> dict[Version, list[DistFile]]:
        page = self.source.files(name)
        if isinstance(page, Missing):
            return {}
        cutoff = self.options.exclude_newer
        python = Version(self.options.environment["python_full_version"])
        releases: dict[Version, list[DistFile]] = {}
        for file in page.files:
            if file.version is None:
                continue
            if cutoff is not None and (file.upload_time is None or file.upload_time > cutoff):
                continue
            if file.requires_python and not _python_allowed(file.requires_python, python):
                continue
            releases.setdefault(file.version, []).append(file)
        return releases

    def _requires(self, candidate: Candidate) -> tuple[str, ...] | None:
        key = (candidate.name, candidate.version)
        if key not in self._deps:
            chosen = min(candidate.files, key=lambda f: (not f.is_wheel, f.filename))
            metadata = self.source.metadata(chosen)
            if metadata is None or not metadata.dependencies_known:
                self.notes.append(
                    f"{candidate.name} {candidate.version}: metadata unavailable "
                    "(dependencies not resolved; nothing was built)"
                )
                self._deps[key] = None
            else:
                self._deps[key] = metadata.requires_dist
        return self._deps[key]


@functools.lru_cache(maxsize=4096)
def _python_allowed(requires_python: str, python: Version) -> bool:
    try:
        return SpecifierSet(requires_python).contains(python, prereleases=True)
    except ValueError:
        return True  # an unreadable Requires-Python does not hide a release


def _pre_in(specifier: SpecifierSet) -> bool:
    return any(
        Version(s.version.rstrip(".*")).is_prerelease for s in specifier if s.version[0].isdigit()
    )


class ResolutionTimeout(ResolutionError):
    """The resolution ran past its budget: nothing more is tried."""


class _Reporter(BaseReporter):  # type: ignore[type-arg]
    """Counts the candidates tried, says so every few seconds, and stops a resolution
    that runs past its budget with an error that says what to do."""

    def __init__(self, options: ResolverOptions, started: float) -> None:
        self.options = options
        self.started = started
        self.tried = 0
        self.said = started

    def pinning(self, candidate: Any) -> None:
        self.tried += 1
        now = time.monotonic()
        if self.options.progress is not None and now - self.said >= 2.0:
            self.said = now
            self.options.progress(self.tried, now - self.started)
        if self.options.deadline is not None and now > self.options.deadline:
            raise ResolutionTimeout(
                f"resolution did not finish within {self.options.budget:.0f} s "
                f"({self.tried} candidates tried); pin the input (uv pip compile, pip-compile) "
                "or narrow it (--exclude-newer, fewer extras)"
            )


def resolve(
    requirements: Sequence[Requirement], source: MetadataSource, options: ResolverOptions
) -> tuple[dict[NormalizedName, Candidate], list[str]]:
    """Pin `requirements` and everything they need; (pins, notes)."""
    provider = _Provider(source, options)
    applicable = [
        r
        for r in requirements
        if marker_applies(str(r.marker) if r.marker else None, options.environment)
    ]
    try:
        reporter = _Reporter(options, time.monotonic())
        result = Resolver(provider, reporter).resolve(applicable, max_rounds=20000)
    except ResolutionImpossible as e:
        causes = "; ".join(
            f"{c.requirement} (from {c.parent.name if c.parent else 'the input'})"
            for c in list(e.causes)[:5]
        )
        raise ResolutionError(f"no versions satisfy: {causes}") from e
    except ResolutionTooDeep as e:
        raise ResolutionError("resolution did not finish (too many rounds)") from e
    pins = {c.name: c for c in result.mapping.values() if not c.extras}
    return pins, provider.notes


PYTHONS = ("3.14", "3.13", "3.12", "3.11", "3.10", "3.9", "3.8")


def _environment_for(
    requirements: Sequence[Requirement], options: ResolverOptions
) -> tuple[ResolverOptions, list[str]]:
    """`options`, with the Python most `requirements` apply to when none was named and
    fewer than 90 % apply to the given one (ties keep it); and a note when changed."""
    if options.python_named:
        return options, []

    def fits(env: Mapping[str, str]) -> int:
        return sum(marker_applies(str(r.marker) if r.marker else None, env) for r in requirements)

    best, best_fit = options.environment, fits(options.environment)
    if best_fit >= 0.9 * len(requirements):
        return options, []  # this interpreter will do: the notes name what it leaves out
    for python in PYTHONS:
        env = {
            **options.environment,
            "python_version": python,
            "python_full_version": f"{python}.0",
        }
        if fits(env) > best_fit:
            best, best_fit = env, fits(env)
    if best is options.environment:
        return options, []
    note = (
        f"resolved for Python {best['python_full_version']}, the one the input's markers "
        f"name for the most requirements ({best_fit} of {len(requirements)}); "
        "see --python-version"
    )
    return replace(options, environment=best), [note]


def _requirement(package: LockedPackage) -> Requirement:
    if package.requirement:
        return Requirement(package.requirement)
    extras = f"[{','.join(sorted(package.extras))}]" if package.extras else ""
    pin = f"=={package.version}" if package.version is not None else ""
    return Requirement(f"{package.name}{extras}{pin}")


def resolve_lock(
    lock: Lock, source: MetadataSource, options: ResolverOptions, packages: Sequence[LockedPackage]
) -> Lock:
    """A pinned Lock from the unpinned `packages` of `lock` (already selected).

    A resolver picks one release per name for one interpreter. Unless the user named
    the Python, it is the one the most requirements apply to (a file whose every line
    says `python_version >= "3.12"` is resolved for 3.12, not for this interpreter);
    requirements that do not apply to it are named in the notes."""
    from_index = [p for p in packages if p.source.from_index]
    requirements = [_requirement(p) for p in from_index]
    options, chosen = _environment_for(requirements, options)
    options = replace(options, deadline=time.monotonic() + options.budget)
    left_out = [
        p.name
        for p, r in zip(from_index, requirements, strict=True)
        if not marker_applies(str(r.marker) if r.marker else None, options.environment)
    ]
    unresolved: list[LockedPackage] = []
    try:
        pins, notes = resolve(requirements, source, options)
    except ResolutionTimeout as e:
        # Out of time: every entry stays as the input wrote it (a pin keeps its version,
        # its dependencies unknown; the rest is not evaluated); the note says what to do.
        pins, notes, unresolved = {}, [str(e)], list(from_index)
    except ResolutionError as e:
        # One bad requirement must not sink the scan: keep what is pinned, resolve the
        # rest one by one, and leave what cannot be resolved listed (not evaluated).
        pins, notes = {}, [f"joint resolution failed ({e}); each requirement resolved alone"]
        for package, requirement in zip(from_index, requirements, strict=True):
            try:
                found, more = resolve([requirement], source, options)
            except ResolutionTimeout as out:
                notes.append(str(out))
                unresolved.append(package)
                continue
            except ResolutionError as alone:
                notes.append(f"{package.name}: {alone}")
                unresolved.append(package)
                continue
            notes += more
            for name, candidate in found.items():
                pins.setdefault(name, candidate)
    return _resolved(lock, options, pins, [*chosen, *notes], left_out, packages, unresolved)


def _resolved(
    lock: Lock,
    options: ResolverOptions,
    pins: Mapping[NormalizedName, Candidate],
    notes: Sequence[str],
    left_out: Sequence[str],
    packages: Sequence[LockedPackage],
    unresolved: Sequence[LockedPackage],
) -> Lock:
    """The resolved Lock: the pins, then what was not resolved (kept as the input wrote
    it), with notes saying why."""
    given = {p.name: p for p in packages}
    pinned = [
        LockedPackage(
            name=c.name,
            version=c.version,
            hashes=frozenset(f"sha256:{f.sha256}" for f in c.files if f.sha256),
            # where the input names it (its own line, even in an include), else the input
            file=given[c.name].file if c.name in given else lock.path,
            line=given[c.name].line if c.name in given else None,
            direct=c.name in given,
            written=given[c.name].written if c.name in given else "",
        )
        for c in sorted(pins.values(), key=lambda c: c.name)
    ]
    others = [p for p in packages if not p.source.from_index] + [
        p for p in unresolved if p.name not in pins
    ]
    cutoff = options.exclude_newer.isoformat() if options.exclude_newer else "none"
    said = [
        f"resolved {len(pins)} packages for {describe_environment(options.environment)} "
        f"(upload cutoff: {cutoff})",
        *notes,
    ]
    if left_out:
        said.append(
            f"{len(left_out)} requirements do not apply to the environment resolved for "
            f"and were not scanned: {', '.join(sorted(left_out)[:20])}"
            + (" ..." if len(left_out) > 20 else "")
            + "; pass --python-version/--platform to resolve for another"
        )
    return Lock(
        path=lock.path,
        format=f"{lock.format} (resolved)",
        packages=tuple(pinned + others),
        notes=lock.notes + tuple(Diagnostic(lock.path, None, text) for text in said),
        has_direct_info=True,
        resolved_for=dict(options.environment),
    )
