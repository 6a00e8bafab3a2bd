"""GitHub Actions workflows: CUDA sites of jobs and the repository-level CPU/ROCm question."""

from __future__ import annotations

from support import analyze, scan_json, write

WORKFLOW = ".github/workflows/ci.yml"


def sites(code: str) -> list[tuple[str, int, int, int]]:
    return [(f.rule, f.span.line, f.span.column, f.span.end_column) for f in analyze(code, path=WORKFLOW)]


def rules(code: str) -> list[str]:
    return [f.rule for f in analyze(code, path=WORKFLOW)]


def test_each_site_of_a_cuda_job_at_its_own_line_and_word():
    code = """\
on: push
jobs:
  test:
    runs-on: [self-hosted, linux, a100]
    container:
      image: nvidia/cuda:12.4.1-devel-ubuntu22.04
      options: --gpus all --shm-size 8g
    steps:
      - uses: actions/checkout@v4
      - uses: Jimver/cuda-toolkit@v0.2.16
      - run: |
          nvidia-smi
          echo "GPUs: $(nvidia-smi -L | wc -l)"
          docker run --rm --gpus=all -v "$PWD:/w" app pytest
      - run: "nvcc --version"
"""
    assert sites(code) == [
        ("CDA710", 4, 5, 40),
        ("CDA702", 4, 35, 39),
        ("CDA701", 6, 7, 50),
        ("CDA704", 7, 16, 26),
        ("CDA703", 10, 9, 42),
        ("CDA705", 12, 11, 21),
        ("CDA705", 13, 25, 35),
        ("CDA704", 14, 27, 37),
        ("CDA705", 15, 15, 19),
    ]


def test_cuda_images_are_the_ones_the_container_catalog_knows():
    code = """\
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    container: pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime
    services:
      tf:
        image: tensorflow/tensorflow:2.15.0-gpu
      db:
        image: postgres:16
    steps: [{run: pytest}]
  rocm:
    runs-on: [self-hosted, linux]
    container: {image: "rocm/pytorch:latest", options: --device /dev/kfd --device /dev/dri}
    steps: [{run: pytest}]
"""
    assert sites(code) == [("CDA701", 5, 5, 61), ("CDA701", 8, 9, 48)]


def test_comments_prose_and_look_alikes_in_scripts_are_not_commands():
    code = """\
on: push
jobs:
  test:
    runs-on: [self-hosted, linux]
    steps:
      - name: nvidia-smi would show the GPUs here
        run: |
          # nvidia-smi
          echo "nvidia-smi is not installed; use --gpus all on a GPU host"
          python train.py --gpus 2
          docker run --rm app python train.py --gpus 2
          pip install nvidia-smi-exporter
      - run: printf 'nvcc --version\\n'
"""
    assert analyze(code, path=WORKFLOW) == []


def test_matrix_runner_labels_are_read_per_value_and_reported_at_the_value():
    code = """\
on: push
jobs:
  test:
    strategy:
      matrix:
        runner: [ubuntu-latest, [self-hosted, gpu]]
        include:
          - runner: linux-h100
    runs-on: ${{ matrix.runner }}
    steps:
      - run: pytest
"""
    assert sites(code) == [("CDA702", 6, 47, 50), ("CDA702", 8, 21, 31)]


def test_a_runner_named_by_several_gpu_labels_is_one_finding_at_the_first():
    code = """\
on: push
jobs:
  test:
    runs-on: [self-hosted, nvidia, cu121, v100]
    steps:
      - run: pytest
"""
    assert [site for site in sites(code) if site[0] == "CDA702"] == [("CDA702", 4, 28, 34)]


