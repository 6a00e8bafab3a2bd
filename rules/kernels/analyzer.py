"""The CUDA C++ analyzer: `.cu`/`.cuh` and C/C++ sources that use CUDA.

One parse with tree-sitter's CUDA grammar, then the API references (references.py) and the
hazards (hazards.py) over it; the preprocessor branches (preprocessor.py) drop what sits in
HIP-only code and lower what only CUDA builds compile. `cuda_hits` works on bare bytes so that
CUDA embedded in Python strings (embedded.py) goes through exactly the same analysis.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import replace

from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.model import Finding, Portability, Severity, Status
from cudaudit.rules.builds.goes_without import python_path_without, rocm_goes_without, rocm_runs_elsewhere
from cudaudit.rules.catalog import Catalog, Entry, build_finding
from cudaudit.rules.kernels import code_map, hazards, syntax
from cudaudit.rules.kernels.api_table import api_table
from cudaudit.rules.kernels.hits import CudaHit
from cudaudit.rules.kernels.positions import FilePositions
from cudaudit.rules.kernels.preprocessor import BranchMap, Build, LineState, MacroSides, MacroValues
from cudaudit.rules.kernels.references import may_refer, references
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines

_NEWLINE = re.compile(rb"\n")
_DEVICE_CODE = re.compile(rb"__global__|__device__|__shared__|threadIdx|__CUDA_ARCH__|__CUDACC__|<<<")
"""What makes a C/C++ file CUDA device code; `.cu`/`.cuh` files are by their name."""
_CUDA_SUFFIXES = (".cu", ".cuh")
_ONCE_PER_LINE = frozenset({"cuda-symbol"})
API_DETECTOR = "cuda-api"
HIPIFY_RENAMES = frozenset({API_DETECTOR, "cuda-include"})
"""Detectors whose names (`cudaMalloc`, `cuda_runtime.h`, cuBLAS) PyTorch's build-time hipify renames."""
"""Detectors whose findings on one line say the same thing (`wmma::fragment<wmma::matrix_a, ...>`)."""


