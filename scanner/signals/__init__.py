"""The signal catalog: every signal trustscan computes, in one explicit list."""

from __future__ import annotations

from collections.abc import Iterable

from scanner.models import Evidence, Finding
from scanner.signals.contents import COMMAND_SHADOWING, MODULE_SHADOWING, NEW_BINARY, STARTUP_HOOK
from scanner.signals.inputs import EXTRA_INDEX, INDEX_ADDED
from scanner.signals.integrity import (
    FILE_NOT_SERVED,
    HASH_MISMATCH,
    METADATA_MISMATCH,
    NOT_FROM_INDEX,
    NOT_ON_INDEX,
    UNSAFE_ARCHIVE,
)
from scanner.signals.interface import Signal, SignalContext
from scanner.signals.maintainers import (
    MAINTAINER_EMAIL_CHANGED,
    OWNER_ADDED,
    OWNERS_REPLACED,
    SOLE_OWNER,
)
from scanner.signals.metadata import DISPOSABLE_EMAIL, NO_SOURCE_URL
from scanner.signals.names import TYPOSQUAT
from scanner.signals.provenance import (
    ATTESTATION_INVALID,
    LOCK_IDENTITY_MISMATCH,
    PROVENANCE_DROPPED,
    PUBLISHER_CHANGED,
    PUBLISHER_REPO_MISMATCH,
    UNATTESTED,
)
from scanner.signals.releases import (
    DORMANT_THEN_RELEASE,
    FEW_RELEASES,
    LATE_FILE,
    PROJECT_STATUS,
    SDIST_ONLY,
    STALE,
    TOO_NEW,
    YANKED,
    YOUNG_PROJECT,
)
from scanner.signals.trust import TRUST_EXPIRED, UNTRUSTED
from scanner.signals.vulnerabilities import KNOWN_VULNERABILITY, MALICIOUS_PACKAGE

CATALOG: tuple[Signal, ...] = (
    # integrity
    HASH_MISMATCH,
    FILE_NOT_SERVED,
    METADATA_MISMATCH,
    NOT_ON_INDEX,
    NOT_FROM_INDEX,
    UNSAFE_ARCHIVE,
    EXTRA_INDEX,
    INDEX_ADDED,
    # provenance
    ATTESTATION_INVALID,
    LOCK_IDENTITY_MISMATCH,
    PROVENANCE_DROPPED,
    PUBLISHER_CHANGED,
    PUBLISHER_REPO_MISMATCH,
    UNATTESTED,
    # what the release installs
    STARTUP_HOOK,
    COMMAND_SHADOWING,
    MODULE_SHADOWING,
    NEW_BINARY,
    # vulnerabilities
    MALICIOUS_PACKAGE,
    KNOWN_VULNERABILITY,
    # releases and status
    YANKED,
    PROJECT_STATUS,
    DORMANT_THEN_RELEASE,
    TOO_NEW,
    YOUNG_PROJECT,
    LATE_FILE,
    FEW_RELEASES,
    SDIST_ONLY,
    STALE,
    # names
    TYPOSQUAT,
    # maintainers and metadata
    OWNERS_REPLACED,
    OWNER_ADDED,
    MAINTAINER_EMAIL_CHANGED,
    SOLE_OWNER,
    TRUST_EXPIRED,
    UNTRUSTED,
    DISPOSABLE_EMAIL,
    NO_SOURCE_URL,
)
BY_ID = {signal.id: signal for signal in CATALOG}

__all__ = ["BY_ID", "CATALOG", "Signal", "SignalContext", "run_signals"]


def run_signals(
    evidence: Evidence, context: SignalContext, signals: Iterable[Signal] = CATALOG
) -> list[Finding]:
    """Every finding the signals raise for one package, worst first."""
    findings = [f for signal in signals for f in signal.check(signal, evidence, context)]
    return sorted(findings, key=lambda f: (-f.severity, f.signal))
