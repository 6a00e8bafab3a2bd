"""Rewrites for Python findings, decided where the site was found and carried by the finding.

Each Python fix kind named in the catalog (`fix = { kind = "...", safety = "..." }`) has one
builder here, registered under that kind in `cudaudit.rules.registry.FIX_BUILDERS`, that turns
a walker hit into text edits. Edits only ever replace the flagged code;
what a module needs for them to hold — `import torch`, one `DEVICE_TYPE` value chosen at
run time — is listed in `Fix.requires` and added once per file by the fixer.

Every replacement keeps a CUDA machine's behaviour: where the old code said `"cuda"`, the
new code says `DEVICE_TYPE`, which is `"cuda"` there and `"cpu"`, `"xpu"` or `"mps"` elsewhere.
A fix whose receiver or argument types are unknown (`x.cuda()` on a non-torch object) is
marked unsafe and applied only on request.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from packaging.version import Version

from cudaudit.model import Edit, Fix, Span
from cudaudit.rules.python.concerns.sync_batchnorm import SYNC_DEVICE_TYPES
from cudaudit.rules.python.device_flow import DeviceIndexes
from cudaudit.rules.python.locals import LocalNames
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.walker import Hit
from cudaudit.rules.registry import fix_builder
from cudaudit.source import Located, SourceLines

DEVICE_TYPE = "DEVICE_TYPE"
_ACCELERATOR_API = Version("2.6")
_OPENERS = ("(", "[", "{", ",", "=", ":", "return", "yield", "else")
_CLOSERS = (")", "]", "}", ",", "#")


@dataclass(frozen=True)
class FixContext:
    """What a builder may read: the module's text and names, and the project's PyTorch."""

    lines: SourceLines
    names: ImportTable
    canonical: Callable[[str], str]
    """The catalog's public name for a qualified name (`torch.cuda.amp.autocast_mode.autocast`)."""
    torch_version: Version | None
    tree: ast.Module = field(default_factory=lambda: ast.Module(body=[], type_ignores=[]))
    is_first_party: Callable[[str], bool] = field(default=lambda _: False)
    """Whether a module is the project's own (`models` beside `train.py`)."""

    @cached_property
    def locals(self) -> LocalNames:
        """Names each function binds, for fixes that reuse a `device` already in scope (built on
        first use: most modules have no fix that asks)."""
        return LocalNames(self.tree)

    @cached_property
    def device_indexes(self) -> DeviceIndexes:
        """The module's device index variables, as the walk found them (built on first use)."""
        return DeviceIndexes(self.tree, self.names)

    def holds_device(self, node: ast.expr) -> bool:
        """`node` reads a name that holds a `torch.device`, or an index its own fix (`device-variable`)
        makes one where it is assigned: the use then needs no wrapping."""
        return self.device_indexes.holds_device(node)

    @property
    def torch(self) -> str:
        """How the module names torch (`th` after `import torch as th`)."""
        return self.names.local_name("torch") or "torch"

    def cuda_available(self) -> str:
        return f"{self.torch}.cuda.is_available()"

    def span(self, node: Located) -> Span:
        return self.lines.node_span(node)

    def text(self, node: Located) -> str:
        return self.lines.text(self.span(node))

    def has_accelerator_api(self) -> bool:
        return self.torch_version is not None and self.torch_version >= _ACCELERATOR_API

    def in_place(self, node: Located, expression: str) -> str:
        """`expression` (a conditional) as it may replace `node`: bare where `node` is a whole
        argument, element, keyword value or assigned value, else in parentheses."""
        span = self.span(node)
        before = self.lines.line(span.line)[: span.column - 1].rstrip()
        after = self.lines.line(span.end_line)[span.end_column - 1 :].lstrip()
        whole = before.endswith(_OPENERS) and not before.endswith(("==", "!=", "<=", ">=", "lambda:"))
        if whole and (not after or after.startswith(_CLOSERS)):
            return expression
        return f"({expression})"

    def device_variable(self, node: Located) -> str | None:
        """`device`, where the code around `node` already holds the device it runs on."""
        return self.locals.device_at(node.lineno)


