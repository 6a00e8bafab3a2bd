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


def test_hook_file_patterns_cover_the_infrastructure_files():
    import re

    hooks = {hook["id"]: hook for hook in YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())}
    pattern = re.compile(hooks["cudaudit"]["files"])
    for path in (
        "train.py", "csrc/attn.cu", "Dockerfile", "docker/Dockerfile.rocm", "requirements-gpu.txt",
        "requirements/base.in", "pyproject.toml", "uv.lock", "poetry.lock", "Pipfile.lock", "environment.yml",
        "docker-compose.yml", "k8s/deploy.yaml", ".github/workflows/ci.yml", "CMakeLists.txt",
    ):
        assert pattern.search(path), path
    for path in ("README.md", "model.pt", "notes.txt"):
        assert not pattern.search(path), path
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
