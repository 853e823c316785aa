"""The package index's endpoints, parsed leniently into evidence.

- Simple API JSON (PEP 691, 700, 714, 740, 792): files, hashes, upload times,
  yanked, core-metadata and provenance keys.
- Project JSON `/pypi/NAME/json`: info, ownership roles, vulnerabilities.

File URLs are joined against the response URL: a mirror may answer with
relative links (`../../packages/...`), PyPI with absolute ones.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from scanner.errors import FetchError
from scanner.models import (
    DistFile,
    Missing,
    OwnerRole,
    ProjectFiles,
    ProjectInfo,
    ProvenanceRef,
    ReleaseSummary,
    metadata_file,
    representative,
)
from scanner.options import DEFAULT_INDEX
from scanner.registry.http import HttpClient, Response, private_hosts_of

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
_ARCHIVE_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip", ".tar", ".egg", ".exe")


def index_base(index_url: str) -> str:
    """The index root, from either form users give: `https://host/` or `.../simple/`."""
    base = index_url.rstrip("/")
    base = base.removesuffix("/simple")
    return base + "/"


def simple_root(index_url: str) -> str:
    """Where the index's project pages live (PEP 503: the URL pip is given).

    PyPI and its mirrors are named by their root (`https://pypi.org/`) or by their
    `/simple/` URL; any other URL (`https://download.pytorch.org/whl/cpu`) is itself
    the Simple root, as it is to pip."""
    stripped = index_url.rstrip("/")
    if stripped.endswith("/simple") or not urlsplit(stripped).path:
        return index_base(index_url) + "simple/"
    return stripped + "/"


class Index:
    """One package index (PyPI or a compatible mirror, or another PEP 503/691 index)."""

    def __init__(
        self, client: HttpClient, index_url: str = DEFAULT_INDEX, *, scanned: bool = True
    ) -> None:
        """`scanned`: the index the user named; it may be on a private address (a
        mirror, a test index), and then that host may be asked. Another index (one a
        lockfile names) may not make the scanner reach a private address."""
        self.client = client
        self.base = index_base(index_url)
        self.simple_base = simple_root(index_url)
        if scanned:
            client.private_hosts |= private_hosts_of(index_url)

    def simple_url(self, name: str) -> str:
        return f"{self.simple_base}{canonicalize_name(name)}/"

    def project_url(self, name: str) -> str:
        return f"{self.base}pypi/{canonicalize_name(name)}/json"

    def files(self, name: NormalizedName) -> ProjectFiles | Missing:
        url = self.simple_url(name)
        response = self.client.get(
            url, accept=SIMPLE_JSON, max_bytes=self.client.config.max_page_bytes
        )
        if response.status == 404:
            return Missing(url)
        return parse_simple(name, response)

    def release_files(
        self, name: NormalizedName, version: Version, earlier: int
    ) -> ProjectFiles | Missing:
        """The project's page as one pinned release needs it: every release's summary,
        and the files of `version` and of the `earlier` releases before it.

        Built once per page body and kept (see `HttpClient.get_view`), so a rescan
        reads kilobytes where the page is megabytes.
        """
        url = self.simple_url(name)
        response = self.client.get_view(
            url,
            view=f"release/{VIEW_FORMAT} {version} {earlier}",
            build=lambda page: release_view(name, page, version, earlier),
            accept=SIMPLE_JSON,
            max_bytes=self.client.config.max_page_bytes,
        )
        if response.status == 404:
            return Missing(url)
        return read_release_view(name, response)

    def project(self, name: NormalizedName) -> ProjectInfo | Missing:
        url = self.project_url(name)
        response = self.client.get(
            url,
            accept="application/json",
            max_bytes=self.client.config.max_page_bytes,
            shrink=shrink_project,
        )
        if response.status == 404:
            return Missing(url)
        return parse_project(response)


def load_json(response: Response, expected: str) -> dict[str, Any]:
    """The body as a JSON object, or a FetchError saying what came instead."""
    if "html" in response.content_type:
        raise FetchError(response.url, f"expected {expected}, got an HTML page")
    try:
        data = json.loads(response.body)
    except (ValueError, RecursionError) as e:
        raise FetchError(response.url, f"invalid JSON in {expected} ({type(e).__name__})") from e
    if not isinstance(data, dict):
        raise FetchError(response.url, f"expected a JSON object for {expected}")
    return data


def parse_simple(name: NormalizedName, response: Response) -> ProjectFiles:
    _check_simple_type(response)
    with _heavy(response.body):
        data = load_json(response, "Simple API JSON")
        return _simple_from(name, response, data)


# The keys of a file entry the scanner reads; a view keeps only these.
_FILE_KEYS = (
    "filename",
    "url",
    "hashes",
    "requires-python",
    "core-metadata",
    "dist-info-metadata",
    "yanked",
    "size",
    "upload-time",
    "provenance",
)
VIEW_FORMAT = 2  # bump when `release_view` changes what it keeps: old views are then unused
_VIEW_RELEASES = "trustscan:releases"  # [version, first upload, all files yanked] per release


def release_view(name: NormalizedName, page: Response, version: Version, earlier: int) -> bytes:
    """A Simple API page cut down for one pinned release (see `Index.release_files`):
    a PEP 691 document holding every file of `version` and, of each of the `earlier`
    releases before it, the files that are read of an earlier release (its
    `representative` and its `metadata_file`), plus a summary of every release.
    Built from the raw JSON, without turning every file of the page into an object."""
    if page.status == 404:
        return b""
    _check_simple_type(page)
    with _heavy(page.body):
        data = load_json(page, "Simple API JSON")
        raw_files = data.get("files")
        if not isinstance(raw_files, list):
            raise FetchError(page.url, "Simple API JSON has no 'files' list")
        groups = _by_version(name, raw_files)
        releases = []
        for release, raws in groups.items():
            first = _first_upload([r.get("upload-time") for r in raws])
            releases.append([str(release), first, all(bool(r.get("yanked")) for r in raws)])
        before = sorted(v for v in groups if v < version)[-earlier:] if earlier else []
        kept = [_trim(raw) for raw in groups.get(version, ())]
        for release in before:
            kept.extend(_trim(raw) for raw in _read_of_earlier(name, groups[release], page.url))
        view = {
            "meta": data.get("meta"),
            "name": data.get("name"),
            "versions": data.get("versions"),
            "project-status": data.get("project-status"),
            "files": kept,
            _VIEW_RELEASES: releases,
        }
        return json.dumps(view, separators=(",", ":")).encode()


def _by_version(
    name: NormalizedName, raw_files: list[Any]
) -> dict[Version, list[Mapping[str, Any]]]:
    """The page's file entries by release. A page is mostly wheels, dozens per release:
    their version is read once per (name, version) prefix, not once per file."""
    groups: dict[Version, list[Mapping[str, Any]]] = {}
    prefixes: dict[tuple[str, str], Version | None] = {}
    for raw in raw_files:
        if not isinstance(raw, Mapping):
            continue
        filename = raw.get("filename")
        if not isinstance(filename, str):
            continue
        parts = filename.split("-", 4)
        if filename.endswith(".whl") and len(parts) == 5:  # file_version's fast path
            key = (parts[0], parts[1])
            if key not in prefixes:
                prefixes[key] = file_version(name, filename)
            found = prefixes[key]
        else:
            found = file_version(name, filename)
        if found is not None:
            groups.setdefault(found, []).append(raw)
    return groups


def _first_upload(stamps: list[object]) -> str | None:
    """The earliest of a release's upload times, as ISO 8601. Stamps written alike (PyPI
    writes them all as `YYYY-MM-DDTHH:MM:SS.ffffffZ`) sort as text; others are parsed."""
    texts = [t for t in stamps if isinstance(t, str) and t]
    if not texts:
        return None
    shape = len(texts[0])
    if all(len(t) == shape and t.endswith("Z") for t in texts):
        first = parse_time(min(texts))
        if first is not None:
            return first.isoformat()
    times = [t for t in map(parse_time, texts) if t is not None]
    return min(times).isoformat() if times else None


def _read_of_earlier(
    name: NormalizedName, raws: list[Mapping[str, Any]], base_url: str
) -> list[Mapping[str, Any]]:
    files = {f.filename: f for r in raws if (f := _dist_file(name, r, base_url)) is not None}
    if not files:  # entries the index broke: nothing of this release can be read
        return []
    chosen = {representative(list(files.values())).filename}
    wanted = metadata_file(list(files.values()))
    if wanted is not None:
        chosen.add(wanted.filename)
    return [r for r in raws if r.get("filename") in chosen]


def _trim(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: raw[k] for k in _FILE_KEYS if k in raw}


def read_release_view(name: NormalizedName, response: Response) -> ProjectFiles:
    data = load_json(response, "Simple API JSON view")
    releases = {}
    for entry in data.get(_VIEW_RELEASES) or ():
        if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str):
            version = _version(entry[0])
            if version is not None:
                stamp = entry[1]
                try:  # the view's own isoformat() stamps, the common case, inline
                    first = datetime.fromisoformat(stamp) if stamp else None
                except (TypeError, ValueError):
                    first = parse_time(stamp)
                releases[version] = ReleaseSummary(first, bool(entry[2]))
    return _simple_from(name, response, data, releases)


def _check_simple_type(response: Response) -> None:
    if response.content_type not in (SIMPLE_JSON, "application/json"):
        raise FetchError(
            response.url, f"expected {SIMPLE_JSON}, got {response.content_type or 'no type'}"
        )


def _simple_from(
    name: NormalizedName,
    response: Response,
    data: dict[str, Any],
    releases: Mapping[Version, ReleaseSummary] | None = None,
) -> ProjectFiles:
    """The page's files; with `releases`, a view (`release_view`) holding only some."""
    meta = data.get("meta")
    meta = meta if isinstance(meta, Mapping) else {}
    api_version = str(meta.get("api-version", "1.0"))
    raw_files = data.get("files")
    if not isinstance(raw_files, list):
        raise FetchError(response.url, "Simple API JSON has no 'files' list")
    files = tuple(
        _dist_file(name, raw, response.url) for raw in raw_files if isinstance(raw, Mapping)
    )
    versions = data.get("versions")
    status = data.get("project-status")
    return ProjectFiles(
        name=name,
        url=response.url,
        api_version=api_version,
        versions=tuple(str(v) for v in versions) if isinstance(versions, list) else (),
        files=tuple(f for f in files if f is not None),
        project_status=str(status.get("status"))
        if isinstance(status, Mapping) and status.get("status")
        else None,
        releases=releases or {},
        complete=releases is None,
    )


