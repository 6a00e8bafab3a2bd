"""Classes and functions the project's scripts reach only through a switch that is off by default.

A script may build one of several samplers, indexes or profilers by its command line: `if
opt.plms: sampler = PLMSSampler(model)`, with `--plms` a `store_true` option. Where every use of
`PLMSSampler` in the project sits under such a test, the class runs only when a user asks for it:
its CUDA sites are another path than the normal one, at most a warning, wherever the class is
defined. The walk already reads the test itself as off by default (`names.off_by_default`); this
reading follows it one step, to what the branch constructs or calls.

`switched_calls` reads one module (a byte search for `store_true` first, so most are never
parsed): the names called under a test of an off-by-default setting whose every other mention in
the module is an import of them or their own definition. `switched_definitions` then finds where
each is defined (a top-level `class` or `def` in the module the script imports it from, or the
script itself) and keeps it only where no other module of the scan mentions it outside its import
lines, unless that module's own reading finds it switched too. A name this reading cannot place,
or one mentioned in any other way, keeps its verdicts.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.firstparty import ModuleMap
from cudaudit.rules.python.names import settings_off_by_default, tests_a_setting
from cudaudit.source import decode_python

SwitchedCall = tuple[str, int, str, int, str]
"""(name, import level, imported from, line of the switch, its text): `from .plms import PLMSSampler`
gives level 1 and `plms`; a name the module defines itself has level 0 and ``."""

_SWITCH = b"store_true"
"""A module without it defines no command-line switch that is off by default (`names.off_by_default`)."""
_DEFINITION = r"^(?:class|def|async[ \t]+def)[ \t]+{name}\b"
_IMPORT = re.compile(rb"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+import[ \t]*\([^)]*\)|(?:from[ \t]+[\w.]+[ \t]+)?import\b[^\n]*)", re.M)
"""An import statement, a parenthesised list of names over several lines included."""
_TEXT_LIMIT = 80
_CANDIDATE_LIMIT = 32
"""The most switched names followed through the scan (each a byte search of every module)."""


def switched_calls(path: str, data: bytes) -> tuple[SwitchedCall, ...]:
    """The names module `path` calls only under a test of a switch that is off by default."""
    if _SWITCH not in data:
        return ()
    try:
        tree = ast.parse(decode_python(data), filename=path)
    except (SyntaxError, ValueError, RecursionError):
        return ()
    off = settings_off_by_default(tree)
    if not off:
        return ()
    lines = data.split(b"\n")
    switched: dict[str, tuple[int, str]] = {}
    spans: list[tuple[int, int]] = []
    statements = list(_statements(tree))
    for node in statements:
        if isinstance(node, ast.If) and tests_a_setting(node.test, off) and node.body:
            spans.append((node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno))
            header = " ".join(lines[node.lineno - 1].decode("utf-8", "replace").split())[:_TEXT_LIMIT]
            for inner in (sub for statement in node.body for sub in ast.walk(statement)):
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name):
                    switched.setdefault(inner.func.id, (node.lineno, header))
    if not switched:
        return ()
    imports = _import_lines(data)
    sources = _import_sources(statements)
    found = []
    for name, (line, text) in sorted(switched.items()):
        if name not in sources and not re.search(_DEFINITION.format(name=re.escape(name)).encode(), data, re.M):
            continue  # a builtin or a name bound some other way: nothing to follow
        if all(
            any(start <= number <= end for start, end in spans) or number in imports or _defines(lines[number - 1], name)
            for number in _mention_lines(data, name)
        ):
            level, module = sources.get(name, (0, ""))
            found.append((name, level, module, line, text))
    return tuple(found)


def switched_definitions(
    sources: Mapping[str, Callable[[], bytes]], readings: Mapping[str, tuple[SwitchedCall, ...]]
) -> dict[str, tuple[tuple[str, Evidence], ...]]:
    """Display path -> (name, the switch it is reached through) for each top-level class or
    function of the module that the scan uses only under switches that are off by default.
    `readings` are `switched_calls` of the modules that have any."""
    if not readings:
        return {}
    modules = ModuleMap(sources)
    texts: dict[str, bytes] = {}

    def text(path: str) -> bytes:
        if path not in texts:
            try:
                texts[path] = sources[path]()
            except Exception:  # noqa: BLE001 - an unreadable module defines nothing here; its own analysis says why
                texts[path] = b""
        return texts[path]

    switched_in = {(path, name) for path, calls in readings.items() for name, *_ in calls}
    candidates: dict[tuple[str, str], Evidence] = {}
    for script, calls in sorted(readings.items()):
        for name, level, module, line, quoted in calls:
            places = {script} if not module and not level else modules.resolve(script, level, module, (name,))
            if not places and not level:
                places = _by_path(sources, module)  # `ldm.models.diffusion.plms` where `ldm/` is no package
            pattern = re.compile(_DEFINITION.format(name=re.escape(name)).encode(), re.M)
            places |= {
                found for place in places if not pattern.search(text(place))
                for found in _reexported(modules, place, text(place), name)
            }
            for place in sorted(places):
                if b"cuda" in text(place) and pattern.search(text(place)):
                    candidates.setdefault((place, name), Evidence(script, line, quoted))
            if len(candidates) >= _CANDIDATE_LIMIT:
                break
    found: dict[str, list[tuple[str, Evidence]]] = {}
    for (place, name), evidence in sorted(candidates.items()):
        token = name.encode()
        if all(
            (path, name) in switched_in or _only_imports(text(path), name, defines=path == place)
            for path in sources
            if token in text(path)
        ):
            found.setdefault(place, []).append((name, evidence))
    return {path: tuple(names) for path, names in found.items()}


def _reexported(modules: ModuleMap, package: str, data: bytes, name: str) -> set[str]:
    """Where a package's `from .sampler import Sampler` takes `name` from: one step, relative imports only."""
    found: set[str] = set()
    for match in _IMPORT.finditer(data):
        statement = re.match(rb"[ \t]*from[ \t]+(\.+)([\w.]*)[ \t]+import\b", match.group())
        if statement is not None and re.search(rb"(?<!\w)" + re.escape(name.encode()) + rb"(?!\w)", match.group()):
            level, module = len(statement.group(1)), statement.group(2).decode("ascii", "replace")
            found |= modules.resolve(package, level, module, (name,))
    return found


