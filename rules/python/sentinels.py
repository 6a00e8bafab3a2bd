"""Local names that hold a value only where a device test passed, and None everywhere else.

A function that looks for a CUDA tensor before it uses a stream starts from None and keeps what it
finds only under the test:

    device = None
    for p in model.parameters():
        if p.device.type == "cuda":
            device = p.device
            break
    if device is None:
        return  # a CPU model: nothing below runs
    self.stream = torch.cuda.Stream(device=device)

`device is not None` then holds where `p.device.type == "cuda"` held for some parameter: it is that
test, and `device is None` (or `not device`) its negation. The walker reads such a name's test as it
reads a flag assigned once from a test (`walker._local_flags`). One reading per function, done only
when an `if` of it tests a bare name or a name against None.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping

from cudaudit.rules.python.nodes import children

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def sentinel_tests(
    function: FunctionNode, holds_device: Callable[[ast.expr], bool], module_stores: Callable[[], Mapping[str, int]]
) -> dict[str, ast.expr]:
    """The local names `function` binds only by plain assignments, each of None or, otherwise, inside
    the true branch of an `if` whose test `holds_device` passes (the innermost such `if`), with the first
    such test; not its parameters, nor names declared global or nonlocal, nor names bound any other
    way (a loop target, `+=`, `with ... as`, unpacking), whose value no test decides. The same for the
    attributes of `self` (keyed `self.name`) that the module stores nowhere else (`module_stores`: how
    many times the module stores each attribute name, asked only for such an attribute): a method that
    keeps what it found in `self._device`. A value found by `next(...)` in a generator that filters on a
    test, with None as its default (`next((p.device for p in params if p.is_cuda), None)`), is set
    under that test. `holds_device` is asked only about the tests around such an assignment."""
    spoilt: set[str] = {a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)}
    for star in (function.args.vararg, function.args.kwarg):
        if star is not None:
            spoilt.add(star.arg)
    stores: list[tuple[str, tuple[ast.expr, ...]]] = []
    own: dict[str, int] = {}
    """How many times the function stores each attribute name of `self` by a plain assignment."""
    stack: list[tuple[ast.AST, tuple[ast.expr, ...]]] = [(statement, ()) for statement in function.body]
    while stack:
        node, around = stack.pop()
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            spoilt.update(node.names)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and (key := store_key(node.targets[0])) is not None:
            if key.startswith("self."):
                own[key] = own.get(key, 0) + 1
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                stores.append((key, (*around, *found_under(node.value))))
            stack.append((node.value, around))
        elif isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                spoilt.add(node.id)  # bound otherwise: a loop target, `+=`, `as`, unpacking, `del`
        elif isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
            spoilt.add("self." + node.attr)  # `self.x += 1`, unpacking, another object's
        elif isinstance(node, ast.NamedExpr):
            spoilt.add(node.target.id)
            stack.append((node.value, around))
        elif isinstance(node, ast.If):
            stack.append((node.test, around))
            stack.extend((statement, (*around, node.test)) for statement in node.body)
            stack.extend((statement, around) for statement in node.orelse)
        elif not isinstance(node, _NESTED_SCOPES):  # a nested scope's names are its own
            stack.extend((child, around) for child in children(node))
    tests: dict[str, ast.expr] = {}
    judged: dict[int, bool] = {}
    for key, around in stores:
        if key in spoilt:
            continue
        guard = next((test for test in reversed(around) if _holds(test, holds_device, judged)), None)
        if guard is None:
            spoilt.add(key)
        elif key not in tests or (guard.lineno, guard.col_offset) < (tests[key].lineno, tests[key].col_offset):
            tests[key] = guard
    found = {key: test for key, test in tests.items() if key not in spoilt}
    if any(key in own for key in found):
        stored = module_stores()
        found = {key: test for key, test in found.items() if key not in own or stored.get(key[5:]) == own[key]}
    return found


def store_key(target: ast.expr) -> str | None:
    """`name` for a local name, `self.name` for an attribute of `self`; None for any other target."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        return "self." + target.attr
    return None


def _holds(test: ast.expr, holds_device: Callable[[ast.expr], bool], judged: dict[int, bool]) -> bool:
    known = judged.get(id(test))
    if known is None:
        known = judged[id(test)] = holds_device(test)
    return known


def found_under(value: ast.expr) -> tuple[ast.expr, ...]:
    """The filters of `next((... for ... if TEST), None)`: what holds wherever it finds a value."""
    if not (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "next"
        and len(value.args) == 2
        and isinstance(value.args[0], ast.GeneratorExp)
        and isinstance(value.args[1], ast.Constant)
        and value.args[1].value is None
    ):
        return ()
    return tuple(test for generator in value.args[0].generators for test in generator.ifs)


def against_none(test: ast.expr) -> tuple[str, bool] | None:
    """For `x is None`, `x is not None`, `x`, `not x` on a bare name or an attribute of `self`: its key
    (`sentinel_tests`), with whether the test holds where it is None (`is None`, `not x`)."""
    negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
    operand = test.operand if isinstance(test, ast.UnaryOp) and negated else test
    key = store_key(operand)
    if key is not None:
        return key, negated
    if (
        not negated
        and isinstance(operand, ast.Compare)
        and len(operand.ops) == 1
        and isinstance(operand.ops[0], (ast.Is, ast.IsNot))
        and isinstance(operand.comparators[0], ast.Constant)
        and operand.comparators[0].value is None
        and (key := store_key(operand.left)) is not None
    ):
        return key, isinstance(operand.ops[0], ast.Is)
    return None


def none_stores(statements: list[ast.stmt]) -> dict[str, list[int]]:
    """The lines where a module sets each local name or attribute of `self` (`store_key`) to None, or to
    what `next(..., None)` finds: where none is set within a function, no test of it there is a
    sentinel's, and `sentinel_tests` need not read the function."""
    found: dict[str, list[int]] = {}
    for statement in statements:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            value = statement.value
            if (isinstance(value, ast.Constant) and value.value is None) or found_under(value):
                key = store_key(statement.targets[0])
                if key is not None:
                    found.setdefault(key, []).append(statement.lineno)
    return found
