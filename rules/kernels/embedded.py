"""CUDA C++ written in Python strings and compiled at run time, analysed as CUDA.

`cupy.RawKernel(code, name)`, `cupy.RawModule(code=...)`, `cupy.ElementwiseKernel(..., operation,
preamble=...)`, `pycuda.compiler.SourceModule(source)` and
`torch.utils.cpp_extension.load_inline(..., cuda_sources=...)` take CUDA source as a string. The
string (a literal, or a module-level name bound to one, or a list of them) goes through the same
C++ analysis as a `.cu` file, and each finding points at the characters of the literal it
came from.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from cudaudit.model import Finding
from cudaudit.rules.catalog import Catalog, build_finding
from cudaudit.rules.kernels.string_literals import literal_positions
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines

SOURCE_ARGUMENTS: dict[str, tuple[tuple[int | None, str], ...]] = {
    "cupy.RawKernel": ((0, "code"),),
    "cupy.RawModule": ((0, "code"),),
    "cupy.ElementwiseKernel": ((2, "operation"), (None, "preamble")),
    "cupy.ReductionKernel": ((2, "map_expr"), (3, "reduce_expr"), (None, "preamble")),
    "pycuda.compiler.SourceModule": ((0, "source"),),
    "torch.utils.cpp_extension.load_inline": ((1, "cpp_sources"), (2, "cuda_sources")),
}
"""Callables that compile CUDA source at run time, and where that source is passed
(position, keyword)."""

MARKERS = ("RawKernel", "RawModule", "ElementwiseKernel", "ReductionKernel", "SourceModule", "load_inline")
"""Words without which a module cannot call any of them: it is not walked at all."""


def embedded_cuda_findings(
    tree: ast.Module, names: ImportTable, lines: SourceLines, path: str, catalog: Catalog, settings: AnalysisSettings
) -> list[Finding]:
    strings = {id(node): node for node in _kernel_strings(tree, names)}
    if not strings:
        return []
    from cudaudit.rules.kernels.analyzer import cuda_hits  # tree-sitter loads only for files with kernels

    findings = []
    for node in strings.values():
        positions = literal_positions(node, lines)
        if positions is None:
            continue
        for hit in cuda_hits(positions.data, catalog):
            span = positions.span(hit.start, hit.end)
            findings.append(
                build_finding(hit.entry, path, span, lines.snippet(span), settings.targets, cap=hit.cap)
            )
    return findings


def _kernel_strings(tree: ast.Module, names: ImportTable) -> Iterator[ast.Constant]:
    bound = _module_strings(tree)
    for node in subtree(tree):
        if not isinstance(node, ast.Call):
            continue
        arguments = SOURCE_ARGUMENTS.get(names.resolve(node.func) or "")
        if arguments is None:
            continue
        for position, keyword in arguments:
            value = next((k.value for k in node.keywords if k.arg == keyword), None)
            if value is None and position is not None and position < len(node.args):
                value = node.args[position]
            if value is not None:
                yield from _strings(value, bound, depth=0)


def _module_strings(tree: ast.Module) -> dict[str, ast.expr]:
    """Names assigned exactly once, anywhere, to a value: `KERNEL = r'''...'''`."""
    assigned: dict[str, list[ast.expr]] = {}
    for node in subtree(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            assigned.setdefault(node.target.id, []).append(node.value)
    return {name: values[0] for name, values in assigned.items() if len(values) == 1}


def _strings(node: ast.expr, bound: dict[str, ast.expr], depth: int) -> Iterator[ast.Constant]:
    """The string literals an argument is made of: a literal, a list of them, a name bound to one."""
    if depth > 4:
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, (ast.List, ast.Tuple)):
        for element in node.elts:
            yield from _strings(element, bound, depth + 1)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield from _strings(node.left, bound, depth + 1)
        yield from _strings(node.right, bound, depth + 1)
    elif isinstance(node, ast.Name) and node.id in bound:
        yield from _strings(bound[node.id], bound, depth + 1)
