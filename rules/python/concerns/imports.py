"""`import` keys: modules imported by absolute `import` and `from ... import` statements.

`from numba import cuda` imports the module `numba.cuda`, so each imported name is tried as a
module below the one named; `from numba import njit` finds no key. A project's own modules
(`first_party`, or a sibling file of the scanned one) are never a third-party library, whatever
their name. An import inside `try:` with an `except ImportError:` fallback is at most a warning;
one whose handler computes what the program needs without the module is a note (`_falls_back`), and
so is an import in the branch of a test that the library is installed (`if HAS_XFORMERS: import
xformers`, `if model_management.xformers_enabled(): import xformers.ops`, `guards.tests_library`;
or a flag or function the module or the project index reads as a probe of it, whatever its name:
`if fused_attention_ok(): from flash_attn import bert_padding`, `package_probes.needs_package`):
it runs only where an earlier import of it succeeded, and the program takes the other branch
elsewhere. A name the import binds that the module reads only after the `try` in a function whose
handlers return (a probe: `except ImportError: return False`, then `return lib.__version__ >=
minimum`) needs no stand-in where the import failed. Neither is a guard for a library that imports anywhere and fails at its first call (the
catalog's `[[fails_at_use]]`: `import pynvml` succeeds on an AMD GPU, `nvmlInit()` raises): the
fallback runs only where the package is missing, so such an import stays a warning.

A name bound to what a project's loader of such a library returns (`nvml = load_nvml()`, where
`load_nvml` imports `pynvml` and returns it: `module_loaders.py`, through the project index) is that
library taken where the name is bound, reported as an import of it there would be, with the
severity the place gives one (under `if torch.cuda.is_available():`, quiet without CUDA).

A package installed only on request (xFormers, FlashAttention: the catalog's `[[installed_on_request]]`)
that no install route of the module's part of the project names (`unrequested.py`, through the project
index) is missing from every install, NVIDIA's CUDA included, so an import of it under `try` whose
handler goes on fails alike everywhere: quiet on ROCm, where a user who asks for it installs its ROCm
build, and on the targets without CUDA too for a package no machine without a GPU can install
(`[[absent_without_gpu]]`: FlashAttention). A CPU host may install xFormers, whose kernels then run
wherever the module calls them: that keeps the verdict the module's code earns (`_unrequested`).

An import under `try` whose names the module reads only where a test needs CUDA (`if
torch.cuda.is_available() and HAS_APEX: return FusedLayerNorm(shape)`) is never wanted on a target
without CUDA, which takes the other branch there as it would with the library installed: quiet on
those targets (a note), while on ROCm the fallback still runs in its place (a warning).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from cudaudit.model import CUDA_API_TARGETS, Severity
from cudaudit.rules.python.guards import (
    Polarity,
    Probe,
    catches_import_error,
    is_none,
    polarity,
    stops_the_program,
    tests_library,
)
from cudaudit.rules.python.idle_imports import use_failing_modules
from cudaudit.rules.python.nodes import Parents, subtree
from cudaudit.rules.python.package_probes import needs_package
from cudaudit.rules.python.regions import ALL_TARGETS, TRY_STATEMENTS, TryStatement, only_reports
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.walker import Concern, PythonWalker

DETECTOR = "import"


class Imports(Concern):
    def __init__(self, walk: PythonWalker) -> None:
        super().__init__(walk)
        self._tree: ast.Module | None = None
        self._tries: dict[int, TryStatement] = {}
        """The `try` statement each import statement of a `try` body with an `ImportError` handler sits in, by id."""
        self._installed: dict[int, tuple[ast.expr, Polarity]] = {}
        """The test of the `if` each import statement of one of its branches sits in (directly or in
        the body of a `try` there), with the branch, by id."""
        self._fallbacks: dict[int, bool] = {}
        self._use_failing: frozenset[str] | None = None
        self._parents: Parents | None = None
        """The module's parents and the reads of each name, found where first needed."""

    def on_Module(self, node: ast.Module) -> None:
        self._tree = node

    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """An import of a module the catalog knows."""
        modules = [alias.name for node in survey.of(ast.Import) for alias in node.names]
        modules += [
            f"{node.module}.{alias.name}" for node in survey.of(ast.ImportFrom) if node.level == 0 and node.module for alias in node.names
        ]
        loaders = survey.names.module_loaders
        if loaders:
            modules += [loaders[call.func.id] for call, _ in survey.calls if isinstance(call.func, ast.Name) and call.func.id in loaders]
        return survey.keyed(DETECTOR, modules)

    def on_Try(self, node: TryStatement) -> None:
        if any(catches_import_error(handler) for handler in node.handlers):
            for statement in node.body:
                if isinstance(statement, (ast.Import, ast.ImportFrom)) or self._loaded(statement) is not None:
                    self._tries[id(statement)] = node

    on_TryStar = on_Try

    def on_If(self, node: ast.If) -> None:
        for branch, side in ((node.body, Polarity.POSITIVE), (node.orelse, Polarity.NEGATIVE)):
            for statement in _branch_imports(branch, self._loaded):
                self._installed[id(statement)] = (node.test, side)

    def on_Import(self, node: ast.Import) -> None:
        self._report(node, [alias.name for alias in node.names])

    def on_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self._report(node, [f"{node.module}.{alias.name}" for alias in node.names])

    def on_Assign(self, node: ast.Assign) -> None:
        library = self._loaded(node)
        if library is not None:
            self._report(node, [library])

    def _loaded(self, statement: ast.stmt) -> str | None:
        """The library `statement` binds a name to by calling a loader of it (`nvml = load_nvml()`)."""
        loaders = self.walk.names.module_loaders
        if not loaders or not isinstance(statement, ast.Assign) or not isinstance(statement.value, ast.Call):
            return None
        func = statement.value.func
        if not isinstance(func, ast.Name) or not all(isinstance(target, ast.Name) for target in statement.targets):
            return None
        return loaders.get(func.id)

    def _report(self, node: ast.stmt, modules: list[str]) -> None:
        """One hit per rule and statement: `import cupy, cupyx` reports the rule once."""
        walk = self.walk
        seen: set[str] = set()
        for module in modules:
            entry = walk.catalog.lookup(DETECTOR, module)
            if entry is not None and entry.rule.id not in seen and not walk.is_first_party(module):
                seen.add(entry.rule.id)
                attempt = self._tries.get(id(node)) if walk.optional_import else None
                guarded = attempt is not None and self._wanted_only_with_cuda(attempt)
                quiet = self._unrequested(attempt, module) if attempt is not None else frozenset()
                walk.report(DETECTOR, entry.match, node, cap=self._cap(node, module), guarded=guarded, quiet=quiet)

    def _unrequested(self, attempt: TryStatement, module: str) -> frozenset[str]:
        """The targets on which a tried import of a package that no install route of the project names
        (`ImportTable.unrequested`) loses nothing, where the handler goes on: no install has it, so the
        handler's path is what runs everywhere. A user who installs it on ROCm installs its ROCm build,
        as one on CUDA installs the CUDA one: ROCm. A machine without a GPU cannot install one of the
        catalog's `[[absent_without_gpu]]` packages at all: the targets without CUDA too. On those the
        package's code runs on no install. A CPU host that installs another (xFormers) may still run
        its kernels where the module calls them on any device: that stays as the module has it."""
        names = self.walk.names
        top = module.partition(".")[0]
        if top not in names.unrequested or any(
            stops_the_program(handler.body) for handler in attempt.handlers if catches_import_error(handler)
        ):
            return frozenset()
        return ALL_TARGETS if top in names.absent_packages else CUDA_API_TARGETS

    def _cap(self, node: ast.stmt, module: str) -> Severity | None:
        guarded = Severity.WARNING if self._fails_at_use(module) else Severity.NOTE
        installed = self._installed.get(id(node))
        if installed is not None and self._tests_library(*installed, module.partition(".")[0]):
            return guarded
        if not self.walk.optional_import:
            return None
        attempt = self._tries.get(id(node))
        if attempt is None:
            return Severity.WARNING
        known = self._fallbacks.get(id(attempt))
        if known is None:
            known = self._fallbacks[id(attempt)] = self._falls_back(attempt)
        return guarded if known else Severity.WARNING

    def _tests_library(self, test: ast.expr, side: Polarity, library: str) -> bool:
        """Whether the branch `side` of `test` runs only where `library` imported: a name in the test
        spelled for it (`HAS_XFORMERS`), or a probe of it that the module or the project index knows
        (`if fused_attention_ok():`, `package_probes.needs_package`)."""
        names = self.walk.names
        if side is Polarity.POSITIVE and tests_library(test, library, names):
            return True
        return needs_package(test, library, names) is side

    def _fails_at_use(self, module: str) -> bool:
        """Whether the catalog's `[[fails_at_use]]` tables name the library: its import succeeds where
        the hardware is missing and its first call raises (`import pynvml`, then `nvmlInit()`), so a
        fallback for a failed import, or a test that it is installed, runs only where the package is
        missing, and the program degrades silently elsewhere."""
        if self._use_failing is None:
            self._use_failing = use_failing_modules(self.walk.catalog)
        return module.partition(".")[0] in self._use_failing

    def _falls_back(self, attempt: TryStatement) -> bool:
        """Whether every `ImportError` handler of `attempt` computes, without the modules, what the
        rest of the module reads from its body: the same result (`try: from flash_attn.ops import
        cross_entropy; loss = cross_entropy(x)` / `except ImportError: loss = torch_cross_entropy(x)`),
        a stand-in for each name read later (`except ImportError: CrossEntropyLoss =
        torch.nn.CrossEntropyLoss`), or a flag it clears (`HAS_FA = False`) where none of the
        library's names is read later (what runs under the flag is judged there). Then nothing
        breaks where the module is missing: the import is a probe, a note. A handler that stops the
        program, binds a name read later to `None` (`flash_attn_func = None`, then an unguarded
        call), or only reports keeps the import at a warning, unless the module never reads what the
        `try` binds and imports the library whole (`try: import flash_attn` / `except Exception:
        logger.warning(...)`, the name unused after it): then the failure is only reported and
        nothing the module goes on to do needs the library. A `from` import is left out, for another
        module may import the names it binds from this one."""
        imported, bound = self._bindings(attempt.body)
        needed = {name for name in bound if self._read_outside(name, attempt)} | {
            name for name in imported if self._read_unguarded(name, attempt)
        }
        unused = not needed and all(isinstance(statement, ast.Import) for statement in self._catalog_imports(attempt.body))
        handlers = [handler for handler in attempt.handlers if catches_import_error(handler)]
        for handler in handlers:
            if stops_the_program(handler.body):
                return False
            if only_reports(handler.body):
                if unused:
                    continue  # nothing the module goes on to do needs the module: its failure is only reported
                return False
            replaced, anything = self._handler_bindings(handler.body)
            if not needed <= (replaced | (anything - imported)):
                return False
            if not needed and not self._computes(handler.body):
                return False
        return True

    def _read_unguarded(self, name: str, attempt: TryStatement) -> bool:
        """Whether the module reads a name the import binds outside `attempt`, other than after it in a
        function whose handlers return (a probe: `try: import lib` / `except ImportError: return
        False`, then `return lib.__version__ >= minimum`), which runs only where the import succeeded."""
        parents = self._module_parents()
        reads = self._reads_outside(name, attempt)
        if parents is None:
            return bool(reads)
        after = {id(node) for node in self._after_returning_handlers(attempt, parents)}
        return any(id(read) not in after for read in reads)

    def _after_returning_handlers(self, attempt: TryStatement, parents: Parents) -> list[ast.AST]:
        """The nodes of the function `attempt` sits in that come after it, where every handler of it
        that catches a failed import returns: they run only where the import succeeded."""
        function = parents.parent(attempt)
        while function is not None and not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = parents.parent(function)
        handlers = [handler for handler in attempt.handlers if catches_import_error(handler)]
        if function is None or not all(handler.body and isinstance(handler.body[-1], ast.Return) for handler in handlers):
            return []
        last = attempt.end_lineno or attempt.lineno
        return [node for node in subtree(function) if getattr(node, "lineno", 0) > last]

    def _wanted_only_with_cuda(self, attempt: TryStatement) -> bool:
        """Whether the module reads the names `attempt` binds (the catalog's modules' and what is
        built from them: `class FusedNorm(_FusedNorm)`, a flag), and only where a test that needs
        CUDA holds: in the branch it opens, or after it in an `and`."""
        parents = self._module_parents()
        if parents is None:
            return False
        imported, bound = self._bindings(attempt.body)
        reads = [read for name in imported | bound for read in self._reads_outside(name, attempt)]
        return bool(reads) and all(self._under_cuda_test(read, parents) for read in reads)

    def _under_cuda_test(self, node: ast.AST, parents: Parents) -> bool:
        names = self.walk.names
        child, parent = node, parents.parent(node)
        while parent is not None and not isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if isinstance(parent, (ast.If, ast.IfExp)) and child is not parent.test:
                taken = Polarity.POSITIVE if _in_body(child, parent) else Polarity.NEGATIVE
                if polarity(parent.test, names, Probe.CUDA) is taken:
                    return True
            if isinstance(parent, ast.BoolOp) and isinstance(parent.op, ast.And):
                earlier = parent.values[: next(i for i, v in enumerate(parent.values) if v is child)]
                if any(polarity(value, names, Probe.CUDA) is Polarity.POSITIVE for value in earlier):
                    return True
            child, parent = parent, parents.parent(parent)
        return False

    def _bindings(self, body: list[ast.stmt]) -> tuple[set[str], set[str]]:
        """The names the catalog's modules bind in `body`, and the names its other statements bind."""
        imported: set[str] = set()
        bound: set[str] = set()
        for statement in body:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                (imported if self._catalog_import(statement) else bound).update(_import_names(statement))
            else:
                bound.update(_assigned_names(statement))
        return imported, bound

    def _handler_bindings(self, body: list[ast.stmt]) -> tuple[set[str], set[str]]:
        """The names `body` binds to something that stands in for a module's (a function, a class,
        another module's name, a value that is no constant), and every name it binds."""
        replaced: set[str] = set()
        anything: set[str] = set()
        for statement in body:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                names = _import_names(statement)
                stands_in = not self._catalog_import(statement)
            else:
                names = _assigned_names(statement)
                stands_in = isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or (
                    isinstance(statement, ast.Assign) and not _constant(statement.value)
                )
            anything.update(names)
            if stands_in:
                replaced.update(names)
        return replaced, anything

    def _computes(self, body: list[ast.stmt]) -> bool:
        """Whether a handler does work of its own: more than passing, reporting, setting constants
        or importing another of the catalog's modules (`except ImportError: from flash_attn import
        older_name`)."""
        for statement in body:
            if isinstance(statement, ast.Assign) and _constant(statement.value):
                continue
            if isinstance(statement, ast.Return) and (statement.value is None or is_none(statement.value)):
                continue
            if isinstance(statement, (ast.Pass, ast.Expr)) and only_reports([statement]):
                continue
            if isinstance(statement, (ast.Import, ast.ImportFrom)) and self._catalog_import(statement):
                continue
            return True
        return False

    def _catalog_imports(self, body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
        return [s for s in body if isinstance(s, (ast.Import, ast.ImportFrom)) and self._catalog_import(s)]

    def _catalog_import(self, statement: ast.Import | ast.ImportFrom) -> bool:
        if isinstance(statement, ast.Import):
            modules = [alias.name for alias in statement.names]
        elif statement.level == 0 and statement.module:
            modules = [statement.module] + [f"{statement.module}.{alias.name}" for alias in statement.names]
        else:
            return False
        return any(self.walk.catalog.lookup(DETECTOR, module) is not None for module in modules)

    def _read_outside(self, name: str, attempt: TryStatement) -> bool:
        return bool(self._reads_outside(name, attempt))

    def _reads_outside(self, name: str, attempt: TryStatement) -> list[ast.Name]:
        """The module's reads of `name` on lines outside `attempt`."""
        parents = self._module_parents()
        last = attempt.end_lineno or attempt.lineno
        return [read for read in parents.reads(name) if not attempt.lineno <= read.lineno <= last] if parents else []

    def _module_parents(self) -> Parents | None:
        if self._parents is None and self._tree is not None:
            self._parents = Parents(self._tree)
        return self._parents


def _branch_imports(branch: list[ast.stmt], loaded: Callable[[ast.stmt], str | None]) -> list[ast.stmt]:
    """The import statements of a branch, and its assignments of what a loader of a library returns
    (`loaded`): its own, and those of the bodies of the `try` statements in it."""
    found: list[ast.stmt] = []
    for statement in branch:
        if isinstance(statement, (ast.Import, ast.ImportFrom)) or loaded(statement) is not None:
            found.append(statement)
        elif isinstance(statement, TRY_STATEMENTS):
            found.extend(_branch_imports(getattr(statement, "body", []), loaded))
    return found


def _in_body(child: ast.AST, branch: ast.If | ast.IfExp) -> bool:
    """Whether `child` is (in) the true branch of `branch`."""
    return child is branch.body if isinstance(branch, ast.IfExp) else any(s is child for s in branch.body)


def _import_names(statement: ast.stmt) -> set[str]:
    """`import a.b` binds `a`; `from m import f as g` binds `g`."""
    if not isinstance(statement, (ast.Import, ast.ImportFrom)):
        return set()
    return {(alias.asname or alias.name).partition(".")[0] for alias in statement.names}


def _assigned_names(statement: ast.stmt) -> set[str]:
    """The names a statement of a block binds at that block's level (assignments, definitions)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        targets = [statement.target]
    return {node.id for target in targets for node in subtree(target) if isinstance(node, ast.Name)}


def _constant(value: ast.expr) -> bool:
    """`None`, `False`, `(None, None)`: a value that stands for no module."""
    if isinstance(value, (ast.Tuple, ast.List)):
        return all(_constant(element) for element in value.elts)
    return isinstance(value, ast.Constant)


CONCERN = Imports
