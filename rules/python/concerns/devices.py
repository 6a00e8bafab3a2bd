"""`device-string` and `device-ordinal` keys: a device written where PyTorch takes one.

A device position is a `device=`-like keyword (`device_syntax.DEVICE_KEYWORDS`), the first
argument of `torch.device(...)`-like callables (`DEVICE_POSITIONAL`) and of `.to(...)`. There a
`"cuda"` string (also `"cuda:0"`, `f"cuda:{i}"`) is a device string, and an integer
(`x.to(0)`) or a name for one (`model.to(local_rank)`) an ordinal that means a CUDA device.
A device inside a comparison (`t.device == torch.device("cuda")`) is a check, not a use.
Settings named for devices (`device = "cuda"`) are the `settings` concern's.
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.device_syntax import (
    DEVICE_KEYWORDS,
    DEVICE_POSITIONAL,
    device_ordinal_kind,
    is_cuda_device_string,
)
from cudaudit.rules.python.walker import Concern, PythonWalker

DEVICE_STRING = "device-string"
DEVICE_ORDINAL = "device-ordinal"
AMP_CALLS = frozenset({"torch.autocast", "torch.amp.autocast", "torch.amp.GradScaler"})
AMP_DEVICE_KEY = "amp"
"""The device-string key for a device that only chooses where mixed precision applies: there a
CPU-only build warns and turns the feature off instead of raising."""


class DevicePositions(Concern):
    def on_call(self, call: ast.Call, callee: str | None) -> None:
        walk = self.walk
        if walk.in_comparison:
            return
        for keyword in call.keywords:
            if keyword.arg in DEVICE_KEYWORDS:
                amp = keyword.arg == "device_type" or callee in AMP_CALLS
                report_device(walk, keyword.value, AMP_DEVICE_KEY if amp else "")
        if not call.args:
            return
        if callee in DEVICE_POSITIONAL:
            report_device(walk, call.args[0], AMP_DEVICE_KEY if callee in AMP_CALLS else "")
        elif isinstance(call.func, ast.Attribute) and call.func.attr == "to":
            report_device(walk, call.args[0])


def report_device(walk: PythonWalker, value: ast.expr, key: str = "") -> None:
    """A value in a device position: a `"cuda"` string or an integer ordinal."""
    walk.report_values(value, DEVICE_STRING, is_cuda_device_string, key=key)
    kind = device_ordinal_kind(value)
    if kind:
        walk.report(DEVICE_ORDINAL, kind, value)


CONCERN = DevicePositions
