"""Recognise conditions that decide where a piece of code runs.

`if torch.cuda.is_available(): torch.cuda.synchronize()` is already portable: on a CPU
machine the branch is skipped. Three kinds of probe matter, each recognised by what a
condition mentions:

- CUDA: an availability probe (`torch.cuda.is_available()`, `device_count()`), a device
  comparison (`device.type == "cuda"`, `accelerator == "gpu"`), a test of the NCCL backend
  (`dist.get_backend() == "nccl"`), a test's GPU marker (`request.node.get_closest_marker("gpu")`),
  or a setting named for CUDA, GPUs or NCCL (`args.cuda`, `use_gpu`, `@pytest.mark.gpu`). Code it
  guards never runs where `torch.cuda` has no device.
- NVIDIA: `torch.version.cuda` (None on ROCm builds too), a flag named for NVIDIA
  (`is_nvidia`). Code it guards runs only on NVIDIA's CUDA: on no other target, ROCm included.
- ROCm: `torch.version.hip`, `is_rocm_pytorch()`, `USE_ROCM`. Code in either branch has
  already been written with ROCm in mind.
- multi-process: a test that holds only when several processes run: a world size compared with
  one (`if world_size > 1:`, `if get_world_size() == 1: return`), a GPU count the program holds
  compared with one (`if args.num_gpus > 1:`, the `--gpus` a user asks for: one GPU or several,
  not a GPU or none, which `num_gpus > 0` asks; a count its function binds from
  `torch.cuda.device_count()` is that call, `walker.py`), the program's distributed switch
  (`if args.distributed:`, `if ddp:`, `if dist.is_initialized():`), the presence of a launcher's
  variable (`if "RANK" in os.environ:`) or a comparison with the negative default its lookup falls
  back to (`if LOCAL_RANK != -1:` after `LOCAL_RANK = int(os.getenv("LOCAL_RANK", -1))`), or any test of the environment a batch scheduler or an MPI
  launcher sets (`"SLURM_PROCID" in os.environ`, `os.environ.get("OMPI_COMM_WORLD_RANK")`). Code
  it guards runs only under a launch of several processes, another path than the single-process
  run a machine without GPUs takes: `torchrun --nproc_per_node 8` starts one process per GPU, and
  a CPU run of the same program is one process, whose `DistributedDataParallel` device ids,
  `set_device` and `"nccl"` never run. Which branch is the launch's is read from the test. Where
  the function joins a process group on either branch (`if local_rank != -1: set_device(...)`, then
  `deepspeed.init_distributed()`), every run of it is a launched one and the launch's branch is its
  normal path (`launch_test`, read by the walker).
- CPU: `if device == "cpu":`, `if x.device.type != "cpu":`, the program's CPU switch (a `store_true`
  option `--cpu`, and in its module the names handed it: `if not cpu:` in `def load(path, cpu=False)`
  called with `cpu=opt.cpu`, in another module too, `cpu_handed.py`; `ImportTable.cpu_switches`). Code
  in either branch has been written with CPU in mind: the switch's other arm is the GPU's.
- optional: an availability flag or probe of an optional library (`if HAS_FLASH_ATTENTION:`,
  `if is_xformers_available():`, `_triton_available`). Code it guards only runs where the
  library is installed; elsewhere the program takes its fallback.
- another accelerator: a test of a device none of the targets is (`if is_torch_xla_available():`,
  `device.type == "npu"`, `state.distributed_type == DistributedType.XLA`). Code it guards runs
  only there: on no target.
- off by default: a setting the module shows to be False unless the user asks for it
  (`if cfg.get("use_x", False):`, `if args.use_x:` for a `store_true` option, a class field
  `use_x: bool = False`, a name assigned from such a read). Code it guards is an opt-in path.

Flags are recognised by their names, wherever they are defined (`from .utils import
IS_HIP`): a project names its device-selection flags for what they select. A flag whose name says
nothing (`SUPPORTS_FLEX = torch.cuda.is_available() and capability >= (8, 0)`, `BUILD_FOR_AMD =
bool(torch.version.hip)`) probes what its value probes: in its own module through the value it is
assigned once at module level, elsewhere through the project index, which reads those values in
every module of the scan (`project_flags.py`) and hands them to the modules that import them. A
key the project records such a test under (`config['distributed'] = torch.cuda.device_count() > 1`,
`flags.multi_gpu = "WORLD_SIZE" in os.environ and ...`) probes what every store of it holds, in any
module and whatever its words say (`keyed_flags.py`, `keyed_flag`): a flag that records
availability is a guard, and a name with `gpu` in it that records a launch is a launch's test.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Iterator
from enum import Enum
from functools import lru_cache
from typing import Union

from cudaudit.rules.python.names import (
    LAUNCHER_VARIABLES,
    SCHEDULER_VARIABLE,
    ImportTable,
    dotted_name,
    is_environment_switch,
    is_off_by_default_read,
    picks_another,
    reads_option,
    settings_key,
)
from cudaudit.rules.python.nodes import child_fields, handler_catches, keyed_name, subtree
from cudaudit.rules.python.platform_paths import assigned_strings
from cudaudit.siblings import DEVICE_WORDS


class Probe(Enum):
    CUDA = "cuda"
    NVIDIA = "nvidia"
    ROCM = "rocm"
    MULTI_PROCESS = "multi-process"
    CPU = "cpu"
    OPTIONAL = "optional"
    OFF_BY_DEFAULT = "off-by-default"
    OTHER_DEVICE = "other-device"


class Polarity(Enum):
    """Which branch of a condition runs only when the probed thing is there."""

    POSITIVE = "body"
    NEGATIVE = "orelse"

    @property
    def flipped(self) -> Polarity:
        """The other branch: what `not` makes of a test."""
        return Polarity.NEGATIVE if self is Polarity.POSITIVE else Polarity.POSITIVE


_RESOLVED_PROBES = {
    "torch.cuda.is_available": Probe.CUDA,
    "torch.cuda.device_count": Probe.CUDA,
    "torch.cuda.is_initialized": Probe.CUDA,
    "torch.accelerator.is_available": Probe.CUDA,
    "torch.accelerator.device_count": Probe.CUDA,
    "torch.backends.cudnn.is_available": Probe.CUDA,
    "torch.version.hip": Probe.ROCM,
    "torch.distributed.is_initialized": Probe.MULTI_PROCESS,
    "torch.distributed.Backend.NCCL": Probe.CUDA,
    "torch.distributed.is_nccl_available": Probe.CUDA,
    "torch.distributed.ProcessGroupNCCL": Probe.CUDA,
}
"""Probes by qualified name; an attribute that only some builds have is a probe through `hasattr`
(`hasattr(dist, "ProcessGroupNCCL")`: the NCCL backend, built on CUDA and ROCm, as RCCL)."""
_NVIDIA_PROBES = frozenset({"torch.version.cuda"})
"""Probes that hold on NVIDIA's CUDA only: also CUDA probes, and false on ROCm builds."""
AVAILABILITY_PROBES = frozenset({"torch.cuda.is_available", "torch.cuda.device_count"})
"""What a requirement asks: a CUDA (or ROCm) device. `torch.version.cuda is None` also excludes ROCm."""
_NAME_WORDS = {
    Probe.CUDA: frozenset({"cuda", "gpu", "gpus", "nvidia", "nccl"}),
    Probe.NVIDIA: frozenset({"nvidia"}),
    Probe.ROCM: frozenset({"rocm", "hip"}),
    Probe.MULTI_PROCESS: frozenset({"ddp", "distributed"}),
}
_OTHER_DEVICE_WORDS = frozenset(word for word, (targets, _) in DEVICE_WORDS.items() if not targets)
"""Devices none of the targets is (`npu`, `hpu`, `xla`): a branch only they take runs on no target."""
NEGATING_WORDS = frozenset({"no", "not", "disable", "disabled", "skip", "without", "non"})
"""Words that turn a device's name around (`no_npu`, `disable_xla`): which branch is the device's is not said."""
_STRING_PROBES = {
    "rocm": Probe.ROCM,
    "hip": Probe.ROCM,
    "cpu": Probe.CPU,
    "nccl": Probe.CUDA,
    "gloo": Probe.CPU,
    "gpu": Probe.CUDA,
    "nvidia": Probe.NVIDIA,
    **{word: Probe.OTHER_DEVICE for word in _OTHER_DEVICE_WORDS},
}
"""`backend == "nccl"` asks for GPUs as `device == "cuda"` does: NCCL (RCCL on ROCm) runs only where there are
GPUs, and a CPU run takes gloo's branch (`"cpu" if dist.get_backend() == "gloo" else "cuda"`: the backend PyTorch
names for distributed CPU training, https://pytorch.org/docs/stable/distributed.html#which-backend-to-use);
`device == "gpu"` (Lightning's and many trainers' name) asks the same.
`"nvidia" in gpu_name` (a device name from `torch.cuda.get_device_name()`, `vendor == "nvidia"`) holds on
NVIDIA GPUs alone: ROCm names its devices `AMD Instinct ...`, and a CPU has no such name."""
_RANK_VARIABLES = frozenset({"RANK", "LOCAL_RANK"})
"""The launcher's ranks: 0 or more in each process it starts, so a negative default (`int(os.getenv("LOCAL_RANK",
-1))`) is a sentinel no launched process holds, and comparing the value with it asks whether a launcher started
the process, as `"LOCAL_RANK" in os.environ` does."""
_LOOKUP_FUNCTIONS = frozenset({"os.getenv", "os.environ.get"})
_PROCESS_COUNTS = frozenset({"world_size", "nprocs", "nproc", "num_processes", "nproc_per_node"})
"""Names of the number of processes a launch runs (`world_size`, `get_world_size()`, `args.nprocs`),
whose comparison with one tells a launch of several processes from a single one."""
_GPU_COUNTS = frozenset({"num_gpus", "num_gpu", "n_gpus", "n_gpu", "ngpus", "ngpu", "gpus", "gpu_count", "nb_gpus"})
"""Names of the number of GPUs a program is set to use (`--gpus`), one process each: compared with
one, a launch of several processes or a single one, as a world size is."""


