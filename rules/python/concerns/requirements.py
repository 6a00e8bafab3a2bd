"""`requirement` keys: a program that stops unless PyTorch has a CUDA device.

`assert torch.cuda.is_available(), "needs a GPU"` and `if not torch.cuda.is_available():
sys.exit(...)` are requirements, not guards (`guards.is_requirement`): the rest of the program
is not skipped on a CPU, the whole of it is. The site is the assert, or the condition of the
`if`; the statement is what a fix removes once everything it protects runs elsewhere.
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.guards import is_requirement
from cudaudit.rules.python.walker import Concern

DETECTOR = "requirement"


class Requirements(Concern):
    def on_Assert(self, node: ast.Assert) -> None:
        if is_requirement(node, self.walk.names):
            self.walk.report(DETECTOR, "cuda", node)

    def on_If(self, node: ast.If) -> None:
        if is_requirement(node, self.walk.names):
            self.walk.report(DETECTOR, "cuda", node.test)


CONCERN = Requirements
