"""`checkpoint-load` keys: `torch.load` without `map_location`.

Without it, tensors go back to the device they were saved from, so a checkpoint written on a
GPU fails to load on a CPU-only machine. A call that passes `**kwargs` may name one: not met.
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.walker import Concern

DETECTOR = "checkpoint-load"
LOADERS = frozenset({"torch.load"})


class CheckpointLoads(Concern):
    def on_call(self, call: ast.Call, callee: str | None) -> None:
        if callee in LOADERS and call.args and not any(k.arg in (None, "map_location") for k in call.keywords):
            self.walk.report(DETECTOR, callee, call.func)


CONCERN = CheckpointLoads
