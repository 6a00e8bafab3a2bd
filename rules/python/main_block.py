"""Which modules with an `if __name__ == "__main__":` block are libraries and which are scripts.

Running a module is one thing, importing it another. A module that other modules of the project
import is a library: its normal path is what its importers call, and its `__main__` block (a
self-check, `test()`) runs only when a developer runs the file by hand, another path. A module that
nothing imports is a script: its `__main__` block is what running it does, its normal path; where
it sits outside a package (in a package it is importable API), a top-level function it defines and
never calls (the call commented out in that block) does not run when the file is run, on any target
(`unused.py`).

`main_block` reads one module from its bytes (a byte search for `__main__`, so most stop there): is
there such a block at the module's top level. `imported_modules` then tells, for the modules that
have one, which of them another module of the scan imports, from the last words of their names
(searched in the lines of each other module that spell `import`) and the import statements of the
modules that spell one, resolved as `firstparty.ModuleMap` resolves them. An import this does not
read (`importlib.import_module`, a name built at run time) leaves a module a script: its `__main__`
block keeps its verdicts.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.firstparty import module_map
from cudaudit.rules.catalog import word_automaton
from cudaudit.rules.python.nodes import is_main_test
from cudaudit.rules.python.opt_in import Statements, import_lines, import_statements, statement_modules
from cudaudit.rules.python.unused import mentions

_MAIN_HEADER = re.compile(rb"""if[ \t]+(?:__name__[ \t]*==[ \t]*['"]__main__['"]|['"]__main__['"][ \t]*==[ \t]*__name__)[ \t]*:""")


def main_block(path: str, data: bytes) -> bool:
    """Whether the module at display path `path` has an `if __name__ == "__main__":` block at its top level."""
    return main_block_span(data) is not None


_TOP_LEVEL_LINE = re.compile(rb"^[^ \t\r\n#]", re.M)
"""A line that starts at the module's top level: the end of the block above it."""


def main_block_span(data: bytes) -> tuple[int, int] | None:
    """(start, end) offsets of the module's top-level `if __name__ == "__main__":` block, from its
    header up to the next top-level line; None where it has none."""
    if b"__main__" not in data:
        return None
    for test in _MAIN_HEADER.finditer(data):
        if test.start() == 0 or data[test.start() - 1] == 0x0A:
            after = data.find(b"\n", test.end())
            following = _TOP_LEVEL_LINE.search(data, after + 1) if after >= 0 else None
            return test.start(), following.start() if following else len(data)
    return None


Imported = tuple[Evidence, tuple[str, ...] | None]
"""The first import of a module in another module, and the names other modules import from it
(None where one imports the module itself, whose every attribute it may then use)."""


def imported_modules(
    candidates: Iterable[str], sources: Mapping[str, Callable[[], bytes]], lines: dict[str, bytes] | None = None,
    takers: dict[str, dict[str, set[str]]] | None = None,
) -> dict[str, Imported]:
    """Display path -> how other modules import it (`Imported`), for each of `candidates` (modules
    with a `__main__` block) that another module of `sources` imports. `lines` keeps each module's
    `import_lines` for the scan's other readers of them (`opt_in.switched_definitions`); `takers`, where
    given, gets for each candidate the names each of its importers takes (display path -> importer ->
    `name` for a from-import, `name as alias` for one under another name, `.name` for an attribute read
    of the module), which `taken_names` weighs by where the importer uses them."""
    modules = module_map(sources)
    stems: dict[str, set[str]] = {}
    for path in candidates:
        if posixpath.basename(path) != "__init__.py" and modules.name(path):
            stems.setdefault(modules.name(path).rpartition(".")[2], set()).add(path)
    words = word_automaton(sorted(stem.encode() for stem in stems))
    if words is None:
        return {}
    lines = {} if lines is None else lines
    found: dict[str, Evidence] = {}
    names: dict[str, set[str] | None] = {}
    for importer in sorted(sources):
        try:
            data = sources[importer]()
        except Exception:  # noqa: BLE001 - an unreadable module imports nothing here; its own analysis says why
            continue
        if importer not in lines:
            lines[importer] = import_lines(data)
        wanted = {
            path for stem in words.found(lines[importer])
            for path in stems[stem.decode()] if path != importer and names.get(path, ()) is not None
        }
        if not wanted:
            continue
        statements = import_statements(data)
        for line, statement in statements:
            for level, module, imported in statement_modules(statement):
                reached = wanted & modules.resolve(importer, level, module, imported)
                itself = modules.resolve(importer, level, module) if reached else set()
                for path in reached:
                    found.setdefault(path, Evidence(importer, line, " ".join(statement.decode("utf-8", "replace").split())[:80]))
                    taken = names.setdefault(path, set())
                    bound = imported
                    if not imported and path in itself and taken is not None:
                        imported = _attributes_read(data, statements, statement, module) or ("*",)
                        bound = tuple("." + name for name in imported)
                    elif path not in itself and taken is not None:
                        read = _submodule_attributes_read(data, statements, statement, [
                            name for name in imported if path in modules.resolve(importer, level, module, (name,))
                        ])
                        if read:
                            taken.update(read)
                            _record(takers, path, importer, ("." + name for name in read))
                            continue
                    if path not in itself or not imported or "*" in imported or taken is None:
                        names[path] = None  # the module itself: any of its names may be used
                    else:
                        taken.update(imported)
                        _record(takers, path, importer, (_bound(statement, name) for name in bound))
    return {path: (evidence, None if names[path] is None else tuple(sorted(names[path] or ()))) for path, evidence in found.items()}


def _bound(statement: bytes, name: str) -> str:
    """How a from-import binds `name`: the name itself, or `name as alias` (`SynthesisLayer as AltLayer`);
    an attribute read (`.name`) as it is."""
    if name.startswith("."):
        return name
    alias = re.search(rb"(?<![\w.])" + re.escape(name.encode()) + rb"\s+as\s+(\w+)", statement)
    return f"{name} as {alias.group(1).decode('ascii', 'replace')}" if alias else name


def _record(takers: dict[str, dict[str, set[str]]] | None, path: str, importer: str, names: Iterable[str]) -> None:
    """Adds to `takers` (where given) that `importer` takes `names` from the module at `path`."""
    if takers is not None:
        takers.setdefault(path, {}).setdefault(importer, set()).update(names)


def _attributes_read(data: bytes, statements: Statements, statement: bytes, module: str) -> tuple[str, ...]:
    """The names `import helper` takes from a module outside every package where each other mention of
    `helper` in the importer reads an attribute of it (`helper.build(...)`); empty where one does not
    (the module handed on, `import helper as h`, a dotted module, a mention in a comment or a string)."""
    if "." in module or not re.fullmatch(rb"\s*import\s+" + re.escape(module.encode()) + rb"\s*(?:#[^\n]*)?", statement):
        return ()
    return _names_read_through(data, statements, module)


def _outside_comments(word: re.Pattern[bytes], data: bytes) -> list[re.Match[bytes]]:
    """The matches of `word` in `data` that no comment holds: a `#` before them on their line, with no
    quote before it (a `#` in a string starts no comment)."""
    found = []
    for match in word.finditer(data):
        before = data[data.rfind(b"\n", 0, match.start()) + 1 : match.start()]
        if b"#" not in before or b"'" in before or b'"' in before:
            found.append(match)
    return found


def _submodule_attributes_read(data: bytes, statements: Statements, statement: bytes, bound: list[str]) -> tuple[str, ...]:
    """The names `from render import util` takes from the module `util` where each other mention of
    `util` in the importer reads an attribute of it (`util.dot(...)`); empty where the statement binds
    it under another name (`import util as u`), binds more than the one name resolving to the module,
    or a mention does not read an attribute (the module handed on)."""
    if len(bound) != 1 or re.search(rb"\b" + re.escape(bound[0].encode()) + rb"\s+as\b", statement):
        return ()
    return _names_read_through(data, statements, bound[0])


def _names_read_through(data: bytes, statements: Statements, module: str) -> tuple[str, ...]:
    """The attributes the importer reads of the name `module` binds, where every mention of it outside
    the import statements and the comments (`# compute the regularizer`) reads one; empty otherwise."""
    word = re.compile(rb"(?<![\w.])" + re.escape(module.encode()) + rb"(?!\w)(\.\w+)?")
    mentions = _outside_comments(word, data)
    in_imports = sum(len(_outside_comments(word, text)) for _, text in statements)
    read = [match.group(1)[1:].decode("ascii", "replace") for match in mentions if match.group(1)]
    if len(mentions) - in_imports != len(read) or not read:
        return ()
    return tuple(sorted(set(read)))


_READS_COMMAND_LINE = re.compile(r"\b(?:parse_args|parse_known_args|parse_args_into_dataclasses|Fire|main)\(|\bargv\b")
"""What reads the command line (`parser.parse_args()`, `HfArgumentParser(...).parse_args_into_dataclasses()`,
`fire.Fire(...)`, `sys.argv`), and a `main()` entry point."""


def not_run_by_default(
    module: ast.Module, text: str, used: frozenset[str] | None = None, run_by_name: bool = True
) -> frozenset[int]:
    """The ids of the top-level statements of a library `module` (whose source is `text`) that
    running the project as documented does not run: its `__main__` blocks, and the functions that
    only they (or functions found so) name. A decorated function is left alone; so is every function
    whose names other modules import (`used`; None where one imports the module itself), and a block
    that reads the command line (`parse_args()`, `sys.argv`, `main()`), itself or through a function
    it names: a documented `python -m pkg.tool` entry point, not a self-check, unless `run_by_name` is
    False (the scan sees the whole project and no file of it runs the module by its file or module
    name, `unnamed_scripts.run_scripts`): then the block is an undocumented self-test or demo of the
    library, whatever it reads. Names are read as words
    of the text outside comments (`unused.mentions`: a mention in a string counts, so a misreading
    keeps verdicts). A script's functions that nothing names run on no target (`unused.py`)."""
    mains = [statement for statement in module.body if isinstance(statement, ast.If) and is_main_test(statement.test)]
    if not mains:
        return frozenset()
    functions = {
        statement.name: statement for statement in module.body
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and not statement.decorator_list
    } if used is not None else {}
    owners = mentions(module, text, functions)
    off = {id(main) for main in mains}
    grown = True
    while grown:
        grown = False
        for name, function in functions.items():
            if id(function) in off or name in (used or ()):
                continue
            others = owners[name] - {id(function)}
            if others and others <= off:
                off.add(id(function))
                grown = True
    lines = text.splitlines()
    spans = [(statement.lineno, statement.end_lineno or statement.lineno) for statement in module.body if id(statement) in off]
    if run_by_name and any(_READS_COMMAND_LINE.search(line) for first, last in spans for line in lines[first - 1 : last]):
        return frozenset()
    return frozenset(off)
