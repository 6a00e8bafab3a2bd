"""A function another module takes through a star import (`from .gate import *`) is used there: the
callers' reading (`callers.py`) walks that module for it as for `from .gate import name`, so a loader
of NVML every caller calls behind `torch.cuda.is_available()` keeps their guard on its own import."""

from __future__ import annotations

from support import scan_json, write

GATE = """import platform


def load_nvml():
    import pynvml
    if platform.system() == "Windows":
        pynvml.nvmlLib = None
    pynvml.nvmlInit()
    return pynvml
"""

USER = """import torch

from .gate import {imported}


def report():
    if torch.cuda.is_available():
        nvml = load_nvml()
        print(nvml.nvmlDeviceGetCount())
"""


def _import_line(cli, tmp_path, imported: str) -> dict[str, str]:
    write(tmp_path / "proj" / "meter" / "__init__.py", "")
    write(tmp_path / "proj" / "meter" / "gate.py", GATE)
    write(tmp_path / "proj" / "meter" / "usage.py", USER.format(imported=imported))
    write(tmp_path / "proj" / "run.py", "from meter.usage import report\n\nreport()\n")
    write(tmp_path / "proj" / "README.md", "Run `python run.py`.\n")
    report = scan_json(cli, "--no-cache", "proj")
    [finding] = [f for f in report["findings"] if f["path"].endswith("gate.py") and f["line"] == 5]
    return {target: verdict["severity"] for target, verdict in finding["targets"].items()}


def test_a_loader_taken_by_a_star_import_under_a_cuda_test_keeps_the_callers_guard_on_its_import(cli, tmp_path):
    assert _import_line(cli, tmp_path, "*") == _import_line(cli, tmp_path, "load_nvml")
    assert _import_line(cli, tmp_path, "*")["cpu"] == "note"
