"""Keyword parameters that default to False and that nothing in the project turns on.

A library's loader may take an opt-in route by a keyword: `def load(self, source, use_engine=False)`,
with `if use_engine: from .engine import Engine` inside, or the keyword kept in an attribute
(`self.is_engine = use_engine`) that a later method, or another module holding the object, tests
(`if model.is_engine:`). Where no script, example, notebook, document or configuration of the project
passes the keyword anything but False (or hands it on under its own name, `use_engine=use_engine`,
from another such keyword), the normal path never takes that arm: it runs only for a user who turns
the keyword on. That is another path (principle 1), at most a warning, and never silence: a user may
pass it, which is why the keyword exists.

`defaulted_off` reads one module from its bytes: the parameters its signatures default to False that
an `if` header of the module names, and the attributes of `self` it stores such a parameter in.
`kept_off` then keeps a name where every spelling of it with a value in the project's code outside
the test suite, notebooks included, gives False, None or another name kept so (`use_engine=use_engine`,
`self.is_engine = use_engine`), and no document or configuration gives it a value or quotes it (a
`"use_engine": True` in a table of keywords, `use_engine: true` in a YAML file); a keyword given
anything else anywhere keeps its verdicts. A call that passes it by position (`chat.load('m.pt', True)`)
gives it that value: the callers of each function (by its name, a class's for `__init__`) are read
against the parameter's place in the signature (`positional_slots`), and any value there but False,
None or a name so kept turns it on.

A switch may come from a configuration through an attribute of another name: `self.r1_old_amp =
self.loss_config.get("r1_old_amp", False)` (`off_lookups`, read from any module), then
`penalty(pred, use_old_amp=self.r1_old_amp)`. The attribute is handed the key (the lookup's quotes
of it are no value given), and the keyword the attribute (`self.NAME` is a name handed on, as
`NAME` is): where every shipped configuration that names the key gives it False
(`loss_config=dict(r1_old_amp=False)`), the keyword's arm is off on every route the project ships.

The YAML twin: a module that loads its configuration from YAML (`DotDict(load_yaml(args.yaml))`,
`OmegaConf.load(path)`) and tests a key of it (`if cfg.train.use_extra:`, `if cfg.train.resume is not
None:`) takes that arm only where a YAML file turns the key on. `yaml_tests` reads such a module, and
`off_in_yaml` keeps the keys every shipped YAML file that names them leaves off (`use_extra: False`,
`resume: null`; a test of `is not None` only null): the configurations the project ships never take
the arm, so it is another path there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import NamedTuple

from cudaudit.filekinds import is_test_path
from cudaudit.rules.catalog import WORD_BYTES, WordSearch, word_automaton
from cudaudit.rules.python.kept_on import VALUE_GIVEN, spelled
from cudaudit.rules.python.opt_in import ADD_ARGUMENT
from cudaudit.rules.python.read_once import outside_tests, read_or_empty
from cudaudit.rules.python.switch_parameters import in_signature

Named = tuple[str, str]
"""(a name the module tests, the parameter it holds): the parameter itself (`use_engine`,
`use_engine`), or an attribute of `self` it is stored in (`is_engine`, `use_engine`)."""

_TRAILING_NAME = re.compile(rb"(?<![\w.])([A-Za-z_]\w*)\Z")
_IF_LINE = re.compile(rb"\n[ \t]*(?:el)?if[ \t]([^\n]*):")
"""An `if` or `elif` header on one line, with its test (searched after a newline put in front)."""
_ATTRIBUTE = re.compile(rb"\.([A-Za-z_]\w*)")
STORED = re.compile(rb"\n[ \t]+self\.([A-Za-z_]\w*)[ \t]*=[ \t]*([A-Za-z_]\w*)[ \t]*(?=\n|#)")
"""`self.is_engine = use_engine`: a parameter kept in an attribute, alone on its line."""
_GIVEN_IN_PROSE = re.compile(rb"[\"']?[ \t]*[:=]|[\"']")
"""What follows a name a document or configuration gives a value or quotes: `use_engine=True`,
`use_engine: true`, `"use_engine"`."""
_OFF_IN_PROSE = re.compile(
    rb"(?:(?<=[:=])|[\"']?[ \t]*[:=])[ \t]*(?:(?:False|false|None|null)\b|~)|(?<=:)[ \t]*(?:#[^\n]*)?(?:\r?\n|\Z)"
)
"""An off value after a name given one or quoted (`use_engine=False` in a document's old code,
`"use_engine": false`, `use_engine: null`), or a colon that ends its line (`elif use_engine:` in a
document's code): it turns nothing on."""
_WORD_BYTES = frozenset(bytes([byte]) for byte in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_ATTRIBUTE_GIVEN = re.compile(rb"[ \t]*=(?!=)[ \t]*")
_OFF_OR_NAME = re.compile(rb"(?:self\.)?(False|None|[A-Za-z_]\w*)[ \t]*(?=[,)\n#;]|$)")
"""A value that is False, None or a plain name (one the reading follows), or an attribute of `self`
(`use_old_amp=self.r1_old_amp`: the attribute's name, followed as a name), ending where its argument
or statement ends."""
_LOOKUP_OFF = re.compile(
    rb"(?<![\w.])(?:[A-Za-z_]\w*\.)+get\(\s*[\"']([A-Za-z_]\w*)[\"']\s*,\s*(?:False|None)\s*\)[ \t]*(?=[,)\n#;]|$)"
)
"""A configuration's lookup with an off default (`self.loss_config.get("r1_old_amp", False)`), with the
key: the value the configurations give the key."""
_LOOKUP_STORE = re.compile(rb"\n[ \t]+self\.([A-Za-z_]\w*)[ \t]*=[ \t]*(?=(?:[A-Za-z_]\w*\.)+get\()")
"""`self.r1_old_amp = ` before a lookup (`_LOOKUP_OFF`), searched after a newline put in front."""
_LOOKED_UP = re.compile(rb"\.get\(\s*\Z")
"""What stands before a key's quotes in a lookup (`cfg.get("r1_old_amp"`): no value given to it."""
_OFF_DEFAULT = re.compile(rb"\s*,\s*(?:False|None)\s*\)")
"""What follows the key's quotes in a lookup with an off default (`, False)`); one with another default
(`cfg.get("r1_old_amp", True)`) turns the key on."""


def defaulted_off(data: bytes) -> tuple[Named, ...]:
    """The parameters module `data`'s signatures default to False that an `if` header of the module
    names as a name of its own (`if use_engine:`, `if not use_engine and x:`), and the attributes of
    `self` it stores such a parameter in (`self.is_engine = use_engine`), whoever tests those."""
    if b"False" not in data:
        return ()
    parameters = {name for name, _ in false_defaults(data)}
    if not parameters:
        return ()
    found = {(name, name) for name in parameters if in_header(data, name)}
    found.update(
        (stored.group(1), stored.group(2)) for stored in STORED.finditer(b"\n" + data) if stored.group(2) in parameters
    )
    return tuple(sorted((name.decode("ascii"), held.decode("ascii")) for name, held in found))


def off_lookups(data: bytes) -> tuple[Named, ...]:
    """(the attribute, the key) of each attribute of `self` module `data` sets from a configuration's
    lookup with an off default (`self.r1_old_amp = self.loss_config.get("r1_old_amp", False)`)."""
    if b".get(" not in data:
        return ()
    found = set()
    text = b"\n" + data
    for store in _LOOKUP_STORE.finditer(text):
        lookup = _LOOKUP_OFF.match(text, store.end())
        if lookup is not None:
            found.add((store.group(1).decode("ascii"), lookup.group(1).decode("ascii")))
    return tuple(sorted(found))


LOADS_YAML = re.compile(
    rb"(?i)(?<!\w)(?:yaml\.(?:safe_|full_|unsafe_)?load(?:_all)?|\w*(?:load|read)_?yaml\w*|\w*yaml_?(?:load|read)\w*"
    rb"|OmegaConf\.load)[ \t]*\("
)
"""A call that reads a configuration from YAML: `yaml.safe_load(f)`, a project's `load_yaml(path)`,
`OmegaConf.load(path)`."""
_YAML_NEEDLES = (b"aml", b"AML", b"OmegaConf")
"""What a line that loads or names a YAML file holds (`yaml`, `Yaml`, `YAML`, `OmegaConf.load`)."""
_CHOSEN_BY = re.compile(
    rb"(?i)(?<!\w)(?:yaml\.(?:safe_|full_|unsafe_)?load\w*|\w*(?:load|read)_?yaml\w*|\w*yaml_?(?:load|read)\w*|OmegaConf\.load)"
    rb"[ \t]*\([ \t]*(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)[ \t]*\)"
    rb"""|\{[ \t]*(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)[ \t]*\}[^'"\n{}]*\.ya?ml['"]"""
    rb"""|(?<![\w.])(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)[ \t]*\+[ \t]*['"]\.ya?ml['"]"""
)
"""The option a YAML file is chosen by: an attribute handed to the load (`load_yaml(args.yaml)`), or
put into the file's name (`f"config/{a.yaml}.yaml"`, `"config/" + args.yaml + ".yaml"`)."""
_STRING_DEFAULT = re.compile(rb"""default[ \t]*=[ \t]*['"]([^'"\n]+)['"]""")
_NONE_TEST = re.compile(
    rb"""\n[ \t]*(?:el)?if[ \t]+(?:(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)|[A-Za-z_][\w.]*(?:\[[ \t]*['"]\w+['"][ \t]*\])*"""
    rb"""(?:\[[ \t]*['"](\w+)['"][ \t]*\]|\.get\([ \t]*['"](\w+)['"][ \t]*\)))[ \t]+is[ \t]+not[ \t]+None[ \t]*:"""
)
"""`if cfg.train.resume is not None:`, `if cfg["train"]["resume"] is not None:`, `if cfg.get("resume")
is not None:`, searched after a newline put in front: the key's name."""
_YAML_KEY = re.compile(rb"[ \t]*(?:-[ \t]+)?\Z")
"""What stands before a YAML key on its line: indentation, or a list's dash."""
_YAML_NULL = re.compile(rb":[ \t]*(?:(?:null|Null|NULL|None|~)[ \t]*)?(?:#[^\n]*)?(?:\r?\n|\Z)")
_YAML_FALSE = re.compile(rb":[ \t]*(?:false|False|FALSE)[ \t]*(?:#[^\n]*)?(?:\r?\n|\Z)")
_YAML_NEXT = re.compile(rb"(?:[ \t]*(?:#[^\n]*)?\r?\n)*([ \t]*)[^ \t\r\n]")
"""The indentation of the next line that holds something: a key without a value on its line holds
the block below it where that is indented further."""


class YamlTests(NamedTuple):
    """What `yaml_tests` reads of a module that loads a configuration from YAML."""

    against_none: frozenset[str]
    """The keys its `if` headers test against None (`if cfg.train.resume is not None:`), which only a
    null leaves off."""
    option: str | None
    """The command-line option that names the YAML file (`load_yaml(args.yaml)`, `f"config/{a.yaml}.yaml"`)."""
    default: str | None
    """That option's default in the module's own parser (`add_argument("--yaml", default="base")`)."""


def yaml_tests(data: bytes) -> YamlTests | None:
    """What module `data` reads of a configuration it loads from YAML; None where it loads none."""
    lines = _yaml_lines(data)
    if not any(LOADS_YAML.search(line) for line in lines):
        return None
    against_none = frozenset(
        next(key for key in match.groups() if key).decode("ascii") for match in _NONE_TEST.finditer(b"\n" + data)
    )
    chosen = next((found for line in lines if (found := _CHOSEN_BY.search(line)) is not None), None)
    option = next((group for group in chosen.groups() if group), None) if chosen is not None else None
    if option is None:
        return YamlTests(against_none, None, None)
    flag = re.compile(rb"""['"]--?""" + re.escape(option) + rb"""['"]""")
    default = next(
        (found.group(1) for declared in ADD_ARGUMENT.finditer(data) if flag.search(declared.group(1))
         and (found := _STRING_DEFAULT.search(declared.group(1))) is not None),
        None,
    )
    return YamlTests(against_none, option.decode("ascii"), default.decode("ascii") if default is not None else None)


def _yaml_lines(data: bytes) -> list[bytes]:
    """The lines of module `data` that name YAML or OmegaConf, in order: the only ones a load or a
    file's name is read from, found by plain byte searches (most modules have none)."""
    lines: dict[int, bytes] = {}
    for needle in _YAML_NEEDLES:
        start = data.find(needle)
        while start >= 0:
            begin = data.rfind(b"\n", 0, start) + 1
            end = data.find(b"\n", start)
            end = len(data) if end < 0 else end
            lines[begin] = data[begin:end]
            start = data.find(needle, end)
    return [lines[begin] for begin in sorted(lines)]


def off_in_yaml(
    keys: Mapping[str, bool], yamls: Mapping[str, Callable[[], bytes]]
) -> frozenset[str]:
    """The keys of `keys` (key -> whether a test compares it with None) that some file of `yamls`
    (display path -> bytes) names and every one that names it leaves off: null, or false where it is
    tested for its truth. A value in quotes, a number, a block below the key: not off."""
    words = word_automaton(sorted(key.encode() for key in keys))
    if words is None:
        return frozenset()
    named: set[str] = set()
    refused: set[str] = set()
    for read in yamls.values():
        data = read_or_empty(read)
        for word in words.found(data):
            key = word.decode("ascii")
            for start in _key_places(data, word):
                named.add(key)
                end = start + len(word)
                null = _YAML_NULL.match(data, end)
                if null is not None and null.group().endswith(b"\n"):
                    below = _YAML_NEXT.match(data, null.end())
                    indent = start - data.rfind(b"\n", 0, start) - 1
                    null = None if below is not None and len(below.group(1)) > indent else null
                if null is None and (keys[key] or _YAML_FALSE.match(data, end) is None):
                    refused.add(key)
    return frozenset(named - refused)


def given_in_code(keys: frozenset[str], code: Mapping[str, Callable[[], bytes]]) -> frozenset[str]:
    """The keys of `keys` that an attribute assignment in `code` (display path -> bytes, outside the
    test suite) gives anything but None (`args.resume = last_checkpoint`): a key a test compares with
    None is set there, whatever the YAML files say."""
    words = word_automaton(sorted(key.encode() for key in keys))
    if words is None:
        return frozenset()
    given: set[str] = set()
    for _, data in outside_tests(code):
        for word in words.found(data):
            if any(not data.startswith(b"None", end) for end in _attribute_values(data, word)):
                given.add(word.decode("ascii"))
    return frozenset(given)


def _key_places(data: bytes, word: bytes) -> Iterator[int]:
    """Where `data` writes `word` as a YAML key (`  use_extra: ...`), alone on its line's left."""
    start = data.find(word)
    while start >= 0:
        end = start + len(word)
        line = data.rfind(b"\n", 0, start) + 1
        if _YAML_KEY.match(data[line:start]) and data[end : end + 1] == b":":
            yield start
        start = data.find(word, end)


def false_defaults(data: bytes) -> Iterator[tuple[bytes, int]]:
    """The names a signature of module `data` gives a False default (`use_engine=False`,
    `use_engine: bool = False`), read back from each `False`, each with where it is written."""
    start = data.find(b"False")
    while start >= 0:
        end = start + len(b"False")
        offset = max(0, start - 80)
        before = data[offset:start].rstrip(b" \t")
        if before.endswith(b"=") and data[end : end + 1] not in _WORD_BYTES:
            before = before[:-1].rstrip(b" \t")
            if before.endswith(b"bool"):
                before = before[: -len(b"bool")].rstrip(b" \t")
                before = before[:-1].rstrip(b" \t") if before.endswith(b":") else b""
            name = _TRAILING_NAME.search(before)
            if name is not None and in_signature(data, offset + name.start()):
                yield name.group(1), offset + name.start()
        start = data.find(b"False", end)


def in_header(data: bytes, name: bytes) -> bool:
    """Whether an `if` or `elif` header of module `data`, on one line, names `name` as a name of its own."""
    start = data.find(name)
    while start >= 0:
        end = start + len(name)
        if (start == 0 or data[start - 1 : start] not in _WORD_BYTES) and data[end : end + 1] not in _WORD_BYTES:
            line = data[data.rfind(b"\n", 0, start) + 1 : start].lstrip(b" \t")
            if line.startswith((b"if ", b"elif ", b"if(", b"elif(")):
                return True
        start = data.find(name, end)
    return False


class KeptOff(NamedTuple):
    """What `kept_off_reading` finds."""

    by_module: dict[str, frozenset[str]]
    """Module -> the names nothing turns on (`kept_off`)."""
    configured: frozenset[str]
    """Those of them a configuration's key hands its value (`self.r1_old_amp = cfg.get("r1_old_amp",
    False)`, then `use_old_amp=self.r1_old_amp`): a setting a user may give another configuration."""


def kept_off(
    candidates: Mapping[str, tuple[Named, ...]],
    code: Mapping[str, Callable[[], bytes]],
    others: Mapping[str, Callable[[], bytes]],
    lookups: Mapping[str, tuple[Named, ...]] | None = None,
) -> dict[str, frozenset[str]]:
    """`kept_off_reading`'s names by module."""
    return kept_off_reading(candidates, code, others, lookups).by_module


def kept_off_reading(
    candidates: Mapping[str, tuple[Named, ...]],
    code: Mapping[str, Callable[[], bytes]],
    others: Mapping[str, Callable[[], bytes]],
    lookups: Mapping[str, tuple[Named, ...]] | None = None,
) -> KeptOff:
    """Module -> the names of `candidates` (module -> `defaulted_off`) that nothing turns on: every
    spelling with a value in `code` (display path -> bytes: Python modules and notebooks) outside the
    test suite gives False, None or another name so kept, and none of `others` (documents and
    configurations) gives one a value or quotes it. A module gets the parameters it defines and tests,
    the attributes it stores them in, and the attributes its `if` headers read from anything
    (`if model.is_engine:`) that another module stores so. `lookups` (module -> `off_lookups`) are the
    attributes set from a configuration's lookup, with the keys they are handed, followed as names."""
    found = {path: pairs for path, pairs in candidates.items() if not is_test_path(path)}
    for path, pairs in (lookups or {}).items():
        if not is_test_path(path):
            found[path] = (*found.get(path, ()), *pairs)
    names = {name for pairs in found.values() for pair in pairs for name in pair}
    stored = {name for pairs in found.values() for name, held in pairs if name != held}
    stored.update(name for path, pairs in (lookups or {}).items() if not is_test_path(path) for name, _ in pairs)
    words = word_automaton(sorted(name.encode() for name in names))
    if words is None:
        return KeptOff({}, frozenset())
    given: dict[str, set[str]] = {}
    refused: set[str] = set()
    readers: dict[str, set[str]] = {}
    held = {held.encode() for pairs in found.values() for _, held in pairs}
    slots: dict[bytes, set[tuple[bytes, int]]] = {}
    for path in found:
        for callee, parameter, index in positional_slots(read_or_empty(code[path]) if path in code else b"", held):
            slots.setdefault(callee, set()).add((parameter, index))
    callees = word_automaton(sorted(callee + b"(" for callee in slots))
    for path, data in outside_tests(code):
        calls = callees if path.endswith(".py") else None  # a notebook's JSON quotes its lines: not read by position
        for parameter, written in positional_values(data, calls, slots) if calls is not None else ():
            if written not in (b"False", b"None"):
                name = parameter.decode("ascii")
                if _PLAIN_NAME.fullmatch(written):
                    given.setdefault(name, set()).add(written.decode("ascii"))
                else:
                    refused.add(name)
        present = [word for word in sorted(words.found(data)) if word.decode("ascii") not in refused]
        tested = _tested_attributes(data) if stored.intersection(word.decode("ascii") for word in present) else set()
        for word in present:
            name = word.decode("ascii")
            if name in refused:
                continue  # given anything else once, whatever else gives it
            if quoted(data, word):
                refused.add(name)  # in quotes (`"use_engine": True`, `setattr(m, "is_engine", x)`): not followed
                continue
            ends = [end for _, end in spelled(data, word, VALUE_GIVEN)]
            if name in stored:  # an attribute is given its value as one: `self.is_engine = use_engine`
                ends.extend(_attribute_values(data, word))
            for end in ends:
                value = _OFF_OR_NAME.match(data, end) or _LOOKUP_OFF.match(data, end)
                if value is None:
                    refused.add(name)
                elif value.group(1) not in (b"False", b"None"):
                    given.setdefault(name, set()).add(value.group(1).decode("ascii"))
            if word in tested:
                readers.setdefault(path, set()).add(name)
    for read in others.values():
        data = read_or_empty(read)
        refused.update(
            name for word in words.found(data) if (name := word.decode("ascii")) not in refused and valued(data, word)
        )
    kept = names - refused
    while True:  # a name handed another name keeps only while that one is kept
        dropped = {name for name in kept if not given.get(name, set()) <= kept}
        if not dropped:
            break
        kept -= dropped
    result: dict[str, set[str]] = {}
    for path, pairs in found.items():
        result.setdefault(path, set()).update(name for pair in pairs for name in pair if name in kept)
    for path, read_names in readers.items():
        result.setdefault(path, set()).update(read_names & kept)
    configured = {key for pairs in (lookups or {}).values() for _, key in pairs} & kept
    while grown := {name for name in kept - configured if given.get(name, set()) & configured}:
        configured |= grown  # handed a configured name, at any remove
    return KeptOff({path: frozenset(names) for path, names in result.items() if names}, frozenset(configured))


def quoted(data: bytes, word: bytes) -> bool:
    """Whether `data` quotes `word` other than as the key of a lookup with an off default
    (`cfg.get("r1_old_amp", False)`, whose value `_LOOKUP_OFF` reads where it is stored)."""
    for quote in (b'"', b"'"):
        start = data.find(quote + word + quote)
        while start >= 0:
            end = start + len(word) + 2
            if not (_LOOKED_UP.search(data, max(0, start - 16), start) and _OFF_DEFAULT.match(data, end)):
                return True
            start = data.find(quote + word + quote, start + 1)
    return False


def _attribute_values(data: bytes, word: bytes) -> Iterator[int]:
    """Where the value starts of each assignment to attribute `word` of something in `data`
    (`self.is_engine = use_engine`, `model.is_engine = True`)."""
    start = data.find(b"." + word)
    while start >= 0:
        end = start + 1 + len(word)
        assigned = _ATTRIBUTE_GIVEN.match(data, end)
        if assigned is not None:
            yield assigned.end()
        start = data.find(b"." + word, end)


def _tested_attributes(data: bytes) -> set[bytes]:
    """The attributes the `if` headers of module `data` read from something (`if model.is_engine:`)."""
    return {word for match in _IF_LINE.finditer(b"\n" + data) for word in _ATTRIBUTE.findall(match.group(1))}


def valued(data: bytes, word: bytes) -> bool:
    """Whether a document or configuration gives `word` a value other than an off one
    (`use_engine=True`, `use_engine: true`), or quotes it otherwise."""
    start = data.find(word)
    while start >= 0:
        end = start + len(word)
        alone = (start == 0 or data[start - 1 : start] not in _WORD_BYTES) and data[end : end + 1] not in _WORD_BYTES
        given = _GIVEN_IN_PROSE.match(data, end) if alone else None
        if given is not None and not _OFF_IN_PROSE.match(data, given.end()):
            return True
        start = data.find(word, end)
    return False


_PLAIN_NAME = re.compile(rb"[A-Za-z_]\w*")
_DEF = re.compile(rb"(?m)^([ \t]*)(?:async[ \t]+)?def[ \t]+(\w+)[ \t]*\(")
_CLASS = re.compile(rb"(?m)^([ \t]*)class[ \t]+(\w+)")
_KEYWORD_ARGUMENT = re.compile(rb"[ \t\r\n]*[A-Za-z_]\w*[ \t\r\n]*=(?!=)")
_NAME_BYTES = _WORD_BYTES - {b".", b"-"}
"""What a name is written with: a call's name starts after none of them (`chat.load(`, not `reload(`)."""
_COMMENT = re.compile(rb"#[^\n]*")
_LONGEST_CALL = 4000
"""How far a call's arguments are read (bytes): a parenthesis not closed by then is no call read here."""


def positional_slots(
    data: bytes, parameters: set[bytes], defaults: list[tuple[bytes, int]] | None = None
) -> Iterator[tuple[bytes, bytes, int]]:
    """(the name a call of the function is written with, the parameter, its index among the positional
    arguments such a call writes) for each of `parameters` that a signature of module `data` defaults
    to False and takes by position: `self` and `cls` are not written by a call through an object,
    `__init__` is called by its class's name, and nothing after `*` or `*args` is positional.
    `defaults` are `false_defaults(data)` where the caller has read them already."""
    read: set[int] = set()
    for parameter, position in false_defaults(data) if defaults is None else defaults:
        line = data.rfind(b"\n", 0, data.rfind(b"def ", 0, position)) + 1
        match = _DEF.match(data, line) if parameter in parameters and line not in read else None
        items = call_arguments(data, match.end() - 1) if match is not None else None
        read.add(line)
        if match is None or items is None:
            continue
        callee = match.group(2)
        if callee == b"__init__":
            callee = _enclosing_class(data, match.start(), len(match.group(1)))
            if callee is None:
                continue
        index = 0
        for place, item in enumerate(items):
            name = _PLAIN_NAME.match(item.strip())
            if item.strip().startswith(b"*"):
                break  # keyword-only from here on
            if name is None:
                continue  # `/`: the positional-only marker
            if place == 0 and name.group(0) in (b"self", b"cls"):
                continue
            if name.group(0) in parameters:
                yield callee, name.group(0), index
            index += 1


def _enclosing_class(data: bytes, start: int, indent: int) -> bytes | None:
    """The name of the class a `def` indented by `indent` at `start` is written in, if any."""
    found = None
    for match in _CLASS.finditer(data, 0, start):
        found = match.group(2) if len(match.group(1)) < indent else found
    return found


def positional_values(
    data: bytes, callees: WordSearch, slots: Mapping[bytes, set[tuple[bytes, int]]]
) -> Iterator[tuple[bytes, bytes]]:
    """(parameter, the value written for it) for each call in `data` of a name of `slots` (`callees`
    spells each with its parenthesis) that writes an argument at a parameter's place (`load('m.pt',
    True)`). A call with a starred argument is not read: what it passes where is not known, and the
    name is as often another class's method (`text.decode(*ARGS)`)."""
    for index, start, end in callees.matches(data):
        if data[start - 1 : start] in _NAME_BYTES or data[max(0, start - 4) : start] == b"def ":
            continue  # `reload(` for `load(`, or the definition itself
        prefix = data[data.rfind(b"\n", 0, start) + 1 : start]
        if prefix.count(b'"') % 2 or prefix.count(b"'") % 2:
            continue  # inside a string: `f"Params(n={self.n}, "`
        items = call_arguments(data, end - 1)
        positional = [] if items is None else [
            item.strip() for item in items if not (_KEYWORD_ARGUMENT.match(item) or item.strip().startswith(b"**"))
        ]
        if any(item.startswith(b"*") for item in positional):
            continue  # `text.decode(*ARGS)`: a method of the same name as often as a forwarding wrapper
        for parameter, place in slots[callees.words[index][:-1]]:
            if place < len(positional) and positional[place]:
                yield parameter, positional[place]


def project_calls(code: Mapping[str, Callable[[], bytes]], callees: WordSearch) -> Iterator[tuple[bytes, bytes, int]]:
    """(callee, module bytes, offset of the call's `(`) for each call of `callees` (an automaton of
    `name(` words) in the project's Python modules outside the test suite (`code`: display path ->
    bytes); a longer name that ends in one (`reload(` for `load(`), the definition itself, and a call
    on a line with a comment or an open string (`# renderer = Renderer()`) are left out."""
    for path, data in outside_tests(code):
        if not path.endswith(".py"):
            continue
        for index, start, end in callees.matches(data):
            line = data[data.rfind(b"\n", 0, start) + 1 : start]
            if (start and data[start - 1] in WORD_BYTES) or line.lstrip().startswith((b"def ", b"class ")):
                continue
            if b"#" in line or line.count(b'"') % 2 or line.count(b"'") % 2:
                continue
            yield callees.words[index][:-1], data, end - 1


def call_arguments(data: bytes, opened: int) -> list[bytes] | None:
    """The comma-separated items between the parenthesis at `opened` and the one that closes it
    (brackets and quoted strings kept whole, comments left out); None where it does not close
    within `_LONGEST_CALL` bytes. The reading steps from one byte of `_ARGUMENT_SYNTAX` to the
    next: the bytes between them change nothing (most of a call's bytes, read one by one before)."""
    items: list[bytes] = []
    depth, quote, begin = 0, b"", opened + 1
    limit = min(len(data), opened + _LONGEST_CALL)
    found = _ARGUMENT_SYNTAX.search(data, opened + 1, limit)
    while found is not None:
        index = found.start()
        byte = found.group()
        if quote:
            if byte == b"\\":
                index += 1
            elif byte == quote:
                quote = b""
        elif byte == b"\\":
            index += 1  # a line continued, or a notebook's escaped quote (`\\"` in its JSON)
        elif byte in (b"'", b'"'):
            quote = byte
        elif byte == b"#":
            newline = data.find(b"\n", index)  # a comment, to the end of its line
            index = len(data) if newline < 0 else newline - 1
        elif byte in (b"(", b"[", b"{"):
            depth += 1
        elif byte in (b")", b"]", b"}"):
            if depth == 0:
                last = data[begin:index]
                items = [*items, last] if last.strip() or items else items
                return [_COMMENT.sub(b"", item) for item in items]
            depth -= 1
        elif depth == 0:  # a comma
            items.append(data[begin:index])
            begin = index + 1
        found = _ARGUMENT_SYNTAX.search(data, index + 1, limit)
    return None


_ARGUMENT_SYNTAX = re.compile(rb"[\\'\"#()\[\]{},]")
"""The bytes `call_arguments` reads: escapes, quotes, comments, brackets and commas."""
