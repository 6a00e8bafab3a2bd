"""Resolve local names to the fully qualified names they were imported as.

`import torch as th`, `from torch import cuda` and `import torch.cuda as tc` all make
`th.cuda.synchronize`, `cuda.synchronize` and `tc.synchronize` the same API,
`torch.cuda.synchronize`. So does `cu = torch.cuda` (at module level) followed by `cu.synchronize()`.
Resolution is flow-insensitive (every import in the module counts, wherever it sits),
which matches how imports are written in practice.

The project's own modules are resolved too, for the flags they define (`project_flag`): given the
module's dotted name, `from .utils import IS_HIP` binds `IS_HIP` to `pkg.utils.IS_HIP`. Those
bindings are kept apart from the absolute ones, so a relative import never resolves to a name the
catalog knows.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cudaudit.rules.python.nodes import own_nodes, subtree
from cudaudit.rules.python.setting_values import Known, Value, field_default, flipped, holds, literal, settings_class


@dataclass(frozen=True)
class Binding:
    """What a local name was imported as, and whether it names a module."""

    qualified: str
    is_module: bool


def attribute_chain(node: ast.expr) -> tuple[ast.expr, list[str]]:
    """The expression a chain of attributes hangs from and the attributes in source order:
    `torch.cuda.is_available` is (Name torch, ["cuda", "is_available"])."""
    attributes: list[str] = []
    while isinstance(node, ast.Attribute):
        attributes.append(node.attr)
        node = node.value
    return node, attributes[::-1]


def final_name(node: ast.expr) -> str | None:
    """The name a name or an attribute chain ends with (`use_x` of `opt.use_x`); None for anything else."""
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def setting_read(node: ast.expr) -> str | None:
    """The setting a value reads: the name a name or attribute chain ends with, or, for a call, the
    called function's marked as a query (`get_tp_rank()` for `mpu.get_tp_rank()`), which only a
    query's own entry among the settings matches (`parallel_sizes.QUERY_SUFFIX`)."""
    if isinstance(node, ast.Call):
        called = final_name(node.func)
        return None if called is None else called + "()"
    return final_name(node)


def dotted_name(node: ast.expr) -> str:
    """A chain of attributes as written, without resolving imports (`sys.exit`); the attributes
    alone where it hangs from something other than a name (`f().x` is `x`)."""
    root, attributes = attribute_chain(node)
    return ".".join([root.id, *attributes] if isinstance(root, ast.Name) else attributes)


