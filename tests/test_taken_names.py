"""What a project takes from a module that is no API (`taken_names.py`), and the classes and functions
it leaves behind, which run on no target (`unused.py`)."""

from __future__ import annotations

from functools import partial

from cudaudit.model import Severity
from cudaudit.rules.python.taken_names import taken_names
from support import analyze, scan_json, write

LOSSES = '''import torch


class UsedLoss:
    def __call__(self, x):
        return x.to("cuda:0")


class PairLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.cuda()


class SpareLoss(PairLoss):
    def build(self, x):
        return torch.zeros(3, device="cuda:0")


def old_targets(x):
    return torch.tensor([], device="cuda:0")
'''
TRAIN = "from utils.losses import UsedLoss\n\nloss = UsedLoss()\n"


def taken(imported: dict[str, tuple[str, ...] | None], files: dict[str, str]) -> dict[str, tuple[str, ...]]:
    return taken_names(imported, {path: partial(str.encode, text) for path, text in files.items()})


def test_the_names_importers_take_and_those_another_file_spells_are_taken():
    files = {"utils/losses.py": LOSSES, "train.py": TRAIN}
    assert taken({"utils/losses.py": ("UsedLoss",)}, files) == {"utils/losses.py": ("UsedLoss",)}
    configured = {**files, "configs/hyp.yaml": "loss: PairLoss\n", "notes.md": "SpareLossy is another thing.\n"}
    assert taken({"utils/losses.py": ("UsedLoss",)}, configured) == {"utils/losses.py": ("PairLoss", "UsedLoss")}


def test_a_module_taken_whole_or_with_every_name_taken_gives_nothing():
    files = {"utils/losses.py": LOSSES, "train.py": TRAIN}
    assert taken({"utils/losses.py": None}, files) == {}
    every = ("PairLoss", "SpareLoss", "UsedLoss", "old_targets")
    assert taken({"utils/losses.py": every}, files) == {}
    assert taken({"utils/losses.py": ("UsedLoss",)}, {**files, "utils/losses.py": "def broken(:\n"}) == {}


def test_classes_and_functions_no_importer_takes_run_on_no_target():
    project = {"README.md": "Train with `python train.py`.\n", "utils/__init__.py": "", "train.py": TRAIN}
    found = {(f.span.line, f.severity) for f in analyze(LOSSES, path="utils/losses.py", files=project)}
    # UsedLoss's line alone: PairLoss, SpareLoss (named only by a class left behind) and old_targets run nowhere
    assert found == {(6, Severity.ERROR), (12, Severity.NOTE), (17, Severity.NOTE), (21, Severity.NOTE)}


def test_an_installable_package_keeps_its_public_names_as_api():
    project = {
        "README.md": "Train with `python train.py`.\n", "utils/__init__.py": "", "train.py": TRAIN,
        "pyproject.toml": '[project]\nname = "kit"\nversion = "1.0"\n',
    }
    found = {(f.span.line, f.severity) for f in analyze(LOSSES, path="utils/losses.py", files=project)}
    assert found == {(6, Severity.ERROR), (12, Severity.ERROR), (17, Severity.ERROR), (21, Severity.ERROR)}


def test_a_vendored_package_with_an_install_of_its_own_runs_only_what_the_project_takes():
    # a copied detector with its own setup.py, installed by the README, in a project that declares nothing
    project = {
        "README.md": "Install the detector with `pip install -e detkit`, then run `python demo.py`.\n",
        "demo.py": "from kit.utils.losses import UsedLoss\n\nloss = UsedLoss()\n",
        "detkit/setup.py": "from setuptools import setup\n\nsetup(name='kit', packages=['kit'])\n",
        "detkit/kit/__init__.py": "", "detkit/kit/utils/__init__.py": "",
    }
    found = {(f.span.line, f.severity) for f in analyze(LOSSES, path="detkit/kit/utils/losses.py", files=project)}
    assert found == {(6, Severity.ERROR), (12, Severity.NOTE), (17, Severity.NOTE), (21, Severity.NOTE)}
    # what only the copy's own documents show in code is its documented use as a library: another path
    documented = {**project, "detkit/README.md": "Build targets with `old_targets(x)`.\n"}
    found = {(f.span.line, f.severity) for f in analyze(LOSSES, path="detkit/kit/utils/losses.py", files=documented)}
    assert found == {(6, Severity.ERROR), (12, Severity.NOTE), (17, Severity.NOTE), (21, Severity.WARNING)}
    # a project that declares its own install at its top is a library: the package's public names are its API
    library = {**project, "pyproject.toml": '[project]\nname = "app"\nversion = "1.0"\n'}
    found = {(f.span.line, f.severity) for f in analyze(LOSSES, path="detkit/kit/utils/losses.py", files=library)}
    assert found == {(6, Severity.ERROR), (12, Severity.ERROR), (17, Severity.ERROR), (21, Severity.ERROR)}


