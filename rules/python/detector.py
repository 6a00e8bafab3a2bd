"""One walk over a Python syntax tree that reports every catalog key it meets.

The walk recognises syntax only (a resolved name, an import, a device string in a
device context, a command run through `subprocess`); whether a key is lock-in, and what
replaces it, is the catalog's answer. It also tracks guards, so a site under
`if torch.cuda.is_available():` is reported at most as a note, and an import inside
`try: ... except ImportError:` at most as a warning.
"""

from __future__ import annotations

import ast
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cudaudit.model import Severity
from cudaudit.rules.catalog import Catalog, Entry
from cudaudit.rules.python.contexts import (
    BACKEND_KEYWORDS,
    BACKEND_POSITIONAL,
    DEVICE_KEYWORDS,
    DEVICE_POSITIONAL,
    cli_option_names,
    is_cuda_device_string,
    is_nccl_string,
    names_setting,
    parameter_defaults,
    target_name,
)
from cudaudit.rules.python.guards import Polarity, exits_early, guard_polarity, mentions_guard
from cudaudit.rules.python.names import ImportTable

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
LEGACY_TYPE_SETTER = "torch.set_default_tensor_type"
_LEAVES = (ast.expr_context, ast.operator, ast.boolop, ast.cmpop, ast.unaryop, ast.Constant)
"""Nodes with nothing below them that any detector looks at."""


@dataclass(frozen=True)
class Hit:
    """A catalog entry met at a node, and what its context does to its severity."""

    entry: Entry
    node: ast.AST
    guarded: bool
    """Only reached when CUDA (or a user's GPU setting) is there."""
    cap: Severity | None
    """The most severe level the context allows: an import with a fallback is a warning."""


