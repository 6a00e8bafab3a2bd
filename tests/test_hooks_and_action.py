"""The pre-commit hooks and the GitHub Action, exercised with the real tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

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
    stems += ["README.md", "model.pt", "notes.txt", "data.json", "Makefile.am", "x.pyc", "setup.py.orig", "requirements.md"]
    return [variant for stem in stems for variant in (stem, stem.upper(), f"src/deep/{stem}")]


def test_the_hook_is_given_exactly_the_files_cudaudit_reads():
    """A file the pattern passes but cudaudit does not read would be skipped, and, alone, exit 2."""
    import re
    from pathlib import PurePath

    from cudaudit.filekinds import classify

    hooks = {hook["id"]: hook for hook in YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())}
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
    write(workflow, body.format(inputs="targets: rocm\n          fail-on: warning\n          auto-fix-pr: 'true'"))
    good = subprocess.run([tool("actionlint")], cwd=tmp_path, capture_output=True, text=True)
    assert good.returncode == 0, good.stdout
    write(workflow, body.format(inputs="taregts: rocm"))
    bad = subprocess.run([tool("actionlint")], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 1 and "taregts" in bad.stdout


def test_action_uploads_sarif_with_the_v4_action():
    action = YAML(typ="safe").load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {"paths", "targets", "fail-on", "auto-fix-pr"}
    uses = [step.get("uses", "") for step in action["runs"]["steps"]]
    assert "github/codeql-action/upload-sarif@v4" in uses
