"""The names a project takes from a module that is no API: what of the module may run.

A module that the project's scripts import by name (`from utils.loss import ComputeLoss`), and that
no install makes an API (a module outside every package, or inside a package of a project with no
build declaration at or above it, importable only from its checkout, or a vendored package's, whose own
`setup.py` stands below a project top that declares nothing), runs only what its importers
take and what that names in turn. A class or function that none of them takes, and that no other
file of the project spells (a configuration's `type: FocalLoss`, a string, a document's code),
is what a rewrite left behind: it runs on no target, whatever it does with CUDA (`unused.py` judges
the names within the module: one its kept definitions name is kept).

`taken_names` reads, for the modules the index gives it with the names their importers take
(`main_block.imported_modules`; a module one importer takes whole, `import utils.loss` or `from
utils.loss import *`, is left alone, unless each other mention of it there, comments aside, reads an attribute, `from
utils import loss` then `loss.FocalLoss(...)`: the attributes read are what it takes), which of the module's other top-level names any other file of
the scan spells as a word of its own. A misreading keeps a verdict: a name spelled where it may
name the definition counts as taken.

So does a method of such a module's classes that nothing outside the module spells (`Class.method`
is taken where another file spells `method`): of a class with no base class and no decorator (a
base's framework may call an override it never spells, `forward`; a decorator may register it), not
a mixin, the method itself undecorated and no dunder (`candidate_methods`), or of a class whose base
a library defines the method for its users alone (the catalog's `[[user_method]]`), or of any class
where a library call reaches the method by its name (the catalog's `[[dispatched_method]]`: a
spelling of that call takes it too); `unused.py` then reads whether the module calls it itself.

Across modules the reading is a fixed point. An importer's use of a name counts only where it runs:
`from nets.layers import AltLayer as SpareLayer` takes nothing where nothing else spells `SpareLayer`
(an alias nothing uses), nor does `from gen import Mixin` where `Mixin` is never spelled again (what a
package's `__init__.py` re-exports is its face, taken, but for a vendored package's or that of a
package no install makes an API that the project imports, `served`: a class it re-exports that nothing
takes from it runs nowhere), and
`ops.blur(x)` inside a class of the importer that nothing takes in turn
takes nothing either, so a helper whose only callers run nowhere runs nowhere (`left_behind`, which
also gives each module's definitions nothing reaches, for the sources a JIT build names in them).
Each round re-reads the spellings found once, and only the modules whose definitions nothing reaches
grow, so the rounds are few. Where the project vendors a package (its own `setup.py` below a project
top that declares nothing), a second fixed point sets the copy's own scripts, tests and documents
aside (`aside`): what only they reach (a generation helper only the copy's benchmark calls) is
another path. A spelling that names something else takes nothing: one in a C/C++ or
CUDA source (`m.def("blur", ...)`), a comment, a docstring or another triple-quoted string, a word
of a sentence or an option in a one-line string (`"Randomly sample {n} images"`), a
Markdown document's prose (outside its code), a `def` of the same name and the body of one (another
class's method of that name, a copy's own copy with its docstring and error messages; a `super()`
call there aside), a name the spelling module binds itself at its top
level (its own `class Encoder`, or `from nets.base import Encoder`, another module's), an attribute of
a module another import binds (`base.Encoder`, where the file does not import this module), an
attribute of a value that is no module (`tokenizer(x).decode()`, `self.sample()`, `counts.decode()`
where no import binds `counts`) for a top-level name or one an importer binds, or an
import statement (an importer's is read through how it binds the name, another's names another
module).
"""

from __future__ import annotations

import ast
import bisect
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial

from cudaudit.rules.catalog import WORD_BYTES, WordSearch, word_automaton
from cudaudit.rules.python.library_dispatch import Dispatched
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.opt_in import block_end, import_statements
from cudaudit.rules.python.reach import calls_by_name_only
from cudaudit.rules.python.unnamed import read_or_none
from cudaudit.rules.python.unused import UserMethods, candidate_methods, docstring_lines, never_called
from cudaudit.source import decode_python, read_tree

