"""`cudaudit report` through the real CLI: the JSON contract, the verdicts and checklist on the demo
project and on small project layouts, the format chosen by `-o`, and the fleet merge."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from support import FIXTURES, scan_json, write

DEMO = FIXTURES / "demo-project"


def report_json(cli, *args: str, cwd: Path | None = None) -> dict:
    result = cli("report", "-f", "json", *args, cwd=cwd)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_report_and_scan_agree_on_counts(cli):
    report = report_json(cli, cwd=DEMO)
    scan = scan_json(cli, cwd=DEMO)
    assert {"targets", "checklist", "components", "findings_total"} <= set(report)
    assert report["findings_total"] == scan["summary"]["findings"] == len(scan["findings"])
    assert report["summary"] == scan["summary"]
    assert report["findings"] == scan["findings"]
    placed = sorted(i for component in report["components"] for i in component["findings"])
    assert placed == list(range(report["findings_total"])), "every finding belongs to exactly one component"


def test_demo_project_verdicts_checklist_and_components(cli):
    report = report_json(cli, cwd=DEMO)
    assert set(report["targets"]) == {"rocm", "cpu"}
    rocm, cpu = report["targets"]["rocm"], report["targets"]["cpu"]
    # Inline PTX in csrc/ has no ROCm counterpart; the same kernels have no CPU path at all.
    assert rocm["verdict"] == "blocked" and "csrc/" in rocm["why"] and "inline-ptx" in rocm["why"]
    assert cpu["verdict"] == "blocked" and "no cpu implementation" in cpu["why"]
    answers = {q["id"]: q["answers"] for q in report["checklist"]}
    assert [q["number"] for q in report["checklist"]] == list(range(1, 9))
    assert answers["devices"]["rocm"]["status"] == "ok", "a `cuda` device is the AMD GPU on ROCm's PyTorch"
    assert answers["devices"]["cpu"]["status"] == "blocker"
    assert answers["serving"]["cpu"]["status"] == "not-applicable"
    assert answers["ci"]["rocm"]["status"] == "gap"
    assert "cupy-cuda12x" in answers["wheels"]["cpu"]["text"], "the resolver's verdict: CuPy has no CPU build"
    libraries = answers["libraries"]["cpu"]
    assert "`pynvml`" in libraries["text"] and any(e["path"].endswith("monitor.py") and e["finding"] is not None
                                                   for e in libraries["evidence"])
    kinds = {c["id"].split(":")[0] for c in report["components"]}
    assert {"kernels", "image", "dependencies", "ci", "python", "topic"} <= kinds
    ci = next(c for c in report["components"] if c["kind"] == "ci")
    assert ci["role"] == "tooling"
    kernels = next(c for c in report["components"] if c["kind"] == "kernels")
    assert kernels["targets"]["rocm"]["effort"] == "high", "inline PTX is a rewrite (SYCLomatic's DPCT1053)"
    assert kernels["targets"]["rocm"]["blockers"][0]["rule"] == "CDA410"


def test_evidence_points_at_findings_of_the_report(cli):
    report = report_json(cli, cwd=DEMO)
    for question in report["checklist"]:
        for answer in question["answers"].values():
            for evidence in answer["evidence"]:
                if evidence["finding"] is not None:
                    finding = report["findings"][evidence["finding"]]
                    assert (finding["path"], finding["line"]) == (evidence["path"], evidence["line"])


PORTABLE = "import torch\ndevice = 'cuda' if torch.cuda.is_available() else 'cpu'\nx = torch.zeros(2, device=device)\n"


def test_a_root_script_that_needs_cuda_blocks_cpu_and_examples_only_make_it_partial(cli, tmp_path):
    write(tmp_path / "model.py", PORTABLE)
    write(tmp_path / "examples" / "demo.py", "import torch\nmodel = torch.nn.Linear(2, 2).cuda()\n")
    write(tmp_path / "tests" / "test_gpu.py", "import torch\nx = torch.zeros(2).cuda()\n")
    partial = report_json(cli)["targets"]
    assert partial["rocm"]["verdict"] == "works"
    assert partial["cpu"]["verdict"] == "partial" and "examples/" in partial["cpu"]["why"]
    assert "tests/" not in partial["cpu"]["why"], "tests never decide a verdict"
    write(tmp_path / "train.py", "import torch\nmodel = torch.nn.Linear(2, 2).cuda()\n")
    blocked = report_json(cli)["targets"]
    assert blocked["cpu"]["verdict"] == "blocked" and "train.py" in blocked["cpu"]["why"]
    assert blocked["rocm"]["verdict"] == "works"
    # A package folder nothing installs is the script's modules: the script is still the project.
    write(tmp_path / "pkg" / "__init__.py", PORTABLE)
    modules = report_json(cli)
    assert modules["targets"]["cpu"]["verdict"] == "blocked" and "train.py" in modules["targets"]["cpu"]["why"]
    assert next(c for c in modules["components"] if c["name"] == "script train.py")["role"] == "core"
    # Beside an installed package, the same script is a utility: the package is the project's main use.
    write(tmp_path / "pyproject.toml", '[project]\nname = "pkg"\nversion = "1.0"\n')
    beside = report_json(cli)["targets"]
    assert beside["cpu"]["verdict"] == "partial" and "train.py" in beside["cpu"]["why"]


NEEDS_CUDA = "import torch\n\nif __name__ == '__main__':\n    torch.cuda.set_device(0)\n"
RUNS_ANYWHERE = "import torch\n\nif __name__ == '__main__':\n    print(torch.zeros(2))\n"


def test_the_scripts_a_repository_of_scripts_documents_are_its_main_use(cli, tmp_path):
    write(tmp_path / "models" / "__init__.py", "")
    write(tmp_path / "get_started.md", "Train:\n\n```\ntorchrun --nproc_per_node 8 \\\n  train.py --cfg a.yaml\n```\n"
          "Sample with `python sample.py --seed 1`; options in [config](config.py).\n"
          "Measure with `python bench_speed.py`.\n")
    write(tmp_path / "bench_speed.py", RUNS_ANYWHERE)
    write(tmp_path / "train.py", NEEDS_CUDA)
    write(tmp_path / "sample.py", RUNS_ANYWHERE)
    write(tmp_path / "config.py", "")
    write(tmp_path / "export_debug.py", NEEDS_CUDA)
    report = report_json(cli)
    roles = {c["name"]: c["role"] for c in report["components"]}
    assert roles == {"script train.py": "core", "script export_debug.py": "optional"}, "no document runs the export"
    cpu = report["targets"]["cpu"]
    assert cpu["verdict"] == "partial" and "train.py" in cpu["why"], "sampling, the other documented use, runs"
    write(tmp_path / "sample.py", NEEDS_CUDA)
    cpu = report_json(cli)["targets"]["cpu"]
    assert cpu["verdict"] == "blocked", "a benchmark the documents run measures the main use; it is none"
    assert "train.py" in cpu["why"] and "sample.py" in cpu["why"] and "export_debug.py" not in cpu["why"]

GENERATOR = """\
import torch


