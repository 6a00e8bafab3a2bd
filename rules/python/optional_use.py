"""Names a module binds only where an optional library is installed, and the functions that need them.

A library may wrap another that its users install only for one mode (`if is_megatron_lm_available():
from megatron.core import mpu`, with `mpu = None` or nothing in its `else`). A function
whose body reads such a name in a statement it always runs (`args = get_args()` as one of its own
statements, not under a branch) cannot run where the library is missing: the mode it serves is
another path than the library's default one, so what it does is at most a warning, as code under
`if is_megatron_lm_available():` is. A read under a branch (`if XLA_AVAILABLE: xm.mark_step()`)
says nothing about the rest of the function and opens nothing here.
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.guards import Polarity, Probe, polarity, probes_in
from cudaudit.rules.python.names import ImportTable, is_nothing
from cudaudit.rules.python.nodes import subtree


def optional_names(module: ast.Module, names: ImportTable) -> dict[str, bool]:
    """The module-level names bound only in the branch an optional library's test (or another
    accelerator's) takes where it is there, each with whether that test is another accelerator's
    (`if is_torch_xla_available(): import torch_xla.core.xla_model as xm`): what needs it runs on no
    target at all. A name also bound anywhere else at module level, to anything but None or False,
    is not one. A `try` whose handler catches a failed import is no such test: it also wraps
    libraries the program needs (`except ImportError: raise ...`)."""
    optional: dict[str, bool] = {}
    elsewhere: set[str] = set()
    # An explicit stack, not a recursive closure: a closure that refers to itself is a reference
    # cycle, which would keep the table (and through it the module's tree) for the cycle collector.
    pending: list[tuple[list[ast.stmt], bool | None]] = [(module.body, None)]
    while pending:
        body, inside = pending.pop()
        for statement in body:
            if isinstance(statement, ast.If):
                probes = probes_in(statement.test, names)
                other = polarity(statement.test, names, Probe.OTHER_DEVICE) if Probe.OTHER_DEVICE in probes else None
                side = other or (polarity(statement.test, names, Probe.OPTIONAL) if Probe.OPTIONAL in probes else None)
                for branch, polar in ((statement.body, Polarity.POSITIVE), (statement.orelse, Polarity.NEGATIVE)):
                    pending.append((branch, inside if side is not polar else bool(inside) or other is polar))
            elif isinstance(statement, ast.Try):
                for block in (statement.body, *(h.body for h in statement.handlers), statement.orelse, statement.finalbody):
                    pending.append((block, inside))
            elif not _binds_nothing(statement):
                for name in _bound(statement):
                    if inside is None:
                        elsewhere.add(name)
                    else:
                        optional[name] = optional.get(name, True) and inside
    return {name: other for name, other in optional.items() if name not in elsewhere}


def needs_optional(function: ast.FunctionDef | ast.AsyncFunctionDef, optional: dict[str, bool]) -> bool | None:
    """Whether a function reads one of `optional` (`optional_names`) in one of its own statements,
    not under a branch: None where it reads none, else whether each it reads is another
    accelerator's. Of a compound statement only what always runs counts (an `if`'s test, a loop's
    iterable), not its body."""
    found: bool | None = None
    for statement in function.body:
        for part in _always_run(statement):
            for node in subtree(part):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in optional:
                    found = bool(found) or optional[node.id]
    return found


def _always_run(statement: ast.stmt) -> list[ast.AST]:
    """The parts of a statement that run whenever it does."""
    if isinstance(statement, (ast.If, ast.While)):
        return [statement.test]
    if isinstance(statement, (ast.For, ast.AsyncFor)):
        return [statement.iter]
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return [item.context_expr for item in statement.items]
    if isinstance(statement, (ast.Try, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return []
    return [statement]


def _binds_nothing(statement: ast.stmt) -> bool:
    """`x = None`, `HAS_X = False`: a placeholder for what the library would have given."""
    return isinstance(statement, ast.Assign) and is_nothing(statement.value)


def _bound(statement: ast.stmt) -> list[str]:
    """The names a module-level statement binds."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [(alias.asname or alias.name).partition(".")[0] for alias in statement.names if alias.name != "*"]
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return [node.id for target in targets for node in subtree(target) if isinstance(node, ast.Name)]
    if isinstance(statement, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.While)):
        return [node.id for node in subtree(statement) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)]
    return []
