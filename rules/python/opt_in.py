"""Classes and functions the project's scripts reach only through a switch that is off by default.

A script may build one of several samplers, indexes or profilers by its command line: `if
opt.plms: sampler = PLMSSampler(model)`, with `--plms` a `store_true` option. A training script
may patch its model only when an argument class's field asks for it: `if training_args.flash_attn:
replace_llama_attn_with_flash_attn()`, with `flash_attn: bool = False` (or `field(default=False,
...)`) in a `TrainingArguments` dataclass that `HfArgumentParser` fills, in the script or another
module. Where every use of such a name in the project sits under such a test, it runs only when a
user asks for it: its CUDA sites are another path than the normal one, at most a warning, wherever
it is defined. The walk already reads the test itself as off by default (`names.off_by_default`);
this reading follows it one step, to what the branch constructs or calls.

`read_switches` reads one module from its bytes: the settings it declares (`store_true` options,
boolean fields of classes named for arguments or configs, the attributes of a params group whose
base class declares an option of each attribute of `vars(self)`, with their defaults) and the settings
its `if` headers read from an argument object (`training_args.fp8`); a module with neither stops
there. Then only the blocks under a test of such a setting that call something the module imports
or defines are parsed, each on its own: the names called there whose every other mention in the
module is an import of them or their own definition. `switched_definitions` then finds where each
is defined (a top-level `class` or `def` in the module the script imports it from, or the script
itself) and keeps it only where no other module of the scan mentions it outside its import lines
(a module that defines the same name itself, or imports it from another module, mentions another
definition), unless that module's own reading finds it switched too. A setting the script does not
declare itself counts only where some module declares it off by default, none declares it with
another default, and the project's YAML files and scripts do not turn it on in more than one folder
(`turned_on`: `do_train: true` in every example is the normal path, one folder of examples for a
feature is its opt-in). Where every import of the module that defines such a name also sits in a
switched block (`if training_args.fused: from .fused import patch`), the module's own top level (an
import of a CUDA-only library) runs only there too: the module is switched as a whole (the empty
name), whether or not it has sites of its own (an engine's entry class, whose modules hold the
sites); a package's `__init__.py` that re-exports it counts as an import inside such a block where
the package itself is imported only there, and is switched with it. A switched block that only
imports (`elif opt.backbone == "grid_fast": from nets.grid_fast import Field`, the class built after
the `if` chain, whichever arm ran) counts the same way: each module it imports is switched as a whole
where every import of it is such a one (`IMPORT`). A name this reading cannot place, or one mentioned in any other way, keeps its verdicts.

A switch may also be a choice the user makes: a Streamlit checkbox kept in a name that is off until
ticked (`refine = st.checkbox("Refine?", False)`), or a setting of several strings tested for
another value than the one it starts on: a radio or select box (`mode = st.radio("Mode",
("txt2img", "img2img"), 0)`, then `elif mode == "img2img":`, or `if mode in ("img2img",
"inpaint"):`), an option with `choices=` and a `default=` among them. Such switches are the
module's own (`_choices`), never a setting other modules read; so are the names the project index
finds to hold a switch there (`switched_by`: a parameter every caller hands an unticked box). A class
whose method a switched block calls (`PriorModel.build(...)`) is called there, and a module only
modules switched as a whole import is switched as a whole too. A function of the module that only
switched code calls is switched too, and so is what only it calls, to a fixed point; where the module
takes its helpers from one `from helpers import *`, a name it neither imports nor defines is the
helpers' (`do_img2img` of a Streamlit demo's shared module).
"""

from __future__ import annotations

import ast
import builtins
import posixpath
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache, lru_cache

from cudaudit.facts import Evidence
from cudaudit.filekinds import is_test_path
from cudaudit.firstparty import ModuleMap, module_map
from cudaudit.rules.catalog import word_automaton
from cudaudit.rules.python.library_dispatch import Dispatched, reaching
from cudaudit.rules.python.names import (
    is_nothing,
    option_choice,
    picked_option,
    picks_another,
    tests_a_setting,
    unticked,
)
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.read_once import ReadOnce
from cudaudit.rules.python.setting_values import Value, settings_class
from cudaudit.source import decode_python, read_tree

SwitchedCall = tuple[str, int, str, int, str, str, int]
"""(name, import level, imported from, line of the switch, its text, the switch, the last line of
its block): `from .plms import
PLMSSampler` gives level 1 and `plms`; a name the module defines itself has level 0 and ``; a
method called on anything (`self.buffer.prepare()`) has level `METHOD`. The
switch is empty where the module itself shows it off by default (a `store_true` option, a field of
its own argument class), else the setting a test reads (`training_args.fp8` gives `fp8`), which
counts only where the project declares it off by default and nowhere otherwise."""

Switches = tuple[
    tuple[SwitchedCall, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]
]
"""What `read_switches` finds in one module: the calls made only under a switch, the settings the
module declares off by default, those it declares with any other default, and the settings its `if`
headers read from an argument object that it does not declare, which count only where another
module declares one of them off by default (`settings_calls` reads their calls in a module that
declares no switch of its own; one that does reads them with its own); then the settings of its
declared-off ones that a params group declares (`_grouped`), and the settings its `if` headers read
from any other object (`if pipe.debug:`), which count only where a params group declares them."""

_DEFINITION = r"^(?:class|def|async[ \t]+def)[ \t]+{name}\b"
_METHOD_DEFINITION = r"^[ \t]+(?:async[ \t]+)?def[ \t]+{name}\b"
METHOD = -1
"""The import level of a `SwitchedCall` that is a method call (`self.buffer.prepare()`): the
definition is found by its name among the scan's classes, not through an import."""
IMPORT = -2
"""The import level of a `SwitchedCall` that is an import inside a switched block (`elif opt.backbone ==
'grid_fast': from nets.grid_fast import Field`, the class called after the block): its name is
`import ` and the module as spelled, relative dots included; its module the names imported from
it, joined by commas. The module it runs is switched as a whole where every import of it is such a
one (`imported_only_within`), whatever calls what it defines."""
_IMPORT_STATEMENT = re.compile(
    rb"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+import[ \t]*\([^)]*\)|(?:from[ \t]+[\w.]+[ \t]+)?import\b(?:[^\n\\]|\\\r?\n|\\)*)", re.M
)
"""An import statement, a parenthesised list of names over several lines included, and one continued
by a backslash (`from pipes.inpaint import \\` with the names on the next line)."""
_COMMENTED_IMPORT = re.compile(rb"\n[ \t]*#[ \t]*(?:from[ \t]+[\w.]+[ \t]+import|import[ \t]+[\w.]+)[^\n]*")
"""A comment that holds an import statement (`# from pkg.patch import apply`): an import someone turned
off. Searched after a newline put in front, so that the engine skips from newline to newline."""
_TEXT_LIMIT = 80
_CANDIDATE_LIMIT = 32
"""The most switched names followed through the scan (each a byte search of every module)."""


def read_switches(path: str, data: bytes) -> Switches:
    """The names module `path` calls only under a test of a switch that is off by default, with the
    settings it declares (`Switches`).

    Read from bytes: the module's own switches (`store_true` options, `use_x: bool = False` fields
    of its argument classes), the settings its `if` headers read from an argument object
    (`if training_args.fp8:`), then the header lines that test one, each with its block (by
    indentation), which alone is parsed. A header this misses (a test over several lines, a block
    longer than `_BLOCK_LINES`) only keeps verdicts."""
    off, other = _declared(data)
    grouped_off, grouped_other = _grouped(data)
    other |= grouped_other
    off = (off | grouped_off) - other
    tested, loosely = _tested_settings(data)
    tested -= other | off
    loosely -= other | off | tested
    declared = tuple(sorted(name.decode("ascii") for name in off)), tuple(sorted(name.decode("ascii") for name in other))
    widgets, choices = _choices(data)
    elsewhere = tuple(sorted(name.decode("ascii") for name in tested))
    groups = tuple(sorted(name.decode("ascii") for name in grouped_off & off)), tuple(sorted(name.decode("ascii") for name in loosely))
    if not (off or widgets or choices):
        return (), *declared, elsewhere, *groups
    return _switched_calls(data, off | widgets, tested, choices), *declared, elsewhere, *groups


