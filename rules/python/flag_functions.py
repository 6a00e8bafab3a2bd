"""The project's own availability functions: what a call of a function that returns a flag tests.

A project often wraps what it found at import in a function the rest of it calls:

    try:
        import xformers.ops
        XFORMERS_IS_AVAILABLE = True
    except ImportError:
        XFORMERS_IS_AVAILABLE = False

    def xformers_enabled():
        if cpu_state != CPUState.GPU:
            return False
        return XFORMERS_IS_AVAILABLE

and another module writes `if model_management.xformers_enabled(): import xformers.ops`. The name
`xformers_enabled` says nothing a guard can read; the function's body does: it returns something
true only where every early `return False` was passed and the value it returns holds, so a call
of it tests `cpu_state == CPUState.GPU and XFORMERS_IS_AVAILABLE`, which `guards.value_meaning`
reads as it reads a flag's value. The project index reads each module's such functions beside its
flags (`project_flags.py`), by qualified name, so `guards.flag_meaning` of the call is the test of
that conjunction in every module that imports the function.

Shapes read (anything else, or a value that reads a parameter other than through its device, is no
flag: `if x.device.type != "cuda": return False` holds alike for every tensor a caller passes that
lives on a CUDA device, so such a call tests some GPU, never there on a CPU build):

- early exits `if TEST: return False` (or `None`, `0`, a bare `return`), then `return VALUE`;
  a local bound once before it (`enabled = xformers_enabled()`, then `if not enabled: return False`)
  stands for its value; an early `if TEST: return True` whose test holds only on an accelerator none
  of the targets is (`if enabled and is_musa_available(): return True`) returns on no target, and
  what the call tests there is the rest;
- `try: import lib ...; return True` with every handler catching a failed import returning a false
  value: the result of importing an optional library, tested as its availability flag.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator

from cudaudit.rules.python.guards import (
    FlagMeaning,
    Polarity,
    Probe,
    catches_import_error,
    may_return,
    polarity,
    probes_in,
    value_meaning,
)
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
MEMOIZERS = frozenset({"functools.lru_cache", "functools.cache"})
_DEVICE_ATTRIBUTES = frozenset({"device", "is_cuda"})
"""Decorators that only remember a function's results: the function still returns what its body does."""
_IMPORT_RESULT: FlagMeaning = ((Probe.OPTIONAL, Polarity.POSITIVE),)
"""What `try: import lib; return True` / `except ImportError: return False` tests: the library is installed."""


def function_meaning(function: FunctionNode, names: ImportTable) -> FlagMeaning | None:
    """What a call of `function` tests, for a function of one of the module docstring's shapes; None
    for any other function."""
    if any(_decorator_name(decorator, names) not in MEMOIZERS for decorator in function.decorator_list):
        return None
    body = _without_preamble(function.body)
    if len(body) == 1 and isinstance(body[0], ast.Try):
        return _import_result(body[0])
    parameters = {argument.arg for argument in _arguments(function.args)}
    if not _binds_and_exits(body, parameters):
        return None
    values: dict[str, ast.expr] = {}
    conjuncts: list[ast.expr] = []
    for statement in body[:-1]:
        if not isinstance(statement, ast.If):
            values[statement.targets[0].id] = _substituted(statement.value, values)  # type: ignore[attr-defined]
        elif _returns_false(statement.body):
            conjuncts.append(ast.UnaryOp(op=ast.Not(), operand=_substituted(statement.test, values)))
        elif not _only_elsewhere(statement.test, names):
            return None  # true on a target too: the call tests one thing or another
    conjuncts.append(_substituted(body[-1].value, values))  # type: ignore[attr-defined]
    if any(_reads_beyond_device(part, parameters) for part in conjuncts):
        return None  # what the call tests depends on its arguments
    return value_meaning(conjuncts[0] if len(conjuncts) == 1 else ast.BoolOp(op=ast.And(), values=conjuncts), names)


def _reads_beyond_device(node: ast.expr, parameters: set[str]) -> bool:
    """Whether `node` reads a parameter other than through its device (`x.device.type`, `x.is_cuda`):
    where a tensor lives reads alike whatever tensor a caller passes (`if x.device.type != "cuda":
    return False` holds only for CUDA tensors, which a CPU build never has), any other read does not."""
    through_device = {id(sub.value) for sub in subtree(node) if isinstance(sub, ast.Attribute) and sub.attr in _DEVICE_ATTRIBUTES}
    return any(
        isinstance(sub, ast.Name) and sub.id in parameters and id(sub) not in through_device for sub in subtree(node)
    )


def _decorator_name(decorator: ast.expr, names: ImportTable) -> str | None:
    return names.resolve(decorator.func if isinstance(decorator, ast.Call) else decorator)


def _arguments(arguments: ast.arguments) -> Iterator[ast.arg]:
    yield from (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)
    yield from (argument for argument in (arguments.vararg, arguments.kwarg) if argument is not None)


