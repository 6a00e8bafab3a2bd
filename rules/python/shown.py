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
- a value of a dict literal or of `dict(...)`: a record of metrics that a logger writes out; and
  so is the second of a pair whose first names it (`("torch cuda version", v)`, a report's item);
- a key of a local record every other read of which is shown (`logs["peak"] = v`, then
  `tracker.log(logs)`), for the same reason, or returned to calls that each show it, whole or by its
  keys, where the module makes every call of the function (a script's: `m = run_record()`, then
  `print(m)` and `f"CUDA {m['cuda']}"`);
- a method named for writing a metric out beyond those (`log_stats(...)`, `put_scalar(...)`);
- the value of a named metric handed to a recorder (`stats.report0("Resources/peak_gb", v)`, a
  method named `report...`/`record...` whose first argument is the metric's name), where what the
  call returns (such recorders hand the value back) is itself shown or dropped;
- a local name assigned once from it whose every read in the same scope is itself shown
  (`peak = max_memory_allocated() / 1e9`, then `print(f"{peak:.2f} GB")`), up to three names on
  (`used = peak - start`, `share = used / total * 100`, then `print(share)`), or is the test of an
  `if` with no `else` whose statements only show it (`if arch: rows.append(("arch list", arch))`);
  so is an attribute an object stores on itself (`self.before = max_memory_allocated() / 2**30`) whose
  every read in the module, on any object, is shown (`print(f"{self.before:.2f} GB")` in `__exit__`);
  so is a function's local name assigned several times, each time by a plain assignment, whose every
  read is shown (`after = memory_allocated()` after loading and again after quantizing, each followed
  by `logger.info(f"{after - before} bytes")`).

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
_RECORDER_PREFIXES = ("report", "record")
"""`report0("Timing/total_sec", v)`, `record_metric("loss", v)`: recorders of a named metric, by the shape of
their names (their first argument, text, names the metric)."""
_CONVERSIONS = frozenset({"round", "int", "float", "abs"})
"""Builtins that keep a number a number: what they return is shown wherever their result is."""
_NAME_DEPTH = 3
"""How many names a value may pass through (`mem = ...; gb = mem / 1e9; print(gb)`)."""


Callers = Callable[[ast.AST], "list[ast.Call] | None"]
"""The calls of a function, by its node, where the module makes every one of them (`script_callers`);
None where others may call it."""


def is_shown(
    value: ast.expr, parents: Parents, *, number: bool = False, depth: int = _NAME_DEPTH, callers: Callers | None = None
) -> bool:
    """Whether `value` reaches only places that show it (see the module's docstring). Only a
    `number` (never None) passes through arithmetic and conversions on its way; a record a function
    returns is followed to its calls where `callers` knows them all."""
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
        if isinstance(func, ast.Attribute) and _records(parent, node):
            return isinstance(parents.parent(parent), ast.Expr) or is_shown(
                parent, parents, number=number, depth=depth, callers=callers
            )
        return isinstance(func, ast.Attribute) and _writes_out(func.attr)
    if isinstance(parent, ast.Dict):
        return any(v is node for v in parent.values)
    if isinstance(parent, ast.Tuple) and _labelled(parent, node):
        return True
    if isinstance(parent, ast.Tuple):
        parent = parents.parent(parent)
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mod) and parent.left is not node:
        return _is_text(parent.left)
    if isinstance(parent, ast.BoolOp) and isinstance(parent.op, ast.Or):
        return parent.values[0] is node and all(_is_text(v) for v in parent.values[1:])
    if isinstance(parent, ast.Assign) and depth > 0 and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
        reads = parents.reads_of_single_store(parent.targets[0])
        if reads is None:
            reads = parents.reads_of_assignments(parent.targets[0])
        return bool(reads) and all(
            is_shown(read, parents, number=number, depth=depth - 1, callers=callers) or _tests_before_showing(read, parents)
            for read in reads or ()
        )
    stored = _own_attribute(parent.targets[0]) if isinstance(parent, ast.Assign) and len(parent.targets) == 1 else None
    if stored is not None and depth > 0:
        loads = _attribute_reads(stored, parents)
        return bool(loads) and all(is_shown(load, parents, number=number, depth=depth - 1, callers=callers) for load in loads)
    record = _record(parent.targets[0]) if isinstance(parent, ast.Assign) and len(parent.targets) == 1 else None
    if record is not None and depth > 0:
        return _shown_record(record, parents, depth - 1, callers)
    return False


def _own_attribute(target: ast.expr) -> ast.Attribute | None:
    """`self.before`: an attribute the object stores on itself."""
    own = isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"
    return target if own and isinstance(target, ast.Attribute) else None


def _attribute_reads(target: ast.Attribute, parents: Parents) -> list[ast.Attribute]:
    """Every read of the attribute's name in the module, on any object (`self.before`, `monitor.before`)."""
    root: ast.AST = target
    while (above := parents.parent(root)) is not None:
        root = above
    return [
        node for node in subtree(root)
        if isinstance(node, ast.Attribute) and node.attr == target.attr and isinstance(node.ctx, ast.Load)
    ]


def _tests_before_showing(read: ast.Name, parents: Parents) -> bool:
    """`if arch:` or `if arch is not None:`, with no `else`, whose every statement is an expression
    that reads the same name (`rows.append(("arch list", arch))`): a test of whether there is anything
    to show, which decides nothing else. The reads in its body are the name's other reads, each of
    which has to be shown for the name to be."""
    test: ast.AST = read
    parent = parents.parent(read)
    if (
        isinstance(parent, ast.Compare) and len(parent.ops) == 1 and isinstance(parent.ops[0], ast.IsNot)
        and isinstance(parent.comparators[0], ast.Constant) and parent.comparators[0].value is None
    ):
        test, parent = parent, parents.parent(parent)
    return (
        isinstance(parent, ast.If) and parent.test is test and not parent.orelse
        and all(
            isinstance(statement, ast.Expr)
            and any(isinstance(n, ast.Name) and n.id == read.id for n in subtree(statement))
            for statement in parent.body
        )
    )


def _labelled(pair: ast.Tuple, node: ast.AST) -> bool:
    """`("torch cuda version", v)`: a value paired with the words that name it, an item of a report
    as a dict's value is one (a label is text with a letter in it, not a version to compare with)."""
    return len(pair.elts) == 2 and pair.elts[1] is node and _is_label(pair.elts[0])


def _is_label(node: ast.expr) -> bool:
    """Text with a letter in it: words that name a value (not a version to compare with)."""
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and any(c.isalpha() for c in node.value)


def _writes_out(method: str) -> bool:
    """Whether a method of that name only writes a value out (`SHOWING_METHODS`, `log_stats`, `put_scalar`)."""
    return method in SHOWING_METHODS or method.startswith(_SHOWING_PREFIX) or method.endswith(_SHOWING_SUFFIXES)


def _records(call: ast.Call, node: ast.AST) -> bool:
    """Whether `call` records `node` as a named metric: `stats.report0("Resources/peak_gb", node)`."""
    return (
        isinstance(call.func, ast.Attribute) and call.func.attr.startswith(_RECORDER_PREFIXES)
        and len(call.args) == 2 and call.args[1] is node and _is_label(call.args[0])
    )


def _record(target: ast.expr) -> ast.Name | None:
    """`logs` of a stored key `logs["peak"]`, where the record is a name."""
    return target.value if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) else None


