"""What a module does with each `torch.version.cuda` it reads: shows it, or tells NVIDIA's builds
from the others by it.

`torch.version.cuda` is None on ROCm and CPU builds. Shown (`str(torch.version.cuda)` in a bug
report's dict, `print("CUDA:", torch.version.cuda)`, `logger.info("%s", ...)`, `torch.version.cuda
or "N/A"`) it says "None" there and breaks nothing. Tested for its presence (`bool(torch.version.cuda)`,
`torch.version.cuda is None`) as a flag (`return bool(torch.version.cuda)` in an `is_nvidia()`,
`USE_PACKED = torch.version.cuda is not None`), or in an `if` whose branches only answer for their
function (`if torch.version.cuda: return True`, `if torch.version.cuda is None: return
slow_attention(q, k, v)`), it
decides on NVIDIA's identity for code elsewhere: a ROCm build, whose `torch.cuda` runs the same code,
silently takes the other branch (a slower kernel, a feature off). A test whose branch acts itself
(nvcc's flags appended, `cutlass.FwOp if torch.version.cuda else ck.FwOp`: NVIDIA-only work, often
beside ROCm's own), guards a read of the version (`if torch.version.cuda: major =
int(torch.version.cuda.split(".")[0])`), stops the program (a requirement) or only prints, or that
sits in a function that also reads `torch.version.hip` (written with ROCm in mind), is none of
these: it keeps what the walk makes of it. Parsed, converted, split or ordered
(`packaging.version.parse(torch.version.cuda)`, `torch.version.cuda >= "11.4"`), it raises where it
is None: on ROCm, which passes a `torch.cuda.is_available()` before it, too.

Read only for modules that name `torch.version.cuda` (the first such name asks), in one walk.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from cudaudit.rules.python.guards import is_none
from cudaudit.rules.python.nodes import Parents, subtree
from cudaudit.rules.python.shown import is_shown, script_callers

VERSION = "torch.version.cuda"
_HIP = "torch.version.hip"
_FLAGS = (ast.Return, ast.Assign, ast.AnnAssign)


class Use(Enum):
    SHOWN = "shown"
    IDENTITY = "identity"
    PARSED = "parsed"
    """Read as a version where None raises: parsed, converted, split, indexed or ordered."""


_PARSERS = frozenset({"packaging.version.parse", "packaging.version.Version", "int", "float"})
"""Calls that raise given None (`InvalidVersion`, `TypeError`), checked on torch 2.13.0's CPU build with
packaging 25: `packaging.version.parse(torch.version.cuda)` raises `InvalidVersion: Invalid version: None`."""
_ORDERS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


@dataclass(frozen=True)
class VersionUse:
    use: Use
    decider: ast.AST | None
    """The `if` or conditional expression whose test it is, for an identity test there."""


def version_uses(
    module: ast.Module, resolve: Callable[[ast.expr], str | None], script: bool = False
) -> dict[int, VersionUse]:
    """Each `torch.version.cuda` of `module` that is shown or tested for NVIDIA's identity, by node id.
    A `script` (a module nothing imports) makes every call of its functions: a record one of them
    returns is followed to them (`shown.script_callers`)."""
    parents = Parents(module)
    reads: list[ast.expr] = []
    hip_scopes: set[int] = set()
    for node in subtree(module):
        if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
            qualified = resolve(node)
            if qualified == VERSION:
                reads.append(node)
            elif qualified == _HIP:
                hip_scopes.add(id(parents.scope(node)))
    found: dict[int, VersionUse] = {}
    callers = script_callers(module) if script and reads else None
    for read in reads:
        if is_shown(read, parents, callers=callers):
            found[id(read)] = VersionUse(Use.SHOWN, None)
        elif _raises_on_none(read, parents, resolve):
            found[id(read)] = VersionUse(Use.PARSED, None)
        elif id(parents.scope(read)) not in hip_scopes:
            identity = _identity_test(read, parents, resolve)
            if identity is not None:
                found[id(read)] = identity
    return found


def _raises_on_none(read: ast.expr, parents: Parents, resolve: Callable[[ast.expr], str | None]) -> bool:
    """Whether `read` is used where None raises: `packaging.version.parse(torch.version.cuda)`, `int(...)`,
    `torch.version.cuda.split(".")`, `torch.version.cuda[0]`, `torch.version.cuda >= "11.4"`. Where the
    walk finds a test of the version's presence (or of `torch.version.hip`) before it, that test's region
    decides what it makes of the read; `torch.cuda.is_available()`, which ROCm passes, guards nothing."""
    parent = parents.parent(read)
    if isinstance(parent, (ast.Attribute, ast.Subscript)):
        return parent.value is read
    if isinstance(parent, ast.Call):
        return read in parent.args and resolve(parent.func) in _PARSERS
    return isinstance(parent, ast.Compare) and any(isinstance(op, _ORDERS) for op in parent.ops)


def _identity_test(
    read: ast.expr, parents: Parents, resolve: Callable[[ast.expr], str | None]
) -> VersionUse | None:
    """A presence test of `read`, with the `if`/conditional expression it decides (none for a flag:
    `return ...`, `X = ...`); None where `read` is no such test or the test guards a read of the version."""
    test: ast.AST = read
    parent = parents.parent(read)
    if (isinstance(parent, ast.Compare) and len(parent.ops) == 1 and any(is_none(o) for o in (parent.left, *parent.comparators))) or (isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id == "bool"):
        test = parent
    consumer = parents.parent(test)
    while isinstance(consumer, (ast.UnaryOp, ast.BoolOp)):
        test, consumer = consumer, parents.parent(consumer)
    if _reads_version(test, resolve, besides=read):
        return None  # `v is not None and int(v.split(".")[0]) >= 11`
    if isinstance(consumer, ast.IfExp) and consumer.test is test:
        answers = all(_is_answer(value) for value in (consumer.body, consumer.orelse))
        return VersionUse(Use.IDENTITY, consumer) if answers else None
    if isinstance(consumer, ast.If) and consumer.test is test:
        statements = [*consumer.body, *consumer.orelse]
        if not all(_answers(statement) for statement in statements) or all(isinstance(s, ast.Pass) for s in statements):
            return None
        if any(_reads_version(statement, resolve) for statement in statements):
            return None  # guards a read of the version
        return VersionUse(Use.IDENTITY, consumer)
    if isinstance(consumer, _FLAGS) and test is not read:
        return VersionUse(Use.IDENTITY, None)
    return None


def _answers(statement: ast.stmt) -> bool:
    """`return True`, `return "needs an NVIDIA GPU"`, `return slow_attention(q, k, v)`, `use_packed =
    False`, `pass`: a branch that answers for its function (a flag, a reason, the other path's
    result), which its callers act on. A branch that acts itself
    (`flags.append("--generate-dependencies-with-compile")`, `raise`, `print(...)`) does something
    NVIDIA-specific, requires NVIDIA, or decides nothing."""
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.Return):
        return True  # the function's answer, or the other path's result: `return slow_attention(q, k, v)`
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        return statement.value is not None and _is_answer(statement.value)
    return False


def _is_answer(value: ast.expr) -> bool:
    """A constant (`True`, `None`, a reason's text) or an f-string: an answer, not an object to run."""
    return isinstance(value, (ast.Constant, ast.JoinedStr))


def _reads_version(node: ast.AST, resolve: Callable[[ast.expr], str | None], besides: ast.AST | None = None) -> bool:
    return any(
        inner is not besides and isinstance(inner, (ast.Name, ast.Attribute)) and resolve(inner) == VERSION
        for inner in subtree(node)
    )
