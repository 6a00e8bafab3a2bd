"""Whether a value is only shown: written out or turned into text, with nothing decided by it.

A value a build answers differently (`torch.version.cuda` is None without CUDA, a memory
statistic is 0) breaks nothing where it is only printed, logged or formatted: the report says
"None" or "0 GB" there, which is what that build has. It matters where code computes with it or
branches on it.

A value is shown where it reaches, directly or (a number) through arithmetic and conversions
(`/ 1024**3`, `round(...)`, `int(...)`; not as a divisor, which raises where it is 0), one of:
- an f-string's replacement field, `str`/`repr`/`format`/`print`, a logger's or progress bar's
  method (`logger.info("%s", v)`, `bar.set_postfix(mem=v)`), `"%s" % v`, `"{}".format(v)`;
- `v or "N/A"`, a text default for a value that may be missing;
- a branch of a conditional expression that is itself shown (`{"cuda": v if on_gpu else ""}`);
- a value of a dict literal or of `dict(...)`: a record of metrics that a logger writes out;
- a key of a local record every other read of which is shown (`logs["peak"] = v`, then
  `tracker.log(logs)`), for the same reason;
- a method named for writing a metric out beyond those (`log_stats(...)`, `put_scalar(...)`);
- a local name assigned once from it whose every read in the same scope is itself shown
  (`peak = max_memory_allocated() / 1e9`, then `print(f"{peak:.2f} GB")`), up to three names on
  (`used = peak - start`, `share = used / total * 100`, then `print(share)`).

A memory statistic that a build without CUDA answers with 0 (the catalog's `[[statistic]]` tables:
`torch.cuda.max_memory_allocated()`) and that is only shown says what that build has: the walk
visits the call, with the device it is given, as displayed (`regions.DISPLAYED`, a note).
Computed with, compared or returned, it keeps its entry's severity.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from cudaudit.rules.python.nodes import Parents, subtree

SHOWN_BY = frozenset({"str", "repr", "format", "print"})
"""Builtins that only turn a value into text or write it out."""
SHOWING_METHODS = frozenset(
    {
        "debug", "info", "warning", "warn", "error", "critical", "exception", "log", "format", "print",
        "write", "set_postfix", "set_postfix_str", "set_description", "add_scalar", "add_scalars", "log_metrics",
        "log_dict",
    }
)
"""`logger.info(...)`, `"{}".format(...)`, `tqdm.set_postfix(...)`, `writer.add_scalar(...)`: methods that
only write a value out, into text or into a metrics log."""
_SHOWING_PREFIX = "log_"
_SHOWING_SUFFIXES = ("_scalar", "_scalars")
"""Metric writers by the shape of their names: `log_stats`, `log_scalar`, `put_scalar`, `record_scalars`."""
_CONVERSIONS = frozenset({"round", "int", "float", "abs"})
"""Builtins that keep a number a number: what they return is shown wherever their result is."""
_NAME_DEPTH = 3
"""How many names a value may pass through (`mem = ...; gb = mem / 1e9; print(gb)`)."""


def is_shown(value: ast.expr, parents: Parents, *, number: bool = False, depth: int = _NAME_DEPTH) -> bool:
    """Whether `value` reaches only places that show it (see the module's docstring). Only a
    `number` (never None) passes through arithmetic and conversions on its way."""
    node: ast.AST = value
    parent = parents.parent(node)
    while parent is not None and (_chooses(parent, node) or (number and _carries(parent, node))):
        node, parent = parent, parents.parent(parent)
    if isinstance(parent, ast.keyword):
        node, parent = parent, parents.parent(parent)
    if isinstance(parent, ast.FormattedValue):
        return True
    if isinstance(parent, ast.Call) and node is not parent.func:
        func = parent.func
        if isinstance(func, ast.Name):
            return func.id in SHOWN_BY or func.id == "dict"
        return isinstance(func, ast.Attribute) and _writes_out(func.attr)
    if isinstance(parent, ast.Dict):
        return any(v is node for v in parent.values)
    if isinstance(parent, ast.Tuple):
        parent = parents.parent(parent)
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mod) and parent.left is not node:
        return _is_text(parent.left)
    if isinstance(parent, ast.BoolOp) and isinstance(parent.op, ast.Or):
        return parent.values[0] is node and all(_is_text(v) for v in parent.values[1:])
    if isinstance(parent, ast.Assign) and depth > 0 and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
        reads = parents.reads_of_single_store(parent.targets[0])
        return bool(reads) and all(is_shown(read, parents, number=number, depth=depth - 1) for read in reads or ())
    record = _record(parent.targets[0]) if isinstance(parent, ast.Assign) and len(parent.targets) == 1 else None
    if record is not None and depth > 0:
        return _shown_record(record, parents, depth - 1)
    return False


def _writes_out(method: str) -> bool:
    """Whether a method of that name only writes a value out (`SHOWING_METHODS`, `log_stats`, `put_scalar`)."""
    return method in SHOWING_METHODS or method.startswith(_SHOWING_PREFIX) or method.endswith(_SHOWING_SUFFIXES)


def _record(target: ast.expr) -> ast.Name | None:
    """`logs` of a stored key `logs["peak"]`, where the record is a name."""
    return target.value if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) else None


def _shown_record(record: ast.Name, parents: Parents, depth: int) -> bool:
    """Whether the local record `record` (assigned once in its scope, from `{...}` or `dict(...)`) is
    only shown: every read of it other than a store of one of its keys is itself shown."""
    reads = [read for read in parents.reads_of_single_store(record) or () if not _stores_a_key(read, parents)]
    return (
        bool(reads) and _made_as_dict(record, parents)
        and all(is_shown(read, parents, depth=depth) for read in reads)
    )


def _made_as_dict(record: ast.Name, parents: Parents) -> bool:
    """Whether the one store of `record`'s name in its scope assigns a new dict."""
    for node in subtree(parents.scope(record)):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == record.id for t in node.targets):
            value = node.value
            return isinstance(value, ast.Dict) or (
                isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict"
            )
    return False


