"""A GitHub Actions job that installs a project's dependencies for CPU (or ROCm) and runs its tests.

The audit's first week ends with a second backend in CI. The job derives the target's variant
of the dependency files in CI itself (`cudaudit resolve`), so it never drifts from the files the
team keeps up to date, installs it, and runs the tests the way the project's configuration says:
pytest when it is configured (or a `tests/` folder exists), else nox, tox or `make test`.
CPU jobs run on GitHub's `ubuntu-latest`; ROCm jobs on a self-hosted runner labelled `rocm`.
`cudaudit resolve --ci github` writes it as a workflow; `cudaudit fix --target` adds it to the
workflow CDA710 is reported in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cudaudit import __version__
from cudaudit.filekinds import FileKind
from cudaudit.resolvers.requirements import parse_requirement
from cudaudit.resolvers.resolution import variant_path
from cudaudit.tomlcompat import tomllib

SOURCE = "https://github.com/cudaudit/cudaudit"
RUNNERS = {"cpu": "ubuntu-latest", "rocm": "[self-hosted, linux, rocm]"}
"""GitHub-hosted runners have no GPU; a ROCm job needs a self-hosted runner with an AMD GPU and this label."""
DEFAULT_PYTHON = "3.11"
"""Every PyTorch release from 2.0 to 2.13 publishes wheels for it."""
TEST_EXTRAS = ("test", "tests", "testing", "dev")
_REQUIREMENTS = ("requirements.txt", "requirements.in", "requirements/base.txt", "requirements/requirements.txt")
_MAKE_TEST = re.compile(r"^test\s*:", re.MULTILINE)


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
    project = pyproject.get("project") if isinstance(pyproject.get("project"), dict) else {}
    chosen = tuple(files) or _dependency_files(root, project)
    extras = project.get("optional-dependencies") if isinstance(project.get("optional-dependencies"), dict) else {}
    test_extras = [name for name in TEST_EXTRAS if name in extras]
    packaged = bool(project) or (root / "setup.py").is_file() or (root / "setup.cfg").is_file()
    if not packaged:
        install = None
    elif "pyproject.toml" in chosen:
        install = f'-e ".[{test_extras[0]}]"' if test_extras else "-e ."
    else:
        install = "--no-deps -e ."
    return CiPlan(chosen, _test_command(root, pyproject), _python(project), install)


def job_name(target: str) -> str:
    return f"{target}-tests"


def job(plan: CiPlan, target: str, indent: str = "  ") -> str:
    """The job as YAML lines, its key at `indent` (the indentation of the workflow's other jobs)."""
    i = indent
    install = [f'python -m pip install "cudaudit @ git+{SOURCE}@v{__version__}"']
    installs = []
    for file in plan.dependency_files:
        variant = _variant_name(file, target)
        install.append(f"cudaudit resolve {file} --target {target} --exit-zero --output {variant}")
        if not file.endswith(".toml"):
            installs.append(f"python -m pip install -r {variant}")
    if plan.project_install:
        installs.append(f"python -m pip install {plan.project_install}")
    if plan.test_command.startswith("python -m pytest"):
        installs.append("python -m pip install pytest")
    lines = [
        f"{i}{job_name(target)}:",
        f"{i}  name: tests on {'CPU' if target == 'cpu' else 'ROCm'}",
        f"{i}  runs-on: {RUNNERS[target]}",
        f"{i}  steps:",
        f"{i}    - uses: actions/checkout@v4",
        f"{i}    - uses: actions/setup-python@v5",
        f"{i}      with:",
        f'{i}        python-version: "{plan.python}"',
        f"{i}    - name: Install the {target.upper() if target == 'cpu' else 'ROCm'} variant of the dependencies",
        f"{i}      run: |",
        *(f"{i}        {command}" for command in ["python -m pip install --upgrade pip", *install, *installs]),
        f"{i}    - name: Run the tests",
        f"{i}      run: {plan.test_command}",
    ]
    return "\n".join(lines) + "\n"


def workflow(plan: CiPlan, target: str) -> str:
    """A whole workflow with the one job, run on every push and pull request."""
    name = "CPU" if target == "cpu" else "ROCm"
    header = [
        f"# Tests on {name}, with the {name} variant of the dependencies (written by cudaudit resolve --ci github).",
        f"name: tests on {name}",
        "",
        "on:",
        "  push:",
        "  pull_request:",
        "",
        "permissions:",
        "  contents: read",
        "",
        "jobs:",
    ]
    return "\n".join(header) + "\n" + job(plan, target)


def workflow_path(root: Path, target: str) -> Path:
    return root / ".github" / "workflows" / f"tests-{target}.yml"


def _variant_name(file: str, target: str) -> str:
    """A pyproject.toml is resolved in place (the job installs the project from it); other files beside it."""
    path = Path(file)
    if path.name == "pyproject.toml":
        return file
    return PurePosixPath(variant_path(path, target, FileKind.REQUIREMENTS)).as_posix()


def _dependency_files(root: Path, project: dict) -> tuple[str, ...]:
    for name in _REQUIREMENTS:
        if (root / name).is_file():
            return (name,)
    return ("pyproject.toml",) if project.get("dependencies") or project.get("optional-dependencies") else ()


def _test_command(root: Path, pyproject: dict) -> str:
    tool = pyproject.get("tool") if isinstance(pyproject.get("tool"), dict) else {}
    if (
        "pytest" in tool
        or (root / "pytest.ini").is_file()
        or (root / "conftest.py").is_file()
        or (root / "tests").is_dir()
        or (root / "test").is_dir()
        or _mentions(root / "setup.cfg", "[tool:pytest]")
        or _mentions(root / "tox.ini", "[pytest]")
    ):
        return "python -m pytest"
    if (root / "noxfile.py").is_file():
        return "python -m pip install nox && nox"
    if (root / "tox.ini").is_file() or "tox" in tool:
        return "python -m pip install tox && tox"
    if _MAKE_TEST.search(_text(root / "Makefile")):
        return "make test"
    return "python -m pytest"


def _python(project: dict) -> str:
    """The lowest Python the project allows, but not below the default."""
    requires = project.get("requires-python")
    parsed = parse_requirement(f"python{requires}") if isinstance(requires, str) else None
    floors = [s.version for s in parsed.specifier if s.operator in (">=", "~=", "==")] if parsed else []
    floor = max(floors, key=lambda v: tuple(int(p) for p in re.findall(r"\d+", v)[:2]), default=DEFAULT_PYTHON)
    major_minor = ".".join(re.findall(r"\d+", floor)[:2])
    return major_minor if _key(major_minor) > _key(DEFAULT_PYTHON) else DEFAULT_PYTHON


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _pyproject(path: Path) -> dict:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _mentions(path: Path, word: str) -> bool:
    return word in _text(path)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else ""
    except (OSError, UnicodeDecodeError):
        return ""
