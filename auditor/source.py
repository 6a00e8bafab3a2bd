"""Source text: decoding the bytes of a file and mapping positions onto its lines."""

from __future__ import annotations

import ast
import codecs
import io
import os
import sys
import tokenize
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol

from cudaudit.model import Span
from cudaudit.newer_syntax import older_grammar
from cudaudit.safe_read import UnreadableFile, read_tree_file


class Located(Protocol):
    """A node of an `ast` tree that has a position (an expression, a statement, a keyword)."""

    lineno: int
    col_offset: int
    end_lineno: int | None
    end_col_offset: int | None


class UndecodableError(ValueError):
    """The bytes are not text in the encoding the file declares (or UTF-8)."""


class UnparsableError(ValueError):
    """A file's text does not parse as its kind (malformed YAML, TOML, Dockerfile...)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class _KeptTrees:
    """The syntax trees the project index's readers parsed in a scan, by source text (`keeping_trees`)."""

    def __init__(self) -> None:
        self.trees: dict[str, ast.Module] = {}
        self.room = 0
        """How many more characters of source may be kept."""
        self.last: tuple[str, ast.Module] | None = None
        """The last tree read beyond the room: the index's readers of one module run one after another
        (its device flags, then its package probes, its fallbacks, its skips), so the next reader of
        that module takes it."""
        self.active = False


_KEPT = _KeptTrees()


@contextmanager
def keeping_trees(room: int) -> Iterator[None]:
    """Within a scan, a module is parsed once: the tree a reader of the project index parses
    (`read_tree`) is kept for the readers after it and for the module's own analysis, which takes it
    (`parse_python`), up to `room` characters of source in all (a tree takes about 30 bytes of memory
    per character), and beyond that room the last tree read (`_KeptTrees.last`). Forked workers take
    theirs from the copy they inherit. What is left is dropped at the end."""
    _KEPT.room, _KEPT.active = room, True
    try:
        yield
    finally:
        _KEPT.trees.clear()
        _KEPT.room, _KEPT.active, _KEPT.last = 0, False, None


def read_tree(text: str, filename: str = "<unknown>") -> ast.Module:
    """`parse_python`'s tree for a reader that only reads it, never changes it: within a scan, the one
    tree of that text (`keeping_trees`)."""
    tree = _KEPT.trees.get(text)
    if tree is None:
        tree = parse_python(text, filename)
        if len(text) <= _KEPT.room:
            _KEPT.trees[text] = tree
            _KEPT.room -= len(text)
        elif _KEPT.active:
            _KEPT.last = (text, tree)
    return tree


def parse_python(text: str, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse` of scanned or fixed code, with the compiler's warnings about that code kept quiet;
    the tree a reader of the scan's index kept for this text (`keeping_trees`), which the caller
    then owns and may change, where there is one.

    Compiling `"\\d"` warns (a DeprecationWarning, a SyntaxWarning from Python 3.12), and Python
    prints a SyntaxWarning by default: a scan of a real tree would flood stderr with complaints
    about its code that are not cudaudit's findings, and under `-W error` a file would not parse."""
    kept = _KEPT.trees.pop(text, None)
    if kept is not None:
        return kept
    last = _KEPT.last
    if last is not None and last[0] == text:
        _KEPT.last = None
        return last[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return ast.parse(text, filename=filename)
        except SyntaxError:
            older = older_grammar(text) if sys.version_info < (3, 12) else None
            if older is None:
                raise
            return ast.parse(older, filename=filename)  # PEP 695 syntax on an older Python: `newer_syntax.py`


def decode_python(data: bytes) -> str:
    """Decode as Python does: BOM or PEP 263 coding cookie, else UTF-8; newlines become `\\n`."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise UndecodableError(str(exc)) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    return normalise_newlines(text)


def decode_text(data: bytes) -> str:
    """Decode a non-Python text file: UTF-8, with or without a BOM."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return normalise_newlines(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UndecodableError(f"not UTF-8 text: {exc}") from exc


def normalise_newlines(text: str) -> str:
    """`\r\n` and `\r` become `\n`, so lines are numbered as parsers number them."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class SourceLines:
    """The lines of a decoded file, for columns in characters and snippets of code."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")

    def line(self, number: int) -> str:
        """Line `number` (1-based), or "" past the end."""
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def char_column(self, number: int, byte_offset: int) -> int:
        """The 0-based character column of a UTF-8 byte offset into line `number`."""
        text = self.line(number)
        if text.isascii():
            return byte_offset
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))

    def span_from_utf8(self, line: int, col: int, end_line: int, end_col: int) -> Span:
        """A 1-based span from 1-based lines and 0-based UTF-8 byte columns (as `ast` gives)."""
        return Span(
            line,
            self.char_column(line, col) + 1,
            end_line,
            self.char_column(end_line, end_col) + 1,
        )

    def node_span(self, node: Located) -> Span:
        """The span of a node `ast.parse` made (which always sets its end)."""
        end_line = node.lineno if node.end_lineno is None else node.end_lineno
        end_col = node.col_offset if node.end_col_offset is None else node.end_col_offset
        return self.span_from_utf8(node.lineno, node.col_offset, end_line, end_col)

    def node_end(self, node: Located) -> Span:
        """The empty span just after a node: where text added after it goes."""
        end = self.node_span(node)
        return Span(end.end_line, end.end_column, end.end_line, end.end_column)

    def text(self, span: Span) -> str:
        """The exact text a span covers, across lines."""
        if span.line == span.end_line:
            return self.line(span.line)[span.column - 1 : span.end_column - 1]
        parts = [self.line(span.line)[span.column - 1 :]]
        parts += [self.line(n) for n in range(span.line + 1, span.end_line)]
        parts.append(self.line(span.end_line)[: span.end_column - 1])
        return "\n".join(parts)

    def snippet(self, span: Span, limit: int = 80) -> str:
        """The code a span covers on one line, shortened to `limit` characters."""
        if span.line == span.end_line:
            text = self.line(span.line)[span.column - 1 : span.end_column - 1]
        else:
            text = self.line(span.line)[span.column - 1 :].rstrip() + " …"
        text = " ".join(text.split())
        return text if len(text) <= limit else text[: limit - 1] + "…"


def reread_lines(path: str, buffers: Mapping[str, bytes] | None = None) -> SourceLines:
    """The lines of an analysed file, read again for a report to quote (undecodable bytes
    replaced); empty when it can no longer be read as a regular file of its folder.

    A buffer the scan read from standard input is quoted from `buffers`: the file of that name
    holds what was saved, not what was analysed."""
    data = (buffers or {}).get(path)
    if data is None:
        try:
            data = read_tree_file(path, os.path.dirname(os.path.abspath(path)))
        except UnreadableFile:
            data = b""
    return SourceLines(normalise_newlines(data.decode("utf-8", errors="replace")))
