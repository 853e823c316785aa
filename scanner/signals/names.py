"""Names: typosquats of popular projects."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from packaging.utils import NormalizedName

from scanner.models import Evidence, Finding, Severity
from scanner.signals.interface import Signal, SignalContext

_AFFIXES = ("python-", "python3-", "py-", "py3-", "-python", "-python3", "-py", "-py3")


def damerau_one(a: str, b: str) -> str | None:
    """How `a` differs from `b` when it is one edit or one adjacent swap away, else None."""
    if a == b or abs(len(a) - len(b)) > 1:
        return None
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return f"substitutes {b[diffs[0]]!r} with {a[diffs[0]]!r}"
        if (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and (a[diffs[1]] == b[diffs[0]])
        ):
            return f"swaps {b[diffs[0] : diffs[1] + 1]!r}"
        return None
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1 :] == short:
            verb = "drops" if a is short else "adds"
            return f"{verb} {long_[i]!r}"
    return None


_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-"  # of canonical names


def one_edit(name: str) -> set[str]:
    """Every string one deletion, insertion, substitution or adjacent swap from `name`
    (over the alphabet of canonical names): ~75 per character, cheap to look up, where
    indexing thousands of popular names would cost more than the scan it serves."""
    splits = [(name[:i], name[i:]) for i in range(len(name) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    edits |= {a + c + b for a, b in splits for c in _ALPHABET}
    edits.discard(name)
    return edits


def near_popular(
    name: NormalizedName, popular: Mapping[NormalizedName, int], top: int
) -> list[tuple[str, str, int]]:
    """(popular name, how it differs, its rank) for popular names one step from `name`."""
    matches = []
    for target in sorted(one_edit(name)):
        rank = popular.get(target)  # type: ignore[call-overload]
        if rank is not None and rank <= top:
            how = damerau_one(name, target)
            if how is not None:
                matches.append((target, how, rank))
    for affix in _AFFIXES:
        for stripped in (name.removeprefix(affix), name.removesuffix(affix)):
            for other in (stripped, *(a.strip("-") + "-" + stripped for a in _AFFIXES[:4])):
                rank = popular.get(other)  # type: ignore[call-overload]
                if stripped != name and other != name and rank is not None and rank <= top:
                    matches.append((other, f"is {other!r} with a py/python affix changed", rank))
    unique = {m[0]: m for m in matches}
    return sorted(unique.values(), key=lambda m: m[2])


def _typosquat(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    if ctx.reference is None:
        return
    name = evidence.package.name
    popular = ctx.reference.popular
    if name in popular or len(name) < ctx.threshold(signal, "min_length"):
        return
    matches = near_popular(name, popular, int(ctx.threshold(signal, "top")))
    if matches:
        target, how, rank = matches[0]
        yield signal.finding(
            evidence,
            f"'{name}' {how} of '{target}', the #{rank} most downloaded project",
            popular=target,
            popular_rank=rank,
            difference=how,
            others=[m[0] for m in matches[1:5]],
        )


TYPOSQUAT = Signal(
    id="typosquat",
    title="Typosquat of a popular name",
    severity=Severity.HIGH,
    family="names",
    rationale="One edit from a popular name, and not popular itself: the classic shape of a "
    "typosquat waiting for a slip of the keyboard.",
    check=_typosquat,
    thresholds={"top": 5000, "min_length": 4},
)
