"""A parser test per format, on real files (tests/data/locks/formats/README.md)."""

from __future__ import annotations

import pytest
from packaging.version import Version

from scanner.errors import InputError
from scanner.lockfiles import detect_format, find_lockfile, load_lock, parse_lock
from scanner.models import SourceKind
from scanner.resolve import marker_environment
from scanner.selection import Scope, select
from tests.conftest import LOCKS

FORMATS = LOCKS / "formats"
ENV = marker_environment("3.12.7", "linux")
PRODUCTION = Scope.of(env=ENV, production=True)


def load(name):
    return load_lock(str(FORMATS / name))


def by_name(lock):
    return {p.name: p for p in lock.packages}


def test_uv_lock_walks_from_the_project():
    lock = load("flask-uv.lock")
    assert lock.format == "uv.lock" and lock.members == ("flask",)
    packages = by_name(lock)
    assert len(lock.packages) == 83
    assert packages["flask"].source.kind is SourceKind.PATH
    assert packages["werkzeug"].hashes and all(
        h.startswith("sha256:") for h in packages["werkzeug"].hashes
    )
    selection = select(lock, PRODUCTION)
    assert sorted(p.name for p in selection.packages) == [
        "blinker",
        "click",
        "itsdangerous",
        "jinja2",
        "markupsafe",
        "werkzeug",
    ]
    assert ("jinja2", "markupsafe") in selection.edges
    assert set(selection.roots) == {
        "blinker",
        "click",
        "itsdangerous",
        "jinja2",
        "markupsafe",
        "werkzeug",
    }
    assert any("more packages come only with groups or extras" in n for n in selection.notes)
    # an extra and a dev group widen the walk; sphinx's version follows the marker
    wider = select(lock, Scope.of({"docs"}, {"async"}, ENV))
    versions = {p.name: str(p.version) for p in wider.packages}
    assert versions["asgiref"] and versions["sphinx"] == "8.2.3"
    older = Scope.of({"docs"}, None, marker_environment("3.10.12", "linux"))
    assert select(lock, older).packages
    # by default: every group, every extra, every environment; sphinx at both versions
    everything = select(lock)
    pinned = {(p.name, p.display_version) for p in everything.packages}
    assert len(everything.packages) == len(lock.packages) - 1  # all but flask itself
    sphinx = sorted(v for n, v in pinned if n == "sphinx")
    assert len(sphinx) > 1 and "8.2.3" in sphinx
    assert everything.key(next(p for p in everything.packages if p.name == "sphinx")).startswith(
        "sphinx@"
    )
    assert everything.key(next(p for p in everything.packages if p.name == "click")) == "click"
    assert any("pinned at several versions" in n for n in everything.notes)


def test_uv_lock_version_is_checked():
    with pytest.raises(InputError, match=r"uv.lock version 2 is not supported \(supported: 1\)"):
        parse_lock('version = 2\n[[package]]\nname = "x"\n', "uv.lock")


def test_poetry_2():
    lock = load("toolong-poetry.lock")
    packages = by_name(lock)
    assert len(packages) == 21
    assert packages["textual"].version == Version("0.58.0") or packages["textual"].version
    assert all(p.dependencies is not None for p in lock.packages)
    selection = select(lock)
    assert selection.edges and all(a in by_name(lock) for a, _ in selection.edges)


def test_poetry_1_1_and_legacy_files_table():
    old = load("poetry-2022-v1.1-poetry.lock")
    packages = by_name(old)
    assert len(packages) == 83
    assert all(p.hashes for p in old.packages)  # from [metadata.files]
    assert {"default", "dev"} >= {g for p in old.packages for g in p.groups}
    oldest = load("marko-2019-poetry.lock")  # no lock-version at all
    assert len(oldest.packages) == 52 and sum(bool(p.hashes) for p in oldest.packages) >= 50


def test_poetry_unknown_version():
    with pytest.raises(InputError, match=r"lock-version '9.0' is not supported"):
        parse_lock(
            '[[package]]\nname = "x"\nversion = "1"\n'
            '[metadata]\nlock-version = "9.0"\ncontent-hash = "x"\n',
            "poetry.lock",
        )


def test_pdm_4_5_with_groups():
    lock = load("unearth-pdm.lock")
    packages = by_name(lock)
    assert len(packages) == 67
    assert "default" in packages["httpx"].groups if "httpx" in packages else True
    selection = select(lock, PRODUCTION)
    assert 0 < len(selection.packages) < len(packages)
    assert any("groups or extras not selected" in n for n in selection.notes)
    assert len(select(lock).packages) == len(packages)  # the default: every group


def test_pdm_4_2_legacy_files():
    lock = load("marko-2023-pdm.lock")
    assert len(lock.packages) == 25  # coverage and coverage[toml] are one package
    assert sum(bool(p.hashes) for p in lock.packages) == 25


def test_pipfile_lock_default_and_develop():
    lock = load("pipenv-examples-Pipfile.lock")
    assert len(lock.packages) == 10
    assert len(select(lock, PRODUCTION).packages) == 5
    assert len(select(lock, Scope.of({"develop"}, env=ENV)).packages) == 10
    assert len(select(lock).packages) == 10  # the default: develop too
    marko = load("marko-2019-Pipfile.lock")
    kinds = {p.name: p.source.kind for p in marko.packages}
    assert kinds["marko"] is SourceKind.PATH and kinds["zipp"] is SourceKind.PATH
    assert select(marko, PRODUCTION).packages == ()  # develop only
    assert len(select(marko).packages) == len(marko.packages)


