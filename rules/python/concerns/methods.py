"""`method` keys: a method called on a value (`x.cuda()`, `loader_tensor.pin_memory()`).

A key ending in `()` matches only calls without positional arguments: `x.pin_memory()` is the
tensor method, `pin_memory(x)`-shaped calls with arguments are someone else's. A module's own
function of the same name (`tvm.cuda(0)`) is not a method on a value and is not met here.
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.walker import Concern

DETECTOR = "method"


class MethodCalls(Concern):
    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """A call of a method whose name is a key."""
        keys = survey.catalog.keys(DETECTOR)
        return any(isinstance(c.func, ast.Attribute) and method_key(c.func.attr, c, keys) for c in survey.of(ast.Call))

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        func = call.func
        if not isinstance(func, ast.Attribute):
            return
        key = method_key(func.attr, call, self.walk.keys(DETECTOR))
        if key and not self.walk.names.is_module_chain(func.value):
            self.walk.report(DETECTOR, key, call)


def method_key(name: str, call: ast.Call, keys: frozenset[str]) -> str | None:
    """The catalog key of a call of method `name`: `pin_memory()` matches only calls without
    positional arguments, `cuda` matches any call of `.cuda`."""
    if not call.args and f"{name}()" in keys:
        return f"{name}()"
    return name if name in keys else None


CONCERN = MethodCalls
