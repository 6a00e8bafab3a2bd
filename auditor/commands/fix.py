"""`cudaudit fix`: apply the rewrites findings carry, in place, as a diff, or on a new branch."""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from packaging.version import Version

from cudaudit.commands.options import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    ConfigPath,
    Ignore,
    Jobs,
    NoCache,
    Paths,
    Select,
    ShowPortable,
    Targets,
    err,
    fail,
    session_or_exit,
)
from cudaudit.model import ScanResult
from cudaudit.printable import terminal_safe
from cudaudit.progress import progress_bar
from cudaudit.session import ScanSession, run_scan

if TYPE_CHECKING:
    from cudaudit.fix_report import FixReport

# The fixers (libcst) are imported inside the functions: `cudaudit scan` never needs them.

PROGRESS_MIN_FILES = 4
"""Fixing takes up to a second a file: a bar is worth showing from a handful of files on."""

EXAMPLES = """[bold]Examples[/]

  cudaudit fix --diff                  show what would change, write nothing
  cudaudit fix                         apply the safe fixes
  cudaudit fix --unsafe-fixes src/     also the fixes that need a review
  cudaudit fix -t cpu --unsafe-fixes   also requirements and images, for CPU
  cudaudit fix --branch cudaudit/fixes --pr-body pr.md --open-pr
"""


def fix_command(
    paths: Paths = None,
    unsafe_fixes: Annotated[
        bool, typer.Option("--unsafe-fixes", help="Also apply fixes that may change behaviour on CUDA (review them).")
    ] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff and write nothing.")] = False,
    torch_version: Annotated[
        str | None,
        typer.Option(
            help="The oldest PyTorch the code must run on, which decides the APIs fixes use. "
            "\\[default: read from requirements, pyproject.toml or a lock file]"
        ),
    ] = None,
    branch: Annotated[
        str | None,
        typer.Option(help="Commit the fixes on this new branch (from HEAD), leaving your working tree as it is."),
    ] = None,
    pr_body: Annotated[
        Path | None, typer.Option(help="With --branch: write the pull request description (Markdown) here.")
    ] = None,
    commit_message: Annotated[str | None, typer.Option(help="With --branch: the commit message.")] = None,
    open_pr: Annotated[
        bool,
        typer.Option(
            "--open-pr",
            help="With --branch: push it to origin (replacing an earlier run's branch of that name) and open its "
            "pull request with gh, or update the one already open.",
        ),
    ] = False,
    allow_dirty: Annotated[
        bool, typer.Option("--allow-dirty", help="With --branch: go ahead although the working tree has changes.")
    ] = False,
    write_read_only: Annotated[
        bool, typer.Option("--write-read-only", help="Also rewrite files without write permission (left alone by default).")
    ] = False,
    target: Targets = None,
    select: Select = None,
    ignore: Ignore = None,
    show_portable: ShowPortable = False,
    jobs: Jobs = 0,
    no_cache: NoCache = False,
    config: ConfigPath = None,
) -> None:
    """Rewrite CUDA-only code into device-agnostic PyTorch that still runs the same on CUDA.

    Safe fixes keep a CUDA machine's behaviour exactly; unsafe ones (for example `.cuda()` on an object that may not be a tensor) apply only with --unsafe-fixes. Requirements files, pyproject.toml, conda environment files and Dockerfiles are rewritten only for one named target (--target rocm or --target cpu), as unsafe fixes. Files are written atomically, with their encoding, line endings, permissions and (where allowed) owner kept; a file whose result would not parse, that changed since the scan, that is a link or that is read-only is left alone.

    Exit status: 0 nothing left to fix or report, 1 findings remain (or, with --diff, there are changes), 2 usage or internal error.
    """
    from cudaudit.reporters.fix_text import render_fix_summary

    if branch is not None:
        _fix_on_branch(paths, branch, unsafe_fixes, pr_body, commit_message, open_pr, allow_dirty, torch_version,
                       target, select, ignore, config, jobs, write_read_only, show_portable)
    session = session_or_exit(paths, target, select, ignore, config, jobs, torch_version, no_cache, show_portable)
    try:
        result = run_scan(session, err)
        report = _apply_fixes(result, session, unsafe_fixes, write=not diff, allow_read_only=write_read_only)
    except Exception as exc:  # noqa: BLE001 - no traceback reaches the user
        raise fail(f"internal error: {type(exc).__name__}: {exc}; please report it") from None
    if diff:  # verbatim for `git apply` when piped; control characters shown as escapes on a terminal
        patch = "".join(report.diffs)
        shown = "\n".join(terminal_safe(line) for line in patch.split("\n")) if sys.stdout.isatty() else patch
        sys.stdout.write(shown)
    from rich.console import Console

    render_fix_summary(report, diff, Console(stderr=diff, soft_wrap=True))
    if diff:
        raise typer.Exit(EXIT_FINDINGS if report.changed else EXIT_CLEAN)
    raise typer.Exit(EXIT_FINDINGS if report.remaining or report.errors else EXIT_CLEAN)


