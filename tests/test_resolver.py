"""The resolver for unpinned inputs, against a small index given as data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from scanner.models import CoreMetadata, Missing, ProjectFiles
from scanner.resolve import target_environment
from scanner.resolver import ResolutionError, ResolverOptions, resolve
from tests.signals.build import dist

ENV = target_environment("3.12.7", "linux")
T = datetime(2026, 1, 1, tzinfo=UTC)


class FakeIndex:
    """name -> {version: (requires_dist or None for dynamic, options)}."""

    def __init__(self, projects):
        self.projects = projects

    def files(self, name):
        releases = self.projects.get(name)
        if releases is None:
            return Missing(f"https://index.example/simple/{name}/")
        files = []
        for version, (_, options) in releases.items():
            files.append(
                dist(
                    name,
                    version,
                    options.get("uploaded", T),
                    wheel=not options.get("sdist"),
                    yanked=options.get("yanked", False),
                    requires_python=options.get("requires_python"),
                )
            )
        return ProjectFiles(canonicalize_name(name), "u", "1.1", tuple(releases), tuple(files))

    def metadata(self, file):
        requires, options = self.projects[file.filename.split("-")[0]][str(file.version)]
        return CoreMetadata(
            "u",
            "pep658" if not options.get("sdist") else "sdist",
            "2.1" if options.get("sdist") else "2.4",
            None,
            None,
            None,
            tuple(requires or ()),
            None,
            None,
            None,
            None,
            (),
            ("Requires-Dist",) if requires is None else (),
        )


def pins(requirements, projects, **options):
    found, notes = resolve(
        [Requirement(r) for r in requirements], FakeIndex(projects), ResolverOptions(ENV, **options)
    )
    return {n: str(c.version) for n, c in found.items()}, notes


def test_newest_compatible_versions_and_transitive_deps():
    projects = {
        "app": {"1.0": (["lib>=2"], {}), "2.0": (["lib>=3"], {})},
        "lib": {"2.0": ([], {}), "3.0": ([], {}), "3.1": ([], {})},
    }
    assert pins(["app"], projects)[0] == {"app": "2.0", "lib": "3.1"}
    assert pins(["app<2"], projects)[0] == {"app": "1.0", "lib": "3.1"}


def test_yanked_prerelease_requires_python_and_cutoff():
    projects = {
        "lib": {
            "1.0": ([], {}),
            "1.1": ([], {"yanked": True}),
            "1.2b1": ([], {}),
            "1.3": ([], {"requires_python": ">=3.13"}),
            "1.4": ([], {"uploaded": datetime(2026, 6, 1, tzinfo=UTC)}),
        }
    }
    assert pins(["lib"], projects, exclude_newer=datetime(2026, 3, 1, tzinfo=UTC))[0] == {
        "lib": "1.0"
    }
    assert pins(["lib"], projects)[0] == {"lib": "1.4"}
    assert pins(["lib==1.1"], projects)[0] == {"lib": "1.1"}  # PEP 592: an exact pin may
    assert pins(
        ["lib<1.4"], projects, prereleases=True, exclude_newer=datetime(2026, 3, 1, tzinfo=UTC)
    )[0] == {"lib": "1.2b1"}


def test_extras_and_markers():
    projects = {
        "app": {"1.0": (['socks; extra == "proxy"', 'win; sys_platform == "win32"'], {})},
        "socks": {"1.0": ([], {})},
        "win": {"1.0": ([], {})},
    }
    assert pins(["app"], projects)[0] == {"app": "1.0"}
    assert pins(["app[proxy]"], projects)[0] == {"app": "1.0", "socks": "1.0"}


def test_dynamic_sdist_metadata_is_reported_never_built():
    projects = {"old": {"0.1": (None, {"sdist": True})}}
    found, notes = pins(["old"], projects)
    assert found == {"old": "0.1"}
    assert notes == ["old 0.1: metadata unavailable (dependencies not resolved; nothing was built)"]


def test_impossible_resolution_says_why():
    projects = {"app": {"1.0": (["lib>=5"], {})}, "lib": {"1.0": ([], {})}}
    with pytest.raises(ResolutionError, match="no versions satisfy: lib>=5"):
        pins(["app"], projects)


def test_version_objects_are_real():
    found, _ = resolve(
        [Requirement("lib")], FakeIndex({"lib": {"1.0": ([], {})}}), ResolverOptions(ENV)
    )
    assert found["lib"].version == Version("1.0")


def test_scan_resolves_a_pyproject_against_the_local_index(capsys, index, tmp_path):
    import json

    from scanner.cli import main

    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\ndependencies = ["gunicorn==26.0.0"]\n'
    )
    code = main(
        [
            "scan",
            str(tmp_path / "pyproject.toml"),
            "--index-url",
            index.url,
            "--format",
            "json",
            "--no-live-advisories",
            "--exclude-newer",
            "2026-11-01",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    versions = {p["name"]: p["version"] for p in report["packages"]}
    assert versions["gunicorn"] == "26.0.0" and "packaging" in versions
    assert report["format"] == "pyproject.toml (resolved)"
    assert any("resolved 2 packages" in n for n in report["notes"])
    assert code in (0, 3)


def test_one_unresolvable_requirement_does_not_sink_the_rest():
    from scanner.models import Lock, LockedPackage
    from scanner.resolver import resolve_lock

    projects = {"good": {"1.0": ([], {})}}
    packages = (
        LockedPackage(canonicalize_name("good"), None, requirement="good"),
        LockedPackage(canonicalize_name("gone"), None, requirement="gone"),
    )
    lock = Lock(path="r.txt", format="requirements", packages=packages)
    resolved = resolve_lock(lock, FakeIndex(projects), ResolverOptions(ENV), packages)
    versions = {p.name: p.version for p in resolved.packages}
    assert versions == {"good": Version("1.0"), "gone": None}
    assert any("gone: no versions satisfy" in str(n) for n in resolved.notes)


def test_unpinned_input_resolves_for_the_python_its_markers_name_most():
    from scanner.resolver import _environment_for

    lines = [f'pkg{i} ; python_version >= "3.12"' for i in range(3)] + ["other"]
    options = ResolverOptions(target_environment("3.11.7", "linux"), python_named=False)
    chosen, notes = _environment_for([Requirement(x) for x in lines], options)
    assert chosen.environment["python_version"] in {"3.12", "3.13", "3.14"}
    assert notes and "4 of 4" in notes[0]
    named = ResolverOptions(target_environment("3.11.7", "linux"), python_named=True)
    assert _environment_for([Requirement(x) for x in lines], named) == (named, [])


def test_a_resolution_stops_within_its_budget_with_an_error_that_says_what_to_do():
    from scanner.models import Lock, LockedPackage
    from scanner.resolver import resolve_lock

    projects = {"good": {"1.0": (["dep"], {})}, "dep": {"1.0": ([], {})}}
    packages = (
        LockedPackage(canonicalize_name("good"), None, requirement="good"),
        LockedPackage(canonicalize_name("pinned"), Version("2.0")),
    )
    lock = Lock(path="r.txt", format="requirements", packages=packages)
    ticks = []
    options = ResolverOptions(ENV, budget=-1.0, progress=lambda n, s: ticks.append(n))
    resolved = resolve_lock(lock, FakeIndex(projects), options, packages)
    versions = {p.name: p.version for p in resolved.packages}
    assert versions == {"good": None, "pinned": Version("2.0")}  # nothing lost, nothing made up
    (note,) = [str(n) for n in resolved.notes if "did not finish" in str(n)]
    assert "pin the input" in note


def test_the_resolver_reads_a_projects_releases_once():
    from scanner.resolver import resolve

    asked: list[str] = []

    class Counting(FakeIndex):
        def files(self, name):
            asked.append(name)
            return super().files(name)

    projects = {"a": {"1.0": (["b>=1"], {}), "2.0": (["b>=2"], {})}, "b": {"1.0": ([], {})}}
    index = Counting(projects)
    pins, _ = resolve([Requirement("a")], index, ResolverOptions(ENV))
    assert pins["a"].version == Version("1.0")  # 2.0 needs a b that does not exist
    assert sorted(asked) == ["a", "b"]


def test_an_unpinned_input_resolves_production_and_says_which_groups_it_left_out(
    capsys, index, tmp_path
):
    import json

    from scanner.cli import main

    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\ndependencies = ["six"]\n'
        '[dependency-groups]\ndev = ["gunicorn==26.0.0"]\n'
    )
    argv = ["scan", str(tmp_path / "pyproject.toml"), "--index-url", index.url, "--format", "json"]
    main([*argv, "--no-live-advisories"])
    report = json.loads(capsys.readouterr().out)
    assert {p["name"] for p in report["packages"]} == {"six"}
    assert any(
        "covered: production, for one environment" in n and "dev" in n for n in report["notes"]
    )
    main([*argv, "--no-live-advisories", "--groups", "dev"])
    report = json.loads(capsys.readouterr().out)
    assert {"six", "gunicorn"} <= {p["name"] for p in report["packages"]}
