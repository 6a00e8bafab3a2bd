"""The CUDA C++ analyzer through the real tree-sitter parser: references, positions,
prose that is not code, preprocessor branches for HIP, parse errors, hazards."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cudaudit.model import Severity
from cudaudit.rules.catalog import load_catalog
from cudaudit.rules.kernels.analyzer import cuda_hits
from support import REPO, analyze, scan_json, write


def found(code: str, path: str = "kernel.cu", rule: str | None = None) -> list[tuple[str, int, int, int, str]]:
    """(rule, line, column, end column, flagged text) of each finding."""
    lines = code.split("\n")
    return [
        (f.rule, f.span.line, f.span.column, f.span.end_column, lines[f.span.line - 1][f.span.column - 1 : f.span.end_column - 1])
        for f in analyze(code, path=path)
        if rule is None or f.rule == rule
    ]


def test_runtime_names_headers_and_library_names_with_their_positions():
    code = (
        "#include <cuda_runtime.h>\n"
        '#include "cublas_v2.h"\n'
        "void f(cublasHandle_t h, float *d) {\n"
        "    cudaMalloc(&d, 4);  cudaDeviceSynchronize();\n"
        "}\n"
    )
    assert found(code) == [
        ("CDA404", 1, 10, 26, "<cuda_runtime.h>"),  # the file's two CUDA includes, reported once
        ("CDA403", 3, 8, 22, "cublasHandle_t"),
        ("CDA401", 4, 5, 15, "cudaMalloc"),
        ("CDA401", 4, 25, 46, "cudaDeviceSynchronize"),
    ]
    assert [f.sites for f in analyze(code, path="kernel.cu") if f.rule == "CDA404"] == [2]


def test_each_finding_names_the_hip_replacement_and_the_table_it_comes_from():
    [finding] = analyze("void f() { cudaThreadSynchronize(); }\n", path="kernel.cu")
    assert finding.message == "`cudaThreadSynchronize` is CUDA runtime API (deprecated since CUDA 10.0); HIP has an equivalent"
    rocm = finding.targets["rocm"]
    assert (rocm.status.value, rocm.replacement) == ("change", "`hipDeviceSynchronize`")
    assert rocm.source.endswith("/docs/tables/CUDA_Runtime_API_functions_supported_by_HIP.md")
    assert finding.targets["cpu"].status.value == "blocked"


def test_a_name_hip_lacks_is_blocked():
    [finding] = analyze("void f(CUtensorMap *m) {}\n", path="kernel.cu")
    assert finding.rule == "CDA402"
    assert finding.targets["rocm"].status.value == "blocked"
    assert finding.severity is Severity.ERROR


def test_columns_count_characters_not_bytes():
    code = 'const char *s = "héllo"; void f() { cudaFree(0); }\n'
    [(rule, _line, column, _end, text)] = found(code)
    assert (rule, text) == ("CDA401", "cudaFree")
    assert column == code.index("cudaFree") + 1


def test_comments_strings_and_include_paths_are_prose():
    code = (
        "// cudaMalloc(&p, n) in a comment\n"
        "/* cudaFree(p);\n   cudaMemcpy */\n"
        'const char *msg = "cudaMalloc failed";\n'
        "char c = 'c';\n"
        '#include "my_cudaMalloc_notes.h"\n'
        "#define MSG \"cudaFree\" /* cudaFree */ // cudaFree\n"
        "int cudaMallocCount = 0;\n"
    )
    assert found(code) == []


def test_names_in_macro_bodies_count_but_the_names_a_file_defines_do_not():
    code = (
        "#define CHECK(x) do { cudaError_t e = (x); if (e != cudaSuccess) abort(); } while (0)\n"
        "#define cudaStreamSynchronize hipStreamSynchronize\n"
        "__device__ int umin(int a, int b) { return a < b ? a : b; }\n"
        "void f(cudaStream_t s) { cudaStreamSynchronize(s); int x = umin(1, 2); }\n"
    )
    assert [(r, t) for r, _, _, _, t in found(code)] == [
        ("CDA401", "cudaError_t"),
        ("CDA401", "cudaSuccess"),
        ("CDA401", "cudaStream_t"),
    ]


def test_plain_lowercase_device_names_count_only_when_called():
    assert found("__device__ int f(int umin) { return umin; }\n") == []
    assert [r for r, *_ in found("__device__ unsigned f(unsigned a) { return umul24(a, a); }\n")] == ["CDA402"]


def test_qualified_names_and_namespaces():
    code = (
        "#include <thrust/sort.h>\n"
        "void f(int *p) {\n"
        "    thrust::sort(thrust::cuda::par, p, p + 4);\n"
        "    cub::DeviceReduce::Sum(nullptr, n, p, p, 4);\n"
        "}\n"
    )
    result = {(r, t): f for f in analyze(code, path="kernel.cu") for r, t in [(f.rule, f.message.split("`")[1])]}
    assert result[("CDA404", "thrust/sort.h")].targets["rocm"].status.value == "works"
    assert result[("CDA403", "thrust::sort")].severity is Severity.NOTE
    assert result[("CDA403", "thrust::cuda::par")].targets["rocm"].replacement.startswith("`thrust::hip::`")
    assert "hipcub" in result[("CDA403", "cub::DeviceReduce::Sum")].targets["rocm"].replacement


def test_hip_branches_are_ported_and_cuda_only_siblings_are_notes():
    code = (
        "#if defined(__HIP_PLATFORM_AMD__)\n"
        "#include <hip/hip_runtime.h>\n"
        "#define GPU_SYNC hipDeviceSynchronize\n"
        "#else\n"
        "#include <cuda_runtime.h>\n"
        "#define GPU_SYNC cudaDeviceSynchronize\n"
        "#endif\n"
        "#ifndef USE_ROCM\n"
        "void g() { cudaFree(0); }\n"
        "#endif\n"
        "#if defined(GGML_USE_HIP)\n"
        "void h() { cudaMalloc(0, 0); }\n"
        "#elif defined(SOME_FEATURE)\n"
        "void k() { cudaMemset(0, 0, 0); }\n"
        "#endif\n"
        "void z() { cudaGetLastError(); }\n"
    )
    result = [(f.span.line, f.severity) for f in analyze(code, path="kernel.cu")]
    assert result == [
        (5, Severity.NOTE),
        (6, Severity.NOTE),
        (9, Severity.NOTE),
        (14, Severity.NOTE),  # `#elif` after a HIP-only `#if`: only CUDA builds reach it
        (16, Severity.WARNING),  # a mapped name: hipify renames it
    ]


def test_a_branch_that_only_might_be_hip_stays_neutral():
    code = (
        "#if !defined(USE_ROCM) && defined(FAST)\n"
        "#else\n"
        "void g() { cudaFree(0); }\n"  # HIP builds, or CUDA builds without FAST
        "#endif\n"
        "#ifndef __HIP_PLATFORM_NVIDIA__\n"
        "void h() { cudaFree(0); }\n"
        "#endif\n"
        "#if defined(USE_ROCM) && HIP_VERSION >= 60000\n"
        "#elif defined(FAST)\n"
        "void k() { cudaFree(0); }\n"  # also HIP builds older than 6.0 with FAST
        "#endif\n"
    )
    assert [f.severity for f in analyze(code, path="kernel.cu")] == [Severity.WARNING] * 3


def test_a_parse_error_does_not_stop_the_analysis_of_the_rest():
    code = (
        "void broken( { int x = ;; ]] ) \n"
        "template <typename T struct Half {\n"
        "__global__ void k(float *p) {\n"
        "    asm volatile(\"exit;\");\n"
        "}\n"
        "void f() { cudaDeviceReset(); }\n"
    )
    assert [r for r, *_ in found(code)] == ["CDA410", "CDA401"]


@pytest.mark.parametrize("name", ["ops.cu", "ops.cuh", "ops.cpp", "ops.h", "ops.hpp", "ops.cc", "ops.inl"])
def test_cpp_files_that_use_cuda_are_analysed(name):
    assert [r for r, *_ in found("void f() { cudaDeviceReset(); }\n", path=name)] == ["CDA401"]


def test_a_plain_cpp_file_never_loads_the_parser(tmp_path):
    (tmp_path / "plain.cpp").write_text("#include <vector>\nint add(int a, int b) { return a + b; }\n")
    (tmp_path / "plain.h").write_text("struct Point { float x, y; };\n")
    probe = (
        "import sys\n"
        "from cudaudit.cli import app\n"
        "from typer.testing import CliRunner\n"
        f"result = CliRunner().invoke(app, ['scan', {str(tmp_path)!r}, '-j', '1'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print('tree_sitter' in sys.modules)\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
    assert completed.stdout.strip() == "False"


def test_host_cpp_that_can_hold_no_reference_is_not_parsed(monkeypatch):
    """Host C++ is read for its references alone: where its bytes spell no name or header the API
    table knows outside comments and literals, nothing can be found and the parse is skipped; a known
    name in code, or anywhere the lexical reading of prose is unsure, still goes through the parse,
    whose code map judges it."""
    from cudaudit.rules.kernels import syntax

    parsed: list[bytes] = []
    real = syntax.parse
    monkeypatch.setattr(syntax, "parse", lambda source: parsed.append(source) or real(source))
    catalog = load_catalog()
    skipped = [
        b"// builds with or without CUDA\nint add(int a, int b) { return a + b; }\n",
        b"// cudaMalloc is not called here\nint f();\n",
        b'/* as cudaMemcpyAsync does\n */ const char *k = "cudaFree(p); // not ours";\n',
        b'static const char *src = R"glsl(void main() { cudaMalloc(0); })glsl";\n',
        b"long n = 1'000'000; char q = '\\''; // cudaStream_t\n",
        b'#include "ggml-cuda.h"\n',
    ]
    for source in skipped:
        assert cuda_hits(source, catalog, device_code=False) == []
    assert parsed == []
    header = b"#include <thrust/sort.h>\n"
    after_prose = b'const char *url = "http://x"; void f() { cudaDeviceSynchronize(); }\n'
    found = {source: [hit.entry.rule.id for hit in cuda_hits(source, catalog, device_code=False)] for source in (header, after_prose)}
    assert found == {header: ["CDA404"], after_prose: ["CDA401"]}
    unsure = b"#error don't build this\n// cudaMalloc\n"  # a quote that starts no literal: every byte is code
    # The same after the name: the prose is read only as far as a question needs, and a name passed
    # over as a comment counts as code once the rest of the file reads unsure.
    unsure_after = b"// cudaMalloc\n#error don't build this\n"
    for source in (unsure, unsure_after):
        assert cuda_hits(source, catalog, device_code=False) == []
    assert parsed == [header, after_prose, unsure, unsure_after]


# -- hazards -------------------------------------------------------------------------------


def test_inline_ptx_in_code_and_in_macros_but_not_in_prose():
    code = (
        "__device__ unsigned lane() { unsigned l; asm volatile(\"mov.u32 %0, %%laneid;\" : \"=r\"(l)); return l; }\n"
        "#define FENCE() asm(\"membar.gl;\")\n"
        "// asm(\"nop;\") is how we used to do it\n"
        "__device__ void g() { __asm__ __volatile__(\"exit;\"); }\n"
    )
    # Inline PTX makes the whole file NVIDIA-only: one finding at the first site, counting all three.
    assert [(f.span.line, f.sites) for f in analyze(code, path="kernel.cu") if f.rule == "CDA410"] == [(1, 3)]
    source = code.encode()
    sites = [hit for hit in cuda_hits(source, load_catalog()) if hit.entry.rule.id == "CDA410"]
    assert [source[hit.start : hit.end].decode() for hit in sites] == ["asm volatile", "asm", "__asm__ __volatile__"]


def test_hazards_are_device_code_only():
    cpu = (
        '#include "ggml-cuda.h"\n'  # host code that uses CUDA ...
        "void sync() { cudaDeviceSynchronize(); }\n"
        "#define WARP_SIZE 32\n"  # ... with another GPU language's constant
        'static inline void spin() { __asm__ __volatile__("pause" ::: "memory"); }\n'
        'static inline void load(const float *p) { asm volatile("vle32.v v0, (%0)" :: "r"(p)); }\n'
    )
    assert [r for r, *_ in found(cpu, path="backend.cpp")] == ["CDA401"]
    assert [r for r, *_ in found(cpu.replace("sync()", "sync(int i)") + "__global__ void k() {}\n", path="k.cpp")] == [
        "CDA401",
        "CDA413",
    ]


def test_full_32_bit_masks_literal_macro_and_constant():
    code = (
        "#define FULL_MASK 0xffffffff\n"
        "constexpr unsigned kMask = 0xFFFFFFFFu;\n"
        "__device__ float f(float v) {\n"
        "    v += __shfl_xor_sync(FULL_MASK, v, 1);\n"
        "    v += __shfl_down_sync(kMask, v, 1);\n"
        "    v += __shfl_up_sync(~0u, v, 1);\n"
        "    v += __shfl_sync(0xffffffff, v, 0);\n"
        "    v += __shfl_sync(~0ull, v, 0) + __shfl_sync(-1, v, 0) + __shfl_sync(__activemask(), v, 0);\n"
        "    __syncwarp(0xffffffff);\n"
        "    v += __shfl_xor_sync(uint32_t(-1), v, 1) + __shfl_xor_sync((unsigned)-1, v, 2);\n"
        "    v += __shfl_xor_sync(static_cast<uint64_t>(-1), v, 4);\n"
        "    return v;\n"
        "}\n"
    )
    # `-1` is an int: HIP's `_sync` templates assert a mask of 8 bytes, so it fails as `~0u` does;
    # `~0ull`, `__activemask()` and a cast to 64 bits pass.
    assert [(line, t) for _, line, _, _, t in found(code, rule="CDA411")] == [
        (4, "FULL_MASK"),
        (5, "kMask"),
        (6, "~0u"),
        (7, "0xffffffff"),
        (8, "-1"),
        (9, "0xffffffff"),
        (10, "uint32_t(-1)"),
        (10, "(unsigned)-1"),
    ]


def test_ballots_kept_or_counted_in_32_bits():
    code = (
        "__device__ int f(int p) {\n"
        "    unsigned a = __ballot_sync(__activemask(), p);\n"
        "    uint32_t b;\n"
        "    b = __activemask();\n"
        "    int c = __popc(__ballot_sync(__activemask(), p));\n"
        "    auto d = __ballot_sync(__activemask(), p);\n"
        "    unsigned long long e = __ballot(p);\n"
        "    return a + b + c + __popcll(d) + __popcll(e);\n"
        "}\n"
    )
    assert [line for _, line, *_ in found(code, rule="CDA412")] == [2, 4, 5]


def test_warp_size_32_in_lane_math_constants_loops_and_shared_arrays():
    code = (
        "#define WARP_SIZE 32\n"
        "template <int kWarpSize = 32> __device__ void t() {}\n"
        "__global__ void k(float *x, int tid) {\n"
        "    int lane = threadIdx.x % 32, warp = threadIdx.x >> 5, l2 = (threadIdx.x + 1) & 31;\n"
        "    int block = tid / 32;\n"
        "    __shared__ float partial[1024 / 32];\n"
        "    float tile[256 / 32];\n"
        "    float v = x[0];\n"
        "    for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(__activemask(), v, o);\n"
        "    for (int o = 1; o < 32; o *= 2) v += __shfl_up_sync(__activemask(), v, o);\n"
        "    for (int i = 16; i > 0; i--) x[i] = 0;\n"
        "}\n"
    )
    result = [(line, t) for _, line, _, _, t in found(code, rule="CDA413")]
    assert result == [
        (1, "32"),
        (2, "32"),
        (4, "threadIdx.x % 32"),
        (4, "threadIdx.x >> 5"),
        (4, "(threadIdx.x + 1) & 31"),
        (6, "1024 / 32"),
        (9, "16"),
        (10, "32"),
    ]
    shared = [f for f in analyze(code, path="kernel.cu") if f.rule == "CDA413" and f.span.line == 6]
    assert shared[0].severity is Severity.WARNING


def test_wmma_cutlass_clusters_textures_cooperative_groups_managed_memory():
    code = (
        "using namespace nvcuda;\n"
        "__global__ void k(const half *a, cudaTextureObject_t t, float *out) {\n"
        "    wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fa;\n"
        "    cutlass::gemm::GemmShape<128, 128, 32> shape;\n"
        "    auto cluster = cooperative_groups::this_cluster();\n"
        "    out[0] = tex1Dfetch<float>(t, 0);\n"
        "    auto grid = cooperative_groups::this_grid(); grid.sync();\n"
        "}\n"
        "__managed__ int counter;\n"
        "texture<float, 1> lut;\n"
        "int texture = 3;\n"
    )
    source = code.encode()
    lines = [(hit.entry.rule.id, source.count(b"\n", 0, hit.start) + 1) for hit in cuda_hits(source, load_catalog())]
    assert sorted((r, line) for r, line in lines if r >= "CDA414") == sorted([
        ("CDA414", 3),
        ("CDA415", 4),
        ("CDA416", 5),
        ("CDA418", 6),
        ("CDA419", 7),
        ("CDA420", 9),
        ("CDA418", 10),
    ])
    # CUTLASS makes the file NVIDIA-only: one finding carries every CUDA site of it.
    (verdict,) = analyze(code, path="kernel.cu")
    assert (verdict.rule, verdict.span.line, verdict.sites) == ("CDA415", 4, len(lines))


def test_only_a_barrier_across_the_grid_needs_a_cooperative_launch():
    """A grid group used for its rank and size runs from an ordinary launch; its `sync()`, however
    spelled, and a multi-device group need a cooperative one."""
    head = "namespace cg = cooperative_groups;\n__global__ void k(float *p, int n) {\n    cg::grid_group grid = cg::this_grid();\n"
    rank = "    for (int i = grid.thread_rank(); i < n; i += grid.size()) p[i] = 0;\n    cg::this_thread_block().sync();\n"

    def grid_sites(body: str) -> list[tuple[str, str]]:
        source = (head + body + "}\n").encode()
        return [(hit.entry.match, source[hit.start:hit.end].decode()) for hit in cuda_hits(source, load_catalog())
                if hit.entry.rule.id == "CDA419"]

    assert grid_sites(rank + "    // grid.sync();\n") == []
    assert grid_sites(rank + "    grid.sync();\n") == [("grid-sync", "grid.sync()")]
    assert grid_sites("    cg::sync(grid);\n") == [("grid-sync", "sync(grid)")]
    assert grid_sites("    cg::this_grid().sync();\n") == [("grid-sync", "cg::this_grid().sync()")]
    assert grid_sites("    auto all = cg::this_multi_grid();\n") == [("multi-grid", "this_multi_grid")]


def test_kernel_launches_from_device_code():
    code = (
        "__global__ void child(float *p) {}\n"
        "__global__ void parent(float *p) { child<<<1, 1>>>(p); }\n"
        "__device__ void helper(float *p) { child<<<1, 1>>>(p); }\n"
        "void host(float *p) { child<<<1, 1>>>(p); }\n"
    )
    assert [line for _, line, *_ in found(code, rule="CDA417")] == [2, 3]


# -- the scan's migration statistics -----------------------------------------------------------

KERNEL = (
    "#include <cuda_runtime.h>\n"
    "__global__ void k(float *p) { asm(\"exit;\"); int lane = threadIdx.x & 31; }\n"
    "void f(CUtensorMap *m) { cudaDeviceReset(); }\n"
)


def test_json_summary_counts_references_mappable_not_mappable_and_hazards(cli, tmp_path):
    write(tmp_path / "src" / "k.cu", KERNEL)
    write(tmp_path / "src" / "plain.cpp", "int main() { return 0; }\n")
    migration = scan_json(cli)["summary"]["migration"]
    counts = {"references": 3, "mappable": 2, "not_mappable": 1, "hazards": 2}
    assert migration == {"total": {**counts, "files": 1}, "files": {"src/k.cu": counts}}
    # On CPU alone every CUDA site is a note (the file is built for GPUs only): counted when shown.
    without_rocm = scan_json(cli, "--target", "cpu", "--show-portable")["summary"]["migration"]["total"]
    assert (without_rocm["references"], without_rocm["mappable"], without_rocm["not_mappable"]) == (3, None, None)


def test_verbose_text_report_ends_with_the_migration_table(cli, tmp_path):
    write(tmp_path / "k.cu", KERNEL)
    output = cli("scan", ".", "--verbose").stdout
    table = output[output.index("CUDA sources: migration to HIP") :]
    assert "k.cu" in table
    assert "total (1 file)" in table
    assert [line.split()[-4:] for line in table.splitlines() if line.startswith("k.cu")] == [["3", "2", "1", "2"]]


def test_a_macro_defined_only_for_cuda_marks_its_branches_cuda_only():
    code = (
        "#ifndef __HIP_PLATFORM_AMD__\n"
        "#define HAS_PTX 1\n"
        "#endif\n"
        "__device__ void store(int* p) {\n"
        "#ifdef HAS_PTX\n"
        '  asm volatile("st.global.u32 [%0], 1;" :: "l"(p));\n'
        "#else\n"
        "  *p = 1;\n"
        "#endif\n"
        "}\n"
        "#define EVERYWHERE 1\n"
        "#ifdef EVERYWHERE\n"
        '__device__ void g(int* p) { asm volatile("st.global.u32 [%0], 2;" :: "l"(p)); }\n'
        "#endif\n"
    )
    ptx = [(f.span.line, f.severity) for f in analyze(code, path="kernel.cu") if f.rule == "CDA410"]
    assert ptx == [(6, Severity.NOTE), (13, Severity.ERROR)]


def test_a_macro_a_project_header_defines_for_cuda_counts_in_the_files_that_use_it(cli, tmp_path):
    from support import scan_json, write

    write(tmp_path / "include" / "utils.h", "#ifdef __HIP_PLATFORM_AMD__\n#define WAVE 64\n#else\n#define PTX_AVAILABLE\n#endif\n")
    write(
        tmp_path / "kernel.cu",
        '__device__ void f(int* p) {\n#ifdef PTX_AVAILABLE\n  asm volatile("st.global.u32 [%0], 1;" :: "l"(p));\n'
        "#else\n  *p = 1;\n#endif\n}\n",
    )
    together = [(f["path"], f["severity"]) for f in scan_json(cli, "--show-portable")["findings"] if f["rule"] == "CDA410"]
    assert together == [("kernel.cu", "note")]
    alone = [f["severity"] for f in scan_json(cli, "kernel.cu")["findings"] if f["rule"] == "CDA410"]
    assert alone == ["error"]  # without the header, nothing says the branch is CUDA-only


def test_cuda_arch_branches_are_cuda_only_since_no_hip_build_defines_it():
    code = (
        "__device__ void f(float* p) {\n"
        "#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 700\n"
        "  cublasSgemmEx(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);\n"
        "#elif __CUDA_ARCH__ >= 900\n"
        '  asm volatile("st.global.u32 [%0], 1;" :: "l"(p));\n'
        "#endif\n"
        "#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800\n"
        '  asm volatile("st.global.u32 [%0], 2;" :: "l"(p));\n'  # HIP compiles this branch
        "#endif\n"
        "}\n"
    )
    assert [(f.span.line, f.severity) for f in analyze(code, path="kernel.cu")] == [
        (3, Severity.NOTE), (5, Severity.NOTE), (8, Severity.ERROR)
    ]
