"""What `cudaudit fix` writes, and what it refuses to: stale files, links, read-only files,
owners, line endings, a parser crash, and `--branch` paths and failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from cudaudit.fixers.run import run_fixes
from cudaudit.fixers.writer import WriteRefused, replace_verified
from cudaudit.safe_read import content_digest
from cudaudit.session import open_session, run_scan
from support import git, working_directory, write

LOCKED = "import torch\nx = torch.zeros(1).cuda()\ntorch.cuda.synchronize()\n"
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def fix(cli, cwd: Path, *args: str):
    result = cli("fix", "--unsafe-fixes", *args, cwd=cwd)
    assert "internal error" not in result.output and "Traceback" not in result.output, result.output
    return result


def test_a_file_edited_between_scan_and_write_is_left_alone(tmp_path):
    path = write(tmp_path / "a.py", LOCKED)
    with working_directory(tmp_path):
        session = open_session([Path(".")], [], [], [], None, 1)
        result = run_scan(session, Console(quiet=True))
        edited = "# a line the scan did not see\n" + LOCKED
        path.write_text(edited)
        report = run_fixes(result, True, None, write=True, targets=session.targets)
    assert path.read_text() == edited
    assert [e.message for e in report.errors] == ["changed since it was scanned; left unchanged: run cudaudit fix again"]
    assert not report.fixed and report.remaining


def test_the_digest_is_checked_again_just_before_the_rename(tmp_path):
    path = write(tmp_path / "a.py", "old\n")
    with pytest.raises(WriteRefused, match="changed since it was scanned"):
        replace_verified(path, b"new\n", content_digest(b"what the scan saw\n"))
    assert path.read_text() == "old\n"
    replace_verified(path, b"new\n", content_digest(b"old\n"))
    assert path.read_text() == "new\n"


def test_read_only_files_are_left_alone_unless_asked(cli, tmp_path):
    path = write(tmp_path / "a.py", LOCKED)
    path.chmod(0o444)
    result = fix(cli, tmp_path)
    assert result.exit_code == 1
    assert "a.py: is read-only; left unchanged (--write-read-only rewrites it)" in result.output
    assert path.read_text() == LOCKED
    assert fix(cli, tmp_path, "--write-read-only").exit_code in (0, 1)
    assert path.read_text() != LOCKED and (path.stat().st_mode & 0o777) == 0o444


def test_a_link_is_never_written_through(cli, tmp_path):
    write(tmp_path / "real" / "a.py", LOCKED)
    os.symlink("real/a.py", tmp_path / "link.py")
    result = fix(cli, tmp_path, "link.py")
    assert "link.py: is a symbolic link; fix does not write through links: left unchanged" in result.output
    assert os.path.islink(tmp_path / "link.py") and (tmp_path / "real" / "a.py").read_text() == LOCKED


@pytest.mark.skipif(not AS_ROOT, reason="giving a file to another owner needs root")
def test_owner_and_group_are_kept(cli, tmp_path):
    path = write(tmp_path / "a.py", LOCKED)
    os.chown(path, 65534, 65534)
    fix(cli, tmp_path)
    assert path.read_text() != LOCKED
    assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534)


def test_a_hard_link_becomes_a_file_of_its_own(cli, tmp_path):
    """As docs/security.md says: the rename gives the fixed name new contents; other names keep the old."""
    write(tmp_path / "src" / "a.py", LOCKED)
    os.link(tmp_path / "src" / "a.py", tmp_path / "other.txt")
    fix(cli, tmp_path, "src")
    assert (tmp_path / "src" / "a.py").read_text() != LOCKED
    assert (tmp_path / "other.txt").read_text() == LOCKED


@pytest.mark.parametrize(
    ("ending", "expected_endings"),
    [("\r", {"\r"}), ("\r\n", {"\r\n"}), ("\n", {"\n"})],
)
def test_a_file_with_one_kind_of_line_ending_keeps_it(cli, tmp_path, ending, expected_endings):
    path = write(tmp_path / "a.py", LOCKED.replace("\n", ending).encode())
    fix(cli, tmp_path)
    data = path.read_bytes()
    assert b"DEVICE_TYPE" in data or b".to(" in data
    found = {e for e in ("\r\n", "\r", "\n") if e.encode() in data.replace(b"\r\n", b"") or (e == "\r\n" and b"\r\n" in data)}
    assert found == expected_endings


def test_a_mixed_file_keeps_each_lines_own_ending(cli, tmp_path):
    lines = ["x = 1\r\n", "y = 2\n", "model = Net().cuda()\r\n", "z = 3\n", "w = 4\r", "v = 5\n"]
    path = write(tmp_path / "a.py", "".join(lines).encode())
    fix(cli, tmp_path)
    fixed = path.read_bytes().decode()
    for line in ("x = 1\r\n", "y = 2\n", "z = 3\n", "w = 4\r", "v = 5\n"):
        assert line in fixed, (line, fixed)
    assert "model = Net().to(DEVICE_TYPE)\r\n" in fixed
    assert "import torch\n" in fixed  # added lines take the most common ending (a tie: the first)


def test_a_native_parser_crash_costs_one_file(tmp_path):
    write(tmp_path / "chain.py", "from torch.cuda.amp import autocast\nx = " + " and ".join(["a"] * 30_000) + "\nwith autocast():\n    pass\n")
    write(tmp_path / "ok.py", LOCKED)
    done = subprocess.run(
        [sys.executable, "-m", "cudaudit", "fix", "--unsafe-fixes", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 1, done.stderr  # findings remain; not 139 (SIGSEGV)
    assert "chain.py: libcst could not rewrite this module's imports (crashed with SIGSEGV)" in done.stdout
    assert (tmp_path / "ok.py").read_text() != LOCKED


@pytest.fixture
def repo(tmp_path, monkeypatch):
    for key, value in {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}.items():
        monkeypatch.setenv(key, value)
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", "-b", "main", "repo")
    write(repo / "src" / "train.py", LOCKED)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def branches(repo: Path) -> str:
    return subprocess.run(["git", "branch", "--list"], cwd=repo, capture_output=True, text=True).stdout


@pytest.mark.parametrize("outside", ["absolute", "relative"])
def test_fix_branch_never_writes_outside_its_worktree(cli, repo, outside):
    target = write(repo.parent / "elsewhere" / "x.py", LOCKED)
    inside = write(repo / "src" / "train.py", LOCKED)
    named = str(target) if outside == "absolute" else "../elsewhere/x.py"
    result = cli("fix", "--branch", "fixes", "--unsafe-fixes", named, cwd=repo)
    assert result.exit_code == 2 and "is outside the repository" in result.output
    assert target.read_text() == LOCKED and inside.read_text() == LOCKED
    assert "fixes" not in branches(repo)
    # an absolute path inside the repository names the worktree's copy, not the user's file
    result = cli("fix", "--branch", "fixes", "--unsafe-fixes", str(inside), cwd=repo)
    assert result.exit_code == 0, result.output
    assert inside.read_text() == LOCKED
    shown = subprocess.run(["git", "show", "fixes:src/train.py"], cwd=repo, capture_output=True, text=True).stdout
    assert shown != LOCKED


def test_a_failure_inside_the_worktree_removes_branch_and_worktree(cli, repo):
    result = cli("fix", "--branch", "fixes", "--select", "NOSUCHRULE", cwd=repo)
    assert result.exit_code == 2
    assert "fixes" not in branches(repo)
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=repo, capture_output=True, text=True).stdout
    assert worktrees.count("\n") == 1
    assert cli("fix", "--branch", "fixes", "--unsafe-fixes", cwd=repo).exit_code == 0  # and a rerun works
