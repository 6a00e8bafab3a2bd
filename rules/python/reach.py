"""Where a module's own functions run, from the code in the module that uses them.

Pytest runs a test only after the fixtures it requests, and a function runs only where it is
called. Two shapes follow from that, both read from one module and its syntax alone:

- a fixture that skips without CUDA (`if not torch.cuda.is_available(): pytest.skip(...)`, or one
  that returns only from a CUDA branch and skips after it) guards every test and fixture that
  requests it, by a parameter of its name or `@pytest.mark.usefixtures("name")`; an `autouse`
  one guards its whole module, as `pytestmark` does. A `conftest.py` serves its fixtures to the
  test modules in its folder and below: the project index reads its skipping ones
  (`conftest_fixtures`) and each test module gets those of the conftest files above it;
- a helper that opens with a skip (`def _need_gpu():` / `if not torch.cuda.is_available():
  pytest.skip(...)`) skips the test or fixture that calls it: the skip raises out of the helper,
  so what follows the call runs only where the check passes, as if the `if` stood in the caller
  (`skip_check_of`);
- a helper whose every use in the module sits in guarded code runs guarded: the walk records the
  context of each use (`PythonWalker` calls `use`), and after the walk each helper gets what every
  use of it has in common (`regions`). A use in another helper counts with that helper's own
  region, so a chain of helpers below a guarded test is guarded too. The uses counted are a
  module-level function's name (called or handed on) and `self.name`: of any method in a test
  class (`self.run_subtests(..., self._check)`), and in any other class of a private method the
  module reads only through `self` or `cls` (`if x.device.type == "cuda": self._capture(x)`
  captures a CUDA graph only on a GPU; a subclass in another module that calls it unguarded is
  seen through the project index, below). A use at module level or in an unguarded function
  keeps the helper on the normal path. A decorated function is no helper (the decorator may call it
  or hand it on), except under a decorator that only remembers its results (`@functools.lru_cache()`),
  runs it in a grad mode (`@torch.no_grad()`, `@torch.inference_mode()`), makes a context manager of it
  (`@contextlib.contextmanager`: `with self._swap(net) if x.is_cuda else nullcontext():`), only says how a method is
  bound (`@staticmethod`, `@classmethod`) or makes a Triton kernel of it (`@triton.jit`, or a decorator
  spelled in an `eval` string, `@eval("triton.heuristics({...})")`, read as the expression it spells; whose uses
  are its launches: a wrapper that returns its PyTorch reference `if not x.is_cuda:` before
  `_kernel[grid](x, out)` never launches it on a CPU) or a custom operator (`@torch.library.custom_op(
  ..., device_types="cuda")`, whose uses are its calls; `op.register_fake` and
  `op.register_autograd(backward)` call nothing of it, and a use of it inside the backward it
  registers says nothing of its callers, as a function calling itself says nothing: `part_of`).
  A test module that launches programs (`subprocess.run(["torchrun", ..., script])`) and has a
  `__main__` block is often its own worker: a test hands `__file__` to the launch and the block runs
  the worker function in each launched process. The block runs only where such a launch does, so
  each read of `__file__` is a use of the block (`ModuleReach.launched`), and where every one sits in
  a test that skips without CUDA, the block and the functions only it calls run nowhere else. A read
  that only takes the file's folder (`Path(__file__).parent`, `os.path.dirname(__file__)`) launches
  nothing and is no use; any other read, at module level or in an unguarded function, keeps the
  block on the path the suite runs.
  In a module that defines tests, a module-level name assigned a device once (`device =
  torch.device("cuda:0")`, `DEVICE = "cuda"`) is read the same way: building a device object
  needs no device, so where every test and helper that reads the name is guarded, the assignment
  is as guarded as they. A value that touches a device (`torch.zeros(1, device="cuda")`) runs when
  the module is imported, skipped tests or not, and is not followed.

Another module may call a public function, so outside test modules and scripts nothing imports (a
module with a `__main__` block no other module of the scan imports: `main_block.py`, through the
project index; a `setup.py` without one whose top level calls `setup(...)`, the build script pip runs) only private functions (`_helper`) are helpers, and public ones only where every use is a probe's (the body of a `try`
whose handler falls back or swallows the error: `try: _check_kernels() except Exception: pass`).
Where the project index knows what the rest of the project does with a function or method
(`callers.py`, `Elsewhere`), its uses in other modules count with the module's own: a public one is a
helper too (a public method while no other module names it), and one another module uses in a way
that is not followed (unguarded, through a module attribute, a private method a subclass there
calls) is none.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from cudaudit.model import Severity
from cudaudit.rules.python.faked_probes import FAKED_DEVICE, faked_region, fakes_probe, may_fake
from cudaudit.rules.python.flag_functions import MEMOIZERS
from cudaudit.rules.python.guards import exits_early, is_skip_call
from cudaudit.rules.python.kernel_factories import kernel_products
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import call_arguments, is_main_test, own_nodes, statements, substituted, subtree
from cudaudit.rules.python.regions import (
    CUSTOM_OP_DECORATORS,
    NEUTRAL,
    TRITON_KERNEL_DECORATORS,
    Region,
    branch_regions,
)
from cudaudit.source import decode_python, parse_python, read_tree

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.Assign | ast.alias | ast.ClassDef | ast.If | ast.Return
"""What a use is recorded for: a helper function or class, a module-level name of a test module, a name
imported from another module of the project (`callers.py` reads its uses for the module that defines it),
the `__main__` block of a test module that launches itself, or the statements of a kernel factory that
make its kernel."""
Elsewhere = Mapping[str, "tuple[Use, ...] | None"]
"""Per function or method name of a module, what the rest of the project does with it (`callers.py`,
through the project index): the uses other modules make of it, each in its context (none: no other
module mentions it), or None where one mentions it in a way that is not followed (unguarded, through a
module attribute, rebound)."""
_FRAMEWORK_METHODS = frozenset(
    {"setUp", "tearDown", "setUpClass", "tearDownClass", "setup_method", "teardown_method", "setup_class",
     "teardown_class", "asyncSetUp", "asyncTearDown", "subTest"}
)
"""Methods a test framework calls itself: never helpers, whoever else uses them."""
_WRAPPERS = (
    MEMOIZERS | TRITON_KERNEL_DECORATORS | CUSTOM_OP_DECORATORS
    | frozenset({"torch.no_grad", "torch.inference_mode", "torch.enable_grad", "contextlib.contextmanager",
                 "contextlib.asynccontextmanager"})
)
"""Decorators that call the function only when it is called: they remember its results, run it
in a grad mode (https://docs.pytorch.org/docs/stable/generated/torch.no_grad.html), make a context
manager of it whose body runs only when the object a call returns is entered
(https://docs.python.org/3/library/contextlib.html#contextlib.contextmanager), or make a
Triton kernel or a custom operator of it, whose launches or calls are its calls. What such a decorator says of the function (a
Triton kernel needs a GPU) holds where the function runs: the walk counts its hits in the function's
scope (`PythonWalker.visit_FunctionDef`)."""
_LAUNCHERS = frozenset({
    "subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_call", "subprocess.check_output", "os.system",
})
"""Calls that run a program in a new process (https://docs.python.org/3/library/subprocess.html): the
way a test module starts itself under `torchrun` or `python`."""
_FOLDER_OF = frozenset({"parent", "parents"})
"""`pathlib.PurePath` attributes that give a path's folders, not the path."""
_BINDINGS = frozenset({"staticmethod", "classmethod"})
"""Builtins that only say how a method is bound: it runs where it is called."""


def only_wraps(names: ImportTable, decorator: ast.expr) -> bool:
    """`@functools.lru_cache()`, `@torch.no_grad()`, `@staticmethod`, `@triton.jit`, resolved through the
    module's `names`: the function still runs only where it is called."""
    if isinstance(decorator, ast.Name) and decorator.id in _BINDINGS and names.binding(decorator.id) is None:
        return True
    decorator = evaluated(names, decorator)
    return names.resolve(decorator.func if isinstance(decorator, ast.Call) else decorator) in _WRAPPERS


def evaluated(names: ImportTable, decorator: ast.expr) -> ast.expr:
    """The expression a decorator `@eval("triton.heuristics({...})")` spells in its one string (read,
    never run: a workaround some projects keep for decorators whose arguments Python's grammar once
    refused), which is the decorator it makes; any other decorator as it is."""
    if not (
        isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Name) and decorator.func.id == "eval"
        and names.binding("eval") is None and len(decorator.args) == 1 and not decorator.keywords
        and isinstance(decorator.args[0], ast.Constant) and isinstance(decorator.args[0].value, str)
    ):
        return decorator
    try:
        return ast.parse(decorator.args[0].value.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return decorator


def calls_by_name_only(names: ImportTable, decorator: ast.expr) -> bool:
    """A decorator that only wraps the function (`only_wraps`) and registers it nowhere: the function
    runs only where its name is called or launched. Not a custom operator's, which
    `torch.ops.ns.op(...)` calls by the operator's name."""
    spelled = evaluated(names, decorator)
    target = spelled.func if isinstance(spelled, ast.Call) else spelled
    return only_wraps(names, decorator) and names.resolve(target) not in CUSTOM_OP_DECORATORS


SUITE = "suite"
"""Marks, among the quiet targets of a use another module makes (`callers.py`), a call in the project's
test suite (`Use.suite`)."""


@dataclass(frozen=True)
class Use:
    """The context one use of a helper stands in: the targets it is quiet on, its cap, whether it is a
    probe's (a `try` body with a fallback), and the helpers around it (whose regions it adds)."""

    quiet: frozenset[str]
    cap: Severity | None
    probe: bool
    scope: tuple[int, ...]
    suite: bool = False
    """A call in the project's test suite (`SUITE`) or in a library's `__main__` self-check: it runs on
    the project's own machines, not its users', so beside other uses it says nothing of where the
    helper runs for them, and alone it makes no helper."""


def elsewhere_uses(used: Iterable[tuple[str, tuple[tuple[tuple[str, ...], str | None], ...] | None]]) -> Elsewhere:
    """`callers.uses_elsewhere`'s answer for one module (`FileFacts.used_elsewhere`) as this module counts uses."""
    return {
        name: None if uses is None else tuple(
            Use(frozenset(quiet) - {SUITE}, Severity(cap) if cap is not None else None, False, (), SUITE in quiet)
            for quiet, cap in uses
        )
        for name, uses in used
    }


@dataclass(frozen=True)
class Reached:
    """What every use of a helper has in common: the targets it is quiet on and its cap."""

    quiet: frozenset[str]
    cap: Severity | None


class ModuleReach:
    """The fixtures, tests and helpers of one module; see the module docstring."""

    def __init__(
        self,
        module: ast.Module,
        names: ImportTable,
        in_tests: bool,
        inherited: Mapping[str, bool] | None = None,
        script: bool = False,
        elsewhere: Elsewhere | None = None,
        imported: frozenset[str] = frozenset(),
        faking: Mapping[str, bool] | None = None,
        calls: Sequence[ast.Call] | None = None,
        entries: frozenset[str] = frozenset(),
    ) -> None:
        """`inherited`: the skipping fixtures the conftest files above the module serve, by name, with
        whether each is `autouse`; `script`: nothing in the scan imports the module, which runs as a
        program (`main_block.py`), so its public functions are helpers too; `elsewhere`: what the rest
        of the project does with the module's functions and methods (`Elsewhere`); `imported`: names
        the module imports from another module of the project whose uses are recorded here, for that
        module (`imported_regions`); `entries`: library calls that call a method of that other module by
        its name (`library_dispatch.py`), whose attribute calls (`unet.enable_xformers_memory_efficient_attention()`)
        are recorded as uses of that method, for it (`imported_regions`, by the entry's name); `calls`:
        every call of the module, where the analysis has them (`survey.Survey`), else read from the tree
        where they are needed."""
        self.names = names
        self._calls = calls
        self.in_tests = in_tests
        self.script = script
        self.elsewhere: Elsewhere = elsewhere or {}
        self.imported: dict[str, ast.alias] = _imported_aliases(module, imported) if imported else {}
        """The aliases of `from ... import name` for the names of `imported`, by name: what their uses are recorded for."""
        self.entries: dict[str, ast.alias] = {name: ast.alias(name=name) for name in sorted(entries)}
        """A stand-in definition for each of `entries`, by name: what their attribute calls are recorded for."""
        self._entry_calls = frozenset(
            id(node.func) for node in (ast.walk(module) if entries else ())
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in entries
        )
        """The attributes called as one of `entries` (`pipe.enable_xformers_memory_efficient_attention()`), by id."""
        self.inherited = inherited or {}
        self.faking = faking or {}
        """The fixtures the conftest files above the module serve that fake a device probe
        (`faked_probes.py`), by name, with whether each is `autouse`."""
        self.skipping: dict[str, Region] = {}
        """The skipping fixtures module-level tests may request, by name: the module's and those served to it."""
        self.autouse: set[str] = set()
        self.functions: dict[str, FunctionNode] = {}
        """Module-level functions that may be helpers, by name."""
        self.classes: dict[str, ast.ClassDef] = {}
        """Module-level classes that may be helpers, by name: a class's methods run only on the objects
        built where it is named (`_Copier(device)` only under a device test)."""
        self._class_of: dict[int, int] = {}
        """The methods of those classes, by id, with the id of their class."""
        self.methods: dict[str, list[FunctionNode]] = {}
        """Methods that may be helpers, by name (a name several classes define is each of them): those of
        test classes, and the private ones of other classes that the module reads only through `self`."""
        self.values: dict[str, ast.Assign] = {}
        """Module-level names a module that defines tests assigns once, by name (see the module docstring)."""
        self.fixture_helpers: dict[str, FunctionNode] = {}
        """Fixtures of a module that defines tests, by the name tests request them by: each runs only
        for the tests and fixtures that request it, so it is a helper whose uses are the requests."""
        self.skip_checks: dict[str, ast.If] = {}
        """Module-level functions that open with a skip, by name: the `if` that skips (`skip_check_of`)."""
        self._skip_functions: dict[str, FunctionNode] = {}
        self._uses: dict[int, list[Use]] = {}
        self._parts: dict[int, int] = {}
        """Helpers that run only inside runs of another (`part_of`), by id, with the id of that other."""
        self._nodes: dict[int, tuple[str, Definition]] = {}
        self.module_region = NEUTRAL
        defined: dict[str, int] = {}
        for statement in module.body:
            for name in _bound_names(statement):
                defined[name] = defined.get(name, 0) + 1
        exported = _exported(module)
        self._self_only: dict[int, str] = {}
        """Private methods of classes other than test classes, by id: helpers only while the module reads
        them through `self` or `cls` alone (`helper`), for only then is every use of them seen."""
        self._read_otherwise: set[str] = set()
        for name, alias in (*self.imported.items(), *self.entries.items()):
            self._nodes[id(alias)] = ("_" + name, alias)  # every use of it here is seen here: private
        test_module = in_tests and any(defines_tests(statement) for statement in module.body)
        for statement in module.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                check = _opening_skip(statement, names) if defined.get(statement.name) == 1 else None
                if check is not None:
                    self.skip_checks[statement.name] = check
                    self._skip_functions[statement.name] = statement
                if defined.get(statement.name) == 1 and statement.name not in exported and self._may_help(statement):
                    self.functions[statement.name] = statement
                    self._nodes[id(statement)] = (statement.name, statement)
                fixture = _fixture_name(statement, names) if test_module else None
                if fixture is not None and not _autouse(statement, names) and defined.get(statement.name) == 1:
                    self.fixture_helpers[fixture] = statement
                    self._nodes[id(statement)] = ("_" + fixture, statement)  # requested only here: private
            elif test_module and isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
                if (
                    isinstance(target, ast.Name)
                    and defined.get(target.id) == 1
                    and target.id not in exported
                    and _names_a_device(statement.value, names)
                ):
                    self.values[target.id] = statement
                    self._nodes[id(statement)] = (target.id, statement)
            elif isinstance(statement, ast.ClassDef):
                if defined.get(statement.name) == 1 and statement.name not in exported and not statement.decorator_list:
                    self.classes[statement.name] = statement
                    self._nodes[id(statement)] = (statement.name, statement)
                    self._class_of.update(
                        (id(item), id(statement)) for item in statement.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                    )
                test_class = in_tests and _is_test_class(statement)
                for item in statement.body:
                    if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) or not self._may_help(item):
                        continue
                    if not test_class:
                        if not item.name.startswith("_") and self.elsewhere.get(item.name) is None:
                            continue  # public, and another module may call it in a way not followed
                        self._self_only[id(item)] = item.name
                    self.methods.setdefault(item.name, []).append(item)
                    self._nodes[id(item)] = (item.name, item)
        self.products: dict[str, ast.Assign] = {}
        """Module-level names bound once to a call of a module function that returns a function it
        defines (`group_norm = make_group_norm()`), by name: what they hold runs where they are used."""
        self._closures: dict[int, list[int]] = {}
        """The functions such a factory returns, by id, with the ids of the assignments of its products."""
        self._factory_of: dict[int, int] = {}
        """The assignments of `products`, by id, with the id of the factory they call."""
        self.local_products: dict[str, list[tuple[int, ast.Assign]]] = {}
        """Local names bound once to a call of a module function that makes and returns a Triton kernel
        (`kernel = make_kernel(act)` in a function), by name, with the id of the function binding each:
        the kernel runs where they are launched (`kernel_factories.py`)."""
        self.kernel_making: list[ast.Assign | ast.Return] = []
        """The statements of those factories that make the kernel they return: the walk reads them in a
        scope of their own, whose region is that of the launches (`kernel_factories.py`)."""
        self._read_products(module, defined, exported)
        self._read_kernel_products(module)
        self.launched: list[ast.If] = []
        """The module's `__main__` blocks where it is a test module that launches programs: each read of
        `__file__` is a use of them (see the module docstring)."""
        self._folder_reads: frozenset[int] = frozenset()
        if test_module:
            self._read_launches(module)
        self._fakes = False
        """Whether the module fakes a device probe anywhere: only then is a test read for one."""
        self._read_fixtures(module)

    def _read_products(self, module: ast.Module, defined: Mapping[str, int], exported: frozenset[str]) -> None:
        """`products` and `_closures`: a factory's closure (`def make(act): def forward(x): ...; return
        forward`) runs only where the names bound to the factory's calls are used, where every call of
        the factory the module makes binds such a name and no other module names the factory."""
        calls: dict[str, int] = {}
        for node in subtree(module):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                calls[node.func.id] = calls.get(node.func.id, 0) + 1
        made: dict[str, list[ast.Assign]] = {}
        for statement in module.body:
            if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.value, ast.Call)):
                continue
            target, func = statement.targets[0], statement.value.func
            if isinstance(target, ast.Name) and isinstance(func, ast.Name) and defined.get(target.id) == 1 and target.id not in exported:
                made.setdefault(func.id, []).append(statement)
        for name, products in made.items():
            factory = self.names.function(name)
            if factory is None or calls.get(name) != len(products) or self.elsewhere.get(name, ()) != ():
                continue
            closures = _returned_closures(factory)
            if not closures:
                continue
            for statement in products:
                target = statement.targets[0]
                assert isinstance(target, ast.Name)
                self.products[target.id] = statement
                self._nodes[id(statement)] = (target.id, statement)
                self._factory_of[id(statement)] = id(factory)
            for closure in closures:
                self._nodes[id(closure)] = ("_" + closure.name, closure)  # used only through the products
                self._closures[id(closure)] = [id(statement) for statement in products]

    def _read_kernel_products(self, module: ast.Module) -> None:
        """`local_products`, and the region of a kernel factory's statements that make the kernel
        (`kernel_making`) as that of the launches of what it makes, where no other module names the
        factory."""
        for name, (making, products) in kernel_products(module, self.names).items():
            if self.elsewhere.get(name, ()) != ():
                continue
            for made in making:
                self.kernel_making.append(made)
                self._nodes[id(made)] = ("_" + name, made)  # used only through the factory's products
                self._closures[id(made)] = [id(statement) for _, statement in products]
            for function, statement in products:
                target = statement.targets[0]
                assert isinstance(target, ast.Name)
                self.local_products.setdefault(target.id, []).append((id(function), statement))
                self._nodes[id(statement)] = ("_" + target.id, statement)

    def _read_launches(self, module: ast.Module) -> None:
        """`launched` and the reads of `__file__` that only take its folder, for a test module."""
        mains = [statement for statement in module.body if isinstance(statement, ast.If) and is_main_test(statement.test)]
        if not mains or not any(
            isinstance(node, ast.Call) and self.names.resolve(node.func) in _LAUNCHERS for node in subtree(module)
        ):
            return
        self.launched = mains
        for main in mains:
            self._nodes[id(main)] = ("_main", main)
        folders: set[int] = set()
        for node in subtree(module):
            folder = (isinstance(node, ast.Attribute) and node.attr in _FOLDER_OF) or (
                isinstance(node, ast.Call) and self.names.resolve(node.func) == "os.path.dirname"
            )
            if folder:
                folders.update(id(inner) for inner in subtree(node) if isinstance(inner, ast.Name) and inner.id == "__file__")
        self._folder_reads = frozenset(folders)

    def _may_help(self, function: FunctionNode) -> bool:
        name = function.name
        decorated = any(not self.only_wraps(decorator) for decorator in function.decorator_list)
        if decorated or name in _FRAMEWORK_METHODS or name.startswith("__"):
            return False
        return not (self.in_tests and name.startswith("test"))

    def only_wraps(self, decorator: ast.expr) -> bool:
        """`@functools.lru_cache()`, `@torch.no_grad()`, `@staticmethod`, `@triton.jit`: the function
        still runs only where it is called."""
        return only_wraps(self.names, decorator)

    def calls_by_name_only(self, decorator: ast.expr) -> bool:
        """`calls_by_name_only` with the module's names."""
        return calls_by_name_only(self.names, decorator)

    # -- fixtures -----------------------------------------------------------------------

    def _read_fixtures(self, module: ast.Module) -> None:
        """The skipping fixtures of the module and of each class, and the functions that request one."""
        self.requests: dict[int, Region] = {}
        """Module-level functions and methods that request a skipping fixture, by id: the region it
        opens; and the tests that fake a device probe themselves (`faked_probes.py`)."""
        if not self.in_tests:
            return
        served = {name: FAKED_DEVICE for name in self.faking}
        served.update((name, CONFTEST_SKIP) for name in self.inherited)
        calls = self._calls if self._calls is not None else [n for n in subtree(module) if isinstance(n, ast.Call)]
        self._fakes = may_fake(calls, self.names)
        outer = self._skipping(module.body, served, module_level=True)
        self.skipping = outer
        autouse = {**self.faking, **self.inherited}
        for name, region in outer.items():
            if autouse.get(name) and region is served.get(name):
                self.module_region = region
        classes = [s for s in module.body if isinstance(s, ast.ClassDef)]
        for body, fixtures, faked in [
            (module.body, outer, False),
            *((c.body, self._skipping(c.body, outer), self._fakes and any(fakes_probe(d, self.names) for d in c.decorator_list))
              for c in classes),
        ]:
            for function in body:
                if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    region = self._requested(function, fixtures) if fixtures else NEUTRAL
                    if not region and function.name.startswith("test"):
                        region = FAKED_DEVICE if faked else self._faked(function)
                    if region:
                        self.requests[id(function)] = region

    def _faked(self, function: FunctionNode) -> Region:
        """`FAKED_DEVICE` where the module fakes a device probe somewhere and this function does (`faked_probes.py`)."""
        return faked_region(function, self.names, self.functions) if self._fakes else NEUTRAL

    def _skipping(self, body: list[ast.stmt], outer: dict[str, Region], module_level: bool = False) -> dict[str, Region]:
        """The fixtures in `body` that skip without CUDA, with those of `outer` in scope."""
        fixtures = [(f, _fixture_name(f, self.names)) for f in body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
        defined = {name for _, name in fixtures}
        found = {name: region for name, region in outer.items() if name not in defined}  # a fixture here overrides
        done: set[str] = set()
        changed = True
        while changed:  # a fixture that requests a skipping fixture skips too
            changed = False
            for function, name in fixtures:
                if name is None or name in done:
                    continue
                region = (
                    _skip_region(function, self.names, self.skip_checks)
                    or self._requested(function, found)
                    or self._faked(function)
                )
                if region:
                    found[name] = region
                    done.add(name)
                    changed = True
                    if module_level and _autouse(function, self.names):
                        self.module_region = region
                        self.autouse.add(name)
        return found

    def _requested(self, function: FunctionNode, fixtures: dict[str, Region]) -> Region:
        """The region of the skipping fixtures `function` requests, by parameter or `usefixtures`."""
        requested = [a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)]
        requested.extend(_used_fixtures(function.decorator_list, self.names))
        return next((fixtures[name] for name in requested if name in fixtures), NEUTRAL)

    # -- helpers ------------------------------------------------------------------------

    def helper(self, node: ast.Name | ast.Attribute, scope: tuple[int, ...] = ()) -> list[Definition]:
        """The helpers (or module-level names) a name or `self.name` may stand for, read in the functions
        `scope` names; none for anything else. A private method's name read otherwise (`runner._capture`,
        `super()._capture`, a bare `_capture`) is noted: that method may run from where no use is recorded."""
        through_self = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
        if not through_self:
            self._read_otherwise.add(node.id if isinstance(node, ast.Name) else node.attr)
        if isinstance(node, ast.Name) and node.id == "__file__" and self.launched:
            return [] if id(node) in self._folder_reads else list(self.launched)
        if isinstance(node, ast.Name) and node.id in self.local_products:
            local: list[Definition] = [statement for function, statement in self.local_products[node.id] if function in scope]
            if local:
                return local[-1:]
        if isinstance(node, ast.Name):
            definition: Definition | None = (
                self.functions.get(node.id) or self.values.get(node.id) or self.imported.get(node.id) or self.classes.get(node.id)
                or self.products.get(node.id)
            )
            return [definition] if definition is not None else []
        if through_self:
            return list(self.methods.get(node.attr, []))
        entry = self.entries.get(node.attr) if id(node) in self._entry_calls else None
        return [entry] if entry is not None else []

    def requested(self, function: FunctionNode) -> list[Definition]:
        """The module's fixtures `function` requests, by parameter or `@pytest.mark.usefixtures`."""
        if not self.fixture_helpers:
            return []
        requested = [a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)]
        requested.extend(_used_fixtures(function.decorator_list, self.names))
        return [self.fixture_helpers[name] for name in requested if name in self.fixture_helpers]

    def skip_check_of(self, statement: ast.stmt) -> ast.If | None:
        """For a statement that calls a module function opening with a skip (`_need_gpu()`), that
        function's skipping `if`: the rest of the caller's block runs only where it does not skip.
        Of a function with parameters (`_need_gpus(2)` for `if torch.cuda.device_count() < n:`), the
        `if` reads the call's arguments, or the defaults, in place of them (`bound_check`)."""
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            call = statement.value
            if isinstance(call.func, ast.Name) and call.func.id in self.skip_checks:
                check, function = self.skip_checks[call.func.id], self._skip_functions[call.func.id]
                arguments = function.args
                if not (arguments.posonlyargs or arguments.args or arguments.kwonlyargs or arguments.vararg or arguments.kwarg):
                    return check
                return bound_check(function, check, call)
        return None

    def part_of(self, part: Definition, whole: FunctionNode) -> None:
        """`part` runs only inside runs of `whole` (the backward a custom operator registers,
        `op.register_autograd(backward)`): a use of `whole` in it says nothing of `whole`'s callers, as a
        function calling itself says nothing of them."""
        self._parts[id(part)] = id(whole)

    def use(self, helper: Definition, use: Use) -> None:
        # a function calling itself, or a class naming itself in its methods, says nothing of its callers
        if self._factory_of.get(id(helper)) in use.scope:
            return  # the factory's own name for the closure it returns (`return forward`), not the product
        if id(helper) not in use.scope and not any(self._class_of.get(scope) == id(helper) for scope in use.scope):
            self._uses.setdefault(id(helper), []).append(use)

    def regions(self) -> dict[int, Reached]:
        """Each helper's region, by the id of its definition, where every use of it is guarded; a
        helper class's methods, by theirs, in its region as well."""
        found: dict[int, Reached | None] = {}
        for key in self._nodes:
            self._reached(key, found, set())
        regions = {key: reached for key, reached in found.items() if reached is not None}
        for method, owner in self._class_of.items():
            built = regions.get(owner)
            if built is not None:
                own = regions.get(method)
                regions[method] = built if own is None else Reached(own.quiet | built.quiet, _lower(own.cap, built.cap))
        return regions

    def imported_regions(self) -> dict[str, Reached | None]:
        """For each name of `imported` and of `entries` the module uses, what every use has in common;
        None where some use is unguarded."""
        regions = self.regions()
        return {
            name: regions.get(id(alias)) for name, alias in (*self.imported.items(), *self.entries.items()) if id(alias) in self._uses
        }

    def _reached(self, key: int, found: dict[int, Reached | None], visiting: set[int]) -> Reached | None:
        if key in found:
            return found[key]
        products = self._closures.get(key)
        if products is not None:
            found[key] = common_reach([self._reached(product, found, visiting) for product in products])
            return found[key]
        name = self._nodes[key][0]
        outside = self.elsewhere.get(name, ())
        uses = [use for use in self._uses.get(key, ()) if not any(self._parts.get(scope) == key for scope in use.scope)]
        uses.extend(outside or ())
        if not uses or outside is None or key in visiting or self._self_only.get(key) in self._read_otherwise:
            return None
        if all(use.suite for use in uses):
            found[key] = None  # only the test suite calls it: the project's API, on its users' normal path
            return None
        uses = [use for use in uses if not use.suite]
        visiting.add(key)
        quiet: frozenset[str] | None = None
        cap: Severity | None = Severity.NOTE
        for use in uses:
            use_quiet, use_cap = set(use.quiet), use.cap
            for outer in _with_classes(use.scope, self._class_of):
                if outer in self._nodes:
                    around = self._reached(outer, found, visiting)
                    if around is not None:
                        use_quiet |= around.quiet
                        use_cap = _lower(use_cap, around.cap)
            quiet = frozenset(use_quiet) if quiet is None else quiet & use_quiet
            cap = None if cap is None or use_cap is None else max(cap, use_cap, key=lambda s: s.rank)
        visiting.discard(key)
        public = not (self.in_tests or self.script or name.startswith("_") or name in self.elsewhere)
        if public and not all(use.probe for use in uses):
            found[key] = None
        else:
            found[key] = Reached(quiet or frozenset(), cap) if quiet or cap is not None else None
        return found[key]