def names_process_count(name: str) -> bool:
    """Whether a setting named `name` (`gpus`, `num_gpus`, `world_size`; an option `--gpus`) holds
    how many processes a program runs, one per GPU: above one, a launch of several processes."""
    return name.lower() in _GPU_COUNTS or name.lower() in _PROCESS_COUNTS


def scheduler_test(test: ast.expr) -> bool:
    """Whether `test` asks about a batch scheduler's launch: it names a variable Slurm or Open MPI sets
    (`"SLURM_PROCID" in os.environ`) or the value `"slurm"` (`args.launcher == "slurm"`), which no
    launcher of PyTorch's (`torchrun`) sets."""
    return any(
        isinstance(node, ast.Constant) and isinstance(node.value, str)
        and (SCHEDULER_VARIABLE.fullmatch(node.value) is not None or node.value.lower() == "slurm")
        for node in subtree(test)
    )


def torch_launcher_test(test: ast.expr) -> bool:
    """Whether `test` names a variable only PyTorch's launchers set (`"RANK" in os.environ`): in a
    process a batch scheduler starts, it is false though the process is one of several."""
    return any(
        isinstance(node, ast.Constant) and node.value in LAUNCHER_VARIABLES for node in subtree(test)
    )


_ENVIRONMENT_LOOKUPS = frozenset({"get", "getenv", "pop"})
"""`os.environ.get("SLURM_PROCID")`, `os.getenv(...)`: a lookup of one environment variable by name."""
_MARKER_LOOKUPS = frozenset({"get_closest_marker", "iter_markers"})
"""pytest's `request.node.get_closest_marker("gpu")`: whether the running test carries a marker, by its name."""
_OPTIONAL_FIRST = frozenset({"has", "have"})
_OPTIONAL_LAST = frozenset({"available", "installed"})
"""`HAS_TRITON`, `_flash_attn_available`, `is_xformers_available()`: a flag or probe of an optional library."""
_OPTIONAL_FILLER = frozenset({"is", "are"})
"""Words of such a name that name no library (`is_triton_available`)."""
OPTIONAL_MODULE_SKIPS = frozenset({"pytest.importorskip"})
"""Calls that skip the rest of a test module or test where a module is not installed."""
CUDA_DEVICE_STRING = re.compile(r"cuda(:\d+)?")
_WORD_SPLIT = re.compile(r"[_\W]+|(?<=[a-z])(?=[A-Z])")
_EXIT_CALL = re.compile(r"(^|\.)(exit|skip|skipTest|_exit|abort)$")
_PROCESS_EXIT = re.compile(r"(^|\.)(exit|_exit|abort)$")
_GPU_SCHEDULERS = frozenset({"ray.remote"})
"""Decorators that ask a scheduler for resources: a task asking for GPUs is never placed on a node without one."""


FlagMeaning = tuple[tuple[Probe, Union["Polarity", None]], ...]
"""What `if FLAG:` probes: each probe of the flag's value, with the branch that needs it (None where
the value leaves that open, `A or B`)."""


def probes_in(node: ast.AST, names: ImportTable) -> frozenset[Probe]:
    """Every kind of probe that `node` mentions anywhere.

    Asked of one test up to four times (its region, then each probe's polarity), and of the parts
    of a test again (each operand of `a and b`, of `not a`), so the answer is kept for the module
    (`ImportTable.probes`), with the node, whose `id` it is keyed by, for the node and each node
    below it: a part asked about after its whole is not walked again."""
    known = names.probes.get(id(node))
    if known is not None:
        return known[1]
    found = _atom_probes(node, names)
    for field in child_fields(node.__class__):
        value = getattr(node, field, None)
        for child in value if isinstance(value, list) else (value,):
            if isinstance(child, ast.AST) and not isinstance(child, _PROBELESS) and not _counted_operand(node, child, names):
                found.update(probes_in(child, names))
    if Probe.MULTI_PROCESS in found and _no_launch_test(node, names):
        found.discard(Probe.MULTI_PROCESS)
    if Probe.CUDA in found and isinstance(node, ast.Compare) and _gpu_count_against_one(node):
        found.discard(Probe.CUDA)  # `num_gpus > 1`: one GPU or several, not whether there is one
    answer = frozenset(found) if found else _NO_PROBES
    names.probes[id(node)] = (node, answer)
    return answer


def _counted_operand(node: ast.AST, child: ast.AST, names: ImportTable) -> bool:
    """Whether `child` is a name of the project counted with in arithmetic (`batch_gpu` in `batch_gpu *
    rounds`, a per-GPU batch size): a number, whatever its words say, and no test of the device."""
    return isinstance(node, ast.BinOp) and isinstance(child, (ast.Name, ast.Attribute)) and names.resolve(child) is None


_PROBELESS = (ast.expr_context, ast.operator, ast.boolop, ast.cmpop, ast.unaryop, ast.Constant)
"""Nodes `_atom_probes` finds nothing in, with nothing below them: a string is read where it is compared."""
_NO_PROBES: frozenset[Probe] = frozenset()


def _no_launch_test(node: ast.AST, names: ImportTable) -> bool:
    """Whether a node that names a distributed word asks nothing about the launch: a class test
    (`isinstance(model, DDP)`, which one process may use too) of something else, or an attribute of
    a module or object named for what it serves (`distributed.get_rank()`) that is no switch itself."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("isinstance", "issubclass"):
        return len(node.args) == 2 and Probe.MULTI_PROCESS not in probes_in(node.args[0], names)
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and Probe.MULTI_PROCESS not in _atom_probes(node, names)
    )


def polarity(test: ast.expr, names: ImportTable, probe: Probe) -> Polarity | None:
    """POSITIVE when the test's true branch needs `probe`'s thing, NEGATIVE when its false one does."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = polarity(test.operand, names, probe)
        return None if inner is None else inner.flipped
    if isinstance(test, ast.BoolOp):
        wanted = Polarity.POSITIVE if isinstance(test.op, ast.And) else Polarity.NEGATIVE
        if any(polarity(value, names, probe) is wanted for value in test.values):
            return wanted
        return None
    if isinstance(test, ast.IfExp):
        return _chosen_value_polarity(test, names, probe)
    if probe not in probes_in(test, names):
        return None
    platform = platform_test(test, names) if isinstance(test, ast.Compare) else None
    if platform is not None:
        return dict(platform).get(probe)
    meaning = flag_meaning(test, names)
    if meaning is not None:
        return dict(meaning).get(probe)
    if probe is Probe.OFF_BY_DEFAULT and isinstance(test, ast.Compare):
        chosen = chosen_polarity(test, names)
        if chosen is not None:
            return chosen
        if names.environment_switch(test):
            return Polarity.POSITIVE  # `os.getenv("X", "0") != "0"` too: true only where the user set it
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        without = holds_without_device(test, names)
        if without is not None:  # `device_count() == 0` is true where there is none: the no-GPU branch
            return Polarity.NEGATIVE if without else Polarity.POSITIVE
        single = _single_process(test) if probe is Probe.MULTI_PROCESS and _counts_processes(test.left) else None
        if single is not None:  # `world_size == 1` holds on one process: its false branch is the launch's
            return Polarity.NEGATIVE if single else Polarity.POSITIVE
        launched = _launch_sentinel_test(test, names) if probe is Probe.MULTI_PROCESS else None
        if launched is not None:  # `LOCAL_RANK == -1` holds on one process: its false branch is the launch's
            return Polarity.POSITIVE if launched else Polarity.NEGATIVE
        negated = isinstance(test.ops[0], (ast.NotEq, ast.NotIn, ast.IsNot))
        if is_none(test.comparators[0]) or _is_false(test.comparators[0]):
            negated = not negated  # `torch.version.cuda is None` asks "no CUDA?", `use_ddp is False` "no DDP?"
        if probe is Probe.CUDA and not _only_gpu_devices(test):
            return None  # `device in ("cuda", "cpu")`: both branches may run without a GPU
        if probe is Probe.OTHER_DEVICE and not _only_other_devices(test, names):
            return None  # `device in ("npu", "cuda")`: the branch runs on a GPU too
        return Polarity.NEGATIVE if negated else Polarity.POSITIVE
    return Polarity.POSITIVE


