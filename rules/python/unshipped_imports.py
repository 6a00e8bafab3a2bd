"""Test modules whose collection fails on every target, and modules nothing imports whose import
does: a top-level import of a module that the project's own package does not ship.

A copied library's test file may import a module of the library that the copy left out (`from
kernels.varlen import pack_states`, where the project's `kernels/` package holds only `__init__.py`
and `interface.py`). Python stops at that import on every machine, so pytest collects none of the
file's tests and its CUDA sites break nothing: they run nowhere (principle 1), as the sites of a
test module the pytest configuration ignores do. So do those of a package module that nothing in the
project reaches (`unreached.py`, which alone would make it another path) whose own top-level import
fails the same way (a metric module left behind that imports `pkg.archs.inception`, a file the copy
never had): a user who imports it by hand meets the `ImportError` first.

A module is taken as shipped where any file or folder of the scan inside the package is named for
it, or where a build script of the scan names it as a word (`CUDAExtension("kernels.varlen", ...)`,
a CMake target, a version file a build writes) or compiles Cython sources (a scan lists no `.pyx`,
and `cythonize("kernels/*.pyx")` names no module): a build makes it. Only
absolute imports are read (`from kernels.varlen import ...`, `import kernels.varlen`), and only
below a regular package the scan holds (an `__init__.py` for every module of that name).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.filekinds import is_test_path
from cudaudit.firstparty import module_map
from cudaudit.rules.python.extra_only import TopImport
from cudaudit.rules.python.project_calls import is_module_of
from cudaudit.rules.python.read_once import read_or_empty


def unshipped_imports(
    python: Iterable[str],
    every_file: Iterable[str],
    imports: Callable[[str], tuple[TopImport, ...]],
    build_scripts: Mapping[str, Callable[[], bytes]],
    unreached: frozenset[str] = frozenset(),
) -> frozenset[str]:
    """The test modules of `python` (the scan's Python modules), and those of `unreached` (package
    modules nothing in the project reaches), with a top-level import of a module that its package
    does not ship. `every_file` are the
    scan's display paths, `imports(path)` a module's `extra_only.top_level_imports`,
    `build_scripts` the scan's build files (display path -> reader)."""
    modules = list(python)
    tests = [path for path in modules if is_test_path(path) or path in unreached]
    if not tests:
        return frozenset()
    mapping = module_map(modules)
    stems: dict[str, set[str]] = {}
    for path in every_file:
        folder, name = posixpath.split(path)
        stems.setdefault(folder, set()).add(name.partition(".")[0])
        while name:  # a folder counts as a name in the folder above it, up to the root (`/` of an absolute path)
            folder, name = posixpath.split(folder)
            stems.setdefault(folder, set()).add(name)
    built: list[bytes] | None = None
    found: set[str] = set()
    for path in tests:
        for _, level, module, _ in imports(path):
            missing = _missing_part(mapping.resolve, path, module, stems) if level == 0 else None
            if missing is None:
                continue
            if built is None:
                built = [read_or_empty(read) for read in build_scripts.values()]
            if any(_may_build(data, missing) for data in built):
                continue
            found.add(path)
            break
    return frozenset(found)


def _missing_part(
    resolve: Callable[[str, int, str], set[str]], path: str, module: str, stems: Mapping[str, set[str]]
) -> str | None:
    """The last part of `module` where the part before it is a regular package of the scan (every
    module of that name an `__init__.py`) and no file or folder of the package is named for it;
    None where the module is found, or where the reading cannot tell."""
    parent, _, last = module.rpartition(".")
    if not parent or resolve(path, 0, module):
        return None
    packages = {place for place in resolve(path, 0, parent) if is_module_of(place, parent)}
    if not packages or not all(place.endswith("__init__.py") for place in packages):
        return None
    if any(last in stems.get(posixpath.dirname(package), ()) for package in packages):
        return None
    return last


_COMPILED_SOURCES = (b".pyx", b"cythonize")
"""What a build script spells where it compiles the package's Cython sources (a scan lists no `.pyx`),
maybe by a pattern (`cythonize("pkg/*.pyx")`) that names no module."""


def _may_build(script: bytes, name: str) -> bool:
    """Whether a build script names the module as a word, or compiles Cython sources."""
    return any(mark in script for mark in _COMPILED_SOURCES) or re.search(
        rb"(?<!\w)" + re.escape(name.encode()) + rb"(?!\w)", script
    ) is not None
