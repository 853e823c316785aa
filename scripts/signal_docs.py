"""Write docs/signals.md from the catalog (`python scripts/signal_docs.py`).

The catalog gives id, title, severity, family, rationale and thresholds; the
"fires when" text lives here, next to nothing else that could drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.signals import CATALOG  # noqa: E402

FIRES = {
    "hash-mismatch": "the index serves a file the lock names (uv, poetry, pdm, pylock record names) with another sha256; or, for bare digests (`--hash`), none matches a file of the release, or some do not while the index serves files the lock does not know (a replaced file). Only for packages locked from the scanned index. Data: lockfile, Simple API.",
    "file-not-served": "a file the lock vouches for (by name, or a bare digest) is no longer served while the release's other files match the lock: removed after upload, usually a broken build. Data: lockfile, Simple API.",
    "metadata-mismatch": "the sha256 of a PEP 658 `.metadata` document differs from the digest the index declares for it; the package is also not evaluated (its dependencies are unknown). Data: Simple API, `.metadata`.",
    "extra-index": "the input names more than one index (`--extra-index-url`, further Pipfile sources, `[[tool.uv.index]]`); reported once for the input, not per package. Data: lockfile.",
    "index-added": "with `--baseline`/`--baseline-ref`, the input names an index the baseline did not; reported once for the input and always gated. Data: both lockfiles.",
    "trust-expired": "the trust record's entry for the project ended before today, or the pinned release was uploaded after the entry's `end`. Data: the trust record, Simple API.",
    "untrusted": "the policy says `require-record = true` and the project has no entry in the trust record. Off by default. Data: the trust record.",
    "startup-hook": "a top-level `.pth` file of the pinned release's wheel has a line starting with `import` (site.py runs it at every interpreter start): critical when the hook is new (or changed) since the previous release's corresponding wheel, as litellm 1.82.8's and the June 2026 stealers' were (the evidence says whether its line decodes, executes, spawns or fetches: `exec(`, `eval(`, `base64`, `subprocess`, `os.system`, `urllib`, `socket`, ...); medium for a hook shipped unchanged before (setuptools' `distutils-precedence.pth`, coverage's `a1_coverage.pth`, old namespace packages' `-nspkg.pth`, whose names carry the version). Data: the wheel's zip central directory and the `.pth` text, read by range requests; `--no-inventory` turns it off.",
    "command-shadowing": "the wheel's entry_points.txt declares a console or GUI script named like a common command (pip, python, git, ssh, curl, sudo, ls, sh, bash, ...; the list is in scanner/signals/contents.py) by a project that is not the command's own. Data: the wheel's entry_points.txt.",
    "module-shadowing": "the wheel installs `sitecustomize` or `usercustomize` (high), or a top-level import name that is one of the `top` most downloaded projects' names (medium). Data: the wheel's file list, data/top-pypi-packages.tsv.",
    "new-binary": "the pinned release's wheel ships native code or executables (.so, .pyd, .dll, .dylib, .exe, scripts in .data) and the previous release's corresponding wheel had none. Data: both wheels' file lists.",
    "not-on-index": "the name does not exist on the index (dependency-confusion risk for a private name; the message shows the name as the lock wrote it), or the pinned release is no longer served (releases are removed after compromises; the advisory sources are still asked about it). Data: Simple API.",
    "not-from-index": "the locked package comes from a URL, VCS or local path (medium), or from another index (low): nothing on the scanned index vouches for it. Data: lockfile.",
    "unsafe-archive": "the file read for core metadata was refused: a malformed zip or tar, a member that claims or inflates past 2 MiB, a PKG-INFO that is a link, more than 20,000 members before it, or more than 8 MiB of range reads. Nothing is ever extracted. Data: the archive, read as data.",
    "attestation-invalid": "a file's PEP 740 attestation does not verify for its name and sha256, or its signing identity is not the publisher it claims. Data: provenance (verified offline).",
    "lock-identity-mismatch": "pylock.toml `attestation-identities` name a publisher that the index's provenance does not show. Data: lockfile, provenance.",
    "provenance-dropped": "the index lists no attestation for the pinned release, while the release before it was attested, or most of the last five were. Data: provenance of earlier releases (read only as far back as needed). With a trust record entry that names publishers: the pinned release has no attestation.",
    "publisher-changed": "the pinned release was published by a different identity (kind, repository, workflow or environment) than the latest earlier attested release. Data: provenance. With a trust record entry: an identity the entry (or a policy-wide `[[trusted-publishers]]`) does not name published the pinned release.",
    "publisher-repo-mismatch": "the attested source repository is not the repository the metadata declares (Project-URL Source/Repository/Homepage). Data: provenance, core metadata.",
    "unattested": "the index supports provenance and no file of the pinned release has any (never fires when provenance is unknown). Data: Simple API, provenance.",
    "malicious-package": "an advisory marks the release malicious (OSV `MAL-` ids). Data: pip-audit's services, `--advisory-db`.",
    "known-vulnerability": "a non-withdrawn advisory covers the pinned version; severity from its CVSS v3 vector when it has one (base score: 9.0+ critical, 7.0+ high, 4.0+ medium, else low), else from its own rating, else high; the score and fix versions are shown. Data: OSV, the index's per-release JSON, `--advisory-db`.",
    "yanked": "the pinned release is yanked (PEP 592); the reason is shown. High when no reason is given or the reason names a security problem (security, vulnerability, CVE, malicious, compromised, ...); medium for any other reason (a packaging mistake) and when only some files are yanked. Data: Simple API.",
    "project-status": "PEP 792 status quarantined (high), archived or deprecated (medium), or the classifier `Development Status :: 7 - Inactive` (medium). Data: Simple API, project JSON.",
    "dormant-then-release": "the pinned release came after `days` or more without a release, and was uploaded within the last `recent_days` (once per package; an old release after a gap has had years of use). Data: Simple API upload times.",
    "too-new": "the pinned release's first file was uploaded less than `hours` ago. Data: Simple API.",
    "young-project": "the project's first upload is less than `days` old. Data: Simple API.",
    "late-file": "a file was added to the pinned release more than `days` after its first file: low; medium when the latest late file is under `recent_days` old, or is unattested while the release's first files are attested. Data: Simple API, provenance.",
    "few-releases": "the project has at most `max` releases. Data: Simple API.",
    "sdist-only": "the pinned release has no wheel: installing it runs its build code. Data: Simple API.",
    "stale": "the newest release is more than `years` old (finished projects exist: low). Data: Simple API.",
    "typosquat": "the name is one edit, one adjacent swap, a separator change or a py/python affix away from one of the `top` most downloaded names, is not popular itself, has at least `min_length` characters, is not a version sibling (a digit for a digit, a digit added or dropped at the end: `-cu11`/`-cu12`, `httpx2`), shares no owner or organization with the popular project, and is not established (`established_years` of releases and at least 5 releases). High when the name is not on the index, the project is under `young_days` old, or it has at most `few_releases` releases; medium otherwise. The message shows the name as the lock wrote it (`jeIlyfish`, not `jeilyfish`); the evidence holds both projects' owners, first uploads and release counts (no index exposes dependents; the popular project's download rank stands for them). Data: data/top-pypi-packages.tsv, Simple API, both projects' JSON.",
    "owners-replaced": "none of the owners the previous scan observed remains. Data: project JSON `ownership`, the store's history. With a trust record entry, the recorded owners and maintainers are the baseline; without one, the store's first observation, so the change is reported on every scan until the record is updated or the finding waived.",
    "owner-added": "a PyPI user holds a role the previous observation (an earlier scan, or imported history) did not show; high when a release was uploaded after that observation (the new account may have made it) or against a reviewed trust record, else medium. Data: project JSON, the store's history. The baseline is the trust record's entry when there is one, else the store's first observation; not reported when owners-replaced reports the same change.",
    "maintainer-email-changed": "the pinned release's Author-email / Maintainer-email share no address with the earlier releases read (the one before first, up to five): low; medium when the domain is new too and the release is under 90 days old or the owners changed since the last scan. Data: core metadata of those releases. With a trust record entry: the release names none of the recorded e-mails.",
    "sole-owner": "exactly one Owner role and no organization. Data: project JSON `ownership`.",
    "disposable-email": "an author or maintainer address is on a disposable domain (data/disposable-email-domains.txt) or a placeholder one (example.com, ...). Data: core metadata.",
    "no-source-url": "no Project-URL (any label), Home-page or Download-URL names a source repository (a code host, or a label like Source/Repository), in the core metadata or the project JSON. Data: core metadata, project JSON.",
}

HEADER = """# Signals

