"""Names a function binds, so a fix can use the `device` the code around a site already holds.

`x.cuda()` next to `y.to(device)` should become `x.to(device)`, not a second way of naming the
same device. Only a name bound before the site in its own function (a parameter or an
assignment), or at module level when the function does not bind it, counts; a `device` that is
plainly the CPU (`"cpu"`, `torch.device("cpu")`) is not the device `.cuda()` meant.
"""

from __future__ import annotations

import ast
from bisect import bisect_right
from dataclasses import dataclass

from cudaudit.rules.python.nodes import children, subtree

DEVICE_NAMES = ("device",)


@dataclass(frozen=True)
class _Scope:
    start: int
    end: int
    bound: dict[str, int]
    """Name -> the line of its first binding (a parameter: the line of the `def`)."""


class LocalNames:
    """For one module: which device names are bound at each line."""

    def __init__(self, tree: ast.Module) -> None:
        self._module = _bindings(tree.body, {})
        scopes = []
        for node in subtree(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                parameters = {a.arg: node.lineno for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}
                scopes.append(_Scope(node.lineno, node.end_lineno or node.lineno, _bindings(node.body, parameters)))
        self._scopes = sorted(scopes, key=lambda s: s.start)
        self._starts = [s.start for s in self._scopes]

    def device_at(self, line: int) -> str | None:
        """The device name in scope at `line`, or None."""
        scope = self._innermost(line)
        for name in DEVICE_NAMES:
            if scope is not None and name in scope.bound:
                return name if scope.bound[name] < line else None
            if name in self._module and (scope is not None or self._module[name] < line):
                return name
        return None

    def _innermost(self, line: int) -> _Scope | None:
        index = bisect_right(self._starts, line)
        containing = [s for s in self._scopes[:index] if s.start <= line <= s.end]
        return max(containing, key=lambda s: s.start, default=None)


def _bindings(body: list[ast.stmt], bound: dict[str, int]) -> dict[str, int]:
    """First binding line of each device name in `body`, not looking into nested scopes."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in DEVICE_NAMES and not _is_cpu(node.value):
                    bound.setdefault(target.id, node.lineno)
        stack.extend(reversed(children(node)))
    return bound


def _is_cpu(value: ast.expr) -> bool:
    if isinstance(value, ast.Call) and len(value.args) == 1:
        value = value.args[0]  # torch.device("cpu")
    return isinstance(value, ast.Constant) and value.value == "cpu"
