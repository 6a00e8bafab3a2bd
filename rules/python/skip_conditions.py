"""Where a test's skip condition skips it: on a machine without a CUDA device, and on each GPU ROCm supports.

Test modules often read the GPU once, at import, into a name with a default that no GPU reports:

    capability = (0, 0)
    if torch.cuda.is_available():
        capability = torch.cuda.get_device_capability()

    needs_sm80 = pytest.mark.skipif(capability < (8, 0), reason="needs sm80")

Without a CUDA device the name keeps its default, `(0, 0) < (8, 0)` holds and every test under
`@needs_sm80` is skipped: its `"cuda"` sites never run on a CPU. On ROCm the name holds what the GPU
reports (the catalog's `[rocm_capabilities]`: (9, 0) and above), which passes `< (8, 0)`, so the
tests run there, where `"cuda"` is the ROCm GPU; `capability != (8, 0)` skips them on every ROCm GPU.

A skip condition (`pytest.mark.skipif(cond)`, `unittest.skipIf(cond)`, `unittest.skipUnless(cond)`)
is evaluated here on those machines, from what is known about each: whether `torch.cuda` has a
device (`is_available()`, `device_count()`), what the capability reads and such names hold, and
whether the build is NVIDIA's or ROCm's (`torch.version.cuda`, `torch.version.hip`), and that
without a CUDA device nothing named for CUDA is available (`is_extension_available("ops_cuda")`,
which a ROCm build may answer either way: `guards.asks_for_cuda_part`). A test runs on a default run of the suite, where the
project's own environment variables are unset: a lookup with a fallback (`os.environ.get("RUN_X",
"0")`, `os.getenv("X")`) reads its fallback, and `"X" in os.environ` is False, so `skipif(os.environ.get(
"RUN_X") != "1")` skips its test on every machine; only a run that sets the variable takes it (a CI
job's opt-in). A variable a launcher sets (`WORLD_SIZE`, `RANK`, `SLURM_PROCID`) is set on a launched
run, another path (`guards.py`'s multi-process probe), and stays unknown. A part it cannot know (a project's own function, a setting) leaves the answer open
unless `and`/`or` decide without it; an open answer changes nothing.

Markers are often kept in a shared test module (`from .utils import needs_sm80`): the project index
reads what each such marker skips with `read_skip_markers`, as plain data, and a test module that
imports one gets its answer through `ImportTable.project_marker`.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cudaudit.rules.python.capability_use import CAPABILITY, CAPABILITY_FIELDS, COMPARE, PROPERTIES, RocmCapabilities
from cudaudit.rules.python.failed_imports import failed_import_flags
from cudaudit.rules.python.guards import Polarity, Probe, asks_for_cuda_part, is_skip_call, polarity
from cudaudit.rules.python.names import ImportTable, is_launch_variable
from cudaudit.rules.python.nodes import call_arguments, substituted, subtree
from cudaudit.rules.python.package_probes import holds_only_with_package
from cudaudit.source import decode_python, read_tree

if TYPE_CHECKING:
    from cudaudit.rules.catalog import Catalog

SKIP_IF = frozenset({"pytest.mark.skipif", "unittest.skipIf", "unittest.case.skipIf"})
"""Markers that skip a test where their condition holds."""
SKIP_UNLESS = frozenset({"unittest.skipUnless", "unittest.case.skipUnless"})
"""Markers that skip a test where their condition does not hold."""
SKIP_ALWAYS = frozenset({"pytest.mark.skip", "unittest.skip", "unittest.case.skip"})
"""Markers that skip a test on every machine (`@pytest.mark.skip(reason=...)`, `@unittest.skip("...")`):
it runs on no target."""
EXPECTED_FAILURES = frozenset({"pytest.mark.xfail", "unittest.expectedFailure", "unittest.case.expectedFailure"})
"""Markers of a test expected to fail: pytest reports it xfailed, not failed, wherever it raises
(https://docs.pytest.org/en/stable/how-to/skipping.html#xfail-mark-test-functions-as-expected-to-fail)."""
_XFAIL_NARROWING = frozenset({"condition", "raises"})
"""Arguments that narrow an expected failure: to a condition, or to one exception (any other fails the test)."""
_BACKEND_COUNTS = frozenset({
    "transformers.testing_utils.backend_device_count",
    "diffusers.utils.testing_utils.backend_device_count",
    "diffusers.utils.torch_utils.backend_device_count",
})
"""Hugging Face's device-agnostic test helpers that count the devices of a backend by its name:
`torch.cuda.device_count()` for `"cuda"` (a ROCm GPU too), 0 for `"cpu"` (`BACKEND_DEVICE_COUNT` in
https://github.com/huggingface/transformers/blob/main/src/transformers/testing_utils.py and
https://github.com/huggingface/diffusers/blob/main/src/diffusers/utils/torch_utils.py), where
`torch_device`, the name tests pass, is `"cpu"` on a machine whose `torch.cuda` has no device."""
_BACKEND_NAMES = frozenset({"transformers.testing_utils.torch_device", "diffusers.utils.testing_utils.torch_device"})
"""The test device those helpers are given: `"cuda"` where `torch.cuda` has a device, else `"cpu"`."""
_ENVIRONMENT_READS = frozenset({"os.environ.get", "os.getenv"})
"""Lookups of an environment variable with a fallback, which a default run reads."""
_CONVERSIONS: dict[str, Any] = {"int": int, "bool": bool, "str": str, "float": float}
_EXTREMES: dict[str, Any] = {"min": min, "max": max}
_STRING_METHODS = frozenset({"lower", "upper", "strip", "casefold"})
"""What a condition does to a variable it looked up before comparing it (`os.getenv("X", "").lower()`)."""
_UNKNOWN: Any = object()
_SET = object()
"""A value that is set, whatever it is (`torch.version.hip` on ROCm): true, and not None."""


@dataclass(frozen=True)
class Machine:
    """What a skip condition can know about one machine: the capability its GPU reports (None
    without a CUDA device) and whether PyTorch is a ROCm build."""

    capability: tuple[int, int] | None
    hip: bool | None
    """Whether PyTorch is a ROCm build; None where it may be either (a machine without a GPU may
    have any build installed)."""


WITHOUT_CUDA = (Machine(None, None),)
"""A machine whose `torch.cuda` has no device: a CPU-only build, XPU's or MPS's, or a GPU build
installed where there is no GPU."""


@dataclass(frozen=True)
class Skips:
    """Whether a skip condition skips its test on every machine without a CUDA device and on every GPU
    ROCm supports: True or False where the condition says so, None where it leaves that open."""

    without_cuda: bool | None
    on_rocm: bool | None


def skip_call(call: ast.Call, names: ImportTable) -> Skips | None:
    """Where a skip marker call skips its test; None for a call that is no skip marker or has no condition."""
    qualified = names.resolve(call.func)
    if (qualified not in SKIP_IF and qualified not in SKIP_UNLESS) or not call.args:
        return None
    return skips_where(call.args[0], names, skip_when=qualified in SKIP_IF)


_DEVICE_TYPES = "torch.testing._internal.common_device_type."
_ONLY_ON = frozenset({"onlyOn", "onlyCUDA"})
"""PyTorch's decorators that run a device-type test only for the device types they name, skipping it for
the others (`onlyCUDA` is `onlyOn("cuda")`: torch 2.13 `testing/_internal/common_device_type.py`); the
"cuda" device type is a ROCm GPU's too."""


def device_type_skips(marker: ast.expr, names: ImportTable) -> Skips | None:
    """Where `@onlyCUDA`, or `@onlyOn(...)` naming device types without the CPU, skips a test of a
    device-type class: on a machine without a CUDA device (its one instance is the CPU's), never on
    ROCm. None for any other marker."""
    qualified = names.resolve(marker.func if isinstance(marker, ast.Call) else marker) or ""
    if qualified.removeprefix(_DEVICE_TYPES) not in _ONLY_ON or not qualified.startswith(_DEVICE_TYPES):
        return None
    if qualified.endswith("onlyCUDA"):
        return None if isinstance(marker, ast.Call) else Skips(True, False)
    if not (isinstance(marker, ast.Call) and len(marker.args) == 1):
        return None
    named = marker.args[0]
    types = [named] if isinstance(named, ast.Constant) else named.elts if isinstance(named, (ast.List, ast.Tuple)) else []
    if not types or not all(isinstance(t, ast.Constant) and isinstance(t.value, str) for t in types):
        return None
    if any("cpu" in t.value for t in types):  # type: ignore[attr-defined]
        return None
    return Skips(True, not any(t.value == "cuda" for t in types))  # type: ignore[attr-defined]


def always_skips(marker: ast.expr, names: ImportTable) -> bool:
    """Whether a marker skips its test unconditionally, written bare (`@pytest.mark.skip`,
    `@unittest.skip`) or called with a reason (`pytest.mark.skip(reason="flaky")`); a conditional
    marker (`skipif(cond)`) is `skip_call`'s. So does an expected failure with no condition and no
    expected exception (`@pytest.mark.xfail(reason="...")`, `@unittest.expectedFailure`): the suite
    passes on every machine whatever its sites raise there, so none of them breaks a target."""
    qualified = names.resolve(marker.func if isinstance(marker, ast.Call) else marker)
    if qualified in EXPECTED_FAILURES:
        return not (isinstance(marker, ast.Call) and (marker.args or any(k.arg in _XFAIL_NARROWING for k in marker.keywords)))
    return qualified in SKIP_ALWAYS


def decorator_skips(function: ast.FunctionDef | ast.AsyncFunctionDef, names: ImportTable) -> Skips | None:
    """Where a decorator the project defines skips the tests it wraps: one whose wrapper skips first
    (`def require_cuda(func):` / `@wraps(func) def wrapper(*args, **kwargs):` / `if not
    torch.cuda.is_available(): pytest.skip(...)` / `return func(*args, **kwargs)` / `return wrapper`),
    or one that hands its test to a skip marker (`return unittest.skipUnless(cond, "...")(test_case)`).
    None for any other function: what it skips is then said by its name alone (`guards.marker_probes`)."""
    body = [statement for statement in function.body if not _is_docstring_or_import(statement)]
    last = body[-1] if body else None
    if not (isinstance(last, ast.Return) and last.value is not None):
        return None
    if isinstance(last.value, ast.Call) and isinstance(last.value.func, ast.Call):
        return skip_call(last.value.func, names)
    wrapper = next(
        (
            statement
            for statement in body
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
            and isinstance(last.value, ast.Name)
            and statement.name == last.value.id
        ),
        None,
    )
    steps = [statement for statement in wrapper.body if not _is_docstring_or_import(statement)] if wrapper else []
    first = steps[0] if steps else None
    if isinstance(first, ast.If) and not first.orelse and first.body and is_skip_call(first.body[-1], names):
        return skips_where(first.test, names)
    return None


def factory_skips(function: ast.FunctionDef | ast.AsyncFunctionDef, names: ImportTable) -> Skips | None:
    """Where the markers a factory the project defines skip the tests they mark (`@run_if_flag("X")`
    for `def run_if_flag(name): return pytest.mark.skipif(os.environ.get(name, "0") != "1", ...)`,
    or a marker returned from each branch of an `if` on a local name assigned such a lookup): the
    body followed on each machine (`_first_return`), what its parameters hold unknown. None for a
    function that returns anything but a skip marker on the way."""
    body = [statement for statement in function.body if not _is_docstring_or_import(statement)]
    if not any(isinstance(node, ast.Return) for statement in body for node in subtree(statement)):
        return None
    arguments = function.args
    parameters = frozenset(
        a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg) if a
    )
    rocm = names.rocm_capabilities
    on_rocm = None
    if isinstance(rocm, RocmCapabilities):
        on_rocm = _all(_returned_skip(body, names, Machine(reported, True), parameters) for reported in rocm.reported)
    without_cuda = _all(_returned_skip(body, names, machine, parameters) for machine in WITHOUT_CUDA)
    return None if without_cuda is None and on_rocm is None else Skips(without_cuda, on_rocm)


