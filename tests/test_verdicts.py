"""One finding per site, NVIDIA-only constructs once per file, counterparts: `cudaudit.verdicts`."""

from __future__ import annotations

from cudaudit.rules.catalog import load_catalog
from cudaudit.verdicts import CoveragePaths
from support import analyze, scan_json, write

is_ci_path = CoveragePaths.of(load_catalog()).holds

CUTE_KERNEL = """#include <cute/tensor.hpp>
#include <cutlass/numeric_types.h>
using namespace cute;
template <class T> __global__ void k(T *p) {
    auto layout = cute::make_layout(cute::make_shape(8, 8));
    cutlass::half_t h;
    cute::Tensor t = cute::make_tensor(p, layout);
}
"""


def test_the_same_name_twice_on_a_line_is_one_finding():
    code = "void f(cublasHandle_t h) { cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1); }\n"
    assert [f.message.split("`")[1] for f in analyze(code, path="k.cu") if f.rule == "CDA403"] == [
        "cublasHandle_t", "cublasSgemm", "CUBLAS_OP_N",
    ]


def test_sites_a_fix_rewrites_are_never_merged():
    code = "import torch\nfoo(x.cuda(), x.cuda())\n"
    assert [f.span.column for f in analyze(code) if f.rule == "CDA102"] == [5, 15]


def test_an_nvidia_only_file_is_one_finding_with_its_count():
    (only,) = analyze(CUTE_KERNEL + "void f(cudaStream_t s) { cudaStreamSynchronize(s); }\n", path="hopper/k.cu")
    assert (only.rule, only.span.line, only.sites) == ("CDA415", 5, 7)  # 3 CuTe lines, 2 includes, 2 names
    assert "3 sites in this file" in only.message and "4 other CUDA sites" in only.message


def test_inline_ptx_is_one_finding_per_file_that_leaves_the_rest_of_the_file_alone():
    code = (
        '__device__ unsigned lane() { unsigned l; asm("mov.u32 %0, %%laneid;" : "=r"(l)); return l; }\n'
        '__device__ void stop() { asm("exit;"); }\n'
        "void sync() { cudaDeviceSynchronize(); }\n"
    )
    assert sorted((f.rule, f.sites) for f in analyze(code, path="k.cu")) == [("CDA401", 1), ("CDA410", 2)]


def test_grouped_sites_count_in_the_migration_summary(cli, tmp_path):
    write(tmp_path / "k.cu", CUTE_KERNEL)
    totals = scan_json(cli)["summary"]["migration"]["total"]
    assert (totals["references"], totals["hazards"]) == (0, 5)  # the NVIDIA-only file counts with its construct


def test_the_device_a_reported_call_is_handed_is_part_of_its_finding():
    code = (
        "import torch\n"
        'peak = torch.cuda.max_memory_allocated(device="cuda:0")\n'
        "props = torch.cuda.get_device_properties(torch.cuda.current_device())\n"
        'x = torch.zeros(2, device="cuda:0")\n'
    )
    assert [(f.span.line, f.rule, f.severity.value) for f in analyze(code)] == [
        (2, "CDA101", "warning"),  # 0 on CPU whatever device it asks about: no hard-coded-device error beside it
        (3, "CDA101", "error"),
        (4, "CDA103", "error"),  # handed to a call that is not reported: the device is the site
    ]


def test_a_requirement_is_one_finding_with_each_targets_worst_verdict():
    url = "https://example.org/wheels/flash_attn-2.6.3+cu121torch2.4-cp311-cp311-linux_x86_64.whl"
    (only,) = analyze(f"flash-attn @ {url}\n", path="requirements.txt")
    assert (only.rule, only.span.column) == ("CDA604", 1)  # the package's own entry, at its name
    assert only.targets["rocm"].severity.value == "error"  # a CUDA build of it does not load on ROCm
    assert only.targets["cpu"].severity.value == "error"


def test_only_files_a_ci_service_runs_are_ci_paths():
    assert is_ci_path(".github/workflows/gpu.yml") and is_ci_path("repo/.github/scripts/build.sh")
    assert is_ci_path(".gitlab-ci.yml") and is_ci_path(".circleci/config.yml") and is_ci_path("sub/.buildkite/steps.yml")
    assert not is_ci_path("ci/run.sh"), "a ci/ folder's scripts are also run by hand"


def test_a_development_container_is_a_developer_environment_not_the_install_path():
    assert is_ci_path(".devcontainer/postCreateCommand.sh") and is_ci_path(".devcontainer/Dockerfile")
    assert not is_ci_path("docker/Dockerfile") and not is_ci_path("devcontainer.sh")
    assert not is_ci_path("src/github/client.py") and not is_ci_path("docker/Dockerfile")