CONFTEST_SKIP = Region(cuda_guarded=True)
"""What a skipping fixture of a conftest file opens for the tests that request it."""


def conftest_fixtures(path: str, data: bytes) -> tuple[tuple[str, bool], ...]:
    """The fixtures of the `conftest.py` at display path `path` that skip without CUDA, as (name,
    autouse); raises SyntaxError for a file that does not parse (its own analysis reports it)."""
    if b"skip" not in data or b"fixture" not in data:
        return ()
    tree = read_tree(decode_python(data), filename=path)
    reach = ModuleReach(tree, ImportTable(tree), in_tests=True)
    return tuple(sorted((name, name in reach.autouse) for name, region in reach.skipping.items() if region.cuda_guarded))


def faking_fixtures(path: str, data: bytes) -> tuple[tuple[str, bool], ...]:
    """The fixtures of the `conftest.py` at display path `path` that fake a device probe
    (`faked_probes.py`), as (name, autouse); raises SyntaxError for a file that does not parse."""
    if b"fixture" not in data or not (b"patch" in data or b"setattr" in data):
        return ()
    tree = parse_python(decode_python(data), filename=path)
    reach = ModuleReach(tree, ImportTable(tree), in_tests=True)
    return tuple(sorted((name, name in reach.autouse) for name, region in reach.skipping.items() if region is FAKED_DEVICE))


