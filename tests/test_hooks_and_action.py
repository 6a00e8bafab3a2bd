"""The pre-commit hooks and the GitHub Action, exercised with the real tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from support import REPO, git, write

BIN = Path(sys.executable).parent
LOCKED = "import torch\nmodel = Net().cuda()\n"
CLEAN = "import torch\nmodel = Net().to(device)\n"


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is part of the test extras: pip install -e '.[test]'")
    return str(path)


@pytest.mark.slow
def test_pre_commit_hook_fails_on_lock_in_and_passes_clean_code(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    write(project / "locked.py", LOCKED)
    write(project / "clean.py", CLEAN)
    write(project / "README.md", "torch.cuda is mentioned in prose only\n")
    git(project, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}

    def try_repo(*files: str) -> subprocess.CompletedProcess[str]:
        command = [tool("pre-commit"), "try-repo", str(REPO), "cudaudit", "--files", *files]
        return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=600)

    locked = try_repo("locked.py", "README.md")
    assert locked.returncode == 1, locked.stdout + locked.stderr
    assert "CDA102" in locked.stdout and "Failed" in locked.stdout
    clean = try_repo("clean.py", "README.md")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Passed" in clean.stdout

    # Many staged files: one run, one report (pre-commit would otherwise split them in batches).
    for i in range(12):
        write(project / "pkg" / f"m{i}.py", LOCKED)
    git(project, "add", ".")
    many = try_repo(*(f"pkg/m{i}.py" for i in range(12)))
    assert many.returncode == 1
    assert many.stdout.count("scanned for targets") == 1 and "12 findings" in many.stdout, many.stdout

    # A staged GPU workflow beside an unstaged CPU one: the repository has a CPU job, no CDA710.
    gpu = "on: push\njobs:\n  gpu:\n    runs-on: [self-hosted, gpu]\n    steps: [{run: pytest}]\n"
    write(project / ".github" / "workflows" / "gpu.yml", gpu)
    cpu = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: [{run: pytest}]\n"
    write(project / ".github" / "workflows" / "cpu.yml", cpu)
    git(project, "add", ".")
    staged = try_repo(".github/workflows/gpu.yml")
    assert "CDA702" in staged.stdout and "CDA710" not in staged.stdout, staged.stdout


def _names_cudaudit_knows() -> list[str]:
    """File names from every table `classify` reads, in several cases and folders, and near misses."""
    from cudaudit import filekinds

    stems = [f"x{suffix}" for suffix in filekinds._BY_SUFFIX]
    stems += list(filekinds._BY_NAME) + list(filekinds.EXAMPLE_NAMES.values())
    stems += [pattern.replace("*", "gpu") for pattern, _ in filekinds._BY_PATTERN]
    stems += [f"Dockerfile{ending}" for ending in filekinds._NOT_DOCKERFILES]
    stems += ["Dockerfile.rocm", "Containerfile-cpu", "requirements/base.in", "reqs/dev.txt", ".github/workflows/ci.yml"]
    stems += ["README.md", "model.pt", "notes.txt", "data.json", "Makefile.am", "x.pyc", "setup.py.orig", "requirements.md",
               "docs/dockerfile_build_guidance.rst"]
    return [variant for stem in stems for variant in (stem, stem.upper(), f"src/deep/{stem}")]


def test_the_hook_is_given_exactly_the_files_cudaudit_reads():
    """A file the pattern passes but cudaudit does not read would be skipped, and, alone, exit 2."""
    import re
    from pathlib import PurePath

    from cudaudit.filekinds import classify

    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    pattern = re.compile(hooks["cudaudit"]["files"])
    names = _names_cudaudit_knows()
    assert len(names) > 150
    disagreements = [name for name in names if bool(pattern.search(name)) != bool(classify(PurePath(name)))]
    assert disagreements == []
    assert hooks["cudaudit"]["require_serial"] and hooks["cudaudit-fix"]["require_serial"]
    assert hooks["cudaudit-fix"]["entry"] == "cudaudit fix"


def test_action_and_example_workflow_pass_actionlint(tmp_path):
    assert subprocess.run([tool("actionlint"), str(REPO / "docs" / "examples" / "cudaudit.yml")]).returncode == 0
    # A workflow that uses the action from its folder makes actionlint check the action's metadata.
    shutil.copy(REPO / "action.yml", tmp_path / "action.yml")
    git(tmp_path, "init", "-q")
    workflow = tmp_path / ".github" / "workflows" / "use.yml"
    body = (
        "on: push\njobs:\n  scan:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - uses: ./\n        with:\n          {inputs}\n"
    )
    write(workflow, body.format(inputs="targets: rocm\n          fail-on: warning\n          auto-fix-pr: 'true'\n          auto-fix-branch: bots/cuda-fixes"))
    good = subprocess.run([tool("actionlint")], cwd=tmp_path, capture_output=True, text=True)
    assert good.returncode == 0, good.stdout
    write(workflow, body.format(inputs="taregts: rocm"))
    bad = subprocess.run([tool("actionlint")], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 1 and "taregts" in bad.stdout


def test_action_uploads_sarif_with_the_v4_action():
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {"paths", "targets", "fail-on", "auto-fix-pr"}
    uses = [step.get("uses", "") for step in action["runs"]["steps"]]
    assert "github/codeql-action/upload-sarif@v4" in uses


def _action() -> dict:
    return yaml.safe_load((REPO / "action.yml").read_text())


def _step(name: str) -> dict:
    return next(step for step in _action()["runs"]["steps"] if step.get("name") == name)


def test_the_action_scans_once_and_hides_no_failure():
    scripts = [step.get("run", "") for step in _action()["runs"]["steps"]]
    assert sum(script.count("cudaudit scan") for script in scripts) == 1
    assert "--sarif-output" in _step("Scan")["run"] and "--markdown-output" in _step("Scan")["run"]
    assert not any("|| true" in script for script in scripts)
    assert _step("Enforce the threshold")["if"] == "steps.scan.outputs.exit-code == '1'"
    assert "GITHUB_RUN_ID" not in "".join(scripts), "one auto-fix branch for every run"
    assert _action()["inputs"]["auto-fix-branch"]["default"] == "cudaudit/autofix"
    example = yaml.safe_load((REPO / "docs" / "examples" / "cudaudit.yml").read_text())
    assert example["permissions"] == {"contents": "read", "security-events": "write", "actions": "read"}


def _run_scan_step(tmp_path: Path, fail_on: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str], Path]:
    """The Action's scan step, run by bash as the runner runs it, with the runner's files."""
    runner = tmp_path / f"runner-{fail_on}"
    runner.mkdir()
    (runner / "output").touch()
    (runner / "summary").touch()
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(runner),
        "GITHUB_OUTPUT": str(runner / "output"),
        "GITHUB_STEP_SUMMARY": str(runner / "summary"),
        "PATHS": ". ",
        "TARGETS": "rocm,cpu",
        "CATEGORY": "cudaudit",
        "FAIL_ON": fail_on,
    }
    script = _step("Scan")["run"]
    done = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path / "project", env=env, capture_output=True, text=True)
    outputs = dict(line.split("=", 1) for line in (runner / "output").read_text().splitlines())
    return done, outputs, runner


@pytest.mark.slow
def test_the_scan_step_writes_every_report_from_one_scan(tmp_path):
    import json

    for i in range(15):
        write(tmp_path / "project" / f"m{i}.py", LOCKED)
    done, outputs, runner = _run_scan_step(tmp_path, "warning")
    assert done.returncode == 0, done.stderr
    assert outputs["exit-code"] == "1", "findings: the last step fails the job, after the upload"
    assert json.loads(Path(outputs["sarif-file"]).read_text())["runs"][0]["results"]
    assert "CUDA portability" in (runner / "summary").read_text()
    annotations = done.stdout.splitlines()
    assert sum(line.startswith("::error ") for line in annotations) == 10
    assert any(line.startswith("::notice title=cudaudit::5 more not annotated (5 errors)") for line in annotations)
    assert "m9.py:2:9: CDA102" in done.stdout, "what is not annotated is listed in the log"
    never, outputs, _ = _run_scan_step(tmp_path, "never")
    assert never.returncode == 0 and outputs["exit-code"] == "0"
    typo, outputs, _ = _run_scan_step(tmp_path, "warnings")
    assert typo.returncode == 2 and outputs["exit-code"] == "2" and "could not run" in typo.stdout
