"""Where a test class's per-test set-up runs, and where its skip keeps the class's tests.

A test runner calls a class's per-test set-up (`setUp`, `setup_method`) before each of its tests
and its tear-down after, so two things follow for a test class:

- a set-up that opens with a skip (`if not HAVE_TE: pytest.skip(...)`, a call of a module function
  that opens with one, `pytest.importorskip("transformer_engine")`) skips every test of the class
  where it skips: the whole class runs only where it does not (`opening_skip_region`);
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
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from cudaudit.rules.python.guards import exits_early, is_skip_call, skips_without_module
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.regions import NEUTRAL, Region, decorated_region, region_after
from cudaudit.rules.python.skip_conditions import skips_where

SET_UPS = frozenset({"setUp", "setup_method", "asyncSetUp"})
"""The methods a test runner calls before each test of a class."""
PER_TEST = SET_UPS | frozenset({"tearDown", "teardown_method", "asyncTearDown"})
"""Those and the ones it calls after each test."""
_TEST_CASES = frozenset({"unittest.TestCase", "unittest.case.TestCase", "unittest.IsolatedAsyncioTestCase"})
_TORCH_TESTING = "torch.testing._internal."
"""Where PyTorch keeps its test cases, the multi-process ones among them."""


def opening_skip_region(
    node: ast.ClassDef, names: ImportTable, skip_check_of: Callable[[ast.stmt], ast.If | None]
) -> Region:
    """The region every test of the class runs in where its set-up opens with a skip (after its
    docstring and any `super().setUp()`); `skip_check_of` finds the skipping `if` of a module
    function the set-up calls (`reach.ModuleReach.skip_check_of`)."""
    for method in node.body:
        if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and method.name in SET_UPS:
            for statement in method.body:
                if _is_docstring_or_super_call(statement):
                    continue
                if isinstance(statement, ast.If) and exits_early(statement.body) and is_skip_call(statement.body[-1], names):
                    return region_after(statement, names)
                check = skip_check_of(statement)
                if check is not None:
                    return region_after(check, names)
                if skips_without_module(statement, names) is not None:
                    return region_after(statement, names)
                break
    return NEUTRAL


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
