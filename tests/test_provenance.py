"""PEP 740 provenance: real attestations, verified offline, served by the local index."""

from __future__ import annotations

import json
import socket
import time

import pytest

from scanner import provenance as pep740
from scanner.cli import main
from scanner.models import Publisher, ReleaseProvenance
from tests.conftest import DATA, scan_json
from tests.indexserver import RECORDED

FIXTURES = DATA / "attestations"
SAMPLE_40 = "0ace7980f82c5815ede4cd7bf9f6693684cec2ae47b9b7ade9add533b8627c6b"
SAMPLE_30 = "117ed88e5db073bb92969a7545745fd977ee85b7019706dd256a64058f70963d"
GOOGLE = "919436158236-compute@developer.gserviceaccount.com"


def google_provenance() -> bytes:
    """The Google-signed sampleproject 3.0.0 attestation, wrapped as PyPI serves provenance."""
    attestation = json.loads(
        (FIXTURES / "sampleproject-3.0.0.tar.gz.publish.attestation").read_text()
    )
    bundle = {"publisher": {"kind": "Google", "email": GOOGLE}, "attestations": [attestation]}
    return json.dumps({"version": 1, "attestation_bundles": [bundle]}).encode()


def serve_pep740(index, provenance: dict[str, bytes | None], digest: dict[str, str] | None = None):
    """Serve sampleproject at api-version 1.4: `provenance` maps filename -> document or None."""
    page = json.loads((RECORDED / "simple" / "sampleproject" / "index.json").read_text())
    page["meta"]["api-version"] = "1.4"
    for file in page["files"]:
        name = file["filename"]
        if digest and name in digest:
            file["hashes"]["sha256"] = digest[name]
        if name in provenance and provenance[name] is not None:
            version = name.split("-")[1].removesuffix(".tar.gz")
            path = f"/integrity/sampleproject/{version}/{name}/provenance"
            file["provenance"] = index.url.rstrip("/") + path
            index.overrides[path] = provenance[name]
        else:
            file["provenance"] = None
    index.overrides["/simple/sampleproject/"] = json.dumps(page).encode()


def scan(capsys, index, tmp_path, lock_text="sampleproject==4.0.0\n", *extra):
    lock = tmp_path / "requirements.txt"
    lock.write_text(lock_text)
    code, report, _ = scan_json(capsys, lock, "--index-url", index.url, *extra)
    (package,) = report["packages"]
    return code, report, package


def signals(package):
    return {f["signal"]: f for f in package["findings"]}


def test_sampleproject_sdist_verifies_as_pypa_sampleproject(capsys, index, tmp_path):
    real = (FIXTURES / "sampleproject-4.0.0.tar.gz.provenance").read_bytes()
    serve_pep740(index, {"sampleproject-4.0.0.tar.gz": real})
    _, report, package = scan(capsys, index, tmp_path)
    assert package["provenance"] == {"verified": 1, "none": 1}
    assert report["summary"]["files_provenance_verified"] == 1
    assert package["families"]["provenance"]["state"] == "evaluated"
    assert "attestation-invalid" not in signals(package)
    # `trustscan provenance` shows the verified identity
    assert main(["provenance", "sampleproject==4.0.0", "--index-url", index.url]) == 0
    out = capsys.readouterr().out
    assert "sampleproject-4.0.0.tar.gz  verified  GitHub pypa/sampleproject release.yml" in out
    assert "sampleproject-4.0.0-py3-none-any.whl  none" in out


def test_one_digest_changed_is_attestation_invalid(capsys, index, tmp_path):
    real = (FIXTURES / "sampleproject-4.0.0.tar.gz.provenance").read_bytes()
    altered = "1" + SAMPLE_40[1:]
    serve_pep740(
        index, {"sampleproject-4.0.0.tar.gz": real}, digest={"sampleproject-4.0.0.tar.gz": altered}
    )
    code, _, package = scan(capsys, index, tmp_path)
    finding = signals(package)["attestation-invalid"]
    assert finding["severity"] == "critical"
    assert finding["evidence"]["sha256"] == altered
    assert "digest" in finding["evidence"]["reason"]
    assert code == 1


def test_gitlab_fixture_verifies_with_its_gitlab_identity():
    body = (FIXTURES / "pep740-sampleproject-1.0.0.tar.gz.provenance").read_bytes()
    digest = "6cdd4a1a0a49aeef47265e7bf8ec1667257b397d34d731dc7b7af349deca1cd8"
    result = pep740.verify("pep740_sampleproject-1.0.0.tar.gz", digest, body)
    assert result.state == "verified"
    assert result.publisher == Publisher(
        "GitLab", "pep740-example/sampleproject", ".gitlab-ci.yml", None
    )