def _apply_fixes(
    result: ScanResult,
    session: ScanSession,
    unsafe: bool,
    write: bool,
    allow_read_only: bool = False,
    inside: Path | None = None,
) -> FixReport:
    """Fix the files the scan found fixable, in the session's worker processes, with a bar on a terminal."""
    from cudaudit.fixers.line_length import project_line_length
    from cudaudit.fixers.run import run_fixes

    files = len({f.path for f in result.findings if f.fix is not None})
    with progress_bar(err, "fixing", files, PROGRESS_MIN_FILES) as on_progress:
        return run_fixes(
            result,
            unsafe,
            Version(result.torch_version) if result.torch_version else None,
            write,
            session.targets,
            jobs=session.jobs,
            on_progress=on_progress,
            allow_read_only=allow_read_only,
            inside=inside,
            line_length=project_line_length(session.config.root),
        )


def _fix_on_branch(
    paths, branch, unsafe, pr_body, commit_message, open_pr, allow_dirty, torch_version, target, select, ignore, config, jobs,
    write_read_only, show_portable,
) -> None:  # the fix command's own options, passed through
    """`fix --branch`: fix in a worktree of HEAD on a new branch, commit, write the PR text, exit."""
    from cudaudit.fixers.branch import BranchError, fix_on_branch, publish
    from cudaudit.reporters.fix_text import render_fix_summary
    from cudaudit.reporters.pr_body import render_pr_body

    box: dict[str, ScanSession] = {}

    def scan(paths_in_tree: list[Path]) -> ScanResult:
        relative = [Path(os.path.relpath(p)) for p in paths_in_tree]
        # A temporary worktree: its paths never recur, so its results would only fill the cache.
        box["session"] = session_or_exit(relative, target, select, ignore, config, jobs, torch_version,
                                         no_cache=True, show_portable=show_portable)
        return run_scan(box["session"], err)

    def fix(result: ScanResult, tree: Path) -> FixReport:
        return _apply_fixes(result, box["session"], unsafe, write=True, allow_read_only=write_read_only, inside=tree)

    try:
        outcome = fix_on_branch(branch, allow_dirty, commit_message, paths or [Path(".")], scan, fix)
    except BranchError as exc:
        raise fail(str(exc)) from None
    if outcome.commit is None:
        err.print(f"nothing to fix automatically; branch {branch!r} not created")
        raise typer.Exit(EXIT_CLEAN)
    report = outcome.report
    body = render_pr_body(outcome, box["session"].targets)
    body_file = pr_body or Path(tempfile.mkdtemp(prefix="cudaudit-")) / "pr-body.md"
    body_file.write_text(body, encoding="utf-8")
    render_fix_summary(report, False, err)
    err.print(f"committed {outcome.commit[:12]} on branch {branch}; pull request text in {body_file}")
    if open_pr:
        try:
            by_hand = publish(outcome, body_file)
        except BranchError as exc:
            raise fail(str(exc)) from None
        err.print(f"pushed {branch} to origin")
        if by_hand:
            create, edit = (shlex.join(c) for c in by_hand)
            err.print(f"gh is not installed; to open the pull request run:\n  {create}\n"
                      f"or, when a pull request from {branch} is already open:\n  {edit}", markup=False, highlight=False)
    raise typer.Exit(EXIT_CLEAN)
