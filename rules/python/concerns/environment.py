"""`env-var` keys: environment variables a module reads or sets for itself or a child process.

`os.environ["CUDA_HOME"]`, `os.getenv("CUDA_VISIBLE_DEVICES")`, `"NCCL_DEBUG" in os.environ`,
`os.environ.update({...})`, `subprocess.run(..., env={"CUDA_VISIBLE_DEVICES": ids})`,
`monkeypatch.setenv(...)` in tests, and a string key of any dict or subscript that is one of
the catalog's variables (`env["CUDA_VISIBLE_DEVICES"] = ids` for a child process).
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.literals import string_value
from cudaudit.rules.python.walker import Concern

DETECTOR = "env-var"
ENVIRON = "os.environ"
ENV_CALLS = frozenset(
    {
        "os.getenv",
        "os.putenv",
        "os.unsetenv",
        "os.environ.get",
        "os.environ.setdefault",
        "os.environ.pop",
    }
)
"""Callables whose first argument is a variable's name."""
ENV_METHODS = frozenset({"setenv", "delenv"})
"""`monkeypatch.setenv("CUDA_VISIBLE_DEVICES", ...)` in tests."""


class EnvironmentVariables(Concern):
    def on_call(self, call: ast.Call, callee: str | None) -> None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ENV_METHODS and call.args:
            self._report(call.args[0])
        if not self.walk.in_comparison:
            for keyword in call.keywords:
                if keyword.arg == "env" and isinstance(keyword.value, ast.Dict):
                    self._report_keys(keyword.value)
        if callee is None or not call.args:
            return
        if callee in ENV_CALLS:
            self._report(call.args[0])
        elif callee == ENVIRON + ".update" and isinstance(call.args[0], ast.Dict):
            self._report_keys(call.args[0])

    def on_Subscript(self, node: ast.Subscript) -> None:
        if self.walk.names.resolve(node.value) == ENVIRON or string_value(node.slice) in self.walk.keys(DETECTOR):
            self._report(node.slice)

    def on_Compare(self, node: ast.Compare) -> None:
        if (
            len(node.ops) == 1
            and isinstance(node.ops[0], (ast.In, ast.NotIn))
            and self.walk.names.resolve(node.comparators[0]) == ENVIRON
        ):
            self._report(node.left)

    def on_Dict(self, node: ast.Dict) -> None:
        names = self.walk.keys(DETECTOR)
        for key in node.keys:
            if key is not None and string_value(key) in names:
                self._report(key)

    def _report(self, node: ast.expr) -> None:
        name = string_value(node)
        if name:
            self.walk.report(DETECTOR, name, node)

    def _report_keys(self, node: ast.Dict) -> None:
        for key in node.keys:
            if key is not None:
                self._report(key)


CONCERN = EnvironmentVariables
