"""What the release installs: start-up hooks, shadowed commands and modules, new
native code — read from the wheel's file list (see registry/inventory.py).

The attacks on PyPI of 2026 came this way: litellm 1.82.8 shipped
`litellm_init.pth`, run at every Python start; five packages in June shipped a
`<name>-setup.pth` with one `exec()` line (ossf/malicious-packages PR 1299).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from scanner.models import Evidence, Finding, Inventory, Severity
from scanner.signals.interface import Signal, SignalContext
from scanner.text import inert

# A .pth line that decodes, executes, spawns or fetches. `__import__` is left out:
# setuptools' distutils-precedence.pth and old namespace packages' -nspkg.pth use it.
_DANGEROUS = re.compile(
    r"\bexec\s*\(|\beval\s*\(|\bcompile\s*\(|base64|b64decode|\bsubprocess\b|os\.system"
    r"|\bpopen\b|\burllib\b|urlopen|\brequests\b|\bsocket\b|http\.client|\bmarshal\b"
    r"|codecs\.decode|\bzlib\b|\bctypes\b"
)
# Commands people type, and the projects that may install them.
COMMANDS: dict[str, frozenset[str]] = {
    "pip": frozenset({"pip"}),
    "pip3": frozenset({"pip"}),
    "python": frozenset(),
    "python3": frozenset(),
    "git": frozenset(),
    "ssh": frozenset(),
    "scp": frozenset(),
    "curl": frozenset(),
    "wget": frozenset({"wget"}),
    "sudo": frozenset(),
    "ls": frozenset(),
    "sh": frozenset({"sh"}),
    "bash": frozenset(),
    "env": frozenset(),
    "cp": frozenset(),
    "mv": frozenset(),
    "rm": frozenset(),
    "cat": frozenset(),
    "gpg": frozenset(),
    "openssl": frozenset(),
    "docker": frozenset(),
    "kubectl": frozenset(),
    "npm": frozenset(),
    "node": frozenset(),
}
_HOOK_MODULES = ("sitecustomize", "usercustomize")


def _inventories(evidence: Evidence) -> tuple[Inventory | None, Inventory | None]:
    current = evidence.inventory if isinstance(evidence.inventory, Inventory) else None
    before = evidence.previous_inventory
    return current, before if isinstance(before, Inventory) else None


def _startup_hook(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    """Critical for a hook that is new (or changed) since the previous release, as every
    known attack's was; medium for one the project has shipped unchanged, even when its
    line runs code (coverage's `a1_coverage.pth` does, release after release)."""
    current, before = _inventories(evidence)
    if current is None:
        return
    for name, text in sorted(current.pth.items()):
        executable = [line.strip() for line in text.splitlines() if _runs(line)]
        if not executable:
            continue
        dangerous = [line for line in executable if _DANGEROUS.search(line)]
        # No earlier wheel to compare with (a first release): new, when it runs code.
        new = not _shipped_before(name, text, before) if before else bool(dangerous)
        shown = (dangerous or executable)[0]
        if new:
            how = "it is new since the last release" + (
                ", and its line decodes, executes, spawns or fetches" if dangerous else ""
            )
        else:
            how = "it was in the release before, unchanged" + (
                " (its line runs code)" if dangerous else ""
            )
        yield signal.finding(
            evidence,
            f"{current.filename} installs {name}, which Python runs at every start: {how}",
            severity=Severity.CRITICAL if new else Severity.MEDIUM,
            file=inert(name, 200),
            line=inert(shown, 300),
            runs_code=bool(dangerous),
            new_since_previous_release=new,
            previous_wheel=before.filename if before else None,
            wheel=current.filename,
        )


def _shipped_before(name: str, text: str, before: Inventory) -> bool:
    """The same hook in the previous release: the same text, or the same name once
    versions are taken out (`pkg-2.7.0-py3.12-nspkg.pth` is renamed every release)."""
    return text in before.pth.values() or _unversioned(name) in {
        _unversioned(n) for n in before.pth
    }


_VERSIONED = re.compile(r"-\d[\w.!+]*(?:-py\d+(?:\.\d+)?)?")


def _unversioned(name: str) -> str:
    return _VERSIONED.sub("", name)


def _runs(line: str) -> bool:
    """site.py executes a .pth line that starts with `import` (then a space or tab)."""
    return line.startswith(("import ", "import\t"))


def _command_shadowing(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    current, _ = _inventories(evidence)
    if current is None:
        return
    for command in current.commands:
        owners = COMMANDS.get(command)
        if owners is not None and evidence.package.name not in owners:
            yield signal.finding(
                evidence,
                f"{current.filename} installs a command named {command!r}, which people "
                "type expecting another program",
                command=inert(command, 60),
                wheel=current.filename,
            )


def _module_shadowing(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    current, _ = _inventories(evidence)
    if current is None:
        return
    for module in sorted(current.top_level & set(_HOOK_MODULES)):
        yield signal.finding(
            evidence,
            f"{current.filename} installs {module}, which Python imports at every start",
            module=module,
            wheel=current.filename,
        )
    popular = ctx.reference.popular if ctx.reference else {}
    own = evidence.package.name.replace("-", "_")
    for module in sorted(current.top_level):
        project = module.replace("_", "-").lower()
        rank = popular.get(project)  # type: ignore[call-overload]
        if rank is not None and rank <= ctx.threshold(signal, "top") and module.lower() != own:
            yield signal.finding(
                evidence,
                f"{current.filename} installs {module}/, the import name of {project} "
                f"(#{rank} by downloads): it shadows or replaces that project",
                severity=Severity.MEDIUM,
                module=inert(module, 100),
                shadowed_project=project,
                wheel=current.filename,
            )


def _new_binary(signal: Signal, evidence: Evidence, ctx: SignalContext) -> Iterator[Finding]:
    current, before = _inventories(evidence)
    if current is None or before is None or before.native or not current.native:
        return
    yield signal.finding(
        evidence,
        f"{current.filename} ships native code or executables ({len(current.native)} files, "
        f"e.g. {inert(current.native[0], 120)}); {before.filename} had none",
        files=[inert(f, 200) for f in current.native[:10]],
        previous_wheel=before.filename,
    )


STARTUP_HOOK = Signal(
    id="startup-hook",
    title="Code run at every Python start",
    severity=Severity.CRITICAL,
    family="contents",
    rationale="A .pth file's `import` line runs whenever Python starts, before any of your "
    "code: the road litellm 1.82.8 and the June 2026 credential stealers took.",
    check=_startup_hook,
)
COMMAND_SHADOWING = Signal(
    id="command-shadowing",
    title="Installs a common command",
    severity=Severity.HIGH,
    family="contents",
    rationale="A console script named like pip, python, git or ssh runs instead of the "
    "program its user meant, wherever the venv's bin/ comes first on PATH.",
    check=_command_shadowing,
)
MODULE_SHADOWING = Signal(
    id="module-shadowing",
    title="Installs another project's module",
    severity=Severity.HIGH,
    family="contents",
    rationale="A wheel that installs sitecustomize (run at start) or a popular project's "
    "import name replaces code its users think they are importing.",
    check=_module_shadowing,
    thresholds={"top": 100},
)
NEW_BINARY = Signal(
    id="new-binary",
    title="Native code, new in this release",
    severity=Severity.MEDIUM,
    family="contents",
    rationale="Compiled code cannot be reviewed like source; a project whose releases had "
    "none and now ships some deserves a look (the ultralytics miner came as a build change).",
    check=_new_binary,
)
