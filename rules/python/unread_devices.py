"""Module-level names bound to a CUDA device that nothing reads: a name, not a site.

A script may keep a line from an earlier version, `device = torch.device("cuda")`, while the code
it runs now places its tensors on devices it chooses under availability tests (`device0`,
`device1`). `torch.device("cuda")` is only a description of a device: it is built on a CPU-only
PyTorch as on any other (torch 2.13.0 CPU build: `torch.device("cuda")` returns `device(type='cuda')`;
only a tensor or module placed there raises). Where nothing reads the name, no tensor is ever placed
there, so the line breaks no target.

`unread_devices` reads one module from its bytes: its top-level lines that bind a plain name to a
CUDA device string or to `torch.device(...)` of one (`device = "cuda"`, `DEVICE = torch.device("cuda:0")`),
whose name the module spells nowhere else as a word but where it is given a value (a binding, or a
keyword argument, `Generator(device=device0)`); a read in a string, a comment or a docstring counts
as one: a misreading keeps the verdict. The project index keeps them only for a module that
no other module of the scan imports and that no package holds (a package's module is importable API,
whatever the scan imports), in a scan that sees the whole project: another module could read the name
(`from app import device`) where the module's own text does not. `unread_bindings` finds those
statements in the parsed module, whose sites the analysis then quiets on every target.
"""

from __future__ import annotations

import ast
import re

from cudaudit.rules.python.device_syntax import is_cuda_device_string

_BINDING = re.compile(
    rb"""^([A-Za-z_]\w*)[ \t]*=[ \t]*(?:torch\.device\([ \t]*)?['"]cuda(?::\d+)?['"][ \t]*\)?[ \t]*(?:\#[^\n]*)?\r?$""",
    re.M,
)
"""A top-level line that binds a name to a CUDA device string, bare or in `torch.device(...)`."""


def unread_devices(data: bytes) -> tuple[str, ...]:
    """The names that top-level lines of module `data` bind to a CUDA device, and that the module
    spells nowhere else as a word of its own (see the module docstring)."""
    if b"cuda" not in data:
        return ()
    bound = {match.group(1) for match in _BINDING.finditer(data)}
    return tuple(sorted(
        name.decode("ascii") for name in bound
        if re.search(rb"(?<![\w.])" + re.escape(name) + rb"(?!\w)(?![ \t]*=(?!=))", data) is None
    ))


def unread_bindings(tree: ast.Module, names: frozenset[str]) -> frozenset[int]:
    """The ids of the top-level statements of `tree` that bind one of `names` (the project index's
    `unread_devices` for the module) to a CUDA device string or `torch.device(...)` of one alone."""
    if not names:
        return frozenset()
    return frozenset(
        id(statement) for statement in tree.body
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id in names
        and _is_device_value(statement.value)
    )


def _is_device_value(value: ast.expr) -> bool:
    """`"cuda"`, `"cuda:0"`, `torch.device("cuda")`: a description of a device, which builds nothing."""
    if isinstance(value, ast.Call):
        func = value.func
        named = isinstance(func, ast.Attribute) and func.attr == "device" and isinstance(func.value, ast.Name) and func.value.id == "torch"
        return named and len(value.args) == 1 and not value.keywords and _is_device_value(value.args[0])
    return isinstance(value, ast.Constant) and is_cuda_device_string(value)
