"""Names a module sets where an import failed: a test module's record of a missing module.

    SKIP_TEST = None
    try:
        from pkg.contrib.fused_norm import FusedNorm
    except ImportError as e:
        SKIP_TEST = e

    @unittest.skipIf(SKIP_TEST, f"{SKIP_TEST}")
    class TestFusedNorm(unittest.TestCase): ...

`SKIP_TEST` is true exactly where the import failed. Where the module imported is one no machine
without a CUDA device has (`ImportTable.absent_packages`: the catalog's `[[absent_without_gpu]]`
packages; `ImportTable.unimportable`: in a test module, the project's CUDA extensions and the modules
that import them at their top level, through the project index, `unimportable.py`), it is true on
every such machine, and what it skips never runs there (`skip_conditions.py`): skipped, the suite
breaks nothing. An import of a project module outside any `try`, which fails the module's collection,
keeps its sites' verdicts, for nothing else would report that failure. What the module sets the name to before
that `try` does not matter there; setting it again after the `try` (but in another such handler) does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from cudaudit.rules.python.guards import catches_import_error
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree


def failed_import_flags(names: ImportTable) -> frozenset[str]:
    """The module's names that hold only where an import of a module no machine without a CUDA device
    has failed: set in the handler of a top-level `try` whose body imports one (to the exception it
    caught, True or a message), and not set again after that `try` but in such a handler."""
    if names.failed_import_flags is None:
        missing = names.absent_packages | names.unimportable
        names.failed_import_flags = _failed_import_flags(names, missing) if missing else frozenset()
    return names.failed_import_flags


def _failed_import_flags(names: ImportTable, missing: frozenset[str]) -> frozenset[str]:
    failed: set[str] = set()
    for statement in getattr(names.tree, "body", []):
        if not (isinstance(statement, ast.Try) and any(map(catches_import_error, statement.handlers))):
            failed -= {name for name, _ in _stores([statement])}
            continue
        # Where the import fails, what the body set before it is overwritten by the handler, and the
        # `else` never runs; the `finally` runs last.
        set_in_handlers = [(name, _failure(value, handler)) for handler in statement.handlers for name, value in _stores(handler.body)]
        failed -= {name for name, failure in set_in_handlers if not failure}
        if any(imports_missing(inner, missing) for inner in statement.body):
            failed |= {name for name, failure in set_in_handlers if failure}
        failed -= {name for name, _ in _stores(statement.finalbody)}
    return frozenset(failed)


def imports_missing(statement: ast.stmt, missing: frozenset[str]) -> bool:
    """Whether `statement` is an absolute import of one of `missing` or of a module below one
    (`from pkg.contrib import fused_norm` for `pkg.contrib.fused_norm`)."""
    if isinstance(statement, ast.Import):
        return any(within(alias.name, missing) for alias in statement.names)
    if isinstance(statement, ast.ImportFrom) and statement.level == 0 and statement.module:
        module = statement.module
        return within(module, missing) or any(within(f"{module}.{alias.name}", missing) for alias in statement.names)
    return False


def within(module: str, names: frozenset[str]) -> bool:
    """Whether `module` is one of `names` or a module below one (`pkg.ops.fused` below `pkg.ops`)."""
    parts = module.split(".")
    return any(".".join(parts[:end]) in names for end in range(1, len(parts) + 1))


def _stores(statements: list[ast.stmt]) -> Iterator[tuple[str, ast.expr | None]]:
    """(name, the value assigned, None where it is not one value) for each name `statements` bind."""
    for statement in statements:
        if isinstance(statement, ast.Assign) and all(isinstance(target, ast.Name) for target in statement.targets):
            yield from ((target.id, statement.value) for target in statement.targets)  # type: ignore[attr-defined]
            continue
        for node in subtree(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                yield node.id, None
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield node.name, None


def _failure(value: ast.expr | None, handler: ast.ExceptHandler) -> bool:
    """The exception a handler caught (`as e`), True, or a message: what says the import failed."""
    if isinstance(value, ast.Name):
        return value.id == handler.name
    if isinstance(value, ast.Constant):
        return value.value is True or (isinstance(value.value, str) and bool(value.value))
    return isinstance(value, ast.JoinedStr)
