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
under: positional, or a `name=` keyword), and the module's top-level functions and classes that
only such definitions use (a loader only the backend's class calls, a base class only it extends). Operator registrations (`"mylib::op"`)
and keys that name a device (`"cuda"`: a device dispatch, which the walk reads as such) are not
choices a user makes and are left alone.

`registered_definitions` then judges them across the scan. A registry counts where it holds two
definitions or more and one of its names is a default somewhere outside the test suite (an
assignment or keyword, `=` followed by the quoted name): without a default the entries may be chosen
by the model a checkpoint names rather than by the user, and keep their verdicts; so do the entries
of a registry of one. A definition under no default name is another path unless another module
outside the test suite mentions it outside its import lines (a direct use, a subclass elsewhere) or
its own module mentions it outside the registered definitions.

A registry with no default is often chosen by a configuration file: `@datasets.register("ortho")`
above a class, `datasets.make(config.dataset.name, config.dataset)` in the launcher, and `name: ortho`
in the one YAML file the README's command names. Where the project's YAML files or the commands of
its documents and scripts (`dataset.name=ortho`, `--dataset ortho`) select some of a registry's names,
an entry none of them nor the code's string literals names is selected by no route the project ships
(`_selected`; a registry only the code selects from may be chosen by files the scan does not read, a
JSON configuration, and keeps its entries): in a project no install makes an API it runs nowhere and is not
reported; in an installable package it is another path, as a non-default entry is, since the
package's users may write configurations of their own that name it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from cudaudit.facts import Evidence
from cudaudit.filekinds import is_test_path
from cudaudit.firstparty import module_map
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.opt_in import (
    Helper,
    SwitchedCall,
    defining_modules,
    definitions_used_only_by,
    import_statements,
    imported_only_within,
    lines_holding,
    mention_lines,
    modules_mentioning,
    statement_lines,
)
from cudaudit.rules.python.read_once import ReadOnce, outside_tests
from cudaudit.source import decode_python, read_tree

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
        tree = read_tree(decode_python(data))
    except (SyntaxError, ValueError, RecursionError):
        return (), ()
    defined = {statement.name for statement in tree.body if isinstance(statement, _DEFINITIONS)}
    found = [item for item in found if item[0] in defined]  # not an example in a docstring
    used_outside, helpers = definitions_used_only_by(tree, {name for name, *_ in found}, classes=True)
    return tuple(item for item in found if item[0] not in used_outside), helpers


Entry = tuple[str, str, str, int, str, int, str]
"""An entry of a module-level table of implementations: (the definition it holds, the table's
name, its key, the table's line, the table's text, and the import level and module the module takes
the definition from: -1 and "" where it defines it itself)."""

_TABLE = re.compile(
    rb"""^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=[ \t]*\{[ \t]*(?:#[^\n]*)?\r?\n(?:[ \t]*(?:#[^\n]*)?\r?\n)*"""
    rb"""[ \t]+(["'])[^"'\n]+\2[ \t]*:[ \t]*(?:[A-Za-z_]\w*[ \t]*,|lambda\b)""",
    re.M,
)
"""A module-level dict written one entry a line, whose first key is a string and whose first value
a name or a lambda (`IMPLS = {\n    "sdpa": sdpa_forward,`)."""
_TABLE_OPENS = re.compile(rb"\{[ \t]*(?:#[^\n]*)?\r?\n")
"""A brace that ends its line: `_TABLE` is matched from the start of each line that has one, where
a search for it, which starts with a name, would try every byte of the module."""


def read_tables(data: bytes) -> tuple[Entry, ...]:
    """The entries of the module's tables of implementations keyed by strings (`IMPLS = {"sdpa":
    sdpa_forward, "ring": ring_forward}`), looked up by a setting (`IMPLS[config.attn_impl]`): each
    value a name of a function or class, or a lambda that calls one (`lambda *a: load_ring()(*a)`),
    two keys or more, none of them a device (`{"cuda": ..., "cpu": ...}` is a device dispatch, which
    the walk reads as such) nor an operator."""
    if not any(_TABLE.match(data, data.rfind(b"\n", 0, opening.start()) + 1) for opening in _TABLE_OPENS.finditer(data)):
        return ()
    try:
        tree = read_tree(decode_python(data))
    except (SyntaxError, ValueError, RecursionError):
        return ()
    sources: dict[str, tuple[int, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                sources[alias.asname or alias.name] = (node.level, node.module or "")
    defined = {statement.name for statement in tree.body if isinstance(statement, _DEFINITIONS)}
    found: list[Entry] = []
    for statement in tree.body:
        if not isinstance(statement, (ast.Assign, ast.AnnAssign)):
            continue
        target = statement.target if isinstance(statement, ast.AnnAssign) else statement.targets[0]
        table = statement.value
        if not (isinstance(target, ast.Name) and isinstance(table, ast.Dict)) or len(table.keys) < 2:
            continue
        keys = [key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None for key in table.keys]
        if any(key is None or "::" in key or key.lower().partition(":")[0] in _DEVICES for key in keys):
            continue
        text = " ".join(decode_python(data).splitlines()[statement.lineno - 1].split())[:_TEXT_LIMIT]
        for key, value in zip(keys, table.values):
            name = _held(value)
            if key is None or name is None:
                continue
            level, module = (-1, "") if name in defined else sources.get(name, (-2, ""))
            if level != -2:
                found.append((name, target.id, key, statement.lineno, text, level, module))
    return tuple(found)


def _held(value: ast.expr) -> str | None:
    """The definition a table's value holds: a name, or the one function a lambda calls (`lambda *a,
    **k: load_ring()(*a, **k)`)."""
    if isinstance(value, ast.Name):
        return value.id
    if isinstance(value, ast.Lambda):
        called = {node.func.id for node in subtree(value.body) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        return called.pop() if len(called) == 1 else None
    return None


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


@dataclass(frozen=True)
class Choices:
    """What `registered_definitions` finds."""

    chosen: dict[str, tuple[tuple[str, Evidence], ...]]
    """Display path -> (name, the registration that makes it a choice) for each definition another
    path runs (the empty name: the module itself, imported only inside such definitions)."""
    default_modules: frozenset[str]
    """The modules that hold a registry's default entry, which the normal path runs."""
    unselected: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Display path -> the definitions that run nowhere: entries no shipped configuration, script,
    document or code selects, of a registry they do select from, in a module no install makes an API
    (`unselected_entries`), and the definitions only they use."""


def registered_definitions(
    sources: Mapping[str, Callable[[], bytes]],
    readings: Mapping[str, tuple[tuple[Registration, ...], tuple[Helper, ...]]],
    tables: Mapping[str, tuple[Entry, ...]] | None = None,
    configurations: Mapping[str, Callable[[], bytes]] | None = None,
    installed: Callable[[str], bool] = lambda path: True,
) -> Choices:
    """The registered definitions, and the functions only such definitions use, that run only when
    the user names them: their registry has a default among its names, and they are not that
    default (see the module docstring); with the modules that hold a default entry, which the
    normal path runs. `readings` are `read_registrations` of the modules that have any, `tables`
    `read_tables`' entries of those that have any: a table only looked up by key is a registry too,
    whose entries may be defined in other modules (then the definitions their module uses only for
    them, and a module only they import, go with them). A registry with no default whose names the
    project's `configurations` (its YAML files, documents and scripts, by display path), or its
    code, select from is read by `_selected`: an entry none of them names runs nowhere where
    `installed` (whether a module is part of an installable package's API) says no, and is another
    path where it says yes (the package's users may write configurations naming it)."""
    text = ReadOnce(sources)
    registries: dict[str, list[tuple[str, Registration, str]]] = {}
    for path, (registrations, _) in readings.items():
        for registration in registrations:
            registries.setdefault(registration[1], []).append((path, registration, path))
    table_defaults: dict[tuple[str, str], set[str]] = {}
    for place, registration, path in _table_registrations(sources, text, tables or {}, table_defaults):
        registries.setdefault(registration[1], []).append((place, registration, path))
    registries = {name: entries for name, entries in registries.items() if len({(p, r[0]) for p, r, _ in entries}) > 1}
    if not registries:
        return Choices({}, frozenset())
    keys = {key for registry, entries in registries.items() if ":" not in registry for _, entry, _ in entries for key in entry[2]}
    defaults = _defaults(sources, text, keys) if keys else set()
    chosen: dict[tuple[str, str], Evidence] = {}
    default_modules: set[str] = set()
    tabled: set[tuple[str, str]] = set()
    default_entries: set[tuple[str, str]] = set()  # a definition one table holds under its default key
    nowhere = _selected(
        sources, text, configurations or {}, {registry: entries for registry, entries in registries.items() if ":" not in registry},
        defaults, installed, chosen,
    )
    for registry, entries in registries.items():
        names = _names(entries)
        module, _, table = registry.rpartition(":")
        default = sorted(names & (table_defaults.get((module, table), set()) if module else defaults))
        if not default:
            continue
        for place, (name, registry, registered, line, quoted), path in entries:
            if set(default).intersection(registered):
                default_modules.add(place)
                default_entries.add((place, name))
            else:
                chosen[(place, name)] = Evidence(path, line, f"{quoted}: chosen by name, the default is `{default[0]}`")
                if ":" in registry:
                    tabled.add((place, name))
    chosen = {key: evidence for key, evidence in chosen.items() if key not in default_entries}
    unused = _used_elsewhere(sources, text, chosen)
    kept = {key: evidence for key, evidence in chosen.items() if key not in unused}
    helpers: dict[tuple[str, str], Evidence] = {}
    for path, (_, used) in readings.items():
        for helper, owners in used:
            if all((path, owner) in kept for owner in owners):
                helpers[(path, helper)] = kept[(path, owners[0])]
    trees = _table_helpers(text, {key: evidence for key, evidence in kept.items() if key in tabled}, kept, helpers, tables or {})
    used_elsewhere = _used_elsewhere(sources, text, helpers)
    kept.update((key, evidence) for key, evidence in helpers.items() if key not in used_elsewhere)
    for path, (_, used) in readings.items():
        for helper, owners in used:
            if (path, helper) in kept and all((path, owner) in nowhere for owner in owners):
                nowhere.add((path, helper))
    found: dict[str, list[tuple[str, Evidence]]] = {}
    unselected: dict[str, list[str]] = {}
    for (path, name), evidence in sorted(kept.items()):
        if (path, name) in nowhere:
            unselected.setdefault(path, []).append(name)
        else:
            found.setdefault(path, []).append((name, evidence))
    for module, evidence in _lazily_imported(sources, text, trees, kept).items():
        found.setdefault(module, []).insert(0, ("", evidence))
    return Choices(
        {path: tuple(names) for path, names in found.items()}, frozenset(default_modules),
        {path: tuple(names) for path, names in unselected.items()},
    )


def _names(entries: list[tuple[str, Registration, str]]) -> set[str]:
    """The names a registry's entries are registered under."""
    return {key for _, registration, _ in entries for key in registration[2]}


def _selected(
    sources: Mapping[str, Callable[[], bytes]], text: Callable[[str], bytes], configurations: Mapping[str, Callable[[], bytes]],
    registries: Mapping[str, list[tuple[str, Registration, str]]], defaults: set[str], installed: Callable[[str], bool],
    chosen: dict[tuple[str, str], Evidence],
) -> set[tuple[str, str]]:
    """The (module, name) of the entries of `registries` (decorator registries) that nothing selects,
    where something selects another entry of the same registry: a value of a configuration file
    (`name: ortho` in YAML), an override or option of a document's or a script's command
    (`dataset.name=ortho`, `--dataset ortho`), or a string literal of the code outside the test suite
    and the registrations (`make("ortho", cfg)`, `choices=["ortho", "dtu"]`, a `default="ortho"`). Only
    a registry some configuration file, document or script selects from is read so: one only the code
    selects from may be chosen by files the scan does not read (a JSON configuration, a checkpoint's
    stored name) and keeps its entries. Those in a module `installed` says is an API are another path: added to `chosen`
    here for a registry with no default among its names (`defaults`), by the caller for one with a
    default; the others are returned: they run nowhere."""
    if not registries:
        return set()
    keys = set().union(*(_names(entries) for entries in registries.values()))
    configured = _named_in_configurations(configurations, keys)
    if not configured:
        return set()
    named = configured | _named_in_code(sources, text, keys)
    nowhere: set[tuple[str, str]] = set()
    for entries in registries.values():
        picked = sorted(_names(entries) & configured)
        if not picked:
            continue
        for place, (name, _, registered, line, quoted), path in entries:
            if named.intersection(registered) or (installed(place) and defaults & _names(entries)):
                continue
            if installed(place):
                chosen[(place, name)] = Evidence(path, line, f"{quoted}: chosen by name; the shipped configurations pick `{picked[0]}`")
            else:
                chosen[(place, name)] = Evidence(path, line, f"{quoted}: no configuration, script or document of the project names it")
                nowhere.add((place, name))
    return nowhere


def _named_in_code(sources: Mapping[str, Callable[[], bytes]], text: Callable[[str], bytes], keys: set[str]) -> set[str]:
    """The `keys` a module outside the test suite spells as a string literal on a line that is no
    decorator (a registration names its own key)."""
    pattern = re.compile(rb"""(["'])(""" + b"|".join(re.escape(key.encode()) for key in sorted(keys, key=len, reverse=True)) + rb")\1")
    found: set[str] = set()
    for path in sources:
        if is_test_path(path):
            continue
        data = text(path)
        for match in pattern.finditer(data):
            if not data[data.rfind(b"\n", 0, match.start()) + 1 : match.start()].lstrip().startswith(b"@"):
                found.add(match.group(2).decode("utf-8", "replace"))
        if found >= keys:
            break
    return found


def _named_in_configurations(configurations: Mapping[str, Callable[[], bytes]], keys: set[str]) -> set[str]:
    """The `keys` a configuration file, document or script outside the test suite gives as a value:
    after a `:` or `=` (`name: ortho`, `dataset.name=ortho`), an option (`--dataset ortho`) or a
    list's dash (`- ortho`), quoted or not, as a whole word."""
    alternatives = b"|".join(re.escape(key.encode()) for key in sorted(keys, key=len, reverse=True))
    pattern = re.compile(rb"""(?:[:=]|--[\w.-]+|^[ \t]*-)[ \t]*(["']?)(""" + alternatives + rb")\1(?![\w.\-/])", re.M)
    found: set[str] = set()
    for _, data in outside_tests(configurations):
        if any(key.encode() in data for key in keys - found):
            found.update(match.group(2).decode("utf-8", "replace") for match in pattern.finditer(data))
        if found >= keys:
            break
    return found


def _table_registrations(
    sources: Mapping[str, Callable[[], bytes]], text: Callable[[str], bytes], tables: Mapping[str, tuple[Entry, ...]],
    defaults: dict[tuple[str, str], set[str]],
) -> list[tuple[str, Registration, str]]:
    """(the defining module, the registration, the table's module) of each entry of a table that the
    scan only looks up by key (`_looked_up`), whose definition one module of the scan defines. A
    table's registry is named by its module and name (`pkg/attention.py:IMPLS`); `defaults` gets
    each such table's default keys, the values the settings its lookups read are given
    (`_table_defaults`)."""
    if not tables:
        return []
    looked_up = _looked_up(sources, text, {(path, entry[1]) for path, entries in tables.items() for entry in entries})
    modules = module_map(sources)
    code = [path for path in sources if not is_test_path(path)]
    lines: dict[tuple[bytes, str], bytes] = {}
    found: list[tuple[str, Registration, str]] = []
    for path, entries in sorted(tables.items()):
        keys = {entry[2] for entry in entries}
        for name, table, key, line, quoted, level, module in entries:
            if (path, table) not in looked_up:
                continue
            if (path, table) not in defaults:
                defaults[(path, table)] = _table_defaults(code, text, looked_up[(path, table)], keys, lines)
            places = {path} if level < 0 else defining_modules(modules, sources, text, path, level, module, name)
            if len(places) == 1:
                found.append((places.pop(), (name, f"{path}:{table}", (key,), line, quoted), path))
    return found


_LOOKUP_AFTER = re.compile(rb"[ \t]*(?:\[[ \t]*([\w.]+)[ \t]*\]|\.get\([ \t]*([\w.]+)|\[|\.get\(|\.keys\(\))")
_LOOKUP_BEFORE = re.compile(rb"^(?:(?!\bfor\b).)*\bin[ \t]+$")
"""A membership test (`name in IMPLS`), not a loop over the table (`for run in IMPLS`)."""


def _looked_up(
    sources: Mapping[str, Callable[[], bytes]], text: Callable[[str], bytes], tables: set[tuple[str, str]]
) -> dict[tuple[str, str], set[str]]:
    """The tables (module, name) that every module outside the test suite uses only to look an entry
    up (`IMPLS[config.attn_impl]`, `IMPLS.get(name)`, `name in IMPLS`, `IMPLS.keys()`), besides
    importing it, with the settings their lookups read (`attn_impl`): a table that is iterated over
    (`IMPLS.items()`) or handed on runs every entry, and one looked up by nothing a setting names
    (`TABLE[type(config).__name__]`) is chosen by something else than the user."""
    mentions = modules_mentioning([path for path in sources if not is_test_path(path)], text, {name for _, name in tables})
    found: dict[tuple[str, str], set[str]] = {}
    for path, name in tables:
        settings: set[str] | None = set()
        for other in mentions[name]:
            settings = _lookups(text(other), name, other == path, settings)
            if settings is None:
                break
        if settings:
            found[(path, name)] = settings
    return found


def _lookups(data: bytes, name: str, defines: bool, settings: set[str] | None) -> set[str] | None:
    """`settings` with the names of the settings a module's lookups of table `name` read; None where
    a mention is no lookup, no import and (in the module that `defines` it) not its assignment."""
    if settings is None:
        return None
    lines = data.split(b"\n")
    imports = statement_lines(import_statements(data))
    word = re.compile(rb"(?<![\w.])" + re.escape(name.encode()) + rb"(?!\w)")
    for number in mention_lines(data, name):
        line = lines[number - 1]
        if number in imports or (defines and re.match(re.escape(name.encode()) + rb"[ \t]*[:=]", line)):
            continue
        for mention in word.finditer(line):
            lookup = _LOOKUP_AFTER.match(line, mention.end())
            if lookup is None and not _LOOKUP_BEFORE.match(line[: mention.start()]):
                return None
            key = lookup and (lookup.group(1) or lookup.group(2))
            if key and not key.rpartition(b".")[2].startswith(b"__"):
                settings.add(key.rpartition(b".")[2].decode("ascii", "replace"))
    return settings


def _table_defaults(
    code: list[str], text: Callable[[str], bytes], settings: set[str], keys: set[str], lines: dict[tuple[bytes, str], bytes]
) -> set[str]:
    """The keys some module of `code` (the scan's modules outside the test suite) gives one of
    `settings` as its value: `attn_impl: str = "sdpa"`, `attn_impl="sdpa"`, `add_argument("--attn-impl",
    default="sdpa")`, or a constant that holds the key (`attn_impl: str = DEFAULT_IMPL` with
    `DEFAULT_IMPL = "sdpa"`); written where code gives it (a line's start, a call's keyword, an
    option), not in a docstring's prose. `lines` keeps each module's lines that spell the settings'
    names, by the names' pattern: the tables a scan looks up by one setting (`name`) share them."""
    names = b"|".join(re.escape(name.encode()).replace(b"_", b"[_-]") for name in sorted(settings))
    quoted = b"|".join(re.escape(key.encode()) for key in sorted(keys, key=len, reverse=True))
    given = re.compile(
        rb"""(?:^[ \t]*(?:self\.)?|[(,][ \t]*|["']--)(?:""" + names + rb""")\b["']?(?:[^\n=]*?|[^\n]*?\bdefault[ \t]*)(?<![=!<>])=(?!=)[ \t]*(?:(["'])(""" + quoted + rb")\1|([A-Z_][A-Z0-9_]*)\b)",
        re.M,
    )
    spelled = [[part.encode() for part in name.split("_") if part] for name in sorted(settings)]
    named = re.compile(names)
    found: set[str] = set()
    constants: set[bytes] = set()
    for path in code:
        naming = lines.get((names, path))
        if naming is None:
            data = text(path)
            # A module that spells no setting's words gives it no value; no match spans a line or lacks the name.
            spells = any(all(part in data for part in parts) for parts in spelled)
            naming = lines[(names, path)] = lines_holding(data, named) if spells else b""
        for match in given.finditer(naming):
            if match.group(2):
                found.add(match.group(2).decode("utf-8", "replace"))
            elif match.group(3):
                constants.add(match.group(3))
    if constants:
        held = re.compile(
            rb"^(?:" + b"|".join(sorted(constants)) + rb""")[ \t]*(?::[^=\n]*)?=[ \t]*(["'])(""" + quoted + rb")\1", re.M
        )
        for path in code:
            found.update(match.group(2).decode("utf-8", "replace") for match in held.finditer(text(path)))
    return found


def _table_helpers(
    text: Callable[[str], bytes], tabled: Mapping[tuple[str, str], Evidence],
    kept: dict[tuple[str, str], Evidence], helpers: dict[tuple[str, str], Evidence],
    tables: Mapping[str, tuple[Entry, ...]],
) -> dict[str, ast.Module]:
    """For each module that defines a table's chosen entries (`tabled`): drops from `kept` those its
    own top level or its other definitions use, and adds to `helpers` the functions and classes
    only the kept ones use; returns the modules' trees, read once for `_lazily_imported`."""
    trees: dict[str, ast.Module] = {}
    by_module: dict[str, set[str]] = {}
    for path, name in tabled:
        by_module.setdefault(path, set()).add(name)
    for path, names in sorted(by_module.items()):
        try:
            tree = trees[path] = read_tree(decode_python(text(path)))
        except (SyntaxError, ValueError, RecursionError):
            for name in names:
                kept.pop((path, name), None)
            continue
        listings = frozenset(entry[3] for entry in tables.get(path, ()))
        used_outside, used = definitions_used_only_by(tree, names, classes=True, listings=listings)
        for name in used_outside:
            kept.pop((path, name), None)
        for helper, owners in used:
            if all((path, owner) in kept for owner in owners):
                helpers.setdefault((path, helper), kept[(path, owners[0])])
    return trees


def _lazily_imported(
    sources: Mapping[str, Callable[[], bytes]], text: Callable[[str], bytes], trees: Mapping[str, ast.Module],
    kept: Mapping[tuple[str, str], Evidence],
) -> dict[str, Evidence]:
    """The modules of the scan that a chosen definition imports inside its body (`def load_ring():
    from .ring import ring_forward`) and every other import of which, in the scan, sits inside such a
    definition too: their own top level runs only when the entry is chosen."""
    modules = module_map(sources)
    blocks: dict[str, tuple[SwitchedCall, ...]] = {}
    imported: set[str] = set()
    for path, tree in trees.items():
        spans = []
        for statement in tree.body:
            if not isinstance(statement, _DEFINITIONS) or (path, statement.name) not in kept:
                continue
            spans.append((statement.name, 0, "", statement.lineno, kept[(path, statement.name)].text, "", statement.end_lineno or statement.lineno))
            for node in subtree(statement):
                if isinstance(node, ast.ImportFrom):
                    imported |= modules.resolve(path, node.level, node.module or "", tuple(alias.name for alias in node.names))
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        imported |= modules.resolve(path, 0, alias.name, ())
        if spans:
            blocks[path] = tuple(spans)
    imports = cache(lambda path: import_statements(text(path)))  # read once for every module asked about
    found: dict[str, Evidence] = {}
    for module in sorted(imported - set(trees)):
        evidence = imported_only_within(modules, sources, text, blocks, module, {}, imports)
        if evidence is not None:
            found[module] = evidence
    return found


def _used_elsewhere(
    sources: Mapping[str, Callable[[], bytes]], text: Callable[[str], bytes], definitions: Mapping[tuple[str, str], Evidence]
) -> set[tuple[str, str]]:
    """The (module, name) of `definitions` that another module outside the test suite mentions
    other than by importing or listing it (`_only_listed`); a module that defines the same name at
    its top level mentions its own definition."""
    if not definitions:
        return set()
    mentions = modules_mentioning([path for path in sources if not is_test_path(path)], text, {name for _, name in definitions})
    return {
        (path, name) for path, name in definitions
        if not all(other == path or _only_listed(text(other), name) or _defines_own(text(other), name) for other in mentions[name])
    }


def _defines_own(data: bytes, name: str) -> bool:
    """Whether a module defines `name` at its top level and imports no such name."""
    if re.search(rb"^(?:async[ \t]+)?(?:def|class)[ \t]+" + re.escape(name.encode()) + rb"\b", data, re.M) is None:
        return False
    word = re.compile(rb"(?<![\w.])" + re.escape(name.encode()) + rb"(?!\w)")
    return not any(word.search(statement) for _, statement in import_statements(data))


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
