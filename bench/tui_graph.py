"""Time from start to a browsable 1,000-node graph in the TUI, and its memory.

A synthetic report (1,000 packages, ~3 dependencies each, 40 roots) built from the
shape of a real one; run: .venv/bin/python bench/tui_graph.py
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def synthetic(n: int = 1000, roots: int = 40, seed: int = 7) -> dict:
    rng = random.Random(seed)
    base = json.loads((ROOT / "tests" / "data" / "tui" / "report.json").read_text())
    template = base["packages"][0]
    names = [f"pkg-{i:04d}" for i in range(n)]
    deps = {
        name: sorted(set(rng.sample(names[i + 1 :], min(3, n - i - 1))))
        for i, name in enumerate(names)
    }
    parents: dict[str, list[str]] = {name: [] for name in names}
    for name, children in deps.items():
        for child in children:
            parents[child].append(name)
    packages = []
    for name in names:
        package = json.loads(json.dumps(template))
        package.update(name=name, version="1.0", dependencies=deps[name], dependents=parents[name],
                       score=round(rng.uniform(4, 10), 1))  # fmt: skip
        packages.append(package)
    base["packages"] = packages
    base["roots"] = names[:roots]
    return base


async def measure() -> None:
    from tui.app import TrustscanApp
    from tui.widgets.graph_tree import GraphTree

    report = synthetic()
    started = time.perf_counter()
    app = TrustscanApp(report=report)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        tree = app.screen.query_one(GraphTree)
        ready = time.perf_counter() - started
        for _ in range(30):  # walk and expand
            await pilot.press("down", "enter")
        await pilot.pause()
        walked = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"1000 packages: browsable after {ready:.2f} s; 30 moves+expands by {walked:.2f} s; "
            f"{tree.last_line + 1} tree lines; peak RSS {peak:.0f} MB"
        )


if __name__ == "__main__":
    asyncio.run(measure())
