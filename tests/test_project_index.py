"""The project index: what the scan's files say about each other, read once, file by file."""

from __future__ import annotations

import json
import pickle
from functools import partial
from pathlib import PurePath

import pytest

from cudaudit.facts import Counterpart, Evidence
from cudaudit.filekinds import FileKind, classify
from cudaudit.model import Severity
from cudaudit.project_index import IndexedFile, build_index
from cudaudit.rules.catalog import load_catalog
from cudaudit.safe_read import UnreadableFile
from support import analyze, rule_severity, scan_json, severities_by_file, write

HIP_HEADER = """#pragma once
#include <hip/hip_runtime.h>
#define cudaStream_t hipStream_t
#define __shfl_xor_sync(mask, var, laneMask, width) __shfl_xor(var, laneMask, width)
typedef __hip_bfloat16 __nv_bfloat16;
"""
COMMON = """#pragma once
#if defined(USE_HIP)
#include "vendors/hip.h"
#else
#include "vendors/cuda.h"
#endif
"""


def index_of(files: dict[str, str]):
    entries = [IndexedFile(path, classify(PurePath(path)), partial(str.encode, text)) for path, text in files.items()]
    return build_index(entries, load_catalog())


def test_a_header_mapping_cuda_names_reaches_the_sources_that_include_it():
    index = index_of(
        {
            "gpu/vendors/hip.h": HIP_HEADER,
            "gpu/vendors/cuda.h": "#pragma once\n#include <cuda_runtime.h>\n",
            "gpu/common.cuh": COMMON,
            "gpu/ops.cu": '#include "common.cuh"\n#include "ops.cuh"\n',
            "gpu/ops.cuh": "void launch(cudaStream_t s);\n",
            "other/alone.cu": "void f(cudaStream_t s);\n",
        }
    )
    mapped = {p.name: p for p in index.facts("gpu/ops.cu", (FileKind.CUDA,)).ported_names}
    assert set(mapped) == {"cudaStream_t", "__shfl_xor_sync", "__nv_bfloat16"}
    assert mapped["cudaStream_t"].evidence == Evidence("gpu/vendors/hip.h", 3, "#define cudaStream_t hipStream_t")
    assert mapped["__shfl_xor_sync"].dropped == (0,)  # the mask never reaches HIP
    # A header is read where it is included: every includer of ops.cuh reaches the layer.
    assert index.facts("gpu/ops.cuh", (FileKind.CUDA,)).ported_names == index.facts("gpu/ops.cu", (FileKind.CUDA,)).ported_names
    assert index.facts("other/alone.cu", (FileKind.CUDA,)).ported_names == ()
    # hip.h is HIP's side; cuda.h is included only where HIP builds do not look.
    assert index.facts("gpu/vendors/hip.h", (FileKind.CUDA,)).porting_layer is not None
    assert index.facts("gpu/vendors/cuda.h", (FileKind.CUDA,)).cuda_only == Evidence("gpu/common.cuh", 5)


def test_a_mapped_name_works_on_rocm_citing_the_header_and_a_dropped_mask_is_no_hazard():
    code = '#include "common.cuh"\n__device__ float f(float v, cudaStream_t s) { return __shfl_xor_sync(0xffffffff, v, 1, 32); }\n'
    found = analyze(code, path="gpu/ops.cu", files={"gpu/vendors/hip.h": HIP_HEADER, "gpu/common.cuh": COMMON})
    stream = next(f for f in found if "cudaStream_t" in f.message)
    assert stream.targets["rocm"].status.value == "works"
    assert stream.targets["rocm"].source.startswith("gpu/vendors/hip.h:3")
    assert not [f for f in found if f.rule == "CDA411"]
    assert all(f.severity.value == "note" for f in found)
    alone = analyze(code, path="gpu/ops.cu")
    assert {f.rule for f in alone if f.severity.value != "note"} >= {"CDA401", "CDA411"}


def test_a_setup_py_that_also_builds_for_rocm_hipifies_its_sources():
    setup = (
        "import torch\nfrom setuptools import setup\nfrom torch.utils.cpp_extension import CUDAExtension\n"
        'use_rocm = torch.version.hip is not None\nsetup(ext_modules=[CUDAExtension("k", ["csrc/k.cu"])])\n'
    )
    index = index_of({"setup.py": setup, "csrc/k.cu": "void f() { cudaDeviceSynchronize(); }\n"})
    assert index.facts("csrc/k.cu", (FileKind.CUDA,)).hipified_by == Evidence("setup.py", 4, "use_rocm = torch.version.hip is not None")


def test_a_plain_cuda_extension_is_hipified_on_rocm_without_claiming_a_rocm_build():
    """PyTorch hipifies a `CUDAExtension`'s sources on ROCm whether or not the script asks, so the
    renames are done; the project claims nothing, so its hazards are not softened. A CMake build
    of the same folder that compiles the sources as HIP says more."""
    setup = (
        "from setuptools import setup\nfrom torch.utils.cpp_extension import CUDAExtension as Ext\n"
        'setup(ext_modules=[\n    Ext("k", ["csrc/k.cu"])])\n'
    )
    kernel = "void f() { cudaDeviceSynchronize(); }\n"
    facts = index_of({"setup.py": setup, "csrc/k.cu": kernel}).facts("csrc/k.cu", (FileKind.CUDA,))
    assert facts.hipified_by == Evidence("setup.py", 4, 'Ext("k", ["csrc/k.cu"])])') and facts.rocm_build is None
    cmake = "set(GPU_SOURCES csrc/k.cu)\nenable_language(HIP)\nset_source_files_properties(${GPU_SOURCES} PROPERTIES LANGUAGE HIP)\n"
    both = index_of({"setup.py": setup, "CMakeLists.txt": cmake, "csrc/k.cu": kernel}).facts("csrc/k.cu", (FileKind.CUDA,))
    assert both.rocm_build == Evidence("CMakeLists.txt", 2, "enable_language(HIP)") and both.hipified_by is None
    unrelated = setup.replace("torch.utils.cpp_extension", "mytools")
    assert index_of({"setup.py": unrelated, "csrc/k.cu": kernel}).facts("csrc/k.cu", (FileKind.CUDA,)).hipified_by is None


def test_a_cuda_build_chosen_by_cuda_home_is_reported_at_its_test_and_not_at_the_names_hipify_maps(cli, tmp_path):
    """`CUDA_HOME` is None on ROCm, so the script builds its C++ sources alone there: the lock-in is
    the test. The class it chooses is still `CUDAExtension`, which hipifies the kernel's names where
    the test lets it through (`FORCE_CUDA=1`), so they are not reported one by one."""
    setup = (
        "import os\nimport torch\nfrom torch.utils.cpp_extension import CUDA_HOME, CppExtension, CUDAExtension\n"
        "kind, sources = CppExtension, ['csrc/k.cpp']\n"
        "if (torch.cuda.is_available() and CUDA_HOME is not None) or os.getenv('FORCE_CUDA', '0') == '1':\n"
        "    kind, sources = CUDAExtension, sources + ['csrc/k.cu']\n"
        "ext = kind('k', sources)\n"
    )
    kernel = "void f(cudaStream_t s) { cudaDeviceSynchronize(); cudaGetLastError(); }\n"
    facts = index_of({"setup.py": setup, "csrc/k.cu": kernel}).facts("csrc/k.cu", (FileKind.CUDA,))
    assert facts.hipified_by is not None and facts.hipified_by.line == 6
    write(tmp_path / "setup.py", setup)
    write(tmp_path / "csrc" / "k.cu", kernel)
    report = scan_json(cli)
    [gate] = report["findings"]
    assert (gate["path"], gate["line"], gate["rule"], gate["severity"]) == ("setup.py", 5, "CDA444", "warning")
    assert gate["targets"]["cpu"]["severity"] == "note" and "`FORCE_CUDA=1`" in gate["message"]
    asks_for_rocm = setup.replace("CUDA_HOME is not None)", "(CUDA_HOME is not None or torch.version.hip is not None))")
    write(tmp_path / "setup.py", asks_for_rocm)
    assert [f for f in scan_json(cli)["findings"] if f["path"] == "setup.py"] == []


def test_a_cuda_home_gate_whose_other_side_raises_stops_the_cpu_install_and_the_wrappers_import(cli, tmp_path):
    """Where the side without `CUDA_HOME` raises, a CPU install builds nothing: the gate is a CPU error,
    and so is each call of the extension in a wrapper that imports it outside a `try` (it cannot be
    imported on CPU). A wrapper that imports it under `try` may run its PyTorch path on CPU: a note."""
    setup = (
        "import torch\nfrom torch.utils.cpp_extension import CUDA_HOME, CppExtension, CUDAExtension\n"
        "kind, sources = CppExtension, ['csrc/op.cpp']\n"
        "if torch.cuda.is_available() and CUDA_HOME is not None:\n"
        "    kind, sources = CUDAExtension, sources + ['csrc/op_kernel.cu']\n"
        "else:\n    raise NotImplementedError('CUDA is not available')\n"
        "ext = kind('pkg._op', sources)\n"
    )
    wrapper = (
        "import torch\nfrom pkg import _op\n\n\n"
        "def fused(x):\n    if x.is_cuda:\n        return _op.forward(x)\n    return x * 2\n"
    )
    write(tmp_path / "setup.py", setup)
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "ops.py", wrapper)

    def cpu_severities() -> dict[str, str]:
        found = scan_json(cli, "--no-cache")["findings"]
        return {f["rule"]: f["targets"]["cpu"]["severity"] for f in found if f["rule"] in ("CDA444", "CDA446")}

    assert cpu_severities() == {"CDA444": "error", "CDA446": "error"}
    write(tmp_path / "pkg" / "ops.py", wrapper.replace("from pkg import _op\n", "try:\n    from pkg import _op\nexcept ImportError:\n    pass\n"))
    assert cpu_severities() == {"CDA444": "error", "CDA446": "note"}
    write(tmp_path / "setup.py", setup.replace("    raise NotImplementedError('CUDA is not available')\n", "    pass\n"))
    write(tmp_path / "pkg" / "ops.py", wrapper)
    assert cpu_severities() == {"CDA444": "note", "CDA446": "note"}