Reader = Callable[[], bytes]
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_NAMING_NOTHING = (".c", ".cc", ".cpp", ".cxx", ".cu", ".cuh", ".h", ".hh", ".hpp", ".hip", ".inl")
"""Sources whose words name no Python definition: a C/C++ or CUDA file spells an extension's
function for its own binding (`m.def("blur", ...)`)."""


@dataclass
class LeftBehind:
    """What `left_behind` finds: display path -> the names the project takes from the module (given
    only for a module with a definition no one takes), display path -> (first line, last line,
    name) of each top-level definition of the module that nothing reaches, and display path -> the
    top-level definitions only files off the normal path reach."""

    taken: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dead: dict[str, tuple[tuple[int, int, str], ...]] = field(default_factory=dict)
    aside: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Display path -> the top-level definitions of the module that only files off the normal path reach."""
    named: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Display path -> the top-level definitions of such a module that a file of the project names (a
    configuration's `type: calculate_ssim`): the lookup runs them (set by the index)."""
    unnamed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Display path -> the top-level definitions of a module of an installed package that the project
    looks up by a name read at run time and that no file of it names (`dispatched.py`): set by the index."""


@dataclass
class _Module:
    """A module whose definitions are weighed: its text, tree and the names it defines."""

    text: str
    tree: ast.Module
    defined: set[str]
    spelled: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """`Class.method` -> the words that call it besides its own name: the library entries that reach it
    (`library_dispatch.py`)."""

    @cached_property
    def calls_by_name_only(self) -> Callable[[ast.expr], bool]:
        """Whether a decorator only wraps a function (`@torch.inference_mode()`), which then runs only
        where its name is called (`reach.calls_by_name_only`)."""
        return partial(calls_by_name_only, ImportTable(self.tree))

    @cached_property
    def documents(self) -> set[int]:
        """The lines of the module's docstrings (`unused.docstring_lines`), read once for every round."""
        return docstring_lines(self.tree)


def taken_names(
    imported: Mapping[str, tuple[str, ...] | None], files: Mapping[str, Reader]
) -> dict[str, tuple[str, ...]]:
    """Display path -> the names the project takes from the module: its importers' (`imported`:
    display path -> the names they import, None where one takes the module whole) and the names of its
    other top-level definitions that another file of `files` (display path -> its bytes; an unreadable
    one names nothing) spells. Given only for the modules with a definition no one takes."""
    return left_behind(imported, files).taken


