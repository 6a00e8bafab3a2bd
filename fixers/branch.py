"""`cudaudit fix --branch NAME`: the fixes as one commit on a new branch, and the PR text.

The fixes are made in a temporary git worktree checked out at HEAD on the new branch, so the
user's working tree, index and current branch are never touched, whatever state they are in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from cudaudit.fix_report import BranchOutcome, FixReport
from cudaudit.model import ScanResult
from cudaudit.safe_git import GitUnavailable, run_git


class BranchError(RuntimeError):
    """The branch cannot be made; the message says why and what to do."""


def fix_on_branch(
    branch: str,
    allow_dirty: bool,
    commit_message: str | None,
    paths: Sequence[Path],
    scan: Callable[[list[Path]], ScanResult],
    fix: Callable[[ScanResult, Path], FixReport],
) -> BranchOutcome:
    """Create `branch` from HEAD, fix there, commit.

    `paths` (as the user gave them) are mapped to the same files in the worktree; one outside the
    repository is refused. `scan(paths)` and `fix(result, worktree)` run with the worktree as the
    current folder, and `fix` must write nothing outside it. If anything fails once the worktree
    exists, the worktree and the branch are removed, so the same command can simply be run again.
    """
    top = Path(_git("rev-parse", "--show-toplevel", error="cudaudit fix --branch needs a git repository"))
    if not allow_dirty and _git("status", "--porcelain", "--untracked-files=no", cwd=top):
        raise BranchError(
            "the working tree has uncommitted changes, which would not be part of the branch: "
            "commit or stash them, or pass --allow-dirty"
        )
    if _run(["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], top).returncode == 0:
        raise BranchError(f"a branch named {branch!r} already exists: choose another --branch")
    in_repository = [_relative_to(path, top) for path in paths]
    relative_cwd = Path.cwd().resolve().relative_to(top.resolve())
    parent = Path(tempfile.mkdtemp(prefix="cudaudit-fix-"))
    tree = parent / top.name
    try:
        _git("worktree", "add", "-q", "-b", branch, str(tree), "HEAD", cwd=top, error="git could not create the branch")
        with _inside(tree / relative_cwd):
            targets = [tree / path for path in in_repository]
            before = scan(targets)
            report = fix(before, tree)
            after = scan(targets)
        commit = _commit(tree, relative_cwd, report, commit_message) if report.changed else None
    except BaseException:
        _remove(top, tree, branch)
        raise
    finally:
        _remove(top, tree, None)
        shutil.rmtree(parent, ignore_errors=True)
    if commit is None:
        _remove(top, tree, branch)
        return BranchOutcome(branch, None, before, after, report, "")
    return BranchOutcome(branch, commit, before, after, report, _title(report))


def _title(report: FixReport) -> str:
    return f"cudaudit: device-agnostic fixes for {len(report.fixed)} CUDA-only site(s)"


def _commit(tree: Path, relative_cwd: Path, report: FixReport, commit_message: str | None) -> str:
    counts = ", ".join(f"{rule} ×{n}" for rule, n in report.fixed_by_rule().items())
    message = commit_message or f"{_title(report)}\n\nRules fixed: {counts}.\nFiles: {', '.join(report.changed)}.\n"
    paths = [str(relative_cwd / name) for name in report.changed]
    _git("add", "--", *paths, cwd=tree)
    _git("commit", "-q", "-m", message, cwd=tree, error="git could not commit the fixes")
    return _git("rev-parse", "HEAD", cwd=tree)


def _relative_to(path: Path, top: Path) -> Path:
    """`path` (relative to the current folder, or absolute) relative to the repository's top."""
    try:
        return path.absolute().resolve().relative_to(top.resolve())
    except ValueError:
        raise BranchError(f"{path} is outside the repository {top}: --branch fixes only files in it") from None


def _remove(top: Path, tree: Path, branch: str | None) -> None:
    """Remove the worktree if it is there, and `branch` if given; quietly, as cleanup."""
    if tree.exists():
        _run(["worktree", "remove", "--force", str(tree)], top)
    _run(["worktree", "prune"], top)
    if branch is not None:
        _run(["branch", "-D", branch], top)


def open_pr_command(outcome: BranchOutcome, body_file: Path) -> list[list[str]]:
    """The commands that publish the branch and open the pull request."""
    return [
        ["git", "push", "--set-upstream", "origin", outcome.branch],
        ["gh", "pr", "create", "--head", outcome.branch, "--title", outcome.title, "--body-file", str(body_file)],
    ]


def open_pr(outcome: BranchOutcome, body_file: Path) -> bool:
    """Run the commands when `gh` is installed; False (nothing run) when it is not."""
    if shutil.which("gh") is None:
        return False
    for command in open_pr_command(outcome, body_file):
        subprocess.run(command, check=True)
    return True


@contextmanager
def _inside(folder: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def _git(*args: str, cwd: Path | None = None, error: str | None = None) -> str:
    done = _run(list(args), cwd or Path.cwd())
    if done.returncode != 0:
        stderr = os.fsdecode(done.stderr).strip()
        detail = stderr.splitlines()[-1] if stderr else f"git {args[0]} failed"
        raise BranchError(f"{error or 'git failed'}: {detail}")
    return os.fsdecode(done.stdout).strip()


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return run_git(args, cwd)
    except GitUnavailable as exc:
        raise BranchError(str(exc)) from None
