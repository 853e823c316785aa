"""CVSS v3.x base scores from a vector string (FIRST's CVSS v3.1 specification, §7).

An advisory's CVSS vector says how bad it is better than a label copied from
elsewhere: a local, user-interaction, availability-only flaw (3.3) is not "high".
Only the base metric group is read; v2 and v4 vectors give None (the caller falls
back to the advisory's own word).
"""

from __future__ import annotations

import math

_WEIGHTS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_PRIVILEGES = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}


def base_score(vector: str) -> float | None:
    """The base score of a `CVSS:3.0/...` or `CVSS:3.1/...` vector; None if it is not one."""
    parts = vector.strip().split("/")
    if not parts or parts[0] not in ("CVSS:3.0", "CVSS:3.1"):
        return None
    metrics = dict(p.split(":", 1) for p in parts[1:] if ":" in p)
    try:
        scope = metrics["S"]
        weights = {k: _WEIGHTS[k][metrics[k]] for k in _WEIGHTS}
        privileges = _PRIVILEGES[scope][metrics["PR"]]
    except KeyError:
        return None
    impact_base = 1 - (1 - weights["C"]) * (1 - weights["I"]) * (1 - weights["A"])
    if scope == "U":
        impact = 6.42 * impact_base
    else:
        impact = 7.52 * (impact_base - 0.029) - 3.25 * (impact_base - 0.02) ** 15
    exploitability = 8.22 * weights["AV"] * weights["AC"] * privileges * weights["UI"]
    if impact <= 0:
        return 0.0
    total = impact + exploitability if scope == "U" else 1.08 * (impact + exploitability)
    return _round_up(min(total, 10.0))


def _round_up(value: float) -> float:
    """CVSS v3.1's Roundup: the smallest one-decimal number >= value, without float noise."""
    whole = round(value * 100000)
    if whole % 10000 == 0:
        return whole / 100000.0
    return (math.floor(whole / 10000) + 1) / 10.0


def severity_word(score: float) -> str:
    """The qualitative rating of a v3 score: NONE, LOW, MEDIUM, HIGH or CRITICAL."""
    if score >= 9.0:
        return "CRITICAL"
    if score >= 7.0:
        return "HIGH"
    if score >= 4.0:
        return "MEDIUM"
    if score > 0.0:
        return "LOW"
    return "NONE"
