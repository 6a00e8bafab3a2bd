"""The project's functions and classes that replace a CUDA device they are given with the CPU
where CUDA is unavailable, and the calls that hand them one.

A library's entry point often chooses the device itself: `Recognizer(model, device="cuda:0")`
whose constructor does `if not torch.cuda.is_available(): device = "cpu"`, or
`device = device if torch.cuda.is_available() else "cpu"`. A demo, a test or a server that
hands it `"cuda:0"` then runs on a machine without CUDA, on the CPU: the string breaks nothing
there, and on ROCm PyTorch answers `torch.cuda.is_available()` for the AMD GPU. Such a string is
reported as a note at most (`regions.HANDED_TO_FALLBACK`), and so is a setting (`device =
"cuda:0"`, `add_argument("--device", default="cuda")`) whose every read is such an argument or
only shown.

Three readings:

- `device_fallbacks`, per module (the index keeps it with the file's digest): its top-level
  functions, and classes through their `__init__`, with the parameters each replaces with a CPU
  device under a test of `cuda.is_available()`: a parameter of its own, or a key of its `**kwargs`
  read out (`device = kwargs.get("device", "cuda")`), in its body or in a method of the class it
  hands its `**kwargs` on to (`self.build(**kwargs)`);
- `handed_to_fallbacks`, once per scan: for each module, the names it imports from the module that
  defines them (or a package above it, `project_calls.importers`), and the module's own, with
  their parameters;
- `FallbackCalls`, in the module's walk: whether a keyword of a call is such a parameter, and
  whether every read of a setting is one.

A name imported under another name, or called through its module (`pkg.Recognizer(...)`), is not
followed; nor is a device handed on through a dict (`Recognizer(**options)`): those keep their
verdicts.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.firstparty import module_map
from cudaudit.rules.python.names import dotted_name
from cudaudit.rules.python.nodes import Parents, subtree
from cudaudit.rules.python.project_calls import importers
from cudaudit.rules.python.shown import SHOWING_METHODS, SHOWN_BY
from cudaudit.source import decode_python, read_tree

Fallbacks = tuple[tuple[str, tuple[str, ...]], ...]
"""(name, the parameters it replaces with the CPU where CUDA is unavailable), sorted."""

_AVAILABILITY = "cuda.is_available"
_CPU = "cpu"
_CPU_CHOICE = re.compile(
    rb"""^[ \t]+[\w.]+(?:\[[^\]\n]*\])?[ \t]*=(?!=)(?:[^\n]*\belse)?[ \t]*(?:torch\.device\([ \t]*)?["']cpu["'][ \t]*\)?[ \t]*(?:#[^\n]*)?$""",
    re.M,
)
"""An indented assignment whose line ends by choosing the CPU (`device = "cpu"`, `device = device
if torch.cuda.is_available() else torch.device("cpu")`)."""
_WINDOW = 800
"""How far from an availability test (in bytes, either way) a CPU choice is looked for."""
_FORWARD_DEPTH = 2
"""How many methods a constructor's `**kwargs` may be handed on through (`__init__` to `build`)."""


def device_fallbacks(path: str, data: bytes) -> Fallbacks:
    """The module's top-level functions and classes that fall back to the CPU for a device
    parameter (see the module docstring); none for a module that does not parse (its own
    analysis reports it)."""
    if not _near_a_test(data):
        return ()
    try:
        tree = read_tree(decode_python(data), filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    found: list[tuple[str, tuple[str, ...]]] = []
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            replaced = _replaced(statement, {}, "", _FORWARD_DEPTH)
        elif isinstance(statement, ast.ClassDef):
            methods = {
                node.name: node for node in statement.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            }
            init = methods.get("__init__")
            replaced = _replaced(init, methods, statement.name, _FORWARD_DEPTH) if init is not None else set()
        else:
            continue
        if replaced:
            found.append((statement.name, tuple(sorted(replaced))))
    return tuple(found)


def _near_a_test(data: bytes) -> bool:
    """Whether a CPU choice (`_CPU_CHOICE`) sits near a `cuda.is_available` test: only such a module is parsed."""
    at = data.find(_AVAILABILITY.encode())
    while at >= 0:
        if _CPU_CHOICE.search(data, max(0, at - _WINDOW), at + _WINDOW) is not None:
            return True
        at = data.find(_AVAILABILITY.encode(), at + _WINDOW)
    return False


def _replaced(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    methods: Mapping[str, ast.FunctionDef | ast.AsyncFunctionDef],
    owner: str,
    depth: int,
) -> set[str]:
    """The parameters (by the keyword a caller passes) that `function` replaces with the CPU under
    an availability test, itself or in a method of `owner` it hands its `**kwargs` to."""
    arguments = function.args
    spread = arguments.kwarg.arg if arguments.kwarg is not None else None
    holders = {arg.arg: arg.arg for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}
    """Local name -> the keyword whose value it holds: a parameter, or a key read out of `**kwargs`."""
    if spread is not None:
        for node in subtree(function):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                key = _spread_key(node.value, spread)
                if key is not None:
                    holders[node.targets[0].id] = key
    replaced: set[str] = set()
    unset = _when_unset(function, holders)
    for node in subtree(function):
        if id(node) in unset:
            continue
        if isinstance(node, ast.If) and _tests_availability(node.test):
            replaced.update(
                holders[name] for part in (*node.body, *node.orelse) for name in _set_to_cpu(part) if name in holders
            )
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.IfExp) and _falls_back(node.value):
            kept = node.value.body if _is_cpu(node.value.orelse) else node.value.orelse
            given = [kept.id] if isinstance(kept, ast.Name) else []  # `device if ... else "cpu"`
            for name in (*_target_names(node.targets), *given):
                if name in holders:
                    replaced.add(holders[name])
        elif spread is not None and depth > 0 and isinstance(node, ast.Call):
            method = _forwarded_to(node, spread, methods, owner)
            if method is not None:
                replaced |= _replaced(method, methods, owner, depth - 1)
    return replaced


def _when_unset(function: ast.FunctionDef | ast.AsyncFunctionDef, holders: Mapping[str, str]) -> set[int]:
    """The ids of the nodes that run only where a caller gave no device: the body of `if device is
    None:` (or `if not device:`). A device chosen there stands in for a missing one; a device the
    caller gives is used as given (`if device is None: device = "cuda" if ... else "cpu"`, `if device
    is None and not torch.cuda.is_available(): device = "cpu"`)."""
    found: set[int] = set()
    for node in subtree(function):
        if isinstance(node, ast.If) and _tests_unset(node.test, holders):
            found.add(id(node))
            found.update(id(inner) for part in node.body for inner in subtree(part))
    return found


def _tests_unset(test: ast.expr, holders: Mapping[str, str]) -> bool:
    """Whether `test` holds only where a holder is unset (`device is None and not ...`)."""
    if isinstance(test, ast.BoolOp):
        tested = [_tests_unset(value, holders) for value in test.values]
        return any(tested) if isinstance(test.op, ast.And) else all(tested)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return isinstance(test.operand, ast.Name) and test.operand.id in holders
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id in holders
        and isinstance(test.ops[0], (ast.Is, ast.Eq))
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    )


