"""`symbol` keys: every name used, resolved through the module's imports and the catalog's aliases.

`th.cuda.synchronize`, `from torch import cuda; cuda.synchronize` and
`from torch.cuda import synchronize` all meet the key `torch.cuda.synchronize`; the catalog's
longest dotted prefix answers, so a name under `torch.cuda` without facts of its own takes the
module's. A name written only as an annotation is never met (the walker does not visit them).

A capability read whose every use is no decision on ROCm (a threshold every ROCm GPU passes, a
value, the choice of which tests run: `capability_use.py`) meets the key with the suffix that says so.

`torch.cuda.get_device_properties(d)` is a capability decision only where its `major` or `minor`
is read (`props.major >= 8`): those calls meet the key `torch.cuda.get_device_properties.capability`,
the others (`.total_memory`, `.name`) the function's own.

A `torch.cuda` class given to `isinstance`/`issubclass` (`isinstance(scale, torch.cuda.FloatTensor)`), or
named in an `except` clause (`except torch.cuda.OutOfMemoryError:`), is no use of CUDA: the classes exist
on every build, and the test is False (the handler never taken) where nothing runs on a CUDA device,
which is its right answer there. Nor is one named in a type built with `typing`
(`Union[torch.BoolTensor, torch.cuda.BoolTensor]`, an alias for annotations and type tests): nothing
is constructed.

Binding a name (`torch.cuda.synchronize = xpu_synchronize`, `del torch.cuda.init`) replaces it in
the module, on every build: nothing of the old value runs, so it meets no key, unless the entry
works on every target (`torch.backends.cudnn.benchmark = True` sets the flag it names). Nor does the
function handed to `functools.wraps`/`update_wrapper`, which copy its name and docstring: every
`torch.cuda` function exists on every build (a library that is missing fails at its import).

Nor is one whose signature, name or docstring is read (`torch.cuda.graph.__init__.__annotations__`,
`torch.cuda.synchronize.__name__`, `inspect.signature(torch.cuda.graph)`): a feature test of the
installed release, which runs nothing of it and gives the same answer on a CPU-only build.

A name read through what `unittest.mock` answers (`torch.cuda.synchronize.assert_called()`,
`torch.cuda.device_count.call_count`) is a mock the test put in its place (`@patch("torch.cuda.synchronize")`):
the real function has no such attribute, so no CUDA function runs there.

`torch.cuda.memory_stats()` is an empty dict without CUDA or ROCm: indexing it raises KeyError, but
a call whose result is only read with `.get(key, default)` (directly, or through a name every use
of which is a `.get`) meets the key `torch.cuda.memory_stats.get`: every metric silently its default.
"""

from __future__ import annotations

import ast
from functools import partial

from cudaudit.model import Status
from cudaudit.rules.python.capability_use import (
    CAPABILITY,
    CAPABILITY_FIELDS,
    PROPERTIES,
    Part,
    RocmCapabilities,
    uses_without_decision,
)
from cudaudit.rules.python.guards import is_skip_call
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.regions import DISPLAYED
from cudaudit.rules.python.skip_conditions import SKIP_IF, SKIP_UNLESS
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.version_tests import VERSION, Use, VersionUse, version_uses
from cudaudit.rules.python.walker import Concern, PythonWalker

DETECTOR = "symbol"
CAPABILITY_READ = PROPERTIES + ".capability"
_TYPE_TESTS = frozenset({"isinstance", "issubclass"})
TEST_SELECTION = SKIP_IF | SKIP_UNLESS | {"pytest.mark.parametrize"}
"""Calls whose arguments choose which tests run."""
WRAPPERS = {"functools.wraps": 0, "functools.update_wrapper": 1}
"""Calls that read only the name and docstring of the function they are given: the position of `wrapped`."""
INTROSPECTORS = frozenset({"inspect.signature", "inspect.getfullargspec", "inspect.getdoc"})
"""Calls that read the signature or docstring of what they are given (first argument), running none of it
(https://docs.python.org/3/library/inspect.html)."""
INTROSPECTED = frozenset({
    "__doc__", "__name__", "__qualname__", "__module__", "__annotations__", "__signature__", "__defaults__",
    "__kwdefaults__",
})
"""Attributes every function and class has whatever it does: reading one runs nothing of it
(https://docs.python.org/3/reference/datamodel.html#special-attributes)."""
STATS = frozenset({"torch.cuda.memory_stats", "torch.cuda.memory_stats_as_nested_dict"})
"""Functions that return an empty dict without CUDA or ROCm."""
MOCK_ATTRIBUTES = frozenset({
    "assert_called", "assert_called_once", "assert_called_with", "assert_called_once_with", "assert_any_call",
    "assert_has_calls", "assert_not_called", "assert_awaited", "assert_awaited_once", "assert_awaited_with",
    "assert_awaited_once_with", "assert_any_await", "assert_has_awaits", "assert_not_awaited", "called",
    "call_count", "call_args", "call_args_list", "mock_calls", "method_calls", "return_value", "side_effect",
    "reset_mock",
})
"""What a `unittest.mock.Mock` answers and no function has
(https://docs.python.org/3/library/unittest.mock.html#the-mock-class)."""
IDENTITY_TEST = VERSION + ".test"
"""The key of a presence test of `torch.version.cuda` that decides a branch (`version_tests.py`)."""
PARSED = VERSION + ".parsed"
"""The key of a read of `torch.version.cuda` that raises where it is None (`version_tests.py`)."""
_RENAMED = STATS | {VERSION, PROPERTIES, CAPABILITY, CAPABILITY_READ}
"""Names whose reads may be reported under a key other than the name (`IDENTITY_TEST`, `CAPABILITY_READ`)."""


