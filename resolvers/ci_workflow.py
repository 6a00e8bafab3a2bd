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

from pathlib import Path, PurePosixPath

from packaging.version import Version

from cudaudit import __version__
from cudaudit.filekinds import FileKind
from cudaudit.resolvers.ci_plan import CiPlan
from cudaudit.resolvers.variant_names import variant_path

RUNNERS = {"cpu": "ubuntu-latest", "rocm": "[self-hosted, linux, rocm]"}
"""GitHub-hosted runners have no GPU; a ROCm job needs a self-hosted runner with an AMD GPU and this label."""


_INDEX_TO_ENV = (
    "python -c 'import json, sys; print(\"PIP_EXTRA_INDEX_URL=\" + (json.load(open(sys.argv[1]))[\"pytorch_index\"] or \"\"))'"
    ' {json} >> "$GITHUB_ENV"'
)


def cudaudit_requirement() -> str:
    """The cudaudit the job derives the variant with: the release running now, from PyPI as the README
    installs it, so CI writes the variant this run printed (a later release may resolve differently)."""
    return f'"cudaudit=={Version(__version__).public}"'


def job_name(target: str) -> str:
    return f"{target}-tests"


def job(plan: CiPlan, target: str, indent: str = "  ") -> str:
    """The job as YAML lines, its key at `indent` (the indentation of the workflow's other jobs)."""
    i = indent
    install = [f"python -m pip install {cudaudit_requirement()}"] if plan.dependency_files else []
    installs = []
    for file in plan.dependency_files:
        variant = _variant_name(file, target)
        command = f"cudaudit resolve {file} --target {target} --exit-zero --output {variant}"
        if file.endswith(".toml"):
            # pip reads no index from pyproject.toml: hand it PyTorch's index for the target.
            install.append(f'{command} --format json > "$RUNNER_TEMP/{target}-resolve.json"')
            install.append(_INDEX_TO_ENV.format(json=f'"$RUNNER_TEMP/{target}-resolve.json"'))
        else:
            install.append(command)
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


