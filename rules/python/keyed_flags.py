"""Device flags kept under a key: a dictionary entry or an attribute assigned from a test.

A training script often records once what the machine offers in its configuration, and tests the
record in other functions and modules:

    config['world_size'] = torch.cuda.device_count()
    config['distributed'] = True if config['world_size'] > 1 else False
    ...
    if config['distributed']:        # in a worker, or `self.config['distributed']` in a trainer
        torch.cuda.set_device(rank)

The entry holds `torch.cuda.device_count() > 1`: the branch runs only where there are several GPUs,
never on a machine without one, whatever the key's words say (`distributed` reads as a launch,
`multi_gpu` as a device test; `flags.multi_gpu = "WORLD_SIZE" in os.environ and ...` is a launch).
So a test of a key is the test of the value stored under it, as a module-level flag's is
(`project_flags.py`): a flag that records availability is a guard.

A key is the string of a subscript (`['distributed']`) or the name of an attribute (`.multi_gpu`),
whatever object holds it: the dictionary is handed from function to function and module to module.
A key holds a test only where every store of it in the project stores one and the same test
(`project_index` counts each module's stores of it in its bytes against the stores read here).
Within a scope, a key or name stored earlier is read as its value (`config['world_size']` above is
`torch.cuda.device_count()`), and `True if T else False` is `T`.
"""

from __future__ import annotations

import ast
import re

from cudaudit.rules.python.guards import FlagMeaning, Probe, value_meaning
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import keyed_name, statements, substituted, subtree

KEYED_STORE = re.compile(
    rb"(?:\]|\.\w+)[ \t]*=(?!=)[^\n]{0,300}?(?:is_available|device_count|WORLD_SIZE|world_size)"
)
"""A store into a subscript or an attribute whose line names an availability probe or the launch's
size (within 300 bytes: a linear search on any line): a module without one keeps no keyed flag, and is
not parsed for them."""
KEYED_WORDS = (b"is_available", b"device_count", b"WORLD_SIZE", b"world_size")
"""The words `KEYED_STORE` ends with: a module that spells none has no such store, found without trying
the pattern at each `]` and attribute of the module (most modules)."""


def is_keyed(name: str) -> bool:
    """Whether a flag's name in the project's table is a key (`keyed_name`), not a qualified name."""
    return name.startswith(("[", "."))


def store_pattern(key: str) -> bytes:
    """A byte pattern of a store of `key` (`['distributed'] =`, `.multi_gpu =`, either quote), for
    counting the stores of a module that was not parsed."""
    if key.startswith("."):
        return rb"\." + re.escape(key[1:].encode()) + rb"[ \t]*=(?!=)"
    return rb"\[[ \t]*['\"]" + re.escape(key[2:-2].encode()) + rb"['\"][ \t]*\][ \t]*=(?!=)"


def read_keyed_flags(tree: ast.Module, names: ImportTable) -> list[tuple[str, FlagMeaning]]:
    """Each keyed store of the module whose value is a test, as (key, its meaning), once per store;
    a key also stored with anything else is left out (so the module's count of its stores differs)."""
    found: dict[str, list[FlagMeaning | None]] = {}
    for scope in (tree, *(node for node in statements(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))):
        held: dict[str, ast.expr] = {}
        for statement in _in_order(scope):
            if not isinstance(statement, (ast.Assign, ast.AnnAssign)) or statement.value is None:
                continue
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            value = _test_of(_with_held(statement.value, held))
            for target in targets:
                key = target.id if isinstance(target, ast.Name) else keyed_name(target)
                if key is None:
                    continue
                held[key] = value
                if not isinstance(target, ast.Name):
                    found.setdefault(key, []).append(_device_meaning(value, names) if len(targets) == 1 else None)
    return [
        (key, meaning)
        for key, meanings in sorted(found.items())
        for meaning in meanings
        if all(meanings) and len(set(meanings)) == 1 and meaning is not None
    ]


_RECORDED = frozenset({Probe.CUDA, Probe.NVIDIA, Probe.ROCM, Probe.MULTI_PROCESS})
"""What a keyed flag records: the device, the build, or the launch (not an option's default, which
`opt_in.py` reads, nor a library's presence)."""


def _device_meaning(value: ast.expr, names: ImportTable) -> FlagMeaning | None:
    """What a test of a key that holds `value` probes, where it records the device, the build or the launch."""
    if isinstance(value, ast.Call) and (names.resolve(value.func) or "").endswith(".device_count"):
        return None  # `config['world_size'] = torch.cuda.device_count()`: a number, tested through what it is compared with
    meaning = value_meaning(value, names)
    return meaning if meaning and any(probe in _RECORDED for probe, _ in meaning) else None


def _in_order(scope: ast.AST) -> list[ast.stmt]:
    """The statements of a scope, not those of the functions and classes it defines, as written."""
    if not isinstance(scope, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    found = [node for node in statements(scope, own=True) if node is not scope]
    return sorted(found, key=lambda node: (node.lineno, node.col_offset))


def _with_held(value: ast.expr, held: dict[str, ast.expr]) -> ast.expr:
    """`value` with each name or key stored earlier in the scope read as what was stored; `value`
    itself where it spells none of them (most stores), not a copy of it: nothing reads the result
    but `_device_meaning`, and nothing changes it."""
    if not held or not any(
        (node.id if isinstance(node, ast.Name) else keyed_name(node)) in held for node in subtree(value)
    ):
        return value
    return substituted(value, held, keyed=True)


def _test_of(value: ast.expr) -> ast.expr:
    """`T` for `True if T else False`, `not T` for `False if T else True`; else the value itself."""
    if (
        isinstance(value, ast.IfExp)
        and isinstance(value.body, ast.Constant)
        and isinstance(value.orelse, ast.Constant)
        and {value.body.value, value.orelse.value} == {True, False}
        and all(type(side.value) is bool for side in (value.body, value.orelse))
    ):
        return value.test if value.body.value is True else ast.UnaryOp(ast.Not(), value.test)
    return value
