"""Shell scripts and Makefile recipes through the real shell reader and the Dockerfile's command scan."""

from __future__ import annotations

from pathlib import PurePath

import pytest

from cudaudit.filekinds import FileKind, classify
from support import analyze

SERVE = """#!/usr/bin/env bash
set -euo pipefail
nvidia-smi --query-gpu=name --format=csv
export CUDA_VISIBLE_DEVICES=0,1
pip install torch==2.4.1 --index-url https://download.pytorch.org/whl/cu121
sudo modprobe nvidia
CMAKE_ARGS="-DGGML_CUDA=on" pip install llama-cpp-python
docker run --rm --gpus all -p 8000:8000 vllm/vllm-openai:v0.8.5 --model "$MODEL"
nsys profile -o report python serve.py
# nvidia-smi in a comment, and in a string:
echo "run nvidia-smi to see the GPUs"
"""


def rules_at(found):
    return [(f.rule, f.span.line) for f in found]


@pytest.mark.parametrize(
    ("name", "head", "kind"),
    [
        ("serve.sh", None, FileKind.SHELL),
        ("setup.bash", None, FileKind.SHELL),
        ("Makefile", None, FileKind.MAKEFILE),
        ("rules.mk", None, FileKind.MAKEFILE),
        ("launch", b"#!/bin/bash\n", FileKind.SHELL),
        ("launch", b"#!/usr/bin/env python3\n", FileKind.PYTHON),
    ],
)
def test_shell_and_make_files_are_recognised(name, head, kind):
    assert classify(PurePath(name), head) == (kind,)


def test_a_serving_script_reports_each_nvidia_step_on_its_line():
    found = analyze(SERVE, path="serve.sh")
    assert rules_at(found) == [
        ("CDA211", 3),
        ("CDA212", 4),
        ("CDA601", 5),
        ("CDA211", 6),
        ("CDA443", 7),
        ("CDA508", 8),
        ("CDA507", 8),  # the image `docker run` starts is vLLM's CUDA build
        ("CDA211", 9),
    ]
    modprobe = next(f for f in found if f.span.line == 6)
    assert "kernel driver" in modprobe.message
    assert SERVE.split("\n")[5][modprobe.span.column - 1 : modprobe.span.end_column - 1] == "modprobe nvidia"


def test_makefile_recipes_are_shell_and_the_rest_is_not():
    makefile = (
        "NVCC_NOTE = nvidia-smi is not run here\n"
        "CUDA_HOME ?= /usr/local/cuda\n"
        ".PHONY: bench\n"
        "bench: build\n"
        "\t@nvidia-smi -L\n"
        "\t-ncu --set full python bench.py \\\n"
        "\t    --steps 10\n"
        "\n"
        "\tdocker run --gpus=all bench:latest\n"
        "build:\n"
        "\tpip install -r requirements.txt\n"
    )
    found = analyze(makefile, path="Makefile")
    assert rules_at(found) == [("CDA211", 5), ("CDA211", 6), ("CDA508", 9)]
    assert [f.span.column for f in found] == [3, 3, 13]


def test_a_docker_option_value_is_not_taken_for_the_image():
    found = analyze("docker run -v /data:/data --name serve --gpus '\"device=0\"' tgi:latest\n", path="run.sh")
    assert [f.rule for f in found] == ["CDA508"]


@pytest.mark.parametrize(
    ("line", "image"),
    [
        ("docker run -d -p 8080:80 -v $PWD:/data ghcr.io/huggingface/text-generation-inference:3.3.5 --model-id m\n",
         "ghcr.io/huggingface/text-generation-inference:3.3.5"),
        ("podman container create --name llm -e HF_TOKEN=x vllm/vllm-openai:latest\n", "vllm/vllm-openai:latest"),
        ("docker run --rm -it nvcr.io/nvidia/tritonserver:24.05-py3 tritonserver\n", "nvcr.io/nvidia/tritonserver:24.05-py3"),
    ],
)
def test_the_image_docker_run_starts_is_read_as_a_from_line(line, image):
    found = analyze(line, path="run.sh")
    assert [line[f.span.column - 1 : f.span.end_column - 1] for f in found] == [image]
    assert found[0].rule in {"CDA503", "CDA507"}


@pytest.mark.parametrize(
    "line",
    [
        "docker run --rm ghcr.io/huggingface/text-generation-inference:3.3.5-rocm --model-id m\n",
        "docker run --rm \"$IMAGE\" python serve.py\n",  # chosen at run time
        "docker pull vllm/vllm-openai:latest && docker images\n",  # pulled, not run
        "docker run --rm -v /models:/models myorg/vllm-openai:latest\n",  # no image table names it
    ],
)
def test_other_docker_commands_and_portable_images_are_silent(line):
    assert analyze(line, path="run.sh") == []


def test_a_portable_script_is_silent():
    script = (
        "#!/bin/sh\n"
        "amd-smi static\n"
        "export HIP_VISIBLE_DEVICES=0\n"
        "pip install torch --index-url https://download.pytorch.org/whl/rocm6.2\n"
        "docker run --device /dev/kfd --device /dev/dri rocm/vllm:latest\n"
    )
    assert analyze(script, path="run.sh") == []


def test_dockerfile_env_with_a_ggml_cuda_switch():
    found = analyze('FROM ubuntu:22.04\nENV CMAKE_ARGS="-DGGML_CUDA=on"\nRUN pip install llama-cpp-python\n', path="Dockerfile")
    assert [f.rule for f in found] == ["CDA443"]


@pytest.mark.parametrize(
    ("script", "path"),
    [
        ("#!/bin/sh\nexport CUDA_HOME=/usr/local/cuda\n", "env.sh"),
        ("#!/bin/sh\nCUDA_HOME=/usr/local/cuda python setup.py build\n", "build.sh"),
        ("FROM ubuntu:22.04\nENV CUDA_HOME=/usr/local/cuda\n", "Dockerfile"),
    ],
)
def test_a_known_variable_carries_the_verdict_on_the_path_it_is_set_to(script, path):
    """One finding for `CUDA_HOME=/usr/local/cuda`, the variable's, in a script as in a Dockerfile's `ENV`:
    what the path means depends on who reads the variable."""
    assert [f.rule for f in analyze(script, path=path)] == ["CDA212"]
