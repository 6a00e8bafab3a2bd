"""Walking a syntax tree as `ast.walk` and `ast.iter_child_nodes` do, at less cost.

`ast.walk` imports `collections.deque` at each call and reaches each node's children through two
generators (`ast.iter_child_nodes`, `ast.iter_fields`). The analyzers walk many small subtrees (a
test, a decorator, a default value, an argument), where those costs are most of the walk.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

_NEVER_NODES = frozenset({"id", "attr", "arg", "asname", "module", "level", "kind", "conversion", "type_comment", "is_async"})
"""Fields that hold a name, a number or a string in every node class that has them (`Name.id`,
`ImportFrom.level`): never a node to walk into. Not `name`, a `Name` node in 3.12's `type X = ...`."""
_CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


def child_fields(node_class: type[ast.AST]) -> tuple[str, ...]:
    """The fields of a node class that may hold nodes, in the grammar's order."""
    fields = _CHILD_FIELDS.get(node_class)
    if fields is None:
        fields = _CHILD_FIELDS[node_class] = tuple(name for name in node_class._fields if name not in _NEVER_NODES)
    return fields


def children(node: ast.AST) -> list[ast.AST]:
    """The nodes directly below `node`, in `ast.iter_child_nodes`'s order."""
    found: list[ast.AST] = []
    for name in child_fields(node.__class__):
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            found.append(value)
        elif isinstance(value, list):
            found.extend([item for item in value if isinstance(item, ast.AST)])
    return found


def subtree(node: ast.AST) -> Iterator[ast.AST]:
    """`node` and every node below it, in `ast.walk`'s order: breadth first, each node's children in
    the order of its fields."""
    todo = [node]
    for current in todo:  # the list grows as it is read: a queue that is never popped
        yield current
        # `children`, written out: a call per node would cost a third of the walk
        for name in child_fields(current.__class__):
            value = getattr(current, name, None)
            if isinstance(value, ast.AST):
                todo.append(value)
            elif isinstance(value, list):
                todo.extend([item for item in value if isinstance(item, ast.AST)])


def attribute_stores(module: ast.Module) -> dict[str, int]:
    """How many times a module stores each attribute name (`x.name = ...`, `del x.name`, `x.name += 1`):
    a flag a class sets once holds its one value only where nothing else stores the name."""
    stores: dict[str, int] = {}
    for node in subtree(module):
        if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
            stores[node.attr] = stores.get(node.attr, 0) + 1
    return stores
