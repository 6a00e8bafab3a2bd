"""CUDA builds: PyTorch extensions and nvcc flags in setup.py, and CMake projects, through the
real analyzers and the CLI. Builds are read, never run."""

from __future__ import annotations

import json

import pytest

from cudaudit.model import Severity
from support import analyze, scan_json, write


def found(code: str, path: str) -> list[tuple[str, int, str]]:
    """(rule, line, flagged text) of each finding."""
    lines = code.split("\n")
    return [
        (f.rule, f.span.line, lines[f.span.line - 1][f.span.column - 1 : f.span.end_column - 1])
        for f in analyze(code, path=path)
    ]


SETUP = '''from setuptools import setup
from torch.utils.cpp_extension import BuildExtension, CUDAExtension, CppExtension

NVCC = ["-O3", "--use_fast_math", "-gencode", "arch=compute_80,code=sm_80", "-arch=sm_90a -lineinfo"]
setup(
    name="ops",
    ext_modules=[
        CUDAExtension("ops_cuda", ["ops.cpp", "ops.cu"], extra_compile_args={"cxx": ["-O3"], "nvcc": NVCC}),
        CppExtension("ops_cpu", ["ops.cpp"]),
    ],
    cmdclass={"build_ext": BuildExtension},
)
'''


def test_setup_py_cuda_extension_and_its_nvcc_flags():
    assert found(SETUP, "setup.py") == [
        ("CDA442", 4, "--use_fast_math"),
        ("CDA441", 4, "-gencode"),
        ("CDA441", 4, "-arch=sm_90a"),
        ("CDA442", 4, "-lineinfo"),
        ("CDA440", 8, "CUDAExtension"),
    ]


def test_the_extension_build_works_on_rocm_and_needs_kernels_written_for_cpu():
    [build] = [f for f in analyze(SETUP, path="setup.py") if f.rule == "CDA440"]
    assert build.targets["rocm"].status.value == "works"
    assert "hipif" in build.targets["rocm"].replacement
    assert build.targets["cpu"].status.value == "blocked", "the CUDA sources have no CPU implementation"
    assert build.severity is Severity.ERROR
    assert analyze(SETUP, targets=("rocm",), path="setup.py")[-1].severity is Severity.NOTE


def test_jit_builds_count_only_with_cuda_sources():
    """`load()` compiles CUDA where its sources hold a `.cu`/`.cuh` file (PyTorch's `with_cuda` default):
    `extra_cuda_cflags` beside C++ sources reach no nvcc; beside sources not read, they say CUDA."""
    code = (
        "import torch.utils.cpp_extension as ext\n"
        'a = ext.load(name="a", sources=["a.cpp"])\n'
        'b = ext.load(name="b", sources=["b.cpp", "b_kernel.cu"])\n'
        'c = ext.load(name="c", sources=["c.cpp"], extra_cuda_cflags=["-O2"])\n'
        'd = ext.load_inline(name="d", cpp_sources="int f();")\n'
        'e = ext.load_inline(name="e", cpp_sources="", cuda_sources="__global__ void k() {}")\n'
        'f = ext.load(name="f", sources=SOURCES, extra_cuda_cflags=["-O2"])\n'
    )
    assert [(r, line) for r, line, _ in found(code, "example.py")] == [("CDA440", 3), ("CDA440", 6), ("CDA440", 7)]


JIT_OP = '''import glob
import os
from torch.utils.cpp_extension import load


class Op:
    def sources(self):
        pass

    def build(self):
        return load(name="op", sources=self.sources(), extra_cflags=["-O3"], extra_cuda_cflags=["-O3"])


class Lookup(Op):
    def sources(self):
        found = glob.glob(os.path.join("pkg", "csrc", "*.cpp"))
        if not found:
            pattern = os.path.join(os.path.dirname(__file__), "csrc", "*.cpp")
            found = glob.glob(pattern)
        return found
'''


def test_a_jit_build_of_the_sources_a_method_globs_compiles_cuda_only_where_they_are_cuda_files():
    """`self.sources()` is read through the module's methods of that name (a base class's stub returns
    nothing) and the names they return: `*.cpp` globs build with the host compiler alone."""
    assert found(JIT_OP, "pkg/ops.py") == []
    assert [rule for rule, _, _ in found(JIT_OP.replace('"csrc", "*.cpp"))', '"csrc", "*.cu"))', 1), "pkg/ops.py")] == ["CDA440"]


