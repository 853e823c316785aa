"""inert(): what it removes, checked against the Unicode database itself."""

from __future__ import annotations

import sys
import unicodedata

from scanner.text import _INVISIBLE, _UNSAFE, excerpt, inert

HANGUL_FILLERS = {"\u115f", "\u1160", "\u3164", "\uffa0"}


def test_every_format_separator_and_filler_character_is_removed_or_replaced():
    missed = []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        invisible = unicodedata.category(char) in ("Cf", "Zl", "Zp") or char in HANGUL_FILLERS
        if invisible and not (_INVISIBLE.fullmatch(char) or _UNSAFE.fullmatch(char)):
            missed.append(f"U+{code:04X}")
    assert missed == []


def test_invisible_characters_are_dropped_and_controls_shown():
    tagged = "pay\U000e0041\U000e0042load\u00adx\u3164y\u2028z"
    assert inert(tagged) == "payloadxy z".replace(" ", "")
    assert inert("a\x1b]52;c;ZXZpbA==\x07b") == "a\ufffd]52;c;ZXZpbA==\ufffdb"


def test_excerpt_is_short_and_quoted():
    assert excerpt("SECRET=" + "x" * 500) == repr("SECRET=" + "x" * 32 + "…")
