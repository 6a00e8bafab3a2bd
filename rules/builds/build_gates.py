"""The branch of a build script that every extension it builds sits in.

A script that builds its extensions only in one branch builds nothing where that branch is not
taken. Two such gates keep a ROCm install from compiling the CUDA sources at all:

- a target-device setting the installer chooses, compared with `"cuda"`:
  `if os.getenv("LMDEPLOY_TARGET_DEVICE", "cuda") == "cuda": ext_modules = [CMakeExtension(...)]`,
  read directly, through a module-level name bound to the lookup, or through a function of the
  script that returns it (`def get_target_device(): return os.getenv(...)`). An install for another
  device (`LMDEPLOY_TARGET_DEVICE=rocm pip install .`) builds no extension;
- a ROCm probe whose ROCm side builds none: `if not torch.version.hip: ext_modules.append(...)`.

`extension_gate` finds the `if` that keeps every extension call (`CUDAExtension`, `CMakeExtension`,
`Extension`, ...) on a side the caller's test says such an install never takes; an extension built
in a function of the script counts where every call of that function does.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cudaudit.rules.python.names import ImportTable, final_name
from cudaudit.rules.python.nodes import subtree

SideTest = Callable[[ast.expr, bool], bool]
"""`taken(test, in_body)`: whether an install for ROCm never runs the body (True) or the `else` (False) of `if test:`."""

_ENV_READS = frozenset({"os.getenv", "os.environ.get"})
_SETTING_WORDS = frozenset({"device", "backend", "platform", "accelerator", "target"})
"""Words of an environment variable's name that make it a choice of the device a build is for."""
_STRING_METHODS = frozenset({"lower", "strip", "casefold"})
_CUDA = "cuda"


@dataclass(frozen=True)
class _Place:
    """Where a statement sits: the `if` branches around it (the `if`, whether in its body) and the
    top-level function it is in, if any."""

    branches: tuple[tuple[ast.If, bool], ...]
    function: str | None


def extension_gate(tree: ast.Module, never_on_rocm: SideTest) -> ast.If | None:
    """The `if` whose branch, one a ROCm install never takes, holds the first extension call, when
    every extension call of the script sits in such a branch; None when one does not, or none is built."""
    places = list(_statement_places(tree.body, (), None))
    calls = [(place, node) for statement, place in places for node in _own_calls(statement) if _builds_extension(node)]
    if not calls:
        return None
    gates = [_gate(place, places, never_on_rocm) for place, _ in calls]
    if any(gate is None for gate in gates):
        return None
    return gates[0]


def _gate(place: _Place, places: list[tuple[ast.stmt, _Place]], never_on_rocm: SideTest) -> ast.If | None:
    """The `if` that keeps a statement at `place` off ROCm: around it, or around every call of the
    top-level function it is in."""
    own = next((branch for branch, in_body in place.branches if never_on_rocm(branch.test, in_body)), None)
    if own is not None or place.function is None:
        return own
    callers = [
        caller for statement, caller in places if caller.function != place.function
        for node in _own_calls(statement) if isinstance(node.func, ast.Name) and node.func.id == place.function
    ]
    gates = [_gate(_Place(caller.branches, None), places, never_on_rocm) for caller in callers]
    return gates[0] if gates and all(gate is not None for gate in gates) else None


def _statement_places(
    body: list[ast.stmt], branches: tuple[tuple[ast.If, bool], ...], function: str | None
) -> Iterator[tuple[ast.stmt, _Place]]:
    for statement in body:
        yield statement, _Place(branches, function)
        if isinstance(statement, ast.If):
            yield from _statement_places(statement.body, (*branches, (statement, True)), function)
            yield from _statement_places(statement.orelse, (*branches, (statement, False)), function)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if function is None:  # a top-level function: its calls decide where it runs
                yield from _statement_places(statement.body, (), statement.name)
        elif not isinstance(statement, ast.ClassDef):
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                for child in getattr(statement, field, ()):
                    inner = child.body if isinstance(child, (ast.ExceptHandler, ast.match_case)) else [child]
                    yield from _statement_places(inner, branches, function)


def _own_calls(statement: ast.stmt) -> Iterator[ast.Call]:
    """The calls in a statement's own expressions, not in the statements nested in it."""
    for field in ast.iter_fields(statement):
        values = field[1] if isinstance(field[1], list) else [field[1]]
        for value in values:
            if isinstance(value, ast.expr):
                yield from (node for node in subtree(value) if isinstance(node, ast.Call))


def _builds_extension(call: ast.Call) -> bool:
    """`CUDAExtension(...)`, `CMakeExtension(...)`, `setuptools.Extension(...)`: an extension module to build."""
    name = final_name(call.func)
    return name is not None and name.endswith("Extension") and name != "BuildExtension"


def cuda_target_only(test: ast.expr, in_body: bool, names: ImportTable, functions: dict[str, ast.FunctionDef]) -> bool:
    """Whether the body (`in_body`) or the `else` of `if test:` runs only where a target-device
    setting the installer chooses is `"cuda"`: `get_target_device() == "cuda" and not DISABLED`,
    `TARGET_DEVICE != "cuda"` for its `else`."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return cuda_target_only(test.operand, not in_body, names, functions)
    if isinstance(test, ast.BoolOp):
        if isinstance(test.op, ast.And) is in_body:  # a body under `and`, an `else` under `or`: one part decides
            return any(cuda_target_only(value, in_body, names, functions) for value in test.values)
        return False
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    left, right, op = test.left, test.comparators[0], test.ops[0]
    if isinstance(op, (ast.Eq, ast.NotEq)):
        setting = left if _is_cuda(right) else right if _is_cuda(left) else None
        wanted = isinstance(op, ast.Eq)
    elif isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, (ast.Tuple, ast.List, ast.Set)) and right.elts:
        setting = left if all(_is_cuda(item) for item in right.elts) else None
        wanted = isinstance(op, ast.In)
    else:
        return False
    return setting is not None and wanted is in_body and _device_setting(setting, names, functions)


def _is_cuda(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() == _CUDA


def _device_setting(node: ast.expr, names: ImportTable, functions: dict[str, ast.FunctionDef], depth: int = 0) -> bool:
    """`os.getenv("X_TARGET_DEVICE", "cuda")`, `os.environ["BACKEND"].lower()`, a module-level name
    bound once to one, or a call of a function of the script that returns one."""
    if depth > 2:
        return False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _STRING_METHODS:
        return _device_setting(node.func.value, names, functions, depth)
    if isinstance(node, ast.Subscript):
        return names.resolve(node.value) == "os.environ" and _names_device(node.slice)
    if isinstance(node, ast.Call):
        if names.resolve(node.func) in _ENV_READS:
            return bool(node.args) and _names_device(node.args[0])
        function = functions.get(node.func.id) if isinstance(node.func, ast.Name) and not node.args else None
        returned = [s.value for s in subtree(function) if isinstance(s, ast.Return)] if function else []
        return bool(returned) and all(
            value is not None and _device_setting(value, names, functions, depth + 1) for value in returned
        )
    if isinstance(node, ast.Name):
        value = names.module_value(node.id)
        return value is not None and _device_setting(value, names, functions, depth + 1)
    return False


def _names_device(node: ast.expr) -> bool:
    """An environment variable's name that says it chooses a device: `LMDEPLOY_TARGET_DEVICE`, `BUILD_BACKEND`."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return False
    return bool(_SETTING_WORDS.intersection(node.value.lower().split("_")))


def top_level_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """The script's top-level functions by name, for the settings they return."""
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
