"""What the code around a site says about where it runs, as the walk goes down the tree.

The walker (`walker.py`) enters the region each construct opens (a branch, a loop, a decorated
function, an `enabled=` argument, the body of a `try` with an `ImportError` fallback) and
leaves it on the way back up; every hit takes the context it was found in. The functions here
say which region a construct opens, from the probes `guards.py` recognises.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TypeAlias

from cudaudit.model import CUDA_API_TARGETS, TARGETS, Severity
from cudaudit.rules.python.autocast_state import restores_state
from cudaudit.rules.python.guards import (
    CUDA_DEVICE_STRING,
    Polarity,
    Probe,
    accelerator_polarity,
    catches_import_error,
    exits_early,
    feature_probe,
    is_requirement,
    is_skip_call,
    marker_probes,
    names_cuda,
    never_falls_through,
    polarity,
    probes_in,
    refusal,
    scheduler_test,
    skips_without_module,
    stops_the_program,
    torch_launcher_test,
)
from cudaudit.rules.python.names import ImportTable, dotted_name, picks_another
from cudaudit.rules.python.nodes import children, handler_catches, own_nodes, substituted, subtree, without_not
from cudaudit.rules.python.process_groups import takes_process_group
from cudaudit.rules.python.skip_conditions import (
    Skips,
    always_skips,
    decorator_skips,
    device_type_skips,
    factory_skips,
    skip_call,
    skips_where,
)

if sys.version_info >= (3, 11):
    TryStatement: TypeAlias = ast.Try | ast.TryStar
    TRY_STATEMENTS = (ast.Try, ast.TryStar)
else:
    TryStatement: TypeAlias = ast.Try
    TRY_STATEMENTS = (ast.Try,)

NO_CUDA_API_TARGETS = frozenset(TARGETS) - CUDA_API_TARGETS
CPU_TARGETS = frozenset({"cpu"})
ALL_TARGETS = frozenset(TARGETS)
DEVICE_ERROR_HANDLERS = frozenset({
    "Exception", "BaseException", "RuntimeError", "AssertionError", "OSError",
    "FileNotFoundError", "CalledProcessError", "SubprocessError",
})
"""Exception names whose handler catches what CUDA code raises where there is no CUDA device, and what
running an NVIDIA tool raises where it is not installed (`FileNotFoundError` from `subprocess`) or fails
(`subprocess.CalledProcessError`)."""


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
    cpu_aware: bool = False
    """Sits in a branch chosen by a CPU test (`if device == "cpu":`): already written with CPU in mind."""
    nvidia_only: bool = False
    """Runs only on NVIDIA's CUDA (`if torch.version.cuda:`, `if is_nvidia:`): quiet for every other target."""
    probe: bool = False
    """The body of a `try` whose handler falls back or swallows the error: what fails there is caught."""
    test: bool = False
    """A probe's own test (`if torch.cuda.is_available():`): quiet itself, though a function it calls runs whole."""
    elsewhere: bool = False
    """Runs on none of the targets: only on an accelerator none of them is (`if is_torch_xla_available():`),
    or never (after `return`): quiet for every target."""

    def __bool__(self) -> bool:
        return (
            self.cuda_guarded
            or self.rocm_aware
            or self.cap is not None
            or self.optional_import
            or self.cpu_aware
            or self.nvidia_only
            or self.probe
            or self.test
            or self.elsewhere
        )


NEUTRAL = Region()
ANOTHER_PATH = Region(cap=Severity.WARNING)
"""Code only another path than the normal one runs (a default every call overrides): a warning at most."""
GIVEN_DEFAULT = Region(cap=Severity.NOTE)
"""A parameter default that every call seen gives a value instead (`load(path, device=device)`),
the function's callers all seen (`defaults.ModuleCalls.default_always_given`): never taken."""
UNREAD_DEFAULT = Region(cap=Severity.NOTE)
"""A parameter default the function only stores where nothing reads it (`self.device = device`):
no device is ever made from it."""
OPTIONAL_PATH = ANOTHER_PATH
"""Code that runs only where an optional library is installed (`if HAS_TRITON:`): another path."""
COMMAND_LINE_DEFAULT = ANOTHER_PATH
"""A setting the command line overrides (`add_argument("--device", default="cuda")`, a script's
`device = "cuda"` that the configurator it `exec`s rebinds from `--device=cpu`) that the module
never reads to choose a device or a distributed backend (only compares, or leaves to another
module; `concerns/settings.py`)."""
LAUNCH_SETTING = ANOTHER_PATH
"""A distributed backend kept as data, in a dict (`dist_cfg=dict(backend="nccl")`, `{"backend":
"nccl"}`), as configuration files hold it: the code that reads it hands it to a process group only
when a launcher starts several processes, never on the single-process run of a machine without
GPUs (`concerns/distributed.py`)."""
DISPLAYED = Region(cap=Severity.NOTE)
"""A value only shown (`f"CUDA {torch.version.cuda}"`, `str(torch.version.cuda)` in a report, a log
line): what it holds on another build is printed, nothing is decided by it."""
ONLY_COMPARED = Region(cap=Severity.NOTE)
"""A device string kept in a name that its function only compares with (`expected = "cuda"`, then
`d.type == expected`): it matches devices, it chooses none; on a CPU nothing matches."""
PAST_ABSENT_IMPORT = Region(cuda_guarded=True)
"""The rest of a test's block after an import of a package no machine without a GPU can install
(`import transformer_engine`, `package_probes.imports_package`): the import fails there, so what
follows never runs on a machine without a CUDA device; the import is the one finding for it."""
UNREACHABLE = Region(elsewhere=True)
"""The rest of a block after a statement that never lets it go on (`return`, `raise`,
`self.skipTest(...)`, `sys.exit()`): Python runs it on no target."""
REPLACED_WITHOUT_CUDA = Region(cap=Severity.NOTE)
"""A command-line default (`--device cuda`) that the module replaces with another device under a
test of CUDA's availability (`elif not torch.cuda.is_available(): args.device = "cpu"`): a host
without CUDA never runs with it (`concerns/settings.py`)."""
CPU_DOCUMENTED_DEFAULT = Region(cpu_aware=True)
"""A command-line default (`--device cuda`) that a command of the project's documents sets to the
CPU where it runs the script (`python infer.py --device cpu`): the CPU's route is the documented
command, which does not run with the default; other targets keep the default's reading
(`concerns/settings.py`)."""
HANDED_TO_FALLBACK = Region(cap=Severity.NOTE)
"""A device handed to a function or class of the project that replaces it with the CPU where
`torch.cuda.is_available()` is False (`Recognizer(device="cuda:0")`, `fallback_callees.py`), or a
setting read only there: it runs on every target, the GPU where there is one (ROCm's too)."""
FALLBACK_VALUE = ANOTHER_PATH
"""The value a lookup gives where the setting is absent (`getattr(args, "device", "cuda")`,
`os.environ.get("DEVICE", "cuda")`): the setting picks another device on the other targets."""


