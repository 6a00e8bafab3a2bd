"""`cudaudit resolve` through the real CLI, on the CUDA-pinned example project in fixtures/gpu-finetune.

Each dependency file's ROCm and CPU variants are compared with the reviewed files in
tests/expected/resolve/; the inputs must come out untouched, and resolving a variant again must
change nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cudaudit.resolvers.resolution import ResolveError, feasibility
from cudaudit.resolvers.wheel_indexes import releases
from support import FIXTURES, REPO, write

PROJECT = FIXTURES / "gpu-finetune"
EXPECTED = REPO / "tests" / "expected" / "resolve"
CASES = [
    ("requirements.txt", "requirements", "txt"),
    ("requirements-lock.txt", "requirements-lock", "txt"),
    ("pyproject.toml", "pyproject", "toml"),
    ("environment.yml", "environment", "yml"),
    ("locks/uv/uv.lock", "uv-lock", "in"),
    ("locks/poetry/poetry.lock", "poetry-lock", "in"),
    ("locks/pdm/pdm.lock", "pdm-lock", "in"),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "gpu-finetune"
    shutil.copytree(PROJECT, copy)
    return copy


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("target", ["rocm", "cpu"])
@pytest.mark.parametrize(("file", "name", "suffix"), CASES)
def test_each_file_gets_the_reviewed_variant_and_is_left_as_it_was(cli, project, file, name, suffix, target):
    before = snapshot(project)
    result = cli("resolve", file, "--target", target, cwd=project)
    assert result.exit_code in (0, 1), result.output
    assert result.stdout == (EXPECTED / f"{name}.{target}.{suffix}").read_text()
    assert snapshot(project) == before, "printing a variant writes nothing"
    (project / "again").mkdir()
    variant = f"again/{Path(file).name if suffix != 'in' else 'requirements.in'}"
    again = cli("resolve", file, "--target", target, "-o", variant, cwd=project)
    assert (project / variant).read_text() == result.stdout
    assert again.exit_code == result.exit_code
    twice = cli("resolve", variant, "--target", target, cwd=project)
    assert twice.stdout == result.stdout, "resolving a variant again changes nothing"


def test_the_old_cuda_pin_and_what_cannot_follow_it_to_rocm(cli, project):
    result = cli("resolve", "requirements.txt", "--target", "rocm", cwd=project)
    assert result.exit_code == 1
    report = flat(result.stderr)
    assert "rocm: torch 2.1.2; PyTorch index https://download.pytorch.org/whl/rocm5.6" in report
    stuck = report.split("cannot be swapped cleanly for rocm:")[1]
    assert {"xformers==0.0.23.post1", "flash-attn==2.5.6", "onnxruntime-gpu==1.17.1"} == set(stuck.strip().split(", "))
    assert "needs ROCm 6.0 or newer; torch 2.1's ROCm builds use rocm5.6" in report
    assert "ROCm wheels start with xformers 0.0.28, for torch 2.4.1" in report


def test_every_package_swaps_cleanly_exits_zero(cli, tmp_path):
    write(tmp_path / "requirements.txt", "torch==2.4.1\nxformers==0.0.28.post1\nnvidia-cublas-cu12==12.4.5.8\n")
    result = cli("resolve", "requirements.txt", "--target", "rocm")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "--extra-index-url https://download.pytorch.org/whl/rocm6.1\ntorch==2.4.1+rocm6.1\nxformers==0.0.28.post1\n"
    )
    assert "every CUDA-bound package swaps cleanly for rocm" in flat(result.stderr)


def test_the_rocm_index_is_one_that_carries_xformers_for_the_torch_release(cli, tmp_path):
    # torch 2.5 was published for ROCm 6.1 and 6.2; xformers' ROCm wheels for it are on the 6.1 index only
    write(tmp_path / "requirements.txt", "torch==2.5.1\n")
    assert "+rocm6.2" in cli("resolve", "requirements.txt", "-t", "rocm").stdout
    write(tmp_path / "requirements.txt", "torch==2.5.1\nxformers==0.0.28.post3\n")
    result = cli("resolve", "requirements.txt", "-t", "rocm")
    assert "torch==2.5.1+rocm6.1" in result.stdout and result.exit_code == 0


def test_a_published_rocm_version_is_used_and_an_unpublished_one_lists_the_published(cli, project):
    chosen = cli("resolve", "requirements.txt", "--target", "rocm", "--rocm-version", "5.5", cwd=project)
    assert "torch==2.1.2+rocm5.5" in chosen.stdout and "whl/rocm5.5" in chosen.stdout
    refused = cli("resolve", "requirements.txt", "--target", "rocm", "--rocm-version", "6.1", cwd=project)
    assert refused.exit_code == 2 and refused.stdout == ""
    assert "PyTorch 2.1 was never published for ROCm 6.1; its ROCm builds are: 5.5, 5.6" in flat(refused.stderr)


def test_without_a_torch_pin_the_torch_version_option_picks_the_release_and_its_index(cli, tmp_path):
    write(tmp_path / "requirements.txt", "--index-url https://download.pytorch.org/whl/cu121\ntorch>=2.1  # any 2.x\n")
    newest = max(r.torch for r in releases() if r.rocm_tags)
    unpinned = cli("resolve", "requirements.txt", "-t", "rocm")
    assert unpinned.exit_code == 0, "an unpinned range installs from the ROCm index of the newest release it admits"
    assert f"torch=={newest}+rocm" in unpinned.stdout and "--torch-version" in flat(unpinned.stderr)
    write(tmp_path / "bounded.txt", "torch>=2.1,<2.5\n")
    assert "torch==2.4+rocm6.1" in cli("resolve", "bounded.txt", "-t", "rocm").stdout
    given = cli("resolve", "requirements.txt", "-t", "rocm", "--torch-version", "2.3.1")
    assert given.stdout == "--index-url https://download.pytorch.org/whl/rocm6.0\ntorch==2.3.1+rocm6.0  # any 2.x\n"
    outside = cli("resolve", "requirements.txt", "-t", "rocm", "--torch-version", "2.0.1")
    assert "torch>=2.1  # any 2.x" in outside.stdout, "a release the range does not allow is not forced on it"


def test_included_files_get_their_own_variant_and_the_include_follows(cli, tmp_path):
    write(tmp_path / "requirements" / "base.txt", "numpy==1.26.4\nnvidia-nccl-cu12==2.20.5\n")
    write(tmp_path / "requirements" / "untouched.txt", "pandas==2.2.2\n")
    write(tmp_path / "requirements.txt", "-r requirements/base.txt\n-c requirements/untouched.txt\ntorch==2.4.1+cu124\n")
    result = cli("resolve", "requirements.txt", "-t", "cpu", "-o", "requirements-cpu.txt")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "requirements-cpu.txt").read_text() == (
        "-r requirements/base-cpu.txt\n-c requirements/untouched.txt\n"
        "--extra-index-url https://download.pytorch.org/whl/cpu\ntorch==2.4.1+cpu\n"
    )
    assert (tmp_path / "requirements" / "base-cpu.txt").read_text() == "numpy==1.26.4\n"
    assert not (tmp_path / "requirements" / "untouched-cpu.txt").exists()


UV_PROJECT = """[project]
name = "app"
version = "1.0"
dependencies = [
    "torch==2.4.1",
    "torchvision==0.19.1",
    "xformers==0.0.28.post1",
    "numpy>=1.26",
]

