"""A copied project loaded only through a local torch hub entry is another path beyond what its
`hubconf.py` reaches (`copied_projects.py`)."""

from __future__ import annotations

from functools import partial

import pytest

from cudaudit.model import Severity
from cudaudit.rules.python.copied_projects import copied_project_files
from support import analyze, scan_json, severities_by_file, write

TRAINER = "import torch\n\ndef step(batch):\n    return batch.cuda()\n\nif __name__ == '__main__':\n    step(None)\n"
COPY = {
    "README.md": "Run `python predict.py image.png`.\n",
    "requirements.txt": "torch\n",
    "predict.py": (
        "import torch\n\n"
        "def backbone():\n"
        "    return torch.hub.load('../vendor/encoder_main', 'encoder_small', source='local', pretrained=False)\n"
    ),
    "vendor/encoder_main/hubconf.py": "def encoder_small(pretrained=True):\n    import net\n    return net.Net()\n",
    "vendor/encoder_main/net.py": "from encoder.layers import attention\n\nclass Net:\n    pass\n",
    "vendor/encoder_main/encoder/__init__.py": "",
    "vendor/encoder_main/encoder/layers/__init__.py": "",
    "vendor/encoder_main/encoder/layers/attention.py": "import torch\n",
    "vendor/encoder_main/encoder/train/__init__.py": "",
    "vendor/encoder_main/encoder/train/loop.py": TRAINER,
    "vendor/encoder_main/requirements.txt": "--extra-index-url https://download.pytorch.org/whl/cu117\ntorch==2.0.0\n",
}


def copied(files: dict[str, str]) -> set[str]:
    python = {path: partial(str.encode, text) for path, text in files.items() if path.endswith(".py")}
    others = {path: partial(str.encode, text) for path, text in files.items() if not path.endswith(".py")}
    return set(copied_project_files(python, others))


def test_what_the_hub_entries_do_not_reach_in_a_locally_loaded_copy_is_another_path():
    assert copied(COPY) == {
        "vendor/encoder_main/encoder/train/__init__.py",
        "vendor/encoder_main/encoder/train/loop.py",
        "vendor/encoder_main/requirements.txt",
    }


def test_a_copy_the_project_loads_from_its_hub_online_or_does_not_load_keeps_its_files():
    online = COPY["predict.py"].replace("'../vendor/encoder_main'", "'someone/encoder'").replace(", source='local'", "")
    assert copied({**COPY, "predict.py": online}) == set()
    own = {**COPY, "predict.py": COPY["predict.py"].replace("'../vendor/encoder_main'", "'.'")}
    assert copied(own) == set()  # the project's own hub entry, loaded from its own folder


def test_a_module_the_project_imports_itself_or_a_file_a_document_names_keeps_its_verdicts():
    imported = {**COPY, "finetune.py": "import sys\nsys.path.insert(0, 'vendor/encoder_main')\nfrom encoder.train import loop\n"}
    assert copied(imported) == {"vendor/encoder_main/requirements.txt"}
    documented = {**COPY, "README.md": "Install with `pip install -r vendor/encoder_main/requirements.txt`.\n"}
    assert copied(documented) == {"vendor/encoder_main/encoder/train/__init__.py", "vendor/encoder_main/encoder/train/loop.py"}


def test_a_scan_caps_the_unreached_part_of_the_copy_at_warnings():
    path = "vendor/encoder_main/encoder/train/loop.py"
    files = {name: text for name, text in COPY.items() if name != path}
    assert {(f.span.line, f.severity) for f in analyze(TRAINER, path=path, files=files)} == {(4, Severity.WARNING)}
    # The copy's own README runs its trainer: a script something names (`unnamed_scripts.py`).
    online = {
        **files, "predict.py": files["predict.py"].replace(", source='local'", ""),
        "vendor/encoder_main/README.md": "Train with `python -m encoder.train.loop`.\n",
    }
    assert {(f.span.line, f.severity) for f in analyze(TRAINER, path=path, files=online)} == {(4, Severity.ERROR)}


PROGRAM = {
    "README.md": "Run `python demo.py face.png`.\n",
    "requirements.txt": "torch\n",
    "demo.py": "from app.models.encoder import build\n\nif __name__ == '__main__':\n    build()\n",
    "app/__init__.py": "",
    "app/models/__init__.py": "",
    "app/models/encoder.py": "from .face_net.nets import get_net\n\ndef build():\n    return get_net('r50')\n",
    "app/models/face_net/README.md": "Train with `bash run.sh`, which runs `train.py`.\n",
    "app/models/face_net/run.sh": "python -m torch.distributed.launch --nproc_per_node=8 train.py configs/r50\n",
    "app/models/face_net/nets/__init__.py": "from .resnet import get_net\n",
    "app/models/face_net/nets/resnet.py": "import torch\n\ndef get_net(name):\n    return torch.nn.Linear(1, 1)\n",
    "app/models/face_net/train.py": "from nets import get_net\nfrom loader import Loader\n\n" + TRAINER,
    "app/models/face_net/loader.py": "import torch\n\nclass Loader:\n    stream = torch.cuda.Stream()\n",
    "app/models/face_net/tests/test_loader.py": "from loader import Loader\n",
}


def test_what_the_project_does_not_import_of_a_vendored_program_is_another_path():
    assert copied(PROGRAM) == {
        "app/models/face_net/README.md",
        "app/models/face_net/loader.py",
        "app/models/face_net/run.sh",
        "app/models/face_net/train.py",
    }


