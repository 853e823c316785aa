"""requirements.txt parsing, on real files from the corpus and on built edge cases."""

from __future__ import annotations

import pytest
from packaging.version import Version

from scanner.errors import InputError
from scanner.lockfiles import load_lock
from scanner.lockfiles.requirements import parse_requirements
from scanner.models import SourceKind
from tests.conftest import LOCKS


def by_name(lock):
    return {p.name: p for p in lock.packages}


def test_pip_compile_file_with_hashes_and_via():
    # Copied from pypi/warehouse requirements/deploy.txt (see tests/data/locks/README.md).
    lock = load_lock(str(LOCKS / "warehouse-deploy.txt"))
    packages = by_name(lock)
    assert len(packages) == 8
    assert packages["ddtrace"].version == Version("4.10.5")
    assert packages["gunicorn"].direct is True and packages["packaging"].direct is False
    assert {n for n, p in packages.items() if p.direct} == {"ddtrace", "gunicorn"}
    assert "sha256:3dbb18cfcba0f4fbf1f0e6bdb4427b5b4c6cd9d1ab2e3b2a1a8e3ea0e6d10c7c" not in (
        packages["gunicorn"].hashes
    )
    assert all(h.startswith("sha256:") for p in lock.packages for h in p.hashes)
    assert all(len(p.hashes) >= 1 for p in lock.packages)
    assert packages["gunicorn"].line is not None
    assert lock.has_direct_info


def test_pins_without_hashes_and_multiline_via():
    lock = load_lock(str(LOCKS / "flask-tests.txt"))
    packages = by_name(lock)
    assert sorted(packages) == [
        "asgiref",
        "iniconfig",
        "packaging",
        "pluggy",
        "pytest",
        "python-dotenv",
    ]
    assert packages["packaging"].version == Version("24.2")
    assert not packages["packaging"].hashes


def test_continuations_markers_extras_and_single_line_via():
    text = (
        "requests[socks]==2.31.0 ; python_version >= '3.8' \\\n"
        "    --hash=sha256:AAAA \\\n"
        "    --hash=sha256:bbbb\n"
        "    # via -r requirements.in\n"
        "idna==3.7  # via requests\n"
    )
    lock = parse_requirements(text, "r.txt")
    requests, idna = lock.packages
    assert requests.extras == {"socks"}
    assert requests.marker == 'python_version >= "3.8"'
    assert requests.hashes == {"sha256:aaaa", "sha256:bbbb"}
    assert requests.direct is True and idna.direct is False
    assert (requests.line, idna.line) == (1, 5)


def test_direct_references_are_kept_as_not_from_index():
    text = (
        "-e ./tools/helper\n"
        "git+https://github.com/pallets/click@8.1.7#egg=click\n"
        "demo @ https://example.org/demo-1.0-py3-none-any.whl\n"
        "./vendor/thing-2.0.tar.gz\n"
    )
    packages = by_name(parse_requirements(text, "r.txt"))
    assert packages["helper"].source.kind is SourceKind.PATH
    assert packages["click"].source.kind is SourceKind.VCS
    assert packages["demo"].source.kind is SourceKind.URL
    assert packages["thing"].source.kind is SourceKind.PATH
    assert all(p.version is None for p in packages.values())


def test_includes_and_constraints():
    files = {
        "base/main.txt": "-r extra.txt\n-c constraints.txt\nflask\n",
        "base/extra.txt": "click==8.1.7\n",
        "base/constraints.txt": "flask==3.0.0\nwerkzeug==3.0.1\n",
    }
    lock = parse_requirements(files["base/main.txt"], "base/main.txt", files.__getitem__)
    packages = by_name(lock)
    assert packages["click"].file == "base/extra.txt"
    assert packages["flask"].version == Version("3.0.0")  # pinned by the constraint
    assert "werkzeug" not in packages  # a constraint adds no package


def test_other_index_marks_packages():
    lock = parse_requirements("--index-url https://mirror.example/simple\nsix==1.16.0\n", "r.txt")
    (six,) = lock.packages
    assert six.source.kind is SourceKind.OTHER_INDEX
    assert six.source.location == "https://mirror.example/simple"


def test_every_bad_line_is_reported_with_file_and_line():
    text = (
        "good==1.0\n"
        "bad===\n"
        "--frobnicate\n"
        "fine==2.0 --hash=nonsense\n"
        "also bad here\n"
        "-r missing.txt\n"
    )

    def missing(path: str) -> str:
        raise FileNotFoundError(2, "No such file or directory")

    with pytest.raises(InputError) as raised:
        parse_requirements(text, "req.txt", missing)
    lines = raised.value.diagnostics()
    assert [line.split(":")[1] for line in lines] == ["2", "3", "4", "5", "6"]
    assert all(line.startswith("req.txt:") for line in lines)
    assert "unknown option '--frobnicate'" in lines[1]
    assert "No such file" in lines[4]


def test_unpinned_requirement_is_kept_with_its_text():
    (p,) = parse_requirements("flask>=3\n", "r.txt").packages
    assert p.version is None and p.requirement == "flask>=3"
