"""The calls other modules make of the project's functions and classes that default a parameter to CUDA.

`class Sampler: def __init__(self, steps, device="cuda")` takes its default wherever it is built
without a device, and the module that defines it seldom builds it: the scripts that import it do
(`from pkg.sampling import Sampler`, then `Sampler(steps=50)`). A library function whose every
caller passes a device (`load_model(path, device=args.device)`) takes its default on another path
only. The module's own calls are read by its analysis (`defaults.py`); these readings give it the
calls made elsewhere in the scan. Two readings, both from bytes:

- `cuda_defaults`, per module (the index keeps it with the file's digest): the top-level functions
  with a parameter whose default is a CUDA device string (`device="cuda"`, `device: str = "cuda:0"`,
  `device=torch.device("cuda")` inside a `def` header) or whose body puts one in place of a None
  default (`if device is None: device = torch.device("cuda")`, `device or "cuda"`, `"cuda" if device
  is None else device`), and the top-level classes whose `__init__` has one, with the module's classes
  derived from them: a subclass may forward its arguments
  (`super().__init__(*args, **kwargs)`), so its calls count too; and the top-level functions with an
  `if NAME is None:` whose block names CUDA, which builds what a caller left out (`if model is None:`,
  then a CUDA load): the walk reads whether any call on the normal path leaves the parameter out.
  Public methods with such a default in their header are given too, their names after a dot
  (`.grid_priors`): their calls are read by `method_calls`;
- `from_imports`, per module (kept the same way): its `from ... import` statements, found by a
  search for their first word;
- `calls_elsewhere`, once per scan: for those names, each call in a module that imports the name
  from the defining module (or from a package above it, which re-exports it), as a `CallShape`.
  A mention there that is no call (the class handed on in a registry, a base of a subclass) is
  recorded as such (`HANDED_ON`): its callers are not seen. A table of choices whose choice is only
  called (`{"box": Box}[kind](device=device)`, or bound to a name that is only called) builds each of
  its classes with that call's arguments, and a type named in an annotation or an `isinstance` test
  hands nothing on (`_table_choices`).
  Only such modules are read again, and only the text of each call is parsed; a module's reading
  for one set of names is kept with its digest. A call through the module object is a call of
  the name too: `loop.train(...)` after `from training import loop`, `import training.loop as
  loop` or `import loop` (`module_objects`); and a `**record` the calling function builds itself
  from keys it spells passes those keys alone (`mapping_keys.py`). A name imported under another
  name is not followed; nor are the test suite's and the benchmarks' calls (a test that builds the sampler without a device
  runs on another path). A star import (`from helpers import *`) imports every name of its module.

The project's configuration files are callers too (`configured_calls.py`): `target: pkg.encoders.TextEncoder`
with `params: {freeze: true}` builds the class with its other defaults.

The README's examples are callers too: its fenced code blocks (`readme_examples`) are read as one
more module that imports and calls the project's names, the documented path of a user who copies
them (`from pkg.build import build_model` then `build_model(cfg, ckpt)` takes `device="cuda"`).
"""

from __future__ import annotations

import ast
import bisect
import hashlib
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from typing import Any

from cudaudit.filekinds import is_benchmark_path, is_test_path
from cudaudit.firstparty import ModuleMap, module_map
from cudaudit.rules.catalog import WORD_BYTES, word_automaton
from cudaudit.rules.python.main_block import main_block_span
from cudaudit.rules.python.mapping_keys import spelled_keys
from cudaudit.rules.python.nodes import Parents
from cudaudit.rules.python.opt_in import block_end, import_statements, statement_lines

Remember = Callable[[str, str, Callable[[], Any]], Any]
"""`project_index.Remember`: a module's reading, from the scan's cache where it has it."""
CallShape = tuple[int, tuple[str, ...], bool]
"""(how many positional arguments, the keywords passed with `"**"` for a `**mapping`, whether a
`*sequence` is passed): what a call gives a parameter, whatever the values."""

