"""The pull request text for an auto-fix branch: what changed, what still needs a person,
and how ready each target is before and after."""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from cudaudit.fix_report import BranchOutcome
from cudaudit.model import Finding, ScanResult, Severity, Status


def render_pr_body(outcome: BranchOutcome, targets: tuple[str, ...]) -> str:
    report = outcome.report
    parts = [
        f"# {outcome.title}",
        "",
        "Rewrites made by `cudaudit fix`: each keeps the behaviour on an NVIDIA GPU and lets the code run on "
        "the other targets (the device type is chosen at run time).",
        "",
        "## Fixes",
        "",
        "| rule | file | sites |",
        "|---|---|---|",
    ]
    by_rule_file = Counter((f.rule, f.path) for f in report.fixed)
    parts += [f"| {rule} | `{path}` | {count} |" for (rule, path), count in sorted(by_rule_file.items())]
    parts += ["", "## Readiness by target", "", "| target | sites needing a change before | after | blocked after |", "|---|---|---|---|"]
    before, after = _needing_change(outcome.before, targets), _needing_change(outcome.after, targets)
    blocked = _blocked(outcome.after, targets)
    parts += [f"| {t} | {before[t]} | {after[t]} | {blocked[t]} |" for t in targets]
    remaining = sorted(report.remaining, key=lambda r: r.finding.sort_key)
    parts += ["", "## Still needs a person", ""]
    if not remaining:
        parts.append("Nothing at warning or error level.")
    for path, group in groupby(remaining, key=lambda r: r.finding.path):
        parts.append(f"- `{path}`")
        for item in group:
            f = item.finding
            parts.append(f"  - {_where(f)}, {f.rule}: {f.message} — {item.reason}")
    if report.notes_left:
        parts += ["", f"{report.notes_left} note(s) on guarded or merely CUDA-flavoured code are not listed."]
    return "\n".join(parts) + "\n"


def _needing_change(result: ScanResult, targets: tuple[str, ...]) -> Counter[str]:
    counts: Counter[str] = Counter({t: 0 for t in targets})
    for f in result.findings:
        if f.severity is Severity.NOTE:
            continue
        for name, fact in f.targets.items():
            if fact.status is not Status.WORKS:
                counts[name] += 1
    return counts


def _blocked(result: ScanResult, targets: tuple[str, ...]) -> Counter[str]:
    counts: Counter[str] = Counter({t: 0 for t in targets})
    for f in result.findings:
        for name, fact in f.targets.items():
            counts[name] += fact.status is Status.BLOCKED
    return counts


def _where(finding: Finding) -> str:
    """`line 12`, or `cell 3, line 2` in a notebook."""
    return f"cell {finding.cell.index}, line {finding.span.line}" if finding.cell else f"line {finding.span.line}"
