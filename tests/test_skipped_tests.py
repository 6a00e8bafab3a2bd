"""Tests that never run on a machine without a GPU: skips through a probe of a package that has no
CPU build, skip helpers called with arguments, per-test set-up of gated classes, and test modules
that import such a package outright."""

from __future__ import annotations

from functools import partial
from pathlib import PurePath

import pytest

from cudaudit.filekinds import FileKind, classify
from cudaudit.model import Severity
from cudaudit.project_index import IndexedFile, build_index
from cudaudit.rules.catalog import load_catalog
from support import analyze, scan_json, write

PROBE = """import pytest
import torch

try:
    import {package}
    HAS_FUSED = True
except ImportError:
    HAS_FUSED = False

"""


def cpu_severities(code: str, path: str = "tests/test_ops.py", files: dict[str, str] | None = None) -> list[tuple[int, str]]:
    """(line, CPU severity) of each `"cuda"` device site (CDA103) of a test module."""
    return [(f.span.line, f.targets["cpu"].severity.value) for f in analyze(code, path=path, files=files) if f.rule == "CDA103"]


@pytest.mark.parametrize(
    "skip",
    [
        "@pytest.mark.skipif(not HAS_FUSED, reason='fused kernels')\ndef test_fused():\n",
        "@unittest.skipUnless(HAS_FUSED, 'fused kernels')\ndef test_fused():\n",
        "def test_fused():\n    if not HAS_FUSED:\n        pytest.skip('fused kernels')\n",
    ],
)
def test_a_probe_of_a_package_without_a_cpu_build_skips_its_tests_on_a_cpu(skip):
    body = "    assert torch.ones(2, device='cuda').sum() == 2\n"
    code = "import unittest\n" + PROBE.format(package="transformer_engine") + skip + body
    [(line, severity)] = cpu_severities(code)
    assert severity == "note"
    # A package a CPU machine may have installed (xformers has CPU wheels) says nothing of the machine.
    other = "import unittest\n" + PROBE.format(package="xformers") + skip + body
    assert cpu_severities(other) == [(line, "warning")]


def test_a_probe_that_only_a_type_checker_sees_set_is_still_a_probe():
    code = (
        "import pytest\nimport torch\nfrom typing import TYPE_CHECKING\n\ntry:\n    import flash_attn\n    HAS_FA = True\n"
        "except ImportError:\n    if TYPE_CHECKING:\n        HAS_FA = True\n    else:\n        HAS_FA = False\n\n"
        "@pytest.mark.skipif(not HAS_FA, reason='fa')\ndef test_fa():\n    assert torch.ones(2, device='cuda').sum() == 2\n"
    )
    assert cpu_severities(code) == [(16, "note")]
    # Set True at run time too: no probe.
    assert cpu_severities(code.replace("        HAS_FA = False", "        HAS_FA = True")) == [(16, "warning")]


SHARED = {
    "proj/core/__init__.py": "",
    "proj/core/fused.py": PROBE.format(package="transformer_engine"),
    "proj/core/api.py": "try:\n    from proj.core.fused import HAS_FUSED\n    HAVE_API = HAS_FUSED\nexcept ImportError:\n    HAVE_API = False\n",
}
"""A package whose probe is copied from module to module, under a folder (`proj/`) with no
`__init__.py` above its package: a namespace package, as a checkout's root on the path imports it."""


@pytest.mark.parametrize("flag", ["proj.core.fused import HAS_FUSED as OK", "proj.core.api import HAVE_API as OK", "core.api import HAVE_API as OK"])
def test_a_probe_imported_from_another_module_skips_a_whole_test_module(flag):
    code = (
        f"import pytest\nimport torch\nfrom {flag}\n\nif not OK:\n    pytest.skip('fused', allow_module_level=True)\n\n"
        "def _ones():\n    return torch.ones(2, device='cuda')\n\ndef test_sum():\n    assert _ones().sum() == 2\n"
    )
    assert cpu_severities(code, files=SHARED) == [(9, "note")]
    assert cpu_severities(code) == [(9, "warning")]  # alone, the imported name says nothing


