"""C/C++ sources that only a CUDA build of PyTorch loads, where ROCm runs another route.

A package may keep its CUDA extension in a module of its own that it imports only on CUDA builds
of PyTorch (`if torch.version.cuda: from .cuda import *` beside `elif torch.version.hip: from
.hip import *`), the module naming the sources that a JIT build (`torch.utils.cpp_extension.load`)
compiles on first use. ROCm's path never imports that module (the project index's import graph,
`import_paths.other_target_modules`), so no ROCm build compiles those sources: ROCm runs what the
project chose for it there, a HIP sibling or the plain PyTorch code the package falls back to
without the extension. Slower, not broken. What the sources' lines would need on ROCm is then no
lock-in line by line (notes, citing the import); the component is one warning, at that import,
naming the route ROCm takes instead (CDA445).

A module's sources are the folder of a package's `__init__.py` that names C/C++ sources, or, for
a plain module, the folders of the sources it names; sources a build script compiles for ROCm
anyway (named in its ROCm build) keep their verdicts, since a ROCm install compiles them.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from cudaudit.facts import Evidence
from cudaudit.model import TARGETS, Finding
from cudaudit.rules.catalog import Catalog, build_finding
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines

DETECTOR = "torch-extension"
ROUTE_KEY = "cuda-only-load"
_CUDA_SUFFIXES = (".cu", ".cuh")
_NAMED_SOURCE = re.compile(rb"""["']([\w./-]+\.(?:cu|cuh|cpp|cc|cxx|hip))["']""")
"""A string literal that names a C/C++ or CUDA source file: `"awq/gemm.cu"`."""


def named_sources(path: str, data: bytes) -> tuple[str, ...]:
    """The C/C++ sources the Python module at display path `path` names, resolved from its folder."""
    if b".cu" not in data and b".cpp" not in data and b".hip" not in data and b".cc" not in data:
        return ()
    folder = posixpath.dirname(path)
    found = {posixpath.normpath(posixpath.join(folder, match.group(1).decode("ascii")))
             for match in _NAMED_SOURCE.finditer(data)}
    return tuple(sorted(source for source in found if not source.startswith("..")))


def naming_lines(path: str, data: bytes) -> dict[str, tuple[int, ...]]:
    """`named_sources`, each with the lines of the module at display path `path` that name it."""
    folder = posixpath.dirname(path)
    found: dict[str, list[int]] = {}
    for match in _NAMED_SOURCE.finditer(data):
        source = posixpath.normpath(posixpath.join(folder, match.group(1).decode("ascii")))
        if not source.startswith(".."):
            found.setdefault(source, []).append(data.count(b"\n", 0, match.start()) + 1)
    return {source: tuple(lines) for source, lines in found.items()}


def routed_sources(
    named: Mapping[str, tuple[str, ...]],
    other_paths: Mapping[str, tuple[tuple[str, Evidence], ...]],
    sources: Iterable[str],
) -> tuple[dict[str, Evidence], dict[str, tuple[tuple[Evidence, int, str], ...]]]:
    """(source -> the import that leaves it out of ROCm, gate file -> (that import, how many sources
    it leaves out, the module ROCm loads instead or "")) for the modules that name CUDA sources and that no target's path imports (only a
    CUDA build of PyTorch does: a module only ROCm's path leaves out, or only CPU's, runs on the other)."""
    sources = sorted(set(sources))
    routed: dict[str, Evidence] = {}
    for module, names in sorted(named.items()):
        left_out = dict(other_paths.get(module, ()))
        if not set(TARGETS) <= set(left_out):
            continue  # some target's path imports it: a HIP sibling's, an MPS or XPU extension's
        present = [name for name in names if name in sources]
        if not any(name.endswith(_CUDA_SUFFIXES) for name in present):
            continue  # no CUDA among what it loads: another device's kernels (`.mm`, `.sycl`)
        gate = left_out["rocm"]
        if posixpath.basename(module) == "__init__.py":
            folders = {posixpath.dirname(module)}
        else:
            folders = {posixpath.dirname(name) for name in present}
        for source in sources:
            if any(source.startswith(folder.rstrip("/") + "/") for folder in folders):
                routed.setdefault(source, gate)
    counts: dict[Evidence, int] = {}
    for gate in routed.values():
        counts[gate] = counts.get(gate, 0) + 1
    gates: dict[str, list[tuple[Evidence, int, str]]] = {}
    for gate, count in sorted(counts.items(), key=lambda item: (item[0].path, item[0].line)):
        gates.setdefault(gate.path, []).append((gate, count, _rocm_sibling(gate.path, named, other_paths)))
    return routed, {path: tuple(found) for path, found in gates.items()}


def _rocm_sibling(gate_file: str, named: Mapping[str, tuple[str, ...]], other_paths: Mapping[str, tuple[tuple[str, Evidence], ...]]) -> str:
    """The module naming sources that the same file imports only on ROCm's path (`elif
    torch.version.hip: from .hip import *`): the extension ROCm loads instead; "" where there is none."""
    rocm_only = set(TARGETS) - {"rocm"}
    for module in sorted(named):
        left_out = {target: evidence for target, evidence in other_paths.get(module, ())}
        if set(left_out) == rocm_only and all(evidence.path == gate_file for evidence in left_out.values()):
            return module
    return ""


def route_findings(
    tree: ast.Module, path: str, gates: tuple[tuple[Evidence, int, str], ...], lines: SourceLines,
    catalog: Catalog, settings: AnalysisSettings,
) -> list[Finding]:
    """One finding per import of this module that leaves a CUDA extension's sources out of ROCm."""
    entry = catalog.lookup(DETECTOR, ROUTE_KEY) if gates else None
    if entry is None:
        return []
    statements = {node.lineno: node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))}
    findings = []
    for gate, count, sibling in gates:
        node = statements.get(gate.line)
        if node is None:
            continue
        span = lines.node_span(node)
        finding = build_finding(entry, path, span, lines.snippet(span), settings.targets)
        noun = "source" if count == 1 else "sources"
        route = f"`{sibling}` and the plain PyTorch code" if sibling else "the plain PyTorch code"
        message = finding.message.replace("{count}", f"{count} {noun}").replace("{route}", route)
        findings.append(replace(finding, message=message))
    return findings
