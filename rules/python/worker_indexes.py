"""The process index a spawned worker function takes first: an integer on every route into it.

`mp.spawn(worker, nprocs=n, args=(cfg,))` runs `worker(i, cfg)` in each process it starts, `i`
being the process's number. Where every other call of `worker` in its module gives that parameter
an integer too (`worker(0, cfg)`, the single-process route of `if world_size == 1:`), the parameter
is an integer wherever the worker runs: `model.to(gpu)` names accelerator device `gpu`, which a
CPU-only build does not have, on the single-process route as much as on the spawned one. Such a
use is no distributed arm of a program that also runs without one (the reading a name for a rank
gets, `device_syntax.device_ordinal_kind`). The worker may hand its index on: a parameter of
another function of the module that every call fills with such an index, or an integer, and one
call with the index (`merge_lora(model, cfg, gpu=gpu)` in the worker), holds it too.

A call that hands the worker something else (`main_worker(args.gpu, ...)`, where `args.gpu` may be
None), a mention that is no call (`Process(target=worker, args=(rank,))`, whose arguments are not
read here) or a worker that binds the parameter again keeps the name's reading.
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.device_flow import SPAWN_CALLS
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import own_nodes, subtree

Function = ast.FunctionDef | ast.AsyncFunctionDef
Call = tuple[ast.Call, str | None]
"""A call of one of the module's functions, with the name of the top-level function whose own body makes it."""


def worker_indexes(tree: ast.Module, names: ImportTable) -> dict[int, frozenset[str]]:
    """The parameters of the module's top-level functions that hold a spawned worker's index on every
    route into them, by the id of the function."""
    functions = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    spawns: dict[str, int] = {}
    mentions: dict[str, int] = {}
    """Every read of each function's name: its calls' and spawns' callees, and any other mention."""
    for node in subtree(tree):
        if isinstance(node, ast.Call):
            if names.resolve(node.func) in SPAWN_CALLS and node.args and isinstance(node.args[0], ast.Name):
                spawns[node.args[0].id] = spawns.get(node.args[0].id, 0) + 1
        elif isinstance(node, ast.Name) and node.id in functions and isinstance(node.ctx, ast.Load):
            mentions[node.id] = mentions.get(node.id, 0) + 1
    if not spawns.keys() & functions.keys():
        return {}
    calls = _calls(tree, functions)
    found: dict[str, set[str]] = {}
    grown = True
    while grown:  # a worker's index handed on to a helper, and on from there
        grown = False
        for name, function in functions.items():
            given = calls.get(name, [])
            if mentions.get(name, 0) != len(given) + spawns.get(name, 0):
                continue  # handed on somewhere: its callers are not all seen
            positional = [*function.args.posonlyargs, *function.args.args]
            for place, parameter in enumerate(positional[:1] if name in spawns else positional):
                index = parameter.arg
                if index in found.get(name, ()) or _binds(function, index):
                    continue
                values = [_given(call, place, index) for call, _ in given]
                handed = [value for value in values if isinstance(value, ast.Name)]
                if name not in spawns and not handed:
                    continue  # integers alone, no worker's index: not this reading's
                if all(_is_index(value, caller, found) for value, (_, caller) in zip(values, given)):
                    found.setdefault(name, set()).add(index)
                    grown = True
    return {id(functions[name]): frozenset(indexes) for name, indexes in found.items()}


def _calls(tree: ast.Module, functions: dict[str, Function]) -> dict[str, list[Call]]:
    """The module's calls of `functions` by name (`name(...)`), each with the top-level function whose
    own body makes it (None for the module's level, a class or a nested function)."""
    owners: dict[int, str] = {}
    for name, function in functions.items():
        owners.update(
            (id(node), name) for node in own_nodes(function.body)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions
        )
    calls: dict[str, list[Call]] = {}
    for node in subtree(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions:
            calls.setdefault(node.func.id, []).append((node, owners.get(id(node))))
    return calls


def _given(call: ast.Call, place: int, parameter: str) -> ast.expr | None:
    """What `call` gives the parameter at `place` (by position or by name); None where it gives nothing
    (the default) or may give anything (`*args`, `**kwargs`)."""
    for keyword in call.keywords:
        if keyword.arg == parameter:
            return keyword.value
        if keyword.arg is None:
            return None
    arguments = call.args[: place + 1]
    if any(isinstance(argument, ast.Starred) for argument in arguments) or len(arguments) <= place:
        return None
    return arguments[place]


def _is_index(value: ast.expr | None, caller: str | None, found: dict[str, set[str]]) -> bool:
    """An integer literal, or the index parameter of the function making the call."""
    if isinstance(value, ast.Constant):
        return type(value.value) is int
    return isinstance(value, ast.Name) and caller is not None and value.id in found.get(caller, ())


def _binds(function: Function, parameter: str) -> bool:
    """Whether the function (or one nested in it) assigns the name again: then it may hold anything."""
    return any(
        isinstance(node, ast.Name) and node.id == parameter and not isinstance(node.ctx, ast.Load)
        for node in subtree(function)
    )
