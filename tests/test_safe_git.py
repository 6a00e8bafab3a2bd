"""git run on a hostile checkout: its configuration names programs, none of which may run."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from cudaudit.safe_git import GitUnavailable, run_git, safe_environment
from support import REPO, git, scan_json, write

LOCKED = "import torch\ntorch.cuda.synchronize()\n"


def hostile_checkout(tmp_path: Path) -> tuple[Path, Path]:
    """A checkout whose `.git/config` and hooks would each leave a marker file if git ran them."""
    repo, marker = tmp_path / "repo", tmp_path / "ran"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.name", "Test")
    git(repo, "config", "user.email", "test@example.invalid")
    write(repo / "train.py", LOCKED)
    write(repo / ".gitattributes", "*.py filter=evil diff=evil\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "initial")
    run = f"touch {marker}"
    for key, value in {
        "core.fsmonitor": run,
        "filter.evil.clean": f"{run}; cat",
        "filter.evil.smudge": f"{run}; cat",
        "filter.evil.required": "true",
        "diff.evil.command": run,
        "core.pager": run,
        "commit.gpgSign": "true",
        "gpg.program": run,
        "hook.evil.command": run,
        "hook.evil.event": "pre-commit",
        "merge.evil.driver": run,
        "log.showSignature": "true",
    }.items():
        git(repo, "config", key, value)
    for hook in ("pre-commit", "post-commit", "post-checkout", "commit-msg", "reference-transaction"):
        hook_file = write(repo / ".git" / "hooks" / hook, f"#!/bin/sh\n{run}\n")
        hook_file.chmod(0o755)
    return repo, marker


def test_the_hostile_checkout_does_run_programs_under_plain_git(tmp_path):
    repo, marker = hostile_checkout(tmp_path)
    subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True)
    assert marker.exists()  # the fixture is armed: plain git runs its fsmonitor


def test_run_git_runs_none_of_them(tmp_path):
    repo, marker = hostile_checkout(tmp_path)
    write(repo / "train.py", LOCKED + "# edited\n")
    used = (  # what discovery and `fix --branch` run: each must work
        ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        ["check-ignore", "-q", "train.py"],
        ["status", "--porcelain"],
        ["add", "train.py"],
        ["commit", "-q", "-m", "edit"],
        ["worktree", "add", "-q", "-b", "other", str(tmp_path / "wt"), "HEAD"],
        ["worktree", "remove", "--force", str(tmp_path / "wt")],
        ["branch", "-D", "other"],
    )
    for args in used:
        assert run_git(args, repo).returncode in (0, 1), args
        assert not marker.exists(), args
    for args in (["diff", "HEAD~1"], ["log", "-p", "-1"], ["show"]):  # drivers may fail here, never run
        run_git(args, repo)
        assert not marker.exists(), args


def test_scanning_a_hostile_checkout_runs_nothing(cli, tmp_path):
    repo, marker = hostile_checkout(tmp_path)
    report = scan_json(cli, ".", cwd=repo)
    assert [finding["path"] for finding in report["findings"]] == ["train.py"]
    assert not marker.exists()


def test_a_driver_name_that_cannot_be_overridden_stops_git(tmp_path):
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "filter.a=b.clean", "touch ran")
    with pytest.raises(GitUnavailable):
        run_git(["ls-files"], tmp_path)


def test_inherited_git_state_does_not_redirect_git():
    environment = safe_environment(
        {"GIT_DIR": "/elsewhere", "GIT_INDEX_FILE": "/x", "GIT_AUTHOR_NAME": "A", "PATH": "/bin", "GIT_CONFIG_COUNT": "1"}
    )
    assert "GIT_DIR" not in environment and "GIT_INDEX_FILE" not in environment and "GIT_CONFIG_COUNT" not in environment
    assert environment["GIT_AUTHOR_NAME"] == "A" and environment["GIT_CONFIG_NOSYSTEM"] == "1"


PROCESS_STARTERS = frozenset(
    {"subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
     "os.system", "os.popen", "os.execv", "os.execvp", "os.execve", "os.spawnv", "os.posix_spawn", "os.posix_spawnp"}
)  # fmt: skip
STARTS_PROCESSES = {
    # Where cudaudit starts a program, and why it may. Every git run on a tree goes through run_git.
    "auditor/safe_git.py:run_git": "git with every program-naming setting overridden",
    "auditor/safe_git.py:_program_overrides": "git config listing, itself under the fixed overrides",
    "fixers/branch.py:_checked": "`fix --branch --publish`: git push and gh in the user's own repository, on request",
    "resolvers/lock.py:lock": "`resolve --lock`: pip-compile on the user's request",
}


def process_starts() -> dict[str, str]:
    """`file:function` -> the call, for every call of a process-starting function in the source."""
    found = {}
    for folder in ("auditor", "rules", "fixers", "resolvers"):
        for path in sorted((REPO / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for function in ast.walk(tree):
                if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for call in ast.walk(function):
                    if isinstance(call, ast.Call) and ast.unparse(call.func) in PROCESS_STARTERS:
                        found[f"{path.relative_to(REPO)}:{function.name}"] = ast.unparse(call.func)
    return found


def test_every_program_cudaudit_starts_is_a_known_call_site():
    assert process_starts() == dict.fromkeys(STARTS_PROCESSES, "subprocess.run")

