"""The text of a Python string literal with the file position of each of its characters.

`ast` gives a literal's value but not where each character came from. Reading the literal's
own tokens back (implicit concatenation, prefixes, triple quotes, escapes) maps every
character of the value to the line and column it was written at, so a finding inside a CUDA
kernel string points at the right place in the `.py` file.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import unicodedata

from cudaudit.rules.kernels.positions import EmbeddedPositions
from cudaudit.source import SourceLines

_PREFIX = re.compile(r"^([A-Za-z]*)('''|\"\"\"|'|\")")
_ESCAPE = re.compile(r"\\(?:\n|N\{[^}]*\}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|.)", re.S)
_SIMPLE = {"\n": "", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def literal_positions(node: ast.Constant, lines: SourceLines) -> EmbeddedPositions | None:
    """The value of a `str` constant and each character's place; None if it cannot be mapped."""
    if not isinstance(node.value, str) or node.end_lineno is None or node.end_col_offset is None:
        return None
    start_col = lines.char_column(node.lineno, node.col_offset)
    end_col = lines.char_column(node.end_lineno, node.end_col_offset)
    segment = _segment(lines, node.lineno, start_col, node.end_lineno, end_col)
    text: list[str] = []
    places: list[tuple[int, int]] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(segment).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    for token in tokens:
        if token.type != tokenize.STRING:
            continue
        line = node.lineno + token.start[0] - 1
        column = token.start[1] + (start_col if token.start[0] == 1 else 0)
        _read_token(token.string, line, column, text, places)
    value = "".join(text)
    if value != node.value:
        return None  # a form this reader does not follow (should not happen): report nothing inside
    return EmbeddedPositions(value, places)


def _segment(lines: SourceLines, line: int, col: int, end_line: int, end_col: int) -> str:
    if line == end_line:
        return lines.line(line)[col:end_col]
    parts = [lines.line(line)[col:]]
    parts += [lines.line(n) for n in range(line + 1, end_line)]
    parts.append(lines.line(end_line)[:end_col])
    return "\n".join(parts)


def _read_token(token: str, line: int, column: int, text: list[str], places: list[tuple[int, int]]) -> None:
    """Append one string token's characters and their places (line, 0-based column)."""
    match = _PREFIX.match(token)
    if match is None:
        return
    prefix, quote = match.groups()
    raw = "r" in prefix.lower()
    body_start = len(prefix) + len(quote)
    body = token[body_start : len(token) - len(quote)]
    line, column = _advance(token[:body_start], line, column)
    position = 0
    while position < len(body):
        escape = None if raw else _ESCAPE.match(body, position)
        if body[position] == "\\" and escape is not None:
            piece = escape.group()
            value = _unescape(piece)
            for char in value:
                text.append(char)
                places.append((line, column))
        else:
            piece = body[position]
            text.append(piece)
            places.append((line, column))
        line, column = _advance(piece, line, column)
        position += len(piece)


def _unescape(piece: str) -> str:
    """The value of one backslash escape; an unknown one (`\\d`) keeps its backslash, as Python does."""
    code = piece[1:]
    if code in _SIMPLE:
        return _SIMPLE[code]
    if code[0] in "xuU01234567":
        return chr(int(code[1:], 16) if code[0] in "xuU" else int(code, 8))
    if code[0] == "N":
        return unicodedata.lookup(code[2:-1])
    return piece


def _advance(piece: str, line: int, column: int) -> tuple[int, int]:
    newlines = piece.count("\n")
    if newlines:
        return line + newlines, len(piece) - piece.rfind("\n") - 1
    return line, column + len(piece)