def _is_false(node: ast.expr) -> bool:
    """`False`, as `x is False` and `x == False` compare with it."""
    return isinstance(node, ast.Constant) and node.value is False


_ABSENT_VALUES: dict[str, int | bool] = {
    "torch.cuda.is_available": False,
    "torch.cuda.device_count": 0,
    "torch.accelerator.is_available": False,
    "torch.accelerator.device_count": 0,
    "torch.backends.cudnn.is_available": False,
    "torch.distributed.is_nccl_available": False,
}
"""What an availability or count probe returns where there is no device (torch 2.13.0 CPU build:
`torch.cuda.is_available()` is False, `torch.cuda.device_count()` is 0)."""
_COUNT_WORDS = frozenset({"n", "num", "number", "count", "gpus", "devices"})
"""Words of a name that holds how many GPUs there are (`n_gpu`, `num_gpus`, `gpu_count`), not which one (`gpu_id`)."""
_COMPARISONS: dict[type[ast.cmpop], Callable[[int, int], object]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}


def holds_without_device(test: ast.Compare, names: ImportTable) -> bool | None:
    """Whether a comparison of an availability or count probe with a number or a truth value holds
    where there is no GPU: True for `torch.cuda.device_count() == 0`, `< 1`, `is_available() is
    False`, `n_gpu == 0`, and `device_count() >= get_rank()` (a rank on one process, 0 or -1, is no
    more than none); False for `device_count() > 0`, `>= 2`, `0 < num_gpus`. None for any other
    comparison: which of its branches a GPU-less machine takes is not a matter of a constant."""
    left, right = test.left, test.comparators[0]
    compare = _COMPARISONS.get(type(test.ops[0]))
    if compare is None:
        return None
    for probe, constant, probe_first in ((left, right, True), (right, left, False)):
        value = constant.value if isinstance(constant, ast.Constant) else None
        values = (value,) if isinstance(value, int) else _SINGLE_RANKS if _reads_rank(constant) else ()
        if not values or (compare in (operator.is_, operator.is_not) and not isinstance(value, bool)):
            continue  # `device_count() is 0` compares identities, not numbers
        absent = _absent_value(probe, names)
        if absent is not None:
            held = {bool(compare(absent, one) if probe_first else compare(one, absent)) for one in values}
            if len(held) == 1:
                return held.pop()
    return None


_SINGLE_RANKS = (0, -1)
"""What a process's rank reads on a run of one process: 0 (`dist.get_rank()` of a helper that answers
0 without a process group), or -1 where no launcher set it (`--local_rank` defaulting to -1)."""


def _reads_rank(node: ast.expr) -> bool:
    """`get_rank()`, `comm.get_local_rank()`, `rank`, `args.local_rank`: a process's rank, by its words."""
    if isinstance(node, ast.Call) and not node.args and not node.keywords:
        node = node.func
    identifier = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return "rank" in _words(identifier)


def _absent_value(node: ast.expr, names: ImportTable) -> int | bool | None:
    """What `node` holds where there is no GPU: a probe's call (`torch.cuda.device_count()`), or a
    name that counts GPUs by its words (`n_gpu`, `num_gpus`); None for anything else."""
    if isinstance(node, ast.Call) and not node.args and not node.keywords:
        return _ABSENT_VALUES.get(names.resolve(node.func) or "")
    if isinstance(node, (ast.Name, ast.Attribute)) and names.resolve(node) is None:
        words = set(_words(node.id if isinstance(node, ast.Name) else node.attr))
        if words & _NAME_WORDS[Probe.CUDA] and words & _COUNT_WORDS:
            return 0
    return None


def _chosen_value_polarity(test: ast.IfExp, names: ImportTable, probe: Probe) -> Polarity | None:
    """`A if torch.cuda.is_available() else B` is as true as the value its test picks, so A and B
    decide, not the test: where both need the probed thing (or both its absence), so does the whole;
    `True if <test> else False` is the test itself. Anything else (`assert (x == y if
    torch.cuda.is_available() else torch.device("cuda"))`, true on a CPU) says nothing."""
    body, orelse = _constant_truth(test.body), _constant_truth(test.orelse)
    if body is not None and orelse is not None and body is not orelse:
        inner = polarity(test.test, names, probe)
        return None if inner is None else inner if body else inner.flipped
    chosen = polarity(test.body, names, probe)
    return chosen if chosen is not None and chosen is polarity(test.orelse, names, probe) else None


def _constant_truth(node: ast.expr) -> bool | None:
    return bool(node.value) if isinstance(node, ast.Constant) else None


def chosen_polarity(test: ast.Compare, names: ImportTable) -> Polarity | None:
    """Which branch of a test of a setting that holds one of several strings (`names.chosen`) runs
    only when the user picks another value than the one it starts on (`names.picks_another`)."""
    other = picks_another(test, names.chosen) if names.chosen else None
    return None if other is None else Polarity.POSITIVE if other else Polarity.NEGATIVE


def feature_probe(test: ast.expr, names: ImportTable) -> Polarity | None:
    """POSITIVE for `hasattr(torch, "accelerator")`, NEGATIVE for `not hasattr(...)`: a test of
    whether an imported module has an attribute, which tells its releases apart. None for any other
    test, a `hasattr` inside `and`/`or` included (`hasattr(torch, "xpu") and torch.xpu.is_available()`
    asks about a device too)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = feature_probe(test.operand, names)
        return None if inner is None else inner.flipped
    if not (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Name)
        and test.func.id == "hasattr"
        and names.binding("hasattr") is None
        and len(test.args) == 2
        and isinstance(test.args[1], ast.Constant)
        and isinstance(test.args[1].value, str)
    ):
        return None
    return Polarity.POSITIVE if names.is_module_chain(test.args[0]) else None


def _only_gpu_devices(test: ast.Compare) -> bool:
    """False for a membership test whose collection names a device besides CUDA's and HIP's
    (`device_type in ("cuda", "cpu")`); True for any other comparison."""
    collection = test.comparators[0]
    if not isinstance(test.ops[0], (ast.In, ast.NotIn)) or not isinstance(collection, (ast.Tuple, ast.List, ast.Set)):
        return True
    return all(
        isinstance(item, ast.Constant)
        and isinstance(item.value, str)
        and (CUDA_DEVICE_STRING.fullmatch(item.value) is not None or item.value.lower() in _GPU_STRINGS)
        for item in collection.elts
    )


_GPU_STRINGS = frozenset({"hip", "rocm"})


def _only_other_devices(test: ast.Compare, names: ImportTable) -> bool:
    """Whether the devices a comparison names are ones none of the targets is: `device.type ==
    "xla"`, `distributed_type in (DistributedType.XLA, DistributedType.NPU)`; not `device_type in
    ("npu", "cuda")`, whose branch runs on a GPU too."""
    collection = test.comparators[0]
    if isinstance(collection, (ast.Tuple, ast.List, ast.Set)):
        return bool(collection.elts) and all(_names_other_device(item, names) for item in collection.elts)
    return _names_other_device(test.left, names) or _names_other_device(collection, names)


def _names_other_device(node: ast.expr, names: ImportTable) -> bool:
    """`"npu"`, `"xla:0"`, `DistributedType.XLA`: a device none of the targets is, and nothing else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.partition(":")[0].lower() in _OTHER_DEVICE_WORDS
    if isinstance(node, (ast.Name, ast.Attribute)) and names.resolve(node) is None:
        return identifier_probes(node.id if isinstance(node, ast.Name) else node.attr) == {Probe.OTHER_DEVICE}
    return False


