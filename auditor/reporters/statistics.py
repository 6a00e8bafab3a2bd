"""`--statistics`: how many findings each rule has, most frequent first, and whether `cudaudit fix`
can rewrite them: where to start on a repository with thousands of findings."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from cudaudit.model import Safety, ScanResult
from cudaudit.rules.catalog import Catalog

_MARKS = {"safe": "[*]", "unsafe": "[-]", "none": "   "}


@dataclass(frozen=True)
class RuleCount:
    rule: str
    name: str
    count: int
    fixable: str
    """`safe` when `cudaudit fix` rewrites some of them, `unsafe` when only `--unsafe-fixes` does, else `none`."""


def rule_counts(result: ScanResult, catalog: Catalog) -> list[RuleCount]:
    counts = Counter(f.rule for f in result.findings)
    fixes: dict[str, set[Safety]] = {}
    for finding in result.findings:
        if finding.fix is not None:
            fixes.setdefault(finding.rule, set()).add(finding.fix.safety)
    rows = []
    for rule, count in counts.items():
        safeties = fixes.get(rule, set())
        fixable = "safe" if Safety.SAFE in safeties else "unsafe" if safeties else "none"
        rows.append(RuleCount(rule, catalog.rules[rule].name, count, fixable))
    return sorted(rows, key=lambda row: (-row.count, row.rule))


def render_statistics(result: ScanResult, catalog: Catalog) -> str:
    rows = rule_counts(result, catalog)
    width = len(str(rows[0].count)) if rows else 1
    lines = [f"{row.count:>{width}}  {row.rule}  {_MARKS[row.fixable]}  {row.name}" for row in rows]
    if any(row.fixable == "safe" for row in rows):
        lines.append("[*] `cudaudit fix` rewrites some of them")
    if any(row.fixable == "unsafe" for row in rows):
        lines.append("[-] `cudaudit fix --unsafe-fixes` rewrites some of them (review the diff)")
    return "\n".join(lines) + "\n"


def render_statistics_json(result: ScanResult, catalog: Catalog) -> str:
    rows = [row.__dict__ for row in rule_counts(result, catalog)]
    return json.dumps(rows, indent=2) + "\n"
