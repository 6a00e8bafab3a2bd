"""A keyword that defaults to True and that every caller keeps True: the arm that runs where it is
False is another path (`rules/python/kept_on.py`, through the project index, read by
`regions.branch_regions`)."""

from __future__ import annotations

import json

import pytest

from cudaudit.rules.python.kept_on import defaulted_on, kept_on
from support import scan_json, write

EXTRACT = '''
import torch


def split_by_silence(path):
    return [path]


def split_by_words(path):
    model = torch.jit.load("words.pt", map_location="cuda")
    return model(path)


def extract(path, model, vad=True):
    if vad:
        parts = split_by_silence(path)
    else:
        parts = split_by_words(path)
    return model(parts)
'''
HELPER_LINE = 10


def _notebook(call: str) -> str:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["import extract\n", call]}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _else_severity(cli, root) -> str | None:
    """The severity of the CUDA model the helper only the `else` arm calls builds, in a scan of the
    whole project (its README lists it), which follows a public helper's callers; None where it is
    not reported."""
    write(root / "README.md", "# Extract\n")
    report = scan_json(cli, ".", "--no-cache", cwd=root)
    return next((f["severity"] for f in report["findings"] if f["path"] == "extract.py" and f["line"] == HELPER_LINE), None)


def test_the_arm_no_caller_takes_is_another_path(cli, tmp_path):
    write(tmp_path / "extract.py", EXTRACT)
    write(tmp_path / "app.py", "from extract import extract\n\nextract('a.wav', print, vad=True)\n")
    write(tmp_path / "demo.ipynb", _notebook("extract.extract('b.wav', print, vad=True)\n"))
    assert _else_severity(cli, tmp_path) == "warning"


@pytest.mark.parametrize("call", [
    "extract.extract('b.wav', print, vad=False)\n",  # a notebook takes the arm
    "extract.extract('b.wav', print, vad=use_vad)\n",  # a value the reading cannot follow
])
def test_a_caller_that_may_turn_the_keyword_off_keeps_the_arm(cli, tmp_path, call):
    write(tmp_path / "extract.py", EXTRACT)
    write(tmp_path / "app.py", "from extract import extract\n\nextract('a.wav', print, vad=True)\n")
    write(tmp_path / "demo.ipynb", _notebook(call))
    assert _else_severity(cli, tmp_path) == "error"


@pytest.mark.parametrize(("install", "severity"), [
    # An application: every call of `extract` is one the scan sees, and none passes `vad`, so the
    # default True closes the `else` arm on every run (`held_defaults.py`, principle 1): not reported.
    (None, None),
    # An installable library: a caller outside the project may pass `vad=False`, which is why the
    # keyword exists: the arm is another path, a warning, never silence.
    ("pyproject.toml", "warning"),
])
def test_a_keyword_no_call_passes_is_held_at_its_default(cli, tmp_path, install, severity):
    write(tmp_path / "extract.py", EXTRACT)
    write(tmp_path / "app.py", "from extract import extract\n\nextract('a.wav', print)\n")
    if install:
        write(tmp_path / install, '[project]\nname = "extract"\nversion = "0.1"\n')
    assert _else_severity(cli, tmp_path) == severity


def test_defaulted_on_reads_parameters_tested_alone():
    assert defaulted_on(EXTRACT.encode()) == ("vad",)
    assert defaulted_on(b"def f(x, vad=True):\n    return vad and x\n") == ()  # never tested alone
    assert defaulted_on(b"f(vad=True)\nif vad:\n    pass\n") == ()  # a call, not a signature


def test_prose_gives_the_keyword_nothing():
    code = {
        "extract.py": lambda: EXTRACT.encode() + b'print(f"after vad: dur = {d}")\n',
        "app.py": lambda: b"extract(p, m, vad=True)\n",
    }
    assert kept_on({"extract.py": ("vad",)}, code) == {"extract.py": frozenset({"vad"})}


def test_kept_on_ignores_the_test_suite():
    code = {
        "extract.py": lambda: EXTRACT.encode(),
        "app.py": lambda: b"extract(p, m, vad=True)\n",
        "tests/test_extract.py": lambda: b"extract(p, m, vad=False)\n",
    }
    assert kept_on({"extract.py": ("vad",)}, code) == {"extract.py": frozenset({"vad"})}


SCORER = '''
import argparse

import torch


class Scorer(torch.nn.Module):
    def __init__(self, width=8, use_gpu=True):
        super().__init__()
        self.net = torch.nn.Linear(width, 1)
        if use_gpu:
            self.net.cuda()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=8)
    print(Scorer(parser.parse_args().width))


if __name__ == "__main__":
    main()
'''


@pytest.mark.parametrize(("caller", "severity"), [
    ("", "error"),  # no call passes `use_gpu`: the GPU arm is the normal path of the script
    ("from score import Scorer\n\nScorer(4, use_gpu=True)\n", "error"),
    ("import torch\nfrom score import Scorer\n\nScorer(4, use_gpu=torch.cuda.is_available())\n", "note"),  # a test of the machine
])
def test_a_keyword_named_for_the_gpu_that_no_call_turns_off_is_no_test_of_the_machine(cli, tmp_path, caller, severity):
    write(tmp_path / "score.py", SCORER)
    write(tmp_path / "README.md", "# Score\n\n```\npython score.py --width 8\n```\n")
    if caller:
        write(tmp_path / "other.py", caller)
    report = scan_json(cli, ".", "--no-cache", "--show-portable", cwd=tmp_path)
    assert [f["severity"] for f in report["findings"] if f["path"] == "score.py"] == [severity]
