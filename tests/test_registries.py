"""Definitions a project selects by a registered name that is not its default choice (`registries.py`)."""

from __future__ import annotations

from functools import partial

from cudaudit.model import Severity
from cudaudit.rules.python.registries import read_registrations, registered_definitions
from support import analyze

REGISTRY = "_BACKENDS = {}\n\ndef register_backend(*names):\n    def add(cls):\n        for name in names:\n            _BACKENDS[name] = cls\n        return cls\n    return add\n"
LOCAL = """
import torch
from runner.registry import register_backend

@register_backend("local", "default-local")
class LocalBackend:
    def start(self):
        torch.cuda.synchronize()
"""
REMOTE = """
import torch
from runner.registry import register_backend

def _warm_up(size):
    return torch.zeros(size, device="cuda")

@register_backend("remote")
class RemoteBackend:
    def start(self):
        torch.cuda.synchronize()
        return _warm_up(8)
"""
CONFIG = "from dataclasses import dataclass\n\n@dataclass\nclass RunConfig:\n    backend: str = \"local\"\n"


def project(**extra: str) -> dict[str, str]:
    return {
        "runner/__init__.py": "",
        "runner/registry.py": REGISTRY,
        "runner/config.py": CONFIG,
        "runner/backends/__init__.py": "",
        "runner/backends/local.py": LOCAL,
        "runner/backends/remote.py": REMOTE,
        **extra,
    }


def chosen(files: dict[str, str]) -> dict[str, list[str]]:
    sources = {path: partial(str.encode, text) for path, text in files.items()}
    readings = {path: found for path, text in files.items() if (found := read_registrations(text.encode()))[0]}
    return {path: [name for name, _ in names] for path, names in registered_definitions(sources, readings)[0].items()}


def test_an_entry_that_is_not_the_default_is_chosen_by_name_with_the_helpers_only_it_uses():
    assert chosen(project()) == {"runner/backends/remote.py": ["RemoteBackend", "_warm_up"]}


def test_the_registration_and_the_default_are_the_evidence():
    sources = {path: partial(str.encode, text) for path, text in project().items()}
    readings = {path: read_registrations(text.encode()) for path, text in project().items() if "@register" in text}
    [(_, evidence), _] = registered_definitions(sources, readings)[0]["runner/backends/remote.py"]
    assert (evidence.line, evidence.text) == (8, '@register_backend("remote"): chosen by name, the default is `local`')


def test_the_module_of_the_default_entry_is_named():
    sources = {path: partial(str.encode, text) for path, text in project().items()}
    readings = {path: read_registrations(text.encode()) for path, text in project().items() if "@register" in text}
    assert registered_definitions(sources, readings)[1] == {"runner/backends/local.py"}


def test_a_registry_with_no_default_among_its_names_keeps_every_entry():
    assert chosen(project(**{"runner/config.py": CONFIG.replace('"local"', "None")})) == {}


def test_a_registry_of_one_entry_keeps_it():
    files = project()
    del files["runner/backends/local.py"]
    assert chosen(files) == {}


def test_a_direct_use_elsewhere_keeps_the_entry_but_a_lazy_listing_does_not():
    used = "from runner.backends.remote import RemoteBackend\n\nbackend = RemoteBackend()\n"
    assert chosen(project(**{"runner/serve.py": used})) == {}
    listed = 'LAZY = {\n    "remote": "runner.backends.remote:RemoteBackend",\n}\n'
    assert chosen(project(**{"runner/lazy.py": listed})) == {"runner/backends/remote.py": ["RemoteBackend", "_warm_up"]}


def test_a_default_named_only_in_the_tests_is_no_default():
    files = project(**{"runner/config.py": CONFIG.replace('"local"', "None"), "tests/test_run.py": 'backend = "local"\n'})
    assert chosen(files) == {}


def test_operator_and_device_registrations_are_no_choice_of_the_user():
    assert read_registrations(b'@register_kernel("mylib::scale", "cuda")\ndef scale_cuda(x):\n    return x\n') == ((), ())
    assert read_registrations(b'@register_impl("cuda")\ndef impl(x):\n    return x\n') == ((), ())
    assert read_registrations(b'@deprecated("use other")\ndef old(x):\n    return x\n') == ((), ())


def test_the_chosen_entry_is_another_path_and_the_default_keeps_its_error():
    files = project()
    code = files.pop("runner/backends/remote.py")
    found = {f.span.line: f.severity for f in analyze(code, path="runner/backends/remote.py", files=files)}
    assert found == {6: Severity.WARNING, 11: Severity.WARNING}
    files = project()
    code = files.pop("runner/backends/local.py")
    found = {f.span.line: f.severity for f in analyze(code, path="runner/backends/local.py", files=files)}
    assert found == {8: Severity.ERROR}