def _by_path(sources: Iterable[str], module: str) -> set[str]:
    """The scan's modules whose path ends as `module` spells it (`ldm/models/diffusion/plms.py`): a
    script run from the project's root imports its folders as namespace packages."""
    stem = "/" + module.replace(".", "/")
    return {path for path in sources if ("/" + path).endswith((stem + ".py", stem + "/__init__.py"))}


def _statements(tree: ast.Module) -> Iterable[ast.stmt]:
    """Every statement of the module, at any depth, without walking expressions."""
    stack: list[ast.stmt] = list(reversed(tree.body))
    while stack:
        statement = stack.pop()
        yield statement
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            for inner in reversed(getattr(statement, field, ())):
                if isinstance(inner, (ast.ExceptHandler, ast.match_case)):
                    stack.extend(reversed(inner.body))
                else:
                    stack.append(inner)


def _import_sources(statements: list[ast.stmt]) -> dict[str, tuple[int, str]]:
    """Local name -> (level, module) of each `from ... import name` of the module."""
    sources: dict[str, tuple[int, str]] = {}
    for node in statements:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*" and not alias.asname:
                    sources[alias.name] = (node.level, node.module or "")
    return sources


def _mention_lines(data: bytes, name: str) -> Iterable[int]:
    """The 1-based lines on which `name` appears as a word (`pkg.Name` too)."""
    for match in re.finditer(rb"(?<!\w)" + re.escape(name.encode()) + rb"(?!\w)", data):
        yield data.count(b"\n", 0, match.start()) + 1


def _import_lines(data: bytes) -> set[int]:
    """The 1-based lines of the module's import statements."""
    lines: set[int] = set()
    for match in _IMPORT.finditer(data):
        first = data.count(b"\n", 0, match.start()) + 1
        lines.update(range(first, first + match.group().count(b"\n") + 1))
    return lines


def _defines(line: bytes, name: str) -> bool:
    return re.match(_DEFINITION.format(name=re.escape(name)).encode(), line) is not None


def _only_imports(data: bytes, name: str, defines: bool) -> bool:
    """Whether every mention of `name` in a module is an import of it (a package re-exporting it),
    or, in the module that defines it, that definition: a mention in a string or a comment counts
    as a use, so a misreading keeps a verdict."""
    if not data:
        return True
    lines = data.split(b"\n")
    imports = _import_lines(data)
    return all(
        number in imports or (defines and _defines(lines[number - 1], name)) for number in _mention_lines(data, name)
    )