class SiteContext:
    """The stack of regions the walk is inside."""

    def __init__(self) -> None:
        self._cuda_guarded = 0
        self._rocm_aware = 0
        self._optional_import = 0
        self._cpu_aware = 0
        self._nvidia_only = 0
        self._probe = 0
        self._test = 0
        self._elsewhere = 0
        self._caps: list[Severity] = []

    def enter(self, region: Region) -> None:
        """Enter `region` until `leave(region)`."""
        self._cuda_guarded += region.cuda_guarded
        self._rocm_aware += region.rocm_aware
        self._optional_import += region.optional_import
        self._cpu_aware += region.cpu_aware
        self._nvidia_only += region.nvidia_only
        self._probe += region.probe
        self._test += region.test
        self._elsewhere += region.elsewhere
        if region.cap is not None:
            self._caps.append(region.cap)

    def leave(self, region: Region) -> None:
        self._cuda_guarded -= region.cuda_guarded
        self._rocm_aware -= region.rocm_aware
        self._optional_import -= region.optional_import
        self._cpu_aware -= region.cpu_aware
        self._nvidia_only -= region.nvidia_only
        self._probe -= region.probe
        self._test -= region.test
        self._elsewhere -= region.elsewhere
        if region.cap is not None:
            self._caps.pop()

    @property
    def optional_import(self) -> bool:
        """Inside the body of a `try` that falls back when an import fails."""
        return self._optional_import > 0

    @property
    def in_test(self) -> bool:
        """Inside a probe's own test, whose cap does not reach the functions it calls."""
        return self._test > 0

    @property
    def in_probe(self) -> bool:
        """Inside the body of a `try` whose handler falls back or swallows the error."""
        return self._probe > 0

    def quiet_targets(self, guarded: bool = False) -> frozenset[str]:
        """Targets whose severity this context lowers to a note."""
        quiet: frozenset[str] = frozenset()
        if guarded or self._cuda_guarded:
            quiet |= NO_CUDA_API_TARGETS
        if self._rocm_aware:
            quiet |= CUDA_API_TARGETS
        if self._cpu_aware:
            quiet |= CPU_TARGETS
        if self._nvidia_only or self._elsewhere:
            quiet |= ALL_TARGETS
        return quiet

    def cap(self, extra: Severity | None = None) -> Severity | None:
        caps = [*self._caps, *([extra] if extra else [])]
        return min(caps, key=lambda s: s.rank) if caps else None


def branch_regions(test: ast.expr, names: ImportTable, settings: bool = True) -> tuple[Region, Region, Region]:
    """The regions of a condition's own test, its true branch and its false branch (read without
    the settings that are off by default where `settings` is False: `region_after`'s stops).

    A branch taken only where `torch.cuda` has a device is guarded for the targets without one;
    both branches of a ROCm (or CPU) test were written with ROCm (or CPU) in mind, and the branch
    taken only on ROCm (`if torch.version.hip:`, `if DEVICE_TYPE == "hip":`) never runs on the
    targets without `torch.cuda` either; a branch taken only under a launch of several processes
    (`if world_size > 1:`, `if args.distributed:`, `if "SLURM_PROCID" in os.environ:`), or only
    where an optional library is installed (`if HAS_FLASH_ATTENTION:`), or only when the user turns
    on a setting the module shows to be off by default (`if cfg.get("use_x", False):`), is another
    path than the normal one: at most a warning. So is the branch a feature probe (`hasattr(torch,
    "accelerator")`) takes where the module lacks the attribute: a fallback for older releases
    (`... if hasattr(torch, "accelerator") else "cuda"`). The branch `torch.cuda.is_available() or
    torch.xpu.is_available()` (or `has_triton()`) takes runs where some accelerator is: never on a CPU-only machine. A
    branch taken only on an accelerator none of the targets is (`if is_torch_xla_available():`,
    `if device.type == "npu":`) runs on no target. Where the project's configuration turns the
    distributed switch on (`launch_switches.py`), or where every documented command of the module's
    route starts it under a launcher (`launched_entries.py`), the launch's branch is the normal path
    and the single-process one is the other; where the commands of one use do and those of another
    run one process, neither is. On such a documented launch, a launch switch that is off by default
    (`if args.distributed:` with a `store_true` option) is the launch's test, not the user's opt-in."""
    accelerator = accelerator_polarity(test, names)
    if accelerator is not None:
        some = Region(cpu_aware=True)  # CUDA, XPU or MPS is there: never a CPU-only machine
        return (NEUTRAL, some, NEUTRAL) if accelerator is Polarity.POSITIVE else (NEUTRAL, NEUTRAL, some)
    feature = feature_probe(test, names)
    if feature is not None and not probes_in(test, names):  # `hasattr(dist, "ProcessGroupNCCL")` probes a build
        older = Region(cap=Severity.WARNING)  # the branch only releases without the attribute take
        return (NEUTRAL, NEUTRAL, older) if feature is Polarity.POSITIVE else (NEUTRAL, older, NEUTRAL)
    probes = probes_in(test, names)
    if not probes:
        turned_off = _turned_off_side(test, names)
        if turned_off is None:
            return NEUTRAL, NEUTRAL, NEUTRAL
        no_caller = Region(cap=Severity.WARNING)  # the arm only a caller that turns the keyword off takes
        return (NEUTRAL, no_caller, NEUTRAL) if turned_off is Polarity.POSITIVE else (NEUTRAL, NEUTRAL, no_caller)
    cuda = polarity(test, names, Probe.CUDA) if Probe.CUDA in probes else None
    nvidia = polarity(test, names, Probe.NVIDIA) if Probe.NVIDIA in probes else None
    several = polarity(test, names, Probe.MULTI_PROCESS) if Probe.MULTI_PROCESS in probes else None
    documented_launch = (
        several is not None and (names.always_launched or names.launched_some)
        and not (scheduler_test(test) and not names.scheduler_launched)
    )
    # a batch scheduler's tasks hold no PyTorch launcher's variable: `"RANK" in os.environ` is false in them too
    scheduled = names.scheduler_launched and torch_launcher_test(test) and not scheduler_test(test)
    if several is not None and (
        _launched_by_default(test, names) or (documented_launch and names.always_launched and not scheduled)
    ):
        several = several.flipped  # the project launches several processes: a single one is the user's choice
    elif documented_launch:
        several = None  # one documented use launches several processes, another runs one: both are normal
    turned_off = _turned_off_side(test, names)
    rocm = Probe.ROCM in probes
    only_rocm = polarity(test, names, Probe.ROCM) if rocm else None
    cpu = Probe.CPU in probes
    other = polarity(test, names, Probe.OTHER_DEVICE) if Probe.OTHER_DEVICE in probes else None
    optional = (
        polarity(test, names, Probe.OPTIONAL)
        if Probe.OPTIONAL in probes and cuda is None and not rocm and other is None
        else None
    )
    # `if args.distributed:` with a `store_true` option: on a documented launch, the launch turns it on
    launch_switch = documented_launch and not isinstance(without_not(test)[0], ast.BoolOp)
    opted_in = (
        polarity(test, names, Probe.OFF_BY_DEFAULT)
        if settings and Probe.OFF_BY_DEFAULT in probes and not launch_switch else None
    )
    # A test of a device's name (`"nvidia" in torch.cuda.get_device_name()`) probes nothing itself: what
    # it calls to get the name is judged as written.
    probe_test = (cuda is not None or rocm) and not isinstance(test, ast.BoolOp) and not _reads_the_version(test, names)

    def branch(side: Polarity) -> Region:
        other_path = several is side or optional is side or opted_in is side or turned_off is side
        return Region(
            cuda is side or only_rocm is side,
            rocm,
            Severity.WARNING if other_path else None,
            cpu_aware=cpu,
            nvidia_only=nvidia is side,
            elsewhere=other is side,
        )

    return (
        Region(cap=Severity.NOTE, test=True) if probe_test else NEUTRAL,
        branch(Polarity.POSITIVE),
        branch(Polarity.NEGATIVE),
    )