def test_separate_rocm_sources_make_the_cuda_ones_a_counterpart_and_a_skipped_build_goes_without_them():
    separate = (
        "import torch\nfrom torch.utils.cpp_extension import CUDAExtension\nIS_ROCM = torch.version.hip is not None\n"
        'if IS_ROCM:\n    sources = ["csrc/ck/api.cpp"]\nelse:\n    sources = ["csrc/cuda/api.cu"]\n'
    )
    index = index_of({"setup.py": separate, "csrc/cuda/api.cu": "", "csrc/ck/api.cpp": ""})
    (counterpart,) = index.facts("csrc/cuda/api.cu", (FileKind.CUDA,)).counterparts
    assert counterpart.target == "rocm" and "csrc/ck" in counterpart.evidence.text
    assert index.facts("csrc/ck/api.cpp", (FileKind.CUDA,)).counterparts == ()
    skips = (
        'import os\nfrom torch.utils.cpp_extension import CUDAExtension\n'
        'USE_TRITON_ROCM = os.getenv("TRITON_AMD_ENABLE", "FALSE") == "TRUE"\nif USE_TRITON_ROCM:\n    SKIP_CUDA_BUILD = True\n'
    )
    facts = index_of({"setup.py": skips, "k.cu": ""}).facts("k.cu", (FileKind.CUDA,))
    assert facts.hipified_by is None and facts.counterparts == ()
    assert facts.rocm_goes_without == Evidence("setup.py", 5, "SKIP_CUDA_BUILD = True")


ENGINE_SETUP = """import os
from setuptools import setup
from cmake_build_extension import CMakeExtension


def get_target_device():
    return os.getenv("ENGINE_TARGET_DEVICE", "cuda").lower()


if get_target_device() == "cuda" and not os.getenv("DISABLE_ENGINE"):
    ext_modules = [CMakeExtension(name="_engine", source_dir=".")]
else:
    ext_modules = []
setup(name="engine", ext_modules=ext_modules)
"""
ENGINE_CMAKE = "project(engine LANGUAGES CXX CUDA)\nadd_subdirectory(src)\n"


def test_an_engine_built_only_for_a_cuda_target_is_one_rocm_goes_without_where_the_project_installs_for_rocm():
    """`LMDEPLOY_TARGET_DEVICE=rocm pip install .`: a target-device setting that builds every extension only
    for `cuda` builds none for the project's ROCm install. Without a ROCm variant of the dependencies the
    project has no ROCm route, and the engine's lock-in stands."""
    gate = Evidence("setup.py", 10, 'if get_target_device() == "cuda" and not os.getenv("DISABLE_ENGINE"):')
    files = {"setup.py": ENGINE_SETUP, "CMakeLists.txt": ENGINE_CMAKE, "src/engine/k.cu": "", "requirements-rocm.txt": "torch\n"}
    index = index_of(files)
    assert index.facts("src/engine/k.cu", (FileKind.CUDA,)).rocm_goes_without == gate
    assert index.facts("CMakeLists.txt", (FileKind.CMAKE,)).rocm_goes_without == gate
    alone = index_of({name: text for name, text in files.items() if name != "requirements-rocm.txt"})
    assert alone.facts("src/engine/k.cu", (FileKind.CUDA,)).rocm_goes_without is None
    assert alone.facts("CMakeLists.txt", (FileKind.CMAKE,)).rocm_goes_without is None


@pytest.mark.parametrize("setup", [
    ENGINE_SETUP.replace('"ENGINE_TARGET_DEVICE"', '"ENGINE_BUILD_TYPE"'),  # a setting that chooses no device
    ENGINE_SETUP.replace("    ext_modules = []", '    ext_modules = [CMakeExtension(name="_engine_cpu", source_dir="cpu")]'),
    ENGINE_SETUP.replace('== "cuda" and', '== "cuda" or'),  # the body runs for another device too
])
def test_a_build_that_may_compile_for_another_device_is_no_cuda_target_gate(setup):
    files = {"setup.py": setup, "src/engine/k.cu": "", "requirements-rocm.txt": "torch\n"}
    assert index_of(files).facts("src/engine/k.cu", (FileKind.CUDA,)).rocm_goes_without is None


def test_a_setup_py_that_builds_every_extension_where_rocm_never_goes_is_a_cuda_target_build():
    setup = (
        "import torch\nfrom setuptools import setup\nfrom torch.utils.cpp_extension import CUDAExtension\n"
        "def extensions():\n    return [CUDAExtension('k', sources)]\n"
        "if torch.version.hip is None:\n    setup(ext_modules=extensions())\nelse:\n    setup()\n"
    )
    rocm = {"csrc/k.cu": "", "requirements-rocm.txt": "torch\n"}
    facts = index_of({"setup.py": setup, **rocm}).facts("csrc/k.cu", (FileKind.CUDA,))
    assert facts.rocm_goes_without == Evidence("setup.py", 6, "if torch.version.hip is None:") and facts.rocm_build is None
    alone = index_of({"setup.py": setup, "csrc/k.cu": ""}).facts("csrc/k.cu", (FileKind.CUDA,))
    assert alone.rocm_goes_without is None  # no ROCm install around the extension: its lock-in stands
    both = setup.replace("    setup()", "    setup(ext_modules=[CUDAExtension('k_hip', sources)])")
    facts = index_of({"setup.py": both, **rocm}).facts("csrc/k.cu", (FileKind.CUDA,))
    assert facts.rocm_goes_without is None and facts.rocm_build is not None


def test_an_engine_rocm_goes_without_has_no_rename_findings_and_its_gaps_are_warnings(cli, tmp_path):
    """The one answer for the engine is its build: a name HIP has is no finding there, a construct HIP
    lacks (`CUtensorMap`) and the CMake build's CUDA language are warnings on ROCm, CPU's verdict stays."""
    write(tmp_path / "setup.py", ENGINE_SETUP)
    write(tmp_path / "CMakeLists.txt", ENGINE_CMAKE)
    write(tmp_path / "requirements-rocm.txt", "torch\n")
    write(tmp_path / "src/engine/k.cu", "#include <cuda.h>\nvoid f(CUtensorMap *m, cudaStream_t s) { cudaStreamSynchronize(s); }\n")
    findings = scan_json(cli, str(tmp_path))["findings"]
    kernel = [f for f in findings if f["path"].endswith("k.cu")]
    assert {f["rule"] for f in kernel} == {"CDA402"} and {f["severity"] for f in kernel} == {"warning"}
    assert "setup.py:10" in kernel[0]["targets"]["rocm"]["source"]
    (language,) = [f for f in findings if f["path"].endswith("CMakeLists.txt")]
    assert language["targets"]["rocm"]["severity"] == "warning" and language["targets"]["cpu"]["severity"] == "error"


def test_a_setup_py_says_which_sources_it_builds_for_cuda_only():
    setup = (
        "import torch\nfrom torch.utils.cpp_extension import CUDAExtension\nROCM = torch.version.hip\n"
        'exts = [CUDAExtension("a", ["csrc/a/k.cu", "csrc/b/k.cu"])]\n'
        'if not ROCM and FAST:\n    exts.append(CUDAExtension("b", ["csrc/b/sm80.cu", "csrc/fast/k.cu"]))\n'
    )
    files = {"setup.py": setup, "csrc/a/k.cu": "", "csrc/b/k.cu": "", "csrc/b/sm80.cu": '#include "mma.cuh"\n',
             "csrc/b/mma.cuh": "", "csrc/fast/k.cu": ""}
    index = index_of(files)
    branch = Evidence("setup.py", 5, "if not ROCM and FAST:")
    fast = index.facts("csrc/fast/k.cu", (FileKind.CUDA,))  # a folder ROCm builds nothing of: it goes without
    assert fast.rocm_goes_without == branch and fast.rocm_build is None and fast.cuda_only is None
    variant = index.facts("csrc/b/sm80.cu", (FileKind.CUDA,))  # a CUDA-only variant beside a ROCm-built source
    assert variant.cuda_only == branch and variant.rocm_goes_without is None and variant.rocm_build is None
    assert index.facts("csrc/b/mma.cuh", (FileKind.CUDA,)).cuda_only == Evidence("csrc/b/sm80.cu", 1)
    built = index.facts("csrc/b/k.cu", (FileKind.CUDA,))
    assert built.rocm_build == built.hipified_by == Evidence("setup.py", 3, "ROCM = torch.version.hip")
    assert built.cuda_only is None and built.rocm_goes_without is None


GLOBBED_SETUP = """import glob, os
import torch
from torch.utils.cpp_extension import CUDA_HOME, ROCM_HOME, CUDAExtension, CppExtension

def extensions():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.join(here, "pkg", "csrc")
    sources = glob.glob(os.path.join(root, "**", "*.cpp"), recursive=True)
    gpu = glob.glob(os.path.join(root, "**", "*.cu"), recursive=True)
    hip = glob.glob(os.path.join(root, "hip", "*.cu"))
    gpu = list(set(gpu) - set(hip))
    use_cuda = torch.version.cuda is not None and CUDA_HOME is not None
    use_rocm = torch.version.hip is not None and ROCM_HOME is not None
    if use_cuda:
        sources += gpu
    elif use_rocm:
        sources += hip
    return [CUDAExtension("pkg._C", sources)]
"""


def test_sources_a_setup_py_globs_only_in_its_cuda_arm_are_ones_rocm_goes_without():
    """`if use_cuda: sources += gpu`, where `gpu` globs the `.cu` files less the HIP ones: ROCm builds
    none of them, and a header only they include goes without too; the HIP sources and the C++ ones
    every build compiles are its ROCm build."""
    files = {"setup.py": GLOBBED_SETUP, "pkg/csrc/cuda/fast.cu": '#include "tile.cuh"\n', "pkg/csrc/cuda/tile.cuh": "",
             "pkg/csrc/hip/fast.cu": "", "pkg/csrc/ops.cpp": ""}
    index = index_of(files)
    arm = Evidence("setup.py", 14, "if use_cuda:")
    assert index.facts("pkg/csrc/cuda/fast.cu", (FileKind.CUDA,)).rocm_goes_without == arm
    assert index.facts("pkg/csrc/cuda/tile.cuh", (FileKind.CUDA,)).rocm_goes_without == arm
    for built in ("pkg/csrc/hip/fast.cu", "pkg/csrc/ops.cpp"):
        facts = index.facts(built, (FileKind.CUDA,))
        assert facts.rocm_goes_without is None and facts.rocm_build is not None
    everywhere = GLOBBED_SETUP.replace("    if use_cuda:\n        sources += gpu\n", "    sources += gpu\n    if use_cuda:\n        pass\n")
    assert index_of({**files, "setup.py": everywhere}).facts("pkg/csrc/cuda/fast.cu", (FileKind.CUDA,)).rocm_goes_without is None


