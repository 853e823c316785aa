"""What a scan is asked to do, as one typed value.

The command line builds it from its arguments and the environment (cli.py is the
only reader of either); the TUI and tests build it directly. `scan.run` takes it.
Every path, URL and setting here is already resolved: nothing downstream looks at
the environment again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from scanner.models import Severity

DEFAULT_INDEX = "https://pypi.org/"


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """A scan's input, where to ask, what to keep, and how to judge."""

    path: str  # the lockfile (found already when none was named), or the interpreter
    store: Path  # the evidence store
    environment: bool = False  # `path` is an interpreter whose site-packages to scan
    input_format: str | None = None  # None: told by the file's name, then its content
    # what to scan: by default every group, extra and environment of the lock
    groups: frozenset[str] | None = None  # None: not narrowed; "all" is every group
    extras: frozenset[str] | None = None
    production: bool = False  # no group and no extra unless named
    python_version: str | None = None  # None: any Python its markers name
    platform: str | None = None  # None: any platform
    resolve: bool = True
    exclude_newer: datetime | None = None
    pre: bool = False
    include_root: str | None = None
    # where to ask
    index_url: str = DEFAULT_INDEX
    lock_indexes: bool = True
    inventory: bool = True  # read what each pinned wheel installs (its file list)
    jobs: int = 8
    offline: bool = False
    retries: int = 3
    max_age: float = 3600.0
    refresh: bool = False
    timeout: float = 30.0
    deadline: float | None = None  # seconds for the whole scan's asking
    max_page_mb: float = 64.0
    advisory_db: str | None = None
    live_advisories: bool = True
    osv_url: str | None = None
    pypi_json_url: str | None = None
    # how to judge
    policy: str | None = None
    fail_on: frozenset[Severity] | None = None
    fail_under: float | None = None
    allow_unevaluated: bool = False
    require_attestations: bool = False
    trust: str | None = None  # the trust record (default: found beside the lockfile)
    baseline: str | None = None
    baseline_ref: str | None = None
    # for `make bench`
    request_log: str | None = None

    @property
    def ttl(self) -> float:
        """Seconds a kept answer is used unasked (0 with --refresh)."""
        return 0.0 if self.refresh else max(0.0, self.max_age)
