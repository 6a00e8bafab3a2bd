"""A CUDA header that no translation unit includes and nothing names is compiled on no target: notes."""

from __future__ import annotations

from cudaudit.model import Severity
from support import analyze

KERNEL = "#pragma once\n__device__ inline unsigned vote(unsigned v) { return __ballot_sync(0xffffffff, v); }\n"
PROJECT = {
    "README.md": "Build with `cmake -B build && cmake --build build`.\n",
    "CMakeLists.txt": "project(blur LANGUAGES CXX CUDA)\nadd_library(blur src/blur.cu)\n",
    "src/blur.cu": '#include "ops/vote.cuh"\n__global__ void blur(float* x) { x[threadIdx.x] = 0; }\n',
    "src/ops/vote.cuh": KERNEL,
}


def severities(path: str, files: dict[str, str]) -> set[Severity]:
    return {finding.severity for finding in analyze(files[path], path=path, files=files)}


def test_a_header_no_source_includes_is_a_note_and_so_are_the_headers_only_it_includes():
    project = {**PROJECT, "src/old/vote_v1.cuh": '#pragma once\n#include "warp.cuh"\n' + KERNEL, "src/old/warp.cuh": KERNEL}
    assert severities("src/ops/vote.cuh", project) == {Severity.ERROR}
    assert severities("src/old/vote_v1.cuh", project) == {Severity.NOTE}
    assert severities("src/old/warp.cuh", project) == {Severity.NOTE}
    note = analyze(project["src/old/vote_v1.cuh"], path="src/old/vote_v1.cuh", files=project)[0]
    assert "no source the project compiles includes this header" in note.targets["rocm"].source


def test_a_header_reached_through_any_include_spelling_is_compiled():
    for include in ('#include "../ops/vote.cuh"', "#include <ops/vote.cuh>", '#include "vote.cuh"'):
        project = {**PROJECT, "src/blur.cu": include + "\n__global__ void blur(float* x) { x[threadIdx.x] = 0; }\n"}
        assert severities("src/ops/vote.cuh", project) == {Severity.ERROR}, include
    # two headers of one name: the build's include directories choose, so both may be compiled
    twins = {**PROJECT, "src/blur.cu": '#include "vote.cuh"\n', "src/ops/vote.cuh": KERNEL, "src/v2/ops/vote.cuh": KERNEL}
    assert severities("src/ops/vote.cuh", twins) == severities("src/v2/ops/vote.cuh", twins) == {Severity.ERROR}


def test_a_header_another_file_names_a_public_header_or_a_header_only_library_keeps_its_verdicts():
    unincluded = {**PROJECT, "src/blur.cu": "__global__ void blur(float* x) { x[threadIdx.x] = 0; }\n"}
    assert severities("src/ops/vote.cuh", unincluded) == {Severity.NOTE}
    for named in (
        {"CMakeLists.txt": "project(blur LANGUAGES CXX CUDA)\nadd_library(blur src/blur.cu src/ops/vote.cuh)\n"},
        {"ops.py": 'from torch.utils.cpp_extension import load_inline\nload_inline("v", cuda_sources=[\'#include "vote.cuh"\'])\n'},
        {"src/blur.hip": '#include "ops/vote.cuh"\n'},  # a source the scan does not read
    ):
        assert severities("src/ops/vote.cuh", {**unincluded, **named}) == {Severity.ERROR}, named
    public = {**unincluded, "include/blur/vote.cuh": KERNEL}
    assert severities("include/blur/vote.cuh", public) == {Severity.ERROR}
    header_only = {path: text for path, text in unincluded.items() if path != "src/blur.cu"}
    assert severities("src/ops/vote.cuh", header_only) == {Severity.ERROR}


def test_a_header_a_vendored_copy_builds_itself_keeps_its_verdicts():
    # a copy of another project (its own README and license) whose own JIT build names the header:
    # that build compiles it, wherever it is written
    copy = {
        **PROJECT, "src/blur.cu": "__global__ void blur(float* x) { x[threadIdx.x] = 0; }\n",
        "third_party/votes/README.md": "Votes.\n", "third_party/votes/LICENSE": "MIT\n",
        "third_party/votes/ops.py": 'from torch.utils.cpp_extension import load_inline\nload_inline("v", cuda_sources=[\'#include "csrc/vote.cuh"\'])\n',
        "third_party/votes/csrc/vote.cuh": KERNEL,
    }
    # (nothing of the host imports the copy's module: another path, warnings, never the notes of a
    # header nothing compiles)
    assert severities("third_party/votes/csrc/vote.cuh", copy) == {Severity.WARNING}