def test_a_cutlass_kernel_globbed_only_for_cuda_is_a_rocm_warning_and_its_flags_are_no_rocm_finding(cli, tmp_path):
    """The kernel's CUTLASS include stops only a port of that arm (a warning, not an error), and nvcc's
    options in an arm a ROCm build never takes (`CUDA_HOME`, unless the installer forces it) never reach it."""
    setup = GLOBBED_SETUP.replace(
        "    if use_cuda:\n",
        '    if (CUDA_HOME is not None and torch.version.cuda) or os.getenv("FORCE_CUDA", "0") == "1":\n'
        '        args = {"nvcc": ["--use_fast_math", "--ptxas-options=-v"]}\n',
    )
    write(tmp_path / "setup.py", setup)
    write(tmp_path / "pkg/csrc/cuda/fast.cu", "#include <cutlass/cutlass.h>\n__global__ void k() {}\n")
    findings = scan_json(cli, str(tmp_path))["findings"]
    (kernel,) = [f for f in findings if f["path"].endswith("fast.cu")]
    assert kernel["severity"] == "warning" and "setup.py:14" in kernel["targets"]["rocm"]["source"]
    assert not [f for f in findings if f["path"].endswith("setup.py") and f["targets"]["rocm"]["severity"] != "note"]


def test_a_cmake_build_that_compiles_cuda_sources_as_hip_is_their_rocm_build():
    cmake = (
        "set(GPU_SOURCES csrc/ops.cu)\n"
        'if(${BACKEND} STREQUAL "cuda")\n  enable_language(CUDA)\n  list(APPEND GPU_SOURCES csrc/ops_sm90.cu)\n'
        'elseif(${BACKEND} STREQUAL "hip")\n  enable_language(HIP)\n'
        "  set_source_files_properties(${GPU_SOURCES} PROPERTIES LANGUAGE HIP)\nendif()\n"
    )
    files = {"CMakeLists.txt": cmake, "csrc/ops.cu": "", "csrc/ops_sm90.cu": "", "setup.py": "from setuptools import setup\n"}
    index = index_of(files)
    ops = index.facts("csrc/ops.cu", (FileKind.CUDA,))
    assert ops.rocm_build == Evidence("CMakeLists.txt", 6, "enable_language(HIP)") and ops.hipified_by is None
    variant = index.facts("csrc/ops_sm90.cu", (FileKind.CUDA,))
    assert variant.cuda_only == Evidence("CMakeLists.txt", 4, "list(APPEND GPU_SOURCES csrc/ops_sm90.cu)")
    assert variant.rocm_build is None
    no_hip = index_of({**files, "CMakeLists.txt": cmake.replace("HIP", "CXX")})
    assert no_hip.facts("csrc/ops.cu", (FileKind.CUDA,)).rocm_build is None


def test_sources_a_cmake_build_with_a_hip_arm_adds_only_for_nvidia_architectures_are_left_out_of_rocm():
    cmake = (
        "set(OPS_SOURCES csrc/ops.cu)\n"
        'if(NOT GPU_BACKEND STREQUAL "rocm")\n  enable_language(CUDA)\n'
        '  if(ARCH_LIST MATCHES "sm_100a")\n    set(WITH_SM100 ON)\n  endif()\n'
        "else()\n  enable_language(HIP)\nendif()\n"
        "if(WITH_SM100)\n  list(APPEND OPS_SOURCES csrc/blackwell/attention.cu)\nendif()\n"
        "add_library(ops MODULE ${OPS_SOURCES})\n"
    )
    kernel = "__global__ void k(float* x) { x[0] = __shfl_xor_sync(0xffffffff, x[0], 1); }\n"
    files = {"CMakeLists.txt": cmake, "csrc/ops.cu": kernel, "csrc/blackwell/attention.cu": kernel}
    index = index_of(files)
    left_out = index.facts("csrc/blackwell/attention.cu", (FileKind.CUDA,))
    assert left_out.rocm_goes_without == Evidence("CMakeLists.txt", 11, "list(APPEND OPS_SOURCES csrc/blackwell/attention.cu)")
    built = index.facts("csrc/ops.cu", (FileKind.CUDA,))
    assert built.rocm_goes_without is None and built.rocm_build == Evidence("CMakeLists.txt", 8, "enable_language(HIP)")
    either = index_of({**files, "CMakeLists.txt": cmake.replace("if(WITH_SM100)", "if(WITH_SM100 OR WITH_GFX)")})
    assert either.facts("csrc/blackwell/attention.cu", (FileKind.CUDA,)).rocm_goes_without is None


def test_a_macro_the_cmake_build_defines_for_cuda_only_marks_its_branches_cuda_only():
    cmake = (
        "if(USE_CUDA)\n  enable_language(CUDA)\n  add_compile_definitions(HAS_SM80)\n"
        "elseif(USE_HIP)\n  enable_language(HIP)\n  add_definitions(-DWAVE64=1)\nendif()\n"
        "target_compile_definitions(ops PRIVATE EVERYWHERE)\n"
    )
    code = '#ifdef HAS_SM80\n__device__ void f(int* p) { asm volatile("st.global.u32 [%0], 1;" :: "l"(p)); }\n#endif\n'
    index = index_of({"CMakeLists.txt": cmake, "ops.cu": code})
    assert ("HAS_SM80", False, None) in index.cuda_macros and ("WAVE64", None, False) in index.cuda_macros
    assert "EVERYWHERE" not in {name for name, *_ in index.cuda_macros}
    assert [f.severity.value for f in analyze(code, path="ops.cu", files={"CMakeLists.txt": cmake})] == ["note"]
    assert [f.severity.value for f in analyze(code, path="ops.cu")] == ["error"]


def test_files_named_for_a_target_are_counterparts_unless_they_include_the_other():
    index = index_of(
        {
            "Dockerfile": "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n",
            "Dockerfile_amd": "FROM rocm/dev-ubuntu-22.04:7.0-complete\n",
            "requirements.txt": "torch\n",
            "requirements-rocm.txt": "-r requirements.txt\n--extra-index-url https://download.pytorch.org/whl/rocm6.2\n",
            "docker/docker-cuda/Dockerfile": "FROM nvidia/cuda:12.4.1-base-ubuntu22.04\n",
            "docker/docker-rocm/Dockerfile": "FROM rocm/pytorch:latest\n",
        }
    )
    assert index.facts("Dockerfile", (FileKind.DOCKERFILE,)).counterparts == (
        Counterpart("rocm", Evidence("Dockerfile_amd", 1)),
    )
    assert index.facts("docker/docker-cuda/Dockerfile", (FileKind.DOCKERFILE,)).counterpart("rocm") is not None
    assert index.facts("requirements.txt", (FileKind.REQUIREMENTS,)).counterparts == ()  # an add-on, not a variant
    assert index.facts("requirements.txt", (FileKind.REQUIREMENTS,)).variant("rocm") == Evidence("requirements-rocm.txt", 1)


def test_a_file_named_for_cuda_beside_its_rocm_variant_is_a_note_an_unnamed_one_a_warning(cli, tmp_path):
    write(tmp_path / "requirements-cuda.txt", "--extra-index-url https://download.pytorch.org/whl/cu121\ntorch\n")
    write(tmp_path / "requirements-rocm.txt", "--extra-index-url https://download.pytorch.org/whl/rocm6.2\ntorch\n")
    write(tmp_path / "Dockerfile", "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n")
    write(tmp_path / "Dockerfile.rocm", "FROM rocm/dev-ubuntu-22.04:7.0-complete\n")
    report = scan_json(cli, "--show-portable")
    verdicts = {(f["path"], f["rule"]): f for f in report["findings"]}
    cuda = verdicts[("requirements-cuda.txt", "CDA601")]["targets"]
    assert cuda["rocm"]["severity"] == "note" and cuda["cpu"]["severity"] == "warning"  # no CPU variant
    docker = verdicts[("Dockerfile", "CDA501")]
    assert docker["severity"] == "warning" and "`Dockerfile.rocm` serves ROCm" in docker["targets"]["rocm"]["replacement"]


def test_cuda_extras_of_a_project_with_rocm_extras_are_one_note_per_extra(cli, tmp_path):
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n[project.optional-dependencies]\n'
        'cu121 = ["flash-attn==2.6.3", "cupy-cuda12x", "xformers==0.0.28"]\nrocm = ["torch>=2.4"]\n',
    )
    assert scan_json(cli)["findings"] == []
    (extra,) = scan_json(cli, "--show-portable")["findings"]
    assert extra["severity"] == "note" and extra["sites"] == 3 and "cu121" in extra["message"]


def test_requirement_includes_are_read_by_the_index(tmp_path):
    (tmp_path / "base.txt").write_text("cupy-cuda12x\n")
    text = "-r base.txt\n"
    index = build_index(
        [IndexedFile(str(tmp_path / "requirements.txt"), (FileKind.REQUIREMENTS,), partial(str.encode, text))],
        load_catalog(),
        roots=(str(tmp_path),),
    )
    assert index.facts(str(tmp_path / "requirements.txt"), (FileKind.REQUIREMENTS,)).included == (
        (str(tmp_path / "base.txt"), "cupy-cuda12x\n"),
    )


def test_the_repository_ci_verdict_is_carried_by_the_first_cuda_workflow():
    gpu = "on: push\njobs:\n  t:\n    runs-on: [self-hosted, gpu]\n    steps:\n      - run: nvidia-smi\n"
    index = index_of({".github/workflows/b.yml": gpu, ".github/workflows/a.yml": gpu})
    kinds = (FileKind.WORKFLOW,)
    assert not index.facts(".github/workflows/a.yml", kinds).ci_answered_elsewhere
    assert index.facts(".github/workflows/b.yml", kinds).ci_answered_elsewhere
    cpu = "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
    index = index_of({".github/workflows/a.yml": gpu, ".github/workflows/cpu.yml": cpu})
    assert index.facts(".github/workflows/a.yml", kinds).ci_answered_elsewhere