def _without_preamble(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements that compute: a docstring, `global` and `nonlocal` declarations, `pass` and
    `assert`s (a call that returns passed them, whatever it returns) left out."""
    return [
        statement
        for statement in body
        if not isinstance(statement, (ast.Global, ast.Nonlocal, ast.Pass, ast.Assert))
        and not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))
    ]


def _binds_and_exits(body: list[ast.stmt], parameters: set[str]) -> bool:
    """Whether `body` is the shape `function_meaning` reads: bindings of locals bound once (one bound
    again depends on the path taken), `if` tests whose branch returns a truth, then `return` of a
    value. Checked before any local is substituted: most functions are not of this shape, and a
    substitution copies the value (2% of a scan's time when each function's bindings were copied first)."""
    bound = set(parameters)
    for statement in body[:-1]:
        if _binds_local(statement):
            target = statement.targets[0].id  # type: ignore[attr-defined]
            if target in bound:
                return False
            bound.add(target)
        elif not (
            isinstance(statement, ast.If)
            and not statement.orelse
            and (_returns_false(statement.body) or _returns_true(statement.body))
        ):
            return False
    return bool(body) and isinstance(body[-1], ast.Return) and body[-1].value is not None


def _binds_local(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name)
    )


def _returns_false(body: list[ast.stmt]) -> bool:
    """`return False`, `return None`, `return 0`, `return`: the call is false where the branch is taken."""
    body = _without_preamble(body)
    if len(body) != 1 or not isinstance(body[0], ast.Return):
        return False
    value = body[0].value
    return value is None or (isinstance(value, ast.Constant) and not value.value)


def _returns_true(body: list[ast.stmt]) -> bool:
    """`return True`: the call is true where the branch is taken."""
    body = _without_preamble(body)
    return (
        len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Constant)
        and body[0].value.value is True
    )


def _only_elsewhere(test: ast.expr, names: ImportTable) -> bool:
    """Whether `test` holds only on an accelerator none of the targets is (`is_musa_available()`,
    `enabled and device.type == "npu"`)."""
    return Probe.OTHER_DEVICE in probes_in(test, names) and polarity(test, names, Probe.OTHER_DEVICE) is Polarity.POSITIVE


def _substituted(node: ast.expr, values: dict[str, ast.expr]) -> ast.expr:
    """`node` with each local bound earlier replaced by its value (a copy where any is)."""
    if not values or not any(isinstance(n, ast.Name) and n.id in values for n in subtree(node)):
        return node

    class _Inline(ast.NodeTransformer):
        def visit_Name(self, name: ast.Name) -> ast.expr:
            return copy.deepcopy(values[name.id]) if name.id in values else name

    return _Inline().visit(copy.deepcopy(node))


def _import_result(attempt: ast.Try) -> FlagMeaning | None:
    """`try: import lib; return True` / `except ImportError: return False`."""
    body = _without_preamble(attempt.body)
    imports = [statement for statement in body[:-1] if isinstance(statement, (ast.Import, ast.ImportFrom))]
    modules = {_top_module(statement) for statement in imports}
    last = body[-1] if body else None
    if not (
        imports
        and modules - {"torch", None}
        and len(imports) == len(body) - 1
        and isinstance(last, ast.Return)
        and isinstance(last.value, ast.Constant)
        and last.value.value is True
        and attempt.handlers
        and all(catches_import_error(handler) and _returns_false(handler.body) for handler in attempt.handlers)
        and not attempt.orelse
        and not attempt.finalbody
    ):
        return None
    return _IMPORT_RESULT


def _top_module(statement: ast.Import | ast.ImportFrom) -> str | None:
    """The library an import statement imports (`xformers` of `import xformers.ops`); None for a relative import."""
    if isinstance(statement, ast.Import):
        return statement.names[0].name.partition(".")[0]
    return statement.module.partition(".")[0] if statement.level == 0 and statement.module else None


def imported_library(function: FunctionNode) -> str | None:
    """The package (its top-level module) whose import every true value of `function` comes after, for
    a probe of an optional package; None for any other function.

    The shape: statements that return nothing (`assert`, assignments), then a `try` whose body
    starts with imports of one package and whose every handler catches a failed import and ends in
    `return False` (or `None`, a bare `return`), then anything. Whatever the function returns after
    the `try` (`return True`, `return version.parse(lib.__version__) >= minimum`) it returns only where
    the import succeeded, whatever its parameters ask; a decorator other than a memoizer may change
    that, so a decorated function is none."""
    if any(not isinstance(decorator, (ast.Name, ast.Attribute, ast.Call)) for decorator in function.decorator_list):
        return None
    if any(_decorator_spelling(decorator) not in _MEMOIZER_SPELLINGS for decorator in function.decorator_list):
        return None
    body = _without_preamble(function.body)
    for position, statement in enumerate(body):
        if isinstance(statement, ast.Try):
            return _probed(statement) if not any(may_return(s) for s in body[:position]) else None
        if may_return(statement):
            return None
    return None


_MEMOIZER_SPELLINGS = frozenset({"lru_cache", "cache", "functools.lru_cache", "functools.cache"})
"""Memoizers as written, without the module's imports (the index reads the function alone)."""


def _decorator_spelling(decorator: ast.expr) -> str:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    names = []
    while isinstance(target, ast.Attribute):
        names.append(target.attr)
        target = target.value
    return ".".join([target.id, *names[::-1]]) if isinstance(target, ast.Name) else ""


def _probed(attempt: ast.Try) -> str | None:
    """The package a `try` of `imported_library`'s shape imports first."""
    body = _without_preamble(attempt.body)
    imports = []
    for statement in body:
        if not isinstance(statement, (ast.Import, ast.ImportFrom)):
            break
        imports.append(statement)
    libraries = {_top_module(statement) for statement in imports}
    if (
        len(libraries) != 1
        or None in libraries
        or "torch" in libraries
        or not attempt.handlers
        or attempt.finalbody
        or not all(catches_import_error(handler) and _ends_false(handler.body) for handler in attempt.handlers)
    ):
        return None
    return libraries.pop()


def _ends_false(body: list[ast.stmt]) -> bool:
    """Whether a handler's last statement returns a false value (what comes before it only reports)."""
    body = _without_preamble(body)
    return bool(body) and _returns_false([body[-1]]) and not any(may_return(statement) for statement in body[:-1])
