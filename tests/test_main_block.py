"""Modules with an `if __name__ == "__main__":` block: libraries and scripts (`main_block.py`)."""

from __future__ import annotations

import ast
from functools import partial

from cudaudit.model import Severity
from cudaudit.rules.python.main_block import imported_modules, main_block, not_run_by_default
from support import analyze

LIBRARY = """
import torch

def helper(x):
    return x

def check():
    return helper(torch.ones(1, device="cuda"))

if __name__ == "__main__":
    check()
"""


def names(code: str, used: frozenset[str] | None = frozenset()) -> set[str]:
    tree = ast.parse(code)
    off = not_run_by_default(tree, code, used)
    return {getattr(statement, "name", "__main__") for statement in tree.body if id(statement) in off}


def test_a_block_at_the_top_level_is_found_and_one_inside_a_function_is_not():
    assert main_block("a.py", LIBRARY.encode())
    assert not main_block("a.py", b"def run():\n    if __name__ == '__main__':\n        pass\n")


def test_a_library_self_check_and_the_block_are_another_path_but_what_others_import_is_not():
    assert names(LIBRARY) == {"check", "helper", "__main__"}  # helper: only the self-check calls it
    assert names(LIBRARY, frozenset({"check"})) == {"__main__"}
    assert names(LIBRARY, frozenset({"helper"})) == {"check", "__main__"}
    assert names(LIBRARY, None) == {"__main__"}


def test_a_library_block_that_reads_the_command_line_is_its_documented_entry_point():
    code = LIBRARY.replace("    check()", "    import sys\n    check(sys.argv[1])")
    assert names(code) == set()


def test_imports_say_which_modules_are_libraries_and_which_names_they_give():
    files = {
        "pkg/__init__.py": b"",
        "pkg/ops.py": LIBRARY.encode(),
        "pkg/tool.py": LIBRARY.encode(),
        "pkg/run.py": b"from pkg.ops import (\n    helper,\n)\nfrom pkg import tool\n",
        "scripts/bench.py": LIBRARY.encode(),
    }
    sources = {path: partial(bytes, data) for path, data in files.items()}
    found = imported_modules(["pkg/ops.py", "pkg/tool.py", "scripts/bench.py"], sources)
    assert {path: used for path, (_, used) in found.items()} == {"pkg/ops.py": ("helper",), "pkg/tool.py": None}
    assert (found["pkg/ops.py"][0].path, found["pkg/ops.py"][0].line) == ("pkg/run.py", 1)


def test_a_module_in_a_folder_without_init_is_imported_through_the_folder_as_a_namespace_package():
    files = {
        "networks/lora.py": LIBRARY.encode(),
        "networks/extra/merge.py": LIBRARY.encode(),
        "tools/bench.py": LIBRARY.encode(),
        "train.py": b"import networks.lora as lora\nfrom networks.extra.merge import helper\n",
        "tools/run.py": b"from bench import check\n",  # a script's sibling, by its file name
    }
    sources = {path: partial(bytes, data) for path, data in files.items()}
    found = imported_modules(["networks/lora.py", "networks/extra/merge.py", "tools/bench.py"], sources)
    assert {path: used for path, (_, used) in found.items()} == {
        "networks/lora.py": None,
        "networks/extra/merge.py": ("helper",),
        "tools/bench.py": ("check",),
    }


SCORER = """import argparse

import torch


class Scorer:
    def __init__(self, device):
        self.w = torch.ones(4).to(device)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("text")
    opt = parser.parse_args()
    device = torch.device("cuda")
    print(Scorer(device).w.sum(), opt.text)
"""
APP = (
    "import torch\nfrom helpers.scorer import Scorer\n\n\ndef main():\n"
    "    Scorer(torch.device('cuda' if torch.cuda.is_available() else 'cpu'))\n\n\n"
    "if __name__ == '__main__':\n    main()\n"
)


def block_severities(files: dict[str, str]) -> set[tuple[int, Severity]]:
    return {(f.span.line, f.severity) for f in analyze(files["helpers/scorer.py"], path="helpers/scorer.py", files=files)}


def test_a_library_demo_that_reads_the_command_line_is_another_path_unless_a_document_runs_it():
    files = {"README.md": "Run `python app.py`.\n", "app.py": APP, "helpers/__init__.py": "", "helpers/scorer.py": SCORER}
    assert block_severities(files) == {(15, Severity.WARNING)}
    for running in ("Score with `python -m helpers.scorer hi`.\n", "Score with `python helpers/scorer.py hi`.\n"):
        documented = {**files, "README.md": files["README.md"] + running}
        assert block_severities(documented) == {(15, Severity.ERROR)}, running


def test_a_demo_of_a_module_a_configuration_builds_a_class_of_is_another_path():
    files = {
        "README.md": "Run `python app.py`.\n", "app.py": APP.replace("from helpers.scorer import Scorer", "Scorer = None"),
        "helpers/__init__.py": "", "helpers/scorer.py": SCORER, "configs/m.yaml": "model:\n  target: helpers.scorer.Scorer\n",
    }
    assert block_severities(files) == {(15, Severity.WARNING)}
    documented = {**files, "README.md": files["README.md"] + "Score with `python -m helpers.scorer hi`.\n"}
    assert block_severities(documented) == {(15, Severity.ERROR)}
