"""Where a test class's per-test set-up runs, and where its skip keeps the class's tests.

A test runner calls a class's per-test set-up (`setUp`, `setup_method`) before each of its tests
and its tear-down after, so two things follow for a test class:

- a set-up that skips at its top level (`if not HAVE_TE: pytest.skip(...)`, a call of a module
  function that opens with one, `pytest.importorskip("transformer_engine")`), first or after other
  checks that can only skip more (`if torch_version() < (1, 6): raise unittest.SkipTest(...)`),
  skips every test of the class where it skips: the class's methods run only where it does not,
  and the set-up's own statements before the skip wherever it is collected (`opening_skip_region`).
  A class inherits that set-up from a base that has it, of its module or, through the project
  index, of another module (`class TestHooks(GpuCase)` after `from .test_base import GpuCase`:
  `read_set_up_skips`), unless a set-up of its own leaves the base's uncalled (no `super().setUp()`);
- a set-up runs only for a test that is not skipped by its markers: unittest checks a skipped
  test's `__unittest_skip__` before `setUp`, and pytest evaluates `skipif` marks before the
  fixtures that call `setup_method`. Where every test of the class carries a marker that skips
  it without CUDA (or always), its set-up and tear-down never run there either
  (`gated_tests_region`). A class with bases other than `object` and unittest's `TestCase` may
  inherit tests this reading cannot see: it is left as it is.

Once-per-class set-up (`setUpClass`, `setup_class`) is not read: unittest runs it even where
each test is skipped.

PyTorch's multi-process test cases (`MultiProcessTestCase` of `torch.testing._internal.common_distributed`,
and `FSDPTest`, `DTensorTestBase` built on it) run each test in `world_size` processes they spawn
(`for rank in range(int(self.world_size))` in `_spawn_processes`). A class whose `world_size` counts
the CUDA devices (`return min(torch.cuda.device_count(), 4)`) spawns none where `torch.cuda` has no
device: its tests run only where it has one (`spawned_region`).

PyTorch's device-type tests (`instantiate_device_type_tests(TestNorm, globals(), only_for=("cuda",))`)
make one class per device type the machine has; a generic class every instantiation of which leaves
the CPU out has no test on a machine without a CUDA device (`instantiated_classes`), and a ROCm GPU
is the "cuda" device type. The per-test `@onlyCUDA` is a skip marker (`skip_conditions.device_type_skips`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cudaudit.rules.python.capability_use import RocmCapabilities
from cudaudit.rules.python.guards import exits_early, is_skip_call, skips_without_module
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import statements
from cudaudit.rules.python.regions import NEUTRAL, Region, decorated_region, region_after
from cudaudit.rules.python.skip_conditions import SkipMarkers, skips_where
from cudaudit.source import decode_python, read_tree

if TYPE_CHECKING:
    from cudaudit.rules.catalog import Catalog

SET_UPS = frozenset({"setUp", "setup_method", "asyncSetUp"})
"""The methods a test runner calls before each test of a class."""
PER_TEST = SET_UPS | frozenset({"tearDown", "teardown_method", "asyncTearDown"})
"""Those and the ones it calls after each test."""
_TEST_CASES = frozenset({"unittest.TestCase", "unittest.case.TestCase", "unittest.IsolatedAsyncioTestCase"})
_TORCH_TESTING = "torch.testing._internal."
"""Where PyTorch keeps its test cases, the multi-process ones among them."""


def opening_skip_region(
    node: ast.ClassDef,
    names: ImportTable,
    skip_check_of: Callable[[ast.stmt], ast.If | None],
    classes: Mapping[str, ast.ClassDef] | None = None,
) -> SetUpSkip:
    """The region every test of the class runs in where its per-test set-up skips (`set_up_skip`),
    or where it inherits such a set-up: from a class of the module (`classes`, by name) or of another
    module of the project (`class TestHooks(GpuTestBase)` after `from .test_base import GpuTestBase`,
    through the index: `read_set_up_skips`); `skip_check_of` finds the skipping `if` of a module
    function the set-up calls (`reach.ModuleReach.skip_check_of`)."""
    return _class_skip(node, names, skip_check_of, classes or {}, frozenset())


@dataclass(frozen=True)
class SetUpSkip:
    """Where a class's tests run as its set-up leaves them, and the set-up method whose own statements
    before its skip run unguarded (None where the skip opens it, or where it is inherited)."""

    region: Region
    set_up: ast.FunctionDef | ast.AsyncFunctionDef | None = None


_NO_SKIP = SetUpSkip(NEUTRAL)


def _class_skip(
    node: ast.ClassDef,
    names: ImportTable,
    skip_check_of: Callable[[ast.stmt], ast.If | None],
    classes: Mapping[str, ast.ClassDef],
    seen: frozenset[str],
) -> SetUpSkip:
    set_up = next(
        (m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name in SET_UPS), None
    )
    if set_up is not None:
        own = set_up_skip(set_up, names, skip_check_of)
        if own.region or not _calls_super_set_up(set_up):
            return own
    for base in node.bases:
        if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
            inherited = _class_skip(classes[base.id], names, skip_check_of, classes, seen | {node.name}).region
        else:
            inherited = _skips_region(names.project_marker(base, suffix=SET_UP_SUFFIX))
        if inherited:
            return SetUpSkip(inherited, set_up)
    return _NO_SKIP


def set_up_skip(
    set_up: ast.FunctionDef | ast.AsyncFunctionDef, names: ImportTable, skip_check_of: Callable[[ast.stmt], ast.If | None]
) -> SetUpSkip:
    """Where a set-up's skip leaves the tests it runs before: the first skip at its top level that
    asks about the machine (`if not torch.cuda.is_available(): raise unittest.SkipTest(...)`, a call
    of a module function that opens with one, `pytest.importorskip("transformer_engine")`), after any
    other checks (`if torch_version() < (1, 6): raise unittest.SkipTest(...)`), which only skip more.
    A statement that may return from the set-up before it ends the search: the tests would then run
    unchecked. Where the skip is not the set-up's first statement, the statements before it run
    wherever the tests are collected: the set-up is named so that its walk stays as it is."""
    found = NEUTRAL
    first = True
    for statement in set_up.body:
        if _is_docstring_or_super_call(statement):
            continue
        region = _statement_skip(statement, names, skip_check_of)
        if region.cuda_guarded or region.elsewhere:
            return SetUpSkip(region, None if first else set_up)
        if region and not found and first:
            found = region
        if any(isinstance(inner, ast.Return) for inner in statements(statement)):
            break
        first = False
    return SetUpSkip(found)


def _statement_skip(statement: ast.stmt, names: ImportTable, skip_check_of: Callable[[ast.stmt], ast.If | None]) -> Region:
    """The region after one statement of a set-up where it is a skip, neutral otherwise."""
    if isinstance(statement, ast.If) and exits_early(statement.body) and is_skip_call(statement.body[-1], names):
        return region_after(statement, names)
    check = skip_check_of(statement)
    if check is not None:
        return region_after(check, names)
    if skips_without_module(statement, names) is not None:
        return region_after(statement, names)
    return NEUTRAL


def _calls_super_set_up(set_up: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a set-up that overrides its base's calls it (`super().setUp()`) at its top level."""
    return any(
        _is_docstring_or_super_call(statement) and not isinstance(statement.value, ast.Constant)  # type: ignore[attr-defined]
        for statement in set_up.body
    )


