"""What a module holds, gathered in one pass before its walk, so that a module none of whose
concerns can report is not walked.

Most modules that pass the byte prefilter report nothing (412 of DeepSpeed's 535): they spell a
trigger word (`load(`, `current_device`, `pin_memory`) in code that is no site, and the walk's
regions and guards cost several times the parse. Each concern says from the survey whether it can
report at all in the module (`Concern.may_report`): a necessary condition, read from the catalog's
keys where the concern looks its keys up there, never a judgement of a site. The walk runs where
any concern may report; a concern that says nothing may always report.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any

from cudaudit.rules.catalog import Catalog
from cudaudit.rules.python.names import ImportTable

_NOT_NODES = frozenset({"ctx", "op", "ops", "id", "attr", "arg", "asname", "module", "level", "kind", "conversion", "type_comment", "is_async"})
"""Fields that never hold a node a concern reports at or reads: names, numbers, strings, and the
context and operator leaves; nor does a constant's `value`, a Python value (`child_fields`)."""
_FIELDS: dict[type, tuple[str, ...]] = {}


class Survey:
    """The nodes of one module by class, with the questions several concerns ask of them."""

    def __init__(self, tree: ast.AST, names: ImportTable, catalog: Catalog) -> None:
        self.names = names
        self.catalog = catalog
        nodes: dict[type, list[Any]] = {}
        todo: list[Any] = [tree]
        for current in todo:  # breadth first, as `nodes.subtree`; written out, for every node of the module
            node_class = current.__class__
            found = nodes.get(node_class)
            if found is None:
                nodes[node_class] = [current]
            else:
                found.append(current)
            fields = _FIELDS.get(node_class)
            if fields is None:
                fields = _FIELDS[node_class] = (
                    () if node_class is ast.Constant else tuple(f for f in node_class._fields if f not in _NOT_NODES)
                )
            for field in fields:
                value = getattr(current, field, None)
                if isinstance(value, list):
                    todo.extend([item for item in value if isinstance(item, ast.AST)])
                elif isinstance(value, ast.AST):
                    todo.append(value)
        self._nodes = nodes

    def of(self, node_class: type[ast.AST]) -> list[Any]:
        """Every node of that class in the module."""
        return self._nodes.get(node_class, [])

    @cached_property
    def strings(self) -> list[str]:
        """The values of the module's string constants, the pieces of f-strings among them."""
        return [node.value for node in self.of(ast.Constant) if isinstance(node.value, str)]

    def has_string(self, test: Callable[[str], object]) -> bool:
        """Whether any string constant's value passes `test`."""
        return any(test(value) for value in self.strings)

    @cached_property
    def calls(self) -> list[tuple[ast.Call, str | None]]:
        """Every call, with its callee's qualified name as the walk resolves it (None if not imported)."""
        resolve = self.names.resolve
        return [(call, resolve(call.func)) for call in self.of(ast.Call)]

    @cached_property
    def qualified_names(self) -> frozenset[str]:
        """What the names and attribute chains that resolve through the module's imports resolve to,
        each chain and every chain inside it (`ImportTable.resolve` of each)."""
        binding = self.names.binding
        resolved: dict[int, str] = {}
        for node in self.of(ast.Name):
            bound = binding(node.id)
            if bound is not None:
                resolved[id(node)] = bound.qualified
        # Inner chains before outer ones: breadth first, a chain's own attribute comes before its value.
        for node in reversed(self.of(ast.Attribute)):
            inner = resolved.get(id(node.value))
            if inner is not None:
                resolved[id(node)] = f"{inner}.{node.attr}"
        return frozenset(resolved.values())

    def keyed(self, detector: str, keys: Iterable[str]) -> bool:
        """Whether the catalog has an entry of `detector` for any of `keys`."""
        lookup = self.catalog.lookup
        return any(lookup(detector, key) is not None for key in keys)