Every signal trustscan computes, in catalog order (`trustscan signals` prints the same).
Ids are stable: they appear in reports, SARIF rule ids, policy files and waivers. Severities are
defaults (`[tool.trustscan.severity]` overrides them); thresholds are configurable
(`[tool.trustscan.thresholds]`, keys `signal-id.name`).

Scoring (scanner/scoring.py) is what a reviewer weighs, in two steps.

1. **Standing**, 5-10, from positive evidence where it was observed. Each component is 0-1
   and has a weight: *provenance* (3): the pinned release's files are attested and verify 1,
   the index supports attestations and this release has none 0.2, an attestation that does
   not verify 0; *ownership* (2): an organization 1, two or more owners 0.75, one owner 0.4;
   *age* (2): years since the first upload / 5, at most 1; *upkeep* (1): releases / 10
   (at most 1), halved when none came in the last two years. The standing is
   5 + 5 x the weighted mean of the components that were observed. A component that was not
   observed (an index that does not expose provenance) is left out of the mean: unknown
   lowers confidence, never the score.
2. **Findings** take points off the standing: 10 per critical, 4 per high, 1.5 per medium and
   0.5 per low finding (never below 0).

Worked examples:

- An organization's project, 12 years old, 300 releases, attested: every component 1, standing
  10.0; no findings: **10.0**.
