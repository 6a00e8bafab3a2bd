"""What a module does with a compute capability it reads: a decision ROCm answers like NVIDIA, or none.

On ROCm, `torch.cuda.get_device_capability()` (and `get_device_properties(d).major`/`.minor`)
returns the gfx architecture's major and minor: (9, 0) on gfx90a, (9, 4) on gfx942, (11, 0) on
gfx1100. The catalog's `[rocm_capabilities]` table lists what each GPU ROCm supports reports,
and the highest threshold whose features they all have. Two uses are then no ROCm decision:

- **a threshold every supported ROCm GPU passes** alike (`>= (7, 5)`, `[0] >= 8`, `major < 7`):
  the comparison, with a literal at or below that threshold, comes out the same on all of them,
  so ROCm takes the branch a recent NVIDIA GPU takes;
- **a value**: the capability kept as a cache key or label (in a tuple, a dict, an f-string,
  `str(...)`, each part turned into text in a comprehension, printed or logged), or compared for equality with another value (a cached capability), not with a
  literal.

Nor is **test selection**: a comparison whose only effect is which tests run (the condition of a
skip marker, `pytest.mark.skipif(cap < (9, 0))`, or of a test's own `pytest.skip()`, the values
of a `parametrize`, or a flag or predicate function used only there: `SM90 = cap >= (9, 0)`,
`def fp8_ok(): ... return False` under `@unittest.skipIf(not fp8_ok(), ...)`). Whether a test of
the project runs on a GPU decides nothing for the program's users.

Every read of the capability must be one of these; any other use (a threshold above the table's,
arithmetic, an argument to a function) is a decision, as before. A name assigned a literal besides
the read (`cap = (0, 0)`, then `cap = f()` where there is a GPU) holds the read wherever it decides
anything: the literal is what it holds without one. Names are bound per function: two tests that
each read the capability into their own `cap` are two names, each judged by its own uses.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from cudaudit.rules.python.capability_arguments import Calls, parameter_side
from cudaudit.rules.python.nodes import children, subtree

UNIFORM = "uniform-on-rocm"
"""Key suffix of a capability every ROCm GPU answers alike."""
VALUE = "value"
"""Key suffix of a capability used as a value, not a decision."""
SELECTION = "test-selection"
"""Key suffix of a capability that only selects which tests run."""

COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.GtE: operator.ge,
    ast.Gt: operator.gt,
    ast.LtE: operator.le,
    ast.Lt: operator.lt,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_MIRRORED: dict[type, type] = {ast.GtE: ast.LtE, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.Lt: ast.Gt, ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}
CAPABILITY = "torch.cuda.get_device_capability"
PROPERTIES = "torch.cuda.get_device_properties"
CAPABILITY_FIELDS = {"major": 0, "minor": 1}
"""The fields of `get_device_properties(d)` that hold the capability, with their place in `get_device_capability()`'s tuple."""
_SHOWN_BY = frozenset({"str", "repr", "print", "format"})
_LOGGED_BY = frozenset({"debug", "info", "warning", "warn", "error", "log", "write"})
"""Methods of loggers and streams that only show what they are given."""
_NUMBERS = frozenset({"float", "int", "Version", "parse", "LooseVersion", "StrictVersion"})
"""Calls that turn a capability written as text back into something compared."""


class Part(Enum):
    """Which part of a capability an expression holds."""

    BOTH = "both"
    MAJOR = "major"
    MINOR = "minor"
    PROPERTIES = "properties"
    """A device's properties, whose `.major` and `.minor` are its capability."""
    DECIMAL = "decimal"
    """The capability as one number, `major + minor / 10` (`8.6`), compared with literals such as `6.1`."""


@dataclass(frozen=True)
class RocmCapabilities:
    """What `get_device_capability()` returns on each GPU ROCm supports, and the highest threshold
    whose features all of them have (`[rocm_capabilities]` in the catalog)."""

    reported: tuple[tuple[int, int], ...]
    features_through: tuple[int, int]

    @classmethod
    def from_tables(cls, tables: list[tuple[str, Any]]) -> RocmCapabilities | None:
        for _, table in tables:
            gpus = table.get("gpus", {})
            through = table.get("features_through")
            if gpus and through:
                return cls(tuple((int(v[0]), int(v[1])) for v in gpus.values()), (int(through[0]), int(through[1])))
        return None


