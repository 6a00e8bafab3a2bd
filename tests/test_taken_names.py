"""What a project takes from a module that is no API (`taken_names.py`), and the classes and functions
it leaves behind, which run on no target (`unused.py`)."""

from __future__ import annotations

from functools import partial

from cudaudit.model import Severity
from cudaudit.rules.python.taken_names import taken_names
from support import analyze

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
