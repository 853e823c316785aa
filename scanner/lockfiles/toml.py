"""TOML loading with errors that name the file and line."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from scanner.errors import InputError

_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def load_toml(text: str, path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        match = _AT_LINE.search(message)
        line = int(match.group(1)) if match else None
        message = _AT_LINE.sub("", message).strip()
        raise InputError.single(path, line, f"invalid TOML: {message}") from e
    except RecursionError as e:  # tomllib recurses per nesting level: 2,000 `[` is enough
        raise InputError.single(path, None, "invalid TOML: nested too deeply") from e