GIVEN_NONE = "=None"
"""What a keyword of a `CallShape` ends in where the call gives it None (`background=None`): the same
as leaving it out for a parameter whose default is None (`defaults.py`), a value for any other."""
HANDED_ON: CallShape = (-1, (), False)
"""A mention of the name that is no call (a value in a table, a base class, a callback): callers
not seen, who may leave any parameter out. A call in the self-test block of a module other modules
import (`if __name__ == "__main__":` under a library's code, `main_block.py`) counts so too: it runs
only when a developer runs the file by hand, another path, whatever it passes."""

_CUDA_STRING = re.compile(rb"""cuda(?::\d+)?['"]""")
"""The end of a CUDA device string; the quote before it is checked by hand (a pattern that starts
with its literal word is searched for far faster than one that starts with a set of quotes)."""
_DEFAULT_BEFORE = re.compile(
    rb"""[(,](?:[ \t]*#[^\n]*)?\s*\w+\s*(?::(?:[^=,()\[\]\n]|\[[^\[\]\n]*(?:\[[^\[\]\n]*\][^\[\]\n]*)*\])*)?"""
    rb"""(?<![=!<>])=\s*(?:torch\.device\(\s*)?$"""
)
"""What precedes a CUDA device string that is a parameter's default: `(device=`, `, device: str = `,
`, device: Literal["cpu", "cuda"] = `, `, device: Optional[Union[str, torch.device]] = ` (an
annotation's subscripts, two deep, may hold commas), the comment that ends the line of the parameter
before (`seed = 0,  # the seed`) aside."""
_STAND_IN_BEFORE = re.compile(
    rb"""(?:\bor[ \t]*(?:torch\.device\(\s*)?|(?:\bis[ \t]+None|\belse)[ \t]*:\s*\w+[ \t]*=[^\n]*)$"""
)
"""What precedes a CUDA device string that stands in for a None default in the body: `device or `,
`if device is None:\n    device = torch.device(`, or a tensor built on that device in place of the
None, `if background is None:\n    background = torch.zeros(3, device=` (the one line of the
assignment), or in the `else` of `if background is not None:` (the walk reads which test it is)."""
_STAND_IN_AFTER = re.compile(rb"""(?:[ \t]*,(?=([^()\n]*))\1)?(?:[ \t]*\))?[ \t]+if[ \t]+\w+[ \t]+is[ \t]+None\b""")
"""What follows one in `torch.device("cuda") if device is None else device` (or `("cuda", rank) if`).
After a comma, the text up to a parenthesis is taken whole (a lookahead's capture matched again: the
atomic group that Python 3.10's `re` has no syntax for), so `"cuda", 0 if x is None else y` is no
stand-in; no other run can end where the next one starts, so the match is one pass."""
_TOP_LEVEL_LINE = re.compile(rb"^[^\s#@)]", re.M)
"""A line of top-level code other than a comment, a decorator or the end of a header: the end of
the top-level function before it."""
_WINDOW = 200
_NONE_ARM = re.compile(rb"^([ \t]+)if[ \t]+\w+[ \t]+is[ \t]+None[ \t]*:[ \t]*(?:#[^\n]*)?$", re.M)
"""An `if NAME is None:` header on a line of its own, inside a function (indented)."""
_DEF = re.compile(rb"^([ \t]*)(?:async[ \t]+)?def[ \t]+(\w+)[ \t]*\(", re.M)
_CLASS = re.compile(rb"^class[ \t]+(\w+)[ \t]*(?:\(([^)]*)\))?", re.M)
_TOP_DEFINITION = re.compile(rb"^(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)", re.M)
"""A top-level function or class definition, by its name."""
_WORD = re.compile(rb"\w+")
_FROM_IMPORT = re.compile(rb"from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)")
"""A `from ... import` statement; it starts with its literal word, which a search finds fast (a
match inside a longer word or a string only offers names, which must still be called)."""
_IMPORT_LINE = re.compile(rb"\n[ \t]*import[ \t]+([^\n#;]*)")
"""An `import a.b as c, d` statement on one line of its own (what follows the word is checked by
`_IMPORTED`: a single class of characters after it could backtrack over a long run of blanks),
searched after a newline put in front of the module: the search skips from newline to newline, where
a line's start (`^`) is tried at every byte."""
_IMPORTED = re.compile(r"[\w. \t,]+")
MODULE_OBJECT = -1
"""The level `from_imports` gives an `import` statement's module (`import a.b as c` is
`(MODULE_OBJECT, "a.b", "c")`, `import a.b` is `(MODULE_OBJECT, "a.b", "a.b")`): what binds a name
to the module object itself, whose attributes' calls are calls of its functions."""
_COMMENT = re.compile(r"#[^\n]*")
"""A comment in an import statement's list (`from .cubes import Cubes  # replace later`)."""
METHOD = b"."
"""What `cuda_defaults` writes before the name of a public method (`.grid_priors`)."""
_CALLED = re.compile(rb"[ \t]*\(")
"""What follows a name that is called (`.grid_priors (`)."""
_DOCUMENTED = re.compile(rb"`")
"""What follows a method's name in a docstring's markup (``self.grid_priors``, :meth:`.grid_priors`)."""
_CALL_LIMIT = 20_000
"""The most bytes one call's text is followed for: a call longer than that is not read."""