def _spread_key(value: ast.expr, spread: str) -> str | None:
    """`kwargs.get("device", ...)` or `kwargs["device"]`: the key read out of `**kwargs`."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "get":
        holder, key = value.func.value, value.args[0] if value.args else None
    elif isinstance(value, ast.Subscript):
        holder, key = value.value, value.slice
    else:
        return None
    if isinstance(holder, ast.Name) and holder.id == spread and isinstance(key, ast.Constant) and isinstance(key.value, str):
        return key.value
    return None


def _tests_availability(test: ast.expr) -> bool:
    return any(
        isinstance(node, ast.Call) and dotted_name(node.func).endswith(_AVAILABILITY) for node in subtree(test)
    )


def _is_cpu(value: ast.expr) -> bool:
    """`"cpu"` or `torch.device("cpu")`."""
    if isinstance(value, ast.Call) and dotted_name(value.func).endswith("device") and len(value.args) == 1:
        value = value.args[0]
    return isinstance(value, ast.Constant) and value.value == _CPU


def _falls_back(choice: ast.IfExp) -> bool:
    """`x if torch.cuda.is_available() else "cpu"` (either way round)."""
    return _tests_availability(choice.test) and (_is_cpu(choice.body) or _is_cpu(choice.orelse))


def _set_to_cpu(statement: ast.stmt) -> list[str]:
    """The names (and `**kwargs` keys) a statement sets to the CPU: `device = "cpu"`."""
    return [
        name
        for node in subtree(statement)
        if isinstance(node, ast.Assign) and _is_cpu(node.value)
        for name in _target_names(node.targets)
    ]


def _target_names(targets: Iterable[ast.expr]) -> list[str]:
    return [target.id for target in targets if isinstance(target, ast.Name)]


def _forwarded_to(
    call: ast.Call, spread: str, methods: Mapping[str, ast.FunctionDef | ast.AsyncFunctionDef], owner: str
) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The method of the class that `self.build(**kwargs)` (or `Owner.build(**kwargs)`) hands the
    constructor's `**kwargs` to."""
    if not any(keyword.arg is None and isinstance(keyword.value, ast.Name) and keyword.value.id == spread
               for keyword in call.keywords):
        return None
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls", owner)):
        return None
    return methods.get(func.attr) if func.attr != "__init__" else None