def test_flags_in_prose_are_not_flags():
    code = (
        '"""Build with nvcc -arch=sm_80 by hand."""\n'
        'print("needs -arch=sm_80 or newer")\n'
        'CXX = ["-O3", "-march=native", "-std=c++17"]\n'
        'SM = "sm_80"\n'
    )
    assert found(code, "setup.py") == []


CMAKE = """cmake_minimum_required(VERSION 3.24)
project(ops LANGUAGES CXX CUDA)
find_package(CUDAToolkit REQUIRED)
find_package(CUDA)
set(CMAKE_CUDA_ARCHITECTURES 80 90)
set(CMAKE_CUDA_STANDARD 17)
set(ENV{TORCH_CUDA_ARCH_LIST} "8.0;9.0")
add_library(ops ops.cu)
target_compile_options(ops PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr;-arch=sm_80>)
target_link_libraries(ops PRIVATE CUDA::cudart CUDA::cublas CUDA::nvml)
cuda_add_library(legacy legacy.cu)
message(STATUS "CUDA arch: ${CMAKE_CUDA_ARCHITECTURES}")  # CMAKE_CUDA_FLAGS
if(CMAKE_CUDA_COMPILER)
endif()
"""


def test_cmake_cuda_language_packages_variables_targets_and_flags():
    assert found(CMAKE, "CMakeLists.txt") == [
        ("CDA450", 2, "CUDA"),
        ("CDA451", 3, "CUDAToolkit"),
        ("CDA451", 4, "CUDA"),
        ("CDA452", 5, "CMAKE_CUDA_ARCHITECTURES"),
        ("CDA453", 6, "CMAKE_CUDA_STANDARD"),
        ("CDA452", 7, "TORCH_CUDA_ARCH_LIST"),
        ("CDA442", 9, "--expt-relaxed-constexpr"),
        ("CDA441", 9, "-arch=sm_80"),
        ("CDA454", 10, "CUDA::cudart"),
        ("CDA454", 10, "CUDA::cublas"),
        ("CDA454", 10, "CUDA::nvml"),
        ("CDA451", 11, "cuda_add_library"),
    ]


def test_cmake_hip_branches_are_ported_and_their_cuda_siblings_are_notes():
    code = (
        "if(USE_ROCM)\n"
        "  enable_language(HIP)\n"
        "  set(CMAKE_HIP_ARCHITECTURES gfx942)\n"
        "elseif(USE_CUDA)\n"
        "  enable_language(CUDA)\n"
        "endif()\n"
        "if(NOT GGML_HIP)\n"
        "  find_package(CUDAToolkit)\n"
        "else()\n"
        "  find_package(CUDAToolkit)  # a HIP branch: never a finding\n"
        "endif()\n"
        "enable_language(CUDA)\n"
        "if(USE_ROCM OR USE_CUDA)\n"
        "  find_package(CUDAToolkit)\n"
        "endif()\n"
    )
    result = [(f.rule, f.span.line, f.severity) for f in analyze(code, path="CMakeLists.txt")]
    assert result == [
        ("CDA450", 5, Severity.NOTE),
        ("CDA451", 8, Severity.NOTE),
        ("CDA450", 12, Severity.ERROR),
        ("CDA451", 14, Severity.ERROR),
    ]


HIP_ARM = (
    'set(GPU_BACKEND "cuda" CACHE STRING "cuda or rocm")\n'
    'if(GPU_BACKEND STREQUAL "rocm")\n  enable_language(HIP)\nelse()\n  enable_language(CUDA)\nendif()\n'
)