def cuda_defaults(path: str, data: bytes) -> tuple[str, ...]:
    """The module's names whose calls elsewhere decide whether a CUDA default runs (see the docstring)."""
    if b"cuda" not in data:
        return ()
    matches: list[tuple[int, bool]] = []
    """Each default's string, with whether it stands in for None in the body rather than in the header."""
    for found in _CUDA_STRING.finditer(data):
        start = found.start() - 1
        if start < 0 or data[start] not in b"'\"":
            continue
        if _STAND_IN_BEFORE.search(data, max(0, start - _WINDOW), start) or _STAND_IN_AFTER.match(data, found.end()):
            matches.append((start, True))
        elif _DEFAULT_BEFORE.search(data, max(0, start - _WINDOW), start):
            matches.append((start, False))
    matches.extend((start, True) for start in _in_none_arms(data))
    if not matches:
        return ()
    definitions = list(_DEF.finditer(data))
    starts = [definition.end() for definition in definitions]
    names: set[bytes] = set()
    constructors: list[int] = []
    for match, in_body in matches:
        at = bisect.bisect_right(starts, match) - 1
        if at < 0 or _still_open(data, starts[at], match) is in_body:
            continue
        indent, name = definitions[at].group(1), definitions[at].group(2)
        if indent and in_body:  # after a function nested in a top-level one: the outer function's body
            outer = next((each for each in reversed(definitions[:at]) if not each.group(1)), None)
            if outer is not None and not _TOP_LEVEL_LINE.search(data, outer.end(), match):
                indent, name = b"", outer.group(2)
        if not indent:
            names.add(name)
        elif name == b"__init__":
            constructors.append(definitions[at].start())
        elif not in_body and not name.startswith(b"_"):
            names.add(METHOD + name)
    if constructors:
        names |= _with_subclasses(data, constructors)
    return tuple(sorted(name.decode("ascii", "replace") for name in names))


def _in_none_arms(data: bytes) -> Iterator[int]:
    """The start of the first CUDA word in the block of each `if NAME is None:` of the module (read by
    indentation): an arm that builds what a caller left out, on a CUDA device (`if model is None:`,
    then `torch.load(path, map_location=f"cuda:{gpu}")`), runs only where a call leaves the
    parameter out or passes None, as a default does."""
    if b"is None:" not in data:
        return
    for arm in _NONE_ARM.finditer(data):
        word = data.find(b"cuda", arm.end(), block_end(data, arm.end(), len(arm.group(1))))
        if word >= 0:
            yield word


def _with_subclasses(data: bytes, constructors: list[int]) -> set[bytes]:
    """The top-level classes whose `__init__` starts at one of `constructors`, and the module's
    classes derived from them at any depth (by the names their bases spell)."""
    classes = list(_CLASS.finditer(data))
    heads = [found.start() for found in classes]
    found = {classes[at].group(1) for at in (bisect.bisect_right(heads, start) - 1 for start in constructors) if at >= 0}
    bases = {cls.group(1): set(_WORD.findall(cls.group(2) or b"")) for cls in classes}
    grown = True
    while grown:
        derived = {name for name, spelled in bases.items() if name not in found and spelled & found}
        grown = bool(derived)
        found |= derived
    return found


