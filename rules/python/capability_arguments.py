"""Capability thresholds handed to a helper through its arguments: `has_capability(8, 0)`.

A project may keep its capability test in one helper, `def has_capability(major, minor): return
torch.cuda.get_device_capability() >= (major, minor)`, and give the threshold at each call. The
comparison inside reads no literal, so `capability_use.py` alone cannot tell whether ROCm answers it
like NVIDIA. The calls can: where every call of the helper in the project (outside the test suite)
writes whole numbers for the parameters the comparison reads, each call's comparison is the helper's
comparison with those numbers, and `capability_use` judges each one as it judges a literal.

`threshold_helpers` reads one module: the functions whose body reads the capability
(`get_device_capability`, `get_device_properties`) and compares something with a tuple of its
parameters or with one of them, with their parameters in order. `passed_thresholds` then finds every
call of those names in the project's modules (one automaton pass) and reads each call's arguments
(`kept_off.call_arguments`): a call that gives such a parameter anything but a whole number, passes
`*args` or `**options`, or leaves it to its default, makes the helper's calls unknown.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping

from cudaudit.rules.catalog import word_automaton
from cudaudit.rules.python.kept_off import call_arguments, project_calls
from cudaudit.rules.python.nodes import subtree
from cudaudit.source import decode_python, read_tree

Helper = tuple[str, tuple[str, ...]]
"""(the function's name, its parameters in order, `self` or `cls` left out)."""
Calls = tuple[tuple[tuple[str, int], ...], ...]
"""For each call of a helper, the whole numbers it gives the parameters, by name."""

_READS = (b"get_device_capability", b"get_device_properties")
_RECEIVERS = ("self", "cls")


def threshold_helpers(data: bytes) -> tuple[Helper, ...]:
    """The functions of module `data` that compare a capability they read with their parameters."""
    if not any(read in data for read in _READS):
        return ()
    try:
        module = read_tree(decode_python(data))
    except (SyntaxError, ValueError):
        return ()
    found: list[Helper] = []
    for node in subtree(module):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        parameters = tuple(a.arg for a in [*node.args.posonlyargs, *node.args.args] if a.arg not in _RECEIVERS)
        if parameters and _reads_capability(node) and any(_compares_parameters(c, set(parameters)) for c in subtree(node)):
            found.append((node.name, parameters))
    return tuple(found)


def _reads_capability(function: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr.encode() in _READS for n in subtree(function))


def _compares_parameters(node: ast.AST, parameters: set[str]) -> bool:
    """`... >= (major, minor)` or `... >= major`: a comparison with a side made of parameters alone."""
    if not isinstance(node, ast.Compare) or len(node.ops) != 1:
        return False
    return any(parameter_side(side, parameters) for side in (node.left, node.comparators[0]))


def parameter_side(side: ast.expr, parameters: set[str]) -> tuple[str, ...] | None:
    """The parameter names `side` is made of (`(major, minor)`, `major`), None for anything else."""
    names = side.elts if isinstance(side, ast.Tuple) else [side]
    if names and all(isinstance(name, ast.Name) and name.id in parameters for name in names):
        return tuple(name.id for name in names if isinstance(name, ast.Name))
    return None


def passed_thresholds(
    helpers: Mapping[str, tuple[Helper, ...]], code: Mapping[str, Callable[[], bytes]]
) -> dict[str, Calls]:
    """Helper name -> what each of its calls in `code` (display path -> bytes, Python modules) outside
    the test suite gives its parameters, where every call gives each a whole number and there is one."""
    parameters: dict[bytes, tuple[str, ...]] = {}
    for found in helpers.values():
        for name, names in found:
            parameters[name.encode()] = names if parameters.get(name.encode(), names) == names else ()
    callees = word_automaton(sorted(name + b"(" for name, names in parameters.items() if names))
    if callees is None:
        return {}
    calls: dict[str, list[tuple[tuple[str, int], ...]]] = {}
    refused: set[str] = set()
    for word, data, opened in project_calls(code, callees):
        callee = word.decode("ascii")
        items = call_arguments(data, opened)
        given = _numbers(items, parameters[word]) if items is not None else None
        if given is None:
            refused.add(callee)
        else:
            calls.setdefault(callee, []).append(given)
    return {callee: tuple(given) for callee, given in calls.items() if callee not in refused}


def _numbers(items: list[bytes], parameters: tuple[str, ...]) -> tuple[tuple[str, int], ...] | None:
    """The whole number a call's argument items give each parameter, None where one is anything else."""
    given: dict[str, int] = {}
    positional = 0
    for item in items:
        text = item.strip()
        if text.startswith(b"*"):
            return None
        keyword = _keyword(text)
        name = keyword[0] if keyword else parameters[positional] if positional < len(parameters) else None
        value = (keyword[1] if keyword else text).strip()
        if keyword is None:
            positional += 1
        if name is None or not value.isdigit():
            return None
        given[name] = int(value)
    return tuple(sorted(given.items())) if set(given) == set(parameters) else None


def _keyword(text: bytes) -> tuple[str, bytes] | None:
    """(name, value) of a keyword argument item (`minor=5`), None for a positional one (`8`, `a == b`)."""
    name, equals, value = text.partition(b"=")
    word = name.strip().decode("utf-8", "replace")
    if not equals or value.startswith(b"=") or not word.isidentifier():
        return None
    return word, value
