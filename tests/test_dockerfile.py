"""Dockerfiles beyond the rule examples: stages and ARGs, positions, reused facts, precision."""

from __future__ import annotations

import pytest

from cudaudit.model import Span, Status
from cudaudit.rules.catalog import load_catalog
from cudaudit.rules.containers.shell import split_commands
from support import analyze

CATALOG = load_catalog()


def found(dockerfile: str, path: str = "Dockerfile") -> list[tuple[str, int, int, str]]:
    """(rule, line, column, flagged text) of each finding."""
    lines = dockerfile.split("\n")
    result = []
    for f in analyze(dockerfile, path=path):
        text = lines[f.span.line - 1][f.span.column - 1 : f.span.end_column - 1] if f.span.line == f.span.end_line else "…"
        result.append((f.rule, f.span.line, f.span.column, text))
    return result


def one(dockerfile: str, rule: str):
    [finding] = [f for f in analyze(dockerfile, path="Dockerfile") if f.rule == rule]
    return finding


# -- FROM: images, stages, ARGs -------------------------------------------------------------


def test_an_image_built_from_arg_defaults_is_resolved_and_reported_at_its_from_line():
    dockerfile = (
        "ARG CUDA_VERSION=12.4.1\n"
        "ARG UBUNTU=24.04\n"
        "FROM nvidia/cuda:${CUDA_VERSION}-cudnn-devel-ubuntu${UBUNTU} AS build\n"
    )
    finding = one(dockerfile, "CDA501")
    assert finding.span == Span(3, 6, 3, 61)
    assert "`nvidia/cuda:12.4.1-cudnn-devel-ubuntu24.04`" in finding.message
    assert finding.targets["rocm"].replacement.startswith("`rocm/dev-ubuntu-24.04:7.0-complete`")
    assert finding.targets["cpu"].replacement.startswith("`ubuntu:24.04`")


def test_an_arg_default_that_names_another_arg_is_expanded_as_docker_does():
    dockerfile = "ARG CUDA=12.1.1\nARG BASE=nvidia/cuda:${CUDA}-runtime-ubuntu22.04\nFROM $BASE\n"
    finding = one(dockerfile, "CDA501")
    assert "`nvidia/cuda:12.1.1-runtime-ubuntu22.04`" in finding.message
    assert "rocm/dev-ubuntu-22.04" in finding.targets["rocm"].replacement


def test_a_base_image_chosen_by_whether_an_arg_has_a_value_is_the_one_its_default_chooses():
    """`${CUDA:+nvidia/cuda:${CUDA}-...}` then `${BASE:-ubuntu:...}`: Docker expands each default where
    the ARG is declared, the second reading the first; with `CUDA` set the image is CUDA's, without it
    the plain distribution's."""
    dockerfile = (
        "ARG CUDA=12.4.1\nARG UBUNTU=22.04\n"
        'ARG BASE=${CUDA:+"nvidia/cuda:${CUDA}-cudnn-devel-ubuntu${UBUNTU}"}\n'
        'ARG BASE=${BASE:-"ubuntu:${UBUNTU}"}\n'
        "FROM ${BASE} AS build\n"
    )
    finding = one(dockerfile, "CDA501")
    assert "`nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04`" in finding.message and finding.span.line == 5
    assert [f for f in analyze(dockerfile.replace("CUDA=12.4.1", "CUDA="), path="Dockerfile") if f.rule == "CDA501"] == []


def test_each_stage_of_a_multi_stage_build_gets_its_own_replacement_and_stage_names_are_not_images():
    dockerfile = (
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04 AS builder\n"
        "RUN make\n"
        "FROM nvidia/cuda:11.8.0-runtime-ubuntu20.04\n"
        "COPY --from=builder /src/app /app\n"
        "FROM builder AS test\n"
        "FROM scratch\n"
    )
    findings = [f for f in analyze(dockerfile, path="Dockerfile") if f.rule == "CDA501"]
    assert [f.span.line for f in findings] == [1, 3]
    assert "rocm/dev-ubuntu-22.04:7.0-complete" in findings[0].targets["rocm"].replacement
    assert "OS moves up from 20.04" in findings[1].targets["rocm"].replacement
    assert findings[1].targets["cpu"].replacement.startswith("`ubuntu:20.04`")


def test_an_unresolved_tag_still_names_a_cuda_repository():
    finding = one("FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu22.04\n", "CDA501")
    assert "${CUDA_VERSION}" in finding.message
    assert finding.targets == CATALOG.lookup("container-image", "nvidia/cuda").targets


