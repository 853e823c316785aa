"""Metadata hygiene: can a reader find the source, and who wrote it?"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from scanner.models import (
    CoreMetadata,
    Evidence,
    Finding,
    ProjectInfo,
    Severity,
    email_addresses,
)
from scanner.signals.interface import Signal, SignalContext

_SOURCE_LABELS = re.compile(r"source|repository|code|github|gitlab|git\b|vcs", re.IGNORECASE)
_CODE_HOSTS = (
    "github.com",
    "gitlab.com",
    "bitbucket.org",
    "codeberg.org",
    "sr.ht",
    "git.sr.ht",
    "heptapod.net",
    "foss.heptapod.net",
)
_PLACEHOLDER_DOMAINS = frozenset(
    {
        "example.com",
        "example.org",
        "example.net",
        "test.com",
        "email.com",
        "domain.com",
        "localhost",
    }
)


def urls_of(evidence: Evidence) -> list[tuple[str, str]]:
    """(label, url) pairs the release and the project give: every Project-URL, the
    Home-page and the Download-URL, from core metadata and from the project JSON."""
    metadata = evidence.metadata if isinstance(evidence.metadata, CoreMetadata) else None
    project = evidence.project if isinstance(evidence.project, ProjectInfo) else None
    pairs: list[tuple[str, str]] = []
    for source in (metadata, project):
        if source is None:
            continue
        pairs += list(source.project_urls)
        pairs += [("Home-page", source.home_page)] if source.home_page else []
        pairs += [("Download-URL", source.download_url)] if source.download_url else []
    return list(dict.fromkeys(pairs))


def source_repositories(pairs: list[tuple[str, str]]) -> list[str]:
    found = []
    for label, url in pairs:
        host = (urlsplit(url).hostname or "").lower()
        if host in _CODE_HOSTS or (_SOURCE_LABELS.search(label) and host):
            found.append(url)
    return found


def _no_source_url(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    if not isinstance(evidence.metadata, CoreMetadata) and not isinstance(
        evidence.project, ProjectInfo
    ):
        return
    if not evidence.release_files:
        return
    pairs = urls_of(evidence)
    if not source_repositories(pairs):
        yield signal.finding(
            evidence,
            "the metadata names no source repository"
            + (f" (URLs given: {', '.join(label for label, _ in pairs)})" if pairs else ""),
            urls=dict(pairs),
        )


def emails_of(evidence: Evidence) -> list[str]:
    metadata = evidence.metadata if isinstance(evidence.metadata, CoreMetadata) else None
    project = evidence.project if isinstance(evidence.project, ProjectInfo) else None
    source = metadata or project
    if source is None:
        return []
    return sorted(email_addresses(source.author_email, source.maintainer_email))


def _disposable_email(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    domains = ctx.reference.disposable_domains if ctx.reference else frozenset()
    for address in emails_of(evidence):
        domain = address.rpartition("@")[2]
        if domain in domains or domain in _PLACEHOLDER_DOMAINS:
            kind = "disposable" if domain in domains else "placeholder"
            yield signal.finding(
                evidence,
                f"author/maintainer address {address} is on a {kind} domain",
                address=address,
                domain=domain,
                kind=kind,
            )


NO_SOURCE_URL = Signal(
    id="no-source-url",
    title="No source repository",
    severity=Severity.LOW,
    family="metadata",
    rationale="Without a named repository, nobody can compare the release with its source.",
    check=_no_source_url,
)
DISPOSABLE_EMAIL = Signal(
    id="disposable-email",
    title="Disposable or placeholder e-mail",
    severity=Severity.MEDIUM,
    family="metadata",
    rationale="A throwaway address cannot be reached or held to account; attackers use them.",
    check=_disposable_email,
)
