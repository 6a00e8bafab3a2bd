"""Permissions: folders the scan may not enter, files and folders `fix` may not write.

Permission bits do not stop root, so when the suite runs as root the CLI runs without the
capabilities that override them (`setpriv`), through the real kernel checks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import git, write

LOCKED = "import torch\ntorch.cuda.synchronize()\n"
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
DROP_OVERRIDES = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def cudaudit(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI, subject to permission bits."""
    if AS_ROOT and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permission bits cannot be made to apply")
    prefix = DROP_OVERRIDES if AS_ROOT else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "cudaudit", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[Path]:
    """tmp_path, with every folder made removable again afterwards."""
    yield tmp_path
    for top, dirs, _ in os.walk(tmp_path):
        for name in dirs:
            os.chmod(os.path.join(top, name), 0o755)


def report(cwd: Path, *args: str) -> dict:
    done = cudaudit(cwd, "scan", "--format", "json", *args)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("depth", ["secret", "a/b/secret"])
def test_a_folder_the_scan_may_not_enter_is_one_error(tree, depth):
    write(tree / depth / "hidden.py", LOCKED)
    write(tree / "good.py", LOCKED)
    (tree / depth).chmod(0)
    document = report(tree)
    assert [f["path"] for f in document["findings"]] == ["good.py"]
    assert [(Path(e["path"]).relative_to(tree).as_posix(), e["message"]) for e in document["errors"]] == [
        (depth, "cannot read folder: Permission denied")
    ]


def test_inside_git_a_folder_the_scan_may_not_enter_is_one_error(tree):
    git(tree, "init", "-q")
    write(tree / "secret" / "a.py", LOCKED)
    write(tree / "secret" / "b.py", LOCKED)
    write(tree / "good.py", LOCKED)
    git(tree, "add", ".")
    (tree / "secret").chmod(0o600)  # listed by git, but not enterable
    document = report(tree)
    assert [f["path"] for f in document["findings"]] == ["good.py"]
    assert [e["message"] for e in document["errors"]] == ["cannot read folder: Permission denied"]


def test_one_unwritable_file_never_stops_fix(tree):
    write(tree / "locked" / "a.py", LOCKED)
    write(tree / "open" / "b.py", LOCKED)
    (tree / "locked").chmod(0o555)  # the file may be written, but no new file may be made beside it
    done = cudaudit(tree, "fix", ".")
    assert done.returncode == 1, done.stderr
    shown = done.stdout + done.stderr
    assert "internal error" not in shown and "Traceback" not in shown
    assert "locked/a.py: cannot write: Permission denied; left unchanged" in shown
    assert (tree / "locked" / "a.py").read_text() == LOCKED
    assert (tree / "open" / "b.py").read_text() != LOCKED
