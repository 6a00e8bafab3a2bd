"""The project's own device flags: module-level names assigned from a device probe.

A project often decides once, in one module, what the machine can do (`SUPPORTS_BF16 =
torch.cuda.is_available() and torch.cuda.get_device_capability() >= (8, 0)`, `IS_AMD =
torch.version.hip is not None`) and tests the name in others (`from .utils import SUPPORTS_BF16`,
then `if SUPPORTS_BF16:`). The name says nothing; its value does. The project index reads each
module's flags here, once per scan, and hands every Python module the flags of the project by
qualified name (`pkg.utils.SUPPORTS_BF16`), so a test of an imported flag is read as the test of
its value (`guards.flag_meaning`).

A module-level name that holds a string chosen by such probes (`SYSTEM = "rocm"` under `if
torch.version.hip:`, `DEVICE = get_device()`) is a platform variable (`platform_paths.py`): each string
it is given is a flag of its own, `SYSTEM=="rocm"`, whose meaning is what the tests on the way to it
ask (`guards.string_meaning`), so `if SYSTEM == "cuda":` in another module reads those tests.

A function that returns such a test (`def xformers_enabled(): if cpu_mode(): return False; return
XFORMERS_IS_AVAILABLE`) is a flag too, by the same qualified name: a call of it tests what its body
returns (`flag_functions.py`).

Only a module with a top-level assignment that names a device probe on its first line, or a
`return` that names an availability (or a false `return` in an `ImportError` handler), or an
indented assignment or `return` of a short string in a module that names a probe, is parsed
(a byte search finds it): most modules define no flag and are parsed once, by their analysis.
"""

from __future__ import annotations

import ast
import re

from cudaudit.rules.python.flag_functions import function_meaning
from cudaudit.rules.python.guards import FlagMeaning, names_a_probe, string_meaning, value_meaning
from cudaudit.rules.python.keyed_flags import KEYED_STORE, KEYED_WORDS, read_keyed_flags
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.platform_paths import assigned_strings
from cudaudit.source import decode_python, read_tree

DeviceFlags = tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...]
"""(flag name, ((probe, the branch that needs it, or None), ...)) for each flag of a module, as
plain strings (the values of `guards.Probe` and `guards.Polarity`), for the cache and the digest."""

_CANDIDATE = re.compile(
    rb"^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)(?:[^\n]*|[ \t]*\([ \t]*\n[^\n]*)"
    rb"(?:is_available|device_count|version\.hip|version\.cuda)",
    re.MULTILINE,
)
"""A top-level assignment whose first line names a probe of the CUDA device or of the build, or
whose value opens a parenthesis there and names one on the next line (`SUPPORTS_X = (` then
`torch.cuda.is_available() and ...`, as formatters wrap a long condition)."""
_PROBE_WORDS = (b"is_available", b"device_count", b"version.hip", b"version.cuda")
"""The probes `_CANDIDATE` looks for: a module that spells none has no candidate, found without
trying the pattern at each line (most modules)."""
_STRING_CHOICE = re.compile(rb"\n[ \t]+(?:\w+[ \t]*(?::[^=\n]*)?=|return)[ \t]*[\"'][\w.:-]{1,20}[\"'][ \t]*(?:#[^\n]*)?\r?\n")
"""An indented assignment or `return` of a short string alone (`    SYSTEM = "rocm"`, `        return "hip"`):
what a platform variable's chain gives; searched after a newline put in front of the module."""
_TOP_LEVEL_DEF = re.compile(rb"(?:async[ \t]+)?def[ \t]+(\w+)")
_AVAILABILITY_RETURN = re.compile(
    rb"return\b[^\n]*(?i:available|installed|has_|device_count|version\.hip|version\.cuda)"
)
"""A `return` that names an availability (`return XFORMERS_IS_AVAILABLE`, `return
torch.cuda.is_available() and HAS_X`); its literal first word lets the search skip ahead."""
_TRY_IMPORT = re.compile(rb"try:[ \t]*\n[ \t]+(?:import|from)[ \t]")
_FALSE_RETURN = re.compile(rb"return False\b")
_DEVICE_EXIT = re.compile(rb"(?:\.device\.type|\.is_cuda)\b[^\n]*:[ \t]*\n[ \t]+return False\b")
"""An early `return False` where a tensor is not on the device (`if x.device.type != "cuda":`)."""