def left_behind(
    imported: Mapping[str, tuple[str, ...] | None],
    files: Mapping[str, Reader],
    takers: Mapping[str, Mapping[str, set[str]]] | None = None,
    users: UserMethods | None = None,
    aside: frozenset[str] = frozenset(),
    served: frozenset[str] = frozenset(),
    dispatched: Dispatched | None = None,
) -> LeftBehind:
    """`taken_names`, weighed across modules where `takers` says how each importer takes each name
    (`main_block.imported_modules`): a package's `__init__.py` takes what it re-exports (the package's
    face), but for one of `served` (a vendored package's, or one no install makes an API that a module
    outside it imports, whose face serves only the project: it takes a name only where another file spells it); a name another importer binds, under an alias or its own,
    counts where it is spelled outside the importers' import statements (an import nothing uses takes
    nothing), and a
    name it reads as an attribute counts where the importer spells it, outside its own definitions that
    nothing reaches, repeated until nothing more is left behind. `users` (`unused.user_methods`) names
    the methods outside bases leave to the project, `dispatched` (`library_dispatch.dispatched_methods`)
    the methods a library entry calls by name, which a spelling of the entry takes; `aside` are files off the project's normal path (a
    vendored package's own scripts, tests and documents): what only they reach is given in
    `LeftBehind.aside`."""
    takers = takers or {}
    modules: dict[str, _Module] = {}
    for path, names in sorted(imported.items()):
        if names is None or path not in files:
            continue
        module = _read_module(files[path], users, dispatched)
        if module is not None and module.defined - _plain(path, names, takers, served):
            modules[path] = module
    if not modules:
        return LeftBehind()
    aliases: dict[str, dict[str, str]] = {}  # module -> the word an importer binds -> the name it binds
    words: set[bytes] = set()
    for path, module in modules.items():
        words.update(name.rpartition(".")[2].encode() for name in module.defined)
        words.update(entry.encode() for entries in module.spelled.values() for entry in entries)
        for bindings in takers.get(path, {}).values():
            for binding in bindings:
                name, _, alias = binding.partition(" as ")
                if not name.startswith("."):
                    aliases.setdefault(path, {})[alias or name] = name
                    words.add((alias or name).encode())
    automaton = word_automaton(sorted(words))
    if automaton is None:
        return LeftBehind()
    hits = _spellings(automaton, files)
    plain = {path: _plain(path, imported.get(path) or (), takers, served) for path in modules}
    taken, dead = _settle(modules, plain, aliases, hits, takers, served)
    found = LeftBehind(
        taken={path: tuple(sorted(names)) for path, names in taken.items() if modules[path].defined - names},
        dead={path: _spans(modules[path], names) for path, names in dead.items() if names},
    )
    if aside and any(spelling.file in aside for spellings in hits.values() for spelling in spellings):
        normal = {path: {importer: names for importer, names in by.items() if importer not in aside} for path, by in takers.items()}
        kept = {word: [spelling for spelling in spellings if spelling.file not in aside] for word, spellings in hits.items()}
        _, off = _settle(modules, plain, aliases, kept, normal, served)
        found.aside = {path: tuple(sorted(names - dead.get(path, frozenset()))) for path, names in off.items() if names - dead.get(path, frozenset())}
    return found


def _settle(
    modules: Mapping[str, _Module],
    plain: Mapping[str, set[str]],
    aliases: Mapping[str, Mapping[str, str]],
    hits: Mapping[bytes, list[_Spelling]],
    takers: Mapping[str, Mapping[str, set[str]]],
    served: frozenset[str] = frozenset(),
) -> tuple[dict[str, set[str]], dict[str, frozenset[str]]]:
    """The names of each module something that runs takes, and its top-level definitions nothing
    reaches: the fixed point of `_taken` and `_dead` from nothing left behind; `served` as for `left_behind`."""
    dead: dict[str, frozenset[str]] = {}
    while True:
        spans = {path: _spans(modules[path], names) for path, names in dead.items() if names}
        taken = {
            path: _taken(path, module, plain[path], aliases.get(path, {}), hits, set(takers.get(path, ())), spans, served)
            for path, module in modules.items()
        }
        grown = {path: _dead(module, taken[path]) for path, module in modules.items()}
        if grown == dead:
            return taken, dead
        dead = grown


def _plain(
    path: str, names: tuple[str, ...], takers: Mapping[str, Mapping[str, set[str]]], served: frozenset[str] = frozenset()
) -> set[str]:
    """The names the module at `path` gives away whatever its importers do with them: all of `names`
    where `takers` does not say how each importer takes them; else those a package's `__init__.py`
    outside `served` re-exports by a plain from-import (the others count where they are spelled,
    `_taken`)."""
    if path not in takers:
        return set(names)
    return {
        binding for importer, bindings in takers[path].items()
        if posixpath.basename(importer) == "__init__.py" and importer not in served
        for binding in bindings if " " not in binding and not binding.startswith(".")
    }