def _dist_file(project: NormalizedName, raw: Mapping[str, Any], base_url: str) -> DistFile | None:
    filename = raw.get("filename")
    url = raw.get("url")
    if not isinstance(filename, str) or not isinstance(url, str):
        return None
    hashes = raw.get("hashes")
    hashes = hashes if isinstance(hashes, Mapping) else {}
    yanked = raw.get("yanked", False)
    metadata = raw.get("core-metadata", raw.get("dist-info-metadata"))
    provenance: ProvenanceRef = "unknown"
    provenance_url = None
    if "provenance" in raw:
        provenance_url = raw["provenance"] if isinstance(raw["provenance"], str) else None
        provenance = "available" if provenance_url else "none"
    size = raw.get("size")
    return DistFile(
        filename=filename,
        url=_join(base_url, url),
        version=file_version(project, filename),
        sha256=_hex(hashes.get("sha256")),
        size=size if isinstance(size, int) else None,
        upload_time=parse_time(raw.get("upload-time")),
        yanked=bool(yanked),
        yanked_reason=yanked if isinstance(yanked, str) and yanked else None,
        requires_python=raw.get("requires-python")
        if isinstance(raw.get("requires-python"), str)
        else None,
        core_metadata=bool(metadata) if metadata is not None else None,
        core_metadata_sha256=_hex(metadata.get("sha256"))
        if isinstance(metadata, Mapping)
        else None,
        provenance=provenance,
        provenance_url=_join(base_url, provenance_url) if provenance_url else None,
    )


