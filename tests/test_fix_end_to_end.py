"""The point of `cudaudit fix`: CUDA-only scripts that fail on a CPU-only PyTorch run after it."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys

import pytest

from support import FIXTURES

SCRIPTS = FIXTURES / "cuda-scripts"
CPU_TORCH = "pip install torch --index-url https://download.pytorch.org/whl/cpu"


@pytest.fixture(scope="module")
def cpu_torch():
    """PyTorch's CPU build, to run the fixed scripts on; without PyTorch the test skips (CI must have it)."""
    if os.environ.get("CI") and importlib.util.find_spec("torch") is None:
        pytest.fail(f"CI must install PyTorch's CPU build: {CPU_TORCH}")
    torch = pytest.importorskip("torch", reason=f"needs PyTorch's CPU build: {CPU_TORCH}")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the scripts would run unfixed")
    return torch


def run(script: str, *args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, script, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def result_value(output: str, name: str) -> float:
    return float(re.search(rf"result: .*{name} ([-\d.]+)", output).group(1))


@pytest.mark.slow
def test_cuda_only_scripts_run_on_cpu_after_fix(cpu_torch, cli, tmp_path):
    for script in SCRIPTS.glob("*.py"):
        shutil.copy(script, tmp_path)

    before = run("train_classifier.py", "--out", "model.pt", cwd=tmp_path)
    assert before.returncode != 0 and "Torch not compiled with CUDA enabled" in before.stderr

    fixed = cli("fix", "--unsafe-fixes", ".", cwd=tmp_path)
    assert "fixed" in fixed.output and "CDA102" in fixed.output

    train = run("train_classifier.py", "--out", "model.pt", cwd=tmp_path)
    assert train.returncode == 0, train.stderr
    assert result_value(train.stdout, "accuracy") > 0.9
    assert "trained on cpu" in train.stdout

    evaluate = run("evaluate.py", "--checkpoint", "model.pt", cwd=tmp_path)
    assert evaluate.returncode == 0, evaluate.stderr
    assert result_value(evaluate.stdout, "test accuracy") > 0.9

    again = cli("fix", "--unsafe-fixes", "--diff", ".", cwd=tmp_path)
    assert again.exit_code == 0 and again.stdout == "", "fixing twice must change nothing"
