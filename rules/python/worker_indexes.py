"""The process index a spawned worker function takes first: an integer on every route into it.

`mp.spawn(worker, nprocs=n, args=(cfg,))` runs `worker(i, cfg)` in each process it starts, `i`
being the process's number. Where every other call of `worker` in its module gives that parameter
an integer too (`worker(0, cfg)`, the single-process route of `if world_size == 1:`), the parameter
is an integer wherever the worker runs: `model.to(gpu)` names accelerator device `gpu`, which a
CPU-only build does not have, on the single-process route as much as on the spawned one. Such a
use is no distributed arm of a program that also runs without one (the reading a name for a rank
gets, `device_syntax.device_ordinal_kind`).

A call that hands the worker something else (`main_worker(args.gpu, ...)`, where `args.gpu` may be
None), a mention that is no call (`Process(target=worker, args=(rank,))`, whose arguments are not
read here) or a worker that binds the parameter again keeps the name's reading.
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.device_flow import SPAWN_CALLS
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree

Function = ast.FunctionDef | ast.AsyncFunctionDef


def worker_indexes(tree: ast.Module, names: ImportTable) -> dict[int, str]:
    """The module's top-level functions that a spawn runs and every call gives an integer first,
    by id, with the name of that parameter."""
    functions = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    spawns: dict[str, int] = {}
    calls: dict[str, list[ast.Call]] = {}
    mentions: dict[str, int] = {}
    """Every read of each function's name: its calls' and spawns' callees, and any other mention."""
    for node in subtree(tree):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in functions:
                calls.setdefault(node.func.id, []).append(node)
            elif names.resolve(node.func) in SPAWN_CALLS and node.args and isinstance(node.args[0], ast.Name):
                spawns[node.args[0].id] = spawns.get(node.args[0].id, 0) + 1
        elif isinstance(node, ast.Name) and node.id in functions and isinstance(node.ctx, ast.Load):
            mentions[node.id] = mentions.get(node.id, 0) + 1
    found: dict[int, str] = {}
    for name in spawns.keys() & functions.keys():
        function = functions[name]
        positional = [*function.args.posonlyargs, *function.args.args]
        if not positional:
            continue
        index = positional[0].arg
        given = calls.get(name, [])
        only_run = mentions.get(name, 0) == len(given) + spawns[name]  # handed nowhere else
        if only_run and all(_gives_integer(call, index) for call in given) and not _binds(function, index):
            found[id(function)] = index
    return found


def _gives_integer(call: ast.Call, parameter: str) -> bool:
    """`worker(0, cfg)`: an integer literal first, and no value for the parameter by name."""
    first = call.args[0] if call.args else None
    named = any(keyword.arg in (parameter, None) for keyword in call.keywords)
    return isinstance(first, ast.Constant) and type(first.value) is int and not named


def _binds(function: Function, parameter: str) -> bool:
    """Whether the function (or one nested in it) assigns the name again: then it may hold anything."""
    return any(
        isinstance(node, ast.Name) and node.id == parameter and not isinstance(node.ctx, ast.Load)
        for node in subtree(function)
    )