class ImportTable:
    """Local names bound by absolute imports anywhere in one module.

    `module` is the module's own dotted name (`pkg.ops.attention`, `pkg` for `pkg/__init__.py` with
    `package=True`), which relative imports start from; `flags` are the project's device flags by
    qualified name (`pkg.utils.SUPPORTS_BF16` -> what `if SUPPORTS_BF16:` probes, from the
    project index)."""

    def __init__(
        self,
        tree: ast.AST,
        module: str = "",
        flags: Mapping[str, Any] | None = None,
        package: bool = False,
        rocm_capabilities: Any = None,
        markers: Mapping[str, Any] | None = None,
        left_out_marks: frozenset[str] = frozenset(),
        deselected_marks: frozenset[str] = frozenset(),
        off_elsewhere: frozenset[str] = frozenset(),
        absent_packages: frozenset[str] = frozenset(),
        package_flags: Mapping[str, frozenset[str]] | None = None,
        chosen_elsewhere: Mapping[str, Value] | None = None,
        documented_values: Mapping[str, Value] | None = None,
        cpu_routes: frozenset[str] = frozenset(),
        unimportable: frozenset[str] = frozenset(),
        unrequested: frozenset[str] = frozenset(),
        launched_by_default: frozenset[str] = frozenset(),
        kept_on: frozenset[str] = frozenset(),
        cpu_parameters: frozenset[str] = frozenset(),
        always_launched: bool = False,
        launched_some: bool = False,
        scheduler_launched: bool = False,
        module_loaders: Mapping[str, str] | None = None,
    ) -> None:
        self.tree = tree
        self.cpu_routes = cpu_routes
        """The options a documented command sets to `cpu` where it runs this module (`--device cpu`,
        `documented_flags.cpu_options` through the index): the CPU's route the project documents."""
        self.always_launched = always_launched
        """Whether every documented command of this module's route starts it under a launcher of
        several processes (`launched_entries.py`, through the index): every launch test's launched
        branch is the normal path."""
        self.launched_some = launched_some
        """Whether documented commands of this module's route start it under a launcher for one use
        and as one process for another (`launched_entries.py`): both branches of a launch test are
        the normal path of some documented command."""
        self.scheduler_launched = scheduler_launched
        """Whether a batch scheduler (`srun`) launches this module's route: without one, a test of its
        variables (`"SLURM_PROCID" in os.environ`) keeps its arm another path on a launched route."""
        self.kept_on = kept_on
        """The parameters this module's functions default to True that every caller keeps True
        (`kept_on.py`, through the index): the arm a test of one takes where it is False is another path."""
        self.cpu_parameters = cpu_parameters
        """The parameters of this module's functions that a call in another module hands a CPU switch
        (`cpu_handed.py`, through the index): part of `cpu_switches`."""
        self.launched_by_default = launched_by_default
        """The multi-process switches this module tests that the project's configuration turns on
        (`launch_switches.py`, through the index): their launch branch is the normal path."""
        self.unrequested = unrequested
        """The packages installed only on request that no install route of the project names (through
        the index, `unrequested.py`): an import of one that goes on where it fails is a note."""
        self.absent_packages = absent_packages
        """The packages no machine without a GPU can install (the catalog's `[[absent_without_gpu]]`)."""
        self.module_loaders: Mapping[str, str] = module_loaders or {}
        """The project's functions this module defines or imports by their own name that return a library
        which fails only at its first call, with the library (`module_loaders.py`, through the index):
        `nvml = load_nvml()` takes the library as `import pynvml as nvml` would."""
        self.unimportable = unimportable
        """In a test module, the project's CUDA extensions and the modules that import one at their top
        level, which no machine without a GPU can import either (`unimportable.py`, through the index)."""
        self.package_flags: Mapping[str, frozenset[str]] = package_flags or {}
        """The project's flags and probe functions that hold only where packages import, by qualified
        name (a function's with `()`), with those packages (`package_probes.py`, through the index)."""
        self.local_package_flags: dict[str, frozenset[str]] | None = None
        """The module's own such probes, by name, once asked (`package_probes.needed_packages`)."""
        self.failed_import_flags: frozenset[str] | None = None
        """The module's names set where an import of such a package or module failed, once asked (`failed_imports.py`)."""
        self.left_out_marks = left_out_marks
        """The custom pytest marks a plain `pytest` run leaves out of this test module (through the
        index, `test_selection.py`)."""
        self.deselected_marks = deselected_marks
        """Those of them the pytest configuration deselects by default (`-m 'not gpu'`): a plain run
        runs their tests nowhere."""
        self.rocm_capabilities = rocm_capabilities
        """What each GPU ROCm supports reports as its capability (`capability_use.RocmCapabilities`), where known."""
        self.capability_defaults: dict[str, Any] | None = None
        """`skip_conditions.capability_defaults` of the module, once asked."""
        self.launch_sentinels: dict[str, int | str] | None = None
        """`guards.launch_sentinels` of the module, once asked."""
        self._bindings: dict[str, Binding] = {}
        self._relative: dict[str, str] = {}
        self.flags: Mapping[str, Any] = flags or {}
        self.markers: Mapping[str, Any] = markers or {}
        """The project's skip markers by qualified name (`skip_conditions.read_skip_markers`, through the index)."""
        self.probes: dict[int, tuple[ast.AST, frozenset[Any]]] = {}
        """`guards.probes_in` of a node, by the node's `id`, with the node (so the `id` stays its own)."""
        self.flag_meanings: dict[str, Any] = {}
        self.platform_strings: dict[str, Any] | None = None
        """`platform_paths.assigned_strings` of the module, once asked (`guards.platform_test`)."""
        self.group_assignments: list[int] | None = None
        """The lines of the module's assignments to a name for a process group, once asked (`process_groups.py`)."""
        """`guards.flag_meaning` of each module-level name asked about (None: no flag)."""
        parts = module.split(".") if module else []
        own_package = parts if package else parts[:-1]
        self.statements = statements = _statements(tree)
        """Every statement of the module, at any depth, in the order they are written."""
        for node in statements:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self._bindings[alias.asname] = Binding(alias.name, True)
                    else:
                        root = alias.name.partition(".")[0]
                        self._bindings[root] = Binding(root, True)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    if alias.name != "*":
                        name = f"{node.module}.{alias.name}"
                        self._bindings[alias.asname or alias.name] = Binding(name, False)
            elif (
                isinstance(node, ast.ImportFrom)
                and node.level
                and (self.flags or self.markers or self.package_flags)
                and node.level <= len(own_package)
            ):
                base = ".".join([*own_package[: len(own_package) - node.level + 1], *([node.module] if node.module else [])])
                for alias in node.names:
                    if alias.name != "*":
                        self._relative[alias.asname or alias.name] = f"{base}.{alias.name}"
        self.classes = frozenset(node.name for node in getattr(tree, "body", []) if isinstance(node, ast.ClassDef))
        """The module's own top-level classes: `CPUState.GPU` names a member of one, no probe's value."""
        functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        for node in getattr(tree, "body", []):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.setdefault(node.name, []).append(node)
        self._functions = {name: defined[0] for name, defined in functions.items() if len(defined) == 1}
        self._own = {name: f"{module}.{name}" for name in functions} if module and self.flags else {}
        """The module's own top-level functions by qualified name: a call of one that returns a flag is read
        through the index as another module's is (`flag_functions.py`)."""
        self._declared_with = (dict(self._bindings), chosen_elsewhere or {}, off_elsewhere, documented_values or {})
        """What the settings the module declares are read with (`chosen`, `off_by_default`): its imports
        as bound before its module-level aliases below, and the index's declarations elsewhere. Those
        readings are made when first asked: most modules that pass the prefilter are never walked
        (`survey.py`), and the index's readers build a table only for its imports."""
        imported = set(self._bindings)
        assigned: dict[str, list[ast.expr]] = {}
        for node in getattr(tree, "body", []):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                assigned.setdefault(node.targets[0].id, []).append(node.value)
            # `cu = torch.cuda` at module level: a plain name bound to an imported name, never to a
            # call's result. A function's local of the same name must not leak into the module.
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                local = node.targets[0].id
                qualified = self.resolve(node.value)
                if qualified is not None and local not in imported:
                    is_module = isinstance(node.value, ast.Name) and self._bindings[node.value.id].is_module
                    self._bindings[local] = Binding(qualified, is_module)
        self._module_values = {name: values[0] for name, values in assigned.items() if len(values) == 1}
        """What a name assigned once at module level holds: `_skip_no_gpu = pytest.mark.skipif(...)`."""

    def documented(self, option: str) -> bool:
        """Whether every documented command of this module's route gives the option `option` (its
        long flag without dashes, `-` read as `_`) one value (`documented_flags.documented_values`,
        through the index): the option's default is not what those commands run with."""
        return option in self._declared_with[3]

    @cached_property
    def always_set(self) -> frozenset[str]:
        """Command-line options that are set on every machine (`action="store_false"`, a default
        that is not None or False): `if args.cuda:` on such an option is no availability check."""
        return frozenset(_always_set_options(self.statements))

    @cached_property
    def cpu_switches(self) -> frozenset[str]:
        """The module's CPU switch: its options that run the program on the CPU
        (`--cpu`, `action="store_true"`; `cpu_options`), the names that receive one (`cpu=opt.cpu` in a call,
        `cpu = opt.cpu`), and the parameters another module's calls hand one (`cpu_parameters`)."""
        options = frozenset(cpu_options(self.statements))
        return (_receivers(self.tree, options) if options else options) | self.cpu_parameters

    @cached_property
    def _settings(self) -> tuple[frozenset[str], dict[str, Value]]:
        bindings, chosen_elsewhere, off_elsewhere, documented = self._declared_with
        streamlit = any(binding.qualified.partition(".")[0] == "streamlit" for binding in bindings.values())
        widgets_off, chosen = _chosen_settings(
            self.statements, lambda node: _qualified(bindings, node), streamlit, chosen_elsewhere, documented
        )
        return frozenset(_off_by_default(self.statements)) | widgets_off | off_elsewhere, chosen

    @property
    def chosen(self) -> dict[str, Value]:
        """The settings this module shows to hold one of several values, with the one they hold unless
        the user picks another (`guards.chosen_polarity`), and those it reads that another module
        declares so (`chosen_elsewhere`, through the index: `choice_settings.py`)."""
        return self._settings[1]

    @property
    def off_by_default(self) -> frozenset[str]:
        """Settings this module shows to be off unless asked for (`guards.is_off_by_default`), and
        those it reads that another module declares so (`off_elsewhere`, through the index)."""
        return self._settings[0]

    @cached_property
    def environment_lookups(self) -> dict[str, ast.Call]:
        """The names every assignment of which in the module looks up one environment variable
        (`BASICSR_JIT = os.getenv("BASICSR_JIT")`), with that lookup: a test of the name (`if
        BASICSR_JIT == "True":`) is the test of the lookup (`is_environment_switch`). Its truth alone
        (`if BASICSR_JIT:`) is read as the lookup's (`if os.getenv("BASICSR_JIT"):`) is: no switch."""
        return _environment_lookups(self.statements)

    def environment_switch(self, node: ast.expr) -> bool:
        """`is_environment_switch` of a test, with the module's `environment_lookups` where it compares a name."""
        named = isinstance(node, ast.Compare) and isinstance(_unwrapped(node.left), ast.Name)
        return is_environment_switch(node, self.environment_lookups if named else None)

    @cached_property
    def set_when_on(self) -> frozenset[int]:
        """The ids of the reads of local names that hold something only when such a setting is on
        (`index = None`, then `if opt.use_x: index = Index(...)`): `if index is not None:` is the
        same opt-in path."""
        off = self.off_by_default
        return _set_only_when_on(self.tree, self.statements, off) if off else frozenset()

    def binding(self, name: str) -> Binding | None:
        return self._bindings.get(name)

    def imports(self, package: str) -> bool:
        """Whether the module imports `package` or a module of it, anywhere (`torch`, `torch.nn`)."""
        return any(binding.qualified.partition(".")[0] == package for binding in self._bindings.values())

    def project_flag(self, node: ast.expr) -> Any:
        """What the project index says a flag that `node` names probes (`SUPPORTS_BF16` after
        `from .utils import SUPPORTS_BF16`, `utils.SUPPORTS_BF16` after `from pkg import utils`)."""
        return self._project_name(node, self.flags)

    def project_string_flag(self, node: ast.expr, string: str) -> Any:
        """What the project index says a test of a platform variable that `node` names against `string`
        probes (`SYSTEM == "cuda"` after `from .utils import SYSTEM`: `project_flags.py`)."""
        return self._project_name(node, self.flags, f"=={string}")

    def project_marker(self, node: ast.expr, called: bool = False, suffix: str = "") -> Any:
        """What the project index says a skip marker that `node` names skips (`needs_sm80` after
        `from .utils import needs_sm80`); `called`, what the markers a factory of them returns skip
        (`run_if_flag` of `@run_if_flag("X")`, kept as `run_if_flag()`); `suffix`, what a part of it
        kept under its own name skips (the set-up of a test class, `GpuTestBase.setUp`)."""
        return self._project_name(node, self.markers, "()" if called else suffix)

    def package_flag(self, node: ast.expr, suffix: str = "") -> frozenset[str] | None:
        """The packages the project index says the flag `node` names needs (`HAVE_TE` after `from
        .utils import HAVE_TE`); with `suffix` `()`, those a call of the probe function it names needs."""
        found: frozenset[str] | None = self._project_name(node, self.package_flags, suffix)
        return found

    def _project_name(self, node: ast.expr, table: Mapping[str, Any] | frozenset[str], suffix: str = "") -> Any:
        if not table:
            return None
        root, attributes = attribute_chain(node)
        if not isinstance(root, ast.Name):
            return None
        binding = self._bindings.get(root.id)
        qualified = binding.qualified if binding is not None else self._relative.get(root.id, self._own.get(root.id))
        if qualified is None:
            return None
        name = ".".join([qualified, *attributes]) + suffix
        return (name if name in table else None) if isinstance(table, frozenset) else table.get(name)

    def function(self, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The module's top-level function of that name, where it defines one (and only one)."""
        return self._functions.get(name)

    def module_value(self, name: str) -> ast.expr | None:
        """The expression a module-level name was assigned, where it is assigned once there."""
        return self._module_values.get(name)

    def local_name(self, module: str) -> str | None:
        """The name the module binds to `module` itself: `th` after `import torch as th`."""
        if self._bindings.get(module) == Binding(module, True):
            return module
        return next((name for name, b in self._bindings.items() if b == Binding(module, True)), None)

    def resolve(self, node: ast.expr) -> str | None:
        """The qualified name of a `Name` or a chain of attributes on one, if imported."""
        return _qualified(self._bindings, node)

    def is_module_chain(self, node: ast.expr) -> bool:
        """Whether `node` is a chain rooted at an imported module (`tvm`, `tvm.runtime`)."""
        root, _ = attribute_chain(node)
        if not isinstance(root, ast.Name):
            return False
        binding = self._bindings.get(root.id)
        return binding is not None and binding.is_module


def _qualified(bindings: Mapping[str, Binding], node: ast.expr) -> str | None:
    """`ImportTable.resolve` with these bindings."""
    if isinstance(node, ast.Name):  # most of what is asked: no chain to walk
        binding = bindings.get(node.id)
        return binding.qualified if binding is not None else None
    root, attributes = attribute_chain(node)
    if not isinstance(root, ast.Name):
        return None
    binding = bindings.get(root.id)
    if binding is None:
        return None
    return ".".join([binding.qualified, *attributes])


def _statements(node: ast.AST, found: list[ast.stmt] | None = None) -> list[ast.stmt]:
    """Every statement, at any depth, in the order they are written; imports are statements, so
    expressions are skipped. Gathered into one list: a generator per level handed each statement up
    through every level above it."""
    found = [] if found is None else found
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, ast.stmt):
                    found.append(item)
                    _statements(item, found)
                elif isinstance(item, (ast.excepthandler, ast.match_case)):
                    _statements(item, found)
    return found