def test_the_index_follows_copies_of_a_probe():
    files = {**SHARED, "tests/test_x.py": "x = 1\n"}
    index = build_index(
        [IndexedFile(path, classify(PurePath(path)), partial(str.encode, text)) for path, text in files.items()], load_catalog()
    )
    flags = index.facts("proj/core/api.py", (FileKind.PYTHON,)).package_flags
    names = ("core.api.HAVE_API", "proj.core.api.HAVE_API", "core.fused.HAS_FUSED", "proj.core.fused.HAS_FUSED")
    assert {name: "transformer_engine" for name in names}.items() <= dict(flags).items()


@pytest.mark.parametrize(("package", "severity"), [("transformer_engine", "note"), ("triton", "warning")])
def test_importorskip_of_a_package_without_a_cpu_build_skips_on_a_cpu(package, severity):
    code = f"import pytest\nimport torch\n\nmod = pytest.importorskip('{package}')\n\ndef test_x():\n    assert torch.ones(2, device='cuda').sum() == 2\n"
    assert cpu_severities(code) == [(7, severity)]


@pytest.mark.parametrize(
    ("call", "severity"),
    [
        ("_need_gpus(2)", "note"),
        ("_need_gpus(n=2)", "note"),
        ("_need_gpus()", "note"),  # the default, 1: skipped where there is none
        ("_need_gpus(world_size)", "warning"),  # a parametrised count: some cases may run
    ],
)
def test_a_skip_helper_called_with_arguments_reads_them(call, severity):
    code = (
        "import pytest\nimport torch\n\ndef _need_gpus(n=1):\n    if torch.cuda.device_count() < n:\n        pytest.skip('gpus')\n\n"
        f"@pytest.mark.parametrize('world_size', [0, 2])\ndef test_x(world_size):\n    {call}\n"
        "    assert torch.ones(2, device='cuda').sum() == 2\n"
    )
    assert cpu_severities(code) == [(11, severity)]


SET_UP_SKIP = """import pytest
import torch

try:
    import transformer_engine
    HAS_TE = True
except ImportError:
    HAS_TE = False


def _needs_gpu():
    if not torch.cuda.is_available():
        pytest.skip("gpu")


class TestLayer:
    def setup_method(self, method):
        {check}
        self.x = torch.ones(2, device="cuda")

    def test_sum(self):
        assert torch.ones(2, device="cuda").sum() == 2
"""


@pytest.mark.parametrize("check", ["_needs_gpu()", "if not HAS_TE:\n            pytest.skip('te')"])
def test_a_skip_in_a_classes_set_up_skips_every_test_of_it(check):
    code = SET_UP_SKIP.format(check=check)
    assert {severity for _, severity in cpu_severities(code)} == {"note"}
    unchecked = SET_UP_SKIP.format(check="pass")
    assert {severity for _, severity in cpu_severities(unchecked)} == {"warning"}


GATED_TESTS = """import unittest

import pytest
import torch


class TestLayer{base}:
    def {set_up}(self{argument}):
        self.x = torch.ones(2, device="cuda")

    @pytest.mark.skipif(not torch.cuda.is_available(), reason="gpu")
    def test_sum(self):
        assert self.x.sum() == 2

{other}"""


@pytest.mark.parametrize(
    ("base", "set_up", "argument"),
    [("", "setup_method", ", method"), ("(unittest.TestCase)", "setUp", "")],
)
def test_the_set_up_of_a_class_whose_every_test_is_skipped_without_a_gpu_never_runs_there(base, set_up, argument):
    code = GATED_TESTS.format(base=base, set_up=set_up, argument=argument, other="")
    assert cpu_severities(code) == [(9, "note")]
    ungated = "    def test_other(self):\n        assert self.x.sum() == 2\n"
    assert cpu_severities(GATED_TESTS.format(base=base, set_up=set_up, argument=argument, other=ungated)) == [(9, "warning")]
    # A base of the project's may bring tests this module does not show.
    inherited = GATED_TESTS.format(base="(LayerTests)", set_up=set_up, argument=argument, other="")
    assert cpu_severities(inherited) == [(9, "warning")]


