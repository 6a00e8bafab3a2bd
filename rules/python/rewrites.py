"""Rewrites for Python findings, decided where the site was found and carried by the finding.

Each fix kind named in the catalog (`fix = { kind = "...", safety = "..." }`) has one builder
here that turns a detector hit into text edits. Edits only ever replace the flagged code;
what a module needs for them to hold — `import torch`, one `DEVICE_TYPE` value chosen at
run time — is listed in `Fix.requires` and added once per file by the fixer.

Every replacement keeps a CUDA machine's behaviour: where the old code said `"cuda"`, the
new code says `DEVICE_TYPE`, which is `"cuda"` there and `"cpu"`, `"xpu"` or `"mps"` elsewhere.
A fix whose receiver or argument types are unknown (`x.cuda()` on a non-torch object) is
marked unsafe and applied only on request.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from packaging.version import Version

from cudaudit.model import Edit, Fix, Span
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.walker import Hit
from cudaudit.source import SourceLines

DEVICE_TYPE = "DEVICE_TYPE"
CUDA_AVAILABLE = "torch.cuda.is_available()"
_ACCELERATOR_API = Version("2.6")


@dataclass(frozen=True)
class FixContext:
    """What a builder may read: the module's text and names, and the project's PyTorch."""

    lines: SourceLines
    names: ImportTable
    canonical: Callable[[str], str]
    """The catalog's public name for a qualified name (`torch.cuda.amp.autocast_mode.autocast`)."""
    torch_version: Version | None

    def span(self, node: ast.AST) -> Span:
        return self.lines.span_from_utf8(node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)

    def text(self, node: ast.AST) -> str:
        return self.lines.text(self.span(node))

    def has_accelerator_api(self) -> bool:
        return self.torch_version is not None and self.torch_version >= _ACCELERATOR_API


class Rewrite(NamedTuple):
    description: str
    edits: tuple[Edit, ...]
    requires: tuple[str, ...] = ("import torch", DEVICE_TYPE)
    unused_imports: tuple[str, ...] = ()


Builder = Callable[[Hit, FixContext], "Rewrite | None"]
"""Returns None when the site cannot be rewritten with confidence; the finding then stays."""


def build_fix(hit: Hit, context: FixContext) -> Fix | None:
    """The fix the catalog asks for at this hit, or None when there is none or it cannot be made safely."""
    policy = hit.entry.fix
    if policy is None or hit.quiet:
        return None  # a guarded site is already portable where it matters
    rewrite = _BUILDERS[policy.kind](hit, context)
    if rewrite is None:
        return None
    return Fix(policy.safety, rewrite.description, rewrite.edits, rewrite.requires, rewrite.unused_imports)


def _indexed(index_source: str) -> str:
    """A device string for accelerator `index` that degrades to plain "cpu", which takes no index
    where it matters (`torch.load(map_location="cpu:0")` fails)."""
    index = index_source if index_source.isdigit() else f"{{{index_source}}}"
    return f'(f"{{{DEVICE_TYPE}}}:{index}" if {DEVICE_TYPE} != "cpu" else "cpu")'


def _device_with_index(node: ast.expr, context: FixContext) -> str:
    """A device for `.cuda(i)` / `.to(i)`: `torch.device(DEVICE_TYPE, i)` keeps `i = None` meaning
    "the current device", as `.cuda(None)` does."""
    return f"torch.device({DEVICE_TYPE}, {context.text(node)})"


def _device_index_source(node: ast.expr, context: FixContext) -> str | None:
    """The index expression inside `"cuda:1"`, `f"cuda:{rank}"`, `"cuda:%d" % r`, `"cuda:{}".format(r)`."""
    if isinstance(node, ast.Constant):
        return node.value.partition(":")[2] or None
    if isinstance(node, ast.JoinedStr):
        value = node.values[1]
        if isinstance(value, ast.FormattedValue) and value.conversion == -1 and value.format_spec is None:
            return context.text(value.value)
        return None
    if isinstance(node, ast.BinOp):
        right = node.right
        if isinstance(right, ast.Tuple):  # `"cuda:%d" % (rank,)`
            return context.text(right.elts[0]) if len(right.elts) == 1 else None
        return context.text(right)
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
        return context.text(node.args[0])
    return None


def _device_string(hit: Hit, context: FixContext) -> Rewrite | None:
    node = hit.node
    if isinstance(node, ast.Constant) and node.value == "cuda":
        replacement = DEVICE_TYPE
    else:
        index = _device_index_source(node, context)
        if index is None:
            return None
        replacement = _indexed(index)
    return Rewrite(f"use the device type chosen at run time: {replacement}", (Edit(context.span(node), replacement),))


