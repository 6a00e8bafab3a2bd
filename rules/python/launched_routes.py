"""Routes that always join a process group, where a rank's device index is on the normal path.

A variable named for a rank (`model.to(local_rank)`) is read as the distributed arm of a script that
also runs as one process: a warning on the CPU. A script or function that joins a process group
before it goes on, on every branch (`dist.init_process_group("nccl")`, or `local_rank =
init_dist(launcher)` where the module's own `init_dist` starts one on each branch it returns from),
has no such single-process arm: it runs only under a launcher (`torchrun --nproc_per_node=1
train.py` is how it runs on one GPU), so what follows the join is its normal path.

A route that sets the current CUDA device by index on every branch (`torch.cuda.set_device(
local_rank)` at the top of a worker's method) has chosen its device by that index on every run: a
later use of the same kind of index (`torch.device(local_rank)`) is on the route the setting is on,
and keeps that reading rather than the distributed arm's. It counts as a join here.

A return before the join (`if world_size == 1: return`) leaves a single-process route, and the
code after it keeps the distributed reading; so do joins inside loops, `try` handlers and branches
that do not all join. A branch that raises goes on nowhere, and does not count against the join.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from cudaudit.rules.python.guards import may_return, never_falls_through
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.process_groups import starts_a_process_group

Function = ast.FunctionDef | ast.AsyncFunctionDef

_DEVICE_SETTERS = frozenset({"torch.cuda.set_device"})

_FOLLOWED_CALLS = 2
"""How many of the module's own functions a join may be called through (`main` → `setup` → `init`)."""


class LaunchedRoutes:
    """The line ranges of a module's scopes that run only after their route joined a process group."""

    def __init__(self, tree: ast.Module, names: ImportTable) -> None:
        self._names = names
        self._functions: Mapping[str, Function] = {
            node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        self._ranges: dict[int, list[tuple[int, int]]] = {}
        self._starts: dict[str, bool] = {}

    def launched(self, scope: ast.Module | Function, line: int) -> bool:
        """Whether `line` of `scope` (a function's body, or the module's top level) runs only after
        the route to it joined a process group."""
        ranges = self._ranges.get(id(scope))
        if ranges is None:
            ranges = self._ranges[id(scope)] = self._launched_ranges(scope.body)
        return any(first <= line <= last for first, last in ranges)

    def _launched_ranges(self, body: list[ast.stmt]) -> list[tuple[int, int]]:
        """The lines of `body` after a statement that joins on every branch, and those of the blocks
        of statements before it that join inside themselves (`if __name__ == "__main__":`)."""
        found: list[tuple[int, int]] = []
        for index, statement in enumerate(body):
            if self._joins(statement, _FOLLOWED_CALLS):
                found.extend((later.lineno, later.end_lineno or later.lineno) for later in body[index + 1 :])
                return found
            for block in _inner_blocks(statement):
                found.extend(self._launched_ranges(block))
            if may_return(statement):
                return found
        return found

    def _joins(self, statement: ast.stmt, depth: int) -> bool:
        """Whether every route through `statement` that goes on joins a process group."""
        if starts_a_process_group(statement, self._names) or self._sets_device(statement):
            return True
        if isinstance(statement, ast.If):
            return self._branch_joins(statement.body, depth) and self._branch_joins(statement.orelse, depth)
        value = statement.value if isinstance(statement, (ast.Expr, ast.Assign, ast.AnnAssign)) else None
        if depth > 0 and isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            return self._function_joins(value.func.id, depth - 1)
        return False

    def _sets_device(self, statement: ast.stmt) -> bool:
        """`torch.cuda.set_device(index)` as a statement of its own."""
        value = statement.value if isinstance(statement, ast.Expr) else None
        return isinstance(value, ast.Call) and self._names.resolve(value.func) in _DEVICE_SETTERS

    def _branch_joins(self, block: list[ast.stmt], depth: int) -> bool:
        """A branch that joins before it goes on, or one that never goes on (`raise NotImplementedError`)."""
        for statement in block:
            if self._joins(statement, depth):
                return True
            if may_return(statement):
                return False
            if never_falls_through(statement, self._names):
                return True
        return False

    def _function_joins(self, name: str, depth: int) -> bool:
        """Whether the module's own function `name` joins a process group on every route that returns."""
        if name not in self._starts:
            function = self._functions.get(name)
            self._starts[name] = False  # a recursive call joins nothing by itself
            self._starts[name] = function is not None and self._branch_joins(function.body, depth)
        return self._starts[name]


def _inner_blocks(statement: ast.stmt) -> list[list[ast.stmt]]:
    """The blocks a statement runs in order on its own route: an `if`'s branches, a `with`'s body,
    a `try`'s body (not its handlers, which run where the body failed, nor loops, which may not run)."""
    if isinstance(statement, ast.If):
        return [statement.body, statement.orelse]
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return [statement.body]
    if isinstance(statement, ast.Try):
        return [statement.body]
    return []
