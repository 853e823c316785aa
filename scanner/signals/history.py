"""Helpers over a project's release history, as the Simple API's files show it."""

from __future__ import annotations

from datetime import datetime

from packaging.version import Version

from scanner.models import DistFile, Evidence, ProjectFiles


def release_dates(files: ProjectFiles) -> dict[Version, datetime]:
    """Each release's first upload time (a release is its files' version)."""
    return dict(files.first_uploads)


def pinned_release(evidence: Evidence) -> tuple[ProjectFiles, Version, tuple[DistFile, ...]] | None:
    files = evidence.files
    version = evidence.package.version
    if not isinstance(files, ProjectFiles) or version is None or not evidence.release_files:
        return None
    return files, version, evidence.release_files