def test_one_bad_file_adds_no_facts_and_stops_nothing():
    def unreadable() -> bytes:
        raise UnreadableFile("is a FIFO (named pipe), not a regular file; not read")

    files = [
        IndexedFile("bad.h", (FileKind.CUDA,), partial(bytes, b"#define A(" * 50_000 + b"\n#include <hip/hip_runtime.h>\n")),
        IndexedFile("fifo.cuh", (FileKind.CUDA,), unreadable),
        IndexedFile("setup.py", (FileKind.PYTHON, FileKind.SETUP), partial(bytes, b"from torch.utils import cpp_extension\ndef (:\n")),
        IndexedFile("pyproject.toml", (FileKind.PYPROJECT,), partial(bytes, b"[project\n")),
        IndexedFile("vendors/hip.h", (FileKind.CUDA,), partial(str.encode, HIP_HEADER)),
        IndexedFile("k.cu", (FileKind.CUDA,), partial(bytes, b'#include "vendors/hip.h"\n')),
    ]
    index = build_index(files, load_catalog())
    assert index.facts("k.cu", (FileKind.CUDA,)).ported_names


def test_facts_are_picklable_and_their_digest_follows_what_the_file_depends_on():
    index = index_of({"vendors/hip.h": HIP_HEADER, "k.cu": '#include "vendors/hip.h"\n', "plain.cu": ""})
    restored = pickle.loads(pickle.dumps(index))
    k = restored.facts("k.cu", (FileKind.CUDA,))
    assert k.digest() == index.facts("k.cu", (FileKind.CUDA,)).digest()
    assert k.digest() != restored.facts("plain.cu", (FileKind.CUDA,)).digest()
    # A Python file consults none of the C++ facts: its digest does not change with them.
    assert index.facts("train.py", (FileKind.PYTHON,)).digest() == index_of({}).facts("train.py", (FileKind.PYTHON,)).digest()


FLAGS_MODULE = """import torch

FAST_PATH = torch.cuda.is_available() and torch.cuda.get_device_capability() >= (8, 0)
BUILT_FOR_AMD = torch.version.hip is not None
NO_DEVICE = not torch.cuda.is_available()
DEVICE_NAME = "cuda" if torch.cuda.is_available() else "cpu"
TWICE = torch.cuda.is_available()
TWICE = False
"""


def test_the_project_device_flags_are_read_once_and_named_as_imported():
    index = index_of({"src/pkg/__init__.py": "", "src/pkg/caps.py": FLAGS_MODULE, "src/pkg/use.py": "x = 1\n"})
    facts = index.facts("src/pkg/use.py", (FileKind.PYTHON,))
    assert dict(facts.device_flags) == {
        "pkg.caps.FAST_PATH": (("cuda", "body"),),
        "pkg.caps.BUILT_FOR_AMD": (("rocm", "body"),),
        "pkg.caps.NO_DEVICE": (("cuda", "orelse"),),
    }  # a device name chosen by a probe is no truth value; a name assigned twice is no flag
    assert facts.module == ("pkg.use", False)
    assert index.facts("src/pkg/caps.py", (FileKind.CUDA,)).device_flags == ()


FLAG_FUNCTIONS_MODULE = """import functools
import torch

try:
    import xformers.ops
    XFORMERS_IS_AVAILABLE = True
except ImportError:
    XFORMERS_IS_AVAILABLE = False


class Mode:
    GPU = 1
    CPU = 2


mode = Mode.GPU


def xformers_enabled():
    global mode
    if mode == Mode.CPU:
        return False
    if not torch.cuda.is_available():
        return False
    return XFORMERS_IS_AVAILABLE


def xformers_enabled_vae():
    enabled = xformers_enabled()
    if not enabled:
        return False
    return VAE_OK


@functools.lru_cache()
def triton_importable():
    try:
        import triton
        return True
    except ImportError:
        return False


def torch_importable():
    try:
        import torch
        return True
    except ImportError:
        return False


def cpu_only():
    if torch.cuda.is_available():
        return False
    return True


def enabled_for(device):
    return torch.cuda.is_available() and device.startswith("cuda")


def uses_custom_op(x):
    assert isinstance(x, torch.Tensor)
    if x.device.type != "cuda":
        return False
    return True


def either():
    if torch.cuda.is_available():
        return True
    return XFORMERS_IS_AVAILABLE


def wants_custom_op(x):
    if enabled and is_musa_available():
        return True
    if x.device.type != "cuda":
        return False
    return True


def wants_fast_op(x):
    if enabled and fast_path:
        return True
    return x.device.type == "cuda"


@register
def registered():
    return torch.cuda.is_available()
"""


def test_a_function_that_returns_a_test_is_a_flag_under_every_name_its_module_is_imported_by():
    index = index_of({"lib/core/model_management.py": FLAG_FUNCTIONS_MODULE, "lib/core/use.py": "x = 1\n"})
    flags = dict(index.facts("lib/core/use.py", (FileKind.PYTHON,)).device_flags)
    enabled = (("cuda", "body"), ("optional", "body"))
    for name in ("model_management", "core.model_management", "lib.core.model_management"):  # namespace packages
        assert flags[f"{name}.xformers_enabled"] == enabled
        assert flags[f"{name}.xformers_enabled_vae"] == enabled  # through its local, the call of the first
        assert flags[f"{name}.triton_importable"] == (("optional", "body"),)  # the result of an import
        assert flags[f"{name}.cpu_only"] == (("cuda", None),)  # true without CUDA: neither branch needs it
        assert flags[f"{name}.uses_custom_op"] == (("cuda", "body"),)  # its argument is read only for where it lives
        assert flags[f"{name}.wants_custom_op"] == (("cuda", "body"),)  # the MUSA `return True` is on no target
    assert not {name.rpartition(".")[2] for name in flags} & {
        "torch_importable",  # PyTorch is no optional library
        "enabled_for",  # what it tests depends on its argument
        "either",  # true on two paths: no conjunction
        "wants_fast_op",  # its early `return True` may be taken on a target
        "registered",  # a decorator may call it or change what it returns
        "mode",  # a member of the module's own enum is no test
    }


SKIP_DECORATORS_MODULE = """import functools
import unittest
import pytest
import torch


def on_device(func):
    \"\"\"Skips where no GPU is there.\"\"\"
    from functools import wraps

    @wraps(func)
    def wrapper(*args, **kwargs):
        if torch.cuda.device_count() == 0:
            pytest.skip("requires a GPU")
        return func(*args, **kwargs)

    return wrapper


def on_nvidia(test_case):
    return unittest.skipUnless(torch.version.cuda is not None, "NVIDIA only")(test_case)


def skips_late(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        func(*args, **kwargs)
        if not torch.cuda.is_available():
            pytest.skip("too late: the test ran")

    return wrapper


def with_token(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not HF_TOKEN:
            pytest.skip("requires a token")
        return func(*args, **kwargs)

    return wrapper
"""


def test_a_decorator_whose_wrapper_skips_first_is_a_skip_marker_of_its_module():
    index = index_of({"tests/__init__.py": "", "tests/helpers.py": SKIP_DECORATORS_MODULE, "tests/test_x.py": "x = 1\n"})
    markers = dict(index.facts("tests/test_x.py", (FileKind.PYTHON,)).skip_markers)
    assert markers == {
        "tests.helpers.on_device": (True, None),  # skipped without a device (how many a ROCm machine has is open)
        "tests.helpers.on_nvidia": (None, True),  # skipped on ROCm builds; a machine without a GPU may have either
    }  # a wrapper that runs the test before it skips, or skips on anything but a device, says nothing


def test_a_marker_that_counts_the_test_devices_backend_skips_without_a_gpu():
    """Hugging Face's device-agnostic `backend_device_count(torch_device)` counts nothing where the
    test device is the CPU: a marker that needs two of them skips there, and a test class it marks
    runs only where an accelerator index exists. A backend name the helper does not know counts as
    its default, which is no answer."""
    marker = (
        "import pytest\nfrom transformers.testing_utils import backend_device_count, torch_device\n"
        "from transformers.utils import is_torch_available\n"
        "needs_two = pytest.mark.skipif(not is_torch_available() or backend_device_count(torch_device) <= 1, reason='two')\n"
        "needs_two_npus = pytest.mark.skipif(backend_device_count('npu') <= 1, reason='two')\n"
    )
    index = index_of({"tests/__init__.py": "", "tests/utils.py": marker, "tests/test_x.py": "x = 1\n"})
    assert dict(index.facts("tests/test_x.py", (FileKind.PYTHON,)).skip_markers) == {"tests.utils.needs_two": (True, None)}
    test = (
        "import torch\nfrom .utils import needs_two\n\n\n@needs_two\nclass TestPair:\n"
        "    def test_second(self):\n        assert torch.ones(2, device=torch.device(1)).sum() == 2\n"
    )
    files = {"tests/__init__.py": "", "tests/utils.py": marker}
    assert [f for f in analyze(test, path="tests/test_pair.py", files=files) if f.severity is not Severity.NOTE] == []
    alone = test.replace("@needs_two\n", "")
    assert [f.rule for f in analyze(alone, path="tests/test_pair.py", files=files) if f.severity is not Severity.NOTE] == ["CDA112"]


@pytest.mark.parametrize(
    "importer",
    [
        "from pkg.caps import FAST_PATH\n",
        "from .caps import FAST_PATH\n",
        "from . import caps\n",
    ],
)
def test_a_flag_imported_from_another_module_guards_as_its_value_does(importer):
    test = "FAST_PATH" if "import FAST_PATH" in importer else "caps.FAST_PATH"
    code = f"import torch\n{importer}\ndef run(x):\n    if {test}:\n        return x.to('cuda')\n    return x\n"
    files = {"pkg/__init__.py": "", "pkg/caps.py": FLAGS_MODULE}
    [finding] = [f for f in analyze(code, path="pkg/model.py", files=files) if f.rule == "CDA103"]
    assert finding.severity is Severity.NOTE
    # Without the index (the module analysed alone), the name says nothing: the site stands.
    [alone] = [f for f in analyze(code, path="pkg/model.py") if f.rule == "CDA103"]
    assert alone.severity is Severity.ERROR


def test_an_imported_flag_keeps_its_polarity_and_its_probe():
    files = {"pkg/__init__.py": "", "pkg/caps.py": FLAGS_MODULE}
    code = (
        "import torch\nfrom pkg.caps import NO_DEVICE, BUILT_FOR_AMD\n"
        "if NO_DEVICE:\n    x = torch.zeros(1, device='cuda')\nelse:\n    y = torch.zeros(1, device='cuda')\n"
        "if not BUILT_FOR_AMD:\n    flags = torch.backends.cuda.matmul.allow_tf32\n"
    )
    found = {(f.span.line, f.rule): f for f in analyze(code, path="pkg/model.py", files=files)}
    assert found[4, "CDA103"].severity is Severity.ERROR  # taken where there is no device
    assert found[6, "CDA103"].severity is Severity.NOTE
    # The NVIDIA side of a ROCm flag: written with ROCm in mind.
    assert found[8, "CDA111"].targets["rocm"].severity is Severity.NOTE


