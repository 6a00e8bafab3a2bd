"""`cudaudit fix`: apply the fixes that scan findings carry, file by file, and account for the rest."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import groupby
from pathlib import Path, PurePath

from packaging.version import Version

from cudaudit.analyzers import decoder
from cudaudit.filekinds import TARGET_FIXED_KINDS, FileKind, classify
from cudaudit.fix_report import FixReport, Remaining
from cudaudit.fixers.edits import FixedText
from cudaudit.fixers.line_length import DEFAULT as DEFAULT_LINE_LENGTH
from cudaudit.fixers.notebook_fixer import fix_notebook
from cudaudit.fixers.python_fixer import fix_python
from cudaudit.fixers.text_fixer import fix_text
from cudaudit.fixers.writer import STALE, WriteRefused, encode_like, replace_verified
from cudaudit.model import DEFAULT_TARGETS, FileError, Finding, Safety, ScanResult, Severity, Status
from cudaudit.parallel import map_in_chunks
from cudaudit.printable import diff_path
from cudaudit.resolvers.variants import single_target
from cudaudit.rules.catalog import load_catalog
from cudaudit.safe_read import UnreadableFile, content_digest, is_within, read_tree_file
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
    "only Python sources, notebooks' code cells, requirements files, pyproject.toml, conda environments, "
    "Dockerfiles and workflows (a job on the target) are rewritten"
)



FIX_CHUNK_SIZE = 2
"""Files per task sent to a worker: one large module can take a second, so chunks stay small."""
FIX_PARALLEL_THRESHOLD = 8


@dataclass(frozen=True)
class FileJob:
    """One file to fix: its path as reported, its kinds, and the findings whose fixes apply."""

    path: str
    kinds: tuple[FileKind, ...]
    findings: list[Finding]
    digest: str | None
    """Of the bytes the scan analysed: the fix applies only to those."""


@dataclass(frozen=True)
class FileFix:
    """What fixing one file gave: the text fixer's result, its diff and the bytes to write."""

    path: str
    findings: list[Finding]
    fixed: FixedText | None = None
    diff: str = ""
    data: bytes | None = None
    """The fixed file, encoded as the original was; None when nothing changed."""
    digest: str = ""
    """Of the original the fixes were applied to: the file is written only while it still holds it."""
    error: str | None = None
    """Why the file could not be read; it is then left alone."""


def run_fixes(
    result: ScanResult,
    unsafe: bool,
    torch_version: Version | None,
    write: bool,
    targets: Sequence[str] = DEFAULT_TARGETS,
    jobs: int = 1,
    on_progress: Callable[[int, int], None] | None = None,
    allow_read_only: bool = False,
    inside: Path | None = None,
    line_length: int = DEFAULT_LINE_LENGTH,
) -> FixReport:
    """Fix every file that has fixable findings; write them (or only diff them when `write` is False).

    `targets` are the scan's: dependency files and Dockerfiles carry fixes only for one of them.
    Files are fixed in `jobs` processes (each file on its own) and written here, in path order,
    each only while it holds what the scan analysed (`replace_verified`); a file that cannot be
    written is one error and the rest go on. With `inside`, a file that resolves elsewhere is
    never written (`fix --branch` writes only in its worktree).
    `line_length` is the project's: a rewritten Python line longer than that is split.
    """
    report = FixReport(errors=list(result.errors))
    settings = AnalysisSettings(tuple(targets))
    todo: list[FileJob] = []
    hidden: dict[str, list[Finding]] = {}
    for finding in result.hidden:
        hidden.setdefault(finding.path, []).append(finding)
    for path, group in groupby(result.findings, key=lambda f: f.path):
        findings = list(group)
        kinds = classify(PurePath(path))
        chosen = [f for f in findings if f.fix is not None and (unsafe or f.fix.safety is Safety.SAFE)]
        kept = []
        for requirement, still_needed in _requirements_kept([*findings, *hidden.get(path, [])], chosen):
            chosen.remove(requirement)
            kept.append(requirement)
            report.remaining.append(Remaining(requirement, _kept_because(still_needed)))
        for finding in findings:
            if finding in chosen or finding in kept:
                continue
            if finding.severity is Severity.NOTE:
                report.notes_left += 1
            elif finding.fix is None:
                report.remaining.append(Remaining(finding, _why_no_fix(finding, kinds, settings)))
            else:
                report.remaining.append(Remaining(finding, UNSAFE))
        if chosen:
            todo.append(FileJob(path, kinds, chosen, result.digests.get(path)))
    load_catalog()  # parsed once here, inherited by forked workers
    work = partial(_fix_files, torch_version=torch_version, line_length=line_length)
    done = map_in_chunks(work, todo, jobs, FIX_CHUNK_SIZE, FIX_PARALLEL_THRESHOLD, on_progress)
    for outcome in sorted(done, key=lambda outcome: outcome.path):
        _account(outcome, write, report, allow_read_only, inside)
    return report


def _requirements_kept(findings: list[Finding], chosen: list[Finding]) -> Iterator[tuple[Finding, list[Finding]]]:
    """Requirements whose removal must wait: some site they protect is not fixed in this run. A site
    counts while it is a warning or worse, or still changes on some target though a note (a
    hidden one included): what it does there is no less CUDA-only for being quiet."""
    for finding in list(chosen):
        if finding.fix is None or not finding.fix.covers:
            continue
        unfixed = [
            other
            for other in findings
            if other is not finding
            and other not in chosen
            and _needs_a_device(other)
            and _cell_of(other) == _cell_of(finding)
            and finding.fix.protects(other.span)
        ]
        if unfixed:
            yield finding, unfixed


