"""Sources a JIT extension build compiles (`torch.utils.cpp_extension.load()`, directly or through a
function of the project that hands its parameter on to `sources`): PyTorch hipifies them on a ROCm
build, as it does a `setup.py`'s `CUDAExtension`. Through the real project index and analyzers."""

from __future__ import annotations

import json

import pytest

from cudaudit.model import Severity
from support import analyze, write

KERNEL = '''#include <cuda_runtime.h>
void wait(cudaStream_t stream) { cudaStreamSynchronize(stream); }
'''
WRAPPER = '''import os
import torch.utils.cpp_extension


def get_plugin(module_name, sources, source_dir=None, **build_kwargs):
    if source_dir is not None:
        sources = [os.path.join(source_dir, name) for name in sources]
    return torch.utils.cpp_extension.load(name=module_name, sources=sources, **build_kwargs)
'''


def _rocm(files: dict[str, str], path: str) -> set[Severity]:
    return {f.targets["rocm"].severity for f in analyze(files[path], path=path, files=files) if f.rule == "CDA401"}


def test_sources_a_wrapper_builds_are_hipified():
    files = {
        "utils/plugins.py": WRAPPER,
        "ops/wait.py": (
            "import os\nfrom utils import plugins\n\n"
            "_plugin = plugins.get_plugin('wait_plugin', sources=['wait.cu'], source_dir=os.path.dirname(__file__))\n"
        ),
        "ops/wait.cu": KERNEL,
    }
    assert _rocm(files, "ops/wait.cu") == {Severity.NOTE}
    found = analyze(files["ops/wait.cu"], path="ops/wait.cu", files=files)
    assert all("ops/wait.py:4" in f.targets["rocm"].source for f in found if f.rule == "CDA401")


def test_sources_a_direct_load_joins_from_its_folder_are_hipified():
    files = {
        "ops/build.py": (
            "import os\nfrom torch.utils.cpp_extension import load\n\n"
            "here = os.path.dirname(os.path.abspath(__file__))\n"
            "ops = load('ops', sources=[os.path.join(here, 'src', 'ops.cpp'), os.path.join(here, 'src', 'wait.cu')])\n"
        ),
        "ops/src/wait.cu": KERNEL,
    }
    assert _rocm(files, "ops/src/wait.cu") == {Severity.NOTE}


def test_sources_an_f_string_spells_from_the_module_folder_are_hipified():
    files = {
        "tuners/layer.py": (
            "import os\n\n\ndef get_kernels():\n"
            "    from torch.utils.cpp_extension import load\n\n"
            "    here = os.path.dirname(__file__)\n"
            "    return load(name='k', sources=[f'{here}/fbd/k.cpp', f'{here}/fbd/wait.cu'])\n"
        ),
        "tuners/fbd/wait.cu": KERNEL,
    }
    assert _rocm(files, "tuners/fbd/wait.cu") == {Severity.NOTE}


def test_sources_a_local_name_holds_are_hipified():
    """The sources listed in a local name, joined to the module's folder by a comprehension."""
    files = {
        "render/ops.py": (
            "import os\nimport torch.utils.cpp_extension\n\n\ndef _plugin():\n"
            "    names = ['c_src/ops.cpp', 'c_src/wait.cu']\n"
            "    paths = [os.path.join(os.path.dirname(__file__), n) for n in names]\n"
            "    return torch.utils.cpp_extension.load(name='ops', sources=paths)\n"
        ),
        "render/c_src/wait.cu": KERNEL,
    }
    assert _rocm(files, "render/c_src/wait.cu") == {Severity.NOTE}
    found = analyze(files["render/c_src/wait.cu"], path="render/c_src/wait.cu", files=files)
    assert all("render/ops.py:8" in f.targets["rocm"].source for f in found if f.rule == "CDA401")


