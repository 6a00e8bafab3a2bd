"""A copied project loaded only through a local torch hub entry is another path beyond what its
`hubconf.py` reaches (`local_hubs.py`)."""

from __future__ import annotations

from functools import partial

from cudaudit.model import Severity
from cudaudit.rules.python.local_hubs import hub_copies
from support import analyze

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
    return set(hub_copies(python, others))


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