def flag_meaning(node: ast.AST, names: ImportTable) -> FlagMeaning | None:
    """What a flag that `node` names probes: a name assigned once at module level from a probe
    (`SUPPORTS_X = torch.cuda.is_available() and ...`), or a flag of another module of the project
    (`ImportTable.project_flag`), or a call of a function of the project that returns such a test
    (`xformers_enabled()`, `flag_functions.py`); None for anything else."""
    if isinstance(node, ast.Call):
        node = node.func
    keyed = keyed_flag(node, names)
    if keyed is not None:
        return keyed
    if isinstance(node, (ast.Name, ast.Attribute)) and identifier_probes(node.id if isinstance(node, ast.Name) else node.attr):
        return None  # a name chosen for what it selects (`IS_HIP`, `has_triton`) says so itself
    return _value_flag(node, names)


def keyed_flag(node: ast.AST, names: ImportTable) -> FlagMeaning | None:
    """What the test every store of the project gave a key holds (`config['distributed']` after
    `config['distributed'] = torch.cuda.device_count() > 1`, `flags.multi_gpu`; `keyed_flags.py`),
    whatever the key's words say; None for a key that holds no such test."""
    if not names.flags or not isinstance(node, (ast.Subscript, ast.Attribute)):
        return None
    key = keyed_name(node)
    found: FlagMeaning | None = names.flags.get(key) if key is not None else None
    return found


def _value_flag(node: ast.AST, names: ImportTable) -> FlagMeaning | None:
    """`flag_meaning` of a name that says nothing itself."""
    if isinstance(node, ast.Name) and names.binding(node.id) is None:
        if node.id in names.flag_meanings:
            return names.flag_meanings[node.id]
        names.flag_meanings[node.id] = None  # a flag whose value names itself probes nothing more
        value = names.module_value(node.id)
        meaning = value_meaning(value, names) if value is not None else None
        names.flag_meanings[node.id] = meaning = meaning or names.project_flag(node)
        return meaning
    if isinstance(node, (ast.Name, ast.Attribute)):
        return names.project_flag(node)
    return None


def value_meaning(value: ast.expr, names: ImportTable) -> FlagMeaning | None:
    """What a test of a name assigned `value` probes, for a value that is a truth value
    (`torch.cuda.is_available() and ...`, `torch.version.hip is not None`, `bool(torch.version.hip)`);
    None for a value that is not one (a device string chosen by a probe, a list) or probes nothing."""
    if not isinstance(value, (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Call, ast.Name, ast.Attribute)):
        return None
    if isinstance(value, ast.Attribute) and dotted_name(value).partition(".")[0] in names.classes:
        return None  # `cpu_state = CPUState.GPU`: a member of the module's own enum, a mode and no test
    if not all(_test_part(node) for node in subtree(value)):
        return None
    probes = probes_in(value, names)
    return tuple((probe, polarity(value, names, probe)) for probe in sorted(probes, key=lambda p: p.value)) or None


_PLATFORM_MEANINGS: dict[str, FlagMeaning] = {
    "rocm": ((Probe.ROCM, Polarity.POSITIVE),),
    "nvidia": ((Probe.CUDA, Polarity.POSITIVE), (Probe.NVIDIA, Polarity.POSITIVE)),
    "gpu": ((Probe.CUDA, Polarity.POSITIVE),),
}
"""What a platform variable's string asks, by the platforms every path to it is on: ROCm alone, NVIDIA's
CUDA alone, or some GPU (either of them, or `torch.cuda` with a device and nothing more said)."""


def platform_test(test: ast.Compare, names: ImportTable) -> FlagMeaning | None:
    """What `SYSTEM == "cuda"` (`!=`, `in (...)`, `not in`) probes where `SYSTEM` is a platform variable of
    the module or the project (`platform_paths.py`) and each string compared with is one it is given
    under a device probe; None for any other comparison, which is read by its words."""
    if len(test.ops) != 1 or not isinstance(test.ops[0], (ast.Eq, ast.NotEq, ast.In, ast.NotIn)):
        return None
    variable, strings = test.left, _compared_strings(test.comparators[0])
    if strings is None and isinstance(test.ops[0], (ast.Eq, ast.NotEq)):
        variable, strings = test.comparators[0], _compared_strings(test.left)
    if not strings or not isinstance(variable, (ast.Name, ast.Attribute)):
        return None
    kinds = set()
    for string in strings:
        meaning = _string_meaning(variable, string, names)
        if meaning is None:
            return None
        kinds.add(next(kind for kind, known in _PLATFORM_MEANINGS.items() if known == meaning))
    meaning = _PLATFORM_MEANINGS["rocm" if kinds == {"rocm"} else "nvidia" if kinds == {"nvidia"} else "gpu"]
    if isinstance(test.ops[0], (ast.NotEq, ast.NotIn)):
        return tuple((probe, side.flipped if side else None) for probe, side in meaning)
    return meaning


