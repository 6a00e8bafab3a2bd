"""A module-level name bound to a CUDA device that nothing reads places no tensor there."""

from __future__ import annotations

from cudaudit.model import Severity
from cudaudit.rules.python.unread_devices import unread_devices
from support import analyze

DEMO = '''import torch

if torch.cuda.is_available():
    device0 = torch.device("cuda:0")
else:
    device0 = torch.device("cpu")
device = torch.device("cuda")
generator = torch.Generator(device=device0)
'''


def cpu_severities(code: str, path: str = "app.py", files: dict[str, str] | None = None) -> list[Severity]:
    found = [f for f in analyze(code, path=path, files={"README.md": "# Demo\n", **(files or {})}) if f.rule == "CDA103"]
    return [f.targets["cpu"].severity for f in found if f.span.line == 7]


def test_the_names_read_are_those_spelled_other_than_where_they_are_given_a_value():
    assert unread_devices(DEMO.encode()) == ("device",)
    assert unread_devices(b'device = "cuda"\nmodel.to(device)\n') == ()
    assert unread_devices(b'DEVICE = torch.device("cuda:0")  # the GPU\nif DEVICE == other:\n    pass\n') == ()
    assert unread_devices(b'def f():\n    device = "cuda"\n') == ()  # a function's local is not the module's


def test_a_script_nothing_imports_that_never_reads_its_device_name_breaks_nothing():
    assert cpu_severities(DEMO) == [Severity.NOTE]
    assert cpu_severities(DEMO + "model.to(device)\n") == [Severity.ERROR]


def test_a_module_another_imports_or_a_package_holds_may_have_its_name_read_there():
    assert cpu_severities(DEMO, files={"serve.py": "from app import generator\n"}) == [Severity.ERROR]
    assert cpu_severities(DEMO, path="demo/app.py", files={"demo/__init__.py": ""}) == [Severity.ERROR]
