"""Keep rewritten lines within the project's own line length.

A fix that turns `DDP(m, device_ids=[local], output_device=local)` into conditional device ids
makes a long line; flake8 and ruff would then report E501 on code the project did not write.
The limit is read from the project's configuration, as its linters read it (each file with the
safe reader: a FIFO or a link to `/dev/zero` named `setup.cfg` is no configuration), and a new line over
it is split the way black splits one: first the contents of its last bracket onto an indented
line of their own, then, if that is still too long, one argument per line with a trailing comma.
"""

from __future__ import annotations

import ast
import configparser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cudaudit.safe_read import UnreadableFile, read_tree_file
from cudaudit.source import parse_python
from cudaudit.tomlcompat import tomllib

DEFAULT = 88
"""ruff's and black's default, for a project that configures neither."""
FLAKE8_DEFAULT = 79
"""pycodestyle's default, for a project that configures flake8 without a length."""
_INI_FILES = (("setup.cfg", ("flake8", "pycodestyle")), ("tox.ini", ("flake8", "pycodestyle")), (".flake8", ("flake8",)))


def project_line_length(root: Path) -> int:
    """The line length the project's linters enforce: ruff's, else black's, else flake8's."""
    for name in ("ruff.toml", ".ruff.toml"):
        length = _toml_value(root / name, ())
        if length is not None:
            return length
    for section in (("tool", "ruff"), ("tool", "black")):
        length = _toml_value(root / "pyproject.toml", section)
        if length is not None:
            return length
    flake8 = False
    for name, ini_sections in _INI_FILES:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(_config_text(root / name))
        except configparser.Error:
            continue
        for ini_section in ini_sections:
            if parser.has_section(ini_section):
                flake8 = True
                value = parser.get(ini_section, "max-line-length", fallback=None) or parser.get(
                    ini_section, "max_line_length", fallback=None
                )
                if value and value.strip().isdigit():
                    return int(value)
    return FLAKE8_DEFAULT if flake8 else DEFAULT


def _toml_value(path: Path, section: tuple[str, ...]) -> int | None:
    try:
        data: Any = tomllib.loads(_config_text(path))
    except (tomllib.TOMLDecodeError, RecursionError):
        return None
    for key in section:
        data = data.get(key) if isinstance(data, dict) else None
    value = data.get("line-length", data.get("line_length")) if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _config_text(path: Path) -> str:
    """A configuration file's text, read as any file of a scanned tree is; "" if it cannot be."""
    try:
        return read_tree_file(path, path.parent).decode("utf-8")
    except (UnreadableFile, UnicodeDecodeError):
        return ""


def wrap_new_long_lines(original: str, fixed: str, limit: int) -> str:
    """`fixed` with each line that is new and longer than `limit` split, where it can be."""
    old_lines = set(original.split("\n"))
    lines = fixed.split("\n")
    if all(len(line) <= limit or line in old_lines for line in lines):
        return fixed
    try:
        tree = parse_python(fixed)
    except SyntaxError:
        return fixed
    splits: dict[int, list[str]] = {}
    for statement in _simple_statements(tree):
        line = lines[statement.lineno - 1]
        if statement.lineno == statement.end_lineno and len(line) > limit and line not in old_lines:
            splits[statement.lineno] = _split(line, statement, limit)
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.lineno != n.end_lineno):
        for number, items in _argument_lines(call):
            line = lines[number - 1]
            if number not in splits and len(line) > limit and line not in old_lines:
                splits[number] = _one_per_line(line, items, call if number == call.lineno else None)
    for number in sorted(splits, reverse=True):
        lines[number - 1 : number] = splits[number]
    return "\n".join(lines)


def _argument_lines(call: ast.Call) -> Iterator[tuple[int, list[ast.expr | ast.keyword]]]:
    """Lines of a call written over several lines that hold only whole arguments."""
    by_line: dict[int, list[ast.expr | ast.keyword]] = {}
    arguments: list[ast.expr | ast.keyword] = [*call.args, *call.keywords]
    for argument in arguments:
        start = argument.lineno if not isinstance(argument, ast.keyword) else argument.value.lineno
        if start == argument.end_lineno and start != call.end_lineno:
            by_line.setdefault(start, []).append(argument)
    yield from ((number, items) for number, items in by_line.items() if len(items) > 1)


