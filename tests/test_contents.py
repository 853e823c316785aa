"""What the release installs, with fixture wheels of real shapes served by the local
index next to a clean previous release (contents are inert: nothing here runs)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest

from tests.conftest import DATA, scan_json

ADVISORIES = str(DATA / "advisories" / "pypa-subset.zip")
LITELLM_PTH = (
    "import os, subprocess, sys; "
    "subprocess.Popen([sys.executable, '-c', 'print(\"inert test payload\")'])\n"
)
MIASMA_PTH = "import base64; exec(base64.b64decode('cHJpbnQoImluZXJ0Iik='))\n"
NSPKG_PTH = (
    "import sys, types, os;has_mfs = sys.version_info > (3, 5);"
    "p = os.path.join(sys._getframe(1).f_locals['sitedir'], *('zope',));"
    "importlib = has_mfs and __import__('importlib.util')\n"
)
DISTUTILS_PTH = (
    "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; "
    "enabled = os.environ.get(var, 'local') == 'local'; "
    "enabled and __import__('_distutils_hack').add_shim(); \n"
)


def wheel(name: str, version: str, members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}/__init__.py", "")
        archive.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        for path, text in members.items():
            archive.writestr(path, text)
    return out.getvalue()


def serve(index, name: str, releases: dict[str, dict[str, str]]) -> None:
    """`name` with the given releases (version -> extra wheel members), oldest first."""
    files = []
    for i, (version, members) in enumerate(releases.items()):
        data = wheel(name, version, members)
        digest = hashlib.sha256(data).hexdigest()
        filename = f"{name}-{version}-py3-none-any.whl"
        index.overrides[f"/packages/{digest}/{filename}"] = data
        files.append(
            {
                "filename": filename,
                "url": f"../../packages/{digest}/{filename}",
                "hashes": {"sha256": digest},
                "upload-time": f"2024-0{i + 1}-01T00:00:00Z",
                "yanked": False,
            }
        )
    page = {
        "meta": {"api-version": "1.1"},
        "name": name,
        "versions": list(releases),
        "files": files,
    }
    index.overrides[f"/simple/{name}/"] = json.dumps(page).encode()
    project = {
        "info": {
            "name": name,
            "version": list(releases)[-1],
            "project_urls": {"Source": f"https://github.com/org/{name}"},
        },
        "ownership": {
            "organization": "org",
            "roles": [{"role": "Owner", "user": "a"}, {"role": "Owner", "user": "b"}],
        },
    }
    index.overrides[f"/pypi/{name}/json"] = json.dumps(project).encode()


def scan(capsys, index, tmp_path, pin: str, every: bool = False):
    lock = tmp_path / "requirements.txt"
    lock.write_text(pin + "\n")
    code, report, _ = scan_json(
        capsys, lock, "--index-url", index.url, "--advisory-db", ADVISORIES, "--allow-unevaluated"
    )
    (package,) = report["packages"]
    if every:
        return code, package["findings"]
    return code, {f["signal"]: f for f in package["findings"]}


@pytest.mark.parametrize(
    ("pth", "name"), [(LITELLM_PTH, "demo_init.pth"), (MIASMA_PTH, "demo-setup.pth")]
)
def test_a_pth_that_executes_fails_the_gate(capsys, index, tmp_path, pth, name):
    serve(index, "demo", {"1.0": {}, "1.1": {name: pth}})
    code, found = scan(capsys, index, tmp_path, "demo==1.1")
    hook = found["startup-hook"]
    assert code == 1 and hook["severity"] == "critical"
    assert hook["evidence"]["file"] == name
    assert hook["evidence"]["line"].startswith("import ")
    assert hook["evidence"]["new_since_previous_release"] is True


def test_a_new_plain_pth_is_critical_a_long_standing_one_medium(capsys, index, tmp_path):
    serve(index, "zopedemo", {"1.0": {}, "1.1": {"zopedemo-nspkg.pth": NSPKG_PTH}})
    _, found = scan(capsys, index, tmp_path, "zopedemo==1.1")
    assert found["startup-hook"]["severity"] == "critical"  # new since 1.0
    standing = {"distutils-precedence.pth": DISTUTILS_PTH}
    serve(index, "setuptoolsdemo", {"1.0": standing, "1.1": standing})
    code, found = scan(capsys, index, tmp_path, "setuptoolsdemo==1.1")
    assert found["startup-hook"]["severity"] == "medium" and code == 0  # does not fail the gate


def test_a_command_named_pip_in_an_unrelated_project(capsys, index, tmp_path):
    entry_points = "[console_scripts]\npip = demo.cli:main\ndemo = demo.cli:main\n"
    serve(index, "demo", {"1.0": {"demo-1.0.dist-info/entry_points.txt": entry_points}})
    code, found = scan(capsys, index, tmp_path, "demo==1.0")
    assert found["command-shadowing"]["evidence"]["command"] == "pip" and code == 1


def test_a_wheel_that_installs_requests_or_sitecustomize(capsys, index, tmp_path):
    serve(index, "demo", {"1.0": {"requests/__init__.py": "", "sitecustomize.py": ""}})
    _, found = scan(capsys, index, tmp_path, "demo==1.0", every=True)
    shadowing = {
        f["evidence"]["module"]: f["severity"] for f in found if f["signal"] == "module-shadowing"
    }
    assert shadowing == {"sitecustomize": "high", "requests": "medium"}


def test_a_release_that_adds_an_elf_binary(capsys, index, tmp_path):
    serve(
        index,
        "demo",
        {"1.0": {}, "1.1": {"demo/_miner.cpython-311-x86_64-linux-gnu.so": "\x7fELF"}},
    )
    _, found = scan(capsys, index, tmp_path, "demo==1.1")
    assert "_miner" in found["new-binary"]["message"]


def test_the_inventory_is_kept_a_rescan_reads_nothing(capsys, index, tmp_path):
    serve(index, "demo", {"1.0": {}, "1.1": {"demo-setup.pth": MIASMA_PTH}})
    scan(capsys, index, tmp_path, "demo==1.1")
    before = [p for p in index.paths() if p.endswith(".whl")]
    scan(capsys, index, tmp_path, "demo==1.1")
    assert [p for p in index.paths() if p.endswith(".whl")] == before


def test_a_hook_renamed_with_each_version_is_not_new(capsys, index, tmp_path):
    """google-cloud-aiplatform ships `…-2.7.0-py3.12-nspkg.pth`: a new name each release."""
    serve(
        index,
        "nsdemo",
        {
            "1.0": {"nsdemo-1.0-py3.12-nspkg.pth": NSPKG_PTH},
            "1.1": {"nsdemo-1.1-py3.12-nspkg.pth": NSPKG_PTH},
        },
    )
    code, found = scan(capsys, index, tmp_path, "nsdemo==1.1")
    assert found["startup-hook"]["severity"] == "medium" and code == 0


def test_a_first_release_that_ships_code_to_run_is_critical(capsys, index, tmp_path):
    serve(index, "freshdemo", {"0.1": {"freshdemo-setup.pth": MIASMA_PTH}})
    code, found = scan(capsys, index, tmp_path, "freshdemo==0.1")
    assert found["startup-hook"]["severity"] == "critical" and code == 1
