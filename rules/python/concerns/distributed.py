"""`dist-backend` and `ddp-device-ids` keys: how a distributed job is set up.

`"nccl"` given as the backend of `init_process_group`/`new_group` (positionally or as
`backend=`) exists only on CUDA and ROCm builds. `DistributedDataParallel(model,
device_ids=[rank], output_device=rank)` names CUDA devices: one hit per wrapper call, at the
first device argument that is not None (its fix rewrites both). Backends named in settings (`backend = "nccl"`) are
the `settings` concern's.
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.device_syntax import BACKEND_KEYWORDS, BACKEND_POSITIONAL, is_nccl_string
from cudaudit.rules.python.guards import is_none
from cudaudit.rules.python.walker import Concern

BACKEND = "dist-backend"
DDP_DEVICE_IDS = "ddp-device-ids"
DDP_CLASSES = frozenset(
    {
        "torch.nn.parallel.DistributedDataParallel",
        "torch.nn.parallel.distributed.DistributedDataParallel",
    }
)


class DistributedSetup(Concern):
    def on_call(self, call: ast.Call, callee: str | None) -> None:
        walk = self.walk
        if not walk.in_comparison:
            for keyword in call.keywords:
                if keyword.arg in BACKEND_KEYWORDS:
                    walk.report_values(keyword.value, BACKEND, is_nccl_string)
        if callee in BACKEND_POSITIONAL and call.args:
            walk.report_values(call.args[0], BACKEND, is_nccl_string)
        elif callee in DDP_CLASSES:
            self._ddp(call)

    def _ddp(self, call: ast.Call) -> None:
        values = [k.value for k in call.keywords if k.arg in ("device_ids", "output_device")]
        values += call.args[1:2]
        for value in values:
            if not is_none(value):
                self.walk.report_values(value, DDP_DEVICE_IDS, lambda v: not is_none(v), call=call)
                return


CONCERN = DistributedSetup
