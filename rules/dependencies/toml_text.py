"""Where the strings, tables and keys of a TOML (or JSON) file are: `tomllib` has no positions.

The data comes from `tomllib`; this light scan of the text finds, for a value the data holds,
the string literal that wrote it: every string literal with its offset (comments skipped),
every table header with the part of the file it governs, and the line of a key in a table.
A value is looked up after an offset (its key, its table) and each literal is handed out once,
so repeated values map to successive literals in file order. JSON strings are TOML basic
strings, so `Pipfile.lock` is read with the same scan.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from typing import Any

from cudaudit.rules.dependencies.report import Placed
from cudaudit.source import UnparsableError
from cudaudit.tomlcompat import tomllib

_HEADER_START = re.compile(r"^[ \t]*\[", re.MULTILINE)
_HEADER_END = re.compile(r"(\])?[ \t]*(?:#.*)?")
_KEY_PART = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(?:\.|$)""")
_TOML_ERROR_LINE = re.compile(r"\(at line (\d+)")
_STRING_OR_COMMENT = re.compile(r"[\"'#]")
_BASIC = re.compile(r'"((?:[^"\\\n]|\\.)*)"?')
_LITERAL = re.compile(r"'([^'\n]*)'?")


def load_toml(text: str, what: str) -> dict[str, Any]:
    """The data of a TOML file; malformed TOML raises `UnparsableError` with its line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _TOML_ERROR_LINE.search(str(exc))
        raise UnparsableError(
            f"invalid TOML in {what}: {exc}; fix the syntax (tomllib must load it)", int(line.group(1)) if line else None
        ) from exc


@dataclass(frozen=True)
class StringLiteral:
    value: str
    start: int
    """Offset of the opening quote."""
    content: int
    """Offset of the first character of the value."""
    exact: bool
    """The value is the text as written (no escapes), so offsets inside it map to columns."""


@dataclass(frozen=True)
class Section:
    """A table header and the text it governs, up to the next header."""

    path: tuple[str, ...]
    array: bool
    start: int
    end: int


class TomlText:
    """Positions in one TOML or JSON text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        self.strings, multiline = _string_literals(text)
        self._by_value: dict[str, list[StringLiteral]] = {}
        for literal in self.strings:
            self._by_value.setdefault(literal.value, []).append(literal)
        self._used: set[int] = set()
        self.sections = _sections(text, multiline)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of an offset."""
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def placed(self, literal: StringLiteral) -> Placed:
        line, column = self.position(literal.content if literal.exact else literal.start)
        return placed_string(literal.value, line, column, literal.exact)

    def string(self, value: str, after: int = 0, before: int | None = None, take: bool = True) -> StringLiteral | None:
        """The first literal not yet handed out that writes `value`, within [after, before).

        `take=False` finds it without handing it out (to learn where an entry starts)."""
        candidates = self._by_value.get(value, [])
        for literal in candidates[bisect.bisect_left(candidates, after, key=lambda c: c.start) :]:
            if before is not None and literal.start >= before:
                return None
            if literal.start in self._used:
                continue
            if take:
                self._used.add(literal.start)
            return literal
        return None

    def key_placed(self, path: tuple[str, ...], key: str) -> Placed | None:
        """Where a bare or quoted key of table `path` is written (`torch = "==2.3.1"`)."""
        found = self.key(path, key)
        if found is None:
            return None
        line, column = self.position(found[0])
        return Placed.at(key, line, column)

    def elements(self, path: tuple[str, ...]) -> list[tuple[int, int]]:
        """(start, end) of each `[[path]]` element, its sub-tables included."""
        spans: list[list[int]] = []
        for section in self.sections:
            if section.path == path and section.array:
                spans.append([section.start, section.end])
            elif spans and spans[-1][1] == section.start and section.path[: len(path)] == path:
                spans[-1][1] = section.end
        return [(start, end) for start, end in spans]

    def key(self, path: tuple[str, ...], key: str) -> tuple[int, int] | None:
        """Offset and length of `key` as written in table `path` (or in an inline table under it)."""
        quoted = re.escape(key)
        pattern = re.compile(rf"""^[ \t]*(?:({quoted})|"({quoted})"|'({quoted})')[ \t]*=""", re.MULTILINE)
        inline = re.compile(rf"""(?:(?<![\w"'-])({quoted})|"({quoted})"|'({quoted})')[ \t]*=""")
        for section in self.sections:
            if section.path == path:
                found = pattern.search(self.text, section.start, section.end)
                if found:
                    group = next(g for g in (1, 2, 3) if found.group(g) is not None)
                    return found.start(group), len(key)
        for section in self.sections:
            if section.path == path[: len(section.path)] and section.path != path:
                found = inline.search(self.text, section.start, section.end)
                if found:
                    group = next(g for g in (1, 2, 3) if found.group(g) is not None)
                    return found.start(group), len(key)
        return None

    def section_start(self, path: tuple[str, ...]) -> int:
        """Where table `path` (or the closest enclosing one) begins; 0 when none is written."""
        for length in range(len(path), 0, -1):
            for section in self.sections:
                if section.path == path[:length]:
                    return section.start
        return 0


def placed_string(value: str, line: int, column: int, exact: bool) -> Placed:
    """A string value whose first character is at (line, column).

    An exact value maps character by character, across its own newlines; any other (one with
    escapes) maps every offset to where it starts, since columns inside it are unknown.
    """
    if not exact:
        return Placed(value, tuple((offset, line, column) for offset in range(len(value) + 1)))
    segments = [(0, line, column)]
    for offset, char in enumerate(value):
        if char == "\n":
            segments.append((offset + 1, line + len(segments), 1))
    return Placed(value, tuple(segments))


def _string_literals(text: str) -> tuple[list[StringLiteral], list[tuple[int, int]]]:
    """Every string literal outside comments, and the spans of the multi-line ones."""
    found: list[StringLiteral] = []
    multiline: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while (match := _STRING_OR_COMMENT.search(text, i)) is not None:
        i = match.start()
        if text[i] == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith('"""', i) or text.startswith("'''", i):
            quote = text[i : i + 3]
            end = _closing(text, i + 3, quote, escapes=quote == '"""', multiline=True)
            content = i + 3 + (text.startswith("\n", i + 3))
            found.append(_literal(text[content:end], i, content, escapes=quote == '"""'))
            multiline.append((i, end + 3))
            i = end + 3
        else:
            single = (_BASIC if text[i] == '"' else _LITERAL).match(text, i)
            assert single is not None, "a quote always starts a (maybe unterminated) string"
            found.append(_literal(single.group(1), i, i + 1, escapes=text[i] == '"'))
            i = single.end()
    return found, multiline


def _closing(text: str, i: int, quote: str, escapes: bool, multiline: bool) -> int:
    """Offset of the closing quote (or of the line end / text end for an unterminated string)."""
    n = len(text)
    while i < n:
        if escapes and text[i] == "\\":
            i += 2
            continue
        if text.startswith(quote, i):
            return i
        if text[i] == "\n" and not multiline:
            return i
        i += 1
    return n


def _literal(raw: str, start: int, content: int, escapes: bool) -> StringLiteral:
    if not escapes or "\\" not in raw:
        return StringLiteral(raw, start, content, exact=True)
    try:
        value = json.loads(f'"{raw}"')
    except ValueError:
        value = raw
    return StringLiteral(value, start, content, exact=False)


def _sections(text: str, multiline: list[tuple[int, int]]) -> list[Section]:
    headers = []
    for match in _HEADER_START.finditer(text):
        if any(start <= match.start() < end for start, end in multiline):
            continue
        line_end = text.find("\n", match.end())
        header = _header(text[match.end() : line_end if line_end >= 0 else len(text)])
        path = _key_path(header[0]) if header else None
        if header is not None and path is not None:
            headers.append((path, header[1], match.start()))
    return [
        Section(path, array, start, headers[index + 1][2] if index + 1 < len(headers) else len(text))
        for index, (path, array, start) in enumerate(headers)
    ]


def _header(rest: str) -> tuple[str, bool] | None:
    """The key of a table header line after its first `[`, and whether it is `[[...]]`; None if the
    line is not a header. The key ends at the first `]` after which only `]`, blanks and a comment
    follow. Each `]` is tried once and the tail check stops at the next non-blank, so a line of
    brackets and blanks is read in linear time (one regular expression for the whole line was cubic)."""
    opened = rest.startswith("[")
    body = rest[1:] if opened else rest
    position = body.find("]")
    while position >= 0:
        tail = _HEADER_END.match(body, position + 1)
        key = body[:position].strip(" \t")
        if tail is not None and tail.end() == len(body) and key:
            return key, opened and tail.group(1) is not None
        position = body.find("]", position + 1)
    return None


def _key_path(text: str) -> tuple[str, ...] | None:
    parts, position = [], 0
    while position < len(text):
        match = _KEY_PART.match(text, position)
        if match is None or match.end() == position:
            return None
        parts.append(next(g for g in match.groups() if g is not None))
        position = match.end()
    return tuple(parts)