def _stores_a_key(read: ast.Name, parents: Parents) -> bool:
    parent = parents.parent(read)
    return isinstance(parent, ast.Subscript) and parent.value is read and isinstance(parent.ctx, ast.Store)


def _chooses(parent: ast.AST, node: ast.AST) -> bool:
    """Whether `parent` is a conditional expression that `node` is a branch of (`v if known else ""`): its
    value is the branch's, shown wherever the expression is."""
    return isinstance(parent, ast.IfExp) and parent.test is not node


def _carries(parent: ast.AST, node: ast.AST) -> bool:
    """Whether `parent` passes `node`'s value on as a number: arithmetic, or a conversion of it. A
    divisor does not: `used / peak` raises ZeroDivisionError where `peak` is 0."""
    if isinstance(parent, ast.UnaryOp):
        return True
    if isinstance(parent, ast.BinOp):
        if isinstance(parent.op, ast.Mod) and _is_text(parent.left):
            return False
        return parent.left is node or not isinstance(parent.op, (ast.Div, ast.FloorDiv, ast.Mod))
    return (
        isinstance(parent, ast.Call)
        and isinstance(parent.func, ast.Name)
        and parent.func.id in _CONVERSIONS
        and any(argument is node for argument in parent.args)
    )


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))



def statistics(tables: list[tuple[str, Any]]) -> frozenset[str]:
    """The names of the catalog's `[[statistic]]` tables."""
    return frozenset(row["name"] for _, rows in tables for row in rows)


def shown_calls(module: ast.Module, is_statistic: Callable[[ast.Call], bool]) -> set[int]:
    """The calls of `module` (by node id) that `is_statistic` picks and whose value is only shown."""
    parents = Parents(module)
    return {
        id(node)
        for node in subtree(module)
        if isinstance(node, ast.Call) and is_statistic(node) and is_shown(node, parents, number=True)
    }