def test_cmake_parts_only_a_cuda_build_takes_are_notes_in_a_build_with_a_hip_arm():
    body = (
        'if(ARCH_LIST MATCHES "(^|;)(9\\\\.0a|sm_90a)(;|$)")\n'  # line 7
        '  set(CMAKE_CUDA_ARCHITECTURES 90a)\n'
        'endif()\n'
        'set(WITH_FP4 OFF)\n'
        'if(NOT GPU_BACKEND STREQUAL "rocm")\n'
        '  string(REGEX MATCH "sm_120a" HAS_SM120 "${ARCH_LIST}")\n'
        '  if(HAS_SM120 AND CMAKE_CUDA_COMPILER_VERSION VERSION_GREATER_EQUAL 12.8)\n'
        '    set(WITH_FP4 ON)\n'
        '  endif()\n'
        'endif()\n'
        'if(WITH_FP4)\n'  # line 17
        '  set_target_properties(fp4 PROPERTIES CUDA_ARCHITECTURES "120a")\n'
        'endif()\n'
        'if(ARCH_LIST MATCHES "gfx90a" OR WITH_FP4)\n'  # either build: keeps its verdict
        '  set(CMAKE_CUDA_ARCHITECTURES 90a)\n'
        'endif()\n'
        'set(GPU_FLAGS --use_fast_math)\n'  # line 23: used only for CUDA-language sources
        'set(SHARED_FLAGS --expt-relaxed-constexpr)\n'  # line 24: also handed to every compile
        'target_compile_options(ops PRIVATE "$<$<COMPILE_LANGUAGE:CUDA>:${GPU_FLAGS};${SHARED_FLAGS}>" ${SHARED_FLAGS})\n'
        'target_compile_options(ops PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-O3 -lineinfo> -Xptxas=-v)\n'
    )
    result = [(f.rule, f.span.line, f.severity.value) for f in analyze(HIP_ARM + body, path="CMakeLists.txt")]
    assert result == [
        ("CDA450", 5, "note"),
        ("CDA452", 8, "note"),
        ("CDA452", 18, "note"),
        ("CDA452", 21, "error"),
        ("CDA442", 23, "note"),
        ("CDA442", 24, "warning"),
        ("CDA442", 26, "note"),
        ("CDA442", 26, "warning"),
    ]
    without_hip = [(f.rule, f.span.line, f.severity.value) for f in analyze(body, path="CMakeLists.txt")]
    assert ("CDA452", 2, "error") in without_hip and ("CDA442", 17, "warning") in without_hip


def test_cmake_settings_an_installer_forces_and_probes_of_a_cuda_pytorch_leave_a_part_cuda_only():
    probe = "import torch; print('1' if torch.cuda.is_available() and torch.version.cuda else '0')"
    body = (
        'set(BUILD_TK "AUTO" CACHE STRING "AUTO, ON or OFF")\n'
        "set(WITH_TK OFF)\n"
        'if(BUILD_TK STREQUAL "ON")\n  set(WITH_TK ON)\n'  # the installer's choice, not a default build's
        'elseif(BUILD_TK STREQUAL "AUTO")\n'
        f'  execute_process(COMMAND python -c "{probe}" OUTPUT_VARIABLE HAS_CUDA_TORCH)\n'
        '  if(HAS_CUDA_TORCH STREQUAL "1")\n    set(WITH_TK ON)\n  endif()\n'
        "endif()\n"
        "if(WITH_TK)\n  set(CMAKE_CUDA_ARCHITECTURES 90a)\nendif()\n"  # its setting on line 18
    )
    severities = [(f.span.line, f.severity.value) for f in analyze(HIP_ARM + body, path="CMakeLists.txt") if f.rule == "CDA452"]
    assert severities == [(18, "note")]
    unprobed = (HIP_ARM + body).replace("torch.version.cuda", "torch.version.hip")
    assert [f.severity.value for f in analyze(unprobed, path="CMakeLists.txt") if f.rule == "CDA452"] == ["error"]


def test_cmake_flags_the_cuda_side_of_an_installers_backend_choice_turns_on_are_cuda_only():
    code = (
        'set(BACKEND "cpu" CACHE STRING "cpu, cuda or hip")\n'
        'if(BACKEND STREQUAL "cuda")\n  set(USE_CUDA ON)\n  enable_language(CUDA)\n'
        'elseif(BACKEND STREQUAL "hip")\n  set(USE_HIP ON)\n  enable_language(HIP)\nendif()\n'
        "if(USE_CUDA)\n  target_link_libraries(ops PUBLIC CUDA::cudart)\nendif()\n"
    )
    assert [(f.rule, f.span.line, f.severity.value) for f in analyze(code, path="CMakeLists.txt")] == [
        ("CDA450", 4, "note"),
        ("CDA454", 10, "note"),
    ]


