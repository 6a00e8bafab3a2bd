"""Attributes an object turns off where its device is not the one its code needs.

A tool that works only on CUDA often checks the device once, where it is set up, and keeps the
answer in a flag its later methods test:

    class MemoryTrace:
        def __init__(self):
            self._enabled = True

        def init(self, model):
            if next(model.parameters()).device.type != "cuda":
                warnings.warn("needs a CUDA model")
                self._enabled = False

        def step(self):
            if not self._enabled:
                return
            torch.cuda.synchronize()

The flag starts True and becomes False under a test that holds off the GPU: wherever it is still
True, that test failed, so `if self._enabled:` holds only where the negation of the test holds. That
is so after the store in the method that makes it (the statements below it), and in every other
method only where that method runs before them: the constructor, or a set-up method a framework
calls first (`init`, `setup`: `_SET_UP`); a method called before it would still see True.

A test that keeps the flag on for the meta device too (`not in ("cuda", "meta")`, for a model whose
initialisation is deferred) guards only the GPU's share: a meta model may be materialised on the CPU
later, so what the flag guards is another path there (at most a warning), never quiet.

Read only where the flag is nothing but that switch: every store of the attribute's name in the
module is a store of `True` or `False` on `self` in the class, `True` only in the constructor (or
the class body), and one `False` at least is stored under such a test in a set-up method. A flag set
from a parameter, turned back on later or stored from outside is not read.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cudaudit.rules.python.nodes import statements

_SET_UP = frozenset({"__init__", "__post_init__", "init", "setup", "_setup", "on_init", "on_setup"})
"""Methods that set an object up before its other methods run: the constructor, and the set-up hooks
callback frameworks call first (Lightning's `Callback.setup`,
https://lightning.ai/docs/pytorch/stable/api/lightning.pytorch.callbacks.Callback.html; Composer's
`Callback.init` on `Event.INIT`, https://docs.mosaicml.com/projects/composer/en/stable/api_reference/generated/composer.Callback.html)."""


@dataclass(frozen=True)
class DisabledFlag:
    """What a flag holds where it is True: the negation of the test its set-up method turned it off
    under (`holds`), and that method, after whose store the flag may be read in it."""

    holds: ast.expr
    method: ast.FunctionDef | ast.AsyncFunctionDef
    store: ast.Assign
    meta: bool = False
    """The test kept the flag on for the meta device too (`not in ("cuda", "meta")`): a model built there
    (deferred initialisation) may later run on the CPU, another path, so what the flag guards is at most
    a warning there, not quiet."""


def disabled_flags(
    owner: ast.ClassDef, holds_device: Callable[[ast.expr], bool], module_stores: Callable[[], Mapping[str, int]]
) -> dict[str, DisabledFlag]:
    """The attributes of `owner` that are a switch its set-up turns off off the GPU (see the module
    docstring), by name; `holds_device` says whether a test's true branch runs only off a CPU-only
    machine, `module_stores` how many times the module stores each attribute name."""
    stores: dict[str, list[tuple[ast.Assign, ast.FunctionDef | ast.AsyncFunctionDef | None]]] = {}
    spoilt: set[str] = set()
    for item in owner.body:
        if isinstance(item, ast.Assign):
            for target in item.targets:
                if isinstance(target, ast.Name):
                    spoilt.add(target.id)  # a class-level value other methods may rebind
        if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in statements(item):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and _on_self(node.targets[0]):
                attribute = node.targets[0]
                assert isinstance(attribute, ast.Attribute)
                value = node.value
                if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                    stores.setdefault(attribute.attr, []).append((node, item))
                else:
                    spoilt.add(attribute.attr)
    found: dict[str, DisabledFlag] = {}
    for name, assignments in stores.items():
        if name in spoilt:
            continue
        if any(_value(store) and method is not None and method.name != "__init__" for store, method in assignments):
            continue  # turned back on after the set-up
        flag = _turned_off(name, assignments, holds_device)
        if flag is not None:
            found[name] = flag
    if found:
        counted = module_stores()
        found = {name: flag for name, flag in found.items() if counted.get(name) == len(stores[name])}
    return found


def _turned_off(
    name: str,
    assignments: list[tuple[ast.Assign, ast.FunctionDef | ast.AsyncFunctionDef | None]],
    holds_device: Callable[[ast.expr], bool],
) -> DisabledFlag | None:
    """The first store of False in a branch of a set-up method's `if` (at its top level) where the other
    branch holds the device: the flag is still True only where that branch's test held."""
    for store, method in assignments:
        if _value(store) or method is None or method.name not in _SET_UP:
            continue
        for statement in method.body:
            if not isinstance(statement, ast.If) or (store not in statement.body and store not in statement.orelse):
                continue
            held = statement.test
            if store in statement.body:
                held = ast.copy_location(ast.UnaryOp(ast.Not(), statement.test), statement.test)
            if holds_device(held):
                return DisabledFlag(held, method, store)
            placeholder = _without_meta(statement.test)
            if placeholder is not None:
                held = placeholder if store in statement.orelse else ast.copy_location(ast.UnaryOp(ast.Not(), placeholder), placeholder)
                if holds_device(held):
                    return DisabledFlag(held, method, store, meta=True)
    return None


def _without_meta(test: ast.expr) -> ast.expr | None:
    """`device.type not in ("cuda", "meta")` without its `"meta"` (`device.type not in ("cuda",)`); None
    for a test that names no meta device among others."""
    if not (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.In, ast.NotIn))
        and isinstance(test.comparators[0], (ast.Tuple, ast.List, ast.Set))
    ):
        return None
    items = test.comparators[0].elts
    kept = [item for item in items if not (isinstance(item, ast.Constant) and item.value == "meta")]
    if not kept or len(kept) == len(items):
        return None
    collection = ast.copy_location(ast.Tuple(elts=kept, ctx=ast.Load()), test.comparators[0])
    return ast.copy_location(ast.Compare(left=test.left, ops=test.ops, comparators=[collection]), test)


def _value(store: ast.Assign) -> bool:
    assert isinstance(store.value, ast.Constant)
    return bool(store.value.value)


def _on_self(target: ast.expr) -> bool:
    return isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"


def holds_at(flag: DisabledFlag, owner: ast.ClassDef, function: ast.FunctionDef | ast.AsyncFunctionDef, test: ast.expr) -> bool:
    """Whether a test of the flag in `function` reads what its set-up left: after the store in the
    set-up method itself, or in any other method of `owner` but a set-up one (a function nested in a
    method may run before the store)."""
    if function is flag.method:
        return (test.lineno, test.col_offset) > (flag.store.lineno, flag.store.col_offset)
    return function.name not in _SET_UP and function in owner.body
