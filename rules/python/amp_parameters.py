"""Parameters whose only job is to say where mixed precision applies.

`def create_grad_scaler(device="cuda", **kwargs): return GradScaler(device=device, **kwargs)` and
`def scoped_autocast(device_type="cuda", **kwargs): with torch.autocast(device_type=device_type, ...)`
hand their device to autocast or a grad scaler and to nothing else. On a build without CUDA those warn
and turn themselves off rather than raise, so the default is the device of mixed precision (the
catalog's `amp` key: a warning on CPU), not a device data is placed on.
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.concerns.devices import AMP_CALLS
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def only_amp_device(function: FunctionNode, parameter: str, names: ImportTable) -> bool:
    """Whether `function` reads `parameter` (and there is a read) only as the device of an autocast or
    a grad scaler: the first argument, `device=` or `device_type=` of `AMP_CALLS`, or `device_type=`
    of any call (the keyword PyTorch gives autocast's device alone)."""
    amp_arguments: set[int] = set()
    reads: list[ast.Name] = []
    for node in subtree(function):
        if isinstance(node, ast.Call):
            amp_arguments.update(id(argument) for argument in _amp_device_arguments(node, names))
        elif isinstance(node, ast.Name) and node.id == parameter:
            if not isinstance(node.ctx, ast.Load):
                return False  # rebound: the name may hold another value by the time it is read
            reads.append(node)
    return bool(reads) and all(id(read) in amp_arguments for read in reads)


def _amp_device_arguments(call: ast.Call, names: ImportTable) -> list[ast.expr]:
    arguments = [keyword.value for keyword in call.keywords if keyword.arg == "device_type"]
    if names.resolve(call.func) in AMP_CALLS:
        arguments += [keyword.value for keyword in call.keywords if keyword.arg == "device"] + call.args[:1]
    return arguments