class Rewrite(NamedTuple):
    description: str
    edits: tuple[Edit, ...]
    requires: tuple[str, ...] = ("import torch", DEVICE_TYPE)
    unused_imports: tuple[str, ...] = ()
    covers: tuple[Span, ...] = ()
    unchecked: tuple[str, ...] = ()


Builder = Callable[[Hit, FixContext], "Rewrite | None"]
"""Returns None when the site cannot be rewritten with confidence; the finding then stays."""


def build_fix(hit: Hit, context: FixContext) -> Fix | None:
    """The fix the catalog asks for at this hit, or None when there is none or it cannot be made safely."""
    policy = hit.entry.fix
    if policy is None or hit.quiet:
        return None  # a guarded site is already portable where it matters
    builder: Builder = fix_builder(policy.kind)
    rewrite = builder(hit, context)
    if rewrite is None:
        return None
    return Fix(
        policy.safety,
        rewrite.description,
        rewrite.edits,
        rewrite.requires,
        rewrite.unused_imports,
        rewrite.covers,
        rewrite.unchecked,
    )


def _indexed(index_source: str) -> str:
    """A device string for accelerator `index` that degrades to plain "cpu", which takes no index
    where it matters (`torch.load(map_location="cpu:0")` fails)."""
    index = index_source if index_source.isdigit() else f"{{{index_source}}}"
    return f'f"{{{DEVICE_TYPE}}}:{index}" if {DEVICE_TYPE} != "cpu" else "cpu"'


def _device_with_index(node: ast.expr, context: FixContext) -> str:
    """A device for `.cuda(i)` / `.to(i)`: `torch.device(DEVICE_TYPE, i)` keeps `i = None` meaning
    "the current device", as `.cuda(None)` does."""
    return f"{context.torch}.device({DEVICE_TYPE}, {context.text(node)})"


def _device_index_source(node: ast.expr, context: FixContext) -> str | None:
    """The index expression inside `"cuda:1"`, `f"cuda:{rank}"`, `"cuda:%d" % r`, `"cuda:{}".format(r)`."""
    if isinstance(node, ast.Constant):
        return str(node.value).partition(":")[2] or None
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


def device_string(hit: Hit, context: FixContext) -> Rewrite | None:
    node = hit.node
    if not isinstance(node, ast.expr):
        return None
    if isinstance(node, ast.Constant) and node.value == "cuda":
        replacement = DEVICE_TYPE
    else:
        index = _device_index_source(node, context)
        if index is None:
            return None
        replacement = context.in_place(node, _indexed(index))
    return Rewrite(f"use the device type chosen at run time: {replacement}", (Edit(context.span(node), replacement),))


def to_device(hit: Hit, context: FixContext) -> Rewrite | None:
    call = hit.node
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
        return None
    index_nodes = [*call.args, *(k.value for k in call.keywords if k.arg == "device")]
    if len(index_nodes) > 1 or any(k.arg is None for k in call.keywords):
        return None
    requires: tuple[str, ...] = ("import torch", DEVICE_TYPE)
    if index_nodes and context.holds_device(index_nodes[0]):
        target = context.text(index_nodes[0])  # `.cuda(local)`, where `local` becomes a device
    elif index_nodes:
        target = _device_with_index(index_nodes[0], context)
    elif (variable := context.device_variable(call)) is not None:
        target, requires = variable, ()  # `x.cuda()` next to `y.to(device)`: the same device
    else:
        target = DEVICE_TYPE
    rest = [f"{k.arg}={context.text(k.value)}" for k in call.keywords if k.arg != "device"]
    receiver_end = context.span(call.func.value)
    call_end = context.span(call)
    span = Span(receiver_end.end_line, receiver_end.end_column, call_end.end_line, call_end.end_column)
    replacement = f".to({', '.join([target, *rest])})"
    return Rewrite(f"move with .to({target})", (Edit(span, replacement),), requires)


class _AmpApi(NamedTuple):
    replacement: str
    device_argument: str
    since: Version
    positional: tuple[str, ...]
    """The deprecated API's positional parameters, passed to the new one by name."""


