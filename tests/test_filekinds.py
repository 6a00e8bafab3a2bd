"""File kinds from names: what each analyzer gets to read."""

from __future__ import annotations

from pathlib import PurePath

import pytest

from cudaudit.filekinds import FileKind, classify, is_benchmark_path, is_test_path

K = FileKind


@pytest.mark.parametrize(
    ("path", "kinds"),
    [
        ("train.py", (K.PYTHON,)),
        ("setup.py", (K.PYTHON, K.SETUP)),
        ("setup.cfg", (K.SETUP,)),
        ("csrc/attn.cu", (K.CUDA,)),
        ("csrc/attn.cuh", (K.CUDA,)),
        ("csrc/ops.cpp", (K.CUDA,)),
        ("Dockerfile", (K.DOCKERFILE,)),
        ("docker/Dockerfile.rocm", (K.DOCKERFILE,)),
        ("serve.Dockerfile", (K.DOCKERFILE,)),
        ("Containerfile", (K.DOCKERFILE,)),
        ("Dockerfile_amd", (K.DOCKERFILE,)),
        ("Dockerfile-cuda", (K.DOCKERFILE,)),
        ("Dockerfile.md", ()),
        ("docs/dockerfile_build_guidance.rst", ()),
        ("Dockerfile-guide.mdx", ()),
        ("Dockerfile.dockerignore", ()),
        ("requirements.txt", (K.REQUIREMENTS,)),
        ("requirements-dev.in", (K.REQUIREMENTS,)),
        ("requirements/gpu.txt", (K.REQUIREMENTS,)),
        ("requirement.txt", (K.REQUIREMENTS,)),
        ("requirments_cpu_py312.txt", (K.REQUIREMENTS,)),
        ("notes.txt", ()),
        ("constraints.txt", (K.REQUIREMENTS,)),
        ("pyproject.toml", (K.PYPROJECT,)),
        ("uv.lock", (K.LOCKFILE,)),
        ("poetry.lock", (K.LOCKFILE,)),
        ("Pipfile", (K.LOCKFILE,)),
        ("pylock.toml", (K.LOCKFILE,)),
        ("environment.yml", (K.CONDA,)),
        ("environment-gpu.yaml", (K.CONDA,)),
        ("docker-compose.yml", (K.COMPOSE,)),
        ("compose.prod.yaml", (K.COMPOSE,)),
        (".github/workflows/ci.yml", (K.WORKFLOW,)),
        ("deploy/k8s/deployment.yaml", (K.MANIFEST,)),
        ("CMakeLists.txt", (K.CMAKE,)),
        ("cmake/cuda.cmake", (K.CMAKE,)),
        ("README.md", ()),
        ("notes.txt", ()),
        ("model.pt", ()),
    ],
)
def test_classify(path, kinds):
    assert classify(PurePath(path)) == kinds


def test_extensionless_script_needs_its_shebang():
    assert classify(PurePath("launch"), b"#!/usr/bin/env python3\n") == (K.PYTHON,)
    assert classify(PurePath("launch"), b"#!/bin/bash\n") == (K.SHELL,)
    assert classify(PurePath("launch"), b"#!/usr/bin/perl\n") == ()


@pytest.mark.parametrize(
    ("path", "test"),
    [
        ("tests/unit/checkpoint/common.py", True),
        ("pkg/test_io.py", True),
        ("src/io_test.py", True),
        ("conftest.py", True),
        ("src/pkg/testing.py", False),
        ("scripts/latest_checkpoint.py", False),
        ("contest/train.py", False),
        ("requirements_test.txt", True),
        ("tests/configs/default.yaml", True),
        ("projects/retrieval/coco_test.yaml", False),  # a run configuration named for the split it evaluates
        ("configs/test_split.json", False),
    ],
)
def test_test_modules_are_told_by_folder_or_name(path, test):
    assert is_test_path(path) is test


@pytest.mark.parametrize(
    ("path", "benchmark"),
    [
        ("benchmarks/prototype/run_moe.py", True),
        ("scripts/bench_attention.py", True),
        ("benchmark_hqq.py", True),
        ("pkg/benchmarking.py", True),
        ("pkg/bench.py", True),
        ("pkg/workbench.py", False),
        ("src/pkg/benches_helpers/io.py", False),
    ],
)
def test_benchmarks_are_told_by_folder_or_name(path, benchmark):
    assert is_benchmark_path(path) is benchmark