class Generator(torch.nn.Module):
    def encode(self, x):
        return x.cuda()

    def infer(self, x):
        return self.encode(x)


def build():
    return Generator()


def train_step(x):
    return x.cuda()
"""


def test_a_documented_script_stops_where_its_run_reaches_an_error_in_the_modules(cli, tmp_path):
    write(tmp_path / "models" / "__init__.py", "")
    write(tmp_path / "models" / "net.py", GENERATOR)
    write(tmp_path / "README.md", "Test with `python test.py`, train with `python train.py`.\n")
    write(tmp_path / "train.py", "import torch\nfrom models.net import train_step\n\ntrain_step(torch.zeros(2))\n")
    write(tmp_path / "test.py", "import torch\nfrom models.net import build\n\nprint(build().infer(torch.zeros(2)))\n")
    targets = report_json(cli)["targets"]
    assert targets["cpu"]["verdict"] == "blocked", "testing builds the generator, whose `encode` moves data to CUDA"
    assert targets["cpu"]["why"].startswith("Blocked by models/ code (cuda-method, net.py:6)")
    assert targets["cpu"]["deciding"] == ["python:models"], "train.py has no site of its own"
    assert targets["rocm"]["verdict"] == "works"
    write(tmp_path / "test.py", "import torch\nfrom models.net import build\n\nprint(build())\n")
    cpu = report_json(cli)["targets"]["cpu"]
    assert cpu["verdict"] == "partial" and cpu["why"].startswith("The main use runs"), "testing calls no `.cuda()`"



LIBRARY = """\
import torch


class Painter:
    def __init__(self, size):
        self.size = size

    def __call__(self, x):
        start = torch.cuda.Event(enable_timing=True)
        return x, start

    def sketch(self, x):
        return x
"""
FRONT = """\
from painter import Painter


class Studio:
    def __init__(self, size, device="cuda"):
        self.painter: Painter = Painter(size)

    def paint(self, x):
        return self.painter(x)
"""


def test_the_examples_a_root_document_links_to_are_the_uses_of_a_library_whose_documents_run_nothing(cli, tmp_path):
    """An installed library whose README only points at its examples folder: each example builds the
    front class without a device (its `"cuda"` default) and paints through the library's `__call__`."""
    write(tmp_path / "setup.py", "from setuptools import setup\n\nsetup(name='painter', package_dir={'': 'src'})\n")
    write(tmp_path / "src" / "painter" / "__init__.py", LIBRARY)
    write(tmp_path / "front" / "__init__.py", "")
    write(tmp_path / "front" / "studio.py", FRONT)
    write(tmp_path / "README.md", "Install with `pip install .`; see [examples](./examples).\n")
    write(tmp_path / "examples" / "README.md", "```\npython still/run.py --size 64\n```\n")
    write(tmp_path / "examples" / "still" / "run.py", (
        "import os\nimport sys\n\nsys.path.append(os.path.join(os.path.dirname(__file__), '..', '..'))\n"
        "from front.studio import Studio\n\n\ndef main():\n    studio = Studio(64)\n    return studio.paint(1)\n\n\n"
        "if __name__ == '__main__':\n    main()\n"
    ))
    cpu = report_json(cli)["targets"]["cpu"]
    assert cpu["verdict"] == "blocked", "the one documented example paints through `Painter.__call__`"
    assert cpu["why"].startswith("Blocked by src/painter/ code (torch-cuda-api, __init__.py:9)")
    write(tmp_path / "examples" / "still" / "run.py", (
        "import torch\nfrom painter import Painter\n\nprint(Painter(64).sketch(torch.zeros(2).cuda()))\n"
    ))
    cpu = report_json(cli)["targets"]["cpu"]
    assert cpu["verdict"] == "partial" and cpu["why"].startswith("The main use runs"), (
        "the example's own `.cuda()` says how it was written; the library's sketch runs"
    )