def _read_module(read: Reader, users: UserMethods | None = None, dispatched: Dispatched | None = None) -> _Module | None:
    """The module, with its top-level functions and classes and `Class.method` for its
    `candidate_methods`, and the entries that reach those `dispatched` names; None where it cannot be
    read or parsed."""
    try:
        text = decode_python(read())
        tree = read_tree(text)
    except (SyntaxError, ValueError, UnicodeDecodeError, OSError):
        return None
    candidates = candidate_methods(tree, users, dispatched)
    methods = {f"{cls.name}.{method.name}" for cls, methods in candidates for method in methods}
    spelled = {
        f"{cls.name}.{method.name}": tuple(sorted(dispatched[method.name]))
        for cls, methods in candidates for method in methods if dispatched and method.name in dispatched
    }
    return _Module(text, tree, {statement.name for statement in tree.body if isinstance(statement, _DEFINITIONS)} | methods, spelled)


@dataclass(frozen=True)
class _Spelling:
    """A file's spelling of a word, with what says whether it may name a module's definition."""

    file: str
    line: int
    in_import: bool
    """On a line of one of the file's import statements."""
    inert: bool
    """In a comment, a docstring or another triple-quoted string, or a document's prose (outside its code)."""
    own: bool
    """A name the file binds itself at its top level (`class Encoder`, `from base import Encoder`)."""
    foreign_attribute: bool
    """An attribute of a name the file's imports bind (`stylegan2.Generator`)."""
    of_value: bool = False
    """An attribute of a value that is no module: of a call's or a subscript's result, a literal, `self` or
    `cls`, or a name the file's imports do not bind and no dotted chain reaches (`tokenizer(x).decode()`,
    `self.sample()`, `counts.decode("ascii")`), which no top-level definition can be."""
    defines: bool = False
    """The name of a `def` (another class's method of the same name, a copy's own copy), or a spelling in
    the body of one (its docstring, its messages; not a `super().name()` call)."""
    quoted: bool = False
    """In a one-line string (`__all__ = ["calculate_ssim"]`, `getattr(module, "sample")`)."""


_PROSE = (".md", ".markdown")
"""Documents whose words count only in their code: inline code and fenced blocks."""
_CODE_IN_PROSE = re.compile(rb"```.*?```|``?[^`\n]+``?", re.S)


def _spellings(automaton: WordSearch, files: Mapping[str, Reader]) -> dict[bytes, list[_Spelling]]:
    """Word -> each spelling of it as a word of its own by a file of `files` (its C/C++ and CUDA
    sources left out), found by one pass of `automaton` over each file."""
    found: dict[bytes, list[_Spelling]] = {}
    for other, read in sorted(files.items()):
        if other.lower().endswith(_NAMING_NOTHING):
            continue
        data = read_or_none(read) or b""
        size = len(data)
        places = [
            (automaton.words[index], start) for index, start, end in automaton.matches(data)
            if not (start and data[start - 1] in WORD_BYTES) and not (end < size and data[end] in WORD_BYTES)
        ]
        if places:
            for word, spelling in _read_places(other, data, places):
                found.setdefault(word, []).append(spelling)
    return found


def _read_places(path: str, data: bytes, places: list[tuple[bytes, int]]) -> Iterator[tuple[bytes, _Spelling]]:
    """Each of `places` (word, offset) of the file at `path`, whose bytes are `data`, as a `_Spelling`."""
    python = path.endswith(".py")
    newlines = [match.start() for match in re.finditer(rb"\n", data)]
    statements = import_statements(data) if python else ()
    imports = {first + offset for first, text in statements for offset in range(text.count(b"\n") + 1)}
    bound = {name for _, text in statements for name in _bound_names(text)}
    quotes = sorted(match.start() for match in re.finditer(rb'"""|\'\'\'', data)) if python else []
    code = [(match.start(), match.end()) for match in _CODE_IN_PROSE.finditer(data)] if path.lower().endswith(_PROSE) else None
    defs: dict[bytes, list[tuple[int, int]]] = {}  # name -> (indent, end of the `def` line) of each `def` of it
    tops: set[bytes] = set()  # the names of the module's top-level `def`s and `class`es
    if python:
        for found in _DEFINITION.finditer(data):
            if not found.group(1):
                tops.add(found.group(3))
            if found.group(2) == b"def":
                defs.setdefault(found.group(3), []).append((len(found.group(1)), found.end()))
    bodies: dict[bytes, list[tuple[int, int]]] = {}
    for word, start in places:
        line = bisect.bisect_left(newlines, start) + 1
        head = newlines[line - 2] + 1 if line > 1 else 0
        before = data[head:start]
        dot = before.rstrip()
        attribute = dot.endswith(b".")
        owner = _last_word(dot[:-1].rstrip()) if attribute else b""
        quoted = _in_one_line_string(before)
        inert = (
            (python and b"#" in before and b"'" not in before and b'"' not in before)
            or (python and quoted and _in_prose(before, data[start + len(word) : start + len(word) + 1]))
            or bisect.bisect_left(quotes, start) % 2 == 1
            or (code is not None and not any(first <= start < last for first, last in code))
        )
        if word in defs and word not in bodies:
            bodies[word] = _def_bodies(data, defs[word])
        defining = _after_def(before) or (
            not dot.endswith(b"super().") and any(first <= start < last for first, last in bodies.get(word, ()))
        )
        yield word, _Spelling(
            path, line, line in imports, inert, (word in bound or word in tops) and not attribute, bool(owner) and owner in bound,
            attribute and python and _of_value(dot[:-1].rstrip(), bound), defining, quoted,
        )