def _imported_aliases(module: ast.Module, wanted: frozenset[str]) -> dict[str, ast.alias]:
    """The first `from ... import name` of each name of `wanted`, anywhere in the module (not one
    imported `as` another name); where the module imports none of them by name but has a star import
    (`from .gate import *`, through which `callers.py` found it importing them), a stand-in alias."""
    found: dict[str, ast.alias] = {}
    starred = False
    for node in statements(module):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                starred = starred or alias.name == "*"
                if alias.name in wanted and alias.asname is None:
                    found.setdefault(alias.name, alias)
    if starred:
        found.update((name, ast.alias(name=name)) for name in sorted(wanted - found.keys()))
    return found


def _with_classes(scope: tuple[int, ...], class_of: Mapping[int, int]) -> Iterator[int]:
    """The functions of a use's scope, each followed by its class where it is a helper class's method."""
    for function in scope:
        yield function
        if function in class_of:
            yield class_of[function]


def common_reach(regions: list[Reached | None]) -> Reached | None:
    """What every one of `regions` has in common; None where one is None (unguarded)."""
    if not regions or any(region is None for region in regions):
        return None
    quiet = frozenset.intersection(*(region.quiet for region in regions if region is not None))
    caps = [region.cap for region in regions if region is not None]
    cap = None if any(c is None for c in caps) else max((c for c in caps if c is not None), key=lambda c: c.rank)
    return Reached(quiet, cap) if quiet or cap is not None else None


