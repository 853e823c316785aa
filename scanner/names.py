"""Names that look like other names: the shape of a typosquat, read as data.

Pure functions over canonical names (PEP 503) and the name as the input wrote it.
The typosquat signal judges with them; the scan uses `lookalikes` to decide whose
owners to fetch, so that a fork by the same people (`httpx2` by the owners of
`httpx`) is told from a squat.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from packaging.utils import NormalizedName

AFFIXES = ("python-", "python3-", "py-", "py3-", "-python", "-python3", "-py", "-py3")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-"  # of canonical names
# Characters a reader takes for one another (the written form keeps case: jeIlyfish).
_LOOKS_LIKE = {("I", "l"), ("l", "I"), ("1", "l"), ("l", "1"), ("0", "o"), ("o", "0")}


@dataclass(frozen=True, slots=True)
class Difference:
    """How a name differs from a popular one by a single step."""

    kind: str  # substitute, insert, delete, swap, affix
    position: int = -1  # in the candidate's canonical name
    ours: str = ""  # the candidate's character(s) there
    theirs: str = ""  # the popular name's

    def sibling(self, name: str) -> bool:
        """A version or variant sibling, not a slip of the keyboard: a digit for a digit
        (`-cu11` / `-cu12`, `jinja2` / `jinja3`), or a digit added or dropped at the end
        (`httpx2`, `httpcore2`)."""
        if self.kind == "substitute":
            return self.ours.isdigit() and self.theirs.isdigit()
        if self.kind == "insert":
            return self.ours.isdigit() and self.position == len(name) - 1
        if self.kind == "delete":
            return self.theirs.isdigit() and self.position == len(name)
        return False


def difference(name: str, target: str) -> Difference | None:
    """How `name` is one edit or one adjacent swap from `target`, else None."""
    if name == target or abs(len(name) - len(target)) > 1:
        return None
    if len(name) == len(target):
        diffs = [i for i in range(len(name)) if name[i] != target[i]]
        if len(diffs) == 1:
            i = diffs[0]
            return Difference("substitute", i, name[i], target[i])
        if (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and name[diffs[0]] == target[diffs[1]]
            and name[diffs[1]] == target[diffs[0]]
        ):
            i = diffs[0]
            return Difference("swap", i, name[i : i + 2], target[i : i + 2])
        return None
    if len(name) > len(target):
        for i in range(len(name)):
            if name[:i] + name[i + 1 :] == target:
                return Difference("insert", i, name[i], "")
        return None
    for i in range(len(target)):
        if target[:i] + target[i + 1 :] == name:
            return Difference("delete", i, "", target[i])
    return None


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


@dataclass(frozen=True, slots=True)
class Match:
    target: NormalizedName  # the popular name
    rank: int  # its download rank (1 = most downloaded)
    difference: Difference


def lookalikes(
    name: NormalizedName, popular: Mapping[NormalizedName, int], top: int
) -> list[Match]:
    """Popular names (rank <= `top`) one step from `name`, most popular first: an edit
    away, or the same name with a py/python affix changed (`python3-dateutil`)."""
    found: dict[str, Match] = {}
    for target in sorted(one_edit(name)):
        rank = popular.get(target)  # type: ignore[call-overload]
        if rank is not None and rank <= top:
            how = difference(name, target)
            if how is not None:
                found[target] = Match(target, rank, how)  # type: ignore[arg-type]
    for affix in AFFIXES:
        for stripped in (name.removeprefix(affix), name.removesuffix(affix)):
            for other in (stripped, *(a.strip("-") + "-" + stripped for a in AFFIXES[:4])):
                rank = popular.get(other)  # type: ignore[call-overload]
                if stripped != name and other != name and rank is not None and rank <= top:
                    found[other] = Match(other, rank, Difference("affix"))  # type: ignore[arg-type]
    return sorted(found.values(), key=lambda m: m.rank)


def describe(written: str, canonical: str, match: Match) -> str:
    """How the name as written differs from the popular one, as a clause:
    "'jeIlyfish' is 'jellyfish' with 'l' written as 'I' (a capital I reads as l)"."""
    how = match.difference
    shown = written if len(written) == len(canonical) else canonical
    ours = shown[how.position : how.position + len(how.ours)] if how.position >= 0 else ""
    target = f"'{match.target}'"
    if how.kind == "substitute":
        text = f"'{written}' is {target} with '{how.theirs}' written as '{ours}'"
        if (ours, how.theirs) in _LOOKS_LIKE:
            text += f" ('{ours}' reads as '{how.theirs}')"
        return text
    if how.kind == "insert":
        return f"'{written}' is {target} with an extra '{ours}'"
    if how.kind == "delete":
        return f"'{written}' is {target} without its '{how.theirs}'"
    if how.kind == "swap":
        return f"'{written}' is {target} with '{how.theirs}' swapped"
    return f"'{written}' is {target} with a py/python affix added or changed"
