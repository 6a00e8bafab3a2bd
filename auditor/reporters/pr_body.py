"""The pull request text for an auto-fix branch: what changed, what still needs a person,
and how ready each target is before and after.

GitHub refuses a pull request body over 65,536 characters. A large repository's list of what
remains runs far past that, so the text is summarised step by step until it fits: first every
site, then one line per file with its rules, then as many files as fit and a count of the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from itertools import groupby

from cudaudit.fix_report import BranchOutcome, Remaining
from cudaudit.model import Finding, ScanResult, Severity, Status
from cudaudit.reporters.fix_text import lifted_unchecked, unchecked_note

MAX_BODY = 65_536
"""GitHub's limit on a pull request body, in characters."""


def render_pr_body(fix: BranchOutcome, targets: tuple[str, ...], limit: int = MAX_BODY) -> str:
    """The Markdown body, no longer than `limit` characters."""
    head = _head(fix, targets)
    notes = fix.report.notes_left
    tail = [f"{notes} note(s) on guarded or merely CUDA-flavoured code are not listed."] if notes else []
    for fixes, remaining in ((_fixes_by_file, _each_site), (_fixes_by_rule, _each_file)):
        body = _join([*head, *fixes(fix), *_still_needed(fix), *remaining(fix), *_spaced(tail)])
        if len(body) <= limit:
            return body
    return _fitted([*head, *_fixes_by_rule(fix), *_still_needed(fix)], list(_each_file(fix)), tail, limit)


def _head(fix: BranchOutcome, targets: tuple[str, ...]) -> list[str]:
    before, after = _needing_change(fix.before, targets), _needing_change(fix.after, targets)
    blocked = _blocked(fix.after, targets)
    return [
        f"# {fix.title}",
        "",
        "Rewrites made by `cudaudit fix`: each keeps the behaviour on an NVIDIA GPU and lets the code run on "
        "the other targets (the device type is chosen at run time).",
        "",
        "## Readiness by target",
        "",
        "| target | sites needing a change before | after | blocked after |",
        "|---|---|---|---|",
        *(f"| {t} | {before[t]} | {after[t]} | {blocked[t]} |" for t in targets),
        "",
    ]


def _fixes_by_file(fix: BranchOutcome) -> list[str]:
    by_rule_file = Counter((f.rule, f.path) for f in fix.report.fixed)
    rows = [f"| {rule} | `{path}` | {count} |" for (rule, path), count in sorted(by_rule_file.items())]
    return ["## Fixes", "", "| rule | file | sites |", "|---|---|---|", *rows, ""]


def _fixes_by_rule(fix: BranchOutcome) -> list[str]:
    rules = sorted({f.rule for f in fix.report.fixed})
    rows = [
        f"| {rule} | {len({f.path for f in fix.report.fixed if f.rule == rule})} | {sum(f.rule == rule for f in fix.report.fixed)} |"
        for rule in rules
    ]
    return ["## Fixes", "", "| rule | files | sites |", "|---|---|---|", *rows, ""]


def _still_needed(fix: BranchOutcome) -> list[str]:
    """The heading, and the requirements lifted on the strength of one module's code alone."""
    lifted = [
        f"- `{finding.path}` {_where(finding)}, {finding.rule}: {unchecked_note(names)}"
        for finding, names in lifted_unchecked(fix.report)
    ]
    return ["## Still needs a person", "", *lifted, *([""] if lifted else [])]


def _each_site(fix: BranchOutcome) -> Iterator[str]:
    if not fix.report.remaining:
        yield "Nothing at warning or error level."
    for path, group in _by_file(fix):
        yield f"- `{path}`"
        for item in group:
            finding = item.finding
            yield f"  - {_where(finding)}, {finding.rule}: {finding.message} — {item.reason}"


def _each_file(fix: BranchOutcome) -> Iterator[str]:
    if not fix.report.remaining:
        yield "Nothing at warning or error level."
    for path, group in _by_file(fix):
        rules = Counter(item.finding.rule for item in group)
        listed = ", ".join(f"{rule} ×{n}" for rule, n in sorted(rules.items()))
        yield f"- `{path}`: {sum(rules.values())} site(s): {listed}"


def _by_file(fix: BranchOutcome) -> Iterator[tuple[str, list[Remaining]]]:
    remaining = sorted(fix.report.remaining, key=lambda item: item.finding.sort_key)
    for path, group in groupby(remaining, key=lambda item: item.finding.path):
        yield path, list(group)


def _fitted(head: list[str], files: list[str], tail: list[str], limit: int) -> str:
    """As many file lines as fit under `limit` with a line that counts the rest."""
    fixed = len(_join([*head, *_spaced(tail)])) + 200  # room for the line that counts what is left out
    kept: list[str] = []
    for line in files:
        if fixed + len(_join(kept)) + len(line) + 1 > limit:
            break
        kept.append(line)
    left = len(files) - len(kept)
    more = [f"- … and {left} more file(s): `cudaudit scan -f concise` on the branch lists every site."] if left else []
    return _join([*head, *kept, *more, *_spaced(tail)])


def _spaced(lines: list[str]) -> list[str]:
    return ["", *lines] if lines else []


def _join(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


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