def test_a_test_module_that_imports_a_package_without_a_cpu_build_never_runs_on_a_cpu():
    code = (
        "import torch\nfrom transformer_engine.pytorch import Linear\n\n"
        "def test_linear():\n    assert Linear(2, 2).to('cuda') is not None\n"
    )
    findings = analyze(code, path="tests/test_te.py")
    assert [(f.span.line, f.rule, f.targets["cpu"].severity) for f in findings if f.targets["cpu"].severity is not Severity.NOTE] == [
        (2, "CDA215", Severity.WARNING)  # the import is the one finding: collecting the module fails there
    ]
    # Outside the test suite the import keeps its own reading (a library's other sites are their own).
    script = "import torch\nfrom transformer_engine.pytorch import Linear\n\nx = torch.ones(2, device='cuda')\n"
    assert [f.targets["cpu"].severity for f in analyze(script, path="pkg/layers.py") if f.rule == "CDA103"] == [Severity.ERROR]
    assert [f.targets["cpu"].severity for f in analyze(script, path="tests/test_layers.py") if f.rule == "CDA103"] == [Severity.NOTE]


@pytest.mark.parametrize(
    ("marker", "severity"),
    [
        ("@pytest.mark.skipif(os.environ.get('RUN_GPU', '0') != '1', reason='opt-in')", "note"),
        ("@pytest.mark.skipif(not os.getenv('RUN_GPU'), reason='opt-in')", "note"),
        ("@unittest.skipUnless('RUN_GPU' in os.environ, 'opt-in')", "note"),
        ("@pytest.mark.skipif(int(os.environ.get('RUN_GPU', 0)) == 0, reason='opt-in')", "note"),
        ("@pytest.mark.skipif(os.environ.get('CI') is not None, reason='too slow on CI')", "warning"),  # runs by default
        ("@pytest.mark.skipif(os.environ['RUN_GPU'] != '1', reason='opt-in')", "warning"),  # raises unset: not read
        # a launcher sets it: a launched run takes the test, another path already
        ("@pytest.mark.skipif(int(os.getenv('WORLD_SIZE', '1')) == 1, reason='several ranks')", "warning"),
        ("@pytest.mark.skipif('RANK' not in os.environ, reason='under torchrun')", "warning"),
    ],
)
def test_a_test_a_variable_must_opt_into_never_runs_on_a_default_run(marker, severity):
    """A default run of the suite sets none of the project's variables: a lookup reads its fallback."""
    code = f"import os\nimport unittest\n\nimport pytest\nimport torch\n\n\n{marker}\ndef test_x():\n    assert torch.ones(2, device='cuda').sum() == 2\n"
    findings = [f for f in analyze(code, path="tests/test_ops.py") if f.rule == "CDA103"]
    assert [f.severity.value for f in findings] == [severity]
    if severity == "note":
        assert {fact.severity for fact in findings[0].targets.values()} == {Severity.NOTE}  # ROCm's run skips it too


FACTORY = """import os

import pytest


def run_if_flag(name):
    flag = os.environ.get(name.upper(), "0")
    if flag == "1":
        return pytest.mark.skipif(False, reason=name)
    else:
        return pytest.mark.skipif(True, reason=name)


def needs_many(count):
    return pytest.mark.skipif(count > 1, reason="many")
"""
"""A shared module of the project's own skip-marker factories: one opt-in by an environment
variable, one whose answer depends on what it is given."""


@pytest.mark.parametrize(
    ("use", "severity"),
    [
        ("from proj.testing import run_if_flag\n\n\n@run_if_flag(name='LONG')\n", "note"),
        ("from proj import testing\n\n\n@testing.run_if_flag('LONG')\n", "note"),
        ("from proj.testing import needs_many\n\n\n@needs_many(2)\n", "warning"),
        ("from proj.testing import run_if_flag\n\n\n@run_if_flag\n", "warning"),  # not called: no marker
    ],
)
def test_a_skip_marker_factory_of_the_project_says_where_its_markers_skip(use, severity):
    code = f"import torch\n{use}def test_x():\n    assert torch.ones(2, device='cuda').sum() == 2\n"
    files = {"proj/__init__.py": "", "proj/testing.py": FACTORY}
    assert [f.severity.value for f in analyze(code, path="tests/test_ops.py", files=files) if f.rule == "CDA103"] == [severity]
    if use.startswith("from proj.testing"):  # the same factory defined in the test module itself
        local = FACTORY + "\n\n" + code.replace(use.split("\n")[0] + "\n", "")
        assert [f.severity.value for f in analyze(local, path="tests/test_ops.py") if f.rule == "CDA103"] == [severity]