def settings_calls(data: bytes, settings: Iterable[str]) -> tuple[SwitchedCall, ...]:
    """The names a module calls only under a test of one of `settings`, which another module
    declares off by default (`read_switches` gave them as tested)."""
    return _switched_calls(data, set(), {setting.encode() for setting in settings})


def switched_by(data: bytes, switches: Iterable[str]) -> tuple[SwitchedCall, ...]:
    """The names a module calls only under a test of one of `switches`, names the project index
    found to hold a switch the user turns on (a parameter every caller hands an unticked checkbox,
    an entry of a table of environment lookups), read as the module's own."""
    return _switched_calls(data, {switch.encode() for switch in switches}, set())


def _switched_calls(
    data: bytes, switches: set[bytes], tested: set[bytes], choices: Mapping[str, Value] | None = None
) -> tuple[SwitchedCall, ...]:
    choices = choices or {}
    lines = data.split(b"\n")
    words = switches | tested | {name.encode() for name in choices}
    off = frozenset(word.decode("ascii", "replace") for word in switches | tested)
    statements = import_statements(data)
    sources = _import_sources(statement for _, statement in statements)
    starred = _star_sources(statement for _, statement in statements)
    defined = {name.decode("ascii", "replace") for name in _TOP_DEFINED.findall(b"\n" + data)}
    known = {name.encode() for name in (*sources, *defined)}
    switched: dict[str, tuple[int, str, str, int]] = {}
    methods: dict[str, tuple[int, str, str, int]] = {}  # `self.buffer.prepare(...)`: a method, by its name
    spans: list[tuple[int, int]] = []
    blocks: dict[str, set[tuple[int, str, str, int]]] = {}
    imported: dict[tuple[str, str], set[tuple[int, str, str, int]]] = {}  # (`IMPORT` name, names) -> its blocks
    """Every switched block that calls a name or a method: a module may import and call it under two
    tests of the same switch, and each import must be found inside one (`imported_only_within`); a
    block under a switch a documented command turns on makes the name the normal path's
    (`project_index._not_documented_on`)."""
    for named, _, first, end in _named_blocks(data, lines, words):
        text = b"\n".join(lines[first:end])
        if (
            not any(called.group(1) in known or len(starred) == 1 for called in _CALLED_NAME.finditer(text))
            and not _CALLED_METHOD.search(text)
            and b"import" not in text
        ):
            continue  # calls nothing the module imports or defines, no method, imports nothing: nothing to follow
        block = textwrap.dedent(text.decode("utf-8", "replace"))
        node = _parsed_block(block.replace("elif", "if", 1) if block.startswith("elif") else block)
        if node is None:
            continue
        if not (isinstance(node, ast.If) and (tests_a_setting(node.test, off) or _tests_another_choice(node.test, choices))):
            continue
        spans.append((first + 2, end))
        quoted = " ".join(lines[first].decode("utf-8", "replace").split())[:_TEXT_LIMIT]
        switch = "" if named & (switches | {name.encode() for name in choices}) else min(named).decode("ascii", "replace")
        for inner in (sub for statement in node.body for sub in subtree(statement)):
            if isinstance(inner, ast.Import | ast.ImportFrom):
                for entry in _import_entries(inner):
                    imported.setdefault(entry, set()).add((first + 1, quoted, switch, end))
            elif isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name):
                switched.setdefault(inner.func.id, (first + 1, quoted, switch, end))
                blocks.setdefault(inner.func.id, set()).add((first + 1, quoted, switch, end))
            elif isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and not inner.func.attr.startswith("__"):
                methods.setdefault(inner.func.attr, (first + 1, quoted, switch, end))
                blocks.setdefault(inner.func.attr, set()).add((first + 1, quoted, switch, end))
                if isinstance(inner.func.value, ast.Name):  # `Sampler.from_pretrained(...)` builds a `Sampler`
                    switched.setdefault(inner.func.value.id, (first + 1, quoted, switch, end))
                    blocks.setdefault(inner.func.value.id, set()).add((first + 1, quoted, switch, end))
    entries = {(name, IMPORT, names, *block) for (name, names), found in imported.items() for block in found}
    if not (switched or methods):
        return tuple(sorted(entries))
    imports = statement_lines(statements)
    calls: dict[str, SwitchedCall] = {}
    mentions: dict[str, list[int]] = {}
    grown = True
    while grown:  # a function of the module that only switched code calls is switched; so is what only it calls
        grown = False
        for name, (line, header_text, switch, last) in sorted(switched.items()):
            if len(starred) == 1 and name not in sources and name not in defined and not hasattr(builtins, name):
                sources[name] = starred[0]  # `from helpers import *`: a name bound nowhere else is the helpers' own
            if name in calls or (name not in sources and name not in defined):
                continue  # a builtin or a name bound some other way: nothing to follow
            if name not in mentions:
                own = _definition_span(data, lines, name) if name in defined else None
                mentions[name] = [  # its own body may spell it (a log line, a recursive call)
                    number for number in mention_lines(data, name) if own is None or not own[0] <= number <= own[1]
                ]
            if all(
                any(start <= number <= end for start, end in spans) or number in imports or _defines(lines[number - 1], name)
                for number in mentions[name]
            ):
                level, module = sources.get(name, (0, "")) if name not in defined else (0, "")
                calls[name] = (name, level, module, line, header_text, switch, last)
                if name in defined:
                    body = _definition_span(data, lines, name)
                    if body is not None:
                        spans.append(body)
                        text = b"\n".join(lines[body[0] - 1 : body[1]])
                        for called in _CALLED_NAME.finditer(text):
                            switched.setdefault(called.group(1).decode("ascii", "replace"), (line, header_text, switch, last))
                        grown = True
    for name, (line, header_text, switch, last) in sorted(methods.items()):
        if name in calls or name in sources or name in defined:
            continue
        if name not in mentions:
            mentions[name] = list(mention_lines(data, name))
        if all(any(start <= number <= end for start, end in spans) or _defines_method(lines[number - 1], name) for number in mentions[name]):
            calls.setdefault(name, (name, METHOD, "", line, header_text, switch, last))
    repeated = (
        (name, level, module, *block) for name, level, module, line, *_ in calls.values()
        for block in sorted(blocks.get(name, ())) if block[0] != line
    )
    return tuple(sorted({*calls.values(), *repeated, *entries}))


def _import_entries(statement: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, str]]:
    """(name, module) of the `IMPORT` entry of each module an import statement inside a switched block names."""
    if isinstance(statement, ast.ImportFrom):
        yield "import " + "." * statement.level + (statement.module or ""), ",".join(alias.name for alias in statement.names)
        return
    for alias in statement.names:
        yield "import " + alias.name, ""


def _imported_places(modules: ModuleMap, sources: Iterable[str], importer: str, name: str, names: str) -> set[str]:
    """The scan's modules that an `IMPORT` entry of module `importer` runs; where the importer's folders
    are no packages, the module whose path the import spells."""
    spelled = name.removeprefix("import ")
    module = spelled.lstrip(".")
    level = len(spelled) - len(module)
    places = modules.resolve(importer, level, module, tuple(filter(None, names.split(","))))
    return places or (set() if level else _by_path(sources, module))


def _parsed_block(block: str) -> ast.stmt | None:
    """The first statement of `block`, a function's `if` block lifted out of it: where it returns
    (`if cfg.throughput: run(); return`), it is parsed as the body of a function."""
    for text in (block, "def _():\n" + textwrap.indent(block, "    ")):
        try:
            body = ast.parse(text).body
        except (SyntaxError, ValueError, RecursionError):
            continue
        if not body:
            return None
        return body[0] if text is block else next(iter(getattr(body[0], "body", [])), None)
    return None


