"""`sync-batchnorm` keys: `torch.nn.SyncBatchNorm` built, or batch norm layers converted to it.

SyncBatchNorm synchronises batch statistics only for tensors of the device types its forward
pass accepts; on others it raises once a process group exists, and DistributedDataParallel
refuses a CPU module that holds one. Only calls are met: naming the class in `isinstance` or a
tuple of norm types checks a type and runs anywhere. A call in the branch of a choice that
converts only on those device types (`... if DEVICE_TYPE in ("cuda", "hpu", "xpu") else model`,
what `cudaudit fix` writes) is already portable and not met; a choice on CUDA availability is a
guard the walk already knows. A conversion in a data-parallel wrapper that takes its process group
from what it is given (`convert_sync_batchnorm(module, gangs.dp.as_process_group())`) runs only where
a caller wraps with several processes: another path (`process_groups.takes_process_group`).
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.walker import Concern, PythonWalker

DETECTOR = "sync-batchnorm"
LAYER = "torch.nn.SyncBatchNorm"
CONVERT = "torch.nn.SyncBatchNorm.convert_sync_batchnorm"
SYNC_DEVICE_TYPES = ("cuda", "hpu", "xpu")
"""The device types whose tensors `SyncBatchNorm.forward` synchronises (torch 2.13,
torch/nn/modules/batchnorm.py; also the backend named by `torch._C._get_privateuse1_backend_name()`,
which code cannot name in advance). ROCm's devices are `cuda` devices."""


class SyncBatchNorms(Concern):
    def __init__(self, walk: PythonWalker) -> None:
        super().__init__(walk)
        self._chosen: set[int] = set()
        """Nodes in a branch taken only on device types that SyncBatchNorm supports."""

    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """A call of a key."""
        canonical = survey.catalog.canonical
        return survey.keyed(DETECTOR, (canonical(callee) for _, callee in survey.calls if callee is not None))

    def on_If(self, node: ast.If) -> None:
        if converts_only_where_supported(node.test):
            self._chosen.update(id(sub) for statement in node.body for sub in subtree(statement))

    def on_IfExp(self, node: ast.IfExp) -> None:
        if converts_only_where_supported(node.test):
            self._chosen.update(id(sub) for sub in subtree(node.body))

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        if callee is None or id(call) in self._chosen:
            return
        key = self.walk.catalog.canonical(callee)
        if key in (LAYER, CONVERT):
            self.walk.report(DETECTOR, key, call.func)


def converts_only_where_supported(test: ast.expr) -> bool:
    """`device_type in ("cuda", "xpu")`, `DEVICE_TYPE == "xpu"`: a test that holds only for device
    types SyncBatchNorm supports (`== "cuda"` is also a CUDA guard, which the walk handles)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    operator, compared = test.ops[0], test.comparators[0]
    if isinstance(operator, ast.In) and isinstance(compared, (ast.Tuple, ast.List, ast.Set)):
        values = compared.elts
    elif isinstance(operator, ast.Eq):
        values = [compared]
    else:
        return False
    return bool(values) and all(isinstance(v, ast.Constant) and v.value in SYNC_DEVICE_TYPES for v in values)


CONCERN = SyncBatchNorms