def test_job_verdicts_decide_the_repository_finding():
    def alone(job: str) -> str:
        return "on: push\njobs:\n  gpu:\n    runs-on: [self-hosted, gpu]\n    steps: [{run: pytest}]\n" + job

    assert "CDA710" in rules(alone(""))
    cpu = "  lint:\n    runs-on: ubuntu-24.04\n    steps: [{run: ruff check .}]\n"
    rocm_label = "  rocm:\n    runs-on: linux.rocm.gpu.2\n    steps: [{run: pytest}]\n"
    rocm_image = "  rocm:\n    runs-on: [self-hosted]\n    container: rocm/pytorch:latest\n    steps: [{run: pytest}]\n"
    amd_gpu = "  amd:\n    runs-on: [self-hosted, amd, gpu]\n    steps: [{run: pytest}]\n"
    cpu_label = "  cpu:\n    runs-on: [self-hosted, linux, cpu]\n    steps: [{run: pytest}]\n"
    rocm_caller = (
        "  rocm:\n    uses: pytorch/test-infra/.github/workflows/linux_job_v2.yml@main\n"
        "    with:\n      runner: linux.rocm.gpu.gfx942.1\n"
    )
    for portable in (cpu, rocm_label, rocm_image, amd_gpu, cpu_label, rocm_caller):
        assert "CDA710" not in rules(alone(portable)), portable
    hosted_with_cuda = "  build:\n    runs-on: ubuntu-latest\n    steps: [{uses: Jimver/cuda-toolkit@v0.2.16}]\n"
    unknown = "  misc:\n    runs-on: [self-hosted, linux]\n    steps: [{run: make docs}]\n"
    caller = "  call:\n    uses: ./.github/workflows/cpu.yml\n"
    for not_portable in (hosted_with_cuda, unknown, caller):
        assert "CDA710" in rules(alone(not_portable)), not_portable


def test_a_reusable_workflow_call_is_judged_by_the_runner_it_passes():
    code = """\
on: push
jobs:
  test:
    strategy:
      matrix:
        include:
          - name: H100
            runs-on: linux.aws.h100
          - name: CPU
            runs-on: linux.4xlarge
    uses: pytorch/test-infra/.github/workflows/linux_job_v2.yml@main
    with:
      runner: ${{ matrix.runs-on }}
      script: nvidia-smi
"""
    assert sites(code) == [("CDA702", 8, 22, 36), ("CDA710", 13, 7, 36)]


def test_a_workflow_without_cuda_jobs_is_clean():
    code = "on: push\njobs:\n  lint:\n    runs-on: [self-hosted, linux]\n    steps: [{run: make lint}]\n"
    assert analyze(code, path=WORKFLOW) == []


def scan_rules(cli) -> list[tuple[str, int, str]]:
    return [(f["path"], f["line"], f["rule"]) for f in scan_json(cli)["findings"]]


GPU_JOB = "on: push\njobs:\n  gpu:\n    runs-on: [self-hosted, {label}]\n    steps: [{{run: pytest}}]\n"