def _compared_strings(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and all(
        isinstance(item, ast.Constant) and isinstance(item.value, str) for item in node.elts
    ):
        return [item.value for item in node.elts]  # type: ignore[attr-defined]
    return None


def _string_meaning(variable: ast.Name | ast.Attribute, string: str, names: ImportTable) -> FlagMeaning | None:
    """`string_meaning` of the paths to `string` of the module's own platform variable `variable`, or what the
    project index says of an imported one."""
    if isinstance(variable, ast.Name) and names.binding(variable.id) is None:
        if names.platform_strings is None:
            names.platform_strings = assigned_strings(names.tree) if isinstance(names.tree, ast.Module) else {}
        paths = names.platform_strings.get(variable.id)
        if paths is not None:
            key = f"{variable.id}=={string}"
            if key not in names.flag_meanings:
                ways = paths.get(string)
                names.flag_meanings[key] = string_meaning(ways, names) if ways else None
            meaning: FlagMeaning | None = names.flag_meanings[key]
            return meaning
    return names.project_string_flag(variable, string)


def string_meaning(paths: list[list[ast.expr]], names: ImportTable) -> FlagMeaning | None:
    """What a test that a platform variable holds a string asks, from the conditions of each path that gives
    it: ROCm where each path tests ROCm (`torch.version.hip`, `is_hip()`), NVIDIA where each tests
    NVIDIA's CUDA (`torch.version.cuda is not None`) or a CUDA device past a test that was false on ROCm
    (`if is_hip(): return "hip"` above `return "cuda"`), some GPU where each tests at least a device.
    A path only an opt-in setting takes (`if os.environ.get("FORCE_X") == "1": return "cuda"`) is not a
    target's path; a path with no device test makes the string say nothing (None)."""
    kinds = set()
    for path in paths:
        parts = [part for test in path for part in _conjuncts(test)]

        def holds(probe: Probe, side: Polarity, parts: list[ast.expr] = parts) -> bool:
            return any(probe in probes_in(part, names) and polarity(part, names, probe) is side for part in parts)

        if holds(Probe.OFF_BY_DEFAULT, Polarity.POSITIVE):
            continue
        if holds(Probe.ROCM, Polarity.POSITIVE):
            kinds.add("rocm")
        elif holds(Probe.NVIDIA, Polarity.POSITIVE) or (holds(Probe.CUDA, Polarity.POSITIVE) and holds(Probe.ROCM, Polarity.NEGATIVE)):
            kinds.add("nvidia")
        elif holds(Probe.CUDA, Polarity.POSITIVE):
            kinds.add("gpu")
        else:
            return None
    if not kinds:
        return None
    return _PLATFORM_MEANINGS["rocm" if kinds == {"rocm"} else "nvidia" if kinds == {"nvidia"} else "gpu"]


def _conjuncts(test: ast.expr) -> list[ast.expr]:
    """The parts of a test that must each hold where it holds (`a and b`, and `not (a or b)` as `not a`, `not b`)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return [part for value in test.values for part in _conjuncts(value)]
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = test.operand
        if isinstance(inner, ast.BoolOp) and isinstance(inner.op, ast.Or):
            return [part for value in inner.values for part in _conjuncts(ast.UnaryOp(op=ast.Not(), operand=value))]
    return [test]


_ACCELERATOR_PROBES = frozenset(
    {
        "torch.cuda.is_available",
        "torch.xpu.is_available",
        "torch.mps.is_available",
        "torch.backends.mps.is_available",
        "torch.accelerator.is_available",
    }
)
"""Availability probes of one accelerator each (`torch.accelerator.is_available` of any)."""
_GPU_BUILDS = frozenset({Probe.CUDA, Probe.NVIDIA, Probe.ROCM})
"""Probes of the GPU builds themselves: a conjunct that names one is read as that probe, not as some accelerator."""
_SOME_ACCELERATOR = frozenset({"torch.utils._triton.has_triton"})
"""Probes that hold only where some accelerator is, CUDA's (ROCm's) among them, alone: `has_triton()` is True
where Triton is installed and a device it compiles for is there (a CUDA or ROCm GPU of capability 7.0 or more,
an XPU, an MTIA), never on a CPU-only machine with a plain Triton (torch/utils/_triton.py, `has_triton`:
https://github.com/pytorch/pytorch/blob/main/torch/utils/_triton.py)."""


def accelerator_polarity(test: ast.expr, names: ImportTable) -> Polarity | None:
    """POSITIVE for `torch.cuda.is_available() or torch.xpu.is_available()`, `is_cuda_available() or
    is_musa_available()`, `has_triton()` (`_SOME_ACCELERATOR`): some accelerator, CUDA among those asked
    about, is there (so not a CPU-only machine); NEGATIVE for its `not`. None for any other test: one probe alone is `polarity`'s."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = accelerator_polarity(test.operand, names)
        return None if inner is None else inner.flipped
    if isinstance(test, ast.Call) and not test.args and names.resolve(test.func) in _SOME_ACCELERATOR:
        return Polarity.POSITIVE  # `if has_triton():`
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        sides = [accelerator_polarity(value, names) for value in test.values]
        others = [value for value, side in zip(test.values, sides) if side is None]
        if Polarity.POSITIVE in sides and not any(probes_in(value, names) & _GPU_BUILDS for value in others):
            return Polarity.POSITIVE  # `if version_at_least("2.10") and has_triton():`
        return None
    if not (isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or)):
        return None
    cuda = False
    for value in test.values:
        probed = names.resolve(value.func) if isinstance(value, ast.Call) and not value.args else None
        if probed in _ACCELERATOR_PROBES:
            cuda = cuda or probed == "torch.cuda.is_available"
        elif polarity(value, names, Probe.CUDA) is Polarity.POSITIVE:
            cuda = True
        elif polarity(value, names, Probe.OTHER_DEVICE) is not Polarity.POSITIVE:
            return None  # a disjunct that may hold on a CPU-only machine
    return Polarity.POSITIVE if cuda else None


def _single_process(test: ast.Compare) -> bool | None:
    """True for `world_size == 1`, `< 2`, `<= 1` (holds on one process, not on two), False for
    `world_size > 1`, `!= 1`, `>= 2` (the other way round), None for any other shape."""
    number = test.comparators[0]
    compare = _COMPARISONS.get(type(test.ops[0]))
    if compare in (None, operator.is_, operator.is_not) or not (
        isinstance(number, ast.Constant) and type(number.value) is int
    ):
        return None
    one, two = bool(compare(1, number.value)), bool(compare(2, number.value))
    return None if one == two else one


def launch_test(test: ast.expr, names: ImportTable) -> Polarity | None:
    """POSITIVE for a test that holds wherever a launcher started the process, however many it started:
    a rank compared with the negative default of its lookup (`LOCAL_RANK != -1`,
    `_launch_sentinel_test`) or a launcher's variable present (`"LOCAL_RANK" in os.environ`); NEGATIVE
    for the other way round; None for any other test (`world_size > 1` asks for several processes)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = launch_test(test.operand, names)
        return None if inner is None else inner.flipped
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    launched = _launch_sentinel_test(test, names)
    if launched is not None:
        return Polarity.POSITIVE if launched else Polarity.NEGATIVE
    variable, operator_ = test.left, test.ops[0]
    if (
        isinstance(variable, ast.Constant)
        and variable.value in LAUNCHER_VARIABLES
        and isinstance(operator_, (ast.In, ast.NotIn))
        and names.resolve(test.comparators[0]) == "os.environ"
    ):
        return Polarity.POSITIVE if isinstance(operator_, ast.In) else Polarity.NEGATIVE
    return None


def _launch_sentinel_test(test: ast.Compare, names: ImportTable) -> bool | None:
    """True for `LOCAL_RANK != -1`, False for `LOCAL_RANK == -1`, where the compared value is a
    launcher's rank looked up with a negative default (`_RANK_VARIABLES`) and the constant is that
    default as the value holds it (`-1` after `int(...)`, `"-1"` for a string default): the test asks
    whether a launcher started the process. None for any other comparison (`rank == 0`, `local_rank
    in (-1, 0)`, a rank looked up with a default of 0, a string default compared with a number)."""
    if len(test.ops) != 1 or not isinstance(test.ops[0], (ast.Eq, ast.NotEq)):
        return None
    left, right = test.left, test.comparators[0]
    for value, constant in ((left, right), (right, left)):
        written = _constant(constant)
        sentinel = _sentinel_of(value, names) if written is not None else None
        if sentinel is not None and type(sentinel) is type(written) and sentinel == written:
            return isinstance(test.ops[0], ast.NotEq)
    return None


def _sentinel_of(node: ast.expr, names: ImportTable) -> int | str | None:
    """The negative default a launcher's rank read in `node` holds where no launcher set it:
    `int(os.getenv("RANK", "-1"))` -> -1, `os.environ.get("RANK", "-1")` -> "-1", or for a name,
    the default of the lookup every assignment of it in the module makes (`launch_sentinels`)."""
    if isinstance(node, ast.Name):
        sentinels = names.launch_sentinels
        if sentinels is None:
            names.launch_sentinels = {}  # a name read while they are gathered (`rank = int(rank)`) holds none
            names.launch_sentinels = sentinels = launch_sentinels(names)
        return sentinels.get(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "int" and len(node.args) == 1:
        inner = _sentinel_of(node.args[0], names)
        return None if inner is None else int(inner)
    if not (isinstance(node, ast.Call) and len(node.args) == 2 and names.resolve(node.func) in _LOOKUP_FUNCTIONS):
        return None
    variable, default = node.args
    if not (isinstance(variable, ast.Constant) and variable.value in _RANK_VARIABLES):
        return None
    value = _constant(default)
    return value if value is not None and int(value) < 0 else None


def launch_sentinels(names: ImportTable) -> dict[str, int | str]:
    """The module's names (at any level) whose every binding is a launcher's rank looked up with the
    same negative default (`LOCAL_RANK = int(os.environ.get("LOCAL_RANK", -1))`), with that default.
    A name bound anywhere to anything else (a parameter, a loop variable, another value) is left
    out: which value a test of it reads is not known."""
    if not any(
        isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and _sentinel_of(node.value, names) is not None
        for node in names.statements
    ):
        return {}  # no binding holds a sentinel: the walk of every node below would find none (most modules)
    found: dict[str, int | str | None] = {}
    read: set[int] = set()  # the targets of assignments already read, met again by the walk (breadth first)
    for node in subtree(names.tree):
        bound: list[tuple[str, int | str | None]] = []
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            sentinel = _sentinel_of(node.value, names)
            for target in targets:
                for sub in subtree(target):
                    if isinstance(sub, ast.Name):
                        read.add(id(sub))
                        bound.append((sub.id, sentinel if sub is target else None))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and id(node) not in read:
            bound.append((node.id, None))
        elif isinstance(node, ast.arg):
            bound.append((node.arg, None))
        for name, sentinel in bound:
            known = found.get(name, sentinel)
            found[name] = sentinel if type(known) is type(sentinel) and known == sentinel else None
    return {name: sentinel for name, sentinel in found.items() if sentinel is not None}


def _constant(node: ast.expr) -> int | str | None:
    """`-1`, `"-1"`: a whole number written as a constant (a negative one is `-` applied to one), or a
    string that spells one; None for anything else."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _constant(node.operand)
        return -inner if isinstance(inner, int) else None
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"-?[0-9]+", node.value):
        return node.value
    return None


def _counts_processes(node: ast.expr) -> bool:
    """`world_size`, `args.world_size`, `dist.get_world_size()`, `int(os.environ["WORLD_SIZE"])`:
    the number of processes of the launch; or a GPU count the program holds (`args.num_gpus`)."""
    if _gpu_count(node):
        return True
    for sub in subtree(node):
        if isinstance(sub, ast.Constant) and sub.value == "WORLD_SIZE":
            return True
        identifier = sub.id if isinstance(sub, ast.Name) else sub.attr if isinstance(sub, ast.Attribute) else ""
        lowered = identifier.lower()
        if lowered in _PROCESS_COUNTS or lowered.endswith("world_size"):
            return True
    return False


def _gpu_count(node: ast.expr) -> bool:
    """A name or attribute that holds how many GPUs the program uses (`num_gpus`, `c.num_gpus`)."""
    identifier = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return identifier.lower() in _GPU_COUNTS


def _gpu_count_against_one(test: ast.Compare) -> bool:
    """`num_gpus > 1`, `args.ngpu == 1`: a GPU count compared with one."""
    return len(test.ops) == 1 and _gpu_count(test.left) and _single_process(test) is not None


def exits_early(body: list[ast.stmt]) -> bool:
    """Whether a block always leaves its enclosing block (return, raise, skip, exit)."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
        return True
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        return bool(_EXIT_CALL.search(dotted_name(last.value.func)))
    return False


_LEAVING_CALLS = frozenset({"sys.exit", "os._exit", "os.abort", "pytest.skip", "pytest.fail", "pytest.xfail", "pytest.exit"})
"""Calls that never return: they exit the process or raise (pytest's outcomes raise, `sys.exit` raises SystemExit)."""
_LEAVING_BUILTINS = frozenset({"exit", "quit"})
"""The site module's builtins that raise SystemExit, where no import rebinds the name."""


def may_return(statement: ast.stmt) -> bool:
    """Whether `statement` may return from the function it is in (a nested function's `return` aside)."""
    if isinstance(statement, ast.Return):
        return True
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False
    return any(may_return(child) for child in ast.iter_child_nodes(statement) if isinstance(child, ast.stmt))


def never_falls_through(statement: ast.stmt, names: ImportTable) -> bool:
    """Whether the statement after `statement` in its block can never run: `statement` returns,
    raises, breaks or continues, calls what never returns (`sys.exit()`, `pytest.skip()`,
    `self.skipTest()`), asserts a false constant, or is an `if` whose every branch does one of those.

    Unlike `exits_early`, which reads a guard's last word by its spelling alone (a wrong answer there
    only keeps a guard from counting), this decides that code is dead, so a call counts only by
    what it resolves to: `dataset.skip(5)` and `stack.exit()` go on."""
    if isinstance(statement, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
        return True
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        if isinstance(func, ast.Attribute):
            return (func.attr == "skipTest" and isinstance(func.value, ast.Name) and func.value.id == "self") or (
                names.resolve(func) in _LEAVING_CALLS
            )
        resolved = names.resolve(func)
        if resolved is None:
            return isinstance(func, ast.Name) and func.id in _LEAVING_BUILTINS
        return resolved in _LEAVING_CALLS
    if isinstance(statement, ast.Assert):
        return isinstance(statement.test, ast.Constant) and not statement.test.value
    if isinstance(statement, ast.If):
        return bool(statement.orelse) and _block_never_falls_through(statement.body, names) and (
            _block_never_falls_through(statement.orelse, names)
        )
    return False


def _block_never_falls_through(body: list[ast.stmt], names: ImportTable) -> bool:
    return any(never_falls_through(statement, names) for statement in body)


OPTIONAL_IMPORT_HANDLERS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
"""Exception names whose handler is a fallback for a module that failed to import."""


def catches_import_error(handler: ast.ExceptHandler) -> bool:
    """Whether `handler` runs where the module its `try` imports failed to import (`except ImportError:`)."""
    return handler_catches(handler, OPTIONAL_IMPORT_HANDLERS)


def is_skip_call(statement: ast.stmt, names: ImportTable) -> bool:
    """`pytest.skip(...)`, `self.skipTest(...)`, `raise unittest.SkipTest(...)`: a test skipped here."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        return names.resolve(func) == "pytest.skip" or (isinstance(func, ast.Attribute) and func.attr == "skipTest")
    return _raises_skip(statement)


def _raises_skip(statement: ast.stmt) -> bool:
    """`raise unittest.SkipTest(...)`, `raise SkipTest`: unittest and pytest both report the test
    as skipped, wherever in the test (or a helper it calls) it is raised."""
    if isinstance(statement, ast.Raise) and statement.exc is not None:
        raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
        return dotted_name(raised).rpartition(".")[2] == "SkipTest"
    return False


def stops_the_program(body: list[ast.stmt]) -> bool:
    """Whether a block ends by raising or exiting: a requirement, where `return` or a test's
    skip (`pytest.skip()`, `self.skipTest()`, `raise unittest.SkipTest()`) only take another path."""
    last = body[-1] if body else None
    if isinstance(last, ast.Raise):
        return not _raises_skip(last)
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        return bool(_PROCESS_EXIT.search(dotted_name(last.value.func)))
    return False


def is_cuda_requirement(test: ast.expr, names: ImportTable, holds: Polarity) -> bool:
    """`torch.cuda.is_available()` (or `device_count() > 0`) as the whole condition that must
    hold for the program to go on, alone or as one of the conditions that must all hold (`assert
    torch.cuda.is_available() and has_triton()`, `if not torch.cuda.is_available() or not ok:
    sys.exit()`); a setting named `cuda` is the user's choice, not a requirement."""
    if isinstance(test, ast.BoolOp):
        every = Polarity.POSITIVE if isinstance(test.op, ast.And) else Polarity.NEGATIVE
        return every is holds and any(is_cuda_requirement(value, names, holds) for value in test.values)
    if isinstance(test, ast.Compare) and is_device_type_test(test):
        negated = isinstance(test.ops[0], (ast.NotEq, ast.NotIn))
        return (Polarity.NEGATIVE if negated else Polarity.POSITIVE) is holds
    if polarity(test, names, Probe.CUDA) is not holds:
        return False
    return any(
        names.resolve(node) in AVAILABILITY_PROBES for node in subtree(test) if isinstance(node, (ast.Name, ast.Attribute))
    )


def is_device_type_test(test: ast.Compare) -> bool:
    """`device_type in {"cuda"}`, `args.device == "cuda"`: the device a program runs on, compared
    with CUDA's and nothing else. A setting named for a device, not a tensor's (`x.device.type`,
    `x.is_cuda` check what a function was given)."""
    if len(test.ops) != 1:
        return False
    left, right = test.left, test.comparators[0]
    values = right.elts if isinstance(right, (ast.Set, ast.List, ast.Tuple)) else [right]
    strings = [v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    if not strings or len(strings) != len(values) or not all(CUDA_DEVICE_STRING.fullmatch(v) for v in strings):
        return False
    subject = dotted_name(left).rpartition(".")[2] if isinstance(left, (ast.Name, ast.Attribute)) else ""
    return "device" in _words(subject)


def is_requirement(statement: ast.stmt, names: ImportTable) -> bool:
    """`assert torch.cuda.is_available()`, or `if not torch.cuda.is_available():` ending in a raise
    or an exit (and no `else`): the program stops where there is no CUDA device."""
    if isinstance(statement, ast.Assert):
        return is_cuda_requirement(statement.test, names, Polarity.POSITIVE)
    return (
        isinstance(statement, ast.If)
        and not statement.orelse
        and stops_the_program(statement.body)
        and is_cuda_requirement(statement.test, names, Polarity.NEGATIVE)
    )


def refusal(statement: ast.If, names: ImportTable) -> ast.expr | ast.stmt | None:
    """The site of an arm of an `if` chain that only stops the program, reached exactly where the
    chain's CUDA tests fail (every test before it asks for a CUDA device): the test of an arm that stops where
    `torch.cuda.is_available()` is false (`if not torch.cuda.is_available(): raise ... else: ...`),
    or the raise of the `else` of a chain whose every test needs a CUDA device (`if
    torch.cuda.device_count() >= 2: ... elif torch.cuda.device_count() == 1: ... else: raise
    ValueError("CUDA only")`). None for a plain `is_requirement`, and where a test chooses a setting
    (`if args.device == "cuda": ... else: raise`): a CPU run of another setting may not get there. An
    arm that itself only stops is no route around the refusal (`if not is_xformers_available(): raise
    ... elif not torch.cuda.is_available(): raise ...`): a CPU run stops at one or the other."""
    branch, probed = statement, False
    while True:
        stops = stops_the_program(branch.body)
        if stops and is_cuda_requirement(branch.test, names, Polarity.NEGATIVE):
            return branch.test if branch.orelse or branch is not statement else None
        probes = _probes_cuda_device(branch.test, names)
        if not (stops or probes):
            return None  # `if args.cpu: ... elif not torch.cuda.is_available(): raise`: the CPU route avoids it
        probed = probed or probes
        if len(branch.orelse) == 1 and isinstance(branch.orelse[0], ast.If):
            branch = branch.orelse[0]
            continue
        arm = branch.orelse  # `if errors: sys.exit(1) else: sys.exit(0)` asks nothing of a device
        only_stops = probed and bool(arm) and stops_the_program(arm) and all(isinstance(s, ast.Expr) for s in arm[:-1])
        return arm[-1] if only_stops else None


def elif_arms(statement: ast.If) -> Iterator[ast.If]:
    """The `elif` arms of a chain: `if`s the walk meets again, whose reading is the chain's."""
    while len(statement.orelse) == 1 and isinstance(statement.orelse[0], ast.If):
        statement = statement.orelse[0]
        yield statement


def _probes_cuda_device(test: ast.expr, names: ImportTable) -> bool:
    """Whether `test` holds only with a CUDA device, by asking PyTorch (`torch.cuda.device_count() == 1`),
    not a setting (`args.device == "cuda"`)."""
    return is_cuda_requirement(test, names, Polarity.POSITIVE) and not any(
        isinstance(node, ast.Compare) and is_device_type_test(node) for node in subtree(test)
    )


def skips_without_module(statement: ast.stmt, names: ImportTable) -> str | None:
    """`triton = pytest.importorskip("triton")`: what follows runs only where that module is
    installed. Not for PyTorch itself (`importorskip("torch")`), which any PyTorch code needs. The
    top-level module skipped without (empty where it is not a literal); None for any other statement."""
    call = statement.value if isinstance(statement, (ast.Expr, ast.Assign)) else None
    if not (isinstance(call, ast.Call) and call.args and names.resolve(call.func) in OPTIONAL_MODULE_SKIPS):
        return None
    module = call.args[0]
    top = str(module.value).partition(".")[0] if isinstance(module, ast.Constant) else ""
    return None if top == "torch" else top


def names_a_probe(identifier: str) -> bool:
    """`IS_HIP`, `use_cuda`, `HAS_TRITON`: a name that says what it probes."""
    return bool(identifier_probes(identifier))


def tests_library(test: ast.expr, library: str, names: ImportTable) -> bool:
    """Whether `test` holds only where the optional library `library` (a top-level module name) is
    installed: an availability test whose true branch needs an optional library (`polarity`), with
    a name in it spelled for that library (`HAS_XFORMERS`, `is_flash_attn_available()`,
    `xformers_enabled()`), or a call that asks about it by name (`is_package_available("flash_attn")`).
    `import xformers` under it cannot fail: it runs only where an earlier import of the library
    succeeded."""
    wanted = set(_words(library))
    if not wanted or polarity(test, names, Probe.OPTIONAL) is not Polarity.POSITIVE:
        return False
    return any(
        wanted <= set(_words(node.id if isinstance(node, ast.Name) else node.attr))
        for node in subtree(test)
        if isinstance(node, (ast.Name, ast.Attribute))
    ) or any(
        wanted <= set(_words(argument.value))
        for node in subtree(test) if isinstance(node, ast.Call)
        for argument in node.args if isinstance(argument, ast.Constant) and isinstance(argument.value, str)
    )


def names_cuda(identifier: str) -> bool:
    """`CUDA_Accelerator`, `CudaBackend`: a name that says it is the CUDA side of something."""
    return "cuda" in _words(identifier)


def asks_for_cuda_part(call: ast.Call) -> bool:
    """`is_extension_available("ops_cuda")`, `backend_available("cuda")`: an availability probe (a
    function whose name ends in `available`) asked about one thing named for CUDA, by a string. A CUDA
    extension or backend registers only where CUDA is, so the answer is False without a CUDA device;
    a ROCm build may register a hipified one under the same name, so there it is open."""
    func = call.func
    identifier = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    words = _words(identifier)
    return (
        len(words) > 1
        and words[-1] == "available"
        and len(call.args) == 1
        and not call.keywords
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
        and names_cuda(call.args[0].value)
    )


def _atom_probes(node: ast.AST, names: ImportTable) -> set[Probe]:
    if isinstance(node, ast.Compare):
        platform = platform_test(node, names)
        if platform is not None:
            return {probe for probe, _ in platform}  # `SYSTEM == "cuda"`: what the tests that set it to "cuda" ask
        chosen = chosen_polarity(node, names) is not None or names.environment_switch(node)
        probes = {Probe.OFF_BY_DEFAULT} if chosen else set()
        for operand in _compared_values(node):
            if isinstance(operand, ast.Constant) and isinstance(operand.value, str):
                if CUDA_DEVICE_STRING.fullmatch(operand.value):
                    probes.add(Probe.CUDA)
                elif operand.value.lower() in _STRING_PROBES:
                    probes.add(_STRING_PROBES[operand.value.lower()])
                elif SCHEDULER_VARIABLE.fullmatch(operand.value):
                    probes.add(Probe.MULTI_PROCESS)  # `"SLURM_PROCID" in os.environ`
                elif operand.value in LAUNCHER_VARIABLES and isinstance(node.ops[0], (ast.In, ast.NotIn)):
                    probes.add(Probe.MULTI_PROCESS)  # `"RANK" in os.environ`
        if _launch_sentinel_test(node, names) is not None:
            probes.add(Probe.MULTI_PROCESS)  # `LOCAL_RANK != -1` for `LOCAL_RANK = int(os.getenv("LOCAL_RANK", -1))`
        if len(node.ops) == 1 and _counts_processes(node.left) and _single_process(node) is not None:
            probes.add(Probe.MULTI_PROCESS)  # `world_size > 1`
        return probes
    keyed = keyed_flag(node, names)
    if keyed is not None:
        return {probe for probe, _ in keyed}  # `config['distributed']` holds what was stored there
    key = settings_key(node) if isinstance(node, ast.expr) else None
    if key is not None and key in names.off_by_default:
        return {Probe.OFF_BY_DEFAULT}  # `cfg["train"]["use_extra"]`, `cfg.get("resume")` of a setting left off
    if isinstance(node, ast.Subscript):  # `os.environ["SLURM_NNODES"]`
        return {Probe.MULTI_PROCESS} if _names_scheduler_variable(node.slice) else set()
    if isinstance(node, ast.Call):
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "startswith"
            and any(_is_cuda_device_string(a, prefix=True) for a in node.args)
        ):
            return {Probe.CUDA}
        if is_off_by_default_read(node) or is_environment_switch(node):
            return {Probe.OFF_BY_DEFAULT}
        if isinstance(func, ast.Attribute) and func.attr in _ENVIRONMENT_LOOKUPS and node.args and _names_scheduler_variable(node.args[0]):
            return {Probe.MULTI_PROCESS}
        attribute = node.args[1] if feature_probe(node, names) is not None else None
        if isinstance(attribute, ast.Constant) and isinstance(attribute.value, str):
            owner = names.resolve(node.args[0])
            probe = _RESOLVED_PROBES.get(f"{owner}.{attribute.value}") if owner else None
            return {probe} if probe else set()
        if asks_for_cuda_part(node):
            return {Probe.CUDA}  # `is_extension_available("ops_cuda")`: its name is met again, as an optional probe
        if isinstance(func, ast.Attribute) and func.attr in _MARKER_LOOKUPS and node.args:
            marker = node.args[0]
            if isinstance(marker, ast.Constant) and isinstance(marker.value, str):
                return set(identifier_probes(marker.value))
        return set()  # a called probe (`is_xformers_available()`) is met again as its name
    if isinstance(node, (ast.Name, ast.Attribute)):
        qualified = names.resolve(node)
        if qualified is not None and qualified.partition(".")[0] == "torch":
            if qualified in _NVIDIA_PROBES:
                return {Probe.CUDA, Probe.NVIDIA}
            probe = _RESOLVED_PROBES.get(qualified)
            return {probe} if probe else set()
        identifier = node.id if isinstance(node, ast.Name) else node.attr
        if isinstance(node, ast.Attribute) and identifier in names.always_set:
            return set()  # `args.cuda` from `add_argument("--cuda", action="store_false")` is True on CPU too
        if isinstance(node, ast.Name) and identifier in names.kept_on:
            return set()  # `use_gpu=True` that no caller turns off: the function's own route, on a CPU too
        if identifier in names.cpu_switches and (isinstance(node, ast.Name) or reads_option(node, names.cpu_switches)):
            return {Probe.CPU}  # `if not cpu: model.cuda()` with `cpu=opt.cpu` from `--cpu`: the switch's GPU arm
        switched = identifier in names.off_by_default or id(node) in names.set_when_on
        off = {Probe.OFF_BY_DEFAULT} if switched else set()
        named = identifier_probes(identifier)
        if named:
            return set(named) | off
        meaning = _value_flag(node, names)
        return ({probe for probe, _ in meaning} if meaning else set()) | off
    return set()


_DEVICE_METHODS = frozenset({"cuda", "gpu", "hip", "rocm", "to"})


def _test_part(node: ast.AST) -> bool:
    """Whether a part of a flag's value is a test's: names, comparisons, `and`/`or`/`not`, and
    calls of a named function with plain arguments (`torch.cuda.is_available()`,
    `capability(0) >= (8, 0)`, `bool(torch.version.hip)`). A value that computes something else (a
    tensor moved with `.cuda()`, the result of a pipeline) is no flag, whatever its parts mention."""
    if isinstance(node, (ast.IfExp, ast.Dict, ast.List, ast.Set, ast.JoinedStr, ast.Lambda, ast.comprehension)):
        return False
    if not isinstance(node, ast.Call):
        return True
    func = node.func
    while isinstance(func, ast.Attribute):
        if func.attr in _DEVICE_METHODS and func is node.func:
            return False  # `x.cuda()` moves a value
        func = func.value
    if not isinstance(func, ast.Name):
        return False  # a method of a call's result: `pipe(...).images`
    arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
    return all(isinstance(argument, (ast.Constant, ast.Name, ast.Attribute, ast.Tuple)) or _lookup(argument) for argument in arguments)


def _lookup(node: ast.expr) -> bool:
    """`os.environ["WORLD_SIZE"]`, `config["world_size"]`: an entry of a mapping under a written key."""
    return isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Name, ast.Attribute)) and isinstance(node.slice, ast.Constant)


def _names_scheduler_variable(node: ast.AST) -> bool:
    """`"SLURM_PROCID"`: the name of a variable only a batch scheduler or an MPI launcher sets."""
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(SCHEDULER_VARIABLE.fullmatch(node.value))


def _compared_values(node: ast.Compare) -> list[ast.expr]:
    """The operands of a comparison, a collection's items included (`device in ("cuda", "hip")`),
    and the name a device object is built from (`device == torch.device("cpu")` compares with `"cpu"`)."""
    values: list[ast.expr] = []
    for operand in (node.left, *node.comparators):
        values.extend(operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand])
    return [_device_name(value) for value in values]