class Symbols(Concern):
    def __init__(self, walk: PythonWalker) -> None:
        super().__init__(walk)
        self._module: ast.Module | None = None
        self._capability_calls: set[int] | None = None
        self._stats_gets: set[int] | None = None
        self._undecided: dict[int, str] | None = None
        self._version_uses: dict[int, VersionUse] | None = None
        self._type_test_classes: set[int] = set()
        """Names met only as classes a type test names, or as a function a wrapper copies."""

    def on_Module(self, node: ast.Module) -> None:
        self._module = node

    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """A name that resolves to a key, or to one of the names whose reads are reported under a key of their own."""
        canonical = survey.catalog.canonical
        qualified = set(survey.qualified_names)
        return bool(qualified & _RENAMED) or any(canonical(q) in _RENAMED for q in qualified) or survey.keyed(DETECTOR, qualified)

    def on_ExceptHandler(self, handler: ast.ExceptHandler) -> None:
        """Remember the classes an `except` clause names; the walk meets them after the clause."""
        if handler.type is not None:
            self._remember_classes(handler.type)

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        """Remember the classes a type test names; the walk meets them after the call."""
        func = call.func
        if isinstance(func, ast.Name) and func.id in _TYPE_TESTS and len(call.args) == 2 and callee is None:
            self._remember_classes(call.args[1])
        elif callee in WRAPPERS:
            position = WRAPPERS[callee]
            given = [*call.args[position : position + 1], *(k.value for k in call.keywords if k.arg == "wrapped")]
            self._type_test_classes.update(id(wrapped) for wrapped in given)
        elif callee in INTROSPECTORS:
            self._type_test_classes.update(id(inspected) for inspected in call.args[:1])

    def on_Subscript(self, node: ast.Subscript) -> None:
        """Remember the classes a `typing` construct names (`Union[A, B]`); the walk meets them after it."""
        if (self.walk.names.resolve(node.value) or "").startswith("typing."):
            self._remember_classes(node.slice)

    def _remember_classes(self, classes: ast.expr) -> None:
        """The class, or each class of a tuple, that a type test, an `except` clause or a `typing`
        construct names."""
        self._type_test_classes.update(id(c) for c in (classes.elts if isinstance(classes, ast.Tuple) else [classes]))

    def on_If(self, node: ast.If | ast.IfExp) -> None:
        """A presence test of `torch.version.cuda` that decides this branch is met here, outside the
        test, whose own region keeps a probe quiet: the decision is what degrades on ROCm."""
        for inner in subtree(node.test):
            if isinstance(inner, ast.Attribute) and inner.attr == "cuda" and self.walk.names.resolve(inner) == VERSION:
                use = self._uses().get(id(inner))
                if use is not None and use.decider is node:
                    self.walk.report(DETECTOR, IDENTITY_TEST, inner)

    on_IfExp = on_If

    def on_qualified_name(self, node: ast.Name | ast.Attribute, qualified: str) -> None:
        if id(node) in self._type_test_classes or (isinstance(node.ctx, (ast.Store, ast.Del)) and not self._works(qualified)):
            return
        if qualified.rpartition(".")[2] in MOCK_ATTRIBUTES:
            return  # a mock the test put in the function's place
        if qualified.rpartition(".")[2] in INTROSPECTED:
            return  # `torch.cuda.graph.__init__.__annotations__`: what it is, read on every build
        if qualified == VERSION and self._version_use(node, qualified):
            return
        if qualified.startswith(VERSION + "."):  # `torch.version.cuda.split(".")`: an attribute of None raises
            self.walk.report(DETECTOR, PARSED, node)
            return
        if qualified == PROPERTIES and id(node) in self._capability_reads():
            qualified = CAPABILITY_READ
        canonical = self.walk.catalog.canonical(qualified)
        if canonical in (CAPABILITY, CAPABILITY_READ) and id(node) in self._no_rocm_decision():
            qualified = f"{canonical}.{self._no_rocm_decision()[id(node)]}"
        elif canonical in STATS and id(node) in self._read_with_get():
            qualified = canonical + ".get"
        self.walk.report(DETECTOR, qualified, node)

    def _version_use(self, node: ast.Name | ast.Attribute, qualified: str) -> bool:
        """Report a shown or identity-tested `torch.version.cuda` as such; False for any other read."""
        use = self._uses().get(id(node))
        if use is None:
            return False
        if use.use is Use.SHOWN:
            self.walk.within(DISPLAYED, partial(self.walk.report, DETECTOR, qualified, node))
        elif use.use is Use.PARSED:
            self.walk.report(DETECTOR, PARSED, node)
        elif use.decider is None:  # a flag, `return bool(torch.version.cuda)`; a branch's test was met at its `if`
            self.walk.report(DETECTOR, IDENTITY_TEST, node)
        return True

    def _uses(self) -> dict[int, VersionUse]:
        if self._version_uses is None:
            module = self._module
            found = version_uses(module, self.walk.names.resolve, self.walk.script) if module is not None else {}
            self._version_uses = found
        return self._version_uses

    def _works(self, qualified: str) -> bool:
        """Whether the catalog's entry for `qualified` works on every target (a flag's setting)."""
        entry = self.walk.catalog.lookup(DETECTOR, qualified)
        return entry is not None and all(fact.status is Status.WORKS for fact in entry.targets.values())

    def _no_rocm_decision(self) -> dict[int, str]:
        """The capability reads whose every use is no decision on ROCm (`capability_use.py`)."""
        if self._undecided is None:
            capabilities = RocmCapabilities.from_tables(self.walk.catalog.tables("rocm_capabilities"))
            found = self._undecided = {}
            if self._module is not None and capabilities is not None:
                found.update(uses_without_decision(
                    self._module, capabilities, self._reader, self._selects_tests, self.walk.threshold_calls
                ))
        return self._undecided

    def _selects_tests(self, node: ast.AST) -> bool:
        """A call whose arguments choose which tests run (a skip marker, `parametrize`), or a statement
        that skips the test (`pytest.skip()`, `self.skipTest()`)."""
        if isinstance(node, ast.Call):
            return self.walk.names.resolve(node.func) in TEST_SELECTION
        return isinstance(node, ast.stmt) and is_skip_call(node, self.walk.names)

    def _reader(self, call: ast.Call) -> Part | None:
        qualified = _callee(call, self.walk)
        if qualified == CAPABILITY:
            return Part.BOTH
        if qualified == PROPERTIES and id(call.func) in self._capability_reads():
            return Part.PROPERTIES
        return None

    def _read_with_get(self) -> set[int]:
        """The callees (by node id) of the memory-stats calls whose result is only read with `.get()`."""
        if self._stats_gets is None:
            self._stats_gets = _read_with_get(self._module, self.walk) if self._module else set()
        return self._stats_gets

    def _capability_reads(self) -> set[int]:
        """The callees (by node id) of the `get_device_properties` calls whose major or minor is read."""
        if self._capability_calls is None:
            self._capability_calls = _capability_reads(self._module, self.walk) if self._module else set()
        return self._capability_calls