def _always_set_options(statements: list[ast.stmt]) -> Iterator[str]:
    """Destinations of `add_argument` calls whose value is truthy unless the user says otherwise,
    and whose help names no value that selects the CPU: `--gpu_ids` with default `'0'` and the help
    "use -1 for CPU" is the program's documented CPU switch, so `if len(opt.gpu_ids) > 0:` asks
    which device the user chose, as a test of a name that counts GPUs does."""
    for statement in statements:
        call = statement.value if isinstance(statement, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            continue
        if call.func.attr != "add_argument":
            continue
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        action = keywords.get("action")
        default = keywords.get("default")
        store_false = isinstance(action, ast.Constant) and action.value == "store_false"
        truthy_default = default is not None and not (
            isinstance(default, ast.Constant) and (default.value is None or default.value is False)
        )
        if (store_false or truthy_default) and not _documents_cpu(keywords.get("help")):
            yield from _option_dest(call)


CPU_SWITCH_WORDS = frozenset({"cpu", "use", "on", "force", "only", "run", "mode"})
"""The words of a CPU switch's name (`--cpu`, `--use_cpu`, `--cpu-only`, `--force_cpu`): an option that
runs the program on the CPU, not one for a part of it (`--cpu_offload`, `--cpu-threads`)."""


def cpu_options(statements: list[ast.stmt]) -> Iterator[str]:
    """Destinations of the `store_true` options named for running on the CPU (`--cpu`, help "cpu
    mode."): the program's documented CPU switch, which the user turns on on a machine without a GPU."""
    for statement in statements:
        call = statement.value if isinstance(statement, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "add_argument"):
            continue
        action = next((k.value for k in call.keywords if k.arg == "action"), None)
        if isinstance(action, ast.Constant) and action.value == "store_true":
            for dest in _option_dest(call):
                words = {word for word in re.split(r"[_\W]+", dest.lower()) if word}
                if "cpu" in words and words <= CPU_SWITCH_WORDS:
                    yield dest


def _receivers(tree: ast.AST, options: frozenset[str]) -> frozenset[str]:
    """`options` (attribute names of the parsed arguments) and the names that receive one: a
    keyword a call hands it to (`load_checkpoints(path, cpu=opt.cpu)`, the parameter the function
    tests) and a name assigned it (`cpu = opt.cpu`)."""
    found = set(options)
    for node in subtree(tree):
        if isinstance(node, ast.keyword) and node.arg and reads_option(node.value, options):
            found.add(node.arg)
        elif isinstance(node, ast.Assign) and reads_option(node.value, options):
            found.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return frozenset(found)


def reads_option(value: ast.expr, options: frozenset[str]) -> bool:
    """Whether `value` reads one of `options` from the object that holds them (`opt.cpu`)."""
    return isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.attr in options


_CPU_WORD = re.compile(r"(?i)(?<![\w-])cpus?(?![\w-])")
"""The CPU named in an option's help (`use -1 for CPU`, `"cpu" to run without a GPU`), not in a
longer word (`cpu_offload`, `--cpu-threads`)."""


def _documents_cpu(help_text: ast.expr | None) -> bool:
    """Whether an option's help names the CPU: the option has a documented value that selects it."""
    return isinstance(help_text, ast.Constant) and isinstance(help_text.value, str) and bool(_CPU_WORD.search(help_text.value))


def settings_off_by_default(tree: ast.AST) -> frozenset[str]:
    """`ImportTable.off_by_default` of a module, without the rest of the table."""
    return frozenset(_off_by_default(list(_statements(tree))))


def _off_by_default(statements: list[ast.stmt]) -> Iterator[str]:
    """Names of settings whose default the module shows to be False: `add_argument("--use-x",
    action="store_true")`, a class field `use_x: bool = False`, and a name or attribute every
    assignment of which reads a setting with a False default (`use_x = cfg.get("use_x", False)`,
    `self.use_x = getattr(args, "use_x", False)`) or an environment variable the user sets to turn
    something on (`BENCH = os.environ.get("USE_BENCH", "0") == "1"`, `is_environment_switch`)."""
    reads: dict[str, bool] = {}
    for statement in statements:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) and _is_store_true(statement.value):
            yield from _option_dest(statement.value)
        elif isinstance(statement, ast.ClassDef):
            for field in statement.body:
                if (
                    isinstance(field, ast.AnnAssign)
                    and isinstance(field.target, ast.Name)
                    and field.value is not None
                    and _is_false_default(field.value)
                ):
                    yield field.target.id
        elif isinstance(statement, ast.Assign):
            for target in statement.targets:
                identifier = final_name(target)
                if identifier is not None:
                    off = is_off_by_default_read(statement.value) or is_environment_switch(statement.value)
                    reads[identifier] = reads.get(identifier, True) and off
    yield from (identifier for identifier, off in reads.items() if off)


