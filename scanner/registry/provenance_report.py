"""`trustscan provenance NAME[==VERSION]`: per release and file, the state and the publisher."""

from __future__ import annotations

from packaging.utils import canonicalize_name

from scanner.errors import FetchError, UsageError
from scanner.models import Missing, ReleaseProvenance
from scanner.registry.attestations import (
    earlier_provenance,
    parse_version,
    release_provenance,
)
from scanner.registry.index import Index
from scanner.text import inert


def render_provenance(index: Index, name: str, version_text: str | None) -> str:
    project = canonicalize_name(name)
    try:
        files = index.files(project)
    except FetchError as e:
        raise UsageError(f"{name}: could not fetch the index page: {e.reason}") from e
    if isinstance(files, Missing):
        raise UsageError(f"{name}: not on the index ({files.url})")
    versions = sorted({f.version for f in files.files if f.version})
    version = parse_version(version_text) if version_text else (versions[-1] if versions else None)
    if version is None or version not in versions:
        raise UsageError(f"{name}: no release {version_text or ''} with files on the index".strip())
    lines = [f"{project} on {index.base} (Simple API {files.api_version})"]
    pinned = release_provenance(index, files, version, files.release(version))
    releases = [pinned, *earlier_provenance(index, files, version)]
    for i, release in enumerate(releases):
        lines.append(_release_line(release, pinned=i == 0))
        for file in release.files:
            detail = str(file.publisher) if file.publisher else (file.reason or "")
            predicates = f" [{', '.join(file.predicates)}]" if file.predicates else ""
            lines.append(
                f"  {inert(file.filename)}  {file.state}  {inert(detail, 300)}{predicates}"
            )
    return "\n".join(lines) + "\n"


def _release_line(release: ReleaseProvenance, pinned: bool) -> str:
    label = "release" if pinned else "earlier release (one file read)"
    return f"{label} {release.version}: {'attested' if release.attested else 'not attested'}"