_AMP_REPLACEMENTS = {
    "torch.cuda.amp.autocast": _AmpApi("amp.autocast", DEVICE_TYPE, Version("2.0"), ("enabled", "dtype", "cache_enabled")),
    "torch.cuda.amp.GradScaler": _AmpApi(
        "amp.GradScaler",
        DEVICE_TYPE,
        Version("2.3"),
        ("init_scale", "growth_factor", "backoff_factor", "growth_interval", "enabled"),
    ),
    "torch.cuda.amp.custom_fwd": _AmpApi("amp.custom_fwd", f"device_type={DEVICE_TYPE}", Version("2.4"), ()),
    "torch.cuda.amp.custom_bwd": _AmpApi("amp.custom_bwd", f"device_type={DEVICE_TYPE}", Version("2.4"), ()),
}
"""The torch.amp API for each torch.cuda.amp one, and the first PyTorch that has it."""
_UNPINNED = Version("2.4")
"""What an unpinned project installs today is a current PyTorch; amp fixes assume no more than 2.4
(July 2024), so the scaler, autocast and custom_fwd next to each other move together."""


def amp(hit: Hit, context: FixContext) -> Rewrite | None:
    qualified = context.names.resolve(hit.node) if isinstance(hit.node, ast.expr) else None
    if qualified is None:
        return None
    api = _AMP_REPLACEMENTS.get(context.canonical(qualified))
    if api is None or (context.torch_version or _UNPINNED) < api.since:
        return None  # the project's PyTorch has no such API: leave the deprecated one working
    new_name = f"{context.torch}.{api.replacement}"
    call = hit.call
    unused = (qualified,) if isinstance(hit.node, ast.Name) else ()
    if call is None:
        # A bare decorator (`@torch.cuda.amp.custom_fwd`) becomes a call that names the device.
        if not api.positional and api.device_argument.startswith("device_type="):
            edit = Edit(context.span(hit.node), f"{new_name}({api.device_argument})")
            return Rewrite(f"use {new_name} with the device type chosen at run time", (edit,), unused_imports=unused)
        return None
    if len(call.args) > len(api.positional) or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    named = [f"{name}={context.text(value)}" for name, value in zip(api.positional, call.args)]
    arguments = [api.device_argument, *named, *(_keyword_text(k, context) for k in call.keywords)]
    edit = Edit(context.span(call), f"{new_name}({', '.join(arguments)})")
    return Rewrite(f"use {new_name} with the device type chosen at run time", (edit,), unused_imports=unused)


def _keyword_text(keyword: ast.keyword, context: FixContext) -> str:
    value = context.text(keyword.value)
    return f"**{value}" if keyword.arg is None else f"{keyword.arg}={value}"


def guard(hit: Hit, context: FixContext) -> Rewrite | None:
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
    replacement = f"{indent}if {context.cuda_available()}:\n{indent}    {body}"
    edit = Edit(Span(span.line, 1, span.line, len(line) + 1), replacement)
    return Rewrite("run only where CUDA (or ROCm) is available", (edit,), ("import torch",))


def dist_backend(hit: Hit, context: FixContext) -> Rewrite:
    requires: tuple[str, ...] = ("import torch",)
    if context.has_accelerator_api():
        replacement = f"{context.torch}.distributed.get_default_backend_for_device({DEVICE_TYPE})"
        requires += (DEVICE_TYPE,)
    else:
        nccl = context.text(hit.node)  # the file's own quotes
        replacement = context.in_place(hit.node, f"{nccl} if {context.cuda_available()} else {nccl[0]}gloo{nccl[0]}")
    return Rewrite(f"pick the backend for the device: {replacement}", (Edit(context.span(hit.node), replacement),), requires)


_DDP_DEVICE_KEYWORDS = ("device_ids", "output_device")


def ddp_device_ids(hit: Hit, context: FixContext) -> Rewrite | None:
    """`device_ids` and `output_device` together: a CPU module needs both None (a rank's
    `output_device=1` raises on CPU even when `device_ids` is None)."""
    call = hit.call
    if call is None:
        return None
    values = [k.value for k in call.keywords if k.arg in _DDP_DEVICE_KEYWORDS] + call.args[1:3]
    edits = tuple(
        Edit(context.span(value), context.in_place(value, f"{context.text(value)} if {context.cuda_available()} else None"))
        for value in values
        if not (isinstance(value, ast.Constant) and value.value is None)
    )
    return Rewrite("pass device ids only for CUDA modules", edits, ("import torch",))