SCHEDULER_VARIABLE = re.compile(r"(SLURM|OMPI_COMM_WORLD)_[A-Z0-9_]+")
"""What a batch scheduler or an MPI launcher sets in each process it starts, and nothing else does:
Slurm's `SLURM_PROCID`, `SLURM_JOB_ID`, ... (https://slurm.schedmd.com/sbatch.html#SECTION_OUTPUT-ENVIRONMENT-VARIABLES),
Open MPI's `OMPI_COMM_WORLD_RANK`, `OMPI_COMM_WORLD_SIZE`, ...
(https://docs.open-mpi.org/en/v5.0.x/tuning-apps/environment-var.html). Any test of one asks
whether that launcher started the process."""
LAUNCHER_VARIABLES = frozenset({"RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE"})
"""What PyTorch's launcher sets in each process it starts (https://docs.pytorch.org/docs/stable/elastic/run.html).
Their presence (`"RANK" in os.environ`) asks whether a launcher started the process, as does a rank
compared with a negative default its lookup falls back to (`_launch_sentinel_test`); a lookup with a default a
launched process may hold (`int(os.environ.get("LOCAL_RANK", 0)) == 0`) holds on one process too."""


def is_launch_variable(name: str) -> bool:
    """`RANK`, `WORLD_SIZE`, `SLURM_PROCID`: a variable a launcher or a scheduler sets in each process
    it starts, where a run of several processes reads it."""
    return name in LAUNCHER_VARIABLES or bool(SCHEDULER_VARIABLE.fullmatch(name))