def _device_name(value: ast.expr) -> ast.expr:
    """The string of `torch.device("cpu")` (or `device("cpu")`), and of its type (`torch.device("cuda").type`,
    which is `"cuda"`: https://docs.pytorch.org/docs/stable/tensor_attributes.html#torch.device), else the
    value itself."""
    if isinstance(value, ast.Attribute) and value.attr == "type" and isinstance(value.value, ast.Call):
        built = _device_name(value.value)
        return built if built is not value.value else value
    if isinstance(value, ast.Call) and len(value.args) == 1 and not value.keywords:
        func = value.func
        called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if called == "device" and isinstance(value.args[0], ast.Constant) and isinstance(value.args[0].value, str):
            return value.args[0]
    return value


def marker_probes(marker: ast.expr, names: ImportTable, _seen: frozenset[str] = frozenset()) -> set[Probe]:
    """What a test marker or decorator says about where its function runs: its probes, the names of
    its arguments (`@_RunIf(min_cuda_gpus=1)`, `requires(gpu=True)`), and for a pytest mark the
    devices it names (`@pytest.mark.runs_on(["cuda"])`). An argument set to a false constant
    (`min_cuda_gpus=0`) asks for nothing. A marker kept in a module-level name
    (`_needs_gpu = pytest.mark.skipif(...)`, then `@_needs_gpu` or `marks=[_needs_gpu]`) says what
    the expression it was assigned says."""
    found = set(probes_in(marker, names))  # a copy: `probes_in` answers are shared
    for node in subtree(marker):
        if isinstance(node, ast.Name) and node.id not in _seen:
            value = names.module_value(node.id)
            if value is not None:
                found.update(marker_probes(value, names, _seen | {node.id}))
    for call in (node for node in subtree(marker) if isinstance(node, ast.Call)):
        if gpu_request(call, names):
            continue  # `@ray.remote(num_gpus=1)` is a requirement, not a guard (`concerns/requirements.py`)
        for keyword in call.keywords:
            value = keyword.value
            if keyword.arg and not (isinstance(value, ast.Constant) and not value.value):
                found.update(identifier_probes(keyword.arg))
        qualified = names.resolve(call.func) or ""
        if qualified.startswith("pytest.mark.") and any(
            _is_cuda_device_string(node) for arg in call.args for node in subtree(arg)
        ):
            found.add(Probe.CUDA)
    return found


