"""The browser's view of a scan report (the JSON report, schema 1.0): graph queries."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

SEVERITY_ORDER = ("info", "low", "medium", "high", "critical")
MAX_PATHS = 200


def known_signals() -> frozenset[str]:
    """Every signal id trustscan has (the catalog), for checking filters."""
    from scanner.signals import BY_ID

    return frozenset(BY_ID) | {"not-evaluated"}


@dataclass
class ReportModel:
    report: dict[str, Any]
    packages: dict[str, dict[str, Any]] = field(init=False)
    children: dict[str, list[str]] = field(init=False)
    parents: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        # by id: the name, or name@version for a name the lock pins at several versions
        self.packages = {p.get("id") or p["name"]: p for p in self.report["packages"]}
        self.children = {n: sorted(p["dependencies"]) for n, p in self.packages.items()}
        self.parents = {n: sorted(p["dependents"]) for n, p in self.packages.items()}

    @property
    def roots(self) -> list[str]:
        return [r for r in self.report["roots"] if r in self.packages] or sorted(self.packages)

    def worst(self, name: str) -> str | None:
        severities = [f["severity"] for f in self.packages[name]["findings"]]
        return max(severities, key=SEVERITY_ORDER.index) if severities else None

    def score(self, name: str) -> float | None:
        score = self.packages[name]["score"]
        return float(score) if score is not None else None

    def paths_to(self, name: str, limit: int = MAX_PATHS) -> list[list[str]]:
        """Every simple path from a root to `name` (bounded): "why is this here?"."""
        roots = set(self.roots)
        found: list[list[str]] = []
        queue: deque[list[str]] = deque([[name]])
        while queue and len(found) < limit:
            path = queue.popleft()
            head = path[0]
            if head in roots:
                found.append(path)
            for parent in self.parents.get(head, []):
                if parent not in path:
                    queue.append([parent, *path])
        return found

    def matches(self, query: str) -> Iterator[str]:
        query = query.strip().lower()
        for name in sorted(self.packages):
            if query in name:
                yield name

    def rule_error(self, rule: str) -> str | None:
        """Why `rule` is not a filter, or None: a typo must not silently match everything
        (`severity:hgih`) or nothing (`signal:nope`)."""
        kind, _, value = rule.strip().partition(":")
        if kind == "unevaluated" and not value:
            return None
        if kind == "severity":
            if value in SEVERITY_ORDER:
                return None
            return f"unknown severity {value!r}: one of {', '.join(SEVERITY_ORDER)}"
        if kind == "signal":
            if value in known_signals():
                return None
            return f"unknown signal {value!r}: `trustscan signals` lists them"
        return f"unknown filter {rule!r}: severity:LEVEL, signal:ID or unevaluated"

    def count(self, rule: str | None) -> int:
        """How many packages `rule` matches."""
        return sum(self.passes(name, rule) for name in self.packages)

    def passes(self, name: str, rule: str | None) -> bool:
        """Filter rules: `severity:high` (at least), `signal:ID`, `unevaluated` (the
        packages the header counts as not evaluated)."""
        if not rule:
            return True
        package = self.packages[name]
        kind, _, value = rule.partition(":")
        if kind == "unevaluated":
            return not package["evaluated"]
        if kind == "severity" and value in SEVERITY_ORDER:
            floor = SEVERITY_ORDER.index(value)
            return any(SEVERITY_ORDER.index(f["severity"]) >= floor for f in package["findings"])
        if kind == "signal":
            return any(f["signal"] == value for f in package["findings"])
        return True

    def summary(self) -> dict[str, Any]:
        """Counts for the status line, from the packages shown."""
        packages = list(self.packages.values())
        keys = list(self.packages)
        return {
            "packages": len(packages),
            "not_evaluated": sum(not p["evaluated"] for p in packages),
            "vulnerabilities_unknown": sum(
                p["families"].get("vulnerabilities", {}).get("state") == "unknown" for p in packages
            ),
            "failing": sum(self.worst(k) in ("high", "critical") for k in keys),
            "verdict": self.report["verdict"]["label"],
            "exit_code": self.report["verdict"]["exit_code"],
        }
