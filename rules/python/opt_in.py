"""Classes and functions the project's scripts reach only through a switch that is off by default.

A script may build one of several samplers, indexes or profilers by its command line: `if
opt.plms: sampler = PLMSSampler(model)`, with `--plms` a `store_true` option. Where every use of
`PLMSSampler` in the project sits under such a test, the class runs only when a user asks for it:
its CUDA sites are another path than the normal one, at most a warning, wherever the class is
defined. The walk already reads the test itself as off by default (`names.off_by_default`); this
reading follows it one step, to what the branch constructs or calls.

`switched_calls` reads one module from its bytes (a byte search for `store_true` first, so most
stop there; then only the blocks under a test of such an option that call something the module
imports or defines are parsed, each on its own): the names called there whose every other mention
in the module is an import of them or their own definition. `switched_definitions` then finds where
each is defined (a top-level `class` or `def` in the module the script imports it from, or the
script itself) and keeps it only where no other module of the scan mentions it outside its import
lines, unless that module's own reading finds it switched too. A name this reading cannot place,
or one mentioned in any other way, keeps its verdicts.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.firstparty import ModuleMap
from cudaudit.rules.python.names import tests_a_setting

SwitchedCall = tuple[str, int, str, int, str]
"""(name, import level, imported from, line of the switch, its text): `from .plms import PLMSSampler`
gives level 1 and `plms`; a name the module defines itself has level 0 and ``."""

_SWITCH = b"store_true"
"""A module without it defines no command-line switch that is off by default (`names.off_by_default`)."""
_DEFINITION = r"^(?:class|def|async[ \t]+def)[ \t]+{name}\b"
_IMPORT_STATEMENT = re.compile(rb"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+import[ \t]*\([^)]*\)|(?:from[ \t]+[\w.]+[ \t]+)?import\b[^\n]*)", re.M)
"""An import statement, a parenthesised list of names over several lines included."""
_TEXT_LIMIT = 80
_CANDIDATE_LIMIT = 32
"""The most switched names followed through the scan (each a byte search of every module)."""


def switched_calls(path: str, data: bytes) -> tuple[SwitchedCall, ...]:
    """The names module `path` calls only under a test of a switch that is off by default.

    Read from bytes: the `store_true` options' names, then the header lines that test one
    (`if opt.plms:`), each with its block (by indentation), which alone is parsed. A header this
    misses (a test over several lines, a block longer than `_BLOCK_LINES`) only keeps verdicts."""
    if _SWITCH not in data:
        return ()
    switches = _off_switches(data)
    if not switches:
        return ()
    lines = data.split(b"\n")
    off = frozenset(switch.decode("ascii", "replace") for switch in switches)
    statements = _import_statements(data)
    sources = _import_sources(statement for _, statement in statements)
    defined = {name.decode("ascii", "replace") for name in _TOP_DEFINED.findall(b"\n" + data)}
    known = {name.encode() for name in (*sources, *defined)}
    switched: dict[str, tuple[int, str]] = {}
    spans: list[tuple[int, int]] = []
    first, counted = 0, 0
    for start, indent, test in _headers(data):
        if not switches.intersection(_WORDS.findall(test)):
            continue
        first += data.count(b"\n", counted, start)
        counted = start
        end = _block_end(lines, first, indent)
        if end is None:
            continue
        text = b"\n".join(lines[first:end])
        if not any(called.group(1) in known for called in _CALLED_NAME.finditer(text)):
            continue  # calls nothing the module imports or defines: nothing to follow
        block = textwrap.dedent(text.decode("utf-8", "replace"))
        try:
            node = ast.parse(block.replace("elif", "if", 1) if block.startswith("elif") else block).body[0]
        except (SyntaxError, ValueError, RecursionError, IndexError):
            continue
        if not (isinstance(node, ast.If) and tests_a_setting(node.test, off)):
            continue
        spans.append((first + 2, end))
        quoted = " ".join(lines[first].decode("utf-8", "replace").split())[:_TEXT_LIMIT]
        for inner in (sub for statement in node.body for sub in ast.walk(statement)):
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name):
                switched.setdefault(inner.func.id, (first + 1, quoted))
    if not switched:
        return ()
    imports = _statement_lines(statements)
    calls = []
    for name, (line, header_text) in sorted(switched.items()):
        if name not in sources and name not in defined:
            continue  # a builtin or a name bound some other way: nothing to follow
        if all(
            any(start <= number <= end for start, end in spans) or number in imports or _defines(lines[number - 1], name)
            for number in _mention_lines(data, name)
        ):
            level, module = sources.get(name, (0, ""))
            calls.append((name, level, module, line, header_text))
    return tuple(calls)


_SWITCH_OPTION = re.compile(rb"add_argument\(([^()]{0,400}?store_true[^()]{0,400}?)\)")
_SWITCH_FLAG = re.compile(rb"""['"]-{1,2}([\w-]+)['"]|dest[ \t]*=[ \t]*['"](\w+)['"]""")
_SWITCH_ON_BY_DEFAULT = re.compile(rb"default[ \t]*=[ \t]*True")
_BLOCK_LINES = 60
_IF_WORD = re.compile(rb"if[ \t]")
_WORDS = re.compile(rb"\w+")


def _headers(data: bytes) -> Iterable[tuple[int, int, bytes]]:
    """(offset of its line, indentation, test) of each `if` or `elif` header written on one line:
    the word first, so the search runs at a byte search's speed."""
    for word in _IF_WORD.finditer(data):
        start = data.rfind(b"\n", 0, word.start()) + 1
        before = data[start : word.start()]
        lead = before.lstrip(b" \t")
        if lead not in (b"", b"el"):
            continue
        end = data.find(b"\n", word.end())
        line = data[word.end() : len(data) if end < 0 else end].rstrip()
        if line.endswith(b":"):
            yield start, len(before) - len(lead), line[:-1]
_CALLED_NAME = re.compile(rb"(?<![\w.])([A-Za-z_]\w*)\(")
_TOP_DEFINED = re.compile(rb"\n(?:async[ \t]+)?(?:class|def)[ \t]+(\w+)")
"""A top-level definition's name (searched in the module's text after a newline put in front)."""
_IMPORT_START = re.compile(rb"(?:from|import)[ \t]")


def _import_statements(data: bytes) -> list[tuple[int, bytes]]:
    """(1-based first line, text) of each import statement: the words first, so the search runs at a
    byte search's speed, then `_IMPORT_STATEMENT` at each line they start."""
    found: list[tuple[int, bytes]] = []
    line, counted, end = 1, 0, -1
    for word in _IMPORT_START.finditer(data):
        start = word.start()
        begin = data.rfind(b"\n", 0, start) + 1
        if start < end or data[begin:start].strip(b" \t"):
            continue  # inside the statement found last, or not the first word of its line
        statement = _IMPORT_STATEMENT.match(data, begin)
        if statement is None:
            continue
        line += data.count(b"\n", counted, begin)
        counted, end = begin, statement.end()
        found.append((line, statement.group()))
    return found


def _off_switches(data: bytes) -> set[bytes]:
    """Where `add_argument` stores each `store_true` option without a True default (`--use-x`: `use_x`)."""
    switches = set()
    for option in _SWITCH_OPTION.finditer(data):
        if _SWITCH_ON_BY_DEFAULT.search(option.group(1)):
            continue
        pairs = _SWITCH_FLAG.findall(option.group(1))
        dest = next((given for _, given in pairs if given), None)
        flags = [flag.replace(b"-", b"_") for flag, _ in pairs if flag]
        if dest or flags:
            switches.add(dest or max(flags, key=len))
    return switches


def _block_end(lines: list[bytes], first: int, indent: int) -> int | None:
    """The line after the block under header line `first` (0-based); None for a longer block than is read."""
    end = first + 1
    while end < len(lines):
        line = lines[end]
        stripped = line.lstrip(b" \t")
        if stripped and not stripped.startswith(b"#") and len(line) - len(stripped) <= indent:
            break
        end += 1
        if end - first > _BLOCK_LINES:
            return None
    return end


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
    for match in _IMPORT_STATEMENT.finditer(data):
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


_FROM_IMPORT = re.compile(rb"from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]*\(?([^)]*)\)?", re.S)


def _import_sources(statements: Iterable[bytes]) -> dict[str, tuple[int, str]]:
    """Local name -> (level, module) of each `from ... import name` among a module's import
    statements (not one imported `as` another name)."""
    sources: dict[str, tuple[int, str]] = {}
    for statement in statements:
        found = _FROM_IMPORT.match(statement.lstrip())
        if found is None:
            continue
        level, module = len(found.group(1)), found.group(2).decode("ascii", "replace")
        for part in found.group(3).split(b","):
            words = part.split(b"#")[0].split()
            if len(words) == 1 and re.fullmatch(rb"[A-Za-z_]\w*", words[0]):
                sources[words[0].decode("ascii")] = (level, module)
    return sources


def _mention_lines(data: bytes, name: str) -> Iterable[int]:
    """The 1-based lines on which `name` appears as a word (`pkg.Name` too). The name comes first in
    the pattern, so the search runs at the speed of a plain byte search."""
    line, counted = 1, 0
    for match in re.finditer(re.escape(name.encode()) + rb"(?!\w)", data):
        start = match.start()
        if start and (data[start - 1 : start].isalnum() or data[start - 1] == 0x5F):
            continue
        line += data.count(b"\n", counted, start)
        counted = start
        yield line


def _import_lines(data: bytes) -> set[int]:
    """The 1-based lines of the module's import statements."""
    return _statement_lines(_import_statements(data))


def _statement_lines(statements: Iterable[tuple[int, bytes]]) -> set[int]:
    """Every 1-based line that one of `statements` (first line, text) spans."""
    return {first + offset for first, text in statements for offset in range(text.count(b"\n") + 1)}


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