def analyze_cuda(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    """Findings for one CUDA or C++ source. tree-sitter never fails: nothing here raises for syntax.

    The project's porting layer (`facts`) changes the ROCm verdict: a file that is itself HIP's
    side has no findings, and one only CUDA builds include has notes at most; a name a compatibility header it reaches maps works on ROCm, citing the
    header's line; what a call passes in an argument the header's macro drops (a 32-bit mask given
    to a `_sync` shim, `cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH)` defined to a constant) never
    reaches HIP; and in a
    source the build hipifies for ROCm, a name HIPIFY renames needs no change. In a source the
    project's build compiles for ROCm, a hazard that compiles there has its rule's
    `severity_when_built`; in one the build compiles for CUDA only, in a folder it builds nothing
    else of for ROCm, or one it builds nothing of for ROCm at all (a CUDA-only engine), every ROCm site
    is a warning at most (a part ROCm goes without), and a HIPIFY rename a note (the gap is the build's);
    in one only CUDA builds of PyTorch load, where ROCm runs another route, every ROCm site is a note.
    In a source only a JIT build compiles that the project goes on without, the targets without
    CUDA (CPU, XPU, MPS) run the Python path: every site works there.
    """
    if facts.porting_layer is not None:
        return []
    source = text.encode("utf-8")
    lines = SourceLines(text)
    positions = FilePositions(source, lines)
    device_code = path.lower().endswith(_CUDA_SUFFIXES) or _DEVICE_CODE.search(source) is not None
    project_macros: MacroSides = {name: Build(on_hip, on_cuda) for name, on_hip, on_cuda in facts.cuda_macros}
    project_values: MacroValues = {name: Build(hip, cuda) for name, hip, cuda in facts.cuda_macro_values}
    porting = ProjectPorting(facts)
    findings = []
    only_cuda = Severity.NOTE if facts.cuda_only is not None else None  # as in a CUDA-only branch
    dropped = porting.dropped_arguments(source)
    # A toolkit macro the porting layer defines, or one a ROCm-aware build's hipify may rename, is not
    # known on HIP. Where only PyTorch's hipify runs (a plain `CUDAExtension`), `CUDA_VERSION` becomes
    # `TORCH_HIP_VERSION` (major * 100 + minor), which fails every `CUDA_VERSION >= 9000` as the
    # undefined macro does: the macros keep their CUDA-only side.
    aware = facts.hipified_by is not None and facts.rocm_build is not None
    toolkit = frozenset() if aware else api_table(catalog).toolkit_macros - porting.ported
    hits = cuda_hits(source, catalog, device_code, project_macros, porting.mask_droppers, project_values, toolkit)
    for hit in hits:
        span = positions.span(hit.start, hit.end)
        entry = porting.entry(hit.entry)
        if facts.python_fallback is not None:
            entry = python_path_without(entry, facts.python_fallback)
        cap = only_cuda or hit.cap
        if dropped and any(start <= hit.start < end for start, end in dropped):
            cap = Severity.NOTE  # an argument the porting layer's macro drops: HIP never sees it
        findings.append(build_finding(entry, path, span, lines.snippet(span), settings.targets, cap=cap))
    return findings


class ProjectPorting:
    """What the project's own porting layer makes of a catalog entry on ROCm."""

    def __init__(self, facts: FileFacts) -> None:
        self._ported = {ported.name: ported for ported in facts.ported_names}
        self.ported = frozenset(self._ported)
        self._hipified_by = facts.hipified_by
        self._rocm_build = facts.rocm_build
        self._goes_without = facts.rocm_goes_without
        self._route = facts.rocm_route
        self.mask_droppers = frozenset(ported.name for ported in facts.ported_names if 0 in ported.dropped)
        self._entries: dict[int, Entry] = {}

    def dropped_arguments(self, source: bytes) -> list[tuple[int, int]]:
        """Byte ranges of the arguments that calls in `source` pass where a macro of the porting layer
        drops them (its body never names the parameter)."""
        droppers = {ported.name: ported.dropped for ported in self._ported.values() if ported.dropped}
        if not droppers:
            return []
        names = b"|".join(re.escape(name.encode()) for name in sorted(droppers))
        ranges = []
        for call in re.finditer(rb"\b(" + names + rb")\s*\(", source):
            arguments = _arguments(source, call.end())
            ranges += [arguments[i] for i in droppers[call.group(1).decode()] if i < len(arguments)]
        return ranges

    def entry(self, entry: Entry) -> Entry:
        """`entry`, with ROCm "works" where the project's porting layer takes care of the name."""
        if "rocm" not in entry.targets or entry.targets["rocm"].status is Status.WORKS:
            return entry
        known = self._entries.get(id(entry))
        if known is None:
            known = self._entries[id(entry)] = self._ported_entry(entry)
        return known

    def _ported_entry(self, entry: Entry) -> Entry:
        ported = self._ported.get(entry.match) if entry.rule.detector == API_DETECTOR else None
        if ported is not None:
            source = f"{ported.evidence.cite()}: the project's HIP compatibility header maps it"
        elif (self._hipified_by is not None and entry.rule.detector in HIPIFY_RENAMES
              and entry.targets["rocm"].status is Status.CHANGE):
            source = f"{self._hipified_by.cite()}: on a ROCm build of PyTorch, its extension build hipifies this source"
        else:
            return self._built_entry(entry)
        works = Portability(Status.WORKS, "", source, Severity.NOTE)
        return replace(entry, targets={**entry.targets, "rocm": works})

    def _built_entry(self, entry: Entry) -> Entry:
        """`entry` in a source the project's build leaves out of ROCm (`goes_without`), or compiles for
        ROCm (the rule's `severity_when_built`)."""
        fact = entry.targets["rocm"]
        if self._route is not None:
            return rocm_runs_elsewhere(entry, self._route)
        if self._goes_without is not None:
            renamed = entry.rule.detector in HIPIFY_RENAMES and fact.status is Status.CHANGE
            return rocm_goes_without(entry, self._goes_without, renamed)
        if self._rocm_build is not None and fact.severity_when_built is not None:
            severity = fact.severity.at_most(fact.severity_when_built)
            source = f"{fact.source}; {self._rocm_build.cite()}: the project builds this source for ROCm, where it compiles"
        else:
            return entry
        return replace(entry, targets={**entry.targets, "rocm": replace(fact, severity=severity, source=source)})


_ARGUMENT_LIMIT = 4096
"""Bytes looked at for one call's arguments: a call is not longer; an unbalanced parenthesis stops there."""


def _arguments(source: bytes, start: int) -> list[tuple[int, int]]:
    """The byte ranges of a call's top-level arguments, from just after its `(`; [] when the call
    does not close within `_ARGUMENT_LIMIT` bytes."""
    ranges: list[tuple[int, int]] = []
    depth, begin = 0, start
    for position in range(start, min(len(source), start + _ARGUMENT_LIMIT)):
        byte = source[position]
        if byte in b"([{":
            depth += 1
        elif byte in b")]}":
            if depth == 0:
                return [*ranges, (begin, position)]
            depth -= 1
        elif byte == ord(",") and depth == 0:
            ranges.append((begin, position))
            begin = position + 1
    return []


def cuda_hits(
    source: bytes,
    catalog: Catalog,
    device_code: bool = True,
    project_macros: MacroSides | None = None,
    mask_droppers: frozenset[str] = frozenset(),
    project_values: MacroValues | None = None,
    toolkit_macros: frozenset[str] = frozenset(),
) -> list[CudaHit]:
    """Every catalog hit in a CUDA source, after preprocessor branches, one per rule and site.

    The hazards (inline PTX, warp size, ...) are looked for only in `device_code`: a C++ file
    that calls the CUDA runtime from the host may well hold CPU assembly or another GPU
    language's `WARP_SIZE`. `mask_droppers` are the warp functions whose mask argument the
    project's porting layer drops on HIP; `toolkit_macros` are the CUDA toolkit's version macros
    that a HIP build of this source leaves undefined (`CUDART_VERSION`).
    """
    if not device_code and not may_refer(source, api_table(catalog), catalog):
        return []  # host C++ is read for its references alone, and the bytes hold none
    tree = syntax.parse(source)
    # The hazards' patterns only where they are read: in host C++ they would capture every loop,
    # declaration and comparison with a number for nothing (the code map's matches are the same).
    patterns = code_map.PATTERNS + hazards.PATTERNS if device_code else code_map.PATTERNS
    nodes = syntax.QueryMatches(patterns, tree.root_node)
    code = code_map.CodeMap(nodes, source)
    found = list(references(source, code, api_table(catalog), catalog))
    if device_code:
        found += hazards.hazards(nodes, tree.root_node, source, code, catalog, mask_droppers)
    branches = BranchMap(source, project_macros, project_values, toolkit_macros)
    line_starts = [0] + [m.end() for m in _NEWLINE.finditer(source)]
    kept: dict[tuple, CudaHit] = {}
    for hit in sorted(found, key=lambda h: (h.start, h.end)):
        line = bisect.bisect_right(line_starts, hit.start)
        state = branches.state(line)
        if state is LineState.PORTED:
            continue
        if state is LineState.CUDA_ONLY or line in branches.conditions:
            hit = CudaHit(hit.entry, hit.start, hit.end, Severity.NOTE)  # skipped by HIP, or only a test
        key = (hit.entry.rule.id, line) if hit.entry.rule.detector in _ONCE_PER_LINE else (hit.entry.rule.id, hit.start)
        kept.setdefault(key, hit)
    return list(kept.values())
