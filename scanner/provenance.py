"""PEP 740 provenance: parse leniently, verify offline with pypi-attestations.

Verification needs only the file's name and sha256 (from the index, which the
lock's hashes are checked against separately): nothing is downloaded. It runs
fully offline against sigstore's bundled trust root (`offline=True`), with
sigstore's TUF directories pointed at a folder of our own that is reset before
use, so a stale or unwritable cache elsewhere cannot break or change results.

https://peps.python.org/pep-0740/
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from scanner.models import FileProvenance, Publisher

_LOCK = threading.Lock()
_SIGSTORE_HOME: Path | None = None


def publisher_from(raw: Mapping[str, Any]) -> Publisher:
    """A Publisher from PyPI's JSON, leniently (fields are omitted, null or empty)."""

    def text(key: str) -> str | None:
        value = raw.get(key)
        return str(value) if value not in (None, "") else None

    return Publisher(
        kind=text("kind") or "unknown",
        repository=text("repository"),
        workflow=text("workflow") or text("workflow_filepath"),
        environment=text("environment"),
        email=text("email"),
    )


def verify(filename: str, sha256: str, body: bytes, url: str | None = None) -> FileProvenance:
    """Verify a provenance document (the Integrity API's JSON) for one file."""
    from pypi_attestations import (  # heavy (sigstore): imported on first use
        AttestationError,
        Distribution,
        Provenance,
    )

    try:
        document = json.loads(body)
        provenance = Provenance.model_validate(document)
    except (ValueError, RecursionError) as e:
        return FileProvenance(
            filename, sha256, "invalid", f"malformed provenance: {_short(e)}", url=url
        )
    try:
        dist = Distribution(name=filename, digest=sha256)
    except ValueError as e:
        return FileProvenance(filename, sha256, "unknown", f"cannot check this file: {_short(e)}")
    raw_bundles = document.get("attestation_bundles") or []
    verified: list[tuple[Publisher, str]] = []
    with _sigstore_environment():
        for raw_bundle, bundle in zip(raw_bundles, provenance.attestation_bundles, strict=False):
            publisher = publisher_from(raw_bundle.get("publisher") or {})
            for attestation in bundle.attestations:
                try:
                    predicate_type, _ = attestation.verify(bundle.publisher, dist, offline=True)
                except AttestationError as e:
                    return FileProvenance(
                        filename, sha256, "invalid", _short(e), publisher=None, url=url
                    )
                except Exception as e:  # sigstore's TUF or trust-root errors: not the file's fault
                    return FileProvenance(
                        filename, sha256, "unknown", f"verifier error: {_short(e)}", url=url
                    )
                verified.append((publisher, predicate_type))
    if not verified:
        return FileProvenance(
            filename, sha256, "invalid", "provenance holds no attestation", url=url
        )
    publishers = {p for p, _ in verified}
    return FileProvenance(
        filename,
        sha256,
        "verified",
        publisher=sorted(publishers, key=str)[0],
        predicates=tuple(sorted({t for _, t in verified})),
        url=url,
    )


def encode(result: FileProvenance) -> bytes:
    publisher = result.publisher
    return json.dumps(
        {
            "filename": result.filename,
            "sha256": result.sha256,
            "state": result.state,
            "reason": result.reason,
            "publisher": None
            if publisher is None
            else {
                "kind": publisher.kind,
                "repository": publisher.repository,
                "workflow": publisher.workflow,
                "environment": publisher.environment,
                "email": publisher.email,
            },
            "predicates": list(result.predicates),
            "url": result.url,
        },
        sort_keys=True,
    ).encode()


def decode(body: bytes) -> FileProvenance:
    data = json.loads(body)
    publisher = data.get("publisher")
    return FileProvenance(
        filename=data["filename"],
        sha256=data["sha256"],
        state=data["state"],
        reason=data["reason"],
        publisher=Publisher(**publisher) if publisher else None,
        predicates=tuple(data["predicates"]),
        url=data["url"],
    )


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]


@contextlib.contextmanager
def _sigstore_environment() -> Iterator[None]:
    """Serialize verification; sigstore's directories and logging kept to ourselves."""
    global _SIGSTORE_HOME
    with _LOCK:
        if _SIGSTORE_HOME is None:
            _SIGSTORE_HOME = Path(tempfile.mkdtemp(prefix="trustscan-sigstore-"))
        saved = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "XDG_DATA_HOME")}
        os.environ["XDG_CACHE_HOME"] = str(_SIGSTORE_HOME / "cache")
        os.environ["XDG_DATA_HOME"] = str(_SIGSTORE_HOME / "data")
        quiet = logging.getLogger("sigstore")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield
        finally:
            quiet.setLevel(level)
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def reset_trust_cache() -> None:
    """Forget our sigstore folder (tests use it to prove a fresh start works)."""
    global _SIGSTORE_HOME
    with _LOCK:
        if _SIGSTORE_HOME is not None:
            shutil.rmtree(_SIGSTORE_HOME, ignore_errors=True)
        _SIGSTORE_HOME = None
