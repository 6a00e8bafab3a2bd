"""Integer device indexes carried by local variables, followed through the function that sets them.

Distributed scripts compute the GPU a process uses and then pass the number around:

    local = rank % torch.cuda.device_count()   # ZeroDivisionError on a CPU-only machine
    torch.cuda.set_device(local)
    model = model.to(local)                    # an integer is an accelerator index
    t = torch.randint(0, 10, (n,), device=local)

A name counts as a device index when it is assigned from `... % device_count()`, from
`LOCAL_RANK` (`int(os.environ["LOCAL_RANK"])`), from `torch.cuda.current_device()`, or from
another such name, once in its function (or module). Where every use of it is a device
position (`.to(x)`, `device=x`, `set_device(x)`, DDP's `device_ids=[x]`/`output_device=x`, or an
f-string that only shows it), the assignment can hold a device instead of the number; otherwise
each use is rewritten where it is. A name assigned once a `torch.device(...)` (what that rewrite
writes: `torch.device(DEVICE_TYPE, local) if DEVICE_TYPE != "cpu" else torch.device("cpu")`)
holds a device, not an index, whatever it is called.
"""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass

from cudaudit.rules.python.names import ImportTable, dotted_name
from cudaudit.rules.python.nodes import children, own_nodes, subtree

COUNT_CALLS = frozenset({"torch.cuda.device_count", "torch.accelerator.device_count"})
CURRENT_DEVICE_CALLS = frozenset({"torch.cuda.current_device", "torch.accelerator.current_device_index"})
_ENV_READS = frozenset({"os.environ.get", "os.getenv"})
LOCAL_RANK = "LOCAL_RANK"
SPAWN_CALLS = frozenset({"torch.multiprocessing.spawn", "torch.multiprocessing.start_processes"})
"""Start `nprocs` processes running a function, and return once they are done."""
_NPROCS_POSITION = 2
"""`spawn(fn, args=(), nprocs=1, join=True, ...)`: `nprocs` is the third argument."""
DEVICE_CONSTRUCTORS = frozenset({"torch.device"})
DEVICE_CALLS = frozenset({"torch.cuda.set_device", "torch.cuda.device", "torch.accelerator.set_device_index"})
"""Callables whose first argument is a device index."""
_DEVICE_KEYWORDS = frozenset({"device", "output_device"})


@dataclass(frozen=True)
class IndexVariable:
    """A local name holding a device index, and what its assignment may become."""

    name: str
    value: ast.expr
    """The assigned expression."""
    divisor: ast.Call | None
    """The `device_count()` call the index is taken modulo, when there is one."""
    only_devices: bool
    """Every use is a device position: the assignment can hold a `torch.device` instead."""
    current: bool = False
    """The index is the current device's (`torch.cuda.current_device()`), which every path of the
    process has, not one a distributed launcher hands out (`LOCAL_RANK`)."""


def count_divisor(value: ast.expr, names: ImportTable) -> ast.Call | None:
    """The `device_count()` call `value` takes a number modulo, whatever the result is bound to."""
    return _divisor(value, names)


def is_count(value: ast.expr, names: ImportTable) -> bool:
    """`torch.cuda.device_count()`: 0 on a CPU-only build."""
    return isinstance(value, ast.Call) and not value.args and names.resolve(value.func) in COUNT_CALLS


def spawned_processes(call: ast.Call) -> ast.expr | None:
    """How many processes `torch.multiprocessing.spawn(fn, args, nprocs)` starts, as written: with
    none (a count of 0) it starts nothing and returns, so nothing of the program runs."""
    keyword = next((k.value for k in call.keywords if k.arg == "nprocs"), None)
    return keyword or (call.args[_NPROCS_POSITION] if len(call.args) > _NPROCS_POSITION else None)


def held_name(node: ast.expr) -> str | None:
    """The name or attribute chain of a name that holds a value (`n`, `cfg.gpus_per_machine`), as
    written; None for anything else (`f().n`, `xs[0]`)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and held_name(node.value) is not None:
        return dotted_name(node)
    return None


def counted_names(scope: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef, names: ImportTable) -> dict[str, ast.Call]:
    """`n = torch.cuda.device_count()`, `cfg.gpus_per_machine = torch.cuda.device_count()`: the names
    and attributes (`held_name`) the scope binds once, to the device count (0 on a CPU-only build),
    with the count's call; one bound again, or in a loop, holds something else too."""
    values: dict[str, ast.expr] = {}
    stores: dict[str, int] = {}
    for node in own_nodes(children(scope)):
        if isinstance(node, ast.Assign):
            values.update((held, node.value) for target in node.targets if (held := held_name(target)) is not None)
        if isinstance(node, (ast.Name, ast.Attribute)) and not isinstance(node.ctx, ast.Load):
            held = held_name(node)
            if held is not None:
                stores[held] = stores.get(held, 0) + 1
    return {
        name: value
        for name, value in values.items()
        if stores.get(name) == 1 and isinstance(value, ast.Call) and is_count(value, names)
    }