_HEX = re.compile(r"[0-9a-fA-F]+")


def _hex(value: object) -> str | None:
    if isinstance(value, str) and _HEX.fullmatch(value):
        return value.lower()
    return None


def _join(base: str, url: str) -> str:
    """`url` against the page's URL (mirrors answer with relative links), fast when absolute."""
    return url if url.startswith(("https://", "http://")) else urljoin(base, url)


@functools.lru_cache(maxsize=65536)
def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


_canonical = functools.lru_cache(maxsize=4096)(canonicalize_name)  # a page repeats one name


def file_version(project: NormalizedName, filename: str) -> Version | None:
    """The version a distribution file belongs to, from its name."""
    if filename.endswith(".whl"):  # name-version-...: no need to parse the tags here
        parts = filename.split("-")
        if len(parts) >= 5 and _canonical(parts[0]) == project:
            found = _version(parts[1])
            if found is not None:
                return found
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
        if name == project:  # "cffi-1.0.2-2.tar.gz" parses as project "cffi-1-0-2"
            return version
    except (InvalidWheelFilename, InvalidSdistFilename):
        pass
    # Legacy uploads (.tar.bz2, .egg, .exe, odd separators): strip the project name.
    stem = filename
    for suffix in _ARCHIVE_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    for i in range(len(stem)):
        if stem[i] == "-" and canonicalize_name(stem[:i]) == project:
            rest = stem[i + 1 :]
            for candidate in (rest, rest.split("-")[0]):  # "1.0.2-2", then "1.0-py2.7"
                try:
                    return Version(candidate.removesuffix(".win32").removesuffix(".linux-x86_64"))
                except InvalidVersion:
                    continue
            return None
    return None


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


