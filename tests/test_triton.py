"""Triton kernels and CUDA C++ held in Python strings, through the real Python analyzer:
the kernel strings are analysed as CUDA and every finding points into the `.py` file."""

from __future__ import annotations

from cudaudit.model import Severity
from support import analyze, scan_json, write


def rules_at(code: str, path: str = "example.py") -> list[tuple[str, int, int, str]]:
    """(rule, line, column, flagged text) of each finding."""
    lines = code.split("\n")
    result = []
    for f in analyze(code, path=path):
        line = lines[f.span.line - 1]
        text = line[f.span.column - 1 : f.span.end_column - 1] if f.span.line == f.span.end_line else line[f.span.column - 1 :]
        result.append((f.rule, f.span.line, f.span.column, text))
    return result


def test_triton_kernels_inline_asm_and_cuda_libdevice():
    code = (
        "import triton\n"
        "import triton.language as tl\n"
        "\n"
        "@triton.jit\n"
        "def k(x_ptr, BLOCK: tl.constexpr):\n"
        "    x = tl.load(x_ptr + tl.arange(0, BLOCK))\n"
        "    y = tl.inline_asm_elementwise('mov.b32 $0, $1;', '=r,r', [x], dtype=tl.int32, is_pure=True, pack=1)\n"
        "    z = tl.extra.cuda.libdevice.tanh(x)\n"
    )
    found = [(r, line, t) for r, line, _, t in rules_at(code)]
    assert found == [
        ("CDA301", 4, "triton.jit"),
        ("CDA302", 7, "tl.inline_asm_elementwise"),
        ("CDA303", 8, "tl.extra.cuda.libdevice.tanh"),
    ]
    facts = {f.rule: f.targets["rocm"].status.value for f in analyze(code)}
    assert facts == {"CDA301": "works", "CDA302": "blocked", "CDA303": "change"}


def test_portable_triton_is_only_a_kernel_note_on_rocm():
    code = (
        "import triton\n"
        "from triton.language.extra import libdevice\n"
        "\n"
        "@triton.jit\n"
        "def k(x):\n"
        "    return libdevice.asin(x)\n"
    )
    [finding] = analyze(code, targets=("rocm",))
    assert (finding.rule, finding.severity) == ("CDA301", Severity.NOTE)


def test_cuda_in_a_raw_kernel_string_is_found_at_its_place_in_the_python_file():
    code = (
        "import cupy as cp\n"
        "\n"
        'KERNEL = r"""\n'
        'extern "C" __global__ void reduce(const float *x, float *out) {\n'
        "    float v = x[threadIdx.x];\n"
        "    v += __shfl_down_sync(0xffffffff, v, 16);\n"
        '    asm volatile("exit;");\n'
        "}\n"
        '"""\n'
        'reduce = cp.RawKernel(KERNEL, "reduce")\n'
    )
    assert rules_at(code) == [
        ("CDA201", 1, 1, "import cupy as cp"),
        ("CDA401", 6, 10, "__shfl_down_sync"),
        ("CDA410", 7, 5, "asm volatile"),  # with the 32-bit mask, moot in a kernel HIP cannot compile
        ("CDA304", 10, 10, "cp.RawKernel"),
    ]


def test_positions_survive_escapes_concatenation_and_non_ascii():
    code = (
        "import cupy\n"
        'k = cupy.RawKernel("// é\\n"\n'
        '                   "__global__ void k() { \\tcudaDeviceReset(); }", "k")\n'
    )
    found = [(r, line, column, t) for r, line, column, t in rules_at(code) if r == "CDA401"]
    column = code.split("\n")[2].index("cudaDeviceReset") + 1
    assert found == [("CDA401", 3, column, "cudaDeviceReset")]


def test_load_inline_cuda_sources_and_pycuda_source_modules():
    code = (
        "from torch.utils.cpp_extension import load_inline\n"
        "from pycuda.compiler import SourceModule\n"
        'CUDA = ["__global__ void a(unsigned *m) { *m = __ballot_sync(~0ull, 1); }"]\n'
        'ops = load_inline(name="ops", cpp_sources="", cuda_sources=CUDA)\n'
        'mod = SourceModule("__global__ void b() { int lane = threadIdx.x & 31; }")\n'
    )
    found = {(r, line) for r, line, _, _ in rules_at(code)}
    assert {("CDA440", 4), ("CDA304", 5), ("CDA413", 5), ("CDA202", 2)} <= found
    assert not {"CDA411", "CDA412"} & {r for r, _ in found}  # a 64-bit mask, stored through a pointer


