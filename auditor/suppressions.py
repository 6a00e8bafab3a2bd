"""`# cudaudit: ignore[CDA101]` and bare `# cudaudit: ignore` comments.

A suppression applies to findings that start or end on its line. The marker is found
after `#` (Python, shell, YAML, Dockerfiles, requirement files) or `//` (C++), so one
mechanism serves every file kind. An id that names no rule is itself reported (CDA001),
so a typo never silently disables nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cudaudit.model import Finding, Span
from cudaudit.rules.catalog import Catalog, build_finding
from cudaudit.source import SourceLines

MARKER = "cudaudit:"
_SUPPRESSION = re.compile(r"(?:#|//)\s*cudaudit:\s*ignore\b(?:\[([^\]]*)\])?")


@dataclass(frozen=True)
class Suppression:
    line: int
    rules: frozenset[str] | None
    """The ids it silences; None silences every rule on the line."""

    def covers(self, finding: Finding) -> bool:
        return self.rules is None or finding.rule in self.rules


def apply_suppressions(
    findings: list[Finding],
    text: str,
    path: str,
    catalog: Catalog,
    targets: Iterable[str],
) -> list[Finding]:
    """Drop findings of `path` that its comments suppress; add one for each unknown id named."""
    if MARKER not in text:
        return findings
    lines = SourceLines(text)
    by_line: dict[int, Suppression] = {}
    problems: list[Finding] = []
    for number, line in enumerate(lines.lines, start=1):
        if MARKER not in line:
            continue
        for match in _SUPPRESSION.finditer(line):
            ids = None
            if match.group(1) is not None:
                ids = frozenset(part.strip() for part in match.group(1).split(",") if part.strip())
                span = Span(number, match.start(1) + 1, number, match.end(1) + 1)
                problems.extend(
                    _unknown_id(rule_id, path, span, catalog, targets)
                    for rule_id in sorted(ids)
                    if rule_id not in catalog.rules
                )
            by_line[number] = Suppression(number, ids)
    kept = [f for f in findings if f.path != path or not _suppressed(f, by_line)]
    return kept + problems


def _suppressed(finding: Finding, by_line: dict[int, Suppression]) -> bool:
    """Whether a comment on the finding's first or last line silences it.

    Only findings in the file the comments are in: an analyzer may report on another file
    (an included requirements file), whose own comments decide for it."""
    lines = {finding.span.line, finding.span.end_line}
    return any((s := by_line.get(line)) is not None and s.covers(finding) for line in lines)


def _unknown_id(rule_id: str, path: str, span: Span, catalog: Catalog, targets: Iterable[str]) -> Finding:
    entry = catalog.lookup("suppression", "")
    assert entry is not None, "the catalog defines the suppression rule"
    return build_finding(entry, path, span, rule_id, targets)
