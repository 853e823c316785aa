"""Index endpoints and core metadata, on recorded real responses."""

from __future__ import annotations

import json

import pytest
from packaging.version import Version

from scanner.errors import FetchError
from scanner.models import Missing, metadata_file, representative
from scanner.registry import ClientConfig, HttpClient, Index
from scanner.registry.index import SIMPLE_JSON
from scanner.registry.metadata import (
    ArchiveError,
    fetch_core_metadata,
    parse_metadata,
    read_headers,
    read_sdist_pkg_info,
)
from scanner.store import Store
from tests.indexserver import IndexServer, simple_page


def make_index(server):
    return Index(HttpClient(ClientConfig(backoff=0.01)), server.url)


def test_relative_and_absolute_file_urls_are_joined(index):
    names = ["six", "requests", "docopt", "packaging", "wrapt", "gunicorn"]
    forms = {IndexServer.relative_links(n) for n in names}
    assert forms == {True, False}  # both forms are served
    idx = make_index(index)
    for name in names:
        files = idx.files(name)
        assert files.files
        assert all(f.url.startswith(index.url + "packages/") for f in files.files), name


def test_simple_page_fields(index):
    files = make_index(index).files("requests")
    release = files.release(Version("2.32.0"))
    assert {f.filename for f in release} == {
        "requests-2.32.0-py3-none-any.whl",
        "requests-2.32.0.tar.gz",
    }
    assert all(f.yanked for f in release)
    assert release[0].yanked_reason.startswith("Yanked due to conflicts with CVE-2024-35195")
    assert files.api_version == "1.1" and not files.exposes_provenance
    assert all(f.provenance == "unknown" for f in files.files)
    assert all(f.upload_time is not None and len(f.sha256) == 64 for f in release)


def test_missing_project_is_missing_not_an_error(index):
    assert isinstance(make_index(index).files("jeilyfish"), Missing)


def test_project_json(index):
    project = make_index(index).project("six")
    assert project.roles and project.roles[0].role == "Owner"
    assert project.latest_version


def test_metadata_from_pep658(index):
    idx = make_index(index)
    (wheel,) = [f for f in idx.files("gunicorn").release(Version("26.0.0")) if f.is_wheel]
    metadata = fetch_core_metadata(idx.client, wheel)
    assert metadata.method == "pep658"
    assert metadata.name == "gunicorn" and metadata.version == "26.0.0"
    assert any(r.startswith("packaging") for r in metadata.requires_dist)


def test_metadata_from_wheel_through_range_requests(index):
    # The mirror has no .metadata for this wheel: METADATA is read from the zip.
    idx = make_index(index)
    (wheel,) = [f for f in idx.files("bytecode").release(Version("0.18.1")) if f.is_wheel]
    metadata = fetch_core_metadata(idx.client, wheel)
    assert metadata.method == "wheel-range"
    assert metadata.version == "0.18.1"
    ranges = [h.get("Range") for _, p, h in index.requests if p.endswith(".whl")]
    assert ranges and all(r and r.startswith("bytes=") for r in ranges)


def test_metadata_from_sdist_pkg_info(index):
    idx = make_index(index)
    (sdist,) = idx.files("docopt").release(Version("0.6.2"))
    metadata = fetch_core_metadata(idx.client, sdist)
    assert metadata.method == "sdist" and metadata.name == "docopt"
    assert not metadata.dependencies_known  # Metadata 1.1: an sdist promises nothing


def test_metadata_digest_is_checked(index):
    idx = make_index(index)
    (wheel,) = [f for f in idx.files("gunicorn").release(Version("26.0.0")) if f.is_wheel]
    from dataclasses import replace

    lying = replace(wheel, core_metadata=True, core_metadata_sha256="0" * 64)
    with pytest.raises(FetchError, match="does not match"):
        fetch_core_metadata(idx.client, lying)


def test_html_error_page_with_200_is_not_json(index):
    index.overrides["/pypi/six/json"] = b"<html>maintenance</html>"
    with pytest.raises(FetchError, match="invalid JSON"):
        make_index(index).project("six")


def test_sdist_reader_rejects_archives_without_pkg_info():
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        data = b"x"
        info = tarfile.TarInfo("../PKG-INFO")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    with pytest.raises(ArchiveError, match="no PKG-INFO"):
        read_sdist_pkg_info(buffer.getvalue(), "evil-1.0.tar.gz")


