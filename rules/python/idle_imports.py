"""Imports of a library that loads nothing until called, whose every use sits in code that never runs.

Some NVIDIA-only libraries import on any host and fail only at their first call (the catalog's
`[[fails_at_use]]`: `import pynvml` succeeds on an AMD GPU or a CPU-only host, `nvmlInit()` raises).
A module that imports one at its top level and reads the names it binds only inside top-level
functions that nothing calls (a memory probe whose one call was commented out: `unused.py`) runs the
import alone, which works wherever the package is installed: nothing breaks on any target, so the
import is quiet (a note), like the calls in those functions. A read anywhere else (the module's top
level, a function something calls, a class) keeps the import's verdict.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable, Mapping

from cudaudit.rules.catalog import Catalog

ImportNode = ast.Import | ast.ImportFrom


def use_failing_modules(catalog: Catalog) -> frozenset[str]:
    """The top-level modules the catalog's `[[fails_at_use]]` tables name."""
    return frozenset(table["module"] for _, tables in catalog.tables("fails_at_use") for table in tables)


def idle_bindings(module: ast.Module, statements: Iterable[ast.stmt], failing: Collection[str]) -> dict[int, frozenset[str]]:
    """For each of `statements` that is a top-level import of only `failing` modules, by id, the
    names it binds (`import pynvml as nv` binds `nv`)."""
    top = {id(statement) for statement in module.body}
    found: dict[int, frozenset[str]] = {}
    for statement in statements:
        if id(statement) not in top or not isinstance(statement, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(statement, ast.Import):
            modules = [alias.name for alias in statement.names]
            bound = [alias.asname or alias.name.partition(".")[0] for alias in statement.names]
        else:
            if statement.level or not statement.module or any(alias.name == "*" for alias in statement.names):
                continue  # a star import binds names this reading cannot list
            modules = [statement.module]
            bound = [alias.asname or alias.name for alias in statement.names]
        if all(name.partition(".")[0] in failing for name in modules):
            found[id(statement)] = frozenset(bound)
    return found


def readers(module: ast.Module, names: Collection[str]) -> dict[str, set[int]]:
    """For each of `names`, the ids of the top-level statements that read it (a load of the name or an
    attribute of it, or a `global` of it): the reads an import's verdict depends on."""
    found: dict[str, set[int]] = {name: set() for name in names}
    if not names:
        return found
    for statement in module.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and node.id in found and not isinstance(node.ctx, ast.Store):
                found[node.id].add(id(statement))
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                for name in node.names:
                    if name in found:
                        found[name].add(id(statement))
    return found


def idle_imports(bindings: Mapping[int, frozenset[str]], read_by: Mapping[str, set[int]], dead: Collection[int]) -> frozenset[int]:
    """The ids of the imports of `bindings` every reader of whose names is a function of `dead`."""
    return frozenset(
        statement for statement, names in bindings.items()
        if all(reader in dead for name in names for reader in read_by.get(name, ()))
    )
