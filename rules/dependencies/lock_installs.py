"""Which entries of a uv.lock the project's own ROCm or CPU variant installs.

A project that declares conflicting `cpu`/`cuda`/`rocm` extras, each with its own index
(`[tool.uv] conflicts`, `[tool.uv.sources] torch = [{ index = ..., extra = "rocm" }]`), gets one
lock holding every variant's resolution: `torch 2.7.1+cu128` and the `nvidia-*-cu12` wheels it
pulls sit beside `torch 2.10.0+rocm7.1`. `uv sync --extra rocm` installs only the entries that
the root's base dependencies and its `rocm` extra reach through dependency edges whose markers
hold; uv writes the chosen extras into those markers (`extra == 'extra-8-project-cuda'`). An
entry the ROCm install never reaches is not what ROCm runs: the CUDA extra is the NVIDIA variant,
as `report.optional_group` says of the extra in `pyproject.toml`.

Markers are read for the host the variant serves (Linux on x86-64); a condition this reading
cannot decide (a Python version, an implementation, a dependency group) counts as holding, so an
entry is left out of an install only where the lock says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from cudaudit.siblings import name_targets

_HOST = {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix"}
"""The host a ROCm or CPU variant is installed on; markers on these names are decided for it."""
_LEXEME = re.compile(r"""[()]|'[^']*'|"[^"]*"|[=!<>~]=?|[^\s()'"=!<>~]+""")
_ROOT_SOURCES = frozenset({"editable", "virtual"})
"""uv's source keys of the project's own (workspace) packages: the roots of every install."""


def not_installed_by(data: dict[str, Any], targets: Iterable[str]) -> list[frozenset[str]]:
    """For each `[[package]]` entry of a uv.lock, the targets in `targets` whose own variant extra
    (one the root declares named for that target alone: `rocm`, `cpu`) does not install it.

    Empty for every entry where the lock records no such variant: then nothing is known."""
    entries = [e if isinstance(e, dict) else {} for e in _list(data.get("package"))]
    roots = [i for i, e in enumerate(entries) if _ROOT_SOURCES & set(_table(e.get("source")))]
    by_name: dict[str, list[int]] = {}
    for index, entry in enumerate(entries):
        by_name.setdefault(str(entry.get("name", "")), []).append(index)
    conflicts = _conflicting(data)
    left_out: list[set[str]] = [set() for _ in entries]
    for target in targets:
        chosen = _variant_extras(entries, roots, target, conflicts)
        if not chosen:
            continue
        reached = _reached(entries, roots, by_name, chosen)
        for index in range(len(entries)):
            if index not in reached:
                left_out[index].add(target)
    return [frozenset(targets) for targets in left_out]


def _variant_extras(entries: list[dict[str, Any]], roots: list[int], target: str, conflicts: list[set[str]]) -> set[str]:
    """The extras the target's install chooses, as uv encodes them in markers: each root's variant
    extra for `target`, with every extra of the root named for no target that no conflict excludes.
    None where no root has a variant extra for `target`."""
    variants: set[str] = set()
    ordinary: set[str] = set()
    for index in roots:
        name = str(entries[index].get("name", ""))
        for extra in _table(entries[index].get("optional-dependencies")):
            named = name_targets(extra)
            encoded = _encoded(name, extra)
            if named == {target}:
                variants.add(encoded)
            elif not named:
                ordinary.add(encoded)
    if not variants:
        return set()
    excluded = {extra for conflict in conflicts if conflict & variants for extra in conflict}
    return variants | (ordinary - excluded)


def _conflicting(data: dict[str, Any]) -> list[set[str]]:
    """uv's `conflicts`: sets of extras no install chooses together, encoded as in markers."""
    sets = []
    for conflict in _list(data.get("conflicts")):
        members = set()
        for item in _list(conflict):
            package, extra = _table(item).get("package"), _table(item).get("extra")
            if isinstance(package, str) and isinstance(extra, str):
                members.add(_encoded(package, extra))
        sets.append(members)
    return sets