def _returned_skip(body: list[ast.stmt], names: ImportTable, machine: Machine, parameters: frozenset[str]) -> bool | None:
    """Whether the skip marker a factory's body returns on `machine` skips there."""
    marker = _first_return(body, names, machine, {}, parameters)
    if not isinstance(marker, ast.Call):
        return None
    if always_skips(marker, names):
        return True
    qualified = names.resolve(marker.func)
    if (qualified not in SKIP_IF and qualified not in SKIP_UNLESS) or not marker.args:
        return None
    holds = _truth(marker.args[0], names, machine, set())
    return None if holds is None else holds is (qualified in SKIP_IF)


_OPEN: Any = object()


def _first_return(
    body: list[ast.stmt], names: ImportTable, machine: Machine, local: dict[str, ast.expr], parameters: frozenset[str]
) -> Any:
    """What the first `return` a function's `body` reaches on `machine` returns, its local names
    (`local`: each assigned before it is read, a parameter given an argument) read as their values,
    the other `parameters` as unknown:
    None where the body falls through, `_OPEN` where the way is not known (an `if` the machine does
    not decide, a loop, a `try`)."""
    for statement in body:
        if isinstance(statement, ast.Return):
            return substituted(statement.value or ast.Constant(None), local, parameters)
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            local[statement.targets[0].id] = substituted(statement.value, local, parameters)
        elif isinstance(statement, ast.If):
            holds = _truth(substituted(statement.test, local, parameters), names, machine, set())
            if holds is None:
                return _OPEN
            returned = _first_return(statement.body if holds else statement.orelse, names, machine, local, parameters)
            if returned is not None:
                return returned
        elif not (isinstance(statement, (ast.Pass, ast.Expr, ast.Assert, ast.Import, ast.ImportFrom)) or _imports_only(statement)):
            return _OPEN
    return None


