"""Functions that make and return a Triton kernel, and the local names their kernels are bound to.

A kernel factory builds one kernel per variant (`def make_norm_kernel(act): kernel = copy_func(template,
globals={..., "act": act}); return triton.heuristics({...})(triton.jit(kernel))`), and its caller binds
each kernel to a local name that it, or a closure it defines, launches (`kernel = make_norm_kernel(act)`,
then `def forward(x): ... kernel[grid](x, out)`). Making the kernel object compiles nothing and touches
no device, as a `@triton.jit` decorator does not: what the factory's Triton calls say holds where the
kernel is launched. So `reach.py` reads such a factory as it reads a factory's closure, through its
products: its region is what the uses of the local names bound to its calls have in common. Only a
factory every mention of which in its module is such a call (`kernel = make_norm_kernel(act)`, the
name bound once in its function) is read so; the caller `reach.py` gives it checks that no other
module names it.
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import own_nodes, subtree
from cudaudit.rules.python.regions import TRITON_KERNEL_DECORATORS

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def kernel_products(module: ast.Module, names: ImportTable) -> dict[str, tuple[FunctionNode, list[tuple[FunctionNode, ast.Assign]]]]:
    """The module's top-level kernel factories by name, each with the assignments that bind its calls'
    kernels to a local name, and the function each is in."""
    if not names.imports("triton"):
        return {}
    factories = {
        statement.name: statement
        for statement in module.body
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
        and names.function(statement.name) is statement
        and _returns_made_kernel(statement, names)
    }
    if not factories:
        return {}
    mentions: dict[str, int] = {}
    bound: dict[str, list[tuple[FunctionNode, ast.Assign]]] = {}
    for node in subtree(module):
        if isinstance(node, ast.Name) and node.id in factories and isinstance(node.ctx, ast.Load):
            mentions[node.id] = mentions.get(node.id, 0) + 1
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for statement, factory in _bindings(node, factories):
                bound.setdefault(factory, []).append((node, statement))
    return {
        name: (factories[name], products)
        for name, products in bound.items()
        if len(products) == mentions.get(name, 0)
    }


def _bindings(function: FunctionNode, factories: dict[str, FunctionNode]) -> list[tuple[ast.Assign, str]]:
    """`kernel = make_kernel(...)` in `function`'s own body, where `kernel` is bound there once and is
    no parameter: the assignment, and the factory's name."""
    stores: dict[str, int] = {}
    found: list[tuple[ast.Assign, str, str]] = []
    for node in own_nodes(function.body):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id in factories
        ):
            found.append((node, node.targets[0].id, node.value.func.id))
    arguments = function.args
    parameters = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg) if a}
    return [(statement, factory) for statement, name, factory in found if stores.get(name) == 1 and name not in parameters]


def _returns_made_kernel(function: FunctionNode, names: ImportTable) -> bool:
    """Whether every return of `function` is a kernel it makes in its own body, the statement before
    it or the value of the last assignment of the name it returns: `return triton.jit(kernel)`, or
    `kernel = triton.heuristics({...})(triton.jit(kernel))` then `return kernel`."""
    returns = [node for node in own_nodes(function.body) if isinstance(node, ast.Return)]
    if not returns:
        return False
    latest: dict[str, ast.expr] = {}
    top_returns = 0
    for statement in function.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            latest[statement.targets[0].id] = statement.value
        elif isinstance(statement, ast.Return):
            top_returns += 1
            value = statement.value
            if isinstance(value, ast.Name):
                value = latest.get(value.id)
            if value is None or not _makes_kernel(value, names):
                return False
    return top_returns == len(returns)


def _makes_kernel(value: ast.expr, names: ImportTable) -> bool:
    """`triton.jit(f)`, `triton.autotune(configs, key)(f)`, `triton.heuristics({...})(triton.jit(f))`: a
    Triton decorator applied to a function; not `triton.autotune(configs, key)` alone, a decorator."""
    if not isinstance(value, ast.Call) or len(value.args) != 1:
        return False
    func = value.func
    if isinstance(func, ast.Call):
        func = func.func
    elif names.resolve(func) != "triton.jit":
        return False
    return names.resolve(func) in TRITON_KERNEL_DECORATORS
