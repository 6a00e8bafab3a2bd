"""`device-string` and `device-ordinal` keys: a device written where PyTorch takes one.

A device position is a `device=`-like keyword (`device_syntax.DEVICE_KEYWORDS`), the first
argument of `torch.device(...)`-like callables (`DEVICE_POSITIONAL`) and of `.to(...)`. There a
`"cuda"` string (also `"cuda:0"`, `f"cuda:{i}"`) is a device string, and an integer
(`x.to(0)`) or a name for one (`model.to(local_rank)`, or a variable `device_flow.py` follows
from `rank % torch.cuda.device_count()`) an ordinal that means a CUDA device.
A device inside a comparison (`t.device == torch.device("cuda")`) is a check, not a use. In a test
module, a `device=` given to a stand-in (`types.SimpleNamespace(device="cuda")`, `Mock(device=...)`)
is an attribute of a test double that imitates a tensor or a pipeline: nothing runs on it.
Settings named for devices (`device = "cuda"`) are the `settings` concern's. A device handed to a
callee of the project that replaces it with the CPU where CUDA is unavailable (`fallback_callees.py`)
is a note at most.
Inside `with FakeTensorMode():` the `device=` of a tensor factory (`torch.empty(n, device="cuda")`)
is a fake tensor's device, which allocates nothing: its own key, from the catalog's
`[fake_tensor_mode]` table (the modes, the factories and the methods that make fake tensors).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import partial

from cudaudit.rules.catalog import Catalog
from cudaudit.rules.python.autocast_state import asks_for_half
from cudaudit.rules.python.device_flow import (
    COUNT_CALLS,
    SPAWN_CALLS,
    DeviceIndexes,
    IndexVariable,
    count_divisor,
    counted_divisors,
    counted_names,
    held_name,
    is_count,
    is_index_source,
    makes_device,
    spawned_processes,
)
from cudaudit.rules.python.device_syntax import (
    DEVICE_KEYWORDS,
    DEVICE_POSITIONAL,
    MESH_CALLS,
    device_ordinal_kind,
    is_cuda_device_string,
    may_spell_cuda_device,
)
from cudaudit.rules.python.launched_routes import LaunchedRoutes
from cudaudit.rules.python.names import dotted_name
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.regions import HANDED_TO_FALLBACK
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.walker import Concern, PythonWalker
from cudaudit.rules.python.worker_indexes import worker_indexes

DEVICE_STRING = "device-string"
DEVICE_ORDINAL = "device-ordinal"
CURRENT_INDEX = "current-index"
"""The device-ordinal key of a name holding `torch.cuda.current_device()`, used as a device."""
WORKER_INDEX = "worker-index"
"""The device-ordinal key of a spawned worker's index parameter, an integer on every route into it."""
AMP_CALLS = frozenset({"torch.autocast", "torch.amp.autocast", "torch.amp.GradScaler"})
AUTOGRAD_AMP_CALLS = frozenset(
    {"torch.amp.custom_fwd", "torch.amp.custom_bwd", "torch.amp.autocast_mode.custom_fwd", "torch.amp.autocast_mode.custom_bwd"}
)
"""Decorators of a custom autograd function's `forward` and `backward` that record the autocast state
of their `device_type` in the forward and restore it in the backward: they cast nothing while that
device type's autocast is off, so on another device they change nothing."""
STAND_INS = frozenset(
    {"types.SimpleNamespace", "unittest.mock.Mock", "unittest.mock.MagicMock", "unittest.mock.NonCallableMock"}
)
"""Constructors of test doubles: their keywords are attributes of the double, not arguments of PyTorch."""
AMP_DEVICE_KEY = "amp"
"""The device-string key for a device that only chooses where mixed precision applies: there a
CPU-only build warns and turns the feature off instead of raising."""
HALF_AMP_KEY = "amp-half"
"""The device-string key for the CUDA device type of a float16 autocast (`autocast_state.asks_for_half`):
mixed precision meant for GPUs, which a CPU runs in float32 as written."""
HALF_AMP_CALLS = frozenset({"torch.autocast", "torch.amp.autocast"})
AUTOGRAD_AMP_KEY = "autograd-amp"
"""The device-string key for the device type of `custom_fwd`/`custom_bwd` (`AUTOGRAD_AMP_CALLS`)."""
MESH_DEVICE_KEY = "mesh"
"""The device-string key for the device type of a `DeviceMesh`, which raises where it is built."""
FAKE_DEVICE_KEY = "fake-tensor"
"""The device-string key for the device of a fake tensor, made by a factory inside a fake tensor mode."""
FAKE_TENSOR_TABLE = "fake_tensor_mode"
BATCH_SIZE = "batch_size"
"""A keyword of a loader (`DataLoader(batch_size=n)`) or a name or attribute that holds one: a batch
of no items raises (`DataLoader`'s `ValueError`) or loads nothing."""


