"""Definitions a project selects by a registered name that is not its default choice (`registries.py`)."""

from __future__ import annotations

from functools import partial

from cudaudit.model import Severity
from cudaudit.rules.python.registries import read_registrations, read_tables, registered_definitions
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
    return {path: [name for name, _ in names] for path, names in registered_definitions(sources, readings).chosen.items()}


def test_an_entry_that_is_not_the_default_is_chosen_by_name_with_the_helpers_only_it_uses():
    assert chosen(project()) == {"runner/backends/remote.py": ["RemoteBackend", "_warm_up"]}


def test_the_registration_and_the_default_are_the_evidence():
    sources = {path: partial(str.encode, text) for path, text in project().items()}
    readings = {path: read_registrations(text.encode()) for path, text in project().items() if "@register" in text}
    [(_, evidence), _] = registered_definitions(sources, readings).chosen["runner/backends/remote.py"]
    assert (evidence.line, evidence.text) == (8, '@register_backend("remote"): chosen by name, the default is `local`')


def test_the_module_of_the_default_entry_is_named():
    sources = {path: partial(str.encode, text) for path, text in project().items()}
    readings = {path: read_registrations(text.encode()) for path, text in project().items() if "@register" in text}
    assert registered_definitions(sources, readings).default_modules == {"runner/backends/local.py"}


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


ATTENTION = """
from kernels.ring import ring_forward
from kernels.plain import plain_forward


def load_striped():
    from kernels.striped import striped_forward
    return striped_forward


IMPLS = {
    "plain": plain_forward,
    "ring": ring_forward,
    "striped": lambda *args: load_striped()(*args),
}
"""
RING = """
import torch


def _merge(out):
    return out.to(torch.device("cuda"))


def ring_forward(x):
    return _merge(x)
"""
PLAIN = "import torch\n\n\ndef plain_forward(x):\n    return x.to(torch.device('cuda'))\n"
STRIPED = "import torch\nimport striped_kernels_cuda\n\n\ndef striped_forward(x):\n    return torch.cuda.synchronize()\n"
MODEL = """
from kernels.attention import IMPLS


class Block:
    def __init__(self, config):
        self.attend = IMPLS[config.attn_impl]
        assert config.attn_impl in IMPLS, f"one of {IMPLS.keys()}"
"""
SETTINGS = 'from dataclasses import dataclass\n\nDEFAULT_IMPL = "plain"\n\n@dataclass\nclass ModelConfig:\n    attn_impl: str = DEFAULT_IMPL\n'


def table_project(**extra: str) -> dict[str, str]:
    return {
        "kernels/__init__.py": "", "kernels/attention.py": ATTENTION, "kernels/ring.py": RING,
        "kernels/plain.py": PLAIN, "kernels/striped.py": STRIPED, "model.py": MODEL, "config.py": SETTINGS, **extra,
    }


def tabled(files: dict[str, str]) -> dict[str, list[str]]:
    sources = {path: partial(str.encode, text) for path, text in files.items()}
    tables = {path: found for path, text in files.items() if (found := read_tables(text.encode()))}
    return {path: [name for name, _ in names] for path, names in registered_definitions(sources, {}, tables).chosen.items()}


def test_the_entries_of_a_table_a_setting_looks_up_other_than_its_default_are_chosen_by_name():
    assert tabled(table_project()) == {
        "kernels/attention.py": ["load_striped"],
        "kernels/ring.py": ["_merge", "ring_forward"],
        "kernels/striped.py": [""],  # imported only inside the chosen entry's loader
    }


def test_a_table_iterated_over_or_looked_up_by_no_setting_keeps_its_entries():
    every = table_project(**{"warm.py": "from kernels.attention import IMPLS\n\nfor run in IMPLS.values():\n    run(1)\n"})
    assert tabled(every) == {}
    by_type = table_project(**{"model.py": MODEL.replace("IMPLS[config.attn_impl]", "IMPLS[type(config).__name__]")})
    assert tabled(by_type) == {}


def test_no_default_among_the_keys_or_a_direct_use_keeps_the_entry():
    assert tabled(table_project(**{"config.py": SETTINGS.replace('"plain"', '"fused"')})) == {}
    prose = SETTINGS.replace('"plain"', '"fused"') + '\n\ndef pick():\n    """Set `attn_impl="plain"` for the simple one."""\n'
    assert tabled(table_project(**{"config.py": prose})) == {}  # a docstring gives no value
    direct = "from kernels.ring import ring_forward\n\n\ndef warm(x):\n    return ring_forward(x)\n"
    assert "kernels/ring.py" not in tabled(table_project(**{"warm.py": direct}))
    device_keys = ATTENTION.replace('"plain"', '"cpu"').replace('"ring"', '"cuda"')
    assert read_tables(device_keys.encode()) == ()