def _imports_only(statement: ast.stmt) -> bool:
    """`try: import pytest` / `except ImportError: raise ...`: an import a function checks, nothing it computes."""
    return isinstance(statement, ast.Try) and all(isinstance(inner, (ast.Import, ast.ImportFrom)) for inner in statement.body)


def _function_value(node: ast.Call, function: ast.FunctionDef | ast.AsyncFunctionDef, names: ImportTable, machine: Machine, seen: set[str]) -> Any:
    """What a call of one of the module's own functions returns on `machine` (`def _fp8_ok(): if not
    torch.cuda.is_available(): return False ...`), its parameters given the call's arguments."""
    values, parameters = call_arguments(function, node)
    returned = _first_return(function.body, names, machine, dict(values), parameters - set(values))
    if returned is None:
        return None
    return _UNKNOWN if returned is _OPEN else _value(returned, names, machine, seen | {function.name})


def _is_docstring_or_import(statement: ast.stmt) -> bool:
    return isinstance(statement, (ast.Import, ast.ImportFrom)) or (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    )


def skips_where(condition: ast.expr, names: ImportTable, skip_when: bool = True) -> Skips:
    """Where a test is skipped that is skipped when `condition` is `skip_when`."""
    rocm = names.rocm_capabilities
    on_rocm = None
    if isinstance(rocm, RocmCapabilities):
        on_rocm = _all(_truth(condition, names, Machine(reported, True), set()) for reported in rocm.reported)
    without_cuda = _all(_truth(condition, names, machine, set()) for machine in WITHOUT_CUDA)
    return Skips(_when(without_cuda, skip_when), _when(on_rocm, skip_when))


