"""Top-level functions nothing in the project names: code that runs on no target.

A function runs only where something calls it. One whose name appears nowhere (its only call
commented out, a helper left behind after a rewrite) runs nowhere, whatever it does with CUDA:
what is found in it is no lock-in. Only a name nothing could reach is read so:

- a private function (`_name`) of any module, where no other module of the scan mentions the name
  (`callers.uses_elsewhere`, through the project index: a scan that sees the whole project; a
  mention in a test, a comment or a string there keeps it), nor does its own module outside its own
  body (a mention in a string counts: `getattr(module, "_name")`, `__all__`; so does a second
  binding of the name);
- any function of a script nothing imports and no package holds (`main_block.py`): running the file
  is all that calls it, but for the names a test runner calls itself (pytest's hooks anywhere,
  `test*` functions in the files it collects);
- a public function of a module outside every package that other modules import by name (`from
  train import get_model`, where a recipe's export script borrows the training script's model
  builder) or whole with only attribute reads (`import train`, then `train.get_model()`), that none of
  them takes: no package makes it an API, and its own folder's scripts are all that import the
  module (`FileFacts.loose_module`);
- a public function or class of a module no install makes an API (outside every package, or in a
  package with no build declaration at or above it, or with only a vendored package's below an
  undeclared project top) that the project's modules import only by name,
  where none of them takes it and no other file spells it (`FileFacts.taken_names`: `from utils.loss
  import ComputeLoss` leaves `APLoss` behind): the methods of such a class run nowhere either;
- in such a module, a method of a class with no base class that no other file spells
  (`candidate_methods`) and its own module spells nowhere outside its own body and its strings
  that span lines (a docstring's example, `>>> pipe.enable_model_cpu_offload()`): a helper left
  behind on a model class (`uncalled_methods`); and so is a method of a class whose base is a
  library's where the library only defines that name for its users to call (the catalog's
  `[[user_method]]` tables: a pipeline copied from diffusers keeps a copy of
  `enable_model_cpu_offload`, which `DiffusionPipeline` itself never calls first): an outside base
  calls only the names it defines, and this one it leaves to the project. A method a library call reaches
  by its name, in a class of any base (the catalog's `[[dispatched_method]]`, `library_dispatch.py`:
  `set_use_memory_efficient_attention_xformers`), runs only where the project spells it or that call.

A public function of a package is its API, whose callers are outside the tree: it keeps its
verdicts. So does every function under a decorator that may register or call it, and every function of a module that reaches its own names at run time
(`globals()[name]`, `getattr(sys.modules[__name__], name)`, a module `__getattr__`, `fire.Fire()`
with no component). A function that only such unused functions name is unused too, and so is one
under decorators that only wrap it (`@triton.jit`, `@functools.lru_cache()`; not a custom
operator's, which `torch.ops` calls by the operator's name: `reach.ModuleReach.calls_by_name_only`),
which runs only where it is called or launched: a work-in-progress kernel whose one launcher nothing
calls (`_kernel_wip[grid](...)` in `_launch_wip`) runs nowhere. What runs is read as what is
reached from the module's other statements, so functions that only name each other (a builder that
spells its own name in a source file's name, `"blur.cu"`, beside the `_init()` it calls) run nowhere;
a docstring names nothing (`A slow reference of `blur()`.`), and a class under a decorator that only
wraps it (`@persistent_class`, not a registry's `@MODELS.register_module()`: `wraps_class`) is read
as an undecorated one.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Callable, Collection, Mapping

from cudaudit.rules.catalog import Catalog
from cudaudit.rules.python.library_dispatch import Dispatched

_RUNS_BY_NAME = re.compile(r"\b(?:globals|locals)\(|\bvars\(\s*\)|\bFire\(\s*\)|\bsys\.modules\[\s*__name__\s*\]|^def[ \t]+__getattr__\b", re.M)
"""Ways a module reaches its own functions without spelling their names: `globals()[name]()`, `vars()`
(not `vars(args)`, an object's attributes),
`getattr(sys.modules[__name__], name)`, a module-level `__getattr__`, and `fire.Fire()` with no
component, which makes every top-level function a command."""
_RUNS_BY_NAME_WORDS = ("globals(", "vars(", "locals(", "Fire(", "sys.modules[", "__getattr__")
"""A piece each of `_RUNS_BY_NAME`'s ways spells: most modules hold none, and a pattern that starts
with `\\b` is tried at every character of a module that does not."""

_CALLED_BY_CONVENTION = re.compile(r"test|setup_|teardown_|load_tests$")
"""Public names a test runner calls without a test module spelling them: pytest collects `test*`
functions and calls `setup_module`/`teardown_function`-style fixtures, unittest calls `load_tests`
(https://docs.pytest.org/en/stable/how-to/xunit_setup.html); only in the files it collects
(`test_*.py`, `*_test.py`: a `def test():` in an export script is no test)."""
_HOOK_PREFIX = "pytest_"
"""pytest's hooks (`pytest_addoption`), which a plugin or `conftest.py` anywhere may define."""
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def wraps_class(decorator: ast.expr) -> bool:
    """Whether a class decorator leaves the class reached only where its name is: a bare name or
    attribute (`@dataclass`, `@persistence.persistent_class`) that does not spell a registry
    (`register`); a call (`@MODELS.register_module()`, `@model("unet")`) may file the class under a
    key a configuration builds it by."""
    return isinstance(decorator, (ast.Name, ast.Attribute)) and "regist" not in ast.unparse(decorator).lower()


def runs_by_name(text: str) -> bool:
    """Whether the module may call a function it never names (`_RUNS_BY_NAME`)."""
    return any(word in text for word in _RUNS_BY_NAME_WORDS) and _RUNS_BY_NAME.search(text) is not None


def mentions(module: ast.Module, text: str, names: Collection[str], documents: Collection[int] | None = None) -> dict[str, set[int]]:
    """For each of `names`, the top-level statements of `module` (whose source is `text`) whose lines
    spell it as a word outside a comment and a docstring, by id (-1 for a line outside every statement: a
    decorator's, or a comment's). A mention in another string counts: the name may be looked up by it."""
    owners: dict[str, set[int]] = {name: set() for name in names}
    if not names:
        return owners
    starts = [statement.lineno for statement in module.body]
    documents = docstring_lines(module) if documents is None else documents
    number, counted = 1, 0
    for word in re.finditer(r"\b(?:" + "|".join(map(re.escape, sorted(names))) + r")\b", text):
        number += text.count("\n", counted, word.start())
        counted = word.start()
        before = text[text.rfind("\n", 0, word.start()) + 1 : word.start()]
        if "#" in before and not any(quote in before for quote in "'\""):
            continue  # in a comment (`# rebuild_cache()`): no call
        if number in documents:
            continue  # in a docstring (`Reference implementation of `blur()`.`): no call either
        at = bisect.bisect_right(starts, number) - 1
        owner = module.body[at] if at >= 0 else None
        inside = owner is not None and number <= (owner.end_lineno or owner.lineno)
        owners[word.group()].add(id(owner) if inside else -1)
    return owners


def docstring_lines(module: ast.Module) -> set[int]:
    """The lines of the module's docstrings: its own, its classes' and its functions' and methods', at
    any depth (the first statement of a body, a string alone)."""
    lines: set[int] = set()
    bodies: list[tuple[list[ast.stmt], bool]] = [(module.body, True)]
    while bodies:  # statements only: no expression holds a definition
        body, documented = bodies.pop()
        first = body[0] if body and documented else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
        for statement in body:
            opens = isinstance(statement, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            bodies.extend(
                (inner, opens and field == "body") for field in ("body", "orelse", "finalbody")
                if isinstance(inner := getattr(statement, field, None), list) and inner
            )
            bodies.extend((handler.body, False) for handler in getattr(statement, "handlers", ()))
            bodies.extend((case.body, False) for case in getattr(statement, "cases", ()))
    return lines


def _by_convention(name: str, in_tests: bool) -> bool:
    """Whether a test runner calls `name` without the module spelling it (`_CALLED_BY_CONVENTION`, `_HOOK_PREFIX`)."""
    return name.startswith(_HOOK_PREFIX) or (in_tests and _CALLED_BY_CONVENTION.match(name) is not None)


def never_called(
    module: ast.Module,
    text: str,
    wanted: Collection[int],
    script: bool,
    elsewhere: Mapping[str, object],
    only_wraps: Callable[[ast.expr], bool] = lambda decorator: False,
    imported: Collection[str] | None = None,
    in_tests: bool = True,
    documents: Collection[int] | None = None,
) -> frozenset[int]:
    """The ids of the top-level functions of `wanted` (ids of the module's top-level functions and
    classes: those that hold what may be reported) that nothing names (see the module docstring); a
    class counts only where the module's importers take names (`imported`). `script`: the
    module is a script nothing imports and no package holds; `elsewhere`: `reach.Elsewhere`, where a
    name's value is `()` when no other module mentions it; `only_wraps`: whether a decorator leaves
    the function running only where its name is called; `imported`: for a module outside every
    package that its folder's scripts import only by name, the names they import; `in_tests`: the
    module is one a test runner collects, whose `test*` functions it calls; `documents`: the module's
    `docstring_lines`, where the caller keeps them."""
    functions: dict[str, FunctionNode | ast.ClassDef] = {
        statement.name: statement for statement in module.body
        if (
            isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
            and all(only_wraps(decorator) for decorator in statement.decorator_list)
            and statement.name.strip("_")
            and not statement.name.startswith("__")
            and (
                ((script or (imported is not None and statement.name not in imported)) and not _by_convention(statement.name, in_tests))
                or (statement.name.startswith("_") and elsewhere.get(statement.name, None) == ())
            )
        ) or (
            isinstance(statement, ast.ClassDef) and all(map(wraps_class, statement.decorator_list))
            and imported is not None and statement.name not in imported
        )
    }
    if not any(id(function) in wanted for function in functions.values()) or runs_by_name(text):
        return frozenset()
    owners = mentions(module, text, functions, documents)
    candidates = {id(function) for function in functions.values()}
    live = {id(function) for name, function in functions.items() if owners[name] - {id(function)} - candidates}
    grown = True
    while grown:  # reached from what runs: functions that only name each other run nowhere
        grown = False
        for name, function in functions.items():
            if id(function) not in live and (owners[name] - {id(function)}) & live:
                live.add(id(function))
                grown = True
    return frozenset(candidates - live)


UserMethods = Mapping[str, frozenset[str]]
"""Library (its top-level package) -> the methods its base classes define only for their users to call
(`user_methods`)."""


def user_methods(catalog: Catalog) -> dict[str, frozenset[str]]:
    """The catalog's `[[user_method]]` tables: library -> the methods its base classes leave to their
    users (they call them only after a user did, if ever)."""
    found: dict[str, frozenset[str]] = {}
    for _, tables in catalog.tables("user_method"):
        for table in tables:
            found[table["package"]] = found.get(table["package"], frozenset()) | frozenset(table["methods"])
    return found


def uncalled_methods(
    module: ast.Module, text: str, taken: Collection[str], users: UserMethods | None = None, dispatched: Dispatched | None = None,
) -> frozenset[int]:
    """The ids of the `taken_names.candidate_methods` of `module` (whose source is `text`; `users`:
    `user_methods`; `dispatched`: `library_dispatch.dispatched_methods`) that the project does not take
    (`taken`: `FileFacts.taken_names`, with `Class.method` for each one another file spells) and that the
    module spells nowhere outside the method's own lines, its comments and its strings that span lines,
    neither by its name nor by a library entry that calls it by that name."""
    if runs_by_name(text):
        return frozenset()
    lines = text.splitlines()
    prose: set[int] | None = None
    dead: set[int] = set()
    for cls, methods in candidate_methods(module, users, dispatched):
        for method in methods:
            if f"{cls.name}.{method.name}" in taken:
                continue
            if prose is None:
                prose = _long_string_lines(module)
            spellings = sorted({method.name, *(dispatched or {}).get(method.name, ())})
            word = re.compile(r"\b(?:" + "|".join(map(re.escape, spellings)) + r")\b")
            outside = (
                line for number, line in enumerate(lines, 1)
                if not method.lineno <= number <= (method.end_lineno or method.lineno) and number not in prose
            )
            if not any(word.search(line.split("#", 1)[0] if "'" not in line and '"' not in line else line) for line in outside):
                dead.add(id(method))
    return frozenset(dead)


def _long_string_lines(module: ast.Module) -> set[int]:
    """The lines of the module's strings that span lines (docstrings, an example kept in a constant):
    prose, where a name calls nothing."""
    lines: set[int] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and (node.end_lineno or node.lineno) > node.lineno:
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def candidate_methods(
    tree: ast.Module, users: UserMethods | None = None, dispatched: Dispatched | None = None
) -> list[tuple[ast.ClassDef, list[ast.FunctionDef | ast.AsyncFunctionDef]]]:
    """The top-level classes with no base class, keyword or decorator, not named as a mixin, each with
    its undecorated methods that are no dunders: only the project can call them, by their names; and
    the classes with a base the module imports from a library of `users` (`user_methods`), each with
    its undecorated methods that library leaves to its users, or that a library entry of `dispatched`
    calls by name (`library_dispatch.py`: what else a base calls of a subclass is not known, but a
    method the entry reaches runs where the project calls it or the entry)."""
    found = []
    libraries = imported_from(tree, users) if users else {}
    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef) or cls.decorator_list or cls.keywords or cls.name.endswith("Mixin"):
            continue
        if any(not (isinstance(base, ast.Name) and base.id == "object") for base in cls.bases):
            left = frozenset().union(*(
                (users or {}).get(libraries.get(ast.unparse(base).partition(".")[0], ""), frozenset()) for base in cls.bases
            ))
            methods = [
                method for method in cls.body
                if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and not method.decorator_list
                and (method.name in left or method.name in (dispatched or {}))
            ]
        else:
            methods = [
                method for method in cls.body
                if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef))
                and not method.decorator_list and not (method.name.startswith("__") and method.name.endswith("__"))
            ]
        if methods:
            found.append((cls, methods))
    return found


def imported_from(tree: ast.Module, users: UserMethods) -> dict[str, str]:
    """The names the module's top-level imports bind to a library of `users`, with that library:
    `from diffusers.pipelines import DiffusionPipeline` binds `DiffusionPipeline`, `import diffusers`
    binds `diffusers`."""
    bound: dict[str, str] = {}
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and not statement.level and statement.module:
            library = statement.module.partition(".")[0]
            if library in users:
                bound.update((alias.asname or alias.name, library) for alias in statement.names)
        elif isinstance(statement, ast.Import):
            for alias in statement.names:
                library = alias.name.partition(".")[0]
                if library in users:
                    bound[alias.asname or library] = library
    return bound