def device_ordinal(hit: Hit, context: FixContext) -> Rewrite | None:
    if not isinstance(hit.node, ast.expr):
        return None
    replacement = _device_with_index(hit.node, context)
    return Rewrite(f"name the device type with the index: {replacement}", (Edit(context.span(hit.node), replacement),))


def device_variable(hit: Hit, context: FixContext) -> Rewrite | None:
    """`local = rank % torch.cuda.device_count()`, used only as a device, holds the device itself:
    the same one on CUDA (`torch.device("cuda", i)` is what `.to(i)` means), the CPU elsewhere."""
    node = hit.node
    index = context.text(node)
    if context.has_accelerator_api():  # DEVICE_TYPE may be xpu or mps: count that accelerator's devices
        for sub in subtree(node):
            if isinstance(sub, ast.Call) and context.names.resolve(sub.func) == "torch.cuda.device_count":
                index = index.replace(context.text(sub), f"{context.torch}.accelerator.device_count()")
    torch = context.torch
    device = f'{torch}.device({DEVICE_TYPE}, {index}) if {DEVICE_TYPE} != "cpu" else {torch}.device("cpu")'
    return Rewrite("hold the device the index names, or the CPU", (Edit(context.span(node), context.in_place(node, device)),))


def device_count(hit: Hit, context: FixContext) -> Rewrite:
    """`rank % torch.cuda.device_count()` divides by 0 without a GPU; with one, nothing changes."""
    replacement = f"max({context.text(hit.node)}, 1)"
    return Rewrite(f"divide by at least one device: {replacement}", (Edit(context.span(hit.node), replacement),), ())


def pin_memory(hit: Hit, context: FixContext) -> Rewrite | None:
    """`x.pin_memory()` pins only where there is an accelerator; the receiver must be a plain name,
    since it is written twice."""
    call = hit.node
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return None
    receiver = call.func.value
    if not isinstance(receiver, (ast.Name, ast.Attribute)) or not _is_plain_chain(receiver):
        return None
    text = context.text(receiver)
    replacement = context.in_place(call, f"{context.text(call)} if {context.cuda_available()} else {text}")
    return Rewrite("pin memory only where CUDA (or ROCm) is available", (Edit(context.span(call), replacement),), ("import torch",))


def sync_batchnorm(hit: Hit, context: FixContext) -> Rewrite | None:
    """`convert_sync_batchnorm(model)` converts only on the device types whose tensors SyncBatchNorm
    synchronises; elsewhere the model keeps its batch norm layers, which compute in one process
    what SyncBatchNorm computes there. The module must be a plain name: it is written twice."""
    call = hit.call
    if call is None:
        return None
    module = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "module"), None)
    if not isinstance(module, (ast.Name, ast.Attribute)) or not _is_plain_chain(module):
        return None
    device_types = ", ".join(f'"{device_type}"' for device_type in SYNC_DEVICE_TYPES)
    choice = f"{context.text(call)} if {DEVICE_TYPE} in ({device_types}) else {context.text(module)}"
    edit = Edit(context.span(call), context.in_place(call, choice))
    return Rewrite("convert to SyncBatchNorm only on the device types it synchronises", (edit,))


def build_where_cuda(hit: Hit, context: FixContext) -> Rewrite | None:
    """`ops = load(...)` at import becomes `ops = load(...) if torch.cuda.is_available() else None`,
    so CPU hosts import the module and take its PyTorch path (ROCm still builds: HIP is CUDA to
    torch). `rules/builds/python_builds.py` asks for it only in a module that has such a path."""
    call, statement = hit.call, hit.statement
    if call is None or not (isinstance(statement, ast.Assign) and statement.value is call):
        return None
    edit = Edit(context.lines.node_end(call), f" if {context.cuda_available()} else None")
    return Rewrite("build the extension only where CUDA is available", (edit,), ("import torch",))


