"""The project index's reading of calls made elsewhere of functions and classes with a CUDA default."""

from __future__ import annotations

from functools import partial

from cudaudit.rules.python.project_calls import (
    HANDED_ON,
    calls_elsewhere,
    cuda_defaults,
    from_imports,
    method_calls,
    named_nowhere,
)

LIBRARY = b'''import torch

def load(path, device: str = "cuda:0"):
    return torch.load(path, map_location=device)

def pad(x, size=8):
    return torch.zeros(size, device="cuda")  # a call's keyword in a body, not a default

class Cache:
    def get(self, key, device="cuda"):  # a method: other modules call it through an object
        return key

class Sampler:
    def __init__(self, steps,
                 device=torch.device("cuda")):
        self.steps = steps

class FastSampler(Sampler):  # built with Sampler's __init__, or forwarding to it
    pass
'''


def test_defaults_are_read_from_definition_headers_only():
    assert cuda_defaults("pkg/lib.py", LIBRARY) == (".get", "FastSampler", "Sampler", "load")  # a method after a dot
    assert cuda_defaults("pkg/other.py", b"def f(x=(1, 2)):\n    return g(x, device='cuda')\n") == ()
    assert cuda_defaults("pkg/none.py", b"def f(x):\n    return x\n") == ()


def sources(files: dict[str, bytes]) -> dict[str, partial[bytes]]:
    return {path: partial(bytes, text) for path, text in files.items()}


def test_calls_are_counted_where_the_name_is_imported_from_its_module_or_a_package_above():
    files = {
        "pkg/__init__.py": b"from .lib import load, Sampler\n",
        "pkg/lib.py": LIBRARY,
        "run.py": b"from pkg import load\nfrom pkg.lib import (\n    Sampler,\n)\nm = load('a.pt')\ns = Sampler(\n  10, **opts)\n",
        "other.py": b"def load(p):\n    return p\nx = load('b')\nconfig.load('c')\n",
        "tests/test_lib.py": b"from pkg.lib import load\nload('t.pt', 'cpu')\n",
        "demo.py": b"from pkg.lib import *\nweights = load('c.pt', device='cpu')\n",
    }
    imports = {path: from_imports(text) for path, text in files.items()}
    found = calls_elsewhere(sources(files), {"pkg/lib.py": cuda_defaults("pkg/lib.py", LIBRARY)}, imports)
    assert found == {"pkg/lib.py": (("Sampler", ((1, ("**",), False),)), ("load", ((1, (), False), (1, ("device",), False))))}


def test_a_table_of_choices_that_is_only_called_builds_its_classes_with_the_calls_arguments():
    def found(factory: bytes) -> dict[str, tuple[tuple[str, tuple[tuple[int, tuple[str, ...], bool], ...]], ...]]:
        files = {"pkg/lib.py": LIBRARY, "pkg/build.py": factory}
        imports = {path: from_imports(text) for path, text in files.items()}
        return calls_elsewhere(sources(files), {"pkg/lib.py": cuda_defaults("pkg/lib.py", LIBRARY)}, imports)

    header = b"from pkg.lib import FastSampler, Sampler\n\n\n"
    called = b'def build(kind, device, **config):\n    return {"a": Sampler, "b": FastSampler}[kind](device=device, **config)\n'
    bound = (
        b"def build(kind, device, config):\n"
        b'    cls = {"a": Sampler, "b": FastSampler}[kind]\n'
        b"    assert isinstance(cls, type)\n"  # a read that is no call: the choice is handed on
        b"    return cls(device=device, **config)\n"
    )
    typed = b"def run(sampler: Sampler, n):\n    if isinstance(sampler, FastSampler):\n        return n\n"
    shape = (0, ("**", "device"), False)
    assert found(header + called) == {"pkg/lib.py": (("FastSampler", (shape,)), ("Sampler", (shape,)))}
    assert found(header + bound)["pkg/lib.py"][1] == ("Sampler", ((-1, (), False),))
    assert found(header + bound.replace(b"    assert isinstance(cls, type)\n", b"")) == found(header + called)
    assert found(header + typed) == {}


def test_a_stand_in_after_a_nested_function_is_the_outer_functions():
    nested = (
        b"import torch\n\ndef render(x, background=None):\n    def prepare(v):\n        return v\n"
        b"    if background is not None:\n        background = prepare(background)\n    else:\n"
        b"        background = torch.zeros(4, device='cuda')\n    return x + background\n"
    )
    assert cuda_defaults("lib.py", nested) == ("render",)
    after = b"def other():\n    pass\n\nx = 1\n\ndef helper():\n    def inner():\n        pass\n    if y is None:\n        y = torch.zeros(1, device='cuda')\n"
    assert cuda_defaults("lib.py", after) == ("helper",)
    assert cuda_defaults("lib.py", after.replace(b"def helper():", b"class Helper:")) == ()


def test_method_calls_are_every_call_of_the_name_through_an_object():
    files = {
        "pkg/lib.py": LIBRARY,
        "run.py": b"cache.get('a', device=dev)\nvalue = store.cache.get(\n    'b', 'cpu')\nget('c')\n",
        "tests/test_lib.py": b"cache.get('t')\n",  # the test suite's calls are its own path
        "hooks.py": b"register(self.cache.get)\n",
        "docs.py": b'"""Called by ``self.cache.get``."""\n',  # a docstring's markup: no use
    }
    found = method_calls(sources(files), {"pkg/lib.py": cuda_defaults("pkg/lib.py", LIBRARY)})
    assert found == {"pkg/lib.py": (("get", (HANDED_ON, (1, ("device",), False), (2, (), False))),)}
    assert method_calls(sources({"pkg/lib.py": LIBRARY}), {"pkg/lib.py": (".get",)}) == {"pkg/lib.py": (("get", ()),)}


def test_a_name_no_other_file_spells_is_named_nowhere_and_a_configuration_or_a_string_names_it():
    defined = {"kit/encoders.py": ("Encoder", "Tokenizer", "embed", ".grid")}
    files = {
        "kit/encoders.py": b"class Encoder: ...\nclass Tokenizer: ...\ndef embed(x, device='cuda'): ...\n",
        "app.py": b"import kit.encoders as enc\nmodel = getattr(enc, 'Tokenizer')()\n",
        "configs/base.yaml": b"cond:\n  target: kit.encoders.Encoder\n",
        "README.md": b"Embeddings: see `embedding.md`.\n",  # a longer word names nothing
    }
    assert named_nowhere(defined, {path: partial(bytes, data) for path, data in files.items()}) == {
        "kit/encoders.py": frozenset({"embed"}),  # its own module's mentions count not; methods are not read
    }
    assert named_nowhere({"kit/encoders.py": (".grid",)}, {}) == {}