def _after_def(before: bytes) -> bool:
    """Whether a line's text before a word ends with the keyword `def` and a blank (`def sample`): the
    word names the function defined there. Read from the end, for a line may be long (a minified
    data file's), where a pattern searched from its start costs its whole length."""
    stripped = before.rstrip(b" \t")
    return (
        len(stripped) < len(before) and stripped.endswith(b"def")
        and (len(stripped) == 3 or stripped[-4] not in WORD_BYTES)
    )


_DEFINITION = re.compile(rb"^([ \t]*)(?:async[ \t]+)?(def|class)[ \t]+(\w+)[^\n]*", re.M)
"""A `def` or `class` line, with its indentation, its keyword and its name."""


def _def_bodies(data: bytes, heads: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(first byte, end byte) of the body of each `def` of the module's bytes `data` given by `heads`
    (its indentation, the end of its line): up to the first line after it that is indented no deeper
    than the `def` (blank lines aside)."""
    return [(head, block_end(data, head, depth)) for depth, head in heads]


def _in_one_line_string(before: bytes) -> bool:
    """Whether a word after `before` on its line is inside a one-line string: an odd count of one kind
    of quote before it."""
    return before.count(b'"') % 2 == 1 or before.count(b"'") % 2 == 1


def _in_prose(before: bytes, after: bytes) -> bool:
    """Whether a word in a one-line string (`_in_one_line_string`), after `before` on its line and followed
    by the byte `after`, is a word of a sentence or an option (`"Randomly sample {n} images"`,
    `"--sample-image"`, `"(sec/sample)"`): a space, a dash, a slash or a parenthesis beside it (not an
    opening one after it: `"decode(x)"` may be evaluated). A string that a lookup reads by name holds
    the name alone (`getattr(module, "sample")`)."""
    return before[-1:] in (b" ", b"-", b"/", b"(") or after in (b" ", b"-", b"/", b")")


_VALUES = frozenset({b"", b"self", b"cls"})
"""What `_last_word` gives for the owner of an attribute that is no module: no word (a call's result,
a subscript, a literal), or a method's own object."""


_CHAIN = re.compile(rb"(?<![\w.])([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)$")
"""A dotted chain of names at the end of a line's text, starting at its root (`pkg.utils.gen`), not
after a dot (`op.arg[0].s`: the chain reaches `s` through a subscript)."""


def _of_value(text: bytes, bound: set[bytes]) -> bool:
    """Whether the object whose attribute follows `text` (a line's text up to the dot) is a value that
    is no module: a call's or a subscript's result or a literal (no dotted chain of names ends `text`),
    or a chain rooted at `self`, `cls` or a name the file's imports do not bind."""
    found = _CHAIN.search(text)
    if found is None:
        return True
    root = found.group(1).split(b".", 1)[0].strip()
    return root in _VALUES or root not in bound


def _last_word(text: bytes) -> bytes:
    """The word `text` ends with (`base` of `x = base`), empty where it ends with no word byte."""
    start = len(text)
    while start and text[start - 1] in WORD_BYTES:
        start -= 1
    return text[start:]


def _bound_names(statement: bytes) -> set[bytes]:
    """The names an import statement binds: `from m import a, b as c` binds `a` and `c`, `import a.b`
    binds `a`, `import a.b as c` binds `c`."""
    words = statement.replace(b"\\", b" ").replace(b"(", b" ").replace(b")", b" ")
    head, found, tail = words.partition(b" import ")
    parts = tail.split(b",") if found and head.lstrip().startswith(b"from") else words.strip()[len(b"import"):].split(b",")
    bound = set()
    for part in parts:
        tokens = part.split()
        if tokens:
            bound.add(tokens[-1] if len(tokens) >= 3 and tokens[-2] == b"as" else tokens[0].split(b".")[0])
    return bound


def _taken(
    path: str,
    module: _Module,
    plain: set[str],
    aliases: Mapping[str, str],
    hits: Mapping[bytes, list[_Spelling]],
    importers: set[str],
    spans: Mapping[str, tuple[tuple[int, int, str], ...]],
    served: frozenset[str] = frozenset(),
) -> set[str]:
    """The names of `module` (at `path`) that something that runs takes: `plain` (`_plain`), a name an
    importer binds (under an alias or its own) or an attribute read spelled where it runs, another file's
    spelling (see the module docstring); `importers` are the modules `takers` reads, `spans` the
    definitions nothing reaches, by module; a face of `served` lists the names it re-exports in
    `__all__` for its lookups, and its one-line strings take nothing."""
    taken = set(plain)

    def live(spelling: _Spelling) -> bool:
        return not (
            spelling.file == path or spelling.inert or spelling.defines
            or (spelling.quoted and spelling.file in served and spelling.file in importers)  # its face's `__all__`
        ) and not any(
            first <= spelling.line <= last for first, last, _ in spans.get(spelling.file, ())
        )

    for alias, name in aliases.items():
        if any(
            live(spelling) and not (spelling.in_import and spelling.file in importers) and not spelling.of_value
            for spelling in hits.get(alias.encode(), ())
        ):
            taken.add(name)  # spelled beside the import that binds it, or imported from the importer in turn
    for name in module.defined - taken:
        top = "." not in name
        if any(
            live(spelling) and not spelling.in_import  # an importer's import is read through `takers`, another's names another module
            and not (top and (spelling.own or spelling.of_value)) and not (spelling.foreign_attribute and spelling.file not in importers)
            for word in (name.rpartition(".")[2], *module.spelled.get(name, ()))
            for spelling in hits.get(word.encode(), ())
        ):
            taken.add(name)
    return taken


def _dead(module: _Module, taken: set[str]) -> frozenset[str]:
    """The top-level definitions of `module` that nothing reaches where the project takes `taken`
    (`unused.never_called`, with every top-level definition wanted)."""
    wanted = {id(statement) for statement in module.tree.body if isinstance(statement, _DEFINITIONS)}
    gone = never_called(
        module.tree, module.text, wanted, False, {}, module.calls_by_name_only, frozenset(taken), in_tests=False,
        documents=module.documents,
    )
    return frozenset(statement.name for statement in module.tree.body if id(statement) in gone)  # type: ignore[attr-defined]


def _spans(module: _Module, names: frozenset[str]) -> tuple[tuple[int, int, str], ...]:
    """(first line, last line, name) of the top-level definitions of `module` named in `names`, each
    from its first decorator."""
    return tuple(
        (min([statement.lineno, *(d.lineno for d in statement.decorator_list)]), statement.end_lineno or statement.lineno, statement.name)
        for statement in module.tree.body if isinstance(statement, _DEFINITIONS) and statement.name in names
    )
