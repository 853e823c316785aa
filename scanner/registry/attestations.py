"""PEP 740 discovery: where a file's provenance is, and what the index says of it.

- Simple API, api-version >= 1.3: each file's `provenance` key is a URL, or
  null meaning there is none.
- Otherwise, when the key is missing on an index that supports it, the
  Integrity API `GET /integrity/NAME/VERSION/FILENAME/provenance`: 200 is a
  provenance; 404 with a JSON message means none; 403, an empty 404 or a
  network failure leave it unknown.
- An index below api-version 1.3 does not expose provenance: every file is
  `unknown`, never `none`.
"""

from __future__ import annotations

import hashlib
import json

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from scanner import provenance as pep740
from scanner.errors import FetchError, UsageError
from scanner.models import (
    DistFile,
    FileProvenance,
    Missing,
    ProjectFiles,
    ProjectProvenance,
    ReleaseProvenance,
    representative,
)
from scanner.registry.index import Index

INTEGRITY_JSON = "application/vnd.pypi.integrity.v1+json"
MAX_PROVENANCE = 4 * 1024 * 1024
EARLIER_RELEASES = 5


def file_provenance(index: Index, files: ProjectFiles, file: DistFile) -> FileProvenance:
    def unknown(reason: str) -> FileProvenance:
        return FileProvenance(file.filename, file.sha256, "unknown", reason)

    if not files.exposes_provenance:
        return unknown(
            f"index API {files.api_version} does not expose provenance (PEP 740 needs 1.3)"
        )
    if file.provenance == "none":
        return FileProvenance(file.filename, file.sha256, "none", "the index lists none")
    if not file.sha256:
        return unknown("the index gives no sha256 to verify against")
    url = file.provenance_url or (
        f"{index.base}integrity/{files.name}/{file.version}/{file.filename}/provenance"
    )
    try:
        response = index.client.get(url, accept=INTEGRITY_JSON, max_bytes=MAX_PROVENANCE)
    except FetchError as e:
        return unknown(f"provenance not fetched: {e.reason}")
    if response.status == 404:
        try:
            message = json.loads(response.body).get("message")
        except (ValueError, AttributeError, RecursionError):
            message = None
        if message:
            return FileProvenance(file.filename, file.sha256, "none", str(message)[:200], url=url)
        return unknown("the integrity API answered an empty 404")
    digest = file.sha256
    key = f"pep740 {digest} {hashlib.sha256(response.body).hexdigest()}"
    result = index.client.derived(
        key,
        lambda: pep740.encode(pep740.verify(file.filename, digest, response.body, url)),
        network=False,
        # verified or invalid is the answer for these bytes; a verifier error is not
        keep=lambda body: pep740.decode(body).state != "unknown",
    )
    return pep740.decode(result)


def release_provenance(
    index: Index, files: ProjectFiles, version: Version, release: tuple[DistFile, ...]
) -> ReleaseProvenance:
    return ReleaseProvenance(str(version), tuple(file_provenance(index, files, f) for f in release))


def earlier_provenance(
    index: Index, files: ProjectFiles, pinned: Version
) -> tuple[ReleaseProvenance, ...]:
    """Releases before the pinned one, newest first: one file each, as far as needed.

    The release just before is read first; when it is attested, that is enough
    for both drift signals, else up to five are read.
    """
    if not files.exposes_provenance:
        return ()
    found: list[ReleaseProvenance] = []
    for version in reversed(files.earlier(pinned, EARLIER_RELEASES)):
        release = files.release(version)
        if not release:
            continue
        one = representative(release)
        found.append(ReleaseProvenance(str(version), (file_provenance(index, files, one),)))
        if found[-1].attested:
            break
    return tuple(found)


def project_provenance(index: Index, name: str, version_text: str | None) -> ProjectProvenance:
    """The provenance of `name`'s release `version_text` (default: the newest with
    files), file by file, and of the earlier releases the drift signals read."""
    project = canonicalize_name(name)
    try:
        files = index.files(project)
    except FetchError as e:
        raise UsageError(f"{name}: could not fetch the index page: {e.reason}") from e
    if isinstance(files, Missing):
        raise UsageError(f"{name}: not on the index ({files.url})")
    versions = sorted({f.version for f in files.files if f.version})
    try:
        version = Version(version_text) if version_text else (versions[-1] if versions else None)
    except InvalidVersion:
        version = None
    if version is None or version not in versions:
        raise UsageError(f"{name}: no release {version_text or ''} with files on the index".strip())
    pinned = release_provenance(index, files, version, files.release(version))
    releases = (pinned, *earlier_provenance(index, files, version))
    return ProjectProvenance(project, index.base, files.api_version, releases)