def test_in_a_project_of_scripts_a_module_no_documented_run_imports_is_no_reason_of_the_verdict(cli, tmp_path):
    """A vendored helper's environment report reads `CUDA_HOME`; the documented script never imports it."""
    write(tmp_path / "README.md", "Run `python run.py`.\n")
    write(tmp_path / "run.py", "from kit.used import go\n\ngo()\n")
    write(tmp_path / "kit" / "__init__.py", "")
    write(tmp_path / "kit" / "used.py", "def go():\n    return 1\n")
    write(tmp_path / "kit" / "envinfo.py", "import os\n\n\ndef info():\n    return os.environ['CUDA_HOME']\n")
    rocm = report_json(cli)["targets"]["rocm"]
    assert rocm["verdict"] == "works" and "envinfo" not in rocm["why"], "no documented run imports kit/envinfo.py"
    write(tmp_path / "tour.ipynb", '{"cells": [{"cell_type": "code", "source": ["from kit import envinfo"]}], '
          '"metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    assert report_json(cli)["targets"]["rocm"]["verdict"] == "partial", "a notebook that spells the package may use it"
    (tmp_path / "tour.ipynb").unlink()
    write(tmp_path / "run.py", "from kit.used import go\nfrom kit import envinfo\n\ngo()\n")
    rocm = report_json(cli)["targets"]["rocm"]
    assert rocm["verdict"] == "partial" and "envinfo.py:5" in rocm["why"], "imported, its site may decide"


def test_a_script_a_launcher_runs_before_another_is_a_step_not_a_use_of_its_own(cli, tmp_path):
    """Every documented use renders through a root module importing a CUDA-only rasterizer at module
    level; the preparation script runs anywhere, but only as the first step of the app's pipeline."""
    write(tmp_path / "README.md", "Prepare with `python prep.py img.png`, fit with `python fit.py`, or run `python app.py`.\n")
    write(tmp_path / "prep.py", "import sys\n\nprint(sys.argv[1].upper())\n")
    write(tmp_path / "raster.py", "import nvdiffrast.torch as dr\n\n\ndef draw(ctx):\n    return dr\n")
    write(tmp_path / "fit.py", "import fused\nfrom raster import draw\n\nprint(draw(None), fused)\n")
    write(tmp_path / "fused.py", "from apex.optimizers import FusedAdam\n")
    write(tmp_path / "app.py", (
        "import subprocess\n\n\ndef go(path):\n    subprocess.run(f'python prep.py {path}', shell=True)\n"
        "    subprocess.run('python fit.py --steps 5', shell=True)\n"
    ))
    rocm = report_json(cli)["targets"]["rocm"]
    assert rocm["verdict"] == "blocked", "the app runs fit.py after prep.py: prep.py alone is no use"
    assert "module raster.py (cuda-kernel-library-import, raster.py:1)" in rocm["why"], "raster.py is imported, not run"
    write(tmp_path / "app.py", "import subprocess\n\nsubprocess.run('python prep.py a.png', shell=True)\n")
    rocm = report_json(cli)["targets"]["rocm"]
    assert rocm["verdict"] == "partial" and rocm["why"].startswith("The main use runs"), "prep.py's own use runs"
    assert "module fused.py (apex-import, fused.py:1) may not" in rocm["why"], "a warning's module is imported too"


def test_a_documented_download_script_that_loads_nothing_prepares_the_uses_and_is_none_itself(cli, tmp_path):
    """The README fetches the weights with a script that imports only the standard library and the
    Hub's downloader, then runs the one script that uses them, which moves its model to CUDA: the
    download runs anywhere, but it is a step before the use, so the CPU verdict is blocked. A
    script that also imports PyTorch is a use of its own again."""
    write(tmp_path / "README.md", "Fetch the weights: `python download_ckpt.py`, then run `python infer.py --image a.png`.\n")
    write(tmp_path / "download_ckpt.py", "import os\n\nfrom huggingface_hub import hf_hub_download\n\nhf_hub_download('org/model', 'w.ckpt', local_dir=os.getcwd())\n")
    write(tmp_path / "infer.py", "import torch\n\nmodel = torch.nn.Linear(2, 2).cuda()\n")
    cpu = report_json(cli)["targets"]["cpu"]
    assert cpu["verdict"] == "blocked" and "infer.py:3" in cpu["why"], cpu["why"]
    write(tmp_path / "download_ckpt.py", "import torch\n\ntorch.hub.download_url_to_file('https://example.org/w.ckpt', 'w.ckpt')\n")
    cpu = report_json(cli)["targets"]["cpu"]
    assert cpu["verdict"] == "partial" and cpu["why"].startswith("The main use runs"), "a script that imports PyTorch is a use"


def test_a_module_a_document_runs_with_dash_m_is_a_use_and_stops_where_its_run_or_a_run_it_starts_does(cli, tmp_path):
    """Both documented uses are modules: the single-process app moves its model to CUDA, the other
    app starts a worker module through a command line, and the worker hard-codes the device."""
    write(tmp_path / "README.md", "Run `python -m ui.app` or, with several GPUs, `python -m ui.app_multi`.\n")
    write(tmp_path / "ui" / "__init__.py", "")
    write(tmp_path / "ui" / "engine.py", "import torch\n\n\nclass Engine:\n    def __init__(self):\n        self.net = torch.nn.Linear(2, 2).cuda()\n")
    write(tmp_path / "ui" / "app.py", "from ui.engine import Engine\n\nif __name__ == '__main__':\n    Engine()\n")
    write(tmp_path / "ui" / "worker.py", "import torch\n\nx = torch.zeros(2, device='cuda')\n")
    write(tmp_path / "ui" / "app_multi.py", "import subprocess\n\nsubprocess.run('python -m ui.worker --n 2'.split())\n")
    cpu = report_json(cli)["targets"]["cpu"]
    assert cpu["verdict"] == "blocked", "each documented module's run stops on CPU, the second in the worker it starts"
    write(tmp_path / "ui" / "app_multi.py", "print('nothing to start')\n")
    cpu = report_json(cli)["targets"]["cpu"]
    assert cpu["verdict"] == "partial" and cpu["why"].startswith("The main use runs"), "the second app runs"


FUSED_OP = """import os
import torch
from torch.utils.cpp_extension import load

here = os.path.dirname(__file__)
{build}


def fused_relu(x):
    if x.device.type == "cpu":
        return torch.relu(x)
    return fused.relu(x)
"""
AT_IMPORT = 'fused = load("fused", sources=[os.path.join(here, "fused.cpp"), os.path.join(here, "fused_kernel.cu")])'
ON_DEMAND = 'def build():\n    return load("fused", sources=[os.path.join(here, "fused.cpp"), os.path.join(here, "fused_kernel.cu")])'


def test_a_package_module_that_compiles_cuda_when_imported_stops_every_importer(cli, tmp_path):
    write(tmp_path / "model.py", "import torch\nfrom ops.fused import fused_relu\n\nprint(fused_relu(torch.zeros(2)))\n")
    write(tmp_path / "ops" / "__init__.py", "")
    write(tmp_path / "ops" / "fused.py", FUSED_OP.format(build=AT_IMPORT))
    report = report_json(cli)
    (build,) = [f for f in report["findings"] if f["rule"] == "CDA440"]
    assert build["severity"] == "error" and build["at_import"] is True
    ops = next(c for c in report["components"] if c["name"] == "ops/ code")
    assert ops["role"] == "core" and ops["targets"]["cpu"]["status"] == "blocked"
    assert report["targets"]["cpu"]["verdict"] == "blocked" and "ops/" in report["targets"]["cpu"]["why"]
    # Built on demand, the extension is one path of the library: its callers may take the other.
    write(tmp_path / "ops" / "fused.py", FUSED_OP.format(build=ON_DEMAND).replace("fused.relu", "build().relu"))
    report = report_json(cli)
    assert all("at_import" not in f for f in report["findings"])
    ops = next(c for c in report["components"] if c["name"] == "ops/ code")
    assert ops["targets"]["cpu"]["status"] == "partial"


GATED_BUILD = """import torch
from setuptools import setup
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CUDAExtension

if torch.cuda.is_available() and CUDA_HOME is not None:
    modules = [CUDAExtension("blur_ext", ["src/blur.cpp", "src/blur_kernel.cu"])]
else:
    raise NotImplementedError("CUDA is needed")
setup(name="blur_ext", ext_modules=modules, cmdclass={"build_ext": BuildExtension})
"""
BLUR_WRAPPER = """import blur_ext


def blur(x):
    return blur_ext.forward(x)
"""


def test_an_extension_whose_build_raises_without_cuda_home_stops_its_install_and_every_importer(cli, tmp_path):
    write(tmp_path / "train.py", "import torch\nfrom ops.blur import blur\n\nprint(blur(torch.zeros(2)))\n")
    write(tmp_path / "ops" / "__init__.py", "")
    write(tmp_path / "ops" / "blur.py", BLUR_WRAPPER)
    write(tmp_path / "ops" / "setup.py", GATED_BUILD)
    report = report_json(cli)
    (call,) = [f for f in report["findings"] if f["rule"] == "CDA446"]
    assert call["at_import"] is True and "importing" in call["message"]
    statuses = {c["name"]: {t: s["status"] for t, s in c["targets"].items()} for c in report["components"]}
    assert statuses["ops/ code"] == statuses["CUDA build in ops/setup.py"] == {"rocm": "blocked", "cpu": "blocked"}
    assert report["targets"]["rocm"]["verdict"] == report["targets"]["cpu"]["verdict"] == "blocked"
    assert report["targets"]["rocm"]["effort"] == "low", "on ROCm the fix is the build's test"
    # Imported inside the function that calls it, only that call fails: one path of the library.
    write(tmp_path / "ops" / "blur.py", BLUR_WRAPPER.replace("import blur_ext\n", "").replace("    return", "    import blur_ext\n    return"))
    report = report_json(cli)
    ops = next(c for c in report["components"] if c["name"] == "ops/ code")
    assert ops["targets"]["rocm"]["status"] == "partial"


HASH_GRID = """import torch
import tinycudann as tcnn


def encoding(dims):
    return tcnn.Encoding(dims, {"otype": "HashGrid"})
"""


def test_a_module_level_import_of_a_cuda_only_library_the_start_reaches_blocks_the_main_use(cli, tmp_path):
    write(tmp_path / "launch.py", "def main():\n    import scenes\n    scenes.run()\n\n\nif __name__ == '__main__':\n    main()\n")
    write(tmp_path / "setup.py", "from setuptools import find_packages, setup\n\nsetup(name='scenes', packages=find_packages())\n")
    write(tmp_path / "scenes" / "__init__.py", "from . import fields\n\n\ndef run():\n    return fields.encoding(3)\n")
    write(tmp_path / "scenes" / "fields.py", "from .utils.grids import encoding\n")
    write(tmp_path / "scenes" / "utils" / "__init__.py", "")
    write(tmp_path / "scenes" / "utils" / "grids.py", HASH_GRID)
    report = report_json(cli)
    (site,) = [f for f in report["findings"] if f["rule"] == "CDA223"]
    assert site["targets"]["rocm"]["severity"] == "error" and site["at_import"] is True
    assert report["targets"]["rocm"]["verdict"] == "blocked" and "scenes/ code" in report["targets"]["rocm"]["why"]
    # Imported only inside the function of an optional mode, the module stops that mode alone.
    write(tmp_path / "scenes" / "__init__.py", "def run(mode=''):\n    if mode == 'grid':\n        from .fields import encoding\n        return encoding(3)\n")
    report = report_json(cli)
    assert all("at_import" not in f for f in report["findings"])
    assert report["targets"]["rocm"]["verdict"] == "partial"
    assert report["targets"]["rocm"]["why"].startswith("The main use runs")


def test_a_build_at_import_stops_the_main_use_only_where_the_start_imports_its_module(cli, tmp_path):
    write(tmp_path / "infer.py", "from faces.cropper import Cropper\n\nprint(Cropper('human').crop(None))\n")
    write(tmp_path / "faces" / "__init__.py", "")
    write(tmp_path / "faces" / "cropper.py", (
        "class Cropper:\n"
        "    def __init__(self, kind):\n"
        "        if kind == 'animal':\n"
        "            from .ops.fused import fused_relu\n"
        "            self.relu = fused_relu\n\n"
        "    def crop(self, image):\n"
        "        return image\n"
    ))
    write(tmp_path / "faces" / "ops" / "__init__.py", "")
    write(tmp_path / "faces" / "ops" / "fused.py", FUSED_OP.format(build=AT_IMPORT))
    report = report_json(cli)
    (build,) = [f for f in report["findings"] if f["rule"] == "CDA440"]
    assert build["severity"] == "error" and "at_import" not in build
    faces = next(c for c in report["components"] if c["name"] == "faces/ code")
    assert faces["targets"]["cpu"]["status"] == "partial", "only the animal mode imports the extension"
    # A fallback at the module's level (`try:` a prebuilt module, `except ImportError:` the build) runs on import.
    write(tmp_path / "faces" / "cropper.py", (
        "try:\n"
        "    from fused_prebuilt import fused_relu\n"
        "except ImportError:\n"
        "    from .ops.fused import fused_relu\n\n\n"
        "class Cropper:\n"
        "    def __init__(self, kind):\n"
        "        self.relu = fused_relu\n\n"
        "    def crop(self, image):\n"
        "        return image\n"
    ))
    report = report_json(cli)
    (build,) = [f for f in report["findings"] if f["rule"] == "CDA440"]
    assert build["at_import"] is True
    assert report["targets"]["cpu"]["verdict"] == "blocked" and "faces/ code" in report["targets"]["cpu"]["why"]


def test_an_unconditional_cuda_extension_in_the_install_blocks_cpu_with_a_kernel_rewrite(cli, tmp_path):
    write(tmp_path / "setup.py", (
        "from setuptools import find_packages, setup\n"
        "from torch.utils.cpp_extension import BuildExtension, CUDAExtension\n\n"
        "setup(name='voxels', packages=find_packages(),\n"
        "      ext_modules=[CUDAExtension('voxels.pool_ext', ['voxels/src/pool.cpp', 'voxels/src/pool_kernel.cu'])],\n"
        "      cmdclass={'build_ext': BuildExtension})\n"
    ))
    write(tmp_path / "voxels" / "__init__.py", "")
    write(tmp_path / "voxels" / "pool.py", "from voxels import pool_ext\n\n\ndef pool(x):\n    return pool_ext.forward(x)\n")
    cpu = report_json(cli)["targets"]["cpu"]
    assert cpu["verdict"] == "blocked" and "setup.py" in cpu["why"], "`pip install .` stops at the CUDA build"
    assert cpu["effort"] == "high", "the kernels have no CPU implementation: a rewrite"


def test_a_folder_whose_sites_are_all_in_its_tests_tests_the_code(cli, tmp_path):
    write(tmp_path / "train.py", PORTABLE)
    write(tmp_path / "kernels" / "fused" / "unit_test.py", "import torch\nx = torch.zeros(2).cuda()\n")
    report = report_json(cli)
    (kernels,) = report["components"]
    assert kernels["name"] == "kernels/ code" and kernels["role"] == "tooling"
    assert report["targets"]["cpu"]["verdict"] == "works"
    write(tmp_path / "kernels" / "fused" / "op.py", "import torch\ny = torch.ones(2).cuda()\n")
    (kernels,) = report_json(cli)["components"]
    assert kernels["role"] == "core", "a module of the folder's own is the code itself"


DEVICE_OPTION = (
    "import argparse\nimport torch\n\nparser = argparse.ArgumentParser()\n"
    "parser.add_argument('--device', default='cuda')\nargs = parser.parse_args()\n"
    "model = torch.nn.Linear(2, 2).to(args.device)\n"
)


def test_a_script_that_stops_only_on_its_option_default_runs_with_the_option(cli, tmp_path):
    write(tmp_path / "train.py", DEVICE_OPTION)
    report = report_json(cli)
    cpu = report["targets"]["cpu"]
    assert report["findings"][0]["severity"] == "error" and report["findings"][0]["option"] == "--device"
    assert cpu["verdict"] == "partial", "run as documented it stops on CPU; `--device=cpu` runs it"
    assert "`--device=cpu`" in cpu["why"] and "train.py" in cpu["why"]
    script = next(c for c in report["components"] if c["name"] == "script train.py")
    assert script["targets"]["cpu"]["status"] == "partial" and script["targets"]["cpu"]["options"] == ["--device"]
    devices = next(q for q in report["checklist"] if q["id"] == "devices")["answers"]["cpu"]
    assert devices["status"] == "gap" and "`--device=cpu` avoids it" in devices["text"]
    # A site no option avoids stops the script whatever its command line says.
    write(tmp_path / "train.py", DEVICE_OPTION + "x = torch.zeros(2).cuda()\n")
    report = report_json(cli)
    assert report["targets"]["cpu"]["verdict"] == "blocked"
    script = next(c for c in report["components"] if c["name"] == "script train.py")
    assert script["targets"]["cpu"]["options"] == []
    assert next(q for q in report["checklist"] if q["id"] == "devices")["answers"]["cpu"]["status"] == "blocker"


KERNEL = "__global__ void k(float *x) {\n  asm volatile(\"membar.gl;\");\n  x[threadIdx.x] = 0;\n}\n"


def test_a_kernel_folder_with_cpu_and_hip_siblings(cli, tmp_path):
    write(tmp_path / "src" / "backend-cuda" / "k.cu", KERNEL)
    write(tmp_path / "src" / "backend-cpu" / "k.c", "void k(float *x) { x[0] = 0; }\n")
    report = report_json(cli)
    kernels = next(c for c in report["components"] if c["kind"] == "kernels")
    assert kernels["targets"]["cpu"]["status"] == "works" and "src/backend-cpu" in kernels["targets"]["cpu"]["note"]
    assert kernels["targets"]["rocm"]["status"] == "blocked"
    write(tmp_path / "src" / "backend-hip" / "CMakeLists.txt", "project(k LANGUAGES CXX)\n")
    kernels = next(c for c in report_json(cli)["components"] if c["kind"] == "kernels")
    assert kernels["targets"]["rocm"]["status"] == "partial", "the project's own HIP build carries the kernels"
    assert "src/backend-hip" in kernels["targets"]["rocm"]["note"]



CUDA_IMAGE = "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\nRUN pip install torch\n"


def test_an_image_named_for_cuda_is_the_nvidia_variant_not_a_rocm_gap(cli, tmp_path):
    write(tmp_path / "pkg" / "__init__.py", PORTABLE)
    write(tmp_path / "docker" / "cuda_simple" / "Dockerfile", CUDA_IMAGE)
    report = report_json(cli)
    image = next(c for c in report["components"] if c["kind"] == "image")
    assert image["targets"]["rocm"]["status"] == "blocked", "the table still says what the image does on ROCm"
    assert report["targets"]["rocm"]["verdict"] == "works", "an image named for CUDA does not decide ROCm"
    images = next(q for q in report["checklist"] if q["id"] == "images")["answers"]["rocm"]
    assert images["status"] != "ok" and "None has a ROCm image" in images["text"]
    write(tmp_path / "docker" / "simple" / "Dockerfile", CUDA_IMAGE)  # an unmarked image is one ROCm users may run
    assert report_json(cli)["targets"]["rocm"]["verdict"] == "partial"


def test_an_image_in_a_cuda_folder_beside_a_rocm_folder_has_its_counterpart(cli, tmp_path):
    write(tmp_path / "pkg" / "__init__.py", PORTABLE)
    write(tmp_path / "docker" / "docker-cuda" / "Dockerfile.base", CUDA_IMAGE)
    write(tmp_path / "docker" / "docker-rocm" / "Dockerfile", "FROM rocm/pytorch:latest\n")
    for named in ((), (str(tmp_path),)):  # the project's folder relative and absolute (up to the root `/`)
        image = next(c for c in report_json(cli, *named)["components"] if c["kind"] == "image")
        assert image["targets"]["rocm"]["status"] == "works"
        assert image["targets"]["rocm"]["note"] == "rocm counterpart: docker/docker-rocm/"
    shutil.rmtree(tmp_path / "docker" / "docker-rocm")  # no counterpart: the search goes up to `/` and stops
    image = next(c for c in report_json(cli, str(tmp_path))["components"] if c["kind"] == "image")
    assert image["targets"]["rocm"]["status"] == "blocked"


def test_a_topic_is_as_central_as_the_places_of_its_sites(cli, tmp_path):
    write(tmp_path / "pkg" / "__init__.py", PORTABLE)
    write(tmp_path / "docker" / "demo" / "Dockerfile",
          "FROM python:3-slim\nRUN CMAKE_ARGS=\"-DGGML_CUDA=on\" pip install llama-cpp-python\n")
    serving = next(c for c in report_json(cli)["components"] if c["id"] == "topic:serving")
    assert serving["role"] == "optional", "only an image in a sub-folder builds the CUDA serving engine"
    write(tmp_path / "Dockerfile", "FROM python:3-slim\nRUN CMAKE_ARGS=\"-DGGML_CUDA=on\" pip install llama-cpp-python\n")
    serving = next(c for c in report_json(cli)["components"] if c["id"] == "topic:serving")
    assert serving["role"] == "core", "the root image is how the project runs"


def test_a_project_without_cuda_works_everywhere_and_says_so(cli, tmp_path):
    write(tmp_path / "pkg" / "__init__.py", PORTABLE)
    report = report_json(cli)
    assert {t: v["verdict"] for t, v in report["targets"].items()} == {"rocm": "works", "cpu": "works"}
    markdown = cli("report", cwd=tmp_path).stdout
    assert "Nothing to port" in markdown


@pytest.mark.parametrize(("name", "start"), [("r.html", "<!DOCTYPE html>"), ("r.json", "{"), ("r.md", "## CUDA portability")])
def test_the_format_follows_the_output_file(cli, tmp_path, name, start):
    write(tmp_path / "train.py", "import torch\ntorch.cuda.synchronize()\n")
    assert cli("report", "-o", name).exit_code == 0
    assert (tmp_path / name).read_text(encoding="utf-8").startswith(start)


def test_markdown_links_sites_when_told_where_the_files_are(cli):
    result = cli("report", "--link-base", "https://github.com/o/r/blob/abc123", cwd=DEMO)
    assert "[tinygpt/monitor.py:9](https://github.com/o/r/blob/abc123/tinygpt/monitor.py#L9)" in result.stdout


def fleet_of(cli, tmp_path: Path, count: int) -> list[Path]:
    reports = []
    for n in range(count):
        project = tmp_path / f"repo{n}"
        write(project / "model.py", PORTABLE)
        if n % 2:
            write(project / "train.py", "import torch\nmodel = torch.nn.Linear(2, 2).cuda()\n")
        out = tmp_path / f"repo{n}.json"
        assert cli("report", str(project), "-o", str(out)).exit_code == 0
        reports.append(out)
    return reports


def test_fleet_merge_counts_verdicts_and_shared_blockers(cli, tmp_path):
    reports = fleet_of(cli, tmp_path, 5)
    result = cli("report", "merge", *map(str, reports), "-f", "json")
    assert result.exit_code == 0, result.output
    fleet = json.loads(result.stdout)
    assert [r["name"] for r in fleet["repositories"]] == [f"repo{n}" for n in range(5)]
    assert fleet["verdicts"]["cpu"] == {"works": 3, "partial": 0, "blocked": 2}
    assert fleet["verdicts"]["rocm"]["works"] == 5
    shared = fleet["blockers"][0]
    assert (shared["rule"], shared["target"], shared["repositories"]) == ("CDA102", "cpu", ["repo1", "repo3"])
    assert cli("report", "merge", *map(str, reports), "-o", "fleet.html").exit_code == 0
    assert "repo3" in (tmp_path / "fleet.html").read_text(encoding="utf-8")


def test_fleet_merge_refuses_what_is_not_a_report(cli, tmp_path):
    write(tmp_path / "pkg.py", "import torch\ntorch.cuda.synchronize()\n")
    cli("scan", "-f", "json", "-o", "scan.json")
    result = cli("report", "merge", "scan.json")
    assert result.exit_code == 2 and "cannot be merged" in result.stderr
    write(tmp_path / "broken.json", "{")
    assert cli("report", "merge", "broken.json").exit_code == 2
    assert cli("report", "merge").exit_code == 2


@pytest.mark.parametrize("folder", ["benchmarks", "benchmarking", "tests"])
def test_code_that_measures_or_tests_the_project_never_decides(cli, tmp_path, folder):
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / folder / "speed.py", "import torch\nmajor, _ = torch.cuda.get_device_capability()\n")
    report = report_json(cli, ".", cwd=tmp_path)
    (component,) = report["components"]
    assert component["role"] == "tooling"
    assert report["targets"]["rocm"]["verdict"] == "works"