def _capability_reads(module: ast.Module, walk: PythonWalker) -> set[int]:
    """`get_device_properties(d).major`, or `props = get_device_properties(d)` with `props.major` read."""
    calls: dict[str, list[ast.Call]] = {}
    found: set[int] = set()
    read_names: set[str] = set()
    for node in subtree(module):
        if isinstance(node, ast.Attribute) and node.attr in CAPABILITY_FIELDS:
            if isinstance(node.value, ast.Call) and _is_properties_call(node.value, walk):
                found.add(id(node.value.func))
            elif isinstance(node.value, ast.Name):
                read_names.add(node.value.id)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _is_properties_call(node.value, walk):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    calls.setdefault(target.id, []).append(node.value)
    for name in read_names & set(calls):
        found.update(id(call.func) for call in calls[name])
    return found


def _read_with_get(module: ast.Module, walk: PythonWalker) -> set[int]:
    """`memory_stats().get(k, 0)`, or `stats = memory_stats()` where every read of `stats` is `stats.get(...)`."""
    found: set[int] = set()
    assigned: dict[str, list[ast.Call]] = {}
    gets: dict[str, int] = {}
    loads: dict[str, int] = {}
    for node in subtree(module):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            receiver = node.func.value
            if isinstance(receiver, ast.Call) and _is_stats_call(receiver, walk):
                found.add(id(receiver.func))
            elif isinstance(receiver, ast.Name):
                gets[receiver.id] = gets.get(receiver.id, 0) + 1
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _is_stats_call(node.value, walk):
            if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                assigned.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            loads[node.id] = loads.get(node.id, 0) + 1
    for name, calls in assigned.items():
        if gets.get(name) and gets[name] == loads.get(name):
            found.update(id(call.func) for call in calls)
    return found


def _is_stats_call(call: ast.Call, walk: PythonWalker) -> bool:
    return _callee(call, walk) in STATS


def _is_properties_call(call: ast.Call, walk: PythonWalker) -> bool:
    return _callee(call, walk) == PROPERTIES


def _callee(call: ast.Call, walk: PythonWalker) -> str:
    """The public name of what `call` calls (`torch.cuda.memory.memory_stats` is `torch.cuda.memory_stats`), or ""."""
    return walk.catalog.canonical(walk.names.resolve(call.func) or "")


CONCERN = Symbols