def test_pipfile_bad_json_names_the_line():
    with pytest.raises(InputError) as raised:
        parse_lock('{\n  "_meta": {},\n  "default": {,}\n}\n', "Pipfile.lock")
    assert raised.value.diagnostics()[0].startswith("Pipfile.lock:3: invalid JSON")


def test_pyproject_pep621_groups_and_extras():
    lock = load("flask-pyproject.toml")
    packages = {(p.name, next(iter(p.groups))) for p in lock.packages}
    assert ("werkzeug", "default") in packages and ("asgiref", "async") in packages
    assert all(p.version is None and p.requirement for p in lock.packages)
    assert "docs" in lock.groups  # a PEP 735 group


def test_poetry_constraints_translate():
    from scanner.lockfiles.pyproject import poetry_constraint

    assert poetry_constraint("^1.2.3") == ">=1.2.3,<2"
    assert poetry_constraint("^0.2.3") == ">=0.2.3,<0.3"
    assert poetry_constraint("~1.2.3") == ">=1.2.3,<1.3"
    assert poetry_constraint("1.2.3") == "==1.2.3"
    assert poetry_constraint(">=1,<2") == ">=1,<2"
    assert poetry_constraint("*") == ""


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("uv.lock", "uv.lock"),
        ("flask-uv.lock", "uv.lock"),
        ("poetry.lock", "poetry.lock"),
        ("pdm.lock", "pdm.lock"),
        ("Pipfile.lock", "Pipfile.lock"),
        ("pyproject.toml", "pyproject.toml"),
        ("pylock.dev.toml", "pylock"),
        ("requirements-dev.txt", "requirements"),
    ],
)
def test_detection_by_name(name, fmt):
    assert detect_format(name, "") == fmt


@pytest.mark.parametrize(
    "name",
    [
        "flask-uv.lock",
        "toolong-poetry.lock",
        "unearth-pdm.lock",
        "pipenv-examples-Pipfile.lock",
        "flask-pyproject.toml",
    ],
)
def test_detection_by_content(name):
    text = (FORMATS / name).read_text()
    assert detect_format("lockfile", text) == detect_format(name, "")


def test_finds_the_preferred_lockfile(tmp_path):
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    assert find_lockfile(tmp_path).name == "requirements.txt"
    (tmp_path / "uv.lock").write_text("version = 1\n")
    assert find_lockfile(tmp_path).name == "uv.lock"


def test_installed_environment_is_read_without_importing(tmp_path):
    from scanner.lockfiles.environment import parse_environment, site_packages

    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    info = site / "demo-1.2.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: Demo\nVersion: 1.2\n")
    (site / "demo.py").write_text("raise SystemExit('imported!')\n")
    vcs = site / "tool-0.1.dist-info"
    vcs.mkdir()
    (vcs / "METADATA").write_text("Metadata-Version: 2.1\nName: tool\nVersion: 0.1\n")
    (vcs / "direct_url.json").write_text(
        '{"url": "https://github.com/x/tool", "vcs_info": {"vcs": "git"}}'
    )
    lock = parse_environment(site_packages(str(tmp_path / "venv")), "venv")
    packages = by_name(lock)
    assert packages["demo"].version == Version("1.2")
    assert packages["tool"].source.kind is SourceKind.VCS


def test_poetry_optional_packages_belong_to_the_extras_that_reach_them():
    lock = load("marko-2019-poetry.lock")
    packages = by_name(lock)
    # toc = ["python-slugify"], and python-slugify needs text-unidecode (optional too)
    assert packages["python-slugify"].groups == {"toc"}
    assert packages["text-unidecode"].groups == {"toc"}
    assert "toc" in lock.groups
    everything = {p.name for p in select(lock).packages}
    production = {p.name for p in select(lock, PRODUCTION).packages}
    assert {"python-slugify", "text-unidecode"} <= everything
    assert not {"python-slugify", "text-unidecode"} & production
    with_toc = {p.name for p in select(lock, Scope.of(extras={"toc"}, env=ENV)).packages}
    assert "text-unidecode" in with_toc


def test_pylock_groups_and_extras_are_known_to_its_markers():
    lock = load_lock(str(LOCKS / "pylock.toml"))
    assert set(lock.groups) == {"crypto", "dev", "test"}
    assert {p.name for p in select(lock, Scope.of(groups={"all"})).packages} >= {
        "pytest",
        "cryptography",
    }
    assert len(select(lock).packages) == len(lock.packages)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("pylock.toml", 'lock-version = "1.0"\n[[packages]]\nname = "a\\u001b]52;c;eA==\\u0007"\n'),
        (
            "poetry.lock",
            '[[package]]\nname = "a\\u001b[31m"\nversion = "1.0"\n'
            '[metadata]\nlock-version = "2.0"\ncontent-hash = "x"\n',
        ),
        ("uv.lock", 'version = 1\n[[package]]\nname = "a b"\nversion = "1.0"\nsource = {}\n'),
        ("Pipfile.lock", '{"_meta": {}, "default": {"a\\u001b[2J": {"version": "==1.0"}}}'),
    ],
)
def test_a_name_no_project_can_have_is_an_input_error(path, text):
    with pytest.raises(InputError) as raised:
        parse_lock(text, path)
    (message,) = raised.value.diagnostics()
    assert "not a valid project name" in message and "\x1b" not in message and "\x07" not in message
