"""Flags an object turns on only in a method nothing in the project calls.

A model class copied from a library keeps the library's opt-in modes:

    class Decoder(nn.Module):
        def __init__(self):
            self.split = False

        def spread(self, devices):
            ...
            self.split = True

        def forward(self, x):
            if self.split:
                torch.cuda.set_device(self.first_device)

`self.split` is True only after `spread()` ran. Where nothing in the project calls `spread` (no
module, script or document spells the name, on any receiver) and nothing else stores `split`, the
flag is False wherever `forward` runs: what `if self.split:` guards runs on no target, whatever it
does with CUDA (the branch is unreachable, as code after a `return` is).

`unset_flags` reads one class: the attributes its `__init__` sets to False that every other store in
the module sets to True, inside methods of the class (`setters`) that the module names nowhere
outside their own bodies and that `elsewhere` (`reach.Elsewhere`, through the project index:
`callers.definitions` adds such setters and flags) says no other module mentions. A method a
library base may call keeps the flag live: a setter of a class with a library base counts only
where the library leaves it to its users (the catalog's `[[user_method]]`, `parallelize` of a model
copied from Transformers) or where the base is one whose own methods the catalog lists
(`[[base_methods]]`, `torch.nn.Module`) and the setter is none of them: such a base calls only what
it defines. A misreading keeps a verdict: a name spelled anywhere counts as a call.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping

from cudaudit.rules.catalog import Catalog
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.reach import Elsewhere
from cudaudit.rules.python.unused import imported_from, user_methods

_Method = ast.FunctionDef | ast.AsyncFunctionDef

SETTER = re.compile(rb"\bself\.(\w+)[ \t]*=[ \t]*True\b")
"""A store of True in an attribute of `self`, as `callers.definitions` finds a setter in a method's text."""
CLEARED = re.compile(rb"\bself\.(\w+)[ \t]*=[ \t]*False\b")
"""A store of False in an attribute of `self`, as `callers.definitions` finds a flag in a class's text."""


def base_methods(catalog: Catalog) -> dict[str, dict[str, frozenset[str]]]:
    """The catalog's `[[base_methods]]` tables: library -> base class name -> the methods it defines."""
    found: dict[str, dict[str, frozenset[str]]] = {}
    for _, tables in catalog.tables("base_methods"):
        for table in tables:
            for base in table["bases"]:
                by_base = found.setdefault(table["package"], {})
                by_base[base] = by_base.get(base, frozenset()) | frozenset(table["methods"])
    return found


def unset_flags(owner: ast.ClassDef, module: ast.Module, stores: Mapping[str, int], elsewhere: Elsewhere, catalog: Catalog) -> frozenset[str]:
    """The attributes of `owner` (a class of `module`, which stores each attribute name as often as
    `stores` says) that are False wherever a method other than a setter reads them (see the module
    docstring); `elsewhere` says what other modules mention."""
    methods = [item for item in owner.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
    init = next((method for method in methods if method.name == "__init__"), None)
    if init is None:
        return frozenset()
    cleared: dict[str, int] = {}
    setters: dict[str, set[str]] = {}
    counted: dict[str, int] = {}
    spoilt: set[str] = set()
    for method in methods:
        plain = {id(node.targets[0]): node.value for node in subtree(method) if isinstance(node, ast.Assign) and len(node.targets) == 1}
        for node in subtree(method):
            if not (isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load)
                    and isinstance(node.value, ast.Name) and node.value.id == "self"):
                continue
            counted[node.attr] = counted.get(node.attr, 0) + 1
            value = plain.get(id(node))
            stored = value.value if isinstance(value, ast.Constant) and isinstance(value.value, bool) else None
            if stored is False and method is init:
                cleared[node.attr] = cleared.get(node.attr, 0) + 1
            elif stored is True and method is not init and not method.decorator_list and not method.name.startswith("__"):
                setters.setdefault(node.attr, set()).add(method.name)
            else:
                spoilt.add(node.attr)
    found = set()
    for name, count in cleared.items():
        called = setters.get(name)
        if count != 1 or not called or name in spoilt or elsewhere.get(name) != () or stores.get(name) != counted[name]:
            continue  # another store, here or in another module, may turn it on
        if all(elsewhere.get(setter) == () for setter in called) and _left_to_project(owner, module, called, catalog) and not _named(
            module, called, [method for method in methods if method.name in called]
        ):
            found.add(name)
    return frozenset(found)


def _named(module: ast.Module, names: set[str], bodies: list[_Method]) -> bool:
    """Whether `module` names one of `names` outside `bodies`: as a name, an attribute, or a string
    (`getattr(model, "spread")`)."""
    inside = {id(node) for body in bodies for node in subtree(body)}
    for node in subtree(module):
        if id(node) in inside:
            continue
        if (
            (isinstance(node, ast.Name) and node.id in names)
            or (isinstance(node, ast.Attribute) and node.attr in names)
            or (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names)
        ):
            return True
    return False


def _left_to_project(owner: ast.ClassDef, module: ast.Module, setters: set[str], catalog: Catalog) -> bool:
    """Whether no base of `owner` may call one of `setters` itself: every base is the project's (a name no
    import binds) or `object`, or a library's that leaves the method to its users or does not define it.
    The catalog's tables and the module's imports are read once for all the setters."""
    users = user_methods(catalog)
    defined = base_methods(catalog)
    libraries = imported_from(module, {library: frozenset() for library in (*users, *defined)})
    return all(_left_by_bases(owner, module, setter, users, defined, libraries) for setter in sorted(setters))


def _left_by_bases(
    owner: ast.ClassDef, module: ast.Module, setter: str, users: Mapping[str, frozenset[str]],
    defined: Mapping[str, Mapping[str, frozenset[str]]], libraries: Mapping[str, str],
) -> bool:
    """`_left_to_project` for one setter, given the catalog's `user_methods` and `base_methods` and the
    libraries the module's imports bind (`unused.imported_from`)."""
    for base in owner.bases:
        spelled = ast.unparse(base)
        library = libraries.get(spelled.partition(".")[0])
        if library is None:
            if not _imported(module, spelled.partition(".")[0]):
                continue  # the project's own class, or `object`: it calls the setter only where the project spells it
            return False
        if setter in users.get(library, frozenset()):
            continue
        own = defined.get(library, {}).get(spelled.rpartition(".")[2])
        if own is None or setter in own or setter.startswith("_"):
            return False
    return True


def _imported(module: ast.Module, name: str) -> bool:
    """Whether a top-level import of `module` binds `name`."""
    for statement in module.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            for alias in statement.names:
                if (alias.asname or alias.name.partition(".")[0]) == name:
                    return True
    return False
