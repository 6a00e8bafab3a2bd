"""What the code around a site says about where it runs, as the walk goes down the tree.

The walker (`walker.py`) enters the region each construct opens (a branch, a loop, a decorated
function, an `enabled=` argument, the body of a `try` with an `ImportError` fallback) and
leaves it on the way back up; every hit takes the context it was found in. The functions here
say which region a construct opens, from the probes `guards.py` recognises.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from typing import TypeAlias

from cudaudit.model import CUDA_API_TARGETS, TARGETS, Severity
from cudaudit.rules.python.guards import (
    Polarity,
    Probe,
    exits_early,
    is_requirement,
    names_cuda,
    polarity,
    probes_in,
)
from cudaudit.rules.python.names import ImportTable

if sys.version_info >= (3, 11):
    TryStatement: TypeAlias = ast.Try | ast.TryStar
else:
    TryStatement: TypeAlias = ast.Try

NO_CUDA_API_TARGETS = frozenset(TARGETS) - CUDA_API_TARGETS
OPTIONAL_IMPORT_HANDLERS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
"""Exception names whose handler is a fallback for a module that failed to import."""


@dataclass(frozen=True)
class Region:
    """How one region of code changes the severity of what is found in it."""

    cuda_guarded: bool = False
    """Runs only where `torch.cuda` has a device: quiet for CPU, XPU and MPS."""
    rocm_aware: bool = False
    """Sits in a branch chosen by a ROCm probe: already written with ROCm in mind."""
    cap: Severity | None = None
    """The most severe level anything here can be (another path, a probe's own test)."""
    optional_import: bool = False
    """The body of a `try` whose handler catches a failed import: a missing module has a fallback."""

    def __bool__(self) -> bool:
        return self.cuda_guarded or self.rocm_aware or self.cap is not None or self.optional_import


NEUTRAL = Region()


class SiteContext:
    """The stack of regions the walk is inside."""

    def __init__(self) -> None:
        self._cuda_guarded = 0
        self._rocm_aware = 0
        self._optional_import = 0
        self._caps: list[Severity] = []

    def enter(self, region: Region) -> None:
        """Enter `region` until `leave(region)`."""
        self._cuda_guarded += region.cuda_guarded
        self._rocm_aware += region.rocm_aware
        self._optional_import += region.optional_import
        if region.cap is not None:
            self._caps.append(region.cap)

    def leave(self, region: Region) -> None:
        self._cuda_guarded -= region.cuda_guarded
        self._rocm_aware -= region.rocm_aware
        self._optional_import -= region.optional_import
        if region.cap is not None:
            self._caps.pop()

    @property
    def optional_import(self) -> bool:
        """Inside the body of a `try` that falls back when an import fails."""
        return self._optional_import > 0

    def quiet_targets(self, guarded: bool = False) -> frozenset[str]:
        """Targets whose severity this context lowers to a note."""
        quiet: frozenset[str] = frozenset()
        if guarded or self._cuda_guarded:
            quiet |= NO_CUDA_API_TARGETS
        if self._rocm_aware:
            quiet |= CUDA_API_TARGETS
        return quiet

    def cap(self, extra: Severity | None = None) -> Severity | None:
        caps = [*self._caps, *([extra] if extra else [])]
        return min(caps, key=lambda s: s.rank) if caps else None


def branch_regions(test: ast.expr, names: ImportTable) -> tuple[Region, Region, Region]:
    """The regions of a condition's own test, its true branch and its false branch."""
    probes = probes_in(test, names)
    if not probes:
        return NEUTRAL, NEUTRAL, NEUTRAL
    cuda = polarity(test, names, Probe.CUDA) if Probe.CUDA in probes else None
    distributed = polarity(test, names, Probe.DISTRIBUTED) if Probe.DISTRIBUTED in probes else None
    rocm = Probe.ROCM in probes
    probe_test = (cuda is not None or rocm) and not isinstance(test, ast.BoolOp)
    return (
        Region(cap=Severity.NOTE) if probe_test else NEUTRAL,
        Region(cuda is Polarity.POSITIVE, rocm, Severity.WARNING if distributed is Polarity.POSITIVE else None),
        Region(cuda is Polarity.NEGATIVE, rocm, Severity.WARNING if distributed is Polarity.NEGATIVE else None),
    )


def region_after(statement: ast.stmt, names: ImportTable) -> Region:
    """The region the rest of a block is in after `statement`: `if not <cuda>: return`, `assert <cuda>`.

    A requirement (`assert torch.cuda.is_available()`, `if not torch.cuda.is_available():
    sys.exit()`) is no guard: the program stops there, so what follows keeps its own severity
    (the requirement itself is reported by `concerns/requirements.py`)."""
    if is_requirement(statement, names):
        return NEUTRAL
    if isinstance(statement, ast.If) and exits_early(statement.body):
        return branch_regions(statement.test, names)[2]
    if isinstance(statement, ast.Assert):
        return branch_regions(statement.test, names)[1]
    return NEUTRAL


def loop_region(iterable: ast.expr, names: ImportTable) -> Region:
    """`for i in range(torch.cuda.device_count()):` runs its body only when there are GPUs."""
    return Region(cuda_guarded=Probe.CUDA in probes_in(iterable, names))


def decorated_region(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, names: ImportTable) -> Region:
    """`@pytest.mark.skipif(not torch.cuda.is_available(), ...)`, `@requires_gpu`, `@skip_if_rocm`;
    a class named for CUDA (`class CUDA_Accelerator(Accelerator)`) is the CUDA side of a dispatch."""
    probes = set().union(*(probes_in(d, names) for d in node.decorator_list))
    cuda_named = isinstance(node, ast.ClassDef) and names_cuda(node.name)
    return Region(cuda_guarded=Probe.CUDA in probes or cuda_named, rocm_aware=Probe.ROCM in probes)


def enabled_region(call: ast.Call, names: ImportTable) -> Region:
    """`autocast("cuda", enabled=False)` does nothing; `enabled=torch.cuda.is_available()` guards."""
    for keyword in call.keywords:
        if keyword.arg == "enabled":
            value = keyword.value
            if isinstance(value, ast.Constant) and value.value is False:
                return Region(cap=Severity.NOTE)
            return Region(cuda_guarded=polarity(value, names, Probe.CUDA) is Polarity.POSITIVE)
    return NEUTRAL


def try_region(node: TryStatement) -> Region:
    """The body of `try: import cupy` / `except ImportError:` has a fallback for a missing module."""
    return Region(optional_import=any(_catches_import_error(handler) for handler in node.handlers))


def display_region(node: ast.FormattedValue) -> Region:
    """`f"built with CUDA {torch.version.cuda}"` only displays a value."""
    return Region(cap=Severity.NOTE) if isinstance(node.value, (ast.Name, ast.Attribute)) else NEUTRAL


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(t, ast.Name) and t.id in OPTIONAL_IMPORT_HANDLERS for t in types)
