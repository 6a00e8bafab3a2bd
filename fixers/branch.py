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


def push_command(outcome: BranchOutcome) -> list[str]:
    """Publish the branch, replacing the one an earlier run pushed under the same name.

    An auto-fix branch is made again from HEAD on every run, so one branch and one pull request
    serve every run (a new branch per run would pile up pull requests); its old commits are
    those fixes made on an older HEAD, and nothing else is meant to be pushed to it."""
    return ["git", "push", "--force", "origin", f"refs/heads/{outcome.branch}:refs/heads/{outcome.branch}"]


def pull_request_commands(outcome: BranchOutcome, body_file: Path, open_number: str | None) -> list[list[str]]:
    """`gh` updating the branch's open pull request (`open_number`), or opening one."""
    text = ["--title", outcome.title, "--body-file", str(body_file)]
    if open_number:
        return [["gh", "pr", "edit", open_number, *text]]
    return [["gh", "pr", "create", "--head", outcome.branch, *text]]


def publish(outcome: BranchOutcome, body_file: Path) -> list[list[str]]:
    """Push the branch; open or update its pull request with `gh` when it is installed.

    Returns the `gh` commands left to run by hand (none when `gh` ran them). Failures raise
    BranchError with git's or gh's own message: nothing is hidden."""
    _checked(push_command(outcome), "git could not push the branch")
    if shutil.which("gh") is None:
        return [*pull_request_commands(outcome, body_file, None), *pull_request_commands(outcome, body_file, outcome.branch)]
    listing = ["gh", "pr", "list", "--head", outcome.branch, "--state", "open", "--json", "number", "--jq", ".[0].number"]
    open_number = _checked(listing, "gh could not list the pull requests").strip() or None
    for command in pull_request_commands(outcome, body_file, open_number):
        _checked(command, "gh could not open or update the pull request")
    return []


def _checked(command: list[str], error: str) -> str:
    """Run a command of the user's own repository (their git configuration and credentials apply)."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise BranchError(f"{error}: {detail}")
    return done.stdout


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