def _definition_span(data: bytes, lines: list[bytes], name: str) -> tuple[int, int] | None:
    """The 1-based first and last lines of the top-level definition of `name` in module `data`
    (split into `lines`), decorators aside; None where it is longer than is read."""
    found = re.search(_DEFINITION.format(name=re.escape(name)).encode(), data, re.M)
    if found is None:
        return None
    index = header = data.count(b"\n", 0, found.start())
    # the signature may go on over several lines, to the one that ends it with `:`
    while header < len(lines) - 1 and header - index < _BLOCK_LINES and not lines[header].split(b"#")[0].rstrip().endswith(b":"):
        header += 1
    end = _block_end(lines, header, 0)
    return None if end is None else (index + 1, end)


def _star_sources(statements: Iterable[bytes]) -> list[tuple[int, str]]:
    """(level, module) of each `from ... import *` among a module's import statements."""
    found = []
    for statement in statements:
        match = _FROM_IMPORT.match(statement.lstrip())
        if match is not None and match.group(3).split(b"#")[0].strip() == b"*":
            found.append((len(match.group(1)), match.group(2).decode("ascii", "replace")))
    return found


_WIDGET = re.compile(
    rb"\n[ \t]*(?P<name>[A-Za-z_]\w*)[ \t]*=[ \t]*(?P<gate>[^\n]{0,200}?[ \t]and[ \t]+)?"
    rb"(?:st|streamlit)\.(?:sidebar\.)?(?P<kind>checkbox|toggle|radio|selectbox)\("
    rb"(?P<arguments>(?:[^()]|\((?:[^()]|\([^()]*\))*\)){0,600}?)\)"
)
"""A Streamlit widget whose value a name keeps (`refine = st.checkbox("Refine?", False)`, `mode =
st.radio("Mode", ("txt2img", "img2img"), 0)`), with its arguments, and where the widget is the last
operand of an `and` (`prior = version == "base" and st.checkbox("Use the prior", False)`), what comes
before; searched after a newline put in front."""
_LINE_GOES_ON = re.compile(rb"[ \t]*[^ \t\r\n#]")
"""Something after a widget's call on its line (matched where the call's text, read without the
newline put in front, ends)."""
_WIDGET_WORDS = (b".checkbox(", b".toggle(", b".radio(", b".selectbox(")
"""What a module that keeps a widget's value spells: most modules spell none, and are not searched."""


def _choices(data: bytes) -> tuple[set[bytes], dict[str, Value]]:
    """The Streamlit checkboxes (and toggles) module `data` keeps in a name that are off until the user
    ticks them (`names.unticked`), and the settings it keeps that hold one of several strings, by
    name, with the one they start on: a radio or select box of string options (`names.picked_option`),
    an option with `choices=` and a `default=` among them (`names.option_choice`). A test for another
    of its values (`if mode == "img2img":`) is off by default."""
    widgets: set[bytes] = set()
    choices: dict[str, Value] = {}
    if any(word in data for word in _WIDGET_WORDS):
        for widget in _WIDGET.finditer(b"\n" + data):
            call = parsed_call(b"f(" + widget["arguments"] + b")")
            if call is None:
                continue
            if widget["gate"] is not None and _LINE_GOES_ON.match(data, widget.end() - 1):
                continue  # `x and st.checkbox(...) or y`: more than the box decides
            if widget["kind"] in (b"checkbox", b"toggle"):
                if unticked(call):  # `x and st.checkbox(...)` is off where the box is, whatever `x` holds
                    widgets.add(widget["name"])
                continue
            if widget["gate"] is not None:
                continue  # `x and st.radio(...)` holds what `x` holds where it is false
            start = picked_option(call, lambda table: _dict_keys(data, table))
            if start is not None:
                choices[widget["name"].decode("ascii", "replace")] = start
    if b"choices" in data and b"add_argument" in data:
        for option in ADD_ARGUMENT.finditer(data):
            if b"choices" not in option.group(1):
                continue
            call = parsed_call(b"parser.add_argument(" + option.group(1) + b")")
            chosen = None if call is None else option_choice(call)
            if chosen is not None:
                choices[chosen[0]] = chosen[1][0]
    return widgets, choices


def _dict_keys(data: bytes, name: str) -> list[str] | None:
    """The string keys of the dict module `data` assigns to `name` at its top level, in their order
    (`SPECS = {"base": {...}, "large": {...}}`); None where it assigns no such dict, or one with
    another key."""
    found = re.search(rb"^" + re.escape(name.encode()) + rb"[ \t]*(?::[^=\n]*)?=[ \t]*\{", data, re.M)
    if found is None:
        return None
    closing = re.compile(rb"^\}", re.M).search(data, found.end())
    if closing is None or data.count(b"\n", found.start(), closing.start()) > _BLOCK_LINES:
        return None
    try:
        value = ast.parse(data[found.start() : closing.end()]).body[0]
    except (SyntaxError, ValueError, RecursionError, IndexError):
        return None
    if not (isinstance(value, (ast.Assign, ast.AnnAssign)) and isinstance(value.value, ast.Dict)):
        return None
    keys = [key.value for key in value.value.keys if isinstance(key, ast.Constant) and isinstance(key.value, str)]
    return keys if len(keys) == len(value.value.keys) else None


def switched_values(data: bytes) -> dict[str, set[int]]:
    """Name -> the 1-based lines where module `data` gives it a value only under one of its own
    switches that are off by default, where the other branch gives it None or False: `if args.trt:
    engine = "model.pth"` then `else: engine = None`. Such a name holds nothing unless the user
    asks, and a parameter it is handed holds its default (`switch_parameters`)."""
    off, _ = _declared(data)
    if not off:
        return {}
    lines = data.split(b"\n")
    found: dict[str, set[int]] = {}
    for _, indent, first, end in _named_blocks(data, lines, off):
        last: int | None = end
        if end < len(lines) and lines[end].strip() == b"else:" and len(lines[end]) - len(lines[end].lstrip()) == indent:
            last = _block_end(lines, end, indent)  # the `else:` block goes with it
        if last is None:
            continue
        block = textwrap.dedent(b"\n".join(lines[first:last]).decode("utf-8", "replace"))
        try:
            node = ast.parse(block.replace("elif", "if", 1) if block.startswith("elif") else block).body[0]
        except (SyntaxError, ValueError, RecursionError, IndexError):
            continue
        if not (isinstance(node, ast.If) and tests_a_setting(node.test, frozenset(name.decode("ascii") for name in off))):
            continue
        otherwise = {
            target.id for statement in node.orelse if isinstance(statement, ast.Assign) and is_nothing(statement.value)
            for target in statement.targets if isinstance(target, ast.Name)
        }
        for statement in node.body:
            if isinstance(statement, ast.Assign) and not is_nothing(statement.value):
                for target in statement.targets:
                    if isinstance(target, ast.Name) and target.id in otherwise:
                        found.setdefault(target.id, set()).add(first + statement.lineno)
    return found


def unticked_boxes(data: bytes) -> set[bytes]:
    """The names module `data` keeps a Streamlit checkbox in that is off until the user ticks it (`_choices`)."""
    return _choices(data)[0] if any(word in data for word in _WIDGET_WORDS) else set()


def parsed_call(text: bytes) -> ast.Call | None:
    """The call `text`, parsed; None where it does not parse."""
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        return None
    return node if isinstance(node, ast.Call) else None