def counted_divisors(scope: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef, names: ImportTable) -> dict[int, ast.Call]:
    """`n = torch.cuda.device_count()`, then `local = rank % n`: for each name the scope binds once to
    the count (`counted_names`) and reads only as the divisor of a `%` (so holding `max(count, 1)`
    instead changes nothing where there is a GPU), the ids of those `%` operations, with the count's call."""
    reads: dict[str, int] = {}
    divisions: dict[str, list[ast.BinOp]] = {}
    for node in own_nodes(children(scope)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            reads[node.id] = reads.get(node.id, 0) + 1
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and isinstance(node.right, ast.Name)
            and not _is_text(node.left)  # `"%d GPUs" % n` formats
        ):
            divisions.setdefault(node.right.id, []).append(node)
    if not divisions:
        return {}
    counts = counted_names(scope, names)
    found: dict[int, ast.Call] = {}
    for name, divided in divisions.items():
        count = counts.get(name)
        if count is not None and reads.get(name) == len(divided):
            found.update((id(division), count) for division in divided)
    return found


def is_index_source(value: ast.expr, names: ImportTable) -> bool:
    """Whether an assigned value is a device index by itself (not through another variable)."""
    return _divisor(value, names) is not None or _is_index_call(value, names)


class DeviceIndexes:
    """The device index variables of one module, in every scope (each function, and the module)."""

    def __init__(self, tree: ast.Module, names: ImportTable) -> None:
        self._names = names
        self._by_value: dict[int, IndexVariable] = {}
        self._by_use: dict[int, IndexVariable] = {}
        self._device_uses: set[int] = set()
        for scope in _scopes_assigning_sources(tree, names):
            self._scope(scope)

    def assigned(self, value: ast.expr) -> IndexVariable | None:
        """The variable whose one assignment `value` is."""
        return self._by_value.get(id(value))

    def used(self, node: ast.expr) -> IndexVariable | None:
        """The variable `node` reads, if it is one."""
        return self._by_use.get(id(node))

    def holds_device(self, node: ast.expr) -> bool:
        """`node` reads a name that holds a device: one assigned a `torch.device(...)`, or an index
        used only as a device, which its own rewrite makes one where it is assigned."""
        variable = self._by_use.get(id(node))
        return id(node) in self._device_uses or (variable is not None and variable.only_devices)

    def _scope(self, scope: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        assigned: dict[str, list[ast.expr]] = {}
        for node in own_nodes(children(scope)):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(node.value)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name):
                assigned.setdefault(node.target.id, []).append(node.value or node.target)
        made = {name for name, values in assigned.items() if len(values) == 1 and makes_device(values[0], self._names)}
        if made:
            self._device_uses.update(id(node) for uses in _uses(scope, made).values() for node, _, _ in uses)
        found: dict[str, ast.expr] = {}
        for _ in range(2):  # `local = rank % n` then `device = local`
            for name, values in assigned.items():
                if len(values) == 1 and name not in found:
                    value = values[0]
                    if is_index_source(value, self._names) or (isinstance(value, ast.Name) and value.id in found):
                        found[name] = value
        if not found:
            return
        uses = _uses(scope, set(found))
        current = {name for name, value in found.items() if self._is_current(value, found)}
        for name, value in found.items():
            only_devices = all(_is_device_position(use, self._names) for use in uses[name])
            variable = IndexVariable(name, value, _divisor(value, self._names), only_devices, name in current)
            self._by_value[id(value)] = variable
            for node, _, _ in uses[name]:
                self._by_use[id(node)] = variable

    def _is_current(self, value: ast.expr, found: dict[str, ast.expr], depth: int = 0) -> bool:
        """`torch.cuda.current_device()`, or a name found holding it (`device = index`)."""
        if isinstance(value, ast.Name) and value.id in found and depth < len(found):
            return self._is_current(found[value.id], found, depth + 1)
        return isinstance(value, ast.Call) and self._names.resolve(value.func) in CURRENT_DEVICE_CALLS


def makes_device(value: ast.expr, names: ImportTable) -> bool:
    """`torch.device("cuda", i)`, or a choice between two such devices."""
    if isinstance(value, ast.IfExp):
        return makes_device(value.body, names) and makes_device(value.orelse, names)
    return isinstance(value, ast.Call) and names.resolve(value.func) in DEVICE_CONSTRUCTORS