_SHOWING = frozenset({"str", "repr", "bool", "print"})
_ORDERINGS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _reads_the_version(test: ast.expr, names: ImportTable) -> bool:
    """Whether `test` reads `torch.version.cuda` where its None raises: handed to a call that parses
    it (`packaging.version.parse(torch.version.cuda) >= ...`, `float(...)`), through an attribute
    (`.split(".")`), or ordered (`torch.version.cuda >= "11.4"`). On ROCm and CPU builds it is None:
    the test raises there rather than deciding, so it is no probe whose own reads are quiet."""
    for node in subtree(test):
        if isinstance(node, ast.Call):
            parts: list[ast.expr] = list(node.args) if names.resolve(node.func) not in _SHOWING else []
        elif isinstance(node, ast.Attribute):
            parts = [node.value]
        elif isinstance(node, ast.Compare) and any(isinstance(op, _ORDERINGS) for op in node.ops):
            parts = [node.left, *node.comparators]
        else:
            continue
        if any(names.resolve(part) == "torch.version.cuda" for part in parts):
            return True
    return False


def _launched_by_default(test: ast.expr, names: ImportTable) -> bool:
    """Whether `test` reads (or negates) a multi-process switch the project's configuration turns on
    (`if config.distributed:` with `"distributed": True` in its table of defaults, `launch_switches.py`)."""
    test = without_not(test)[0]
    name = test.attr if isinstance(test, ast.Attribute) else test.id if isinstance(test, ast.Name) else None
    return name in names.launched_by_default


def _turned_off_side(test: ast.expr, names: ImportTable) -> Polarity | None:
    """The branch of a test of a parameter every caller keeps True (`if vad:`, `if not vad:`;
    `kept_on.py`), or turns on (`always_passed.py`), or of the attribute of `self` that keeps it (`if
    self._disable_timing:`), that runs only where it is False; None for any other test."""
    test, negated = without_not(test)
    if not ((isinstance(test, ast.Name) and test.id in names.kept_on) or _own_attribute(test) in names.kept_on):
        return None
    return Polarity.POSITIVE if negated else Polarity.NEGATIVE


def _own_attribute(test: ast.expr) -> str | None:
    """The attribute's name of a test of an attribute of `self` (`self._disable_timing`), else None."""
    if isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name) and test.value.id == "self":
        return test.attr
    return None


def branch_contexts(
    tree: ast.Module, names: ImportTable, flags_of: Callable[[ast.Module | ast.FunctionDef | ast.AsyncFunctionDef], Mapping[str, ast.expr]] | None = None
) -> dict[int, tuple[frozenset[str], Severity | None]]:
    """For each node under a branch of an `if` or a conditional expression that a probe decides,
    by its id: the targets the branch is quiet on and its cap. What a build script does in the
    `else` of `if HIP_BUILD:` (nvcc's `-gencode` flags) is its CUDA build, which ROCm never takes.
    Only branches are followed, for readers that check strings without walking the module.
    `flags_of` gives the tests a module's top level or a function keeps in names (`use_cuda =
    torch.version.cuda is not None and CUDA_HOME is not None`): a test of such names in the same
    scope (`if use_cuda:`, `if use_cuda or use_rocm`) after their assignment is read as the tests
    they hold. The body of a `try` whose handler falls back or swallows the error takes that `try`'s
    cap (`try_region`), not its quiet targets: a build that fails there (`try: ops = load(...,
    extra_cuda_cflags=["--use_fast_math"])` / `except Exception: warnings.warn("using the slow
    reference")`) costs what the compiled code gave (speed, or a setting the fallback changes), not
    the run, a warning."""
    found: dict[int, tuple[frozenset[str], Severity | None]] = {}
    context = SiteContext()
    none: Mapping[str, ast.expr] = {}

    def visit(node: ast.AST, flags: Mapping[str, ast.expr]) -> None:
        if isinstance(node, (ast.If, ast.IfExp)):
            _, body, orelse = branch_regions(_with_flags(node.test, flags) if flags else node.test, names)
            visit(node.test, flags)
            parts: tuple[tuple[Region, list[ast.stmt] | list[ast.expr]], ...] = (
                ((body, node.body), (orelse, node.orelse))
                if isinstance(node, ast.If)
                else ((body, [node.body]), (orelse, [node.orelse]))
            )
            for region, part in parts:
                context.enter(region)
                for branch_node in part:
                    visit(branch_node, flags)
                context.leave(region)
            return
        if isinstance(node, TRY_STATEMENTS):
            region = Region(cap=try_region(node).cap)
            context.enter(region)
            for statement in node.body:
                visit(statement, flags)
            context.leave(region)
            for rest in (*node.handlers, *node.orelse, *node.finalbody):
                visit(rest, flags)
            return
        quiet = context.quiet_targets()
        if quiet or context.cap() is not None:
            found[id(node)] = (quiet, context.cap())
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            flags = flags_of(node) if flags_of is not None else none
        elif isinstance(node, (ast.Lambda, ast.ClassDef)):
            flags = none
        for inner in children(node):
            visit(inner, flags)

    visit(tree, flags_of(tree) if flags_of is not None else none)
    return found


def _with_flags(test: ast.expr, flags: Mapping[str, ast.expr]) -> ast.expr:
    """`test` with each name of `flags` assigned before it replaced by the test the name holds; `test`
    itself where it names none."""
    before = {
        name: value for name, value in flags.items()
        if (value.lineno, value.col_offset) < (test.lineno, test.col_offset)
    }
    if not any(isinstance(node, ast.Name) and node.id in before for node in subtree(test)):
        return test
    return substituted(test, before)


_MAY_END_OR_GUARD = frozenset({ast.Return, ast.Raise, ast.Continue, ast.Break, ast.Expr, ast.Assign, ast.Assert, ast.If})
"""The statements after which `region_after` may find the rest of a block anything but neutral: the
others (most of a module's) are answered without its readings, which each test the class again."""
_BY_A_CALL = frozenset({ast.Expr, ast.Assign})
"""Of those, the statements that count only where their value is a call (`sys.exit()`, `pytest.importorskip(...)`)."""