def _tests_another_choice(test: ast.expr, choices: Mapping[str, Value]) -> bool:
    """`mode == "img2img"` or `args.mode in ("img2img", "inpaint")` where the setting starts on another
    value, alone or as one of the conditions of an `and`."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_tests_another_choice(value, choices) for value in test.values)
    return isinstance(test, ast.Compare) and picks_another(test, choices) is True


ADD_ARGUMENT = re.compile(rb"add_argument\(((?:[^()]|\([^()]*\)){0,600}?)\)")
_STORE_TRUE = re.compile(rb"""action[ \t]*=[ \t]*['"]store_true['"]""")
_SWITCH_FLAG = re.compile(rb"""['"]-{1,2}(?:[\w-]+\.)*([\w-]+)['"]|dest[ \t]*=[ \t]*['"](?:\w+\.)*(\w+)['"]""")
"""An option's flag or `dest=`, the last part of a dotted one (`--ds.packing_samples`, which the
parser's caller nests into sections: `args.ds.packing_samples`)."""
_SWITCH_ON_BY_DEFAULT = re.compile(rb"default[ \t]*=[ \t]*True")
_BOOL_FIELD = re.compile(rb":[ \t]*(?:bool|Optional\[bool\]|bool[ \t]*\|[ \t]*None)[ \t]*=[ \t]*")
"""An annotated class field of a boolean; the name before it and the class around it are checked after."""
_FIELD_NAME = re.compile(rb"[ \t]+([A-Za-z_]\w*)[ \t]*")
_FALSE_DEFAULT = re.compile(rb"False\b|field\([^)]{0,400}?\bdefault[ \t]*=[ \t]*False\b")
_SETTINGS_CLASS = re.compile(rb"class[ \t]+(\w+)")
"""A class's header, its name then read by `setting_values.settings_class`: an argument class
(`TrainingArguments`, `ModelArgs`, `TrainConfig`, `RunArgsLogging`) is a dataclass that
`HfArgumentParser` or a plain parser fills from the command line, its field defaults the defaults."""
_CONFIG_NODE = re.compile(rb"\n([A-Za-z_]\w*)[ \t]*=[ \t]*(?:\w+\.)*(?:CN|CfgNode|ConfigDict|EasyDict|edict|AttrDict)\(")
"""A module-level configuration tree (`_C = CN()`, yacs's `CfgNode`), whose attributes the module
sets to their defaults at its top level; searched after a newline put in front."""
_NODE_DEFAULT = r"\n{root}(?:\.\w+)*\.(\w+)[ \t]*=[ \t]*([^\n#]*)"
"""A default set at the top level on such a tree (`_C.THROUGHPUT_MODE = False`), with the setting's
last name and its value."""
_SETTING_TEST = re.compile(
    rb"if[ \t]+(?:\([ \t]*\r?\n[ \t]*)?((?:[A-Za-z_]\w*\.)+)([A-Za-z_]\w*)[ \t]*(?::|and[ \t]|\r?\n[ \t]*and[ \t])"
)
"""A test of a setting read from an object, alone or first in an `and`, the header on one line or
opened with a parenthesis over several (`if (`, then `cfg.profile` and `and step >= start` on lines of
their own, as a formatter splits a long one)."""
_KEY_TEST = re.compile(
    rb"""if[ \t]+(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)(?:\[[ \t]*['"]\w+['"][ \t]*\])*"""
    rb"""(?:\[[ \t]*['"](\w+)['"][ \t]*\]|\.get\([ \t]*['"](\w+)['"][ \t]*(?:,[ \t]*(?:None|False)[ \t]*)?\))"""
    rb"""[ \t]*(?::|and[ \t])"""
)
"""A test of a setting read from a mapping by its key, alone or first in an `and`: `if cfg["train"]["use_x"]:`,
`if self.config.get("use_x"):`; the mapping's name (`cfg`) and the key."""
_SETTINGS_RECEIVER = re.compile(rb"(?i)(?:args|arguments|cfg|config|opts?|options|settings|params|flags)$")
"""The object a test reads a setting from (`training_args`, `self.model_args`, `cfg`, the `opt` of
`opt = TrainOptions().parse()` that pix2pix and the projects built on it hand every model), or one it
passes on the way (`cfg.common.profile`: a section of a configuration)."""


def _declared(data: bytes) -> tuple[set[bytes], set[bytes]]:
    """The settings module `data` declares off by default (`add_argument("--use-x",
    action="store_true")`, `use_x: bool = False` or `field(default=False, ...)` in an argument
    class, `_C.USE_X = False` on a configuration tree at its top level), and those it declares with
    any other default."""
    off: set[bytes] = set()
    other: set[bytes] = set()
    if b"add_argument" in data:
        for option in ADD_ARGUMENT.finditer(data):
            arguments = option.group(1)
            pairs = _SWITCH_FLAG.findall(arguments)
            dest = next((given for _, given in pairs if given), None)
            flags = [flag.replace(b"-", b"_") for flag, _ in pairs if flag]
            if not (dest or flags):
                continue
            name = dest or max(flags, key=len)
            switch = _STORE_TRUE.search(arguments) and not _SWITCH_ON_BY_DEFAULT.search(arguments)
            (off if switch else other).add(name)
    for root in set(_CONFIG_NODE.findall(b"\n" + data)):
        pattern = re.compile(_NODE_DEFAULT.format(root=re.escape(root.decode("ascii"))).encode())
        for name, value in pattern.findall(b"\n" + data):
            (off if value.strip() == b"False" else other).add(name)
    if b"bool" in data:
        for field in _BOOL_FIELD.finditer(data):
            begin = data.rfind(b"\n", 0, field.start()) + 1
            name = _FIELD_NAME.fullmatch(data, begin, field.start())
            if name is None:
                continue  # not a class field: a module-level annotation, a parameter
            if not _FALSE_DEFAULT.match(data, field.end()):
                other.add(name.group(1))  # in any class: a misreading keeps verdicts
            elif (header := _SETTINGS_CLASS.match(data, data.rfind(b"\nclass", 0, begin) + 1)) and settings_class(
                header.group(1).decode("ascii", "replace")
            ):
                off.add(name.group(1))
    return off - other, other


def _tested_settings(data: bytes) -> tuple[set[bytes], set[bytes]]:
    """The settings an `if` or `elif` header reads from an argument object (`if training_args.fp8:`,
    `if cfg.common.profile:`), and those it reads from any other object (`if pipe.debug:`)."""
    found: set[bytes] = set()
    loosely: set[bytes] = set()
    for test in _SETTING_TEST.finditer(data):
        lead = data[data.rfind(b"\n", 0, test.start()) + 1 : test.start()].lstrip(b" \t")
        if lead in (b"", b"el"):
            receiver = any(_SETTINGS_RECEIVER.search(part) for part in test.group(1).split(b"."))
            (found if receiver else loosely).add(test.group(2))
    if b"[" in data or b".get(" in data:
        for test in _KEY_TEST.finditer(data):
            lead = data[data.rfind(b"\n", 0, test.start()) + 1 : test.start()].lstrip(b" \t")
            if lead in (b"", b"el") and _SETTINGS_RECEIVER.search(test.group(1)):
                found.add(test.group(2) or test.group(3))
    return found, loosely - found


_GROUP_BUILDER = re.compile(rb"for[ \t]+(\w+)[ \t]*,[ \t]*\w+[ \t]+in[ \t]+vars\([ \t]*self[ \t]*\)\.items\(\)")
"""The loop of a params group's base class over its instance's attributes, `for key, value in
vars(self).items():`, which declares an option of each (`_grouped`)."""
_GROUP_OPTION = r"""add_argument\(\s*['"]--['"]\s*\+\s*{key}\b"""
_GROUP_ATTRIBUTE = re.compile(rb"^[ \t]+self\._?(\w+)[ \t]*=(?!=)[ \t]*([^\n#]*)", re.M)
"""An attribute a params group's constructor sets to its default, `self.debug = False`; a leading
underscore (`self._source_path`) gives the option a short form too, not another name."""


def _grouped(data: bytes) -> tuple[set[bytes], set[bytes]]:
    """The settings a params group declares off by default, and those it declares with any other
    default: a module whose base class turns each attribute of `vars(self)` into an option
    (`for key, value in vars(self).items(): group.add_argument("--" + key, default=value, ...)`, the
    parameter classes of 3D Gaussian Splatting and the projects built on it) declares one option per
    attribute its classes' constructors set, `self.compute_cov3D_python = False` a switch that is off
    (a boolean's option is a `store_true` one there) until `--compute_cov3D_python` is given."""
    if b"vars(" not in data:
        return set(), set()
    for loop in _GROUP_BUILDER.finditer(data):
        if re.search(_GROUP_OPTION.format(key=loop.group(1).decode("ascii")).encode(), data):
            break
    else:
        return set(), set()
    off: set[bytes] = set()
    other: set[bytes] = set()
    for name, value in _GROUP_ATTRIBUTE.findall(data):
        (off if value.strip() == b"False" else other).add(name)
    return off - other, other