def _to_device(hit: Hit, context: FixContext) -> Rewrite | None:
    call = hit.node
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
        return None
    index_nodes = [*call.args, *(k.value for k in call.keywords if k.arg == "device")]
    if len(index_nodes) > 1 or any(k.arg is None for k in call.keywords):
        return None
    target = _device_with_index(index_nodes[0], context) if index_nodes else DEVICE_TYPE
    rest = [f"{k.arg}={context.text(k.value)}" for k in call.keywords if k.arg != "device"]
    receiver_end = context.span(call.func.value)
    call_end = context.span(call)
    span = Span(receiver_end.end_line, receiver_end.end_column, call_end.end_line, call_end.end_column)
    replacement = f".to({', '.join([target, *rest])})"
    return Rewrite("move with .to() to the device chosen at run time", (Edit(span, replacement),))


_AMP_REPLACEMENTS = {
    "torch.cuda.amp.autocast": ("torch.amp.autocast", f"{DEVICE_TYPE}", Version("2.0")),
    "torch.cuda.amp.GradScaler": ("torch.amp.GradScaler", f"{DEVICE_TYPE}", Version("2.3")),
    "torch.cuda.amp.custom_fwd": ("torch.amp.custom_fwd", f"device_type={DEVICE_TYPE}", Version("2.4")),
    "torch.cuda.amp.custom_bwd": ("torch.amp.custom_bwd", f"device_type={DEVICE_TYPE}", Version("2.4")),
}
"""The torch.amp API for each torch.cuda.amp one, and the first PyTorch that has it."""
_BASELINE = Version("2.0")
"""What an unpinned project is assumed to run: fixes use nothing newer."""


def _amp(hit: Hit, context: FixContext) -> Rewrite | None:
    qualified = context.names.resolve(hit.node)  # type: ignore[arg-type]
    if qualified is None:
        return None
    canonical = context.canonical(qualified)
    if canonical not in _AMP_REPLACEMENTS:
        return None
    new_name, device_argument, since = _AMP_REPLACEMENTS[canonical]
    if (context.torch_version or _BASELINE) < since:
        return None  # the project's PyTorch has no such API: leave the deprecated one working
    call = hit.call
    unused = (qualified,) if isinstance(hit.node, ast.Name) else ()
    if call is None:
        # A bare decorator (`@torch.cuda.amp.custom_fwd`) becomes a call that names the device.
        if not new_name.endswith(("custom_fwd", "custom_bwd")):
            return None
        edit = Edit(context.span(hit.node), f"{new_name}({device_argument})")
    else:
        if call.args:
            return None  # positional arguments differ in order between the two APIs
        arguments = [device_argument, *(_keyword_text(k, context) for k in call.keywords)]
        edit = Edit(context.span(call), f"{new_name}({', '.join(arguments)})")
    return Rewrite(f"use {new_name} with the device type chosen at run time", (edit,), unused_imports=unused)


def _keyword_text(keyword: ast.keyword, context: FixContext) -> str:
    value = context.text(keyword.value)
    return f"**{value}" if keyword.arg is None else f"{keyword.arg}={value}"


def _guard(hit: Hit, context: FixContext) -> Rewrite | None:
    """`torch.cuda.synchronize()` alone on a line becomes `if torch.cuda.is_available(): ...`."""
    statement = hit.statement
    if not (isinstance(statement, ast.Expr) and statement.value is hit.call):
        return None
    span = context.span(statement)
    line = context.lines.line(span.line)
    if span.line != span.end_line or line[: span.column - 1].strip() or ";" in line[span.end_column - 1 :].split("#")[0]:
        return None  # only a statement that has its line to itself
    indent = line[: span.column - 1]
    body = line[span.column - 1 :]
    replacement = f"{indent}if {CUDA_AVAILABLE}:\n{indent}    {body}"
    edit = Edit(Span(span.line, 1, span.line, len(line) + 1), replacement)
    return Rewrite("run only where CUDA (or ROCm) is available", (edit,), ("import torch",))


def _dist_backend(hit: Hit, context: FixContext) -> Rewrite:
    requires: tuple[str, ...] = ("import torch",)
    if context.has_accelerator_api():
        replacement = f"torch.distributed.get_default_backend_for_device({DEVICE_TYPE})"
        requires += (DEVICE_TYPE,)
    else:
        replacement = f'("nccl" if {CUDA_AVAILABLE} else "gloo")'
    return Rewrite(f"pick the backend for the device: {replacement}", (Edit(context.span(hit.node), replacement),), requires)