def _shown_record(record: ast.Name, parents: Parents, depth: int, callers: Callers | None) -> bool:
    """Whether the local record `record` (assigned once in its scope, from `{...}` or `dict(...)`) is
    only shown: every read of it other than a store of one of its keys is itself shown, or returns
    it to calls that show it."""
    reads = [read for read in parents.reads_of_single_store(record) or () if not _stores_a_key(read, parents)]
    return (
        bool(reads) and _made_as_dict(record, parents)
        and all(
            _returned_shown(read, parents, depth, callers)
            if isinstance(parents.parent(read), ast.Return)
            else is_shown(read, parents, depth=depth, callers=callers)
            for read in reads
        )
    )


def _returned_shown(read: ast.Name, parents: Parents, depth: int, callers: Callers | None) -> bool:
    """`return meta` of a record (`meta = {...}`, `meta["cuda"] = torch.version.cuda`): shown where the
    module makes every call of its function and each shows what it gets, whole or by its keys
    (`m = run_metadata()`, then `print(m)` and `f"CUDA {m['cuda']}"`)."""
    calls = callers(parents.scope(read)) if callers is not None and depth > 0 else None
    return bool(calls) and all(_shown_by_keys(call, parents, depth - 1) for call in calls or ())


def _shown_by_keys(call: ast.Call, parents: Parents, depth: int) -> bool:
    """Whether the record `call` returns is shown: itself, or through a name every read of which shows
    it or one of its keys (`m["cuda"]`: the record is a dict the function made, so the key is there)."""
    if is_shown(call, parents, depth=depth):
        return True
    parent = parents.parent(call)
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)):
        return False
    reads = parents.reads_of_single_store(parent.targets[0])
    return bool(reads) and all(
        is_shown(read, parents, depth=depth) or _shown_key(read, parents, depth) for read in reads or ()
    )


def _shown_key(read: ast.Name, parents: Parents, depth: int) -> bool:
    """`record["cuda"]`, read and shown."""
    parent = parents.parent(read)
    return (
        isinstance(parent, ast.Subscript) and parent.value is read and isinstance(parent.ctx, ast.Load)
        and is_shown(parent, parents, depth=depth)
    )


def script_callers(module: ast.Module) -> Callers:
    """The calls of a script's functions (a module nothing imports calls them itself): those of a
    function its module defines once, where every mention of its name (`f`, `self.f`) calls it."""
    defined: dict[str, int] = {}
    mentions: dict[str, int] = {}
    calls: dict[str, list[ast.Call]] = {}
    for node in subtree(module):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined[node.name] = defined.get(node.name, 0) + 1
        elif isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            calls.setdefault(_called_name(node.func), []).append(node)
        elif isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
            name = _called_name(node)
            mentions[name] = mentions.get(name, 0) + 1

    def found(function: ast.AST) -> list[ast.Call] | None:
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or defined.get(function.name) != 1:
            return None
        called = calls.get(function.name, [])
        return called if called and len(called) == mentions.get(function.name, 0) else None

    return found


def _called_name(node: ast.Name | ast.Attribute) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr


def _made_as_dict(record: ast.Name, parents: Parents) -> bool:
    """Whether the one store of `record`'s name in its scope assigns a new dict."""
    for node in subtree(parents.scope(record)):
        value: ast.expr | None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):  # `env: dict = {...}`
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == record.id for t in targets):
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
