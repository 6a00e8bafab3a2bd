"""The tree-sitter CUDA grammar, loaded once per process, and the queries the analysis runs.

tree-sitter never refuses a file: code it cannot parse becomes an ERROR node and the rest
of the tree is intact, so one malformed macro never hides the findings after it.
"""

from __future__ import annotations

from functools import cache

import tree_sitter_cuda
from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree


@cache
def language() -> Language:
    return Language(tree_sitter_cuda.language())


@cache
def _parser() -> Parser:
    return Parser(language())


def parse(source: bytes) -> Tree:
    return _parser().parse(source)


@cache
def query(pattern: str) -> Query:
    """A compiled query; the patterns are constants of the modules that use them."""
    return Query(language(), pattern)


def matches(pattern: str, node: Node) -> list[dict[str, list[Node]]]:
    """Each match's captures, for patterns whose captures belong together."""
    return [found for _, found in QueryCursor(query(pattern)).matches(node)]


class QueryMatches:
    """One query's matches over a tree, grouped by the part before the `.` of their captures.

    Several modules' patterns run as one query, so the tree is walked once: a pattern whose
    captures are `call.fn` and `call.args` lands in `matches["call"]` as `{"call.fn": node, ...}`.
    """

    def __init__(self, pattern: str, root: Node) -> None:
        self._by_kind: dict[str, list[dict[str, Node]]] = {}
        for captured in matches(pattern, root):
            kind = next(iter(captured)).split(".")[0]
            self._by_kind.setdefault(kind, []).append({name: nodes[0] for name, nodes in captured.items()})

    def __getitem__(self, kind: str) -> list[dict[str, Node]]:
        return self._by_kind.get(kind, [])


def text(node: Node) -> str:
    return node.text.decode("utf-8", errors="replace") if node.text is not None else ""