def uses_without_decision(
    module: ast.Module,
    capabilities: RocmCapabilities,
    is_reader: Callable[[ast.Call], Part | None],
    selects_tests: Callable[[ast.AST], bool] = lambda _: False,
    passed: Mapping[str, Calls] | None = None,
) -> dict[int, str]:
    """The callees (by node id) of the capability reads (`is_reader` says which calls read one, and
    which part) whose every use is no ROCm decision, with the key suffix that says why.
    `selects_tests` says of a call whether its arguments choose which tests run (a skip marker,
    `parametrize`) and of a statement whether it skips the test (`pytest.skip()`). `passed` holds what
    every call of a helper gives the parameters its comparison reads (`capability_arguments.py`): each
    call's numbers are a threshold, judged as a literal is."""
    nodes: list[ast.AST] = [module]
    parents: dict[int, ast.AST] = {}
    for node in nodes:  # the list grows as it is read: `subtree`'s order, walked once for every use below
        for child in children(node):
            parents[id(child)] = node
            nodes.append(child)
    names = _bound_names(nodes, is_reader, parents)
    loads: dict[str, list[ast.Name]] = {}
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            loads.setdefault(node.id, []).append(node)
    uses = _binding_uses(nodes, names, loads, parents)
    selection = _TestSelection(parents, loads, selects_tests)
    numbers = _DecimalNames(parents, loads)
    judge = _Judge(parents, capabilities, selection, numbers, passed or {}, names)
    found: dict[int, str] = {}
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        part = is_reader(node)
        if part is None:
            continue
        verdicts = list(_use_verdicts(node, part, names, uses, judge))
        if verdicts and None not in verdicts:
            if all(v == UNIFORM for v in verdicts):
                found[id(node.func)] = UNIFORM
            elif all(v in (UNIFORM, SELECTION) for v in verdicts):
                found[id(node.func)] = SELECTION
            else:
                found[id(node.func)] = VALUE
    return found


