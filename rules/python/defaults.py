"""Whether a parameter's default runs on the normal path: what the module's own calls pass.

`def train_one_epoch(model, loader, device=torch.device("cuda"))`, called in its module only as
`train_one_epoch(model, loader, device=device)`, runs on the caller's device: the default is taken
only by a caller that leaves the argument out, another path than the normal one (a warning at
most). A call in the module that leaves it out, a function handed on as a value (`fire.Fire(main)`,
a callback) or decorated (`@app.command()`, whose framework fills parameters from their defaults)
takes the default on the normal path.
"""

from __future__ import annotations

import ast

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_SELF = frozenset({"self", "cls"})


class ModuleCalls:
    """The calls of one module by the name they call, and the names it hands on as values."""

    def __init__(self, module: ast.Module) -> None:
        self._calls: dict[str, list[ast.Call]] = {}
        self._classes: dict[int, str] = {}
        """`__init__` methods by the class they build: `Runner(...)` calls `Runner.__init__`."""
        callees: set[int] = set()
        loaded: list[ast.Name | ast.Attribute] = []
        for node in ast.walk(module):  # one walk: a module is read only when a default asks
            if isinstance(node, ast.Call):
                name = _called_name(node.func)
                if name is not None:
                    self._calls.setdefault(name, []).append(node)
                    callees.add(id(node.func))
            elif isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
                loaded.append(node)
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "__init__":
                        self._classes[id(item)] = node.name
        self._handed_on = {
            node.id if isinstance(node, ast.Name) else node.attr for node in loaded if id(node) not in callees
        }

    def default_is_normal_path(self, function: FunctionNode, parameter: str, position: int | None) -> bool:
        """Whether a call of `function` may take the default of `parameter` (at `position` among
        the positional parameters, None for a keyword-only one) on the normal path."""
        if function.decorator_list or function.name in self._handed_on:
            return True
        positional = [*function.args.posonlyargs, *function.args.args]
        method = bool(positional) and positional[0].arg in _SELF
        cls = self._classes.get(id(function))
        if cls is not None:
            # `Runner(...)` passes no `self`: the class's calls give the arguments after it
            after_self = None if position is None else position - 1
            built = any(not _passes(call, parameter, after_self, False) for call in self._calls.get(cls, ()))
            return built or cls in self._handed_on
        return any(not _passes(call, parameter, position, method) for call in self._calls.get(function.name, ()))


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _passes(call: ast.Call, parameter: str, position: int | None, method: bool) -> bool:
    """Whether `call` gives `parameter` a value: by name, by `**kwargs`, by position or `*args`."""
    if any(keyword.arg in (parameter, None) for keyword in call.keywords):
        return True
    if position is None:
        return False
    if method and isinstance(call.func, ast.Attribute):
        position -= 1  # `self.step(...)` passes `self` itself
    return any(isinstance(arg, ast.Starred) for arg in call.args) or len(call.args) > position