def test_a_chosen_entry_is_another_path_and_the_default_keeps_its_error():
    files = table_project()
    ring = files.pop("kernels/ring.py")
    [merge] = [f for f in analyze(ring, path="kernels/ring.py", files=files) if f.rule == "CDA103"]
    assert merge.severity is Severity.WARNING
    files["kernels/ring.py"] = ring
    plain = files.pop("kernels/plain.py")
    [default] = [f for f in analyze(plain, path="kernels/plain.py", files=files) if f.rule == "CDA103"]
    assert default.severity is Severity.ERROR


def test_a_chosen_entry_s_kernel_decorator_is_another_path_too():
    ring = """
import torch
import triton


@triton.jit
def _merge_kernel(out_ptr):
    pass


def ring_forward(x):
    _merge_kernel[(1,)](x)
    return x
"""
    files = table_project()
    del files["kernels/ring.py"]
    [kernel] = [f for f in analyze(ring, path="kernels/ring.py", files=files) if f.rule == "CDA301"]
    assert kernel.severity is Severity.WARNING
    [kernel] = [f for f in analyze(ring, path="kernels/ring.py", files=files | {"kernels/attention.py": ""}) if f.rule == "CDA301"]
    assert kernel.severity is Severity.ERROR


DATASETS = """
SETS = {}


def register(name):
    def add(cls):
        SETS[name] = cls
        return cls
    return add


def make(name, config):
    return SETS[name](config)


from . import studio, turntable
"""
STUDIO = """
import torch
from recon import datasets


@datasets.register("studio")
class StudioSet:
    def __init__(self, config):
        self.poses = torch.zeros(4, 4).cuda()
"""
TURNTABLE = """
import torch
from recon import datasets


class TurntableBase:
    def setup(self):
        self.poses = torch.zeros(4, 4).cuda()


@datasets.register("turntable")
class TurntableSet(TurntableBase):
    def __init__(self, config):
        self.setup()
"""
LAUNCH = """
import sys

import yaml

from recon import datasets

config = yaml.safe_load(open(sys.argv[1]))
data = datasets.make(config["dataset"]["name"], config["dataset"])
"""


def configured_project(readme: str = "    python recon/launch.py configs/studio.yaml\n", **extra: str) -> dict[str, str]:
    return {
        "recon/__init__.py": "", "recon/datasets/__init__.py": DATASETS, "recon/datasets/studio.py": STUDIO,
        "recon/datasets/turntable.py": TURNTABLE, "recon/launch.py": LAUNCH,
        "configs/studio.yaml": "dataset:\n  name: studio\n  scale: 2\n", "README.md": readme, **extra,
    }


def severities(files: dict[str, str], path: str) -> dict[int, Severity]:
    code = files.pop(path)
    return {f.span.line: f.severity for f in analyze(code, path=path, files=files) if f.rule == "CDA102"}


def test_an_entry_no_shipped_configuration_selects_runs_nowhere_and_the_selected_one_keeps_its_error():
    # its base class, which only it extends, runs nowhere too: quiet on every target
    assert severities(configured_project(), "recon/datasets/turntable.py") == {8: Severity.NOTE}
    assert severities(configured_project(), "recon/datasets/studio.py") == {9: Severity.ERROR}


def test_an_entry_a_documented_override_or_a_literal_names_keeps_its_error():
    override = "    python recon/launch.py configs/studio.yaml dataset.name=turntable\n"
    assert severities(configured_project(override), "recon/datasets/turntable.py") == {8: Severity.ERROR}
    literal = {"recon/preview.py": 'from recon import datasets\n\nsample = datasets.make("turntable", {})\n'}
    assert severities(configured_project(**literal), "recon/datasets/turntable.py") == {8: Severity.ERROR}


def test_an_installable_package_leaves_the_entry_to_its_users_configurations_another_path():
    declared = configured_project(**{"pyproject.toml": '[project]\nname = "recon"\nversion = "0.1"\n'})
    assert severities(declared, "recon/datasets/turntable.py") == {8: Severity.WARNING}


def test_a_registry_no_configuration_selects_from_keeps_every_entry():
    unnamed = configured_project(**{"configs/studio.yaml": "dataset:\n  scale: 2\n"})
    assert severities(unnamed, "recon/datasets/turntable.py") == {8: Severity.ERROR}


def test_a_registry_only_the_code_selects_from_keeps_every_entry():
    unnamed = configured_project(**{
        "configs/studio.yaml": "dataset:\n  scale: 2\n",
        "recon/preview.py": 'from recon import datasets\n\nsample = datasets.make("studio", {})\n',
    })
    assert severities(unnamed, "recon/datasets/turntable.py") == {8: Severity.ERROR}
