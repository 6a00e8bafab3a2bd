"""One walk over a Python syntax tree; the concerns registered for the catalog's detectors report what they meet.

The walker owns what every concern shares: the traversal, the regions code sits in (entered
and left as the walk goes down and up, `regions.py`), the statement and the call each site
belongs to, and turning a key into a `Hit` through the catalog. What to look for is not
here: each concern is a `Concern` subclass in its own module under `concerns/`, registered in
`cudaudit.rules.registry` under the catalog `detector` strings it reports, so adding one is a
new module and a registration.

A concern reacts to nodes through methods named for them, called before the walk goes below
the node, and through two hooks the walker feeds after doing the shared work once:

- `on_call(call, callee)`: every call, with its callee's qualified name (None when it is not
  an imported name), inside the region the call's own `enabled=` argument opens;
- `on_qualified_name(node, qualified)`: every `Name` or attribute chain that resolves through
  the module's imports (`th.cuda.synchronize` → `torch.cuda.synchronize`); the walk does not
  go below such a chain, so it is one name, met once;
- `on_<NodeClass>(node)` for any other node class (`on_Import`, `on_Subscript`, `on_Dict`).
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, cached_property, partial
from typing import Any

from cudaudit.model import Severity
from cudaudit.rules.catalog import Catalog, Entry
from cudaudit.rules.python.constructors import built_regions
from cudaudit.rules.python.defaults import ModuleCalls
from cudaudit.rules.python.device_syntax import parameter_defaults
from cudaudit.rules.python.disabled_flags import DisabledFlag, disabled_flags, holds_at
from cudaudit.rules.python.fallback_callees import FallbackCalls
from cudaudit.rules.python.guards import Polarity, Probe, exits_early, launch_test, polarity, probes_in
from cudaudit.rules.python.held_defaults import default_holds, held_parameters, maybe_passed_unseen
from cudaudit.rules.python.idle_imports import idle_bindings, readers, use_failing_modules
from cudaudit.rules.python.names import ImportTable, final_name
from cudaudit.rules.python.nodes import attribute_stores, is_main_test, statements, subtree
from cudaudit.rules.python.optional_use import needs_optional, optional_names
from cudaudit.rules.python.package_probes import imports_package
from cudaudit.rules.python.process_groups import starts_a_process_group
from cudaudit.rules.python.project_calls import CallShape
from cudaudit.rules.python.reach import (
    CONFTEST_SKIP,
    Definition,
    Elsewhere,
    ModuleReach,
    Reached,
    Use,
    common_reach,
    only_wraps,
)
from cudaudit.rules.python.regions import (
    ALL_TARGETS,
    ANOTHER_PATH,
    CUSTOM_OP_DECORATORS,
    DISPLAYED,
    GIVEN_DEFAULT,
    NEUTRAL,
    ONLY_COMPARED,
    OPERATOR_REGISTRATIONS,
    PAST_ABSENT_IMPORT,
    UNREACHABLE,
    UNREAD_DEFAULT,
    Region,
    SiteContext,
    TryStatement,
    branch_regions,
    call_region,
    decorated_region,
    dispatch_region,
    display_region,
    handler_region,
    loop_region,
    method_region,
    module_region,
    region_after,
    replaced_default,
    try_region,
)
from cudaudit.rules.python.sentinels import against_none, none_stores, sentinel_tests
from cudaudit.rules.python.shown import shown_calls, statistics
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.test_classes import (
    PER_TEST,
    gated_tests_region,
    instantiated_classes,
    opening_skip_region,
    spawned_region,
)
from cudaudit.rules.python.unset_flags import unset_flags
from cudaudit.rules.registry import python_concern_modules

_NAMES_CUDA_OR_NCCL = re.compile(r"cuda|nccl", re.IGNORECASE)
_LEAVES = (ast.expr_context, ast.operator, ast.boolop, ast.cmpop, ast.unaryop, ast.Constant)
"""Nodes with nothing below them that any concern looks at."""
_SCALAR_FIELDS = frozenset({"id", "attr", "arg", "module", "level", "kind", "conversion", "type_comment", "is_async", "ctx", "op"})
"""Fields that hold a name, a number, a string or a leaf in every node class of Python's grammar
(`Name.id`, `ImportFrom.level`, `BinOp.op`): the walk never looks into them. Not `name`, which
is a `Name` node in 3.12's `type X = ...`."""
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
"""Per node class, the fields that may hold nodes to visit, in the grammar's order."""
_HOOKED_CLASSES = frozenset({"Call", "Name", "Attribute"})
"""Node classes concerns see through `on_call` and `on_qualified_name` only."""


@dataclass(frozen=True)
class Hit:
    """A catalog entry met at a node, and what its context does to its severity."""

    entry: Entry
    node: ast.expr | ast.stmt
    quiet: frozenset[str]
    """Targets on which the context keeps the site from mattering: at most a note there."""
    cap: Severity | None
    statement: ast.stmt | None
    """The innermost statement the site is in, for fixes that rewrite a whole statement."""
    call: ast.Call | None
    """The call whose callee the site is (`autocast` in `autocast()`), for fixes that add arguments."""
    specific: bool = False
    """The library's own facts about this very node (`device="cuda"` given to xgboost): other hits
    at the node, which only know the generic shape, give way to it."""
    scope: tuple[int, ...] = ()
    """The ids of the function definitions the site is in, outermost first (`reach.py`)."""
    option: str | None = None
    """The command-line option whose default the site is (`--device`; `Finding.option`)."""


class Concern:
    """One kind of syntax the walk reports, created once per module walked.

    Subclasses define `on_call`, `on_qualified_name` and `on_<NodeClass>` methods (see the module
    docstring) and report through `self.walk`; they may keep state about the module on `self`.
    """

    def __init__(self, walk: PythonWalker) -> None:
        self.walk = walk

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hooked = sorted(f"on_{name}" for name in _HOOKED_CLASSES if hasattr(cls, f"on_{name}"))
        if hooked:
            raise TypeError(f"{cls.__qualname__} defines {', '.join(hooked)}: use on_call or on_qualified_name")

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        """Called for every call; `callee` is the qualified name of what is called, if imported."""

    def on_qualified_name(self, node: ast.Name | ast.Attribute, qualified: str) -> None:
        """Called for every name or attribute chain that resolves through the module's imports."""

    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """Whether the concern can report anything in the module `survey` describes: False only where
        no node it could report at is there (`survey.py`). A concern that does not say may always."""
        return True


@cache
def registered_concerns() -> tuple[type[Concern], ...]:
    """The concern of each module registered for a Python detector, in registry order."""
    return tuple(importlib.import_module(module).CONCERN for module in python_concern_modules())


def may_report(survey: Survey) -> bool:
    """Whether any registered concern can report in the module `survey` describes: where none can,
    its walk finds no hit, and is not made."""
    return any(concern.may_report(survey) for concern in registered_concerns())


def _names_cuda_or_nccl(default: ast.expr) -> bool:
    """A string naming CUDA or NCCL in a default; most defaults are one constant, read without a walk."""
    nodes = (default,) if isinstance(default, ast.Constant) else subtree(default)
    return any(
        isinstance(n, ast.Constant) and isinstance(n.value, str) and _NAMES_CUDA_OR_NCCL.search(n.value) is not None
        for n in nodes
    )


def _overrides(concern: Concern, hook: str) -> bool:
    return getattr(type(concern), hook) is not getattr(Concern, hook)


