"""pyproject.toml: what the project asks for, unpinned (it needs resolution).

PEP 621 `[project] dependencies` and `optional-dependencies`, PEP 735
`[dependency-groups]` (with `include-group`), and Poetry's
`[tool.poetry.dependencies]` and `[tool.poetry.group.*.dependencies]`, whose
`^` and `~` constraints are translated to PEP 440.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from scanner.errors import InputError
from scanner.lockfiles.common import Problems, as_list, as_str, as_table
from scanner.lockfiles.requirements import pinned_version
from scanner.lockfiles.toml import load_toml
from scanner.models import (
    DEFAULT_GROUP,
    INDEX_SOURCE,
    Lock,
    LockedPackage,
    PackageSource,
    SourceKind,
)
from scanner.text import excerpt

_CARET = re.compile(r"^\^\s*(\d+(?:\.\d+)*)")
_TILDE = re.compile(r"^~\s*(\d+(?:\.\d+)*)$")


def parse_pyproject(text: str, path: str) -> Lock:
    data = load_toml(text, path)
    problems = Problems(path)
    entries: list[tuple[str, str]] = []  # (requirement, group)
    project = as_table(data.get("project"))
    for line in as_list(project.get("dependencies")):
        entries.append((str(line), DEFAULT_GROUP))
    for extra, lines in as_table(project.get("optional-dependencies")).items():
        entries += [(str(line), str(extra)) for line in as_list(lines)]
    groups_table = as_table(data.get("dependency-groups"))
    for group in groups_table:
        entries += [
            (line, str(group)) for line in _group(groups_table, str(group), problems, set())
        ]
    poetry = as_table(as_table(data.get("tool")).get("poetry"))
    entries += _poetry(as_table(poetry.get("dependencies")), DEFAULT_GROUP, problems)
    for group, table in as_table(poetry.get("group")).items():
        entries += _poetry(as_table(as_table(table).get("dependencies")), str(group), problems)
    if not project and not poetry and not groups_table:
        raise InputError.single(path, None, "no [project], [dependency-groups] or [tool.poetry]")
    packages: dict[str, LockedPackage] = {}
    for requirement_text, group in entries:
        try:
            requirement = Requirement(requirement_text)
        except InvalidRequirement as e:
            problems.add(
                None,
                group,
                f"invalid requirement {excerpt(requirement_text)}: {str(e).splitlines()[0]}",
            )
            continue
        name = canonicalize_name(requirement.name)
        previous = packages.get(f"{name}:{group}")
        if previous is not None:
            continue
        source = PackageSource(SourceKind.URL, requirement.url) if requirement.url else INDEX_SOURCE
        packages[f"{name}:{group}"] = LockedPackage(
            name=name,
            written=requirement.name,
            version=pinned_version(requirement) if not requirement.url else None,
            extras=frozenset(requirement.extras),
            marker=str(requirement.marker) if requirement.marker else None,
            file=path,
            direct=True,
            requirement=str(requirement),
            groups=frozenset({group}),
            source=source,
        )
    if problems.items:
        raise InputError(problems.items)
    all_groups = sorted({g for _, g in entries} - {DEFAULT_GROUP})
    uv_indexes = [
        str(entry.get("url"))
        for entry in as_list(as_table(as_table(data.get("tool")).get("uv")).get("index"))
        if isinstance(entry, Mapping) and isinstance(entry.get("url"), str)
    ]
    return Lock(
        path=path,
        format="pyproject.toml",
        packages=tuple(packages.values()),
        has_direct_info=True,
        groups=tuple(all_groups),
        extra_index_urls=tuple(dict.fromkeys(uv_indexes)),  # [[tool.uv.index]]
    )


def _group(table: Mapping[str, Any], group: str, problems: Problems, seen: set[str]) -> list[str]:
    """PEP 735: a group's requirement strings, `include-group` expanded."""
    if group in seen:
        problems.add(None, f"dependency-groups.{group}", "include-group cycle")
        return []
    seen = seen | {group}
    lines: list[str] = []
    for item in as_list(table.get(group)):
        if isinstance(item, str):
            lines.append(item)
        elif isinstance(item, Mapping) and "include-group" in item:
            lines += _group(table, str(item["include-group"]), problems, seen)
        else:
            problems.add(None, f"dependency-groups.{group}", f"unexpected entry {excerpt(item)}")
    return lines


def _poetry(table: Mapping[str, Any], group: str, problems: Problems) -> list[tuple[str, str]]:
    entries = []
    for name, spec in table.items():
        if str(name).lower() == "python":
            continue
        for item in spec if isinstance(spec, list) else [spec]:
            requirement = _poetry_requirement(str(name), item)
            if requirement is None:
                problems.add(
                    None, f"tool.poetry.{group}.{name}", f"unsupported constraint {excerpt(item)}"
                )
            else:
                entries.append((requirement, group))
    return entries


def _poetry_requirement(name: str, spec: object) -> str | None:
    if isinstance(spec, str):
        constraint, extras, marker = spec, [], None
    elif isinstance(spec, Mapping):
        if any(k in spec for k in ("git", "path", "url")):
            where = as_str(spec.get("git")) or as_str(spec.get("url")) or as_str(spec.get("path"))
            return f"{name} @ {'git+' if spec.get('git') else ''}{where}"
        constraint = str(spec.get("version", "*"))
        extras = [str(e) for e in as_list(spec.get("extras"))]
        marker = as_str(spec.get("markers"))
    else:
        return None
    pep440 = poetry_constraint(constraint)
    if pep440 is None:
        return None
    extra = f"[{','.join(extras)}]" if extras else ""
    return f"{name}{extra}{pep440}" + (f"; {marker}" if marker else "")


def poetry_constraint(constraint: str) -> str | None:
    """Poetry's `^1.2`, `~1.2.3`, `*`, `1.2.3` and comma lists, as PEP 440 specifiers."""
    parts = []
    for piece in constraint.split(","):
        piece = piece.strip()
        if piece in ("", "*"):
            continue
        if match := _CARET.match(piece):
            numbers = [int(n) for n in match.group(1).split(".")]
            first = next((i for i, n in enumerate(numbers) if n != 0), len(numbers) - 1)
            upper = [*numbers[:first], numbers[first] + 1]
            parts.append(f">={match.group(1)},<{'.'.join(map(str, upper))}")
        elif match := _TILDE.match(piece):
            numbers = [int(n) for n in match.group(1).split(".")]
            upper = [numbers[0] + 1] if len(numbers) == 1 else [numbers[0], numbers[1] + 1]
            parts.append(f">={match.group(1)},<{'.'.join(map(str, upper))}")
        elif piece[0].isdigit():
            parts.append(f"=={piece}")
        elif piece[0] in "<>=!~":
            parts.append(piece.replace(" ", ""))
        else:
            return None
    return ",".join(parts)
