"""Modules of a project that a machine without a CUDA device cannot import.

A project's build script may compile CUDA extensions (`CUDAExtension("fused_norm_cuda", ...)` in a
`setup.py`, under an opt-in flag or not; `Python_add_library(fused_norm_cuda MODULE norm.cu)` in a CMake
file, `rules/builds/cmake.py`'s `cmake_cuda_extensions`). A machine without a CUDA device runs a CPU build of
PyTorch, with which no CUDA extension is built or loads, so the module is never there. A module of
the project whose top-level imports name such an extension (`import fused_norm_cuda` at column 0,
which runs whenever the module is imported) fails to import there, and so does one that imports such
a module at its top level, to a fixed point (`extra_only.importers_closure`); so does one whose
top-level imports name a package of the catalog's `[[absent_without_gpu]]`.

The test suite probes them (`try: from pkg.contrib.fused_norm import FusedNorm` / `except
ImportError as e: SKIP = e`, then `@unittest.skipIf(SKIP, ...)`): the project index hands the test
modules these names (`ImportTable.unimportable`), whose failed imports skip there
(`failed_imports.py`, read by `skip_conditions.py`). On ROCm, where `CUDAExtension` builds through
hipify, they may import: the probes stay open there.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable

from cudaudit.facts import Evidence
from cudaudit.firstparty import ModuleMap, module_map
from cudaudit.rules.builds.build_gates import CUDA_EXTENSION
from cudaudit.rules.python.extra_only import TopImport, importers_closure, top_level_importers
from cudaudit.rules.python.failed_imports import within
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree
from cudaudit.source import parse_python


def cuda_extensions(path: str, text: str) -> tuple[str, ...]:
    """The dotted names of the modules the build script at display path `path` compiles as CUDA
    extensions: the first argument (or `name=`) of each `CUDAExtension(...)` call."""
    if "CUDAExtension" not in text:
        return ()
    tree = parse_python(text, filename=path)
    names = ImportTable(tree)
    found = set()
    for node in subtree(tree):
        if isinstance(node, ast.Call) and names.resolve(node.func) == CUDA_EXTENSION:
            named = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "name"), None)
            if isinstance(named, ast.Constant) and isinstance(named.value, str) and named.value.replace(".", "_").isidentifier():
                found.add(named.value)
    return tuple(sorted(found))


def unimportable_modules(
    paths: Iterable[str], missing: frozenset[str], imports: Callable[[str], tuple[TopImport, ...]]
) -> tuple[str, ...]:
    """The dotted names of `missing` (the CUDA extensions and the packages no machine without a GPU
    has) with those of the modules of `paths` that import one of them, or such a module, at their top
    level; `imports(path)` is a module's `extra_only.top_level_imports`."""
    ordered = sorted(paths)
    modules = module_map(ordered)
    needing: dict[str, Evidence] = {}
    for path in ordered:
        for line, level, module, imported in imports(path):
            absolute = _absolute(modules, path, level, module)
            if absolute is not None and any(within(name, missing) for name in (absolute, *(f"{absolute}.{n}" for n in imported))):
                needing[path] = Evidence(path, line, f"import {absolute}")
                break
    if not needing:
        return tuple(sorted(missing))
    closure = importers_closure(top_level_importers(modules, ordered, imports), needing)
    return tuple(sorted(missing | {name for path in closure for name in modules.import_names(path)}))


def _absolute(modules: ModuleMap, importer: str, level: int, module: str) -> str | None:
    """The absolute dotted name an import in `importer` names (`from ._C import f` in `pkg/ops.py` is
    `pkg._C`); None where a relative import climbs above the importer's top-level package."""
    if not level:
        return module
    package = modules.name(importer).split(".")
    if not importer.endswith("__init__.py"):
        package = package[:-1]
    if level - 1 >= len(package):
        return None
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, module] if module else base)