def test_repository_finding_is_reported_once_at_the_first_gpu_workflow(cli, tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    write(workflows / "nightly.yml", GPU_JOB.format(label="a100"))
    write(workflows / "gpu.yml", GPU_JOB.format(label="gpu"))
    docs = "on: push\njobs:\n  docs:\n    runs-on: [self-hosted, docs]\n    steps: [{run: make}]\n"
    write(workflows / "docs.yml", docs)
    assert scan_rules(cli) == [
        (".github/workflows/gpu.yml", 4, "CDA710"),
        (".github/workflows/gpu.yml", 4, "CDA702"),
        (".github/workflows/nightly.yml", 4, "CDA702"),
    ]


def test_one_cpu_job_anywhere_answers_the_repository_question(cli, tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    write(workflows / "gpu.yml", GPU_JOB.format(label="gpu"))
    write(workflows / "lint.yml", "on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps: [{run: ruff .}]\n")
    assert scan_rules(cli) == [(".github/workflows/gpu.yml", 4, "CDA702")]


def test_a_suppressed_repository_finding_does_not_move_to_another_workflow(cli, tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    first = GPU_JOB.format(label="gpu").replace("gpu]", "gpu]  # cudaudit: ignore[CDA710]")
    write(workflows / "a.yml", first)
    write(workflows / "b.yml", GPU_JOB.format(label="gpu"))
    assert [rule for _, _, rule in scan_rules(cli)] == ["CDA702", "CDA702"]
    alone = scan_json(cli, "--select", "CDA710", ".github/workflows/b.yml")
    assert alone["findings"] == [], "naming b.yml alone answers as the whole repository does"


def test_parallel_scan_settles_the_repository_finding_as_a_serial_one(cli, tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    for i in range(70):
        write(workflows / f"gpu{i:02}.yml", GPU_JOB.format(label="gpu"))
    serial = scan_json(cli, "--jobs", "1")
    parallel = scan_json(cli, "--jobs", "2")
    assert serial["findings"] == parallel["findings"]
    assert [f["path"] for f in parallel["findings"] if f["rule"] == "CDA710"] == [".github/workflows/gpu00.yml"]


def test_malformed_workflow_is_one_error_and_does_not_count_as_a_cpu_job(cli, tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    write(workflows / "gpu.yml", GPU_JOB.format(label="gpu"))
    write(workflows / "broken.yml", "on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n   steps: [nvidia-smi\n")
    report = scan_json(cli)
    assert [(e["path"], e["line"]) for e in report["errors"]] == [(".github/workflows/broken.yml", 5)]
    assert {f["rule"] for f in report["findings"]} == {"CDA702", "CDA710"}


def test_naming_some_workflows_asks_the_repository_question_of_all_of_them(cli, tmp_path):
    """pre-commit names only the staged workflow; the unstaged CPU job still answers CDA710."""
    workflows = tmp_path / ".github" / "workflows"
    write(workflows / "gpu.yml", GPU_JOB.format(label="gpu"))
    write(workflows / "lint.yml", "on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps: [{run: ruff .}]\n")
    staged = scan_json(cli, ".github/workflows/gpu.yml")
    assert [f["rule"] for f in staged["findings"]] == ["CDA702"]
    assert staged["summary"]["files"] == 1, "the other workflows are read for the answer, not scanned"
    (workflows / "lint.yml").unlink()
    assert "CDA710" in [f["rule"] for f in scan_json(cli, ".github/workflows/gpu.yml")["findings"]]
    inside = scan_json(cli, "gpu.yml", cwd=workflows)
    assert [f["rule"] for f in inside["findings"]] == ["CDA710", "CDA702"]


def test_a_build_of_a_cuda_only_dockerfile_is_found_however_the_step_names_it():
    """`docker buildx build --file=...`, a context whose Dockerfile is the default one, and the
    action's `file`; a Dockerfile with a ROCm counterpart, or one the step does not build, is not."""
    code = """\
on: push
jobs:
  images:
    runs-on: ubuntu-latest
    steps:
      - run: docker buildx build --platform linux/amd64 --file=docker/serve.Dockerfile -t acme/serve .
      - run: docker build --build-arg X=1 -t acme/train docker/train
      - uses: docker/build-push-action@v6
        with:
          file: ./docker/Dockerfile
      - run: docker build -t acme/cpu docker/cpu
"""
    cuda = "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n"
    files = {
        "docker/serve.Dockerfile": cuda,
        "docker/train/Dockerfile": "FROM pytorch/pytorch:2.4.1-cuda12.1-cudnn9-devel AS build\nFROM build\n",
        "docker/Dockerfile": cuda,
        "docker/Dockerfile.rocm": "FROM rocm/pytorch:latest\n",
        "docker/cpu/Dockerfile": "FROM python:3.12-slim\n",
    }
    found = [f for f in analyze(code, path=WORKFLOW, files=files) if f.rule == "CDA706"]
    assert [(f.span.line, f.targets["rocm"].source) for f in found] == [
        (6, "docker/serve.Dockerfile:1"),
        (7, "docker/train/Dockerfile:1"),
    ]
    assert {f.severity.value for f in found} == {"warning"}