_BLOCK_LINES = 60
_IF_WORD = re.compile(rb"if[ \t]")
_WORDS = re.compile(rb"\w+")


def _named_blocks(
    data: bytes, lines: list[bytes], words: set[bytes]
) -> Iterator[tuple[set[bytes], int, int, int]]:
    """(the words of `words` the test names, its indent, the 0-based line of the header, the line
    after the block) of each `if`/`elif` block of `data` (split into `lines`) whose test names one."""
    first, counted = 0, 0
    for start, indent, test in _headers(data):
        named = words.intersection(_WORDS.findall(test))
        if not named:
            continue
        first += data.count(b"\n", counted, start)
        counted = start
        end = _block_end(lines, first, indent)
        if end is not None:
            yield named, indent, first, end


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
_CALLED_METHOD = re.compile(rb"\.[A-Za-z_]\w*\(")
_TOP_DEFINED = re.compile(rb"\n(?:async[ \t]+)?(?:class|def)[ \t]+(\w+)")
"""A top-level definition's name (searched in the module's text after a newline put in front)."""


Statements = tuple[tuple[int, bytes], ...]
"""(1-based first line, text) of each import statement of a module (`import_statements`)."""
_kept_statements: dict[bytes, Statements] | None = None
"""Each module's import statements by its bytes, while `statements_kept` holds."""


@contextmanager
def statements_kept() -> Iterator[None]:
    """Within the block, `import_statements` reads each module's bytes once: the project index's
    readers (the extras', the unreached modules', the `__main__` blocks', the callers', the optional
    and the unnamed modules') each read every module's import statements, 4,047 readings of 1,230
    modules on the seven speed trees. What is kept is dropped when the block ends."""
    global _kept_statements
    previous, _kept_statements = _kept_statements, {}
    try:
        yield
    finally:
        _kept_statements = previous


def import_statements(data: bytes) -> Statements:
    """(1-based first line, text) of each import statement (`_read_import_statements`), kept while
    `statements_kept` holds."""
    kept = _kept_statements
    if kept is None:
        return _read_import_statements(data)
    found = kept.get(data)
    if found is None:
        found = kept[data] = _read_import_statements(data)
    return found


_TRIPLE_QUOTES = (b'"""', b"'''")


def code_import_statements(data: bytes) -> Iterator[tuple[int, bytes]]:
    """The module's `import_statements` outside triple-quoted strings (an example in a docstring, a
    template): an odd count of either triple quote before a statement says it is in one."""
    position, quotes = 0, dict.fromkeys(_TRIPLE_QUOTES, 0)
    for line, statement in import_statements(data):
        at = data.find(statement, position)
        if at < 0:
            continue
        for mark in _TRIPLE_QUOTES:
            quotes[mark] += data.count(mark, position, at)
        position = at
        if not any(count % 2 for count in quotes.values()):
            yield line, statement


def _read_import_statements(data: bytes) -> Statements:
    """(1-based first line, text) of each import statement: the words `from` and `import` found by
    byte searches (a pattern for either word tried every position of the module), then
    `_IMPORT_STATEMENT` at each line where one of them, followed by a space or a tab, comes first."""
    found: list[tuple[int, bytes]] = []
    line, counted, end = 1, 0, -1
    size = len(data)
    next_from, next_import = data.find(b"from"), data.find(b"import")
    while next_from >= 0 or next_import >= 0:
        if next_import < 0 or 0 <= next_from < next_import:
            start, after = next_from, next_from + 4
            next_from = data.find(b"from", after)
        else:
            start, after = next_import, next_import + 6
            next_import = data.find(b"import", after)
        if after >= size or data[after] not in b" \t":
            continue
        begin = data.rfind(b"\n", 0, start) + 1
        if start < end or data[begin:start].strip(b" \t"):
            continue  # inside the statement found last, or not the first word of its line
        statement = _IMPORT_STATEMENT.match(data, begin)
        if statement is None:
            continue
        line += data.count(b"\n", counted, begin)
        counted, end = begin, statement.end()
        found.append((line, statement.group()))
    return tuple(found)


def without_commented_imports(data: bytes) -> bytes:
    """A Python module's text without its commented-out import statements (`# from pkg.patch import
    apply`), each line kept as an empty one: an import turned off runs nothing, and what it names is
    no use of the module. A comment that says anything else is kept."""
    if b"#" not in data:
        return data
    return _COMMENTED_IMPORT.sub(b"\n", b"\n" + data)[1:]


def block_end(data: bytes, start: int, depth: int) -> int:
    """The byte where the block that starts at `start` of the module's bytes `data` ends: the first
    line after it indented `depth` characters or fewer (blank lines aside), else the module's end."""
    end = re.compile(rb"\n[ \t]{0,%d}(?=[^ \t\r\n])" % depth).search(data, start)
    return end.start() if end is not None else len(data)


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
    sources: Mapping[str, Callable[[], bytes]],
    readings: Mapping[str, tuple[SwitchedCall, ...]],
    declared: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset()),
    may_report: Callable[[bytes], bool] = lambda data: b"cuda" in data,
    lines: dict[str, bytes] | None = None,
    dispatched: Dispatched | None = None,
) -> dict[str, tuple[tuple[str, Evidence], ...]]:
    """Display path -> (name, the switch it is reached through) for each top-level class or
    function of the module that the scan uses only under switches that are off by default.
    `readings` are the switched calls (`read_switches`) of the modules that have any; `declared`
    the settings the scan's modules declare off by default and those they declare otherwise: a
    setting another module declares (`fp8: bool = False` in `TrainingArguments`) switches only where
    some module declares it off and none otherwise. Only a module of which `may_report` is true
    (the catalog's prefilter, in a scan) is followed. `lines` keeps each module's `import_lines`
    for the scan's other readers of them (`main_block.imported_modules`). `dispatched`
    (`library_dispatch.dispatched_methods`): a switched call of a library entry that calls methods of
    the project's objects by name switches each method of that name the project defines and never
    calls itself."""
    off, other = declared
    readings = {
        path: kept for path, calls in readings.items()
        if (kept := tuple(call for call in calls if not call[5] or (call[5] in off and call[5] not in other)))
    }
    if not readings:
        return {}
    modules = module_map(sources)
    text = ReadOnce(sources)
    imports = cache(lambda path: import_statements(text(path)))  # read once for every place that asks
    switched_in = {(path, name) for path, calls in readings.items() for name, *_ in calls}
    candidates: dict[tuple[str, str], Evidence] = {}
    methods: dict[str, Evidence] = {}
    places: set[str] = set()
    """Every module defining a switched name: one imported only in switched blocks is switched as a
    whole, whatever else mentions the name, and so is what only it imports (an engine's entry class,
    with no site of its own, whose modules hold the sites)."""
    for script, calls in sorted(readings.items()):
        for name, level, module, line, quoted, *_ in calls:
            if level == METHOD:
                methods.setdefault(name, Evidence(script, line, quoted))
                continue
            if level == IMPORT:  # switched as a whole where every import of it is switched
                places |= _imported_places(modules, sources, script, name, module)
                continue
            for place in sorted(defining_modules(modules, sources, text, script, level, module, name)):
                places.add(place)
                if may_report(text(place)):
                    candidates.setdefault((place, name), Evidence(script, line, quoted))
            if len(candidates) >= _CANDIDATE_LIMIT:
                break
    reached = {entry: methods_of for entry, methods_of in reaching(dispatched or {}).items() if entry in methods}
    mentions = modules_mentioning(
        sources, text, {name for _, name in candidates} | set(methods) | {method for found in reached.values() for method in found}
    )
    found: dict[str, list[tuple[str, Evidence]]] = {}
    lines = {} if lines is None else lines
    for (place, name), evidence in sorted(candidates.items()):
        if (place, name) in switched_in and not any(_importing_lines(modules, sources, text, place, lines, imports)):
            # a script nothing imports: another module that spells the name (`_check_args("throughput")`) cannot reach it
            found.setdefault(place, []).append((name, evidence))
            continue
        if all(
            (path, name) in switched_in
            or is_test_path(path)
            or only_imports(text(path), name, path == place, imports(path))
            or _listed(text(path), name)
            or _names_another(modules, path, text, name, place, imports)
            for path in mentions[name]
        ):
            found.setdefault(place, []).append((name, evidence))
    for place, names in found.items():
        names.extend(_helpers(text, sources, place, names, imports))
    for name, evidence in sorted(methods.items()):
        for place, owner in _switched_method(text, mentions[name], name, switched_in, may_report):
            found.setdefault(place, []).append((f"{owner}.{name}", evidence))
        for method in sorted(reached.get(name, ())):
            for place, owner in _dispatched_methods(text, mentions[name], mentions[method], name, method, switched_in, may_report):
                found.setdefault(place, []).append((f"{owner}.{method}", evidence))
    wholes: dict[str, Evidence] = {}
    for place, names in found.items():
        whole = imported_only_within(modules, sources, text, readings, place, lines, imports)
        if whole is not None:
            names.insert(0, ("", whole))
            wholes[place] = whole
    for place in sorted(places - wholes.keys()):
        whole = imported_only_within(modules, sources, text, readings, place, lines, imports)
        if whole is not None:
            wholes[place] = whole
            if may_report(text(place)):
                found.setdefault(place, []).insert(0, ("", whole))
    for place, evidence in list(wholes.items()):
        for package in _packages_above(modules, place):
            if package in wholes or imported_only_within(modules, sources, text, readings, package, lines, imports) is None:
                break
            wholes[package] = evidence
            if may_report(text(package)):
                found.setdefault(package, []).insert(0, ("", evidence))
    for place, evidence in _imported_only_by_switched(modules, sources, text, wholes, may_report, lines, imports).items():
        found.setdefault(place, []).insert(0, ("", evidence))
    return {path: tuple(names) for path, names in found.items()}


