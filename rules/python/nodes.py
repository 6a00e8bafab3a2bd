"""Walking a syntax tree as `ast.walk` and `ast.iter_child_nodes` do, at less cost.

`ast.walk` imports `collections.deque` at each call and reaches each node's children through two
generators (`ast.iter_child_nodes`, `ast.iter_fields`). The analyzers walk many small subtrees (a
test, a decorator, a default value, an argument), where those costs are most of the walk.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from typing import TypeGuard, TypeVar

_NEVER_NODES = frozenset({"id", "attr", "arg", "asname", "module", "level", "kind", "conversion", "type_comment", "is_async"})
"""Fields that hold a name, a number or a string in every node class that has them (`Name.id`,
`ImportFrom.level`): never a node to walk into. Not `name`, a `Name` node in 3.12's `type X = ...`."""
_CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}
_Node = TypeVar("_Node", bound=ast.AST)


def child_fields(node_class: type[ast.AST]) -> tuple[str, ...]:
    """The fields of a node class that may hold nodes, in the grammar's order: none of a constant's
    (its `value` is a Python value, never a node; the commonest leaf of a tree)."""
    fields = _CHILD_FIELDS.get(node_class)
    if fields is None:
        fields = _CHILD_FIELDS[node_class] = (
            () if node_class is ast.Constant else tuple(name for name in node_class._fields if name not in _NEVER_NODES)
        )
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


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def own_nodes(top: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """The nodes of a scope from `top` (its body, or every node right below it) down, without the
    insides of the functions, classes and lambdas it defines (which are yielded: their names, defaults
    and decorators are the scope's), which bind their own names. Depth first, `top`'s last node first:
    a caller that wants the first statement first passes the body reversed."""
    stack = list(top)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _DEFINITIONS):
            stack.extend(children(node))


def call_arguments(function: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call) -> tuple[dict[str, ast.expr], frozenset[str]]:
    """What `call` gives each parameter of `function` (the argument, else the default), and the names
    of all its parameters; nothing where an argument is unpacked (`*args`), which may fill any of them."""
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    parameters = frozenset(
        a.arg for a in (*positional, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg) if a is not None
    )
    if any(isinstance(argument, ast.Starred) for argument in call.args) or any(k.arg is None for k in call.keywords):
        return {}, parameters
    values: dict[str, ast.expr] = {}
    for parameter, default in zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults):
        values[parameter.arg] = default
    for parameter, keyword_default in zip(arguments.kwonlyargs, arguments.kw_defaults):
        if keyword_default is not None:
            values[parameter.arg] = keyword_default
    for parameter, argument in zip(positional, call.args):
        values[parameter.arg] = argument
    for keyword in call.keywords:
        if keyword.arg is not None:
            values[keyword.arg] = keyword.value
    return values, parameters


UNKNOWN_NAME = "?"
"""The name `substituted` puts for a name it is told to forget: no module can bind it."""


def substituted(
    node: ast.expr, values: dict[str, ast.expr], forgotten: frozenset[str] = frozenset(), *, keyed: bool = False
) -> ast.expr:
    """A copy of `node` with each name of `values` read (`n`, a parameter) replaced by its value (the
    argument a call passes), and each of `forgotten` by a name nothing binds (what it holds is not
    known). With `keyed`, a key read (`config['distributed']`, `flags.multi_gpu`, spelled as
    `keyed_name` spells it) is replaced the same way. The values are put in as they are, not copied."""

    def key_of(current: ast.expr) -> str | None:
        if isinstance(current, ast.Name):
            return current.id
        return keyed_name(current) if keyed else None

    def replaced(current: ast.expr) -> ast.expr:
        key = key_of(current) if isinstance(getattr(current, "ctx", None), ast.Load) else None
        if key is not None:
            if key in values:
                return values[key]
            if key in forgotten:
                return ast.Name(UNKNOWN_NAME, ast.Load())
        for field in child_fields(current.__class__):
            value = getattr(current, field, None)
            if isinstance(value, ast.expr):
                setattr(current, field, replaced(value))
            elif isinstance(value, list):
                setattr(current, field, [replaced(item) if isinstance(item, ast.expr) else item for item in value])
        return current

    return replaced(copied(node))


def copied(node: _Node) -> _Node:
    """A copy of `node` and of every node below it, as `copy.deepcopy` makes, in a fraction of its
    time: the fields that hold no node (names, numbers, a constant's immutable value, positions) are
    shared, not copied, as are the contexts (`ast.Load()`, which a parsed tree shares too), and nothing
    is kept to find a node met twice (a parsed tree holds each once)."""
    clone = node.__class__.__new__(node.__class__)
    fields = clone.__dict__
    for name, value in node.__dict__.items():
        if isinstance(value, ast.AST) and not isinstance(value, ast.expr_context):
            fields[name] = copied(value)
        elif isinstance(value, list):
            fields[name] = [copied(item) if isinstance(item, ast.AST) else item for item in value]
        else:
            fields[name] = value
    return clone


