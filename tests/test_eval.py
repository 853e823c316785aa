"""`make eval` on a slice the local test index serves: the same code, offline.

The full evaluation needs the live index (scripts/eval.py); this runs its scan and
its arithmetic on two labelled typosquats (gone from the index) and benign pins."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from scanner.options import ScanOptions

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def evaluation():
    spec = importlib.util.spec_from_file_location("trustscan_eval", ROOT / "scripts" / "eval.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["trustscan_eval"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["trustscan_eval"]


def test_the_labels_are_well_formed(evaluation):
    incidents = evaluation.load_incidents(evaluation.LABELS / "incidents.toml")
    assert len(incidents) >= 10
    assert all(i.sources and i.sources[0].startswith("https://") for i in incidents)
    names = {i.name for i in incidents}
    assert {"jeIlyfish", "python3-dateutil", "loquru"} <= names  # as the attackers wrote them
    reviewed = evaluation.load_reviewed(evaluation.LABELS / "reviewed.toml")
    assert all(isinstance(v, bool) for v in reviewed.values())


def test_a_recorded_slice_is_caught_and_counted(evaluation, index, tmp_path, capsys):
    incidents = [
        i
        for i in evaluation.load_incidents(evaluation.LABELS / "incidents.toml")
        if i.name in ("jeIlyfish", "loquru")
    ]
    pins = evaluation.Pins()
    for incident in incidents:
        pins.malicious[evaluation.key_of(incident.name, incident.version)] = incident
    for name, version in (("six", "1.16.0"), ("packaging", "24.1"), ("gunicorn", "26.0.0")):
        pins.benign[evaluation.key_of(name, version)].add("top")
    options = ScanOptions(
        path="",
        store=tmp_path / "store.db",
        index_url=index.url,
        lock_indexes=False,
        live_advisories=False,
        allow_unevaluated=True,
    )
    reports = evaluation.scan_pins(pins, [], options)
    outcome = evaluation.classify(reports, pins, {}, set(pins.benign))
    assert sorted(outcome.caught) == ["jeIlyfish", "loquru"] and outcome.missed == []
    assert outcome.gated.false == 0 and outcome.gated.true >= 2
    assert outcome.benign_failing == [] and outcome.typosquat_in_top == []
    table = evaluation.render(outcome)
    assert "recall of the labelled incidents: 100.0 % (2 of 2)" in table
    assert "precision of high/critical findings outside advisories: 100.0 %" in table
    typosquat = next(r for r in reports if r.name == "jeilyfish").findings
    assert any("'jeIlyfish' is 'jellyfish'" in f.message for f in typosquat)