def _still_open(data: bytes, start: int, end: int) -> bool:
    """Whether the parenthesis opened just before `start` is still open at `end`: the `def`
    header holds the default, rather than the body after it."""
    return closing(data, start, end, depth=1) is None


def closing(data: bytes, start: int, end: int, depth: int = 0) -> int | None:
    """The index of the bracket that closes the `depth` brackets open at `start` (with 0, the one
    that closes the bracket at `start`), read before `end` and over quoted strings; None where no
    bracket does (the text ends first, or a string does not)."""
    index = start
    while index < end:
        byte = data[index]
        if byte in b"([{":
            depth += 1
        elif byte in b")]}":
            depth -= 1
            if depth == 0:
                return index
        elif byte in b"'\"":
            close = data.find(bytes((byte,)), index + 1, end)
            if close < 0:
                return None
            index = close
        index += 1
    return None


def from_imports(data: bytes) -> tuple[tuple[int, str, str], ...]:
    """(level, module, the text that lists the names) of each `from ... import` statement of a
    module, `importers` splits each list (`_listed`); then (`MODULE_OBJECT`, module, the name it is
    bound to) of each module an `import` statement names."""
    found = [
        (len(match.group(1)), match.group(2).decode("ascii", "replace"), match.group(3).decode("ascii", "replace"))
        for match in _FROM_IMPORT.finditer(data)
    ]
    for match in _IMPORT_LINE.finditer(b"\n" + data):
        listed = match.group(1).decode("ascii", "replace").rstrip()
        if not _IMPORTED.fullmatch(listed):
            continue
        for item in listed.split(","):
            module, _, alias = (part.strip() for part in item.partition(" as "))
            if module:
                found.append((MODULE_OBJECT, module, alias or module))
    return tuple(found)


def bound_names(text: str) -> Iterator[tuple[str, str]]:
    """(name, the name it is bound to) for each name an import statement's list spells."""
    for item in _COMMENT.sub("", text).strip().strip("()").replace("\\", " ").split(","):
        name, _, alias = (part.strip() for part in item.partition(" as "))
        if name:
            yield name, alias or name


def module_objects(
    modules: ModuleMap, defined: Mapping[str, Iterable[str]], imports: Mapping[str, tuple[tuple[int, str, str], ...]]
) -> dict[str, dict[str, set[str]]]:
    """Importing module's display path -> `bound.name` (the name its import binds to a defining module
    of `defined`, a display path -> names, and a name that module defines) -> that module: the calls
    `loop.train(...)` after `from training import loop`, `import training.loop as loop` or `import loop`,
    and `detect.Detector(...)` after `import detect`, whose `__init__.py` re-exports the name of
    `detect/api.py` (an attribute of the package that no re-export made would not exist)."""
    found: dict[str, dict[str, set[str]]] = {}
    for path, statements in imports.items():
        reached: dict[str, set[str]] = {}
        for level, module, listed in statements:
            pairs = [(module, listed)] if level == MODULE_OBJECT else [
                (f"{module}.{name}" if module else name, bound) for name, bound in bound_names(listed)
            ]
            for dotted, bound in pairs:
                places = modules.resolve(path, max(level, 0), dotted)
                owners = {owner for owner in places & defined.keys() if is_module_of(owner, dotted)}
                packages = {place for place in places if place.endswith("/__init__.py") and is_module_of(place, dotted)}
                if packages:
                    owners.update(owner for owner in defined if _defines(packages, owner))
                for owner in owners - {path}:
                    for name in defined[owner]:
                        reached.setdefault(f"{bound}.{name}", set()).add(owner)
        if reached:
            found[path] = reached
    return found


def is_module_of(path: str, dotted: str) -> bool:
    """Whether `path` is the module whose dotted name ends in `dotted`'s last part (not a package above it)."""
    last = dotted.rpartition(".")[2]
    return path.endswith((f"/{last}.py", f"/{last}/__init__.py")) or path in (f"{last}.py", f"{last}/__init__.py")