def test_a_test_file_is_judged_by_its_place_in_the_scanned_project_not_the_folders_above_it(cli, tmp_path):
    gpu_only = "import torch\n\ndef test_sum():\n    total = torch.ones(2, device='cuda').sum()\n    print(total)\n"
    project = tmp_path / "tests" / "project"  # a checkout that happens to sit in a folder named tests
    write(project / "train.py", gpu_only.replace("def test_sum", "def main"))
    write(project / "tests" / "test_sum.py", gpu_only)
    report = scan_json(cli, str(project))
    severity = {f["path"].rsplit("/", 1)[-1]: f["severity"] for f in report["findings"] if f["rule"] == "CDA103"}
    assert severity == {"train.py": "error", "test_sum.py": "warning"}  # the suite runs only on a GPU machine


def test_a_file_of_an_nvidia_only_engines_share_is_one_blocked_warning(cli, tmp_path):
    """`engines/trtllm/` is the project's TensorRT-LLM route beside its other ones: no line of it ports, so
    each of its files is one verdict, blocked and at most a warning (another path), naming the engine."""
    cmake = (
        "cmake_minimum_required(VERSION 3.24)\nproject(serve LANGUAGES CXX CUDA)\n"
        "find_package(CUDAToolkit REQUIRED)\nadd_library(engine src/engine.cpp)\n"
        "target_link_libraries(engine PRIVATE CUDA::cudart CUDA::nvml)\n"
    )
    write(tmp_path / "engines" / "trtllm" / "CMakeLists.txt", cmake)
    write(tmp_path / "Dockerfile.trtllm", "FROM nvidia/cuda:12.8.0-devel-ubuntu24.04\nRUN apt-get install -y libnccl2\n")
    write(tmp_path / "native" / "CMakeLists.txt", cmake)  # the same build outside the share keeps its verdicts
    report = scan_json(cli)
    by_path: dict[str, list[dict]] = {}
    for finding in report["findings"]:
        by_path.setdefault(finding["path"], []).append(finding)
    for path in ("engines/trtllm/CMakeLists.txt", "Dockerfile.trtllm"):
        [finding] = by_path[path]
        assert finding["severity"] == "warning" and finding["sites"] > 1, finding
        assert "TensorRT-LLM" in finding["message"]
        rocm = finding["targets"]["rocm"]
        assert rocm["status"] == "blocked" and "only on NVIDIA GPUs" in rocm["replacement"]
        assert finding["fix"] is None
    assert {f["severity"] for f in by_path["native/CMakeLists.txt"]} == {"error"}


def test_a_project_that_is_the_engine_keeps_its_verdicts():
    """The engine's own package (`tensorrt_llm/` at the top) is the project, not one share of it."""
    code = "import torch\nx = torch.ones(2).cuda()\n"
    [own] = [f for f in analyze(code, path="tensorrt_llm/runtime/session.py") if f.rule == "CDA102"]
    [share] = [f for f in analyze(code, path="serving/tensorrt_llm/session.py") if f.rule == "CDA102"]
    assert own.targets["cpu"].severity.name == "ERROR"
    assert share.targets["cpu"].severity.name == "WARNING" and share.targets["cpu"].status.name == "BLOCKED"


def test_the_cpu_side_of_an_engines_cpp_share_is_a_warning():
    """A C++ TensorRT deployment example (`deploy/TensorRT/src/infer.cpp`) neither builds nor runs on a CPU:
    its CUDA runtime sites, notes on CPU elsewhere (the build reports the CUDA language), are blocked there too."""
    code = (
        "#include <cuda_runtime_api.h>\n#include <NvInfer.h>\n"
        "void run(void **bindings, size_t n) {\n    cudaStream_t stream;\n    cudaStreamCreate(&stream);\n"
        "    cudaMalloc(&bindings[0], n);\n    cudaStreamSynchronize(stream);\n}\n"
    )
    [share] = analyze(code, path="deploy/TensorRT/src/infer.cpp")
    [plain] = [f for f in analyze(code, path="native/src/infer.cpp") if f.rule == "CDA401" and f.span.line == 4]
    assert share.targets["cpu"].severity.name == "WARNING" and share.targets["cpu"].status.name == "BLOCKED"
    assert share.targets["rocm"].severity.name == "WARNING" and share.sites == 5
    assert plain.targets["cpu"].severity.name == "NOTE"
