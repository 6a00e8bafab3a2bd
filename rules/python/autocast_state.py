"""What an autocast asks for beyond its device type: a float16 precision meant for CUDA alone, or the
state an earlier autocast recorded.

A CUDA autocast with a float16 dtype (`torch.autocast("cuda", dtype=torch.float16)`, the dtype written
in place, a parameter of the enclosing function whose default it is, or an attribute the module sets
once from such a parameter or to it) is mixed precision for GPUs by design: on a CPU-only build the
block runs in float32, as written. Running it under CPU autocast instead gives float16 results
(torch 2.13.0 CPU build: a convolution under `torch.autocast("cpu", dtype=torch.float16)` returns
float16), less exact, so the rewrite to a run-time device type would make the CPU run worse: the
site is a note with no rewrite. A bfloat16 or unspecified dtype keeps its warning: CPU autocast
serves it.

An autocast whose `enabled` is the current autocast state (`enabled=torch.is_autocast_enabled()`, or
`**saved` for a dict the module stores with such an `"enabled"` entry, as a checkpoint's backward
restores its forward's state) turns on only where autocast was on: `torch.is_autocast_enabled()` is
False on a CPU-only build (also inside `torch.autocast("cpu")`), so nothing is lost there.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree

HALF = frozenset({"torch.float16", "torch.half"})
_STATE = frozenset({"torch.is_autocast_enabled", "torch.cuda.amp.autocast_mode.is_autocast_enabled"})
_DTYPE_POSITION = 1
"""`torch.autocast(device_type, dtype, enabled, cache_enabled)`."""

Function = ast.FunctionDef | ast.AsyncFunctionDef


def asks_for_half(
    call: ast.Call, names: ImportTable, functions: Sequence[Function], owner: ast.ClassDef | None
) -> bool:
    """Whether the autocast `call` asks for float16, written in place or through a parameter's default
    (of one of `functions`, those the call is in, outermost first, or kept in an attribute of `owner`,
    the enclosing class: `self.amp_dtype = amp_dtype`)."""
    dtype = next((keyword.value for keyword in call.keywords if keyword.arg == "dtype"), None)
    if dtype is None and len(call.args) > _DTYPE_POSITION and not any(isinstance(a, ast.Starred) for a in call.args):
        dtype = call.args[_DTYPE_POSITION]
    return dtype is not None and _is_half(dtype, names, functions, owner)


def _is_half(value: ast.expr, names: ImportTable, functions: Sequence[Function], owner: ast.ClassDef | None) -> bool:
    if names.resolve(value) in HALF:
        return True
    if isinstance(value, ast.Name):
        default = _parameter_default(functions, value.id)
        return default is not None and names.resolve(default) in HALF
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "self" and owner:
        stored = _single_store(owner, value.attr)
        if stored is None:
            return False
        setter, stored_value = stored
        return names.resolve(stored_value) in HALF or (
            isinstance(stored_value, ast.Name) and _is_half(stored_value, names, [setter], None)
        )
    return False


def _parameter_default(functions: Sequence[Function], name: str) -> ast.expr | None:
    """The default of the parameter `name` in the innermost of `functions` that binds it, a closure's
    too (`amp_dtype` of the function that defines the wrapper using it), where no function between
    assigns the name."""
    for function in reversed(functions):
        if _binds_parameter(function, name):
            return _default(function, name)
        if any(isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load) for node in subtree(function)):
            return None
    return None


def _binds_parameter(function: Function, name: str) -> bool:
    arguments = function.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
    return any(argument is not None and argument.arg == name for argument in every)


def _default(function: Function, parameter: str) -> ast.expr | None:
    """The default of `function`'s parameter of that name, where it has one."""
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults: list[tuple[ast.arg, ast.expr | None]] = [
        *zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults),
        *zip(arguments.kwonlyargs, arguments.kw_defaults),
    ]
    return next((default for argument, default in defaults if argument.arg == parameter), None)


def _single_store(owner: ast.ClassDef, attribute: str) -> tuple[Function, ast.expr] | None:
    """The method and value of the one store of `self.<attribute>` in the class's methods, where they
    store it once."""
    found: list[tuple[Function, ast.expr]] = []
    stores = 0
    for function in owner.body:
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in subtree(function):
            if isinstance(node, ast.Attribute) and node.attr == attribute and not isinstance(node.ctx, ast.Load):
                stores += 1
            if isinstance(node, ast.Assign) and any(_is_self_attribute(t, attribute) for t in node.targets):
                found.append((function, node.value))
    return found[0] if len(found) == 1 and stores == 1 else None


def _is_self_attribute(target: ast.expr, attribute: str) -> bool:
    return (
        isinstance(target, ast.Attribute) and target.attr == attribute
        and isinstance(target.value, ast.Name) and target.value.id == "self"
    )


def restores_state(value: ast.expr, names: ImportTable, splat: bool) -> bool:
    """Whether an autocast's `enabled=value` (or, `splat`, its `**value`) is the current autocast state:
    `torch.is_autocast_enabled()`, or a dict the module stores under that name whose `"enabled"` is."""
    if not splat:
        return isinstance(value, ast.Call) and names.resolve(value.func) in _STATE
    stored = _stored_dicts(names.tree, value)
    return bool(stored) and all(
        entry is not None and restores_state(entry, names, splat=False) for entry in map(_enabled_entry, stored)
    )


def _stored_dicts(tree: ast.AST, value: ast.expr) -> list[ast.expr]:
    """The values the module assigns to the attribute or name `value` spells (`ctx.kwargs = {...}`)."""
    if isinstance(value, ast.Attribute):
        def matches(target: ast.expr) -> bool:
            return isinstance(target, ast.Attribute) and target.attr == value.attr
    elif isinstance(value, ast.Name):
        def matches(target: ast.expr) -> bool:
            return isinstance(target, ast.Name) and target.id == value.id
    else:
        return []
    return [node.value for node in subtree(tree) if isinstance(node, ast.Assign) and any(map(matches, node.targets))]


def _enabled_entry(stored: ast.expr) -> ast.expr | None:
    """The `"enabled"` entry of a dict literal or of `dict(enabled=...)`."""
    if isinstance(stored, ast.Dict):
        return next(
            (v for k, v in zip(stored.keys, stored.values) if isinstance(k, ast.Constant) and k.value == "enabled"),
            None,
        )
    if isinstance(stored, ast.Call) and isinstance(stored.func, ast.Name) and stored.func.id == "dict":
        return next((keyword.value for keyword in stored.keywords if keyword.arg == "enabled"), None)
    return None
