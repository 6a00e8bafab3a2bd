"""requirements*.txt / *.in / constraints files, pip-compile output included, in pip's own line format.

pip joins a line ending in a backslash with the next one, drops `#` comments (at the start of a
line or after whitespace), and reads each line as one option (`--index-url URL`, `-r file`) or
one requirement followed by its own options (`--hash=sha256:...`). Each requirement goes
through the shared resolver (`cudaudit.resolvers.requirements`), so a finding lands on the line
that names the package, index or pin.

`-r`/`-c` includes: each file reports what is written in it. The project index reads the
included files (`included_files`) and hands them to the including file's analysis. An included
file that the scan reads anyway (its name is a requirements file's) is not analysed again from
here; one it would not read (`-r base.txt`) is analysed once per including file, under its own
path. An include is read only when it resolves inside one of the scan's roots: `-r /etc/passwd` or
`-r ../../x` in a file from a stranger is not followed (pip would report it at install). Included
files also tell which torch release the including file installs, which the ROCm replacement of
a CUDA index depends on (`-c constraints.txt` pinning `torch==2.3.1`).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from dataclasses import replace
from pathlib import PurePath

from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.filekinds import FileKind, classify
from cudaudit.model import Finding
from cudaudit.resolvers.requirements import (
    INCLUDE_OPTIONS,
    is_pip_option,
    parse_option,
    pinned_torch,
    pip_lines,
    requirement_hits,
    requirement_part,
)
from cudaudit.rules.catalog import Catalog
from cudaudit.rules.dependencies.report import DependencyContext, Placed, findings, set_torch, unique
from cudaudit.rules.dependencies.rewrites import FixTarget
from cudaudit.safe_read import UnreadableFile, read_tree_file, within_any
from cudaudit.settings import AnalysisSettings
from cudaudit.source import UndecodableError, decode_text
from cudaudit.suppressions import apply_suppressions

MAX_INCLUDE_DEPTH = 10


def analyze_requirements(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    """Findings in one requirements file and in the included files the scan would not read."""
    lines = _lines(text)
    included = [(include, body, _lines(body)) for include, body in facts.included]
    requirements = [r for part in [lines, *(nested for _, _, nested in included)] for r in _requirements(part)]
    context = DependencyContext(
        torch=set_torch(pinned_torch(requirements), settings), unimported=frozenset(facts.unimported_bindings)
    )
    found = _findings(lines, path, catalog, settings, replace(context, fix=FixTarget.of(settings, text, tuple(requirements))))
    for include_path, include_text, nested in included:
        if FileKind.REQUIREMENTS not in classify(PurePath(include_path)):
            own = _findings(nested, include_path, catalog, settings, context)
            found.extend(apply_suppressions(own, include_text, include_path, catalog, settings.targets))
    return unique(found)


def logical_lines(text: str) -> Iterator[Placed]:
    """pip's logical lines, comments removed, each knowing where its characters are in the file."""
    return (Placed(line, segments) for line, segments in pip_lines(text))


def included_files(text: str, path: str, roots: tuple[str, ...]) -> list[tuple[str, str]]:
    """(path, text) of every file `-r`/`-c` includes inside `roots`, recursively, each once;
    missing, unreadable or outside ones are left out (pip reports those)."""
    return [(include, body) for include, body, _ in _included(_lines(text), path, {_key(path)}, roots, depth=0)]


def include_paths(text: str, path: str) -> list[str]:
    """The paths `-r`/`-c` options of a requirements file name, as resolved from its folder; none is read."""
    return [_include_path(line, path) for line in _lines(text) if _include_path(line, path)]


def _include_path(line: Placed, path: str) -> str:
    option = parse_option(line.text) if is_pip_option(line.text) else None
    if option is None or option.name not in INCLUDE_OPTIONS.values() or not option.value or "://" in option.value:
        return ""
    return posixpath.normpath(posixpath.join(posixpath.dirname(path), option.value))


def _lines(text: str) -> list[Placed]:
    return [line for line in logical_lines(text) if line.text.strip()]


def _requirements(lines: list[Placed]) -> list[str]:
    return [requirement_part(line.text) for line in lines if not is_pip_option(line.text)]


def _findings(
    lines: list[Placed], path: str, catalog: Catalog, settings: AnalysisSettings, context: DependencyContext
) -> list[Finding]:
    found = []
    for line in lines:
        text = line.text if is_pip_option(line.text) else requirement_part(line.text)
        found.extend(findings(line, requirement_hits(text, catalog), path, catalog, settings, context))
    return found


def _included(
    lines: list[Placed], path: str, seen: set[str], roots: tuple[str, ...], depth: int
) -> Iterator[tuple[str, str, list[Placed]]]:
    """(path, text, lines) of every file included from `lines` that lies inside `roots`, recursively, each once."""
    if depth >= MAX_INCLUDE_DEPTH:
        return
    for line in lines:
        include_path = _include_path(line, path)
        if not include_path or _key(include_path) in seen:
            continue
        seen.add(_key(include_path))
        text = _read(include_path, roots)
        if text is None:
            continue
        nested = _lines(text)
        yield include_path, text, nested
        yield from _included(nested, include_path, seen, roots, depth + 1)


def _read(path: str, roots: tuple[str, ...]) -> str | None:
    """An included file's text; None when it is outside the roots, missing, special, too large or
    not text (pip reports those)."""
    root = within_any(path, roots)
    if root is None:
        return None
    try:
        return decode_text(read_tree_file(path, root))
    except (UnreadableFile, UndecodableError):
        return None


def _key(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))
