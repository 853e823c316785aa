"""Untrusted text stays text: make package metadata safe to show anywhere.

Every string that came from a package or an index passes through `inert()`
before it reaches a terminal, rich, Markdown or the TUI. It removes control
characters (ANSI/OSC escapes start with ESC, a C0 control), C1 controls, and
the Unicode bidi controls that can reorder what a reader sees (CVE-2021-42574),
and bounds the length.
"""

from __future__ import annotations

import re

DEFAULT_LIMIT = 200

# C0 (but tab), DEL, C1; bidi embeddings, overrides and isolates; zero-width
# and other invisible format characters.
_UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


def inert(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """`value` as a single line of visible text, at most `limit` characters."""
    text = "" if value is None else str(value)
    if len(text) > limit * 4:  # do not scan megabytes to show a line
        text = text[: limit * 4]
    text = _UNSAFE.sub(_replacement, text).replace("\t", " ")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


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
