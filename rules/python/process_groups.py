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
from bisect import bisect_left

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
    (not `Optional[ProcessGroup]`: None may stand for no group), or one named for a group, or a local
    so named that it takes from a parameter (`_taken_from`), that its body hands to a use of a group
    (`_uses_group`). Asked of every function the walk meets, nested ones again inside each enclosing
    one: the body is walked only where a parameter or an assignment in it is named for a group."""
    required = _required_parameters(function.args)
    if any(p.annotation is not None and _names_process_group(p.annotation, names) for p in required):
        return True
    parameters = {p.arg for p in required} - _RECEIVERS
    if not parameters or not (any(_GROUP_PARAMETER.search(p) for p in parameters) or _assigns_group(function, names)):
        return False
    nodes = list(subtree(function))
    calls = [(node, qualified) for node in nodes if isinstance(node, ast.Call) and (qualified := _group_taker(node, names))]
    if not calls:
        return False
    grouped = {name for name in _taken_from(nodes, parameters) if _GROUP_PARAMETER.search(name)}
    return bool(grouped) and any(_uses_group(call, qualified, grouped) for call, qualified in calls)


_RECEIVERS = frozenset({"self", "cls"})
"""A method's object: a group it keeps (`self.group`) may be one it made itself, or None."""
_GROUP_KEYWORDS = frozenset({"group", "process_group"})
_SYNC_BATCHNORM_CONVERSIONS = frozenset(
    f"{module}.SyncBatchNorm.convert_sync_batchnorm" for module in ("torch.nn", "torch.nn.modules", "torch.nn.modules.batchnorm")
)
"""The conversion by each name PyTorch exports the class under (the catalog's aliases of `torch.nn.SyncBatchNorm`)."""
_COMMUNICATION = ("torch.distributed.", "deepspeed.comm.")
"""`torch.distributed`, any of whose arguments may be a group, and DeepSpeed's mirror of it (`from
deepspeed import comm as dist`), whose calls take one by keyword."""
_KEYWORD_TAKERS = _SYNC_BATCHNORM_CONVERSIONS | {
    *(f"{module}.SyncBatchNorm" for module in ("torch.nn", "torch.nn.modules", "torch.nn.modules.batchnorm")),
    *(f"torch.nn.parallel{module}.DistributedDataParallel" for module in ("", ".distributed")),
}
"""Outside `_COMMUNICATION` (FSDP and `fully_shard` live in `torch.distributed`), what takes a group by keyword:
`group=` of any other call (`wandb.init(group=...)`, a run's group of experiments) is no process group."""


def _assigns_group(function: ast.FunctionDef | ast.AsyncFunctionDef, names: ImportTable) -> bool:
    """Whether a statement on `function`'s lines assigns a name for a group (`pg = ...`): the lines of
    the module's such assignments are gathered once, on the `ImportTable`."""
    if names.group_assignments is None:
        names.group_assignments = [
            node.lineno
            for node in names.statements
            if isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and _GROUP_PARAMETER.search(node.targets[0].id)
        ]
    lines = names.group_assignments
    first = bisect_left(lines, function.lineno)
    return first < len(lines) and lines[first] <= (function.end_lineno or function.lineno)


def _group_taker(call: ast.Call, names: ImportTable) -> str | None:
    """The qualified name of `call` where it may be given a process group: a `_COMMUNICATION` call, or
    one of `_KEYWORD_TAKERS`."""
    qualified = names.resolve(call.func)
    if qualified is not None and (qualified.startswith(_COMMUNICATION) or qualified in _KEYWORD_TAKERS):
        return qualified
    return None


def _taken_from(nodes: list[ast.AST], parameters: set[str]) -> set[str]:
    """`parameters` and the local names a function (`nodes`, its subtree) assigns from one of them
    through attributes, subscripts and method calls (`dp_gang = gangs.dp`, then `pg =
    dp_gang.as_process_group()`), to a fixed point: what the caller gave. A call that is only given one
    (`dist.new_group(ranks)`) makes something new."""
    taken = set(parameters)
    assignments = [
        (node.targets[0].id, node.value)
        for node in nodes
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
    ]
    grew = True
    while grew:
        grew = False
        for name, value in assignments:
            if name not in taken and _root(value) in taken:
                taken.add(name)
                grew = True
    return taken


def _root(value: ast.expr) -> str | None:
    """The name an attribute, subscript or method-call chain starts from: `gangs` of `gangs.dp.as_process_group()`."""
    while True:
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
            value = value.func.value
        elif isinstance(value, (ast.Attribute, ast.Subscript)):
            value = value.value
        else:
            return value.id if isinstance(value, ast.Name) else None


def _uses_group(call: ast.Call, qualified: str, grouped: set[str]) -> bool:
    """Whether `call` (a `_group_taker`, by its `qualified` name) is given one of the `grouped` names as
    a process group: any argument of a `torch.distributed` call, a `group=`/`process_group=` argument
    of a `deepspeed.comm` call or of a `_KEYWORD_TAKERS` (`DistributedDataParallel(module,
    process_group=pg)`), or the group of a SyncBatchNorm conversion."""
    if qualified.startswith("torch.distributed."):
        return _passes(call, grouped)
    if any(k.arg in _GROUP_KEYWORDS and isinstance(k.value, ast.Name) and k.value.id in grouped for k in call.keywords):
        return True
    return (
        qualified in _SYNC_BATCHNORM_CONVERSIONS
        and len(call.args) > 1 and isinstance(call.args[1], ast.Name) and call.args[1].id in grouped
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


def _passes(call: ast.Call, grouped: set[str]) -> bool:
    """Whether one of the `grouped` parameters is an argument of `call`."""
    values = [*call.args, *(keyword.value for keyword in call.keywords)]
    return any(isinstance(value, ast.Name) and value.id in grouped for value in values)