def test_a_scan_of_several_projects_reads_each_one_s_install_as_its_own_scan_does(cli, tmp_path):
    # a library that declares its install at its top, scanned beside an application that declares
    # nothing: the folder above both declares nothing, which makes neither's install a vendored copy's
    library = {
        "README.md": "Train with `python train.py`.\n", "utils/__init__.py": "", "train.py": TRAIN,
        "utils/losses.py": LOSSES, "pyproject.toml": '[project]\nname = "kit"\nversion = "1.0"\n',
    }
    for path, text in {**{f"lib/{p}": t for p, t in library.items()}, "app/README.md": "Run `python app.py`.\n",
                       "app/app.py": "print('hello')\n"}.items():
        write(tmp_path / path, text)

    def lines(*trees: str) -> set[tuple[int, str]]:
        report = scan_json(cli, "--no-cache", "-j", "1", *trees)
        return {(f["line"], f["severity"]) for f in report["findings"] if f["path"] == "lib/utils/losses.py"}

    alone = lines("lib")
    assert alone == {(6, "error"), (12, "error"), (17, "error"), (21, "error")}
    assert lines("lib", "app") == alone


def test_what_a_package_of_a_project_no_install_makes_an_api_re_exports_runs_only_where_an_importer_takes_it():
    # `posekit/__init__.py` re-exports `Hand` and builds only `Body`; its `Hand(...)` is commented out
    face = (
        "from .body import Body\nfrom .hand import Hand  # noqa: F401\n\n\nclass Detector:\n"
        "    def __init__(self, body, hand=None):\n        self.body = Body(body)\n        # self.hand = Hand(hand)\n"
    )
    hand = "import torch\n\n\nclass Hand:\n    def __init__(self, path):\n        self.state = torch.load(path)\n"
    project = {
        "README.md": "Run `python demo.py`.\n",
        "demo.py": "from posekit import Detector\n\nif __name__ == '__main__':\n    Detector('body.pth')\n",
        "posekit/__init__.py": face,
        "posekit/body.py": "class Body:\n    def __init__(self, path):\n        self.path = path\n",
    }
    assert {(f.span.line, f.severity) for f in analyze(hand, path="posekit/hand.py", files=project)} == {(6, Severity.NOTE)}
    taken = {**project, "demo.py": project["demo.py"] + "from posekit import Hand\n\nHand('hand.pth')\n"}
    assert {(f.span.line, f.severity) for f in analyze(hand, path="posekit/hand.py", files=taken)} == {(6, Severity.WARNING)}
    library = {**project, "pyproject.toml": '[project]\nname = "posekit"\nversion = "1.0"\n'}
    assert {(f.span.line, f.severity) for f in analyze(hand, path="posekit/hand.py", files=library)} == {(6, Severity.WARNING)}
    # a package nothing outside it imports serves no project of the scan: its face is an API, whatever declares it
    alone = {path: text for path, text in project.items() if path != "demo.py"}
    assert {(f.span.line, f.severity) for f in analyze(hand, path="posekit/hand.py", files=alone)} == {(6, Severity.WARNING)}


def test_a_module_imported_from_its_folder_gives_away_only_the_attributes_its_importer_reads():
    reading = "from utils import losses\n\nloss = losses.UsedLoss()\n"
    project = {"README.md": "Train with `python train.py`.\n", "train.py": reading}
    found = {(f.span.line, f.severity) for f in analyze(LOSSES, path="utils/losses.py", files=project)}
    assert found == {(6, Severity.ERROR), (12, Severity.NOTE), (17, Severity.NOTE), (21, Severity.NOTE)}
    # a comment that spells the module's name reads none of it
    commented = reading.replace("\nloss =", "\n# the losses, weighted\nloss =")
    found = {(f.span.line, f.severity) for f in analyze(LOSSES, path="utils/losses.py", files={**project, "train.py": commented})}
    assert found == {(6, Severity.ERROR), (12, Severity.NOTE), (17, Severity.NOTE), (21, Severity.NOTE)}
    # the module handed on, or bound under another name: any of its names may be used
    for importer in (
        reading + "register(losses)\n",
        reading + 'print("#", losses)\n',
        reading.replace("import losses", "import losses as losses"),
    ):
        found = {(f.span.line, f.severity) for f in analyze(LOSSES, path="utils/losses.py", files={**project, "train.py": importer})}
        assert found == {(6, Severity.ERROR), (12, Severity.ERROR), (17, Severity.ERROR), (21, Severity.ERROR)}, importer