def _when(truth: bool | None, skip_when: bool) -> bool | None:
    return None if truth is None else truth is skip_when


def _all(truths: Iterator[bool | None]) -> bool | None:
    """True where the condition holds on every machine, False where on none, None otherwise."""
    seen = set(truths)
    return seen.pop() if len(seen) == 1 and None not in seen else None


def _truth(node: ast.expr, names: ImportTable, machine: Machine, seen: set[str]) -> bool | None:
    value = _value(node, names, machine, seen)
    if value is _UNKNOWN:
        return None
    return value is _SET or bool(value)


def _value(node: ast.expr, names: ImportTable, machine: Machine, seen: set[str]) -> Any:
    """What `node` evaluates to on `machine`, or `_UNKNOWN`."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple):
        items = [_value(element, names, machine, seen) for element in node.elts]
        return _UNKNOWN if any(item is _UNKNOWN for item in items) else tuple(items)
    if isinstance(node, ast.BoolOp):
        return _bool_op(node, names, machine, seen)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        truth = _truth(node.operand, names, machine, seen)
        return _UNKNOWN if truth is None else not truth
    if isinstance(node, ast.Compare):
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)) and names.resolve(node.comparators[0]) == "os.environ":
            if _set_by_a_launcher(node.left):
                return _UNKNOWN
            return isinstance(node.ops[0], ast.NotIn)  # `"RUN_X" in os.environ`: unset on a default run
        return _compare(node, names, machine, seen)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value in (0, 1):
        whole = _value(node.value, names, machine, seen)
        if not (isinstance(whole, tuple) and len(whole) == 2):
            return _UNKNOWN
        return whole[0] if node.slice.value == 0 else whole[1]
    if isinstance(node, ast.Call):
        return _call(node, names, machine, seen)
    if machine.capability is None and isinstance(node, ast.Name) and names.binding(node.id) is None and (
        node.id in failed_import_flags(names)
    ):
        return True  # `SKIP_TEST = e` where importing a module no machine without a GPU has failed
    if machine.capability is None and isinstance(node, (ast.Name, ast.Attribute)) and (
        holds_only_with_package(node, names) or _needs_cuda(node, names)
    ):
        return False  # `HAVE_TE`: the package has no build for a machine without a GPU; `TEST_CUDA`
    if isinstance(node, ast.Attribute):
        if node.attr in CAPABILITY_FIELDS and isinstance(node.value, ast.Call) and names.resolve(node.value.func) == PROPERTIES:
            return machine.capability[CAPABILITY_FIELDS[node.attr]] if machine.capability else _UNKNOWN
        qualified = names.resolve(node)
        if qualified in ("torch.version.hip", "torch.version.cuda") and machine.hip is not None:
            return _SET if machine.hip is (qualified == "torch.version.hip") else None
        return _UNKNOWN
    if isinstance(node, ast.Name) and node.id not in seen and names.binding(node.id) is None:
        default = capability_defaults(names).get(node.id)
        if default is not None:
            return default[1] if machine.capability is None else _part(machine.capability, default[0])
        value = names.module_value(node.id)
        return _UNKNOWN if value is None else _value(value, names, machine, seen | {node.id})
    return _UNKNOWN


def _bool_op(node: ast.BoolOp, names: ImportTable, machine: Machine, seen: set[str]) -> Any:
    """`and`/`or` as Python evaluates them: the first operand that decides, whatever follows it."""
    deciding = isinstance(node.op, ast.Or)
    open_ = False
    for operand in node.values:
        truth = _truth(operand, names, machine, seen)
        if truth is deciding:
            return deciding
        open_ = open_ or truth is None
    return _UNKNOWN if open_ else not deciding


def _compare(node: ast.Compare, names: ImportTable, machine: Machine, seen: set[str]) -> Any:
    left = _value(node.left, names, machine, seen)
    for op, comparator in zip(node.ops, node.comparators):
        right = _value(comparator, names, machine, seen)
        if left is _UNKNOWN or right is _UNKNOWN:
            return _UNKNOWN
        if isinstance(op, (ast.Is, ast.IsNot)):
            holds = (left is right) is isinstance(op, ast.Is)
        elif type(op) in COMPARE and _SET not in (left, right):
            try:
                holds = COMPARE[type(op)](left, right)
            except TypeError:
                return _UNKNOWN
        else:
            return _UNKNOWN
        if not holds:
            return False
        left = right
    return True


def _call(node: ast.Call, names: ImportTable, machine: Machine, seen: set[str]) -> Any:
    qualified = names.resolve(node.func)
    if qualified in _ENVIRONMENT_READS and node.args:
        return _fallback(node, names, machine, seen)
    converted = _converted(node, names, machine, seen)
    if converted is not _UNKNOWN:
        return converted
    func = node.func
    if isinstance(func, ast.Name) and names.binding(func.id) is None and func.id not in seen:
        function = names.function(func.id)
        if function is not None:
            return _function_value(node, function, names, machine, seen)
    if machine.capability is None and _needs_cuda(func, names):
        return False  # `is_sm_at_least_90()` of `pkg.utils`: a flag function true only where CUDA is
    if qualified == "torch.cuda.is_available":
        return machine.capability is not None
    if qualified == "torch.cuda.device_count" or (qualified in _BACKEND_COUNTS and _counts_test_device(node, names)):
        return 0 if machine.capability is None else _UNKNOWN
    if qualified == CAPABILITY and machine.capability is not None:
        return machine.capability
    if machine.capability is None and asks_for_cuda_part(node):
        return False  # `is_extension_available("ops_cuda")`: registered only where CUDA is
    return _UNKNOWN


_TORCH_TESTING_CUDA = frozenset({
    "torch.testing._internal.common_utils.TEST_CUDA",
    "torch.testing._internal.common_cuda.TEST_CUDA",
    "torch.testing._internal.common_cuda.TEST_MULTIGPU",
})
"""PyTorch's own test flags, true only where `torch.cuda` has a device (`TEST_CUDA = torch.cuda.is_available()`,
`TEST_MULTIGPU = TEST_CUDA and torch.cuda.device_count() >= 2`: torch/testing/_internal/common_utils.py and
common_cuda.py, https://github.com/pytorch/pytorch/blob/main/torch/testing/_internal/common_cuda.py)."""


