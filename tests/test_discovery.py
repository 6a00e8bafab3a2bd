"""Which files a scan reads: git ignores, skipped folders, excludes, symlinks."""

from __future__ import annotations

import os
from pathlib import Path

from cudaudit.discovery import Excludes, discover
from support import git, write

LOCKED = "import torch\ntorch.cuda.synchronize()\n"


def found(root: Path, *paths: Path, exclude: list[str] | None = None) -> list[str]:
    candidates, errors = discover(list(paths) or [root], Excludes.from_patterns(root, exclude or []))
    assert not errors
    return [c.path.relative_to(root).as_posix() for c in candidates]


def test_gitignore_is_honoured_inside_a_checkout(tmp_path):
    git(tmp_path, "init", "-q")
    write(tmp_path / ".gitignore", "generated/\n*_pb2.py\n")
    write(tmp_path / "train.py", LOCKED)
    write(tmp_path / "generated" / "model.py", LOCKED)
    write(tmp_path / "api_pb2.py", LOCKED)
    write(tmp_path / "untracked.py", LOCKED)
    git(tmp_path, "add", "train.py", ".gitignore")
    assert found(tmp_path) == ["train.py", "untracked.py"]
    # A path named explicitly is scanned even when git ignores it, a folder too.
    assert found(tmp_path, tmp_path / "api_pb2.py") == ["api_pb2.py"]
    assert found(tmp_path, tmp_path / "generated") == ["generated/model.py"]


def test_walk_outside_git_skips_environments_builds_and_vcs(tmp_path):
    write(tmp_path / "src" / "train.py", LOCKED)
    for skipped in ("node_modules/x.py", ".git/hooks/x.py", "build/lib/x.py", "__pycache__/x.py"):
        write(tmp_path / skipped, LOCKED)
    write(tmp_path / "env" / "pyvenv.cfg", "home = /usr/bin\n")
    write(tmp_path / "env" / "lib" / "torch" / "cuda.py", LOCKED)
    write(tmp_path / "README.md", "torch.cuda")
    assert found(tmp_path) == ["src/train.py"]


def test_configured_excludes(tmp_path):
    write(tmp_path / "third_party" / "kernel.py", LOCKED)
    write(tmp_path / "a.py", LOCKED)
    write(tmp_path / "b.gen.py", LOCKED)
    assert found(tmp_path, exclude=["third_party/", "*.gen.py"]) == ["a.py"]


def test_symlink_loops_and_links_are_not_followed(tmp_path):
    write(tmp_path / "pkg" / "a.py", LOCKED)
    os.symlink(tmp_path, tmp_path / "pkg" / "loop")
    os.symlink(tmp_path / "pkg" / "a.py", tmp_path / "pkg" / "alias.py")
    assert found(tmp_path) == ["pkg/a.py"]


def test_extensionless_script_is_recognised_only_when_named(tmp_path):
    script = write(tmp_path / "launch", "#!/usr/bin/env python3\nimport torch\ntorch.cuda.synchronize()\n")
    assert found(tmp_path) == []
    assert found(tmp_path, script) == ["launch"]


def test_results_are_sorted_and_unique(tmp_path):
    for name in ("b.py", "a.py", "c/d.py"):
        write(tmp_path / name, LOCKED)
    assert found(tmp_path, tmp_path, tmp_path / "a.py") == ["a.py", "b.py", "c/d.py"]
