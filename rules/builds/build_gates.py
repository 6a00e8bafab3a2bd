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
from cudaudit.rules.python.regions import TRY_STATEMENTS

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


def extension_gate(
    tree: ast.Module, never_on_rocm: SideTest, builds: Callable[[ast.stmt], bool] | None = None
) -> ast.If | None:
    """The `if` whose branch, one a ROCm install never takes, holds the first extension call, when
    every extension call of the script sits in such a branch; None when one does not, or none is built.
    `builds` says which statements build one, where that is not an extension call of their own."""
    places = list(_statement_places(tree.body, (), None))
    builds = builds or (lambda statement: any(builds_extension(node) for node in _own_calls(statement)))
    calls = [place for statement, place in places if builds(statement)]
    if not calls:
        return None
    gates = [_gate(place, places, never_on_rocm) for place in calls]
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
    return (node for node in own_nodes(statement) if isinstance(node, ast.Call))


def own_nodes(statement: ast.stmt) -> Iterator[ast.AST]:
    """The nodes of a statement's own expressions, not of the statements nested in it."""
    for field in ast.iter_fields(statement):
        values = field[1] if isinstance(field[1], list) else [field[1]]
        for value in values:
            if isinstance(value, ast.expr):
                yield from subtree(value)


def builds_extension(call: ast.Call) -> bool:
    """`CUDAExtension(...)`, `CMakeExtension(...)`, `setuptools.Extension(...)`: an extension module to build."""
    name = final_name(call.func)
    return name is not None and name.endswith("Extension") and name != "BuildExtension"


def extension_names(tree: ast.AST) -> set[int]:
    """The ids of the strings that name an extension module, not its sources: the first argument, or
    `name=`, of each extension call (`CUDAExtension("ops_hip", [...])`)."""
    found: set[int] = set()
    for node in subtree(tree):
        if isinstance(node, ast.Call) and builds_extension(node):
            named = [node.args[0]] if node.args else [k.value for k in node.keywords if k.arg == "name"]
            found.update(id(value) for value in named if isinstance(value, ast.Constant))
    return found


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


CUDA_HOME = "torch.utils.cpp_extension.CUDA_HOME"
"""`None` on a ROCm build of PyTorch: `CUDA_HOME = _find_cuda_home() if (torch.cuda._is_compiled() and
torch.version.cuda) else None`, and `torch.version.cuda` is `None` there (ROCm builds set `ROCM_HOME`),
https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/utils/cpp_extension.py#L359."""


def on_default_rocm_install(test: ast.expr, names: ImportTable) -> tuple[bool | None, tuple[str, ...]]:
    """What `test` is on a ROCm build of PyTorch installed without extra settings, as decided by
    `CUDA_HOME` (True, False, or None where something else decides it), and the environment
    variables whose setting would turn it around (`or os.getenv("FORCE_CUDA", "0") == "1"`)."""
    if names.resolve(test) == CUDA_HOME:
        return False, ()
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and names.resolve(test.left) == CUDA_HOME:
        right, op = test.comparators[0], test.ops[0]
        if isinstance(right, ast.Constant) and right.value is None and isinstance(op, (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)):
            return isinstance(op, (ast.Is, ast.Eq)), ()
        return None, ()
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        value, overrides = on_default_rocm_install(test.operand, names)
        return (None if value is None else not value), overrides
    if isinstance(test, ast.BoolOp):
        parts = [on_default_rocm_install(value, names) for value in test.values]
        overrides = tuple(name for _, found in parts for name in found)
        decisive = isinstance(test.op, ast.Or)  # True decides `or`, False decides `and`
        if any(value is decisive for value, _ in parts):
            return decisive, overrides
        settings = [_opt_in_settings(value, names) for value in test.values]
        settled = all(value is not None or setting for (value, _), setting in zip(parts, settings, strict=True))
        if settled and any(value is not None for value, _ in parts):
            return not decisive, overrides + tuple(name for setting in settings for name in setting)
        return None, overrides
    return None, ()