def _needs_cuda(node: ast.expr, names: ImportTable) -> bool:
    """Whether a flag (or a flag function) another module of the project defines, or one of PyTorch's
    own test flags, holds only where `torch.cuda` has a device (`guards.flag_meaning`'s CUDA probe on
    its true branch, through the index)."""
    if not isinstance(node, (ast.Name, ast.Attribute)):
        return False
    if names.resolve(node) in _TORCH_TESTING_CUDA:
        return True
    meaning = names.project_flag(node)
    return bool(meaning) and (Probe.CUDA, Polarity.POSITIVE) in meaning


def _fallback(lookup: ast.Call, names: ImportTable, machine: Machine, seen: set[str]) -> Any:
    """What an environment lookup (`os.environ.get(key, fallback)`) gives on a default run: its fallback, None without one.
    A variable a launcher sets (`WORLD_SIZE`) is set on a launched run, another path, and stays unknown."""
    if _set_by_a_launcher(lookup.args[0]):
        return _UNKNOWN
    fallback = lookup.args[1] if len(lookup.args) > 1 else next((k.value for k in lookup.keywords if k.arg == "default"), None)
    return None if fallback is None else _value(fallback, names, machine, seen)


def _set_by_a_launcher(key: ast.expr) -> bool:
    return isinstance(key, ast.Constant) and isinstance(key.value, str) and is_launch_variable(key.value)


