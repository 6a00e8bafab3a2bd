"""`cudaudit fix --target rocm|cpu` on requirements files, pyproject.toml and Dockerfiles, through the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cudaudit.analyzers import parser
from cudaudit.filekinds import TARGET_FIXED_KINDS, FileKind
from cudaudit.fixers.run import ONE_TARGET
from cudaudit.fixers.text_fixer import fix_text
from cudaudit.model import Edit, Fix, Safety, Span
from support import analyze, scan_json, write

REQUIREMENTS = """\
# Training stack, compiled on a GPU host
--extra-index-url https://download.pytorch.org/whl/cu121
torch==2.3.1+cu121  # the CUDA 12.1 build
torchvision==0.18.1+cu121
nvidia-cublas-cu12==12.1.3.1 \\
    --hash=sha256:ee53ccca76a6fc08fb9701aa95b6ceb242cdaab118c3bb152af4e579af792728
    # via torch
tensorflow-gpu==2.10.0
numpy==1.26.4
"""
REQUIREMENTS_ROCM = """\
# Training stack, compiled on a GPU host
--extra-index-url https://download.pytorch.org/whl/rocm6.0
torch==2.3.1+rocm6.0  # the CUDA 12.1 build
torchvision==0.18.1+rocm6.0
tensorflow-gpu==2.10.0
numpy==1.26.4
"""
DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG CUDA_VERSION=12.4.1
FROM nvidia/cuda:${CUDA_VERSION}-cudnn-devel-ubuntu22.04 AS build
RUN pip install --no-cache-dir torch==2.3.1 --index-url https://download.pytorch.org/whl/cu121
COPY . /src

# the serving image
FROM --platform=linux/amd64 nvidia/cuda:12.4.1-runtime-ubuntu22.04 AS serve
COPY --from=build /src /app
"""
DOCKERFILE_ROCM = """\
# syntax=docker/dockerfile:1
ARG CUDA_VERSION=12.4.1
FROM rocm/dev-ubuntu-22.04:7.0-complete AS build
RUN pip install --no-cache-dir torch==2.3.1 --index-url https://download.pytorch.org/whl/rocm6.0
COPY . /src

# the serving image
FROM --platform=linux/amd64 rocm/dev-ubuntu-22.04:7.0-complete AS serve
COPY --from=build /src /app
"""
PYPROJECT = """\
[project]
name = "demo"
version = "0.1"
dependencies = [
    "torch==2.4.1",
    "nvidia-nccl-cu12==2.20.5",  # comes with torch anyway
    "tensorflow-gpu>=2.10",
    "pandas",
]

[project.optional-dependencies]
cuda = ["nvidia-cudnn-cu12==9.1.0.70"]  # opt-in for NVIDIA hosts

[[tool.uv.index]]
name = "pytorch"
url = "https://download.pytorch.org/whl/cu124"
explicit = true

[tool.uv.sources]
torch = { index = "pytorch" }
"""
PYPROJECT_CPU = """\
[project]
name = "demo"
version = "0.1"
dependencies = [
    "torch==2.4.1",
    "tensorflow>=2.10",
    "pandas",
]

[project.optional-dependencies]
cuda = ["nvidia-cudnn-cu12==9.1.0.70"]  # opt-in for NVIDIA hosts

[[tool.uv.index]]
name = "pytorch"
url = "https://download.pytorch.org/whl/cpu"
explicit = true

[tool.uv.sources]
torch = { index = "pytorch" }
"""


def test_rocm_rewrites_requirements_and_dockerfile_and_a_second_run_changes_nothing(cli, tmp_path):
    requirements = write(tmp_path / "requirements.txt", REQUIREMENTS)
    dockerfile = write(tmp_path / "Dockerfile", DOCKERFILE)
    result = cli("fix", "--target", "rocm", "--unsafe-fixes")
    assert requirements.read_text() == REQUIREMENTS_ROCM
    assert dockerfile.read_text() == DOCKERFILE_ROCM
    assert "CDA501 ×2" in result.output and "in 2 file(s)" in result.output
    # tensorflow-gpu has no drop-in ROCm package: it stays, with its reason
    assert result.exit_code == 1 and "CDA604" in result.output and "no automatic rewrite" in result.output
    again = cli("fix", "--target", "rocm", "--unsafe-fixes")
    assert "nothing to fix automatically" in again.output
    assert requirements.read_text() == REQUIREMENTS_ROCM and dockerfile.read_text() == DOCKERFILE_ROCM