@pytest.mark.parametrize(
    ("condition", "severity"),
    [
        ("USE_CUDA", "note"),
        ('BACKEND STREQUAL "cuda"', "note"),
        ("NOT USE_CUDA", "error"),  # taken on the HIP build too
        ('NOT BACKEND STREQUAL "cuda"', "error"),  # CMake compares before it negates
    ],
)
def test_cmake_a_negated_cuda_condition_before_a_hip_branch_is_not_the_cuda_side(condition, severity):
    code = f"if({condition})\n  find_package(CUDAToolkit)\nelseif(USE_HIP)\n  enable_language(HIP)\nendif()\n"
    assert [(f.rule, f.span.line, f.severity.value) for f in analyze(code, path="CMakeLists.txt")] == [
        ("CDA451", 2, severity)
    ]


def test_cmake_files_by_any_name_and_unterminated_commands(cli, tmp_path):
    write(tmp_path / "cmake" / "cuda.cmake", "enable_language(CUDA)\n")
    write(tmp_path / "CMakeLists.txt", "project(x LANGUAGES CXX)\nadd_library(x x.cpp\n# CUDA\n")
    report = scan_json(cli)
    assert [(f["path"], f["rule"]) for f in report["findings"]] == [("cmake/cuda.cmake", "CDA450")]
    [error] = report["errors"]
    assert error["path"] == "CMakeLists.txt" and error["line"] == 2
    assert "never closed" in error["message"]


LATE_ARMS = '''import os
import torch
from torch.utils.cpp_extension import CUDA_HOME, CUDAExtension


def sm90_flags():
    return ["-gencode=arch=compute_90a,code=sm_90a"]


def get_extensions():
    use_cuda = torch.version.cuda is not None and CUDA_HOME is not None
    fast_sources = None
    build_sm90 = False
    flags = ["-O3"]
    if use_cuda:
        fast_sources = ["ops_sm90.cu"]
        build_sm90 = True
        flags += sm90_flags()
    extensions = [CUDAExtension("ops", ["ops.cpp"], extra_compile_args={"nvcc": flags})]
    if fast_sources is not None and build_sm90:
        extensions.append(CUDAExtension("ops_sm90", fast_sources, extra_compile_args={"nvcc": ["-arch=sm_90a"]}))
    return extensions
'''


def test_what_only_the_cuda_arm_sets_or_calls_never_reaches_a_rocm_build():
    """`build_sm90` is False until the CUDA arm sets it, and only that arm calls `sm90_flags`: the
    `if` that tests it, and the helper's body, are CUDA arms too, where nvcc's flags never reach ROCm."""
    def rocm(code: str) -> dict[int, str]:
        return {f.span.line: f.targets["rocm"].severity.value for f in analyze(code, path="setup.py") if f.rule == "CDA441"}

    assert rocm(LATE_ARMS) == {7: "note", 21: "note"}
    set_elsewhere = LATE_ARMS.replace("build_sm90 = False", 'build_sm90 = os.getenv("SM90") == "1"').replace(
        "if fast_sources is not None and build_sm90:", "if build_sm90:"
    )
    called_elsewhere = LATE_ARMS.replace('flags = ["-O3"]', 'flags = ["-O3", *sm90_flags()]')
    assert rocm(set_elsewhere) == {7: "note", 21: "error"}
    assert rocm(called_elsewhere)[7] == "error"


SPREAD = '''from setuptools import setup
from torch.utils.cpp_extension import BuildExtension, CUDAExtension

setup(
    name="ops",
    ext_modules=[
        CUDAExtension("ops_cuda", [
            "ops.cpp",
            "ops_kernel.cu",
        ], extra_compile_args={"nvcc": ["-O3", "--use_fast_math"]}),
    ],
    cmdclass={"build_ext": BuildExtension},
)
'''


