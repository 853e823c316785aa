"""The terminal UI: Pilot for behaviour, SVG snapshots for looks."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import subprocess
import sys

import pytest
from textual.widgets import Input, Static, TabbedContent

from tests.conftest import DATA
from tui.app import TrustscanApp
from tui.model import ReportModel
from tui.widgets.details import Details
from tui.widgets.graph_tree import GraphTree

REPORT = json.loads((DATA / "tui" / "report.json").read_text())
SIZE = (120, 36)


def sync(test):
    """Run an async Pilot test without an asyncio plugin."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


def app() -> TrustscanApp:
    return TrustscanApp(report=json.loads(json.dumps(REPORT)))


def body(pilot, tab: str) -> str:
    """The text of a details tab, as a terminal would show it."""
    from rich.console import Console

    view = pilot.app.screen.query_one(Details).views[tab]
    console = Console(width=200, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(view)
    return console.export_text()


@sync
async def test_opens_with_roots_and_summary():
    async with app().run_test(size=SIZE) as pilot:
        tree = pilot.app.screen.query_one(GraphTree)
        labels = [str(n.label) for n in tree.root.children]
        assert len(labels) == len(REPORT["roots"])
        assert any("ddtrace" in label for label in labels)
        summary = str(pilot.app.screen.query_one("#summary", Static).content)
        assert "14 packages" in summary and "verdict fail (exit 1)" in summary


@sync
async def test_navigate_and_shared_node_is_marked():
    async with app().run_test(size=SIZE) as pilot:
        tree = pilot.app.screen.query_one(GraphTree)
        ddtrace = next(n for n in tree.root.children if n.data.name == "ddtrace")
        gunicorn = next(n for n in tree.root.children if n.data.name == "gunicorn")
        tree.move_cursor(ddtrace)
        await pilot.press("enter")
        tree.move_cursor(gunicorn)
        await pilot.press("enter")
        await pilot.pause()
        under_gunicorn = [str(c.label) for c in gunicorn.children]
        assert any("evil-pkg" in label and "(*)" in label for label in under_gunicorn)
        ref = next(c for c in gunicorn.children if c.data.name == "evil-pkg")
        tree.move_cursor(ref)
        await pilot.press("o")  # jump to the expanded occurrence
        await pilot.pause()
        assert tree.cursor_node is tree.primary["evil-pkg"]
        assert tree.cursor_node.parent is ddtrace


@sync
async def test_search_jumps_to_a_package():
    async with app().run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"typing", "enter")
        await pilot.pause()
        await pilot.pause()
        tree = pilot.app.screen.query_one(GraphTree)
        assert tree.cursor_node.data.name == "typing-extensions"
        assert "typing-extensions" in body(pilot, "summary")


@sync
async def test_filter_by_severity_signal_and_unevaluated():
    async with app().run_test(size=SIZE) as pilot:
        await pilot.press("f", *"severity:high", "enter")
        await pilot.pause()
        tree = pilot.app.screen.query_one(GraphTree)
        names = {n.data.name for n in tree.root.children}
        assert names == {"evil-pkg", "jeilyfish", "requests", "six"}
        await pilot.press("f", *"signal:sdist-only", "enter")
        await pilot.pause()
        assert {n.data.name for n in tree.root.children} == {"docopt"}
        await pilot.press("f", "enter")  # empty: back to the graph
        await pilot.pause()
        assert len(tree.root.children) == len(REPORT["roots"])


@sync
async def test_paths_tab_lists_every_path_of_a_shared_package():
    async with app().run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"evil", "enter")
        await pilot.pause()
        pilot.app.screen.query_one(TabbedContent).active = "tab-paths"
        await pilot.pause()
        text = body(pilot, "paths")
        assert "2 path(s)" in text and "blast radius 2" in text
        assert "ddtrace → evil-pkg" in text and "gunicorn → evil-pkg" in text


