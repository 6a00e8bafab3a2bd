"""Counts over a scan's findings, shared by the text, concise and JSON reports."""

from __future__ import annotations

from collections import Counter
from typing import Any

from cudaudit.model import ScanResult, Severity, Status
from cudaudit.reporters.migration import migration_summary
from cudaudit.rules.catalog import load_catalog


def summarize(result: ScanResult, targets: tuple[str, ...]) -> dict[str, Any]:
    """Totals by severity, by rule and, per requested target, by status; CUDA migration counts."""
    by_target: dict[str, Counter[str]] = {t: Counter() for t in targets}
    for finding in result.findings:
        for name, fact in finding.targets.items():
            by_target[name][fact.status.value] += 1
    return {
        "targets": list(targets),
        "files": result.files_scanned,
        "lines": result.lines_scanned,
        "findings": len(result.findings),
        "portable_hidden": result.portable_hidden,
        "errors": len(result.errors),
        "by_severity": {s.value: sum(f.severity is s for f in result.findings) for s in reversed(Severity)},
        "by_rule": dict(sorted(Counter(f.rule for f in result.findings).items())),
        "by_target": {t: {s.value: by_target[t][s.value] for s in Status} for t in targets},
        "migration": migration_summary(result.findings, load_catalog(), targets),
    }


def count_phrase(summary: dict[str, Any]) -> str:
    """`916 findings (12 error, 300 warning, 604 note)`."""
    total = summary["findings"]
    severities = ", ".join(f"{n} {s}" for s, n in summary["by_severity"].items() if n)
    return f"{total} finding{'s' * (total != 1)}" + (f" ({severities})" if severities else "")


def scope_phrase(summary: dict[str, Any]) -> str:
    """`in 2206 files (412,335 lines) scanned for targets rocm, cpu.`"""
    files = summary["files"]
    return (
        f"in {files} file{'s' * (files != 1)} ({summary['lines']} lines) "
        f"scanned for targets {', '.join(summary['targets'])}."
    )
