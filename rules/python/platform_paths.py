"""The conditions under which a module-level name holds each of the strings it is given.

A project that runs on several platforms often decides once which one it is on and keeps the answer
as a string, then branches on the string everywhere else:

    if torch.version.hip is not None:
        SYSTEM = "rocm"
    elif torch.version.cuda is not None and torch.cuda.is_available():
        SYSTEM = "cuda"
    else:
        SYSTEM = "cpu"

or through a function it calls once (`DEVICE = get_device()`, whose `return "hip"` and `return "cuda"`
sit under the same kind of tests). What `if SYSTEM == "cuda":` asks is what the tests on the way to
`SYSTEM = "cuda"` ask, not what the word `"cuda"` says: here, an NVIDIA build with a device, never a
ROCm one. This module reads those ways: for each string, the conditions of each path that assigns or
returns it (`StringPaths`); `guards.platform_meaning` judges them.

Only plain statements are read: top-level `if`/`elif`/`else` chains (at any depth of nesting), a path
that ends (`return`, `raise`) before a later statement adding the negation of its test to that
statement's path. A name also assigned something other than a string (a call's result, a variable)
anywhere at module level is no platform variable; `None` before the chain is allowed, as a start.
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.nodes import subtree

StringPaths = dict[str, list[list[ast.expr]]]
"""For each string a name holds: the conjuncts of each path that gives it (empty: given unconditionally)."""


def assigned_strings(module: ast.Module) -> dict[str, StringPaths]:
    """The module's top-level names that are assigned only strings (or None) at module level, at least
    one of them under a test, with the paths to each string; a name a function assigns from a call of one
    of the module's functions that returns only strings (`DEVICE: str = get_device()`) is read
    through that function's returns."""
    found: dict[str, StringPaths] = {}
    spoiled: set[str] = set()
    _collect(module.body, [], found, spoiled, returns=False)
    given_strings = set(found)
    for name in spoiled:
        found.pop(name, None)
    for name, called in _assigned_calls(module).items():
        if name in given_strings:
            continue  # a string here, a call's result there
        returned: dict[str, StringPaths] = {}
        bad: set[str] = set()
        _collect(called.body, [], returned, bad, returns=True)
        if not bad and returned.get(""):
            found[name] = returned[""]
    return {name: paths for name, paths in found.items() if any(path for ways in paths.values() for path in ways)}


def _assigned_calls(module: ast.Module) -> dict[str, ast.FunctionDef]:
    """Top-level names assigned once, from a call without arguments of one of the module's own top-level
    functions (defined once)."""
    functions: dict[str, list[ast.FunctionDef]] = {}
    counts: dict[str, int] = {}
    calls: dict[str, str] = {}
    for statement in module.body:
        if isinstance(statement, ast.FunctionDef):
            functions.setdefault(statement.name, []).append(statement)
        target, value = _single_assignment(statement)
        if target is None:
            continue
        counts[target] = counts.get(target, 0) + 1
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and not value.args and not value.keywords:
            calls[target] = value.func.id
    return {
        name: functions[called][0]
        for name, called in calls.items()
        if counts[name] == 1 and len(functions.get(called, ())) == 1
    }


def _single_assignment(statement: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id, statement.value
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value is not None:
        return statement.target.id, statement.value
    return None, None


def _collect(
    body: list[ast.stmt], path: list[ast.expr], found: dict[str, StringPaths], spoiled: set[str], returns: bool
) -> bool:
    """Record the strings `body` gives under `path`; True where it always ends (returns or raises).
    With `returns`, a function's body: its `return "x"` are recorded under the name ""."""
    path = list(path)
    for statement in body:
        if isinstance(statement, ast.If):
            ends_body = _collect(statement.body, [*path, statement.test], found, spoiled, returns)
            negated = ast.UnaryOp(op=ast.Not(), operand=statement.test)
            ends_else = _collect(statement.orelse, [*path, negated], found, spoiled, returns)
            if ends_body and ends_else:
                return True
            if ends_body:
                path.append(negated)
            elif ends_else:
                path.append(statement.test)
            continue
        if isinstance(statement, ast.Raise):
            return True
        if returns:
            if isinstance(statement, ast.Return):
                _record(found, spoiled, "", statement.value, path)
                return True
            if any(isinstance(node, ast.Return) for node in subtree(statement)):
                spoiled.add("")  # a return inside a loop, a `with`, a `try`: its path is not read
            continue
        target, value = _single_assignment(statement)
        if target is not None and value is not None:
            _record(found, spoiled, target, value, path)
        elif isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.With, ast.Try)):
            for node in subtree(statement):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    spoiled.add(node.id)
    return False


def _record(found: dict[str, StringPaths], spoiled: set[str], name: str, value: ast.expr | None, path: list[ast.expr]) -> None:
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        found.setdefault(name, {}).setdefault(value.value, []).append(list(path))
    elif not (isinstance(value, ast.Constant) and value.value is None):
        spoiled.add(name)