class PythonWalker:
    """Collects `hits` for one module; construct, call `visit(tree)`, read `hits`."""

    def __init__(
        self,
        names: ImportTable,
        catalog: Catalog,
        is_first_party: Callable[[str], bool] = lambda _: False,
        concerns: Iterable[type[Concern]] | None = None,
        in_tests: bool = False,
        fixtures: Mapping[str, bool] | None = None,
        faking_fixtures: Mapping[str, bool] | None = None,
        uncollected: bool = False,
        never_collected: bool = False,
        switched: frozenset[str] = frozenset(),
        called_elsewhere: Mapping[str, tuple[CallShape, ...]] | None = None,
        not_run: frozenset[int] = frozenset(),
        script: bool = False,
        elsewhere: Elsewhere | None = None,
        imported: frozenset[str] = frozenset(),
        entries: frozenset[str] = frozenset(),
        attribute_stores: Mapping[str, int] | None = None,
        fallback_calls: FallbackCalls | None = None,
        cpu_saved_files: frozenset[str] = frozenset(),
        cpu_loads: frozenset[tuple[int, int]] = frozenset(),
        threshold_calls: Mapping[str, tuple[tuple[tuple[str, int], ...], ...]] | None = None,
        calls: Sequence[ast.Call] | None = None,
        never_on: frozenset[str] = frozenset(),
        held: frozenset[str] = frozenset(),
        held_nowhere: bool = False,
        named_nowhere: frozenset[str] = frozenset(),
    ) -> None:
        self.names = names
        self.named_nowhere = named_nowhere
        """The module's top-level functions and classes with a CUDA default that no other file of an
        application names (`FileFacts.named_nowhere`): only the module's own calls can take the default."""
        self.never_on = never_on
        """The keywords defaulting to False, and the attributes keeping them, that nothing of a project
        installing nothing turns on (`FileFacts.never_on`): what a test of one guards runs nowhere."""
        self.held = held
        """The keywords with a literal default that nothing of the project gives a value
        (`FileFacts.held_defaults`): the arm their default closes is another path, or, where
        `held_nowhere` (the project installs nothing), runs nowhere."""
        self.held_nowhere = held_nowhere
        self._held: dict[int, dict[str, object]] = {}
        self._calls = calls
        """Every call of the module the walk visits, where the analysis' survey has them (`survey.py`):
        `reach.ModuleReach` reads them rather than the tree."""
        self.cpu_saved_files = cpu_saved_files
        """The file names every save of the project fills with CPU values only (`checkpoint_writers.py`,
        through the project index)."""
        self.cpu_loads = cpu_loads
        """(line, column) of the `torch.load` calls of a file the project ships with CPU storages only
        (`shipped_checkpoints.py`, through the project index)."""
        self.threshold_calls = threshold_calls or {}
        """Helper -> what every call gives the parameters its capability comparison reads
        (`FileFacts.threshold_calls`, `capability_arguments.py`)."""
        self.fallback_calls = fallback_calls or FallbackCalls(ast.Module(body=[], type_ignores=[]), {})
        """The module's calls of the project's callees that replace a device with the CPU without
        CUDA (`fallback_callees.py`, through the project index)."""
        self.script = script
        """The module is a script nothing in the scan imports (`main_block.py`): only it calls its functions."""
        self.elsewhere = elsewhere
        """What the rest of the project does with the module's functions and methods (`reach.Elsewhere`)."""
        self.imported = imported
        """Names imported from another module of the project whose uses the walk records (`callers.py`)."""
        self.entries = entries
        """Library calls that call a method of another module of the project by its name, whose
        attribute calls the walk records as uses of it (`callers.py`, `library_dispatch.py`)."""
        self.catalog = catalog
        self.is_first_party = is_first_party
        self.in_tests = in_tests
        """The module is a test (`tests/`, `test_x.py`): it runs in the project's test suite, not its normal path."""
        self.fixtures = fixtures
        self.faking_fixtures = faking_fixtures
        """The fixtures the conftest files above the module serve that fake a device probe, by name, with whether each is autouse."""
        self.uncollected = uncollected
        self.never_collected = never_collected
        """The project's pytest configuration leaves this test module out of every run (`--ignore=`)."""
        """A `conftest.py` above leaves the module out of collection without CUDA: it runs only where CUDA is."""
        self.switched = switched
        """The module's top-level classes and functions the project uses only under a switch that is
        off by default (`opt_in.py`, through the project index): another path."""
        self.called_elsewhere = called_elsewhere or {}
        """The calls other modules make of the module's top-level functions and classes that default
        a parameter to a CUDA device, by name (`project_calls.py`, through the project index)."""
        self._switched_ids: frozenset[int] = not_run
        """The ids of the module's top-level statements that are another path: a library's `__main__`
        block and what only it calls (`main_block.py`), and the definitions used only under a switch
        that is off by default."""
        self._optional_names: dict[str, bool] = {}
        self._methods: set[int] = set()
        """The ids of the methods of the module's classes (`regions.method_region`)."""
        self._built: dict[int, tuple[Region, ...]] = {}
        self._test_classes: dict[str, ast.ClassDef] | None = None
        """The module's top-level classes by name, read at its first test class (`test_classes.py`)."""
        self._instantiated: frozenset[str] = frozenset()
        """Those of them only device types other than the CPU's instantiate (`test_classes.instantiated_classes`)."""
        """The methods that run only on an object its constructor built past a requirement, by id, with
        the regions that leaves them in (`constructors.py`)."""
        """Module-level names bound only where an optional library is installed, each with whether
        only another accelerator's branch binds it (`optional_use.py`)."""
        self._function_nodes: dict[int, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        """The module's functions by id, kept only where it has such names."""
        """The skipping fixtures the conftest files above the module serve it, by name, with whether each is autouse."""
        self.hits: list[Hit] = []
        self.called: set[str] = set()
        """Qualified names of everything the module calls, for `redundant_with`."""
        self.statement: ast.stmt | None = None
        """The innermost statement the walk is in."""
        self.functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        """The functions whose bodies the walk is in, innermost last."""
        self._context = SiteContext()
        self._comparison_depth = 0
        self._callees: dict[int, ast.Call] = {}
        self._shown_calls: set[int] | None = None
        """The module's statistic calls whose value is only shown, by id (`shown.py`), read at the first."""
        self._keys: dict[str, frozenset[str]] = {}
        active = [concern(self) for concern in (registered_concerns() if concerns is None else concerns)]
        self._concerns: Sequence[Concern] = active
        self._call_hooks = tuple(c.on_call for c in active if _overrides(c, "on_call"))
        self._name_hooks = tuple(c.on_qualified_name for c in active if _overrides(c, "on_qualified_name"))
        self._dispatch: dict[type, Callable[[Any], None]] = {}
        self._steps: dict[type, Callable[[Any], None] | None] = {}
        """`_dispatch` for what a field of a node holds: None for what the walk does not go into
        (a leaf, a string in `Global.names`, the None of a missing `Dict` key)."""
        self._module: ast.Module | None = None
        self._module_calls: ModuleCalls | None = None
        self._reach: ModuleReach | None = None
        self._classes: list[ast.ClassDef] = []
        """The classes whose bodies the walk is in, innermost last."""
        self._class_flags: dict[int, dict[str, ast.expr]] = {}
        """Per class (by id), the truth tests its attributes hold (`_class_flags`), read when an `if` tests one."""
        self._disabled: dict[int, dict[str, DisabledFlag]] = {}
        """Per class (by id), its switches turned off off the GPU (`disabled_flags.py`), read when an `if` tests one."""
        self._unset: dict[int, frozenset[str]] = {}
        """Per class (by id), its flags turned on only in methods nothing calls (`unset_flags.py`), read when an `if` tests one."""
        self._meta_shares: set[int] = set()
        """The tests such switches hold that also let the meta device through (`DisabledFlag.meta`), by id."""
        self._attribute_stores: Mapping[str, int] | None = attribute_stores
        """How many times the module stores each attribute name, read once, when a class keeps a flag
        (given by a caller that walks the module with some functions emptied, counted before)."""
        self._local_flags: dict[int, dict[str, ast.expr]] = {}
        self._sentinels: dict[int, dict[str, ast.expr]] = {}
        self._none_stores: dict[str, list[int]] | None = None
        """Per function (by id), the device tests its local names hold where they are not None (`sentinels.py`)."""
        """Per function (by id), the truth values its local names hold (`local_flags`), read when an `if` tests one."""
        self._helper_names: frozenset[str] = frozenset()
        """The names of the module's helpers and test-class methods (`reach.py`): a use of any other name is not recorded."""
        self._value_scope: tuple[int, ...] = ()
        """The module-level assignment the walk is in, where `reach.py` follows the uses of its name, the
        `__main__` block whose launches it follows, or the statement of a kernel factory that makes the
        kernel, whose launches it follows."""
        self._wrapped: tuple[int, ...] = ()
        """The function whose decorator the walk is in, where that decorator only wraps it (`ModuleReach.only_wraps`),
        or whose parameter default it is in: the device a default names is used where the function runs."""
        self._followed: frozenset[int] = frozenset()
        """The module-level assignments whose names `reach.py` follows, and the `__main__` blocks of a test
        module that launches itself (`ModuleReach.launched`), by id."""
        self._skip_checks = False
        """Whether the module defines a function that opens with a skip (`reach.py`): only then is a call looked at."""
        self._self_check = False
        """Whether the walk is in a library's `__main__` self-check, whose uses of the module's helpers
        are the developers' own runs, as the test suite's are (`reach.Use.suite`)."""

    def release(self) -> None:
        """Drop the concerns and the dispatch table once the module's hits are read.

        They refer back to the walker, and the walker reaches the whole tree: left as they are, the
        tree outlives the module until the cycle collector finds it, walking every node first."""
        self._concerns = ()
        self._call_hooks = ()
        self._name_hooks = ()
        self._dispatch = {}
        self._steps = {}

    # -- what concerns use ------------------------------------------------------------

    @property
    def scope(self) -> tuple[int, ...]:
        """The ids of the functions whose bodies the walk is in, outermost first, after the statement it is
        in where `reach.py` follows that statement's uses (`_value_scope`), and last the function a decorator
        the walk is in only wraps (`@triton.jit`) (`Hit.scope`)."""
        return self._value_scope + tuple(id(function) for function in self.functions) + self._wrapped

    @property
    def reach(self) -> ModuleReach | None:
        """Where the module's own functions run (`reach.py`), once the walk has visited the module."""
        return self._reach

    @property
    def in_class(self) -> bool:
        """Inside a class body: the innermost function the walk is in, if any, is one of its methods."""
        return bool(self._classes) and (not self.functions or id(self.functions[-1]) in self._methods)

    @property
    def owner(self) -> ast.ClassDef | None:
        """The innermost class the walk is in, whose methods `self` reaches."""
        return self._classes[-1] if self._classes else None

    @property
    def in_comparison(self) -> bool:
        """Inside a comparison: `t.device != torch.device("cuda")` checks a device, it does not use one."""
        return self._comparison_depth > 0

    @property
    def optional_import(self) -> bool:
        """Inside the body of a `try` that falls back when an import fails."""
        return self._context.optional_import

    def keys(self, detector: str) -> frozenset[str]:
        """The catalog's keys for `detector`, read once per module."""
        keys = self._keys.get(detector)
        if keys is None:
            keys = self._keys[detector] = self.catalog.keys(detector)
        return keys

    def report(
        self,
        detector: str,
        key: str,
        node: ast.expr | ast.stmt,
        *,
        guarded: bool = False,
        cap: Severity | None = None,
        call: ast.Call | None = None,
        specific: bool = False,
        option: str | None = None,
        quiet: frozenset[str] = frozenset(),
    ) -> None:
        """A hit at `node` if the catalog has an entry for `key`, in the context the walk is in.

        `guarded`: the value itself is chosen only where CUDA is available (`"cuda" if ... else "cpu"`);
        `cap`: the most severe the site can be whatever the targets say; `call`: the call the site
        is an argument of, for fixes that rewrite several of its arguments (DDP's device ids);
        `specific`: the entry is the called library's own fact about the node (see `Hit.specific`);
        `option`: the command-line option whose default the site is (see `Hit.option`); `quiet`: targets
        the site loses nothing on, whatever the context says."""
        entry = self.catalog.lookup(detector, key)
        if entry is None:
            return
        quiet = self._context.quiet_targets(guarded) | quiet
        call = call or self._callees.get(id(node))
        self.hits.append(
            Hit(entry, node, quiet, self._context.cap(cap), self.statement, call, specific, self.scope, option)
        )

    def report_values(
        self,
        value: ast.expr,
        detector: str,
        matches: Callable[[ast.expr], bool],
        key: str = "",
        guarded: bool = False,
        call: ast.Call | None = None,
        specific: bool = False,
        option: str | None = None,
    ) -> None:
        """Report each value `value` can take that `matches`, looking through `a if cond else b` and `a or b`;
        a branch chosen only where CUDA is available is guarded, and a choice between it and another
        literal (`"cuda" if torch.cuda.is_available() else "cpu"`) is made at run time: not reported.
        Each branch is in the region its condition opens, as the walk puts code there
        (`... if hasattr(torch, "accelerator") else "cuda"`: a fallback for older releases)."""
        if isinstance(value, ast.IfExp):
            branch = polarity(value.test, self.names, Probe.CUDA)
            if branch is Polarity.POSITIVE and isinstance(value.orelse, ast.Constant) and not matches(value.orelse):
                return
            _, body, orelse = branch_regions(value.test, self.names)
            for region, side, polar in ((body, value.body, Polarity.POSITIVE), (orelse, value.orelse, Polarity.NEGATIVE)):
                self.within(
                    region,
                    partial(
                        self.report_values, side, detector, matches, key, guarded or branch is polar, call, specific, option
                    ),
                )
        elif isinstance(value, ast.BoolOp):
            for operand in value.values:
                self.report_values(operand, detector, matches, key, guarded, call, specific, option)
        elif matches(value):
            self.report(detector, key, value, guarded=guarded, call=call, specific=specific, option=option)

    # -- traversal ------------------------------------------------------------------

    def visit(self, node: ast.AST) -> None:
        """Dispatch on the node's class, looked up once per class rather than per node."""
        method = self._dispatch.get(node.__class__)
        if method is None:
            method = self._dispatch[node.__class__] = self._method_for(node.__class__)
        method(node)

    def _method_for(self, node_class: type) -> Callable[[Any], None]:
        """The walker's own step for a node class, preceded by the concerns' `on_<NodeClass>` methods."""
        own: Callable[[Any], None] = getattr(self, "visit_" + node_class.__name__, self.generic_visit)
        name = "on_" + node_class.__name__
        hooks = tuple(getattr(c, name) for c in self._concerns if hasattr(c, name))
        if not hooks:
            return own

        def visit(node: ast.AST) -> None:
            for hook in hooks:
                hook(node)
            own(node)

        return visit

    def _step_for(self, value_class: type) -> Callable[[Any], None] | None:
        """`_steps`' entry for a class: its `_dispatch` method, or None for a leaf or a non-node."""
        step = None
        if issubclass(value_class, ast.AST) and not issubclass(value_class, _LEAVES):
            step = self._dispatch.get(value_class)
            if step is None:
                step = self._dispatch[value_class] = self._method_for(value_class)
        self._steps[value_class] = step
        return step

    def generic_visit(self, node: ast.AST) -> None:
        # The most frequent step of the walk: the dispatch is looked up here, once per child, rather
        # than through `visit` and two `isinstance` tests (a fifth of the walk's own time).
        steps = self._steps
        for name in _child_fields(node.__class__):
            field = getattr(node, name, None)
            if isinstance(field, list):
                if field and isinstance(field[0], ast.stmt):
                    self._visit_block(field)
                else:
                    for item in field:
                        step = steps.get(item.__class__)
                        if step is None and item.__class__ not in steps:
                            step = self._step_for(item.__class__)
                        if step is not None:
                            step(item)
            else:
                step = steps.get(field.__class__)
                if step is None and field.__class__ not in steps:
                    step = self._step_for(field.__class__)
                if step is not None:
                    step(field)

    def _visit_block(self, body: list[ast.stmt]) -> None:
        """Visit statements in order; after `if not <cuda>: return`, the rest is guarded."""
        entered: list[Region] = []
        outer = self.statement
        for index, statement in enumerate(body):
            self.statement = statement
            if self._followed and id(statement) in self._followed:
                self._value_scope = (id(statement),)
                try:
                    self._visit_inside(replaced_default(statement, body[index + 1 :], self.names), self.visit, statement)
                finally:
                    self._value_scope = ()
            elif isinstance(statement, ast.Assign):  # only an assignment can be a default replaced later
                self._visit_inside(replaced_default(statement, body[index + 1 :], self.names), self.visit, statement)
            else:
                self.visit(statement)
            self.statement = outer
            rest = region_after(statement, self.names)
            if not rest and isinstance(statement, ast.If) and (local := self._local_test(statement.test)) is not None:
                rest = region_after(ast.copy_location(ast.If(local, statement.body, statement.orelse), statement), self.names)
                rest = self._with_meta_share(local, rest)[0]
            elif not rest and self._skip_checks and self._reach is not None and (check := self._reach.skip_check_of(statement)):
                rest = region_after(check, self.names)  # `_need_gpu()` skips as its opening `if` would here
            elif not rest and self.in_tests and imports_package(statement, self.names.absent_packages):
                rest = PAST_ABSENT_IMPORT  # `import transformer_engine` fails on a machine without a GPU
            elif not rest and isinstance(statement, ast.If) and exits_early(statement.body):
                sides = self._cpu_flag_sides(statement.test)
                rest = sides[1] if sides is not None else rest  # `if not on_device: return`
            if rest:
                self._context.enter(rest)
                entered.append(rest)
        for region in reversed(entered):
            self._context.leave(region)

    def _visit_inside(self, region: Region, visit: Callable[[Any], None], node: Any) -> None:
        """`visit(node)` inside `region`; most regions are neutral, and entering them is skipped."""
        if not region:
            visit(node)
            return
        self._context.enter(region)
        try:
            visit(node)
        finally:
            self._context.leave(region)

    def visit_If(self, node: ast.If) -> None:
        if id(node) in self._switched_ids:
            self._self_check = is_main_test(node.test)  # a library's `__main__` self-check (`main_block.py`)
            try:
                self._visit_inside(ANOTHER_PATH, self._visit_branches, node)
            finally:
                self._self_check = False
        else:
            self._visit_branches(node)

    def _visit_branches(self, node: ast.If) -> None:
        test, body, orelse = self._held_regions(node.test)
        if ANOTHER_PATH in (body, orelse) and (never := self._never_on(node.test)) is not None:
            body, orelse = (UNREACHABLE, orelse) if never else (body, UNREACHABLE)  # `if distributed:`, no caller passes it
        if not (body or orelse) and (held := self._held_default(node.test)) is not None:
            holds, seen = held  # `if gan_mode == "hinge":`, `gan_mode="ls"` kept
            closed = UNREACHABLE if self.held_nowhere and seen else ANOTHER_PATH
            body, orelse = (body, closed) if holds else (closed, orelse)
        if not (body or orelse) and (unset := self._unset_flag(node.test)) is not None:
            body, orelse = (UNREACHABLE, orelse) if unset else (body, UNREACHABLE)  # `if self.split:`, set only by `spread()`, never called
        if not (body or orelse) and (replaced := self._none_replaced(node)) is not None:
            holds_where_none, region = replaced  # `if device is None: device = torch.device("cuda")`
            body, orelse = (region, orelse) if holds_where_none else (body, region)
        if not (body or orelse) and (aside := self._none_arm_aside(node)) is not None:
            body, orelse = (ANOTHER_PATH, orelse) if aside else (body, ANOTHER_PATH)  # `if model is None:`, left out only by `__main__`
        if ANOTHER_PATH in (body, orelse) and (launched := self._launched_regardless(node)) is not None:
            body, orelse = (NEUTRAL, orelse) if launched is Polarity.POSITIVE else (body, NEUTRAL)
        self._visit_inside(test, self.visit, node.test)
        self._visit_inside(body, self._visit_block, node.body)
        self._visit_inside(orelse, self._visit_block, node.orelse)

    def _held_regions(self, test: ast.expr) -> tuple[Region, Region, Region]:
        """The regions of a condition's test and branches (`branch_regions`), with what a local name or
        flag the test reads holds: an `if` statement's and a conditional expression's alike (`total //
        n if n > 0 else total` after `n = torch.cuda.device_count()` divides only where a GPU is)."""
        regions, body, orelse = branch_regions(test, self.names)
        if (body or orelse) and isinstance(test, ast.Compare) and (counted := self._counted_test(test)) is not None:
            # `world_size > 1` after `world_size = torch.cuda.device_count()`: what the name holds
            # decides the branch (none is taken without a GPU), not what its words say it counts.
            regions, body, orelse = branch_regions(counted, self.names)
        if not (body or orelse):
            local = self._local_test(test) or self._conjunction_test(test)
            sides = self._cpu_flag_sides(test) if local is None else None
            if local is not None:
                _, body, orelse = branch_regions(local, self.names)
                body, orelse = self._with_meta_share(local, body, orelse)
            elif sides is not None:
                body, orelse = sides
        return regions, body, orelse

    def _none_replaced(self, node: ast.If) -> tuple[bool, Region] | None:
        """For `if device is None: device = torch.device("cuda")` (or `if not device:`), where `device`
        is a parameter whose default is None and the branch only assigns it: whether the test holds
        where it is None, with the region of that branch, judged as a CUDA default of the parameter
        would be (`_stand_in_region`). None for any other `if`."""
        sentinel = against_none(node.test)
        if sentinel is None:
            return None
        name, holds_where_none = sentinel
        branch = node.body if holds_where_none else node.orelse
        if not (
            len(branch) == 1
            and isinstance(branch[0], ast.Assign)
            and len(branch[0].targets) == 1
            and isinstance(branch[0].targets[0], ast.Name)
            and branch[0].targets[0].id == name
        ):
            return None
        region = self._stand_in_region(name, branch[0].value)
        return None if region is None else (holds_where_none, region)

    def _none_arm_aside(self, node: ast.If) -> bool | None:
        """For `if model is None:` (True) or `if model is not None:` (False), where `model` is a parameter
        of the top-level function the walk is in whose default is None, and only a call that another path runs
        (a library's `__main__` block, `defaults.ModuleCalls.default_taken_aside`) leaves it out or
        passes None, every call on the normal path passing a value: whether the test holds where it is
        None, the branch only that path takes. None for any other `if`."""
        sentinel = against_none(node.test)
        if sentinel is None or self._module is None:
            return None
        name, holds_where_none = sentinel
        found = self._defaulting_to_none(name)
        if found is None or found[0] not in self._module.body:
            return None  # a method's or a nested function's callers are not all seen
        function, position = found
        if self._module_calls is None:
            self._module_calls = self._new_module_calls(self._module)
        calls = self._module_calls
        if not calls.default_is_normal_path(function, name, position) and calls.default_taken_aside(function, name, position):
            return holds_where_none
        return None

    def _stand_in_region(self, name: str, value: ast.expr) -> Region | None:
        """Where `name` is a parameter of the function the walk is in whose default is None: the region
        of `value`, which stands in for that default (`device or torch.device("cuda")`), as
        `default_region` judges a default that names CUDA (taken only by a call that leaves the
        parameter out); None for any other name."""
        found = self._defaulting_to_none(name)
        return None if found is None else self.default_region(found[0], name, found[1], value)

    def _defaulting_to_none(self, name: str) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, int | None] | None:
        """The function the walk is in and the place of its parameter `name`, where that parameter's
        default is None (`_none_arm_aside`, `_stand_in_region`); None for any other name."""
        if not self.functions or "." in name:
            return None
        function = self.functions[-1]
        for parameter, position, default in parameter_defaults(function.args):
            if parameter == name and isinstance(default, ast.Constant) and default.value is None:
                return function, position
        return None

    def _launched_regardless(self, node: ast.If) -> Polarity | None:
        """For an `if` that asks whether a launcher started the process (`if local_rank != -1:`,
        `guards.launch_test`), at the top level of a function that goes on to join a process group on
        either branch (`deepspeed.init_distributed()`, `dist.init_process_group(...)` after it, with no
        early exit between): the branch the launch takes, which is then the function's normal path,
        for every run of it is a launched one. None otherwise: the launch is another path than the
        single-process run."""
        function = self.functions[-1] if self.functions else None
        if function is None or node not in function.body:
            return None
        launched = launch_test(node.test, self.names)
        if launched is None:
            return None
        for statement in function.body[function.body.index(node) + 1 :]:
            if starts_a_process_group(statement, self.names):
                return launched
            if isinstance(statement, ast.If) and (exits_early(statement.body) or exits_early(statement.orelse)):
                return None
            if isinstance(statement, (ast.Return, ast.Raise)):
                return None
        return None

    def _local_test(self, test: ast.expr) -> ast.expr | None:
        """The test a local flag holds: in `sync = step == 1 and self.device == "cuda"`, then `if sync:`
        (or `if not sync:`), the test of `sync` is the test its function assigned it once, before the
        `if`, from a comparison, a `not` or an `and`/`or` of them, where it tests which GPU or device
        runs (`_GPU_PROBES`); so is the test of a flag its class keeps (`if self.graphs:` after
        `self.graphs = x.is_cuda and replay` in any of its methods, `_attribute_flags`). None for any
        other test."""
        counted = self._counted_test(test) if isinstance(test, ast.Compare) else None
        if counted is not None:
            return counted
        found = self._flag_value(test)
        if found is None:
            return None
        value, negated = found
        if not tests_the_device(probes_in(value, self.names)):
            return None
        return ast.UnaryOp(ast.Not(), value) if negated else value

    def _conjunction_test(self, test: ast.expr) -> ast.expr | None:
        """For `if self._enabled and step == 3:`, the `and` with each flag among its operands replaced
        by the test it holds (`_local_test`): the branch runs only where every operand held. None where
        no operand is such a flag."""
        if not (isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And)):
            return None
        values = [self._local_test(value) for value in test.values]
        if all(value is None for value in values):
            return None
        held = [value if value is not None else original for value, original in zip(values, test.values, strict=True)]
        return ast.copy_location(ast.BoolOp(op=ast.And(), values=held), test)

    def _counted_test(self, test: ast.Compare) -> ast.Compare | None:
        """`n > 0` after `n = torch.cuda.device_count()` in the same function (bound once, before the `if`):
        the comparison of the probe's call itself, which `guards.holds_without_device` reads. None for
        any other comparison."""
        if len(test.ops) != 1:
            return None
        for side in (test.left, test.comparators[0]):
            found = self._flag_value(side) if isinstance(side, ast.Name) else None
            if found is None or not isinstance(found[0], ast.Call):
                continue
            probes = probes_in(found[0], self.names)
            if not probes or not probes <= _GPU_PROBES:
                return None
            left, right = (found[0], test.comparators[0]) if side is test.left else (test.left, found[0])
            return ast.copy_location(ast.Compare(left=left, ops=test.ops, comparators=[right]), test)
        return None

    def _counted_range(self, iterable: ast.expr) -> ast.expr:
        """`range(n)` (or `range(1, n)`) after `n = torch.cuda.device_count()` in the same function
        (bound once, before the loop): the range of the probe's call itself, which has no items
        without a GPU (`loop_region`), as `_counted_test` reads `n > 0`. Any other iterable as it is."""
        if not (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id == "range"
                and 1 <= len(iterable.args) <= 3 and not iterable.keywords):
            return iterable
        stop = iterable.args[0 if len(iterable.args) == 1 else 1]
        found = self._flag_value(stop) if isinstance(stop, ast.Name) else None
        if found is None or not isinstance(found[0], ast.Call):
            return iterable
        probes = probes_in(found[0], self.names)
        if not probes or not probes <= _GPU_PROBES:
            return iterable
        return ast.copy_location(ast.Call(func=iterable.func, args=[found[0]], keywords=[]), iterable)

    def _cpu_flag_sides(self, test: ast.expr) -> tuple[Region, Region] | None:
        """The regions of the branches of a test of a flag that compares a device with the CPU alone
        (`on_device = x.device.type != "cpu"`, then `if on_device:`): the branch the comparison takes
        off the CPU never runs on a machine without an accelerator, whose data is all on the CPU; the
        other keeps its severity (a CPU machine takes it, `.to(torch.cuda.current_device())` under `if
        is_cpu:` included). None for any other test."""
        found = self._flag_value(test)
        if found is None:
            return None
        value, negated = found
        if probes_in(value, self.names) != _CPU_PROBE:
            return None
        side = polarity(value, self.names, Probe.CPU)
        if side is None:
            return None
        off_cpu = Region(cpu_aware=True)
        return (NEUTRAL, off_cpu) if (side is Polarity.POSITIVE) is not negated else (off_cpu, NEUTRAL)

    def _flag_value(self, test: ast.expr) -> tuple[ast.expr, bool] | None:
        """For `if flag:`, `if not flag:`, `if self.flag:`: the truth test the flag holds (`_local_test`),
        assigned before the `if`, with whether the test negates it. A flag of the class is read
        wherever its one store is, in a method defined before or after the test's: where the test
        runs, that store ran (an attribute never stored raises before anything it guards)."""
        negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        name = test.operand if isinstance(test, ast.UnaryOp) and negated else test
        if not self.functions:
            return None
        function = self.functions[-1]
        value = None
        if isinstance(name, ast.Attribute) and _is_self_attribute(name):
            value = self._attribute_flags().get(name.attr)
            if value is not None:
                return value, negated
            if value is None and (holds := self._disabled_flag(name.attr, function, test)) is not None:
                return holds, negated  # `if self._enabled:` after `init` turned it off off the GPU
        elif isinstance(name, ast.Name):
            flags = self._local_flags.get(id(function))
            if flags is None:
                flags = self._local_flags[id(function)] = local_flags(function)
            value = flags.get(name.id)
        if value is None and (sentinel := against_none(test)) is not None and self._may_be_sentinel(sentinel[0], function):
            key, negated = sentinel  # `if device is None:` after `device = p.device` under a device test
            tests = self._sentinels.get(id(function))
            if tests is None:
                tests = self._sentinels[id(function)] = sentinel_tests(function, self._holds_device, self._stores)
            value = tests.get(key)
            if value is not None and key.startswith("self.") and self._class_default(key[5:]):
                value = None
        if value is None or (value.lineno, value.col_offset) >= (test.lineno, test.col_offset):
            return None
        return value, negated

    def _never_on(self, test: ast.expr) -> bool | None:
        """For `if distributed:` (True) or `if not self.distributed:` (False), where nothing of a project
        that installs nothing turns the name on (`FileFacts.never_on`): whether the test holds where
        it is on, the branch that never runs; an `and` with such a test holds nowhere (True). None for
        any other test."""
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            return True if any(self._never_on(value) for value in test.values) else None  # `if distributed and rank == 0:`
        negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        name = test.operand if isinstance(test, ast.UnaryOp) and negated else test
        if isinstance(name, ast.Attribute) and _is_self_attribute(name):
            named: str | None = name.attr  # `self.distributed = distributed`: kept as it was passed
        else:
            named = name.id if isinstance(name, ast.Name) else None  # `args.distributed` is another object's
        return (not negated) if named is not None and named in self.never_on else None

    def _held_default(self, test: ast.expr) -> tuple[bool, bool] | None:
        """Whether `test` holds in the function the walk is in where each of its parameters that
        nothing of the project gives a value (`FileFacts.held_defaults`) holds its literal default
        (`held_defaults.default_holds`), and whether every value it reads is one a call could only
        give where the scan sees it (`held_defaults.maybe_passed_unseen`); None where the default does
        not decide it."""
        if not self.held or not self.functions:
            return None
        function = self.functions[-1]
        defaults = self._held.get(id(function))
        if defaults is None:
            defaults = self._held[id(function)] = held_parameters(function, self.held)
        holds = default_holds(test, defaults) if defaults else None
        return None if holds is None else (holds, not maybe_passed_unseen(function, test, defaults))

    def _unset_flag(self, test: ast.expr) -> bool | None:
        """For `if self.split:` (True) or `if not self.split:` (False), where the class around the walk
        turns the flag on only in methods nothing calls (`unset_flags.py`): whether the test holds
        where the flag is set, the branch that never runs. None for any other test."""
        negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        name = test.operand if isinstance(test, ast.UnaryOp) and negated else test
        if not (isinstance(name, ast.Attribute) and _is_self_attribute(name) and self._classes and self._module is not None):
            return None
        elsewhere = self.elsewhere or {}
        if elsewhere.get(name.attr) != ():
            return None  # not a flag the project index read (`callers.definitions`), or mentioned elsewhere
        owner = self._classes[-1]
        flags = self._unset.get(id(owner))
        if flags is None:
            flags = self._unset[id(owner)] = unset_flags(owner, self._module, self._stores(), elsewhere, self.catalog)
        return (not negated) if name.attr in flags else None

    def _disabled_flag(self, attribute: str, function: ast.FunctionDef | ast.AsyncFunctionDef, test: ast.expr) -> ast.expr | None:
        """What `self.attribute` holds where it is True, for a switch the class around the walk turns off
        in its set-up under a test that holds off the GPU (`disabled_flags.py`), where `test` reads it
        after that set-up; None otherwise."""
        if not self._classes:
            return None
        owner = self._classes[-1]
        flags = self._disabled.get(id(owner))
        if flags is None:
            flags = self._disabled[id(owner)] = disabled_flags(owner, self._holds_device, self._stores)
        flag = flags.get(attribute)
        if flag is None or not holds_at(flag, owner, function, test):
            return None
        if flag.meta:
            self._meta_shares.add(id(flag.holds))
        return flag.holds

    def _with_meta_share(self, local: ast.expr, *regions: Region) -> tuple[Region, ...]:
        """`regions` as read from `local`, where a flag in it was kept on for the meta device too
        (`DisabledFlag.meta`): each guarded one is another path instead, for a model initialised there
        may run on the CPU later."""
        if not self._meta_shares or not any(id(node) in self._meta_shares for node in subtree(local)):
            return regions
        return tuple(ANOTHER_PATH if region.cuda_guarded else region for region in regions)

    def _may_be_sentinel(self, key: str, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """Whether `function` sets `key` to None (or to what `next(..., None)` finds) somewhere: only then
        is a test of it read as a sentinel's (`sentinels.none_stores`, one pass over the module's
        statements); most names an `if` tests are not."""
        if self._none_stores is None:
            self._none_stores = none_stores(self.names.statements)
        lines = self._none_stores.get(key)
        end = function.end_lineno or function.lineno
        return lines is not None and any(function.lineno < line <= end for line in lines)

    def _stores(self) -> Mapping[str, int]:
        """How many times the module stores each attribute name (`nodes.attribute_stores`), counted once."""
        if self._attribute_stores is None:
            self._attribute_stores = attribute_stores(self._module) if self._module is not None else {}
        return self._attribute_stores

    def _class_default(self, name: str) -> bool:
        """Whether the class around the walk gives attribute `name` a value other than None in its body
        (`device = "cuda"`), which `self.name` reads where no method has stored one."""
        owner = self._classes[-1] if self._classes else None
        return owner is not None and any(
            isinstance(statement, (ast.Assign, ast.AnnAssign))
            and any(isinstance(t, ast.Name) and t.id == name for t in (statement.targets if isinstance(statement, ast.Assign) else [statement.target]))
            and not (isinstance(statement.value, ast.Constant) and statement.value.value is None)
            for statement in owner.body
        )

    def _holds_device(self, test: ast.expr) -> bool:
        """Whether the true branch of `test` runs only off a CPU-only machine: on a CUDA (or NVIDIA, or
        another accelerator's) device, or where a device compared with the CPU is not it."""
        _, body, _ = branch_regions(test, self.names)
        if body.cuda_guarded or body.nvidia_only or body.elsewhere:
            return True
        return probes_in(test, self.names) == _CPU_PROBE and polarity(test, self.names, Probe.CPU) is Polarity.NEGATIVE

    def _attribute_flags(self) -> dict[str, ast.expr]:
        """The attributes the class around the walk keeps a truth test in (`_class_flags`), read once per class."""
        if not self._classes:
            return {}
        owner = self._classes[-1]
        flags = self._class_flags.get(id(owner))
        if flags is None:
            found = _class_flags(owner)
            stores = self._stores() if found and self._module is not None else None
            flags = {name: value for name, (value, count) in found.items() if stores is None or stores.get(name) == count}
            self._class_flags[id(owner)] = flags
        return flags

    def visit_IfExp(self, node: ast.IfExp) -> None:
        test, body, orelse = self._held_regions(node.test)
        sentinel = None if body or orelse else against_none(node.test)
        if sentinel is not None:  # `torch.device("cuda") if device is None else device`
            name, holds_where_none = sentinel
            region = self._stand_in_region(name, node.body if holds_where_none else node.orelse)
            if region:
                body, orelse = (region, orelse) if holds_where_none else (body, region)
        self._visit_inside(test, self.visit, node.test)
        self._visit_inside(body, self.visit, node.body)
        self._visit_inside(orelse, self.visit, node.orelse)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        """`torch.cuda.is_available() and torch.cuda.get_device_capability() >= (8, 0)`; in `device or
        torch.device("cuda")`, of a parameter whose default is None, the second operand stands in for
        that default (`_stand_in_region`)."""
        values = node.values
        first = values[0]
        if isinstance(node.op, ast.Or) and len(values) == 2 and isinstance(first, ast.Name):
            region = self._stand_in_region(first.id, values[1])
            if region:
                self.visit(first)
                self._visit_inside(region, self.visit, values[1])
                return
        self._within_each(self._operand_regions(node), ())

    def _operand_regions(self, node: ast.BoolOp) -> Iterator[Region]:
        """Each operand visited in the regions of the ones before it, then the region it opens for the
        operands after it: they run only when it let evaluation go on."""
        for value in node.values:
            test, body, orelse = branch_regions(value, self.names)
            self._visit_inside(test, self.visit, value)
            yield body if isinstance(node.op, ast.And) else orelse

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        """`[torch.cuda.get_device_name(d.index) for d in devices if d.type == "cuda"]`: the element is
        computed only for the items every `if` clause lets through, and only where the iterable has
        items (`for i in range(torch.cuda.device_count())`), as the body of a `for` with an `if` in it."""
        elements = (node.key, node.value) if isinstance(node, ast.DictComp) else (node.elt,)
        self._within_each(self._generator_regions(node.generators), elements)

    visit_SetComp = visit_GeneratorExp = visit_DictComp = visit_ListComp

    def _generator_regions(self, generators: list[ast.comprehension]) -> Iterator[Region]:
        """Each `for` clause's iterable and target visited, then the region its items open (`loop_region`),
        then its `if` clauses' (`_clause_regions`)."""
        for generator in generators:
            self.visit(generator.iter)
            self.visit(generator.target)
            yield loop_region(self._counted_range(generator.iter), self.names)
            yield from self._clause_regions(generator.ifs)

    def _within_each(self, regions: Iterator[Region], last: Iterable[ast.AST]) -> None:
        """Enter each region `regions` gives as it gives it (the code it visits on the way runs in the
        ones before), visit `last` inside them all, and leave them in reverse: the operands of a
        boolean operation, the clauses of a comprehension and its element."""
        entered: list[Region] = []
        try:
            for region in regions:
                if region:
                    self._context.enter(region)
                    entered.append(region)
            for node in last:
                self.visit(node)
        finally:
            for region in reversed(entered):
                self._context.leave(region)

    def _clause_regions(self, conditions: list[ast.expr]) -> Iterator[Region]:
        """The region each `if` clause of a comprehension opens for what follows it, after visiting
        the clause itself in the regions of the clauses before it."""
        for condition in conditions:
            test, body, _ = branch_regions(condition, self.names)
            self._visit_inside(test, self.visit, condition)
            yield body

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.target)
        self.visit(node.iter)
        self._visit_inside(loop_region(self._counted_range(node.iter), self.names), self._visit_block, node.body)
        self._visit_block(node.orelse)

    visit_AsyncFor = visit_For

    def visit_Try(self, node: TryStatement) -> None:
        self._visit_inside(try_region(node, self._is_stage), self._visit_block, node.body)
        for handler in node.handlers:
            self._visit_inside(handler_region(handler, node.body, self.names), self.visit, handler)
        self._visit_block(node.orelse)
        self._visit_block(node.finalbody)

    visit_TryStar = visit_Try

    def _is_stage(self, call: ast.Call) -> bool:
        """Whether `call` runs a stage of the program: a function or class of the project itself, which
        the module defines, imports from the project (absolutely or relatively) or is walked for
        (`imported`), called by its name or through the project's module (`api.estimate(x)`)."""
        func = call.func
        if isinstance(func, ast.Name):
            if func.id in self.imported or func.id in self._relative_names:
                return True
            binding = self.names.binding(func.id)
            if binding is None:
                return self.names.function(func.id) is not None or func.id in self.names.classes
            return self.is_first_party(binding.qualified)
        qualified = self.names.resolve(func) if isinstance(func, ast.Attribute) and self.names.is_module_chain(func) else None
        return qualified is not None and self.is_first_party(qualified)

    @cached_property
    def _relative_names(self) -> frozenset[str]:
        """The names the module imports from its own package (`from .api import estimate`)."""
        return frozenset(
            alias.asname or alias.name
            for statement in self.names.statements
            if isinstance(statement, ast.ImportFrom) and statement.level
            for alias in statement.names
        )

    def visit_Module(self, node: ast.Module) -> None:
        self._module = node
        if self.switched:
            self._switched_ids |= frozenset(
                id(statement)
                for statement in node.body
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and statement.name in self.switched
            )
            self._switched_ids |= frozenset(  # a method the project calls only under a switch: `Class.method`
                id(method)
                for statement in node.body
                if isinstance(statement, ast.ClassDef)
                for method in statement.body
                if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef))
                and f"{statement.name}.{method.name}" in self.switched
            )
        self._reach = reach = ModuleReach(
            node, self.names, self.in_tests, self.fixtures, self.script, self.elsewhere, self.imported, self.faking_fixtures,
            self._calls, self.entries,
        )
        launches = ("__file__",) if reach.launched else ()
        self._helper_names = frozenset((
            *reach.functions, *reach.classes, *reach.methods, *reach.values, *reach.imported, *reach.entries, *reach.products,
            *reach.local_products, *launches
        ))
        self._followed = frozenset(
            id(statement) for statement in (*reach.values.values(), *reach.launched, *reach.kernel_making)
        )
        self._skip_checks = bool(reach.skip_checks)
        self._optional_names = optional_names(node, self.names)
        whole = ANOTHER_PATH if "" in self.switched else NEUTRAL  # the module is imported only under a switch
        region = UNREACHABLE if self.never_collected else CONFTEST_SKIP if self.uncollected else reach.module_region
        self._visit_inside(whole, lambda _: self._visit_inside(region, lambda _: self._visit_inside(
            module_region(node, self.names), self.generic_visit, node), None), None)
        self._reach_helpers(reach)
        self._cap_optional_functions()

    def _cap_optional_functions(self) -> None:
        """Another path for every hit inside a function that needs an optional library, and no
        target's inside one that needs another accelerator's (`optional_use.py`). Only the functions
        that hold hits are read, after the walk."""
        if not self._optional_names:
            return
        needed: dict[int, bool | None] = {}
        for hit in self.hits:
            for scope in hit.scope:
                if scope not in needed and scope in self._function_nodes:
                    needed[scope] = needs_optional(self._function_nodes[scope], self._optional_names)
        for index, hit in enumerate(self.hits):
            needs = [bool(needed[scope]) for scope in hit.scope if needed.get(scope) is not None]
            if needs:
                cap = Severity.WARNING.at_most(hit.cap)
                quiet = hit.quiet | ALL_TARGETS if any(needs) else hit.quiet
                self.hits[index] = replace(hit, cap=cap, quiet=quiet)

    def _reach_helpers(self, reach: ModuleReach) -> None:
        """Lower the hits inside helpers that only guarded code uses (`reach.py`), once every use is known."""
        regions = reach.regions()
        if not regions:
            return
        imports = self._imports_read_by_helpers(regions)
        for index, hit in enumerate(self.hits):
            for reached in [regions.get(scope) for scope in hit.scope] + [imports.get(id(hit.node))]:
                if reached is not None:
                    cap = reached.cap if hit.cap is None else hit.cap.at_most(reached.cap)
                    hit = replace(hit, quiet=hit.quiet | reached.quiet, cap=cap)
            self.hits[index] = hit

    def _imports_read_by_helpers(self, regions: Mapping[int, Reached]) -> dict[int, Reached]:
        """The module's top-level imports of a library that loads nothing until called (the catalog's
        `[[fails_at_use]]`: `import pynvml`, whose `nvmlInit()` raises without NVIDIA's driver), by
        id, where every top-level statement that reads a name they bind is a helper that only guarded
        code uses (`regions`): the import itself works on every target, and the calls that fail run only
        where those helpers do (a class the project builds only under `--gpu`), so the import is
        judged as they are: what all of them have in common."""
        module = self._module
        if module is None:
            return {}
        statements = (hit.node for hit in self.hits if isinstance(hit.node, ast.stmt))
        bindings = idle_bindings(module, statements, use_failing_modules(self.catalog))
        if not bindings:
            return {}
        read_by = readers(module, frozenset().union(*bindings.values()))
        found: dict[int, Reached] = {}
        for statement, bound in bindings.items():
            reached = common_reach([regions.get(reader) for name in bound for reader in read_by.get(name, ())])
            if reached is not None:
                found[statement] = reached
        return found

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        decorated = decorated_region(node, self.names)
        reach = self._reach
        # In a test module, the values a test is parametrised with (`@given(device=st.just(
        # torch.device("cuda")))`) are only ever handed to it: they share the region its skip
        # markers give its body. Elsewhere a decorator is code of its own (`@triton.jit`).
        region = decorated if self.in_tests else NEUTRAL
        for decorator in node.decorator_list:
            if reach is not None and reach.only_wraps(decorator):
                # `@triton.jit` says what the function is where it runs: its hits are the function's,
                # another path where the project uses the function only under a switch
                self._wrapped = (id(node),)
                try:
                    self._visit_inside(
                        self._switched_region(node), lambda wrapper: self._visit_inside(region, self.visit, wrapper), decorator
                    )
                finally:
                    self._wrapped = ()
            else:
                self._visit_inside(region, self.visit, decorator)
        for parameter, position, default in parameter_defaults(node.args):
            self.within_default(node, self.default_region(node, parameter, position, default), partial(self.visit, default))
        # Annotations are not visited: a type named in one is not code that runs on a device.
        requested = self._reach.requests.get(id(node), NEUTRAL) if self._reach is not None else NEUTRAL
        self.functions.append(node)
        if self._optional_names:
            self._function_nodes[id(node)] = node
        method = method_region(node, id(node) in self._methods)
        entered = self._built.get(id(node), ())
        for region in entered:
            self._context.enter(region)
        try:
            self._visit_inside(self._switched_region(node), lambda _: self._visit_inside(
                requested, lambda _: self._visit_inside(
                    decorated, lambda _: self._visit_inside(
                        method, self._visit_body, node), None), None), None)
        finally:
            for region in reversed(entered):
                self._context.leave(region)
            self.functions.pop()

    def _visit_body(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """A function's body, after recording its requests of the module's fixtures as uses (`reach.py`)."""
        if self._reach is not None:
            self._record_uses(self._reach.requested(node))
        self._visit_block(node.body)

    def _switched_region(self, node: ast.stmt) -> Region:
        """Another path for a definition the project uses only under a switch that is off by default."""
        return ANOTHER_PATH if id(node) in self._switched_ids else NEUTRAL

    def _use(self, node: ast.Name | ast.Attribute) -> None:
        """Record a use of one of the module's helpers in the context the walk is in (`reach.py`)."""
        if self._reach is not None:
            self._record_uses(self._reach.helper(node, self.scope))

    def _record_uses(self, helpers: list[Definition]) -> None:
        """One use of each helper in the context the walk is in."""
        reach = self._reach
        if reach is None:
            return
        for helper in helpers:
            context = self._context
            cap = None if context.in_test else context.cap()  # `if check_gpu():` runs all of `check_gpu`
            reach.use(helper, Use(context.quiet_targets(), cap, context.in_probe, self.scope, self._self_check))

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for child in (*node.decorator_list, *node.bases, *node.keywords):
            self.visit(child)
        self._methods.update(id(item) for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)))
        self._built.update(built_regions(node, self.names))
        opening = self._test_class_regions(node) if self.in_tests else NEUTRAL
        self._classes.append(node)
        try:
            self._visit_inside(self._switched_region(node), lambda _: self._visit_inside(
                decorated_region(node, self.names), lambda _: self._visit_inside(opening, self._visit_block, node.body), None
            ), None)
        finally:
            self._classes.pop()

    def _test_class_regions(self, node: ast.ClassDef) -> Region:
        """The region a test class's set-up leaves its tests in where it opens with a skip, or a
        multi-process test class that spawns no process without CUDA, after giving its per-test set-up
        and tear-down the region its tests' markers share (`test_classes.py`)."""
        gated = gated_tests_region(node, self.names)
        if gated:
            self._enter_methods(node, gated, lambda method: method.name in PER_TEST)
        reach = self._reach
        if self._test_classes is None:
            module = self._module or ast.Module(body=[], type_ignores=[])
            self._test_classes = {statement.name: statement for statement in module.body if isinstance(statement, ast.ClassDef)}
            self._instantiated = instantiated_classes(module, self.names)
        if node.name in self._instantiated and self._test_classes.get(node.name) is node:
            return Region(cuda_guarded=True)
        skip = opening_skip_region(
            node, self.names, reach.skip_check_of if reach is not None else lambda _: None, self._test_classes
        )
        if skip.set_up is not None:  # what the set-up does before its skip runs wherever the class is collected
            set_up = skip.set_up
            self._enter_methods(node, skip.region, lambda method: method is not set_up)
            return NEUTRAL
        return skip.region or spawned_region(node, self.names)

    def _enter_methods(
        self, node: ast.ClassDef, region: Region, chosen: Callable[[ast.FunctionDef | ast.AsyncFunctionDef], bool]
    ) -> None:
        """Have the walk enter `region` in the methods of a class that `chosen` picks."""
        for method in node.body:
            if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and chosen(method):
                self._built[id(method)] = (*self._built.get(id(method), ()), region)

    def visit_Dict(self, node: ast.Dict) -> None:
        """`{"cuda": torch.cuda.synchronize, "xpu": torch.xpu.synchronize}`: each value of a table keyed
        by device type is taken only for its own key's device."""
        for key, value in zip(node.keys, node.values):
            if key is not None:
                self.visit(key)
            self._visit_inside(dispatch_region(key), self.visit, value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def within(self, region: Region, action: Callable[[], None]) -> None:
        """Run `action` (a concern's report) inside `region`."""
        self._visit_inside(region, lambda _: action(), None)

    def within_default(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, region: Region, action: Callable[[], None]
    ) -> None:
        """Run `action` (the walk or a report of a parameter default of `function`) inside `region`, in
        the function's scope: the device a default names is used where the function runs, so the
        region `reach.py` finds for the function (a helper only skipped tests call) is the default's too."""
        outer, self._wrapped = self._wrapped, (id(function),)
        try:
            self._visit_inside(region, lambda _: action(), None)
        finally:
            self._wrapped = outer

    def _new_module_calls(self, module: ast.Module) -> ModuleCalls:
        """The module's calls, read once, with what the rest of the project says of its defaults."""
        return ModuleCalls(module, self.called_elsewhere, self._switched_ids, partial(only_wraps, self.names))

    def default_region(
        self,
        function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
        parameter: str,
        position: int | None,
        default: ast.expr,
    ) -> Region:
        """A default that the module's own calls never take is another path (and where every caller
        is seen and gives a value, never taken: a note), and one nothing reads,
        or only compares, reaches no device (`defaults.py`); only
        defaults naming CUDA or NCCL in a string (`"cuda"`, `"nccl"`) are looked at, the module's
        calls read once, when the first such default is met."""
        if self._module is None or isinstance(function, ast.Lambda) or not _names_cuda_or_nccl(default):
            return NEUTRAL
        if self._module_calls is None:
            self._module_calls = self._new_module_calls(self._module)
        if self._module_calls.default_unread(function, parameter):
            return UNREAD_DEFAULT
        if self._module_calls.default_only_compared(function, parameter, default):
            return ONLY_COMPARED
        if self.named_nowhere and self._module_calls.never_called(function, self.named_nowhere):
            return GIVEN_DEFAULT  # an application's function or class nothing runs: nothing takes its default
        if self._module_calls.default_is_normal_path(function, parameter, position):
            if self._module_calls.default_read_past_marker(function, parameter):
                return ANOTHER_PATH  # used only for inputs written with a marker (`if "[" not in text: return`)
            return self._switched_region(function)  # a switched function's callers are switched too
        if self._module_calls.default_taken_aside(function, parameter, position):
            return ANOTHER_PATH  # only a library's `__main__` block, or a switched definition, leaves it out
        calls = self._module_calls
        given = calls.default_always_given(function) or calls.method_always_given(function, parameter, position)
        return GIVEN_DEFAULT if given else ANOTHER_PATH

    def visit_arg(self, node: ast.arg) -> None:
        """Parameters carry only annotations, which are not visited."""

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        self._visit_inside(display_region(node), self.generic_visit, node)

    def visit_Compare(self, node: ast.Compare) -> None:
        self._comparison_depth += 1
        self.generic_visit(node)
        self._comparison_depth -= 1

    def visit_Attribute(self, node: ast.Attribute) -> None:
        qualified = self.names.resolve(node)
        if qualified is None:
            if self._registers_operator(node):
                return  # `op.register_fake`: registers more of a custom operator, calls nothing of it
            if node.attr in self._helper_names and isinstance(node.ctx, ast.Load):
                self._use(node)
            self.generic_visit(node)
        else:
            for hook in self._name_hooks:
                hook(node, qualified)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            if node.id in self._helper_names:
                self._use(node)
            binding = self.names.binding(node.id)
            if binding is not None:
                for hook in self._name_hooks:
                    hook(node, binding.qualified)

    def _registers_operator(self, node: ast.Attribute) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """For `op.register_autograd`, `op.register_fake` on a module-level function the module makes a
        custom operator of (`@torch.library.custom_op(...)`), a helper of `reach.py`: that function."""
        if node.attr not in OPERATOR_REGISTRATIONS or not isinstance(node.value, ast.Name) or self._reach is None:
            return None
        function = self._reach.functions.get(node.value.id)
        if function is None or not any(
            self.names.resolve(d.func if isinstance(d, ast.Call) else d) in CUSTOM_OP_DECORATORS for d in function.decorator_list
        ):
            return None
        return function

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and (operator := self._registers_operator(node.func)) is not None:
            # `op.register_autograd(backward, setup_context=setup)`: what it is handed runs where the operator does
            outer, self._wrapped = self._wrapped, (id(operator),)
            try:
                self._visit_call(node)
            finally:
                self._wrapped = outer
            if self._reach is not None:
                for argument in (*node.args, *(keyword.value for keyword in node.keywords)):
                    part = self._reach.functions.get(argument.id) if isinstance(argument, ast.Name) else None
                    if part is not None:
                        self._reach.part_of(part, operator)
        else:
            self._visit_call(node)

    def _visit_call(self, node: ast.Call) -> None:
        self._callees[id(node.func)] = node
        qualified = self.names.resolve(node.func)
        if qualified is not None:
            self.called.add(self.catalog.canonical(qualified))
        region = call_region(node, qualified, self.names)
        computed: list[ast.expr | ast.keyword] = []
        if not region:
            region = self._shown_region(node, qualified)
            if region:
                arguments: list[ast.expr | ast.keyword] = [*node.args, *node.keywords]
                computed = [a for a in arguments if self._computes(a)]
        if region:
            self._context.enter(region)
        try:
            for hook in self._call_hooks:
                hook(node, qualified)
            if self._comparison_depth and qualified != "torch.device":
                self._visit_uncompared(node)
            elif self.in_tests and isinstance(node.func, ast.Attribute) and node.func.attr in MOCK_ASSERTIONS:
                self._visit_compared_arguments(node)
            elif computed:
                for part in (node.func, *node.args, *node.keywords):
                    if part not in computed:
                        self.visit(part)
            else:
                self.generic_visit(node)
        finally:
            if region:
                self._context.leave(region)
        for argument in computed:
            self.visit(argument)

    def _computes(self, argument: ast.expr | ast.keyword) -> bool:
        """Whether a statistic's argument calls something to compute its value: the statistic reads 0
        without CUDA whatever device it is handed, but `torch.cuda.current_device()` in
        `torch.cuda.max_memory_reserved(device=torch.cuda.current_device())` still raises there, so
        it keeps its own region. A `torch.device(...)` it is handed only names a device."""
        return any(
            isinstance(n, ast.Call) and self.names.resolve(n.func) != "torch.device"
            for n in subtree(argument.value if isinstance(argument, ast.keyword) else argument)
        )

    def _visit_compared_arguments(self, node: ast.Call) -> None:
        """`module.to.assert_called_with(torch.device("cuda", 1))`: a mock's assertion compares its
        arguments with the calls the mock recorded; the device it is handed is an answer, never used."""
        self.visit(node.func)
        self._comparison_depth += 1
        try:
            for argument in (*node.args, *(keyword.value for keyword in node.keywords)):
                self.visit(argument)
        finally:
            self._comparison_depth -= 1

    def _shown_region(self, node: ast.Call, qualified: str | None) -> Region:
        """Displayed for a statistic whose value is only shown (`shown.py`), with its arguments."""
        if qualified is None or self.catalog.canonical(qualified) not in self._statistics:
            return NEUTRAL
        if self._shown_calls is None:
            self._shown_calls = shown_calls(self._module, self._calls_statistic) if self._module else set()
        return DISPLAYED if id(node) in self._shown_calls else NEUTRAL

    def _calls_statistic(self, call: ast.Call) -> bool:
        return self.catalog.canonical(self.names.resolve(call.func) or "") in self._statistics

    @cached_property
    def _statistics(self) -> frozenset[str]:
        return statistics(self.catalog.tables("statistic"))

    def _visit_uncompared(self, node: ast.Call) -> None:
        """A call's receiver and arguments are not what its comparison compares: in
        `x.to("cuda").sum() == 2` the tensor is moved to CUDA before anything is compared. Only a
        device built to be compared (`t.device == torch.device("cuda")`) stays a comparison."""
        depth, self._comparison_depth = self._comparison_depth, 0
        try:
            self.generic_visit(node)
        finally:
            self._comparison_depth = depth


MOCK_ASSERTIONS = frozenset({
    "assert_called_with", "assert_called_once_with", "assert_any_call", "assert_has_calls",
    "assert_awaited_with", "assert_awaited_once_with", "assert_any_await", "assert_has_awaits",
})
"""`unittest.mock`'s assertions about the calls a mock recorded (https://docs.python.org/3/library/unittest.mock.html)."""
_TRUTH_TESTS = (ast.Compare, ast.BoolOp, ast.UnaryOp)
_GPU_PROBES = frozenset({Probe.CUDA, Probe.NVIDIA, Probe.ROCM, Probe.OTHER_DEVICE})
"""What a local flag may test to hold its test: which GPU or device runs the code. A flag that tests
for the CPU (`is_cpu_tensor = data.device.type == "cpu"`, then `.to(torch.cuda.current_device())`
under it) tests the data, not the machine: a CPU-only machine takes that branch."""


def _child_fields(node_class: type[ast.AST]) -> tuple[str, ...]:
    """The fields of a node class that may hold nodes to visit (`_CHILD_FIELDS`)."""
    fields = _CHILD_FIELDS.get(node_class)
    if fields is None:
        fields = _CHILD_FIELDS[node_class] = tuple(name for name in node_class._fields if name not in _SCALAR_FIELDS)
    return fields


def local_flags(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Module) -> dict[str, ast.expr]:
    """The local names `function` binds exactly once, by a plain assignment of a comparison, a `not`
    or an `and`/`or` (`sync = step == 1 and self.device == "cuda"`), or of a probe's call (`n =
    torch.cuda.device_count()`, `_is_probe_call`), with that value; not its
    parameters, nor names it declares global or nonlocal (its nested scopes' names are their own).
    For a module, the names of its top level, less those a function of it declares global."""
    values: dict[str, ast.expr] = {}
    bound: dict[str, int] = {}
    if isinstance(function, ast.Module):
        bound.update((name, 2) for node in subtree(function) if isinstance(node, ast.Global) for name in node.names)
    else:
        for parameter in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs):
            bound[parameter.arg] = 2
    stack: list[Any] = list(function.body)
    while stack:
        node = stack.pop()
        kind = node.__class__
        if kind is ast.Name:
            if node.ctx.__class__ is not ast.Load:
                bound[node.id] = bound.get(node.id, 0) + 1
            continue  # nothing below a name binds
        if kind is ast.Global or kind is ast.Nonlocal:
            for declared in node.names:
                bound[declared] = 2
        elif (
            kind is ast.Assign
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and (isinstance(node.value, _TRUTH_TESTS) or _is_probe_call(node.value))
        ):
            values[node.targets[0].id] = node.value
        if kind in _NESTED_SCOPES:
            if kind is not ast.Lambda:
                bound[node.name] = bound.get(node.name, 0) + 1
            continue  # a nested scope's names are its own
        # The nodes below, without leaves (`_child_fields`), written out: `ast.iter_child_nodes` and
        # its generators were most of this reading's cost, which runs for every function with an `if`
        # on a bare name.
        for name in _child_fields(kind):
            value = getattr(node, name, None)
            if isinstance(value, list):
                stack.extend([item for item in value if isinstance(item, ast.AST) and not isinstance(item, _LEAVES)])
            elif isinstance(value, ast.AST) and not isinstance(value, _LEAVES):
                stack.append(value)
    return {name: value for name, value in values.items() if bound.get(name) == 1}


