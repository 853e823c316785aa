"""Build evidence for signal tests: real shapes, chosen values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from packaging.utils import canonicalize_name
from packaging.version import Version

from scanner.models import (
    CoreMetadata,
    DistFile,
    Evidence,
    LockedPackage,
    OwnerRole,
    ProjectFiles,
    ProjectInfo,
)
from scanner.refdata import load
from scanner.signals import SignalContext

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def context(**thresholds: float) -> SignalContext:
    return SignalContext(now=NOW, thresholds=dict(thresholds), reference=load())


def dist(name: str, version: str, uploaded: datetime, wheel: bool = True, **kw) -> DistFile:
    filename = f"{name}-{version}-py3-none-any.whl" if wheel else f"{name}-{version}.tar.gz"
    values = dict(
        filename=filename,
        url=f"https://files.example/{filename}",
        version=Version(version),
        sha256=kw.pop("sha256", "a" * 64),
        size=1000,
        upload_time=uploaded,
        yanked=False,
        yanked_reason=None,
        requires_python=None,
        core_metadata=True,
        core_metadata_sha256=None,
        provenance="unknown",
        provenance_url=None,
    )
    values.update(kw)
    return DistFile(**values)


def history(name: str, releases: dict[str, datetime], wheel: bool = True) -> list[DistFile]:
    return [dist(name, v, t, wheel) for v, t in releases.items()]


def evidence(
    name: str = "demo",
    version: str = "1.0",
    files: list[DistFile] | None = None,
    project: ProjectInfo | None = None,
    metadata: CoreMetadata | None = None,
    status: str | None = None,
    hashes: frozenset[str] = frozenset(),
) -> Evidence:
    package = LockedPackage(canonicalize_name(name), Version(version), hashes=hashes)
    files = files if files is not None else [dist(name, version, NOW - timedelta(days=400))]
    page = ProjectFiles(
        name=package.name,
        url=f"https://index.example/simple/{name}/",
        api_version="1.1",
        versions=tuple(sorted({str(f.version) for f in files})),
        files=tuple(files),
        project_status=status,
    )
    return Evidence(package, page, project or project_info(name), metadata)


def project_info(name: str = "demo", **kw) -> ProjectInfo:
    values = dict(
        name=name,
        url=f"https://index.example/pypi/{name}/json",
        latest_version="1.0",
        summary="demo",
        project_urls=(("Source", f"https://github.com/example/{name}"),),
        home_page=None,
        author_email=None,
        maintainer_email=None,
        classifiers=(),
        roles=(OwnerRole("alice", "Owner"), OwnerRole("bob", "Owner")),
        organization=None,
        latest_vulnerabilities=(),
    )
    values.update(kw)
    return ProjectInfo(**values)


def metadata(**kw) -> CoreMetadata:
    values = dict(
        source_url="https://files.example/demo.metadata",
        method="pep658",
        metadata_version="2.4",
        name="demo",
        version="1.0",
        summary="demo",
        requires_dist=(),
        requires_python=None,
        author_email=None,
        maintainer_email=None,
        home_page=None,
        project_urls=(("Source", "https://github.com/example/demo"),),
        dynamic=(),
    )
    values.update(kw)
    return CoreMetadata(**values)
