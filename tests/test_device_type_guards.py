"""`torch.device("cuda").type` is the string `"cuda"`: a comparison with it tests the device as the string does."""

from __future__ import annotations

import pytest

from cudaudit.model import Severity
from support import analyze


@pytest.mark.parametrize(
    "test",
    [
        'torch.device("cuda").type == self.device.type',
        'self.device.type == torch.device("cuda:0").type',
        'self.device.type == "cuda"',
    ],
)
def test_a_comparison_with_the_type_of_a_cuda_device_guards_its_branch(test):
    code = f"import torch\n\n\nclass Shards:\n    def step(self):\n        if {test}:\n            torch.cuda.synchronize()\n"
    found = [(f.span.line, f.severity) for f in analyze(code)]
    assert found == [(7, Severity.NOTE)]


def test_the_type_of_a_device_built_from_a_variable_says_nothing():
    code = "import torch\n\n\ndef step(name, device):\n    if torch.device(name).type == device.type:\n        torch.cuda.synchronize()\n"
    assert [(f.span.line, f.severity) for f in analyze(code)] == [(6, Severity.ERROR)]
