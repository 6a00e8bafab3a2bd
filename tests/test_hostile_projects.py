"""The project-level files every command reads at its start (`pyproject.toml`, `uv.lock`,
`setup.cfg`, `tox.ini`, `.flake8`, `ruff.toml`) may hold wrong types, nest too deeply, or be a
FIFO or a link to `/dev/zero`: no command then hangs, dies or prints a traceback.

Each command runs in a child process under a time limit, so a read that blocks fails the test
instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import write

LOCKED = "import torch\ntorch.cuda.synchronize()\nmodel.cuda()\n"
DEEP = "x = " + "[" * 50_000 + "]" * 50_000 + "\n"
DEEP_TABLE = "x = " + "{a = " * 20_000 + "1" + "}" * 20_000 + "\n"
PROJECTS = {
    "wrong-types": {
        "pyproject.toml": '[project]\nname = 1\ndependencies = 5\noptional-dependencies = "x"\n'
        "[tool]\nruff = 3\nblack = [1]\n",
        "uv.lock": '[[package]]\nname = 1\nversion = []\n[[package.dependencies]]\nname = {}\n',
        "ruff.toml": 'line-length = "long"\n',
    },
    "top-level-types": {"pyproject.toml": 'project = [1, 2]\ntool = "x"\n', "uv.lock": "package = 5\n"},
    "deep-arrays": {"pyproject.toml": DEEP, "uv.lock": DEEP, "ruff.toml": DEEP},
    "deep-tables": {"pyproject.toml": DEEP_TABLE, "uv.lock": DEEP_TABLE, ".ruff.toml": DEEP_TABLE},
    "bad-ini": {"setup.cfg": "[flake8\nmax-line-length = x\n", "tox.ini": b"[flake8]\nmax-line-length = \xff\n"},
}
COMMANDS = (("scan", "."), ("fix", "--diff", "."), ("fix", "."), ("resolve", "-t", "rocm", "requirements.txt"))
SPECIAL_NAMES = ("pyproject.toml", "uv.lock", "setup.cfg", "tox.ini", ".flake8", "ruff.toml")


def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cudaudit", *args], cwd=folder, capture_output=True, text=True, timeout=120, check=False
    )


def project(folder: Path, files: dict[str, str | bytes]) -> Path:
    write(folder / "train.py", LOCKED)
    write(folder / "requirements.txt", "torch==2.3.1+cu121\n")
    for name, text in files.items():
        write(folder / name, text)
    return folder


def assert_survives(folder: Path) -> None:
    for command in COMMANDS:
        done = run(folder, *command)
        output = done.stdout + done.stderr
        assert done.returncode in (0, 1), (command, output[-2000:])
        assert "Traceback" not in output and "internal error" not in output, (command, output[-2000:])


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_odd_project_files_stop_no_command(tmp_path, name):
    assert_survives(project(tmp_path, PROJECTS[name]))


def test_deep_project_files_stop_no_fix(tmp_path):
    """`fix` reads the project's line length from these files; a nesting too deep for the TOML
    parser once ended the run with an internal error."""
    folder = project(tmp_path, PROJECTS["deep-arrays"])
    done = run(folder, "fix", "--diff", ".")
    assert done.returncode == 1 and "internal error" not in done.stderr, done.stderr[-2000:]
    assert "+if torch.cuda.is_available():" in done.stdout


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_project_files_that_are_fifos_or_endless_devices_block_no_command(tmp_path):
    folder = project(tmp_path, {})
    for index, name in enumerate(SPECIAL_NAMES):
        if index % 2:
            os.mkfifo(folder / name)
        else:
            os.symlink("/dev/zero", folder / name)
    assert_survives(folder)
