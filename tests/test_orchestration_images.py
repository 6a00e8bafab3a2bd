"""Images in compose files and Kubernetes manifests, matched with the Dockerfile's image tables."""

from __future__ import annotations

from support import analyze


def images(text: str, path: str) -> list[tuple[str, int, str]]:
    return [(f.rule, f.span.line, f.message.split("`")[1]) for f in analyze(text, path=path)]


def test_compose_services_on_serving_engines_cuda_images():
    compose = (
        "services:\n"
        "  llm:\n    image: vllm/vllm-openai:v0.8.5\n"
        "  tgi:\n    image: ghcr.io/huggingface/text-generation-inference:3.3.5-rocm\n"
        "  ollama:\n    image: ollama/ollama:rocm\n"
        "  web:\n    image: python:3.12-slim\n"
        "  base:\n    image: ${BASE_IMAGE:-nvidia/cuda:12.4.1-runtime-ubuntu22.04}\n"
    )
    assert images(compose, "compose.yaml") == [
        ("CDA507", 3, "vllm/vllm-openai:v0.8.5"),
        ("CDA501", 11, "${BASE_IMAGE:-nvidia/cuda:12.4.1-runtime-ubuntu22.04}"),
    ]


def test_manifest_images_keep_the_tag_in_the_replacement_and_gpu_stack_images_stay_theirs():
    manifest = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: tgi}\nspec:\n  template:\n    spec:\n"
        "      containers:\n"
        "        - name: tgi\n          image: ghcr.io/huggingface/text-generation-inference:3.3.5\n"
        "        - name: plugin\n          image: nvcr.io/nvidia/k8s-device-plugin:v0.17.0\n"
    )
    found = analyze(manifest, path="deploy.yaml")
    assert [(f.rule, f.span.line) for f in found] == [("CDA507", 9), ("CDA534", 11)]
    assert "text-generation-inference:3.3.5-rocm" in found[0].targets["rocm"].replacement


def test_helm_values_name_the_image_by_repository_and_tag():
    values = "image:\n  repository: ghcr.io/huggingface/text-generation-inference\n  tag: 3.3.5\n"
    [finding] = analyze(values, path="values.yaml")
    assert finding.rule == "CDA507" and "3.3.5-rocm" in finding.targets["rocm"].replacement
    assert analyze(values.replace("3.3.5", "3.3.5-rocm"), path="values.yaml") == []


def test_helm_values_naming_an_image_by_repository_and_tag_alone():
    values = (
        "servingEngineSpec:\n  modelSpec:\n"
        '  - name: llama3\n    repository: "vllm/vllm-openai"\n    tag: "latest"\n'
        "chart:\n  repository: https://charts.example.com\n  tag: 1.0\n"
    )
    assert [(f.rule, f.span.line) for f in analyze(values, path="values.yaml")] == [("CDA507", 4)]


def test_a_helm_unittest_suite_deploys_nothing():
    suite = (
        "suite: test autoscaling\ntemplates: [deployment.yaml]\ntests:\n"
        "  - it: renders\n    set:\n      modelSpec:\n"
        '        - repository: "vllm/vllm-openai"\n          tag: "latest"\n          runtimeClassName: nvidia\n'
    )
    assert analyze(suite, path="helm/tests/keda_test.yaml") == []


def test_an_image_pulled_through_a_mirror_or_private_registry_is_the_image_its_path_names():
    compose = (
        "services:\n"
        "  llm:\n    image: docker.m.daocloud.io/vllm/vllm-openai:v0.8.5\n"
        "  rocm:\n    image: docker.1ms.run/rocm/pytorch:latest\n"
        "  own:\n    image: registry.internal:5000/team/vllm-openai:v1\n"
        "  hub:\n    image: localhost/nvidia/cuda:12.4.1-runtime-ubuntu22.04\n"
    )
    assert images(compose, "compose.yaml") == [
        ("CDA507", 3, "docker.m.daocloud.io/vllm/vllm-openai:v0.8.5"),
        ("CDA501", 9, "localhost/nvidia/cuda:12.4.1-runtime-ubuntu22.04"),
    ]


def test_a_build_matrix_naming_base_images_reports_the_cuda_ones_at_most_as_warnings():
    """`BASE_IMAGE: nvidia/cuda:...` in the values an image build reads: the build's input, a warning at
    most; a plain distribution's image is none; a ROCm image under such a key makes them ROCm notes."""
    matrix = (
        "- BASE_IMAGE: nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04\n  TAG: gpu\n"
        "- BASE_IMAGE: ubuntu:22.04\n  TAG: cpu\n"
    )
    (finding,) = analyze(matrix, path="docker/matrix.yaml")
    assert (finding.rule, finding.span.line, finding.severity.value) == ("CDA501", 1, "warning")
    assert finding.targets["rocm"].severity.value == "warning"
    with_rocm = matrix + "- BASE_IMAGE: rocm/dev-ubuntu-22.04:6.4-complete\n  TAG: rocm\n"
    assert [f.targets["rocm"].severity.value for f in analyze(with_rocm, path="docker/matrix.yaml")] == ["note"]