def _converted(node: ast.Call, names: ImportTable, machine: Machine, seen: set[str]) -> Any:
    """`int(...)`, `bool(...)` of a known value, `min(...)`/`max(...)` of known numbers
    (`min(torch.cuda.device_count(), 4)`), and `.lower()` (`_STRING_METHODS`) of a known string."""
    func = node.func
    if node.keywords or (node.args and isinstance(func, ast.Attribute)):
        return _UNKNOWN
    if isinstance(func, ast.Name) and func.id in _EXTREMES and names.binding(func.id) is None and len(node.args) > 1:
        values = [_value(argument, names, machine, seen) for argument in node.args]
        if all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values):
            return _EXTREMES[func.id](values)
        return _UNKNOWN
    if isinstance(func, ast.Name) and func.id in _CONVERSIONS and names.binding(func.id) is None and len(node.args) == 1:
        inner = _value(node.args[0], names, machine, seen)
        if inner is _UNKNOWN or inner is _SET:
            return _UNKNOWN
        try:
            return _CONVERSIONS[func.id](inner)
        except (TypeError, ValueError):
            return _UNKNOWN
    if isinstance(func, ast.Attribute) and func.attr in _STRING_METHODS:
        inner = _value(func.value, names, machine, seen)
        return getattr(inner, func.attr)() if isinstance(inner, str) else _UNKNOWN
    return _UNKNOWN