CONFTEST = """import pytest
import torch

@pytest.fixture
def gpu():
    if not torch.cuda.is_available():
        pytest.skip("needs a GPU")
    return "cuda"

@pytest.fixture
def gpu_batch(gpu):
    return 4

@pytest.fixture
def any_device():
    return "cpu"
"""


SKIPPING_HOOK = """import pytest

def pytest_runtest_setup(item):
    if item.get_closest_marker("needs_gpu") is not None and not gpu_present():
        pytest.skip("needs a GPU")

def pytest_configure(config):
    config.addinivalue_line("markers", "bench: a benchmark")
"""


def test_marks_a_plain_pytest_run_leaves_out_reach_the_test_modules_below_their_conftest_or_configuration():
    files = {
        "tests/gpu/conftest.py": SKIPPING_HOOK,
        "tests/gpu/test_add.py": "x = 1\n",
        "tests/test_mul.py": "y = 2\n",
        "pyproject.toml": "[tool.pytest.ini_options]\naddopts = \"-ra -m 'not multi_gpu and not slow'\"\n",
        "sub/setup.cfg": "[tool:pytest]\naddopts = -m 'multi_node or nightly'\n",
        "sub/tests/test_div.py": "z = 3\n",
    }
    index = index_of(files)
    assert index.facts("tests/gpu/test_add.py", (FileKind.PYTHON,)).left_out_marks == ("multi_gpu", "needs_gpu", "slow")
    assert index.facts("tests/test_mul.py", (FileKind.PYTHON,)).left_out_marks == ("multi_gpu", "slow")
    # `or` selects rather than deselects: nothing said about either mark
    assert index.facts("sub/tests/test_div.py", (FileKind.PYTHON,)).left_out_marks == ("multi_gpu", "slow")
    test = "import pytest\n\n@pytest.mark.needs_gpu\ndef test_a(x):\n    x.cuda()\n"
    found = {f.span.line: f.severity for f in analyze(test, path="tests/gpu/test_add.py", files=files) if f.rule == "CDA102"}
    assert found == {5: Severity.NOTE}  # skipped by the conftest's hook where there is no GPU
    found = {f.span.line: f.severity for f in analyze(test, path="tests/test_mul.py", files=files) if f.rule == "CDA102"}
    assert found == {5: Severity.WARNING}  # the mark only labels the test here: a plain run runs it


def test_marks_the_configuration_deselects_leave_their_tests_out_on_every_target():
    files = {
        "tests/conftest.py": SKIPPING_HOOK,
        "tests/pytest.ini": "[pytest]\naddopts = -ra -m \"not multi_gpu and not nightly\"\n",
        "tests/test_add.py": "x = 1\n",
        "other/test_mul.py": "y = 2\n",
    }
    index = index_of(files)
    facts = index.facts("tests/test_add.py", (FileKind.PYTHON,))
    assert facts.left_out_marks == ("multi_gpu", "needs_gpu", "nightly")
    assert facts.deselected_marks == ("multi_gpu", "nightly")  # the hook's mark skips only where it skips
    assert index.facts("other/test_mul.py", (FileKind.PYTHON,)).deselected_marks == ()
    test = """import pytest
import torch


def build(size, device="cuda"):
    return torch.zeros(size, device=device)


@pytest.mark.nightly
def test_capability():
    assert torch.cuda.get_device_capability()[0] >= 9
    assert build(2).sum() == 0


@pytest.mark.needs_gpu
def test_needs_gpu():
    torch.ones(2).cuda()
"""
    found = {(f.span.line, f.rule): f.severity for f in analyze(test, path="tests/test_add.py", files=files)}
    # deselected by default: neither its sites nor the default only it takes run anywhere
    assert found[(5, "CDA103")] == found[(11, "CDA109")] == Severity.NOTE
    assert found[(17, "CDA102")] == Severity.NOTE  # skipped by the hook where there is no GPU
    found = {(f.span.line, f.rule): f.severity for f in analyze(test, path="other/test_add.py", files=files)}
    assert found[(5, "CDA103")] == found[(11, "CDA109")] == Severity.WARNING  # no configuration above it


def test_a_conftest_serves_its_skipping_fixtures_to_the_test_modules_below_it():
    files = {"tests/conftest.py": CONFTEST, "tests/ops/test_add.py": "x = 1\n", "other/test_mul.py": "y = 2\n"}
    index = index_of(files)
    assert index.facts("tests/ops/test_add.py", (FileKind.PYTHON,)).conftest_fixtures == (
        ("gpu", False),
        ("gpu_batch", False),
    )
    assert index.facts("other/test_mul.py", (FileKind.PYTHON,)).conftest_fixtures == ()
    test = "import torch\n\ndef test_add(gpu_batch):\n    torch.ones(2, device='cuda')\n\ndef test_any(any_device):\n    torch.ones(2, device='cuda')\n"
    found = {f.span.line: f.severity for f in analyze(test, path="tests/ops/test_add.py", files=files) if f.rule == "CDA103"}
    assert found == {4: Severity.NOTE, 7: Severity.WARNING}  # a test file's sites are warnings at most
    # A fixture the module defines itself overrides the conftest's of the same name.
    local = test + "\nimport pytest\n\n@pytest.fixture\ndef gpu_batch():\n    return 2\n"
    found = {f.span.line: f.severity for f in analyze(local, path="tests/ops/test_add.py", files=files) if f.rule == "CDA103"}
    assert found[4] is Severity.WARNING


GPU_ONLY_COLLECTION = """
def gpu_only(check=None):
    \"\"\"Leave every test out where there is no GPU.\"\"\"
    import torch

    if not torch.cuda.is_available():
        return list(EVERY_TEST)
    if check is not None and not check():
        return list(EVERY_TEST)
    return []

EVERY_TEST = ["**/test_*.py"]
"""


def test_a_conftest_that_leaves_tests_out_of_collection_without_cuda_reaches_the_modules_it_covers():
    """pytest matches `collect_ignore_glob` with `fnmatch` against the conftest's folder joined with
    the pattern (a `*` spans folders, `**/` needs one below), and each folder on the way down."""
    files = {
        "tests/__init__.py": "",
        "tests/collection.py": GPU_ONLY_COLLECTION,
        "tests/ops/conftest.py": "from tests.collection import gpu_only\n\ncollect_ignore_glob = gpu_only(check=lambda: True)\n",
        "tests/ops/fused/test_add.py": "x = 1\n",
        "tests/ops/test_top.py": "x = 1\n",
        "tests/ops/fused/helpers.py": "x = 1\n",
        "tests/io/conftest.py": (
            "import os\nimport torch\n\ncollect_ignore = ['slow'] if not torch.cuda.is_available() else []\n"
            "if os.environ.get('CI'):\n    collect_ignore_glob = ['*']\n"
        ),
        "tests/io/slow/deep/test_read.py": "x = 1\n",
        "tests/io/test_write.py": "x = 1\n",
    }
    index = index_of(files)
    uncollected = {path for path in files if index.facts(path, (FileKind.PYTHON,)).uncollected_without_cuda}
    assert uncollected == {"tests/ops/fused/test_add.py", "tests/io/slow/deep/test_read.py"}
    test = "import torch\n\ndef test_add():\n    torch.ones(2, device='cuda')\n"
    found = {f.span.line: f.severity for f in analyze(test, path="tests/ops/fused/test_add.py", files=files) if f.rule == "CDA103"}
    assert found == {4: Severity.NOTE}
    found = {f.span.line: f.severity for f in analyze(test, path="tests/ops/test_top.py", files=files) if f.rule == "CDA103"}
    assert found == {4: Severity.WARNING}


def test_a_namespace_package_of_the_tree_names_its_modules_for_every_python_file_and_notebook():
    index = index_of(
        {
            "awq/entry.py": "from awq.quantize.qmodule import WQLinear\n",
            "awq/quantize/__init__.py": "",
            "awq/quantize/qmodule.py": "class WQLinear: ...\n",
            "awq/kernels/setup.py": "",
            "src/cuda/helpers.py": "",
            "pkg/__init__.py": "",
            "pkg/ops.py": "",
            "tools/run.py": "",
            "demo.ipynb": "{}",
        }
    )
    expected = ("awq.entry", "awq.kernels", "awq.quantize", "cuda.helpers")  # folders named like a catalog library
    assert index.facts("tools/run.py", (FileKind.PYTHON,)).namespace_modules == expected
    assert index.facts("demo.ipynb", (FileKind.NOTEBOOK,)).namespace_modules == expected
    assert index.facts("awq/kernels/setup.py", (FileKind.SETUP,)).namespace_modules == ()


def test_an_import_of_the_trees_own_namespace_package_is_no_library_though_the_library_shares_its_name(cli, tmp_path):
    """Scanned from its parent folder: the display paths start with `proj/`, the root is `proj`."""
    project = tmp_path / "proj"
    write(project / "awq" / "quantize" / "qmodule.py", "class WQLinear: ...\n")
    write(project / "tinychat" / "load.py", "from awq.quantize.qmodule import WQLinear\nfrom awq import AutoAWQForCausalLM\n")
    report = scan_json(cli, "--no-cache", "proj")
    assert [(f["path"], f["line"]) for f in report["findings"] if f["rule"] == "CDA217"] == [("proj/tinychat/load.py", 2)]


def test_a_nested_setup_py_whose_sources_the_build_above_compiles_is_another_path(cli, tmp_path):
    """A standalone `setup.py` kept inside an extension's source folder, whose every source the
    project's own build names, is a second way to build them: its nvcc flags and toolkit calls are
    warnings. The same script is the normal path once the build above does not name its sources."""
    project = tmp_path / "proj"
    nested = (
        "import subprocess\nfrom setuptools import setup\nfrom torch.utils.cpp_extension import CUDAExtension\n"
        'subprocess.check_output(["nvcc", "-V"])\n'
        'setup(ext_modules=[CUDAExtension("attn", ["attn.cpp", "attn_kernel.cu"],\n'
        '      extra_compile_args={"nvcc": ["-gencode", "arch=compute_80,code=sm_80"]})])\n'
    )
    outer = (
        "from setuptools import setup\nfrom torch.utils.cpp_extension import CUDAExtension\n"
        'setup(ext_modules=[CUDAExtension("engine", ["csrc/attention/attn.cpp", "csrc/attention/attn_kernel.cu"])])\n'
    )
    write(project / "kernels" / "csrc" / "attention" / "setup.py", nested)
    write(project / "kernels" / "setup.py", outer)
    nested_path = "proj/kernels/csrc/attention/setup.py"

    def severities() -> set[str]:
        report = scan_json(cli, "--no-cache", "proj", cwd=tmp_path)
        return {f["severity"] for f in report["findings"] if f["path"] == nested_path}

    assert severities() == {"warning"}
    write(project / "kernels" / "setup.py", outer.replace("csrc/attention/attn_kernel.cu", "csrc/other.cu"))
    assert "error" in severities()


