"""Recognise code that only runs when CUDA (or some accelerator) is there.

`if torch.cuda.is_available(): torch.cuda.synchronize()` is already portable: on a CPU
machine the branch is skipped. A finding inside such a branch is at most a note. Guards
are recognised by what their test mentions: an availability probe, a device-type
comparison (`device.type == "cuda"`), or a user setting named for CUDA or GPUs
(`if args.cuda:`, `if use_gpu:`, `@pytest.mark.gpu`).
"""

from __future__ import annotations

import ast
import re
from enum import Enum
from functools import lru_cache

from cudaudit.rules.python.names import ImportTable

AVAILABILITY_PROBES = frozenset(
    {
        "torch.cuda.is_available",
        "torch.cuda.device_count",
        "torch.cuda.is_initialized",
        "torch.accelerator.is_available",
        "torch.accelerator.device_count",
        "torch.backends.cudnn.is_available",
        "torch.version.cuda",
        "torch.version.hip",
    }
)

CUDA_DEVICE_STRING = re.compile(r"cuda(:\d+)?")
_SETTING_WORDS = frozenset({"cuda", "gpu", "gpus"})
_WORD_SPLIT = re.compile(r"[_\W]+|(?<=[a-z])(?=[A-Z])")
_EXIT_CALL = re.compile(r"(^|\.)(exit|skip|_exit|abort)$")


class Polarity(Enum):
    """Which branch of a test runs only when CUDA is there."""

    POSITIVE = "body"
    NEGATIVE = "orelse"


def guard_polarity(test: ast.expr, names: ImportTable) -> Polarity | None:
    """POSITIVE when the test's true branch needs CUDA, NEGATIVE when its false branch does."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = guard_polarity(test.operand, names)
        return None if inner is None else _flip(inner)
    if isinstance(test, ast.BoolOp):
        wanted = Polarity.POSITIVE if isinstance(test.op, ast.And) else Polarity.NEGATIVE
        if any(guard_polarity(value, names) is wanted for value in test.values):
            return wanted
        return None
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and _mentions_guard(test, names):
        negated = isinstance(test.ops[0], (ast.NotEq, ast.NotIn, ast.IsNot))
        if _is_none(test.comparators[0]):  # `torch.version.cuda is None` asks "no CUDA?"
            negated = not negated
        return Polarity.NEGATIVE if negated else Polarity.POSITIVE
    if _mentions_guard(test, names):
        return Polarity.POSITIVE
    return None


def mentions_guard(node: ast.AST, names: ImportTable) -> bool:
    """Whether any part of `node` (a decorator, an assert) probes for CUDA."""
    return _mentions_guard(node, names)


def exits_early(body: list[ast.stmt]) -> bool:
    """Whether a block always leaves its enclosing block (return, raise, skip, exit)."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
        return True
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        return bool(_EXIT_CALL.search(_dotted(last.value.func)))
    return False


def _mentions_guard(node: ast.AST, names: ImportTable) -> bool:
    return any(_is_guard_atom(sub, names) for sub in ast.walk(node))


def _is_guard_atom(node: ast.AST, names: ImportTable) -> bool:
    if isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
        return any(_is_cuda_string(op) for op in operands)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "startswith":
            return any(_is_cuda_string(arg) for arg in node.args)
        return False
    if isinstance(node, (ast.Name, ast.Attribute)):
        qualified = names.resolve(node)
        if qualified is not None and qualified.partition(".")[0] == "torch":
            return qualified in AVAILABILITY_PROBES
        return _names_cuda_setting(node.id if isinstance(node, ast.Name) else node.attr)
    return False


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_cuda_string(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and CUDA_DEVICE_STRING.fullmatch(node.value) is not None
    )


@lru_cache(maxsize=4096)
def _names_cuda_setting(identifier: str) -> bool:
    """`use_cuda`, `args.gpu`, `numGpus`, `requires_gpu`: a setting or probe named for CUDA/GPUs."""
    return any(word.lower() in _SETTING_WORDS for word in _WORD_SPLIT.split(identifier))


def _dotted(node: ast.expr) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _flip(polarity: Polarity) -> Polarity:
    return Polarity.NEGATIVE if polarity is Polarity.POSITIVE else Polarity.POSITIVE