def _environment_lookups(statements: list[ast.stmt]) -> dict[str, ast.Call]:
    """`ImportTable.environment_lookups`: plain names bound only to the same lookup of an environment
    variable by a string key, and no function's parameter (whose value is its caller's)."""
    lookups: dict[str, ast.Call | None] = {}
    other: set[str] = set()  # parameters (whose value is their caller's) and names bound any other way (a loop, `with ... as`, `+=`)
    for statement in statements:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = statement.args
            other.update(a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs))
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            name = statement.targets[0].id
            inner = _unwrapped(statement.value)  # `os.getenv("X", "").lower()`
            value = inner if isinstance(inner, ast.Call) and _is_environment_lookup(inner) else None
            known = lookups.get(name, value)
            same = known is not None and value is not None and ast.dump(known) == ast.dump(value)
            lookups[name] = known if same else None
        else:
            for target in _binding_targets(statement):
                other.update(node.id for node in subtree(target) if isinstance(node, ast.Name))
    return {name: lookup for name, lookup in lookups.items() if lookup is not None and name not in other}


def _binding_targets(statement: ast.stmt) -> list[ast.expr]:
    """What a statement binds: its assignment targets, a loop's variables, `with ... as` names."""
    if isinstance(statement, ast.Assign):
        return statement.targets
    if isinstance(statement, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        return [statement.target]
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return [item.optional_vars for item in statement.items if item.optional_vars is not None]
    return []


def _is_environment_lookup(node: ast.Call) -> bool:
    """`os.getenv("X")`, `os.environ.get("X", "0")`: one environment variable looked up by a string key,
    not one a launcher sets (`int(os.getenv("RANK", 0))` then `if rank != 0:` asks for a rank)."""
    key = node.args[0] if node.args else None
    return (
        isinstance(key, ast.Constant) and isinstance(key.value, str) and _looks_up_environment(node.func)
        and not is_launch_variable(key.value)
    )


_TICKED_WIDGETS = frozenset({"streamlit.checkbox", "streamlit.toggle", "streamlit.sidebar.checkbox", "streamlit.sidebar.toggle"})
"""Streamlit widgets that return whether the user ticked them; unticked unless `value` says otherwise
(https://docs.streamlit.io/develop/api-reference/widgets/st.checkbox)."""
_PICKED_WIDGETS = frozenset({"streamlit.radio", "streamlit.selectbox", "streamlit.sidebar.radio", "streamlit.sidebar.selectbox"})
"""Streamlit widgets that return the option the user picked: the one at `index` (0) until then
(https://docs.streamlit.io/develop/api-reference/widgets/st.radio)."""


_WIDGET_WORDS = frozenset(name.rpartition(".")[2] for name in _TICKED_WIDGETS | _PICKED_WIDGETS)


def _chosen_settings(
    statements: list[ast.stmt], resolve: Callable[[ast.expr], str | None], widgets: bool,
    elsewhere: Mapping[str, Value], documented: Mapping[str, Value],
) -> tuple[frozenset[str], dict[str, Value]]:
    """The names of Streamlit checkboxes a module keeps that are unticked until the user ticks them
    (every assignment of the name such a widget, or None or False), and the settings that hold one
    of several values, with the one they start on: an option with a `default=` of a plain value (among
    its `choices=`, where it has them), a class field of several values (`setting_values.field_default`:
    a `Literal[...]` field in any class, an enum member, a string, number or None in a settings
    class, `TrainConfig`), a radio or select box of string options, and those another module declares
    (`elsewhere`), which the module's own declarations override; a declared setting every documented
    command of the module's route gives one value (`documented`) starts on that value, and so does a
parameter of the option's name that the module declares no setting for (`def init_dist(launcher):`,
handed `args.launcher`: `if launcher == "slurm":` is another path there). Every declaration of a name must
    agree, and every plain assignment of it must read the setting (`quant_method =
    args.quant_method.lower()`) or be the same widget: a local name bound to anything else is another
    value. A local name every assignment of which reads one setting (`mode = ctx.config.sched_mode`),
    and no function takes as a parameter, holds that setting. Widgets are looked for only where the
    module imports Streamlit (`widgets`), and assignments only where there is a setting."""
    starts: dict[str, Known | None] = {}
    assignments: list[ast.Assign] = []
    parameters: set[str] = set()
    for statement in statements:
        if isinstance(statement, ast.Assign):
            assignments.append(statement)
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            option = option_choice(statement.value)
            if option is not None:
                _agree(starts, *option)
        elif isinstance(statement, ast.ClassDef):
            settings = settings_class(statement.name)
            for field in statement.body:
                if isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name) and field.value is not None:
                    default = field_default(field.annotation, field.value)
                    if default is not None and (settings or _names_its_values(field.annotation)):
                        _agree(starts, field.target.id, default)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            parameters.update(argument.arg for argument in subtree(statement.args) if isinstance(argument, ast.arg))
    for name, declared in elsewhere.items():
        starts.setdefault(name, (declared,))
    for name, given in documented.items():  # every documented command of the route gives it this value
        if starts.get(name) is not None or (name in parameters and name not in starts):
            starts[name] = (given,)
    if not (starts or widgets):
        return frozenset(), {}
    ticked: dict[str, bool] = {}
    plain: list[tuple[str, ast.expr]] = []
    for assignment in assignments:
        value = assignment.value
        widget = (
            resolve(value.func)
            if widgets and isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in _WIDGET_WORDS
            else None
        )
        for target in assignment.targets:
            identifier = final_name(target)
            if identifier is None:
                continue
            if widget in _TICKED_WIDGETS and isinstance(value, ast.Call):
                ticked[identifier] = ticked.get(identifier, True) and unticked(value)
            elif not is_nothing(value):  # `refine = False` where the widget is not shown
                ticked[identifier] = False
            if widget in _PICKED_WIDGETS and isinstance(value, ast.Call):
                picked = picked_option(value)
                _agree(starts, identifier, None if picked is None else (picked,))
            elif isinstance(target, ast.Name):
                plain.append((identifier, value))
    aliases: dict[str, set[str | None]] = {}
    for identifier, value in plain:  # read only for the names of settings: most assignments are not
        if identifier not in starts:
            read = setting_read(_unwrapped(value))
            aliases.setdefault(identifier, set()).add(read if read in starts else None)
        elif starts[identifier] is not None and not any(
            isinstance(node, ast.expr) and final_name(node) == identifier for node in subtree(value)
        ) and not _reads_the_same(value, starts[identifier], starts):
            starts[identifier] = None
    for identifier, reads in aliases.items():
        setting = next(iter(reads)) if len(reads) == 1 else None
        if setting is not None and identifier not in parameters:
            starts[identifier] = starts[setting]
    chosen = {identifier: start[0] for identifier, start in starts.items() if start is not None}
    return frozenset(identifier for identifier, off in ticked.items() if off), chosen