class PythonDetector(ast.NodeVisitor):
    """Collects `hits` for one module; construct, call `visit(tree)`, read `hits`."""

    def __init__(self, names: ImportTable, catalog: Catalog) -> None:
        self.names = names
        self.catalog = catalog
        self.hits: list[Hit] = []
        self._guard_depth = 0
        self._optional_import_depth = 0
        self._dispatch: dict[type, Callable[[ast.AST], None]] = {}

    # -- reporting -----------------------------------------------------------------

    def _report(self, detector: str, key: str, node: ast.AST, *, guarded: bool = False) -> None:
        entry = self.catalog.lookup(detector, key)
        if entry is None:
            return
        optional = detector == "import" and self._optional_import_depth > 0
        self.hits.append(
            Hit(entry, node, guarded or self._guard_depth > 0, Severity.WARNING if optional else None)
        )

    @contextmanager
    def _guarded(self, active: bool = True) -> Iterator[None]:
        self._guard_depth += active
        try:
            yield
        finally:
            self._guard_depth -= active

    # -- traversal with guards ---------------------------------------------------------

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
        """Visit statements in order; after an early exit on "no CUDA", the rest is guarded."""
        guarded_rest = False
        for stmt in body:
            self.visit(stmt)
            if not guarded_rest and self._guards_rest_of_block(stmt):
                guarded_rest = True
                self._guard_depth += 1
        self._guard_depth -= guarded_rest

    def _guards_rest_of_block(self, stmt: ast.stmt) -> bool:
        if isinstance(stmt, ast.If):
            return guard_polarity(stmt.test, self.names) is Polarity.NEGATIVE and exits_early(stmt.body)
        if isinstance(stmt, ast.Assert):
            return guard_polarity(stmt.test, self.names) is Polarity.POSITIVE
        return False

    def visit_If(self, node: ast.If) -> None:
        polarity = self._visit_test(node.test)
        with self._guarded(polarity is Polarity.POSITIVE):
            self._visit_block(node.body)
        with self._guarded(polarity is Polarity.NEGATIVE):
            self._visit_block(node.orelse)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        polarity = self._visit_test(node.test)
        with self._guarded(polarity is Polarity.POSITIVE):
            self.visit(node.body)
        with self._guarded(polarity is Polarity.NEGATIVE):
            self.visit(node.orelse)

    def _visit_test(self, test: ast.expr) -> Polarity | None:
        """Visit a condition; a guard's own probe (`if torch.version.cuda:`) is guarded too."""
        polarity = guard_polarity(test, self.names)
        with self._guarded(polarity is not None):
            self.visit(test)
        return polarity

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
        self.visit(node.args)
        if node.returns is not None:
            self.visit(node.returns)
        with self._guarded(self._decorated_with_guard(node)):
            self._visit_block(node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for child in (*node.decorator_list, *node.bases, *node.keywords):
            self.visit(child)
        with self._guarded(self._decorated_with_guard(node)):
            self._visit_block(node.body)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._check_parameter_defaults(node.args)
        self.generic_visit(node)

    def _decorated_with_guard(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> bool:
        """`@pytest.mark.skipif(not torch.cuda.is_available(), ...)`, `@requires_gpu`, ..."""
        return any(mentions_guard(d, self.names) for d in node.decorator_list)

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
            modules = [f"{node.module}.{alias.name}" for alias in node.names]
            self._report_imports(node, modules or [node.module])

    def _report_imports(self, node: ast.stmt, modules: list[str]) -> None:
        seen: set[str] = set()
        for module in modules:
            entry = self.catalog.lookup("import", module)
            if entry is not None and entry.rule.id not in seen:
                seen.add(entry.rule.id)
                self._report("import", entry.match, node)

    # -- calls, subscripts, settings ---------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        qualified = self.names.resolve(func)
        if isinstance(func, ast.Attribute):
            self._check_method_call(node, func)
        for keyword in node.keywords:
            if keyword.arg in DEVICE_KEYWORDS:
                self._check_setting(keyword.value, "device-string", is_cuda_device_string)
            elif keyword.arg in BACKEND_KEYWORDS:
                self._check_setting(keyword.value, "dist-backend", is_nccl_string)
        if qualified is not None and node.args:
            self._check_qualified_call(node, qualified)
        if qualified in DDP_CLASSES:
            for keyword in node.keywords:
                if keyword.arg in ("device_ids", "output_device"):
                    self._check_ddp_devices(keyword.value)
            if len(node.args) > 1:
                self._check_ddp_devices(node.args[1])
        self.generic_visit(node)

    def _check_method_call(self, node: ast.Call, func: ast.Attribute) -> None:
        if func.attr == "cuda" and not self.names.is_module_chain(func.value):
            # `tensor.cuda()`, `model.cuda()`; a module's own `cuda()` (`tvm.cuda(0)`) is not torch's.
            self._report("cuda-method", "", node)
        elif func.attr == "to" and node.args:
            self._check_setting(node.args[0], "device-string", is_cuda_device_string)
        elif func.attr == "add_argument":
            options = cli_option_names(node)
            for keyword in node.keywords:
                if keyword.arg == "default":
                    self._check_named_setting(" ".join(options), keyword.value)

    def _check_qualified_call(self, node: ast.Call, qualified: str) -> None:
        first = node.args[0]
        if qualified in DEVICE_POSITIONAL:
            self._check_setting(first, "device-string", is_cuda_device_string)
        elif qualified in BACKEND_POSITIONAL:
            self._check_setting(first, "dist-backend", is_nccl_string)
        elif qualified in ENV_CALLS:
            self._check_env_name(first)
        elif qualified in COMMAND_RUNNERS:
            executable = _executable(first)
            if executable:
                self._report("cli-tool", executable, first)
        elif qualified == LEGACY_TYPE_SETTER and _string_value(first):
            self._report("symbol", _string_value(first), first)
        elif qualified == "os.environ.update" and isinstance(first, ast.Dict):
            for key in first.keys:
                if key is not None:
                    self._check_env_name(key)

    def _check_ddp_devices(self, value: ast.expr) -> None:
        if not (isinstance(value, ast.Constant) and value.value is None):
            self._check_setting(value, "ddp-device-ids", lambda _: True)

    def _check_env_name(self, node: ast.expr) -> None:
        name = _string_value(node)
        if name:
            self._report("env-var", name, node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if self.names.resolve(node.value) == "os.environ":
            self._check_env_name(node.slice)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
            if self.names.resolve(node.comparators[0]) == "os.environ":
                self._check_env_name(node.left)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._check_named_setting(target_name(target), node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._check_named_setting(target_name(node.target), node.value)
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values):
            self._check_named_setting(_string_value(key) if key is not None else None, value)
        self.generic_visit(node)

    def _check_parameter_defaults(self, args: ast.arguments) -> None:
        for name, default in parameter_defaults(args):
            self._check_named_setting(name, default)

    def _check_named_setting(self, name: str | None, value: ast.expr) -> None:
        """`device = "cuda"`, `backend: str = "nccl"`, `{"device": "cuda"}`, `--device` defaults."""
        if not name:
            return
        if names_setting(name, "device"):
            self._check_setting(value, "device-string", is_cuda_device_string)
        elif names_setting(name, "backend"):
            self._check_setting(value, "dist-backend", is_nccl_string)

    def _check_setting(
        self,
        value: ast.expr,
        detector: str,
        matches: Callable[[ast.expr], bool],
        guarded: bool = False,
    ) -> None:
        """Report `value` if it matches, looking through `a if cond else b` and `a or b`."""
        if isinstance(value, ast.IfExp):
            polarity = guard_polarity(value.test, self.names)
            self._check_setting(value.body, detector, matches, guarded or polarity is Polarity.POSITIVE)
            self._check_setting(value.orelse, detector, matches, guarded or polarity is Polarity.NEGATIVE)
        elif isinstance(value, ast.BoolOp):
            for operand in value.values:
                self._check_setting(operand, detector, matches, guarded)
        elif matches(value):
            self._report(detector, "", value, guarded=guarded)


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
    """The program a command runs: `["nvidia-smi", ...]`, `"nvcc --version"`, `f"nsys {x}"`."""
    if isinstance(command, (ast.List, ast.Tuple)) and command.elts:
        program = _string_value(command.elts[0])
        return program.rpartition("/")[2] if program else None
    if isinstance(command, ast.JoinedStr) and command.values:
        command = command.values[0]
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