def region_after(statement: ast.stmt, names: ImportTable) -> Region:
    """The region the rest of a block is in after `statement`: `if not <cuda>: return`, `assert <cuda>`,
    `pytest.importorskip("triton")` (only where the module is installed: another path, at most a warning;
    `importorskip("transformer_engine")`, a package no machine without a GPU can install, is skipped there);
    after a statement that never lets the block go on (`return`, `self.skipTest(...)`), none: it never runs.

    A requirement (`assert torch.cuda.is_available()`, `if not torch.cuda.is_available():
    sys.exit()`) stops the program on the targets without a CUDA device: an error at the
    requirement (`concerns/requirements.py`), as is a chain's arm that only stops where its CUDA
    tests fail (`guards.refusal`). Unlike a guard, it chooses no other path: lifting it
    is the first step of a port, and every line after it that needs CUDA is what that port must
    rewrite next, so what follows keeps its own severity on every target. After a test's skip
    (`if capability < (8, 0): pytest.skip()`), what follows runs only where the condition does not
    skip (`skip_conditions.py`). A stop where a setting of several values keeps its default (`if
    cfg.max_len is None: raise ValueError(...)`, `assert args.data_path is not None`) makes the
    setting required, not an opt-in: what follows keeps its severity, where after `if cfg.sched ==
    Sched.LEGACY: return legacy()` it runs only for another value (another path)."""
    region = _region_after(statement, names)
    if region is not UNREACHABLE and isinstance(statement, ast.If) and refusal(statement, names) is not None:
        return replace(region, cuda_guarded=False, nvidia_only=False)  # `else: raise ValueError("CUDA only")`
    return region


def _region_after(statement: ast.stmt, names: ImportTable) -> Region:
    kind = statement.__class__
    if kind not in _MAY_END_OR_GUARD or (kind in _BY_A_CALL and statement.value.__class__ is not ast.Call):  # type: ignore[attr-defined]
        return NEUTRAL  # a definition, a loop, an import, an assignment of no call: no reading below applies
    if never_falls_through(statement, names):
        return UNREACHABLE
    if isinstance(statement, (ast.Assert, ast.If)) and is_requirement(statement, names):
        passed = branch_regions(statement.test, names)[1 if isinstance(statement, ast.Assert) else 2]
        return replace(passed, cuda_guarded=False, nvidia_only=False)
    skipped = skips_without_module(statement, names)
    if skipped is not None:  # without a package no machine without a GPU can install, skipped there
        absent = skipped in names.absent_packages or skipped in names.unimportable  # `importorskip("fused_norm_cuda")`
        return replace(OPTIONAL_PATH, cuda_guarded=True) if absent else OPTIONAL_PATH
    if isinstance(statement, ast.If) and exits_early(statement.body):
        stops = stops_the_program(statement.body)
        rest = branch_regions(statement.test, names, settings=not (stops and _tests_a_choice(statement.test, names)))[2]
        if is_skip_call(statement.body[-1], names):
            rest = _unskipped(rest, skips_where(statement.test, names))
        return _not_nvidia_only(rest) if stops else rest
    if isinstance(statement, ast.If):
        return _region_of_kept_branches(statement, names)
    if isinstance(statement, ast.Assert):
        # `assert torch.version.cuda` stops the program off NVIDIA: what follows runs nowhere else
        return _not_nvidia_only(branch_regions(statement.test, names, settings=not _tests_a_choice(statement.test, names))[1])
    return NEUTRAL


def _tests_a_choice(test: ast.expr, names: ImportTable) -> bool:
    """Whether a test compares a setting of several values with a value (`names.picks_another`):
    a stop on its default makes it a required setting. A stop on a switch (`assert
    self._pending.is_valid`, a value only an opt-in sets) is the opt-in's own precondition."""
    return bool(names.chosen) and any(
        isinstance(node, ast.Compare) and picks_another(node, names.chosen) is not None for node in subtree(test)
    )


def _region_of_kept_branches(statement: ast.If, names: ImportTable) -> Region:
    """After `if A: ... elif B: ... else: return`, the rest of the block runs only where one of the
    tests that did not leave held: the region their true branches share (`if "RANK" in os.environ:
    ... elif "SLURM_PROCID" in os.environ: ... else: return` goes on only under a launcher), none
    where they differ or a branch besides the last `else` leaves."""
    tests: list[ast.expr] = []
    branch: ast.If = statement
    while not exits_early(branch.body):
        tests.append(branch.test)
        rest = branch.orelse
        if len(rest) == 1 and isinstance(rest[0], ast.If):
            branch = rest[0]
            continue
        if not (rest and exits_early(rest)) or stops_the_program(rest):
            return NEUTRAL  # falls through, or a requirement (`else: raise`): what follows keeps its severity
        kept = {branch_regions(test, names)[1] for test in tests}
        return kept.pop() if len(kept) == 1 else NEUTRAL
    return NEUTRAL


def _not_nvidia_only(region: Region) -> Region:
    """`region` without `nvidia_only`; most regions never had it (`dataclasses.replace`, which this
    spares them, looks the fields up again at every call: it ran after every early exit and assert)."""
    return replace(region, nvidia_only=False) if region.nvidia_only else region


def _unskipped(region: Region, skips: Skips) -> Region:
    """What follows a skip (`if capability < (8, 0): pytest.skip()`) runs only where it does not skip."""
    return replace(
        region,
        cuda_guarded=region.cuda_guarded or skips.without_cuda is True,
        rocm_aware=region.rocm_aware or skips.on_rocm is True,
    )


def replaced_default(statement: ast.stmt, rest: list[ast.stmt], names: ImportTable) -> Region:
    """The region of a string assigned as a default that the statements after it replace from a
    lookup before anything reads it: `backend = "nccl"` then `if device_type in backend_map:
    backend = backend_map[device_type]`, or `backend = backend_map.get(device.type, backend)`.
    Where the lookup is chosen by the device (a name or attribute named for it, a device string
    compared), the literal stands only for the device it names: a note. A lookup by anything else
    leaves the literal the value on the other targets' path only where the table lacks them: a
    warning at most. A plain reassignment (`if args.backend: backend = args.backend`) is the
    user's option, whose default keeps its severity."""
    if not (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
        and _REPLACEABLE.fullmatch(statement.value.value)
    ):
        return NEUTRAL  # only a device or backend literal is ever reported
    name = statement.targets[0].id
    for later in rest:
        if isinstance(later, ast.Assign) and any(_assigns(t, name) for t in later.targets):
            if not _is_lookup(later.value, name, names):
                return NEUTRAL  # replaced by a value computed otherwise, or reassigned plainly
            return Region(cap=Severity.NOTE if _names_a_device(later.value) else Severity.WARNING)
        if isinstance(later, ast.If) and not _reads(later.test, name):
            replacements = [
                sub.value
                for part in (*later.body, *later.orelse)
                for sub in subtree(part)
                if isinstance(sub, ast.Assign) and any(_assigns(t, name) for t in sub.targets)
            ]
            if replacements and not all(_is_lookup(v, name, names) for v in replacements):
                return NEUTRAL  # an option the user sets, not a lookup by the device
            if replacements:
                by_device = _names_a_device(later.test) or all(_names_a_device(v) for v in replacements)
                return Region(cap=Severity.NOTE if by_device else Severity.WARNING)
        if _reads(later, name):
            return NEUTRAL  # the default is read before anything replaces it
    return NEUTRAL


