"""Functions that run only inside a process group: the sequence- and tensor-parallel route.

A function that takes a `torch.distributed.ProcessGroup` (`def forward(ctx, q, k, v, sp_group:
dist.ProcessGroup)`), or a parameter named for one that it hands to `torch.distributed`
(`dist.get_world_size(sp_group)`, `dist.all_reduce(x, group=tp_group)`), runs only where processes
were launched together and a group was made of them: a single-process run (the normal path on a
CPU) never calls it. What such a function does on a device is another path, as code under
`if dist.is_initialized():` is.
"""

from __future__ import annotations

import ast
import re

from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree

_GROUP_PARAMETER = re.compile(r"(?:^|_)(?:group|pg)$|^process_group$")
"""`group`, `sp_group`, `tp_group`, `pg`, `process_group`: what distributed code calls a process group."""
_PROCESS_GROUP_TYPES = frozenset({"torch.distributed.ProcessGroup", "torch.distributed.distributed_c10d.ProcessGroup"})
PROCESS_GROUP_STARTS = frozenset(
    {
        "torch.distributed.init_process_group",
        "torch.distributed.distributed_c10d.init_process_group",
        "torch.distributed.device_mesh.init_device_mesh",
        "torch.distributed.init_device_mesh",
        "deepspeed.init_distributed",
        "deepspeed.comm.init_distributed",
    }
)
"""Calls that join the process group a launcher's variables describe: with no argument naming its
peers they read `RANK`, `WORLD_SIZE` and `MASTER_ADDR` from the environment (`env://`,
https://docs.pytorch.org/docs/stable/distributed.html#environment-variable-initialization;
DeepSpeed's `init_distributed`, https://deepspeed.readthedocs.io/en/latest/initialize.html#distributed-initialization).
A program that always calls one runs only under a launcher."""


def starts_a_process_group(statement: ast.stmt, names: ImportTable) -> bool:
    """Whether `statement` is a call of `PROCESS_GROUP_STARTS` (alone, or assigned)."""
    value = statement.value if isinstance(statement, (ast.Expr, ast.Assign, ast.AnnAssign)) else None
    return isinstance(value, ast.Call) and names.resolve(value.func) in PROCESS_GROUP_STARTS


def takes_process_group(function: ast.FunctionDef | ast.AsyncFunctionDef, names: ImportTable) -> bool:
    """Whether `function` must be given a process group: a parameter without a default annotated as one
    (not `Optional[ProcessGroup]`: None may stand for no group), or one named for a group that a
    `torch.distributed` call in its body is given."""
    required = _required_parameters(function.args)
    if any(p.annotation is not None and _names_process_group(p.annotation, names) for p in required):
        return True
    grouped = {p.arg for p in required if _GROUP_PARAMETER.search(p.arg)}
    return bool(grouped) and any(
        _is_distributed_call(node, names) and _passes(node, grouped) for node in subtree(function) if isinstance(node, ast.Call)
    )


def _required_parameters(arguments: ast.arguments) -> list[ast.arg]:
    """The parameters a call must pass: those without a default."""
    positional = [*arguments.posonlyargs, *arguments.args]
    without_default = positional[: len(positional) - len(arguments.defaults)]
    keyword_only = [p for p, default in zip(arguments.kwonlyargs, arguments.kw_defaults) if default is None]
    return [*without_default, *keyword_only]


def _names_process_group(annotation: ast.expr, names: ImportTable) -> bool:
    """`ProcessGroup`, `dist.ProcessGroup`, `"ProcessGroup"` as written: no union with None."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return annotation.value.rpartition(".")[2] == "ProcessGroup"
    return isinstance(annotation, (ast.Name, ast.Attribute)) and names.resolve(annotation) in _PROCESS_GROUP_TYPES


def _is_distributed_call(call: ast.Call, names: ImportTable) -> bool:
    qualified = names.resolve(call.func)
    return qualified is not None and qualified.startswith("torch.distributed.")


def _passes(call: ast.Call, grouped: set[str]) -> bool:
    """Whether one of the `grouped` parameters is an argument of `call`."""
    values = [*call.args, *(keyword.value for keyword in call.keywords)]
    return any(isinstance(value, ast.Name) and value.id in grouped for value in values)