def device_flags(scope: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef, names: ImportTable) -> dict[str, ast.expr]:
    """The flags of a module's top level or a function (`local_flags`) that hold a test of which GPU
    or device runs (`_GPU_PROBES`): `use_cuda = torch.version.cuda is not None and CUDA_HOME is not None`."""
    return {
        name: value for name, value in local_flags(scope).items()
        if tests_the_device(probes_in(value, names))
    }


def tests_the_device(probes: set[Probe] | frozenset[Probe]) -> bool:
    """Whether a flag's value tests which GPU or device runs (`_GPU_PROBES`), alone or beside a
    switch that is off by default (`enabled = PROFILE and torch.cuda.is_available()`): the branch it
    guards is then both the device's and another path."""
    device = set(probes) - {Probe.OFF_BY_DEFAULT}
    return bool(device) and device <= _GPU_PROBES


def _is_probe_call(value: ast.expr) -> bool:
    """`torch.cuda.is_available()`, `torch.cuda.device_count()`: a call without arguments of an `is_...`
    predicate or a count of devices, whose value a local name may keep for a later test."""
    if not (isinstance(value, ast.Call) and not value.args and not value.keywords):
        return False
    name = final_name(value.func) or ""
    return name.startswith("is_") or name.endswith("_count")


_NESTED_SCOPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda})
_CPU_PROBE = frozenset({Probe.CPU})