_REPLACEABLE = re.compile(r"cuda(:\d+)?|nccl", re.IGNORECASE)


def _assigns(target: ast.expr, name: str) -> bool:
    return isinstance(target, ast.Name) and target.id == name


def _reads(node: ast.AST, name: str) -> bool:
    return any(isinstance(sub, ast.Name) and sub.id == name and isinstance(sub.ctx, ast.Load) for sub in subtree(node))


def _is_lookup(value: ast.expr, name: str, names: ImportTable) -> bool:
    """`backend_map[device_type]`, or `backend_map.get(device_type, backend)`: a lookup in a table
    that reads the default, if at all, as its fallback. The environment is the user's option, no table."""
    if isinstance(value, ast.Subscript):
        table = value.value
        found = not _reads(value, name)
    elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "get" and value.args:
        table = value.func.value
        found = not _reads(value.func, name) and not _reads(value.args[0], name)
    else:
        return False
    return found and names.resolve(table) != "os.environ"


def _names_a_device(node: ast.AST) -> bool:
    """Whether a test or lookup is chosen by the device: `device_type`, `device.type`, `"cuda"`."""
    for sub in subtree(node):
        identifier = sub.id if isinstance(sub, ast.Name) else sub.attr if isinstance(sub, ast.Attribute) else ""
        if "device" in identifier.lower() or identifier in ("accelerator", "is_cuda"):
            return True
        if isinstance(sub, ast.Compare) and any(isinstance(v, ast.Constant) and isinstance(v.value, str)
                                                and (CUDA_DEVICE_STRING.fullmatch(v.value) or v.value in ("cpu", "xpu", "mps", "hip"))
                                                for v in (sub.left, *sub.comparators)):
            return True
    return False


def loop_region(iterable: ast.expr, names: ImportTable) -> Region:
    """`for i in range(torch.cuda.device_count()):` runs its body only when there are GPUs."""
    return Region(cuda_guarded=Probe.CUDA in probes_in(iterable, names))


def decorated_region(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, names: ImportTable) -> Region:
    """`@pytest.mark.skipif(not torch.cuda.is_available(), ...)`, `@requires_gpu`, `@skip_if_rocm`,
    `@RunIf(min_cuda_gpus=1)`, a class's own `pytestmark = ...`; a class named for CUDA
    (`class CUDA_Accelerator(Accelerator)`) is the CUDA side of a dispatch. A function that takes a
    process group (`process_groups.py`) runs only in a launch of several processes: another path.
    Triton's decorators mark nothing: `@triton.autotune(configs=get_cuda_configs())` tunes a kernel,
    whatever its arguments name."""
    if isinstance(node, ast.ClassDef):
        return _marked_region([*node.decorator_list, *_pytest_marks(node.body)], names, names_cuda(node.name))
    markers = [d for d in node.decorator_list if names.resolve(d.func if isinstance(d, ast.Call) else d) not in TRITON_KERNEL_DECORATORS]
    region = _marked_region(markers, names)
    if region.cap is None and takes_process_group(node, names):
        return replace(region, cap=ANOTHER_PATH.cap)
    return region


def module_region(module: ast.Module, names: ImportTable) -> Region:
    """`pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), ...)` marks every test of the
    module, as a decorator marks one."""
    marks = _pytest_marks(module.body)
    return _marked_region(marks, names) if marks else NEUTRAL


def _pytest_marks(body: list[ast.stmt]) -> list[ast.expr]:
    """What a module or class body assigns to `pytestmark`: the marks pytest applies to each of its tests."""
    return [
        statement.value
        for statement in body
        if isinstance(statement, ast.Assign)
        and any(isinstance(target, ast.Name) and target.id == "pytestmark" for target in statement.targets)
    ]


TRITON_KERNEL_DECORATORS = frozenset({"triton.jit", "triton.autotune", "triton.heuristics"})
"""Decorators that compile a function into a Triton kernel, which runs only where it is launched
(`kernel[grid](x, out, n)`): defining one touches no device
(https://triton-lang.org/main/python-api/generated/triton.jit.html)."""

CUSTOM_OP_DECORATORS = frozenset({"torch.library.custom_op", "torch._library.custom_ops.custom_op", "torch.library.triton_op"})
"""Decorators that make a function an operator's kernel, which runs only where the operator is called
with tensors it serves: registering it touches no device
(https://docs.pytorch.org/docs/stable/library.html#torch.library.custom_op)."""
OPERATOR_REGISTRATIONS = frozenset({"register_fake", "register_autograd", "register_kernel", "register_vmap", "register_torch_dispatch", "register_autocast"})
"""The methods of a custom operator that register more of it (its fake kernel, backward, another
device's kernel): reading `op.register_fake` calls nothing of the operator
(https://docs.pytorch.org/docs/stable/library.html#torch.library.CustomOpDef)."""


def dispatch_region(key: ast.expr | None) -> Region:
    """The value under a `"cuda"` key of a dict display is the CUDA side of a table keyed by device
    type (`BACKEND_SYNCHRONIZE = {"cuda": torch.cuda.synchronize, "cpu": None}`): looked up only for
    a CUDA device, as a class named for CUDA is the CUDA side of a dispatch."""
    cuda_key = isinstance(key, ast.Constant) and isinstance(key.value, str) and CUDA_DEVICE_STRING.fullmatch(key.value)
    return Region(cuda_guarded=True) if cuda_key else NEUTRAL


ACCELERATOR_METHODS = frozenset({"cuda", "pin_memory"})
"""Methods that are the accelerator's side of a protocol, run only where there is one."""


