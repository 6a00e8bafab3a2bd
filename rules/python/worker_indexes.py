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

A route into the function that runs only under a branch the region reading sets apart (`if world_size
> 1:`, `if torch.cuda.device_count() > 1:`, `if args.distributed:`, or after `if world_size == 1:
return`) is no route of the normal path: the index it hands on runs only where several processes or
GPUs are. It still has to hand an integer, but the function holds the index on the normal path only
where some route outside such a branch reaches it (the single-process `worker(0, cfg)`, a spawn outside
any guard): else the name keeps its reading (a rank's, another path).
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.device_flow import SPAWN_CALLS
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import own_nodes, subtree
from cudaudit.rules.python.regions import branch_regions, region_after

Function = ast.FunctionDef | ast.AsyncFunctionDef
Call = tuple[ast.Call, str | None]
"""A call of one of the module's functions, with the name of the top-level function whose own body makes it."""


def worker_indexes(tree: ast.Module, names: ImportTable) -> dict[int, frozenset[str]]:
    """The parameters of the module's top-level functions that hold a spawned worker's index on every
    route into them, by the id of the function."""
    functions = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    spawns: dict[str, list[ast.Call]] = {}
    mentions: dict[str, int] = {}
    """Every read of each function's name: its calls' and spawns' callees, and any other mention."""
    for node in subtree(tree):
        if isinstance(node, ast.Call):
            if names.resolve(node.func) in SPAWN_CALLS and node.args and isinstance(node.args[0], ast.Name):
                spawns.setdefault(node.args[0].id, []).append(node)
        elif isinstance(node, ast.Name) and node.id in functions and isinstance(node.ctx, ast.Load):
            mentions[node.id] = mentions.get(node.id, 0) + 1
    if not spawns.keys() & functions.keys():
        return {}
    calls = _calls(tree, functions)
    guarded: set[int] = set()
    _guarded_calls(tree.body, names, False, guarded)
    bound: dict[str, set[str]] = {}
    found: dict[str, set[str]] = {}
    grown = True
    while grown:  # a worker's index handed on to a helper, and on from there
        grown = False
        for name, function in functions.items():
            given = calls.get(name, [])
            spawned = spawns.get(name, [])
            if mentions.get(name, 0) != len(given) + len(spawned):
                continue  # handed on somewhere: its callers are not all seen
            plain = [id(call) not in guarded for call, _ in given]
            if not any(plain) and all(id(spawn) in guarded for spawn in spawned):
                continue  # reached only where several processes or GPUs are
            if name not in bound:
                bound[name] = _bound(function)
            positional = [*function.args.posonlyargs, *function.args.args]
            for place, parameter in enumerate(positional[:1] if spawned else positional):
                index = parameter.arg
                if index in found.get(name, ()) or index in bound[name]:
                    continue
                values = [_given(call, place, index) for call, _ in given]
                handed = [value for value, outside in zip(values, plain) if outside and isinstance(value, ast.Name)]
                if not spawned and not handed:
                    continue  # integers alone, no worker's index on the normal path: not this reading's
                if all(_is_index(value, caller, found) for value, (_, caller) in zip(values, given)):
                    found.setdefault(name, set()).add(index)
                    grown = True
    return {id(functions[name]): frozenset(indexes) for name, indexes in found.items()}


def _guarded_calls(body: list[ast.stmt], names: ImportTable, guarded: bool, found: set[int]) -> None:
    """Add to `found` the calls of `body` that run only in a branch the region reading sets apart
    (`branch_regions`: `if world_size > 1:`, `if torch.cuda.device_count() > 1:`) or after a statement
    that leaves the rest of the block in one (`region_after`); `guarded`: the block is in one. A
    function or class defined in the block starts a route of its own."""
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            _guarded_calls(statement.body, names, False, found)
            continue
        branches = branch_regions(statement.test, names)[1:] if isinstance(statement, ast.If) else None
        for field, value in ast.iter_fields(statement):
            items = value if isinstance(value, list) else [value]
            if items and isinstance(items[0], ast.stmt):
                inner = guarded or (branches is not None and bool(branches[field == "orelse"]))
                _guarded_calls(items, names, inner, found)
                continue
            for item in items:
                if isinstance(item, (ast.ExceptHandler, ast.match_case)):
                    _guarded_calls(item.body, names, guarded, found)
                elif isinstance(item, ast.AST) and guarded:
                    found.update(id(node) for node in subtree(item) if isinstance(node, ast.Call))
        if not guarded and region_after(statement, names):
            guarded = True


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


def _bound(function: Function) -> set[str]:
    """The names the function (or one nested in it) assigns: a parameter among them may hold anything."""
    return {node.id for node in subtree(function) if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)}
