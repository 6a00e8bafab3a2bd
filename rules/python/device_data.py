"""Device values a test module handles as data.

A test module that never imports PyTorch cannot reach a device by itself: the device strings and
indexes it spells are data it hands the code under test (`Namespace(device="cuda:1")`,
`queue.take(device="cuda:0")`, the argument list of a command-line parser) or answers it checks that
code against (`assert cfg.device == "cuda:1"`). A comparison of strings stops nothing for want of a
GPU, and where the code under test moves something to the device, that move is a site of its own,
reported where it is written. So in such a module those values are notes: the device strings and
ordinals, and an `assert` that compares one, which `guards.is_requirement` would read as the program
requiring CUDA. A module that imports PyTorch anywhere (a test that builds a tensor on the device it
names) keeps its verdicts, and so does a helper module of the test suite that defines no test.
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.reach import defines_tests
from cudaudit.rules.python.walker import Hit

DATA_DETECTORS = frozenset({"device-string", "device-ordinal"})
"""The detectors of device values: `"cuda:1"`, `device=0`."""
_REQUIREMENT = "requirement"


def handles_devices_as_data(tree: ast.Module, names: ImportTable, in_tests: bool) -> bool:
    """Whether the module is a test module (it defines tests) that imports no part of PyTorch."""
    if not in_tests or names.imports("torch"):
        return False
    return any(defines_tests(statement) for statement in tree.body)


def is_device_data(hit: Hit) -> bool:
    """A device value, or an `assert` comparing one (not a scheduler's GPU request, which stops a task)."""
    detector = hit.entry.rule.detector
    return detector in DATA_DETECTORS or (detector == _REQUIREMENT and isinstance(hit.node, ast.Assert))