def test_an_egg_is_read_as_the_zip_it_is():
    """tika 1.24's .egg was read as a tar and reported unsafe-archive."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tika/__init__.py", "")
        archive.writestr("EGG-INFO/PKG-INFO", "Metadata-Version: 1.1\nName: tika\nVersion: 1.24\n")
    data = read_sdist_pkg_info(buffer.getvalue(), "tika-1.24-py3.8.egg")
    assert b"Name: tika" in data
    # a zip is told by its bytes, whatever its name says
    assert b"Name: tika" in read_sdist_pkg_info(buffer.getvalue(), "tika-1.24.tar.gz")


def test_recorded_files_are_noted():
    from tests.indexserver import RECORDED

    sources = json.loads((RECORDED / "SOURCES.json").read_text())
    stored = {str(p.relative_to(RECORDED)) for p in RECORDED.rglob("*") if p.is_file()}
    stored -= {"SOURCES.json", "README.md"}
    assert stored == set(sources)
    assert all(s["url"].startswith("https://") for s in sources.values())


def test_legacy_filenames_keep_their_version():
    from scanner.registry.index import file_version

    # A real cffi upload: "1.0.2-2" is not version 2 of a project "cffi-1-0-2".
    assert file_version("cffi", "cffi-1.0.2-2.tar.gz") == Version("1.0.2.post2")
    assert file_version("cffi", "cffi-2.0.0.tar.gz") == Version("2.0.0")
    assert file_version("six", "six-1.16.0-py2.py3-none-any.whl") == Version("1.16.0")


def test_a_release_view_holds_what_the_whole_page_says_of_that_release(index):
    idx = make_index(index)
    whole = idx.files("requests")
    pinned = Version("2.32.0")
    view = idx.release_files("requests", pinned, 2)
    assert whole.complete and not view.complete
    assert view.releases == whole.releases  # every release's first upload and yanked state
    assert view.releases[pinned].yanked and not view.releases[Version("2.31.0")].yanked
    assert view.first_uploads == whole.first_uploads
    held = {f.version for f in view.files}
    assert held == {pinned, Version("2.31.0"), Version("2.30.0")}
    assert view.release(pinned) == whole.release(pinned)  # every file of the pinned release
    for version in view.earlier(pinned, 2):  # of earlier ones, the files that are read
        assert set(view.release(version)) <= set(whole.release(version))
        assert representative(view.release(version)) == representative(whole.release(version))
        assert metadata_file(view.release(version)) == metadata_file(whole.release(version))
    assert view.earlier(pinned, 2) == whole.earlier(pinned, 2)
    assert (view.url, view.api_version, view.versions) == (
        whole.url,
        whole.api_version,
        whole.versions,
    )


def test_a_release_view_of_a_missing_project_is_missing(index):
    assert isinstance(make_index(index).release_files("jeilyfish", Version("1.0"), 5), Missing)


def test_a_release_view_keeps_of_earlier_releases_only_the_files_read():
    """wrapt ships ~100 files a release: the view of 2.5.2 holds them all, and of each
    earlier release the two that are read (its sdist, the wheel to read metadata from)."""
    with IndexServer() as server:
        idx = make_index(server)
        whole = idx.files("wrapt")
        pinned = Version("2.5.2")
        view = idx.release_files("wrapt", pinned, 5)
    assert view.release(pinned) == whole.release(pinned) and len(view.release(pinned)) > 90
    earlier = view.earlier(pinned, 5)
    assert earlier == whole.earlier(pinned, 5) and len(earlier) == 5
    for version in earlier:
        kept = view.release(version)
        assert 1 <= len(kept) <= 2 < len(whole.release(version))
        assert representative(kept) == representative(whole.release(version))
        assert metadata_file(kept) == metadata_file(whole.release(version))


def test_views_are_kept_until_the_page_changes(index, tmp_path):
    store = Store(tmp_path / "cache.db")
    pinned = Version("2.32.0")

    def read(ttl=3600.0):
        client = HttpClient(ClientConfig(backoff=0.01, ttl=ttl), cache=store)
        files = Index(client, index.url).release_files("requests", pinned, 5)
        return files, client.log.records

    first, _ = read()
    page_bytes = len(store.lookup(f"{SIMPLE_JSON} {first.url}").body)
    again, records = read()
    assert again == first and index.paths().count("/simple/requests/") == 1
    assert records[-1].source == "cache" and records[-1].bytes < page_bytes  # the view only
    kept, records = read(ttl=0)  # revalidated: 304, the view stands
    assert kept == first and records[-1].source == "revalidated"
    page = simple_page("requests")
    page["files"] = [f for f in page["files"] if "2.32.0" not in f["filename"]]
    index.overrides["/simple/requests/"] = json.dumps(page).encode()
    changed, _ = read(ttl=0)  # a new body: the view is rebuilt from it
    assert changed.release(pinned) == () and pinned not in changed.releases


def test_a_page_that_cannot_be_read_leaves_no_view(index, tmp_path):
    store = Store(tmp_path / "cache.db")
    index.overrides["/simple/six/"] = b"<html>not json</html>"
    client = HttpClient(ClientConfig(backoff=0.01), cache=store)
    with pytest.raises(FetchError, match="invalid JSON"):
        Index(client, index.url).release_files("six", Version("1.16.0"), 5)
    store.close()  # commits what the cache writer holds
    reopened = Store(tmp_path / "cache.db")
    assert not list(reopened.db.query("select key from http_cache where key like 'view %'"))
    assert list(reopened.db.query("select key from http_cache where key like '%/six/'"))


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_metadata_headers_end_at_the_first_blank_line(newline):
    text = newline.join(
        [
            "Metadata-Version: 2.1",
            "Name: demo",
            "Version: 1.0",
            "Requires-Dist: idna",
            "",
            "Requires-Dist: not-a-header-but-the-description",
            "Author-email: nobody@example.com",
        ]
    )
    metadata = parse_metadata(text.encode(), "https://example.invalid/demo", "pep658")
    assert metadata.requires_dist == ("idna",)
    assert metadata.author_email is None and metadata.version == "1.0"


def _compat32(text):
    """The email package's reading of the headers: the reference read_headers follows."""
    import email.parser
    import email.policy

    message = email.parser.Parser(policy=email.policy.compat32).parsestr(text, headersonly=True)
    found = {}
    for key, value in message.items():
        found.setdefault(key.lower(), []).append(str(value))
    return found


