"""`symbol` keys named in strings: a tensor type given by name (`x.type("torch.cuda.HalfTensor")`,
`torch.set_default_tensor_type("torch.cuda.FloatTensor")`) is the same API as the type itself."""

from __future__ import annotations

import ast

from cudaudit.rules.python.literals import string_value
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.walker import Concern

DETECTOR = "symbol"
TYPE_NAME_TAKERS = frozenset({"torch.set_default_tensor_type"})
"""Callables that take a tensor type by name."""


class TensorTypeNames(Concern):
    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """A string that names a key."""
        return survey.keyed(DETECTOR, (value for value in survey.strings if value.startswith("torch.")))

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        if not call.args:
            return
        func = call.func
        if callee in TYPE_NAME_TAKERS or (isinstance(func, ast.Attribute) and func.attr == "type"):
            self._report(call.args[0])

    def _report(self, node: ast.expr) -> None:
        name = string_value(node)
        if name and name.startswith("torch."):
            self.walk.report(DETECTOR, name, node)


CONCERN = TensorTypeNames
