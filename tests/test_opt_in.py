"""Definitions the project's scripts reach only through a switch that is off by default (`opt_in.py`)."""

from __future__ import annotations

from functools import partial

from cudaudit.model import Severity
from cudaudit.rules.python.opt_in import switched_calls, switched_definitions
from support import analyze

SAMPLER = "import torch\n\nclass FastSampler:\n    def buffers(self, x):\n        return x.to(torch.device('cuda'))\n"
SCRIPT = """
import argparse
from samplers.fast import FastSampler
from samplers.plain import PlainSampler

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fast", action="store_true")
    opt = parser.parse_args()
    if opt.fast:
        sampler = FastSampler()
    else:
        sampler = PlainSampler()
"""


def switched(files: dict[str, str]) -> dict[str, list[str]]:
    sources = {path: partial(str.encode, text) for path, text in files.items()}
    readings = {path: calls for path in files if (calls := switched_calls(path, files[path].encode()))}
    return {path: [name for name, _ in names] for path, names in switched_definitions(sources, readings).items()}


def project(**extra: str) -> dict[str, str]:
    return {
        "samplers/__init__.py": "from .fast import (\n    FastSampler,\n)\n",
        "samplers/fast.py": SAMPLER,
        "samplers/plain.py": SAMPLER.replace("FastSampler", "PlainSampler"),
        "scripts/sample.py": SCRIPT,
        **extra,
    }


def test_a_class_every_script_builds_only_under_an_off_switch_is_switched():
    assert switched(project()) == {"samplers/fast.py": ["FastSampler"]}


def test_the_switch_is_named_as_the_evidence():
    sources = {path: partial(str.encode, text) for path, text in project().items()}
    readings = {"scripts/sample.py": switched_calls("scripts/sample.py", SCRIPT.encode())}
    [(name, evidence)] = switched_definitions(sources, readings)["samplers/fast.py"]
    assert (name, evidence.path, evidence.line, evidence.text) == ("FastSampler", "scripts/sample.py", 10, "if opt.fast:")


def test_one_use_elsewhere_keeps_the_class_on_the_normal_path():
    other = "from samplers import fast\n\ndef run():\n    return fast.FastSampler()\n"
    assert switched(project(**{"scripts/other.py": other})) == {}


def test_a_script_that_uses_it_outside_the_switch_too_keeps_it():
    script = SCRIPT + "\n    preview = FastSampler()\n"
    assert switched(project(**{"scripts/sample.py": script})) == {}


def test_a_switch_that_is_on_by_default_switches_nothing():
    script = SCRIPT.replace('action="store_true"', 'action="store_true", default=True')
    assert switched(project(**{"scripts/sample.py": script})) == {}


def test_the_switched_class_is_another_path_and_the_other_keeps_its_error():
    files = project()
    code = files.pop("samplers/fast.py")
    [fast] = [f for f in analyze(code, path="samplers/fast.py", files=files) if f.rule == "CDA103"]
    assert fast.severity is Severity.WARNING
    code = files.pop("samplers/plain.py")
    [plain] = [f for f in analyze(code, path="samplers/plain.py", files={**files, "samplers/fast.py": SAMPLER}) if f.rule == "CDA103"]
    assert plain.severity is Severity.ERROR


def test_a_package_that_re_exports_it_from_folders_that_are_no_packages_is_followed():
    script = SCRIPT.replace("from samplers.fast import FastSampler", "from lib.models.sample import FastSampler")
    files = {
        "lib/models/sample/__init__.py": "from .fast import FastSampler\n",
        "lib/models/sample/fast.py": SAMPLER,
        "scripts/sample.py": script,
    }
    assert switched(files) == {"lib/models/sample/fast.py": ["FastSampler"]}