def _listed(text: str) -> set[str]:
    """The names an import statement's list spells (`(a,\n b)`, `a  # comment`); `a as b` is left out."""
    return {name.strip() for name in _COMMENT.sub("", text).strip().strip("()").replace("\\", " ").split(",")}


def calls_elsewhere(
    sources: Mapping[str, Callable[[], bytes]],
    defined: Mapping[str, tuple[str, ...]],
    imports: Mapping[str, tuple[tuple[int, str, str], ...]],
    remember: Remember | None = None,
    examples: Mapping[str, bytes] | None = None,
    configured: Mapping[str, tuple[tuple[str, CallShape], ...]] | None = None,
    libraries: frozenset[str] = frozenset(),
) -> dict[str, tuple[tuple[str, tuple[CallShape, ...]], ...]]:
    """Defining module's display path -> (name, the shapes of its calls in the modules that import
    it), for the names of `defined` (display path -> `cuda_defaults`) that some other module calls.
    `imports` are the modules' `from_imports`; only the modules that import such a name are read, and
    `remember` may answer a module's reading for the same names from an earlier run. `examples` are
    the README's code (display path -> `readme_examples`), read as modules of their own; `configured` the
    calls of the configuration files (display path -> `configured_calls.configured_calls`), by dotted path;
    `libraries` the modules with a `__main__` block that other modules import, whose calls in that
    block are `HANDED_ON`."""
    if not defined:
        return {}
    found: dict[tuple[str, str], set[CallShape]] = {}
    # the test suite's and the benchmarks' calls are their own paths, not what a user runs
    users = {path: listed for path, listed in imports.items() if not (is_test_path(path) or is_benchmark_path(path))}
    readers: dict[str, Callable[[], bytes]] = dict(sources)
    for path, code in (examples or {}).items():
        users[path] = from_imports(code)
        readers[path] = partial(bytes, code)
    modules = module_map(sources)
    for config, built in (configured or {}).items():
        for dotted, built_as in built:
            module, _, name = dotted.rpartition(".")
            places = modules.resolve(config, 0, module, (name,))
            for owner, names in defined.items():
                if name in names and _defines(places, owner):
                    found.setdefault((owner, name), set()).add(built_as)
    by_name = importers(modules, defined, users)
    for path, reached in module_objects(modules, defined, users).items():
        by_name.setdefault(path, {}).update(reached)
    for path, reached in by_name.items():
        called = tuple(sorted(reached))
        self_test = path in libraries
        key = "\0".join(called) + ("\0__main__" if self_test else "")
        reader = "project_calls:" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
        try:
            read = partial(_calls_of, readers[path], called, self_test)
            calls = read() if path not in sources else (remember or _compute)(reader, path, read)
        except Exception:  # noqa: BLE001 - an unreadable module calls nothing here; its own analysis says why
            continue
        for name, shapes in calls:
            for owner in reached[name]:
                found.setdefault((owner, name.rpartition(".")[2]), set()).update(shapes)
    result: dict[str, list[tuple[str, tuple[CallShape, ...]]]] = {}
    for (owner, name), shapes in sorted(found.items()):
        result.setdefault(owner, []).append((name, tuple(sorted(shapes))))
    return {owner: tuple(items) for owner, items in result.items()}