def _reads_the_same(value: ast.expr, start: Known | None, starts: Mapping[str, Known | None]) -> bool:
    """Whether a value assigned to a setting is a query of it that starts on the same value
    (`tp_size = mpu.get_tp_world_size()` where both are 1 on one rank): still the value it starts on."""
    value = _unwrapped(value)
    read = setting_read(value) if isinstance(value, ast.Call) else None
    return read is not None and read in starts and starts[read] == start


def _names_its_values(annotation: ast.expr) -> bool:
    """Whether a field's annotation itself says it holds one of several settings' values:
    `Literal[...]`. An enum-typed field of any class is no setting by that alone (a record's `role:
    Role = Role.MEMBER`, which the code sets per object), nor is a plain `str` or `int` one."""
    return isinstance(annotation, ast.Subscript) and final_name(annotation.value) == "Literal"


def _agree(starts: dict[str, Known | None], identifier: str, start: Known | None) -> None:
    """Keep `start` for `identifier` where every declaration so far agrees; None where one does not."""
    starts[identifier] = start if starts.get(identifier, start) == start else None


def picks_another(test: ast.Compare, chosen: Mapping[str, Value]) -> bool | None:
    """Whether the true branch of a test of a setting of `chosen` (its name -> the value it starts
    on) runs only for another value than that one (`mode == "img2img"`, `mode in ("img2img",
    "inpaint")` where `mode` starts on "txt2img"; `sched == Sched.ASYNC` where it starts on
    `Sched.LEGACY`; `ring_size > 1` where it starts on 1; `quant is not None` where it starts on
    None; `mpu.get_model_parallel_rank() != 0` where the query starts on 0, `setting_read`), or the
    false one does (`mode == "txt2img"`, whose `else` is the other modes); None for any
    other test (`setting_values.holds`)."""
    if len(test.ops) != 1:
        return None
    setting, compared, operation = test.left, test.comparators[0], test.ops[0]
    if setting_read(setting) not in chosen:  # `1 < cfg.size`, `"img2img" == mode`
        turned = flipped(operation)
        if turned is None:
            return None
        setting, compared, operation = compared, setting, turned
    name = setting_read(setting)
    if name is None or name not in chosen:
        return None
    held = holds(chosen[name], operation, compared)
    return None if held is None else not held


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def unticked(call: ast.Call) -> bool:
    """Whether a checkbox starts unticked: no `value`, or None or False."""
    state = _argument(call, 1, "value")
    return state is None or is_nothing(state)


def _strings(node: ast.expr | None) -> list[str] | None:
    """The strings a list, tuple or set of string constants holds; None for anything else."""
    if not isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return None
    values = [item.value for item in node.elts if isinstance(item, ast.Constant) and isinstance(item.value, str)]
    return values if values and len(values) == len(node.elts) else None