def _counts_test_device(node: ast.Call, names: ImportTable) -> bool:
    """Whether a backend counter (`_BACKEND_COUNTS`) is asked about the test device or CUDA, which
    count nothing where `torch.cuda` has no device (a backend it does not know counts as its default)."""
    if len(node.args) != 1 or node.keywords:
        return False
    device = node.args[0]
    if isinstance(device, ast.Constant):
        return device.value in ("cuda", "cpu")
    return names.resolve(device) in _BACKEND_NAMES


def _part(capability: tuple[int, int], part: int | None) -> Any:
    return capability if part is None else capability[part]


def capability_defaults(names: ImportTable) -> dict[str, tuple[int | None, Any]]:
    """Module-level names that hold the compute capability where `torch.cuda` has a device and a
    literal elsewhere: `cap = (0, 0)` then `if torch.cuda.is_available(): cap = f()`, or `cap = f()
    if torch.cuda.is_available() else (0, 0)`, by name, with the part of the capability they hold
    (None for both, 0 for the major, 1 for the minor) and their literal. Every module-level
    assignment of the name must be one of these."""
    if names.capability_defaults is None:
        names.capability_defaults = dict(_capability_defaults(names))
    return names.capability_defaults


def _capability_defaults(names: ImportTable) -> Iterator[tuple[str, tuple[int | None, Any]]]:
    reads: dict[str, set[int | None]] = {}
    literals: dict[str, set[Any]] = {}
    spoiled: set[str] = set()
    for name, value, on_gpu in _module_assignments(getattr(names.tree, "body", []), names, False):
        read = _read_part(value, names)
        literal = _literal(value)
        if read is not _UNKNOWN and on_gpu:
            reads.setdefault(name, set()).add(read)
        elif literal is not _UNKNOWN and not on_gpu:
            literals.setdefault(name, set()).add(literal)
        elif isinstance(value, ast.IfExp) and _capability_or_literal(value, names):
            read, literal = _capability_or_literal(value, names) or (None, None)
            reads.setdefault(name, set()).add(read)
            literals.setdefault(name, set()).add(literal)
        else:
            spoiled.add(name)
    for name, parts in reads.items():
        if name not in spoiled and len(parts) == 1 and len(literals.get(name, ())) == 1:
            yield name, (next(iter(parts)), next(iter(literals[name])))


def _module_assignments(body: list[ast.stmt], names: ImportTable, on_gpu: bool) -> Iterator[tuple[str, ast.expr, bool]]:
    """Each module-level assignment to a name, with whether it runs only where `torch.cuda` has a device."""
    for statement in body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                yield target.id, statement.value, on_gpu
            else:
                for inner in subtree(target):
                    if isinstance(inner, ast.Name):
                        yield inner.id, target, on_gpu  # unpacked: no value of its own
        elif isinstance(statement, ast.If):
            side = None if on_gpu else polarity(statement.test, names, Probe.CUDA)
            yield from _module_assignments(statement.body, names, on_gpu or side is Polarity.POSITIVE)
            yield from _module_assignments(statement.orelse, names, on_gpu or side is Polarity.NEGATIVE)


def _capability_or_literal(node: ast.IfExp, names: ImportTable) -> tuple[int | None, Any] | None:
    """`f() if torch.cuda.is_available() else (0, 0)`, either way round: the part read and the literal."""
    side = polarity(node.test, names, Probe.CUDA)
    if side is None:
        return None
    on_gpu, elsewhere = (node.body, node.orelse) if side is Polarity.POSITIVE else (node.orelse, node.body)
    read, literal = _read_part(on_gpu, names), _literal(elsewhere)
    return None if read is _UNKNOWN or literal is _UNKNOWN else (read, literal)