def _skips_region(skips: tuple[bool | None, bool | None] | None) -> Region:
    """The region of what the index says a set-up of another module skips (`read_set_up_skips`)."""
    if skips is None:
        return NEUTRAL
    return Region(cuda_guarded=skips[0] is True, rocm_aware=skips[1] is True)


SET_UP_SUFFIX = ".setUp"
"""How the index keeps a class whose per-test set-up skips: as its set-up method, among the skip markers."""


_SET_UP = re.compile(rb"^[ \t]+(?:async[ \t]+)?def[ \t]+(?:setUp|setup_method|asyncSetUp)\(", re.MULTILINE)
"""An indented definition of a per-test set-up (`SET_UPS`), which a byte search finds before any parse."""


def read_set_up_skips(path: str, data: bytes, catalog: Catalog) -> SkipMarkers:
    """(`Class.setUp`, (skipped without CUDA, skipped on every ROCm GPU)) for each top-level class of
    the module at display path `path` whose per-test set-up skips, itself or through a base of the
    module, for the test modules whose classes derive from it (`class TestHooks(GpuTestBase)` after
    `from .test_base import GpuTestBase`), kept with the project's skip markers (`names.project_marker`
    with `SET_UP_SUFFIX`); a skip through a module function the set-up calls is not read here. Raises
    SyntaxError for a module that does not parse."""
    if b"kip" not in data or _SET_UP.search(data) is None:  # the byte search first: the pattern tries every byte
        return ()
    tree = read_tree(decode_python(data), filename=path)
    names = ImportTable(tree, rocm_capabilities=RocmCapabilities.from_tables(catalog.tables("rocm_capabilities")))
    classes = {statement.name: statement for statement in tree.body if isinstance(statement, ast.ClassDef)}
    found = []
    for name, node in classes.items():
        region = _class_skip(node, names, lambda _: None, classes, frozenset()).region
        if region.cuda_guarded or region.elsewhere:
            found.append((f"{name}{SET_UP_SUFFIX}", (True, region.rocm_aware or region.elsewhere or None)))
    return tuple(sorted(found))


