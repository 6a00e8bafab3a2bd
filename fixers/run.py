"""`cudaudit fix`: apply the fixes that scan findings carry, file by file, and account for the rest."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path, PurePath

from packaging.version import Version

from cudaudit.analyzers import decoder
from cudaudit.filekinds import FileKind, classify
from cudaudit.fixers.edits import FixedText
from cudaudit.fixers.python_fixer import fix_python
from cudaudit.fixers.text_fixer import fix_text
from cudaudit.fixers.writer import encode_like, write_atomic
from cudaudit.model import DEFAULT_TARGETS, FileError, Finding, Safety, ScanResult, Severity
from cudaudit.resolvers.variants import single_target
from cudaudit.rules.catalog import load_catalog
from cudaudit.settings import AnalysisSettings
from cudaudit.source import UndecodableError, decode_python

NO_FIX = "no automatic rewrite: apply the replacement shown for each target"
UNSAFE = "its fix may change behaviour on CUDA: review it, then rerun with --unsafe-fixes"
CONFLICT = "its fix overlaps another one applied in this run: run cudaudit fix again"
ONE_TARGET = (
    "dependency files and Dockerfiles are rewritten for one target at a time: "
    "rerun with --target rocm or --target cpu (and --unsafe-fixes) for the rewrites that can be made"
)
LOCKED = "lock files are not edited: fix the requirements they are locked from, then lock again"
NOT_REWRITTEN = (
    "only Python sources, requirements files, pyproject.toml, conda environments, Dockerfiles and "
    "workflows (a job on the target) are rewritten"
)

TARGET_FIXED_KINDS = (FileKind.REQUIREMENTS, FileKind.PYPROJECT, FileKind.CONDA, FileKind.DOCKERFILE, FileKind.WORKFLOW)
"""Kinds whose analyzers attach fixes when one target is named, rewritten by the text fixer."""


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


def run_fixes(
    result: ScanResult,
    unsafe: bool,
    torch_version: Version | None,
    write: bool,
    targets: Sequence[str] = DEFAULT_TARGETS,
) -> FixReport:
    """Fix every file that has fixable findings; write them (or only diff them when `write` is False).

    `targets` are the scan's: dependency files and Dockerfiles carry fixes only for one of them.
    """
    report = FixReport(errors=list(result.errors))
    settings = AnalysisSettings(tuple(targets))
    for path, group in groupby(result.findings, key=lambda f: f.path):
        findings = list(group)
        kinds = classify(PurePath(path))
        chosen = [f for f in findings if f.fix is not None and (unsafe or f.fix.safety is Safety.SAFE)]
        for finding in findings:
            if finding in chosen:
                continue
            if finding.severity is Severity.NOTE:
                report.notes_left += 1
            elif finding.fix is None:
                report.remaining.append(Remaining(finding, _why_no_fix(finding, kinds, settings)))
            else:
                report.remaining.append(Remaining(finding, UNSAFE))
        if chosen:
            _fix_file(Path(path), path, kinds, chosen, torch_version, settings, write, report)
    return report


def _why_no_fix(finding: Finding, kinds: tuple[FileKind, ...], settings: AnalysisSettings) -> str:
    if FileKind.PYTHON in kinds:
        return NO_FIX
    if any(kind in TARGET_FIXED_KINDS for kind in kinds):
        rule = load_catalog().rules.get(finding.rule)
        fixable = rule is not None and rule.fix is not None
        return ONE_TARGET if fixable and single_target(settings.targets) is None else NO_FIX
    return LOCKED if FileKind.LOCKFILE in kinds else NOT_REWRITTEN


def _fix_file(
    path: Path,
    name: str,
    kinds: tuple[FileKind, ...],
    findings: list[Finding],
    torch_version: Version | None,
    settings: AnalysisSettings,
    write: bool,
    report: FixReport,
) -> None:
    python = FileKind.PYTHON in kinds
    kind = FileKind.PYTHON if python else next(k for k in kinds if k in TARGET_FIXED_KINDS)
    try:
        original = path.read_bytes()
        text = decode_python(original) if python else decoder(kind)(original)
    except (OSError, UndecodableError) as exc:
        report.errors.append(FileError(name, f"cannot read for fixing: {exc}"))
        return
    fixed: FixedText = (
        fix_python(text, findings, torch_version) if python else fix_text(text, findings, kind, name, settings)
    )
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
        write_atomic(path, encode_like(original, fixed.text, None if python else "utf-8"))


def fixed_by_rule(report: FixReport) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for finding in report.fixed:
        counts[finding.rule] += 1
    return dict(sorted(counts.items()))