def test_copy_from_an_image_is_an_image_and_platform_flags_are_skipped():
    dockerfile = (
        "FROM --platform=$BUILDPLATFORM python:3.12-slim\n"
        "COPY --from=nvidia/cuda:12.4.1-runtime-ubuntu22.04 /usr/local/cuda/lib64 /opt/lib\n"
    )
    assert found(dockerfile) == [
        ("CDA501", 2, 13, "nvidia/cuda:12.4.1-runtime-ubuntu22.04"),
        ("CDA505", 2, 52, "/usr/local/cuda"),
    ]


def test_pytorch_images_keep_their_pytorch_release_in_the_replacement():
    finding = one("FROM pytorch/pytorch:2.3.1-cuda12.1-cudnn8-devel\n", "CDA502")
    assert "2.3.1" in finding.targets["rocm"].replacement
    assert "torch==2.3.1 --index-url https://download.pytorch.org/whl/cpu" in finding.targets["cpu"].replacement
    assert finding.message == "`pytorch/pytorch:2.3.1-cuda12.1-cudnn8-devel` is PyTorch 2.3.1's CUDA image"


@pytest.mark.parametrize(
    ("image", "rule"),
    [
        ("docker.io/library/ubuntu:22.04", None),
        ("rocm/pytorch:rocm7.0_ubuntu24.04_py3.12_pytorch_release_2.8.0", None),
        ("tensorflow/tensorflow:latest", None),
        ("tensorflow/tensorflow:latest-gpu-jupyter", "CDA502"),
        ("ghcr.io/pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime", "CDA502"),
        ("nvcr.io/nvidia/cuda:12.6.3-devel-rockylinux9", "CDA501"),
        ("nvcr.io/nvidia/nemo:24.07", "CDA503"),
        ("myorg/trainer:cuda12", None),
    ],
)
def test_which_images_are_cuda_images(image, rule):
    assert [f.rule for f in analyze(f"FROM {image}\n", path="Dockerfile")] == ([rule] if rule else [])


def test_tensorflow_gpu_tags_map_to_the_cpu_tag_of_the_same_release():
    finding = one("FROM tensorflow/tensorflow:latest-gpu-jupyter\n", "CDA502")
    assert finding.targets["cpu"].replacement.startswith("`tensorflow/tensorflow:latest-jupyter`")


def test_every_image_key_has_facts_and_every_placeholder_is_filled_by_its_patterns():
    from cudaudit.rules.containers.images import image_patterns, placeholders

    for pattern in image_patterns():
        entry = CATALOG.lookup("container-image", pattern.key)
        assert entry is not None, pattern.key
        wanted = set().union(*(placeholders(fact.replacement) for fact in entry.targets.values()))
        wanted |= placeholders(entry.message) - {"text", "match"}
        assert wanted <= set(pattern.tag.groupindex), (pattern.key, wanted)


# -- ENV and ARG ----------------------------------------------------------------------------


def test_environment_variables_reuse_the_python_analyzers_facts():
    dockerfile = (
        "FROM ubuntu:22.04\nENV TORCH_CUDA_ARCH_LIST=\"8.0;9.0\" CUDA_HOME=/usr/local/cuda\nENV NVIDIA_VISIBLE_DEVICES all\n"
        "RUN pip install -e .\n"  # a build that reads the toolkit's location
    )
    findings = analyze(dockerfile, path="Dockerfile")
    assert [(f.rule, f.span.line, f.span.column) for f in findings] == [
        ("CDA212", 2, 5),
        ("CDA212", 2, 36),
        ("CDA212", 3, 5),
    ]
    settings = [("TORCH_CUDA_ARCH_LIST", "8.0;9.0"), ("CUDA_HOME", "/usr/local/cuda"), ("NVIDIA_VISIBLE_DEVICES", "all")]
    for finding, (name, value) in zip(findings, settings):
        assert finding.targets == CATALOG.lookup_setting("env-var", name, value).targets
    # setting the toolkit's location breaks nothing on a CPU host, where reading it does
    assert findings[1].targets["cpu"].status is Status.WORKS
    assert CATALOG.lookup("env-var", "CUDA_HOME").targets["cpu"].status is not Status.WORKS
    # CUDA_HOME's value is the variable's business, not a second finding for the path


