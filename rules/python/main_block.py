"""Which modules with an `if __name__ == "__main__":` block are libraries and which are scripts.

Running a module is one thing, importing it another. A module that other modules of the project
import is a library: its normal path is what its importers call, and its `__main__` block (a
self-check, `test()`) runs only when a developer runs the file by hand, another path. A module that
nothing imports is a script: its `__main__` block is what running it does, its normal path; where
it sits outside a package (in a package it is importable API), a top-level function it defines and
never calls (the call commented out in that block) does not run when the file is run, another path too (the Python walker decides that, `walker.py`).

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
import bisect
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.firstparty import ModuleMap
from cudaudit.rules.catalog import word_automaton
from cudaudit.rules.python.opt_in import import_lines, import_statements, statement_modules

_MAIN_HEADER = re.compile(rb"""if[ \t]+(?:__name__[ \t]*==[ \t]*['"]__main__['"]|['"]__main__['"][ \t]*==[ \t]*__name__)[ \t]*:""")


def main_block(path: str, data: bytes) -> bool:
    """Whether the module at display path `path` has an `if __name__ == "__main__":` block at its top level."""
    if b"__main__" not in data:
        return False
    return any(test.start() == 0 or data[test.start() - 1] == 0x0A for test in _MAIN_HEADER.finditer(data))


Imported = tuple[Evidence, tuple[str, ...] | None]
"""The first import of a module in another module, and the names other modules import from it
(None where one imports the module itself, whose every attribute it may then use)."""


def imported_modules(
    candidates: Iterable[str], sources: Mapping[str, Callable[[], bytes]], lines: dict[str, bytes] | None = None
) -> dict[str, Imported]:
    """Display path -> how other modules import it (`Imported`), for each of `candidates` (modules
    with a `__main__` block) that another module of `sources` imports. `lines` keeps each module's
    `import_lines` for the scan's other readers of them (`opt_in.switched_definitions`)."""
    modules = ModuleMap(sources)
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
        for line, statement in import_statements(data):
            for level, module, imported in statement_modules(statement):
                reached = wanted & modules.resolve(importer, level, module, imported)
                itself = modules.resolve(importer, level, module) if reached else set()
                for path in reached:
                    found.setdefault(path, Evidence(importer, line, " ".join(statement.decode("utf-8", "replace").split())[:80]))
                    taken = names.setdefault(path, set())
                    if path not in itself or not imported or "*" in imported or taken is None:
                        names[path] = None  # the module itself: any of its names may be used
                    else:
                        taken.update(imported)
    return {path: (evidence, None if names[path] is None else tuple(sorted(names[path] or ()))) for path, evidence in found.items()}


_RUNS_BY_NAME = re.compile(r"\b(?:globals|vars|locals)\(|\bFire\(\s*\)")
"""Calls through which a module may run a function it never names: `globals()[name]()`, and
`fire.Fire()` with no component, which makes every top-level function a command."""
_READS_COMMAND_LINE = re.compile(r"\b(?:parse_args|parse_known_args|parse_args_into_dataclasses|Fire|main)\(|\bargv\b")
"""What reads the command line (`parser.parse_args()`, `HfArgumentParser(...).parse_args_into_dataclasses()`,
`fire.Fire(...)`, `sys.argv`), and a `main()` entry point."""


def not_run_by_default(module: ast.Module, text: str, role: str, used: frozenset[str] | None = None) -> frozenset[int]:
    """The ids of the top-level statements of `module` (whose source is `text`) that running the
    project as documented does not run. For a library ("library"): its `__main__` blocks, and the
    functions that only they (or functions found so) name. For a script ("script"): the top-level
    functions it never names anywhere (its only call commented out). A decorated function, and every
    function of a script that runs functions by name (`globals()`, `fire.Fire()`), are left alone;
    so is every function of a library whose names other modules import (`used`; None where one
    imports the module itself), and a library's block that reads the command line (`parse_args()`,
    `sys.argv`, `main()`), itself or through a function it names: a documented `python -m pkg.tool`
    entry point, not a self-check. Names are read as words of the text outside comments (a mention in
    a string counts, so a misreading keeps verdicts), each owned by the top-level statement whose
    lines hold it."""
    mains = [statement for statement in module.body if isinstance(statement, ast.If) and _is_main_test(statement.test)]
    if not mains or (role == "script" and _RUNS_BY_NAME.search(text)):
        return frozenset()
    functions = {
        statement.name: statement for statement in module.body
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and not statement.decorator_list
    }
    if role == "library" and used is None:
        functions = {}
    lines = text.splitlines()
    starts = [statement.lineno for statement in module.body]
    owners: dict[str, set[int]] = {name: set() for name in functions}
    if functions:
        number, counted = 1, 0
        for word in re.finditer(r"\b(?:" + "|".join(map(re.escape, sorted(functions))) + r")\b", text):
            number += text.count("\n", counted, word.start())
            counted = word.start()
            before = text[text.rfind("\n", 0, word.start()) + 1 : word.start()]
            if "#" in before and not any(quote in before for quote in "'\""):
                continue  # in a comment (`# test02()`): no call
            at = bisect.bisect_right(starts, number) - 1
            owner = module.body[at] if at >= 0 else None
            inside = owner is not None and number <= (owner.end_lineno or owner.lineno)
            owners[word.group()].add(id(owner) if inside else -1)
    if role == "script":
        return frozenset(id(function) for name, function in functions.items() if owners[name] <= {id(function)})
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
    spans = [(statement.lineno, statement.end_lineno or statement.lineno) for statement in module.body if id(statement) in off]
    if any(_READS_COMMAND_LINE.search(line) for first, last in spans for line in lines[first - 1 : last]):
        return frozenset()
    return frozenset(off)


def _is_main_test(test: ast.expr) -> bool:
    """`__name__ == "__main__"`, either way round."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [side.id for side in sides if isinstance(side, ast.Name)]
    values = [side.value for side in sides if isinstance(side, ast.Constant)]
    return names == ["__name__"] and values == ["__main__"]