def test_strings_that_are_not_kernel_sources_are_never_analysed_as_cuda():
    code = (
        "import cupy as cp\n"
        'DOC = "call cudaMalloc(&p, n) then cudaFree(p)"\n'
        "print(DOC)\n"
        'k = cp.RawKernel(get_source(), "k")\n'
    )
    assert [r for r, *_ in rules_at(code)] == ["CDA201", "CDA304"]


def test_the_scan_reports_embedded_cuda_in_the_migration_summary(cli, tmp_path):
    write(
        tmp_path / "ops.py",
        'import cupy\nk = cupy.RawKernel("__global__ void k() { cudaDeviceReset(); asm(\\"exit;\\"); }", "k")\n',
    )
    summary = scan_json(cli)["summary"]["migration"]
    assert summary["files"] == {"ops.py": {"references": 1, "mappable": 1, "not_mappable": 0, "hazards": 1}}


SCALED = '''import torch
import triton
import triton.language as tl


@eval("""triton.heuristics({"BLOCK": lambda args: triton.next_power_of_2(args["n"])})""")
@triton.jit
def _scale_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) * 2, mask=offs < n)


def scale(x):
    if x.device.type != "cuda":
        return x * 2
    out = torch.empty_like(x)
    _scale_kernel[(1,)](x, out, x.numel())
    return out
'''


def test_a_kernel_under_a_decorator_spelled_in_an_eval_string_runs_only_where_launched():
    """`@eval("triton.heuristics({...})")` is the decorator its string spells (read, never run): the kernel
    still runs only where it is launched, here past a return for tensors off CUDA, so never on a CPU, as
    under a plain `@triton.heuristics(...)`. Launched for every tensor, it keeps its CPU verdict."""
    def cpu(code: str) -> set[Severity]:
        return {f.targets["cpu"].severity for f in analyze(code) if f.rule == "CDA301"}

    plain = SCALED.replace('@eval("""triton.heuristics(', "@triton.heuristics(").replace(')""")\n@triton.jit', ")\n@triton.jit")
    assert "eval" not in plain
    assert cpu(SCALED) == cpu(plain) == {Severity.NOTE}
    unguarded = SCALED.replace('    if x.device.type != "cuda":\n        return x * 2\n', "")
    assert Severity.NOTE not in cpu(unguarded)
    assert Severity.NOTE not in cpu(SCALED.replace('@eval("""', '@eval(f"""'))  # a formatted string is not read


MADE_IN_A_FACTORY = '''import torch
import triton
import triton.language as tl


def _shift_body(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) + 1, mask=offs < n)


def _make_shift_kernel():
    torch.cuda.set_device(0)
    kernel = triton.heuristics({"BLOCK": lambda args: 256})(triton.jit(_shift_body))
    return kernel


def _make_shift():
    kernel = _make_shift_kernel()

    def shift(x):
        if not x.is_cuda:
            return x + 1
        kernel[(triton.cdiv(x.numel(), 256),)](x, x.numel())
        return x

    return shift


shift = _make_shift()
'''


def test_a_kernel_factory_s_own_device_calls_keep_their_reading_where_its_kernel_follows_the_launches():
    """The factory runs at import (`_make_shift()` at module level calls it): what it makes is a kernel
    object launched only for CUDA tensors, but its own `torch.cuda.set_device(0)` runs there, on a CPU too."""
    cpu = {(f.rule, f.span.line): f.targets["cpu"].severity for f in analyze(MADE_IN_A_FACTORY)}
    assert cpu[("CDA301", 13)] is Severity.NOTE, "the kernel runs where it is launched: only for CUDA tensors"
    assert cpu[("CDA101", 12)] is Severity.ERROR, "the factory's own line runs where the factory is called"