@sync
async def test_inverted_view_shows_dependents():
    async with app().run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"evil", "enter", "i")
        await pilot.pause()
        tree = pilot.app.screen.query_one(GraphTree)
        (top,) = tree.root.children
        assert top.data.name == "evil-pkg"
        top.expand()
        await pilot.pause()
        assert {c.data.name for c in top.children} == {"ddtrace", "gunicorn"}
        await pilot.press("i")
        await pilot.pause()
        assert len(tree.root.children) == len(REPORT["roots"])


@sync
async def test_sort_by_score_puts_the_lowest_first():
    async with app().run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await pilot.pause()
        tree = pilot.app.screen.query_one(GraphTree)
        scores = [pilot.app.screen.model.score(n.data.name) for n in tree.root.children]
        known = [s for s in scores if s is not None]
        assert known == sorted(known)


@sync
async def test_hostile_metadata_stays_text():
    async with app().run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"evil", "enter")
        await pilot.pause()
        summary = body(pilot, "summary")
        assert "[bold red]PWNED[/]" in summary  # shown, not applied
        assert "\x1b" not in summary and "\u202e" not in summary and "\x07" not in summary
        pilot.app.screen.query_one(TabbedContent).active = "tab-findings"
        await pilot.pause()
        findings = body(pilot, "findings")
        assert "[link=https://evil.example]evil[/link]" in findings
        assert "[blink]requests[/blink]" in findings and "\x1b" not in findings


@sync
async def test_cycles_are_cut_and_marked():
    report = json.loads(json.dumps(REPORT))
    packages = {p["name"]: p for p in report["packages"]}
    packages["evil-pkg"]["dependencies"] = ["ddtrace"]
    packages["ddtrace"]["dependents"].append("evil-pkg")
    model = ReportModel(report)
    async with TrustscanApp(report=report).run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"evil", "enter")
        await pilot.pause()
        tree = pilot.app.screen.query_one(GraphTree)
        node = tree.cursor_node
        node.expand()
        await pilot.pause()
        assert any("(cycle)" in str(c.label) for c in node.children)
    assert model.paths_to("evil-pkg")


def test_model_filters_unevaluated():
    """`unevaluated` lists what the header calls not evaluated (it listed every package,
    whose provenance is unknown on an api-1.1 index, while the header said 0)."""
    model = ReportModel(REPORT)
    flagged = {n for n in model.packages if model.passes(n, "unevaluated")}
    assert flagged == {p["name"] for p in REPORT["packages"] if not p["evaluated"]}
    assert len(flagged) == model.summary()["not_evaluated"]


@sync
async def test_a_mistyped_filter_is_an_error_and_the_filter_in_force_is_shown():
    async with app().run_test(size=SIZE) as pilot:
        await pilot.press("f", *"severity:high", "enter")
        await pilot.pause()
        indicator = pilot.app.screen.query_one("#filter-indicator", Static)
        assert str(indicator.content) == " filter severity:high: 4 packages (f to change)"
        for typo in ("severity:hgih", "signal:nope", "sevrity:high"):
            await pilot.press("f", *typo, "enter")
            await pilot.pause()
            assert pilot.app.screen.query_one(GraphTree).rule == "severity:high"  # kept
        messages = [n.message for n in pilot.app._notifications]
        assert any("unknown severity 'hgih'" in m for m in messages)
        assert any("unknown signal 'nope'" in m for m in messages)
        await pilot.press("f", "enter")
        await pilot.pause()
        assert not indicator.display


# --- snapshots (pytest-textual-snapshot): the clock is not shown; no cursor blinks ------


def test_snapshot_browser(snap_compare):
    assert snap_compare(app(), terminal_size=SIZE)


def test_snapshot_expanded_hostile_package(snap_compare):
    assert snap_compare(app(), press=["slash", *"evil", "enter"], terminal_size=SIZE)


def test_snapshot_paths_tab(snap_compare):
    async def paths(pilot):
        await pilot.press("slash", *"evil", "enter")
        pilot.app.screen.query_one(TabbedContent).active = "tab-paths"
        await pilot.pause()

    assert snap_compare(app(), run_before=paths, terminal_size=SIZE)


