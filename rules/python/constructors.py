"""Where a class's methods run, from what its constructor requires of every object it builds.

A class that works only on one device often says so once, in its constructor, and then uses that
device in every method without asking again:

    class StreamCopier:
        def __init__(self, device):
            assert device.type == "cuda", "CUDA only"
            self.stream = torch.cuda.Stream(device=device)

        def submit(self, dst, src):
            with torch.cuda.stream(self.stream):
                dst.copy_(src, non_blocking=True)

`submit` runs only on an object whose `__init__` went past the assert: where the assert fails no
object exists to call it on. So every method runs in the region the rest of `__init__` runs in
after such a statement (an `assert`, or an `if` with no `else` whose block ends by raising or
exiting: `regions.region_after`), as the statements after it in `__init__` itself do, where its
test asks about the device itself (a CUDA requirement, a device compared with `"cuda"` or `"cpu"`,
`x.is_cuda`). An early `return` in `__init__` still builds the object, and guards nothing for the
methods; a cap (another path) is not carried, only what the statement makes quiet.

Not for what may run without an object that passed: a `@staticmethod` or `@classmethod`, a
method `__init__` calls before the statement (`self._setup()` above the assert), nor the methods
Python calls on an object whose `__init__` raised or that `__init__` never ran for (`__del__`,
`__new__`, `__init_subclass__`, `__set_name__`, `__class_getitem__`). A subclass in another module
that overrides `__init__` without calling it is not seen.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from cudaudit.rules.python.guards import is_requirement, stops_the_program
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.regions import Region, region_after

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_NOT_ON_A_BUILT_OBJECT = frozenset({"__init__", "__del__", "__new__", "__init_subclass__", "__set_name__", "__class_getitem__"})
_UNBOUND = frozenset({"staticmethod", "classmethod"})
_DEVICE_STRING = re.compile(r"cuda(:\d+)?|cpu")


def built_regions(owner: ast.ClassDef, names: ImportTable) -> dict[int, tuple[Region, ...]]:
    """The methods of `owner` (by id) that run only on an object its `__init__` built past a
    requirement or guard, with the regions those statements leave the rest of `__init__` in, outermost
    first; empty for a class whose constructor requires nothing (see the module docstring)."""
    init = next(
        (item for item in owner.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "__init__"),
        None,
    )
    if init is None:
        return {}
    regions: list[Region] = []
    last = -1
    for index, statement in enumerate(init.body):
        if isinstance(statement, (ast.Assert, ast.If)) and _may_stop(statement) and _tests_the_device(statement, names):
            region = replace(region_after(statement, names), test=False, probe=False, cap=None)
            if region:
                regions.append(region)
                last = index
    if not regions:
        return {}
    called = {name for statement in init.body[:last] for name in _self_calls(statement)}
    """The methods `__init__` calls through `self` before its last requirement: they run before it."""
    return {
        id(item): tuple(regions)
        for item in owner.body
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
        and item.name not in _NOT_ON_A_BUILT_OBJECT
        and item.name not in called
        and not _unbound(item)
    }


def _may_stop(statement: ast.Assert | ast.If) -> bool:
    """An `assert`, or an `if` without `else` whose block ends by raising or exiting: where its test
    does not let the constructor go on, no object is built."""
    if isinstance(statement, ast.Assert):
        return True
    return not statement.orelse and stops_the_program(statement.body)


def _tests_the_device(statement: ast.Assert | ast.If, names: ImportTable) -> bool:
    """Whether the statement's test asks about the device itself: a CUDA requirement, or a test that
    spells a device (`device.type == "cuda"`, `x.is_cuda`, `device.type != "cpu"`). A test that only
    names a device word (`size % self.nccl_alignment == 0`) or asks a library
    (`get_accelerator().is_available()`, which a CPU accelerator answers too) is read as a guard
    where it stands, not for every method."""
    if is_requirement(statement, names):
        return True
    for node in subtree(statement.test):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _DEVICE_STRING.fullmatch(node.value):
            return True
        if isinstance(node, ast.Attribute) and node.attr == "is_cuda":
            return True
    return False


def _self_calls(statement: ast.stmt) -> set[str]:
    """The methods `statement` calls through `self` (`self._setup()`)."""
    return {
        node.func.attr
        for node in subtree(statement)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "self"
    }


def _unbound(function: FunctionNode) -> bool:
    """A `@staticmethod` or `@classmethod`: it runs without an object."""
    return any(isinstance(decorator, ast.Name) and decorator.id in _UNBOUND for decorator in function.decorator_list)
