"""A notebook the project opens in a hosted notebook service is that service's route, another path
(`rules/scripts/hosted_notebooks.py`)."""

from __future__ import annotations

import json
from functools import partial

from cudaudit.model import Severity
from cudaudit.rules.scripts.hosted_notebooks import hosted_notebooks
from support import analyze

COLAB = {"colab.research.google.com/github/": "Google Colab"}
BADGE = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/someone/talker/blob/main/{})"


def notebook(*cells: str) -> str:
    return json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": source} for source in cells],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }, indent=1) + "\n"


INSTALL = notebook(
    "!pip install torch==1.12.1+cu113 --extra-index-url https://download.pytorch.org/whl/cu113\n!apt-get install -y ffmpeg",
    "import torch\nmodel = torch.nn.Linear(2, 2).cuda()",
)


def hosted(files: dict[str, str], notebooks: list[str]) -> dict[str, tuple[str, int]]:
    linking = {path: partial(str.encode, text) for path, text in files.items()}
    return {path: (e.path, e.line) for path, e in hosted_notebooks(notebooks, linking, COLAB).items()}


def test_a_notebook_a_document_or_its_own_badge_opens_in_a_hosted_service_is_that_services_route():
    readme = "# Talker\n\nInstall with `pip install -r requirements.txt`.\n\n" + BADGE.format("demo.ipynb") + "\n"
    assert hosted({"README.md": readme}, ["demo.ipynb", "notebooks/other.ipynb"]) == {"demo.ipynb": ("README.md", 5)}
    badge = notebook(BADGE.format("notebooks/tour.ipynb"))
    assert hosted({"notebooks/tour.ipynb": badge}, ["notebooks/tour.ipynb"]) == {"notebooks/tour.ipynb": ("notebooks/tour.ipynb", 7)}


def test_a_link_to_another_path_or_another_service_opens_nothing_here():
    assert hosted({"README.md": BADGE.format("notebooks/demo.ipynb")}, ["demo.ipynb"]) == {}
    assert hosted({"README.md": "[demo](https://github.com/someone/talker/blob/main/demo.ipynb)"}, ["demo.ipynb"]) == {}


def test_a_scan_caps_a_hosted_notebooks_install_cell_at_warnings():
    files = {"README.md": BADGE.format("demo.ipynb") + "\n", "infer.py": "print(1)\n"}
    found = {(f.rule, f.severity) for f in analyze(INSTALL, path="demo.ipynb", files=files)}
    assert ("CDA601", Severity.WARNING) in found and ("CDA102", Severity.WARNING) in found
    assert all(severity is not Severity.ERROR for _, severity in found)
    unlinked = {**files, "README.md": "Run `python infer.py`, or open `demo.ipynb` in Jupyter.\n"}
    assert ("CDA601", Severity.ERROR) in {(f.rule, f.severity) for f in analyze(INSTALL, path="demo.ipynb", files=unlinked)}
    only = {"README.md": files["README.md"]}  # the notebook is the project's only code: its normal path
    assert ("CDA601", Severity.ERROR) in {(f.rule, f.severity) for f in analyze(INSTALL, path="demo.ipynb", files=only)}
