"""Tests that fake a CUDA device probe: the project's CPU tests of what its code decides for a GPU.

A unit test that replaces a probe of PyTorch or of the project with a stand-in
(`mock.patch("torch.cuda.is_available", return_value=True)`, `monkeypatch.setattr(accelerators,
"num_cuda_devices", lambda: 2)`, `@mock.patch("pkg.devices.CudaBackend.is_available")`) pretends to
be another machine than the one it runs on: it is written for the project's CPU test suite, where the
real answer is "no GPU", and checks what the code under test decides for a machine with two GPUs (or
without any). The GPU words in it (`Trainer(accelerator="gpu", devices=2)`, `torch.device("cuda", 1)`
handed to a mock, `assert plugin.device == "cuda"`) are the pretended machine's data, and a run on a
CPU host is the one the test was written for: its sites work on every target.

A probe is a function or attribute that answers whether, how many or which CUDA devices there are:
its name says availability, a count or a device's identity (`is_available`, `device_count`,
`num_cuda_devices`, `get_device_name`, `get_device_capability`, `current_device`), and the dotted
target (`torch.cuda.is_available`, `pkg.accelerators.cuda.num_devices`, `CUDABackend.is_available`)
names CUDA or a GPU. Replacing another CUDA call (`torch.cuda.synchronize`, to count its calls) says
nothing about where the test runs: a test on a GPU does that too.

A test fakes a probe through its decorators (`@mock.patch(...)`, `@mock.patch.object(...)`, on the
test or its class), its body (`with mock.patch(...)`, `monkeypatch.setattr(...)`, `mocker.patch(...)`,
or a call of a function of the module that does so, or of one named for it, `mock_cuda_count`, handed
the `monkeypatch` fixture), or a fixture it requests that does (`reach.py` serves those, a conftest's through the project index).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping

from cudaudit.model import Severity
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.regions import Region

FAKED_DEVICE = Region(cap=Severity.NOTE)
"""A test that fakes a device probe: written for a CPU host, its sites work on every target."""

_PATCHES = frozenset({"unittest.mock.patch", "mock.patch"})
"""`mock.patch("pkg.mod.name", ...)`: the target is a dotted string."""
_PATCH_OBJECTS = frozenset({"unittest.mock.patch.object", "mock.patch.object"})
"""`mock.patch.object(owner, "name", ...)`: the owner, then the attribute's name."""
_FIXTURES = frozenset({"monkeypatch", "mocker"})
"""pytest's `monkeypatch` fixture and pytest-mock's `mocker`, by the names tests request them by."""
_PROBE_NAME = re.compile(
    r"available|count|^_?num_|^_?n_gpus?$|get_device_(?:name|capability|properties)|current_device", re.IGNORECASE
)
_DEVICE_WORD = re.compile(r"cuda|gpu", re.IGNORECASE)
_FAKING_NAME = re.compile(r"(?:mock|fake|patch|pretend|simulate)\w*(?:cuda|gpu)", re.IGNORECASE)
"""A helper named for faking CUDA devices (`mock_cuda_count`, `fake_gpus`)."""
_OTHER_DEVICE = re.compile(r"(?:^|[._])(?:mps|xla|xpu|npu|hpu|tpu|mlu)(?=[._]|$)|(?:MPS|XLA|XPU|NPU|HPU|TPU|MLU)(?=[A-Z._]|$)")
"""Another accelerator's probe (`MPSAccelerator.is_available`, `_get_all_available_mps_gpus`): faking it says nothing of CUDA."""


def fakes_probe(node: ast.AST, names: ImportTable) -> bool:
    """Whether any call in `node` replaces a CUDA device probe with a stand-in."""
    return any(isinstance(call, ast.Call) and _replaced_probe(call, names) for call in subtree(node))


def may_fake(calls: Iterable[ast.Call], names: ImportTable) -> bool:
    """Whether a module whose calls are `calls` fakes a device probe anywhere, or hands a patching
    fixture to a function named for it: only then are its tests read one by one."""
    return any(_replaced_probe(call, names) or _fakes_through(call, {}, names) for call in calls)


def faked_region(function: ast.FunctionDef | ast.AsyncFunctionDef, names: ImportTable, helpers: Mapping[str, ast.AST]) -> Region:
    """`FAKED_DEVICE` for a test whose decorators or body fake a device probe, or that hands its
    `monkeypatch` to a function of `helpers` (the module's functions, by name) that does; neutral otherwise."""
    if any(fakes_probe(decorator, names) for decorator in function.decorator_list):
        return FAKED_DEVICE
    for node in subtree(function):
        if isinstance(node, ast.Call) and (_replaced_probe(node, names) or _fakes_through(node, helpers, names)):
            return FAKED_DEVICE
    return Region()


def _fakes_through(call: ast.Call, helpers: Mapping[str, ast.AST], names: ImportTable) -> bool:
    """`fake_gpus(monkeypatch, 2)`: a function handed a patching fixture, which fakes a probe with it:
    one of the module whose body does, or one imported from elsewhere whose name says it fakes CUDA
    (`mock_cuda_count(monkeypatch, 2)` from the suite's conftest, whose body this reading does not see)."""
    if not any(isinstance(argument, ast.Name) and argument.id in _FIXTURES for argument in call.args):
        return False
    func = call.func
    helper = helpers.get(func.id) if isinstance(func, ast.Name) else None
    if helper is not None:
        return fakes_probe(helper, names)
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return bool(_FAKING_NAME.search(name)) and not _OTHER_DEVICE.search(name)


def _replaced_probe(call: ast.Call, names: ImportTable) -> bool:
    target = _target(call, names)
    if target is None:
        return False
    attribute = target.rpartition(".")[2]
    return bool(_PROBE_NAME.search(attribute)) and bool(_DEVICE_WORD.search(target)) and not _OTHER_DEVICE.search(target)


def _target(call: ast.Call, names: ImportTable) -> str | None:
    """The dotted name a patching call replaces: `mock.patch("a.b.c")`, `mock.patch.object(a.b, "c")`,
    `monkeypatch.setattr(a.b, "c", ...)` or `monkeypatch.setattr("a.b.c", ...)`, `mocker.patch(...)`."""
    func = call.func
    qualified = names.resolve(func)
    method = func.attr if isinstance(func, ast.Attribute) and _fixture_receiver(func.value) else None
    if qualified in _PATCHES or method == "patch":
        return _string(call.args[0]) if call.args else None
    if qualified in _PATCH_OBJECTS or method in ("setattr", "object"):
        if len(call.args) >= 2 and not (method == "setattr" and _string(call.args[0]) is not None):
            attribute = _string(call.args[1])
            return f"{_dotted(call.args[0], names)}.{attribute}" if attribute is not None else None
        return _string(call.args[0]) if call.args else None
    return None


def _fixture_receiver(node: ast.expr) -> bool:
    """`monkeypatch`, `mocker`, or `mocker.patch` (whose `.object` patches an attribute)."""
    if isinstance(node, ast.Attribute) and node.attr == "patch":
        node = node.value
    return isinstance(node, ast.Name) and node.id in _FIXTURES


def _dotted(node: ast.expr, names: ImportTable) -> str:
    """The owner's name as written or resolved (`torch.cuda`, `accelerators.CUDAAccelerator`)."""
    resolved = names.resolve(node)
    if resolved:
        return resolved
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _string(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
