"""CUDA extensions that ROCm does not run: sources only CUDA builds of PyTorch load (ROCm takes
another route), and calls of an extension a ROCm install builds without GPU code. Through the real
project index and analyzers, on small projects of our own."""

from __future__ import annotations

from cudaudit.model import Severity
from support import analyze

LOADER = '''import os
from torch.utils.cpp_extension import load

here = os.path.dirname(__file__)
lib = load(name="packops", sources=[os.path.join(here, s) for s in ["pack.cu", "sub/mask.cu"]])
'''
KERNEL = '''#include <cuda_fp16.h>
__global__ void pack(int *out) {
    int v = __shfl_xor_sync(0xffffffff, threadIdx.x, 1);
    asm volatile("membar.gl;");
    out[threadIdx.x] = v;
}
'''


def _project(gate: str) -> dict[str, str]:
    return {
        "pkg/ops/__init__.py": f"import torch\n\n{gate}\n    from .nv import *\n",
        "pkg/ops/nv/__init__.py": LOADER,
        "pkg/ops/nv/pack.cu": KERNEL,
        "pkg/ops/nv/sub/mask.cu": KERNEL,
        "pkg/ops/nv/sub/mask.cuh": KERNEL,
    }


def test_sources_only_cuda_builds_load_are_notes_on_rocm_citing_the_import():
    files = _project("if torch.cuda.is_available() and torch.version.cuda:")
    for source in ("pkg/ops/nv/pack.cu", "pkg/ops/nv/sub/mask.cu", "pkg/ops/nv/sub/mask.cuh"):
        found = analyze(files[source], path=source, files=files)
        assert found
        assert {f.targets["rocm"].severity for f in found} == {Severity.NOTE}
        assert all("pkg/ops/__init__.py:4" in f.targets["rocm"].source for f in found)


def test_the_import_is_one_warning_for_the_component_naming_the_rocm_sibling():
    files = _project("if torch.version.cuda:")
    files["pkg/ops/__init__.py"] += "elif torch.version.hip:\n    from .amd import *\n"
    files["pkg/ops/amd/__init__.py"] = 'from torch.utils.cpp_extension import load\nlib = load(name="a", sources=["pack.hip"])\n'
    found = [f for f in analyze(files["pkg/ops/__init__.py"], path="pkg/ops/__init__.py", files=files) if f.rule == "CDA445"]
    assert [(f.span.line, f.severity) for f in found] == [(4, Severity.WARNING)]
    assert "(3 sources)" in found[0].message and "pkg/ops/amd/__init__.py" in found[0].message


def test_sources_a_cuda_test_loads_keep_their_rocm_verdicts():
    """ROCm's PyTorch passes `torch.cuda.is_available()`: it loads them, and compiles them."""
    files = _project("if torch.cuda.is_available():")
    found = analyze(files["pkg/ops/nv/pack.cu"], path="pkg/ops/nv/pack.cu", files=files)
    assert Severity.ERROR in {f.targets["rocm"].severity for f in found}
    assert not [f for f in analyze(files["pkg/ops/__init__.py"], path="pkg/ops/__init__.py", files=files) if f.rule == "CDA445"]


SETUP_NOTHING = '''import torch
from setuptools import setup
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CUDAExtension


def modules():
    if CUDA_HOME is not None:
        kind = CUDAExtension
    else:
        return []
    return [kind("warp._kern", ["csrc/k.cpp", "csrc/k.cu"])]


setup(name="warp", ext_modules=modules(), cmdclass={"build_ext": BuildExtension})
'''
SETUP_CPP = '''from setuptools import setup
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension

kind, sources = CppExtension, ["csrc/k.cpp"]
if CUDA_HOME is not None:
    kind, sources = CUDAExtension, sources + ["csrc/k.cu"]
setup(name="warp", ext_modules=[kind("warp._kern", sources)], cmdclass={"build_ext": BuildExtension})
'''


def _calls(wrapper: str, setup: str, path: str = "warp/layers/warp_op.py") -> list[tuple[int, Severity]]:
    files = {"setup.py": setup, "warp/__init__.py": "", "warp/layers/__init__.py": ""}
    return [(f.span.line, f.severity) for f in analyze(wrapper, path=path, files=files) if f.rule == "CDA446"]


def test_a_call_with_no_module_built_on_rocm_and_no_check_is_an_error():
    wrapper = "from .. import _kern\n\n\ndef warp(x):\n    return _kern.forward(x)\n"
    assert _calls(wrapper, SETUP_NOTHING) == [(5, Severity.ERROR)]


def test_a_wrapper_that_checks_the_module_loaded_takes_its_fallback():
    checked = (
        "try:\n    from warp import _kern\nexcept ImportError:\n    _kern = None\n\n\n"
        "def warp(x):\n    if hasattr(_kern, 'forward') and x.is_cuda:\n        return _kern.forward(x)\n    return x\n"
    )
    flagged = (
        "try:\n    from warp import _kern\n    HAVE = True\nexcept ImportError:\n    HAVE = False\n\n\n"
        "def warp(x):\n    if HAVE and x.is_cuda:\n        return _kern.forward(x)\n    return x\n"
    )
    fallback = "try:\n    import warp._kern as _kern\nexcept ImportError:\n    from warp import reference as _kern\n\n\ndef warp(x):\n    return _kern.forward(x)\n"
    assert _calls(checked, SETUP_NOTHING) == []
    assert _calls(flagged, SETUP_NOTHING) == []
    assert _calls(fallback, SETUP_NOTHING) == []


def test_a_cpp_only_module_on_rocm_fails_on_gpu_tensors_whatever_the_wrapper_checks():
    wrapper = (
        "try:\n    from warp import _kern\nexcept ImportError:\n    _kern = None\n\n\n"
        "def warp(x):\n    if _kern is not None:\n        return _kern.forward(x)\n    return x\n"
    )
    assert _calls(wrapper, SETUP_CPP) == [(9, Severity.ERROR)]


def test_a_build_that_asks_about_rocm_or_another_extension_gives_no_finding():
    rocm_aware = SETUP_NOTHING.replace("if CUDA_HOME is not None:", "if CUDA_HOME is not None or torch.version.hip:")
    wrapper = "from warp import _kern\n\n\ndef warp(x):\n    return _kern.forward(x)\n"
    assert _calls(wrapper, rocm_aware) == []
    assert _calls(wrapper.replace("_kern", "_other"), SETUP_NOTHING) == []


def _gate(wrapper: str, setup: str) -> list[Severity]:
    files = {"warp/__init__.py": "", "warp/layers/__init__.py": "", "warp/layers/warp_op.py": wrapper}
    return [f.severity for f in analyze(setup, path="setup.py", files=files) if f.rule == "CDA444"]


def test_the_build_gate_is_an_error_where_a_wrapper_calls_the_missing_extension():
    unchecked = "from warp import _kern\n\n\ndef warp(x):\n    return _kern.forward(x)\n"
    checked = "try:\n    from warp import _kern\nexcept ImportError:\n    _kern = None\n\n\ndef warp(x):\n    return _kern.forward(x) if _kern else x\n"
    assert _gate(unchecked, SETUP_NOTHING) == [Severity.ERROR]
    assert _gate(checked, SETUP_NOTHING) == [Severity.WARNING]
    assert _gate(checked, SETUP_CPP) == [Severity.ERROR]