def map_location(hit: Hit, context: FixContext) -> Rewrite | None:
    """`torch.load(path)` restores tensors where they were saved; name where they go instead: the
    CPU when the result goes straight into `load_state_dict`, else the device the code runs on."""
    call = hit.call
    if call is None or not call.args or len(call.args) > 1 or any(k.arg is None for k in call.keywords):
        return None
    statement = hit.statement
    into_state_dict = statement is not None and any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "load_state_dict"
        and call in n.args
        for n in subtree(statement)
    )
    requires: tuple[str, ...] = ()
    if into_state_dict:
        location = '"cpu"'
    elif (variable := context.device_variable(call)) is not None:
        location = variable
    else:
        location, requires = DEVICE_TYPE, ("import torch", DEVICE_TYPE)
    arguments = [*call.args, *(k.value for k in call.keywords)]
    last = max((context.span(a) for a in arguments), key=lambda span: (span.end_line, span.end_column))
    edit = Edit(Span(last.end_line, last.end_column, last.end_line, last.end_column), f", map_location={location}")
    return Rewrite(f"load the tensors onto {location}", (edit,), requires)


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


def legacy_tensor(hit: Hit, context: FixContext) -> Rewrite | None:
    """`torch.cuda.FloatTensor` as a constructor, a cast (`x.type(torch.cuda.FloatTensor)`) or the
    default tensor type, rewritten with a dtype and the run-time device."""
    node = hit.node
    qualified = context.names.resolve(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        qualified = node.value  # `x.type("torch.cuda.FloatTensor")`
    dtype = _LEGACY_DTYPES.get((qualified or "").rpartition(".")[2])
    if dtype is None:
        return None
    torch = context.torch
    call, statement = hit.call, hit.statement
    if call is not None:  # `torch.cuda.LongTensor([1, 2])`, `torch.cuda.FloatTensor(3, 4)`
        if call.keywords or not call.args:
            return None
        if len(call.args) == 1 and isinstance(call.args[0], (ast.List, ast.Tuple, ast.ListComp)):
            factory = f"{torch}.tensor"
        elif all(isinstance(a, ast.Constant) and type(a.value) is int for a in call.args):
            factory = f"{torch}.empty"
        else:
            return None  # data or sizes? a variable could be either
        arguments = ", ".join(context.text(a) for a in call.args)
        replacement = f"{factory}({arguments}, dtype={torch}.{dtype}, device={DEVICE_TYPE})"
        return Rewrite(f"create with {factory}, a dtype and the run-time device", (Edit(context.span(call), replacement),))
    cast = _enclosing_call(statement, node)
    if cast is not None and isinstance(cast.func, ast.Attribute) and cast.func.attr == "type":
        if len(cast.args) != 1 or cast.keywords:
            return None
        receiver = context.span(cast.func.value)
        end = context.span(cast)
        span = Span(receiver.end_line, receiver.end_column, end.end_line, end.end_column)
        edit = Edit(span, f".to({DEVICE_TYPE}, {torch}.{dtype})")
        return Rewrite("cast with .to(), a dtype and the run-time device", (edit,))
    if cast is None or not isinstance(statement, ast.Expr) or cast is not statement.value:
        return None
    if context.names.resolve(cast.func) != "torch.set_default_tensor_type":
        return None
    span = context.span(statement)
    line = context.lines.line(span.line)
    if span.line != span.end_line or line[: span.column - 1].strip():
        return None
    indent = line[: span.column - 1]
    replacement = f"{indent}{torch}.set_default_dtype({torch}.{dtype})\n{indent}{torch}.set_default_device({DEVICE_TYPE})"
    edit = Edit(Span(span.line, 1, span.line, span.end_column), replacement)
    return Rewrite("set the default dtype and device instead of a CUDA tensor type", (edit,))


def requirement(hit: Hit, context: FixContext) -> Rewrite | None:
    """Remove `assert torch.cuda.is_available()` (or `if not ...: sys.exit()`); the fixer keeps it
    unless every CUDA-only site it protects (`covers`) is rewritten in the same run."""
    statement = hit.statement
    block = _enclosing_block(context.tree, statement)
    if statement is None or block is None or len(block) < 2:
        return None
    if isinstance(statement, ast.If) and statement.orelse:
        return None  # an arm of a chain (`else: raise ValueError("CUDA only")`): the other arms stay
    if isinstance(getattr(statement, "test", None), ast.BoolOp):
        return None  # `assert torch.cuda.is_available() and has_triton()`: the other conditions stay
    span = context.span(statement)
    first, last = context.lines.line(span.line), context.lines.line(span.end_line)
    if first[: span.column - 1].strip() or last[span.end_column - 1 :].split("#")[0].strip():
        return None  # shares its lines with other code
    rest = block[block.index(statement) + 1 :]
    functions = _called_functions(context.tree, rest)
    covers = [Span(rest[0].lineno, 1, rest[-1].end_lineno or rest[-1].lineno, 1)] if rest else []
    covers += [Span(f.lineno, 1, f.end_lineno or f.lineno, 1) for f in functions]
    unchecked = tuple(_from_other_modules([*rest, *functions], context))
    end = span.end_line + 1
    if block.index(statement) == 0:  # no blank line left at the top of the block
        while end < len(context.lines.lines) and not context.lines.line(end).strip():
            end += 1
    edit = Edit(Span(span.line, 1, end, 1), "")
    unused = tuple(_modules_called(statement, context))
    description = "remove the requirement: what it protects now runs without CUDA"
    return Rewrite(description, (edit,), (), unused_imports=unused, covers=tuple(covers), unchecked=unchecked)


def _from_other_modules(statements: list[ast.stmt], context: FixContext) -> Iterator[str]:
    """What `statements` use from the project's other modules (`models.DiT_models`, `.utils.setup`),
    each once: code a requirement also protects, which the analysis of this one file cannot see."""
    relative = {
        alias.asname or alias.name: "." * node.level + (f"{node.module}." if node.module else "") + alias.name
        for node in subtree(context.tree)
        if isinstance(node, ast.ImportFrom) and node.level
        for alias in node.names
    }
    found: dict[str, None] = {}
    named: set[int] = set()
    for statement in statements:
        for node in subtree(statement):  # breadth first: `utils.setup` is met before its `utils`
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                module = _project_module(node.value, relative, context)
                if module is not None:
                    found[f"{module}.{node.attr}"] = None
                    named.add(id(node.value))
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and id(node) not in named:
                module = _project_module(node, relative, context)
                if module is not None:
                    found[module] = None
    yield from found


def _project_module(name: ast.Name, relative: dict[str, str], context: FixContext) -> str | None:
    """The qualified name `name` was imported as, when it comes from the project itself."""
    if name.id in relative:
        return relative[name.id]
    binding = context.names.binding(name.id)
    return binding.qualified if binding is not None and context.is_first_party(binding.qualified) else None


def _modules_called(statement: ast.stmt, context: FixContext) -> Iterator[str]:
    """What the statement reaches through imports (`sys` in `sys.exit(1)`), which removing it
    may leave unused: `import sys` is the plain name, `from sys import exit` the qualified one."""
    for node in subtree(statement):
        if isinstance(node, ast.Call):
            root = node.func
            while isinstance(root, ast.Attribute):
                root = root.value
            binding = context.names.binding(root.id) if isinstance(root, ast.Name) else None
            if isinstance(root, ast.Name) and binding is not None:
                yield binding.qualified if not binding.is_module else root.id


def _enclosing_block(tree: ast.AST, statement: ast.stmt | None) -> list[ast.stmt] | None:
    for node in subtree(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and statement in block:
                return block
    return None


def _called_functions(tree: ast.Module, statements: list[ast.stmt]) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The module's own functions that `statements` call by name, and those they call in turn."""
    defined = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    pending: list[ast.AST] = list(statements)
    while pending:
        for node in subtree(pending.pop()):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                function = defined.get(node.func.id)
                if function is not None and function.name not in found:
                    found[function.name] = function
                    pending.append(function)
    return list(found.values())


def _enclosing_call(statement: ast.stmt | None, argument: ast.AST) -> ast.Call | None:
    """The call in `statement` that takes `argument` as its only positional argument."""
    if statement is None:
        return None
    for node in subtree(statement):
        if isinstance(node, ast.Call) and len(node.args) == 1 and node.args[0] is argument:
            return node
    return None


def _is_plain_chain(node: ast.expr) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)
