"""CUDA API references: every identifier, `::`-qualified name and `#include` of a CUDA source
that the generated API table or a name-keyed hazard rule knows.

Names are found with a regular expression over the bytes (a tree-sitter query would hand
every identifier of the file to Python) and kept only where the code map says they are code:
not in a comment, a literal, an include path, or the definition of a macro or function of the
file's own. Identifiers inside macro bodies count, as they do for HIPIFY.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from cudaudit.rules.catalog import Catalog, Entry, WordSearch
from cudaudit.rules.kernels.api_table import ApiTable
from cudaudit.rules.kernels.code_map import CodeMap
from cudaudit.rules.kernels.hits import CudaHit
from cudaudit.rules.kernels.prose import Prose

SYMBOL_DETECTOR = "cuda-symbol"
"""Hazard rules keyed by a name: `nvcuda::wmma::*`, `cutlass::*`, `tex2D`, `__managed__`."""

TEMPLATE_ONLY = frozenset({"texture"})
"""Names that are CUDA only as a template (`texture<float, 1>`): as a plain word, a variable."""

_SPACE = re.compile(r"[ \t]+")
_LOWER_PLAIN = re.compile(r"[a-z][a-z0-9_]*")


def references(source: bytes, code: CodeMap, table: ApiTable, catalog: Catalog) -> Iterator[CudaHit]:
    symbols = _SymbolKeys(catalog)
    for match in _name_pattern(table, catalog).finditer(source):
        start, end = match.span()
        if not code.is_code(start, end) or code.is_definition(start, end):
            continue
        name = _name(match)
        if name in code.defined_names:
            continue
        for known in _entries(name, source[end : end + 8], table, symbols):
            yield CudaHit(known, start, end)
    for start, end, path in code.includes:
        entry = table.include(path.strip("<>\" \t"))
        if entry is not None:
            yield CudaHit(entry, start, end)


def may_refer(source: bytes, table: ApiTable, catalog: Catalog) -> bool:
    """Whether `references` may find anything in `source`, told from its bytes without a parse: a
    name it would look up that the table or a hazard key knows, outside the comments and literals
    (`prose.Prose`; the code map only takes more names away), or an included header's key or prefix
    where an include's path may start (the path an include directive names is a piece of the file,
    outside a comment, which holds the key right after its `<`, its quote or the blank before it;
    `-cuda.h` in `"ggml-cuda.h"` starts no path). A host C++ file for which this is false yields no
    hit, and is not parsed."""
    spans = Prose(source)
    passed_over = False
    for position, comments_only in _candidates(source, table, catalog):
        if not spans.holds(position, comments_only):
            return True
        passed_over = True
    return passed_over and not spans.sure()  # a reading that is unsure counts every byte as code


def _candidates(source: bytes, table: ApiTable, catalog: Catalog) -> Iterator[tuple[int, bool]]:
    """(position, whether only a comment hides it there) of each piece of `source` that `references`
    may find, where it is code: where an include's path may start, an included header's key or
    prefix; a name the table or a hazard key knows."""
    for _, start, _ in _include_words(table).matches(source):
        if _may_start_path(source, start):
            yield start, True
    symbols = _SymbolKeys(catalog)
    for match in _name_pattern(table, catalog).finditer(source):
        if next(_entries(_name(match), source[match.end() : match.end() + 8], table, symbols), None) is not None:
            yield match.start(), False


_NOT_BEFORE_PATH = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
"""Bytes that never stand right before the start of an include's path: its `<`, its quote, or the
blank after `#include` do (the path keeps nothing before a key it starts with)."""


def _may_start_path(source: bytes, start: int) -> bool:
    return start == 0 or source[start - 1] not in _NOT_BEFORE_PATH


def _name(match: re.Match[bytes]) -> str:
    """The name a match of `_name_pattern` spells, without the blanks around its `::`."""
    name = match.group().decode("ascii")
    return _SPACE.sub("", name) if " " in name or "\t" in name else name


def _entries(name: str, after: bytes, table: ApiTable, symbols: _SymbolKeys) -> Iterator[Entry]:
    """The table's entry and the hazard a name found in code stands for (`after`: the bytes that follow it)."""
    following = after.lstrip(b" \t")[:1]
    entry = table.name(name)
    if entry is None and "::" in name:
        entry = table.name(name.rpartition("::")[2])  # `::cudaMalloc`, `std::cudaMalloc`
    if entry is not None and _plausible_use(name, following):
        yield entry
    hazard = symbols.lookup(name, following)
    if hazard is not None:
        yield hazard


