"""NVIDIA-only settings that decide nothing off NVIDIA: an architecture list in a stage whose CUDA
base is the lock-in, `NVIDIA_VISIBLE_DEVICES=all` in a compose file, a variable read only to be shown."""

from __future__ import annotations

import pytest

from cudaudit.model import Severity
from support import analyze


def _severities(code: str, path: str, rule: str) -> dict[int, Severity]:
    return {f.span.line: f.severity for f in analyze(code, path=path) if f.rule == rule}


def test_an_architecture_list_in_a_cuda_stage_follows_from_the_base():
    dockerfile = (
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n"
        "ARG TORCH_CUDA_ARCH_LIST=\"8.0;9.0\"\n"
        "ENV TORCH_CUDA_ARCH_LIST=\"${TORCH_CUDA_ARCH_LIST}\"\n"
        "FROM rocm/pytorch:latest\n"
        "ENV TORCH_CUDA_ARCH_LIST=\"8.0\"\n"
    )
    findings = [f for f in analyze(dockerfile, path="Dockerfile") if f.rule == "CDA212"]
    assert {f.span.line: f.severity for f in findings} == {2: Severity.NOTE, 3: Severity.NOTE, 5: Severity.WARNING}
    assert "line 1" in findings[0].targets["rocm"].replacement


@pytest.mark.parametrize(
    ("environment", "severity"),
    [
        ("      - NVIDIA_VISIBLE_DEVICES=all\n", Severity.NOTE),
        ("      NVIDIA_VISIBLE_DEVICES: all\n", Severity.NOTE),
        ("      - NVIDIA_VISIBLE_DEVICES=${GPUS:-all}\n", Severity.NOTE),
        ("      - NVIDIA_VISIBLE_DEVICES=1\n", Severity.WARNING),
        ("      NVIDIA_VISIBLE_DEVICES: \"0,1\"\n", Severity.WARNING),
        ("      - NVIDIA_VISIBLE_DEVICES\n", Severity.WARNING),
    ],
)
def test_compose_visible_devices_all_pins_nothing(environment, severity):
    compose = "services:\n  dev:\n    image: acme/dev\n    environment:\n" + environment
    assert _severities(compose, "docker-compose.yml", "CDA521") == {5: severity}


@pytest.mark.parametrize(
    ("body", "severity"),
    [
        ("rows.append(('arch list', os.environ.get('TORCH_CUDA_ARCH_LIST')))\n", Severity.NOTE),
        ("arch = os.getenv('TORCH_CUDA_ARCH_LIST')\nif arch:\n    rows.append(('arch list', arch))\n", Severity.NOTE),
        ("arch = os.getenv('TORCH_CUDA_ARCH_LIST')\nif arch is not None:\n    print(f'archs: {arch}')\n", Severity.NOTE),
        ("print(os.environ['TORCH_CUDA_ARCH_LIST'])\n", Severity.NOTE),
        # Read to choose what is built, or tested for more than showing it: it decides something.
        ("arch = os.getenv('TORCH_CUDA_ARCH_LIST')\nif arch:\n    build(arch)\n", Severity.WARNING),
        ("arch = os.getenv('TORCH_CUDA_ARCH_LIST')\nif arch:\n    print(arch)\nelse:\n    build()\n", Severity.WARNING),
        ("flags = os.environ['TORCH_CUDA_ARCH_LIST'].split(';')\n", Severity.WARNING),
    ],
)
def test_a_variable_read_only_to_be_shown_decides_nothing(body, severity):
    code = "import os\nrows = []\n" + body
    assert set(_severities(code, "tools/report.py", "CDA212").values()) == {severity}