def test_headers_are_read_as_the_email_package_reads_them():
    import random

    from tests.conftest import DATA

    recorded = [p.read_text("utf-8", "replace") for p in (DATA / "index").rglob("*.metadata")]
    assert len(recorded) > 20
    crafted = [
        "Name: a\r\nVersion: 1\r\n  folded\r\n\r\nRequires-Dist: body",
        "From someone\nName: a\n",
        "Name: a\nFrom here: x\nVersion: 2\n",
        ":x\nName: b\n",
        " leading\nName: c\n",
        "Name: a\nnot a header\nVersion: 3\n",
        "Name:a\rVersion:\t5\r\r",
        "Bad Name: x\nName: y\n",
        "Name: a\n\tcont\n cont2\nName: b\n",
        "",
    ]
    rng = random.Random(740)
    tokens = ["Name", ":", " ", "\t", "\n", "\r", "\r\n", "x", "From ", "Version", "é", ";"]
    fuzzed = ["".join(rng.choices(tokens, k=rng.randrange(1, 30))) for _ in range(500)]
    for text in recorded + crafted + fuzzed:
        assert read_headers(text) == _compat32(text), repr(text[:200])


def test_shrunk_project_json_keeps_the_release_count_and_first_upload():
    from scanner.registry.http import Response
    from scanner.registry.index import parse_project, shrink_project

    body = json.dumps(
        {
            "info": {"name": "demo", "version": "2.0", "description": "x" * 10_000},
            "releases": {
                "1.0": [{"upload_time_iso_8601": "2015-03-01T10:00:00.000000Z"}],
                "2.0": [{"upload_time_iso_8601": "2020-01-01T00:00:00Z"}],
                "0.1": [],
            },
        }
    ).encode()
    shrunk = shrink_project(body)
    assert b"releases" not in shrunk.replace(b"trustscan:history", b"") and len(shrunk) < 1000
    for data in (body, shrunk):
        project = parse_project(Response("https://i/pypi/demo/json", 200, {}, data))
        assert project.release_count == 3
        assert project.first_upload is not None and project.first_upload.year == 2015