def keyed_name(node: ast.AST) -> str | None:
    """`['distributed']` for `config['distributed']`, `.multi_gpu` for `flags.multi_gpu`: the key a
    test reads, whatever object holds it, as the project's flags table keeps it (`keyed_flags.py`; no
    qualified name starts so). None for anything else."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return f"[{node.slice.value!r}]"
    if isinstance(node, ast.Attribute):
        return f".{node.attr}"
    return None


_BLOCKS = (ast.stmt, ast.excepthandler, ast.match_case)


def statements(node: ast.AST, *, own: bool = False) -> list[ast.stmt]:
    """The statements at or below `node`, in `ast.walk`'s order: that order less the expressions,
    which hold no statement (not even a lambda's). A reading that looks only at statements (an
    assignment) in a method's whole body skips most of its nodes. With `own`, not those inside the
    functions and classes defined below `node` (their definitions are kept), as `own_nodes` leaves them."""
    found: list[ast.stmt] = []
    todo = [node]
    for current in todo:  # breadth first, as `subtree`
        if isinstance(current, ast.stmt):
            found.append(current)
        if own and current is not node and isinstance(current, _DEFINITIONS):
            continue
        for name in current._fields:
            value = getattr(current, name, None)
            if isinstance(value, list) and value and isinstance(value[0], _BLOCKS):
                todo.extend(value)
    return found


def attribute_stores(module: ast.Module) -> dict[str, int]:
    """How many times a module stores each attribute name (`x.name = ...`, `del x.name`, `x.name += 1`):
    a flag a class sets once holds its one value only where nothing else stores the name."""
    stores: dict[str, int] = {}
    for node in subtree(module):
        if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
            stores[node.attr] = stores.get(node.attr, 0) + 1
    return stores


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.Module)


class Parents:
    """Each node's parent in a module, and the reads and stores of each name, per scope: what a
    reading that follows a value up the tree, or to where a name it was stored in is read, needs."""

    def __init__(self, module: ast.Module) -> None:
        self._parent: dict[int, ast.AST] = {}
        self._reads: dict[tuple[int, str], list[ast.Name]] = {}
        self._reads_by_name: dict[str, list[ast.Name]] = {}
        self._stores: dict[tuple[int, str], list[ast.Name]] = {}
        stack: list[tuple[ast.AST, ast.AST]] = [(module, module)]
        while stack:
            node, scope = stack.pop()
            inner = node if isinstance(node, _SCOPES) else scope
            for child in children(node):
                self._parent[id(child)] = node
                stack.append((child, inner))
            if isinstance(node, ast.Name):
                key = (id(scope), node.id)
                if isinstance(node.ctx, ast.Load):
                    self._reads.setdefault(key, []).append(node)
                    self._reads_by_name.setdefault(node.id, []).append(node)
                else:
                    self._stores.setdefault(key, []).append(node)

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self._parent.get(id(node))

    def reads(self, name: str) -> list[ast.Name]:
        """Every read of `name` in the module, in any scope."""
        return self._reads_by_name.get(name, [])

    def scope(self, node: ast.AST) -> ast.AST:
        found: ast.AST | None = node
        while found is not None and not isinstance(found, _SCOPES):
            found = self._parent.get(id(found))
        return found if found is not None else node

    def reads_of_single_store(self, target: ast.Name) -> list[ast.Name] | None:
        """The reads of the name `target` stores in its scope, if that is the name's only store there."""
        key = (id(self.scope(target)), target.id)
        if len(self._stores.get(key, ())) != 1:
            return None
        return self._reads.get(key, [])

    def reads_of_assignments(self, target: ast.Name) -> list[ast.Name] | None:
        """The reads of the name `target` stores in its function, functions nested in it included, where
        every store of the name there is a plain `name = value` and the function shares the name with no
        other scope (`global`, `nonlocal`): whatever value one of those assignments stores reaches only
        these reads (`mem = memory_allocated()` twice, each followed by a log line that reads it)."""
        scope = self.scope(target)
        if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        for store in self._stores.get((id(scope), target.id), ()):
            assignment = self._parent.get(id(store))
            if not (isinstance(assignment, ast.Assign) and assignment.targets == [store]):
                return None
        if any(
            isinstance(statement, (ast.Global, ast.Nonlocal)) and target.id in statement.names
            for statement in statements(scope)
        ):
            return None
        return [read for read in self.reads(target.id) if self._within(read, scope)]

    def _within(self, node: ast.AST, scope: ast.AST) -> bool:
        """Whether `node` sits in `scope` or in a scope nested in it."""
        found = self.scope(node)
        while found is not scope:
            above = self._parent.get(id(found))
            if above is None:
                return False
            found = self.scope(above)
        return True


def is_main_test(test: ast.expr) -> bool:
    """`__name__ == "__main__"`, either way round."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [side.id for side in sides if isinstance(side, ast.Name)]
    values = [side.value for side in sides if isinstance(side, ast.Constant)]
    return names == ["__name__"] and values == ["__main__"]


def is_setup_call(node: ast.AST) -> TypeGuard[ast.Call]:
    """A call of `setup` by its name or as an attribute (`setup(...)`, `setuptools.setup(...)`,
    `distutils.core.setup(...)`): the declaration of a build script."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "setup") or (isinstance(func, ast.Attribute) and func.attr == "setup")


def handler_catches(handler: ast.ExceptHandler, kinds: frozenset[str]) -> bool:
    """Whether an `except` clause catches one of the exception classes named in `kinds`, by their
    bare name or as an attribute (`subprocess.CalledProcessError`); a bare `except:` catches all."""
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(
        (isinstance(t, ast.Name) and t.id in kinds) or (isinstance(t, ast.Attribute) and t.attr in kinds)
        for t in types
    )


def without_not(test: ast.expr) -> tuple[ast.expr, bool]:
    """A test with any `not`s in front taken off, and whether their number was odd."""
    negated = False
    while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, negated = test.operand, not negated
    return test, negated
