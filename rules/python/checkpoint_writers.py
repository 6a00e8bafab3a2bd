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
from cudaudit.rules.python.nodes import subtree
from cudaudit.source import decode_python, read_tree

SAVE = b"torch.save"
"""What a module that writes a checkpoint spells; the others are not parsed."""
DEVICE_WORDS = re.compile(rb"cuda|device|gpu|accelerat|rank|fabric", re.IGNORECASE)
"""Words of a module that may put a tensor on a GPU; a module without any makes CPU tensors only."""

Saved = tuple[tuple[str, bool], ...]
"""(file name, whether the save holds CPU values only) for each `torch.save` of a module to a literal file name."""


def saved_files(path: str, data: bytes) -> Saved:
    """The `torch.save` calls (spelled `torch.save`) of the module at display path `path` to a path
    with a literal file name that has a stem (`"train.pt"` in `out / "train.pt"`, not the `".pt"` of
    `f"{name}.pt"`), each with whether it holds CPU values only; raises SyntaxError for a module that
    does not parse. The tree is the scan's one tree of the module (`source.read_tree`)."""
    if SAVE not in data:
        return ()
    tree = read_tree(decode_python(data), filename=path)
    calls = [node for node in subtree(tree) if isinstance(node, ast.Call)]
    device_free = DEVICE_WORDS.search(data) is None and all(_placed(call) for call in calls if _is_torch(call, "load"))
    found: list[tuple[str, bool]] = []
    for call in calls:
        if _is_torch(call, "save") and len(call.args) > 1:
            name = file_name(call.args[1])
            if name is not None and not name.startswith("."):
                found.append((name, device_free or on_cpu(call.args[0])))
    return tuple(found)


def cpu_saved_files(modules: Iterable[Saved]) -> frozenset[str]:
    """The file names every save of which, in every module, holds CPU values only."""
    cpu: set[str] = set()
    other: set[str] = set()
    for saves in modules:
        for name, on_the_cpu in saves:
            (cpu if on_the_cpu else other).add(name)
    return frozenset(cpu - other)


def _is_torch(call: ast.Call, name: str) -> bool:
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr == name and isinstance(func.value, ast.Name) and func.value.id == "torch"


def _placed(load: ast.Call) -> bool:
    """A load that says where its tensors go: a `map_location` keyword or second argument."""
    return len(load.args) > 1 or any(keyword.arg == "map_location" for keyword in load.keywords)
