"""pylock.toml (PEP 751) parsing."""

from __future__ import annotations

import pytest
from packaging.version import Version

from scanner.errors import InputError
from scanner.lockfiles import detect_format, load_lock
from scanner.lockfiles.pylock import parse_pylock
from scanner.models import SourceKind
from tests.conftest import LOCKS


def test_pipenv_example():
    # Copied from pypa/pipenv examples/pylock.toml; it writes upload-time as a string,
    # which packaging.pylock rejects: we accept the file.
    lock = load_lock(str(LOCKS / "pylock.toml"))
    names = {p.name: p for p in lock.packages}
    assert len(names) == 5
    assert names["requests"].version == Version("2.28.1")
    assert names["requests"].hashes == {
        "sha256:b8aa58f8cf793ffd8782d3d8cb19e66ef36f7aba4353eec859e74678b01b07a7"
    }
    assert names["pytest"].marker is not None
    assert lock.default_groups == {"default"}
    assert names["requests"].line is not None


def test_artifact_urls_on_a_private_host_mean_another_index():
    # The shape of pdm-build-locked's pylock.toml: no `index`, files on a private mirror.
    text = (
        'lock-version = "1.0"\ncreated-by = "pdm"\n[[packages]]\nname = "build"\n'
        'version = "1.2.2"\n[[packages.wheels]]\nname = "build-1.2.2-py3-none-any.whl"\n'
        'url = "https://artifactory.example.com/api/pypi/files/build-1.2.2-py3-none-any.whl"\n'
        'hashes = {sha256 = "00"}\n'
    )
    (package,) = parse_pylock(text, "pylock.toml").packages
    assert package.source.kind is SourceKind.OTHER_INDEX
    assert package.source.location == "https://artifactory.example.com"


def test_unsupported_version_names_what_was_seen():
    with pytest.raises(InputError, match=r"lock-version '2.0' is not supported \(supported: 1.x\)"):
        parse_pylock('lock-version = "2.0"\ncreated-by = "x"\npackages = []\n', "pylock.toml")


def test_invalid_toml_names_the_line():
    with pytest.raises(InputError) as raised:
        parse_pylock('lock-version = "1.0"\n[[packages]\nname = "x"\n', "pylock.toml")
    assert raised.value.diagnostics()[0].startswith("pylock.toml:2: invalid TOML")


def test_bad_entries_name_their_key_path():
    text = (
        'lock-version = "1.0"\n[[packages]]\nversion = "1"\n'
        '[[packages]]\nname = "b"\nversion = "x y"\n'
    )
    with pytest.raises(InputError) as raised:
        parse_pylock(text, "pylock.toml")
    assert raised.value.diagnostics() == [
        "pylock.toml:2: packages[0].name: missing or not a string",
        "pylock.toml:5: packages[1].version: invalid 'x y'",
    ]


def test_detection_by_name_then_content():
    assert detect_format("pylock.dev.toml", "") == "pylock"
    assert detect_format("locked.toml", 'lock-version = "1.0"\n[[packages]]\n') == "pylock"
    assert detect_format("requirements-dev.txt", "") == "requirements"
