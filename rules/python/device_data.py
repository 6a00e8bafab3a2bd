"""Device values a test module handles as data.

A test module that never imports PyTorch cannot reach a device by itself: the device strings and
indexes it spells are data it hands the code under test (`Namespace(device="cuda:1")`,
`queue.take(device="cuda:0")`, the argument list of a command-line parser) or answers it checks that
code against (`assert cfg.device == "cuda:1"`). A comparison of strings stops nothing for want of a
GPU, and where the code under test moves something to the device, that move is a site of its own,
reported where it is written. So in such a module those values are notes: the device strings and
ordinals, and an `assert` that compares one, which `guards.is_requirement` would read as the program
requiring CUDA. A module that imports PyTorch anywhere (a test that builds a tensor on the device it
names) keeps its verdicts, and so does a helper module of the test suite that defines no test.

The same holds, in a module that imports PyTorch, for a record a test writes out
(`meta = {"suite": "blur", "device": "cuda:0"}`, then `assert result_name(meta) == ...`) where the
test names no part of PyTorch, nor calls a function of its module that does (`record_values`): the
record is data, whatever the module imports for its other tests. A value such a test gives a call
as a device (`Namespace(device="cuda:1")`, or a record it spreads into a call's keywords,
`plan(**arguments)`) keeps its verdict there.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.reach import defines_tests
from cudaudit.rules.python.walker import Hit

DATA_DETECTORS = frozenset({"device-string", "device-ordinal"})
"""The detectors of device values: `"cuda:1"`, `device=0`."""
_REQUIREMENT = "requirement"
_TORCH = "torch"

Function = ast.FunctionDef | ast.AsyncFunctionDef


def handles_devices_as_data(tree: ast.Module, names: ImportTable, in_tests: bool) -> bool:
    """Whether the module is a test module (it defines tests) that imports no part of PyTorch."""
    if not in_tests or names.imports(_TORCH):
        return False
    return any(defines_tests(statement) for statement in tree.body)


def is_device_data(hit: Hit) -> bool:
    """A device value, or an `assert` comparing one (not a scheduler's GPU request, which stops a task)."""
    detector = hit.entry.rule.detector
    return detector in DATA_DETECTORS or (detector == _REQUIREMENT and isinstance(hit.node, ast.Assert))


def record_values(tree: ast.Module, names: ImportTable) -> frozenset[int]:
    """The nodes of the values of dict displays in the tests of a test module that name no part of
    PyTorch (see the module's docstring), by id."""
    functions = {
        statement.name: statement
        for statement in tree.body
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    with_torch = _functions_naming_torch(functions, names)
    return frozenset(
        id(inner)
        for test in _tests(tree)
        if not _names_torch(test, names) and not _calls(test, with_torch)
        for node in _records(test)
        for value in node.values
        for inner in subtree(value)
    )


def _records(test: Function) -> Iterator[ast.Dict]:
    """The dict displays of a test, but those it hands a call as keywords (`plan(**arguments)` for
    `arguments = {...}`, or `f(**{...})`): there each key is an argument, the device one a device."""
    spread = [
        keyword.value for node in subtree(test) if isinstance(node, ast.Call) for keyword in node.keywords
        if keyword.arg is None
    ]
    spread_names = {value.id for value in spread if isinstance(value, ast.Name)}
    handed = {id(value) for value in spread}
    for node in subtree(test):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(target, ast.Name) and target.id in spread_names for target in targets):
                handed.add(id(node.value))
    yield from (node for node in subtree(test) if isinstance(node, ast.Dict) and id(node) not in handed)


def _tests(tree: ast.Module) -> Iterator[Function]:
    """The module's test functions and the test methods of its test classes."""
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and defines_tests(statement):
            yield statement
        elif isinstance(statement, ast.ClassDef) and defines_tests(statement):
            yield from (
                item for item in statement.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test")
            )


def _functions_naming_torch(functions: dict[str, Function], names: ImportTable) -> frozenset[str]:
    """The module's top-level functions that name PyTorch, or call one of them that does."""
    found = {name for name, function in functions.items() if _names_torch(function, names)}
    callers = {name: _called_names(function) & functions.keys() for name, function in functions.items()}
    grown = True
    while grown:
        more = {name for name, called in callers.items() if name not in found and called & found}
        found |= more
        grown = bool(more)
    return frozenset(found)


def _names_torch(node: ast.AST, names: ImportTable) -> bool:
    """Whether `node` names a part of PyTorch (`torch.zeros`, `from torch import nn` inside it)."""
    for inner in subtree(node):
        if isinstance(inner, (ast.Name, ast.Attribute)) and isinstance(inner.ctx, ast.Load):
            spelled = [names.resolve(inner) or ""]
        elif isinstance(inner, ast.Import):
            spelled = [alias.name for alias in inner.names]
        elif isinstance(inner, ast.ImportFrom):
            spelled = [inner.module or ""]
        else:
            continue
        if any(name.split(".", 1)[0] == _TORCH for name in spelled):
            return True
    return False


def _called_names(node: ast.AST) -> set[str]:
    return {inner.id for inner in subtree(node) if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load)}


def _calls(test: Function, functions: frozenset[str]) -> bool:
    return bool(functions) and bool(_called_names(test) & functions)
