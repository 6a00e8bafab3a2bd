"""docker compose, Kubernetes manifests and Helm values, through the real YAML parser and CLI."""

from __future__ import annotations

import time
from pathlib import PurePath

from hypothesis import given, settings
from hypothesis import strategies as st

from cudaudit.engine import FileTask, analyze_bytes
from cudaudit.filekinds import classify
from cudaudit.rules.catalog import load_catalog
from cudaudit.settings import AnalysisSettings
from support import analyze, scan_json, write

COMPOSE = "docker-compose.yml"
MANIFEST = "deploy/k8s/train.yaml"
WORKFLOW = ".github/workflows/ci.yml"


def sites(code: str, path: str) -> list[tuple[str, int, int, int]]:
    return [(f.rule, f.span.line, f.span.column, f.span.end_column) for f in analyze(code, path=path)]


def test_compose_reservation_points_at_the_driver_and_an_anchor_is_reported_once():
    code = """\
x-gpu: &gpu
  deploy:
    resources:
      reservations:
        devices:
          - driver: nvidia
            count: all
            capabilities: [gpu]
services:
  trainer:
    <<: *gpu
    image: acme/trainer
  evaluator:
    <<: *gpu
    image: acme/evaluator
"""
    assert sites(code, COMPOSE) == [("CDA520", 6, 13, 27)]


def test_compose_each_way_to_nvidia_gpus_at_its_own_line():
    code = """\
services:
  a:
    image: acme/a
    runtime: nvidia
    gpus: all
    environment:
      - NVIDIA_VISIBLE_DEVICES=all
    devices:
      - source: /dev/nvidiactl
        target: /dev/nvidiactl
  b:
    image: acme/b
    environment:
      NVIDIA_DRIVER_CAPABILITIES: compute,utility
    deploy:
      resources:
        reservations:
          devices:
            - capabilities: [utility, gpu]
"""
    assert sites(code, COMPOSE) == [
        ("CDA520", 4, 5, 20),
        ("CDA520", 5, 5, 14),
        ("CDA521", 7, 9, 35),
        ("CDA520", 9, 9, 31),
        ("CDA521", 14, 7, 33),
        ("CDA520", 19, 39, 42),
    ]


def test_compose_interpolated_driver_is_read_as_its_default():
    code = "services:\n  s:\n    deploy:\n      resources:\n        reservations:\n          devices:\n"
    nvidia = code + "            - driver: ${GPU_DRIVER:-nvidia}\n              capabilities: [gpu]\n"
    amd = code + "            - driver: ${GPU_DRIVER:-amd}\n              capabilities: [gpu]\n"
    assert [f.rule for f in analyze(nvidia, path=COMPOSE)] == ["CDA520"]
    assert analyze(amd, path=COMPOSE) == []


def test_compose_rocm_service_and_unrelated_compose_are_clean():
    rocm = """\
services:
  trainer:
    image: rocm/pytorch:latest
    devices: [/dev/kfd, /dev/dri]
    group_add: [video]
    security_opt: [seccomp=unconfined]
    environment:
      HIP_VISIBLE_DEVICES: "0"
"""
    assert analyze(rocm, path=COMPOSE) == []
    assert analyze("services:\n  db:\n    image: postgres  # not nvidia\n", path="compose.yaml") == []


def test_compose_rocm_facts_name_the_amd_device_mapping():
    (finding,) = analyze("services:\n  s:\n    runtime: nvidia\n", path=COMPOSE)
    assert "/dev/kfd" in finding.targets["rocm"].replacement
    assert finding.targets["rocm"].source.startswith("https://instinct.docs.amd.com/")
    assert finding.targets["cpu"].status.value == "change"


def test_manifest_multi_document_findings_point_at_the_offending_keys():
    code = """\
apiVersion: v1
kind: Service
metadata:
  name: serve
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: serve
spec:
  template:
    spec:
      runtimeClassName: nvidia
      nodeSelector:
        nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3
      tolerations:
        - key: nvidia.com/gpu
          operator: Exists
      containers:
        - name: serve
          image: acme/serve
          resources:
            requests:
              cpu: "8"
            limits:
              nvidia.com/gpu: 2
"""
    assert sites(code, MANIFEST) == [
        ("CDA533", 13, 7, 31),
        ("CDA531", 15, 9, 54),
        ("CDA532", 17, 11, 30),
        ("CDA530", 26, 15, 32),
    ]


def test_manifest_label_replacements_are_the_amd_node_labeller_labels():
    code = (
        "nodeSelector:\n  nvidia.com/gpu.product: A100\n  nvidia.com/gpu.memory: '81920'\n"
        "  nvidia.com/cuda.driver.major: '550'\n"
    )
    findings = analyze(code, path="values.yaml")
    assert [f.rule for f in findings] == ["CDA531"] * 3
    assert "amd.com/gpu.product-name" in findings[0].targets["rocm"].replacement
    assert "amd.com/gpu.vram" in findings[1].targets["rocm"].replacement
    assert "amd.com/gpu." in findings[2].targets["rocm"].replacement


