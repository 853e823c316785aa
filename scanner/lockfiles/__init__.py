"""Input formats: one parser per module, each `text -> Lock`, and detection.

Detection looks at the file name first, then at the content. With no path,
`find_lockfile()` picks the first of `PREFERENCE` present in the directory.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from pathlib import Path

from scanner.errors import InputError, UsageError
from scanner.lockfiles.pylock import parse_pylock
from scanner.lockfiles.requirements import parse_requirements
from scanner.models import Lock

# Most precise first: a lock with hashes and recorded edges beats a requirements file.
PREFERENCE = ("pylock.toml", "pylock.*.toml", "requirements.lock", "requirements.txt")
MAX_INPUT_BYTES = 64 * 1024 * 1024


def detect_format(path: str, text: str) -> str:
    """The input format of `path`, by its name, else by its content."""
    name = Path(path).name
    if fnmatch.fnmatch(name, "pylock.toml") or fnmatch.fnmatch(name, "pylock.*.toml"):
        return "pylock"
    if name.endswith((".txt", ".in")) or name.startswith("requirements"):
        return "requirements"
    head = text[:4096]
    if "lock-version" in head and "[[packages]]" in text:
        return "pylock"
    return "requirements"


def parse_lock(text: str, path: str, read: Callable[[str], str] | None = None) -> Lock:
    """Parse `text` (read from `path`) in whatever format it is."""
    if detect_format(path, text) == "pylock":
        return parse_pylock(text, path)
    return parse_requirements(text, path, read)


def read_text(path: str) -> str:
    """Read an input file as UTF-8, bounded in size; errors name the file."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise InputError.single(path, None, f"file is {size} bytes; the limit is 64 MiB")
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError.single(path, None, f"not UTF-8 text ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise InputError.single(path, None, e.strerror or type(e).__name__) from e


def load_lock(path: str) -> Lock:
    """Read and parse the input at `path`; includes are read relative to it."""
    return parse_lock(read_text(path), path, read_text)


def find_lockfile(directory: Path) -> Path:
    """The input to scan when none is named, by `PREFERENCE`."""
    for pattern in PREFERENCE:
        matches = sorted(directory.glob(pattern))
        if matches:
            return matches[0]
    raise UsageError(
        f"no lockfile found in {directory} (looked for: {', '.join(PREFERENCE)}); name one"
    )
