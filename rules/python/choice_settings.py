"""Settings of several values that one module declares and another tests, through the project index.

A configuration module declares a mode with its default (`sched: Sched = Sched.LEGACY` in an
`EngineConfig` dataclass, `impl: str = "none"`, `add_argument("--impl", default="none")`), and the
engine, in another module, branches on it (`if self.config.sched == Sched.ASYNC:`, `if
cfg.ring_size > 1:`). The module's own reading (`names._chosen_settings`) sees the test but not the
default; this reading hands it the default, so the test reads as it would beside its declaration:
a branch only another value takes is another path (`setting_values`).

`declared_choices` reads one module from its bytes: the fields of several values of its classes and
the options with a plain default (each line that may be one parsed on its own). `chosen_elsewhere`
then keeps, for each module the catalog's prefilter passes, the settings it reads from something
named for settings (`self.config.sched`, `args.impl`, `model_cfg.ring_size`: a part of the chain
ends in `config`, `cfg`, `args`, `options`, ...) that it does not declare itself, where every
declaration in the project agrees on the default, none declares the name a switch (a boolean), and
the project's configuration files, scripts and code outside its test suite do not give it another
value in more than one folder (`impl: local` in YAML, `--impl local` in a script, `impl="local"` in a
call: one folder of examples for a feature is its opt-in, several are its normal path).
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping

from cudaudit.filekinds import is_test_path
from cudaudit.rules.catalog import WORD_BYTES, WordSearch, word_automaton
from cudaudit.rules.python.names import option_choice
from cudaudit.rules.python.opt_in import ADD_ARGUMENT, parsed_call
from cudaudit.rules.python.setting_values import Known, Value, field_default, settings_class

Declared = tuple[tuple[str, Value], ...]
"""(setting, default) for each setting of several values a module declares."""

_FIELD = re.compile(rb"\n([ \t]+)([A-Za-z_]\w*)[ \t]*:[ \t]*([^=\n#]*[^=\n# \t])[ \t]*=(?!=)[ \t]*([^\n]*)")
"""An annotated field with a value, indented (a class's; the class is checked after); searched in
the module after a newline put in front, as are the patterns below."""
_CLASS = re.compile(rb"\nclass[ \t]+(\w+)")
_TOP_LEVEL = re.compile(rb"\n[^ \t\r\n#]")
"""The first line of the next top-level statement: the end of a class."""
_DEFINITION = re.compile(rb"\n([ \t]*)(?:async[ \t]+)?def[ \t]")
_CONTINUATION_LINES = 8
"""The most lines a field's value is read over (`field(default=None, metadata={...})`)."""
_SETTINGS_PART = re.compile(r"(?i)(?:args|arguments|cfg|conf|config|opts|options|settings|params)$")
"""A part of an attribute chain that holds settings (`args`, `self.config`, `model_cfg`)."""


def declared_choices(data: bytes) -> Declared:
    """The settings of several values module `data` declares, with their defaults: class fields
    (`setting_values.field_default`; an enum member, a string, number or None in a class named for
    settings, a `Literal[...]` in any class) and options with a plain default
    (`names.option_choice`). A name declared twice with two defaults is left out. Only the bodies of
    the classes that may hold such fields are searched for them, and only the options whose default
    may be one are parsed."""
    found: dict[str, Known | None] = {}
    text = b"\n" + data
    spans = list(_field_spans(text)) if b"class" in data else []
    definitions = [(match.start(), len(match.group(1))) for match in _DEFINITION.finditer(text)] if spans else []
    for begin, end, settings in spans:
        for field in _FIELD.finditer(text, begin, end):
            if _in_a_function(definitions, begin, field.start(), len(field.group(1))):
                continue
            default = _field(text, field) if settings or b"Literal" in field.group(3) else None
            if default is not None:
                name = field.group(2).decode("ascii")
                found[name] = default if found.get(name, default) == default else None
    if b"add_argument" in data and b"default" in data:
        for option in ADD_ARGUMENT.finditer(data):
            arguments = option.group(1)
            given = _OPTION_DEFAULT.search(arguments)
            if given is None or (given.group(1) in (b"'", b'"', b"None") and b"choices" not in arguments):
                continue  # no plain default, or a free string or None: not parsed
            call = parsed_call(b"parser.add_argument(" + arguments + b")")
            chosen = None if call is None else option_choice(call)
            if chosen is not None:
                found[chosen[0]] = chosen[1] if found.get(chosen[0], chosen[1]) == chosen[1] else None
    return tuple(sorted((name, known[0]) for name, known in found.items() if known is not None))


_OPTION_DEFAULT = re.compile(rb"""\bdefault[ \t]*=[ \t]*(None\b|-|\d|\.\d|['"])""")
"""An option's default that may be a plain value (`names.option_choice` decides)."""


def _field_spans(text: bytes) -> Iterator[tuple[int, int, bool]]:
    """(start, end, whether the class is named for settings) of the body of each class of module `text` that may declare settings: one named
    for settings, or any where the module spells `Literal`."""
    literal = b"Literal" in text
    for match in _CLASS.finditer(text):
        settings = settings_class(match.group(1).decode("ascii", "replace"))
        if literal or settings:
            end = _TOP_LEVEL.search(text, match.end())
            yield match.end(), len(text) if end is None else end.start(), settings


def _in_a_function(definitions: list[tuple[int, int]], begin: int, at: int, indent: int) -> bool:
    """Whether the line at `at`, indented by `indent`, sits in the body of the nearest function
    defined since `begin` (`definitions`: each definition's offset and indentation, in order): a
    local of a method, no field of the class."""
    index = bisect.bisect_left(definitions, (at, -1)) - 1
    return index >= 0 and definitions[index][0] > begin and definitions[index][1] < indent


def _field(data: bytes, field: re.Match[bytes]) -> Known | None:
    """The default of the field `field` matched, its value read over as many lines as it takes."""
    text = field.group(2) + b": " + field.group(3) + b" = " + field.group(4)
    after = field.end()
    for _ in range(_CONTINUATION_LINES):
        try:
            node = ast.parse(text.decode("utf-8", "replace").strip()).body[0]
        except (SyntaxError, ValueError, RecursionError, IndexError):
            end = data.find(b"\n", after + 1)
            if end < 0:
                return None
            text += data[after:end]
            after = end
            continue
        return field_default(node.annotation, node.value) if isinstance(node, ast.AnnAssign) and node.value else None
    return None


def chosen_elsewhere(
    declared: Mapping[str, Declared],
    switches: frozenset[str],
    candidates: Iterable[str],
    python: Mapping[str, Callable[[], bytes]],
    configs: Mapping[str, Callable[[], bytes]],
) -> dict[str, tuple[tuple[str, Value], ...]]:
    """Module -> (setting, default) for each setting of `declared` (by the modules that declare
    any) that module `candidates` reads from something named for settings without declaring it;
    only settings all of whose declarations agree, that `switches` (the booleans) do not name, and
    that the configuration files (`configs`) and the Python code outside the test suite do not set to
    another value in more than one folder (`picked_elsewhere`)."""
    defaults: dict[str, Value] = {}
    spoiled: set[str] = set(switches)
    for settings in declared.values():
        for name, value in settings:
            if name in defaults and not _agree(defaults[name], value):
                spoiled.add(name)
            defaults.setdefault(name, value)
    chosen = {name: value for name, value in defaults.items() if name not in spoiled}
    search = word_automaton(name.encode() for name in chosen)
    if search is None:
        return {}
    reads: dict[str, set[str]] = {}
    for path in candidates:
        data = python[path]()
        own = {name for name, _ in declared.get(path, ())}
        read = {name for name in _settings_read(data, search) if name not in own}
        if read:
            reads[path] = read
    if not reads:
        return {}
    pending = {name: chosen[name] for names in reads.values() for name in names}
    picked = picked_elsewhere(pending, {**configs, **{path: read for path, read in python.items() if not is_test_path(path)}})
    return {
        path: tuple(sorted((name, chosen[name]) for name in names - picked))
        for path, names in sorted(reads.items()) if names - picked
    }


def _agree(one: Value, other: Value) -> bool:
    return type(one) is type(other) and one == other


def _settings_read(data: bytes, search: WordSearch) -> set[str]:
    """The words of `search` that `data` spells as an attribute of something named for settings,
    directly or through one section (`args.sched`, `self.config.sched`, `cfg.engine.sched`)."""
    found: set[str] = set()
    size = len(data)
    for index, start, end in search.matches(data):
        if start == 0 or data[start - 1] != _DOT or (end < size and data[end] in WORD_BYTES):
            continue
        dot = start - 1
        for _ in range(_SECTIONS + 1):
            begin = dot
            while begin > 0 and data[begin - 1] in WORD_BYTES:
                begin -= 1
            if _SETTINGS_PART.search(data[begin:dot].decode("ascii", "replace")):
                found.add(search.words[index].decode("ascii"))
                break
            if begin == 0 or data[begin - 1] != _DOT:
                break
            dot = begin - 1
    return found


_DOT = ord(".")
_SECTIONS = 1
"""How many sections a read may pass between the settings and the setting (`cfg.engine.sched`)."""


def picked_elsewhere(settings: Mapping[str, Value], files: Mapping[str, Callable[[], bytes]]) -> set[str]:
    """The settings of `settings` (name -> default) that `files` give another value in more than one
    folder: `impl: local` in YAML, `--impl local` or `--impl=local` in a script, `impl="local"` as a
    keyword or `"impl": "local"` in a dictionary of Python code (a quoted string or a number there:
    a name or a call may hold anything). One pass of an automaton of the names over each file, then
    the value after each place a name stands alone."""
    search = word_automaton(name.encode() for name in settings)
    if search is None:
        return set()
    folders: dict[str, set[str]] = {}
    for path, read in files.items():
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable file sets nothing; its own analysis says why
            continue
        python = path.endswith(".py")
        folder = path.rpartition("/")[0]
        for index, start, end in search.matches(data):
            name = search.words[index].decode("ascii")
            if folder in folders.get(name, ()) or not _stands_alone(data, start, end):
                continue
            given = _GIVEN.match(data, end)
            if given is None:
                continue
            quote, token = given.group(1), given.group(2).decode("ascii", "replace")
            if python and not quote and _number(token) is None:
                continue
            if not _spells(settings[name], token):
                folders.setdefault(name, set()).add(folder)
    return {name for name, found in folders.items() if len(found) > 1}


_GIVEN = re.compile(rb"""['"]?(?:[ \t]*[:=][ \t]*|[ \t]+)(['"]?)([\w.+-]+)""")
"""What follows a setting's name where a file gives it a value: `: local`, `=local`, ` local`, `": "local"`."""


def _stands_alone(data: bytes, start: int, end: int) -> bool:
    """Whether the name at `start:end` is a word of its own, or an option's (`--impl`), not part of
    a longer name or an attribute (`args.impl`)."""
    if end < len(data) and data[end] in _NAME_GOES_ON:
        return False
    if data[max(0, start - 2) : start] == b"--":
        start -= 2
    return start == 0 or data[start - 1] not in _NAME_GOES_ON


_NAME_GOES_ON = WORD_BYTES | frozenset(b".-")
"""Bytes that make a name part of a longer one (`my_impl`, `args.impl`, `--impl-kind`)."""


def _number(token: str) -> float | None:
    """The number a token spells, None for anything else."""
    try:
        return float(token)
    except ValueError:
        return None


def _spells(default: Value, token: str) -> bool:
    """Whether a value written in a configuration file or a call is the default."""
    if isinstance(default, tuple):
        return token.lower() in (default[1].lower(), f"{default[0]}.{default[1]}".lower())
    if default is None:
        return token.lower() in ("none", "null", "~")
    if isinstance(default, str):
        return token == default
    number = _number(token)
    return number is not None and number == default