@dataclass(frozen=True)
class FakeTensorMode:
    """What the catalog's `[fake_tensor_mode]` says makes fake tensors: the mode's qualified names,
    and the factories and tensor methods whose `device=` inside it allocates nothing."""

    modes: frozenset[str]
    factories: frozenset[str]
    methods: frozenset[str]

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> FakeTensorMode:
        tables = [table for _, table in catalog.tables(FAKE_TENSOR_TABLE)]
        fields = ("modes", "factories", "methods")
        return cls(*(frozenset(name for table in tables for name in table.get(field, ())) for field in fields))

    def makes_fake(self, call: ast.Call, callee: str | None) -> bool:
        """`torch.empty(...)`, `x.new_zeros(...)`: a call whose `device=` a fake tensor mode keeps as metadata."""
        return callee in self.factories or (isinstance(call.func, ast.Attribute) and call.func.attr in self.methods)


class DevicePositions(Concern):
    def __init__(self, walk: PythonWalker) -> None:
        super().__init__(walk)
        self._tree: ast.Module | None = None
        self._indexes: DeviceIndexes | None = None
        self._aliases: dict[str, str] = {}
        """Names assigned a callable that takes a device first: `scope = autocast if amp else nullcontext`."""
        self._fake: FakeTensorMode | None = None
        self._fake_lines: list[tuple[int, int]] = []
        """The lines of the `with` blocks that run in a fake tensor mode."""
        self._fake_devices: set[int] = set()
        """The ids of `torch.device(...)` calls given as a fake factory's `device=`."""
        self._launched: LaunchedRoutes | None = None
        self._counted: dict[int, dict[int, ast.Call]] = {}
        """Per scope, its `%` operations whose divisor is a name holding the device count."""
        self._counts: dict[int, dict[str, ast.Call]] = {}
        """Per scope, the names it binds once to the device count."""
        self._counted_uses: set[int] = set()
        """The ids of the device-count calls reported as a batch size or a divisor."""
        self._workers: dict[int, frozenset[str]] | None = None
        """The spawned workers' index parameters, and those of the functions they hand it to (`worker_indexes`),
        read where a rank's name is first used as a device."""

    def on_Module(self, node: ast.Module) -> None:
        self._tree = node

    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """A `"cuda"` string; an index variable's source or a number taken modulo the device count; an
        integer or a name for one in a device position of any call that may take a device there; a
        spawn of processes."""
        names = survey.names
        if survey.has_string(may_spell_cuda_device):
            return True
        if any(is_index_source(node.value, names) or makes_device(node.value, names) for node in survey.of(ast.Assign)):
            return True
        if any(isinstance(node.op, ast.Mod) and count_divisor(node, names) is not None for node in survey.of(ast.BinOp)):
            return True
        if any(is_count(node.value, names) for node in survey.of(ast.Assign)) and any(
            isinstance(node.op, ast.Mod) and isinstance(node.right, ast.Name) for node in survey.of(ast.BinOp)
        ):
            return True
        if any(callee in COUNT_CALLS for _, callee in survey.calls) and (
            any(isinstance(node.op, (ast.Div, ast.FloorDiv)) for node in survey.of(ast.BinOp))
            or any(keyword.arg == BATCH_SIZE for keyword in survey.of(ast.keyword))
            or any(_last_name(target) == BATCH_SIZE for node in survey.of(ast.Assign) for target in node.targets)
        ):
            return True
        aliases = {
            node.targets[0].id
            for node in survey.of(ast.Assign)
            if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and any(names.resolve(choice) in DEVICE_POSITIONAL for choice in _choices(node.value))
        }
        for call, callee in survey.calls:
            if callee in SPAWN_CALLS:
                return True
            if any(keyword.arg in DEVICE_KEYWORDS and device_ordinal_kind(keyword.value) for keyword in call.keywords):
                return True
            func = call.func
            positional = (
                callee in DEVICE_POSITIONAL
                or callee == "functools.partial"
                or (isinstance(func, ast.Attribute) and func.attr == "to")
                or (isinstance(func, ast.Name) and func.id in aliases)
            )
            if positional and call.args and device_ordinal_kind(call.args[0]):
                return True
        return False

    def on_Assign(self, node: ast.Assign) -> None:
        """`local = rank % torch.cuda.device_count()`: where the module's index variables are first
        needed, they are found (most modules have none, and are not walked for them)."""
        names = self.walk.names
        self._alias(node)
        if not self.walk.in_comparison and any(_last_name(target) == BATCH_SIZE for target in node.targets):
            self._counted_use(node.value, "count-batch", "counted-batch")
        if self._indexes is None and self._tree is not None and (
            is_index_source(node.value, names) or makes_device(node.value, names)
        ):
            self._indexes = DeviceIndexes(self._tree, self.walk.names)
        variable = self._indexes.assigned(node.value) if self._indexes else None
        if variable is None:
            return
        # Used only as a device, the variable is made a device where it is assigned; otherwise
        # each use is a site, and the count alone is reported here when the index divides by it.
        if variable.only_devices:
            kind = "count-modulo" if variable.divisor else self._on_route("index-variable", node.value)
            self.walk.report(DEVICE_ORDINAL, kind, node.value)
        elif variable.divisor is not None:
            self.walk.report(DEVICE_ORDINAL, "count-divisor", variable.divisor)

    def on_BinOp(self, node: ast.BinOp) -> None:
        """`args.gpu = args.rank % torch.cuda.device_count()`, `str(rank % torch.cuda.device_count())`:
        a number taken modulo the device count, which is 0 on a CPU-only build, where it is no index
        variable's one assignment (those are reported where they are assigned, above). A number
        divided by it (`total // torch.cuda.device_count()`, `/ n` after `n = torch.cuda.device_count()`)
        raises ZeroDivisionError there too."""
        if self.walk.in_comparison:
            return
        if isinstance(node.op, (ast.Div, ast.FloorDiv)):
            self._counted_use(node.right, "count-quotient", "counted-quotient")
        if not isinstance(node.op, ast.Mod):
            return
        divisor = count_divisor(node, self.walk.names) or self._counted_divisor(node)
        if divisor is not None and (self._indexes is None or self._indexes.assigned(node) is None):
            self.walk.report(DEVICE_ORDINAL, "count-divisor", divisor)

    def _counted_use(self, value: ast.expr, direct: str, held: str) -> None:
        """Report the device count where `value`, a position 0 breaks, reads it: the call itself
        (`direct`, whose rewrite `max(count, 1)` changes nothing where there is a GPU), or a name or
        attribute the scope binds once to it (`held`, reported at that call; its other reads would
        see what the call is made to return, so it has no rewrite). Each count once."""
        call: ast.expr | None = value
        key = direct
        if not is_count(value, self.walk.names):
            name = held_name(value)
            call = self._scope_counts().get(name) if name is not None else None
            key = held
        if call is not None and id(call) not in self._counted_uses:
            self._counted_uses.add(id(call))
            self.walk.report(DEVICE_ORDINAL, key, call)

    def _scope_counts(self) -> dict[str, ast.Call]:
        """The names and attributes the walk's scope binds once to the device count (`counted_names`)."""
        scope = self._scope()
        counts = self._counts.get(id(scope))
        if counts is None:
            counts = self._counts[id(scope)] = counted_names(scope, self.walk.names)
        return counts

    def _spawned(self, call: ast.Call) -> None:
        """`mp.spawn(fn, nprocs=torch.cuda.device_count())`, or `nprocs=n` after `n = torch.cuda.device_count()`
        (`nprocs=cfg.gpus` after `cfg.gpus = torch.cuda.device_count()`):
        a CPU-only build counts 0 devices, and a spawn of no process returns at once, so nothing runs
        (ROCm's build counts its GPUs). A name is reported where the spawn reads it: its other reads
        (`args=(world_size,)`) would see whatever it is made to hold, so it has no rewrite."""
        count = spawned_processes(call)
        if count is None:
            return
        if is_count(count, self.walk.names):
            self.walk.report(DEVICE_ORDINAL, "count-processes", count)
        elif (held := held_name(count)) is not None and held in self._scope_counts():
            self.walk.report(DEVICE_ORDINAL, "counted-processes", count)

    def _counted_divisor(self, node: ast.BinOp) -> ast.Call | None:
        """The count `n` holds in `rank % n` after `n = torch.cuda.device_count()` (`counted_divisors`)."""
        if not isinstance(node.right, ast.Name) or self._tree is None:
            return None
        scope = self._scope()
        found = self._counted.get(id(scope))
        if found is None:
            found = self._counted[id(scope)] = counted_divisors(scope, self.walk.names)
        return found.get(id(node))

    def _alias(self, node: ast.Assign) -> None:
        """A name bound to `torch.autocast` (or either side of a conditional expression being it) is
        called as it: `with scope("cuda"):` after `scope = autocast if precision == "autocast" else
        nullcontext` chooses the device as `autocast("cuda")` does, on the path that uses it."""
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            return
        callee = next(
            (q for choice in _choices(node.value) if (q := self.walk.names.resolve(choice)) in DEVICE_POSITIONAL), None
        )
        if callee is not None:
            self._aliases[node.targets[0].id] = callee

    def on_With(self, node: ast.With) -> None:
        """`with FakeTensorMode():`, `with fake_mode:` after `fake_mode = FakeTensorMode(...)`, or a
        mode named for what it is (`with self.fake_mode:`, as PyTorch names the one it hands on)."""
        if self._fake is None:
            self._fake = FakeTensorMode.from_catalog(self.walk.catalog)
        modes = self._fake.modes
        if modes and node.body and any(self._is_fake_mode(item.context_expr, modes) for item in node.items):
            self._fake_lines.append((node.body[0].lineno, node.end_lineno or node.body[-1].lineno))

    def _is_fake_mode(self, expr: ast.expr, modes: frozenset[str]) -> bool:
        if isinstance(expr, ast.Call):
            return self.walk.names.resolve(expr.func) in modes
        if not isinstance(expr, (ast.Name, ast.Attribute)):
            return False
        words = _words(dotted_name(expr).rpartition(".")[2])
        if "fake" in words and "mode" in words:
            return True
        scope = self.walk.functions[-1] if self.walk.functions else self._tree
        return isinstance(expr, ast.Name) and scope is not None and any(
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets)
            and isinstance(node.value, ast.Call)
            and self.walk.names.resolve(node.value.func) in modes
            for node in subtree(scope)
        )

    def _in_fake_mode(self, call: ast.Call) -> bool:
        return any(first <= call.lineno <= last for first, last in self._fake_lines)

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        walk = self.walk
        if walk.in_comparison:
            return
        if callee is None and isinstance(call.func, ast.Name):
            callee = self._aliases.get(call.func.id)
        if callee in SPAWN_CALLS:
            self._spawned(call)
        for keyword in call.keywords:
            if keyword.arg == BATCH_SIZE:
                self._counted_use(keyword.value, "count-batch", "counted-batch")
        if walk.in_tests and callee in STAND_INS:
            return
        fake = self._fake is not None and self._in_fake_mode(call) and self._fake.makes_fake(call, callee)
        if callee == "functools.partial" and call.args and self.walk.names.resolve(call.args[0]) in AUTOGRAD_AMP_CALLS:
            callee = self.walk.names.resolve(call.args[0])  # `partial(torch.amp.custom_fwd, device_type="cuda")`
        half = callee in HALF_AMP_CALLS and asks_for_half(call, walk.names, walk.functions, walk.owner)
        for keyword in call.keywords:
            if keyword.arg == "device_type" and half:
                self._device(keyword.value, HALF_AMP_KEY)
            elif keyword.arg == "device" and fake:
                self._device(keyword.value, FAKE_DEVICE_KEY)
                if isinstance(keyword.value, ast.Call):
                    self._fake_devices.add(id(keyword.value))
            elif keyword.arg in DEVICE_KEYWORDS and walk.fallback_calls.takes(call, keyword.arg):
                walk.within(HANDED_TO_FALLBACK, partial(self._device, keyword.value, _device_key(callee, keyword.arg)))
            elif keyword.arg in DEVICE_KEYWORDS:
                self._device(keyword.value, _device_key(callee, keyword.arg))
        if not call.args:
            return
        if callee in DEVICE_POSITIONAL:
            key = HALF_AMP_KEY if half else FAKE_DEVICE_KEY if id(call) in self._fake_devices else _device_key(callee)
            self._device(call.args[0], key)
        elif isinstance(call.func, ast.Attribute) and call.func.attr == "to":
            self._device(call.args[0])

    def _device(self, value: ast.expr, key: str = "") -> None:
        """A value in a device position: a `"cuda"` string or an integer ordinal."""
        self.walk.report_values(value, DEVICE_STRING, is_cuda_device_string, key=key)
        if self._indexes is not None and self._indexes.holds_device(value):
            return  # a device, or an index its own rewrite makes one where it is assigned
        variable = self._indexes.used(value) if self._indexes else None
        kind = device_ordinal_kind(value) if variable is None else _variable_kind(variable)
        if kind == "name" and self._is_worker_index(value):
            kind = WORKER_INDEX
        if kind:
            self.walk.report(DEVICE_ORDINAL, self._on_route(kind, value), value)

    def _on_route(self, kind: str, value: ast.expr) -> str:
        """A rank's index (`name`, `index-variable`) after its route joined a process group on every
        branch is on the normal path of a program that only runs launched (`launched_routes`), as it
        is anywhere in a module whose every documented command is a launch (`launched_entries`)."""
        if kind not in _RANK_KINDS or self._tree is None:
            return kind
        if self.walk.names.always_launched or self.walk.names.launched_some:
            return _RANK_KINDS[kind]
        if self._launched is None:
            self._launched = LaunchedRoutes(self._tree, self.walk.names)
        return _RANK_KINDS[kind] if self._launched.launched(self._scope(), value.lineno) else kind

    def _is_worker_index(self, value: ast.expr) -> bool:
        """`model.to(gpu)` in `def worker(gpu, cfg)`, which every route gives an integer."""
        if not isinstance(value, ast.Name) or not self.walk.functions or self._tree is None:
            return False
        if self._workers is None:
            self._workers = worker_indexes(self._tree, self.walk.names)
        return value.id in self._workers.get(id(self.walk.functions[-1]), ())

    def _scope(self) -> ast.Module | ast.FunctionDef | ast.AsyncFunctionDef:
        """The function the walk is in, or the module (whose `on_Module` has run: `_tree` is set)."""
        assert self._tree is not None
        return self.walk.functions[-1] if self.walk.functions else self._tree