def _read_part(node: ast.expr, names: ImportTable) -> Any:
    """None for a capability read (`torch.cuda.get_device_capability(d)`), 0 or 1 for one of its
    parts (`...()[0]`, `get_device_properties(d).major`), `_UNKNOWN` for anything else."""
    call, part, reader = node, None, CAPABILITY
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value in (0, 1):
        call, part = node.value, node.slice.value
    elif isinstance(node, ast.Attribute) and node.attr in CAPABILITY_FIELDS:
        call, part, reader = node.value, CAPABILITY_FIELDS[node.attr], PROPERTIES
    return part if isinstance(call, ast.Call) and names.resolve(call.func) == reader else _UNKNOWN


def _literal(node: ast.expr) -> Any:
    """`(0, 0)` or `0`: a capability no GPU reports; `_UNKNOWN` for anything else."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Tuple) and all(isinstance(e, ast.Constant) and type(e.value) is int for e in node.elts):
        return tuple(e.value for e in node.elts)  # type: ignore[attr-defined]
    return _UNKNOWN



SkipMarkers = tuple[tuple[str, tuple[bool | None, bool | None]], ...]
"""(marker name, (skipped without CUDA, skipped on every ROCm GPU)) for each marker a module keeps in
a module-level name or defines as a decorator, as plain data for the cache and the digest; a factory
of markers (`factory_skips`) is kept as its name and `()`, `run_if_flag()`, as it is used called."""

_MARKER = re.compile(rb"^[A-Za-z_]\w*[ \t]*=[ \t]*[\w.]*(?:skipif|skipIf|skipUnless)\(", re.MULTILINE)
"""A module-level name assigned a skip marker on its first line (matched at a line's start)."""


_DECORATOR_SKIP = re.compile(rb"(?<![ \t])[ \t]+(?:[\w.]*\.skip\(|[\w.]*\.skipTest\(|raise [\w.]*SkipTest\b|return [\w.]*(?:skipif|skipIf|skipUnless)\()")
"""An indented line that skips (`pytest.skip(`, `self.skipTest(`, `raise unittest.SkipTest`) or returns a
skip marker (`return unittest.skipUnless(`): a function of the module may be a skipping decorator."""


def _has_marker(data: bytes) -> bool:
    """Whether a line of the module starts with `_MARKER` or `_DECORATOR_SKIP`. Every such line spells
    `skip`: the word is found by a byte search and only its lines are matched, where the patterns,
    anchored at every line start, were tried at every byte of the module."""
    found = data.find(b"skip")
    while found >= 0:
        start = data.rfind(b"\n", 0, found) + 1
        if _MARKER.match(data, start) is not None or _DECORATOR_SKIP.match(data, start) is not None:
            return True
        end = data.find(b"\n", found)
        if end < 0:
            return False
        found = data.find(b"skip", end)
    return False


def read_skip_markers(path: str, data: bytes, catalog: Catalog) -> SkipMarkers:
    """The skip markers the module at display path `path` keeps in module-level names or defines as
    decorators (`decorator_skips`), with where they skip, for the modules that import them. Test
    modules (`test_*.py`, `*_test.py`) are left out: other modules import markers from shared ones.
    Raises SyntaxError for a module that does not parse."""
    name = posixpath.basename(path)
    if name.startswith("test_") or name.endswith("_test.py") or not _has_marker(data):
        return ()
    tree = read_tree(decode_python(data), filename=path)
    names = ImportTable(tree, rocm_capabilities=RocmCapabilities.from_tables(catalog.tables("rocm_capabilities")))
    found = []
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and names.function(statement.name) is statement:
            skips = decorator_skips(statement, names)
            if skips is not None and (skips.without_cuda is not None or skips.on_rocm is not None):
                found.append((statement.name, (skips.without_cuda, skips.on_rocm)))
            skips = factory_skips(statement, names)
            if skips is not None:
                found.append((f"{statement.name}()", (skips.without_cuda, skips.on_rocm)))
            continue
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and isinstance(statement.value, ast.Call)
            and names.module_value(statement.targets[0].id) is statement.value
        ):
            continue
        skips = skip_call(statement.value, names)
        if skips is not None and (skips.without_cuda is not None or skips.on_rocm is not None):
            found.append((statement.targets[0].id, (skips.without_cuda, skips.on_rocm)))
    return tuple(sorted(found))
