"""An autograd Function's backward in a project that only infers runs on no target (`inference_only.py`)."""

from __future__ import annotations

from cudaudit.model import Severity
from support import analyze

OP = '''import torch
from torch.autograd import Function


class BlurFunction(Function):
    @staticmethod
    def forward(ctx, x):
        return x.cuda() * 2

    @staticmethod
    def backward(ctx, grad):
        return grad.cuda() * 2


blur = BlurFunction.apply
'''
INFER = "import torch\nfrom ops.blur import blur\n\nwith torch.no_grad():\n    print(blur(torch.ones(2)))\n"
PROJECT = {
    "README.md": "Run `python infer.py`.\n",
    "infer.py": INFER,
    "ops/__init__.py": "",
    "tests/test_blur.py": "from torch.autograd import gradcheck\nfrom ops.blur import blur\n\n\ndef test_blur():\n    gradcheck(blur, ())\n",
}


def severities(project: dict[str, str]) -> dict[int, Severity]:
    return {f.span.line: f.severity for f in analyze(OP, path="ops/blur.py", files=project)}


def test_the_backward_of_an_op_a_project_that_only_infers_never_runs():
    assert severities(PROJECT) == {8: Severity.ERROR, 12: Severity.NOTE}  # the test suite's gradient check aside


def test_a_project_that_differentiates_anywhere_runs_the_backward():
    for training in ("loss = blur(x).sum()\nloss.backward()\n", "opt = torch.optim.SGD(params, lr=0.1)\n", "trainer.fit(model)\n"):
        assert severities({**PROJECT, "train.py": "import torch\n" + training}) == {8: Severity.ERROR, 12: Severity.ERROR}, training
