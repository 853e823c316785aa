"""Reading a file as it was at a git ref (`--baseline-ref`), safely.

The ref comes from whoever runs the gate, but in CI it is often built from a pull
request's branch name: it is verified as a commit first (`--end-of-options`, so a ref
such as `--output=/tmp/x` is never read as an option by git), and the file is read
from that commit by its path inside the repository only.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from scanner.errors import UsageError

MAX_BYTES = 64 * 1024 * 1024


def _git(args: list[str], cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def resolve(ref: str, cwd: Path) -> tuple[Path, str]:
    """(the repository's top folder, the commit `ref` names); UsageError otherwise."""
    if not ref or ref.startswith("-") or "\0" in ref:
        raise UsageError(f"--baseline-ref: {ref!r} is not a git ref")
    try:
        top = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
        commit = _git(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], top
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        detail = (getattr(e, "stderr", "") or "").strip() or "not a commit in this repository"
        raise UsageError(f"--baseline-ref: {ref!r}: {detail}") from e
    return top, commit.strip()


def read_at(path: Path, ref: str) -> str | None:
    """The text of `path` at `ref`, or None when the file did not exist there."""
    top, commit = resolve(ref, path.resolve().parent)
    try:
        inside = path.resolve().relative_to(top).as_posix()
    except ValueError as e:
        raise UsageError(f"--baseline-ref: {path} is not inside the repository {top}") from e
    try:
        kind = _git(["cat-file", "-t", f"{commit}:{inside}"], top).strip()
        size = int(_git(["cat-file", "-s", f"{commit}:{inside}"], top).strip())
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, ValueError):
        return None
    if kind != "blob" or size > MAX_BYTES:
        raise UsageError(f"--baseline-ref: {inside} at {ref} is not a file of at most 64 MiB")
    try:
        return _git(["cat-file", "blob", f"{commit}:{inside}"], top)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        raise UsageError(f"--baseline-ref: cannot read {inside} at {ref}") from e