def test_sources_a_module_constant_holds_are_hipified():
    files = {
        "ext/build.py": (
            "import os\nfrom torch.utils.cpp_extension import load\n\n"
            "SOURCES = [os.path.join(os.path.dirname(__file__), 'kernels', 'wait.cu')]\n\n\n"
            "def build():\n    return load('ext', sources=SOURCES)\n"
        ),
        "ext/kernels/wait.cu": KERNEL,
    }
    assert _rocm(files, "ext/kernels/wait.cu") == {Severity.NOTE}


def test_sources_a_comprehension_joins_to_a_folder_name_over_literal_names_are_hipified():
    files = {
        "abn/functions.py": (
            "from os import path\nfrom torch.utils.cpp_extension import load\n\n"
            "_src = path.join(path.dirname(path.abspath(__file__)), 'src')\n"
            "_backend = load(name='abn', sources=[path.join(_src, f) for f in ['abn.cpp', 'wait.cu']])\n"
        ),
        "abn/src/wait.cu": KERNEL,
    }
    assert _rocm(files, "abn/src/wait.cu") == {Severity.NOTE}


def test_sources_of_a_name_no_load_reads_build_nothing():
    """A local list of sources the module only prints: nothing compiles them."""
    files = {
        "render/ops.py": (
            "import os\n\n\ndef listing():\n"
            "    names = ['c_src/ops.cpp', 'c_src/wait.cu']\n"
            "    print([os.path.join(os.path.dirname(__file__), n) for n in names])\n"
        ),
        "render/c_src/wait.cu": KERNEL,
    }
    assert _rocm(files, "render/c_src/wait.cu") == {Severity.WARNING}


def test_a_call_whose_argument_never_reaches_sources_builds_nothing():
    """`files` is only listed: the build compiles a source of its own, so `wait.cu` keeps its verdicts."""
    files = {
        "utils/plugins.py": (
            "import torch.utils.cpp_extension\n\n\n"
            "def get_plugin(module_name, files):\n"
            "    print(files)\n"
            "    return torch.utils.cpp_extension.load(name=module_name, sources=['plugin.cu'])\n"
        ),
        "ops/wait.py": "from utils import plugins\n\n_plugin = plugins.get_plugin('wait_plugin', files=['wait.cu'])\n",
        "ops/wait.cu": KERNEL,
    }
    assert _rocm(files, "ops/wait.cu") == {Severity.WARNING}


def test_sources_a_function_hands_a_wrapper_in_a_name_are_hipified():
    """`get_plugin("ops", sources=sources)` after `sources = [join(here, s) for s in sources]`."""
    files = {
        "utils/plugins.py": WRAPPER,
        "ops/wait.py": (
            "import os\nfrom utils import plugins\n\n\ndef _init():\n"
            "    sources = ['wait.cpp', 'wait.cu']\n"
            "    sources = [os.path.join(os.path.dirname(__file__), s) for s in sources]\n"
            "    return plugins.get_plugin('wait_plugin', sources=sources)\n"
        ),
        "ops/wait.cu": KERNEL,
    }
    assert _rocm(files, "ops/wait.cu") == {Severity.NOTE}


HEADER = '''#pragma once
#include <cuda_runtime.h>
inline void wait(cudaStream_t stream) { cudaStreamSynchronize(stream); }
'''


def test_a_header_beside_the_sources_stays_as_written_unless_the_call_names_it():
    """A JIT build's hipify converts the files it is given; an included header only where a file of that
    name is among them (a wrapper's `headers=[...]`, copied into the build folder)."""
    call = "_plugin = plugins.get_plugin('wait_plugin', sources=['wait.cu']{}, source_dir=os.path.dirname(__file__))\n"
    plain = {
        "utils/plugins.py": WRAPPER,
        "ops/wait.py": "import os\nfrom utils import plugins\n\n" + call.format(""),
        "ops/wait.cu": '#include "wait.h"\n' + KERNEL,
        "ops/wait.h": HEADER,
    }
    assert _rocm(plain, "ops/wait.cu") == {Severity.NOTE}
    assert _rocm(plain, "ops/wait.h") == {Severity.WARNING}
    named = {**plain, "ops/wait.py": "import os\nfrom utils import plugins\n\n" + call.format(", headers=['wait.h']")}
    assert _rocm(named, "ops/wait.h") == {Severity.NOTE}


