"""One walk over a Python syntax tree that reports every catalog key it meets.

The walk recognises syntax only (a resolved name, an import, a device string in a
device context, a command run through `subprocess`); whether a key is lock-in, and what
replaces it, is the catalog's answer. It also tracks the regions code sits in (guards in
`guards.py`, the regions they open in `regions.py`), so a site under
`if torch.cuda.is_available():` is at most a note where that guard skips it.
"""

from __future__ import annotations

import ast
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from cudaudit.model import Severity
from cudaudit.rules.catalog import Catalog, Entry
from cudaudit.rules.python.device_syntax import (
    BACKEND_KEYWORDS,
    BACKEND_POSITIONAL,
    DEVICE_KEYWORDS,
    DEVICE_POSITIONAL,
    cli_option_names,
    device_ordinal_kind,
    is_cuda_device_string,
    is_indexed_cuda_device_string,
    is_nccl_string,
    names_setting,
    parameter_defaults,
    target_name,
)
from cudaudit.rules.python.guards import Polarity, Probe, exits_early, is_none, names_cuda, polarity, probes_in
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.regions import NEUTRAL, Region, SiteContext

DDP_CLASSES = frozenset(
    {
        "torch.nn.parallel.DistributedDataParallel",
        "torch.nn.parallel.distributed.DistributedDataParallel",
    }
)
ENV_CALLS = frozenset(
    {
        "os.getenv",
        "os.putenv",
        "os.unsetenv",
        "os.environ.get",
        "os.environ.setdefault",
        "os.environ.pop",
    }
)
ENV_METHODS = frozenset({"setenv", "delenv"})
"""`monkeypatch.setenv("CUDA_VISIBLE_DEVICES", ...)` in tests."""
COMMAND_RUNNERS = frozenset(
    {
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "os.system",
        "os.popen",
        "os.execv",
        "os.execvp",
        "os.execlp",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
    }
)
OPTIONAL_IMPORT_HANDLERS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
AMP_CALLS = frozenset({"torch.autocast", "torch.amp.autocast", "torch.amp.GradScaler"})
AMP_DEVICE_KEY = "amp"
"""The device-string key for a device that only chooses where mixed precision applies."""
TYPE_NAME_TAKERS = frozenset({"torch.set_default_tensor_type"})
"""Callables that take a tensor type by name: `set_default_tensor_type("torch.cuda.FloatTensor")`."""
_LEAVES = (ast.expr_context, ast.operator, ast.boolop, ast.cmpop, ast.unaryop, ast.Constant)
"""Nodes with nothing below them that any detector looks at."""


@dataclass(frozen=True)
class Hit:
    """A catalog entry met at a node, and what its context does to its severity."""

    entry: Entry
    node: ast.AST
    quiet: frozenset[str]
    """Targets on which the context keeps the site from mattering: at most a note there."""
    cap: Severity | None
    statement: ast.stmt | None
    """The innermost statement the site is in, for fixes that rewrite a whole statement."""
    call: ast.Call | None
    """The call whose callee the site is (`autocast` in `autocast()`), for fixes that add arguments."""


