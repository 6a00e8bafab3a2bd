"""The keys a `**mapping` passes, where the function that calls with it spells every one.

A script often gathers a call's arguments in a record and passes it whole:

    c = EasyDict()
    c.run_dir = out
    c.update(batch_size=opts.batch, seed=1)
    training_loop(**c)

Read as a call that may pass anything, `**c` gives every parameter a value, and a CUDA default of
`training_loop` (`device=torch.device("cuda")`) looks never taken. Where the calling function builds
the record itself and only adds keys it spells (a store to an attribute or a string subscript, an
`update` with keywords or a dict display of strings), the call passes those keys and no other: a
default whose name is not among them is taken. Any other use that may add keys (the record is a
parameter, handed to a function that may fill it, updated from another mapping, filled under a
key computed at run time) leaves the call passing anything, as before.
"""

from __future__ import annotations

import ast
import re

from cudaudit.rules.python.names import dotted_name
from cudaudit.rules.python.nodes import Parents, children, own_nodes

_READERS = frozenset({"print", "len", "str", "repr", "json.dumps", "json.dump", "pprint.pprint", "sorted", "list"})
"""Functions handed the record that only read it (`json.dump(c, f)` keeps the options with the run)."""
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_RECORDS = re.compile(r"(?i)(?:^|\.)(?:\w*dict|edict)$")
"""The classes that build a new record (`dict`, `EasyDict`, `edict`, `AttrDict`, `OrderedDict`); a
call of any other function may return a mapping that holds anything (`load_config()`)."""


def spelled_keys(call: ast.Call, parents: Parents) -> set[str] | None:
    """The keys the `**name` mappings of `call` pass, those its function spells for them (see the
    module docstring); None where some mapping's keys are not all spelled."""
    keys: set[str] = set()
    for keyword in call.keywords:
        if keyword.arg is not None:
            continue
        if not isinstance(keyword.value, ast.Name):
            return None
        found = _record_keys(keyword.value, parents)
        if found is None:
            return None
        keys |= found
    return keys


def _record_keys(name: ast.Name, parents: Parents) -> set[str] | None:
    """The keys the scope of `name` gives the record it holds: those of each binding and of each use
    that adds some; None where one binding or use is not read so, or the name is a parameter."""
    scope = parents.scope(name)
    keys: set[str] = set()
    built = False
    for node in own_nodes(children(scope)):
        if not (isinstance(node, ast.Name) and node.id == name.id):
            continue
        if isinstance(node.ctx, ast.Store):
            found = _built_keys(node, parents)
            if found is None:
                return None
            built = True
            keys |= found
            continue
        found = _use_keys(node, parents)
        if found is None:
            return None
        keys |= found
    if isinstance(scope, _FUNCTIONS) and name.id in {arg.arg for arg in ast.walk(scope.args) if isinstance(arg, ast.arg)}:
        return None
    return keys if built else None


def _built_keys(target: ast.Name, parents: Parents) -> set[str] | None:
    """The keys of the record bound at `target`: a new record, empty or built from keywords
    (`EasyDict()`, `dict(lr=1e-3)`: a class whose name ends in `dict`, `_RECORDS`), or a dict display
    with string keys."""
    statement = parents.parent(target)
    if not (isinstance(statement, ast.Assign) and statement.targets == [target]):
        return None
    value = statement.value
    if isinstance(value, ast.Call) and _RECORDS.search(dotted_name(value.func)) and not value.args:
        keys = [keyword.arg for keyword in value.keywords if keyword.arg]
        return set(keys) if len(keys) == len(value.keywords) else None
    return _display_keys(value)


def _display_keys(value: ast.expr) -> set[str] | None:
    """The keys of a dict display whose keys are all strings (`{"seed": 1}`); None for anything else."""
    if not isinstance(value, ast.Dict):
        return None
    keys = [key.value for key in value.keys if isinstance(key, ast.Constant) and isinstance(key.value, str)]
    return set(keys) if len(keys) == len(value.keys) else None


def _use_keys(read: ast.Name, parents: Parents) -> set[str] | None:
    """The keys a read of the record adds (none for a plain read); None where it may add any."""
    parent = parents.parent(read)
    if isinstance(parent, ast.keyword) and parent.arg is None:
        return set()  # handed whole to a call as `**c`
    if isinstance(parent, ast.Attribute):
        if isinstance(parent.ctx, ast.Store):
            return {parent.attr}
        call = parents.parent(parent)
        if parent.attr == "update" and isinstance(call, ast.Call) and call.func is parent:
            return _update_keys(call)
        return None if parent.attr in _CHANGES else set()
    if isinstance(parent, ast.Subscript) and parent.value is read:
        key = parent.slice
        if isinstance(parent.ctx, ast.Store):
            return {key.value} if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
        return set() if isinstance(parent.ctx, ast.Load) else None
    if isinstance(parent, ast.Call) and read in parent.args and dotted_name(parent.func) in _READERS:
        return set()
    if isinstance(parent, (ast.JoinedStr, ast.FormattedValue, ast.Compare)):
        return set()
    return None


_CHANGES = frozenset({"setdefault", "pop", "popitem", "clear", "__setitem__", "__setattr__", "__dict__"})


def _update_keys(call: ast.Call) -> set[str] | None:
    if any(keyword.arg is None for keyword in call.keywords) or len(call.args) > 1:
        return None
    keys = {keyword.arg for keyword in call.keywords if keyword.arg}
    if call.args:
        found = _display_keys(call.args[0])
        if found is None:
            return None
        keys |= found
    return keys
