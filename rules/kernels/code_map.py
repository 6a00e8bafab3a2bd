"""Which bytes of a CUDA source are code, and which names the file defines itself.

Comments, string and character literals and `#include` paths are prose, never findings.
tree-sitter finds them in ordinary code; a macro body is one opaque token to it, so comments
and strings inside `#define` bodies are found lexically. A name the file defines itself
(`#define cudaMalloc hipMalloc` in a compatibility header, its own `umin` function) is not a
reference to the CUDA API that happens to share the name.
"""

from __future__ import annotations

import bisect
import re

from cudaudit.rules.kernels import syntax

PATTERNS = """
(comment) @prose
(string_literal) @prose
(raw_string_literal) @prose
(char_literal) @prose
(system_lib_string) @prose
(preproc_include) @prose
(preproc_include path: (_) @include)
(preproc_arg) @macro
(preproc_def name: (identifier) @defined)
(preproc_function_def name: (identifier) @defined)
(function_declarator declarator: (identifier) @defined)
"""
"""The query patterns this module reads; the analyzer runs them with the hazards' in one pass."""
_MACRO_PROSE = re.compile(rb'"(?:\\.|[^"\\\n])*"?|\'(?:\\.|[^\'\\\n])*\'?|//[^\n]*|/\*.*?(?:\*/|\Z)', re.S)
"""String and character literals and comments in a macro body. An unterminated one runs to the
end of its line (or body), so every opening is read once: the scan stays linear."""


class CodeMap:
    """Non-code byte ranges of one parsed source, and the names it defines."""

    def __init__(self, found: syntax.QueryMatches, source: bytes) -> None:
        nodes = {kind: [match[kind] for match in found[kind]] for kind in ("prose", "include", "macro", "defined")}
        ranges = [(n.start_byte, n.end_byte) for n in nodes["prose"]]
        for body in nodes["macro"]:
            ranges += [m.span() for m in _MACRO_PROSE.finditer(source, body.start_byte, body.end_byte)]
        self._definitions = {(n.start_byte, n.end_byte) for n in nodes["defined"]}
        self.defined_names = {syntax.text(n) for n in nodes["defined"]}
        self.includes = [(n.start_byte, n.end_byte, syntax.text(n)) for n in nodes["include"]]
        """Each `#include` path: where it is and what it says, with its `<>` or quotes."""
        self._starts, self._ends = _merge(ranges)

    def is_code(self, start: int, end: int) -> bool:
        """Whether `[start, end)` lies outside comments, literals and include paths."""
        index = bisect.bisect_right(self._starts, start) - 1
        return index < 0 or self._ends[index] <= start

    def is_definition(self, start: int, end: int) -> bool:
        """Whether `[start, end)` is the name in a `#define` or a function declarator."""
        return (start, end) in self._definitions


def _merge(ranges: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    starts: list[int] = []
    ends: list[int] = []
    for start, end in sorted(ranges):
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends
