"""requirements.txt as pip-compile and `uv pip compile` write it.

Handles pins, `--hash`, `# via` annotations (both layouts), `-r`/`-c` includes,
markers, extras and continuation lines. Editable, URL, VCS and path lines
become `not-from-index` packages; they are never dropped. Every bad line is
collected and reported together as `file:line: message`.

Reference: https://pip.pypa.io/en/stable/reference/requirements-file-format/
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from scanner.errors import InputError
from scanner.lockfiles.common import PUBLIC_INDEXES
from scanner.models import (
    INDEX_SOURCE,
    Diagnostic,
    Lock,
    LockedPackage,
    PackageSource,
    SourceKind,
)
from scanner.text import excerpt

Reader = Callable[[str], str]

_COMMENT = re.compile(r"(^|\s+)#.*$")
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_HASH = re.compile(r"^(sha256|sha384|sha512|md5|sha1|sha224|blake2b):([0-9a-fA-F]+)$")
# Options that take a value, and what we do with them.
_FILE_OPTIONS = {
    "-r": "requirement",
    "--requirement": "requirement",
    "-c": "constraint",
    "--constraint": "constraint",
}
_INDEX_OPTIONS = {"-i", "--index-url"}
_VALUE_OPTIONS_IGNORED = {
    "-f",
    "--find-links",
    "--trusted-host",
    "--only-binary",
    "--no-binary",
    "--use-feature",
    "--progress-bar",
    "--config-settings",
}
_FLAG_OPTIONS_IGNORED = {"--no-index", "--pre", "--prefer-binary", "--require-hashes"}
_PER_REQUIREMENT_IGNORED = {"--config-settings", "--global-option", "--install-option"}


@dataclass
class _State:
    """What parsing one file (and its includes) has gathered so far."""

    packages: list[LockedPackage] = field(default_factory=list)
    constraints: list[LockedPackage] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    notes: list[Diagnostic] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    via: dict[int, list[str]] = field(default_factory=dict)  # package index -> via items
    seen_files: set[str] = field(default_factory=set)


def parse_requirements(text: str, path: str, read: Reader | None = None) -> Lock:
    """Parse a requirements file. `read` loads `-r`/`-c` includes by path."""
    state = _State()
    _parse_file(text, path, read, state, constraint=False)
    if state.problems:
        raise InputError(state.problems)
    packages = state.packages
    if state.via:  # pip-compile annotated the file: direct means "via -r <input>"
        packages = [_with_direct(p, state.via.get(i, [])) for i, p in enumerate(packages)]
    packages = _apply_constraints(packages, state.constraints)
    if state.index_url and state.index_url.rstrip("/") not in PUBLIC_INDEXES:
        other = PackageSource(SourceKind.OTHER_INDEX, state.index_url)
        packages = [replace(p, source=other) if p.source == INDEX_SOURCE else p for p in packages]
    return Lock(
        path=path,
        format="requirements",
        packages=tuple(packages),
        index_url=state.index_url,
        extra_index_urls=tuple(dict.fromkeys(state.extra_index_urls)),
        notes=tuple(state.notes),
        has_direct_info=bool(state.via),
    )


def _parse_file(text: str, path: str, read: Reader | None, state: _State, constraint: bool) -> None:
    state.seen_files.add(posixpath.normpath(path))
    target = state.constraints if constraint else state.packages
    via_open: int | None = None  # package index whose multi-line "# via" block is open
    for lineno, line, comment in _logical_lines(text):
        if not line:
            via_open = _read_via(comment, target, state, via_open, constraint)
            continue
        via_open = None
        tokens = line.split()
        if tokens[0].startswith("-") and not tokens[0].startswith("--hash"):
            _option_line(tokens, path, lineno, read, state)
            continue
        package = _requirement_line(tokens, path, lineno, state)
        if package is not None:
            target.append(package)
            if comment:  # "pkg==1.0  # via other" on one line
                _read_via(comment, target, state, None, constraint)


def _logical_lines(text: str) -> Iterator[tuple[int, str, str]]:
    """(first line number, content without comment, comment) per logical line."""
    start: int | None = None
    parts: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if parts and stripped.startswith("#"):
            # A comment inside a continuation ends it (pip does the same).
            yield start or number, " ".join(parts), ""
            parts, start = [], None
        content = _COMMENT.sub("", raw)
        comment = raw[len(content) :].strip()
        if start is None:
            start = number
        if content.rstrip().endswith("\\"):
            parts.append(content.rstrip()[:-1].strip())
            continue
        parts.append(content.strip())
        yield start, " ".join(p for p in parts if p), comment
        parts, start = [], None
    if parts:
        yield start or 1, " ".join(p for p in parts if p), ""


def _read_via(
    comment: str,
    target: list[LockedPackage],
    state: _State,
    via_open: int | None,
    constraint: bool,
) -> int | None:
    """Follow pip-compile's `# via` annotations; return the open block, if any."""
    body = comment.lstrip("#").strip()
    if constraint or not target:
        return None
    last = len(target) - 1
    if body == "via":
        state.via.setdefault(last, [])
        return last
    if body.startswith("via "):
        state.via.setdefault(last, []).extend(i.strip() for i in body[4:].split(","))
        return None
    if via_open is not None and body:
        state.via.setdefault(via_open, []).append(body)
        return via_open
    return None


