"""`requirement` keys: a program that stops unless PyTorch has a CUDA device.

`assert torch.cuda.is_available(), "needs a GPU"` and `if not torch.cuda.is_available():
sys.exit(...)` are requirements, not guards (`guards.is_requirement`): the rest of the program
is not skipped on a CPU, the whole of it is. The site is the assert, or the condition of the
`if`; the statement is what a fix removes once everything it protects runs elsewhere.

A task or actor that asks a scheduler for GPUs (`@ray.remote(num_gpus=1)`, `.options(num_gpus=1)`)
is one too: on a cluster without GPUs it is never scheduled. Its site is the request; the code it
runs keeps its own severity (`guards.gpu_request` keeps the decorator from reading as a guard).
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.guards import gpu_request, is_requirement
from cudaudit.rules.python.walker import Concern

DETECTOR = "requirement"


class Requirements(Concern):
    def on_Assert(self, node: ast.Assert) -> None:
        if is_requirement(node, self.walk.names):
            self.walk.report(DETECTOR, "cuda", node)

    def on_If(self, node: ast.If) -> None:
        if is_requirement(node, self.walk.names):
            self.walk.report(DETECTOR, "cuda", node.test)

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        if gpu_request(call, self.walk.names) is not None:
            self.walk.report(DETECTOR, "scheduler-gpu", call)


CONCERN = Requirements
