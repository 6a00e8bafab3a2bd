"""CUDA extension builds written in Python: `CUDAExtension`, `load()`/`load_inline()` with CUDA
sources, and nvcc flags in build arguments (`extra_compile_args={"nvcc": ["-arch=sm_80"]}`).

setup.py is read, never run. A call counts as a CUDA build when its callee resolves to
`torch.utils.cpp_extension` and it is given CUDA: `CUDAExtension` always, `load` with a `.cu`
source or `extra_cuda_cflags`, `load_inline` with `cuda_sources`. A string counts as nvcc flags
when every word of it is a command-line flag and one of them is nvcc's (a sentence that
mentions `-arch=sm_80` is prose).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from cudaudit.model import Finding
from cudaudit.rules.builds import nvcc_flags
from cudaudit.rules.catalog import Catalog, build_finding
from cudaudit.rules.kernels.string_literals import literal_positions
from cudaudit.rules.python.names import ImportTable
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines

EXTENSION_DETECTOR = "torch-extension"
FLAG_DETECTOR = "nvcc-flag"
CPP_EXTENSION = "torch.utils.cpp_extension."
MARKERS = ("cpp_extension", "sm_", "compute_", "gencode", "generate-code", "fast_math", "expt-", "ptxas", "-arch")
"""Words without which a module has nothing for this check: it is not walked at all."""
_FLAG_MARKER = re.compile(r"gencode|generate-code|-arch\b|\bsm_\d|compute_\d|fast_math|--expt-|ptxas")
"""What a module needs before its strings are searched for nvcc flags (`compute_loss` is not one)."""

_CUDA_SOURCE = re.compile(r"\.(cu|cuh)$")
_FLAG_LIKE = re.compile(r"-\S+|arch=compute_\S+|(?:sm|compute)_\d+[af]?")


def build_findings(
    tree: ast.Module, names: ImportTable, lines: SourceLines, path: str, catalog: Catalog, settings: AnalysisSettings
) -> list[Finding]:
    findings = []
    text = "\n".join(lines.lines)
    extension_calls = _extension_calls(tree, names) if "cpp_extension" in text else ()
    for key, node in extension_calls:
        entry = catalog.lookup(EXTENSION_DETECTOR, key)
        if entry is not None:
            span = lines.span_from_utf8(node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)
            findings.append(build_finding(entry, path, span, lines.snippet(span), settings.targets))
    for key, node, start, end in _flag_strings(tree) if _FLAG_MARKER.search(text) else ():
        entry = catalog.lookup(FLAG_DETECTOR, key)
        positions = literal_positions(node, lines)
        if entry is None or positions is None:
            continue
        span = positions.span(len(positions.text[:start].encode()), len(positions.text[:end].encode()))
        findings.append(build_finding(entry, path, span, lines.snippet(span), settings.targets))
    return findings


def _extension_calls(tree: ast.Module, names: ImportTable) -> Iterator[tuple[str, ast.expr]]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        qualified = names.resolve(node.func) or ""
        if not qualified.startswith(CPP_EXTENSION):
            continue
        function = qualified[len(CPP_EXTENSION) :]
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        with_cuda = keywords.get("with_cuda")
        asks_cuda = isinstance(with_cuda, ast.Constant) and with_cuda.value is True
        if function == "CUDAExtension" or (function == "load" and (asks_cuda or "extra_cuda_cflags" in keywords or _has_cuda_source(node))) or (function == "load_inline" and (asks_cuda or "cuda_sources" in keywords or len(node.args) > 2)):
            yield function, node.func


def _has_cuda_source(call: ast.Call) -> bool:
    sources = next((k.value for k in call.keywords if k.arg == "sources"), None)
    if sources is None and len(call.args) > 1:
        sources = call.args[1]
    return sources is not None and any(
        isinstance(n, ast.Constant) and isinstance(n.value, str) and _CUDA_SOURCE.search(n.value)
        for n in ast.walk(sources)
    )


def _flag_strings(tree: ast.Module) -> Iterator[tuple[str, ast.Constant, int, int]]:
    """Flags in strings that hold nothing but command-line flags; a flag split over two list
    elements (`["-gencode", "arch=compute_80,code=sm_80"]`) is reported once, at its first."""
    docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    seen: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.List, ast.Tuple)):
            elements = node.elts
        elif isinstance(node, ast.Constant) and id(node) not in seen:
            elements = [node]
        else:
            continue
        skip_next = False
        for element in elements:
            if not (isinstance(element, ast.Constant) and isinstance(element.value, str)) or id(element) in docstrings:
                skip_next = False
                continue
            seen.add(id(element))
            if skip_next:
                skip_next = False
                continue
            words = element.value.split()
            if not words or not all(_FLAG_LIKE.fullmatch(w) for w in words):
                continue
            for start, end, key in nvcc_flags.flags_in(element.value):
                yield key, element, start, end
                skip_next = element.value.strip() in nvcc_flags.TAKES_VALUE