def _option_line(
    tokens: list[str], path: str, lineno: int, read: Reader | None, state: _State
) -> None:
    option, value = _split_option(tokens)
    if option in _FILE_OPTIONS:
        if not value:
            state.problems.append(Diagnostic(path, lineno, f"{option} needs a file name"))
            return
        _include(value, path, lineno, read, state, _FILE_OPTIONS[option] == "constraint")
    elif option in ("-e", "--editable"):
        if not value:
            state.problems.append(Diagnostic(path, lineno, f"{option} needs a path or URL"))
            return
        state.packages.append(_direct_reference(value, path, lineno, editable=True))
    elif option in _INDEX_OPTIONS:
        state.index_url = value
    elif option == "--extra-index-url":
        if not value:
            state.problems.append(Diagnostic(path, lineno, f"{option} needs a URL"))
            return
        state.extra_index_urls.append(value)
    elif option in _VALUE_OPTIONS_IGNORED or option in _FLAG_OPTIONS_IGNORED:
        return
    else:
        state.problems.append(Diagnostic(path, lineno, f"unknown option {excerpt(option)}"))


def _split_option(tokens: list[str]) -> tuple[str, str | None]:
    head = tokens[0]
    if "=" in head and head.startswith("--"):
        option, value = head.split("=", 1)
        return option, value
    if len(head) > 2 and head[1] != "-" and head[:2] in ("-r", "-c", "-e", "-i", "-f"):
        return head[:2], head[2:]  # "-rfile.txt"
    return head, " ".join(tokens[1:]) or None


def _include(
    name: str, path: str, lineno: int, read: Reader | None, state: _State, constraint: bool
) -> None:
    if name.startswith(("http://", "https://")):
        state.problems.append(
            Diagnostic(
                path, lineno, f"remote include {excerpt(name)} is not fetched; download it first"
            )
        )
        return
    included = posixpath.normpath(posixpath.join(posixpath.dirname(path), name))
    if included in state.seen_files:
        return  # already read: includes may repeat or loop
    if read is None:
        state.problems.append(
            Diagnostic(path, lineno, f"cannot read included file {excerpt(name)}")
        )
        return
    try:
        text = read(included)
    except (InputError, OSError) as e:  # refused or unreadable: say so at the including line
        if isinstance(e, InputError):
            reason = "; ".join(p.message for p in e.problems)
        else:
            reason = e.strerror or type(e).__name__
        state.problems.append(Diagnostic(path, lineno, f"cannot read {excerpt(name)}: {reason}"))
        return
    _parse_file(text, included, read, state, constraint)