def method_region(node: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> Region:
    """A method named `cuda` (`def cuda(self, device=None): ... return super().cuda(device)`) is the
    CUDA variant of a device-moving API (`nn.Module.cuda`, `Tensor.cuda`, beside its `to`, `npu` or
    `cpu` siblings): its body runs only where a caller writes `obj.cuda()`, and that call is a site of
    its own, reported where it is written. As a class named for CUDA is, it is the CUDA side of a dispatch.
    So is a batch's `pin_memory(self)`, which a `DataLoader` calls only where an accelerator is
    available (torch 2.13 `utils/data/dataloader.py`: `loader.pin_memory and
    torch.accelerator.is_available()`); an explicit `batch.pin_memory()` is its own site. A function
    registered as the handler of one of these operations (a tensor subclass's
    `@implements(aten._pin_memory.default)` or `@implements(torch.Tensor.cuda)`) is the same: it
    runs only when the user pins or moves such a tensor, and forwards that call to the inner tensors."""
    named = method and node.name in ACCELERATOR_METHODS
    return Region(cuda_guarded=True) if named or any(map(_handles_accelerator_method, node.decorator_list)) else NEUTRAL


def _handles_accelerator_method(decorator: ast.expr) -> bool:
    """Whether a decorator call names an accelerator method's operation among its arguments
    (`implements(aten._pin_memory.default)`, `implements([torch.Tensor.cuda])`): the operation's
    attribute path ends with the method's name, or with it and an overload's (`.default`)."""
    if not isinstance(decorator, ast.Call):
        return False
    operations: list[ast.expr] = []
    for argument in decorator.args:
        operations.extend(argument.elts if isinstance(argument, (ast.List, ast.Tuple)) else (argument,))
    for operation in operations:
        if isinstance(operation, ast.Attribute):
            name = operation.attr
            if name == "default" and isinstance(operation.value, ast.Attribute):
                name = operation.value.attr
            if name.lstrip("_") in ACCELERATOR_METHODS:
                return True
    return False


def call_region(call: ast.Call, qualified: str | None, names: ImportTable) -> Region:
    """The region a call's own arguments sit in: a test parameter's marks (`pytest.param("cuda",
    marks=RunIf(min_cuda_gpus=1))`) guard its values as a decorator guards a function; else what
    its `enabled=` argument (or an autocast's `dtype=`) says."""
    if qualified == "pytest.param":
        marks = [keyword.value for keyword in call.keywords if keyword.arg == "marks"]
        return _marked_region(marks, names) if marks else NEUTRAL
    return enabled_region(call, qualified, names)


def _marked_region(markers: list[ast.expr], names: ImportTable, cuda_named: bool = False) -> Region:
    """A marker that asks for CUDA guards; one that asks for an optional library
    (`@pytest.mark.skipif(not HAS_TRITON, ...)`) makes the test another path, as `if HAS_TRITON:` does.
    A skip marker whose condition says where it skips (`skip_conditions.py`: `skipif(capability <
    (8, 0))` with a capability that is `(0, 0)` without a GPU) guards the test where it is skipped,
    whatever its condition mentions: skipped on every ROCm GPU too (`capability != (8, 0)`), it is
    quiet there as well. An unconditional skip (`@pytest.mark.skip(reason=...)`, `@unittest.skip(...)`)
    runs the test on no target, and so does a mark the configuration deselects by default
    (`addopts = "-m 'not gpu'"`): a plain `pytest` leaves its tests out on every machine."""
    cuda = cuda_named
    rocm = optional = never = False
    for marker in _each_marker(markers):
        if _labels_only(marker, names):
            continue
        never = never or _skips_always(marker, names, set()) or _mark_of(marker, names) in names.deselected_marks
        probes = marker_probes(marker, names)
        skips = _skip_marker(marker, names, set())
        without_cuda = skips.without_cuda if skips is not None else None
        cuda = cuda or (Probe.CUDA in probes if without_cuda is None else without_cuda)
        rocm = rocm or Probe.ROCM in probes or (skips is not None and skips.on_rocm is True)
        optional = optional or Probe.OPTIONAL in probes
    return Region(
        cuda_guarded=cuda,
        rocm_aware=rocm,
        cap=OPTIONAL_PATH.cap if optional and not cuda else None,
        elsewhere=never,
    )


PYTEST_MARKS = frozenset({"skip", "skipif", "xfail", "usefixtures", "parametrize", "filterwarnings"})
"""pytest's own marks; every other `pytest.mark.NAME` is the project's."""


def _labels_only(marker: ast.expr, names: ImportTable) -> bool:
    """A custom pytest mark written bare (`@pytest.mark.gpu`, `@pytest.mark.requires_cuda`, or a
    name bound to one) only labels its test for `pytest -m`, whatever its name says: a plain `pytest`
    on a machine without a GPU runs the test, unless a `conftest.py` hook skips the tests carrying it
    or the configuration deselects it by default (`names.left_out_marks`, through the index)."""
    mark = _mark_of(marker, names)
    return mark is not None and mark not in PYTEST_MARKS and mark not in names.left_out_marks


def _mark_of(marker: ast.expr, names: ImportTable) -> str | None:
    """The mark's name where a marker is one of pytest's marks written bare (`@pytest.mark.gpu`)."""
    if not isinstance(marker, (ast.Attribute, ast.Name)):
        return None
    qualified = names.resolve(marker) or ""
    mark = qualified.removeprefix("pytest.mark.")
    return mark if mark != qualified and mark.isidentifier() else None


def _each_marker(markers: list[ast.expr]) -> list[ast.expr]:
    """The marks of a list of them (`marks=[a, b]`, `pytestmark = [a, b]`), one by one."""
    return [m for marker in markers for m in (marker.elts if isinstance(marker, (ast.List, ast.Tuple)) else [marker])]


def _skips_always(marker: ast.expr, names: ImportTable, seen: set[str]) -> bool:
    """Whether a marker, written in place or kept in a module-level name (`_never = pytest.mark.skip(...)`),
    skips its test unconditionally (`skip_conditions.always_skips`)."""
    if isinstance(marker, ast.Name) and marker.id not in seen:
        value = names.module_value(marker.id)
        if value is not None:
            return _skips_always(value, names, seen | {marker.id})
    return always_skips(marker, names)


def _skip_marker(marker: ast.expr, names: ImportTable, seen: set[str]) -> Skips | None:
    """Where a skip marker skips its test, written in place, kept in a module-level name, defined in the
    module as a decorator that skips (`skip_conditions.decorator_skips`), or imported from a shared
    module of the project (through the index)."""
    device_types = device_type_skips(marker, names)
    if device_types is not None:
        return device_types
    if isinstance(marker, ast.Call):
        return skip_call(marker, names) or _factory_marker(marker, names)
    if isinstance(marker, ast.Name) and marker.id not in seen:
        value = names.module_value(marker.id)
        if value is not None:
            return _skip_marker(value, names, seen | {marker.id})
        decorator = names.function(marker.id)
        if decorator is not None:  # `def require_cuda(func):` whose wrapper skips without a device
            return decorator_skips(decorator, names)
    if isinstance(marker, (ast.Name, ast.Attribute)):
        shared = names.project_marker(marker)  # `from .utils import needs_sm80`
        return Skips(*shared) if shared is not None else None
    return None


def _factory_marker(marker: ast.Call, names: ImportTable) -> Skips | None:
    """Where the marker a factory of the project returns skips its test (`@run_if_flag("X")`,
    `skip_conditions.factory_skips`): one of the module, or one another module defines (through the index)."""
    if isinstance(marker.func, ast.Name):
        factory = names.function(marker.func.id)
        if factory is not None:
            return factory_skips(factory, names)
    if isinstance(marker.func, (ast.Name, ast.Attribute)):
        shared = names.project_marker(marker.func, called=True)
        return Skips(*shared) if shared is not None else None
    return None


_AUTOCASTS = frozenset({"torch.autocast", "torch.amp.autocast", "torch.cuda.amp.autocast"})
_ENABLED_POSITION = {"torch.autocast": 2, "torch.amp.autocast": 2, "torch.cuda.amp.autocast": 0}
"""Where an autocast takes `enabled` by position: `torch.autocast(device_type, dtype, enabled, ...)`,
`torch.cuda.amp.autocast(enabled, dtype, ...)` (https://docs.pytorch.org/docs/stable/amp.html)."""
_FULL_PRECISION = frozenset({"torch.float32", "torch.float"})


def enabled_region(call: ast.Call, qualified: str | None, names: ImportTable) -> Region:
    """`autocast("cuda", enabled=False)` does nothing, nor does `torch.cuda.amp.autocast(False)` (the
    same switch by position); `enabled=torch.cuda.is_available()` guards.
    A float32 autocast (`autocast("cuda", dtype=torch.float32)`, which keeps a block out of an outer
    mixed-precision region) asks for what an unautocast block computes: where CUDA autocast is off, as
    on a CPU-only build, the block runs as written, in full precision (torch 2.13.0 CPU build: a warning,
    the same result), so nothing is lost there. So is an autocast that restores the autocast state
    an earlier one recorded (`enabled=torch.is_autocast_enabled()`, `**saved`: `autocast_state.py`),
    off where CUDA autocast is. A switch that tests the device for the CPU (`enabled=p.device.type !=
    "cpu"`) turns it off there on purpose: nothing is lost. `qualified` is the callee's name, which the walk has already resolved
    for every call."""
    if qualified in _AUTOCASTS and any(
        keyword.arg == "dtype" and names.resolve(keyword.value) in _FULL_PRECISION for keyword in call.keywords
    ):
        return Region(cap=Severity.NOTE)
    if qualified in _AUTOCASTS and any(
        restores_state(keyword.value, names, splat=keyword.arg is None)
        for keyword in call.keywords
        if keyword.arg in ("enabled", None)
    ):
        return Region(cap=Severity.NOTE)
    position = _ENABLED_POSITION.get(qualified or "")
    given = [keyword.value for keyword in call.keywords if keyword.arg == "enabled"]
    if position is not None and len(call.args) > position and not any(isinstance(a, ast.Starred) for a in call.args):
        given.append(call.args[position])  # `torch.cuda.amp.autocast(False)`
    for value in given:
        if isinstance(value, ast.Constant) and value.value is False:
            return Region(cap=Severity.NOTE)
        # `enabled=p.device.type != "cpu"`: a switch that tests for the CPU was written with it in mind.
        return Region(
            cuda_guarded=polarity(value, names, Probe.CUDA) is Polarity.POSITIVE, cpu_aware=Probe.CPU in probes_in(value, names)
        )
    return NEUTRAL


def try_region(node: TryStatement, is_stage: Callable[[ast.Call], bool] = lambda _: False) -> Region:
    """The body of a `try` with a fallback: `try: import cupy` / `except ImportError:` has one for a
    missing module; a probe (`try: torch.zeros(1, device="cuda"); return True` / `except
    Exception: return False`, or a handler that clears a flag) has one for a missing device, so
    what it tries is guarded on the targets without one. A handler whose default stands in for the
    result of a stage of the program (`try: tilt = estimate_tilt(image)` / `except Exception: tilt =
    90`, where `is_stage` says `estimate_tilt` is the project's own) is no probe's answer: where the
    stage fails the program goes on with a worse result, a warning at most. A handler that swallows the error
    (`except Exception: pass`, or one that only logs it) keeps whatever the program had before
    the `try`: what fails there costs a feature, not the run, a warning at most. So does a probe's
    answer on a target with a device that its body cannot see (`nvidia-smi` or NVML on an AMD
    GPU): "not here", or a default (NUMA node 0), where there is one, degrades the program
    silently rather than stopping it. A handler that skips the loop's pass (`except: continue`)
    after a body that never leaves the loop is no such fallback: where the device is missing every
    pass fails the same way, so the loop does none of its work (a validation loop that skips every
    batch, then divides its sum by a count of 0), whether the handler is bare or prints first."""
    optional = any(catches_import_error(handler) for handler in node.handlers)
    answers = [handler.body for handler in node.handlers if _catches_errors(handler) and _falls_back(handler.body)]
    probe = any(not _stands_in(node.body, answer, is_stage) for answer in answers)
    swallows = not answers and any(
        _catches_errors(handler) and only_reports(handler.body) and not _skips_every_pass(node, handler)
        for handler in node.handlers
    )
    return Region(
        cuda_guarded=probe,
        cap=Severity.WARNING if swallows or answers else None,
        optional_import=optional,
        probe=bool(answers) or swallows,
    )


def _stands_in(body: list[ast.stmt], handler: list[ast.stmt], is_stage: Callable[[ast.Call], bool]) -> bool:
    """Whether a handler that falls back (`_falls_back`) gives a default for what the `try`'s body
    takes from a stage (`is_stage`): it returns a value where the body returns a stage's result, or
    assigns one to a name or attribute the body assigns a stage's result to. A yes or no (`return
    False`, `ok = False`) or the CPU (`device = "cpu"`) answers a question, as a probe does, whatever
    the body asked (`_answers`)."""
    last = handler[-1]
    if isinstance(last, ast.Return):
        if last.value is not None and _answers(last.value):
            return False
        return any(
            isinstance(node, ast.Return) and node.value is not None and _from_a_stage(node.value, is_stage)
            for node in own_nodes(body)
        )
    defaults = {
        name
        for statement in handler
        if isinstance(statement, ast.Assign) and _default_value(statement.value) and not _answers(statement.value)
        for name in _bound(statement.targets)
    }
    return any(
        isinstance(node, ast.Assign) and _from_a_stage(node.value, is_stage) and defaults.intersection(_bound(node.targets))
        for node in own_nodes(body)
    )


def _answers(value: ast.expr) -> bool:
    """A yes or no, or the CPU as the device to go on with (`False`, `"cpu"`): a probe's answer. A run
    on the CPU that a helper's failure sends there (`try: device = best_device()` / `except Exception:
    device = "cpu"`) goes on as written, on the device its target has: nothing of the stage is lost."""
    return isinstance(value, ast.Constant) and (isinstance(value.value, bool) or value.value == "cpu")


def _bound(targets: list[ast.expr]) -> set[str]:
    """The names and attribute chains assignment targets bind (`tilt`, `self.tilt`, both of `a, b`)."""
    found: set[str] = set()
    for target in targets:
        if isinstance(target, (ast.Tuple, ast.List)):
            found |= _bound(target.elts)
        elif isinstance(target, (ast.Name, ast.Attribute)):
            found.add(dotted_name(target))
    return found


def _from_a_stage(value: ast.expr, is_stage: Callable[[ast.Call], bool]) -> bool:
    """Whether `value` holds a call of a stage (`int(estimate_tilt(image))`)."""
    return any(isinstance(node, ast.Call) and is_stage(node) for node in subtree(value))


_REPORTING_CALLS = frozenset(
    {"print", "warn", "warning", "info", "debug", "error", "exception", "log", "print_exc", "print_exception"}
)
"""Calls that only report an error: printing, logging, warning, and `traceback`'s printers."""


def _skips_every_pass(node: TryStatement, handler: ast.ExceptHandler) -> bool:
    """Whether `handler` ends with `continue` after a `try` whose body and `else` never leave the
    loop (`break`, `return`): no pass can end the search, as a loop over devices that breaks at
    the first that works does, so a failure the target always raises skips every pass."""
    if not handler.body or not isinstance(handler.body[-1], ast.Continue):
        return False
    return not any(_leaves_the_loop(statement) for statement in (*node.body, *node.orelse))


def _leaves_the_loop(statement: ast.stmt | ast.excepthandler) -> bool:
    """A `break` or `return` of the enclosing loop in `statement`, outside nested loops and definitions."""
    if isinstance(statement, (ast.Break, ast.Return)):
        return True
    if isinstance(statement, (ast.For, ast.AsyncFor, ast.While)):
        return any(isinstance(inner, ast.Return) for inner in subtree(statement)) or any(
            _leaves_the_loop(inner) for inner in statement.orelse
        )
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False
    return any(
        _leaves_the_loop(inner) for inner in children(statement) if isinstance(inner, (ast.stmt, ast.excepthandler))
    )


def only_reports(body: list[ast.stmt]) -> bool:
    """`pass`, `...`, `continue`, or only printing, logging or warning about the error."""
    for statement in body:
        if isinstance(statement, (ast.Pass, ast.Continue)):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            func = statement.value.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in _REPORTING_CALLS:
                continue
        return False
    return bool(body)


def handler_region(handler: ast.ExceptHandler, body: list[ast.stmt], names: ImportTable) -> Region:
    """A handler for `AttributeError` after a body whose every attribute is an imported module's
    (`try: scaler = torch.amp.GradScaler(device)` / `except AttributeError: scaler =
    torch.cuda.amp.GradScaler()`) runs only where the module lacks the attribute: a fallback for
    older releases, at most a warning. An attribute of anything else (`torch.accelerator
    .current_accelerator().type`, None on a CPU) can be missing on any release: no region. A
    handler for anything (`except:`) after a body that only asks an imported module a question and
    stores plain values by its answer (`try: if torch.backends.mps.is_available(): device = "mps"` /
    `else: device = "cuda"`) runs only where the module lacks what it asks (`torch.backends.mps` came
    with PyTorch 1.12): a fallback for older releases too, the body's `else` being the normal path."""
    if handler.type is not None and handler_catches(handler, _ATTRIBUTE_ERROR):
        chains = [node for node in _outer_attributes(body) if not isinstance(node.ctx, ast.Store)]
        if chains and all(names.is_module_chain(node) for node in chains):
            return ANOTHER_PATH
    if handler_catches(handler, _ANY_ERROR) and _asks_a_module_alone(body, names):
        return ANOTHER_PATH
    if _catches_device_memory_only(handler, names):
        return Region(cuda_guarded=True)
    return NEUTRAL


_DEVICE_OUT_OF_MEMORY = frozenset({"torch.cuda.OutOfMemoryError"})
"""The error the CUDA caching allocator raises (ROCm's too, through the same `torch.cuda`;
https://pytorch.org/docs/stable/generated/torch.cuda.OutOfMemoryError.html). A failed allocation on
the CPU raises a plain `RuntimeError` (c10's `DefaultCPUAllocator: can't allocate memory`), so a
handler for this one alone (`except torch.cuda.OutOfMemoryError: print(torch.cuda.memory_summary())`)
runs only where a CUDA device ran out of memory."""


def _catches_device_memory_only(handler: ast.ExceptHandler, names: ImportTable) -> bool:
    """Whether every class an `except` clause names is the CUDA allocator's out-of-memory error."""
    if handler.type is None:
        return False
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return all(names.resolve(kind) in _DEVICE_OUT_OF_MEMORY for kind in types)


_ATTRIBUTE_ERROR = frozenset({"AttributeError"})
_ANY_ERROR = frozenset({"AttributeError", "Exception", "BaseException"})
_CONVERSIONS = frozenset({"str", "int", "float", "bool"})
"""Builtins a stored value may be built with (`"cuda:" + str(index)`)."""


def _asks_a_module_alone(body: list[ast.stmt], names: ImportTable) -> bool:
    """Whether `body` is `if`s whose tests each call an imported module's function with no arguments
    (`torch.backends.mps.is_available()`), holding only assignments of values that read no module
    and call nothing but `_CONVERSIONS`: nothing in it can fail but the module's attribute."""
    tests: list[ast.expr] = []
    stack: list[ast.stmt] = list(body)
    while stack:
        statement = stack.pop()
        if isinstance(statement, ast.If):
            tests.append(statement.test)
            stack.extend([*statement.body, *statement.orelse])
        elif not isinstance(statement, ast.Assign) or not _plain_value(statement, names):
            return False
    return bool(tests) and all(
        isinstance(test, ast.Call) and not test.args and not test.keywords and isinstance(test.func, ast.Attribute)
        and names.is_module_chain(test.func)
        for test in tests
    )


def _plain_value(statement: ast.Assign, names: ImportTable) -> bool:
    """Whether an assignment reads no imported module and calls nothing but `_CONVERSIONS`."""
    for node in subtree(statement):
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _CONVERSIONS):
            return False
        if isinstance(node, ast.Attribute) and names.is_module_chain(node):
            return False
    return True