def method_calls(
    sources: Mapping[str, Callable[[], bytes]], defined: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[tuple[str, tuple[CallShape, ...]], ...]]:
    """Defining module's display path -> (method, the shapes of every call `obj.method(...)` in the
    project outside the test suite and the benchmarks), for the public methods of `defined` (display
    path -> `cuda_defaults`, whose method names start with a dot). A method is called through objects,
    whose class the text does not say: every call of the name counts, whatever the receiver, and a
    mention that is no call (`callback=self.grid_priors`; not a docstring's ``self.grid_priors``, nor
    `getattr(gen, "grid_priors")`, which names no attribute in this reading) is `HANDED_ON`. An empty tuple: nothing in the project calls it.
    One pass of an automaton of the names over the modules."""
    owners: dict[str, list[str]] = {}
    for path, names in defined.items():
        for name in names:
            if name.startswith(METHOD.decode()):
                owners.setdefault(name[1:], []).append(path)
    words = word_automaton(sorted(name.encode() for name in owners))
    if words is None:
        return {}
    shapes: dict[str, set[CallShape]] = {name: set() for name in owners}
    for path, read in sources.items():
        if is_test_path(path) or is_benchmark_path(path):
            continue
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable module calls nothing here; its own analysis says why
            continue
        for index, start, end in words.matches(data):
            if data[start - 1:start] != b"." or (end < len(data) and data[end] in WORD_BYTES):
                continue  # not an attribute (`grid_priors = ...`, `def grid_priors(`), or a longer name
            name = words.words[index].decode("ascii")
            paren = _CALLED.match(data, end)
            if paren is None and _DOCUMENTED.match(data, end):
                continue  # named in a docstring's markup (``self.grid_priors``), no use
            shape = _shape(data, paren.end() - 1) if paren is not None else HANDED_ON
            shapes[name].add(HANDED_ON if shape is None else shape)
    found: dict[str, list[tuple[str, tuple[CallShape, ...]]]] = {}
    for name, paths in sorted(owners.items()):
        for path in paths:
            found.setdefault(path, []).append((name, tuple(sorted(shapes[name]))))
    return {path: tuple(items) for path, items in found.items()}


_FENCE = re.compile(r"^[ \t]*(```|~~~)[ \t]*(\w*)[^\n]*\n(.*?)^[ \t]*\1", re.M | re.S)
"""A fenced code block of Markdown, its language tag, its code."""
_PYTHON_TAGS = frozenset({"", "python", "py", "python3", "pycon"})
_PROMPT = re.compile(r"^[ \t]*(?:>>>|\.\.\.) ?", re.M)


def readme_examples(text: str) -> bytes:
    """The Python code of a README's fenced blocks (tagged `python`, or untagged), their
    interpreter prompts (`>>> `) taken off: what a user copies to call the project."""
    return "\n".join(
        _PROMPT.sub("", block.group(3)) for block in _FENCE.finditer(text) if block.group(2).lower() in _PYTHON_TAGS
    ).encode()


def importers(
    modules: ModuleMap,
    defined: Mapping[str, Iterable[str]],
    imports: Mapping[str, tuple[tuple[int, str, str], ...]],
) -> dict[str, dict[str, set[str]]]:
    """Importing module's display path -> name -> the modules defining it that its `from ... import`
    statements (`imports`, the modules' `from_imports`) reach, for the names of `defined` (display
    path -> names): the defining module itself, a package above it that re-exports it, or every
    name of a module through `from helpers import *`. A name imported under another name is not followed."""
    owners: dict[str, list[str]] = {}
    for path, names in defined.items():
        for name in names:
            owners.setdefault(name, []).append(path)
    found: dict[str, dict[str, set[str]]] = {}
    for path, statements in imports.items():
        reached: dict[str, set[str]] = {}
        for level, module, listed in statements:
            if level == MODULE_OBJECT:
                continue
            if listed.strip() == "*":  # `from helpers import *`: every name of that module
                for owner in modules.resolve(path, level, module) & defined.keys() - {path}:
                    for name in defined[owner]:
                        reached.setdefault(name, set()).add(owner)
                continue
            for name in owners.keys() & _listed(listed):
                places = modules.resolve(path, level, module, (name,))
                submodule = modules.resolve(path, level, f"{module}.{name}" if module else name)
                for owner in owners[name]:
                    # `from training import loop` binds the module `training/loop.py`, not its function `loop`
                    if owner != path and _defines(places, owner) and not (owner in submodule and is_module_of(owner, name)):
                        reached.setdefault(name, set()).add(owner)
        if reached:
            found[path] = reached
    return found


def _compute(reader: str, path: str, compute: Callable[[], Any]) -> Any:
    return compute()