def _packages_above(modules: ModuleMap, place: str) -> Iterator[str]:
    """The `__init__.py` of each package above module `place`, innermost first, up to the first
    folder that is no package."""
    folder = posixpath.dirname(place)
    if posixpath.basename(place) == "__init__.py":
        folder = posixpath.dirname(folder)
    while folder and modules.name(init := posixpath.join(folder, "__init__.py")):
        yield init
        folder = posixpath.dirname(folder)


def _imported_only_by_switched(
    modules: ModuleMap,
    sources: Mapping[str, Callable[[], bytes]],
    text: Callable[[str], bytes],
    wholes: Mapping[str, Evidence],
    may_report: Callable[[bytes], bool],
    lines: dict[str, bytes],
    imports: Callable[[str], Statements],
) -> dict[str, Evidence]:
    """The modules that only modules switched as a whole (`wholes`, with their switch) import, and
    those only they import in turn: a base class the switched samplers share (`from .base import
    BaseSampler`) runs only where they do. Only the modules the switched ones import are asked about,
    and only those of which `may_report` is true are kept."""
    switched = dict(wholes)
    pending = sorted(switched)
    found: dict[str, Evidence] = {}
    while pending:
        importer = pending.pop()
        for _, statement in imports(importer):
            for imported in statement_modules(statement):
                for place in sorted(modules.resolve(importer, *imported)):
                    if place in switched or posixpath.basename(place) == "__init__.py" or not may_report(text(place)):
                        continue
                    importers = {
                        importer for importer, _ in _importing_lines(modules, sources, text, place, lines, imports)
                        if not is_test_path(importer)
                    }
                    if importers <= switched.keys():
                        switched[place] = found[place] = switched[importer]
                        pending.append(place)
    return found


def _importing_lines(
    modules: ModuleMap,
    sources: Iterable[str],
    text: Callable[[str], bytes],
    place: str,
    lines: dict[str, bytes],
    imports: Callable[[str], Statements],
) -> Iterator[tuple[str, int]]:
    """(module, line) of each import statement of the scan's modules (`sources`, read by `text`) that
    resolves to module `place`, in the order of `sources`. Only the modules whose import lines spell
    `place`'s last name are read further; `lines` keeps each module's `import_lines` for the next
    place and the scan's other readers, `imports` gives a module's `import_statements`."""
    stem = modules.name(place).rpartition(".")[2].encode()
    for importer in sources:
        if importer == place:
            continue
        if importer not in lines:
            lines[importer] = import_lines(text(importer))
        if stem not in lines[importer]:
            continue
        for line, statement in imports(importer):
            if any(place in modules.resolve(importer, *imported) for imported in statement_modules(statement)):
                yield importer, line


Helper = tuple[str, tuple[str, ...]]
"""(a top-level definition's name, the definitions of its module, of those asked about, that use it)."""

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def definitions_used_only_by(
    tree: ast.Module, owners: set[str], classes: bool = False, listings: frozenset[int] = frozenset()
) -> tuple[set[str], tuple[Helper, ...]]:
    """The names of `owners` (top-level definitions) the module itself uses outside every one of
    them, and its top-level functions (and classes, with `classes`) used only inside the others (or
    inside such helpers), with the owners that reach them. The top-level statements on the lines of
    `listings` (a table of the owners by name) are no use."""
    definitions = {statement.name: statement for statement in tree.body if isinstance(statement, _DEFINITIONS)}
    inside: dict[str, set[str]] = {}  # name -> the top-level definitions that mention it
    outside: set[str] = set()  # names mentioned at the module's top level outside any definition
    for statement in tree.body:
        if statement.lineno in listings:
            continue
        owner = statement.name if isinstance(statement, _DEFINITIONS) else None
        for node in subtree(statement):
            name = node.id if isinstance(node, ast.Name) else None
            if name is None or name not in definitions or name == owner:
                continue
            if owner is None:
                outside.add(name)
            else:
                inside.setdefault(name, set()).add(owner)
    used_outside = owners & (outside | {name for name, users in inside.items() if users - owners})
    reached: dict[str, set[str]] = {name: {name} for name in owners - used_outside}
    grown = True
    while grown:  # a definition only the owners (or definitions only they use) use is theirs
        grown = False
        for name, statement in definitions.items():
            users = inside.get(name, set())
            if name in reached or name in outside or not users or (isinstance(statement, ast.ClassDef) and not classes):
                continue
            if users <= reached.keys():
                reached[name] = set().union(*(reached[user] for user in users))
                grown = True
    helpers = tuple(sorted((name, tuple(sorted(reached[name]))) for name in reached.keys() - owners))
    return used_outside, helpers


def _helpers(
    text: Callable[[str], bytes], sources: Iterable[str], place: str, names: list[tuple[str, Evidence]],
    imports: Callable[[str], Statements],
) -> list[tuple[str, Evidence]]:
    """The top-level functions and classes of module `place` that only its switched definitions
    `names` use there (an offloading class only its switched factory builds), where no other module
    outside the test suite mentions them but in its imports."""
    try:
        tree = read_tree(decode_python(text(place)))
    except (SyntaxError, ValueError, RecursionError):
        return []
    evidence = dict(names)
    _, helpers = definitions_used_only_by(tree, set(evidence), classes=True)
    if not helpers:
        return []
    mentions = modules_mentioning([path for path in sources if not is_test_path(path)], text, {name for name, _ in helpers})
    return [
        (name, evidence[owners[0]]) for name, owners in helpers
        if all(path == place or only_imports(text(path), name, False, imports(path)) for path in mentions[name])
    ]


def defining_modules(
    modules: ModuleMap, sources: Iterable[str], text: Callable[[str], bytes],
    importer: str, level: int, module: str, name: str,
) -> set[str]:
    """The modules of the scan that define `name` at their top level, as module `importer` takes it:
    `from .plms import PLMSSampler` (level 1, `plms`), its own definition (level 0, no module), a
    package's relative re-export followed one step, or, where the importer's folders are no
    packages, the module whose path the import spells (`ldm.models.diffusion.plms`)."""
    places = {importer} if not module and not level else modules.resolve(importer, level, module, (name,))
    if not places and not level:
        places = _by_path(sources, module)
    pattern = re.compile(_DEFINITION.format(name=re.escape(name)).encode(), re.M)
    places |= {
        found for place in places if not pattern.search(text(place))
        for found in _reexported(modules, place, text(place), name)
    }
    return {place for place in places if pattern.search(text(place))}