def test_scan_with_a_baseline_assesses_once_on_what_it_reports(cli, tmp_path):
    """The verdicts closing the text report and the Markdown one-page report come from one
    assessment, made after the baseline has taken the known findings out."""
    write(tmp_path / "train.py", "import torch\nx = torch.zeros(2).cuda()\n")
    assert cli("scan", "--write-baseline", "known.json", ".", cwd=tmp_path).exit_code == 0
    write(tmp_path / "serve.py", "import torch\ndevice = torch.device('cuda')\n")
    result = cli("scan", "-f", "text", "--baseline", "known.json", "--markdown-output", "page.md", ".", cwd=tmp_path)
    closing = result.stdout[result.stdout.index("Verdict per target"):]
    page = (tmp_path / "page.md").read_text(encoding="utf-8")
    assert "serve.py" in closing and "serve.py" in page
    assert "train.py" not in closing and "train.py" not in page  # known: the baseline hid it


def test_a_folder_named_from_outside_is_judged_as_from_inside(cli, tmp_path):
    """`cudaudit report ../demo` shows paths as `../demo/...`: the project's root is that folder
    still, so an image at its top is the project's image, not one in a sub-folder."""
    project = tmp_path / "demo"
    shutil.copytree(DEMO, project)
    (tmp_path / "elsewhere").mkdir()
    inside = report_json(cli, ".", cwd=project)
    outside = report_json(cli, "../demo", cwd=tmp_path / "elsewhere")
    assert {t: (v["verdict"], v["why"]) for t, v in outside["targets"].items()} == {
        t: (v["verdict"], v["why"]) for t, v in inside["targets"].items()
    }
    assert [(c["id"].replace("../demo/", ""), c["role"]) for c in outside["components"]] == [
        (c["id"], c["role"]) for c in inside["components"]
    ]