def _calls_of(
    read: Callable[[], bytes], names: tuple[str, ...], self_test: bool = False
) -> tuple[tuple[str, tuple[CallShape, ...]], ...]:
    """(name, the shapes of its calls by that name) for each of `names` the module calls or hands
    on: a mention outside the import statements that is no call (`{"vertex": VertexVisualizer}`, a
    subclass, a callback) is `HANDED_ON`, and with `self_test` (a library's module) so is every
    mention in its `__main__` block."""
    data = read()
    block = main_block_span(data) if self_test else None
    imports: set[int] | None = None
    tables: dict[tuple[int, int], tuple[CallShape, ...]] | None = None
    records: _Records | None = None
    found = []
    for name in names:
        shapes = set()
        for mention in re.finditer(rb"(?<![\w.])" + re.escape(name.encode()) + rb"(?!\w)([ \t]*\()?", data):
            start = mention.start()
            if data[max(0, start - 6):start].split()[-1:] in ([b"def"], [b"class"]):
                continue
            if block is not None and block[0] <= start < block[1]:
                shapes.add(HANDED_ON)
                continue
            if mention.group(1) is None:
                imports = statement_lines(import_statements(data)) if imports is None else imports
                quoted = start and data[start - 1] in b"'\"" and data[mention.end():mention.end() + 1] == data[start - 1:start]
                line = data.count(b"\n", 0, start) + 1
                if not quoted and line not in imports:
                    tables = _table_choices(data) if tables is None else tables
                    shapes.update(tables.get((line, start - data.rfind(b"\n", 0, start) - 1), (HANDED_ON,)))
                continue
            shape = _shape(data, mention.end() - 1)
            if shape is not None and "**" in shape[1]:
                records = _Records(data) if records is None else records
                shape = records.spelled(shape, data.count(b"\n", 0, start) + 1, start - data.rfind(b"\n", 0, start) - 1)
            if shape is not None:
                shapes.add(shape)
        if shapes:
            found.append((name, tuple(sorted(shapes))))
    return tuple(found)


class _Records:
    """A module's calls by where they start, parsed once for the first call that passes a `**record`."""

    def __init__(self, data: bytes) -> None:
        try:
            tree = ast.parse(data.decode("utf-8", "replace"))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree = ast.Module(body=[], type_ignores=[])
        self._parents = Parents(tree)
        self._calls = {(node.lineno, node.col_offset): node for node in ast.walk(tree) if isinstance(node, ast.Call)}

    def spelled(self, shape: CallShape, line: int, column: int) -> CallShape:
        """`shape` with its `**record` replaced by the keys its function spells for the record
        (`mapping_keys.spelled_keys`), where it spells them all."""
        call = self._calls.get((line, column))
        keys = None if call is None else spelled_keys(call, self._parents)
        return shape if keys is None else (shape[0], tuple(sorted(keys.union(shape[1]) - {"**"})), shape[2])


def _defines(places: set[str], owner: str) -> bool:
    """Whether an import that runs `places` reaches the name defined in `owner`: the module itself,
    or a package above it whose `__init__.py` re-exports it."""
    return any(
        place == owner or (place.endswith("/__init__.py") and owner.startswith(posixpath.dirname(place) + "/"))
        for place in places
    )