[[tool.uv.index]]
name = "torch-cu124"
url = "https://download.pytorch.org/whl/cu124"
explicit = true

[tool.uv.sources]
torch = [
    { index = "torch-cu124" },  # the CUDA 12.4 build
]
xformers = { index = "torch-cu124" }

[tool.uv.sources.torchvision]
index = "torch-cu124"
"""


def test_a_uv_project_names_its_index_for_the_target_and_limits_rocm_sources_to_linux(cli, tmp_path):
    """As uv's PyTorch guide writes them: the index named for its build, ROCm sources for Linux only,
    pins as written (the index picks the build), no source left for a package the variant drops."""
    write(tmp_path / "pyproject.toml", UV_PROJECT)
    rocm = cli("resolve", "pyproject.toml", "--target", "rocm")
    linux = "marker = \"sys_platform == 'linux'\""
    assert rocm.stdout == (
        UV_PROJECT.replace("torch-cu124", "torch-rocm6.1")
        .replace("whl/cu124", "whl/rocm6.1")
        .replace('{ index = "torch-rocm6.1" }', '{ index = "torch-rocm6.1", ' + linux + " }")
        .replace('index = "torch-rocm6.1"\n', 'index = "torch-rocm6.1"\n' + linux + "\n")
    )
    assert "note" not in rocm.stderr
    cpu = cli("resolve", "pyproject.toml", "--target", "cpu")
    assert cpu.stdout == (
        UV_PROJECT.replace("torch-cu124", "torch-cpu")
        .replace("whl/cu124", "whl/cpu")
        .replace('    "xformers==0.0.28.post1",\n', "")
        .replace('xformers = { index = "torch-cpu" }\n', "")
    )
    for target, variant in (("rocm", rocm.stdout), ("cpu", cpu.stdout)):
        write(tmp_path / "again" / "pyproject.toml", variant)
        assert cli("resolve", "again/pyproject.toml", "--target", target).stdout == variant


def test_a_pyproject_pip_installs_pins_the_targets_build_and_says_which_index(cli, tmp_path):
    write(tmp_path / "pyproject.toml", '[project]\nname = "app"\nversion = "1"\ndependencies = ["torch==2.4.1", "numpy"]\n')
    result = cli("resolve", "pyproject.toml", "--target", "cpu")
    assert result.stdout == '[project]\nname = "app"\nversion = "1"\ndependencies = ["torch==2.4.1+cpu", "numpy"]\n'
    assert "install with --extra-index-url https://download.pytorch.org/whl/cpu" in flat(result.stderr)


@pytest.mark.parametrize(
    ("written", "variant"),
    [
        ('["torch==2.4.1", "xformers==0.0.28.post1", "numpy"]', '["torch==2.4.1+cpu", "numpy"]'),
        ('[ "numpy" , "xformers==0.0.28.post1" ]  # pinned', '[ "numpy" ]  # pinned'),
        ('["xformers==0.0.28.post1"]', "[]"),
    ],
)
def test_a_package_dropped_from_a_one_line_list_leaves_the_rest(cli, tmp_path, written, variant):
    """The variant drops what the verdict says it drops, wherever the list is written."""
    head = '[project]\nname = "app"\nversion = "1"\ndependencies = '
    write(tmp_path / "pyproject.toml", head + written + "\n")
    result = cli("resolve", "pyproject.toml", "--target", "cpu")
    assert result.stdout == head + variant + "\n"
    assert "xformers==0.0.28.post1" in result.stderr and "removed" in result.stderr


def test_several_files_are_written_beside_their_inputs_or_in_the_output_folder(cli, project):
    result = cli("resolve", "requirements.txt", "pyproject.toml", "environment.yml", "-t", "cpu", cwd=project)
    assert result.exit_code == 1, result.output
    for name in ("requirements-cpu.txt", "pyproject-cpu.toml", "environment-cpu.yml"):
        assert (project / name).is_file()
    (project / "out").mkdir()
    cli("resolve", "requirements.txt", "locks/uv/uv.lock", "-t", "rocm", "-o", "out", cwd=project)
    assert sorted(p.name for p in (project / "out").iterdir()) == ["requirements-rocm.txt", "uv-rocm.in"]
    refused = cli("resolve", "requirements.txt", "pyproject.toml", "-t", "cpu", "-o", "one-file.txt", cwd=project)
    assert refused.exit_code == 2 and "give a folder" in flat(refused.stderr)


def test_a_line_pip_cannot_read_is_reported_with_its_place_and_kept(cli, tmp_path):
    write(tmp_path / "requirements.txt", "torch==2.4.1+cu124\nnumpy>=\nonnxruntime-gpu==1.18.0\n")
    result = cli("resolve", "requirements.txt", "-t", "cpu", "-o", "requirements-cpu.txt")
    assert "requirements.txt:2: pip cannot read `numpy>=`; kept as it was" in flat(result.stderr)
    assert (tmp_path / "requirements-cpu.txt").read_text() == (
        "--extra-index-url https://download.pytorch.org/whl/cpu\ntorch==2.4.1+cpu\nnumpy>=\nonnxruntime==1.18.0\n"
    )


def test_nothing_is_written_when_any_input_fails_to_parse(cli, project):
    write(project / "broken" / "pyproject.toml", '[project]\nname = "broken"\ndependencies = ["torch==2.4.1",,]\n')
    before = snapshot(project)
    result = cli("resolve", "requirements.txt", "broken/pyproject.toml", "-t", "cpu", cwd=project)
    assert result.exit_code == 2
    assert "broken/pyproject.toml:3: invalid TOML" in flat(result.stderr) and "nothing was written" in flat(result.stderr)
    assert snapshot(project) == before


def test_a_file_of_another_kind_is_a_usage_error(cli, tmp_path):
    write(tmp_path / "Dockerfile", "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n")
    result = cli("resolve", "Dockerfile", "-t", "cpu")
    assert result.exit_code == 2
    assert "Dockerfile: not a file cudaudit resolve reads" in flat(result.stderr)
    assert cli("resolve", "missing.txt", "-t", "cpu").exit_code == 2


def test_json_carries_the_variant_and_the_verdict_with_sources(cli, project):
    result = cli("resolve", "requirements.txt", "-t", "cpu", "-f", "json", cwd=project)
    data = json.loads(result.stdout)
    assert data["target"] == "cpu" and data["torch"] == "2.1.2" and data["swappable"] is False
    (main, *_) = data["files"]
    assert main["output"] == "requirements-cpu.txt"
    assert main["variant"] == (EXPECTED / "requirements.cpu.txt").read_text()
    onnx = next(p for p in main["packages"] if p["package"].startswith("onnxruntime-gpu"))
    assert onnx == {
        "path": "requirements.txt",
        "line": 13,
        "package": "onnxruntime-gpu==1.17.1",
        "target": "cpu",
        "available": "yes",
        "action": "swap",
        "replacement": "`onnxruntime==1.17.1`",
        "note": "same releases and API; `CPUExecutionProvider`",
        "source": "https://onnxruntime.ai/docs/get-started/with-python.html",
        "optional": None,
        "pytorch_index": False,
    }
    assert all(p["source"].startswith("https://") for p in main["packages"])


def test_feasibility_is_plain_data_for_the_report(project):
    found = feasibility([project / "pyproject.toml"], "rocm")
    json.dumps(found)  # plain data
    by_package = {item["package"]: item for item in found}
    assert by_package["xformers==0.0.28.post1"]["available"] == "yes"
    assert by_package["onnxruntime-gpu>=1.18"]["action"] == "manual"
    assert by_package["flash-attn==2.6.3"] | {"source": ""} == by_package["flash-attn==2.6.3"] | {
        "available": "from-source",
        "action": "keep",
        "optional": "cuda",
        "source": "",
    }
    with pytest.raises(ResolveError):
        feasibility([project / "README.md"], "rocm")


def test_fix_target_rewrites_a_conda_environment_the_same_way(cli, project):
    result = cli("fix", "environment.yml", "--target", "cpu", "--unsafe-fixes", cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / "environment.yml").read_text() == (EXPECTED / "environment.cpu.yml").read_text()


def test_a_lock_file_that_forks_per_platform_carries_the_newest_pin_and_says_so(cli, tmp_path):
    write(
        tmp_path / "uv.lock",
        'version = 1\n\n[[package]]\nname = "torch"\nversion = "2.7.0"\nsource = { registry = "https://pypi.org/simple" }\n\n'
        '[[package]]\nname = "torch"\nversion = "2.7.0+cu128"\nsource = { registry = "https://download.pytorch.org/whl/cu128" }\n',
    )
    result = cli("resolve", "uv.lock", "-t", "cpu")
    assert result.stdout.endswith("--extra-index-url https://download.pytorch.org/whl/cpu\ntorch==2.7.0+cpu\n")
    assert "torch: uv.lock pins it once per platform or Python; the newest, 2.7.0+cu128, is carried over" in flat(
        result.stderr
    )