def gpu_request(call: ast.Call, names: ImportTable) -> ast.keyword | None:
    """The `num_gpus=` of a task or actor that asks a scheduler for GPUs (`@ray.remote(num_gpus=1)`,
    `Actor.options(num_gpus=0.5)`), when it asks for more than none; None for any other call."""
    asks = names.resolve(call.func) in _GPU_SCHEDULERS or (isinstance(call.func, ast.Attribute) and call.func.attr == "options")
    for keyword in call.keywords if asks else ():
        value = keyword.value
        if keyword.arg == "num_gpus" and isinstance(value, ast.Constant) and isinstance(value.value, (int, float)):
            return keyword if value.value > 0 else None
    return None


def _is_cuda_device_string(node: ast.AST, prefix: bool = False) -> bool:
    """`"cuda"`, `"cuda:0"`; with `prefix`, also `"cuda:"` (what `device.startswith("cuda:")` asks)."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return False
    return bool(CUDA_DEVICE_STRING.fullmatch(node.value.removesuffix(":") if prefix else node.value))


@lru_cache(maxsize=4096)
def identifier_probes(identifier: str) -> frozenset[Probe]:
    """`use_cuda`, `args.gpu`, `is_rocm_pytorch`, `args.distributed`, `use_flash_attn`: settings named for a probe."""
    ordered = _words(identifier)
    words = set(ordered)
    found = {probe for probe, vocabulary in _NAME_WORDS.items() if words & vocabulary}
    if words & _OTHER_DEVICE_WORDS and not words & NEGATING_WORDS:
        found.add(Probe.OTHER_DEVICE)
    if "initialized" in words and words & {"dist", "distributed"}:
        found.add(Probe.MULTI_PROCESS)  # `is_dist_avail_and_initialized()`: a process group was started
    if "flash" in words and words & {"attn", "attention"}:
        found.add(Probe.CUDA)  # `use_flash_attn`: set only where FlashAttention is installed, as `use_cuda` is
    if len(ordered) > 1 and (ordered[0] in _OPTIONAL_FIRST or ordered[-1] in _OPTIONAL_LAST):
        library = [word for word in ordered if word not in _OPTIONAL_FIRST | _OPTIONAL_LAST | _OPTIONAL_FILLER]
        if library != ["torch"]:  # `is_torch_available()` holds wherever PyTorch code runs at all
            found.add(Probe.OPTIONAL)
    return frozenset(found)


@lru_cache(maxsize=4096)
def _words(identifier: str) -> tuple[str, ...]:
    return tuple(word.lower() for word in _WORD_SPLIT.split(identifier) if word)


def is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None