def test_arg_of_an_nvidia_runtime_variable_and_toolkit_paths_in_values():
    dockerfile = (
        "FROM ubuntu:22.04\n"
        "ARG NVIDIA_DRIVER_CAPABILITIES=compute,utility\n"
        "ENV PATH=/usr/local/nvidia/bin:/usr/local/cuda-12.4/bin:$PATH \\\n"
        "    LD_LIBRARY_PATH=/usr/local/cuda/lib64\n"
    )
    assert found(dockerfile) == [
        ("CDA504", 2, 5, "NVIDIA_DRIVER_CAPABILITIES"),
        ("CDA505", 3, 10, "/usr/local/nvidia"),
        ("CDA505", 3, 32, "/usr/local/cuda-12.4"),
        ("CDA505", 4, 21, "/usr/local/cuda"),
    ]


# -- RUN: positions ----------------------------------------------------------------------------


def test_a_package_on_a_continuation_line_is_reported_at_its_own_line_and_column():
    dockerfile = (
        "FROM ubuntu:22.04\n"
        "RUN apt-get update && \\\n"
        "    # the CUDA toolkit for the extension build\n"
        "    apt-get install -y --no-install-recommends \\\n"
        "        build-essential \\\n"
        "        cuda-nvcc-12-4=12.4.131-1 \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
    )
    assert found(dockerfile) == [("CDA506", 6, 9, "cuda-nvcc-12-4")]


def test_heredoc_scripts_are_read_line_by_line_and_other_heredocs_are_not_scripts():
    dockerfile = (
        "# syntax=docker/dockerfile:1\n"
        "FROM ubuntu:22.04\n"
        "RUN <<EOF\n"
        "set -e\n"
        "apt-get install -y libcudnn9-cuda-12\n"
        "nvidia-smi\n"
        "EOF\n"
        "RUN python3 <<PY\n"
        "import subprocess; subprocess.run(['nvidia-smi'])\n"
        "PY\n"
        "COPY <<NOTES /notes.txt\n"
        "apt-get install cuda-toolkit\n"
        "NOTES\n"
    )
    assert found(dockerfile) == [("CDA506", 5, 20, "libcudnn9-cuda-12"), ("CDA211", 6, 1, "nvidia-smi")]


def test_nested_shell_scripts_exec_form_and_healthchecks():
    dockerfile = (
        "FROM ubuntu:22.04\n"
        "RUN bash -c \"apt-get install -y cuda-toolkit-12-4\"\n"
        "HEALTHCHECK --interval=30s CMD nvidia-smi || exit 1\n"
        'CMD ["nvidia-smi", "-L"]\n'
    )
    assert found(dockerfile) == [
        ("CDA506", 2, 33, "cuda-toolkit-12-4"),
        ("CDA211", 3, 32, "nvidia-smi"),
        ("CDA211", 4, 7, "nvidia-smi"),
    ]


# -- RUN: pip, uv, conda through the shared dependency rules ---------------------------------------


def test_pip_install_reports_what_a_requirements_file_with_the_same_lines_reports():
    dockerfile = (
        "FROM python:3.11-slim\n"
        "RUN pip install --no-cache-dir torch==2.3.1+cu121 cupy-cuda12x \\\n"
        "      --extra-index-url https://download.pytorch.org/whl/cu121\n"
    )
    requirements = "torch==2.3.1+cu121\ncupy-cuda12x\n--extra-index-url https://download.pytorch.org/whl/cu121\n"
    in_image = analyze(dockerfile, path="Dockerfile")
    in_file = analyze(requirements, path="requirements.txt")
    assert [(f.rule, f.message, f.targets) for f in in_image] == [(f.rule, f.message, f.targets) for f in in_file]
    assert [(f.span.line, f.span.column) for f in in_image] == [(2, 44), (2, 51), (3, 25)]
    index = in_image[-1]
    assert "rocm6.0" in index.targets["rocm"].replacement  # the ROCm index of the torch release pinned


@pytest.mark.parametrize(
    "run",
    [
        "python3 -m pip install -U flash-attn",
        "uv pip install --system flash-attn",
        "uv add flash-attn",
        "conda run -n base pip install flash-attn",
        "sudo -H pip3 install flash-attn",
        "PIP_NO_CACHE_DIR=1 /opt/conda/bin/pip install 'flash-attn>=2.5'",
    ],
)
def test_every_way_of_calling_pip_reaches_the_requirement_rules(run):
    [finding] = analyze(f"FROM python:3.11\nRUN {run}\n", path="Dockerfile")
    assert finding.rule == "CDA604"
    assert "flash-attn" in finding.message