POINTS = '''import torch


class PointModel:
    def __init__(self, n):
        self.xyz = torch.zeros(n, 3)

    def setup(self, n):
        self.xyz = self.prune(torch.zeros(n, 3).cuda())

    def prune(self, x):
        return x.cuda()

    def old_constraint(self):
        # kept from an earlier loss: self.xyz.cuda()
        return torch.zeros(1, device="cuda")
'''


def test_a_method_nothing_spells_outside_its_own_body_runs_on_no_target():
    caller = "from scene.points import PointModel\n\nmodel = PointModel(8)\nmodel.setup(8)\n"
    project = {"README.md": "Train with `python train.py`.\n", "scene/__init__.py": "", "train.py": caller}
    found = {(f.span.line, f.severity) for f in analyze(POINTS, path="scene/points.py", files=project)}
    assert found == {(9, Severity.ERROR), (12, Severity.ERROR), (16, Severity.NOTE)}
    # spelled by another file (a call through an object, a string), or the class has a base: kept
    for spelled in (caller + "model.old_constraint()\n", caller + 'getattr(model, "old_constraint")\n'):
        found = {(f.span.line, f.severity) for f in analyze(POINTS, path="scene/points.py", files={**project, "train.py": spelled})}
        assert (16, Severity.ERROR) in found, spelled
    based = POINTS.replace("class PointModel:", "class PointModel(torch.nn.Module):")
    assert (16, Severity.ERROR) in {(f.span.line, f.severity) for f in analyze(based, path="scene/points.py", files=project)}


BLUR = '''import os
from torch.utils.cpp_extension import load

_plugin = None


def _init():
    global _plugin
    if _plugin is None:
        here = os.path.dirname(__file__)
        _plugin = load(name="blur_plugin", sources=[os.path.join(here, "blur.cpp"), os.path.join(here, "blur.cu")],
                       extra_cuda_cflags=["--use_fast_math"])
    return True


def blur(x):
    if x.device.type == "cuda" and _init():
        return _plugin.blur(x)
    return x
'''
BLUR_CU = '''#include <torch/extension.h>

__global__ void blur_kernel(float* x, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int groupMask = 15 << ((threadIdx.x & 31) & ~3);
    float v = i < n ? x[i] : 0.f;
    v += __shfl_xor_sync(groupMask, v, 1);
    if (i < n) x[i] = v;
}
'''
GENERATOR = '''import torch
from nets.layers_alt import AltLayer as SpareLayer


class Generator(torch.nn.Module):
    def forward(self, x):
        return x
'''
PLUGIN_PROJECT = {
    "README.md": "Generate with `python gen.py`.\n",
    "gen.py": 'from nets.generator import Generator\n\nif __name__ == "__main__":\n    print(Generator())\n',
    "nets/__init__.py": "",
    "nets/generator.py": GENERATOR,
    "nets/layers_alt.py": "import torch\nfrom ops import blur\n\n\nclass AltLayer(torch.nn.Module):\n    def forward(self, x):\n        return blur.blur(x)\n",
    "ops/__init__.py": "",
    "ops/blur.py": BLUR,
    "ops/blur.cpp": '#include <torch/extension.h>\nPYBIND11_MODULE(TORCH_EXTENSION_NAME, m) { m.def("blur", &blur_cuda); }\n',
    "ops/blur.cu": BLUR_CU,
}


def test_a_kernel_plugin_whose_only_user_is_imported_under_an_alias_nothing_uses_is_never_built():
    def severities(project: dict[str, str]) -> dict[str, set[Severity]]:
        return {path: {f.severity for f in analyze(project[path], path=path, files=project)} for path in ("ops/blur.py", "ops/blur.cu")}

    # `_init` builds the plugin for `blur` alone, which only `AltLayer` calls, which nothing takes
    assert severities(PLUGIN_PROJECT) == {"ops/blur.py": {Severity.NOTE}, "ops/blur.cu": {Severity.NOTE}}
    # the alias used: the layer, its helper and the plugin's build run
    used = {**PLUGIN_PROJECT, "nets/generator.py": GENERATOR.replace("return x", "return SpareLayer()(x)")}
    assert all(Severity.ERROR in found for found in severities(used).values())


