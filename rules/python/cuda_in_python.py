"""CUDA a Python module carries: C++ kernels in strings (rules/kernels/) and CUDA extension builds
(rules/builds/).

The Python analyzer calls `cuda_in_python` once per module it parsed; a module that mentions
none of the marker words is not walked again, and tree-sitter loads only for one that
compiles CUDA source at run time.
"""

from __future__ import annotations

import ast

from cudaudit.model import Finding
from cudaudit.rules.builds import python_builds
from cudaudit.rules.catalog import Catalog
from cudaudit.rules.kernels import embedded
from cudaudit.rules.python.names import ImportTable
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines


def cuda_in_python(
    tree: ast.Module, names: ImportTable, text: str, path: str, catalog: Catalog, settings: AnalysisSettings
) -> list[Finding]:
    kernels = any(marker in text for marker in embedded.MARKERS)
    builds = any(marker in text for marker in python_builds.MARKERS)
    if not (kernels or builds):
        return []
    lines = SourceLines(text)
    findings = []
    if kernels:
        findings += embedded.embedded_cuda_findings(tree, names, lines, path, catalog, settings)
    if builds:
        findings += python_builds.build_findings(tree, names, lines, path, catalog, settings)
    return findings
