"""Where a string acts as a device or a distributed backend, and what shape it has.

A string that merely contains "cuda" is prose; `"cuda"` becomes lock-in only where
PyTorch takes it as a device: `torch.device(...)`, `.to(...)`, `device=`,
`map_location=`, `device_map=`, or a setting named for devices (`device = "cuda"`,
`parser.add_argument("--device", default="cuda")`, `def run(device="cuda")`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import lru_cache

from cudaudit.rules.python.guards import CUDA_DEVICE_STRING
from cudaudit.rules.python.names import final_name

DEVICE_KEYWORDS = frozenset({"device", "device_type", "map_location", "device_map"})
"""Keyword arguments that take a device in PyTorch and the libraries built on it."""

MESH_CALLS = frozenset(
    {
        "torch.distributed.device_mesh.init_device_mesh",
        "torch.distributed.device_mesh.DeviceMesh",
        "torch.distributed.init_device_mesh",
        "torch.distributed.DeviceMesh",
    }
)
"""Constructors of a `DeviceMesh`: their device type (first, or `device_type=`) is where the mesh
places each rank, and building one sets that device type's current device."""

DEVICE_POSITIONAL = frozenset(
    {
        "torch.device",
        "torch.autocast",
        "torch.amp.autocast",
        "torch.amp.GradScaler",
        "torch.get_device_module",
        "torch.set_default_device",
        *MESH_CALLS,
    }
)
"""Callables whose first positional argument is a device or device type."""

BACKEND_KEYWORDS = frozenset({"backend", "dist_backend"})
BACKEND_POSITIONAL = frozenset(
    {
        "torch.distributed.init_process_group",
        "torch.distributed.new_group",
        "torch.distributed.distributed_c10d.init_process_group",
    }
)

_CUDA_PREFIX = re.compile(r"cuda:")
_FORMAT_PLACEHOLDER = re.compile(r"cuda:(\{[^}]*\}|%[sdi])")


def is_cuda_device_string(node: ast.expr) -> bool:
    """`"cuda"`, `"cuda:0"`, `f"cuda:{rank}"`, `"cuda:%d" % rank`, `"cuda:{}".format(rank)`."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and CUDA_DEVICE_STRING.fullmatch(node.value) is not None
    if isinstance(node, ast.JoinedStr) and len(node.values) == 2:
        head, tail = node.values
        return (
            isinstance(head, ast.Constant)
            and head.value == "cuda:"
            and isinstance(tail, ast.FormattedValue)
        )
    if isinstance(node, ast.BinOp) and isinstance(node.left, ast.Constant):
        left = node.left.value
        if not isinstance(left, str):
            return False
        if isinstance(node.op, ast.Mod):
            return _FORMAT_PLACEHOLDER.fullmatch(left) is not None
        return isinstance(node.op, ast.Add) and left == "cuda:"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        receiver = node.func.value
        return (
            node.func.attr == "format"
            and isinstance(receiver, ast.Constant)
            and isinstance(receiver.value, str)
            and _FORMAT_PLACEHOLDER.fullmatch(receiver.value) is not None
        )
    return False


def may_spell_cuda_device(value: str) -> bool:
    """Whether a string constant can be, or begin, a CUDA device string (`is_cuda_device_string`):
    `"cuda"`, `"cuda:0"`, the `"cuda:"` of `f"cuda:{rank}"` or `"cuda:" + rank`, `"cuda:%d"`."""
    return CUDA_DEVICE_STRING.fullmatch(value) is not None or value == "cuda:" or _FORMAT_PLACEHOLDER.fullmatch(value) is not None


def is_indexed_cuda_device_string(node: ast.expr) -> bool:
    """`"cuda:0"`, `f"cuda:{rank}"`: unmistakably a device, wherever it is written."""
    if isinstance(node, ast.Constant):
        return is_cuda_device_string(node) and ":" in str(node.value)
    return is_cuda_device_string(node)


_ORDINAL_WORDS = frozenset({"rank", "gpu"})


def device_ordinal_kind(node: ast.expr) -> str | None:
    """`"literal"` for `x.to(0)`, `"name"` for `model.to(local_rank)`: an accelerator index."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return "literal"
    name = final_name(node)
    if name and _ORDINAL_WORDS.intersection(_name_words(name)):
        return "name"
    return None


NCCL = "nccl"
"""The NCCL backend's name, in any case."""


def is_nccl_string(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() == NCCL


def names_setting(name: str, word: str) -> bool:
    """Whether an identifier or CLI flag names a setting of `word` (`train_device`, `--dist-backend`)."""
    return word in _name_words(name)


@lru_cache(maxsize=4096)
def _name_words(name: str) -> tuple[str, ...]:
    """`--dist-backend` → dist, backend; `local_rank` → local, rank. Asked of every name assigned,
    defaulted or looked up, most of them many times in a module."""
    return tuple(_NOT_A_WORD.split(name.lower()))


_NOT_A_WORD = re.compile(r"[^a-z0-9]+")


def target_name(target: ast.expr) -> str | None:
    """The name an assignment target gives its value: `device`, `self.device`, `cfg["device"]`."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        key = target.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
    return None


def parameter_defaults(args: ast.arguments) -> Iterator[tuple[str, int | None, ast.expr]]:
    """Each parameter that has a default, with its position among the positional parameters (None
    for a keyword-only one) and that default."""
    positional = [*args.posonlyargs, *args.args]
    first = len(positional) - len(args.defaults)
    for offset, default in enumerate(args.defaults):
        yield positional[first + offset].arg, first + offset, default
    for arg, keyword_default in zip(args.kwonlyargs, args.kw_defaults):
        if keyword_default is not None:
            yield arg.arg, None, keyword_default


def cli_option_names(call: ast.Call) -> list[str]:
    """The option strings of an `add_argument("--device", "-d", ...)` call."""
    return [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