def test_staging_signature_does_not_verify_against_production():
    attestation = json.loads(
        (FIXTURES / "rfc8785-0.1.2-py3-none-any.whl.publish.attestation").read_text()
    )
    bundle = {
        "publisher": {
            "kind": "GitHub",
            "repository": "trailofbits/rfc8785.py",
            "workflow": "release.yml",
        },
        "attestations": [attestation],
    }
    body = json.dumps({"version": 1, "attestation_bundles": [bundle]}).encode()
    digest = "c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201"
    assert pep740.verify("rfc8785-0.1.2-py3-none-any.whl", digest, body).state == "invalid"


def test_api_1_1_index_leaves_every_file_unknown_never_none(capsys, index, tmp_path):
    _, report, package = scan(capsys, index, tmp_path)
    assert set(package["provenance"]) == {"unknown"}
    assert report["summary"]["files_provenance_none"] == 0
    assert "does not expose provenance" in package["families"]["provenance"]["reason"]
    assert not {"unattested", "provenance-dropped"} & set(signals(package))
    assert not any(p.startswith("/integrity/") for p in index.paths())  # nothing asked


def test_provenance_dropped_after_an_attested_release(capsys, index, tmp_path):
    serve_pep740(index, {"sampleproject-3.0.0.tar.gz": google_provenance()})
    _, _, package = scan(capsys, index, tmp_path)
    dropped = signals(package)["provenance-dropped"]
    assert dropped["evidence"]["attested_before"] == ["3.0.0"]
    assert dropped["evidence"]["publishers"] == [f"Google {GOOGLE}"]
    assert "unattested" in signals(package)


def test_publisher_changed(capsys, index, tmp_path):
    real = (FIXTURES / "sampleproject-4.0.0.tar.gz.provenance").read_bytes()
    serve_pep740(
        index,
        {"sampleproject-3.0.0.tar.gz": google_provenance(), "sampleproject-4.0.0.tar.gz": real},
    )
    _, _, package = scan(capsys, index, tmp_path)
    changed = signals(package)["publisher-changed"]
    assert changed["evidence"]["previous_version"] == "3.0.0"
    assert changed["evidence"]["publisher"]["repository"] == "pypa/sampleproject"
    assert changed["evidence"]["previous_publisher"]["email"] == GOOGLE
    assert "provenance-dropped" not in signals(package)


def test_steady_history_raises_no_drift(capsys, index, tmp_path):
    real = (FIXTURES / "sampleproject-4.0.0.tar.gz.provenance").read_bytes()
    serve_pep740(index, {"sampleproject-4.0.0.tar.gz": real})
    _, _, package = scan(capsys, index, tmp_path)
    assert not {"publisher-changed", "provenance-dropped"} & set(signals(package))
    # ... and, as pure functions, two releases from the identity verification returned:
    from tests.signals.build import evidence
    from tests.signals.test_catalog import fire

    verified = pep740.verify("sampleproject-4.0.0.tar.gz", SAMPLE_40, real)
    steady = evidence(version="4.0.0")
    from dataclasses import replace

    steady = replace(
        steady,
        provenance=ReleaseProvenance("4.0.0", (verified,)),
        earlier_provenance=(ReleaseProvenance("3.0.0", (verified,)),),
    )
    assert fire("publisher-changed", steady) == [] and fire("provenance-dropped", steady) == []


def test_integrity_api_fallback_when_the_key_is_missing(capsys, index, tmp_path):
    serve_pep740(index, {})
    page = json.loads(index.overrides["/simple/sampleproject/"])
    for file in page["files"]:
        if file["filename"].startswith("sampleproject-4.0.0"):
            del file["provenance"]
    index.overrides["/simple/sampleproject/"] = json.dumps(page).encode()
    message = json.dumps({"message": "No provenance available"}).encode()
    from tests.indexserver import Fault

    sdist = "/integrity/sampleproject/4.0.0/sampleproject-4.0.0.tar.gz/provenance"
    wheel = "/integrity/sampleproject/4.0.0/sampleproject-4.0.0-py3-none-any.whl/provenance"
    index.faults[sdist] = Fault(status=404, body=message)
    index.faults[wheel] = Fault(status=404, body=b"")  # an empty 404 says nothing
    _, _, package = scan(capsys, index, tmp_path)
    assert package["provenance"] == {"none": 1, "unknown": 1}
    assert "empty 404" in package["families"]["provenance"]["reason"]


