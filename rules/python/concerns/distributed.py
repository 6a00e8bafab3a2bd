"""`dist-backend` and `ddp-device-ids` keys: how a distributed job is set up.

`"nccl"` given as the backend of `init_process_group`/`new_group` (positionally or as
`backend=`) exists only on CUDA and ROCm builds. `DistributedDataParallel(model,
device_ids=[rank], output_device=rank)` names CUDA devices: one hit per wrapper call, at the
first device argument that is not None (its fix rewrites both); DDP raises `ValueError` for a
CPU module given device ids (`device_ids` must be None there, or an empty list, which DDP takes as
None). A name the function was given
(`def wrap(model, device_ids=None): DDP(model, device_ids=device_ids)`) passes its caller's
choice on: no hit there. A name the function (or module) assigns once is judged by what it was
assigned (`ids = None if device.type == "cpu" else [device.index]` was chosen for the device).
Backends named in settings (`backend = "nccl"`) are the `settings` concern's. A backend kept in a
dict (`env = dict(dist_cfg=dict(backend="nccl"))`, `{"backend": "nccl"}`) is data a launcher reads
when it starts several processes: at most a warning (`regions.LAUNCH_SETTING`).
"""

from __future__ import annotations

import ast
from functools import partial

from cudaudit.rules.python.device_syntax import BACKEND_KEYWORDS, BACKEND_POSITIONAL, NCCL, is_nccl_string
from cudaudit.rules.python.guards import is_none
from cudaudit.rules.python.nodes import children
from cudaudit.rules.python.regions import LAUNCH_SETTING
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.walker import Concern

BACKEND = "dist-backend"
DDP_DEVICE_IDS = "ddp-device-ids"
DDP_CLASSES = frozenset(
    {
        "torch.nn.parallel.DistributedDataParallel",
        "torch.nn.parallel.distributed.DistributedDataParallel",
    }
)


class DistributedSetup(Concern):
    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """The NCCL backend's string, or a DistributedDataParallel built."""
        return survey.has_string(lambda value: value.lower() == NCCL) or any(callee in DDP_CLASSES for _, callee in survey.calls)

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        walk = self.walk
        if not walk.in_comparison:
            data = isinstance(call.func, ast.Name) and call.func.id == "dict" and walk.names.binding("dict") is None
            for keyword in call.keywords:
                if keyword.arg in BACKEND_KEYWORDS:
                    report = partial(walk.report_values, keyword.value, BACKEND, is_nccl_string)
                    if data:
                        walk.within(LAUNCH_SETTING, report)
                    else:
                        report()
        if callee in BACKEND_POSITIONAL and call.args:
            walk.report_values(call.args[0], BACKEND, is_nccl_string)
        elif callee in DDP_CLASSES:
            self._ddp(call)

    def _ddp(self, call: ast.Call) -> None:
        values = [k.value for k in call.keywords if k.arg in ("device_ids", "output_device")]
        values += call.args[1:2]
        for value in values:
            held = self._bound(value.id) if isinstance(value, ast.Name) else value
            if held is not None and not _names_no_device(held):
                self.walk.report_values(held, DDP_DEVICE_IDS, lambda v: not _names_no_device(v), call=call)
                return

    def _bound(self, name: str) -> ast.expr | None:
        """What `name` holds where the call is: None for a parameter of the enclosing function (the
        caller's choice) or a name assigned other than once there; else the value it was assigned."""
        function = self.walk.functions[-1] if self.walk.functions else None
        if function is None:
            return self.walk.names.module_value(name)
        arguments = function.args
        parameters = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
        if any(parameter is not None and parameter.arg == name for parameter in parameters):
            return None
        assigned = [
            node.value
            for node in _own_statements(function.body)
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        ]
        return assigned[0] if len(assigned) == 1 else None


def _names_no_device(value: ast.expr) -> bool:
    """`None`, `[]` or `()`: the device ids DDP takes for a CPU module."""
    return is_none(value) or (isinstance(value, (ast.List, ast.Tuple)) and not value.elts)


def _own_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of a function's body at any depth, not those of the functions and classes it defines."""
    found: list[ast.stmt] = []
    stack = list(body)
    while stack:
        statement = stack.pop()
        found.append(statement)
        if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stack.extend(child for child in children(statement) if isinstance(child, ast.stmt))
    return found


CONCERN = DistributedSetup