class _TestSelection:
    """Whether a comparison only chooses which tests run; see the module docstring."""

    def __init__(
        self, parents: dict[int, ast.AST], loads: dict[str, list[ast.Name]], selects_tests: Callable[[ast.AST], bool]
    ) -> None:
        self._parents = parents
        self._loads = loads
        self._selects_tests = selects_tests

    def only_selects(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> bool:
        """Whether the value of `node` (a comparison, or what holds its result) only decides which tests run."""
        current: ast.AST = node
        parent = self._parents.get(id(current))
        while isinstance(parent, (ast.BoolOp, ast.UnaryOp, ast.Compare)) or (
            isinstance(parent, ast.IfExp) and parent.test is current
        ):
            current, parent = parent, self._parents.get(id(parent))
        if isinstance(parent, ast.Call):
            return parent.func is not current and self._selects_tests(parent)
        if isinstance(parent, ast.If) and parent.test is current:
            last = parent.body[-1]
            return self._selects_tests(last) or (_returns_constant(last) and self._predicate_selects(parent, seen))
        if isinstance(parent, ast.Return):
            return self._predicate_selects(parent, seen)
        if (
            isinstance(parent, ast.Assign)
            and len(parent.targets) == 1
            and isinstance(parent.targets[0], ast.Name)
            and isinstance(self._parents.get(id(parent)), ast.Module)
        ):
            return self._used_only_to_select(parent.targets[0].id, seen, called=False)
        return False

    def _predicate_selects(self, node: ast.AST, seen: frozenset[str]) -> bool:
        """Whether the function `node` answers from is a predicate only test selection calls."""
        function = self._parents.get(id(node))
        while function is not None and not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = self._parents.get(id(function))
        if function is None or not isinstance(self._parents.get(id(function)), ast.Module):
            return False
        return self._used_only_to_select(function.name, seen, called=True)

    def _used_only_to_select(self, name: str, seen: frozenset[str], called: bool) -> bool:
        """Whether every use of a module-level name (called, for a function) only selects tests."""
        uses = self._loads.get(name, [])
        if name in seen or not uses:
            return False
        for use in uses:
            call = self._parents.get(id(use))
            if called:
                if not (isinstance(call, ast.Call) and call.func is use and self.only_selects(call, seen | {name})):
                    return False
            elif not self.only_selects(use, seen | {name}):
                return False
        return True


def _returns_constant(statement: ast.stmt) -> bool:
    """`return False`, `return True`: a predicate's answer."""
    return isinstance(statement, ast.Return) and isinstance(statement.value, ast.Constant)


Binding = tuple[int, str]
"""A name in the scope that assigns it: (the `id` of the enclosing function, 0 at module level; the name)."""


def _bound_names(
    nodes: list[ast.AST], is_reader: Callable[[ast.Call], Part | None], parents: dict[int, ast.AST]
) -> dict[Binding, tuple[ast.Call, Part]]:
    """Names assigned only from a capability read in their scope (`nodes`: a module's, in `subtree`'s
    order): `cap = f()`, `major, minor = f()`, `major = f()[0]`; two tests that each read it into `cap`
    bind two names."""
    bound: dict[Binding, tuple[ast.Call, Part] | None] = {}
    for node in nodes:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        read = _read_of(node.value, is_reader)
        scope = _scope(node, parents)
        for target in targets:
            if read is None and isinstance(target, ast.Name) and _no_gpu_default(node.value):
                continue  # `cap = (0, 0)`: what the name holds where there is no GPU to read
            if isinstance(target, ast.Name):
                key = (scope, target.id)
                bound[key] = read if key not in bound or bound[key] == read else None
            elif isinstance(target, ast.Tuple) and read is not None and read[1] is Part.BOTH and len(target.elts) == 2:
                for element, part in zip(target.elts, (Part.MAJOR, Part.MINOR)):
                    if isinstance(element, ast.Name):
                        key = (scope, element.id)
                        bound[key] = (read[0], part) if key not in bound else None
            else:
                for inner in subtree(target):
                    if isinstance(inner, ast.Name):
                        bound[(scope, inner.id)] = None
    return {key: read for key, read in bound.items() if read is not None}


def _scope(node: ast.AST, parents: dict[int, ast.AST]) -> int:
    """The `id` of the function `node` sits in, 0 at module level."""
    current = parents.get(id(node))
    while current is not None and not isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        current = parents.get(id(current))
    return 0 if current is None else id(current)


def _binding_uses(
    nodes: list[ast.AST],
    names: dict[Binding, tuple[ast.Call, Part]],
    loads: dict[str, list[ast.Name]],
    parents: dict[int, ast.AST],
) -> dict[Binding, list[ast.Name]]:
    """The loads that read each bound name's binding (`nodes`: the module's)."""
    if not names:
        return {}
    stores = {(_scope(n, parents), n.id) for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return {
        (scope, name): [use for use in loads.get(name, []) if _reads_binding(use, scope, name, parents, stores)]
        for scope, name in names
    }


def _reads_binding(use: ast.Name, scope: int, name: str, parents: dict[int, ast.AST], stores: set[Binding]) -> bool:
    """Whether a load of `name` reads the binding in `scope`: a load in that function, or for a
    module-level name one in a function that does not assign the name itself."""
    where = _scope(use, parents)
    return where == scope or (scope == 0 and (where, name) not in stores)


def _no_gpu_default(value: ast.expr) -> bool:
    """`0` or `(0, 0)`: a literal capability, kept where no GPU is read."""
    if isinstance(value, ast.Tuple):
        return all(isinstance(e, ast.Constant) and type(e.value) is int for e in value.elts)
    return isinstance(value, ast.Constant) and type(value.value) is int


def _read_of(value: ast.expr, is_reader: Callable[[ast.Call], Part | None]) -> tuple[ast.Call, Part] | None:
    """The capability read `value` is, with the part it holds: `f()`, `f()[0]`."""
    if isinstance(value, ast.Call):
        part = is_reader(value)
        return (value, part) if part is not None else None
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Call) and is_reader(value.value) is Part.BOTH:
        index = value.slice
        if isinstance(index, ast.Constant) and index.value in (0, 1):
            return value.value, Part.MAJOR if index.value == 0 else Part.MINOR
    return None


def _use_verdicts(
    call: ast.Call,
    part: Part,
    names: dict[Binding, tuple[ast.Call, Part]],
    uses: dict[Binding, list[ast.Name]],
    judge: _Judge,
) -> Iterator[str | None]:
    """One verdict per use of the value `call` reads: UNIFORM, VALUE, SELECTION, or None for a decision."""
    parents = judge.parents
    expression, part = _widened(call, part, parents)
    parent = parents.get(id(expression))
    bound = [key for key, (read, _) in names.items() if read is call]
    if bound and isinstance(parent, (ast.Assign, ast.AnnAssign)):
        for key in bound:
            for use in uses.get(key, []):  # a name never read (`major, _ = ...`) decides nothing
                widened, used = _widened(use, names[key][1], parents)
                if used is Part.PROPERTIES and isinstance(parents.get(id(use)), ast.Attribute):
                    continue  # `props.total_memory`: not the capability
                yield from judge.judged(widened, used)
        return
    yield from judge.judged(expression, part)


@dataclass(frozen=True)
class _Judge:
    """What judging one use of a capability reads: the module's parents, the ROCm GPUs, the readings of
    test selection and of decimal names, and the thresholds helpers are given (`passed`)."""

    parents: dict[int, ast.AST]
    capabilities: RocmCapabilities
    selection: _TestSelection
    numbers: _DecimalNames
    passed: Mapping[str, Calls]
    names: dict[Binding, tuple[ast.Call, Part]]

    def judged(self, node: ast.expr, part: Part) -> Iterator[str | None]:
        """The verdict of one use, or, for a capability as one number kept in a name (`sm = major +
        minor / 10`), those of each read of the name."""
        reads = self.numbers.reads(node) if part is Part.DECIMAL else None
        for read in [node] if reads is None else reads:
            yield _selecting(read, self.parents, self.selection) or _verdict(read, part, self)


class _DecimalNames:
    """The reads of a name a function assigns the capability as one number (`sm = major + minor / 10`)."""

    def __init__(self, parents: dict[int, ast.AST], loads: dict[str, list[ast.Name]]) -> None:
        self._parents = parents
        self._loads = loads

    def reads(self, number: ast.expr) -> list[ast.Name] | None:
        """The loads, in its scope, of the one name `number` is assigned to; None where it is not
        assigned to a name alone."""
        parent = self._parents.get(id(number))
        if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)):
            return None
        scope = _scope(parent, self._parents)
        name = parent.targets[0].id
        return [load for load in self._loads.get(name, []) if _scope(load, self._parents) == scope]


