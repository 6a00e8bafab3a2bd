"""`device-string` and `dist-backend` keys in named settings: a value whose name says what it is.

`device = "cuda"`, `self.device: str = "cuda"`, `cfg["device"] = "cuda"`, `{"device": "cuda"}`,
`def run(device="cuda")`, `parser.add_argument("--device", default="cuda")` set a device, and
`backend = "nccl"` (`--dist-backend`) a distributed backend, even where nothing takes them yet.
An indexed device string (`"cuda:0"`, `f"cuda:{rank}"`) is a device whatever its name.

A default the command line overrides is a warning at most (`COMMAND_LINE_DEFAULT`): a command-line
option's (`add_argument`, `click.option`), and a script's module-level setting followed by an
`exec(...)` of its configuration in the module's own namespace (nanoGPT's `configurator.py`, which
rebinds `device` from `--device=cpu`).
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
from cudaudit.rules.python.regions import COMMAND_LINE_DEFAULT, FALLBACK_VALUE, ONLY_COMPARED
from cudaudit.rules.python.walker import Concern

DEVICE_STRING = "device-string"
BACKEND = "dist-backend"


_OPTION_CALLS = frozenset({"add_argument", "option"})
"""`parser.add_argument("--device", default=...)`, `@click.option("--device", default=...)`."""


class NamedSettings(Concern):
    _configured: frozenset[int] = frozenset()
    """Module-level assignments that a later `exec(...)` of the module's configuration may rebind."""

    def on_Module(self, node: ast.Module) -> None:
        last = max((i for i, statement in enumerate(node.body) if self._execs_configuration(statement)), default=0)
        self._configured = frozenset(
            id(statement) for statement in node.body[:last] if isinstance(statement, (ast.Assign, ast.AnnAssign))
        )

    def _execs_configuration(self, statement: ast.stmt) -> bool:
        """`exec(open("configurator.py").read())` at module level: code run in the module's own
        namespace, able to rebind its settings (an `exec` given a namespace of its own is not)."""
        call = statement.value if isinstance(statement, ast.Expr) else None
        return (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "exec"
            and self.walk.names.binding("exec") is None
            and len(call.args) == 1
            and not call.keywords
        )

    def on_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name) and self._only_compared(target.id, node.value):
                self.walk.within(ONLY_COMPARED, partial(self._report, target.id, node.value))
                continue
            self._setting(node, target_name(target), node.value)

    def _only_compared(self, name: str, value: ast.expr) -> bool:
        """Whether a local name given a CUDA device string is read only as an operand of
        comparisons in its function (`expected = "cuda"`, then `sum(d.type == expected for d in
        devices)`): the string never chooses a device, it only matches one."""
        if not (self.walk.functions and isinstance(value, ast.Constant) and is_cuda_device_string(value)):
            return False
        function = self.walk.functions[-1]
        reads = compared = 0
        for node in ast.walk(function):
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
                reads += 1
            elif isinstance(node, ast.Compare):
                for operand in (node.left, *node.comparators):
                    items = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
                    compared += sum(isinstance(item, ast.Name) and item.id == name for item in items)
        return reads > 0 and reads == compared

    def on_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._setting(node, target_name(node.target), node.value)

    def _setting(self, node: ast.Assign | ast.AnnAssign, name: str | None, value: ast.expr) -> None:
        if id(node) in self._configured:
            self.walk.within(COMMAND_LINE_DEFAULT, partial(self._report, name, value))
        else:
            self._report(name, value)

    def on_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values):
            self._report(string_value(key) if key is not None else None, value)

    def on_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        for name, position, default in parameter_defaults(node.args):
            region = self.walk.default_region(node, name, position, default)
            self.walk.within(region, partial(self._report, name, default))

    on_AsyncFunctionDef = on_Lambda = on_FunctionDef

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        """`parser.add_argument("--device", default="cuda")`: the user picks another on the command
        line; `getattr(args, "device", "cuda")`, `os.environ.get("DEVICE", "cuda")`,
        `config.get("device", "cuda")`: the fallback of a lookup, where the setting is absent."""
        looked_up = _fallback_lookup(call, callee, self.walk.names.binding("getattr") is None)
        if looked_up is not None:
            name, fallback = looked_up
            if names_setting(name, "device") or names_setting(name, "backend"):
                self.walk.within(FALLBACK_VALUE, partial(self._report, name, fallback))
        if isinstance(call.func, ast.Attribute) and call.func.attr in _OPTION_CALLS:
            names = cli_option_names(call)
            optional = any(name.startswith("-") for name in names)  # `--device`, not a positional argument
            for keyword in call.keywords:
                if keyword.arg == "default" and optional:
                    self.walk.within(COMMAND_LINE_DEFAULT, partial(self._report, " ".join(names), keyword.value))
                elif keyword.arg == "default":
                    self._report(" ".join(names), keyword.value)

    def _report(self, name: str | None, value: ast.expr) -> None:
        if name and names_setting(name, "device"):
            self.walk.report_values(value, DEVICE_STRING, is_cuda_device_string)
        elif name and names_setting(name, "backend"):
            self.walk.report_values(value, BACKEND, is_nccl_string)
        else:
            self.walk.report_values(value, DEVICE_STRING, is_indexed_cuda_device_string)


def _fallback_lookup(call: ast.Call, callee: str | None, builtin_getattr: bool) -> tuple[str, ast.expr] | None:
    """(the setting's name, the fallback) of `getattr(obj, "name", fallback)`, `x.get("name",
    fallback)` (a dict, `os.environ`) or `os.getenv("NAME", fallback)`; None for any other call."""
    args = call.args
    if isinstance(call.func, ast.Name) and call.func.id == "getattr" and builtin_getattr and len(args) == 3:
        name, fallback = args[1], args[2]
    elif (callee == "os.getenv" or (isinstance(call.func, ast.Attribute) and call.func.attr == "get")) and len(args) == 2:
        name, fallback = args
    else:
        return None
    text = string_value(name)
    return (text, fallback) if text else None


CONCERN = NamedSettings
