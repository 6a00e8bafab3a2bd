"""Serving engines and quantization toolkits: requirements, images and CI containers, through the real analyzers."""

from __future__ import annotations

import pytest

from support import analyze


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("vllm==0.8.5", "vLLM"),
        ("sglang[all]==0.4.6", "SGLang"),
        ("auto-gptq==0.7.1", "AutoGPTQ"),
        ("autoawq==0.2.8", "AutoAWQ"),
        ("mlc-llm-nightly-cu122", "MLC LLM"),
        ("tensorrt-llm==0.19.0", "TensorRT-LLM"),
    ],
)
def test_engine_and_toolkit_requirements_are_cuda_builds(line, message):
    found = analyze(line + "\n", path="requirements.txt")
    assert [f.rule for f in found] == ["CDA604"]
    assert message in found[0].message


@pytest.mark.parametrize("line", ["gptqmodel==2.0", "llama-cpp-python==0.3.9", "mlc-llm-nightly-cpu", "onnxruntime==1.20"])
def test_portable_engines_and_toolkits_are_not_reported(line):
    assert analyze(line + "\n", path="requirements.txt") == []


def test_cuda_wheel_index_of_llama_cpp_python():
    found = analyze("--extra-index-url https://abetlen.github.io/llama-cpp-python/whl/cu121\nllama-cpp-python\n", path="requirements.txt")
    assert [f.rule for f in found] == ["CDA601"]
    assert analyze("--extra-index-url https://abetlen.github.io/llama-cpp-python/whl/cpu\nllama-cpp-python\n", path="requirements.txt") == []


def test_tgi_image_replacement_keeps_the_release():
    (found,) = analyze("FROM ghcr.io/huggingface/text-generation-inference:2.4.1\n", path="Dockerfile")
    assert found.rule == "CDA507"
    assert "2.4.1-rocm" in found.targets["rocm"].replacement


def test_ollama_default_image_is_a_rocm_warning_and_works_on_cpu():
    (found,) = analyze("FROM ollama/ollama\n", path="Dockerfile")
    assert found.severity.value == "warning"
    assert found.targets["cpu"].status.value == "works"


WORKFLOW = """on: push
jobs:
  test:
    runs-on: ubuntu-latest
    services:
      llm:
        image: {image}
    steps:
      - run: pytest
"""


def test_a_ci_service_on_ollamas_default_image_is_no_cuda_container():
    found = analyze(WORKFLOW.format(image="ollama/ollama:0.6.8"), path=".github/workflows/ci.yml")
    assert "CDA701" not in {f.rule for f in found}


def test_a_ci_service_on_vllms_image_is_a_cuda_container():
    found = analyze(WORKFLOW.format(image="vllm/vllm-openai:v0.8.5"), path=".github/workflows/ci.yml")
    assert "CDA701" in {f.rule for f in found}


def test_exllamav2_works_on_rocm_and_has_no_cpu_path():
    (found,) = analyze("from exllamav2 import ExLlamaV2\n", path="model.py")
    assert found.rule == "CDA217"
    assert (found.targets["rocm"].status.value, found.targets["rocm"].severity.value) == ("works", "note")
    assert found.targets["cpu"].status.value == "blocked"