@pytest.mark.parametrize(
    ("configuration", "text"),
    [
        ("pytest.ini", "[pytest]\naddopts = -ra --ignore=tests/legacy\n"),
        ("tox.ini", "[tox]\nenvlist = py311\n\n[pytest]\naddopts = --ignore tests/legacy -q\n"),
        ("setup.cfg", "[tool:pytest]\naddopts = --ignore-glob=tests/legacy/*\n"),
        ("pyproject.toml", "[tool.pytest.ini_options]\naddopts = ['--ignore=tests/legacy/']\n"),
    ],
)
def test_a_test_module_the_pytest_configuration_ignores_never_runs(cli, tmp_path, configuration, text):
    write(tmp_path / configuration, text)
    write(tmp_path / "tests/legacy/test_old.py", "import torch\n\ndef test_old():\n    torch.cuda.synchronize()\n")
    write(tmp_path / "tests/test_new.py", "import torch\n\ndef test_new():\n    torch.cuda.synchronize()\n")
    report = scan_json(cli, "--no-cache")
    assert [(f["path"], f["severity"]) for f in report["findings"]] == [("tests/test_new.py", "warning")]


@pytest.mark.parametrize(
    ("probe", "severity"),
    [
        ("def _fp8_ok(major=9):\n    if not torch.cuda.is_available():\n        return False\n    return torch.cuda.get_device_capability()[0] >= major\n", "note"),
        ("def _fp8_ok():\n    ok = torch.cuda.is_available()\n    return ok\n", "note"),
        ("def _fp8_ok():\n    return True\n", "warning"),
        ("def _fp8_ok():\n    for _ in range(2):\n        return torch.cuda.is_available()\n", "warning"),  # not followed
    ],
)
def test_a_function_of_the_module_that_is_false_without_cuda_skips_its_tests(probe, severity):
    code = (
        f"import unittest\n\nimport torch\n\n\n{probe}\n\n@unittest.skipIf(not _fp8_ok(), 'fp8')\n"
        "def test_x():\n    assert torch.ones(2, device='cuda').sum() == 2\n"
    )
    assert [f.severity.value for f in analyze(code, path="tests/test_ops.py") if f.rule == "CDA103"] == [severity]


@pytest.mark.parametrize(
    ("flag", "severity"),
    [
        ("from proj.utils import is_sm90\n\nif not is_sm90():\n", "note"),  # a flag function of the project
        ("from torch.testing._internal.common_utils import TEST_CUDA\n\nif not TEST_CUDA:\n", "note"),
        ("from proj.utils import parse_flag\n\nif not parse_flag():\n", "warning"),
    ],
)
def test_a_probe_another_module_defines_skips_where_it_is_false(flag, severity):
    utils = (
        "import os\n\nimport torch\n\n\ndef is_sm90():\n    return torch.cuda.is_available() and torch.cuda.get_device_capability() >= (9, 0)\n\n\n"
        "def parse_flag():\n    return os.environ.get('X') == '1'\n"
    )
    code = (
        f"import pytest\nimport torch\n{flag}    pytest.skip('sm90', allow_module_level=True)\n\n\n"
        "def test_x():\n    assert torch.ones(2, device='cuda').sum() == 2\n"
    )
    files = {"proj/__init__.py": "", "proj/utils.py": utils}
    assert [f.severity.value for f in analyze(code, path="tests/test_ops.py", files=files) if f.rule == "CDA103"] == [severity]


MULTI_PROCESS = """import torch
from torch.testing._internal.common_fsdp import FSDPTest


class TestSharded(FSDPTest):
    @property
    def world_size(self):
        return {count}

    def test_step(self):
        x = torch.randn(4, 4, device="cuda")
"""


@pytest.mark.parametrize(
    ("count", "severity"),
    [
        ("min(torch.cuda.device_count(), 4)", "note"),  # no process is spawned without CUDA
        ("torch.cuda.device_count()", "note"),
        ("max(1, min(torch.cuda.device_count(), 2))", "warning"),  # one process on a CPU host
        ("2", "warning"),
    ],
)
def test_a_multi_process_test_class_counting_cuda_devices_runs_nothing_without_them(count, severity):
    assert cpu_severities(MULTI_PROCESS.format(count=count)) == [(11, severity)]