def _selecting(node: ast.expr, parents: dict[int, ast.AST], selection: _TestSelection) -> str | None:
    """SELECTION where `node` is compared and the comparison only chooses which tests run."""
    parent = parents.get(id(node))
    return SELECTION if isinstance(parent, ast.Compare) and selection.only_selects(parent) else None


def _widened(node: ast.expr, part: Part, parents: dict[int, ast.AST]) -> tuple[ast.expr, Part]:
    """`node[0]` or `node.major` around a whole capability: the part it reads; and `major + minor /
    10` around either part: the capability as one number."""
    parent = parents.get(id(node))
    if part is Part.PROPERTIES and isinstance(parent, ast.Attribute) and parent.attr in CAPABILITY_FIELDS:
        node, part = parent, Part.MAJOR if parent.attr == "major" else Part.MINOR
    elif part is Part.BOTH and isinstance(parent, ast.Subscript) and parent.value is node:
        index = parent.slice
        if isinstance(index, ast.Constant) and index.value in (0, 1):
            node, part = parent, Part.MAJOR if index.value == 0 else Part.MINOR
    number = _decimal(node, part, parents)
    return (number, Part.DECIMAL) if number is not None else (node, part)


def _decimal(node: ast.expr, part: Part, parents: dict[int, ast.AST]) -> ast.BinOp | None:
    """The sum `major + minor / 10` that the major (its left operand) or the minor (divided by ten on
    its right) `node` is a part of; None elsewhere."""
    parent = parents.get(id(node))
    if part is Part.MAJOR and isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Add) and parent.left is node:
        return parent if _tenths(parent.right) else None
    if part is Part.MINOR and isinstance(parent, ast.BinOp) and _tenths(parent) and parent.left is node:
        outer = parents.get(id(parent))
        if isinstance(outer, ast.BinOp) and isinstance(outer.op, ast.Add) and outer.right is parent:
            return outer
    return None


