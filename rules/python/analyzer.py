"""The Python analyzer: parse with `ast` (never import or run), detect, build findings."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from cudaudit.model import Finding
from cudaudit.rules.catalog import Catalog, build_finding
from cudaudit.rules.python.detector import PythonDetector
from cudaudit.rules.python.names import ImportTable
from cudaudit.source import SourceLines


def analyze_python(text: str, path: str, catalog: Catalog, targets: Iterable[str]) -> list[Finding]:
    """Findings for one Python module; raises SyntaxError for code that does not parse."""
    tree = ast.parse(text, filename=path)
    detector = PythonDetector(ImportTable(tree), catalog)
    detector.visit(tree)
    lines = SourceLines(text)
    targets = tuple(targets)
    findings: dict[tuple[str, object], Finding] = {}
    for hit in detector.hits:
        node = hit.node
        span = lines.span_from_utf8(node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)
        finding = build_finding(hit.entry, path, span, lines.snippet(span), targets, hit.guarded, hit.cap)
        findings.setdefault((finding.rule, span), finding)
    return list(findings.values())
