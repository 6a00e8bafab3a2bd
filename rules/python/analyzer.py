"""The Python analyzer: parse with `ast` (never import or run), walk with the registered concerns, build findings."""

from __future__ import annotations

from packaging.version import Version

from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.filekinds import is_test_path
from cudaudit.firstparty import is_sibling_module
from cudaudit.model import Finding, Severity
from cudaudit.rules.catalog import Catalog, build_finding
from cudaudit.rules.python.cuda_in_python import cuda_in_python
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.rewrites import FixContext, build_fix
from cudaudit.rules.python.walker import PythonWalker
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines, parse_python


def analyze_python(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    """Findings for one Python module; raises SyntaxError for code that does not parse."""
    tree = parse_python(text, filename=path)
    walker = PythonWalker(
        ImportTable(tree),
        catalog,
        lambda module: module.partition(".")[0] in settings.first_party or is_sibling_module(path, module),
        in_tests=is_test_path(path),
    )
    walker.visit(tree)
    lines = SourceLines(text)
    version = Version(settings.torch_version) if settings.torch_version else None
    fixes = FixContext(lines, walker.names, catalog.canonical, version, tree, walker.is_first_party)
    findings: dict[tuple[str, object], Finding] = {}
    specific = {id(hit.node) for hit in walker.hits if hit.specific}
    for hit in walker.hits:
        node = hit.node
        if id(node) in specific and not hit.specific:
            continue  # the called library's own facts about this value replace the generic ones
        span = lines.node_span(node)
        cap = hit.cap
        if walker.called.intersection(hit.entry.redundant_with):
            cap = Severity.NOTE  # `torch.manual_seed(s)` already seeded what this call seeds
        finding = build_finding(
            hit.entry, path, span, lines.snippet(span), settings.targets, hit.quiet, cap, build_fix(hit, fixes)
        )
        findings.setdefault((finding.rule, span), finding)
    return list(findings.values()) + cuda_in_python(tree, text, path, catalog, settings, fixes)
