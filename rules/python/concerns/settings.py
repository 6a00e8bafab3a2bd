"""`device-string` and `dist-backend` keys in named settings: a value whose name says what it is.

`device = "cuda"`, `self.device: str = "cuda"`, `cfg["device"] = "cuda"`, `{"device": "cuda"}`,
`def run(device="cuda")`, `parser.add_argument("--device", default="cuda")` set a device, and
`backend = "nccl"` (`--dist-backend`) a distributed backend, even where nothing takes them yet.
An indexed device string (`"cuda:0"`, `f"cuda:{rank}"`) is a device whatever its name.
"""

from __future__ import annotations

import ast
from functools import partial

from cudaudit.rules.python.device_syntax import (
    cli_option_names,
    is_cuda_device_string,
    is_indexed_cuda_device_string,
    is_nccl_string,
    names_setting,
    parameter_defaults,
    target_name,
)
from cudaudit.rules.python.literals import string_value
from cudaudit.rules.python.walker import Concern

DEVICE_STRING = "device-string"
BACKEND = "dist-backend"


class NamedSettings(Concern):
    def on_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._report(target_name(target), node.value)

    def on_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._report(target_name(node.target), node.value)

    def on_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values):
            self._report(string_value(key) if key is not None else None, value)

    def on_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        for name, position, default in parameter_defaults(node.args):
            region = self.walk.default_region(node, name, position, default)
            self.walk.within(region, partial(self._report, name, default))

    on_AsyncFunctionDef = on_Lambda = on_FunctionDef

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        """`parser.add_argument("--device", default="cuda")`."""
        if isinstance(call.func, ast.Attribute) and call.func.attr == "add_argument":
            options = " ".join(cli_option_names(call))
            for keyword in call.keywords:
                if keyword.arg == "default":
                    self._report(options, keyword.value)

    def _report(self, name: str | None, value: ast.expr) -> None:
        if name and names_setting(name, "device"):
            self.walk.report_values(value, DEVICE_STRING, is_cuda_device_string)
        elif name and names_setting(name, "backend"):
            self.walk.report_values(value, BACKEND, is_nccl_string)
        else:
            self.walk.report_values(value, DEVICE_STRING, is_indexed_cuda_device_string)


CONCERN = NamedSettings