def _last_name(target: ast.expr) -> str | None:
    """`batch_size` of `batch_size = ...` and of `self.batch_size = ...`."""
    return target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else None


_RANK_KINDS = {"name": "launched-name", "index-variable": "launched-index-variable"}
"""The device-ordinal keys of a rank's index, and those of the same index on a launched route."""


def _choices(value: ast.expr) -> list[ast.expr]:
    """What an assignment may bind: either side of a conditional expression, else the value."""
    return [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]


def _variable_kind(variable: IndexVariable) -> str:
    """The device-ordinal key of a use of an index variable: the current device's index is one on
    every path (`name`, a rank's, is mostly the distributed launch's)."""
    return CURRENT_INDEX if variable.current else "name"


def _device_key(callee: str | None, keyword: str | None = None) -> str:
    """The device-string key of a device given to `callee` (positionally, or as `keyword`): a mesh's
    device type, the autocast state a custom autograd function keeps, mixed precision's
    (`torch.autocast`, or any `device_type=` elsewhere), or a device."""
    if callee in MESH_CALLS:
        return MESH_DEVICE_KEY
    if callee in AUTOGRAD_AMP_CALLS:
        return AUTOGRAD_AMP_KEY
    if callee in AMP_CALLS or keyword == "device_type":
        return AMP_DEVICE_KEY
    return ""


def _words(identifier: str) -> set[str]:
    """`fake_mode`, `dstFakeMode` → their lower-case words."""
    return {word.lower() for word in _WORD_SPLIT.split(identifier) if word}


_WORD_SPLIT = re.compile(r"[_\W]+|(?<=[a-z])(?=[A-Z])")

CONCERN = DevicePositions