def _switched_method(
    text: Callable[[str], bytes], mentions: Iterable[str], name: str,
    switched_in: set[tuple[str, str]], may_report: Callable[[bytes], bool],
) -> list[tuple[str, str]]:
    """(module, class) of the one method named `name` that the scan calls only in switched blocks:
    every module outside the test suite that spells the name calls it only there (its reading found
    it switched) or only defines it, once, in a top-level class; none where two classes define it."""
    places: list[tuple[str, str]] = []
    for path in mentions:
        if (path, name) in switched_in or is_test_path(path):
            continue
        data = text(path)
        lines = data.split(b"\n")
        numbers = list(mention_lines(data, name))
        if len(numbers) != 1 or not _defines_method(lines[numbers[0] - 1], name):
            return []
        owner = _enclosing_class(lines, numbers[0] - 1)
        if owner is None or not may_report(data):
            return []
        places.append((path, owner))
    return places if len(places) == 1 else []


def _dispatched_methods(
    text: Callable[[str], bytes], calling: Iterable[str], defining: Iterable[str], entry: str, method: str,
    switched_in: set[tuple[str, str]], may_report: Callable[[bytes], bool],
) -> list[tuple[str, str]]:
    """(module, class) of each method named `method` that a library `entry` calls by name
    (`library_dispatch.py`), where every module outside the test suite that spells the entry calls it
    only in switched blocks (`calling`: the modules that spell it) and every one that spells the method
    (`defining`) only defines it, in top-level classes; none where the project spells either otherwise."""
    if any((path, entry) not in switched_in and not is_test_path(path) for path in calling):
        return []
    places: list[tuple[str, str]] = []
    for path in defining:
        if is_test_path(path):
            continue
        data = text(path)
        lines = data.split(b"\n")
        for number in mention_lines(data, method):
            owner = _enclosing_class(lines, number - 1) if _defines_method(lines[number - 1], method) else None
            if owner is None:
                return []
            if may_report(data):
                places.append((path, owner))
    return places


def _enclosing_class(lines: list[bytes], index: int) -> str | None:
    """The top-level class whose body holds line `index` (0-based); None where a top-level
    statement other than a class comes first."""
    for line in reversed(lines[:index]):
        if not line or line[:1] in b" \t#@)]}\r":
            continue
        found = re.match(rb"class[ \t]+([A-Za-z_]\w*)", line)
        return None if found is None else found.group(1).decode("ascii")
    return None


_LISTED_NAME = r"""(["'])[^"'\n]+\1[ \t]*:[^\n]*["'.:]{name}["']"""
"""An entry of a table keyed by a string that names a definition in a string (a lazy import
table's `"offload": ["make_offloader"]`, `"offload": "pkg.offload:make_offloader"`): a listing, no use."""


def _listed(data: bytes, name: str) -> bool:
    """Whether every mention of `name` in a module is an import of it or a lazy table's listing."""
    lines = data.split(b"\n")
    imports = statement_lines(import_statements(data))
    pattern = re.compile(_LISTED_NAME.format(name=re.escape(name)).encode())
    return all(number in imports or pattern.search(lines[number - 1]) for number in mention_lines(data, name))


def imported_only_within(
    modules: ModuleMap,
    sources: Iterable[str],
    text: Callable[[str], bytes],
    readings: Mapping[str, tuple[SwitchedCall, ...]],
    place: str,
    lines: dict[str, bytes],
    imports: Callable[[str], Statements],
    asked: frozenset[str] = frozenset(),
) -> Evidence | None:
    """The switch through which module `place` is reached, where every import of it in the scan
    sits inside a block that only such a switch runs (`if training_args.fused: from .fused import
    patch`): then the module's own top level (its imports of a CUDA-only library) runs only there.
    A package's `__init__.py` above it that imports it counts where the package in turn is imported
    only there (`from .engine import Engine` under `if use_engine:`, with `engine/__init__.py`'s
    `from .llm import Engine`), and for a package's own `__init__.py` the imports inside the package
    do not count: they run only once it has. `sources` are the scan's modules, read by `text`;
    `lines` and `imports` as `_importing_lines` takes them; `asked` holds the packages already being
    asked about, above in the recursion."""
    if not modules.name(place).rpartition(".")[2]:
        return None
    package = posixpath.dirname(place) + "/" if posixpath.basename(place) == "__init__.py" else None
    found: Evidence | None = None
    for importer, line in _importing_lines(modules, sources, text, place, lines, imports):
        if package is not None and importer.startswith(package):
            continue  # the package's own modules import it only once it has run
        blocks = ((call[3], call[6], call[4]) for call in readings.get(importer, ()))
        block = next(((header, quoted) for header, last, quoted in blocks if header < line <= last), None)
        if block is not None:
            found = found or Evidence(importer, block[0], block[1])
            continue
        above = posixpath.dirname(importer) + "/"
        if posixpath.basename(importer) != "__init__.py" or not place.startswith(above) or importer in asked:
            return None  # an import on the normal path
        outer = imported_only_within(modules, sources, text, readings, importer, lines, imports, asked | {place})
        if outer is None:
            return None  # the package above is imported on the normal path
        found = found or outer
    return found


def import_lines(data: bytes) -> bytes:
    """The lines of a module that spell `import`, each with the parenthesised names it continues into."""
    parts = []
    found = data.find(b"import")
    while found >= 0:
        start = data.rfind(b"\n", 0, found) + 1
        end = data.find(b"\n", found)
        end = len(data) if end < 0 else end
        if data.find(b"(", start, end) >= 0 and data.find(b")", start, end) < 0:
            close = data.find(b")", end)
            end = len(data) if close < 0 else close
        parts.append(data[start:end])
        found = data.find(b"import", end)
    return b"\n".join(parts)


_FROM_STATEMENT = re.compile(rb"[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]*\(?([^)#]*)", re.S)
_PLAIN_IMPORT = re.compile(rb"[ \t]*import[ \t]+([^#\n]*)")


@lru_cache(maxsize=8192)
def statement_modules(statement: bytes) -> tuple[tuple[int, str, tuple[str, ...]], ...]:
    """(level, module, names) of each module an import statement names. Kept per statement: the index's
    readers ask about every module's imports several times, and most statements recur across modules
    (`import torch`, `from typing import ...`)."""
    found = _FROM_STATEMENT.match(statement)
    if found is not None:
        names = tuple(
            words[0].decode("ascii", "replace")
            for part in found.group(3).replace(b"\\", b" ").split(b",")
            if (words := part.split())
        )
        return ((len(found.group(1)), found.group(2).decode("ascii", "replace"), names),)
    plain = _PLAIN_IMPORT.match(statement)
    if plain is None:
        return ()
    return tuple((0, words[0].decode("ascii", "replace"), ()) for part in plain.group(1).split(b",") if (words := part.split()))


def _names_another(
    modules: ModuleMap,
    path: str,
    text: Callable[[str], bytes],
    name: str,
    place: str,
    imports: Callable[[str], Statements],
) -> bool:
    """Whether module `path` defines `name` itself or takes it from a module of the scan other than
    `place` (two monkey patches that both define `replace_attention`), so that its mentions are of
    another definition."""
    data = text(path)
    if path == place:
        return False
    if re.search(_DEFINITION.format(name=re.escape(name)).encode(), data, re.M):
        return True  # its own top-level definition of the name
    source = _import_sources(statement for _, statement in imports(path)).get(name)
    if source is None:
        return False
    imported = modules.resolve(path, source[0], source[1], (name,))
    reached = imported | {found for module in imported for found in _reexported(modules, module, text(module), name)}
    return bool(imported) and place not in reached