def handed_to_fallbacks(
    sources: Mapping[str, Callable[[], bytes]],
    fallbacks: Mapping[str, Fallbacks],
    imports: Mapping[str, tuple[tuple[int, str, str], ...]],
) -> dict[str, Fallbacks]:
    """Module's display path -> the names of `fallbacks` (display path -> `device_fallbacks`) it
    defines or imports from their module, with their parameters."""
    if not fallbacks:
        return {}
    parameters = {(path, name): params for path, found in fallbacks.items() for name, params in found}
    defined = {path: [name for name, _ in found] for path, found in fallbacks.items()}
    result: dict[str, dict[str, set[str]]] = {
        path: {name: set(params) for name, params in found} for path, found in fallbacks.items()
    }
    for path, reached in importers(module_map(sources), defined, imports).items():
        own = result.setdefault(path, {})
        for name, owners in reached.items():
            for owner in owners:
                own.setdefault(name, set()).update(parameters[(owner, name)])
    return {
        path: tuple(sorted((name, tuple(sorted(params))) for name, params in names.items()))
        for path, names in result.items()
    }


class FallbackCalls:
    """The calls of a module that hand a device to a callee that falls back to the CPU itself."""

    def __init__(self, module: ast.Module, fallbacks: Mapping[str, frozenset[str]]) -> None:
        self._module = module
        self._fallbacks = fallbacks
        self._parents: Parents | None = None

    def __bool__(self) -> bool:
        return bool(self._fallbacks)

    def takes(self, call: ast.Call, keyword: str | None) -> bool:
        """Whether `keyword` of `call` is a parameter its callee replaces with the CPU without CUDA."""
        func = call.func
        return isinstance(func, ast.Name) and keyword in self._fallbacks.get(func.id, ())

    def only_handed_on(self, name: str, attribute: bool) -> bool:
        """Whether every read of the setting `name` (a variable, or with `attribute` an attribute
        such as an option's `args.device`) anywhere in the module is handed to such a parameter or
        only shown, and there is at least one."""
        if not self._fallbacks:
            return False
        if self._parents is None:
            self._parents = Parents(self._module)
        parents = self._parents
        if attribute:
            reads: list[ast.expr] = [
                node for node in subtree(self._module)
                if isinstance(node, ast.Attribute) and node.attr == name and isinstance(node.ctx, ast.Load)
            ]
        else:
            reads = list(parents.reads(name))
        return bool(reads) and all(self._handed(read, parents) or _displayed(read, parents) for read in reads)

    def _handed(self, read: ast.expr, parents: Parents) -> bool:
        keyword = parents.parent(read)
        call = parents.parent(keyword) if isinstance(keyword, ast.keyword) else None
        return isinstance(keyword, ast.keyword) and isinstance(call, ast.Call) and self.takes(call, keyword.arg)


def _displayed(read: ast.expr, parents: Parents) -> bool:
    """A read that is only written out: an f-string's field, an argument of `print` or a logger."""
    parent = parents.parent(read)
    if isinstance(parent, ast.FormattedValue):
        return True
    if isinstance(parent, ast.keyword):
        parent = parents.parent(parent)
    if not isinstance(parent, ast.Call) or parent.func is read:
        return False
    func = parent.func
    if isinstance(func, ast.Name):
        return func.id in SHOWN_BY
    return isinstance(func, ast.Attribute) and func.attr in SHOWING_METHODS