def read_device_flags(path: str, data: bytes) -> DeviceFlags:
    """The device flags the module at display path `path` defines; raises SyntaxError for a module
    that does not parse (its own analysis reports it)."""
    functions = _may_define_flag_functions(data)
    probed = any(word in data for word in _PROBE_WORDS)
    strings = probed and _STRING_CHOICE.search(b"\n" + data) is not None
    keyed = any(word in data for word in KEYED_WORDS) and KEYED_STORE.search(data) is not None
    if not functions and not strings and not keyed and (
        not probed or all(names_a_probe(match.group(1).decode("ascii")) for match in _CANDIDATE.finditer(data))
    ):
        return ()  # no candidate (`TEST_CUDA = torch.cuda.is_available()` is read by its name): no parse
    tree = read_tree(decode_python(data), filename=path)
    names = ImportTable(tree)
    found: list[tuple[str, FlagMeaning]] = []
    assigned: dict[str, int] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    assigned[target.id] = assigned.get(target.id, 0) + 1
    for name, count in sorted(assigned.items()):
        if names_a_probe(name):
            continue  # read by its name wherever it is tested
        value = names.module_value(name) if count == 1 else None
        meaning = value_meaning(value, names) if value is not None else None
        if meaning:
            found.append((name, meaning))
    if functions:
        found.extend(_flag_functions(tree, names, set(assigned)))
    if strings:
        found.extend(_platform_strings(tree, names))
    if keyed:
        found.extend(read_keyed_flags(tree, names))
    return tuple(
        (name, tuple((probe.value, side.value if side else None) for probe, side in meaning))
        for name, meaning in sorted(found, key=lambda item: item[0])
    )


def _may_define_flag_functions(data: bytes) -> bool:
    """Whether a top-level function whose name says nothing (`names_a_probe`) has a `return` that names
    an availability, a `return False` in a module that tries an import, or one where a tensor is not on
    the device (`if x.device.type != "cuda": return False`): read from the bytes, each
    such `return` taken to the nearest `def` or `class` above it at the start of a line."""
    returns = [match.start() for match in _AVAILABILITY_RETURN.finditer(data)]
    if _TRY_IMPORT.search(data) is not None:
        returns += [match.start() for match in _FALSE_RETURN.finditer(data)]
    returns += [match.start() for match in _DEVICE_EXIT.finditer(data)]
    for position in returns:
        above = max(data.rfind(b"\ndef ", 0, position), data.rfind(b"\nasync def ", 0, position))
        if data.rfind(b"\nclass ", 0, position) > above:
            continue  # a method's
        header = _TOP_LEVEL_DEF.match(data, above + 1) if above >= 0 else _TOP_LEVEL_DEF.match(data)
        if header is not None and not names_a_probe(header.group(1).decode("ascii", "replace")):
            return True
    return False


def _flag_functions(tree: ast.Module, names: ImportTable, assigned: set[str]) -> list[tuple[str, FlagMeaning]]:
    """The module's top-level functions a call of which tests a probe, in the order they are defined:
    each one's meaning is kept where the module's names are read (`ImportTable.flag_meanings`), so
    a later function that calls an earlier one (`enabled = xformers_enabled()`) reads it."""
    defined: dict[str, int] = {}
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined[statement.name] = defined.get(statement.name, 0) + 1
    found = []
    for statement in tree.body:
        if (
            isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
            and defined[statement.name] == 1
            and statement.name not in assigned
            and not names_a_probe(statement.name)  # read by its name wherever it is called
        ):
            meaning = function_meaning(statement, names)
            if meaning:
                names.flag_meanings[statement.name] = meaning
                found.append((statement.name, meaning))
    return found


def _platform_strings(tree: ast.Module, names: ImportTable) -> list[tuple[str, FlagMeaning]]:
    """Each string a platform variable of the module is given, as the flag `NAME==string`, with what a test
    that the variable holds it asks; strings that say nothing are left out (the test is read by its words)."""
    found = []
    for name, paths in sorted(assigned_strings(tree).items()):
        for string, ways in sorted(paths.items()):
            meaning = string_meaning(ways, names)
            if meaning:
                found.append((f"{name}=={string}", meaning))
    return found