def test_an_ahead_of_time_build_beside_the_run_time_build_it_falls_back_to_is_another_path(cli, tmp_path):
    """An extension folder that builds its sources when first imported (`cpp_extension.load`) and
    imports the ahead-of-time build of its `setup.py` only where that import works: the package runs
    without the `setup.py`, whose `CUDAExtension` is a warning; the run-time build stays an error.
    Without the fallback (the built module imported as it is) the `setup.py` is the normal path."""
    project = tmp_path / "proj"
    build = (
        "from setuptools import setup\nfrom torch.utils.cpp_extension import BuildExtension, CUDAExtension\n"
        'setup(name="fused", ext_modules=[CUDAExtension(name="_fused_ops", sources=["src/fused.cu", "src/bindings.cpp"])],\n'
        '      cmdclass={"build_ext": BuildExtension})\n'
    )
    backend = (
        "import os\nfrom torch.utils.cpp_extension import load\n\n_here = os.path.dirname(__file__)\n"
        '_backend = load(name="_fused_ops", sources=[os.path.join(_here, "src", f) for f in ["fused.cu", "bindings.cpp"]])\n'
    )
    fallback = "try:\n    import _fused_ops as _backend\nexcept ImportError:\n    from .backend import _backend\n"
    write(project / "fused" / "setup.py", build)
    write(project / "fused" / "backend.py", backend)

    def severities(init: str) -> dict[str, set[str]]:
        write(project / "fused" / "__init__.py", init)
        return severities_by_file(scan_json(cli, "--no-cache", "proj", cwd=tmp_path), "cpu")

    assert severities(fallback) == {"setup.py": {"warning"}, "backend.py": {"error"}}
    assert severities("import _fused_ops as _backend\n")["setup.py"] == {"error"}


def test_a_script_that_checks_an_op_beside_its_extension_build_is_the_developers_path(cli, tmp_path):
    """An op's own `test.py`, kept beside the `setup.py` that compiles the op and run only from its
    `__main__` block, is the op developer's check after a build: its `.cuda()` inputs are warnings.
    The same script is the normal path where the folder builds no extension (`tools/test.py`, an
    evaluation command), and where another module imports it."""
    project = tmp_path / "proj"
    check = (
        "import torch\nfrom kernels.op import fused_op\n\n\n"
        "def check_forward():\n    x = torch.rand(4, 8).cuda()\n    assert torch.allclose(fused_op(x), x * 2)\n\n\n"
        'if __name__ == "__main__":\n    check_forward()\n'
    )
    build = (
        "from setuptools import setup\nfrom torch.utils.cpp_extension import BuildExtension, CUDAExtension\n"
        'setup(name="op", ext_modules=[CUDAExtension("op_ext", ["src/op.cpp", "src/op_kernel.cu"])],\n'
        '      cmdclass={"build_ext": BuildExtension})\n'
    )
    write(project / "ops" / "test.py", check)
    write(project / "ops" / "setup.py", build)

    def severities() -> set[str]:
        report = scan_json(cli, "--no-cache", "proj", cwd=tmp_path)
        found = {f["severity"] for f in report["findings"] if f["path"] == "proj/ops/test.py"}
        assert found, report["findings"]
        return found

    assert severities() == {"warning"}
    write(project / "ops" / "setup.py", 'from setuptools import setup\nsetup(name="op")\n')
    assert severities() == {"error"}
    write(project / "ops" / "setup.py", build)
    write(project / "ops" / "run.py", "from test import check_forward\ncheck_forward()\n")
    assert severities() == {"error"}


def test_an_op_check_the_install_instructions_run_is_the_normal_path(cli, tmp_path):
    """The same check, where the project's install steps tell its users to run it after the build
    (`cd ops`, then `python test.py`): a documented command, so its `.cuda()` inputs are errors. A
    command that runs a `test.py` of another folder leaves it the developer's path."""
    project = tmp_path / "proj"
    write(project / "ops" / "test.py", "import torch\n\nif __name__ == '__main__':\n    print(torch.ones(2).cuda())\n")
    write(project / "ops" / "setup.py", 'from torch.utils.cpp_extension import CUDAExtension\nsetup(ext_modules=[CUDAExtension("op", ["op.cu"])])\n')

    def severities(readme: str) -> set[str]:
        write(project / "README.md", readme)
        report = scan_json(cli, "--no-cache", "proj", cwd=tmp_path)
        return {f["severity"] for f in report["findings"] if f["path"] == "proj/ops/test.py"}

    assert severities("## Install\n\n```bash\ncd ./ops\nsh make.sh\n# check the build\npython test.py\n```\n") == {"error"}
    assert severities("Build the op: `cd ops && python setup.py install; python test.py`\n") == {"error"}
    assert severities("```bash\ncd ./ops\nsh make.sh\n```\n\n```bash\npython test.py\n```\n") == {"warning"}


def test_nested_builds_end_at_the_root_of_an_absolute_path():
    """A scan of a tree given by an absolute path shows absolute paths: the search for a build script
    above one stops at "/", which is its own folder (it looped there)."""
    from cudaudit.rules.builds.nested_builds import superseded_builds

    outer = b'CUDAExtension("engine", ["csrc/attention/attn.cpp"])\n'
    scripts = {
        "/home/user/proj/setup.py": lambda: outer,
        "/home/user/proj/csrc/attention/setup.py": lambda: b'CUDAExtension("attn", ["attn.cpp"])\n',
        "/elsewhere/setup.py": lambda: b'CUDAExtension("x", ["x.cu"])\n',
    }
    found = superseded_builds(scripts)
    assert list(found) == ["/home/user/proj/csrc/attention/setup.py"]
    assert (found["/home/user/proj/csrc/attention/setup.py"].path, found["/home/user/proj/csrc/attention/setup.py"].line) == (
        "/home/user/proj/setup.py", 1,
    )


def test_a_dockerfile_nothing_names_is_another_path_in_a_folder_scan_only(cli, tmp_path):
    """The folder's scan reads the project's documents: a root Dockerfile that no README, workflow or
    script names is a warning, and an error once the README tells how to build it; a scan of the
    Dockerfile alone (pre-commit's staged file) cannot tell that nothing names it and keeps the error."""
    project = tmp_path / "proj"
    write(project / "Dockerfile", "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n")
    write(project / "README.md", "# proj\n\nRun `python proj.py`.\n")
    write(project / "docs" / "usage.rst", "Run ``python proj.py``.\n")

    def severity(*paths: str) -> str:
        report = scan_json(cli, "--no-cache", *paths, cwd=tmp_path)
        [finding] = [f for f in report["findings"] if f["rule"] == "CDA501"]
        return finding["severity"]

    assert severity("proj") == "warning"
    assert severity("proj/Dockerfile") == "error"
    write(project / "docs" / "usage.rst", "Or in a container: ``docker build -t proj .``\n")
    assert severity("proj") == "error"


def test_the_image_of_the_readmes_first_install_route_is_the_normal_path_beside_a_pip_install(cli, tmp_path):
    """A project that installs with pip too has its Dockerfile as one route among others (warnings),
    unless its README shows Docker first (`### Install with Docker` before `### Install without
    Docker`, its steps through a Makefile): the image is then what its users build, and its CUDA base
    image breaks ROCm on the normal path. Docker offered after the pip install stays an alternative."""
    project = tmp_path / "proj"
    write(project / "Dockerfile", "FROM pytorch/pytorch:2.3.1-cuda12.1-cudnn8-devel\nCOPY . /app\n")
    write(project / "requirements.txt", "numpy\n")
    write(project / "Makefile", "image:\n\tdocker build -t proj .\n")
    docker_first = "# proj\n\n## Install\n\n### Install with Docker\n\n    make image\n\n### Install without Docker\n\n    pip install -r requirements.txt\n"
    pip_first = "# proj\n\n## Install\n\n    pip install -r requirements.txt\n\nYou can also build the image: `docker build -t proj .`\n"

    def rocm() -> str:
        return rule_severity(cli, "CDA502", "rocm", tmp_path)

    write(project / "README.md", docker_first)
    assert rocm() == "error"
    write(project / "README.md", pip_first)
    assert rocm() == "warning"
    write(project / "README.md", docker_first)
    (project / "docker").mkdir()
    (project / "Dockerfile").rename(project / "docker" / "Dockerfile.gpu")
    write(project / "Makefile", "image:\n\tdocker build -f docker/Dockerfile.gpu -t proj .\n")
    assert rocm() == "warning", "an image below the README's folder that its Docker route does not name"
    write(project / "README.md", docker_first.replace("make image", "docker build -f docker/Dockerfile.gpu ."))
    assert rocm() == "error"


def test_an_images_requirements_follow_the_route_of_the_dockerfile_beside_them(cli, tmp_path):
    """The requirements of an image (`docker/requirements.txt`, which its Dockerfile installs) are on the
    image's route: where the README shows the pip install first and Docker after it, a `+cu121` pin
    there breaks ROCm on another path (a warning); where the README shows Docker first, an error."""
    project = tmp_path / "proj"
    write(project / "requirements.txt", "numpy\n")
    write(project / "docker" / "Dockerfile", "FROM python:3.11\nCOPY docker/requirements.txt .\nRUN pip install -r requirements.txt\n")
    write(project / "docker" / "requirements.txt", "torch==2.3.1+cu121\n")
    pip_first = "# proj\n\n## Install\n\n    pip install -r requirements.txt\n\n## Docker\n\n    docker build -f docker/Dockerfile .\n"
    docker_first = "# proj\n\n## Docker\n\n    docker build -f docker/Dockerfile .\n\n## Install\n\n    pip install -r requirements.txt\n"

    def rocm() -> str:
        return rule_severity(cli, "CDA602", "rocm", tmp_path)

    write(project / "README.md", pip_first)
    assert rocm() == "warning"
    write(project / "README.md", docker_first)
    assert rocm() == "error"


