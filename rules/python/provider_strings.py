"""Names bound to a CUDA device string that only pick an ONNX Runtime execution provider.

A module that runs ONNX models beside PyTorch may keep one word for where they run, `device =
"cuda"` (or `"cpu"`, `"mps"` in the other branches), and hand it only to a wrapper that turns it into
the session's providers (`Landmarks(model, onnx_provider=device)`, whose `onnx_provider == "cuda"`
asks for `CUDAExecutionProvider`). No tensor is placed there: ONNX Runtime takes the providers it has
and runs the rest on `CPUExecutionProvider` (the catalog's `[[provider_argument]]` tables, with their
source). The provider's name, where the wrapper spells it, is the site that loses the GPU on ROCm
(CDA221, a ROCm warning); the word handed to it breaks nothing, on any target.

`provider_bindings` finds, in each function, the assignments of a plain name to a CUDA device string
whose every read in that function is the value of a keyword argument whose name holds one of the
tables' words (`provider`); the analysis quiets their sites on every target. A name read anywhere
else (`.to(device)`, `torch.device(device)`, a return) keeps its verdict.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from cudaudit.rules.python.device_syntax import is_cuda_device_string


def provider_words(tables: Iterable[dict]) -> tuple[str, ...]:
    """The words of the catalog's `[[provider_argument]]` tables."""
    return tuple(table["word"] for table in tables)


def provider_bindings(tree: ast.Module, words: tuple[str, ...]) -> frozenset[int]:
    """The ids of the statements of `tree`'s functions that bind a name to a CUDA device string read
    only as a keyword argument named for an execution provider (see the module docstring)."""
    handed = {
        id(keyword.value) for keyword in ast.walk(tree)
        if isinstance(keyword, ast.keyword) and isinstance(keyword.value, ast.Name)
        and keyword.arg is not None and any(word in keyword.arg.lower() for word in words)
    }
    if not handed:
        return frozenset()  # most modules hand no name to a provider's keyword: one walk says so
    found: set[int] = set()
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        bound: dict[str, list[ast.Assign]] = {}
        for statement in ast.walk(function):
            if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                    and isinstance(statement.targets[0], ast.Name) and is_cuda_device_string(statement.value)):
                bound.setdefault(statement.targets[0].id, []).append(statement)
        if not bound:
            continue
        reads: dict[str, list[int]] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in bound:
                reads.setdefault(node.id, []).append(id(node))
        for name, statements in bound.items():
            if reads.get(name) and all(read in handed for read in reads[name]):
                found.update(id(statement) for statement in statements)
    return frozenset(found)