def _one_per_line(line: str, items: list[ast.expr | ast.keyword], opened_by: ast.Call | None) -> list[str]:
    """`    a, b=1, c=2` as one argument per line; unchanged unless the line is just those arguments.

    On the line that opens the call (`f(a, b=1,` with the rest aligned under `a`), the first
    argument stays after the parenthesis and the others line up under it, as the call's other
    lines already do."""
    data = line.encode()
    texts = [_source(data, item) for item in items]
    if opened_by is None:
        indent, head, body = line[: len(line) - len(line.lstrip())], "", line.strip()
    else:
        paren = data.index(b"(", opened_by.func.end_col_offset or 0) + 1
        head, body = data[:paren].decode(), data[paren:].decode().strip()
        indent = " " * len(head)
    if body.rstrip(",") != ", ".join(texts):
        return [line]
    if opened_by is not None:
        return [f"{head}{texts[0]},", *(f"{indent}{text}," for text in texts[1:])]
    return [f"{indent}{text}," for text in texts]  # the last line of arguments gets black's trailing comma


def _source(data: bytes, node: ast.expr | ast.keyword) -> str:
    start = node.col_offset
    if isinstance(node, ast.keyword) and node.arg is None:
        start = node.value.col_offset - 2  # `**kwargs`
    return data[start : node.end_col_offset].decode()


def _simple_statements(tree: ast.AST) -> Iterator[ast.stmt]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return)):
            yield node


def _split(line: str, statement: ast.stmt, limit: int) -> list[str]:
    """The statement on several lines, black's way; unchanged when no bracket can be split."""
    data = line.encode()
    indent = line[: len(line) - len(line.lstrip())]
    end = statement.end_col_offset or len(data)
    value = getattr(statement, "value", None)
    if value is None or value.end_col_offset != end:
        return [line]
    tail = data[end:].decode()
    bracket = _bracket(value, data)
    if bracket is not None:
        open_at, items = bracket
        head = data[: open_at + 1].decode()
        inside = data[open_at + 1 : end - 1].decode().strip()
        separator = "" if isinstance(value, (ast.ListComp, ast.SetComp, ast.DictComp)) else ","
        return _layout(head, inside, items, data[end - 1 : end].decode() + tail, indent, limit, separator)
    if isinstance(value, ast.IfExp):  # `x = a if c else b` goes in parentheses
        head = data[: value.col_offset].decode() + "("
        items = [_text(data, value.body), f"if {_text(data, value.test)}", f"else {_text(data, value.orelse)}"]
        return _layout(head, _text(data, value), items, ")" + tail, indent, limit, "")
    return [line]


def _bracket(value: ast.expr, data: bytes) -> tuple[int, list[str]] | None:
    """Where the bracket that closes the statement opens, and the items inside it."""
    if isinstance(value, ast.Call) and (value.args or value.keywords):
        arguments = [*(_text(data, a) for a in value.args), *(_text(data, k) for k in value.keywords)]
        return data.index(b"(", value.func.end_col_offset or 0), arguments
    if isinstance(value, (ast.List, ast.Set)) and value.elts:
        return value.col_offset, [_text(data, e) for e in value.elts]
    if isinstance(value, (ast.ListComp, ast.SetComp, ast.DictComp)):
        head = f"{_text(data, value.key)}: {_text(data, value.value)}" if isinstance(value, ast.DictComp) else _text(data, value.elt)
        clauses = [head]
        for generator in value.generators:
            clauses.append(f"{'async ' if generator.is_async else ''}for {_text(data, generator.target)} in {_text(data, generator.iter)}")
            clauses.extend(f"if {_text(data, condition)}" for condition in generator.ifs)
        return value.col_offset, clauses
    return None


def _layout(head: str, inside: str, items: list[str], close: str, indent: str, limit: int, separator: str) -> list[str]:
    inner = indent + "    "
    if len(inner + inside) <= limit or len(items) < 2:
        return [head, inner + inside, indent + close]
    return [head, *(inner + item + separator for item in items), indent + close]


def _text(data: bytes, node: ast.expr | ast.keyword) -> str:
    if isinstance(node, ast.keyword):
        value = _text(data, node.value)
        return f"**{value}" if node.arg is None else f"{node.arg}={value}"
    return data[node.col_offset : node.end_col_offset].decode()
