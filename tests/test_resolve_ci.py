"""A second backend in CI: `cudaudit resolve --ci github` and the CDA710 rewrite of `cudaudit fix --target`,
checked with actionlint (the test extra installs it)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cudaudit import __version__
from support import FIXTURES, scan_json, write

ACTIONLINT = Path(sys.executable).with_name("actionlint")
RUNNER_LABELS = "self-hosted-runner:\n  labels: [gpu, rocm]\n"
"""actionlint knows GitHub's runner labels; a self-hosted runner's own label is declared to it."""


def actionlint(workflow: Path, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    if not ACTIONLINT.exists():
        pytest.fail("actionlint is part of the test extras: pip install -e '.[test]'")
    options = ["-config-file", str(config)] if config else []
    return subprocess.run([str(ACTIONLINT), *options, str(workflow)], capture_output=True, text=True)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "gpu-finetune"
    shutil.copytree(FIXTURES / "gpu-finetune", copy)
    return copy


def test_resolve_writes_a_cpu_workflow_that_installs_the_variant_and_runs_pytest(cli, project):
    result = cli("resolve", "requirements.txt", "--target", "cpu", "--ci", "github", cwd=project)
    assert result.exit_code == 1, result.output  # xformers, flash-attn and cupy have no CPU build
    workflow = project / ".github" / "workflows" / "tests-cpu.yml"
    text = workflow.read_text()
    assert "    runs-on: ubuntu-latest\n" in text
    assert "cudaudit resolve requirements.txt --target cpu --exit-zero --output requirements-cpu.txt\n" in text
    assert "python -m pip install -r requirements-cpu.txt\n" in text
    assert "python -m pip install --no-deps -e .\n" in text and "run: python -m pytest\n" in text
    # the cudaudit that wrote it, as released (tests/test_packaging.py installs that line from the built wheel)
    assert f'python -m pip install "cudaudit=={__version__}"\n' in text and "git+" not in text
    linted = actionlint(workflow)
    assert linted.returncode == 0, linted.stdout
    again = cli("resolve", "requirements.txt", "--target", "cpu", "--ci", "github", cwd=project)
    assert again.exit_code == 2 and "tests-cpu.yml exists" in " ".join(again.output.split())


def test_resolve_writes_a_rocm_workflow_for_a_self_hosted_amd_runner(cli, project):
    cli("resolve", "pyproject.toml", "--target", "rocm", "--ci", "github", cwd=project)
    workflow = project / ".github" / "workflows" / "tests-rocm.yml"
    text = workflow.read_text()
    assert "    runs-on: [self-hosted, linux, rocm]\n" in text
    assert "--output pyproject.toml --format json" in text and '>> "$GITHUB_ENV"' in text
    assert 'python -m pip install -e ".[test]"\n' in text
    linted = actionlint(workflow, project / ".github" / "actionlint.yaml")
    assert linted.returncode == 0, linted.stdout


def test_fix_adds_the_same_job_where_cda710_is_reported(cli, project):
    before = scan_json(cli, "--target", "cpu", ".github", cwd=project)
    assert [f["rule"] for f in before["findings"] if f["rule"] == "CDA710"] == ["CDA710"]
    diff = cli("fix", ".github", "--target", "cpu", "--unsafe-fixes", "--diff", cwd=project)
    assert diff.exit_code == 1 and "+  cpu-tests:\n" in diff.stdout
    result = cli("fix", ".github", "--target", "cpu", "--unsafe-fixes", cwd=project)
    assert result.exit_code == 1, result.output  # the GPU job itself stays: it is the CUDA job
    workflow = project / ".github" / "workflows" / "train.yml"
    text = workflow.read_text()
    assert text.startswith((FIXTURES / "gpu-finetune" / ".github" / "workflows" / "train.yml").read_text())
    assert "cudaudit resolve requirements.txt --target cpu --exit-zero --output requirements-cpu.txt\n" in text
    linted = actionlint(workflow, project / ".github" / "actionlint.yaml")
    assert linted.returncode == 0, linted.stdout
    after = scan_json(cli, "--target", "cpu", ".github", cwd=project)
    assert not [f for f in after["findings"] if f["rule"] == "CDA710"]
    assert cli("fix", ".github", "--target", "cpu", "--unsafe-fixes", "--diff", cwd=project).stdout == ""


def test_the_rocm_job_is_named_apart_from_an_existing_one(cli, tmp_path):
    write(
        tmp_path / ".github" / "workflows" / "ci.yml",
        "on: push\njobs:\n  rocm-tests:\n    runs-on: [self-hosted, gpu]\n    steps:\n      - run: nvidia-smi\n",
    )
    cli("fix", "--target", "rocm", "--unsafe-fixes")
    text = (tmp_path / ".github" / "workflows" / "ci.yml").read_text()
    assert "\n  rocm-tests-2:\n    name: tests on ROCm\n    runs-on: [self-hosted, linux, rocm]\n" in text
    linted = actionlint(tmp_path / ".github" / "workflows" / "ci.yml", write(tmp_path / "actionlint.yaml", RUNNER_LABELS))
    assert linted.returncode == 0, linted.stdout