def _ddp_device_ids(hit: Hit, context: FixContext) -> Rewrite | None:
    replacement = f"({context.text(hit.node)} if {CUDA_AVAILABLE} else None)"
    return Rewrite("pass device ids only for CUDA modules", (Edit(context.span(hit.node), replacement),), ("import torch",))


def _device_ordinal(hit: Hit, context: FixContext) -> Rewrite | None:
    replacement = _device_with_index(hit.node, context)
    return Rewrite(f"name the device type with the index: {replacement}", (Edit(context.span(hit.node), replacement),))


def _pin_memory(hit: Hit, context: FixContext) -> Rewrite | None:
    """`x.pin_memory()` pins only where there is an accelerator; the receiver must be a plain name,
    since it is written twice."""
    call = hit.node
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return None
    receiver = call.func.value
    if not isinstance(receiver, (ast.Name, ast.Attribute)) or not _is_plain_chain(receiver):
        return None
    text = context.text(receiver)
    replacement = f"({context.text(call)} if {CUDA_AVAILABLE} else {text})"
    return Rewrite("pin memory only where CUDA (or ROCm) is available", (Edit(context.span(call), replacement),), ("import torch",))


_LEGACY_DTYPES = {
    "FloatTensor": "float32",
    "DoubleTensor": "float64",
    "HalfTensor": "float16",
    "BFloat16Tensor": "bfloat16",
    "LongTensor": "int64",
    "IntTensor": "int32",
    "ShortTensor": "int16",
    "CharTensor": "int8",
    "ByteTensor": "uint8",
    "BoolTensor": "bool",
}


def _legacy_tensor(hit: Hit, context: FixContext) -> Rewrite | None:
    """`torch.cuda.FloatTensor` as a constructor or as the default tensor type, rewritten with a
    dtype and the run-time device (other uses, such as `x.type(torch.cuda.FloatTensor)`, stay)."""
    qualified = context.names.resolve(hit.node) if isinstance(hit.node, (ast.Name, ast.Attribute)) else None
    dtype = _LEGACY_DTYPES.get((qualified or "").rpartition(".")[2])
    if dtype is None:
        return None
    call, statement = hit.call, hit.statement
    if call is not None:  # `torch.cuda.LongTensor([1, 2])`, `torch.cuda.FloatTensor(3, 4)`
        if call.keywords or not call.args:
            return None
        if len(call.args) == 1 and isinstance(call.args[0], (ast.List, ast.Tuple, ast.ListComp)):
            factory = "torch.tensor"
        elif all(isinstance(a, ast.Constant) and type(a.value) is int for a in call.args):
            factory = "torch.empty"
        else:
            return None  # data or sizes? a variable could be either
        arguments = ", ".join(context.text(a) for a in call.args)
        replacement = f"{factory}({arguments}, dtype=torch.{dtype}, device={DEVICE_TYPE})"
        return Rewrite(f"create with {factory}, a dtype and the run-time device", (Edit(context.span(call), replacement),))
    outer = statement.value if isinstance(statement, ast.Expr) else None
    if not (isinstance(outer, ast.Call) and len(outer.args) == 1 and outer.args[0] is hit.node):
        return None
    if context.names.resolve(outer.func) != "torch.set_default_tensor_type":
        return None
    span = context.span(statement)
    line = context.lines.line(span.line)
    if span.line != span.end_line or line[: span.column - 1].strip():
        return None
    indent = line[: span.column - 1]
    replacement = f"{indent}torch.set_default_dtype(torch.{dtype})\n{indent}torch.set_default_device({DEVICE_TYPE})"
    edit = Edit(Span(span.line, 1, span.line, span.end_column), replacement)
    return Rewrite("set the default dtype and device instead of a CUDA tensor type", (edit,))


def _is_plain_chain(node: ast.expr) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


_BUILDERS: dict[str, Builder] = {
    "device-string": _device_string,
    "to-device": _to_device,
    "amp": _amp,
    "guard": _guard,
    "dist-backend": _dist_backend,
    "ddp-device-ids": _ddp_device_ids,
    "device-ordinal": _device_ordinal,
    "pin-memory": _pin_memory,
    "legacy-tensor": _legacy_tensor,
}
FIX_KINDS = frozenset(_BUILDERS)
