"""A custom operator's kernel runs only where the operator is called: a `forward` that returns the stock
path for tensors off CUDA before calling it never reaches it on a CPU."""

from __future__ import annotations

from cudaudit.model import Severity
from support import analyze

MODULE = '''import torch
import triton
import triton.language as tl
from torch import nn


@triton.jit
def _double_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) * 2, mask=offs < n)


@torch.library.custom_op("demo::double", mutates_args=(), device_types="cuda")
def _double(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    _double_kernel[(triton.cdiv(x.numel(), 256),)](x, out, x.numel(), BLOCK=256)
    return out


@_double.register_fake
def _double_fake(x):
    return torch.empty_like(x)


def _double_backward(ctx, grad):
    return _double(grad)


_double.register_autograd(_double_backward)


class Doubler(nn.Module):
    def forward(self, x):
{body}
'''
_KERNEL, _OPERATOR = 7, 13


def _severities(body: str) -> tuple[Severity, Severity]:
    found = {(f.span.line, f.rule): f.severity for f in analyze(MODULE.format(body=body))}
    return found[(_KERNEL, "CDA301")], found[(_OPERATOR, "CDA103")]


def test_an_operator_called_only_past_a_return_for_tensors_off_cuda_never_runs_on_a_cpu():
    body = "        if not x.is_cuda:\n            return x * 2\n        return _double(x)"
    assert _severities(body) == (Severity.NOTE, Severity.NOTE)


def test_an_operator_called_only_under_a_cuda_test_never_runs_on_a_cpu():
    body = "        if x.is_cuda and x.dtype == torch.float32:\n            return _double(x)\n        return x * 2"
    assert _severities(body) == (Severity.NOTE, Severity.NOTE)


def test_an_operator_called_for_every_tensor_keeps_its_verdicts():
    assert _severities("        return _double(x)") == (Severity.ERROR, Severity.WARNING)


def test_an_operator_registered_without_device_types_is_no_finding_and_its_kernel_runs_where_called():
    code = MODULE.format(body="        return _double(x)").replace(', device_types="cuda"', "")
    found = {(f.span.line, f.rule): f.severity for f in analyze(code)}
    assert found[(_KERNEL, "CDA301")] is Severity.ERROR
    assert (_OPERATOR, "CDA103") not in found
