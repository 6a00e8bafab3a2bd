"""Sources a build script compiles only where the installer opts in are another path
(`rules/builds/opt_in_builds.py`): at most warnings, unless every install command of the README
sets the switch."""

from __future__ import annotations

import pytest
from test_project_index import index_of

from cudaudit.facts import Evidence
from cudaudit.filekinds import FileKind
from support import scan_json, write

SETUP = """import glob
import os
import sys
from setuptools import setup
from torch.utils.cpp_extension import BuildExtension, CUDAExtension


def wants(flag, variable):
    if flag in sys.argv or os.environ.get(variable, "0") == "1":
        return True
    return False


WITH_SCAN = os.getenv("PKG_WITH_SCAN", "FALSE") == "TRUE"
ext_modules = []
if wants("--core_ext", "PKG_CORE_EXT"):
    ext_modules.append(CUDAExtension("pkg_core", ["csrc/core.cu"]))
if wants("--fast_norm", "PKG_FAST_NORM"):
    ext_modules.append(CUDAExtension("fast_norm", ["pkg/extras/csrc/norm.cpp"] + glob.glob("pkg/extras/csrc/norm_*.cu")))
if WITH_SCAN:
    ext_modules.append(CUDAExtension("scan_op", sources=["pkg/extras/csrc/scan.cu"]))
setup(name="pkg", ext_modules=ext_modules, cmdclass={"build_ext": BuildExtension})
"""
PTX = 'static __device__ int lane() { int l; asm volatile("mov.u32 %0, %%laneid;" : "=r"(l)); return l; }\n'
README = "# pkg\n\n```\nPKG_CORE_EXT=1 pip install .\nPKG_CORE_EXT=1 PKG_FAST_NORM=1 pip install .\n```\n"
FILES = {
    "setup.py": SETUP,
    "csrc/core.cu": PTX,
    "pkg/extras/csrc/norm.cpp": "int norm();\n",
    "pkg/extras/csrc/norm_fwd.cu": '#include "norm_impl.cuh"\n',
    "pkg/extras/csrc/norm_impl.cuh": PTX,
    "pkg/extras/csrc/scan.cu": PTX,
}


def rocm_severities(report: dict) -> dict[str, str]:
    return {f["path"]: f["targets"]["rocm"]["severity"] for f in report["findings"] if f["rule"] == "CDA410"}


def test_sources_built_only_under_an_opt_in_switch_are_another_path_unless_every_install_command_sets_it(cli, tmp_path):
    """`PKG_FAST_NORM` and `PKG_WITH_SCAN` are off unless the installer sets them: the sources only their arms
    name or glob, and the header only those include, are at most ROCm warnings. `PKG_CORE_EXT` is set by
    every install command of the README: the core source is the normal build and keeps its error."""
    for path, text in {**FILES, "README.md": README}.items():
        write(tmp_path / path, text)
    assert rocm_severities(scan_json(cli, "--no-cache")) == {
        "csrc/core.cu": "error",
        "pkg/extras/csrc/norm_impl.cuh": "warning",
        "pkg/extras/csrc/scan.cu": "warning",
    }
    write(tmp_path / "README.md", "```\npip install .\nPKG_FAST_NORM=1 pip install .\n```\n")
    assert rocm_severities(scan_json(cli, "--no-cache"))["csrc/core.cu"] == "warning"  # an option there too


@pytest.mark.parametrize(
    ("test", "opt_in"),
    [
        ('"--fast" in sys.argv[1:]', True),
        ('os.environ.get("PKG_FAST") and CUDA_HOME is not None', True),
        ('torch.cuda.is_available() or os.getenv("FORCE_CUDA", "0") == "1"', False),
        ('not os.getenv("PKG_SKIP_BUILD", "0") == "1"', False),
        ('os.getenv("PKG_BUILD", "1") == "1"', False),
    ],
)
def test_an_arm_is_opt_in_only_where_it_needs_a_switch_the_installer_sets(test, opt_in):
    """An `and` needs one switch; an `or` needs them all (the availability of a GPU builds by default);
    a negated switch and a switch on by default are what a default install takes."""
    setup = (
        "import os\nimport sys\nimport torch\nfrom torch.utils.cpp_extension import CUDA_HOME, CUDAExtension\n"
        f'if {test}:\n    ext = CUDAExtension("fast", ["fast.cu"])\n'
    )
    facts = index_of({"setup.py": setup, "fast.cu": ""}).facts("fast.cu", (FileKind.CUDA,))
    assert (facts.off_default_path == Evidence("setup.py", 5, f"if {test}:"[:80])) is opt_in
    assert (facts.off_default_path is None) is not opt_in