def _opt_in_settings(test: ast.expr, names: ImportTable) -> tuple[str, ...]:
    """The environment variables that must all be set for `test` to hold, where it holds only on
    request: one `opt_in_setting`, or those of an `and` of which some part is one (`in_docker and
    use_cuda`, both bound to switches)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return tuple(name for value in test.values if (name := opt_in_setting(value, names)) is not None)
    setting = opt_in_setting(test, names)
    return (setting,) if setting is not None else ()


def opt_in_setting(test: ast.expr, names: ImportTable, depth: int = 0) -> str | None:
    """The environment variable of a test that holds only where the installer sets it:
    `os.getenv("FORCE_CUDA", "0") == "1"`, `os.getenv("ARCHS", "") != ""`, `os.environ.get("FORCE_CUDA")`,
    `"FORCE_CUDA" in os.environ`, `os.environ.get("IN_DOCKER", "").casefold() in ["true", "1"]`; or a
    name every assignment of which in the script binds one (`in_docker = os.environ.get(...) in [...]`)."""
    if isinstance(test, ast.Name) and depth == 0:
        values = _assigned_values(names, test.id)
        found = [opt_in_setting(value, names, depth + 1) for value in values]
        return found[0] if found and all(found) else None
    if names.environment_switch(test):
        return _switch_variable(test, names)
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, right, op = test.left, test.comparators[0], test.ops[0]
        if isinstance(op, ast.In) and names.resolve(right) == "os.environ":
            return _constant_string(left)
        read = _environment_read(left, names)
        if read is not None and isinstance(right, ast.Constant) and (
            (isinstance(op, ast.Eq) and right.value != read[1]) or (isinstance(op, ast.NotEq) and right.value == read[1])
        ):
            return read[0]
        return None
    read = _environment_read(test, names)
    return read[0] if read is not None and read[1] in (None, "", "0") else None


def _switch_variable(test: ast.expr, names: ImportTable) -> str | None:
    """The variable an environment switch (`ImportTable.environment_switch`) looks up: directly, or
    through a name bound to the lookup."""
    for node in subtree(test):
        if isinstance(node, ast.Call) and names.resolve(node.func) in _ENV_READS and node.args:
            return _constant_string(node.args[0])
        if isinstance(node, ast.Name) and node.id in names.environment_lookups:
            lookup = names.environment_lookups[node.id]
            return _constant_string(lookup.args[0]) if lookup.args else None
    return None


def _assigned_values(names: ImportTable, name: str) -> list[ast.expr]:
    """The values every statement of the module that binds `name` gives it; empty where one binds it
    otherwise (a loop, a parameter, an augmented assignment)."""
    values: list[ast.expr] = []
    for statement in names.statements:
        if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets):
            if len(statement.targets) != 1:
                return []
            values.append(statement.value)
        elif _binds_otherwise(statement, name):
            return []
    return values


def _binds_otherwise(statement: ast.stmt, name: str) -> bool:
    """Whether `statement` binds `name` other than by a plain assignment: a loop, an augmented or
    annotated assignment, a function's parameter."""
    if isinstance(statement, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        return any(isinstance(n, ast.Name) and n.id == name for n in subtree(statement.target))
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        arguments = statement.args
        return name in {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}
    return False


def _environment_read(node: ast.expr, names: ImportTable) -> tuple[str, object] | None:
    """(variable, default) of `os.getenv("X", default)` / `os.environ.get("X")`."""
    if not (isinstance(node, ast.Call) and names.resolve(node.func) in _ENV_READS and node.args):
        return None
    variable = _constant_string(node.args[0])
    default = node.args[1] if len(node.args) > 1 else None
    if variable is None or (default is not None and not isinstance(default, ast.Constant)):
        return None
    return variable, default.value if isinstance(default, ast.Constant) else None


def _constant_string(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


CUDA_EXTENSION = "torch.utils.cpp_extension.CUDAExtension"


def names_cuda_extension(statement: ast.stmt, names: ImportTable) -> bool:
    """Whether a statement's own expressions name PyTorch's `CUDAExtension`: a call, or a choice
    of the class that a later call makes (`extension = CUDAExtension`)."""
    return any(
        isinstance(node, (ast.Name, ast.Attribute)) and names.resolve(node) == CUDA_EXTENSION for node in own_nodes(statement)
    )


def raises_without_cuda_home(gate: ast.If, names: ImportTable) -> ast.Raise | None:
    """The `raise` that ends the side of a `CUDA_HOME` gate (`cuda_home_gate`) an install without
    `CUDA_HOME` takes: a ROCm build of PyTorch, and a CPU one (neither sets it). There the script
    stops (`else: raise NotImplementedError("CUDA is not available")`): no build of any kind."""
    on_rocm, _ = on_default_rocm_install(gate.test, names)
    side = gate.body if on_rocm else gate.orelse
    return side[-1] if side and isinstance(side[-1], ast.Raise) else None


def cuda_home_gate(tree: ast.Module, names: ImportTable) -> tuple[ast.If, tuple[str, ...]] | None:
    """The `if` that keeps every mention of `CUDAExtension` off a ROCm install because it tests
    `CUDA_HOME` (`if torch.cuda.is_available() and CUDA_HOME is not None:`), and the environment
    variables that turn it on anyway; None where ROCm builds take some mention of it."""
    overrides: list[str] = []

    def never_on_rocm(test: ast.expr, in_body: bool) -> bool:
        value, found = on_default_rocm_install(test, names)
        if value is (not in_body):
            overrides.extend(name for name in found if name not in overrides)
            return True
        return False

    gate = extension_gate(tree, never_on_rocm, lambda statement: names_cuda_extension(statement, names))
    return (gate, tuple(overrides)) if gate is not None else None


def scope_ifs(scope: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.If]:
    """The `if`s of `scope` outside the functions and classes it defines: the
    tests a build script or one of its functions makes itself."""
    found, stack = [], list(scope.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If):
            found.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))
    return found


def cuda_home_requirement(tree: ast.Module, names: ImportTable) -> tuple[ast.expr, ast.stmt, tuple[str, ...]] | None:
    """The first test, breadth first from the script's top level, that stops a build script where
    `CUDA_HOME` is None (every CPU build of PyTorch, and a ROCm build: `CUDA_HOME` above), with the
    statement that stops, `assert CUDA_HOME is not None, "..."` or the `raise` that ends the branch of
    `if CUDA_HOME is None: raise RuntimeError(...)`, and the installer's settings that let the test
    pass anyway (`or os.getenv("FORCE_CUDA") == "1"`). One inside a `try` is left out: its handler
    may build without CUDA."""
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        statement = stack.pop(0)
        if isinstance(statement, ast.Assert):
            on_rocm, overrides = on_default_rocm_install(statement.test, names)
            if on_rocm is False:
                return statement.test, statement, tuple(overrides)
        elif isinstance(statement, ast.If):
            on_rocm, overrides = on_default_rocm_install(statement.test, names)
            side = statement.body if on_rocm else statement.orelse if on_rocm is False else []
            if side and isinstance(side[-1], ast.Raise):
                return statement.test, side[-1], tuple(overrides)
        if isinstance(statement, (*TRY_STATEMENTS, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "cases"):
            for child in getattr(statement, field, ()):
                stack.extend(child.body if isinstance(child, ast.match_case) else [child])
    return None
