"""A copy of third-party code whose imports name a top-level package the project only has inside
another package never runs, beyond what the project imports of it (`stranded.py`)."""

from __future__ import annotations

from functools import partial

from cudaudit.model import Severity
from cudaudit.rules.python.extra_only import top_level_imports
from cudaudit.rules.python.stranded import stranded_modules
from support import analyze

DETECTOR = "import torch\nfrom detectors.util import weights\n\ndef detect(x):\n    return x.cuda()\n"
COPY = {
    "app/__init__.py": "",
    "app/train.py": "from app.vision.detectors.edges import find_edges\nfrom app.vision.detectors.util import weights\n",
    "app/vision/detectors/util.py": "def weights():\n    return 'w.pt'\n",
    "app/vision/detectors/edges/__init__.py": "import numpy\n\ndef find_edges(x):\n    return x\n",
    "app/vision/detectors/depth/__init__.py": DETECTOR,
    "app/vision/detectors/segment/__init__.py": "from detectors.util import weights\nfrom .lib.model import build\n",
    "app/vision/detectors/segment/lib/model.py": "import torch\n\ndef build():\n    return torch.zeros(1).cuda()\n",
    "app/vision/detectors/pose/__init__.py": "from .body import detect\n",
    "app/vision/detectors/pose/body.py": DETECTOR,
    "requirements.txt": "torch\nnumpy\n",
    "README.md": "Run `python -m app.train`.\n",
}


def stranded(files: dict[str, str]) -> dict[str, str]:
    python = {path: partial(str.encode, text) for path, text in files.items() if path.endswith(".py")}
    others = {path: partial(str.encode, text) for path, text in files.items() if not path.endswith(".py")}
    found = stranded_modules(python, others, lambda path: top_level_imports(python[path]()))
    return {path: evidence.text for path, evidence in found.items()}


def test_a_copy_that_imports_itself_by_a_name_the_project_lacks_never_runs_beyond_what_the_project_imports():
    found = stranded(COPY)
    assert set(found) == {
        "app/vision/detectors/depth/__init__.py",
        "app/vision/detectors/segment/__init__.py",
        "app/vision/detectors/segment/lib/model.py",
        "app/vision/detectors/pose/__init__.py",
        "app/vision/detectors/pose/body.py",
    }  # `util` and `edges` run: the trainer imports `edges`, and `util` imports nothing that fails
    assert found["app/vision/detectors/depth/__init__.py"].startswith("this module's import of `detectors` never succeeds")
    assert found["app/vision/detectors/segment/lib/model.py"].startswith("only modules whose imports fail import")


def test_display_paths_from_the_root_of_the_file_system_are_read_alike():
    rooted = {"/" + path: text for path, text in COPY.items()}
    assert set(stranded(rooted)) == {"/" + path for path in stranded(COPY)}


def test_a_route_that_puts_the_folder_on_the_path_keeps_the_copy():
    assert stranded({**COPY, "app/vision/run.py": "from detectors.depth import detect\n\nif __name__ == '__main__':\n    detect(1)\n"}) == {}
    assert stranded({**COPY, "app/vision/__init__.py": "import os, sys\nsys.path.append(os.path.dirname(__file__))\n"}) == {}
    assert stranded({**COPY, "scripts/env.sh": "export PYTHONPATH=$PYTHONPATH:app/vision\n"}) == {}
    assert stranded({**COPY, "app/serve.py": "from detectors.util import weights\n"}) == {}  # the project counts on it
    assert stranded({**COPY, "requirements.txt": "torch\ndetectors\n"}) == {}  # an installed `detectors` answers
    assert stranded({**COPY, "app/train.py": "from app.vision.detectors.depth import detect\n"}) == {}  # a stranded one named
    assert "app/vision/detectors/util.py" in stranded({**COPY, "app/train.py": "# from app.vision.detectors.util import weights\n"})


def test_an_installed_package_of_the_copys_name_is_another_package():
    other = {**COPY, "app/vision/detectors/depth/__init__.py": "from detectors.api import load\n"}  # the copy has no `api`
    assert "app/vision/detectors/depth/__init__.py" not in stranded(other)
    top = {key.replace("app/vision/", ""): value for key, value in COPY.items() if key != "app/train.py"}
    assert stranded(top) == {}  # `detectors/` at the top of the project: a top-level package


def test_a_scan_caps_a_stranded_modules_errors_at_warnings():
    files = {path: text for path, text in COPY.items() if path != "app/vision/detectors/pose/body.py"}
    found = analyze(DETECTOR, path="app/vision/detectors/pose/body.py", files=files)
    assert [(f.span.line, f.severity) for f in found] == [(5, Severity.NOTE)]  # a package nothing imports: no route runs it
    named = {**files, "README.md": files["README.md"] + "Pose: `python -m pose.body`.\n"}  # run by hand: another path
    found = analyze(DETECTOR, path="app/vision/detectors/pose/body.py", files=named)
    assert [(f.span.line, f.severity) for f in found] == [(5, Severity.WARNING)]
    files["app/train.py"] += "from app.vision.detectors.pose.body import detect\n\ndetect(weights())\n"  # runs it
    live = analyze(DETECTOR.replace("from detectors.util", "from ..util"), path="app/vision/detectors/pose/body.py", files=files)
    assert [(f.span.line, f.severity) for f in live] == [(5, Severity.ERROR)]