def gated_tests_region(node: ast.ClassDef, names: ImportTable) -> Region:
    """The region of a class's per-test set-up and tear-down where every test of the class is
    skipped by its own markers without CUDA (or always); neutral otherwise."""
    if not all(
        (isinstance(base, ast.Name) and base.id == "object") or names.resolve(base) in _TEST_CASES for base in node.bases
    ):
        return NEUTRAL
    tests = [
        method
        for method in node.body
        if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and method.name.startswith("test")
    ]
    regions = [decorated_region(test, names) for test in tests]
    if not regions or not all(region.cuda_guarded or region.elsewhere for region in regions):
        return NEUTRAL
    return Region(cuda_guarded=True, elsewhere=all(region.elsewhere for region in regions))


def spawned_region(node: ast.ClassDef, names: ImportTable) -> Region:
    """The region a multi-process test class of PyTorch's runs its tests in: guarded where its own
    `world_size` (a property, a method or a class attribute) is 0 without a CUDA device; neutral otherwise."""
    if not any((names.resolve(base) or "").startswith(_TORCH_TESTING) for base in node.bases):
        return NEUTRAL
    for item in node.body:
        value = _world_size(item)
        if value is not None:
            none_spawned = ast.Compare(left=value, ops=[ast.Eq()], comparators=[ast.Constant(0)])
            return Region(cuda_guarded=True) if skips_where(none_spawned, names).without_cuda else NEUTRAL
    return NEUTRAL


def _world_size(item: ast.stmt) -> ast.expr | None:
    """What a class's `world_size` is: the value of `world_size = ...`, or what a `def world_size(self)`
    whose body is one `return` returns."""
    if isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "world_size" for t in item.targets):
        return item.value
    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "world_size":
        body = [statement for statement in item.body if not _is_docstring_or_super_call(statement)]
        if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
            return body[0].value
    return None


def _is_docstring_or_super_call(statement: ast.stmt) -> bool:
    if not isinstance(statement, ast.Expr):
        return False
    value = statement.value
    if isinstance(value, ast.Constant):
        return True
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and isinstance(value.func.value, ast.Call)
        and isinstance(value.func.value.func, ast.Name)
        and value.func.value.func.id == "super"
    )


INSTANTIATE = "torch.testing._internal.common_device_type.instantiate_device_type_tests"
"""PyTorch's generator of device-type tests: it takes the generic class out of the module and adds one
class per device type the machine has (on one without a GPU, the CPU's alone), keeping only those
`only_for` names and leaving out those `except_for` names (torch 2.13
`testing/_internal/common_device_type.py`: `instantiate_device_type_tests`, `filter_desired_device_types`;
on a CPU build `get_desired_device_type_test_bases(only_for=("cuda",))` is empty)."""


def instantiated_classes(module: ast.Module, names: ImportTable) -> frozenset[str]:
    """The generic test classes of a module whose every instantiation for device types
    (`instantiate_device_type_tests(TestNorm, globals(), only_for=("cuda",))`) leaves the CPU out:
    their tests exist only where `torch.cuda` has a device (a ROCm GPU is the "cuda" device type)."""
    verdicts: dict[str, bool] = {}
    for statement in module.body:
        call = statement.value if isinstance(statement, ast.Expr) else None
        if not (isinstance(call, ast.Call) and call.args and isinstance(call.args[0], ast.Name)):
            continue
        if names.resolve(call.func) == INSTANTIATE:
            name = call.args[0].id
            verdicts[name] = verdicts.get(name, True) and _leaves_out_cpu(call)
    return frozenset(name for name, without_cpu in verdicts.items() if without_cpu)


def _leaves_out_cpu(call: ast.Call) -> bool:
    """Whether an instantiation makes no CPU class: `only_for` names device types without the CPU, or
    `except_for` names the CPU (without `include_lazy=True`, which adds the lazy device's)."""
    arguments = dict(zip(("except_for", "only_for", "include_lazy"), call.args[2:]))
    arguments.update((keyword.arg, keyword.value) for keyword in call.keywords if keyword.arg)
    only_for = _device_types(arguments.get("only_for"))
    if only_for:
        return "cpu" not in only_for
    lazy = arguments.get("include_lazy")
    if lazy is not None and not (isinstance(lazy, ast.Constant) and not lazy.value):
        return False
    return "cpu" in (_device_types(arguments.get("except_for")) or ())


def _device_types(node: ast.expr | None) -> tuple[str, ...] | None:
    """The device types a literal argument names (`"cuda"`, `("cuda", "xpu")`); None for anything else.
    A string is tested with `in` as a string (`"cpu" in "cuda"` is False)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return ("cpu",) if "cpu" in node.value else (node.value,)
    if isinstance(node, (ast.Tuple, ast.List)) and node.elts and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return tuple(e.value for e in node.elts)  # type: ignore[attr-defined]
    return None
