"""The CUDA C++ analyzer: `.cu`/`.cuh` and C/C++ sources that use CUDA.

One parse with tree-sitter's CUDA grammar, then the API references (references.py) and the
hazards (hazards.py) over it; the preprocessor branches (preprocessor.py) drop what sits in
HIP-only code and lower what only CUDA builds compile. `cuda_hits` works on bare bytes so that
CUDA embedded in Python strings (embedded.py) goes through exactly the same analysis.
"""

from __future__ import annotations

import bisect
import re

from cudaudit.model import Finding, Severity
from cudaudit.rules.catalog import Catalog, build_finding
from cudaudit.rules.kernels import code_map, hazards, syntax
from cudaudit.rules.kernels.api_table import api_table
from cudaudit.rules.kernels.hits import CudaHit
from cudaudit.rules.kernels.positions import FilePositions
from cudaudit.rules.kernels.preprocessor import BranchMap, Build, LineState, MacroSides
from cudaudit.rules.kernels.references import references
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines

_NEWLINE = re.compile(rb"\n")
_DEVICE_CODE = re.compile(rb"__global__|__device__|__shared__|threadIdx|__CUDA_ARCH__|__CUDACC__|<<<")
"""What makes a C/C++ file CUDA device code; `.cu`/`.cuh` files are by their name."""
_CUDA_SUFFIXES = (".cu", ".cuh")
_ONCE_PER_LINE = frozenset({"cuda-symbol"})
"""Detectors whose findings on one line say the same thing (`wmma::fragment<wmma::matrix_a, ...>`)."""


def analyze_cuda(text: str, path: str, catalog: Catalog, settings: AnalysisSettings) -> list[Finding]:
    """Findings for one CUDA or C++ source. tree-sitter never fails: nothing here raises for syntax."""
    source = text.encode("utf-8")
    lines = SourceLines(text)
    positions = FilePositions(source, lines)
    device_code = path.lower().endswith(_CUDA_SUFFIXES) or _DEVICE_CODE.search(source) is not None
    findings = []
    project_macros: MacroSides = {name: Build(on_hip, on_cuda) for name, on_hip, on_cuda in settings.cuda_macros}
    for hit in cuda_hits(source, catalog, device_code, project_macros):
        span = positions.span(hit.start, hit.end)
        findings.append(build_finding(hit.entry, path, span, lines.snippet(span), settings.targets, cap=hit.cap))
    return findings


def cuda_hits(
    source: bytes, catalog: Catalog, device_code: bool = True, project_macros: MacroSides | None = None
) -> list[CudaHit]:
    """Every catalog hit in a CUDA source, after preprocessor branches, one per rule and site.

    The hazards (inline PTX, warp size, ...) are looked for only in `device_code`: a C++ file
    that calls the CUDA runtime from the host may well hold CPU assembly or another GPU
    language's `WARP_SIZE`.
    """
    tree = syntax.parse(source)
    nodes = syntax.QueryMatches(code_map.PATTERNS + hazards.PATTERNS, tree.root_node)
    code = code_map.CodeMap(nodes, source)
    found = list(references(source, code, api_table(catalog), catalog))
    if device_code:
        found += hazards.hazards(nodes, tree.root_node, source, code, catalog)
    branches = BranchMap(source, project_macros)
    line_starts = [0] + [m.end() for m in _NEWLINE.finditer(source)]
    kept: dict[tuple, CudaHit] = {}
    for hit in sorted(found, key=lambda h: (h.start, h.end)):
        line = bisect.bisect_right(line_starts, hit.start)
        state = branches.state(line)
        if state is LineState.PORTED:
            continue
        if state is LineState.CUDA_ONLY:
            hit = CudaHit(hit.entry, hit.start, hit.end, Severity.NOTE)
        key = (hit.entry.rule.id, line) if hit.entry.rule.detector in _ONCE_PER_LINE else (hit.entry.rule.id, hit.start)
        kept.setdefault(key, hit)
    return list(kept.values())
