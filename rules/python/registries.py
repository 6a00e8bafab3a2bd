"""Classes and functions a project selects by name through a registry, where another name is the default.

A project with several backends, exporters or loaders often registers each under a name
(`@register_backend("remote")` above a class) and builds the one the user names on the command
line (`--backend remote`) or in a configuration. Only the default choice runs when the user names
none: a setting that defaults to one of the registered names (`default="local"`, `backend: str =
"local"`, `field(default="local")`) shows which. The other entries run only when asked for, so their
CUDA sites are another path than the normal one, at most a warning, as a switch that is off by
default is (`opt_in.py`).

`read_registrations` reads one module: each top-level class or function under a decorator whose
callable's name spells `register`, called with string literals only (the names it is registered
under: positional, or a `name=` keyword), and the module's top-level functions that only such
definitions use (a loader only the backend's class calls). Operator registrations (`"mylib::op"`)
and keys that name a device (`"cuda"`: a device dispatch, which the walk reads as such) are not
choices a user makes and are left alone.

`registered_definitions` then judges them across the scan. A registry counts where it holds two
definitions or more and one of its names is a default somewhere outside the test suite (an
assignment or keyword, `=` followed by the quoted name): without a default the entries may be chosen
by the model a checkpoint names rather than by the user, and keep their verdicts; so do the entries
of a registry of one. A definition under no default name is another path unless another module
outside the test suite mentions it outside its import lines (a direct use, a subclass elsewhere) or
its own module mentions it outside the registered definitions.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping

from cudaudit.facts import Evidence
from cudaudit.filekinds import is_test_path
from cudaudit.rules.python.opt_in import (
    Helper,
    definitions_used_only_by,
    import_statements,
    mention_lines,
    modules_mentioning,
    statement_lines,
)
from cudaudit.rules.python.read_once import ReadOnce
from cudaudit.source import decode_python, parse_python

Registration = tuple[str, str, tuple[str, ...], int, str]
"""(definition name, the registry's callable as spelled, the names it is registered under, the
decorator's line, the decorator's text)."""

_DECORATED = re.compile(
    rb"^@((?=[\w.]*register)[A-Za-z_][\w.]*)\(([^()]*)\)[ \t]*(?:#[^\n]*)?\r?\n"
    rb"(?:[ \t]*(?:@[^\n]*|#[^\n]*)?\r?\n)*(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)",
    re.M,
)
"""A top-level definition under a `...register...(...)` decorator with no parentheses in its arguments."""
_KEYED_ENTRY = re.compile(rb"""^[ \t]*(["'])[^"'\n]+\1[ \t]*:""", re.M)
"""A line that opens an entry of a table keyed by a string."""
_KEYWORDS = frozenset({"name", "names", "key", "alias"})
_DEVICES = frozenset({"cuda", "cpu", "xpu", "mps", "npu", "hip", "rocm", "hpu", "mlu", "musa", "meta", "gpu"})
_TEXT_LIMIT = 80
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def read_registrations(data: bytes) -> tuple[tuple[Registration, ...], tuple[Helper, ...]]:
    """The top-level definitions of a module registered under names, and the module's top-level
    functions only they use (see the module docstring); nothing for a module that mentions no
    `register` decorator."""
    if b"register" not in data:
        return (), ()
    found: list[Registration] = []
    for match in _DECORATED.finditer(data):
        keys = _keys(match.group(2).decode("utf-8", "replace"))
        if keys:
            line = data.count(b"\n", 0, match.start()) + 1
            text = " ".join(data[match.start() : match.end(2) + 1].decode("utf-8", "replace").split())
            found.append((match.group(3).decode("ascii", "replace"), match.group(1).decode("ascii", "replace"), keys, line, text[:_TEXT_LIMIT]))
    if not found:
        return (), ()
    try:
        tree = parse_python(decode_python(data))
    except (SyntaxError, ValueError, RecursionError):
        return (), ()
    defined = {statement.name for statement in tree.body if isinstance(statement, _DEFINITIONS)}
    found = [item for item in found if item[0] in defined]  # not an example in a docstring
    used_outside, helpers = definitions_used_only_by(tree, {name for name, *_ in found})
    return tuple(item for item in found if item[0] not in used_outside), helpers


def _keys(arguments: str) -> tuple[str, ...]:
    """The names a decorator's arguments register under: every argument a string literal (or a list
    of them), positional or a `name=` keyword; () for anything else, an operator or a device key."""
    try:
        call = ast.parse(f"f({arguments})", mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        return ()
    if not isinstance(call, ast.Call):
        return ()
    values = [*call.args, *(keyword.value for keyword in call.keywords if keyword.arg in _KEYWORDS)]
    if len(values) != len(call.args) + len(call.keywords):
        return ()
    keys: list[str] = []
    for value in values:
        items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
        for item in items:
            if not (isinstance(item, ast.Constant) and isinstance(item.value, str)):
                return ()
            keys.append(item.value)
    if any("::" in key or key.lower().partition(":")[0] in _DEVICES for key in keys):
        return ()
    return tuple(keys)


Choices = tuple[dict[str, tuple[tuple[str, Evidence], ...]], frozenset[str]]
"""What `registered_definitions` finds: display path -> (name, the registration that makes it a
choice) for each definition another path runs, and the modules that hold a registry's default entry."""


def registered_definitions(
    sources: Mapping[str, Callable[[], bytes]],
    readings: Mapping[str, tuple[tuple[Registration, ...], tuple[Helper, ...]]],
) -> Choices:
    """The registered definitions, and the functions only such definitions use, that run only when
    the user names them: their registry has a default among its names, and they are not that
    default (see the module docstring); with the modules that hold a default entry, which the
    normal path runs. `readings` are `read_registrations` of the modules that have any."""
    registries: dict[str, list[tuple[str, Registration]]] = {}
    for path, (registrations, _) in readings.items():
        for registration in registrations:
            registries.setdefault(registration[1], []).append((path, registration))
    registries = {name: entries for name, entries in registries.items() if len({(p, r[0]) for p, r in entries}) > 1}
    if not registries:
        return {}, frozenset()
    keys = {key for entries in registries.values() for _, registration in entries for key in registration[2]}
    text = ReadOnce(sources)
    defaults = _defaults(sources, text, keys)
    chosen: dict[tuple[str, str], Evidence] = {}
    default_modules: set[str] = set()
    for entries in registries.values():
        names = {key for _, registration in entries for key in registration[2]}
        default = sorted(names & defaults)
        if not default:
            continue
        for path, (name, _, registered, line, quoted) in entries:
            if defaults.intersection(registered):
                default_modules.add(path)
            else:
                chosen[(path, name)] = Evidence(path, line, f"{quoted}: chosen by name, the default is `{default[0]}`")
    unused = _used_elsewhere(sources, text, chosen)
    kept = {key: evidence for key, evidence in chosen.items() if key not in unused}
    helpers: dict[tuple[str, str], Evidence] = {}
    for path, (_, used) in readings.items():
        for helper, owners in used:
            if all((path, owner) in kept for owner in owners):
                helpers[(path, helper)] = kept[(path, owners[0])]
    used_elsewhere = _used_elsewhere(sources, text, helpers)
    kept.update((key, evidence) for key, evidence in helpers.items() if key not in used_elsewhere)
    found: dict[str, list[tuple[str, Evidence]]] = {}
    for (path, name), evidence in sorted(kept.items()):
        found.setdefault(path, []).append((name, evidence))
    return {path: tuple(names) for path, names in found.items()}, frozenset(default_modules)


def _used_elsewhere(
    sources: Mapping[str, Callable[[], bytes]], text: Callable[[str], bytes], definitions: Mapping[tuple[str, str], Evidence]
) -> set[tuple[str, str]]:
    """The (module, name) of `definitions` that another module outside the test suite mentions
    other than by importing or listing it (`_only_listed`)."""
    if not definitions:
        return set()
    mentions = modules_mentioning([path for path in sources if not is_test_path(path)], text, {name for _, name in definitions})
    return {
        (path, name) for path, name in definitions
        if not all(other == path or _only_listed(text(other), name) for other in mentions[name])
    }


def _only_listed(data: bytes, name: str) -> bool:
    """Whether every mention of `name` in a module is an import of it or an entry of a table keyed by
    a string (`"remote": "pkg.backends:RemoteBackend"`, a lazy registry's listing): neither runs it."""
    lines = data.split(b"\n")
    imports = statement_lines(import_statements(data))
    return all(number in imports or _KEYED_ENTRY.match(lines[number - 1]) for number in mention_lines(data, name))


def _defaults(sources: Mapping[str, Callable[[], bytes]], text: Callable[[str], bytes], keys: set[str]) -> set[str]:
    """The keys some module outside the test suite gives as a value (`= "key"`: a default, a setting,
    a keyword), searched with one pattern per module. The pattern starts with its `=`, which the regex
    engine skips to, and looks behind it for a comparison (`==`, `<=`): one that starts with the look
    behind is tried at every byte, which made this search most of the registries' reading."""
    pattern = re.compile(
        rb"""=(?<![=!<>]=)[ \t]*(["'])(""" + b"|".join(re.escape(key.encode()) for key in sorted(keys, key=len, reverse=True)) + rb")\1"
    )
    found: set[str] = set()
    for path in sources:
        if is_test_path(path):
            continue
        found.update(match.group(2).decode("utf-8", "replace") for match in pattern.finditer(text(path)))
        if found >= keys:
            break
    return found
