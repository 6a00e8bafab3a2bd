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
from cudaudit.rules.python.rewrites import FixContext
from cudaudit.settings import AnalysisSettings


def cuda_in_python(
    tree: ast.Module, text: str, path: str, catalog: Catalog, settings: AnalysisSettings, fixes: FixContext
) -> list[Finding]:
    """`fixes` is the module's as the Python analyzer read it: its lines, its imports, and what
    builds the fixes of its findings."""
    kernels = any(marker in text for marker in embedded.MARKERS)
    builds = any(marker in text for marker in python_builds.MARKERS)
    if not (kernels or builds):
        return []
    findings = []
    if kernels:
        findings += embedded.embedded_cuda_findings(tree, fixes.names, fixes.lines, path, catalog, settings)
    if builds:
        findings += python_builds.build_findings(tree, path, catalog, settings, fixes)
    return findings