def _returned_closures(factory: FunctionNode) -> list[FunctionNode]:
    """The functions `factory` defines in its own body and returns by name (`return forward`)."""
    nested = {
        node.name: node for node in own_nodes(factory.body) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    returned = [
        nested[node.value.id] for node in own_nodes(factory.body)
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Name) and node.value.id in nested
    ]
    return list({id(closure): closure for closure in returned}.values())


def _lower(first: Severity | None, second: Severity | None) -> Severity | None:
    """The less serious of two caps, where None is no cap."""
    return second if first is None else first.at_most(second)


def _bound_names(statement: ast.stmt) -> Iterator[str]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield statement.name
    elif isinstance(statement, ast.Assign):
        for target in statement.targets:
            if isinstance(target, ast.Name):
                yield target.id
    elif isinstance(statement, (ast.Import, ast.ImportFrom)):
        for alias in statement.names:
            yield (alias.asname or alias.name).partition(".")[0]


def _exported(module: ast.Module) -> frozenset[str]:
    """The names `__all__` lists: the module's interface to other modules."""
    for statement in module.body:
        if (
            isinstance(statement, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in statement.targets)
            and isinstance(statement.value, (ast.List, ast.Tuple))
        ):
            return frozenset(e.value for e in statement.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
    return frozenset()


def _is_test_class(node: ast.ClassDef) -> bool:
    return any(isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test") for item in node.body)


def _fixture_call(decorator: ast.expr, names: ImportTable) -> ast.Call | bool | None:
    """For `@pytest.fixture(...)` its call, for `@pytest.fixture` True, else None."""
    if isinstance(decorator, ast.Call) and names.resolve(decorator.func) == "pytest.fixture":
        return decorator
    return True if names.resolve(decorator) == "pytest.fixture" else None


def _fixture_name(function: FunctionNode, names: ImportTable) -> str | None:
    """The name tests request a fixture by: its `name=`, else its function's name; None for a non-fixture."""
    for decorator in function.decorator_list:
        call = _fixture_call(decorator, names)
        if call is None:
            continue
        if isinstance(call, ast.Call):
            for keyword in call.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                    return keyword.value.value
        return function.name
    return None


def _autouse(function: FunctionNode, names: ImportTable) -> bool:
    for decorator in function.decorator_list:
        call = _fixture_call(decorator, names)
        if isinstance(call, ast.Call):
            return any(
                k.arg == "autouse" and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords
            )
    return False


def _used_fixtures(decorators: list[ast.expr], names: ImportTable) -> Iterator[str]:
    """The fixtures `@pytest.mark.usefixtures("a", "b")` names."""
    for decorator in decorators:
        if isinstance(decorator, ast.Call) and names.resolve(decorator.func) == "pytest.mark.usefixtures":
            yield from (a.value for a in decorator.args if isinstance(a, ast.Constant) and isinstance(a.value, str))


def _skip_region(function: FunctionNode, names: ImportTable, checks: Mapping[str, ast.If]) -> Region | None:
    """The region a fixture's skip leaves its requesters in: after `if not <cuda>: pytest.skip()`
    (or a call of a module function that opens with one, `checks`) the rest of the body, and so the
    test, runs only where CUDA is; a fixture that returns (or yields) only from `if <cuda>:` and
    skips after it gives its value only there. None otherwise."""
    body = function.body
    for statement in body:
        called = statement.value.func if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) else None
        if isinstance(called, ast.Name) and called.id in checks:
            statement = checks[called.id]
        if isinstance(statement, ast.If) and statement.body and is_skip_call(statement.body[-1], names):
            rest = branch_regions(statement.test, names)[2]
            if rest.cuda_guarded:
                return rest
    if not body or not is_skip_call(body[-1], names):
        return None
    regions = []
    for statement in body[:-1]:
        if not _gives_value(statement):
            continue
        if not (isinstance(statement, ast.If) and exits_early(statement.body) and not _gives_value_in(statement.orelse)):
            return None
        if _gives_value(statement.test):
            return None
        regions.append(branch_regions(statement.test, names)[1])
    return regions[0] if regions and all(r.cuda_guarded for r in regions) else None


def bound_check(function: FunctionNode, check: ast.If, call: ast.Call) -> ast.If:
    """`check`, the skipping `if` `function` opens with, as `call` runs it: each parameter its test
    reads replaced by the argument the call passes, or its default (`if torch.cuda.device_count() <
    n:` called as `_need_gpus(2)` tests `device_count() < 2`). A parameter given no value it can read
    (`*args`, an argument unpacked with `*`) is unknown, and so is what the test says of it."""
    values, parameters = call_arguments(function, call)
    test = substituted(check.test, values, parameters)
    return ast.copy_location(ast.If(test, check.body, check.orelse), check)


def _opening_skip(function: FunctionNode, names: ImportTable) -> ast.If | None:
    """The `if` a function opens with (after its docstring and imports) where that `if` only skips
    (`if not torch.cuda.is_available(): pytest.skip(...)`); None for any other function."""
    body = [s for s in function.body if not isinstance(s, (ast.Import, ast.ImportFrom))]
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    first = body[0] if body else None
    if isinstance(first, ast.If) and not first.orelse and len(first.body) == 1 and is_skip_call(first.body[0], names):
        return first
    return None


def _names_a_device(value: ast.expr, names: ImportTable) -> bool:
    """A string, or `torch.device(...)` of strings and numbers: a value whose building touches no device."""
    if isinstance(value, ast.Constant):
        return isinstance(value.value, str)
    return (
        isinstance(value, ast.Call)
        and names.resolve(value.func) == "torch.device"
        and all(isinstance(argument, ast.Constant) for argument in (*value.args, *(k.value for k in value.keywords)))
    )


def defines_tests(statement: ast.stmt) -> bool:
    """A test function or a class of them: the module is one the test runner collects."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return statement.name.startswith("test")
    return isinstance(statement, ast.ClassDef) and _is_test_class(statement)


def _gives_value(node: ast.AST) -> bool:
    return any(isinstance(sub, (ast.Return, ast.Yield, ast.YieldFrom)) for sub in subtree(node))


def _gives_value_in(body: list[ast.stmt]) -> bool:
    return any(_gives_value(statement) for statement in body)