def _outer_attributes(body: list[ast.stmt]) -> list[ast.Attribute]:
    """The attribute chains of `body`, each once, by its outermost node (`torch.amp.GradScaler`)."""
    found: list[ast.Attribute] = []
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Attribute):
            found.append(node)
            inner: ast.expr = node.value
            while isinstance(inner, ast.Attribute):
                inner = inner.value
            stack.append(inner)
        else:
            stack.extend(children(node))
    return found


def display_region(node: ast.FormattedValue) -> Region:
    """`f"built with CUDA {torch.version.cuda}"` only displays a value."""
    return DISPLAYED if isinstance(node.value, (ast.Name, ast.Attribute)) else NEUTRAL


def _catches_errors(handler: ast.ExceptHandler) -> bool:
    """A handler for what a missing device raises (`RuntimeError`, `AssertionError`), or for anything."""
    return handler_catches(handler, DEVICE_ERROR_HANDLERS)


def _falls_back(body: list[ast.stmt]) -> bool:
    """`return False`, `return None`, `return`, `return "cache"`, `return {}`, or `flag = False` /
    `free, total = 0, 0` / `self.mode = "eager"`: a handler that answers "not here", or the default
    the program goes on with, rather than re-raising or going on as if nothing happened. The answer
    is a value written out (`_default_value`): one the handler computes may touch the device again."""
    last = body[-1] if body else None
    if isinstance(last, ast.Return):
        return last.value is None or _default_value(last.value)
    return any(isinstance(statement, ast.Assign) and _default_value(statement.value) for statement in body)


def _default_value(value: ast.expr) -> bool:
    """A constant or a display of constants (`"cache"`, `0`, `{}`, `(0, 0)`, `-1`) that names no
    CUDA device: what a probe answers where the device, or the tool, is not there."""
    for node in subtree(value):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str) and CUDA_DEVICE_STRING.fullmatch(node.value):
                return False
        elif not isinstance(node, (ast.Tuple, ast.List, ast.Dict, ast.Set, ast.UnaryOp, ast.USub, ast.Load)):
            return False
    return True