def test_a_vendored_program_the_project_names_installs_or_does_not_import_keeps_its_files():
    documented = {**PROGRAM, "README.md": "To retrain the encoder: `cd app/models/face_net && bash run.sh`.\n"}
    assert copied(documented) == set()
    installed = {**PROGRAM, "app/models/face_net/setup.py": "from setuptools import setup\n\nsetup(name='face_net')\n"}
    assert copied(installed) == set()  # a nested project of its own: its routes are its user's
    unimported = {**PROGRAM, "app/models/encoder.py": "def build():\n    return None\n"}
    assert copied(unimported) == set()
    no_launcher = {path: text for path, text in PROGRAM.items() if not path.endswith("run.sh")}
    assert copied(no_launcher) == set()  # a README alone describes a subpackage, not a program of its own
    trained = {**PROGRAM, "demo.py": PROGRAM["demo.py"] + "from app.models.face_net import train\n"}
    assert "app/models/face_net/train.py" not in copied(trained)
    root = {f"app/models/face_net/{path}": text for path, text in PROGRAM.items() if path.startswith("app/models/face_net/")}
    assert copied({path.removeprefix("app/models/face_net/"): text for path, text in root.items()}) == set()


def test_a_scan_caps_a_vendored_programs_own_trainer_at_warnings_and_keeps_what_the_project_imports():
    path = "app/models/face_net/train.py"
    files = {name: text for name, text in PROGRAM.items() if name != path}
    trainer = PROGRAM[path]
    lines = {(f.span.line, f.severity) for f in analyze(trainer, path=path, files=files)}
    assert lines == {(7, Severity.WARNING)}
    imported = {**files, "demo.py": "from app.models.face_net.train import step\n\nstep(None)\n"}
    assert {(f.span.line, f.severity) for f in analyze(trainer, path=path, files=imported)} == {(7, Severity.ERROR)}


SPLATS = {
    "README.md": "Install the rasterizer: `pip install ./splats/ext/raster`. Then `python launch.py`.\n",
    "launch.py": (
        "from splats.scene.model import Model\n\n"
        "# shutil.copytree('./splats', out + '/splats')\n"
        "if __name__ == '__main__':\n    Model()\n"
    ),
    "splats/README.md": "Train with `python train.py -s data`.\n",
    "splats/environment.yml": "dependencies:\n  - cudatoolkit=11.6\n",
    "splats/train.py": "from scene.model import Model\nfrom gui import serve\n\n" + TRAINER,
    "splats/gui.py": "import torch\n\ndef serve(view):\n    return torch.tensor(view).cuda()\n",
    "splats/scene/__init__.py": "",
    "splats/scene/model.py": "class Model:\n    pass\n",
    "splats/ext/raster/setup.py": "from setuptools import setup\n\nsetup(name='raster')\n",
    "splats/ext/raster/raster.py": "import torch\n",
}


def test_a_vendored_program_with_its_own_environment_file_whose_extension_the_readme_installs():
    # the copy's own trainer, the helper only it imports and its conda file are its routes; the
    # extension the project's README installs by a path into the copy stays the project's
    assert copied(SPLATS) == {"splats/README.md", "splats/environment.yml", "splats/train.py", "splats/gui.py"}
    ran = {**SPLATS, "README.md": SPLATS["README.md"] + "Or `python splats/train.py -s data`.\n"}
    assert copied(ran) == set()  # a document that runs the copy's script makes its routes the project's
    named = {**SPLATS, "launch.py": SPLATS["launch.py"].replace("# shutil", "shutil")}
    assert copied(named) == set()  # code that spells the copy's folder may run anything of it


METRIC = {
    "README.md": "Score the videos: `python metric/score.py --videos out/`.\n",
    "metric/score.py": (
        "import torch\nfrom dino.vision_transformer import vit_small\n\n"
        "if __name__ == '__main__':\n    print(vit_small().to('cuda' if torch.cuda.is_available() else 'cpu'))\n"
    ),
    "metric/dino/README.md": "Train: `python -m torch.distributed.launch --nproc_per_node=8 main_dino.py`.\n",
    "metric/dino/LICENSE": "Apache License\nVersion 2.0, January 2004\n",
    "metric/dino/vision_transformer.py": "import torch.nn as nn\n\ndef vit_small():\n    return nn.Linear(4, 4)\n",
    "metric/dino/main_dino.py": "from vision_transformer import vit_small\n\n" + TRAINER,
}


def test_a_folder_with_its_own_readme_and_license_is_a_vendored_program():
    # no launcher and no dependency file: the upstream license beside its README marks the copy
    assert copied(METRIC) == {"metric/dino/README.md", "metric/dino/LICENSE", "metric/dino/main_dino.py"}
    unlicensed = {path: text for path, text in METRIC.items() if not path.endswith("LICENSE")}
    assert copied(unlicensed) == set()  # a README alone describes a subpackage, not a program of its own


@pytest.mark.parametrize(("license_name", "severity"), [("LICENSE", "warning"), ("COPYING.txt", "warning"), (None, "error")])
def test_a_scan_finds_the_license_that_marks_a_vendored_programs_own_trainer(cli, tmp_path, license_name, severity):
    for path, text in METRIC.items():
        if not path.endswith("LICENSE"):
            write(tmp_path / "proj" / path, text)
    if license_name is not None:
        write(tmp_path / "proj" / "metric" / "dino" / license_name, METRIC["metric/dino/LICENSE"])  # found by discovery
    found = severities_by_file(scan_json(cli, "--no-cache", "proj", cwd=tmp_path), "cpu")
    assert found == {"main_dino.py": {severity}}
