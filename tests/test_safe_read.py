"""Reading a hostile tree: special files, links out of the root, endless files, includes out of the tree.

Scans that could hang run as a child process under a timeout, so a regression fails the test
instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cudaudit.safe_read import MAX_FILE_BYTES, Folders, UnreadableFile, read_tree_file
from support import scan_json, write

LOCKED = "import torch\ntorch.cuda.synchronize()\n"
HANG_LIMIT_SECONDS = 60


def scan_in_child(root: Path, *args: str) -> dict:
    """`cudaudit scan --format json` in a child process that is killed if it hangs."""
    done = subprocess.run(
        [sys.executable, "-m", "cudaudit", "scan", "--format", "json", *args],
        cwd=root,
        capture_output=True,
        timeout=HANG_LIMIT_SECONDS,
    )
    assert done.returncode in (0, 1), done.stderr.decode(errors="replace")
    return json.loads(done.stdout)


def messages(report: dict) -> dict[str, str]:
    return {error["path"]: error["message"] for error in report["errors"]}


def test_reads_a_regular_file_inside_its_root(tmp_path):
    path = write(tmp_path / "sub" / "a.py", LOCKED)
    assert read_tree_file(path, tmp_path) == LOCKED.encode()


def test_refuses_a_fifo_without_opening_it_for_long(tmp_path):
    os.mkfifo(tmp_path / "x.py")
    with pytest.raises(UnreadableFile, match="FIFO"):
        read_tree_file(tmp_path / "x.py", tmp_path)


def test_refuses_devices_links_out_of_the_root_and_folders(tmp_path):
    os.symlink("/dev/zero", tmp_path / "zero.txt")
    outside = write(tmp_path.parent / f"{tmp_path.name}-outside.py", LOCKED)
    os.symlink(outside, tmp_path / "out.py")
    (tmp_path / "folder.py").mkdir()
    with pytest.raises(UnreadableFile, match="outside the scanned folder"):
        read_tree_file(tmp_path / "zero.txt", tmp_path)
    with pytest.raises(UnreadableFile, match="character device"):
        read_tree_file("/dev/zero", "/dev")
    with pytest.raises(UnreadableFile, match="outside the scanned folder"):
        read_tree_file(tmp_path / "out.py", tmp_path)
    with pytest.raises(UnreadableFile, match="folder"):
        read_tree_file(tmp_path / "folder.py", tmp_path)


def test_a_link_inside_the_root_is_followed(tmp_path):
    write(tmp_path / "requirements" / "base.txt", "torch\n")
    os.symlink("requirements/base.txt", tmp_path / "requirements.txt")
    assert read_tree_file(tmp_path / "requirements.txt", tmp_path) == b"torch\n"


def test_folders_resolve_as_realpath_does_and_keep_reads_inside_the_root(tmp_path):
    # A scan resolves each folder once: every path still resolves as `os.path.realpath` has it,
    # through links to files, to folders, chains of them and `..`, and a link out is refused.
    root = tmp_path / "root"
    write(root / "src" / "a.py", LOCKED)
    outside = write(tmp_path / "outside" / "b.py", LOCKED)
    os.symlink("src", root / "linked")
    os.symlink("a.py", root / "src" / "alias.py")
    os.symlink("alias.py", root / "src" / "chain.py")
    os.symlink(outside, root / "src" / "out.py")
    os.symlink(outside.parent, root / "away")
    folders = Folders()
    paths = [root / "src" / "a.py", root / "linked" / "a.py", root / "linked" / "chain.py", root / "src" / "out.py",
             root / "away" / "b.py", root / "src" / ".." / "linked" / "alias.py", root / "src" / "..", root / "nothing.py",
             Path("relative.py")]
    for path in paths * 2:
        assert folders.realpath(path) == os.path.realpath(path), path
    for inside in ("src/a.py", "linked/chain.py", "src/alias.py"):
        assert read_tree_file(root / inside, root, folders=folders) == LOCKED.encode()
    for out in ("src/out.py", "away/b.py"):
        with pytest.raises(UnreadableFile, match="outside the scanned folder"):
            read_tree_file(root / out, root, folders=folders)


def test_size_is_checked_before_reading(tmp_path):
    path = write(tmp_path / "big.py", b"#" * 101)
    with pytest.raises(UnreadableFile, match="MiB limit"):
        read_tree_file(path, tmp_path, limit=100)
    assert len(read_tree_file(path, tmp_path, limit=101)) == 101


def test_a_fifo_named_like_source_does_not_block_the_scan(tmp_path):
    for name in ("x.py", "requirements.txt", "x.cu"):
        os.mkfifo(tmp_path / name)
    write(tmp_path / "good.py", LOCKED)
    report = scan_in_child(tmp_path)
    assert set(messages(report)) == {"x.py", "requirements.txt", "x.cu"}
    assert all("FIFO" in message for message in messages(report).values())
    assert [finding["path"] for finding in report["findings"]] == ["good.py"]


DEPENDENCY_NAMES = ("requirements.txt", "pyproject.toml", "environment.yml", "uv.lock")


def test_a_committed_link_to_dev_zero_is_not_read(tmp_path):
    """Links to /dev/zero under each name a project-level reader opens (the configuration too)."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    for name in DEPENDENCY_NAMES:
        os.symlink("/dev/zero", tmp_path / name)
    write(tmp_path / "good.py", LOCKED)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    report = scan_in_child(tmp_path)
    assert [finding["path"] for finding in report["findings"]] == ["good.py"]
    # named explicitly, each is a diagnostic, not a read
    named = messages(scan_in_child(tmp_path, *DEPENDENCY_NAMES))
    assert {name: "outside the scanned folder" in named.get(name, "") for name in DEPENDENCY_NAMES} == dict.fromkeys(
        DEPENDENCY_NAMES, True
    )


def test_a_file_over_the_limit_is_one_diagnostic(tmp_path):
    write(tmp_path / "huge.py", b"#" * (MAX_FILE_BYTES + 1))
    report = scan_in_child(tmp_path)
    assert "MiB limit" in messages(report)["huge.py"]


@pytest.mark.parametrize("include", ["{outside}", "../{outside_name}", "../../../../../../..{outside}"])
def test_requirement_includes_never_leave_the_tree(cli, tmp_path, include):
    tree = tmp_path / "tree"
    outside = write(tmp_path / "secret.in", "cupy-cuda12x==13.0\n")  # not a requirements name: read only as an include
    values = {"outside": str(outside), "outside_name": outside.name}
    write(tree / "requirements.txt", f"# cuda build\n-r {include.format(**values)}\nnumpy\n")
    report = scan_json(cli, ".", cwd=tree)
    assert report["findings"] == []
    write(tree / "base.in", "cupy-cuda12x==13.0\n")
    write(tree / "requirements.txt", "# cuda build\n-r base.in\nnumpy\n")
    assert [finding["path"] for finding in scan_json(cli, ".", cwd=tree)["findings"]] == ["base.in"]
