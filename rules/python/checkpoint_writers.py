"""The files the project's modules write with `torch.save`, by file name, and whether each holds CPU values only.

A project often loads, in one module, a file that another writes: a finetuning script's
`torch.load(os.path.join(data_dir, "train.pt"))` reads what the documented data-preparation step
saved (`torch.save(samples, out_dir / "train.pt")`, token ids from a tokenizer), and a training
script's `torch.load(checkpoint_path)` of `"model.pth"` what a conversion script saved after loading
the original weights with `map_location="cpu"`. Where every writer of that file name puts only CPU
tensors in it, the load restores CPU tensors on any machine: no finding (`concerns/checkpoints.py`).

A writer holds CPU values only when its payload is moved to the CPU (`checkpoint_sources.on_cpu`), or
when its module never names a device at all (no `cuda`, `device`, `gpu`, accelerator, rank or Fabric
in its text) and loads every checkpoint it reads with a `map_location`: PyTorch makes tensors on the
CPU unless told otherwise (https://docs.pytorch.org/docs/stable/tensor_attributes.html#torch-device),
so such a module has no GPU tensor to save. A module that names a device anywhere counts as a GPU
writer, a coarse reading that keeps the warning wherever a writer may save state from a device
(`fabric.device`, `.cuda()`, `.to(local_rank)`). Test modules are no writers: they write into their
own temporary folders, never the files a user's run loads.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from cudaudit.rules.python.checkpoint_sources import file_name, on_cpu
from cudaudit.rules.python.cpu_built import CpuBuilt
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import own_nodes, subtree
from cudaudit.source import decode_python, read_tree

SAVE = b"torch.save"
"""What a module that writes a checkpoint spells; the others are not parsed."""
DEVICE_WORDS = re.compile(rb"cuda|device|gpu|accelerat|rank|fabric", re.IGNORECASE)
"""Words of a module that may put a tensor on a GPU; a module without any makes CPU tensors only."""

Saved = tuple[tuple[str, bool], ...]
"""(file name, whether the save holds CPU values only) for each `torch.save` of a module to a literal file name."""


def saved_files(path: str, data: bytes) -> Saved:
    """The `torch.save` calls (spelled `torch.save`) of the module at display path `path` to a path
    with a literal file name that has a stem (`"train.pt"` in `out / "train.pt"`, the `".spec.pt"` of
    `filename.replace(".wav", ".spec.pt")`, not the `".pt"` of `f"{name}.pt"`), read through a name the
    function binds to it, each with whether it holds CPU values only; raises SyntaxError for a module
    that does not parse. The tree is the scan's one tree of the module (`source.read_tree`)."""
    if SAVE not in data:
        return ()
    tree = read_tree(decode_python(data), filename=path)
    calls = [node for node in subtree(tree) if isinstance(node, ast.Call)]
    device_free = DEVICE_WORDS.search(data) is None and all(_placed(call) for call in calls if _is_torch(call, "load"))
    saves = [call for call in calls if _is_torch(call, "save") and len(call.args) > 1]
    if not saves:
        return ()
    scopes = _functions_of(tree, saves)
    reading = CpuBuilt(tree, ImportTable(tree))
    found: list[tuple[str, bool]] = []
    for call in saves:
        function = scopes.get(id(call))
        places = [call.args[1]] if function is None else reading.held(call.args[1], function, call)
        spelled = {file_name(place) for place in places}
        name = spelled.pop() if len(spelled) == 1 else None
        if name is not None and "." in name.lstrip("."):
            on_the_cpu = device_free or on_cpu(call.args[0]) or (function is not None and reading.built(call.args[0], function, call))
            found.append((name, on_the_cpu))
    return tuple(found)


def _functions_of(tree: ast.Module, calls: list[ast.Call]) -> dict[int, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Each call of `calls` that a function holds in its own body, by id, with that function."""
    wanted = {id(call) for call in calls}
    found: dict[int, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for function in subtree(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.update((id(node), function) for node in own_nodes(function.body) if id(node) in wanted)
    return found


def cpu_saved_files(modules: Iterable[Saved]) -> frozenset[str]:
    """The file names every save of which, in every module, holds CPU values only; a name pattern
    (`".qnt.pt"`) only where no file of it (`"test.qnt.pt"`) is saved otherwise."""
    cpu: set[str] = set()
    other: set[str] = set()
    for saves in modules:
        for name, on_the_cpu in saves:
            (cpu if on_the_cpu else other).add(name)
    return frozenset(
        name for name in cpu - other if not (name.startswith(".") and any(saved.endswith(name) for saved in other))
    )


def _is_torch(call: ast.Call, name: str) -> bool:
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr == name and isinstance(func.value, ast.Name) and func.value.id == "torch"


def _placed(load: ast.Call) -> bool:
    """A load that says where its tensors go: a `map_location` keyword or second argument."""
    return len(load.args) > 1 or any(keyword.arg == "map_location" for keyword in load.keywords)