def _tenths(node: ast.expr) -> bool:
    """`x / 10` (or `/ 10.0`)."""
    return (
        isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Constant)
        and type(node.right.value) in (int, float) and node.right.value == 10
    )


def _verdict(node: ast.expr, part: Part, judge: _Judge) -> str | None:
    parents, capabilities = judge.parents, judge.capabilities
    parent = parents.get(id(node))
    if isinstance(parent, ast.Tuple) and _rejoined(parent, judge):
        return _verdict(parent, Part.BOTH, judge)  # `(major, minor) >= (8, 0)` of `major, minor = f()`
    if isinstance(parent, ast.Compare) and len(parent.ops) == 1:
        other = parent.comparators[0] if parent.left is node else parent.left
        op = type(parent.ops[0]) if parent.left is node else _MIRRORED.get(type(parent.ops[0]))
        if op not in COMPARE:
            return None
        if _is_literal(other):
            threshold = _literal(other, part)
            return UNIFORM if threshold is not None and _uniform(op, threshold, part, capabilities) else None
        given = _given_thresholds(other, part, parents, judge.passed)
        if given is not None:
            return UNIFORM if given and all(_uniform(op, threshold, part, capabilities) for threshold in given) else None
        # a stored capability compared with this one (a cache check); not `== (major, minor)` of a caller's
        stored = isinstance(other, (ast.Name, ast.Attribute, ast.Subscript, ast.Call))
        return VALUE if stored and op in (ast.Eq, ast.NotEq) else None
    if isinstance(parent, ast.Tuple):
        return VALUE if _kept_as_value(parent, parents) else None
    if isinstance(parent, ast.FormattedValue):
        return VALUE if _is_text(parents.get(id(parent)), parents) else None
    if isinstance(parent, ast.Dict):
        return VALUE
    if isinstance(parent, ast.Call) and node in parent.args and _shows(parent.func):
        return VALUE
    if isinstance(parent, ast.comprehension) and parent.iter is node and _each_shown(parents.get(id(parent)), parent.target):
        return VALUE  # `".".join(str(x) for x in capability)`
    if isinstance(parent, ast.Subscript) and parent.slice is node:
        return VALUE  # a key into a cache
    return None


def _rejoined(display: ast.Tuple, judge: _Judge) -> bool:
    """`(major, minor)`: the two parts of one capability read, put back together in their order."""
    if len(display.elts) != 2 or not all(isinstance(e, ast.Name) for e in display.elts):
        return False
    bound = [judge.names.get((_scope(e, judge.parents), e.id)) for e in display.elts if isinstance(e, ast.Name)]
    return (
        bound[0] is not None and bound[1] is not None and bound[0][0] is bound[1][0]
        and (bound[0][1], bound[1][1]) == (Part.MAJOR, Part.MINOR)
    )


