"""A `setup.py` runs as a program nothing imports: its functions run only where its own code calls them."""

from __future__ import annotations

from support import scan_json, write

SETUP = """
import subprocess

import torch
from setuptools import setup


def cuda_release():
    return subprocess.check_output(["nvcc", "-V"], text=True).split("release ")[1].split(",")[0]


def hip_release():
    return subprocess.check_output(["hipcc", "--version"], text=True).splitlines()[0]


{flags}

setup(name="fastop", version="0.1", define_macros=flags)
"""
BRANCHED = """if torch.version.hip:
    flags = [("HIP_RELEASE", hip_release())]
else:
    flags = [("CUDA_RELEASE", cuda_release())]
"""


def probe_targets(cli, tmp_path, flags: str) -> dict[str, str]:
    write(tmp_path / "setup.py", SETUP.format(flags=flags))
    report = scan_json(cli, ".", "--no-cache")
    (probe,) = [f for f in report["findings"] if f["rule"] == "CDA211"]
    assert probe["line"] == 9
    return {target: value["severity"] for target, value in probe["targets"].items()}


def test_an_nvcc_probe_only_the_cuda_branch_of_the_build_calls_is_no_rocm_finding(cli, tmp_path):
    assert probe_targets(cli, tmp_path, BRANCHED) == {"rocm": "note", "cpu": "error"}


def test_a_probe_every_build_calls_breaks_the_rocm_build_too(cli, tmp_path):
    assert probe_targets(cli, tmp_path, 'flags = [("CUDA_RELEASE", cuda_release())]\n') == {"rocm": "error", "cpu": "error"}


def test_a_packages_module_named_setup_that_calls_no_setup_keeps_its_functions(cli, tmp_path):
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "eval" / "__init__.py", "")
    write(tmp_path / "pkg" / "eval" / "setup.py", "def build_model(model):\n    return model.cuda()\n")
    write(tmp_path / "pkg" / "eval" / "linear.py", "from pkg.eval.setup import build_model\n\n\ndef run(model):\n    return build_model(model)\n")
    report = scan_json(cli, ".", "--no-cache")
    assert [(f["path"], f["line"]) for f in report["findings"]] == [("pkg/eval/setup.py", 2)]
