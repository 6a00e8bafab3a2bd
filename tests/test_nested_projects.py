"""A standalone project nested in a part of the host that nothing of the host names is another path
(`nested_projects.py`), and so are the host's modules only another path's scripts import
(`unreached.py`)."""

from __future__ import annotations

from functools import partial

from cudaudit.facts import Evidence
from cudaudit.model import Severity
from cudaudit.rules.python.nested_projects import nested_project_files
from cudaudit.rules.python.unreached import unreached_modules
from support import analyze

HOST = {
    "README.md": "`pip install -r requirements.txt`, then `python app.py --image person.jpg`.\n",
    "requirements.txt": "torch\n",
    "app.py": "from segment.parser.run import Parser\n\nif __name__ == '__main__':\n    Parser()\n",
    "segment/__init__.py": "",
    "segment/parser/__init__.py": "",
    "segment/parser/run.py": "from segment.parser.helpers.shapes import resize\n\nclass Parser:\n    pass\n",
    "segment/parser/helpers/__init__.py": "",
    "segment/parser/helpers/shapes.py": "def resize(x):\n    return x\n",
    "segment/parser/helpers/losses.py": "import torch\n\ndef weights():\n    return torch.ones(3).cuda()\n",
    "segment/parser/multi/train_multi.py": (
        "import sys\n\nsys.path.insert(0, '..')\nfrom helpers.losses import weights\n\n"
        "if __name__ == '__main__':\n    weights()\n"
    ),
    "segment/parser/multi/boxkit/README.md": "`pip install -e .`, then `python tools/train.py`.\n",
    "segment/parser/multi/boxkit/setup.py": "from setuptools import setup\n\nsetup(name='boxkit')\n",
    "segment/parser/multi/boxkit/tools/train.py": (
        "from boxkit.config import probe\n\nif __name__ == '__main__':\n    probe()\n"
    ),
    "segment/parser/multi/boxkit/boxkit/__init__.py": "",
    "segment/parser/multi/boxkit/boxkit/config.py": "import torch\n\ndef probe():\n    return torch.zeros(1).cuda()\n",
}
NESTED = "segment/parser/multi/boxkit"


def nested(files: dict[str, str]) -> set[str]:
    python = {path: partial(str.encode, text) for path, text in files.items() if path.endswith(".py")}
    others = {path: partial(str.encode, text) for path, text in files.items() if not path.endswith(".py")}
    return set(nested_project_files(python, others))


def test_every_file_of_a_nested_project_nothing_of_the_host_names_is_another_path():
    assert nested(HOST) == {path for path in HOST if path.startswith(NESTED + "/")}


def test_a_nested_project_the_host_imports_names_or_keeps_at_its_top_keeps_its_files():
    imported = {**HOST, "app.py": HOST["app.py"] + "from boxkit.config import probe\n"}
    assert nested(imported) == set()
    documented = {**HOST, "README.md": HOST["README.md"] + "Boxes: `cd segment/parser/multi/boxkit && pip install -e .`\n"}
    assert nested(documented) == set()
    spelled = {**HOST, "README.md": HOST["README.md"] + "The multi-person boxes come from boxkit.\n"}
    assert nested(spelled) == set()
    top = {path.replace("segment/parser/multi/", ""): text for path, text in HOST.items()}
    assert nested(top) == set()  # a top-level folder is one of the repository's parts
    undocumented = {path: text for path, text in HOST.items() if path != f"{NESTED}/README.md"}
    assert nested(undocumented) == set()


def test_a_second_copy_of_the_same_package_that_the_host_runs_does_not_name_the_nested_one():
    second = {
        **HOST,
        "app.py": HOST["app.py"] + "from boxkit.config import probe\n",
        "boxkit/__init__.py": "",
        "boxkit/config.py": "def probe():\n    return None\n",
    }
    assert nested(second) == {path for path in HOST if path.startswith(NESTED + "/")}


def test_a_scan_caps_the_nested_project_and_the_helpers_only_its_undocumented_scripts_import_at_warnings():
    for path in (f"{NESTED}/boxkit/config.py", "segment/parser/helpers/losses.py"):
        files = {name: text for name, text in HOST.items() if name != path}
        found = {(f.span.line, f.severity) for f in analyze(HOST[path], path=path, files=files)}
        assert found == {(4, Severity.WARNING)}, path
    path = "segment/parser/helpers/losses.py"
    documented = {
        **{name: text for name, text in HOST.items() if name != path},
        "README.md": HOST["README.md"] + "Train: `cd segment/parser/multi && python train_multi.py`.\n",
    }
    assert {(f.span.line, f.severity) for f in analyze(HOST[path], path=path, files=documented)} == {(4, Severity.ERROR)}


def test_a_helper_only_a_script_nothing_names_imports_is_another_path_unless_the_normal_path_imports_it_too():
    python = {path: partial(str.encode, text) for path, text in HOST.items() if path.endswith(".py")}
    others = {path: partial(str.encode, text) for path, text in HOST.items() if not path.endswith(".py")}
    script = "segment/parser/multi/train_multi.py"
    aside = {script: Evidence(script, 0, "no file names this script")}
    helper = "segment/parser/helpers/losses.py"
    found = unreached_modules([helper], python, others, aside)
    assert "another path" in found[helper].text
    assert unreached_modules([helper], python, others) == {}
    shared = {**python, "segment/parser/run.py": partial(str.encode, HOST["segment/parser/run.py"] + "from .helpers import losses\n")}
    assert unreached_modules([helper], shared, others, aside) == {}