def _given_thresholds(
    other: ast.expr, part: Part, parents: dict[int, ast.AST], passed: Mapping[str, Calls]
) -> list[tuple[int, int]] | None:
    """The thresholds the calls of the enclosing helper give where `other` is made of its parameters
    (`(major, minor)` in `def has_capability(major, minor)`), one per call; None where it is not, or
    where the calls are not all known (`capability_arguments.passed_thresholds`)."""
    function = parents.get(id(other))
    while function is not None and not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        function = parents.get(id(function))
    if function is None or function.name not in passed:
        return None
    names = parameter_side(other, {a.arg for a in [*function.args.posonlyargs, *function.args.args]})
    if names is None:
        return None
    thresholds = []
    for call in passed[function.name]:
        values = dict(call)
        if not all(name in values for name in names):
            return None
        given: ast.expr = (
            ast.Tuple([ast.Constant(values[name]) for name in names]) if isinstance(other, ast.Tuple)
            else ast.Constant(values[names[0]])
        )
        threshold = _literal(given, part)
        if threshold is None:
            return None
        thresholds.append(threshold)
    return thresholds


def _shows(func: ast.expr) -> bool:
    """`str(...)`, `repr(...)`, `print(...)`, `logger.info(...)`: a call that turns its argument into text."""
    if isinstance(func, ast.Name):
        return func.id in _SHOWN_BY
    return isinstance(func, ast.Attribute) and func.attr in _LOGGED_BY


def _each_shown(comprehension: ast.AST | None, target: ast.expr) -> bool:
    """A comprehension whose every element is its target turned into text (`str(x) for x in ...`)."""
    element = getattr(comprehension, "elt", None)
    return (
        isinstance(element, ast.Call)
        and _shows(element.func)
        and len(element.args) == 1
        and isinstance(element.args[0], ast.Name)
        and isinstance(target, ast.Name)
        and element.args[0].id == target.id
    )


def _kept_as_value(display: ast.Tuple, parents: dict[int, ast.AST]) -> bool:
    """A tuple that is stored or looked up (`key = (name, cap)`, `cache[(name, cap)]`), not compared."""
    parent = parents.get(id(display))
    return (
        isinstance(parent, (ast.Assign, ast.Dict, ast.FormattedValue))
        or (isinstance(parent, ast.Subscript) and parent.slice is display)
    )


def _is_text(joined: ast.AST | None, parents: dict[int, ast.AST]) -> bool:
    """An f-string that stays text (a message, a label), not one turned into a number to compare
    (`float(f"{major}.{minor}") >= 8.9`)."""
    parent = parents.get(id(joined)) if joined is not None else None
    if isinstance(parent, ast.Call) and joined in parent.args:
        name = parent.func.id if isinstance(parent.func, ast.Name) else parent.func.attr if isinstance(parent.func, ast.Attribute) else ""
        return name not in _NUMBERS
    return True


def _is_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Tuple):
        return all(isinstance(element, ast.Constant) for element in node.elts)
    return isinstance(node, ast.Constant)


def _literal(node: ast.expr, part: Part) -> tuple[int, int] | None:
    """`(8, 0)` or `(8,)` for a whole capability, `8` for a major, `6.1` for one number: the threshold
    as (major, minor)."""
    if part is Part.MAJOR and isinstance(node, ast.Constant) and type(node.value) is int:
        return (node.value, 0)
    if part is Part.DECIMAL and isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and type(node.value) is not bool:
        return (int(node.value), round((node.value - int(node.value)) * 10))
    if part is Part.BOTH and isinstance(node, ast.Tuple) and 1 <= len(node.elts) <= 2:
        values = [e.value for e in node.elts if isinstance(e, ast.Constant) and type(e.value) is int]
        if len(values) == len(node.elts):
            return (values[0], values[1] if len(values) == 2 else 0)
    return None


def _uniform(op: type, threshold: tuple[int, int], part: Part, capabilities: RocmCapabilities) -> bool:
    """Whether the comparison comes out the same on every supported ROCm GPU, at a threshold whose
    features they all have."""
    if threshold > capabilities.features_through:
        return False
    compare = COMPARE[op]
    if part is Part.MAJOR:
        outcomes = {compare(major, threshold[0]) for major, _ in capabilities.reported}
    elif part is Part.DECIMAL:
        number = threshold[0] + threshold[1] / 10
        outcomes = {compare(major + minor / 10, number) for major, minor in capabilities.reported}
    else:
        outcomes = {compare(reported, threshold) for reported in capabilities.reported}
    return len(outcomes) == 1
