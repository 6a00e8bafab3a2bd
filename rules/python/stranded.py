"""Vendored code whose imports name a top-level package the project only has inside another package.

A project copies a third-party tree into one of its packages (`app/common/annotators/`) and keeps
the copy's own imports, which name the tree by its old top-level name (`from annotators.util import
load`). Inside the project that name is no top-level package: Python finds `annotators` only where the
folder above it is on the path, and a folder inside a package is on none of the project's paths, so
importing such a module raises `ModuleNotFoundError` before any of its code runs. What the project
imports of the copy (a sibling module with no such import, by its full name) runs; the rest runs
nowhere, whatever it does with CUDA: another path, at most a warning (`verdicts.off_default_path`).

`stranded_modules` reads this from the scan's paths and each module's top-level imports (column 0:
those that run when it is imported). A name `X` is stranded where every folder that holds `X/` or
`X.py` is inside a package (it or a folder above it has an `__init__.py`), no module in such a folder
runs as a script (a `__main__` block puts its folder first on the path), no module outside the copy
imports `X` itself (the project's own code counting on it, through a path set elsewhere), no
dependency file spells `X` (an installed package of that name is what the import finds), and no file
outside the test suite sets the path (`sys.path`, `PYTHONPATH`) on a line that spells, or follows
two lines that spell, the folder's name or `X`.
In the copy (`F/X/`), a module is stranded where a top-level import names `X`, imports a stranded
module, or sits below a stranded `__init__.py`; the copy's modules that the rest of the project
names (`X.util`, `X/util`, in code outside comments' imports, configurations, documents) and their
imports (relative ones, and absolute ones that do not name `X`), followed through the copy, run;
the others run nowhere. A copy one of whose stranded modules the rest of the project names, or that
it imports by a name built at run time, is left alone: a misreading keeps a verdict.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache, partial

from cudaudit.facts import Evidence
from cudaudit.filekinds import is_test_path
from cudaudit.firstparty import file_or_package
from cudaudit.rules.catalog import has_word
from cudaudit.rules.python.opt_in import import_statements, statement_modules, without_commented_imports
from cudaudit.rules.python.read_once import ReadOnce

Reader = Callable[[], bytes]
Statement = tuple[int, int, str, tuple[str, ...]]
"""One module an import statement names: (line, level, module, names)."""
TopImports = Callable[[str], "tuple[Statement, ...]"]
"""A module's imports at column 0 (`extra_only.top_level_imports`): (line, level, module, names)."""

_DECLARATIONS = re.compile(r"(?:^|/)(?:requirements[^/]*\.txt|setup\.py|setup\.cfg|pyproject\.toml|environment[^/]*\.ya?ml)$")
"""Files whose words name the packages a project installs."""
_PATH_SETTINGS = (b"sys.path", b"PYTHONPATH")
_BUILT_IMPORTS = (b"import_module(", b"__import__(")


def stranded_modules(
    python: Mapping[str, Reader],
    others: Mapping[str, Reader],
    top_imports: TopImports,
) -> dict[str, Evidence]:
    """Display path -> why it never runs, for each module of `python` (the scan's Python modules)
    in a copy whose imports name a top-level package the project does not have (see the module
    docstring); `others` are the scan's other files outside the test suite, `top_imports(path)` a
    module's imports at column 0."""
    paths = frozenset(python)
    text = ReadOnce({**others, **python})
    every_import = cache(lambda path: _all_imports(text(path)))  # read once for every copy that asks
    inside = cache(partial(_inside_package, paths=paths))

    copies: dict[tuple[str, str], dict[str, int]] = {}
    """(name, folder) -> the copy's modules whose top-level imports name it, with the first such line."""
    others_named: set[tuple[str, str]] = set()
    """The copies some of whose modules import a module of that name the copy does not hold: another
    package of the name answers those imports, and may answer all."""
    for path in sorted(paths):
        if is_test_path(path):
            continue
        parts = path.split("/")[:-1]
        spelled = [
            (at, part) for at, part in enumerate(parts)
            if part.isidentifier() and inside("/".join(parts[:at])) and part.encode() in text(path)
        ]
        if not spelled:
            continue
        imports = top_imports(path)
        for at, part in spelled:
            folder = "/".join(parts[:at])
            line = _first_import_of(imports, part, folder, paths)
            if line is not None:
                copies.setdefault((part, folder), {})[path] = line
            if _other_package(imports, part, folder, paths):
                others_named.add((part, folder))
    copies = {key: first for key, first in copies.items() if key not in others_named}
    if not copies:
        return {}
    providers = _providers(paths)
    found: dict[str, Evidence] = {}
    for (name, folder), first in sorted(copies.items()):
        if not all(inside(provider) for provider in providers.get(name, ())):
            continue
        copy = posixpath.join(folder, name) if folder else name
        members = sorted(path for path in paths if path.startswith(copy + "/") and not is_test_path(path))
        if _stranded_name(name, folder, copy, paths, python, others, text, every_import):
            found.update(_dead_in_copy(
                name, folder, copy, members, first, paths, python, others, top_imports, text, every_import
            ))
    return found


