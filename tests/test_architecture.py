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


def test_the_allocator_returns_large_blocks_on_glibc():
    """The 1,000-package memory figure depends on it (see scanner/allocator.py)."""
    import platform

    from scanner.allocator import return_large_blocks

    expected = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert return_large_blocks() is expected


def test_a_rescan_from_the_cache_loads_no_network_or_rendering_stack(capsys, index, tmp_path):
    """Start-up is a third of a warm rescan: what it does not need it does not import
    (requests, pip-audit, sqlite-utils, rich, PyYAML, sigstore)."""
    from tests.conftest import LOCKS, scan_json

    db = tmp_path / "store.db"
    lock = LOCKS / "warehouse-deploy.txt"
    scan_json(capsys, lock, "--index-url", index.url, "--db", str(db))  # fills the cache
    heavy = ("requests", "urllib3", "pip_audit", "sqlite_utils", "rich", "yaml", "textual")
    heavy += ("sigstore", "pypi_attestations")
    code = (
        "import sys\n"
        "from tui.cli import main\n"
        f"code = main(['scan', {str(lock)!r}, '--index-url', {index.url!r}, '--db', {str(db)!r},"
        f" '--format', 'json', '-o', {str(tmp_path / 'report.json')!r}, '--no-live-advisories'])\n"
        "assert code == 3, code  # scanned and reported: vulnerabilities unknown\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr
    assert (tmp_path / "report.json").is_file()
