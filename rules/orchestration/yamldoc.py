"""YAML read safely, keeping where every key and value is.

Composing is the safe level of a YAML parser: it builds the node graph (mappings, sequences,
scalars, their tags and their marks) and never turns a tag into a Python object, so
`!!python/object:os.system` in a scanned file stays an inert tag. The marks give the line
and column each finding points at. PyYAML composes with libyaml (`CSafeLoader`), in C, about
ten times faster than a composer in Python; its marks count characters, as the text is indexed.

An alias shares its anchor's node: a value defined once under `x-gpu: &gpu` and merged into
three services is one node, reported once where it is written. Walks over the whole graph
remember the nodes they visited, so a document of aliases of aliases (the "billion laughs")
costs no more than its text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cudaudit.model import Span
from cudaudit.source import UnparsableError

_MERGE_TAG = "tag:yaml.org,2002:merge"
_NULL_TAG = "tag:yaml.org,2002:null"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader where PyYAML was built with it (every wheel on PyPI is), else the same in Python."""


def load_documents(text: str) -> list[Node]:
    """The root node of every document in `text`; raises UnparsableError for malformed YAML."""
    try:
        return list(yaml.compose_all(text, Loader=LOADER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(part for part in (exc.problem, exc.context and f"({exc.context})") if part)
        raise UnparsableError(f"invalid YAML: {problem or 'malformed'}", mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise UnparsableError(f"invalid YAML: {exc}") from exc


def pairs(node: Node | None) -> Iterator[tuple[ScalarNode, Node]]:
    """The keys and values of a mapping, then those `<<: *base` merges in (own keys come first)."""
    yield from _pairs(node, set())


def _pairs(node: Node | None, seen: set[int]) -> Iterator[tuple[ScalarNode, Node]]:
    if not isinstance(node, MappingNode) or id(node) in seen:
        return
    seen.add(id(node))
    merged: list[Node] = []
    for key, value in node.value:
        if key.tag == _MERGE_TAG:
            merged.extend(value.value if isinstance(value, SequenceNode) else [value])
        elif isinstance(key, ScalarNode):
            yield key, value
    for base in merged:
        yield from _pairs(base, seen)


def entry(node: Node | None, key: str) -> tuple[ScalarNode, Node] | None:
    """The key node and value node of `key` in a mapping, or None."""
    return next(((k, v) for k, v in pairs(node) if k.value == key), None)


def get(node: Node | None, key: str) -> Node | None:
    """The value of `key` in a mapping, or None."""
    found = entry(node, key)
    return found[1] if found else None


def scalar(node: Node | None) -> str | None:
    """The text of a scalar (`true`, `1` and `nvidia` alike), or None for anything else or null."""
    if isinstance(node, ScalarNode) and node.tag != _NULL_TAG:
        return node.value
    return None


def items(node: Node | None) -> list[Node]:
    """The items of a sequence, or no items."""
    return list(node.value) if isinstance(node, SequenceNode) else []


def scalars(node: Node | None) -> list[ScalarNode]:
    """A scalar or a sequence of scalars as scalar nodes (`runs-on: x` and `runs-on: [x, y]`)."""
    if isinstance(node, ScalarNode) and scalar(node) is not None:
        return [node]
    return [item for item in items(node) if isinstance(item, ScalarNode) and scalar(item) is not None]


def mappings(root: Node) -> Iterator[MappingNode]:
    """Every mapping in the graph under `root`, each once."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            yield node
            stack.extend(value for _, value in reversed(node.value))
        elif isinstance(node, SequenceNode):
            stack.extend(reversed(node.value))


def node_span(node: Node) -> Span:
    """Where a node is written: a key, a one-line scalar, or the first line of anything longer."""
    start, end = node.start_mark, node.end_mark
    if end.line != start.line:
        return Span(start.line + 1, start.column + 1, start.line + 1, start.column + 2)
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def pair_span(key: Node, value: Node) -> Span:
    """`key: value` when the value ends on the key's line (`runs-on: [self-hosted, gpu]`), else the key alone."""
    written = scalar(value) is not None or not isinstance(value, ScalarNode)
    if written and value.end_mark.line == key.start_mark.line:
        start, end = key.start_mark, value.end_mark
        return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)
    return node_span(key)


def scalar_source(node: ScalarNode, text: str) -> tuple[str, int]:
    """A scalar's text as written in the file and the offset where it starts.

    Shell scripts are read from the file rather than from the parsed value, so a word's
    offset in the script is its place in the file: a block scalar loses its `|` header
    line, a quoted one its quotes.
    """
    start, end = node.start_mark.index, node.end_mark.index
    if node.style in ("|", ">"):
        newline = text.find("\n", start, end)
        start = end if newline < 0 else newline + 1
    elif node.style in ('"', "'"):
        start, end = start + 1, max(start + 1, end - 1)
    return text[start:end], start


class Positions:
    """Offsets into a file's text as 1-based lines and columns."""

    def __init__(self, text: str) -> None:
        self._starts = [0]
        self._starts.extend(match.end() for match in re.finditer("\n", text))

    def span(self, start: int, end: int) -> Span:
        line, column = self._position(start)
        end_line, end_column = self._position(end)
        return Span(line, column, end_line, end_column)

    def _position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1