def test_a_spelling_that_names_something_else_takes_nothing():
    files = {"utils/losses.py": LOSSES, "train.py": TRAIN}
    for other in (
        {"models/pair.py": "class PairLoss:\n    pass\n\n\nloss = PairLoss()\n"},  # its own class of that name
        {"models/pair.py": "from models.base import PairLoss\n\nloss = PairLoss()\n"},  # another module's
        {"models/pair.py": "import models.base as base\n\nloss = base.PairLoss()\n"},
        {"models/pair.py": '"""A PairLoss of our own."""\n'},  # a docstring
        {"notes.md": "The PairLoss weighs pairs.\n"},  # a document's prose
        {"blur.cu": "void PairLoss() {}\n"},  # a kernel source
    ):
        assert taken({"utils/losses.py": ("UsedLoss",)}, {**files, **other}) == {"utils/losses.py": ("UsedLoss",)}, other
    assert taken({"utils/losses.py": ("UsedLoss",)}, {**files, "notes.md": "Pass `PairLoss` to weigh pairs.\n"}) == {
        "utils/losses.py": ("PairLoss", "UsedLoss")
    }


def test_a_class_under_a_decorator_that_only_wraps_it_runs_where_its_name_is_taken():
    project = {"README.md": "Train with `python train.py`.\n", "utils/__init__.py": "", "train.py": TRAIN}
    wrapped = LOSSES.replace("class SpareLoss", "@persistence.persistent_class\nclass SpareLoss")
    found = {(f.span.line, f.severity) for f in analyze(wrapped, path="utils/losses.py", files=project)}
    assert (18, Severity.NOTE) in found
    registered = LOSSES.replace("class SpareLoss", "@LOSSES.register_module()\nclass SpareLoss")
    found = {(f.span.line, f.severity) for f in analyze(registered, path="utils/losses.py", files=project)}
    assert (18, Severity.ERROR) in found


PIPELINE = '''"""An inpainting pipeline.

>>> pipe.enable_model_cpu_offload()
"""
import torch
from diffusers import DiffusionPipeline


class InpaintPipeline(DiffusionPipeline):
    def enable_model_cpu_offload(self, gpu_id=0):
        device = torch.device(f"cuda:{gpu_id}")
        self.to("cpu")
        return device

    def place(self, gpu_id=0):
        return self.to(torch.device(f"cuda:{gpu_id}"))
'''


def test_a_method_an_outside_base_leaves_to_its_users_runs_where_the_project_calls_it():
    # the catalog's `[[user_method]]`: DiffusionPipeline never calls `enable_model_cpu_offload` first;
    # `place` is no name the base leaves to its users: the base may call it, it keeps its verdict
    # the importer continues its import with a backslash; the other copy's messages name its own copy
    app = "from pipes.inpaint import \\\n    InpaintPipeline as Pipeline\n\npipe = Pipeline()\n"
    copy = (
        "class OtherPipeline:\n    def enable_model_cpu_offload(self, gpu_id=0):\n"
        "        if gpu_id < 0:\n            raise ValueError('`enable_model_cpu_offload` needs a GPU')\n        return gpu_id\n"
    )
    project = {"README.md": "Run `python app.py`.\n", "pipes/__init__.py": "", "app.py": app, "pipes/other.py": copy}
    found = {(f.span.line, f.severity) for f in analyze(PIPELINE, path="pipes/inpaint.py", files=project)}
    assert found == {(11, Severity.NOTE), (16, Severity.ERROR)}
    calling = {**project, "app.py": app + "pipe.enable_model_cpu_offload()\n"}
    found = {(f.span.line, f.severity) for f in analyze(PIPELINE, path="pipes/inpaint.py", files=calling)}
    assert found == {(11, Severity.ERROR), (16, Severity.ERROR)}


def test_what_only_a_vendored_package_s_own_scripts_reach_is_another_path():
    # the copy's benchmark (no document of the project names it) generates; the project builds a layer
    layers = "import torch\n\n\nclass Block(torch.nn.Module):\n    pass\n"
    generation = (
        "import torch\n\n\ndef capture(model):\n    return torch.cuda.CUDAGraph()\n\n\n"
        "class Generating:\n    def generate(self):\n        return capture(self)\n"
    )
    project = {
        "README.md": "Install with `pip install -e seqkit`, then run `python classify.py`.\n",
        "classify.py": "from seq.layers import Block\nfrom seq.generation import Generating\n\nblock = Block()\n",
        "seqkit/setup.py": "from setuptools import setup\n\nsetup(name='seq', packages=['seq'])\n",
        "seqkit/seq/__init__.py": "from seq.generation import Generating\n",
        "seqkit/seq/layers.py": layers,
        "seqkit/benchmarks/bench_generate.py": "from seq.generation import Generating\n\nGenerating().generate()\n",
    }
    found = {(f.span.line, f.severity) for f in analyze(generation, path="seqkit/seq/generation.py", files=project)}
    assert found == {(5, Severity.WARNING)}
    # the project's own script generating: the normal path
    generating = {**project, "classify.py": project["classify.py"] + "Generating().generate()\n"}
    found = {(f.span.line, f.severity) for f in analyze(generation, path="seqkit/seq/generation.py", files=generating)}
    assert found == {(5, Severity.ERROR)}
