"""Import rules (STYLE.md): scanner never loads the TUI; only scanner.registry speaks HTTP."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SCANNER = Path(__file__).resolve().parents[1] / "scanner"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_scanner_never_imports_tui_or_textual():
    for path in SCANNER.rglob("*.py"):
        roots = {name.split(".")[0] for name in imported_modules(path)}
        assert not roots & {"tui", "textual"}, path


def test_only_the_registry_imports_requests():
    for path in SCANNER.rglob("*.py"):
        roots = {name.split(".")[0] for name in imported_modules(path)}
        if "requests" in roots or "urllib3" in roots:
            assert path.relative_to(SCANNER).parts[0] == "registry", path


def test_signals_import_neither_store_nor_registry():
    for path in (SCANNER / "signals").rglob("*.py"):
        for name in imported_modules(path):
            assert not name.startswith(("scanner.store", "scanner.registry")), path


def test_running_the_cli_loads_no_textual():
    code = "import sys, scanner.cli; print('textual' in sys.modules or 'tui' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