FALLING_BACK = '''import os
import warnings
from utils import plugins

_plugin = None


def _init():
    global _plugin
    try:
        _plugin = plugins.get_plugin("wait_plugin", sources=["wait.cu"], source_dir=os.path.dirname(__file__))
    except Exception:
        warnings.warn("Failed to build the CUDA kernels; using the slow reference implementation")
    return _plugin is not None


def wait(x):
    if x.device.type == "cuda" and _init():
        return _plugin.wait(x)
    return x
'''


def _cpu(files: dict[str, str], path: str) -> set[tuple[str, Severity]]:
    return {(f.targets["cpu"].status.value, f.targets["cpu"].severity)
            for f in analyze(files[path], path=path, files=files) if f.rule == "CDA401"}


def test_sources_only_a_build_the_project_goes_on_without_compiles_work_without_cuda():
    """Without CUDA nothing builds them: the op's Python path runs (the call is cited)."""
    files = {"utils/plugins.py": WRAPPER, "ops/wait.py": FALLING_BACK, "ops/wait.cu": KERNEL}
    assert _cpu(files, "ops/wait.cu") == {("works", Severity.NOTE)}
    found = analyze(files["ops/wait.cu"], path="ops/wait.cu", files=files)
    assert all("ops/wait.py:11" in f.targets["cpu"].source for f in found if f.rule == "CDA401")


def test_sources_a_build_outside_such_a_try_also_compiles_keep_their_cpu_verdict():
    files = {"utils/plugins.py": WRAPPER, "ops/wait.py": FALLING_BACK, "ops/eager.py": UNGUARDED, "ops/wait.cu": KERNEL}
    assert ("works", Severity.NOTE) not in _cpu(files, "ops/wait.cu")


UNGUARDED = "import os\nfrom utils import plugins\n\n_plugin = plugins.get_plugin('w', sources=['wait.cu'], source_dir=os.path.dirname(__file__))\n"


@pytest.mark.parametrize(("module", "verdict"), [(FALLING_BACK, "works"), (UNGUARDED, "blocked")])
def test_the_cpu_verdict_follows_whether_the_project_goes_on_without_its_kernels(cli, tmp_path, module, verdict):
    """A header beside the sources is compiled as written on ROCm (a warning there, so the kernels
    are a component of the report): without CUDA they block only where nothing goes on without them."""
    files = {"utils/__init__.py": "", "utils/plugins.py": WRAPPER, "ops/__init__.py": "", "ops/wait.py": module,
             "ops/wait.cu": '#include "wait.h"\n' + KERNEL, "ops/wait.h": "#include <cuda_runtime.h>\n"}
    for path, text in files.items():
        write(tmp_path / "proj" / path, text)
    report = json.loads(cli("report", "-f", "json", "--no-cache", "proj", cwd=tmp_path).stdout)
    assert report["targets"]["cpu"]["verdict"] == verdict


DISPATCHING = '''import os
from utils import plugins

_plugin = None


def _init():
    global _plugin
    if _plugin is None:
        _plugin = plugins.get_plugin("wait_plugin", sources=["wait.cu"], source_dir=os.path.dirname(__file__))
    return True


def wait(x, impl="cuda"):
    if impl == "cuda" and x.device.type == "cuda" and _init():
        return _plugin.wait(x)
    return x
'''


def test_sources_only_tensors_on_cuda_reach_the_build_of_work_without_cuda():
    files = {"utils/plugins.py": WRAPPER, "ops/wait.py": DISPATCHING, "ops/wait.cu": KERNEL}
    assert _cpu(files, "ops/wait.cu") == {("works", Severity.NOTE)}


def test_a_build_also_reached_without_a_test_of_the_tensor_keeps_the_cpu_verdict():
    eager = DISPATCHING + "\n\nREADY = _init()\n"
    files = {"utils/plugins.py": WRAPPER, "ops/wait.py": eager, "ops/wait.cu": KERNEL}
    assert ("works", Severity.NOTE) not in _cpu(files, "ops/wait.cu")