def test_snapshot_files_tab(snap_compare):
    async def files(pilot):
        await pilot.press("slash", *"evil", "enter")
        pilot.app.screen.query_one(TabbedContent).active = "tab-files"
        await pilot.pause()

    assert snap_compare(app(), run_before=files, terminal_size=SIZE)


@sync
async def test_the_files_tab_shows_start_up_hooks_inert_and_new_files():
    async with app().run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"evil", "enter")
        await pilot.pause()
        text = body(pilot, "files")
        assert "start-up hook evil_pkg-setup.pth" in text
        assert "exec(base64.b64decode" in text and "\x1b" not in text
        assert "+ evil_pkg/_miner.so" in text


def test_snapshot_filtered(snap_compare):
    assert snap_compare(app(), press=["f", *"severity:high", "enter"], terminal_size=SIZE)


def test_snapshot_help(snap_compare):
    assert snap_compare(app(), press=["question_mark"], terminal_size=SIZE)


def test_tui_command_is_outside_scanner():
    code = "import sys, tui.cli; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("argv", [["tui", "--scan", "999"]])
def test_tui_unknown_scan_is_a_clear_error(argv, capsys):
    from tui.cli import main

    assert main(argv) == 2
    assert "no scan 999" in capsys.readouterr().err


@sync
async def test_j_k_and_number_keys():
    async with app().run_test(size=SIZE) as pilot:
        tree = pilot.app.screen.query_one(GraphTree)
        start = tree.cursor_line
        await pilot.press("j", "j", "k")
        assert tree.cursor_line == start + 1
        await pilot.press("6")
        assert pilot.app.screen.query_one(TabbedContent).active == "tab-files"
        await pilot.press("2")
        assert pilot.app.screen.query_one(TabbedContent).active == "tab-findings"


@sync
async def test_keys_right_after_slash_reach_the_search_box():
    async with app().run_test(size=SIZE) as pilot:
        tree = pilot.app.screen.query_one(GraphTree)
        # The search box is open but focus has not moved yet (as ~150 ms after `/` on a
        # real terminal): the keys typed then are the search's, not the tree's.
        pilot.app.screen.query_one("#search", Input).display = True
        await pilot.press("i", "n", "v")
        await pilot.pause()
        assert tree.inverted is None
        assert pilot.app.screen.query_one("#search", Input).value == "inv"


def test_esc_during_a_scan_cancels_within_a_second(index, tmp_path):
    """Every fetch hangs for 20 s: Esc stops the scan, pending fetches dropped, at once."""
    import threading
    import time

    from scanner import scan
    from scanner.options import ScanOptions
    from tests.indexserver import Fault

    for name in ("six", "gunicorn"):
        index.faults[f"/simple/{name}/"] = Fault(action=lambda handler: time.sleep(20))
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.16.0\ngunicorn==26.0.0\n")
    options = ScanOptions(
        path=str(lock), store=tmp_path / "db", index_url=index.url, live_advisories=False
    )
    returned = threading.Event()

    def runner(progress, cancelled):
        try:
            _, scan_id = scan.run(options, progress, cancelled)
            return {}, scan_id
        finally:
            returned.set()

    async def cancel() -> float:
        async with TrustscanApp(runner=runner, label="x").run_test(size=SIZE) as pilot:
            await asyncio.sleep(1.0)
            pressed = time.monotonic()
            await pilot.press("escape")
            await asyncio.to_thread(returned.wait, 5)
            return time.monotonic() - pressed

    assert asyncio.run(cancel()) < 1.0


@sync
async def test_findings_first_worst_first_searchable_and_enter_jumps():
    from textual.widgets import DataTable

    async with app().run_test(size=SIZE) as pilot:
        await pilot.press("F")
        await pilot.pause()
        table = pilot.app.screen.query_one(DataTable)
        total = sum(len(p["findings"]) for p in REPORT["packages"])
        assert table.row_count == total
        first = [str(c) for c in table.get_row_at(0)]
        assert first[0] == "critical"
        await pilot.press("slash", *"jeilyfish typosquat")
        await pilot.pause()
        assert table.row_count == 1
        await pilot.press("enter", "enter")  # leave the search, then pick the row
        await pilot.pause()
        assert pilot.app.screen.query_one(TabbedContent).active == "tab-findings"
        tree = pilot.app.screen.query_one(GraphTree)
        assert tree.cursor_node is not None and tree.cursor_node.data.name == "jeilyfish"


