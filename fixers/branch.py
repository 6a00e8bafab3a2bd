"""`cudaudit fix --branch NAME`: the fixes as one commit on a new branch, and the PR text.

The fixes are made in a temporary git worktree checked out at HEAD on the new branch, so the
user's working tree, index and current branch are never touched, whatever state they are in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cudaudit.fixers.run import FixReport, fixed_by_rule
from cudaudit.model import ScanResult


class BranchError(RuntimeError):
    """The branch cannot be made; the message says why and what to do."""


@dataclass
class BranchOutcome:
    branch: str
    commit: str | None
    """None when there was nothing to fix (the branch is then not created)."""
    before: ScanResult
    after: ScanResult
    report: FixReport
    title: str


def fix_on_branch(
    branch: str,
    allow_dirty: bool,
    commit_message: str | None,
    scan: Callable[[], ScanResult],
    fix: Callable[[ScanResult], FixReport],
) -> BranchOutcome:
    """Create `branch` from HEAD, fix there (`scan`/`fix` run with the worktree as the current folder), commit."""
    top = Path(_git("rev-parse", "--show-toplevel", error="cudaudit fix --branch needs a git repository"))
    if not allow_dirty and _git("status", "--porcelain", "--untracked-files=no", cwd=top):
        raise BranchError(
            "the working tree has uncommitted changes, which would not be part of the branch: "
            "commit or stash them, or pass --allow-dirty"
        )
    exists = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], cwd=top, capture_output=True)
    if exists.returncode == 0:
        raise BranchError(f"a branch named {branch!r} already exists: choose another --branch")
    relative_cwd = Path.cwd().resolve().relative_to(top.resolve())
    with _worktree(top, branch) as tree:
        with _inside(tree / relative_cwd):
            before = scan()
            report = fix(before)
            after = scan()
        if not report.changed:
            _git("worktree", "remove", "--force", str(tree), cwd=top)
            _git("branch", "-D", branch, cwd=top)
            return BranchOutcome(branch, None, before, after, report, "")
        title = f"cudaudit: device-agnostic fixes for {len(report.fixed)} CUDA-only site(s)"
        counts = ", ".join(f"{rule} ×{n}" for rule, n in fixed_by_rule(report).items())
        message = commit_message or f"{title}\n\nRules fixed: {counts}.\nFiles: {', '.join(report.changed)}.\n"
        paths = [str(relative_cwd / name) for name in report.changed]
        _git("add", "--", *paths, cwd=tree)
        _git("commit", "-q", "-m", message, cwd=tree, error="git could not commit the fixes")
        commit = _git("rev-parse", "HEAD", cwd=tree)
    return BranchOutcome(branch, commit, before, after, report, title)


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
def _worktree(top: Path, branch: str) -> Iterator[Path]:
    parent = Path(tempfile.mkdtemp(prefix="cudaudit-fix-"))
    tree = parent / top.name
    _git("worktree", "add", "-q", "-b", branch, str(tree), "HEAD", cwd=top, error="git could not create the branch")
    try:
        yield tree
    finally:
        if tree.exists():
            _git("worktree", "remove", "--force", str(tree), cwd=top)
        shutil.rmtree(parent, ignore_errors=True)


@contextmanager
def _inside(folder: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def _git(*args: str, cwd: Path | None = None, error: str | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"git {args[0]} failed"
        raise BranchError(f"{error or 'git failed'}: {detail}")
    return done.stdout.strip()