def test_a_world_size_counting_cuda_devices_says_nothing_of_a_class_that_spawns_no_processes():
    code = MULTI_PROCESS.format(count="torch.cuda.device_count()").replace(
        "from torch.testing._internal.common_fsdp import FSDPTest", "from unittest import TestCase as FSDPTest"
    )
    assert cpu_severities(code) == [(11, "warning")]


def rocm_and_cpu(code: str, path: str = "tests/test_ops.py", files: dict[str, str] | None = None) -> list[tuple[int, str, str]]:
    """(line, ROCm severity, CPU severity) of each `"cuda"` device site (CDA103) of a test module."""
    return [
        (f.span.line, f.targets["rocm"].severity.value, f.targets["cpu"].severity.value)
        for f in analyze(code, path=path, files=files)
        if f.rule == "CDA103"
    ]


DEVICE_TYPE_TESTS = """import torch
from torch.testing._internal.common_utils import TestCase
from torch.testing._internal.common_device_type import instantiate_device_type_tests, onlyCUDA, onlyOn


class TestNorm(TestCase):
    {decorator}
    def test_half(self, device):
        assert torch.ones(2, device="cuda").sum() == 2


instantiate_device_type_tests(TestNorm, globals(){arguments})
"""


@pytest.mark.parametrize(
    ("decorator", "arguments", "cpu"),
    [
        ("", ', only_for=("cuda",)', "note"),
        ("", ', only_for="cuda"', "note"),
        ("", ", None, ['cuda', 'xpu']", "note"),
        ("", ", except_for='cpu'", "note"),
        ("@onlyCUDA", "", "note"),
        ("@onlyOn(['cuda'])", "", "note"),
        # A CPU class is made, and its test runs there.
        ("", "", "warning"),
        ("", ', only_for=("cpu", "cuda")', "warning"),
        ("", ", except_for='cpu', include_lazy=True", "warning"),
        ("@onlyOn(['cpu', 'cuda'])", "", "warning"),
    ],
)
def test_a_device_type_test_made_for_cuda_alone_never_runs_on_a_cpu(decorator, arguments, cpu):
    code = DEVICE_TYPE_TESTS.format(decorator=decorator or "", arguments=arguments)
    # The "cuda" device type is a ROCm GPU's too: there the test runs.
    assert rocm_and_cpu(code) == [(9, "note", cpu)]


SET_UP_BASE = """import sys
import unittest

import torch


class GpuCase(unittest.TestCase):
    def setUp(self):
        if sys.version_info < (3, 6):
            raise unittest.SkipTest("old python")
        {first}
        if not torch.cuda.is_available():
            raise unittest.SkipTest("gpu")

    def test_sum(self):
        assert torch.ones(2, device="cuda").sum() == 2
"""


def test_a_set_up_skip_after_other_checks_still_skips_every_test():
    code = SET_UP_BASE.format(first="self.x = torch.zeros(2, device='cuda')")
    # What the set-up does before its skip runs wherever the class is collected.
    assert [(line, cpu) for line, _, cpu in rocm_and_cpu(code)] == [(11, "warning"), (16, "note")]
    # A set-up that may return before the skip lets the tests run unchecked.
    returning = SET_UP_BASE.format(first="if sys.platform == 'darwin':\n            return")
    assert [(line, cpu) for line, _, cpu in rocm_and_cpu(returning)] == [(17, "warning")]


SUBCLASS = """import torch
{import_}


class TestLayer({base}):
{set_up}
    def test_mean(self):
        assert torch.ones(2, device="cuda").mean() == 1
"""


@pytest.mark.parametrize(
    ("set_up", "cpu"),
    [
        ("", "note"),
        ("    def setUp(self):\n        super().setUp()\n        self.n = 2\n", "note"),
        # A set-up of its own that never calls the base's skips nothing.
        ("    def setUp(self):\n        self.n = 2\n", "warning"),
    ],
)
def test_a_test_class_inherits_its_bases_set_up_skip(set_up, cpu):
    def mean_line(code: str) -> int:
        return code.split("\n").index('        assert torch.ones(2, device="cuda").mean() == 1') + 1

    base = SET_UP_BASE.format(first="pass")
    # A base of the same module.
    code = base + SUBCLASS.format(import_="", base="GpuCase", set_up=set_up)
    assert (mean_line(code), "note", cpu) in rocm_and_cpu(code)
    # A base another test module defines, through the project index.
    files = {"tests/__init__.py": "", "tests/test_base.py": base}
    for import_, name in (("from .test_base import GpuCase", "GpuCase"), ("from tests import test_base", "test_base.GpuCase")):
        derived = SUBCLASS.format(import_=import_, base=name, set_up=set_up)
        assert rocm_and_cpu(derived, path="tests/test_layer.py", files=files) == [(mean_line(derived), "note", cpu)]
    # Without the base's module the name says nothing.
    alone = SUBCLASS.format(import_="from .test_base import GpuCase", base="GpuCase", set_up=set_up)
    assert rocm_and_cpu(alone, path="tests/test_layer.py") == [(mean_line(alone), "note", "warning")]


