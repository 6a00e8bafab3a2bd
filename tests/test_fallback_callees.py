"""The callees of the project that replace a device with the CPU without CUDA, and who imports them."""

from __future__ import annotations

from functools import partial

from cudaudit.rules.python.fallback_callees import device_fallbacks, handed_to_fallbacks
from cudaudit.rules.python.project_calls import from_imports

LIBRARY = b'''
import torch

def load(path, device="cuda"):
    if not torch.cuda.is_available():
        device = "cpu"
    return torch.load(path, map_location=device)

def place(x, target="cuda"):
    target = target if torch.cuda.is_available() else torch.device("cpu")
    return x.to(target)

def keep(x, device="cuda"):
    return x.to(device)  # no availability test: the device is used as given

def elsewhere(x, device="cuda"):
    other = "cpu"  # a CPU string that replaces no parameter
    return x.to(device), torch.cuda.is_available(), other

def pick(x, device=None):
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"  # stands in for a missing device only
    return x.to(device)

def fetch(name, device=None):
    if device is None and not torch.cuda.is_available():
        device = "cpu"
    return name, device

def launch(rank, world):
    device = torch.device("cuda", rank) if torch.cuda.is_available() else "cpu"  # rank is no device
    return device, world

class Pipeline:
    def __init__(self, **kwargs):
        self.parts = self.build(**kwargs)

    def build(self, **kwargs):
        device = kwargs.get("device", "cuda:0")
        if device.startswith("cuda") and not torch.cuda.is_available():
            device = "cpu"
        return device

class Plain:
    def __init__(self, device="cuda"):
        self.device = device
'''


def test_parameters_replaced_with_the_cpu_under_an_availability_test():
    assert device_fallbacks("pkg/lib.py", LIBRARY) == (
        ("load", ("device",)),
        ("place", ("target",)),
        ("Pipeline", ("device",)),
    )


def test_a_module_without_a_test_or_that_does_not_parse_has_none():
    assert device_fallbacks("a.py", b"def f(device='cuda'):\n    return 'cpu'\n") == ()
    assert device_fallbacks("b.py", b"def f(:\n    torch.cuda.is_available() or 'cpu'\n") == ()


def test_importers_get_the_names_they_import_from_the_module_or_a_package_above():
    files = {
        "pkg/__init__.py": b"from pkg.lib import Pipeline, load\n",
        "pkg/lib.py": LIBRARY,
        "demo.py": b"from pkg import Pipeline\np = Pipeline(device='cuda')\n",
        "tests/test_load.py": b"from pkg.lib import (\n    load,\n)\n",
        "other.py": b"from elsewhere import load\n",
    }
    imports = {path: from_imports(text) for path, text in files.items()}
    found = handed_to_fallbacks(
        {path: partial(bytes, text) for path, text in files.items()},
        {"pkg/lib.py": device_fallbacks("pkg/lib.py", LIBRARY)},
        imports,
    )
    assert found["demo.py"] == (("Pipeline", ("device",)),)
    assert found["tests/test_load.py"] == (("load", ("device",)),)
    assert "other.py" not in found
    assert dict(found["pkg/lib.py"])["place"] == ("target",)
