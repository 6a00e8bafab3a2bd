"""`rules/python/nodes.py` walks trees as `ast.walk` does, in the same order: readings that keep the
first or the last of what they meet depend on that order."""

from __future__ import annotations

import ast
import copy

from cudaudit.rules.python.nodes import copied, own_nodes, statements, subtree

SOURCE = '''
import os
from pkg import a as b, c

class Runner:
    flag = x if y else z

    def start(self, device):
        self.cuda = device.type == "cuda"
        try:
            import torch
            self.graphs = [lambda q: q for _ in range(2)]
        except ImportError as exc:
            self.cuda = False
        else:
            pass
        finally:
            del exc
        for item in items:
            with open(item) as f:
                while f:
                    self.cuda = not f
        match device:
            case "cuda" if ok:
                self.side = True
            case _:
                def inner():
                    return self.cuda
        async def later():
            async with lock:
                await go()

@decorate(lambda: 1)
def top(x=[i for i in range(3)]):
    if x:
        return {k: v for k, v in x}
    return None
'''


def test_subtree_is_ast_walk():
    tree = ast.parse(SOURCE)
    assert [id(node) for node in subtree(tree)] == [id(node) for node in ast.walk(tree)]


def test_statements_are_ast_walk_less_the_expressions():
    tree = ast.parse(SOURCE)
    scopes = [node for node in ast.walk(tree) if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))]
    assert len(scopes) == 5
    for scope in scopes:
        walked = [node for node in ast.walk(scope) if isinstance(node, ast.stmt)]
        assert [id(node) for node in statements(scope)] == [id(node) for node in walked]
    assert sum(isinstance(node, ast.Assign) for node in statements(tree)) == 6


def test_own_statements_are_own_nodes_statements():
    """`statements(own=True)`: what `own_nodes` meets of a scope's statements, without its expressions
    (a definition below the scope is kept, its body is not)."""
    tree = ast.parse(SOURCE)
    start = next(node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "start")
    for scope in (tree, start):
        own = {id(node) for node in own_nodes(scope.body) if isinstance(node, ast.stmt)}
        assert {id(node) for node in statements(scope, own=True) if node is not scope} == own
    names = [node.name for node in statements(start, own=True) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    assert names == ["start", "later", "inner"]
    assert not any(isinstance(node, ast.Return) for node in statements(start, own=True))


def test_copied_is_deepcopy():
    """`copied` gives what `copy.deepcopy` gives, positions included, and shares no node but the contexts."""
    tree = ast.parse(SOURCE)
    clone = copied(tree)
    assert ast.dump(clone, include_attributes=True) == ast.dump(copy.deepcopy(tree), include_attributes=True)
    pairs = zip(ast.walk(tree), ast.walk(clone))
    assert all(old is not new for old, new in pairs if not isinstance(old, ast.expr_context))