def _shape(data: bytes, paren: int) -> CallShape | None:
    """The shape of the call whose arguments open at `paren`; None where its text does not parse."""
    index = closing(data, paren, min(len(data), paren + _CALL_LIMIT))
    if index is None:
        return None
    try:
        call = ast.parse("_" + data[paren:index + 1].decode("utf-8", "replace"), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return _call_shape(call) if isinstance(call, ast.Call) else None


def _call_shape(call: ast.Call) -> CallShape:
    positional = sum(not isinstance(arg, ast.Starred) for arg in call.args)
    keywords = tuple(sorted(
        "**" if keyword.arg is None
        else keyword.arg + GIVEN_NONE if isinstance(keyword.value, ast.Constant) and keyword.value.value is None
        else keyword.arg
        for keyword in call.keywords
    ))
    return positional, keywords, any(isinstance(arg, ast.Starred) for arg in call.args)


def _table_choices(data: bytes) -> dict[tuple[int, int], tuple[CallShape, ...]]:
    """(line, column) of each mention that is no call but hands the name to no unseen caller, with
    the calls it stands for: a value of a table of choices whose choice is only called, with the
    shapes of those calls (`{"box": Box, "ball": Ball}[kind](device=device, **config)`, or the choice
    bound to a name first, `cls = {...}[kind]` then `return cls(device=device)`, builds `Box` with what
    that call passes); a type named in an annotation or an `isinstance` test, with none. A table used
    any other way hands its names on (`HANDED_ON`)."""
    try:
        tree = ast.parse(data.decode("utf-8", "replace"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    parents = Parents(tree)
    found: dict[tuple[int, int], tuple[CallShape, ...]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Dict):
            calls = _calls_of_choice(node, parents)
            if calls:
                shapes = tuple(sorted({_call_shape(call) for call in calls}))
                found.update((_at(value), shapes) for value in node.value.values if isinstance(value, ast.Name))
        elif isinstance(node, (ast.arg, ast.AnnAssign)) and node.annotation is not None:
            found.update((_at(name), ()) for name in ast.walk(node.annotation) if isinstance(name, ast.Name))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            found.update((_at(name), ()) for name in ast.walk(node.returns) if isinstance(name, ast.Name))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _TYPE_TESTS and len(node.args) == 2:
            found.update((_at(name), ()) for name in ast.walk(node.args[1]) if isinstance(name, ast.Name))
    return found


_TYPE_TESTS = frozenset({"isinstance", "issubclass"})


def _at(name: ast.Name) -> tuple[int, int]:
    return name.lineno, name.col_offset


def _calls_of_choice(choice: ast.Subscript, parents: Parents) -> list[ast.Call]:
    """The calls of a table's choice: the call it is the callee of, or those of the name it is bound
    to once, where each read of that name is a call; empty where the choice is used otherwise."""
    parent = parents.parent(choice)
    if isinstance(parent, ast.Call) and parent.func is choice:
        return [parent]
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)):
        return []
    reads = parents.reads_of_single_store(parent.targets[0])
    calls = [parents.parent(read) for read in reads or ()]
    if not calls or not all(isinstance(call, ast.Call) and call.func is read for call, read in zip(calls, reads or (), strict=True)):
        return []
    return [call for call in calls if isinstance(call, ast.Call)]


def named_nowhere(
    defined: Mapping[str, tuple[str, ...]], files: Mapping[str, Callable[[], bytes]]
) -> dict[str, frozenset[str]]:
    """Defining module's display path -> the top-level functions and classes of each module of
    `defined` (display path -> `cuda_defaults`) that no other file of `files` (the scan's files outside
    the test suite: modules, configurations, documents, notebooks, scripts) spells as a word of its
    own. In a project that installs nothing, such a function or class has no caller but its own
    module's: no import, no configuration's `target: pkg.Class`, no `getattr(module, "Class")`, no
    subclass elsewhere, no command that names it. All of a module's top-level names are read, not only
    those with a CUDA default: a class that builds another (an encoder that builds a tokenizer) runs it
    only where it runs itself. One automaton of every such name, one pass per file."""
    spellings: dict[bytes, set[str]] = {}
    for path in defined:
        try:
            data = files[path]() if path in files else b""
        except Exception:  # noqa: BLE001 - an unreadable module defines nothing here
            data = b""
        for name in {*_TOP_DEFINITION.findall(data), *(name.encode() for name in defined[path] if not name.startswith("."))}:
            spellings.setdefault(name, set()).add(path)
    automaton = word_automaton(spellings)
    if automaton is None:
        return {}
    named: set[tuple[str, bytes]] = set()
    for other, read in files.items():
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable file names nothing; its own analysis says why
            continue
        for word in automaton.whole_words(data):
            named.update((owner, word) for owner in spellings[word] if owner != other)
    found: dict[str, set[str]] = {}
    for word, owners in spellings.items():
        for owner in owners:
            if (owner, word) not in named:
                found.setdefault(owner, set()).add(word.decode("ascii", "replace"))
    return {path: frozenset(names) for path, names in sorted(found.items())}