def test_a_component_with_warnings_alone_may_not_run_and_one_with_errors_does_not(cli, tmp_path):
    """The documented script's only CPU site is a warning (a checkpoint of unknown provenance loaded
    without `map_location`): it may not run; the example's `.cuda()` is an error: it does not."""
    write(tmp_path / "main.py", (
        'import torch\n\ndevice = "cuda" if torch.cuda.is_available() else "cpu"\n'
        'state = torch.load("weights.pt")\nprint(torch.ones(2, device=device), state)\n'
    ))
    write(tmp_path / "examples" / "train.py", "import torch\n\nx = torch.ones(2).cuda()\nprint(x)\n")
    write(tmp_path / "README.md", "# demo\n\n    python main.py\n    python examples/train.py\n")
    cpu = report_json(cli)["targets"]["cpu"]
    assert cpu["verdict"] == "partial"
    assert cpu["why"] == (
        "The main use runs; examples/ code (cuda-method, train.py:3) does not; script main.py (load-without-map-location, main.py:4)"
        " may not (low effort)."
    )


def test_the_scripts_a_launcher_runs_in_the_arms_of_an_if_are_alternatives_not_steps(cli, tmp_path):
    """The app runs the light sketcher or the CUDA-only painter, as its flag says: the sketcher is a use
    of its own, which runs anywhere, not a step before the painter."""
    write(tmp_path / "README.md", "Sketch with `python sketch.py`, paint with `python paint.py`, or run `python studio.py`.\n")
    write(tmp_path / "sketch.py", "import sys\n\nimport numpy\n\nprint(numpy.zeros(len(sys.argv)))\n")
    write(tmp_path / "paint.py", "from apex.optimizers import FusedAdam\nimport canvas\n\nprint(FusedAdam, canvas)\n")
    write(tmp_path / "canvas.py", "import nvdiffrast.torch as dr\n\nprint(dr)\n")
    write(tmp_path / "studio.py", (
        "import subprocess\n\n\ndef go(args):\n    if args.quick:\n        subprocess.run('python sketch.py', shell=True)\n"
        "    else:\n        subprocess.run('python paint.py', shell=True)\n"
    ))
    rocm = report_json(cli)["targets"]["rocm"]
    assert rocm["verdict"] == "partial" and rocm["why"].startswith("The main use runs"), "the sketcher is an alternative"
    write(tmp_path / "studio.py", (
        "import subprocess\n\n\ndef go(args):\n    if args.quick:\n        subprocess.run('python sketch.py', shell=True)\n"
        "    subprocess.run('python paint.py', shell=True)\n"
    ))
    assert report_json(cli)["targets"]["rocm"]["verdict"] == "blocked", "sketching, then painting: one pipeline"
