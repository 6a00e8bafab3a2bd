"""A switch an object turns off in its set-up where its device is not CUDA guards what it tests later."""

from __future__ import annotations

import pytest

from cudaudit.model import Severity
from support import analyze

TRACER = '''import warnings
import torch


class Tracer:
    def __init__(self):
        self._on = True

    def {setup}(self, model):
        if next(model.parameters()).device.type {test}:
            warnings.warn("tracing needs a CUDA model")
            self._on = False

    def step(self, n):
        if {flag}:
            torch.cuda.synchronize()

    def {other}(self):
        {store}
'''


def _severity(setup="init", test='!= "cuda"', flag="self._on", other="done", store="self._on = False"):
    code = TRACER.format(setup=setup, test=test, flag=flag, other=other, store=store)
    found = [f.severity for f in analyze(code) if f.span.line == 16]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("setup", ["init", "setup", "__init__"])
def test_a_flag_turned_off_in_the_set_up_off_the_gpu_guards_later_methods(setup):
    assert _severity(setup=setup) is Severity.NOTE


@pytest.mark.parametrize("flag", ["self._on and n == 3", "n == 3 and self._on"])
def test_the_flag_guards_inside_a_conjunction(flag):
    assert _severity(flag=flag) is Severity.NOTE


def test_a_flag_turned_off_in_an_ordinary_method_guards_nothing():
    assert _severity(setup="step_end") is Severity.ERROR  # a step may run before it


def test_a_flag_turned_back_on_later_guards_nothing():
    assert _severity(store="self._on = True") is Severity.ERROR


def test_a_flag_stored_from_a_value_guards_nothing():
    assert _severity(store="self._on = n_devices > 0") is Severity.ERROR


def test_a_flag_turned_off_under_a_test_that_is_no_device_test_guards_nothing():
    code = TRACER.format(setup="init", test='!= "cuda"', flag="self._on", other="done", store="self._on = False")
    code = code.replace('next(model.parameters()).device.type != "cuda"', "model.training")
    assert [f.severity for f in analyze(code) if f.span.line == 16] == [Severity.ERROR]


def test_a_flag_kept_on_for_the_meta_device_too_guards_only_the_gpu_share():
    assert _severity(test='not in ("cuda", "meta")') is Severity.WARNING  # a meta model may run on the CPU later


def test_a_test_of_the_flag_in_the_set_up_itself_reads_it_after_the_store_only():
    code = '''import torch


class Tracer:
    def __init__(self):
        self._on = True

    def init(self, device):
        if not self._on:
            return
        torch.cuda.reset_peak_memory_stats()
        if device.type != "cuda":
            self._on = False
        if self._on:
            torch.cuda.synchronize()
'''
    found = {f.span.line: f.severity for f in analyze(code)}
    assert found[11] is Severity.ERROR  # before the store: the flag still holds its first value
    assert found[15] is Severity.NOTE


def test_an_early_return_on_the_flag_guards_the_rest_of_the_method():
    code = TRACER.format(setup="init", test='!= "cuda"', flag="self._on", other="done", store="self._on = False")
    code = code.replace("        if self._on:\n            torch.cuda.synchronize()", "        if not self._on:\n            return\n        torch.cuda.synchronize()")
    assert [f.severity for f in analyze(code) if f.span.line == 17] == [Severity.NOTE]



def test_a_flag_the_class_keeps_guards_inside_a_conjunction_too():
    code = (
        "import torch\n\n\nclass Runner:\n    def prepare(self, x):\n        self.graphs = x.is_cuda\n\n"
        "    def run(self, n):\n        if self.graphs and n == 1:\n            torch.cuda.synchronize()\n"
        "        if n == 1 and self.ready:\n            torch.cuda.synchronize()\n"
    )
    found = {f.span.line: f.severity for f in analyze(code)}
    assert found[10] is Severity.NOTE
    assert found[12] is Severity.ERROR  # no operand is a flag: the conjunction says nothing of the device
