"""Input formats: one parser per module, each `text -> Lock`, and detection.

Detection looks at the file name first (the canonical names, also as a suffix:
`flask-uv.lock`), then at the content. With no path, `find_lockfile()` picks
the first of `PREFERENCE` present in the directory and says which.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from scanner.errors import InputError, UsageError
from scanner.lockfiles.pdm import parse_pdm_lock
from scanner.lockfiles.pipfile import parse_pipfile_lock
from scanner.lockfiles.poetry import parse_poetry_lock
from scanner.lockfiles.pylock import parse_pylock
from scanner.lockfiles.pyproject import parse_pyproject
from scanner.lockfiles.requirements import parse_requirements
from scanner.lockfiles.uv import parse_uv_lock
from scanner.models import Lock

# Most precise first: a lock with hashes and recorded edges beats a requirements
# file, and anything pinned beats pyproject.toml, which needs resolving.
PREFERENCE = (
    "pylock.toml",
    "pylock.*.toml",
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "Pipfile.lock",
    "requirements.lock",
    "requirements.txt",
    "pyproject.toml",
)
MAX_INPUT_BYTES = 64 * 1024 * 1024
FORMATS = (
    "pylock",
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "Pipfile.lock",
    "pyproject.toml",
    "requirements",
)
_BY_SUFFIX = (
    ("uv.lock", "uv.lock"),
    ("poetry.lock", "poetry.lock"),
    ("pdm.lock", "pdm.lock"),
    ("Pipfile.lock", "Pipfile.lock"),
    ("pyproject.toml", "pyproject.toml"),
)


def detect_format(path: str, text: str) -> str:
    """The input format of `path`, by its name, else by its content."""
    name = Path(path).name
    if fnmatch.fnmatch(name, "pylock.toml") or fnmatch.fnmatch(name, "pylock.*.toml"):
        return "pylock"
    for suffix, fmt in _BY_SUFFIX:
        if name == suffix or name.endswith(f"-{suffix}") or name.endswith(f"_{suffix}"):
            return fmt
    if name.endswith(("pylock.toml",)):
        return "pylock"
    if name.endswith((".txt", ".in")) or name.startswith("requirements"):
        return "requirements"
    return _detect_by_content(text)


def _detect_by_content(text: str) -> str:
    head = text.lstrip()[:65536]
    if head.startswith("{"):
        try:
            if "_meta" in json.loads(text):
                return "Pipfile.lock"
        except (ValueError, TypeError, RecursionError):
            pass
    if "lock-version" in head and "[[packages]]" in text:
        return "pylock"
    if "[[package]]" in text:
        if "lock_version" in text:
            return "pdm.lock"
        if "content-hash" in text or "[metadata.files]" in text:
            return "poetry.lock"
        if "source = {" in text or text.startswith("version = "):
            return "uv.lock"
    if "[project]" in head or "[tool.poetry" in head or "[dependency-groups]" in head:
        return "pyproject.toml"
    if _REQUIREMENT_LINE.search(head):
        return "requirements"
    raise UsageError(
        "cannot tell what kind of input this is by its name or content; "
        f"name its format with --input-format ({', '.join(FORMATS)})"
    )


# A pinned requirement (`name==1.0`) or a pip option line: what a requirements file holds.
_REQUIREMENT_LINE = re.compile(
    r"(?m)^\s*(?:[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?\s*==|-[rcei]\s|--(?:index-url|extra-index-url|requirement|constraint|hash)\b)"
)


def parse_lock(
    text: str, path: str, read: Callable[[str], str] | None = None, fmt: str | None = None
) -> Lock:
    """Parse `text` (read from `path`) in whatever format it is."""
    fmt = fmt or detect_format(path, text)
    if fmt == "pylock":
        return parse_pylock(text, path)
    if fmt == "uv.lock":
        return parse_uv_lock(text, path)
    if fmt == "poetry.lock":
        return parse_poetry_lock(text, path)
    if fmt == "pdm.lock":
        return parse_pdm_lock(text, path)
    if fmt == "Pipfile.lock":
        return parse_pipfile_lock(text, path)
    if fmt == "pyproject.toml":
        return parse_pyproject(text, path)
    return parse_requirements(text, path, read)


def read_text(path: str, limit: int = MAX_INPUT_BYTES) -> str:
    """Read an input file as UTF-8, bounded in size; errors name the file.

    Only a regular file is read: a FIFO, a device (`/dev/zero`), a socket or a
    directory is refused at once, before a byte is read (opened non-blocking, so a
    FIFO with no writer cannot hang the gate)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise InputError.single(path, None, e.strerror or type(e).__name__) from e
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError.single(path, None, f"not a regular file ({_kind(info.st_mode)})")
        if info.st_size > limit:
            raise InputError.single(
                path, None, f"file is {info.st_size} bytes; the limit is {limit}"
            )
        chunks, size = [], 0
        while size <= limit and (chunk := os.read(fd, 1 << 20)):
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # grew while read, or a file that lies about its size
            raise InputError.single(path, None, f"file is over {limit} bytes")
        return b"".join(chunks).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError.single(path, None, f"not UTF-8 text ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise InputError.single(path, None, e.strerror or type(e).__name__) from e
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a file"


def confined_reader(lock_path: str, root: str | None = None) -> Callable[[str], str]:
    """`read_text` for a lockfile's includes, confined to its directory tree (or `root`).

    The lockfile and its includes come from whoever wrote the pull request: an
    include (or a symlink) that leads outside the tree, such as `-r /proc/self/environ`,
    is refused before it is opened, so its content can never reach an error message."""
    tree = Path(root).resolve() if root else Path(lock_path).absolute().parent.resolve()

    def read(path: str) -> str:
        target = Path(path).absolute().resolve()
        if not target.is_relative_to(tree):
            raise InputError.single(
                path,
                None,
                f"outside the lockfile's directory tree ({tree}); "
                "--include-root DIR allows a wider tree",
            )
        return read_text(path)

    return read


def load_lock(path: str, fmt: str | None = None, include_root: str | None = None) -> Lock:
    """Read and parse the input at `path`; includes are read relative to it, and
    neither it (through a symlink) nor its includes may lead out of its tree."""
    read = confined_reader(path, include_root)
    return parse_lock(read(path), path, read, fmt)


def find_lockfile(directory: Path) -> Path:
    """The input to scan when none is named, by `PREFERENCE`."""
    for pattern in PREFERENCE:
        matches = sorted(directory.glob(pattern))
        if matches:
            return matches[0]
    raise UsageError(
        f"no lockfile found in {directory} (looked for: {', '.join(PREFERENCE)}); name one"
    )
