"""How a project's tests run in CI, read from its configuration (never by running anything).

The job that tests a project on another target (`ci_workflow.py`) needs three answers: which
dependency files to install the target's variant of, how the project itself is installed, and
how its tests run. Pytest is the answer when the project configures it or keeps a `tests/`
folder; else nox, tox or a Makefile's `test` target.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cudaudit.resolvers.requirements import parse_requirement
from cudaudit.safe_read import UnreadableFile, read_tree_file
from cudaudit.tomlcompat import tomllib

DEFAULT_PYTHON = "3.11"
"""Every PyTorch release from 2.0 to 2.13 publishes wheels for it."""
TEST_EXTRAS = ("test", "tests", "testing", "dev")
_REQUIREMENTS = ("requirements.txt", "requirements.in", "requirements/base.txt", "requirements/requirements.txt")
_MAKE_TEST = re.compile(r"^test[ \t]*:", re.MULTILINE)


@dataclass(frozen=True)
class CiPlan:
    """How a project's tests run in CI on another target."""

    dependency_files: tuple[str, ...]
    """Project-relative files whose variant the job installs (requirements files, pyproject.toml)."""
    test_command: str
    python: str = DEFAULT_PYTHON
    project_install: str | None = None
    """How the project itself is installed (`-e ".[test]"`), when it is a package."""


def project_plan(root: Path, files: Sequence[str] = ()) -> CiPlan:
    """The plan for the project at `root`: `files`, or the dependency files it keeps at its top."""
    pyproject = _pyproject(root / "pyproject.toml")
    project = _table(pyproject, "project")
    chosen = tuple(files) or _dependency_files(root, project)
    extras = _table(project, "optional-dependencies")
    test_extras = [name for name in TEST_EXTRAS if name in extras]
    packaged = bool(project) or os.path.isfile(root / "setup.py") or os.path.isfile(root / "setup.cfg")
    if not packaged:
        install = None
    elif "pyproject.toml" in chosen:
        install = f'-e ".[{test_extras[0]}]"' if test_extras else "-e ."
    else:
        install = "--no-deps -e ."
    return CiPlan(chosen, _test_command(root, pyproject), _python(project), install)


def _dependency_files(root: Path, project: dict[str, Any]) -> tuple[str, ...]:
    for name in _REQUIREMENTS:
        if os.path.isfile(root / name):
            return (name,)
    return ("pyproject.toml",) if project.get("dependencies") or project.get("optional-dependencies") else ()


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _test_command(root: Path, pyproject: dict[str, Any]) -> str:
    tool = _table(pyproject, "tool")
    if (
        "pytest" in tool
        or os.path.isfile(root / "pytest.ini")
        or os.path.isfile(root / "conftest.py")
        or os.path.isdir(root / "tests")
        or os.path.isdir(root / "test")
        or _mentions(root / "setup.cfg", "[tool:pytest]")
        or _mentions(root / "tox.ini", "[pytest]")
    ):
        return "python -m pytest"
    if os.path.isfile(root / "noxfile.py"):
        return "python -m pip install nox && nox"
    if os.path.isfile(root / "tox.ini") or "tox" in tool:
        return "python -m pip install tox && tox"
    if _MAKE_TEST.search(_text(root / "Makefile")):
        return "make test"
    return "python -m pytest"


def _python(project: dict[str, Any]) -> str:
    """The lowest Python the project allows, but not below the default."""
    requires = project.get("requires-python")
    parsed = parse_requirement(f"python{requires}") if isinstance(requires, str) else None
    floors = [s.version for s in parsed.specifier if s.operator in (">=", "~=", "==")] if parsed else []
    floor = max(floors, key=lambda v: tuple(int(p) for p in re.findall(r"\d+", v)[:2]), default=DEFAULT_PYTHON)
    major_minor = ".".join(re.findall(r"\d+", floor)[:2])
    return major_minor if _key(major_minor) > _key(DEFAULT_PYTHON) else DEFAULT_PYTHON


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _pyproject(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(_text(path))
    except (tomllib.TOMLDecodeError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _mentions(path: Path, word: str) -> bool:
    return word in _text(path)


def _text(path: Path) -> str:
    """A project file's text, read as any file of a scanned tree is (`read_tree_file`); "" if it cannot be."""
    try:
        return read_tree_file(path, path.parent).decode("utf-8")
    except (UnreadableFile, UnicodeDecodeError):
        return ""
