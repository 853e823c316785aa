"""What a release installs: a wheel's file list, read from its zip central directory.

The central directory is a few kilobytes at the end of the wheel, read with the
same range requests as METADATA; the content of every top-level `.pth` file (run
at every interpreter start) is read too, bounded, and so is `entry_points.txt` for
the commands the wheel installs. A file never changes, so the answer is kept as
long as the file (a rescan costs nothing). Nothing is extracted or run.
"""

from __future__ import annotations

import configparser
import json
import zipfile

from scanner.errors import ArchiveRejected, FetchError, NotServed, TooLarge
from scanner.models import DistFile, Inventory, ProjectFiles, Unavailable
from scanner.registry.http import HttpClient
from scanner.registry.metadata import ArchiveError, RangeReader

FORMAT = 1  # bump when what is kept changes
MAX_MEMBERS = 50_000
MAX_PTH = 64 * 1024  # a .pth file's bytes read at most
MAX_PTH_FILES = 20


def wheel_for(release: tuple[DistFile, ...], like: DistFile | None = None) -> DistFile | None:
    """The wheel to read of a release: one with `like`'s tags when there is one (the
    corresponding wheel of the previous release), else a universal one, else any."""
    wheels = [f for f in release if f.is_wheel]
    if not wheels:
        return None
    if like is not None:
        tags = _tags(like.filename)
        same = [w for w in wheels if _tags(w.filename) == tags]
        if same:
            return same[0]
    return min(wheels, key=lambda w: (not w.filename.endswith("-none-any.whl"), w.filename))


def _tags(filename: str) -> str:
    return "-".join(filename.removesuffix(".whl").split("-")[-3:])


def inventory(client: HttpClient, file: DistFile) -> Inventory | Unavailable:
    """The file list of a wheel; Unavailable (with why) when it cannot be read."""
    try:
        data = client.derived(
            f"{file.url}#inventory/{FORMAT}",
            lambda: _read(client, file),
            lasting=(ArchiveRejected, TooLarge, NotServed),
        )
    except FetchError as e:
        return Unavailable(e.reason, e.url, archive=isinstance(e, ArchiveRejected))
    raw = json.loads(data)
    return Inventory(
        filename=file.filename,
        files=tuple(raw["files"]),
        pth={k: v for k, v in raw["pth"].items()},
        commands=tuple(raw["commands"]),
    )


def release_inventories(
    client: HttpClient, files: ProjectFiles, release: tuple[DistFile, ...]
) -> tuple[Inventory | Unavailable | None, Inventory | Unavailable | None]:
    """The pinned release's wheel inventory, and its previous release's corresponding one."""
    wheel = wheel_for(release)
    if wheel is None:
        return None, None
    current = inventory(client, wheel)
    previous_version = files.earlier(wheel.version, 1) if wheel.version else []
    previous = None
    if previous_version:
        before = wheel_for(files.release(previous_version[-1]), like=wheel)
        previous = inventory(client, before) if before is not None else None
    return current, previous


def _read(client: HttpClient, file: DistFile) -> bytes:
    try:
        archive = zipfile.ZipFile(RangeReader(client, file.url))
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise ArchiveRejected(file.url, f"archive refused: not a readable zip ({e})") from e
    except ArchiveError as e:
        raise ArchiveRejected(file.url, f"archive refused: {e}") from e
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ArchiveRejected(file.url, f"archive refused: more than {MAX_MEMBERS} members")
        names = [i.filename for i in infos]
        pth: dict[str, str] = {}
        for info in infos:
            if "/" not in info.filename and info.filename.endswith(".pth"):
                if len(pth) >= MAX_PTH_FILES:
                    break
                pth[info.filename] = _text(archive, info, MAX_PTH)
        commands: list[str] = []
        entry_points = [
            n for n in names if n.count("/") == 1 and n.endswith(".dist-info/entry_points.txt")
        ]
        if entry_points:
            commands = _commands(_text(archive, archive.getinfo(entry_points[0]), MAX_PTH))
    return json.dumps({"files": names, "pth": pth, "commands": commands}).encode()


def _text(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> str:
    """A member's first `limit` bytes as text (never more inflated than that)."""
    try:
        with archive.open(info) as member:
            return member.read(limit).decode("utf-8", "replace")
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, ArchiveError) as e:
        return f"<unreadable: {type(e).__name__}>"


def _commands(text: str) -> list[str]:
    """The console and GUI script names an entry_points.txt declares."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # names keep their case
    try:
        parser.read_string(text)
    except configparser.Error:
        return []
    found = []
    for section in ("console_scripts", "gui_scripts"):
        if parser.has_section(section):
            found += list(parser.options(section))
    return sorted(set(found))