def test_cpu_rewrites_pyproject_but_not_an_opt_in_cuda_extra(cli, tmp_path):
    pyproject = write(tmp_path / "pyproject.toml", PYPROJECT)
    result = cli("fix", "--target", "cpu", "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    assert pyproject.read_text() == PYPROJECT_CPU
    assert cli("fix", "--target", "cpu", "--unsafe-fixes").exit_code == 0
    assert pyproject.read_text() == PYPROJECT_CPU


def test_without_one_target_nothing_is_rewritten_and_each_finding_says_why(cli, tmp_path):
    requirements = write(tmp_path / "requirements.txt", REQUIREMENTS)
    dockerfile = write(tmp_path / "Dockerfile", DOCKERFILE)
    result = cli("fix", "--unsafe-fixes")
    assert result.exit_code == 1
    assert requirements.read_text() == REQUIREMENTS and dockerfile.read_text() == DOCKERFILE
    assert "nothing to fix automatically" in result.output
    lines = result.output.splitlines()
    start = next(i for i, line in enumerate(lines) if "rewritten for one target at a time" in line)
    assert ONE_TARGET in " ".join(" ".join(lines[start:]).split())  # the reason, said once
    listed = [line for line in lines[start + 1 :] if line.startswith("    ")]
    assert len(listed) == 8  # 5 in requirements.txt, 3 in the Dockerfile
    assert sum(line.lstrip().startswith("requirements.txt:") for line in listed) == 5
    assert cli("fix", "--unsafe-fixes", "--target", "rocm,cpu").exit_code == 1
    assert requirements.read_text() == REQUIREMENTS


def test_fixes_need_unsafe_fixes_and_diff_writes_nothing(cli, tmp_path):
    requirements = write(tmp_path / "requirements.txt", REQUIREMENTS)
    result = cli("fix", "--target", "cpu")
    assert requirements.read_text() == REQUIREMENTS
    assert "--unsafe-fixes" in " ".join(result.output.split())
    diff = cli("fix", "--target", "cpu", "--unsafe-fixes", "--diff")
    assert diff.exit_code == 1
    assert "+torch==2.3.1+cpu  # the CUDA 12.1 build" in diff.stdout
    assert "-nvidia-cublas-cu12==12.1.3.1 \\" in diff.stdout and "+tensorflow==2.10.0" in diff.stdout
    assert requirements.read_text() == REQUIREMENTS


def test_json_findings_carry_the_fix_only_for_one_target(cli, tmp_path):
    write(tmp_path / "requirements.txt", "tensorflow-gpu==2.10.0\n")
    (finding,) = scan_json(cli, "--target", "cpu")["findings"]
    assert finding["fix"] == {
        "safety": "unsafe",
        "description": "`tensorflow-gpu` → `tensorflow` on cpu",
        "edits": [{"line": 1, "column": 1, "end_line": 1, "end_column": 15, "replacement": "tensorflow"}],
        "requires": [],
    }
    (finding,) = scan_json(cli)["findings"]
    assert finding["fix"] is None


def test_crlf_bom_and_mode_are_kept(cli, tmp_path):
    data = b"\xef\xbb\xbf" + REQUIREMENTS.replace("\n", "\r\n").encode()
    requirements = write(tmp_path / "requirements.txt", data)
    os.chmod(requirements, 0o640)
    cli("fix", "--target", "rocm", "--unsafe-fixes")
    assert requirements.read_bytes() == b"\xef\xbb\xbf" + REQUIREMENTS_ROCM.replace("\n", "\r\n").encode()
    assert requirements.stat().st_mode & 0o777 == 0o640


def test_other_extras_stay_when_the_cuda_extra_goes():
    (finding,) = analyze("jax[cuda12,foo]==0.4.30\n", ("cpu",), "requirements.txt")
    assert [edit.replacement for edit in finding.fix.edits] == ["jax[foo]"]


@pytest.mark.parametrize(
    ("requirements", "target"),
    [
        # a direct wheel URL names one file: its ROCm or CPU twin is not known to exist
        ("torch @ https://download.pytorch.org/whl/cu121/torch-2.3.1%2Bcu121-cp311-cp311-linux_x86_64.whl", "rocm"),
        ("torch @ https://download.pytorch.org/whl/cu121/torch-2.3.1%2Bcu121-cp311-cp311-linux_x86_64.whl", "cpu"),
        # no pinned torch release, so no one ROCm index (the CPU index would do: one per channel)
        ("--index-url https://download.pytorch.org/whl/cu121\ntorch", "rocm"),
        # a `+cu121` build of a package the PyTorch release table does not vouch for
        ("mmcv==2.1.0+cu121", "cpu"),
        # a ROCm package is no drop-in for tensorflow-gpu
        ("tensorflow-gpu==2.10.0", "rocm"),
    ],
)
def test_what_is_not_mechanical_is_left_alone(requirements, target):
    found = analyze(requirements + "\n", (target,), "requirements.txt")
    assert found and not [f for f in found if f.fix]


@pytest.mark.parametrize("kind", TARGET_FIXED_KINDS, ids=lambda k: k.value)
def test_every_kind_the_text_fixer_edits_has_its_analyzers_parser(kind):
    parser(kind)  # KeyError: a kind the fixer would write without a parse check


def test_a_fix_that_would_break_the_file_is_not_written():
    code = '[project]\ndependencies = ["tensorflow-gpu"]\n'
    (finding,) = analyze(code, ("cpu",), "pyproject.toml")
    broken = Fix(Safety.UNSAFE, "break it", (Edit(Span(1, 1, 1, 2), "[["),))
    result = fix_text(code, [type(finding)(**{**finding.__dict__, "fix": broken})], FileKind.PYPROJECT)
    assert result.text == code and "would not parse as a pyproject file" in result.error


def test_lock_files_are_not_edited_and_say_why(cli, tmp_path):
    write(tmp_path / "uv.lock", 'version = 1\n\n[[package]]\nname = "tensorflow-gpu"\nversion = "2.10.0"\n')
    result = cli("fix", "--target", "cpu", "--unsafe-fixes")
    assert "lock files are not edited" in " ".join(result.output.split())


PIP_COMPILE = Path(sys.executable).with_name("pip-compile")
LOCAL_INDEX = Path("/opt/pypi/simple")


@pytest.mark.slow
@pytest.mark.skipif(
    not PIP_COMPILE.exists() or not (LOCAL_INDEX / "faiss-cpu").is_dir(),
    reason="needs pip-compile (the test extra) and this machine's local package index with faiss-cpu",
)
def test_pip_compile_resolves_the_cpu_fixed_requirements_offline(cli, tmp_path):
    source = write(tmp_path / "requirements.in", "# vector search\nfaiss-gpu  # the GPU index\n")
    assert cli("fix", "--target", "cpu", "--unsafe-fixes").exit_code == 0
    assert source.read_text() == "# vector search\nfaiss-cpu  # the GPU index\n"
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_EXTRA_INDEX_URL": ""}
    compiled = subprocess.run(
        [str(PIP_COMPILE), "--quiet", "--no-header", "--strip-extras", "--no-emit-index-url",
         "--index-url", LOCAL_INDEX.as_uri(), "--cache-dir", str(tmp_path / "cache"),
         "--output-file", "requirements.txt", "requirements.in"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert compiled.returncode == 0, compiled.stderr
    locked = (tmp_path / "requirements.txt").read_text()
    assert "faiss-cpu==" in locked and "faiss-gpu" not in locked