def _needs_a_device(finding: Finding) -> bool:
    return finding.severity.rank >= Severity.WARNING.rank or any(
        fact.status is not Status.WORKS for fact in finding.targets.values()
    )


def _cell_of(finding: Finding) -> int | None:
    """The notebook cell a finding's lines count in (None outside notebooks)."""
    return finding.cell.index if finding.cell is not None else None


def _kept_because(unfixed: list[Finding]) -> str:
    first = unfixed[0]
    more = f" and {len(unfixed) - 1} more" if len(unfixed) > 1 else ""
    return f"kept: it protects code that still needs CUDA ({first.rule} at line {first.span.line}{more})"


def _why_no_fix(finding: Finding, kinds: tuple[FileKind, ...], settings: AnalysisSettings) -> str:
    if FileKind.PYTHON in kinds or FileKind.NOTEBOOK in kinds:
        return NO_FIX
    if any(kind in TARGET_FIXED_KINDS for kind in kinds):
        rule = load_catalog().rules.get(finding.rule)
        fixable = rule is not None and rule.fix is not None
        return ONE_TARGET if fixable and single_target(settings.targets) is None else NO_FIX
    return LOCKED if FileKind.LOCKFILE in kinds else NOT_REWRITTEN


def _fix_files(jobs: list[FileJob], torch_version: Version | None, line_length: int) -> list[FileFix]:
    return [_fix_file(job, torch_version, line_length) for job in jobs]


def _fix_file(job: FileJob, torch_version: Version | None, line_length: int) -> FileFix:
    """Fix one file in memory: read, apply, diff and encode; writing is left to the caller."""
    python = FileKind.PYTHON in job.kinds
    kind = next(k for k in (FileKind.PYTHON, FileKind.NOTEBOOK, *TARGET_FIXED_KINDS) if k in job.kinds)
    try:
        original = read_tree_file(job.path, os.path.dirname(os.path.abspath(job.path)))
        text = decode_python(original) if python else decoder(kind)(original)
    except UnreadableFile as exc:
        return FileFix(job.path, job.findings, error=f"cannot read for fixing: {exc.reason}")
    except UndecodableError as exc:
        return FileFix(job.path, job.findings, error=f"cannot read for fixing: {exc}")
    digest = content_digest(original)
    if job.digest is not None and digest != job.digest:
        return FileFix(job.path, job.findings, error=STALE)
    fixed: FixedText
    if python:
        fixed = fix_python(text, job.findings, torch_version, line_length)
    elif kind is FileKind.NOTEBOOK:
        fixed = fix_notebook(text, job.findings, torch_version, line_length)
    else:
        fixed = fix_text(text, job.findings, kind)
    if fixed.error or fixed.text == text:
        return FileFix(job.path, job.findings, fixed)
    diff = "".join(
        difflib.unified_diff(
            _lines(text), _lines(fixed.text), diff_path(f"a/{job.path}"), diff_path(f"b/{job.path}")
        )
    )
    data = encode_like(original, fixed.text, None if python else "utf-8")
    return FileFix(job.path, job.findings, fixed, diff, data, digest)


def _account(outcome: FileFix, write: bool, report: FixReport, allow_read_only: bool, inside: Path | None) -> None:
    """Record one file's outcome in the report, and write the file when asked to."""
    if outcome.fixed is None:
        report.errors.append(FileError(outcome.path, outcome.error or "cannot read for fixing"))
        report.remaining.extend(Remaining(f, outcome.error or "cannot read for fixing") for f in outcome.findings)
        return
    fixed = outcome.fixed
    if fixed.error:
        report.errors.append(FileError(outcome.path, fixed.error))
        report.remaining.extend(Remaining(f, fixed.error) for f in outcome.findings)
        return
    if outcome.data is not None and write:
        refused = _write(outcome, allow_read_only, inside)
        if refused is not None:
            report.errors.append(FileError(outcome.path, refused))
            report.remaining.extend(Remaining(f, refused) for f in fixed.applied)
            return
    report.remaining.extend(Remaining(f, CONFLICT) for f in fixed.conflicting)
    report.fixed.extend(fixed.applied)
    if outcome.data is not None:
        report.changed.append(outcome.path)
        report.diffs.append(outcome.diff)


def _write(outcome: FileFix, allow_read_only: bool, inside: Path | None) -> str | None:
    """Write one fixed file; the reason it was not written, or None."""
    path = Path(outcome.path)
    if inside is not None and not is_within(os.path.realpath(path), os.path.realpath(inside)):
        return f"is outside {inside}; left unchanged"
    try:
        replace_verified(path, outcome.data or b"", outcome.digest, allow_read_only)
    except WriteRefused as exc:
        return exc.reason
    except OSError as exc:
        return f"cannot write: {exc.strerror or exc}; left unchanged"
    return None


def _lines(text: str) -> list[str]:
    """The lines of `text` at its `\\n`s only (`str.splitlines` also breaks at form feeds and
    U+2028, which would make the diff disagree with the file)."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
