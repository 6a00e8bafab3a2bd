"""The modules a project's start imports: what `import pkg` and the project's own scripts run.

A module-level import of a library that fails to import on a target (`import tinycudann`, a
CUDA-only build) stops the import of its module there, and so every module that imports that one at
its top level, up to the program that started. Whether that stops the project's main use depends on
whether the start reaches the module that way: a module only an optional mode imports inside a
function, or that only another package's scripts import, does not stop the main use.

The start is the `__init__.py` of each package at the top of a folder the scan was given, or of its
`src/` (what `import pkg` runs, however the entry imports it), each script in such a folder (a
module outside any package: `train.py`) and each script a documented command runs (`python
tools/train.py`), the test suite aside; a package deeper down that no package above holds (a
vendored copy's `models/`) is a start for its own importers only. A script runs its own functions
(`main()`), so the imports of its functions and its `__main__` block count (`launch.py`'s `import
pkg.systems` inside `main()`), though not one under a test a command-line choice may skip; from there the module-level imports (`extra_only.top_level_imports`: the
statements at column 0) and those in a block at the module's level that is no function's or class's
(a `try:` and its handlers, an `if`: `module_level_imports`), which all run when the module is
imported, are followed to a fixed point, each import with the packages above the module it names,
whose `__init__.py` runs first.

A module reached so keeps the first import that reached it (`FileFacts.started`): the Python
analyzer marks its column-0 import findings as stopping the start (`Finding.at_import`), which the
assessment reads as a blocked component; in a module the start does not reach so, a break at import
(a build at import, a call of an unbuilt extension) stops only the importers that take that path,
and the analyzer leaves it unmarked: one path of its library.
"""

from __future__ import annotations

import ast
import os
import posixpath
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from cudaudit.facts import Evidence
from cudaudit.filekinds import is_test_path
from cudaudit.firstparty import module_map
from cudaudit.rules.python.nodes import is_main_test
from cudaudit.rules.python.opt_in import code_import_statements, import_statements, statement_modules
from cudaudit.source import decode_python, read_tree

if TYPE_CHECKING:  # the extras' reader imports the dependency readers, which a Python scan never needs
    from cudaudit.rules.python.extra_only import TopImport


def started_modules(
    sources: Mapping[str, Callable[[], bytes]],
    roots: Iterable[str],
    imports: Callable[[str], tuple[TopImport, ...]],
    documented: Iterable[str] = (),
) -> dict[str, Evidence]:
    """Display path -> the import through which the project's start reaches it, for each module of
    `sources` (display path -> a reader of its bytes) that the start (see the module docstring; `roots`
    are the folders the scan was given, without any the paths' own top) imports, directly or through
    other modules' top-level imports, and each package `__init__.py` of the start itself;
    `imports(path)` is a module's `module_level_imports`; `documented` the scripts the project's
    documented commands run (`python tools/train.py`), wherever they are."""
    ordered = sorted(sources)
    modules = module_map(ordered)
    folders = {os.path.abspath(root) for root in roots} or {os.path.abspath(".")}
    starts = [
        path for path in ordered
        if not is_test_path(path) and modules.name(path) and "." not in modules.name(path)
        and _at_the_top(posixpath.dirname(path) if posixpath.basename(path) == "__init__.py" else path, folders)
    ]
    # `import pkg` runs the package's `__init__.py` itself; a script's own sites are its component's
    reached = {path: Evidence(path, 1, f"import {modules.name(path)}") for path in starts if path.endswith("__init__.py")}
    starts += sorted(path for path in set(documented) - set(starts) if path in sources and not is_test_path(path))
    scripts = {path for path in starts if path not in reached}
    queue = list(starts)
    seen = set(starts)
    while queue:
        importer = queue.pop()
        statements = _script_imports(sources[importer]) if importer in scripts else imports(importer)
        for line, level, module, names in statements:
            for target in sorted(modules.resolve(importer, level, module, names)):
                if target in seen or is_test_path(target):
                    continue
                seen.add(target)
                reached[target] = reached.get(importer) or Evidence(importer, line, f"import {module or '.'}")
                queue.append(target)
    return reached


def _script_imports(source: Callable[[], bytes]) -> tuple[TopImport, ...]:
    """The import statements a script runs whenever it runs: at its top level, in its functions (its
    `main()`), its `__main__` block, a `try` (and its handlers) or a `with` among them; not one under
    another test (`if args.backbone == "hash":`), which a command-line choice may skip. An unreadable
    or unparsable script imports nothing here (its own analysis says why). The tree is the scan's one
    tree of the script (`source.read_tree`), which its own analysis then takes."""
    try:
        tree = read_tree(decode_python(source()))
    except Exception:  # noqa: BLE001 - an unreadable script imports nothing here; its own analysis says why
        return ()
    found: list[TopImport] = []
    blocks = [tree.body]
    while blocks:
        for statement in blocks.pop():
            if isinstance(statement, ast.Import):
                found.extend((statement.lineno, 0, alias.name, ()) for alias in statement.names)
            elif isinstance(statement, ast.ImportFrom):
                names = tuple(alias.name for alias in statement.names)
                found.append((statement.lineno, statement.level, statement.module or "", names))
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.With, ast.AsyncWith)):
                blocks.append(statement.body)
            elif isinstance(statement, ast.Try):
                blocks += [statement.body, statement.orelse, statement.finalbody, *(h.body for h in statement.handlers)]
            elif isinstance(statement, ast.If) and is_main_test(statement.test):
                blocks.append(statement.body)
    return tuple(sorted(found))


def _at_the_top(path: str, folders: set[str]) -> bool:
    """Whether `path` (a script, or a package's folder) sits in one of `folders` or in its `src/`: a
    package deeper down that no folder above makes part of another (a vendored copy's `models/`)
    is imported by its own importers, not by the project's start."""
    parent = posixpath.dirname(path)
    if os.path.abspath(parent or ".") in folders:
        return True
    return posixpath.basename(parent) == "src" and os.path.abspath(posixpath.dirname(parent) or ".") in folders


_DEFINITIONS = (b"def ", b"async ", b"class ", b"@")
"""How a line at column 0 opens a function's or a class's body (a decorator comes before one)."""
_NO_STATEMENT = frozenset({b"", b" ", b"\t", b"\r", b"#", b")", b"]", b"}"})
"""The first bytes of a line at column 0 that starts no statement: indentation, a blank line, a
comment, the closing bracket of a statement that began above."""


def module_level_imports(data: bytes) -> tuple[TopImport, ...]:
    """The import statements of module `data` that run when it is imported: at column 0, and indented
    in a block at the module's level that no `def` or `class` opens (the nearest line at column 0
    above the statement is no definition): the body or handler of a module-level `try`, an `if`'s arms.
    Lines in a triple-quoted string are none (an odd count of either triple quote before them)."""
    statements = import_statements(data)
    if not statements:
        return ()
    openers = [  # (line, start) of each line at column 0 that opens or holds a statement
        (number, text[:6]) for number, text in enumerate(data.split(b"\n"), start=1)
        if text[:1] not in _NO_STATEMENT
    ]
    found: list[TopImport] = []
    at = 0
    for line, statement in code_import_statements(data):
        while at + 1 < len(openers) and openers[at + 1][0] <= line:
            at += 1
        indented = statement[:1] in (b" ", b"\t")
        if indented and (not openers or openers[at][0] > line or openers[at][1].startswith(_DEFINITIONS)):
            continue
        found.extend((line, level, module, names) for level, module, names in statement_modules(statement.lstrip()))
    return tuple(found)
