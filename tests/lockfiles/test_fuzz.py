"""Hypothesis: any input gives a Lock (or a Policy) or our own error, never another exception."""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.errors import TrustscanError
from scanner.lockfiles import FORMATS, parse_lock
from scanner.policy import parse_policy
from scanner.signals import CATALOG
from tests.conftest import LOCKS

SEEDS = [
    (LOCKS / "formats" / "toolong-poetry.lock").read_text()[:3000],
    (LOCKS / "formats" / "flask-uv.lock").read_text()[:3000],
    (LOCKS / "formats" / "marko-2023-pdm.lock").read_text()[:3000],
    (LOCKS / "formats" / "pipenv-examples-Pipfile.lock").read_text()[:3000],
    (LOCKS / "formats" / "flask-pyproject.toml").read_text()[:3000],
    (LOCKS / "pylock.toml").read_text()[:3000],
    (LOCKS / "warehouse-deploy.txt").read_text()[:3000],
]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

toml_scalars = st.one_of(
    st.text(max_size=20), st.integers(), st.booleans(), st.floats(allow_nan=False)
)
toml_values = st.recursive(
    toml_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "version",
                    "source",
                    "dependencies",
                    "hash",
                    "hashes",
                    "groups",
                    "markers",
                    "marker",
                    "wheels",
                    "sdist",
                    "files",
                    "extras",
                    "url",
                    "git",
                    "path",
                    "index",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


def mutate(seed: str, data: st.DataObject) -> str:
    cut = data.draw(st.integers(0, len(seed)))
    noise = data.draw(st.text(max_size=40))
    return seed[:cut] + noise + seed[cut + len(noise) :]


def check(text: str, fmt: str) -> None:
    with contextlib.suppress(TrustscanError):
        parse_lock(text, "input", lambda p: "", fmt)


@FUZZ
@given(st.data(), st.sampled_from(FORMATS), st.sampled_from(SEEDS))
def test_mutated_real_files(data, fmt, seed):
    check(mutate(seed, data), fmt)


@FUZZ
@given(st.text(max_size=400), st.sampled_from(FORMATS))
def test_arbitrary_text(text, fmt):
    check(text, fmt)


def _toml_document(packages: list[dict], key: str, header: dict) -> str:
    import tomli_w

    return tomli_w.dumps({**header, key: packages})


@FUZZ
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "version",
                    "source",
                    "dependencies",
                    "wheels",
                    "sdist",
                    "files",
                    "groups",
                    "markers",
                    "marker",
                    "optional-dependencies",
                    "extras",
                ]
            ),
            toml_values,
            max_size=6,
        ),
        max_size=4,
    ),
    st.sampled_from(
        [
            ("uv.lock", "package", {"version": 1}),
            ("poetry.lock", "package", {"metadata": {"lock-version": "2.1"}}),
            ("pdm.lock", "package", {"metadata": {"lock_version": "4.5.0"}}),
            ("pylock", "packages", {"lock-version": "1.0"}),
        ]
    ),
)
def test_structured_but_wrong(packages, target):
    fmt, key, header = target
    try:
        text = _toml_document(packages, key, header)
    except (TypeError, ValueError):
        return
    check(text, fmt)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["default", "develop", "_meta"]),
        st.dictionaries(st.text(max_size=8), toml_values, max_size=4),
        max_size=3,
    )
)
def test_pipfile_shapes(document):
    document.setdefault("_meta", {})
    check(json.dumps(document), "Pipfile.lock")


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "fail-under",
                "fail-on",
                "severity",
                "thresholds",
                "ignore",
                "allow-unevaluated",
                "bogus",
            ]
        ),
        toml_values,
        max_size=5,
    )
)
def test_policy_loader(data):
    known = {s.id: s.thresholds for s in CATALOG}
    with contextlib.suppress(TrustscanError):
        parse_policy(data, "trustscan.toml", "", known)
