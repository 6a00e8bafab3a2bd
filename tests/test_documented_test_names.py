"""A script named like a test (`test_*.py`) that a document runs by its path is the normal path
(`FileFacts.documented_script`, `facts.in_test_suite`), read through the real scan."""

from __future__ import annotations

import pytest

from support import scan_json, write

EVALUATE = """import torch

net = torch.load("weights.pth")
net.cuda()
for batch in range(3):
    torch.cuda.ipc_collect()
"""
"""An evaluation script of a task folder: every line stops on a machine without CUDA."""
RUN_IT = "# Evaluate\n\n```\npython test_sharpen.py --save_images\n```\n"


def _sites(cli, root) -> dict[tuple[int, str], str]:
    report = scan_json(cli, ".", "--no-cache", cwd=root)
    return {
        (finding["line"], finding["rule"]): finding["targets"]["cpu"]["severity"]
        for finding in report["findings"] if finding["path"] == "restore/test_sharpen.py"
    }


def test_a_test_named_script_a_document_runs_is_the_normal_path(cli, tmp_path):
    write(tmp_path / "restore" / "test_sharpen.py", EVALUATE)
    write(tmp_path / "restore" / "README.md", RUN_IT)
    found = _sites(cli, tmp_path)
    assert found[(4, "CDA102")] == found[(6, "CDA101")] == "error"
    assert found[(3, "CDA115")] == "warning", "the checkpoint is read as in any script"


@pytest.mark.parametrize("source", [
    "restore/README.md:# Notes\n\nSee `test_sharpen.py` for the evaluation.\n",
    ".github/workflows/ci.yml:on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - run: cd restore && python test_sharpen.py\n",
    "tests/README.md:" + RUN_IT,
    "run_all.sh:#!/bin/sh\ncd restore\npython test_sharpen.py\n",
], ids=["mentioned", "workflow", "test-folder-document", "shell-script"])
def test_a_test_named_script_no_user_document_runs_stays_a_test(cli, tmp_path, source):
    name, _, text = source.partition(":")
    write(tmp_path / "restore" / "test_sharpen.py", EVALUATE)
    write(tmp_path / name, text)
    found = _sites(cli, tmp_path)
    assert set(found.values()) == {"warning"}
    assert (3, "CDA115") not in found


def test_a_module_in_a_test_folder_stays_a_test_even_when_a_document_runs_it(cli, tmp_path):
    write(tmp_path / "tests" / "test_sharpen.py", EVALUATE)
    write(tmp_path / "README.md", "```\npython tests/test_sharpen.py\n```\n")
    report = scan_json(cli, ".", "--no-cache", cwd=tmp_path)
    assert {f["targets"]["cpu"]["severity"] for f in report["findings"] if f["path"] == "tests/test_sharpen.py"} == {"warning"}
