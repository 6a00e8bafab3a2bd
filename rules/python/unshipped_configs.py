"""A library's `__main__` block that loads a configuration file the project does not ship.

A module other modules import keeps a self-test in its `if __name__ == "__main__":` block, another
path already (`main_block.py`). Where that block, whenever it runs, loads a configuration by a literal
path (`OmegaConf.load("../../configs/dev/scratch.yaml")`, `with open("configs/local.yml") as f:`) and
no file of the scan is at that path, the block stops there on every target, as the project ships it: the
file was its author's, left out of the repository. What the block does after that load (`model.cuda()`,
`torch.randn(...).cuda()`) runs nowhere, so it breaks no target: the sites are quiet everywhere, as
those of a function nothing calls are (`unused.py`).

Only a load that runs whenever the block does counts: a statement of the block itself, or one inside
a `with` of it, outside every branch, loop, `try`, function and lambda. A load is a call that fails on
a missing file, whose first argument is the literal: its function's last name is a loader's whole name
(`load`, `safe_load`, `full_load`, `fromfile`, `open` to read), or a snake_case name with `load` a
word of it (`load_config`, `recursive_load_config`: the projects' own wrappers of `OmegaConf.load`). `download` is no load,
and `ConfigParser.read` is none either: it skips a missing file. The literal is a configuration's path
(`.yaml`, `.yml`, `.toml`, `.cfg`, `.ini`), with no placeholder nor space in it (a data file, a `.json`
of annotations, is often the user's to download as the README says: not read here), and no `://` (a
URL is fetched, never shipped). A path the block names before the load (`open(path, "w")`,
`OmegaConf.save(cfg, path)`, `path = ...`) is one it may make itself, and one whose `..` climbs above
the scanned folder from the module's own may be a file outside the scan: neither counts. A path is
shipped where a file of the scan ends with it once its leading `./` and `../` are taken off, whatever
folder the block is run from. A script's block (one nothing imports) is left alone: a documented
command's configuration may be the user's to write.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator

from cudaudit.rules.python.main_block import main_block_span
from cudaudit.rules.python.nodes import is_main_test
from cudaudit.source import decode_python, read_tree

_CONFIG_PATH = r"""[^'"\s{}%*$]+\.(?:ya?ml|toml|cfg|ini)"""
"""A configuration file's path without a space or a placeholder (`{name}`, `%s`, `*`, `$HOME`)."""
_LITERAL = re.compile(("['\"]" + _CONFIG_PATH + "['\"]").encode())
"""A quoted configuration path: the byte test a block must pass before it is parsed."""
_PATH = re.compile(_CONFIG_PATH)
_LOADER = re.compile(r"(?:\w+_)?load(?:_\w+)?|open|fromfile")
"""A loader's name, matched in full (`fullmatch`): `load` a whole word of it, so `download` and `reader` are none."""
_UNCONDITIONAL = (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign)
"""Statements whose every call runs whenever the statement does (a `with` is read through its items and body)."""
_BRANCHING = (ast.Lambda, ast.IfExp, ast.BoolOp, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
"""Expressions part of which may not run: a load inside one is not sure to."""


def unshipped_load(path: str, data: bytes, shipped: Callable[[str], bool]) -> tuple[int, int] | None:
    """(last line of the statement that loads the configuration, last line of the block) for the first
    sure load of the module's `__main__` block of a configuration whose path `shipped` says no file of
    the scan has; None where there is no such load."""
    span = main_block_span(data)
    if span is None or _LITERAL.search(data, *span) is None:
        return None
    try:
        tree = read_tree(decode_python(data), filename=path)
    except (SyntaxError, ValueError):  # an unparsable module loads nothing here; its own analysis says why
        return None
    depth = path.replace("\\", "/").count("/")
    for block in tree.body:
        if isinstance(block, ast.If) and is_main_test(block.test):
            for line, node in _sure_loads(block.body):
                literal = str(node.value)  # a string: `_expression_loads` yields no other constant
                if not (_named_before(block, node) or _climbs_out(literal, depth) or shipped(literal)):
                    return line, block.end_lineno or block.lineno
    return None


def _named_before(block: ast.If, literal: ast.Constant) -> bool:
    """Whether the block names the literal's path before the load does (`open(path, "w")`, a
    `save`/`dump` to it, `path = ...`): a file it may make, or check, before reading it."""
    where = (literal.lineno, literal.col_offset)
    return any(
        isinstance(node, ast.Constant) and node.value == literal.value and (node.lineno, node.col_offset) < where
        for statement in block.body
        for node in ast.walk(statement)
    )


def _climbs_out(literal: str, depth: int) -> bool:
    """Whether a relative path's `..` climbs above the scanned folder from the module's folder (`depth`
    folders below it): the file may be one outside the scan, so the scan cannot say it is missing."""
    if literal.startswith(("/", "\\")):
        return False
    level = depth
    for part in literal.replace("\\", "/").split("/"):
        if part == "..":
            level -= 1
        elif part not in ("", "."):
            level += 1
        if level < 0:
            return True
    return False


def shipped_in(displays: frozenset[str]) -> Callable[[str], bool]:
    """Whether a literal path names a file among `displays` (the scan's display paths): one ends with
    it, its leading `./` and `../` taken off."""

    def shipped(literal: str) -> bool:
        parts = [part for part in literal.replace("\\", "/").split("/") if part not in ("", ".", "..")]
        tail = "/".join(parts)
        return bool(tail) and any(display == tail or display.endswith("/" + tail) for display in displays)

    return shipped


def _sure_loads(body: list[ast.stmt]) -> Iterator[tuple[int, ast.Constant]]:
    """(last line of the load's statement, literal path's node) for each load of a configuration that runs
    whenever `body` does: the innermost statement holding the call, or a `with`'s item."""
    for statement in body:
        if isinstance(statement, (ast.With, ast.AsyncWith)):
            for item in statement.items:
                for literal in _expression_loads(item.context_expr):
                    yield item.context_expr.end_lineno or statement.lineno, literal
            yield from _sure_loads(statement.body)
        elif isinstance(statement, _UNCONDITIONAL) and statement.value is not None:
            for literal in _expression_loads(statement.value):
                yield statement.end_lineno or statement.lineno, literal


def _expression_loads(node: ast.AST) -> Iterator[ast.Constant]:
    """The configuration paths the calls of `node` that always run load, innermost first."""
    if isinstance(node, _BRANCHING):
        return
    for child in ast.iter_child_nodes(node):
        yield from _expression_loads(child)
    if isinstance(node, ast.Call) and node.args and _LOADER.fullmatch(_last_name(node.func)) and not _writes(node):
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and _is_config_path(first.value):
            yield first


def _writes(call: ast.Call) -> bool:
    """Whether a call opens its file to write it (`open(path, "w")`): a file it makes, not one it reads."""
    modes = [*call.args[1:2], *(keyword.value for keyword in call.keywords if keyword.arg == "mode")]
    return any(isinstance(mode, ast.Constant) and isinstance(mode.value, str) and set(mode.value) & set("wax") for mode in modes)


def _is_config_path(value: str) -> bool:
    """Whether a string is a configuration file's path (`_CONFIG_PATH`) with a name before its suffix."""
    return _PATH.fullmatch(value) is not None and "://" not in value and not value.replace("\\", "/").rpartition("/")[2].startswith(".")


def _last_name(func: ast.expr) -> str:
    """The called name: `load` of `OmegaConf.load`, `open` of `open`."""
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""
