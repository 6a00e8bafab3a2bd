"""`symbol` keys: every name used, resolved through the module's imports and the catalog's aliases.

`th.cuda.synchronize`, `from torch import cuda; cuda.synchronize` and
`from torch.cuda import synchronize` all meet the key `torch.cuda.synchronize`; the catalog's
longest dotted prefix answers, so a name under `torch.cuda` without facts of its own takes the
module's. A name written only as an annotation is never met (the walker does not visit them).

`torch.cuda.get_device_properties(d)` is a capability decision only where its `major` or `minor`
is read (`props.major >= 8`): those calls meet the key `torch.cuda.get_device_properties.capability`,
the others (`.total_memory`, `.name`) the function's own.
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.walker import Concern, PythonWalker

DETECTOR = "symbol"
PROPERTIES = "torch.cuda.get_device_properties"
CAPABILITY_READ = PROPERTIES + ".capability"
_CAPABILITY_FIELDS = frozenset({"major", "minor"})


class Symbols(Concern):
    def __init__(self, walk: PythonWalker) -> None:
        super().__init__(walk)
        self._module: ast.Module | None = None
        self._capability_calls: set[int] | None = None

    def on_Module(self, node: ast.Module) -> None:
        self._module = node

    def on_qualified_name(self, node: ast.Name | ast.Attribute, qualified: str) -> None:
        if qualified == PROPERTIES and id(node) in self._capability_reads():
            qualified = CAPABILITY_READ
        self.walk.report(DETECTOR, qualified, node)

    def _capability_reads(self) -> set[int]:
        """The callees (by node id) of the `get_device_properties` calls whose major or minor is read."""
        if self._capability_calls is None:
            self._capability_calls = _capability_reads(self._module, self.walk) if self._module else set()
        return self._capability_calls


def _capability_reads(module: ast.Module, walk: PythonWalker) -> set[int]:
    """`get_device_properties(d).major`, or `props = get_device_properties(d)` with `props.major` read."""
    calls: dict[str, list[ast.Call]] = {}
    found: set[int] = set()
    read_names: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Attribute) and node.attr in _CAPABILITY_FIELDS:
            if isinstance(node.value, ast.Call) and _is_properties_call(node.value, walk):
                found.add(id(node.value.func))
            elif isinstance(node.value, ast.Name):
                read_names.add(node.value.id)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _is_properties_call(node.value, walk):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    calls.setdefault(target.id, []).append(node.value)
    for name in read_names & set(calls):
        found.update(id(call.func) for call in calls[name])
    return found


def _is_properties_call(call: ast.Call, walk: PythonWalker) -> bool:
    return walk.catalog.canonical(walk.names.resolve(call.func) or "") == PROPERTIES


CONCERN = Symbols