def _requirement_line(
    tokens: list[str], path: str, lineno: int, state: _State
) -> LockedPackage | None:
    split = next((i for i, t in enumerate(tokens) if t.startswith("-")), len(tokens))
    spec_tokens, options = tokens[:split], tokens[split:]
    hashes: set[str] = set()
    i = 0
    while i < len(options):
        option, value = options[i], None
        if "=" in option:
            option, value = option.split("=", 1)
        elif i + 1 < len(options):
            value = options[i + 1]
            i += 1
        i += 1
        if option == "--hash":
            match = _HASH.match(value or "")
            if match is None:
                state.problems.append(Diagnostic(path, lineno, f"malformed hash {excerpt(value)}"))
            else:
                hashes.add(f"{match.group(1)}:{match.group(2).lower()}")
        elif option not in _PER_REQUIREMENT_IGNORED:
            state.problems.append(Diagnostic(path, lineno, f"unknown option {excerpt(option)}"))
    spec = " ".join(spec_tokens)
    if _looks_like_location(spec):
        return replace(_direct_reference(spec, path, lineno), hashes=frozenset(hashes))
    try:
        requirement = Requirement(spec)
    except InvalidRequirement as e:
        reason = str(e).splitlines()[0]  # packaging adds the text and a caret below
        state.problems.append(
            Diagnostic(path, lineno, f"invalid requirement {excerpt(spec)}: {reason}")
        )
        return None
    if requirement.url:
        return replace(
            _direct_reference(requirement.url, path, lineno, name=requirement.name),
            hashes=frozenset(hashes),
            marker=str(requirement.marker) if requirement.marker else None,
        )
    try:
        version = pinned_version(requirement)
    except InvalidVersion as e:
        state.problems.append(Diagnostic(path, lineno, f"invalid version in {excerpt(spec)}: {e}"))
        return None
    return LockedPackage(
        name=canonicalize_name(requirement.name),
        written=requirement.name,
        version=version,
        hashes=frozenset(hashes),
        extras=frozenset(canonicalize_name(e) for e in requirement.extras),
        marker=str(requirement.marker) if requirement.marker else None,
        line=lineno,
        file=path,
        requirement=None if version is not None else spec,
    )


def pinned_version(requirement: Requirement) -> Version | None:
    """The one version `requirement` allows, or None when it allows a range."""
    specifiers = list(requirement.specifier)
    if len(specifiers) != 1 or specifiers[0].operator not in ("==", "==="):
        return None
    if specifiers[0].version.endswith(".*"):
        return None
    return Version(specifiers[0].version)


def _looks_like_location(spec: str) -> bool:
    return (
        spec.startswith((".", "/", "~", "file:", "http://", "https://", *_VCS_PREFIXES))
        or spec.endswith((".whl", ".tar.gz", ".zip"))
    ) and "@" not in spec.split("/")[0]


def _direct_reference(
    location: str, path: str, lineno: int, editable: bool = False, name: str | None = None
) -> LockedPackage:
    """A package installed from a URL, VCS or path: nothing on an index vouches for it."""
    if location.startswith(_VCS_PREFIXES):
        kind = SourceKind.VCS
    elif location.startswith(("http://", "https://")):
        kind = SourceKind.URL
    else:
        kind = SourceKind.PATH
    return LockedPackage(
        name=canonicalize_name(name or _name_from_location(location)),
        version=None,
        source=PackageSource(kind, location),
        line=lineno,
        file=path,
        requirement=("-e " if editable else "") + location,
    )


def _name_from_location(location: str) -> NormalizedName:
    fragment = location.partition("#")[2]
    for part in fragment.split("&"):
        if part.startswith("egg="):
            return canonicalize_name(part[4:])
    base = posixpath.basename(location.partition("#")[0].partition("?")[0].rstrip("/"))
    try:
        if base.endswith(".whl"):
            return parse_wheel_filename(base)[0]
        return parse_sdist_filename(base)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        base = base.removesuffix(".git")
        return canonicalize_name(base if base not in ("", ".", "..") else "unnamed-local-project")


def _with_direct(package: LockedPackage, via: list[str]) -> LockedPackage:
    direct = any(item.startswith(("-r ", "-c ")) or item.endswith(")") for item in via)
    return replace(package, direct=direct)


def _apply_constraints(
    packages: list[LockedPackage], constraints: list[LockedPackage]
) -> list[LockedPackage]:
    """A `-c` pin fixes the version of an unpinned requirement; it adds no package."""
    pins = {c.name: c for c in constraints if c.version is not None}
    result = []
    for package in packages:
        pin = pins.get(package.name)
        if package.version is None and package.source.from_index and pin is not None:
            package = replace(package, version=pin.version, hashes=package.hashes | pin.hashes)
            package = replace(package, requirement=None)
        result.append(package)
    return result
