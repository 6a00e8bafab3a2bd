"""Keep rewritten lines within the project's own line length.

A fix that turns `DDP(m, device_ids=[local], output_device=local)` into conditional device ids
makes a long line; flake8 and ruff would then report E501 on code the project did not write.
The limit is read from the project's configuration, as its linters read it, and a new line over
it is split the way black splits one: first the contents of its last bracket onto an indented
line of their own, then, if that is still too long, one argument per line with a trailing comma.
"""

from __future__ import annotations

import ast
import configparser
from collections.abc import Iterator
from pathlib import Path

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
    for name, sections in _INI_FILES:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(root / name, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        for section in sections:
            if parser.has_section(section):
                flake8 = True
                value = parser.get(section, "max-line-length", fallback=None) or parser.get(
                    section, "max_line_length", fallback=None
                )
                if value and value.strip().isdigit():
                    return int(value)
    return FLAKE8_DEFAULT if flake8 else DEFAULT


def _toml_value(path: Path, section: tuple[str, ...]) -> int | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    for key in section:
        data = data.get(key) if isinstance(data, dict) else None
    value = data.get("line-length", data.get("line_length")) if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def wrap_new_long_lines(original: str, fixed: str, limit: int) -> str:
    """`fixed` with each line that is new and longer than `limit` split, where it can be."""
    old_lines = set(original.split("\n"))
    lines = fixed.split("\n")
    if all(len(line) <= limit or line in old_lines for line in lines):
        return fixed
    try:
        tree = ast.parse(fixed)
    except SyntaxError:
        return fixed
    statements = [s for s in _simple_statements(tree) if s.lineno == s.end_lineno]
    for statement in sorted(statements, key=lambda s: s.lineno, reverse=True):
        line = lines[statement.lineno - 1]
        if len(line) > limit and line not in old_lines:
            lines[statement.lineno - 1 : statement.lineno] = _split(line, statement, limit)
    return "\n".join(lines)


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
        return data.index(b"(", value.func.end_col_offset or 0), [_text(data, a) for a in (*value.args, *value.keywords)]
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


def _text(data: bytes, node: ast.AST) -> str:
    if isinstance(node, ast.keyword):
        value = _text(data, node.value)
        return f"**{value}" if node.arg is None else f"{node.arg}={value}"
    return data[node.col_offset : node.end_col_offset].decode()  # type: ignore[attr-defined]