def test_a_reports_region_covers_the_whole_extension_call_and_its_flags_keep_their_own_findings(cli, tmp_path):
    """The sources and flags of a multi-line `CUDAExtension(...)` are part of the build that breaks: the
    JSON and SARIF regions run from its name to its closing parenthesis, while the message quotes the
    name and a flag inside keeps its own finding."""
    write(tmp_path / "proj" / "setup.py", SPREAD)
    report = scan_json(cli, "--no-cache", "proj", cwd=tmp_path)
    regions = {f["rule"]: (f["line"], f["column"], f["end_line"], f["end_column"]) for f in report["findings"]}
    assert regions == {"CDA440": (7, 9, 10, 68), "CDA442": (10, 49, 10, 64)}
    assert next(f for f in report["findings"] if f["rule"] == "CDA440")["message"].startswith("`CUDAExtension` builds")
    sarif = json.loads(cli("scan", "--format", "sarif", "--no-cache", "proj", cwd=tmp_path).stdout)
    region = next(
        r["locations"][0]["physicalLocation"]["region"] for r in sarif["runs"][0]["results"] if r["ruleId"] == "CDA440"
    )
    assert (region["startLine"], region["endLine"]) == (7, 10)


@pytest.mark.parametrize(
    ("stop", "line"),
    [
        ('assert CUDA_HOME is not None, "set WITH_CUDA=0 to build without CUDA"', 6),
        ('if CUDA_HOME is None:\n        raise RuntimeError("needs the CUDA toolkit")', 6),
        ('if torch.cuda.is_available() and CUDA_HOME is not None:\n        pass\n    else:\n        raise OSError("no CUDA")', 6),
    ],
)
def test_a_build_script_that_stops_without_cuda_home_fails_the_install_on_rocm_and_cpu(stop, line):
    code = (
        "import os\nimport torch\nfrom torch.utils.cpp_extension import CUDA_HOME, CppExtension, CUDAExtension\n\n"
        f'if os.getenv("WITH_CUDA", "1") != "0":\n    {stop}\n    ext = CUDAExtension("ops", ["ops.cpp", "ops.cu"])\n'
    )
    [stops] = [f for f in analyze(code, path="setup.py") if f.rule == "CDA444"]
    assert stops.span.line == line
    assert {name: fact.severity for name, fact in stops.targets.items()} == {"rocm": Severity.ERROR, "cpu": Severity.ERROR}


def test_a_cuda_home_stop_is_left_to_scripts_that_decide_rocm_or_build_no_cuda_extension():
    """A script that asks about ROCm itself builds it another way there; one that names no
    `CUDAExtension` (a helper reading the toolkit's version) builds nothing that stops."""
    asks_rocm = (
        "import torch\nfrom torch.utils.cpp_extension import CUDA_HOME, CUDAExtension\n"
        "if torch.version.hip is None:\n    assert CUDA_HOME is not None\n"
        'ext = CUDAExtension("ops", ["ops.cpp", "ops.cu"])\n'
    )
    no_build = "from torch.utils.cpp_extension import CUDA_HOME\nassert CUDA_HOME is not None\n"
    caught = (
        "from torch.utils.cpp_extension import CUDA_HOME, CUDAExtension, CppExtension\n"
        'try:\n    assert CUDA_HOME is not None\n    ext = CUDAExtension("ops", ["ops.cu"])\n'
        'except AssertionError:\n    ext = CppExtension("ops", ["ops.cpp"])\n'
    )
    for code in (asks_rocm, no_build, caught):
        assert [f for f in analyze(code, path="setup.py") if f.rule == "CDA444"] == [], code


def test_a_cuda_home_stop_an_installer_setting_lifts_names_the_setting():
    code = (
        "import os\nfrom torch.utils.cpp_extension import CUDA_HOME, CUDAExtension\n\n"
        'assert CUDA_HOME is not None or os.getenv("FORCE_CUDA", "0") == "1", "CUDA toolkit required"\n'
        'ext = CUDAExtension("ops", ["ops.cpp", "ops.cu"])\n'
    )
    [stops] = [f for f in analyze(code, path="setup.py") if f.rule == "CDA444"]
    assert stops.message.endswith("(unless the installer sets `FORCE_CUDA=1`)")
