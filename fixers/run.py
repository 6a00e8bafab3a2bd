"""`cudaudit fix`: apply the fixes that scan findings carry, file by file, and account for the rest."""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from packaging.version import Version

from cudaudit.fixers.python_fixer import fix_python
from cudaudit.fixers.writer import encode_like, write_atomic
from cudaudit.model import FileError, Finding, Safety, ScanResult, Severity
from cudaudit.source import UndecodableError, decode_python

NO_FIX = "no automatic rewrite: apply the replacement shown for each target"
UNSAFE = "its fix may change behaviour on CUDA: review it, then rerun with --unsafe-fixes"
CONFLICT = "its fix overlaps another one applied in this run: run cudaudit fix again"
ONLY_PYTHON = "only Python sources are rewritten so far"


@dataclass(frozen=True)
class Remaining:
    finding: Finding
    reason: str


@dataclass
class FixReport:
    fixed: list[Finding] = field(default_factory=list)
    remaining: list[Remaining] = field(default_factory=list)
    """Findings left at warning or error: what still breaks a target."""
    notes_left: int = 0
    """Notes left (guarded or merely CUDA-flavoured code), counted rather than listed."""
    changed: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)


def run_fixes(result: ScanResult, unsafe: bool, torch_version: Version | None, write: bool) -> FixReport:
    """Fix every file that has fixable findings; write them (or only diff them when `write` is False)."""
    report = FixReport(errors=list(result.errors))
    for path, group in groupby(result.findings, key=lambda f: f.path):
        findings = list(group)
        chosen = [f for f in findings if f.fix is not None and (unsafe or f.fix.safety is Safety.SAFE)]
        for finding in findings:
            if finding in chosen:
                continue
            if finding.severity is Severity.NOTE:
                report.notes_left += 1
            elif finding.fix is None:
                report.remaining.append(Remaining(finding, NO_FIX if path.endswith(".py") else ONLY_PYTHON))
            else:
                report.remaining.append(Remaining(finding, UNSAFE))
        if chosen:
            _fix_file(Path(path), path, chosen, torch_version, write, report)
    return report


def _fix_file(
    path: Path, name: str, findings: list[Finding], torch_version: Version | None, write: bool, report: FixReport
) -> None:
    try:
        original = path.read_bytes()
        text = decode_python(original)
    except (OSError, UndecodableError) as exc:
        report.errors.append(FileError(name, f"cannot read for fixing: {exc}"))
        return
    fixed = fix_python(text, findings, torch_version)
    if fixed.error:
        report.errors.append(FileError(name, fixed.error))
        report.remaining.extend(Remaining(f, fixed.error) for f in findings)
        return
    report.remaining.extend(Remaining(f, CONFLICT) for f in fixed.conflicting)
    report.fixed.extend(fixed.applied)
    if fixed.text == text:
        return
    report.changed.append(name)
    report.diffs.append(
        "".join(
            difflib.unified_diff(
                text.splitlines(keepends=True), fixed.text.splitlines(keepends=True), f"a/{name}", f"b/{name}"
            )
        )
    )
    if write:
        write_atomic(path, encode_like(original, fixed.text))


def fixed_by_rule(report: FixReport) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for finding in report.fixed:
        counts[finding.rule] += 1
    return dict(sorted(counts.items()))