def _is_index_call(value: ast.expr, names: ImportTable) -> bool:
    """`torch.cuda.current_device()`, `int(os.environ["LOCAL_RANK"])`."""
    if not isinstance(value, ast.Call):
        return False
    if names.resolve(value.func) in CURRENT_DEVICE_CALLS:
        return True
    is_int = isinstance(value.func, ast.Name) and value.func.id == "int" and names.binding("int") is None
    return is_int and bool(value.args) and _reads_local_rank(value.args[0], names)


def _reads_local_rank(node: ast.expr, names: ImportTable) -> bool:
    """`os.environ["LOCAL_RANK"]`, `os.environ.get("LOCAL_RANK", 0)`, `os.getenv("LOCAL_RANK")`."""
    if isinstance(node, ast.Subscript):
        return names.resolve(node.value) == "os.environ" and _is_string(node.slice, LOCAL_RANK)
    if isinstance(node, ast.Call) and node.args:
        return names.resolve(node.func) in _ENV_READS and _is_string(node.args[0], LOCAL_RANK)
    return False


def _divisor(value: ast.expr, names: ImportTable) -> ast.Call | None:
    """The `device_count()` call in `x % device_count()` (not `"%d GPUs" % device_count()`, which
    formats a string)."""
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mod) and not _is_text(value.left):
        right = value.right
        if isinstance(right, ast.Call) and is_count(right, names):
            return right
    return None


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)))


def _is_string(node: ast.expr, value: str) -> bool:
    return isinstance(node, ast.Constant) and node.value == value


_BLOCK_PARTS = (ast.stmt, ast.excepthandler, ast.match_case)
"""What a block is made of: statements, and the handlers and cases that hold their own statements."""


def _scopes_assigning_sources(tree: ast.Module, names: ImportTable) -> list[ast.Module | ast.FunctionDef | ast.AsyncFunctionDef]:
    """The module and each function that assigns a device index or a device (`is_index_source`,
    `makes_device`) in its own body, in the order `ast.walk` meets them; only statements are
    walked, since only they assign or define. Every other scope has no index variable to find."""
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    assigning: set[int] = set()
    todo: deque[tuple[ast.AST, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | None]] = deque([(tree, tree)])
    while todo:
        node, scope = todo.popleft()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(node)
            scope = node
        elif isinstance(node, ast.ClassDef):
            scope = None  # a class body is no scope; its methods are their own
        elif (
            isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign))
            and scope is not None
            and node.value is not None
            and (is_index_source(node.value, names) or makes_device(node.value, names))
        ):
            assigning.add(id(scope))
        for _, value in ast.iter_fields(node):
            if isinstance(value, list):
                todo.extend((item, scope) for item in value if isinstance(item, _BLOCK_PARTS))
    return [scope for scope in (tree, *functions) if id(scope) in assigning]


def _uses(scope: ast.AST, names: set[str]) -> dict[str, list[tuple[ast.Name, ast.AST | None, ast.AST | None]]]:
    """Each load of `names` with its parent and grandparent node."""
    uses: dict[str, list[tuple[ast.Name, ast.AST | None, ast.AST | None]]] = {name: [] for name in names}
    parents: dict[int, ast.AST] = {}
    stack: list[ast.AST] = [scope]
    while stack:
        node = stack.pop()
        for child in children(node):
            parents[id(child)] = node
            if isinstance(child, ast.Name) and child.id in names and isinstance(child.ctx, ast.Load):
                parent = node
                uses[child.id].append((child, parent, parents.get(id(parent))))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                _mark_nested_uses(child, names, uses)
            else:
                stack.append(child)
    return uses


def _mark_nested_uses(node: ast.AST, names: set[str], uses: dict[str, list]) -> None:
    """A nested function that reads the name: a use we cannot follow (never a device position)."""
    for sub in subtree(node):
        if isinstance(sub, ast.Name) and sub.id in names:
            uses[sub.id].append((sub, None, None))


def _is_device_position(use: tuple[ast.Name, ast.AST | None, ast.AST | None], names: ImportTable) -> bool:
    name, parent, grandparent = use
    if isinstance(parent, ast.FormattedValue):
        return True  # `f"rank {rank} on {local}"` only shows it
    if isinstance(parent, ast.keyword):
        return parent.arg in _DEVICE_KEYWORDS
    if isinstance(parent, ast.List) and isinstance(grandparent, ast.keyword):
        return grandparent.arg == "device_ids" and len(parent.elts) == 1
    if isinstance(parent, ast.Call) and parent.args and parent.args[0] is name:
        func = parent.func
        if isinstance(func, ast.Attribute) and func.attr in ("to", "cuda") and len(parent.args) == 1:
            return True
        return names.resolve(func) in DEVICE_CALLS
    return False