def _providers(paths: frozenset[str]) -> dict[str, set[str]]:
    """Top-level name -> the folders that hold a module or a folder of that name."""
    found: dict[str, set[str]] = {}
    for path in paths:
        parts = path.split("/")
        for at in range(len(parts)):
            name = parts[at][:-3] if at == len(parts) - 1 else parts[at]
            found.setdefault(name, set()).add("/".join(parts[:at]))
    return found


def _inside_package(folder: str, paths: frozenset[str]) -> bool:
    """Whether `folder` or a folder above it holds an `__init__.py` of the scan."""
    above = None
    while folder and folder != above:
        if posixpath.join(folder, "__init__.py") in paths:
            return True
        folder, above = posixpath.dirname(folder), folder
    return False


def _other_package(imports: Iterable[tuple[int, int, str, tuple[str, ...]]], name: str, folder: str, paths: frozenset[str]) -> bool:
    """Whether one of `imports` names `name` and a module the copy in `folder` does not hold, nor a
    folder of modules (a namespace package)."""
    return any(
        not level and module.partition(".")[0] == name
        and not _targets("", ((line, 0, module, names),), name, folder, paths)
        and not _holds_modules(posixpath.join(folder, *module.split(".")), paths)
        for line, level, module, names in imports
    )


def _holds_modules(base: str, paths: frozenset[str]) -> bool:
    """Whether the folder `base` holds a module of the scan, at any depth."""
    prefix = base + "/"
    return any(path.startswith(prefix) for path in paths)


def _first_import_of(
    imports: Iterable[tuple[int, int, str, tuple[str, ...]]], name: str, folder: str, paths: frozenset[str]
) -> int | None:
    """The line of the first top-level absolute import that names `name` and a module the copy in
    `folder` holds (`from X.util import y` for `folder/X/util.py`): an import of another package of
    the same name (an installed `X` whose `X.api` the copy has no module for) is none."""
    lines = [
        line for line, level, module, names in imports
        if not level and module.partition(".")[0] == name and _targets("", ((line, 0, module, names),), name, folder, paths)
    ]
    return min(lines) if lines else None


def _stranded_name(
    name: str,
    folder: str,
    copy: str,
    paths: frozenset[str],
    python: Mapping[str, Reader],
    others: Mapping[str, Reader],
    text: Callable[[str], bytes],
    every_import: Callable[[str], list[Statement]],
) -> bool:
    """Whether nothing puts `folder` on the path: no script beside the copy, no module outside it
    that imports `name` itself, no dependency file that spells `name`, no path setting that spells
    the folder's name or `name`, and no module of the folder or the copy that sets the path at its
    top level."""
    word = name.encode()
    base = posixpath.basename(folder).encode()
    for path in sorted(paths):
        if is_test_path(path):
            continue
        inside = path.startswith(copy + "/")
        beside = posixpath.dirname(path) == folder
        if beside and b"__main__" in text(path):
            return False
        if (inside or beside) and any(_top_level_line(text(path), setting) for setting in _PATH_SETTINGS):
            return False
        if not inside and any(not level and module.partition(".")[0] == name for _, level, module, _ in every_import(path)):
            return False
    for path in sorted({*python, *others}):
        if is_test_path(path) or path.startswith(copy + "/"):
            continue
        data = text(path)
        if _DECLARATIONS.search(path) and has_word(data, word):
            return False
        if any(has_word(window, word) or (base and has_word(window, base)) for window in _path_settings(data)):
            return False
        if any(built in data for built in _BUILT_IMPORTS) and has_word(data, word):
            return False
    return True


