"""Untrusted text stays text: make package metadata safe to show anywhere.

Every string that came from a package or an index passes through `inert()`
before it reaches a terminal, rich, Markdown or the TUI. It removes control
characters (ANSI/OSC escapes start with ESC, a C0 control), C1 controls, and
the Unicode bidi controls that can reorder what a reader sees (CVE-2021-42574),
drops invisible characters (every format character, Unicode Cf, among them
tag characters and the soft hyphen; line and paragraph separators; the Hangul
fillers), and bounds the length. `excerpt()` is for input echoed in an error:
short, so a line of a file that was never meant to be read cannot leak.
"""

from __future__ import annotations

import re

DEFAULT_LIMIT = 200

# C0 (but tab), DEL, C1; bidi embeddings, overrides and isolates; zero-width
# and other invisible format characters.
_UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


# Invisible: Unicode Cf (format) as of Unicode 15.1, Zl, Zp, and the Hangul
# fillers (Lo, but drawn as nothing). tests/test_text.py checks this set against
# unicodedata for every code point.
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\u180e\u2028\u2029"
    "\u2061-\u2064\u206a-\u206f\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\u115f\u1160\u3164\uffa0]"
)


def inert(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """`value` as a single line of visible text, at most `limit` characters."""
    text = "" if value is None else str(value)
    if len(text) > limit * 4:  # do not scan megabytes to show a line
        text = text[: limit * 4]
    text = _INVISIBLE.sub("", text)
    text = _UNSAFE.sub(_replacement, text).replace("\t", " ")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def excerpt(value: object, limit: int = 40) -> str:
    """A short, inert excerpt of input for an error message (a string quoted)."""
    return repr(inert(value, limit)) if isinstance(value, str) else inert(value, limit)


def _replacement(match: re.Match[str]) -> str:
    char = match.group()
    return " " if char in "\n\r" else "\ufffd" if char != "\x00" else ""


def bounded(value: object, limit: int = 4000) -> object:
    """`value` (JSON-like) with every string cut to `limit` characters, saying so."""
    if isinstance(value, str):
        if len(value) <= limit:
            return value
        return f"{value[:limit]}…[{len(value) - limit} more characters cut]"
    if isinstance(value, dict):
        return {k: bounded(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [bounded(v, limit) for v in value]
    return value