EXTENSION_BUILD = """from setuptools import setup
from torch.utils.cpp_extension import BuildExtension, CUDAExtension

ext_modules = []
if "--fused" in __import__("sys").argv:
    ext_modules.append(CUDAExtension("fused_norm_cuda", ["csrc/fused_norm.cu"]))
setup(name="pkg", ext_modules=ext_modules, cmdclass={"build_ext": BuildExtension})
"""

FAILED_IMPORT = """import unittest

import torch

SKIP_TEST = None
try:
    {import_}
except ImportError as e:
    SKIP_TEST = e


@unittest.skipIf(SKIP_TEST, f"{{SKIP_TEST}}")
class TestFusedNorm(unittest.TestCase):
    def test_forward(self):
        assert torch.ones(2, device="cuda").sum() == 2
"""


@pytest.mark.parametrize(
    ("import_", "cpu"),
    [
        ("import fused_norm_cuda", "note"),
        ("from pkg.contrib.fused_norm import FusedNorm", "note"),
        ("from pkg.contrib import fused_norm", "note"),
        ("from pkg.fused import FusedNorm", "note"),  # through a module that imports one at its top level
        # A module that imports the extension only where it can is importable everywhere.
        ("from pkg.contrib.guarded_norm import FusedNorm", "warning"),
        ("from pkg.layers import Norm", "warning"),
    ],
)
def test_a_test_skipped_where_importing_a_cuda_extension_failed_never_runs_on_a_cpu(import_, cpu):
    files = {
        "setup.py": EXTENSION_BUILD,
        "pkg/__init__.py": "",
        "pkg/layers.py": "import torch\n\nclass Norm(torch.nn.Module):\n    pass\n",
        "pkg/contrib/__init__.py": "",
        "pkg/contrib/fused_norm.py": "import torch\nimport fused_norm_cuda\n\nclass FusedNorm(torch.nn.Module):\n    pass\n",
        "pkg/contrib/guarded_norm.py": "try:\n    import fused_norm_cuda\nexcept ImportError:\n    fused_norm_cuda = None\n\nclass FusedNorm:\n    pass\n",
        "pkg/fused.py": "from .contrib.fused_norm import FusedNorm\n",
    }
    code = FAILED_IMPORT.format(import_=import_)
    assert rocm_and_cpu(code, path="tests/test_fused_norm.py", files=files) == [(15, "note", cpu)]
    # Without the build script, nothing says the module is a CUDA extension.
    files.pop("setup.py")
    assert rocm_and_cpu(code, path="tests/test_fused_norm.py", files=files) == [(15, "note", "warning")]


def test_a_name_set_where_the_import_failed_and_elsewhere_too_is_no_record_of_it():
    code = FAILED_IMPORT.format(import_="import transformer_engine")
    assert rocm_and_cpu(code) == [(15, "note", "note")]
    # Set again after the import: the name says nothing of it.
    spoiled = code.replace("\n\n\n@unittest", "\nSKIP_TEST = None\n\n@unittest")
    assert rocm_and_cpu(spoiled) == [(15, "note", "warning")]
    # Set false in the handler: the tests run where the import failed.
    inverted = code.replace("SKIP_TEST = e", "SKIP_TEST = False")
    assert rocm_and_cpu(inverted) == [(15, "note", "warning")]