ABN = (
    "from os import path\nfrom torch.utils.cpp_extension import load\n\n"
    "_src = path.join(path.dirname(path.abspath(__file__)), 'src')\n"
    "_backend = load(name='abn', sources=[path.join(_src, f) for f in ['abn.cpp', 'abn_cuda.cu']])\n"
)
WARP_HEADER = (
    "#define WARP_SIZE 32\n__device__ float warp_sum(float v) {\n"
    "    for (int o = WARP_SIZE / 2; o > 0; o /= 2) v += __shfl_down_sync(0xffffffff, v, o);\n    return v;\n}\n"
)


@pytest.mark.parametrize(("demo", "worst"), [("from pkg import infer\n", "warning"), ("from pkg.abn import functions\n", "error")])
def test_the_headers_of_a_jit_build_follow_the_path_of_the_module_that_builds_it(cli, tmp_path, demo, worst):
    # the header's warp-size hazards are ROCm errors where the demo imports the building module, and
    # another path (warnings at most) where nothing on the project's normal path does
    project = {
        "README.md": "Run `python demo.py`.\n", "demo.py": demo, "pkg/__init__.py": "", "pkg/infer.py": "x = 1\n",
        "pkg/abn/__init__.py": "",
        "pkg/abn/functions.py": ABN, "pkg/abn/src/abn.cpp": "int x;\n",
        "pkg/abn/src/abn_cuda.cu": '#include "utils.cuh"\n__global__ void k(float* x) { x[0] = warp_sum(x[0]); }\n',
        "pkg/abn/src/utils.cuh": WARP_HEADER,
    }
    for path, text in project.items():
        write(tmp_path / "proj" / path, text)
    report = json.loads(cli("scan", "--no-cache", "-f", "json", "proj", cwd=tmp_path).stdout)
    header = {f["targets"]["rocm"]["severity"] for f in report["findings"] if f["path"] == "proj/pkg/abn/src/utils.cuh"}
    assert worst in header and (worst == "error" or "error" not in header)


def test_a_source_a_setup_py_compiles_by_glob_keeps_its_path_though_an_off_path_jit_load_names_it(cli, tmp_path):
    # `pip install .` compiles pkg/csrc/*.cu on the normal path; an experiment's JIT load of the same
    # file, which only another route imports, does not make the source another path
    project = {
        "README.md": "Install with `pip install .`, then run `python demo.py`.\n",
        "setup.py": (
            "import glob\nfrom setuptools import setup\nfrom torch.utils.cpp_extension import BuildExtension, CUDAExtension\n\n"
            "setup(name='pkg', ext_modules=[CUDAExtension('pkg._C', glob.glob('pkg/csrc/*.cu'))], cmdclass={'build_ext': BuildExtension})\n"
        ),
        "demo.py": "import torch\nfrom pkg import ops\nprint(ops.run(torch.zeros(4)))\n",
        "pkg/__init__.py": "", "pkg/ops.py": "from pkg import _C\n\n\ndef run(x):\n    return _C.forward(x)\n",
        "pkg/experiments/__init__.py": "",
        "pkg/experiments/jit.py": (
            "import os\nfrom torch.utils.cpp_extension import load\n\n"
            "_d = os.path.join(os.path.dirname(__file__), '..', 'csrc')\n_ext = load(name='k', sources=[os.path.join(_d, 'k.cu')])\n"
        ),
        "pkg/csrc/k.cu": "__global__ void k(float* x) {\n    x[0] = __shfl_down_sync(0xffffffff, x[0], 1);\n}\n",
    }
    for path, text in project.items():
        write(tmp_path / "proj" / path, text)
    report = json.loads(cli("scan", "--no-cache", "-f", "json", "proj", cwd=tmp_path).stdout)
    assert "error" in {f["targets"]["rocm"]["severity"] for f in report["findings"] if f["path"] == "proj/pkg/csrc/k.cu"}