def _reached(entries: list[dict[str, Any]], roots: list[int], by_name: dict[str, list[int]], chosen: set[str]) -> set[int]:
    """The entries an install choosing `chosen` reaches from the roots."""
    seen: set[int] = set()
    pending: list[tuple[int, tuple[str, ...]]] = []
    for index in roots:
        name = str(entries[index].get("name", ""))
        extras = tuple(e for e in _table(entries[index].get("optional-dependencies")) if _encoded(name, e) in chosen)
        pending.append((index, (*extras, *_table(entries[index].get("dev-dependencies")))))
    expanded: set[tuple[int, str | None]] = set()
    decided: dict[str, bool | None] = {}  # uv repeats one marker on every dependency of an entry
    while pending:
        index, extras = pending.pop()
        seen.add(index)
        entry = entries[index]
        lists: list[tuple[str | None, Any]] = [(None, entry.get("dependencies"))]
        lists += [(e, _table(entry.get("optional-dependencies")).get(e)) for e in extras]
        lists += [(e, _table(entry.get("dev-dependencies")).get(e)) for e in extras]
        for extra, refs in lists:
            if (index, extra) in expanded:
                continue
            expanded.add((index, extra))
            for ref in _list(refs):
                ref = _table(ref)
                marker = ref.get("marker")
                if isinstance(marker, str):
                    if marker not in decided:
                        decided[marker] = holds(marker, chosen)
                    if decided[marker] is False:
                        continue
                wanted = tuple(e for e in _list(ref.get("extra")) if isinstance(e, str))
                for target in _resolve(entries, by_name, ref):
                    if target not in seen or any((target, e) not in expanded for e in wanted):
                        pending.append((target, wanted))
    return seen


def _encoded(package: str, extra: str) -> str:
    """A package's extra as uv writes it into markers: `extra-8-project-cuda`."""
    return f"extra-{len(package)}-{package}-{extra}"


def _resolve(entries: list[dict[str, Any]], by_name: dict[str, list[int]], ref: dict[str, Any]) -> list[int]:
    """The entries a dependency reference names: by name, narrowed by version and source when given."""
    found = by_name.get(str(ref.get("name", "")), [])
    if "version" in ref:
        found = [i for i in found if entries[i].get("version") == ref["version"]]
    if "source" in ref:
        found = [i for i in found if entries[i].get("source") == ref["source"]] or found
    return found


def holds(marker: str, chosen: set[str], host: Mapping[str, str] = _HOST) -> bool | None:
    """Whether a uv marker holds on `host` (by default the variant's) with the extras `chosen`: True,
    False, or None where it depends on what this reading does not decide (a Python version, a group)
    or the marker is not in the form uv writes."""
    tokens = _tokens(marker)
    if tokens is None:
        return None
    position = 0

    def disjunction() -> bool | None:
        nonlocal position
        value = conjunction()
        while position < len(tokens) and tokens[position] == ("or",):
            position += 1
            value = _or(value, conjunction())
        return value

    def conjunction() -> bool | None:
        nonlocal position
        value = atom()
        while position < len(tokens) and tokens[position] == ("and",):
            position += 1
            value = _and(value, atom())
        return value

    def atom() -> bool | None:
        nonlocal position
        if position >= len(tokens):
            raise ValueError(marker)
        token = tokens[position]
        position += 1
        if token == ("(",):
            value = disjunction()
            if position >= len(tokens) or tokens[position] != (")",):
                raise ValueError(marker)
            position += 1
            return value
        if len(token) != 3:
            raise ValueError(marker)
        return _compare(*token, chosen, host)

    try:
        value = disjunction()
    except ValueError:
        return None
    return value if position == len(tokens) else None


def _tokens(marker: str) -> list[tuple[str, ...]] | None:
    """`(`, `)`, `and`, `or`, and each comparison as (name, operator, value); None for another form."""
    lexemes = _LEXEME.findall(marker)
    if sum(map(len, lexemes)) != len("".join(marker.split())):
        return None  # a character no lexeme takes (an unclosed quote)
    tokens: list[tuple[str, ...]] = []
    position = 0
    while position < len(lexemes):
        lexeme = lexemes[position]
        if lexeme in ("(", ")", "and", "or"):
            tokens.append((lexeme,))
            position += 1
            continue
        operator = lexemes[position + 1 : position + 3]
        width = 2 if operator == ["not", "in"] else 1
        value = lexemes[position + 1 + width] if position + 1 + width < len(lexemes) else ""
        if not lexeme.isidentifier() or value[:1] not in ("'", '"'):
            return None
        tokens.append((lexeme, " ".join(operator[:width]), value[1:-1]))
        position += 2 + width
    return tokens


def _compare(name: str, operator: str, value: str, chosen: set[str], host: Mapping[str, str]) -> bool | None:
    if name == "extra" and value.startswith("extra-") and operator in ("==", "!="):
        return (value in chosen) == (operator == "==")
    if name in host and operator in ("==", "!="):
        return (host[name] == value) == (operator == "==")
    return None


def _and(left: bool | None, right: bool | None) -> bool | None:
    if left is False or right is False:
        return False
    return True if left and right else None


def _or(left: bool | None, right: bool | None) -> bool | None:
    if left or right:
        return True
    return False if left is False and right is False else None


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
