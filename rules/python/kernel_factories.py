"""Functions that make and return a Triton kernel, and the local names their kernels are bound to.

A kernel factory builds one kernel per variant (`def make_norm_kernel(act): kernel = copy_func(template,
globals={..., "act": act}); return triton.heuristics({...})(triton.jit(kernel))`), and its caller binds
each kernel to a local name that it, or a closure it defines, launches (`kernel = make_norm_kernel(act)`,
then `def forward(x): ... kernel[grid](x, out)`). Making the kernel object compiles nothing and touches
no device, as a `@triton.jit` decorator does not: what the factory's Triton calls say holds where the
kernel is launched. So `reach.py` reads the statements that make the kernel (those that bind the name
the factory returns, and the return) as it reads a factory's closure, through its products: their region
is what the uses of the local names bound to the factory's calls have in common. The factory's other
lines run where the factory is called, and keep their own reading (`torch.cuda.set_device(0)` before the
kernel is made runs at import where the factory is called there). Only a factory every mention of which
in its module is such a call (`kernel = make_norm_kernel(act)`, the name bound once in its function) is
read so; the caller `reach.py` gives it checks that no other module names it.
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import own_nodes, subtree
from cudaudit.rules.python.regions import TRITON_KERNEL_DECORATORS

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


MakingStatement = ast.Assign | ast.Return
"""A statement of a kernel factory that makes the kernel it returns."""


def kernel_products(
    module: ast.Module, names: ImportTable
) -> dict[str, tuple[list[MakingStatement], list[tuple[FunctionNode, ast.Assign]]]]:
    """The module's top-level kernel factories by name, each with its statements that make the kernel
    (`made_kernel`) and the assignments that bind its calls' kernels to a local name, and the function
    each is in."""
    if not names.imports("triton"):
        return {}
    making = {
        statement.name: (statement, made_kernel(statement, names))
        for statement in module.body
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
        and names.function(statement.name) is statement
    }
    factories = {name: function for name, (function, made) in making.items() if made}
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
        name: (making[name][1], products)
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


def made_kernel(function: FunctionNode, names: ImportTable) -> list[MakingStatement]:
    """Where every return of `function` is a kernel it makes in its own body, the statement before it
    or the value of the last assignment of the name it returns (`return triton.jit(kernel)`, or `kernel
    = copy_func(template)`, `kernel = triton.heuristics({...})(triton.jit(kernel))` then `return
    kernel`): the statements that make it, the returns and the assignments of the names they return in
    the function's own body, each once; none for any other function."""
    returns = [node for node in own_nodes(function.body) if isinstance(node, ast.Return)]
    if not returns:
        return []
    assigned: dict[str, list[ast.Assign]] = {}
    made: list[MakingStatement] = []
    for statement in function.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            assigned.setdefault(statement.targets[0].id, []).append(statement)
        elif isinstance(statement, ast.Return):
            value = statement.value
            binding = assigned.get(value.id, []) if isinstance(value, ast.Name) else []
            if isinstance(value, ast.Name):
                value = binding[-1].value if binding else None
            if value is None or not _makes_kernel(value, names):
                return []
            made.extend((*binding, statement))
    if len(returns) != sum(isinstance(statement, ast.Return) for statement in made):
        return []  # a return inside a block: not read
    return list({id(statement): statement for statement in made}.values())


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