def _is_self_attribute(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"


def _class_flags(owner: ast.ClassDef) -> dict[str, tuple[ast.expr, int]]:
    """The attributes a class assigns, in one of its methods, a comparison, a `not`, an `and`/`or` of
    them or a predicate (`self.graphs = x.is_cuda and replay`, `self.graphs = x.is_cuda`), or True in
    one arm of an `if` and False in the other (`if n > limit and x.is_cuda: self.offload = True` /
    `else: self.offload = False`, the `if`'s test or its negation), with that value and the stores
    it takes: the only value the attribute holds where the module stores the attribute's name
    nowhere else (`nodes.attribute_stores`: another store, `runner.graphs = True` or a second
    `self.graphs = ...`, and it holds no known test). A subclass or a caller in another module that
    sets it is not seen."""
    values: dict[str, tuple[ast.expr, int]] = {}
    for method in owner.body:
        if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in statements(method):
                if isinstance(node, ast.If) and (chosen := _chosen_flag(node)) is not None:
                    values[chosen[0]] = (chosen[1], 2)
                if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
                    continue
                target = node.targets[0]
                if (
                    isinstance(target, ast.Attribute)
                    and _is_self_attribute(target)
                    and (isinstance(node.value, _TRUTH_TESTS) or _is_predicate(node.value))
                ):
                    values[target.attr] = (node.value, 1)
    return values


def _chosen_flag(node: ast.If) -> tuple[str, ast.expr] | None:
    """(attribute, the test it holds) for `if T: self.x = True` / `else: self.x = False` (T), or the
    arms the other way round (`not T`); None for any other `if`."""
    arms = [_stored_truth(node.body), _stored_truth(node.orelse)]
    if arms[0] is None or arms[1] is None or arms[0][0] != arms[1][0] or arms[0][1] is arms[1][1]:
        return None
    test = node.test if arms[0][1] else ast.copy_location(ast.UnaryOp(ast.Not(), node.test), node.test)
    return arms[0][0], test


def _stored_truth(block: list[ast.stmt]) -> tuple[str, bool] | None:
    """(attribute, value) for a block that is one `self.x = True` or `self.x = False`."""
    if len(block) != 1 or not isinstance(block[0], ast.Assign) or len(block[0].targets) != 1:
        return None
    target, value = block[0].targets[0], block[0].value
    if not (isinstance(target, ast.Attribute) and _is_self_attribute(target)):
        return None
    return (target.attr, value.value) if isinstance(value, ast.Constant) and type(value.value) is bool else None


def _is_predicate(value: ast.expr) -> bool:
    """`x.is_cuda`, `torch.cuda.is_available()`: an attribute or a call named `is_...`, a truth value."""
    node = value.func if isinstance(value, ast.Call) else value
    return isinstance(node, (ast.Attribute, ast.Name)) and (final_name(node) or "").startswith("is_")