def test_lock_identity_mismatch(capsys, index, tmp_path):
    real = (FIXTURES / "sampleproject-4.0.0.tar.gz.provenance").read_bytes()
    serve_pep740(
        index, {"sampleproject-4.0.0.tar.gz": real, "sampleproject-4.0.0-py3-none-any.whl": real}
    )
    lock = (
        'lock-version = "1.0"\ncreated-by = "test"\n[[packages]]\nname = "sampleproject"\n'
        'version = "4.0.0"\nindex = "https://pypi.org/simple"\n'
        '[[packages.attestation-identities]]\nkind = "GitHub"\nrepository = "{repo}"\n'
    )
    for repo, fires in (("pypa/sampleproject", False), ("evil/sampleproject", True)):
        path = tmp_path / "pylock.toml"
        path.write_text(lock.replace("{repo}", repo))
        main(
            [
                "scan",
                str(path),
                "--index-url",
                index.url,
                "--format",
                "json",
                "--no-live-advisories",
            ]
        )
        (package,) = json.loads(capsys.readouterr().out)["packages"]
        assert ("lock-identity-mismatch" in signals(package)) is fires, repo


def test_require_attestations_fails_unattested(capsys, index, tmp_path):
    serve_pep740(index, {})
    code, report, package = scan(
        capsys,
        index,
        tmp_path,
        "sampleproject==4.0.0\n",
        "--require-attestations",
        "--allow-unevaluated",
    )
    assert "unattested" in signals(package)
    assert code == 1 and any("unattested" in r for r in report["verdict"]["reasons"])


def test_verification_never_touches_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("verification tried to open a socket")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    pep740.reset_trust_cache()
    body = (FIXTURES / "pypi_attestations-0.0.19.tar.gz.provenance").read_bytes()
    digest = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3"
    started = time.perf_counter()
    result = pep740.verify("pypi_attestations-0.0.19.tar.gz", digest, body)
    assert result.state == "verified"
    assert result.publisher.repository == "trailofbits/pypi-attestations"
    assert time.perf_counter() - started < 30  # loose: a fresh trust root is read once


@pytest.mark.parametrize(
    "body", [b"{}", b"[]", b"not json", b'{"version": 1, "attestation_bundles": []}']
)
def test_malformed_provenance_is_invalid_with_a_reason(body):
    result = pep740.verify("x-1.0.tar.gz", "0" * 64, body)
    assert result.state == "invalid" and result.reason


def test_a_verifier_error_is_tried_again_on_the_next_scan(capsys, index, tmp_path, monkeypatch):
    """A sigstore trust-root error is not the file's fault: the next scan verifies
    again (it was kept as a permanent `unknown`, failing --require-attestations forever)."""
    real = (FIXTURES / "sampleproject-4.0.0.tar.gz.provenance").read_bytes()
    serve_pep740(index, {"sampleproject-4.0.0.tar.gz": real})
    original = pep740.verify
    monkeypatch.setattr(
        pep740,
        "verify",
        lambda filename, sha256, body, url=None: pep740.FileProvenance(
            filename, sha256, "unknown", "verifier error: trust root unavailable", url=url
        ),
    )
    _, _, package = scan(capsys, index, tmp_path)
    assert package["provenance"] == {"unknown": 1, "none": 1}
    monkeypatch.setattr(pep740, "verify", original)
    _, _, package = scan(capsys, index, tmp_path)
    assert package["provenance"] == {"verified": 1, "none": 1}


def test_refresh_reaches_derived_values(capsys, index, tmp_path, monkeypatch):
    real = (FIXTURES / "sampleproject-4.0.0.tar.gz.provenance").read_bytes()
    serve_pep740(index, {"sampleproject-4.0.0.tar.gz": real})
    calls = []
    original = pep740.verify

    def counted(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(pep740, "verify", counted)
    scan(capsys, index, tmp_path)
    scan(capsys, index, tmp_path)
    assert len(calls) == 1  # a verified answer for these bytes is kept
    scan(capsys, index, tmp_path, "sampleproject==4.0.0\n", "--refresh")
    assert len(calls) == 2  # --refresh computes it again


def test_every_report_names_who_built_it(capsys, index, tmp_path):
    real = (FIXTURES / "sampleproject-4.0.0.tar.gz.provenance").read_bytes()
    serve_pep740(index, {"sampleproject-4.0.0.tar.gz": real})
    _, report, package = scan(capsys, index, tmp_path)
    assert package["publishers"] == [
        {
            "file": "sampleproject-4.0.0.tar.gz",
            "kind": "GitHub",
            "repository": "pypa/sampleproject",
            "workflow": "release.yml",
            "environment": None,
        }
    ]
    assert report["publisher_repositories"] == ["GitHub pypa/sampleproject"]
    assert report["summary"]["packages_publisher_verified"] == 1
    lock = str(tmp_path / "requirements.txt")
    for fmt, expected in [
        ("text", "GitHub pypa/sampleproject"),
        ("markdown", "built by `` GitHub pypa/sampleproject ``"),
        ("sarif", '"repository": "pypa/sampleproject"'),
    ]:
        main(["scan", lock, "--index-url", index.url, "--no-live-advisories", "--format", fmt])
        assert expected in capsys.readouterr().out, fmt
    assert main(["explain", "sampleproject"]) == 0
    assert "built by: GitHub pypa/sampleproject release.yml" in capsys.readouterr().out
