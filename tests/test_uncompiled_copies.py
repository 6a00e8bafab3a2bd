"""A vendored package copy whose kernels no build compiles, and the build of another copy of the
same package (`rules/builds/uncompiled_copies.py`, `unbuilt_extensions.builds_copy_of`)."""

from __future__ import annotations

from pathlib import Path

from support import scan_json, write

KERNEL = """#include <cuda_runtime.h>

__global__ void warp_kernel(float* out, const float* in) {
    float v = in[threadIdx.x];
    v += __shfl_down_sync(0xffffffff, v, 16);
    out[threadIdx.x] = v;
}

void warp_forward(float* out, const float* in, cudaStream_t stream) {
    warp_kernel<<<1, 32, 0, stream>>>(out, in);
    cudaGetLastError();
}
"""
WRAPPER = "from warpkit import _C\n\n\ndef warp(x):\n    return _C.forward(x)\n"
SETUP = """from setuptools import setup
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CUDAExtension


def modules():
    if CUDA_HOME is not None:
        kind = CUDAExtension
    else:
        return []
    return [kind("warpkit._C", ["warpkit/layers/csrc/warp.cu"])]


setup(name="warpkit", ext_modules=modules(), cmdclass={"build_ext": BuildExtension})
"""
CPU_BINARY = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56 + b"libc10.so\x00libtorch_cpu.so\x00libtorch_python.so\x00"
CUDA_BINARY = CPU_BINARY + b"libc10_cuda.so\x00libcudart.so.11.0\x00"


def _project(root: Path, binary: bytes | None = CPU_BINARY, app: str = "from warpkit.layers.op import warp\n") -> None:
    """A demo that carries a copy of `warpkit` with its kernels and a prebuilt `_C`, and, in another
    folder, the upstream checkout of `warpkit` with the `setup.py` that builds its own copy."""
    for copy in ("proj/demo", "proj/third_party/warpkit"):
        write(root / copy / "warpkit" / "__init__.py", "")
        write(root / copy / "warpkit" / "layers" / "__init__.py", "")
        write(root / copy / "warpkit" / "layers" / "op.py", WRAPPER)
        write(root / copy / "warpkit" / "layers" / "csrc" / "warp.cu", KERNEL)
    write(root / "proj" / "third_party" / "warpkit" / "setup.py", SETUP)
    write(root / "proj" / "README.md", "Run `python demo/app.py`.\n")
    write(root / "proj" / "demo" / "app.py", app)
    if binary is not None:
        write(root / "proj" / "demo" / "warpkit" / "_C.cpython-310-x86_64-linux-gnu.so", binary)


def _severities(report: dict, path: str) -> set[str]:
    return {f["severity"] for f in report["findings"] if f["path"] == path}


DEMO_KERNEL = "proj/demo/warpkit/layers/csrc/warp.cu"
UPSTREAM_KERNEL = "proj/third_party/warpkit/warpkit/layers/csrc/warp.cu"


def test_the_kernels_of_a_copy_that_ships_a_cpu_build_and_no_build_script_are_notes(cli, tmp_path):
    _project(tmp_path)
    report = scan_json(cli, "--no-cache", "proj", cwd=tmp_path)
    assert _severities(report, DEMO_KERNEL) == set()
    assert "error" in _severities(report, UPSTREAM_KERNEL)  # the checkout's own build compiles its copy
    shown = scan_json(cli, "--no-cache", "--show-portable", "proj", cwd=tmp_path)
    demo = [f for f in shown["findings"] if f["path"] == DEMO_KERNEL]
    assert demo and {f["severity"] for f in demo} == {"note"}
    assert "proj/demo/warpkit/__init__.py:1" in demo[0]["targets"]["rocm"]["source"]


def test_a_copy_with_no_binary_at_all_keeps_its_kernels_reported(cli, tmp_path):
    # with no prebuilt extension, what compiles the sources may be a build the scan cannot read
    # (a JIT load over a glob): they stay the project's lock-in
    _project(tmp_path, binary=None)
    assert "error" in _severities(scan_json(cli, "--no-cache", "proj", cwd=tmp_path), DEMO_KERNEL)


def test_the_kernels_of_a_copy_that_ships_a_cuda_build_stay_reported(cli, tmp_path):
    _project(tmp_path, binary=CUDA_BINARY)
    assert "error" in _severities(scan_json(cli, "--no-cache", "proj", cwd=tmp_path), DEMO_KERNEL)


def test_kernels_a_jit_build_names_stay_reported(cli, tmp_path):
    jit = (
        "import os\nfrom torch.utils.cpp_extension import load\n\n"
        "here = os.path.dirname(__file__)\n"
        "ext = load(name='warp', sources=[os.path.join(here, 'warpkit', 'layers', 'csrc', 'warp.cu')])\n"
    )
    _project(tmp_path, app=jit)
    assert "error" in _severities(scan_json(cli, "--no-cache", "proj", cwd=tmp_path), DEMO_KERNEL)


def test_a_package_at_the_top_of_the_scan_may_be_built_from_above_it(cli, tmp_path):
    _project(tmp_path)
    report = scan_json(cli, "--no-cache", "warpkit", cwd=tmp_path / "proj" / "demo")
    assert "error" in _severities(report, "warpkit/layers/csrc/warp.cu")


def test_a_cached_scan_reads_the_shipped_binary_again(cli, tmp_path):
    _project(tmp_path)
    first = scan_json(cli, "proj", cwd=tmp_path)
    (tmp_path / "proj" / "demo" / "warpkit" / "_C.cpython-310-x86_64-linux-gnu.so").write_bytes(CUDA_BINARY)
    second = scan_json(cli, "proj", cwd=tmp_path)
    assert _severities(first, DEMO_KERNEL) == set()
    assert "error" in _severities(second, DEMO_KERNEL)


def test_the_calls_of_a_copy_s_extension_are_tied_to_that_copy_s_build_alone(cli, tmp_path):
    _project(tmp_path)
    report = scan_json(cli, "--no-cache", "proj", cwd=tmp_path)
    calls = {(f["path"], f["severity"]) for f in report["findings"] if f["rule"] == "CDA446"}
    assert calls == {("proj/third_party/warpkit/warpkit/layers/op.py", "error")}