@cache
def _include_words(table: ApiTable) -> WordSearch:
    """Every included header the table knows, and every header prefix, as bytes to look for."""
    return WordSearch([key.encode() for key in table.include_keys()])


@cache
def _name_pattern(table: ApiTable, catalog: Catalog) -> re.Pattern[bytes]:
    """Names worth looking up: an identifier, or a `::`-chain, that starts like a known name.

    Only the first three characters are checked here, in the regular expression engine, so
    most identifiers of a kernel (`threadIdx`, local variables) never reach Python. The three
    characters form a trie (`c(?:u[abd...]|s[r...])|...`), which Python's engine matches far
    faster than a flat alternation. A chain's last part (`cg::this_grid`) is matched on its
    own, since a `::` before a name does not stop a match.

    The trie comes first and the test that no identifier character precedes the name looks
    behind its three characters: the engine then tries a match only where a byte can start
    one, where a pattern that starts with a lookbehind is tried at every byte of the file.
    """
    starts = set(table.name_starts())
    for key in catalog.keys(SYMBOL_DETECTOR):
        starts.update((key[:3], key.rpartition("::")[2][:3]))
    trie: dict[str, dict[str, set[str]]] = {}
    for start in starts:
        if len(start) == 3 and "*" not in start:
            trie.setdefault(start[0], {}).setdefault(start[1], set()).add(start[2])
    known = "|".join(re.escape(first) + _branches(seconds) for first, seconds in sorted(trie.items()))
    part = r"[A-Za-z_][A-Za-z0-9_]*"
    pattern = rf"(?:{known})(?<![A-Za-z0-9_](?s:...))[A-Za-z0-9_]*(?:[ \t]*::[ \t]*{part})*"
    return re.compile(pattern.encode())


def _branches(seconds: dict[str, set[str]]) -> str:
    """`(?:u[abd]|s[r])`: the second characters, each with the class of its third ones."""
    return "(?:" + "|".join(re.escape(c) + "[" + re.escape("".join(sorted(t))) + "]" for c, t in sorted(seconds.items())) + ")"


def _plausible_use(name: str, following: bytes) -> bool:
    """A plain lowercase device-function name (`umin`, `saturate`) counts only when called.

    HIPIFY warns about these only before `(`; as bare words they are far more often a
    variable of the same name.
    """
    return following == b"(" or not _LOWER_PLAIN.fullmatch(name)


class _SymbolKeys:
    """Lookups of the `cuda-symbol` keys: a full name, a namespace (`ns::*`) or a last part."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._keys = catalog.keys(SYMBOL_DETECTOR)

    def lookup(self, name: str, following: bytes) -> Entry | None:
        if not self._keys:
            return None
        if name in self._keys:
            return self._entry(name, following)
        parts = name.split("::")
        for size in range(len(parts) - 1, 0, -1):
            key = "::".join(parts[:size]) + "::*"
            if key in self._keys:
                return self._catalog.lookup(SYMBOL_DETECTOR, key)
        if len(parts) > 1 and parts[-1] in self._keys:
            return self._entry(parts[-1], following)
        return None

    def _entry(self, key: str, following: bytes) -> Entry | None:
        if key in TEMPLATE_ONLY and following != b"<":
            return None
        return self._catalog.lookup(SYMBOL_DETECTOR, key)
