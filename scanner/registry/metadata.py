"""Core metadata of a distribution file, read as data: nothing is run or unpacked.

In order: the PEP 658 `<file>.metadata` document (checked against its sha256
when the index gives one); else the wheel's `*.dist-info/METADATA`, read with
HTTP range requests on the zip's central directory; else the sdist's PKG-INFO,
read from the archive in memory. Every read is bounded.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import re
import tarfile
import zipfile
import zlib
from typing import Any, Literal

from scanner.errors import ArchiveRejected, DigestMismatch, FetchError, TooLarge
from scanner.models import CoreMetadata, DistFile
from scanner.registry.http import HttpClient

MAX_METADATA = 2 * 1024 * 1024  # an uncompressed METADATA / PKG-INFO
MAX_SDIST = 64 * 1024 * 1024  # an sdist downloaded whole to read PKG-INFO
MAX_WHEEL_READ = 8 * 1024 * 1024  # bytes of a wheel fetched through ranges
MAX_SDIST_MEMBERS = 20_000
# Bytes an sdist may decompress to before PKG-INFO: a tar is skipped through by
# decompressing it, so 20 MB of gzip holding 20 GB of zeros would cost minutes.
MAX_SDIST_DECOMPRESSED = 256 * 1024 * 1024
TAIL = 64 * 1024  # first range read: the end of the wheel holds its directory


_LINE_SPLIT = re.compile(r"(\r\n|\r|\n)")  # keeping each line's end
# The first blank line: a line end, then a line that is nothing but its end.
_HEADERS_END = re.compile(r"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r|\n)")


def read_headers(text: str) -> dict[str, list[str]]:
    """The header fields of an RFC 822 document, by lower-cased name, in order; read
    as the email package's compat32 parser reads them (a folded value keeps its line
    ends; a line that is neither a field nor a continuation ends the headers), but
    only as far as the headers go: the description after them can be megabytes."""
    end = _HEADERS_END.search(text)
    pieces = _LINE_SPLIT.split(text[: end.end()] if end else text)
    headers: dict[str, list[str]] = {}
    name: str | None = None
    value: list[str] = []
    for i in range(0, len(pieces), 2):
        bare = pieces[i]
        line = bare + pieces[i + 1] if i + 1 < len(pieces) else bare
        if not bare:
            break  # the blank line before the body (or the end of the text)
        if bare[0] in " \t":
            if name is not None:
                value.append(line)
            continue
        if name is not None:
            headers.setdefault(name.lower(), []).append("".join(value).rstrip("\r\n"))
            name, value = None, []
        if bare.startswith("From "):
            continue  # an mbox envelope line: never a field
        field, colon, rest = bare.partition(":")
        if not colon or not (field.isascii() and field.isprintable()) or " " in field:
            break  # the body began without a blank line
        if field:  # ":value" has no name and is skipped
            name, value = field, [(rest + line[len(bare) :]).lstrip(" \t")]
    if name is not None:
        headers.setdefault(name.lower(), []).append("".join(value).rstrip("\r\n"))
    return headers


class ArchiveError(Exception):
    """The archive is malformed or hostile; the message says how."""


def fetch_core_metadata(client: HttpClient, file: DistFile) -> CoreMetadata:
    """The core metadata of `file`; FetchError when no method can get it."""
    if file.core_metadata is not False:  # True, or the index did not say (api < 1.1)
        response = client.get(file.url + ".metadata", max_bytes=MAX_METADATA, immutable=True)
        if response.status == 200:
            if file.core_metadata_sha256:
                digest = hashlib.sha256(response.body).hexdigest()
                if digest != file.core_metadata_sha256:
                    raise DigestMismatch(
                        response.url,
                        f"metadata sha256 {digest} does not match the index's "
                        f"{file.core_metadata_sha256}",
                    )
            return parse_metadata(response.body, response.url, "pep658")
    method: Literal["wheel-range", "sdist"] = "wheel-range" if file.is_wheel else "sdist"
    read, member = (_wheel_metadata, "METADATA") if file.is_wheel else (_sdist_metadata, "PKG-INFO")

    def compute() -> bytes:
        try:
            return read(client, file)
        except ArchiveError as e:
            raise ArchiveRejected(file.url, f"archive refused: {e}") from e

    data = client.derived(f"{file.url}#{member}", compute, lasting=(ArchiveRejected, TooLarge))
    return parse_metadata(data, file.url, method)


def parse_metadata(
    data: bytes, source_url: str, method: Literal["pep658", "wheel-range", "sdist"]
) -> CoreMetadata:
    """Parse METADATA / PKG-INFO (RFC 822 headers; the body is the description)."""
    headers = read_headers(data[:MAX_METADATA].decode("utf-8", errors="replace"))

    def one(key: str) -> str | None:
        values = headers.get(key.lower())
        return values[0].strip() or None if values else None

    def many(key: str) -> tuple[str, ...]:
        return tuple(v.strip() for v in headers.get(key.lower(), ()) if v.strip())

    urls = []
    for entry in many("Project-URL"):
        label, _, url = entry.partition(",")
        urls.append((label.strip(), url.strip()))
    return CoreMetadata(
        source_url=source_url,
        method=method,
        metadata_version=one("Metadata-Version"),
        name=one("Name"),
        version=one("Version"),
        summary=one("Summary"),
        requires_dist=many("Requires-Dist"),
        requires_python=one("Requires-Python"),
        author_email=one("Author-email"),
        maintainer_email=one("Maintainer-email"),
        home_page=one("Home-page"),
        project_urls=tuple(urls),
        dynamic=many("Dynamic"),
        download_url=one("Download-URL"),
    )


class RangeReader(io.RawIOBase):
    """A seekable view of a remote file that fetches only the ranges read."""

    def __init__(self, client: HttpClient, url: str) -> None:
        self._client = client
        self._url = url
        self._pos = 0
        self._fetched = 0
        self._blocks: dict[int, bytes] = {}  # start offset -> bytes
        first = client.get_range(url, None, TAIL, max_bytes=MAX_WHEEL_READ)
        if first.status == 200:  # no range support: the whole file came
            self.size = len(first.body)
            self._blocks[0] = first.body
        else:
            self.size = _total_size(first.headers.get("content-range"), url)
            self._blocks[max(0, self.size - len(first.body))] = first.body
        self._fetched = len(first.body)

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self.size - self._pos)
        if want <= 0:
            return 0
        data = self._read(self._pos, want)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def _read(self, start: int, length: int) -> bytes:
        for block_start, block in self._blocks.items():
            if block_start <= start and start + length <= block_start + len(block):
                offset = start - block_start
                return block[offset : offset + length]
        if self._fetched + length > MAX_WHEEL_READ:
            raise ArchiveError(f"reading metadata needs more than {MAX_WHEEL_READ} bytes")
        chunk = max(length, 16 * 1024)
        response = self._client.get_range(self._url, start, chunk, max_bytes=MAX_WHEEL_READ)
        self._fetched += len(response.body)
        body = response.body if response.status == 206 else response.body[start:]
        self._blocks[start] = body
        return body[:length]


def _total_size(content_range: str | None, url: str) -> int:
    """The total from `Content-Range: bytes a-b/TOTAL`."""
    total = (content_range or "").rpartition("/")[2]
    if not total.isdigit():
        raise FetchError(url, f"range response without a usable Content-Range ({content_range!r})")
    return int(total)


def _wheel_metadata(client: HttpClient, file: DistFile) -> bytes:
    reader = RangeReader(client, file.url)
    try:
        archive = zipfile.ZipFile(reader)
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise ArchiveError(f"not a readable zip ({e})") from e
    with archive:
        candidates = [
            info
            for info in archive.infolist()
            if info.filename.count("/") == 1 and info.filename.endswith(".dist-info/METADATA")
        ]
        if len(candidates) != 1:
            raise ArchiveError(f"expected one */.dist-info/METADATA, found {len(candidates)}")
        return read_zip_member(archive, candidates[0])


def read_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, refusing members that claim or inflate past the bound."""
    if info.file_size > MAX_METADATA:
        raise ArchiveError(f"{info.filename} claims {info.file_size} bytes")
    try:
        with archive.open(info) as member:
            data = member.read(MAX_METADATA + 1)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise ArchiveError(f"cannot read {info.filename} ({e})") from e
    if len(data) > MAX_METADATA:
        raise ArchiveError(f"{info.filename} inflates past {MAX_METADATA} bytes")
    return data