def _reexported(modules: ModuleMap, package: str, data: bytes, name: str) -> set[str]:
    """Where a package's `from .sampler import Sampler` takes `name` from: one step, relative imports only."""
    found: set[str] = set()
    for match in _IMPORT_STATEMENT.finditer(data):
        statement = re.match(rb"[ \t]*from[ \t]+(\.+)([\w.]*)[ \t]+import\b", match.group())
        if statement is not None and re.search(rb"(?<!\w)" + re.escape(name.encode()) + rb"(?!\w)", match.group()):
            level, module = len(statement.group(1)), statement.group(2).decode("ascii", "replace")
            found |= modules.resolve(package, level, module, (name,))
    return found


def modules_mentioning(sources: Iterable[str], text: Callable[[str], bytes], names: Iterable[str]) -> dict[str, list[str]]:
    """Name -> the modules of `sources` whose text holds it anywhere (in `sources`' order), asked once
    per name (several switched definitions share one, a patch per model class) and found for all the
    names in one pass of an automaton over each module, not one search per name."""
    words = {name: name.encode() for name in names}
    found: dict[bytes, list[str]] = {word: [] for word in words.values()}
    search = word_automaton(found)
    if search is not None:
        for path in sources:
            for word in search.found(text(path)):
                found[word].append(path)
    return {name: found[word] for name, word in words.items()}


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


def mention_lines(data: bytes, name: str) -> Iterable[int]:
    """The 1-based lines on which `name` appears as a word (`pkg.Name` too), not in the strings of a
    command-line option (`add_argument("--throughput", help="Test throughput only")`, which name the
    switch, not the definition). The name comes first in the pattern, so the search runs at the speed
    of a plain byte search."""
    line, counted = 1, 0
    for match in re.finditer(re.escape(name.encode()) + rb"(?!\w)", data):
        start = match.start()
        if start and (data[start - 1 : start].isalnum() or data[start - 1] == 0x5F):
            continue
        before = data[data.rfind(b"\n", 0, start) + 1 : start]
        if b"add_argument(" in before and (before.count(b"'") + before.count(b'"')) % 2:
            continue
        line += data.count(b"\n", counted, start)
        counted = start
        yield line


def lines_holding(data: bytes, pattern: re.Pattern[bytes]) -> bytes:
    """The lines of `data` that hold a match of `pattern`, joined by newlines, in their order. A
    pattern that starts with a name or a look-behind, with no literal to start from, is tried by the
    regex engine at every byte; where each of its matches lies within one line, and that line holds
    a word `pattern` finds at the speed of a byte search, it finds the same matches in these lines."""
    lines: list[bytes] = []
    end = -1
    for match in pattern.finditer(data):
        if match.start() <= end:
            continue  # a second match on a line already taken
        start = data.rfind(b"\n", 0, match.start()) + 1
        end = data.find(b"\n", match.end())
        if end < 0:
            end = len(data)
        lines.append(data[start:end])
    return b"\n".join(lines)


def statement_lines(statements: Iterable[tuple[int, bytes]]) -> set[int]:
    """Every 1-based line that one of `statements` (first line, text) spans."""
    return {first + offset for first, text in statements for offset in range(text.count(b"\n") + 1)}


def _defines(line: bytes, name: str) -> bool:
    return re.match(_DEFINITION.format(name=re.escape(name)).encode(), line) is not None


def _defines_method(line: bytes, name: str) -> bool:
    """Whether `line` is the header of a method (or any indented function) named `name`."""
    return re.match(_METHOD_DEFINITION.format(name=re.escape(name)).encode(), line) is not None


def only_imports(data: bytes, name: str, defines: bool, statements: Statements) -> bool:
    """Whether every mention of `name` in a module is an import of it (a package re-exporting it),
    or, in the module that defines it, that definition: a mention in a string or a comment counts
    as a use, so a misreading keeps a verdict. `statements` are the module's `import_statements`."""
    if not data:
        return True
    lines = data.split(b"\n")
    imports = statement_lines(statements)
    return all(
        number in imports or (defines and _defines(lines[number - 1], name)) for number in mention_lines(data, name)
    )


def turned_on(names: Iterable[str], configs: Mapping[str, Callable[[], bytes]]) -> set[str]:
    """The settings of `names` that the project's configuration files and scripts turn on in more
    than one folder (`flash_attn: true` in YAML, `--flash_attn True` or a bare `--fp8` in a shell
    script): a setting every example of the project turns on (`do_train: true`) is the normal path,
    where one folder of examples for the feature (`examples/extras/fp8/`) is its opt-in."""
    patterns = {
        name: re.compile(
            rb"(?<![\w.-])(?:--)?" + re.escape(name.encode())
            + rb"""(?:['"]?(?:[ \t]*[:=][ \t]*|[ \t]+)['"]?(?:true|True|1)\b|(?=[ \t]*(?:\\?\r?\n|$|[ \t]--)))"""
        )
        for name in names
    }
    folders: dict[str, set[str]] = {}
    for path, read in configs.items():
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable file turns nothing on; its own analysis says why
            continue
        for name, pattern in patterns.items():
            if name.encode() in data and pattern.search(data):
                folders.setdefault(name, set()).add(path.rpartition("/")[0])
    return {name for name, found in folders.items() if len(found) > 1}


def set_in_code(names: Iterable[str], modules: Mapping[str, Callable[[], bytes]]) -> set[str]:
    """The settings of `names` that the project's own code (`modules`, the Python modules outside the
    test suite) works out from something else: an attribute of a settings object assigned an
    expression (`args.is_pipelined = args.stages > 1`; not a constant nor a name), or a value handed to a setter with
    the name in quotes (`update_value("is_pipelined", stages > 1)`, `setattr(cfg, "packed", size >
    0)`). Such a setting holds what its inputs say on the normal path, whatever its
    declared default: only one that the user alone turns on (or that the code turns on only as a
    constant, `args.fp8 = True` under another option) is off by default. A misreading keeps verdicts."""
    search = word_automaton(name.encode() for name in names)
    if search is None:
        return set()
    found: set[str] = set()
    for read in modules.values():
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable module sets nothing; its own analysis says why
            continue
        for index, start, end in search.matches(data):
            name = search.words[index].decode("ascii")
            if name not in found and _works_out(data, start, end):
                found.add(name)
    return found


_ASSIGNED = re.compile(rb"[ \t]*=(?!=)[ \t]*")
_HANDED = re.compile(rb"""['"][ \t]*,[ \t]*""")
_CONSTANT = re.compile(rb"""(?:True|False|None)\b|-?[\d.]|['"]|[A-Za-z_][\w.]*[ \t]*(?:[)#\r\n]|$)""")
"""A value that is worked out from nothing there: a constant, or a name handed on as it is
(`c.fused = value` in a loop that copies the setting to several objects)."""
_RECEIVER = re.compile(rb"(?:^|[^\w.])((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)\.$")
_SETTER = re.compile(rb"""(?i)(?:set|update)\w*\((?:[^()\n]*,)?[ \t]*['"]$""")
"""A setter's call up to the quote that opens the setting's name: `update_value("`, `setattr(cfg, "`."""
_LINE_LIMIT = 200
"""How much of a line before a name is read for what holds it (a receiver, a call's parenthesis)."""


def _works_out(data: bytes, start: int, end: int) -> bool:
    """Whether the name at `start:end` of `data` is given a value worked out from others there
    (`set_in_code`)."""
    if end < len(data) and (data[end : end + 1].isalnum() or data[end] == 0x5F):
        return False  # part of a longer name
    line = data[max(data.rfind(b"\n", 0, start) + 1, start - _LINE_LIMIT) : start]
    if line.endswith(b"."):
        receiver = _RECEIVER.search(line)
        assigned = _ASSIGNED.match(data, end)
        return (
            receiver is not None and assigned is not None and not _CONSTANT.match(data, assigned.end())
            and any(_SETTINGS_RECEIVER.search(part) for part in receiver.group(1).split(b"."))
        )
    handed = _HANDED.match(data, end)
    return handed is not None and _SETTER.search(line) is not None and not _CONSTANT.match(data, handed.end())
