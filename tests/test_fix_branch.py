"""`cudaudit fix --branch`: a commit on a new branch, PR text, and the user's tree left alone."""

from __future__ import annotations

import subprocess

import pytest

from support import git, write

LOCKED = 'import torch\n\nmodel = Net().cuda()\nx = torch.zeros(1, device="cuda")\ntorch.manual_seed_all = None\n'


def out(cwd, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path, monkeypatch):
    for key, value in {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}.items():
        monkeypatch.setenv(key, value)
    git(tmp_path, "init", "-q", "-b", "main")
    write(tmp_path / "src" / "train.py", LOCKED)
    write(tmp_path / "src" / "clean.py", "print('hi')\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "init")
    return tmp_path


def test_fixes_land_on_a_new_branch_and_the_working_tree_is_untouched(cli, repo, tmp_path_factory):
    origin = tmp_path_factory.mktemp("origin")
    git(origin, "init", "-q", "--bare")
    git(repo, "remote", "add", "origin", str(origin))
    write(repo / "notes.txt", "untracked, must survive\n")
    write(repo / "src" / "clean.py", "print('staged change')\n")
    git(repo, "add", "src/clean.py")
    status_before = out(repo, "status", "--porcelain")
    result = cli(
        "fix", "--branch", "cudaudit/fixes", "--unsafe-fixes", "--allow-dirty", "--pr-body", "pr.md", "--open-pr",
        cwd=repo,
    )
    assert result.exit_code == 0, result.output
    assert out(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert out(repo, "status", "--porcelain").replace("?? pr.md\n", "") == status_before
    assert (repo / "src" / "train.py").read_text() == LOCKED
    fixed = out(repo, "show", "cudaudit/fixes:src/train.py")
    assert ".to(DEVICE_TYPE)" in fixed and "device=DEVICE_TYPE" in fixed
    assert out(repo, "show", "cudaudit/fixes:src/clean.py") == "print('hi')\n", "the staged change stays out"
    message = out(repo, "log", "-1", "--format=%B", "cudaudit/fixes")
    assert "CDA102 ×1" in message and "CDA103 ×1" in message and "src/train.py" in message
    body = (repo / "pr.md").read_text()
    assert "## Fixes" in body and "| CDA102 | `src/train.py` | 1 |" in body
    assert "| cpu | 2 | 0 | 0 |" in body and "## Still needs a person" in body
    assert out(origin, "rev-parse", "cudaudit/fixes") == out(repo, "rev-parse", "cudaudit/fixes"), "pushed"
    assert "gh pr create --head cudaudit/fixes" in result.output and "gh pr edit cudaudit/fixes" in result.output
    assert not out(repo, "worktree", "list").count("\n") > 1, "the temporary worktree is removed"


def test_refuses_a_dirty_tree_and_an_existing_branch(cli, repo):
    write(repo / "src" / "train.py", LOCKED + "# edited\n")
    dirty = cli("fix", "--branch", "cudaudit/fixes", cwd=repo)
    assert dirty.exit_code == 2 and "uncommitted changes" in dirty.output and "--allow-dirty" in dirty.output
    git(repo, "checkout", "-q", "--", ".")
    git(repo, "branch", "taken")
    taken = cli("fix", "--branch", "taken", cwd=repo)
    assert taken.exit_code == 2 and "already exists" in taken.output


def test_nothing_to_fix_creates_no_branch(cli, repo):
    result = cli("fix", "--branch", "cudaudit/none", "src/clean.py", cwd=repo)
    assert result.exit_code == 0 and "not created" in result.output
    assert "cudaudit/none" not in out(repo, "branch")


def test_outside_git_is_a_clear_error(cli, tmp_path):
    write(tmp_path / "a.py", LOCKED)
    result = cli("fix", "--branch", "x", cwd=tmp_path)
    assert result.exit_code == 2 and "git repository" in result.output


def test_every_run_reuses_one_auto_fix_branch(cli, repo, tmp_path_factory):
    """As the Action runs it: a fresh clone each time, the same branch name, pushed over the last run's."""
    origin = tmp_path_factory.mktemp("origin")
    git(origin, "init", "-q", "--bare", "-b", "main")
    git(repo, "push", "-q", str(origin), "main")

    def run_in_fresh_clone() -> str:
        clone = tmp_path_factory.mktemp("clone")
        git(clone, "clone", "-q", str(origin), ".")
        result = cli("fix", "--branch", "cudaudit/autofix", "--unsafe-fixes", "--open-pr", cwd=clone)
        assert result.exit_code == 0, result.output
        return out(clone, "rev-parse", "HEAD").strip()

    first_base = run_in_fresh_clone()
    write(repo / "src" / "more.py", "import torch\ny = torch.ones(2).cuda()\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "more")
    git(repo, "push", "-q", str(origin), "main")
    second_base = run_in_fresh_clone()
    assert first_base != second_base
    assert out(origin, "for-each-ref", "--format=%(refname:short)", "refs/heads").split() == ["cudaudit/autofix", "main"]
    assert out(origin, "rev-parse", "cudaudit/autofix^").strip() == second_base, "rebuilt on the new HEAD"
    assert ".to(DEVICE_TYPE)" in out(origin, "show", "cudaudit/autofix:src/more.py")


def test_a_failed_push_fails_the_command(cli, repo):
    result = cli("fix", "--branch", "cudaudit/autofix", "--unsafe-fixes", "--open-pr", cwd=repo)
    assert result.exit_code == 2 and "git could not push the branch" in result.output
