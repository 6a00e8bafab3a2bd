"""An import of a library that fails only at its first call, read only by functions that never run,
is quiet (`idle_imports.py`)."""

from __future__ import annotations

from cudaudit.model import Severity
from support import analyze

SCRIPT = """import pynvml as nv


def gpu_memory():
    nv.nvmlInit()
    return nv.nvmlDeviceGetMemoryInfo(nv.nvmlDeviceGetHandleByIndex(0)).used


def main():
    print("step")
    {call}


if __name__ == "__main__":
    main()
"""


def errors(code: str) -> set[int]:
    return {finding.span.line for finding in analyze(code, path="train.py") if finding.severity is Severity.ERROR}


def test_an_import_only_a_function_nothing_calls_reads_is_quiet_and_a_called_one_keeps_it():
    assert errors(SCRIPT.format(call="# print(gpu_memory())")) == set()
    assert 1 in errors(SCRIPT.format(call="print(gpu_memory())"))


def test_a_read_outside_the_dead_functions_or_a_library_that_fails_at_import_keeps_the_import():
    top = SCRIPT.format(call="# print(gpu_memory())") + "\nnv.nvmlInit()\n"
    assert 1 in errors(top)
    cupy = SCRIPT.format(call="# print(gpu_memory())").replace("import pynvml as nv", "import cupy as nv")
    assert 1 in errors(cupy)