def _dead_in_copy(
    name: str,
    folder: str,
    copy: str,
    members: list[str],
    first: dict[str, int],
    paths: frozenset[str],
    python: Mapping[str, Reader],
    others: Mapping[str, Reader],
    top_imports: TopImports,
    text: Callable[[str], bytes],
    every_import: Callable[[str], list[Statement]],
) -> dict[str, Evidence]:
    """The modules of the copy that never run, with why; none where the rest of the project names a
    stranded one."""
    edges = {path: _targets(path, every_import(path), name, folder, paths) for path in members}
    top_edges = {path: _targets(path, top_imports(path), name, folder, paths) for path in members}
    stranded = set(first)
    grown = True
    while grown:
        grown = False
        for path in members:
            if path in stranded:
                continue
            if top_edges[path] & stranded or any(init in stranded for init in _inits_above(path, copy, paths)):
                stranded.add(path)
                grown = True
    named = _named_from_outside(name, copy, members, python, others, text)
    if named & stranded:
        return {}
    live: set[str] = set()
    queue = sorted(named | {path for path in members if path not in stranded and b"__main__" in text(path)})
    while queue:
        path = queue.pop()
        if path in live or path in stranded:
            continue
        live.add(path)
        queue.extend(sorted((edges[path] | set(_inits_above(path, copy, paths))) - live))
    reason = (
        f"`{name}` is a folder inside a package (`{folder}/`), on none of the project's paths: "
        f"importing a module that imports `{name}` fails"
    )
    found = {}
    for path in members:
        if path in live:
            continue
        if path in first:
            found[path] = Evidence(path, first[path], f"this module's import of `{name}` never succeeds: {reason}")
        else:
            found[path] = Evidence(path, 0, f"only modules whose imports fail import this module: {reason}")
    return found


def _targets(
    importer: str, imports: Iterable[tuple[int, int, str, tuple[str, ...]]], name: str, folder: str, paths: frozenset[str]
) -> set[str]:
    """The copy's modules `imports` (of `importer`) name: relative ones, and absolute ones that start
    with the copy's name."""
    found: set[str] = set()
    for _, level, module, names in imports:
        if level:
            base = posixpath.dirname(importer)
            for _ in range(level - 1):
                base = posixpath.dirname(base)
        elif module.partition(".")[0] == name:
            base = folder
        else:
            continue
        target = posixpath.join(base, *module.split(".")) if module else base
        found |= file_or_package(target, paths)
        for imported in names:
            found |= file_or_package(posixpath.join(target, imported), paths)
    return found - {importer}


def _inits_above(path: str, copy: str, paths: frozenset[str]) -> list[str]:
    """The `__init__.py` files of the copy's packages above `path`, which run before it."""
    found = []
    folder = posixpath.dirname(path.removesuffix("/__init__.py")) if path.endswith("/__init__.py") else posixpath.dirname(path)
    while folder.startswith(copy):
        init = posixpath.join(folder, "__init__.py")
        if init in paths and init != path:
            found.append(init)
        folder = posixpath.dirname(folder)
    return found


def _named_from_outside(
    name: str, copy: str, members: list[str], python: Mapping[str, Reader], others: Mapping[str, Reader], text: Callable[[str], bytes]
) -> set[str]:
    """The copy's modules a file outside it and outside the test suite spells by its name from the
    copy's (`X.util`, `X/util`), as a word of its own; a Python module's commented-out imports say
    nothing."""
    spellings: dict[bytes, set[str]] = {}
    for path in members:
        rest = path[len(copy) + 1:].removesuffix("/__init__.py").removesuffix(".py")
        for separator in (".", "/"):
            spellings.setdefault(f"{name}{separator}{rest.replace('/', separator)}".encode(), set()).add(path)
    found: set[str] = set()
    for path in sorted({*python, *others}):
        if is_test_path(path) or path.startswith(copy + "/"):
            continue
        data = text(path)
        if name.encode() not in data:
            continue
        if path.endswith(".py"):
            data = without_commented_imports(data)
        for spelling, modules in spellings.items():
            if has_word(data, spelling):
                found |= modules
    return found


def _path_settings(data: bytes) -> list[bytes]:
    """The lines that set the path (`sys.path`, `PYTHONPATH`, outside a comment), each with the two
    lines above it, where a folder it adds is often spelled (`root = os.path.join(HERE, "common")`)."""
    windows = []
    for setting in _PATH_SETTINGS:
        at = data.find(setting)
        while at >= 0:
            start = data.rfind(b"\n", 0, at) + 1
            if b"#" not in data[start:at]:
                above = start
                for _ in range(2):
                    above = data.rfind(b"\n", 0, max(above - 1, 0)) + 1
                end = data.find(b"\n", at)
                windows.append(data[above:end if end >= 0 else len(data)])
            at = data.find(setting, at + 1)
    return windows


def _all_imports(data: bytes) -> list[tuple[int, int, str, tuple[str, ...]]]:
    """Every import statement of a module, at any depth, as (line, level, module, names)."""
    return [(line, level, module, names) for line, statement in import_statements(data) for level, module, names in statement_modules(statement)]


def _top_level_line(data: bytes, word: bytes) -> bool:
    """Whether a line that starts at column 0 spells `word`: top-level code, run on import."""
    at = data.find(word)
    while at >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        if data[start:start + 1] not in (b" ", b"\t", b"#"):
            return True
        at = data.find(word, at + 1)
    return False