def test_snapshot_findings_view(snap_compare):
    assert snap_compare(app(), press=["F"], terminal_size=SIZE)


@sync
async def test_n_and_shift_n_walk_the_search_matches():
    async with app().run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"e", "enter")  # every name with an "e"
        await pilot.pause()
        tree = pilot.app.screen.query_one(GraphTree)
        matches = [n for n in sorted(REPORT_NAMES) if "e" in n]
        assert tree.cursor_node.data.name == matches[0]
        await pilot.press("n")
        assert tree.cursor_node.data.name == matches[1]
        await pilot.press("N", "N")
        assert tree.cursor_node.data.name == matches[-1]


REPORT_NAMES = {p["name"] for p in REPORT["packages"]}


def test_snapshot_small_terminal(snap_compare):
    """80x24: the verdict stays in the header, the tab names stay readable."""
    assert snap_compare(app(), terminal_size=(80, 24))


def test_snapshot_large_terminal(snap_compare):
    assert snap_compare(app(), terminal_size=(200, 50))


@sync
async def test_at_80_by_24_the_verdict_and_every_tab_name_show():
    async with app().run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        summary = str(pilot.app.screen.query_one("#summary", Static).content)
        assert summary.startswith(" verdict fail (exit 1)")
        tabs = pilot.app.screen.query_one(TabbedContent)
        labels = [str(tabs.get_tab(f"tab-{t}").label) for t in ("summary", "paths")]
        assert labels == ["Sum", "Path"]


@sync
async def test_copy_purl_and_url_and_export_the_view(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    async with app().run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"requests", "enter")
        await pilot.pause()
        await pilot.press("c")
        assert pilot.app.clipboard.startswith("pkg:pypi/requests@")
        await pilot.press("u")
        assert pilot.app.clipboard.startswith("https://")
        await pilot.press("f", *"severity:high", "enter", "e")
        await pilot.pause()
    view = json.loads((tmp_path / "trustscan-view.json").read_text())
    assert view["filter"] == "severity:high"
    assert {r["package"] for r in view["findings"]} == {"evil-pkg", "jeilyfish", "requests", "six"}
    assert (tmp_path / "trustscan-view.md").read_text().startswith("# trustscan findings")


def _pinned_twice() -> dict:
    """The fixture report with packaging pinned at two versions (ids name@version)."""
    report = json.loads(json.dumps(REPORT))
    original = next(p for p in report["packages"] if p["name"] == "packaging")
    older = json.loads(json.dumps(original))
    original["id"], older["id"], older["version"] = "packaging@24.2", "packaging@23.0", "23.0"
    for p in report["packages"]:
        for field in ("dependencies", "dependents"):
            p[field] = ["packaging@24.2" if d == "packaging" else d for d in p.get(field, [])]
    older["dependents"] = []
    report["packages"].append(older)
    report["roots"] = [*report["roots"], "packaging@23.0"]
    return report


@sync
async def test_a_name_pinned_twice_is_two_nodes_with_their_own_details():
    async with TrustscanApp(report=_pinned_twice()).run_test(size=SIZE) as pilot:
        tree = pilot.app.screen.query_one(GraphTree)
        older = next(n for n in tree.root.children if n.data.name == "packaging@23.0")
        assert "packaging 23.0" in str(older.label) and "@" not in str(older.label)
        tree.move_cursor(older)
        await pilot.pause()
        pilot.app.screen.query_one(Details).show("packaging@23.0")
        await pilot.pause()
        assert "packaging 23.0" in body(pilot, "summary")
        assert "packaging@23.0" in body(pilot, "paths")