def test_helm_values_are_read_by_shape_and_unrelated_yaml_is_ignored():
    values = """\
replicaCount: 1
image:
  repository: nvcr.io/nvidia/k8s-device-plugin
  tag: v0.17.0
resources:
  limits:
    nvidia.com/gpu: 1
"""
    assert sites(values, "charts/infer/values.yaml") == [("CDA534", 3, 3, 47), ("CDA530", 7, 5, 22)]
    unrelated = """\
site_name: Our docs
nav:
  - GPUs: "request nvidia.com/gpu: 1 and set runtimeClassName: nvidia"
extra:
  nodeSelector_hint: nvidia.com/gpu.product
"""
    assert analyze(unrelated, path="mkdocs.yml") == []


def test_helm_template_actions_are_blanked_and_the_rest_is_read():
    template = """\
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "infer.fullname" . }}
spec:
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: infer
      image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
      resources:
        limits:
          nvidia.com/gpu: {{ .Values.gpus }}
"""
    assert sites(template, "charts/infer/templates/pod.yaml") == [("CDA530", 15, 11, 45)]


def test_a_training_recipe_that_sets_a_cuda_only_library_argument_is_read_as_the_call_would_be():
    """`attn_implementation: flash_attention_2` in a recipe the script passes on to the model's
    constructor: the same fact as the keyword in Python. Another value, another key, or a list is not it."""
    recipe = (
        "model_name_or_path: org/small-model\n"
        "attn_implementation: flash_attention_2\n"
        "use_flash_attention_2: yes\n"
        "eval:\n  attn_implementation: sdpa\n"
        "choices:\n  attn_implementation: [sdpa, flash_attention_2]\n"
        "notes: attn_implementation flash_attention_2\n"
    )
    found = analyze(recipe, path="recipes/sft.yaml")
    assert [(f.rule, f.span.line, f.span.column) for f in found] == [("CDA219", 2, 22), ("CDA219", 3, 24)]
    assert found[0].targets["rocm"].severity.value == "warning" and found[0].targets["cpu"].severity.value == "error"
    assert analyze(recipe.replace("use_flash_attention_2: yes", "use_flash_attention_2: 'yes'"), path="x.yaml")[1:] == []


def test_malformed_yaml_is_one_error_with_its_line_and_the_scan_goes_on(cli, tmp_path):
    write(tmp_path / "docker-compose.yml", "services:\n  a:\n    runtime: [nvidia\n  b: {}\n")
    write(tmp_path / "k8s" / "job.yaml", "kind: Job\nspec:\n  limits:\n    nvidia.com/gpu: 1\n   bad: indent\n")
    write(tmp_path / "k8s" / "tpl.yaml", "spec:\n{{ if .Values.x }}\n  nvidia.com/gpu: [\n{{ end }}\n")
    write(tmp_path / "k8s" / "good.yaml", "resources:\n  limits:\n    nvidia.com/gpu: 1\n")
    report = scan_json(cli)
    errors = {e["path"]: e for e in report["errors"]}
    assert set(errors) == {"docker-compose.yml", "k8s/job.yaml", "k8s/tpl.yaml"}
    assert errors["docker-compose.yml"]["line"] == 4 and "invalid YAML" in errors["docker-compose.yml"]["message"]
    assert errors["k8s/job.yaml"]["line"] == 5
    assert "helm template" in errors["k8s/tpl.yaml"]["message"]
    assert [(f["path"], f["rule"]) for f in report["findings"]] == [("k8s/good.yaml", "CDA530")]


def test_yaml_tags_are_never_constructed(tmp_path):
    marker = tmp_path / "pwned"
    code = f"""\
resources:
  limits:
    nvidia.com/gpu: !!python/object/apply:os.system ["touch {marker}"]
exploit: !!python/object/new:subprocess.Popen [["touch", "{marker}"]]
"""
    assert [f.rule for f in analyze(code, path="values.yaml")] == ["CDA530"]
    assert not marker.exists()


def test_alias_bombs_cost_no_more_than_their_text():
    lines = ["a0: &a0 {nodeSelector: {nvidia.com/gpu.product: A100}}"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    started = time.perf_counter()
    assert [f.rule for f in analyze("\n".join(lines) + "\n", path="values.yaml")] == ["CDA531"]
    assert time.perf_counter() - started < 2


def test_targets_select_the_facts_reported(cli, tmp_path):
    write(tmp_path / "values.yaml", "resources:\n  limits:\n    nvidia.com/gpu: 1\n")
    (finding,) = scan_json(cli, "--target", "rocm")["findings"]
    assert set(finding["targets"]) == {"rocm"}
    assert "amd.com/gpu" in finding["targets"]["rocm"]["replacement"]


YAML_PIECES = [
    "services:", "jobs:", "runs-on:", "nvidia.com/gpu", "limits:", "nodeSelector:", "driver: nvidia", "gpus: all",
    "run: |", "nvidia-smi", "docker run --gpus all", "$(", ")", "strategy:", "matrix:", "${{ matrix.r }}",
    "container:", "image:", "nvidia/cuda:12", "  ", "- ", "\n", "{{ ", "}}", "&a ", "*a", "<<: ", "[", "]", "{", "}",
    ": ", "'", '"', "---\n", "\t", "#", "!!python/object ", "é",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(YAML_PIECES)).map("".join), st.sampled_from([COMPOSE, MANIFEST, WORKFLOW]))
def test_yaml_analysis_never_fails_internally(text, path):
    task = FileTask(path, path, classify(PurePath(path)), frozenset(load_catalog().rules))
    _, errors = analyze_bytes(text.encode(), task, AnalysisSettings())
    assert not any("internal error" in e.message for e in errors), errors