def test_an_images_requirements_are_no_more_serious_than_the_cuda_image_they_go_into(cli, tmp_path):
    """A `+cu121` pin in the requirements a Dockerfile beside them installs into an NVIDIA CUDA image runs on
    a CPU host as the image does (a CPU note, as a `pip install` in the image's own stage is); beside a
    plain Python image the pin keeps its CPU warning (gigabytes of CUDA libraries for nothing)."""
    project = tmp_path / "proj"
    write(project / "requirements.txt", "numpy\n")
    write(project / "docker" / "requirements.txt", "torch==2.3.1+cu121\n")
    write(project / "README.md", "# proj\n\n    pip install -r requirements.txt\n\nOr `docker build -f docker/Dockerfile .`\n")
    steps = "COPY docker/requirements.txt .\nRUN pip install -r requirements.txt\n"

    def cpu() -> str:
        return rule_severity(cli, "CDA602", "cpu", tmp_path)

    write(project / "docker" / "Dockerfile", f"FROM nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04\n{steps}")
    assert cpu() == "note"
    write(project / "docker" / "Dockerfile", f"FROM python:3.11\n{steps}")
    assert cpu() == "warning"


def test_the_image_of_a_project_without_a_declaration_follows_the_readmes_first_install_route(cli, tmp_path):
    """A project of scripts with no requirements file installs as its README shows first: where that is a
    package manager's install (`pip install click tqdm`, then "Docker users: use the Dockerfile"), the
    CUDA base image is one route among others (a ROCm warning); where Docker comes first, it is the
    normal path (an error)."""
    project = tmp_path / "proj"
    write(project / "Dockerfile", "FROM nvcr.io/nvidia/pytorch:23.05-py3\nCOPY . /app\n")
    write(project / "generate.py", "print('hello')\n")
    pip_first = "# proj\n\n## Requirements\n\n* `pip install click tqdm`\n* Docker users: `docker build -t proj .`\n"

    def rocm() -> str:
        return rule_severity(cli, "CDA502", "rocm", tmp_path)

    write(project / "README.md", pip_first)
    assert rocm() == "warning"
    write(project / "README.md", "# proj\n\n    docker build -t proj .\n\nThen `pip install click` inside.\n")
    assert rocm() == "error"


def test_a_scripts_docker_run_follows_the_route_of_the_projects_images(cli, tmp_path):
    """A script that starts the project's container (`docker run --gpus all`) is on the Docker route: where
    the README shows a package manager's install first and the image after it, `--gpus` breaks ROCm and
    CPU on another path (warnings); where Docker comes first, or the project has no image, errors."""
    project = tmp_path / "proj"
    write(project / "Dockerfile", "FROM nvcr.io/nvidia/pytorch:23.05-py3\nCOPY . /app\n")
    write(project / "run_in_docker.sh", "#!/bin/bash\ndocker run --gpus all --rm -v $PWD:/app proj:latest \"$@\"\n")
    write(project / "generate.py", "print('hello')\n")
    pip_first = "# proj\n\n## Requirements\n\n* `pip install click tqdm`\n* Docker users: `docker build -t proj .`\n"

    def severities() -> tuple[str, str]:
        report = scan_json(cli, "--no-cache", "proj", cwd=tmp_path)
        [finding] = [f for f in report["findings"] if f["rule"] == "CDA508"]
        return finding["targets"]["rocm"]["severity"], finding["targets"]["cpu"]["severity"]

    write(project / "README.md", pip_first)
    assert severities() == ("warning", "warning")
    write(project / "README.md", "# proj\n\n    docker build -t proj .\n    ./run_in_docker.sh python generate.py\n")
    assert severities() == ("error", "error")
    write(project / "README.md", pip_first)
    (project / "Dockerfile").unlink()
    assert severities() == ("error", "error")


def test_a_conda_environment_nothing_names_is_another_path_beside_the_projects_own_install(cli, tmp_path):
    """An environment export that no README, document or script names, in a project that installs with
    pip, is another path: its CUDA packages are warnings. Named by its file name, or (for conda's
    default name) by a command that creates an environment from it, it keeps its errors; and where
    it is the project's only install, it is the install."""
    project = tmp_path / "proj"
    write(project / "environment.yml", "name: proj\nchannels: [nvidia]\ndependencies:\n  - cuda-nvrtc=12.4\n")
    write(project / "pyproject.toml", '[project]\nname = "proj"\nversion = "1"\ndependencies = ["numpy"]\n')
    write(project / "README.md", "# proj\n\nInstall with `pip install -e .`.\n")

    def severities() -> set[str]:
        report = scan_json(cli, "--no-cache", "proj", cwd=tmp_path)
        found = {f["severity"] for f in report["findings"] if f["path"].endswith("environment.yml")}
        assert found, report["findings"]
        return found

    assert severities() == {"warning"}
    write(project / "README.md", "# proj\n\nOr: `conda env create` and `pip install -e .`.\n")
    assert "error" in severities()
    write(project / "README.md", "# proj\n\nOr: `conda env create -f environment.yml`.\n")
    assert "error" in severities()
    write(project / "README.md", "# proj\n\nInstall with `pip install -e .`.\n")
    assert severities() == {"warning"}
    write(project / "environment.yml", "# conda env create\n" + (project / "environment.yml").read_text())
    assert "error" in severities(), "a comment in the file that says how to create it"
    write(project / "environment.yml", "\n".join((project / "environment.yml").read_text().splitlines()[1:]) + "\n")
    (project / "pyproject.toml").unlink()
    assert "error" in severities()


def test_an_environment_only_a_copied_projects_own_readme_names_is_another_path(cli, tmp_path):
    """A copy of another project kept inside this one (its own README and license) whose README tells
    its users to `conda env create --file environment.yml`: the host's users install with pip, so the
    copy's environment is another path (a warning). The host's README naming it keeps the error."""
    project = tmp_path / "proj"
    write(project / "requirements.txt", "numpy\n")
    write(project / "README.md", "# proj\n\nInstall with `pip install -r requirements.txt`.\n")
    write(project / "splatting" / "environment.yml", "name: splat\ndependencies:\n  - cudatoolkit=11.6\n")
    write(project / "splatting" / "README.md", "# splatting\n\n`conda env create --file environment.yml`\n")
    write(project / "splatting" / "train.py", "import numpy\n")

    def severities() -> set[str]:
        report = scan_json(cli, "--no-cache", "proj", cwd=tmp_path)
        return {f["severity"] for f in report["findings"] if f["path"].endswith("environment.yml")}

    assert "error" in severities(), "without a license of its own, the folder is the project's own"
    write(project / "splatting" / "LICENSE.md", "Copyright the splatting authors.\n")
    assert severities() == {"warning"}
    write(project / "README.md", "# proj\n\n`conda env create --file splatting/environment.yml`\n")
    assert "error" in severities()


def test_a_docker_helper_whose_build_finds_no_dockerfile_runs_on_no_host(cli, tmp_path):
    """`nvidia-docker build -t img .` in a helper no document names, where neither its folder nor the
    project's top holds a Dockerfile: the build fails everywhere, and so does the run of its image, so
    its lines are notes. A Dockerfile beside it, or a README that names it, keeps its verdicts."""
    project = tmp_path / "proj"
    write(project / "README.md", "# proj\n\n`python train.py`\n")
    write(project / "train.py", "print('train')\n")
    helper = "#!/bin/bash\nsudo nvidia-docker build -t $USER/flow:cu8 .\nsudo nvidia-docker run --rm -ti $USER/flow:cu8 bash\n"
    write(project / "models" / "flow" / "launch_docker.sh", helper)

    def severities() -> set[str]:
        report = scan_json(cli, "--no-cache", "--show-portable", "proj", cwd=tmp_path)
        return {f["severity"] for f in report["findings"] if f["path"].endswith("launch_docker.sh")}

    assert severities() == {"note"}
    write(project / "models" / "flow" / "Dockerfile", "FROM nvidia/cuda:12.4.1-base-ubuntu22.04\n")
    assert severities() & {"warning", "error"}
    (project / "models" / "flow" / "Dockerfile").unlink()
    write(project / "README.md", "# proj\n\n`cd models/flow && bash launch_docker.sh`\n")
    assert severities() & {"warning", "error"}


def test_an_install_script_nothing_names_is_another_path_beside_the_projects_own_install(cli, tmp_path):
    """A shell helper that installs PyTorch from a CUDA index, which no README, Dockerfile or script
    runs, in a project that installs with pip, is another path: warnings. Named by a document, or by
    its own usage line, it keeps its errors; a script that installs nothing is not asked."""
    project = tmp_path / "proj"
    helper = '"$HOME/conda/bin/pip" install torch --index-url https://download.pytorch.org/whl/cu124\n'
    write(project / "image" / "base_env.sh", helper)
    write(project / "requirements.txt", "numpy\n")
    write(project / "README.md", "# proj\n\nInstall with `pip install -r requirements.txt`.\n")

    def severities(name: str = "base_env.sh") -> set[str]:
        report = scan_json(cli, "--no-cache", "proj", cwd=tmp_path)
        found = {f["severity"] for f in report["findings"] if f["path"].endswith(name)}
        assert found, report["findings"]
        return found

    assert severities() == {"warning"}
    write(project / "README.md", "# proj\n\nFor the image: `bash image/base_env.sh`.\n")
    assert severities() == {"error"}
    write(project / "README.md", "# proj\n\nInstall with `pip install -r requirements.txt`.\n")
    write(project / "image" / "base_env.sh", "# Usage: bash base_env.sh\n" + helper)
    assert severities() == {"error"}, "a usage line in the script that says how to run it"
    write(project / "image" / "base_env.sh", "nvidia-smi\n")
    assert severities() == {"error"}


PLATFORM_MODULE = """import torch

PLATFORM = None
if torch.version.hip is not None:
    PLATFORM = "rocm"
elif torch.version.cuda is not None and torch.cuda.is_available():
    PLATFORM = "cuda"
else:
    PLATFORM = "cpu"
"""

DETECTING_MODULE = """import os
import torch


def on_amd():
    return bool(torch.version.hip)


def detect():
    if os.environ.get("PRETEND_GPU", "0") == "1":
        return "cuda"
    if torch.cuda.is_available():
        if on_amd():
            return "hip"
        return "cuda"
    raise RuntimeError("needs a GPU")


KIND: str = detect()
"""