def test_an_index_url_from_an_arg_is_expanded_and_reported_at_the_reference():
    dockerfile = (
        "FROM python:3.11\n"
        "ARG TORCH_INDEX=https://download.pytorch.org/whl/cu118\n"
        "RUN pip install torch --index-url=${TORCH_INDEX}\n"
    )
    assert found(dockerfile) == [("CDA601", 3, 35, "${TORCH_INDEX}")]


def test_a_wheel_named_in_a_variable_of_the_script_is_reported_where_pip_installs_it():
    """`FILE="...+cu12...whl" && wget "$URL" && pip install "$FILE"`: the script's own one-word
    assignments are expanded like ARGs, a part a command prints (`${ABI}`) is any word, and the name
    and the CUDA build of one reference are one site with the worse verdict of the two."""
    dockerfile = (
        "FROM python:3.11\n"
        'RUN ABI=$(python -c "print(1)") && \\\n'
        '    FILE="fused_attn_kernels-1.0+cu12torch2.7abi${ABI}-cp311-cp311-linux_x86_64.whl" && \\\n'
        '    wget -q "https://example.org/dl/${FILE}" && \\\n'
        '    pip install --no-cache-dir "${FILE}"\n'
    )
    [finding] = analyze(dockerfile, path="Dockerfile")
    assert (finding.rule, finding.span.line, finding.span.column) == ("CDA602", 5, 33)
    assert finding.targets["rocm"].severity.value == "error"


def test_only_one_word_assignments_of_a_script_are_expanded_after_them():
    """A list of options is read where it is written, not again where it is expanded; a prefix
    assignment holds for its one command."""
    script = 'A=1 && OPTS="--backend nccl" && B=$(date) && C=2 run $A $OPTS $B $C && echo $C'
    assert [[w.text for w in command] for command in split_commands(script)] == [
        ["A=1"], ["OPTS=--backend nccl"], ["B=$(date)"], ["C=2", "run", "1", "$OPTS", "$B", "$C"], ["echo", "$C"],
    ]
    branches = "T=a && if x; then T=b; fi && echo $T && for v in 1; do U=c; done; echo $U; W=d; echo $W"
    read = [[w.text for w in command] for command in split_commands(branches)]
    assert ["echo", "$T"] in read and ["echo", "$U"] in read and read[-1] == ["echo", "d"]


def test_conda_installs_use_the_conda_rules():
    dockerfile = "FROM continuumio/miniconda3\nRUN conda install -y -c nvidia pytorch pytorch-cuda=12.1\n"
    assert found(dockerfile) == [("CDA607", 2, 25, "nvidia"), ("CDA605", 2, 40, "pytorch-cuda")]


# -- precision -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dockerfile",
    [
        "# FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\nFROM ubuntu:22.04\n",
        'FROM ubuntu:22.04\nLABEL org.opencontainers.image.description="CPU port of our nvidia/cuda image"\n',
        'FROM ubuntu:22.04\nRUN echo "pip install cupy-cuda12x && apt-get install cuda-toolkit" > /notes\n',
        "FROM ubuntu:22.04\nRUN apt-get install -y libcurl4-openssl-dev nvtop-docs || true\n",
        'FROM ubuntu:22.04\nRUN echo "write <<EOF heredocs with BuildKit" && echo done\n',
        "FROM ubuntu:22.04\nENV MY_CUDA_HOME_BACKUP=/opt/none\nRUN pip uninstall -y cupy-cuda12x\n",
    ],
)
def test_comments_prose_and_look_alikes_are_not_findings(dockerfile):
    assert analyze(dockerfile, path="Dockerfile") == []


def test_escape_directive_and_crlf_line_endings():
    dockerfile = "# escape=`\r\nFROM ubuntu:22.04\r\nRUN apt-get install -y `\r\n    libnccl2\r\n"
    assert found(dockerfile.replace("\r\n", "\n")) == [("CDA506", 4, 5, "libnccl2")]
    [finding] = analyze(dockerfile, path="Dockerfile")
    assert (finding.span.line, finding.span.column) == (4, 5)


def test_columns_count_characters():
    [finding] = analyze('FROM ubuntu:22.04\nRUN echo "żółć" && apt-get install -y libnccl2\n', path="Dockerfile")
    assert (finding.span.line, finding.span.column) == (2, 39)
