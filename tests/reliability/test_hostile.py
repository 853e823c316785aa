"""Hostile metadata and hostile archives: inert in every output, refused when unsafe.

Inputs (each reaches every output): ANSI CSI, OSC 8 hyperlinks and BEL, rich markup,
a bidi override, NUL bytes, a 10 MB field, hostile e-mail, URL and user name. Outputs:
table, text, JSON, SARIF, Markdown, the TUI. Archives: a zip bomb, a member that lies
about its size, path traversal, a symlinked PKG-INFO, a malformed central directory.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.registry.metadata import ArchiveError, read_sdist_pkg_info
from tests.conftest import scan_json
from tests.indexserver import RECORDED

ANSI = "\x1b[31mred\x1b[0m\x1b[2J"
OSC8 = "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07"
MARKUP = "[bold red]PWNED[/bold red] [link=https://evil.example]x[/link]"
BIDI = "\u202egnp.exe"
NUL = "nul\x00byte"
HOSTILE = f"{ANSI} {OSC8} {MARKUP} {BIDI} {NUL}"
HUGE = "A" * (10 * 1024 * 1024)
FORBIDDEN = ("\x1b]8;;", "\x1b[2J", "\x07", "\u202e", "\x00", "\x1b[31mred")
SIX_METADATA = next(RECORDED.glob("packages/*/*/*/six-1.16.0-py2.py3-none-any.whl.metadata"))


def serve_hostile(index, huge: bool = False) -> None:
    project = json.loads((RECORDED / "pypi" / "six" / "json.json").read_text())
    project["info"]["summary"] = HUGE if huge else HOSTILE
    project["info"]["project_urls"] = {f"Source {MARKUP}": f"javascript:alert(1) {HOSTILE}"}
    project["ownership"] = {"organization": None, "roles": [{"role": "Owner", "user": HOSTILE}]}
    index.overrides["/pypi/six/json"] = json.dumps(project).encode()
    metadata = SIX_METADATA.read_text()
    metadata = metadata.replace("Summary: ", f"Summary: {HUGE if huge else HOSTILE} ", 1)
    metadata = metadata.replace("Author-email:", f"Author-email: {MARKUP} <x@mailinator.com>,", 1)
    path = "/" + str(SIX_METADATA.relative_to(RECORDED))
    index.overrides[path] = metadata.encode()


def render(capsys, index, tmp_path, fmt: str) -> str:
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.16.0\n")
    main(
        [
            "scan",
            str(lock),
            "--index-url",
            index.url,
            "--format",
            fmt,
            "--no-live-advisories",
            "--refresh",
        ]
    )
    return capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["table", "text", "json", "sarif", "markdown"])
def test_hostile_text_is_inert_in_every_report(fmt, capsys, index, tmp_path):
    serve_hostile(index)
    out = render(capsys, index, tmp_path, fmt)
    for sequence in FORBIDDEN:
        assert sequence not in out, (fmt, sequence)
    if fmt in ("table", "text"):
        assert "\ufffd[31mred" in out  # the escape is shown neutralised, as text
    if fmt == "markdown":
        for line in out.splitlines():
            if "PWNED" in line or "evil.example" in line:
                # only ever inside a code span: no link, image or HTML can form
                assert "`` " in line, line
                assert "](javascript" not in line.replace("`` ", "").split("``")[0]
    if fmt in ("json", "sarif"):
        json.loads(out)  # still valid; escapes are JSON-escaped text


@pytest.mark.parametrize("fmt", ["table", "text", "json", "sarif", "markdown"])
def test_a_10mb_field_is_bounded_in_every_report(fmt, capsys, index, tmp_path):
    serve_hostile(index, huge=True)
    out = render(capsys, index, tmp_path, fmt)
    assert len(out) < 200_000, (fmt, len(out))
    if fmt == "json":
        summary = json.loads(out)["packages"][0]["summary"]
        assert "more characters cut" in summary or len(summary) <= 4100


def test_hostile_text_is_inert_in_the_tui(capsys, index, tmp_path):
    from rich.console import Console

    from tui.app import TrustscanApp
    from tui.widgets.details import Details

    serve_hostile(index)
    report = json.loads(render(capsys, index, tmp_path, "json"))

    async def browse() -> list[str]:
        texts = []
        async with TrustscanApp(report=report).run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            details = pilot.app.screen.query_one(Details)
            for view in details.views.values():
                console = Console(width=200, record=True, file=io.StringIO())
                console.print(view)
                texts.append(console.export_text(styles=True))
        return texts

    for text in asyncio.run(browse()):
        for sequence in ("\x1b]8;;", "\x1b[2J", "\x07", "\u202e", "\x00"):
            assert sequence not in text


# --- archives -----------------------------------------------------------------------


def wheel(members: dict[str, bytes], *, lie: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    data = buffer.getvalue()
    if lie:  # shrink the declared size of every member in the central directory
        start = data.rfind(b"PK\x01\x02")
        while start != -1:
            data = data[: start + 24] + (10).to_bytes(4, "little") + data[start + 28 :]
            start = data.rfind(b"PK\x01\x02", 0, start)
    return data


def sdist(entries: list[tarfile.TarInfo], payloads: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info in entries:
            archive.addfile(info, io.BytesIO(payloads.get(info.name, b"")))
    return buffer.getvalue()


METADATA_OK = b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n"
BOMB = b"\x00" * (50 * 1024 * 1024)


def symlinked_sdist() -> bytes:
    link = tarfile.TarInfo("evil-1.0/PKG-INFO")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    return sdist([link], {})


def traversal_sdist() -> bytes:
    info = tarfile.TarInfo("../../../tmp/evil-PKG-INFO")
    info.size = len(METADATA_OK)
    return sdist([info], {info.name: METADATA_OK})


ARCHIVES = {
    "zip bomb (METADATA inflates to 50 MB)": (
        "evil-1.0-py3-none-any.whl",
        wheel({"evil-1.0.dist-info/METADATA": BOMB}),
        "claims",
    ),
    "member lying about its size": (
        "evil-1.0-py3-none-any.whl",
        wheel({"evil-1.0.dist-info/METADATA": BOMB}, lie=True),
        "inflates past|cannot read",
    ),
    "path traversal instead of METADATA": (
        "evil-1.0-py3-none-any.whl",
        wheel({"../../evil-1.0.dist-info/METADATA": METADATA_OK, "/abs/METADATA": METADATA_OK}),
        "expected one",
    ),
    "malformed central directory": (
        "evil-1.0-py3-none-any.whl",
        b"PK\x03\x04"
        + b"\xff" * 5000
        + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 5, 5, 1000, 4000, 0),
        "not a readable zip",
    ),
    "symlinked PKG-INFO in an sdist": ("evil-1.0.tar.gz", symlinked_sdist(), "not a regular file"),
    "path traversal in an sdist": ("evil-1.0.tar.gz", traversal_sdist(), "no PKG-INFO"),
}


def serve_archive(index, filename: str, data: bytes) -> None:
    digest = hashlib.sha256(data).hexdigest()
    path = f"/packages/ev/il/{digest}/{filename}"
    index.overrides[path] = data
    page = {
        "meta": {"api-version": "1.1"},
        "name": "evil",
        "versions": ["1.0"],
        "files": [
            {
                "filename": filename,
                "url": f"../../packages/ev/il/{digest}/{filename}",
                "hashes": {"sha256": digest},
                "upload-time": "2026-01-01T00:00:00Z",
                "yanked": False,
            }
        ],
    }
    index.overrides["/simple/evil/"] = json.dumps(page).encode()
    project = json.loads((RECORDED / "pypi" / "six" / "json.json").read_text())
    project["info"].update(name="evil", version="1.0")
    index.overrides["/pypi/evil/json"] = json.dumps(project).encode()


@pytest.mark.parametrize("case", sorted(ARCHIVES))
def test_hostile_archives_are_refused_with_a_finding(case, capsys, index, tmp_path, monkeypatch):
    filename, data, reason = ARCHIVES[case]
    serve_archive(index, filename, data)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    before = {p for p in Path("/tmp").glob("*evil*")}
    lock = work / "requirements.txt"
    lock.write_text("evil==1.0\n")
    main(["scan", str(lock), "--index-url", index.url, "--format", "json", "--no-live-advisories"])
    (package,) = json.loads(capsys.readouterr().out)["packages"]
    finding = next(f for f in package["findings"] if f["signal"] == "unsafe-archive")
    import re

    assert re.search(reason, finding["evidence"]["reason"]), finding["evidence"]["reason"]
    assert finding["severity"] == "high"
    assert package["families"]["dependencies"]["state"] == "unknown"
    assert list(work.iterdir()) == [lock]  # nothing extracted here ...
    assert {p for p in Path("/tmp").glob("*evil*")} == before  # ... nor by traversal


def test_sdist_reader_bounds_member_count():
    entries = []
    for i in range(20_050):
        info = tarfile.TarInfo(f"evil-1.0/f{i}")
        info.size = 0
        entries.append(info)
    with pytest.raises(ArchiveError, match="more than 20000 members"):
        read_sdist_pkg_info(sdist(entries, {}), "evil-1.0.tar.gz")


def test_a_refused_archive_is_remembered_not_downloaded_again(capsys, index, tmp_path):
    """Files are immutable: an archive refused once (here, a zip bomb) is refused from
    the store on the next scan, with the same reason, and not fetched again."""
    filename, data, _ = ARCHIVES["zip bomb (METADATA inflates to 50 MB)"]
    serve_archive(index, filename, data)
    lock = tmp_path / "requirements.txt"
    lock.write_text("evil==1.0\n")
    reasons = []
    for _ in range(2):
        _, report, _ = scan_json(capsys, lock, "--index-url", index.url)
        (package,) = report["packages"]
        found = next(f for f in package["findings"] if f["signal"] == "unsafe-archive")
        reasons.append(found["evidence"]["reason"])
    assert reasons[0] == reasons[1] and "claims" in reasons[0]
    fetched = [p for p in index.paths() if p.endswith(filename)]
    assert len(fetched) == 1, fetched  # the range reads of the first scan only


def test_a_file_over_its_bound_is_remembered(capsys, index, tmp_path, monkeypatch):
    monkeypatch.setattr("scanner.registry.metadata.MAX_SDIST", 1000)
    serve_archive(index, "evil-1.0.tar.gz", sdist([], {}) + b"\0" * 5000)
    lock = tmp_path / "requirements.txt"
    lock.write_text("evil==1.0\n")
    for _ in range(2):
        _, report, _ = scan_json(capsys, lock, "--index-url", index.url)
        state = report["packages"][0]["families"]["dependencies"]
        assert state["state"] == "unknown" and "1000 byte limit" in state["reason"], state
    assert sum(p.endswith("evil-1.0.tar.gz") for p in index.paths()) == 1


def tar_bomb(zeros: int) -> bytes:
    """A gzip sdist whose first member decompresses to `zeros` bytes, PKG-INFO after it."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        big = tarfile.TarInfo("evil-1.0/zeros.bin")
        big.size = zeros
        archive.addfile(big, io.BytesIO(b"\0" * zeros))
        info = tarfile.TarInfo("evil-1.0/PKG-INFO")
        info.size = len(METADATA_OK)
        archive.addfile(info, io.BytesIO(METADATA_OK))
    return out.getvalue()


def test_a_tar_bomb_is_refused_by_decompressed_size(capsys, index, tmp_path, monkeypatch):
    monkeypatch.setattr("scanner.registry.metadata.MAX_SDIST_DECOMPRESSED", 1024 * 1024)
    data = tar_bomb(4 * 1024 * 1024)
    assert len(data) < 20_000  # a few kB that decompress to 4 MiB
    with pytest.raises(ArchiveError, match="decompresses to more than 1 MiB"):
        read_sdist_pkg_info(data, "evil-1.0.tar.gz")
    assert read_sdist_pkg_info(tar_bomb(1000), "evil-1.0.tar.gz") == METADATA_OK
    serve_archive(index, "evil-1.0.tar.gz", data)
    lock = tmp_path / "requirements.txt"
    lock.write_text("evil==1.0\n")
    code, report, _ = scan_json(capsys, lock, "--index-url", index.url)
    (package,) = report["packages"]
    assert code != 0
    assert any(f["signal"] == "unsafe-archive" for f in package["findings"])
