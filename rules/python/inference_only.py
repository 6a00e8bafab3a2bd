"""Whether a project ever differentiates, and the autograd backward passes that then never run.

An autograd `Function`'s `backward` runs only where something differentiates through the op: a
training step (`loss.backward()`, `torch.autograd.grad(...)`, an optimizer, a trainer's `fit`) or a
gradient check. A project none of whose modules (its test suite and the files off its normal path
aside) spells any of these only infers: its models run under `torch.no_grad()` or in evaluation, and
the backward of a custom op never runs, on any target. What breaks there is the op's import and its
forward call, which keep their verdicts; the backward's sites are no further finding (notes).

A misreading keeps a verdict: a training word spelled anywhere on the normal path counts as training
(`optimizer` in a checkpoint's keys too).
"""

from __future__ import annotations

import ast
import re

_TRAINING = re.compile(
    rb"\.backward\(|\bautograd\.grad\(|\bgradcheck\(|\bgradgradcheck\(|\boptim\b|\boptimizers?\b|\bOptimizer\b"
    rb"|\.fit\(|\bTrainer\b|\.train\(\)|\btraining_step\b"
)
"""What a module that differentiates spells: a backward pass, a gradient, an optimizer, a trainer."""
_FUNCTION_BASES = frozenset({"Function", "autograd.Function", "torch.autograd.Function"})


def trains(data: bytes) -> bool:
    """Whether a module's bytes spell a training step or a gradient (`_TRAINING`)."""
    return _TRAINING.search(data) is not None


def backward_spans(tree: ast.Module) -> list[tuple[int, int]]:
    """(first line, last line) of the `backward` methods of the module's autograd `Function`s (a
    top-level class deriving from `Function`, `autograd.Function` or `torch.autograd.Function`),
    each from its first decorator."""
    return [
        (min([method.lineno, *(decorator.lineno for decorator in method.decorator_list)]), method.end_lineno or method.lineno)
        for cls in tree.body if isinstance(cls, ast.ClassDef) and any(ast.unparse(base) in _FUNCTION_BASES for base in cls.bases)
        for method in cls.body if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and method.name == "backward"
    ]