_PROJECT_KEYS = ("info", "ownership", "vulnerabilities", "last_serial")


_HEAVY = threading.BoundedSemaphore(2)  # parses of multi-megabyte documents at once
HEAVY_BYTES = 4 * 1024 * 1024


@contextlib.contextmanager
def _heavy(body: bytes) -> Iterator[None]:
    """Bound peak memory: only two threads turn a huge JSON document into objects at once."""
    if len(body) < HEAVY_BYTES:
        yield
        return
    with _HEAVY:
        yield


def shrink_project(body: bytes) -> bytes:
    """Project JSON without `releases`, `urls` and the long description: the files come
    from the Simple API, and for large projects those keys are most of the bytes
    (ddtrace's is 38 MB). Malformed bodies are kept as they are, to fail in parsing."""
    with _heavy(body):
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return body
        if not isinstance(data, dict) or not isinstance(data.get("info"), dict):
            return body
        kept = {k: data[k] for k in _PROJECT_KEYS if k in data}
        kept["info"] = {k: v for k, v in data["info"].items() if k != "description"}
        kept[_HISTORY_KEY] = _history(data.get("releases"))
        return json.dumps(kept, separators=(",", ":")).encode()


_HISTORY_KEY = "trustscan:history"  # what shrinking keeps of `releases`


def _history(releases: object) -> dict[str, object] | None:
    """How many releases, and the first upload: what is kept of `releases` (a
    typosquat's evidence shows the age of the project it resembles)."""
    if not isinstance(releases, Mapping):
        return None
    times = [
        stamp
        for files in releases.values()
        if isinstance(files, list)
        for f in files
        if isinstance(f, Mapping) and (stamp := parse_time(f.get("upload_time_iso_8601")))
    ]
    first = min(times, default=None)
    return {"count": len(releases), "first_upload": first.isoformat() if first else None}


def parse_project(response: Response) -> ProjectInfo:
    data = load_json(response, "project JSON")
    info = data.get("info")
    if not isinstance(info, Mapping):
        raise FetchError(response.url, "project JSON has no 'info' object")
    roles, organization = _ownership(response.url, data.get("ownership"))
    vulns = data.get("vulnerabilities")
    history = data.get(_HISTORY_KEY) if _HISTORY_KEY in data else _history(data.get("releases"))
    history = history if isinstance(history, Mapping) else {}
    count = history.get("count")
    return ProjectInfo(
        name=str(info.get("name") or ""),
        url=response.url,
        latest_version=_str(info.get("version")),
        summary=_str(info.get("summary")),
        project_urls=_pairs(info.get("project_urls")),
        home_page=_str(info.get("home_page")),
        download_url=_str(info.get("download_url")),
        author_email=_str(info.get("author_email")),
        maintainer_email=_str(info.get("maintainer_email")),
        classifiers=tuple(c for c in _list(info.get("classifiers")) if isinstance(c, str)),
        roles=roles,
        organization=organization,
        latest_vulnerabilities=tuple(v for v in vulns or () if isinstance(v, Mapping))
        if isinstance(vulns, list)
        else (),
        release_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        first_upload=parse_time(history.get("first_upload")),
    )


def _ownership(url: str, ownership: object) -> tuple[tuple[OwnerRole, ...] | None, str | None]:
    """Roles and organization; (None, None) when the index gives no ownership data.
    Ownership of the wrong shape is refused, never read as "no owners"."""
    if ownership is None:
        return None, None
    roles = ownership.get("roles") if isinstance(ownership, Mapping) else None
    if not isinstance(ownership, Mapping) or not isinstance(roles, list):
        raise FetchError(url, "project JSON: 'ownership' is not an object with a 'roles' list")
    parsed = []
    for role in roles:
        if not (
            isinstance(role, Mapping)
            and isinstance(role.get("user"), str)
            and isinstance(role.get("role"), str)
        ):
            raise FetchError(url, "project JSON: an ownership role is not {user, role} strings")
        parsed.append(OwnerRole(user=role["user"], role=role["role"]))
    organization = ownership.get("organization")
    if organization is not None and not isinstance(organization, str):
        raise FetchError(url, "project JSON: 'ownership.organization' is not a string")
    return tuple(parsed), organization or None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _pairs(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        return ()
    return tuple((str(k), str(v)) for k, v in value.items() if isinstance(v, str))
