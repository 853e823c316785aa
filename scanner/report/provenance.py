"""`trustscan provenance NAME[==VERSION]`: per release and file, the state and the publisher."""

from __future__ import annotations

from scanner.models import ProjectProvenance, ReleaseProvenance
from scanner.text import inert


def render_provenance(found: ProjectProvenance) -> str:
    """The pinned release first, then the earlier releases that were read."""
    lines = [f"{found.project} on {found.index} (Simple API {found.api_version})"]
    for i, release in enumerate(found.releases):
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
