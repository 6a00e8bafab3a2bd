"""A CMake CUDA backend behind an option that is off by default: another path unless the project turns
it on, through the real index and CLI."""

from __future__ import annotations

from cudaudit.rules.builds.cmake_options import makefile_turned_on, turned_on
from support import scan_json, write

TOP = 'cmake_minimum_required(VERSION 3.18)\nproject(mylib C CXX)\noption(MYLIB_CUBLAS "use cuBLAS" OFF)\nadd_subdirectory(src)\n'
SRC = """\
add_library(mylib mylib.c)
if (MYLIB_CUBLAS)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(MYLIB_CUDA_SOURCES mylib-cuda.cu)
    target_link_libraries(mylib PRIVATE CUDA::cublas)
endif()
if (MYLIB_CUDA_SOURCES)
    set_property(TARGET mylib PROPERTY CUDA_ARCHITECTURES 70)
endif()
"""


def _severities(cli, tmp_path, path: str = "src/CMakeLists.txt") -> set[tuple[int, str]]:
    found = scan_json(cli, "--no-cache", ".", cwd=tmp_path)["findings"]
    return {(f["line"], f["severity"]) for f in found if f["path"] == path}


def test_a_cuda_block_behind_an_option_off_by_default_is_another_path(cli, tmp_path):
    write(tmp_path / "CMakeLists.txt", TOP)
    write(tmp_path / "src" / "CMakeLists.txt", SRC)
    write(tmp_path / "README.md", "# mylib\n\n    cmake -B build -DMYLIB_OPENBLAS=ON && cmake --build build\n")
    # a Makefile target beside the default one that turns it on is a route the user picks, too
    write(tmp_path / "Makefile", "all:\n\tcmake -B build\n\ncuda: \n\tcmake -B build -DMYLIB_CUBLAS=ON\n")
    found = _severities(cli, tmp_path)
    assert {line for line, _ in found} >= {3, 4, 6, 9}
    assert {severity for _, severity in found} == {"warning"}


def test_the_block_keeps_its_errors_where_the_project_turns_the_option_on(cli, tmp_path):
    write(tmp_path / "CMakeLists.txt", TOP)
    write(tmp_path / "src" / "CMakeLists.txt", SRC)
    write(tmp_path / "README.md", "# mylib\n\n    cmake -B build -DMYLIB_CUBLAS=ON && cmake --build build\n")
    assert (3, "error") in _severities(cli, tmp_path)
    write(tmp_path / "README.md", "# mylib\n\n    make\n")
    write(tmp_path / "Makefile", "all: lib\n\nlib:\n\tcmake -B build -DMYLIB_CUBLAS=ON\n")
    assert (3, "error") in _severities(cli, tmp_path)
    write(tmp_path / "Makefile", "all: lib\n\nlib:\n\tcmake -B build -DMYLIB_CUBLAS=OFF\n")
    assert (3, "warning") in _severities(cli, tmp_path)


ARCH_TOP = """\
cmake_minimum_required(VERSION 3.18)
project(mylib CXX)
option(MYLIB_USE_CUDA "Builds the CUDA kernels." OFF)
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 70-real 70-virtual)
endif()
if(MYLIB_USE_CUDA)
    enable_language(CUDA)
endif()
"""


def test_cuda_language_settings_follow_the_option_that_alone_enables_the_language(cli, tmp_path):
    write(tmp_path / "CMakeLists.txt", ARCH_TOP)
    write(tmp_path / "README.md", "# mylib\n\n    cmake -B build && cmake --build build\n")
    assert (5, "warning") in _severities(cli, tmp_path, "CMakeLists.txt")
    # the language enabled outside the option as well: a plain configure reads the architectures
    write(tmp_path / "CMakeLists.txt", ARCH_TOP.replace("project(mylib CXX)", "project(mylib CXX CUDA)"))
    assert (5, "error") in _severities(cli, tmp_path, "CMakeLists.txt")


def test_a_documented_variant_of_the_plain_configure_leaves_the_option_to_the_installer():
    guide = b"    cmake -GNinja -B build\n\n## CUDA builds\n\n    cmake -GNinja -DLIB_CUDA=ON -DARCHS=\"80-real;80-virtual\" -B build\n"
    assert turned_on(guide, ["LIB_CUDA"]) == set()
    assert turned_on(b"    cmake -GNinja -DLIB_CUDA=ON -B build\n", ["LIB_CUDA"]) == {"LIB_CUDA"}
    # a variant of another command is no variant of the plain one
    assert turned_on(b"cmake -B build\ncmake -S core -B build -DLIB_CUDA=ON\n", ["LIB_CUDA"]) == {"LIB_CUDA"}
    assert turned_on(b"cmake ..\ncmake -DLIB_CUDA=ON ..\n", ["LIB_CUDA"]) == set()


def test_a_value_read_from_a_variable_is_the_runner_s_choice():
    assert turned_on(b"cmake -B build -DLIB_CUDA=$cuda\\\n", ["LIB_CUDA"]) == set()
    assert turned_on(b"cmake -B build -DLIB_CUDA=${{ matrix.cuda }}\n", ["LIB_CUDA"]) == set()


def test_a_value_the_file_itself_gives_is_the_project_s_choice():
    names = ["LIB_CUDA"]
    assert turned_on(b"cmake -B build -DLIB_CUDA=${LIB_CUDA:-ON}\n", names) == {"LIB_CUDA"}
    assert turned_on(b"cmake -B build -DLIB_CUDA=${LIB_CUDA-ON}\n", names) == {"LIB_CUDA"}
    assert turned_on(b"cmake -B build -DLIB_CUDA=${LIB_CUDA:-OFF}\n", names) == set()
    assert turned_on(b"ARG CUDA=ON\nRUN cmake -B build -DLIB_CUDA=$CUDA\n", names) == {"LIB_CUDA"}
    assert makefile_turned_on("CUDA ?= ON\nall:\n\tcmake -B build -DLIB_CUDA=$(CUDA)\n", names) == {"LIB_CUDA"}
    # set on in one branch and off in another: the variant picks
    assert turned_on(b"if [ $v = gpu ]; then\n  cuda=ON\nelse\n  cuda=OFF\nfi\ncmake -DLIB_CUDA=$cuda -B build\n", names) == set()