class PythonDetector(ast.NodeVisitor):
    """Collects `hits` for one module; construct, call `visit(tree)`, read `hits`."""

    def __init__(
        self, names: ImportTable, catalog: Catalog, is_first_party: Callable[[str], bool] = lambda _: False
    ) -> None:
        self.names = names
        self.catalog = catalog
        self.is_first_party = is_first_party
        self.hits: list[Hit] = []
        self.called: set[str] = set()
        """Qualified names of everything the module calls, for `redundant_with`."""
        self._context = SiteContext()
        self._optional_import_depth = 0
        self._comparison_depth = 0
        self._methods = catalog.keys("method")
        self._env_names = catalog.keys("env-var")
        self._dispatch: dict[type, Callable[[ast.AST], None]] = {}
        self._statement: ast.stmt | None = None
        self._callees: dict[int, ast.Call] = {}

    def _report(self, detector: str, key: str, node: ast.AST, *, guarded: bool = False) -> None:
        entry = self.catalog.lookup(detector, key)
        if entry is None:
            return
        optional = detector == "import" and self._optional_import_depth > 0
        cap = self._context.cap(Severity.WARNING if optional else None)
        quiet = self._context.quiet_targets(guarded)
        self.hits.append(Hit(entry, node, quiet, cap, self._statement, self._callees.get(id(node))))

    # -- traversal ------------------------------------------------------------------

    def visit(self, node: ast.AST) -> None:
        """Dispatch on the node's class, looked up once per class rather than per node."""
        method = self._dispatch.get(node.__class__)
        if method is None:
            method = getattr(self, "visit_" + node.__class__.__name__, self.generic_visit)
            self._dispatch[node.__class__] = method
        method(node)

    def generic_visit(self, node: ast.AST) -> None:
        for name in node._fields:
            field = getattr(node, name, None)
            if isinstance(field, list):
                if field and isinstance(field[0], ast.stmt):
                    self._visit_block(field)
                else:
                    for item in field:
                        if isinstance(item, ast.AST) and not isinstance(item, _LEAVES):
                            self.visit(item)
            elif isinstance(field, ast.AST) and not isinstance(field, _LEAVES):
                self.visit(field)

    def _visit_block(self, body: list[ast.stmt]) -> None:
        """Visit statements in order; after `if not <cuda>: return`, the rest is guarded."""
        entered: list[Region] = []
        outer = self._statement
        for stmt in body:
            self._statement = stmt
            self.visit(stmt)
            self._statement = outer
            rest = self._region_after(stmt)
            if rest:
                self._context.enter(rest)
                entered.append(rest)
        for region in reversed(entered):
            self._context.leave(region)

    def _region_after(self, stmt: ast.stmt) -> Region:
        if isinstance(stmt, ast.If) and exits_early(stmt.body):
            return self._branches(stmt.test)[2]
        if isinstance(stmt, ast.Assert):
            return self._branches(stmt.test)[1]
        return NEUTRAL

    def _branches(self, test: ast.expr) -> tuple[Region, Region, Region]:
        """The regions of a condition's own test, its true branch and its false branch."""
        probes = probes_in(test, self.names)
        if not probes:
            return NEUTRAL, NEUTRAL, NEUTRAL
        cuda = polarity(test, self.names, Probe.CUDA) if Probe.CUDA in probes else None
        distributed = polarity(test, self.names, Probe.DISTRIBUTED) if Probe.DISTRIBUTED in probes else None
        rocm = Probe.ROCM in probes
        probe_test = (cuda is not None or rocm) and not isinstance(test, ast.BoolOp)
        return (
            Region(cap=Severity.NOTE) if probe_test else NEUTRAL,
            Region(cuda is Polarity.POSITIVE, rocm, Severity.WARNING if distributed is Polarity.POSITIVE else None),
            Region(cuda is Polarity.NEGATIVE, rocm, Severity.WARNING if distributed is Polarity.NEGATIVE else None),
        )

    def visit_If(self, node: ast.If) -> None:
        test, body, orelse = self._branches(node.test)
        with self._context.inside(test):
            self.visit(node.test)
        with self._context.inside(body):
            self._visit_block(node.body)
        with self._context.inside(orelse):
            self._visit_block(node.orelse)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        test, body, orelse = self._branches(node.test)
        with self._context.inside(test):
            self.visit(node.test)
        with self._context.inside(body):
            self.visit(node.body)
        with self._context.inside(orelse):
            self.visit(node.orelse)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        """`torch.cuda.is_available() and torch.cuda.get_device_capability() >= (8, 0)`."""
        entered: list[Region] = []
        for value in node.values:
            test, body, orelse = self._branches(value)
            with self._context.inside(test):
                self.visit(value)
            # Later operands run only when this one let evaluation go on.
            rest = body if isinstance(node.op, ast.And) else orelse
            if rest:
                self._context.enter(rest)
                entered.append(rest)
        for region in reversed(entered):
            self._context.leave(region)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        """`for i in range(torch.cuda.device_count()):` runs its body only when there are GPUs."""
        self.visit(node.target)
        self.visit(node.iter)
        looped = Region(cuda_guarded=Probe.CUDA in probes_in(node.iter, self.names))
        with self._context.inside(looped):
            self._visit_block(node.body)
        self._visit_block(node.orelse)

    visit_AsyncFor = visit_For

    def visit_Try(self, node: ast.Try) -> None:
        optional = any(_catches_import_error(handler) for handler in node.handlers)
        self._optional_import_depth += optional
        self._visit_block(node.body)
        self._optional_import_depth -= optional
        for handler in node.handlers:
            self.visit(handler)
        self._visit_block(node.orelse)
        self._visit_block(node.finalbody)

    visit_TryStar = visit_Try

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._check_parameter_defaults(node.args)
        for default in (*node.args.defaults, *node.args.kw_defaults):
            if default is not None:
                self.visit(default)
        # Annotations are not visited: a type named in one is not code that runs on a device.
        with self._context.inside(self._decorated_region(node)):
            self._visit_block(node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for child in (*node.decorator_list, *node.bases, *node.keywords):
            self.visit(child)
        region = self._decorated_region(node)
        if names_cuda(node.name):  # `class CUDA_Accelerator(Accelerator)`: the CUDA side of a dispatch
            region = Region(True, region.rocm_aware, region.cap)
        with self._context.inside(region):
            self._visit_block(node.body)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._check_parameter_defaults(node.args)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._check_named_setting(target_name(node.target), node.value)
            self.visit(node.value)
        self.visit(node.target)

    def visit_arg(self, node: ast.arg) -> None:
        """Parameters carry only annotations, which are not visited."""

    def _decorated_region(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> Region:
        """`@pytest.mark.skipif(not torch.cuda.is_available(), ...)`, `@requires_gpu`, `@skip_if_rocm`."""
        probes = set().union(*(probes_in(d, self.names) for d in node.decorator_list))
        return Region(cuda_guarded=Probe.CUDA in probes, rocm_aware=Probe.ROCM in probes)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        """`f"built with CUDA {torch.version.cuda}"` only displays a value."""
        shown_only = isinstance(node.value, (ast.Name, ast.Attribute))
        with self._context.inside(Region(cap=Severity.NOTE) if shown_only else NEUTRAL):
            self.generic_visit(node)

    # -- names and imports ------------------------------------------------------------

    def visit_Attribute(self, node: ast.Attribute) -> None:
        qualified = self.names.resolve(node)
        if qualified is None:
            self.generic_visit(node)
        else:
            # The whole chain is one name: `torch.cuda.amp.autocast`, reported once.
            self._report("symbol", qualified, node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            binding = self.names.binding(node.id)
            if binding is not None:
                self._report("symbol", binding.qualified, node)

    def visit_Import(self, node: ast.Import) -> None:
        self._report_imports(node, [alias.name for alias in node.names])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            # `from numba import cuda` imports the module numba.cuda; `from numba import njit` does not.
            self._report_imports(node, [f"{node.module}.{alias.name}" for alias in node.names])

    def _report_imports(self, node: ast.stmt, modules: list[str]) -> None:
        seen: set[str] = set()
        for module in modules:
            entry = self.catalog.lookup("import", module)
            if entry is not None and entry.rule.id not in seen and not self.is_first_party(module):
                seen.add(entry.rule.id)
                self._report("import", entry.match, node)

    # -- calls, subscripts, settings ---------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        self._callees[id(node.func)] = node
        qualified = self.names.resolve(node.func)
        if qualified is not None:
            self.called.add(self.catalog.canonical(qualified))
        with self._context.inside(self._enabled_region(node)):
            self._check_call(node, qualified)
            self.generic_visit(node)

    def _enabled_region(self, node: ast.Call) -> Region:
        """`autocast("cuda", enabled=False)` does nothing; `enabled=torch.cuda.is_available()` guards."""
        for keyword in node.keywords:
            if keyword.arg == "enabled":
                value = keyword.value
                if isinstance(value, ast.Constant) and value.value is False:
                    return Region(cap=Severity.NOTE)
                return Region(cuda_guarded=polarity(value, self.names, Probe.CUDA) is Polarity.POSITIVE)
        return NEUTRAL

    def _check_call(self, node: ast.Call, qualified: str | None) -> None:
        func = node.func
        in_comparison = self._comparison_depth > 0  # `t.device != torch.device("cuda")` is a check
        if isinstance(func, ast.Attribute):
            self._check_method_call(node, func, in_comparison)
        if not in_comparison:
            for keyword in node.keywords:
                if keyword.arg in DEVICE_KEYWORDS:
                    amp = keyword.arg == "device_type" or qualified in AMP_CALLS
                    self._check_device(keyword.value, AMP_DEVICE_KEY if amp else "")
                elif keyword.arg in BACKEND_KEYWORDS:
                    self._check_setting(keyword.value, "dist-backend", is_nccl_string)
                elif keyword.arg == "env" and isinstance(keyword.value, ast.Dict):
                    self._check_env_dict(keyword.value)
        if qualified is not None and node.args:
            self._check_qualified_call(node, qualified, in_comparison)
        if qualified in DDP_CLASSES:
            self._check_ddp(node)

    def _check_method_call(self, node: ast.Call, func: ast.Attribute, in_comparison: bool) -> None:
        method = _method_key(func.attr, node, self._methods)
        if method and not self.names.is_module_chain(func.value):
            # `tensor.cuda()`, `x.pin_memory()`; a module's own `cuda()` (`tvm.cuda(0)`) is not torch's.
            self._report("method", method, node)
        elif func.attr == "to" and node.args and not in_comparison:
            self._check_device(node.args[0])
        elif func.attr == "type" and node.args and _string_value(node.args[0]):
            self._check_type_name(node.args[0])
        elif func.attr == "add_argument":
            options = cli_option_names(node)
            for keyword in node.keywords:
                if keyword.arg == "default":
                    self._check_named_setting(" ".join(options), keyword.value)
        elif func.attr in ENV_METHODS and node.args:
            self._check_env_name(node.args[0])

    def _check_qualified_call(self, node: ast.Call, qualified: str, in_comparison: bool) -> None:
        first = node.args[0]
        if qualified in DEVICE_POSITIONAL and not in_comparison:
            self._check_device(first, AMP_DEVICE_KEY if qualified in AMP_CALLS else "")
        elif qualified in BACKEND_POSITIONAL:
            self._check_setting(first, "dist-backend", is_nccl_string)
        elif qualified in ENV_CALLS:
            self._check_env_name(first)
        elif qualified in COMMAND_RUNNERS:
            executable = _executable(first)
            if executable:
                self._report("cli-tool", executable, first)
        elif qualified in TYPE_NAME_TAKERS:
            self._check_type_name(first)
        elif qualified == "os.environ.update" and isinstance(first, ast.Dict):
            self._check_env_dict(first)

    def _check_ddp(self, node: ast.Call) -> None:
        """One finding per wrapper call, at the first device argument that is not None."""
        values = [k.value for k in node.keywords if k.arg in ("device_ids", "output_device")]
        values += node.args[1:2]
        for value in values:
            if not is_none(value):
                self._check_setting(value, "ddp-device-ids", lambda v: not is_none(v))
                return

    def _check_type_name(self, node: ast.expr) -> None:
        name = _string_value(node)
        if name and name.startswith("torch."):
            self._report("symbol", name, node)

    def _check_env_name(self, node: ast.expr) -> None:
        name = _string_value(node)
        if name:
            self._report("env-var", name, node)

    def _check_env_dict(self, node: ast.Dict) -> None:
        for key in node.keys:
            if key is not None:
                self._check_env_name(key)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        # `os.environ["CUDA_HOME"]`, and `env["CUDA_VISIBLE_DEVICES"] = ids` for a child process.
        if self.names.resolve(node.value) == "os.environ" or _string_value(node.slice) in self._env_names:
            self._check_env_name(node.slice)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        if (
            len(node.ops) == 1
            and isinstance(node.ops[0], (ast.In, ast.NotIn))
            and self.names.resolve(node.comparators[0]) == "os.environ"
        ):
            self._check_env_name(node.left)
        self._comparison_depth += 1
        self.generic_visit(node)
        self._comparison_depth -= 1

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._check_named_setting(target_name(target), node.value)
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values):
            name = _string_value(key) if key is not None else None
            if name in self._env_names:
                self._check_env_name(key)
            self._check_named_setting(name, value)
        self.generic_visit(node)

    def _check_parameter_defaults(self, args: ast.arguments) -> None:
        for name, default in parameter_defaults(args):
            self._check_named_setting(name, default)

    def _check_named_setting(self, name: str | None, value: ast.expr) -> None:
        """`device = "cuda"`, `backend: str = "nccl"`, `{"device": "cuda"}`, `--device` defaults.

        An indexed device string (`"cuda:0"`, `f"cuda:{rank}"`) is a device whatever its name.
        """
        if name and names_setting(name, "device"):
            self._check_setting(value, "device-string", is_cuda_device_string)
        elif name and names_setting(name, "backend"):
            self._check_setting(value, "dist-backend", is_nccl_string)
        else:
            self._check_setting(value, "device-string", is_indexed_cuda_device_string)

    def _check_device(self, value: ast.expr, key: str = "") -> None:
        """A value in a device position: a `"cuda"` string or an integer ordinal.

        `key` is `amp` where the device only picks what autocast or a grad scaler acts on: there a
        CPU-only build warns and turns the feature off instead of raising."""
        self._check_setting(value, "device-string", is_cuda_device_string, key=key)
        kind = device_ordinal_kind(value)
        if kind:
            self._report("device-ordinal", kind, value)

    def _check_setting(
        self,
        value: ast.expr,
        detector: str,
        matches: Callable[[ast.expr], bool],
        guarded: bool = False,
        key: str = "",
    ) -> None:
        """Report `value` if it matches, looking through `a if cond else b` and `a or b`."""
        if isinstance(value, ast.IfExp):
            branch = polarity(value.test, self.names, Probe.CUDA)
            self._check_setting(value.body, detector, matches, guarded or branch is Polarity.POSITIVE, key)
            self._check_setting(value.orelse, detector, matches, guarded or branch is Polarity.NEGATIVE, key)
        elif isinstance(value, ast.BoolOp):
            for operand in value.values:
                self._check_setting(operand, detector, matches, guarded, key)
        elif matches(value):
            self._report(detector, key, value, guarded=guarded)


def _method_key(name: str, call: ast.Call, keys: frozenset[str]) -> str | None:
    """The catalog key of a method call: `pin_memory()` matches only calls without positional
    arguments (the tensor method), `cuda` matches any call of `.cuda`."""
    if not call.args and f"{name}()" in keys:
        return f"{name}()"
    return name if name in keys else None


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(t, ast.Name) and t.id in OPTIONAL_IMPORT_HANDLERS for t in types)


def _string_value(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _executable(command: ast.expr) -> str | None:
    """The program a command runs: `["nvidia-smi", ...]`, `"nvcc --version"`, `cuda_home + "/bin/nvcc"`."""
    if isinstance(command, (ast.List, ast.Tuple)):
        if not command.elts:
            return None
        command = command.elts[0]
        if isinstance(command, ast.BinOp) and isinstance(command.op, ast.Add):
            command = command.right  # `cuda_home + "/bin/nvcc"`
        program = _string_value(command)
        return program.rpartition("/")[2] if program else None
    if isinstance(command, ast.JoinedStr):
        # `f"{cuda_home}/bin/nvcc -V"`: placeholders stand for path prefixes and arguments.
        line = "".join(_string_value(v) or "X" for v in command.values)
    else:
        line = _string_value(command)
    if not line:
        return None
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    for word in words:
        if "=" not in word:  # skip `VAR=value` prefixes
            return word.rpartition("/")[2]
    return None