def _sdist_metadata(client: HttpClient, file: DistFile) -> bytes:
    response = client.get_whole(file.url, max_bytes=MAX_SDIST)
    return read_sdist_pkg_info(response.body, file.filename)


def read_sdist_pkg_info(data: bytes, filename: str) -> bytes:
    """`<top>/PKG-INFO` of an sdist held in memory (tar or zip), without extracting; an
    `.egg` is a zip too (`EGG-INFO/PKG-INFO`). A zip is told by its bytes, not its name."""
    if filename.endswith((".zip", ".egg")) or data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                infos = [i for i in archive.infolist() if _is_top_pkg_info(i.filename)]
                if not infos:
                    raise ArchiveError("no PKG-INFO at the top of the archive")
                return read_zip_member(archive, infos[0])
        except zipfile.BadZipFile as e:
            raise ArchiveError(f"not a readable zip ({e})") from e
    try:
        stream = io.BufferedReader(_Bounded(_decompressed(data), MAX_SDIST_DECOMPRESSED))
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for count, member in enumerate(archive):
                if count > MAX_SDIST_MEMBERS:
                    raise ArchiveError(f"more than {MAX_SDIST_MEMBERS} members before PKG-INFO")
                if not _is_top_pkg_info(member.name):
                    continue
                if not member.isfile():
                    raise ArchiveError(f"{member.name} is not a regular file")
                if member.size > MAX_METADATA:
                    raise ArchiveError(f"{member.name} claims {member.size} bytes")
                extracted = archive.extractfile(member)
                if extracted is None:
                    raise ArchiveError(f"{member.name} cannot be read")
                return extracted.read(MAX_METADATA)
    except (tarfile.TarError, EOFError, OSError, lzma.LZMAError, zlib.error) as e:
        raise ArchiveError(f"not a readable tar archive ({e})") from e
    raise ArchiveError("no PKG-INFO at the top of the archive")


def _decompressed(data: bytes) -> io.BufferedIOBase:
    """The tar stream inside `data`: gzip, bzip2, xz, or none, by its magic bytes."""
    raw = io.BytesIO(data)
    if data.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw)
    if data.startswith(b"BZh"):
        return bz2.BZ2File(raw)
    if data.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw)
    return raw


class _Bounded(io.RawIOBase):
    """A read-only stream that refuses to give more than `limit` bytes."""

    def __init__(self, inner: io.BufferedIOBase, limit: int) -> None:
        self._inner = inner
        self._left = limit
        self._limit = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        data = self._inner.read(min(len(view), self._left + 1))
        if len(data) > self._left:
            raise ArchiveError(
                f"decompresses to more than {self._limit // (1024 * 1024)} MiB before PKG-INFO"
            )
        self._left -= len(data)
        view[: len(data)] = data
        return len(data)


def _is_top_pkg_info(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and parts[1] == "PKG-INFO" and parts[0] not in ("", "..", ".")