- The same on an index that does not expose provenance: provenance is not observed, so the
  mean is over ownership, age and upkeep, still 1: standing **10.0**, confidence lower.
- One owner, first upload 3 years ago, 6 releases, the last a year ago, provenance unknown:
  ownership 0.4 x 2 + age 0.6 x 2 + upkeep 0.6 x 1 = 2.6 over weight 5, mean 0.52, standing
  7.6; its `sole-owner` finding (low) takes 0.5: **7.1**.
- A name that is not on the index: nothing observed, standing 10; `not-on-index` (critical)
  takes 10: **0**.

`trustscan explain NAME` lists each component with what was observed, and each finding with the
points it took. The default gate fails on critical and high findings, so hygiene findings
(low) alone never fail it. What could not be evaluated lowers the separate confidence figure
and, for registry data and vulnerabilities (and provenance with `--require-attestations`), fails
the gate with exit 3 unless `--allow-unevaluated`.
"""


def render() -> str:
    lines = [HEADER]
    for s in CATALOG:
        lines += [
            f'<a id="{s.id}"></a>',
            f"## `{s.id}` — {s.title}",
            "",
            f"- Default severity: **{s.severity.label}** · family: {s.family}",
            f"- Fires when: {FIRES[s.id]}",
            f"- Why it matters: {s.rationale}",
        ]
        if s.thresholds:
            pairs = ", ".join(f"`{s.id}.{k}` = {v:g}" for k, v in s.thresholds.items())
            lines.append(f"- Thresholds: {pairs}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    (ROOT / "docs" / "signals.md").write_text(render(), encoding="utf-8")
