"""The names a project takes from a module that is no API: what of the module may run.

A module that the project's scripts import by name (`from utils.loss import ComputeLoss`), and that
no install makes an API (a module outside every package, or inside a package of a project with no
build declaration at or above it, importable only from its checkout), runs only what its importers
take and what that names in turn. A class or function that none of them takes, and that no other
file of the project spells (a configuration's `type: FocalLoss`, a string, a document, a comment),
is what a rewrite left behind: it runs on no target, whatever it does with CUDA (`unused.py` judges
the names within the module: one its kept definitions name is kept).

`taken_names` reads, for the modules the index gives it with the names their importers take
(`main_block.imported_modules`; a module one importer takes whole, `import utils.loss` or `from
utils.loss import *`, is left alone, unless each other mention of it there, comments aside, reads an attribute, `from
utils import loss` then `loss.FocalLoss(...)`: the attributes read are what it takes), which of the module's other top-level names any other file of
the scan spells as a word of its own. A misreading keeps a verdict: a name spelled anywhere counts as
taken.

So does a method of such a module's classes that nothing outside the module spells (`Class.method`
is taken where another file spells `method`): of a class with no base class and no decorator (a
base's framework may call an override it never spells, `forward`; a decorator may register it), not
a mixin, the method itself undecorated and no dunder (`candidate_methods`); `unused.py` then reads
whether the module calls it itself.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping

from cudaudit.rules.catalog import word_automaton
from cudaudit.rules.python.unnamed import read_or_none
from cudaudit.source import decode_python

Reader = Callable[[], bytes]
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def taken_names(
    imported: Mapping[str, tuple[str, ...] | None], files: Mapping[str, Reader]
) -> dict[str, tuple[str, ...]]:
    """Display path -> the names the project takes from the module: its importers' (`imported`:
    display path -> the names they import, None where one takes the module whole) and the names of its
    other top-level definitions that another file of `files` (display path -> its bytes; an unreadable
    one names nothing) spells. Given only for the modules with a definition no one takes."""
    defined: dict[str, set[str]] = {}
    untaken: dict[str, set[str]] = {}
    for path, names in sorted(imported.items()):
        if names is None or path not in files:
            continue
        defined[path] = _definitions(files[path])
        if defined[path] - set(names):
            untaken[path] = defined[path] - set(names)
    spellings: dict[bytes, set[str]] = {}
    for path, names_left in untaken.items():
        for name in names_left:
            spellings.setdefault(name.rpartition(".")[2].encode(), set()).add(path)
    automaton = word_automaton(sorted(spellings))
    if automaton is None:
        return {}
    for other, read in sorted(files.items()):
        for word in automaton.whole_words(read_or_none(read) or b""):
            for path in spellings[word] - {other}:
                spelled = word.decode()
                untaken[path] = {name for name in untaken[path] if name.rpartition(".")[2] != spelled}
    return {
        path: tuple(sorted(defined[path] - names_left))
        for path, names_left in untaken.items() if names_left
    }


def _definitions(read: Reader) -> set[str]:
    """The names of a module's top-level functions and classes, and `Class.method` for its
    `candidate_methods`; none where it cannot be read or parsed."""
    try:
        tree = ast.parse(decode_python(read()))
    except (SyntaxError, ValueError, UnicodeDecodeError, OSError):
        return set()
    methods = {f"{cls.name}.{method.name}" for cls, methods in candidate_methods(tree) for method in methods}
    return {statement.name for statement in tree.body if isinstance(statement, _DEFINITIONS)} | methods


def candidate_methods(tree: ast.Module) -> list[tuple[ast.ClassDef, list[ast.FunctionDef | ast.AsyncFunctionDef]]]:
    """The top-level classes with no base class, keyword or decorator, not named as a mixin, each with
    its undecorated methods that are no dunders: only the project can call them, by their names."""
    found = []
    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef) or cls.decorator_list or cls.keywords or cls.name.endswith("Mixin"):
            continue
        if any(not (isinstance(base, ast.Name) and base.id == "object") for base in cls.bases):
            continue
        methods = [
            method for method in cls.body
            if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef))
            and not method.decorator_list and not (method.name.startswith("__") and method.name.endswith("__"))
        ]
        if methods:
            found.append((cls, methods))
    return found