def _keys_of(node: ast.expr) -> str | None:
    """The name of the dict whose keys `node` lists: `list(SPECS.keys())`, `list(SPECS)`, `tuple(SPECS)`,
    `SPECS.keys()`; None for anything else."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("list", "tuple") and len(node.args) == 1:
        node = node.args[0]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "keys" and not node.args:
        node = node.func.value
    return node.id if isinstance(node, ast.Name) else None


_STORING_ACTIONS = frozenset({"store"})
"""The `action=` of an option that keeps the value given (argparse's default action)."""


def option_choice(call: ast.Call) -> tuple[str, Known] | None:
    """(dest, default) of `add_argument("--mode", choices=["a", "b"], default="a")` or of
    `add_argument("--ring-size", type=int, default=1)`: an option that keeps the value given, with a
    default of a plain value among its choices, or a number where it has none (an option with None
    for default is most often one a user must give, `--resume PATH`, more than a feature to ask for)."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "add_argument"):
        return None
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    action = keywords.get("action")
    if action is not None and not (isinstance(action, ast.Constant) and action.value in _STORING_ACTIONS):
        return None
    default = keywords.get("default")
    known = None if default is None else literal(default)
    if known is None:
        return None
    choices = keywords.get("choices")
    if choices is None and (known[0] is None or isinstance(known[0], str)):
        return None  # a free string or a path (`--model llama`, `--resume ckpt/`) names no set of values
    if choices is not None and not (isinstance(choices, (ast.List, ast.Tuple, ast.Set)) and any(
        isinstance(item, ast.Constant) and item.value == known[0] for item in choices.elts
    )):
        return None
    dest = next(_option_dest(call), None)
    return None if dest is None else (dest, known)


def picked_option(call: ast.Call, keys: Callable[[str], list[str] | None] | None = None) -> str | None:
    """The option a radio or select box of string options starts on. Its options may be the keys of
    a dict of the module (`list(SPECS.keys())`, `list(SPECS)`), which `keys` gives by its name."""
    given = _argument(call, 1, "options")
    options = _strings(given)
    table = _keys_of(given) if options is None and keys is not None and given is not None else None
    if table is not None and keys is not None:
        options = keys(table)
    index = _argument(call, 2, "index")
    at = 0 if index is None else index.value if isinstance(index, ast.Constant) else None
    if options is None or type(at) is not int or not 0 <= at < len(options):
        return None
    return options[at]


def _set_only_when_on(tree: ast.AST, statements: list[ast.stmt], off: frozenset[str]) -> frozenset[int]:
    """The ids of the reads of each name that its function (or the module) binds to something
    other than None or False only under a test of a setting in `off` (`if opt.use_x: index =
    Index(...)`, `index = Index(...) if opt.use_x else None`): where the setting is off it holds
    None. Any other binding of the name in that scope (a parameter, a loop variable, an
    unconditional value) keeps it from counting."""
    opted: dict[int, int] = {}  # the id of each assignment made only when a setting is on -> its line
    for statement in statements:
        if isinstance(statement, ast.If) and tests_a_setting(statement.test, off):
            opted.update((id(inner), inner.lineno) for inner in _assignments(statement.body))
        elif isinstance(statement, ast.Assign) and isinstance(statement.value, ast.IfExp):
            value = statement.value
            if tests_a_setting(value.test, off) and is_nothing(value.orelse):
                opted[id(statement)] = statement.lineno
    if not opted:
        return frozenset()  # no switch guards an assignment: the scopes are never walked
    # Only the functions whose lines hold such an assignment can bind a name so: the others'
    # walks found nothing (a module with a switch has many functions, and few such assignments).
    lines = sorted(set(opted.values()))
    scopes: list[ast.AST] = [tree, *(
        node for node in statements
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and bisect.bisect_left(lines, node.lineno) < bisect.bisect_right(lines, node.end_lineno or node.lineno)
    )]
    reads: set[int] = set()
    for scope in scopes:
        switched: set[str] = set()
        otherwise: set[str] = set()
        loads: dict[str, list[int]] = {}
        judged: set[int] = set()
        nodes = list(own_nodes(getattr(scope, "body", [])))
        for node in nodes:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Name):
                        judged.add(id(target))
                        if id(node) in opted:
                            switched.add(target.id)
                        elif node.value is None or not is_nothing(node.value):
                            otherwise.add(target.id)
        if not switched:
            continue
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            otherwise.update(arg.arg for arg in subtree(scope.args) if isinstance(arg, ast.arg))
        for node in nodes:
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    loads.setdefault(node.id, []).append(id(node))
                elif id(node) not in judged:
                    otherwise.add(node.id)  # a loop variable, `with ... as`, `+=`, `:=`, `del`
            elif isinstance(node, (ast.alias, ast.ExceptHandler, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound = node.asname or node.name if isinstance(node, ast.alias) else node.name
                if bound:
                    otherwise.add(bound.partition(".")[0])
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                otherwise.update(node.names)
        for name in switched - otherwise:
            reads.update(loads.get(name, ()))
    return frozenset(reads)




def tests_a_setting(test: ast.expr, off: frozenset[str]) -> bool:
    """`opt.use_x`, `use_x`, `cfg["use_x"]`, `cfg.get("use_x", False)`, alone or as one of the
    conditions of an `and`."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(tests_a_setting(value, off) for value in test.values)
    key = settings_key(test)
    return final_name(test) in off or (key is not None and key in off) or is_off_by_default_read(test)


def _assignments(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The assignments of a block, at any depth of its statements."""
    for statement in body:
        if isinstance(statement, (ast.Assign, ast.AnnAssign)):
            yield statement
        yield from (inner for inner in _statements(statement) if isinstance(inner, (ast.Assign, ast.AnnAssign)))


def is_nothing(node: ast.expr) -> bool:
    """`None` or `False`: what a name holds where the value it stands for is absent."""
    return isinstance(node, ast.Constant) and node.value in (None, False)


_ON_WORDS = frozenset({"1", "true", "yes", "on", "y", "t"})
"""What a user sets an environment variable to, to turn something on (`USE_X=1`, `PROFILE=true`)."""


def is_environment_switch(node: ast.expr, lookups: Mapping[str, ast.Call] | None = None) -> bool:
    """`os.environ.get("USE_X", "0") == "1"`, `os.getenv("PROFILE", "").lower() in ("1", "true")`,
    `int(os.environ.get("BENCH", 0)) == 1`: a variable the user sets to turn something on, whose
    lookup falls back to a value that is not on (no default, `None`, `"0"`, `""`, `False`) where it
    is unset: the true branch runs only when someone asks for it. So do the truth of such a lookup
    where unset reads false (`bool(int(os.getenv("STAGE_TIMING", "0")))`, `bool(os.getenv("TRACE"))`)
    and a test that it differs from its own fallback (`os.getenv("NVTX", "0") != "0"`). A variable a
    launcher sets is no such switch by its values (`os.environ.get("WORLD_SIZE", "1") == "1"` falls
    back to an on value, `os.environ.get("LOCAL_RANK") == "0"` compares with one that is not).
    `lookups` are names that hold such a lookup (`ImportTable.environment_lookups`): a comparison of
    one (`JIT == "True"`) is the comparison of its lookup."""
    if isinstance(node, ast.Call):
        return _environment_truth(node)
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Eq, ast.In, ast.NotEq))):
        return False
    compared = node.comparators[0]
    lookup = _unwrapped(node.left)
    if lookups and isinstance(lookup, ast.Name) and lookup.id in lookups:
        lookup = lookups[lookup.id]
    if not (isinstance(lookup, ast.Call) and lookup.args and _looks_up_environment(lookup.func)):
        return False
    key = lookup.args[0]
    if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
        return False
    default = _fallback(lookup)
    if isinstance(node.ops[0], ast.NotEq):  # `!= "0"` where unset reads "0": set to anything else
        return (
            isinstance(default, ast.Constant) and isinstance(compared, ast.Constant)
            and str(default.value).lower() == str(compared.value).lower()
            and str(compared.value).lower() not in _ON_WORDS
        )
    values = _strings(compared) if isinstance(node.ops[0], ast.In) else (
        [compared.value] if isinstance(compared, ast.Constant) and isinstance(compared.value, (str, int)) else None
    )
    if not values or not all(str(value).lower() in _ON_WORDS for value in values):
        return False
    return default is None or (isinstance(default, ast.Constant) and str(default.value).lower() not in _ON_WORDS)


def _fallback(lookup: ast.Call) -> ast.expr | None:
    """The value an environment lookup gives where the variable is unset, as written; None for none."""
    return lookup.args[1] if len(lookup.args) > 1 else next((k.value for k in lookup.keywords if k.arg == "default"), None)


def _environment_truth(call: ast.Call) -> bool:
    """`bool(int(os.getenv("X", "0")))`, `bool(os.getenv("X"))`, `bool(os.getenv("X", "0") != "0")`:
    true only where the user set the variable. `bool()` of a bare lookup needs no fallback or an
    empty one (`bool("0")` is true), of `int()` one of zero. A bare `int(os.getenv("N", "0"))` is more
    often a count (`LOCAL_RANK`, a number of workers) than a switch, and is none here."""
    if not (isinstance(call.func, ast.Name) and call.func.id == "bool" and len(call.args) == 1 and not call.keywords):
        return False
    inner = call.args[0]
    if isinstance(inner, ast.Compare):
        return is_environment_switch(inner)
    converted = isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == "int" and len(inner.args) == 1
    lookup = inner.args[0] if converted and isinstance(inner, ast.Call) else inner
    if not (isinstance(lookup, ast.Call) and lookup.args and _looks_up_environment(lookup.func)):
        return False
    key, default = lookup.args[0], _fallback(lookup)
    if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
        return False
    if default is None:
        return not converted  # `int(None)` raises where the variable is unset
    if not isinstance(default, ast.Constant):
        return False
    return default.value in ((0, "0") if converted else (None, "", False))


_CONVERSIONS = frozenset({"str", "int", "bool"})
_NORMALISERS = frozenset({"lower", "upper", "strip", "casefold"})


def _unwrapped(node: ast.expr) -> ast.expr:
    """The value under conversions and normalisations: `os.getenv("X", "").strip().lower()`, `int(...)`."""
    while isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _NORMALISERS and not node.args:
            node = func.value
        elif isinstance(func, ast.Name) and func.id in _CONVERSIONS and len(node.args) == 1:
            node = node.args[0]
        else:
            break
    return node


def _looks_up_environment(func: ast.expr) -> bool:
    """`os.environ.get`, `environ.get`, `os.getenv`, `getenv`."""
    if isinstance(func, ast.Attribute) and func.attr == "get":
        return final_name(func.value) == "environ"
    return final_name(func) == "getenv"


def is_off_by_default_read(node: ast.expr) -> bool:
    """`cfg.get("use_x", False)`, `getattr(args, "use_x", False)`: a setting read with a False default
    from something named for settings (`cfg`, `self.config`, `args`, `opts`, `kwargs`, `environ`)."""
    if not (isinstance(node, ast.Call) and len(node.args) == (2 if isinstance(node.func, ast.Attribute) else 3)):
        return False
    key, default = node.args[-2], node.args[-1]
    is_get = isinstance(node.func, ast.Attribute) and node.func.attr == "get" and _names_settings(node.func.value)
    is_getattr = isinstance(node.func, ast.Name) and node.func.id == "getattr" and _names_settings(node.args[0])
    return (
        (is_get or is_getattr)
        and isinstance(key, ast.Constant)
        and isinstance(key.value, str)
        and isinstance(default, ast.Constant)
        and default.value is False
    )


def settings_key(node: ast.expr) -> str | None:
    """The key a read of a mapping of settings spells (`use_x` of `cfg["train"]["use_x"]`,
    `self.config.get("use_x")`, `cfg.get("use_x", None)`): a setting as `cfg.train.use_x` reads it
    from an attribute view. The mapping at the root is named for settings (`_names_settings`); a
    lookup with another default than None or False gives that value where the key is absent. None
    for anything else."""
    if isinstance(node, ast.Call):
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr == "get" and 1 <= len(node.args) <= 2 and not node.keywords):
            return None
        if len(node.args) == 2 and not is_nothing(node.args[1]):
            return None
        key, holder = node.args[0], func.value
    elif isinstance(node, ast.Subscript):
        key, holder = node.slice, node.value
    else:
        return None
    if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
        return None
    while isinstance(holder, ast.Subscript):
        holder = holder.value
    return key.value if _names_settings(holder) else None


_SETTINGS_WORDS = re.compile(r"(?i)(cfg|conf|config|args|arguments|opts|options|settings|params|kwargs|flags|environ)$")


def _names_settings(node: ast.expr) -> bool:
    """`cfg`, `self.config`, `args`, `training_args`, `os.environ`: a value that holds settings."""
    return bool(_SETTINGS_WORDS.search(final_name(node) or ""))


def _is_store_true(node: ast.Call) -> bool:
    if not (isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument"):
        return False
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    action, default = keywords.get("action"), keywords.get("default")
    store_true = isinstance(action, ast.Constant) and action.value == "store_true"
    return store_true and (default is None or _is_false_default(default))


def _is_false_default(node: ast.expr) -> bool:
    """`False`, or `field(default=False)`."""
    if isinstance(node, ast.Constant):
        return node.value is False
    return isinstance(node, ast.Call) and any(
        k.arg == "default" and isinstance(k.value, ast.Constant) and k.value.value is False for k in node.keywords
    )


def _option_dest(call: ast.Call) -> Iterator[str]:
    """Where `add_argument` stores its option: `dest=`, else the longest flag with dashes as
    underscores; the last part of a dotted one (`--ds.packing_samples`), which the parser's caller
    nests into sections (`args.ds.packing_samples`) and a test reads as its last attribute."""
    dest = next((k.value for k in call.keywords if k.arg == "dest"), None)
    if isinstance(dest, ast.Constant) and isinstance(dest.value, str):
        yield dest.value.rpartition(".")[2]
        return
    flags = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    longest = max(flags, key=len, default="")
    if longest:
        yield longest.lstrip("-").replace("-", "_").rpartition(".")[2]