@pytest.mark.parametrize(
    ("module", "variable", "nvidia", "amd"),
    [(PLATFORM_MODULE, "PLATFORM", "cuda", "rocm"), (DETECTING_MODULE, "KIND", "cuda", "hip")],
)
def test_a_platform_variable_is_read_through_the_tests_that_give_each_string(module, variable, nvidia, amd):
    """`if PLATFORM == "cuda":` runs where the chain that set it took its NVIDIA arm (a CUDA build with a
    device, past the ROCm test), never on ROCm: a compute-capability decision there is no ROCm concern;
    `if PLATFORM == "rocm":` runs on ROCm alone, never on a CPU build. A value an opt-in environment switch
    gives (`PRETEND_GPU=1`) is not a target's path. `!= "ipex"`-like tests of a string no arm gives keep
    their words' reading."""
    code = (
        f"import torch\nfrom pkg.platform import {variable}\n\n\ndef pick(x):\n"
        f"    if {variable} == '{nvidia}':\n        major, minor = torch.cuda.get_device_capability()\n"
        f"    if {variable} == '{amd}':\n        return torch.cuda.get_device_properties('cuda').gcnArchName\n"
        f"    if {variable} != 'xpu':\n        torch.cuda.synchronize()\n"
    )
    files = {"pkg/__init__.py": "", "pkg/platform.py": module}
    found = {(f.span.line, f.rule): f for f in analyze(code, path="pkg/model.py", files=files)}
    assert found[7, "CDA109"].severity is Severity.NOTE
    assert found[7, "CDA109"].targets["rocm"].severity is Severity.NOTE
    assert found[9, "CDA101"].severity is Severity.NOTE
    assert found[11, "CDA101"].severity is Severity.ERROR
    # Without the index the strings say what their words say: "cuda" is any GPU, ROCm's included.
    alone = {(f.span.line, f.rule): f for f in analyze(code, path="pkg/model.py")}
    assert alone[7, "CDA109"].targets["rocm"].severity is Severity.WARNING


def test_a_string_given_without_a_device_test_or_by_both_gpus_says_no_more_than_its_word():
    """A variable that starts as "cuda" and turns "rocm" only on ROCm holds "cuda" on ROCm too where that
    test fails; one whose "cuda" both GPU builds get is any GPU's: neither is NVIDIA's alone."""
    started = "import torch\n\nPLATFORM = 'cuda'\nif torch.version.hip:\n    PLATFORM = 'rocm'\n"
    both = "import torch\n\nif torch.cuda.is_available():\n    PLATFORM = 'cuda'\nelse:\n    PLATFORM = 'cpu'\n"
    code = (
        "import torch\nfrom pkg.platform import PLATFORM\n\n\ndef pick(x):\n"
        "    if PLATFORM == 'cuda':\n        major, minor = torch.cuda.get_device_capability()\n"
    )
    for module in (started, both):
        files = {"pkg/__init__.py": "", "pkg/platform.py": module}
        [finding] = [f for f in analyze(code, path="pkg/model.py", files=files) if f.rule == "CDA109"]
        assert finding.targets["rocm"].severity is Severity.WARNING


FAKING_CONFTEST = """import pytest
from unittest import mock

import mypkg.devices


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setattr(mypkg.devices, "cuda_device_count", lambda: 2)


@pytest.fixture
def no_mps(monkeypatch):
    monkeypatch.setattr(mypkg.devices.MPSBackend, "is_available", lambda: False)


@pytest.fixture
def multi_node(two_gpus):
    yield
"""


def test_tests_that_fake_a_cuda_probe_are_cpu_tests_of_a_pretended_machine():
    files = {"tests/conftest.py": FAKING_CONFTEST, "tests/test_pick.py": "x = 1\n"}
    facts = index_of(files).facts("tests/test_pick.py", (FileKind.PYTHON,))
    assert facts.faking_fixtures == (("multi_node", False), ("two_gpus", False))  # not another accelerator's probe
    test = """from unittest import mock

import torch

from mypkg.runner import Runner
from tests.helpers import mock_cuda_count


def test_two_gpus(two_gpus):
    Runner(device="cuda:1")


def test_nodes(multi_node):
    Runner(device="cuda:1")


def test_without_mps(no_mps):
    Runner(device="cuda:1")


@mock.patch("torch.cuda.is_available", return_value=True)
def test_available(_):
    Runner(device="cuda:1")


def test_named(monkeypatch):
    with mock.patch("mypkg.runner.torch.cuda.get_device_name", return_value="A100"):
        Runner(device="cuda:1")


def fake_gpus(monkeypatch, count):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)


def test_helper(monkeypatch):
    fake_gpus(monkeypatch, 4)
    Runner(device="cuda:1")


def test_imported_helper(monkeypatch):
    mock_cuda_count(monkeypatch, 4)
    Runner(device="cuda:1")


def test_counted_calls():
    with mock.patch("torch.cuda.synchronize") as synchronize:
        Runner(device="cuda:1").step()
    synchronize.assert_called_once()
"""
    found = {f.span.line: f.severity for f in analyze(test, path="tests/test_pick.py", files=files) if f.rule == "CDA103"}
    assert found == {
        10: Severity.NOTE, 14: Severity.NOTE,  # the conftest's fixture fakes the count, directly or through another
        18: Severity.WARNING,  # an MPS probe says nothing of CUDA
        23: Severity.NOTE, 28: Severity.NOTE, 37: Severity.NOTE,  # a decorator, a `with` block, a helper handed `monkeypatch`
        42: Severity.NOTE,  # an imported helper named for faking CUDA, handed `monkeypatch`
        47: Severity.WARNING,  # replacing a CUDA call that is no probe: a GPU test does that too
    }
    found = {f.span.line: f.severity for f in analyze(test, path="mypkg/pick.py", files=files) if f.rule == "CDA103"}
    assert found[10] == found[23] == Severity.ERROR  # not a test module: no fixtures, no tests


@pytest.mark.parametrize("rocm_extension", ['CUDAExtension("ops_hip", ["ops_hip.cpp"])', 'CUDAExtension("csrc", ["hip/ops.hip"])'])
def test_a_rocm_branch_stands_for_its_own_sources_not_for_the_extension_name_or_the_scripts_folder(rocm_extension):
    """A ROCm branch that names its source by its bare file name beside the script, or gives its extension
    a name that reads like a source folder, still leaves the CUDA sources their ROCm counterpart: neither
    the script's folder nor the name `csrc` is the ROCm side."""
    setup = (
        "import torch\nfrom torch.utils.cpp_extension import CUDAExtension\n"
        f'if torch.version.hip:\n    ext = {rocm_extension}\nelse:\n    ext = CUDAExtension("ops", ["csrc/cuda/api.cu"])\n'
    )
    index = index_of({"proj/setup.py": setup, "proj/csrc/cuda/api.cu": "", "proj/ops_hip.cpp": "", "proj/hip/ops.hip": ""})
    facts = index.facts("proj/csrc/cuda/api.cu", (FileKind.CUDA,))
    (counterpart,) = facts.counterparts
    assert counterpart.target == "rocm" and facts.rocm_goes_without is None
    assert counterpart.evidence.text in ("ROCm builds proj/ops_hip.cpp", "ROCm builds proj/hip")


def test_separate_rocm_sources_stand_in_for_their_own_part_of_the_tree():
    """The ROCm branch's paths are read whole (`Path(here) / "csrc" / "attention" / "hip"`, not the folder
    `csrc` its piece spells): the CUDA sources beside that part are a variant with a ROCm counterpart, and
    those of another part (a sparse kernel the ROCm build has no source for) are what ROCm goes without."""
    setup = (
        "import os\nfrom pathlib import Path\nimport torch\nfrom torch.utils.cpp_extension import CUDAExtension\n"
        "here = os.path.dirname(os.path.abspath(__file__))\n"
        'if torch.version.hip:\n    ext = CUDAExtension("ops", ["csrc/attention/hip/api.hip"],'
        ' include_dirs=[Path(here) / "csrc" / "attention" / "hip"])\n'
        'else:\n    ext = CUDAExtension("ops", ["csrc/attention/cuda/api.cu", "csrc/sparse/gemm.cu"])\n'
    )
    index = index_of({"setup.py": setup, "csrc/attention/cuda/api.cu": "", "csrc/sparse/gemm.cu": "", "csrc/attention/hip/api.hip": ""})
    variant = index.facts("csrc/attention/cuda/api.cu", (FileKind.CUDA,))
    (counterpart,) = variant.counterparts
    assert counterpart.evidence.text == "ROCm builds csrc/attention/hip" and variant.rocm_goes_without is None
    part = index.facts("csrc/sparse/gemm.cu", (FileKind.CUDA,))
    assert part.counterparts == () and part.rocm_goes_without == Evidence("setup.py", 6, "if torch.version.hip:")


def test_a_notebook_nothing_names_beside_the_projects_own_route_is_another_path(cli, tmp_path):
    """A notebook that no README, document or script opens, in a project whose README runs a script of
    its own, is a developer's evaluation: its `.cuda()` is a CPU warning. Named by its file name (a
    link) or by its folder's name, it keeps its error; in a tutorial whose code is its notebook and a
    helper module, the notebook is the route and keeps its error, named or not."""
    project = tmp_path / "proj"
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ["import torch\n", "net = torch.nn.Linear(2, 2).cuda()\n"]}
    notebook = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    write(project / "colorize.py", "import torch\n\nif __name__ == '__main__':\n    print(torch.nn.Linear(2, 2))\n")
    write(project / "README.md", "# proj\n\nRun `python colorize.py`.\n")

    def severities(where: str) -> set[str]:
        write(project / where, notebook)
        report = scan_json(cli, "--no-cache", "proj", cwd=tmp_path)
        (project / where).unlink()
        return {f["severity"] for f in report["findings"] if f["path"].endswith(".ipynb")}

    assert severities("fid_benchmark.ipynb") == {"warning"}
    write(project / "README.md", "# proj\n\nRun `python colorize.py`; scores: [the benchmark](fid_benchmark.ipynb).\n")
    assert severities("fid_benchmark.ipynb") == {"error"}
    assert severities("examples/tour.ipynb") == {"warning"}
    write(project / "README.md", "# proj\n\nRun `python colorize.py`; the notebooks in `examples/` show each step.\n")
    assert severities("examples/tour.ipynb") == {"error"}
    write(project / "README.md", "# proj\n\nSee the demo.\n")
    assert severities("fid_benchmark.ipynb") == {"error"}, "no route but the notebook and the module it may import"