def test_a_test_module_that_imports_a_cuda_extension_outright_keeps_its_verdicts():
    # Its collection fails on a machine without a GPU, and nothing else would report that.
    files = {"setup.py": EXTENSION_BUILD}
    code = "import torch\nimport fused_norm_cuda\n\n\ndef test_forward():\n    assert torch.ones(2, device='cuda').sum() == 2\n"
    assert rocm_and_cpu(code, path="tests/test_fused_norm.py", files=files) == [(6, "note", "warning")]
    guarded = code.replace("import fused_norm_cuda", "fused_norm_cuda = pytest.importorskip('fused_norm_cuda')")
    assert rocm_and_cpu("import pytest\n" + guarded, path="tests/test_fused_norm.py", files=files) == [(7, "note", "note")]


@pytest.mark.parametrize(
    ("build", "cpu"),
    [
        ("Python_add_library(fused_norm_cuda MODULE WITH_SOABI csrc/fused_norm.cu)\n", "note"),
        ("pybind11_add_module(fused_norm_cuda csrc/fused_norm.cu)\n", "note"),
        # Its sources through a variable; the CUDA runtime it links to says it is a CUDA build.
        (
            "Python_add_library(fused_norm_cuda MODULE ${NORM_SOURCES})\n"
            "target_link_libraries(fused_norm_cuda PRIVATE ${TORCH_LIBRARIES} CUDA::cudart)\n",
            "note",
        ),
        # A C++ module, or a library that is no Python module, says nothing of the machine.
        ("Python_add_library(fused_norm_cuda MODULE csrc/fused_norm.cpp)\n", "warning"),
        ("Python_add_library(fused_norm_cuda STATIC csrc/fused_norm.cu)\n", "warning"),
    ],
)
def test_importorskip_of_a_python_module_a_cmake_file_builds_with_cuda_skips_on_a_cpu(build, cpu):
    files = {"CMakeLists.txt": "cmake_minimum_required(VERSION 3.26)\nproject(norm LANGUAGES CXX CUDA)\n" + build}
    code = "import pytest\nimport torch\n\npytest.importorskip('fused_norm_cuda')\n\n\ndef test_forward():\n    assert torch.ones(2, device='cuda').sum() == 2\n"
    assert rocm_and_cpu(code, path="tests/test_fused_norm.py", files=files) == [(8, "note", cpu)]


SELF_LAUNCHING = """import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

DATA = Path(__file__).parent / "data"


def _worker():
    dist.init_process_group("gloo")
    torch.cuda.set_device(dist.get_rank())
    assert torch.ones(2, device="cuda").sum() == 2


def _launch(script):
    subprocess.run(["torchrun", "--nproc_per_node", "2", str(script), "--worker"], check=True)


def test_two_ranks():
{gate}    _launch(Path(__file__).resolve())


if __name__ == "__main__":
    if "--worker" not in sys.argv:
        raise SystemExit("run by pytest")
    _worker()
"""


@pytest.mark.parametrize(
    ("gate", "cpu"),
    [
        ("    if not torch.cuda.is_available():\n        pytest.skip('needs CUDA')\n", "note"),
        ("    if torch.cuda.device_count() < 2:\n        pytest.skip('needs two GPUs')\n", "note"),
        # The launching test runs everywhere: so does the worker it launches.
        ("", "warning"),
    ],
)
def test_the_worker_of_a_test_module_that_launches_itself_runs_where_its_launching_test_does(gate, cpu):
    code = SELF_LAUNCHING.format(gate=gate)
    assert rocm_and_cpu(code, path="tests/test_two_ranks.py") == [(15, "note", cpu)]


def test_a_self_launching_module_whose_path_an_unguarded_test_reads_keeps_its_worker_verdicts():
    gate = "    if not torch.cuda.is_available():\n        pytest.skip('needs CUDA')\n"
    code = SELF_LAUNCHING.format(gate=gate)
    assert rocm_and_cpu(code, path="tests/test_two_ranks.py") == [(15, "note", "note")]
    # Another test hands the file itself on, unguarded: the block may run from there.
    unguarded = code + "\n\ndef test_script_exists():\n    assert Path(__file__).exists()\n"
    assert rocm_and_cpu(unguarded, path="tests/test_two_ranks.py") == [(15, "note", "warning")]
    # A module that launches no program is no worker of its own tests: its block is a hand-run path.
    unlaunched = code.replace("subprocess.run(", "print(")
    assert rocm_and_cpu(unlaunched, path="tests/test_two_ranks.py") == [(15, "note", "warning")]
