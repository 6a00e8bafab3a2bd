"""Comments and string and character literals of a C/C++ source, told from its bytes without a parse.

`references.may_refer` decides from a host C++ file's bytes whether the API references can find
anything there, and a file for which it cannot is never parsed. A name in a comment or a literal is
prose to the code map (`code_map.PATTERNS`), never a reference, so it counts for nothing here either:
a large host file whose only CUDA names sit in comments (`// as cudaMemcpyAsync does`) or in the
source of another language's kernels kept in strings needs no parse.

The reading is lexical and only claims what it is sure of. It goes from opener to opener (`//`,
`/*`, a quote, a raw string's `R"delim(`), each prose span running to the end a compiler gives it:
the line, `*/`, the closing quote, `)delim"`. Where it is unsure it gives up (`Prose.sure`) and every byte
counts as code, as before: a literal that does not close on its line, a line comment continued
with a backslash, a comment or raw string that never closes, a quote that starts no character
literal it knows (`don't` in an `#error`). A quote right after a digit is a digit separator
(`1'000'000`), part of the code around it.
"""

from __future__ import annotations

import bisect
import re

_OPENER = re.compile(rb"""/[/*]|(?<![A-Za-z0-9_])(?:u8|[LuU])?R"|"|(?<![0-9])'|(?<=u8)'""")
"""Where prose may start: a comment, a raw string with its prefix, a string, a character literal
(not a digit separator; `u8'a'` is one)."""
_LINE_COMMENT_SPAN = re.compile(rb"//[^\n]*")
_BLOCK_COMMENT_SPAN = re.compile(rb"/\*.*?\*/", re.S)
_STRING_SPAN = re.compile(rb'"(?:[^"\\\n]|\\[^\n])*"')
_CHARACTER_SPAN = re.compile(rb"'(?:[^'\\\n]|\\[^\n][^'\\\n]{0,8})'")
"""Each opener's span, closed on its own line where the language closes it there; each is matched
once, at its opener (`_span`)."""
_RAW_OPENING = re.compile(rb'(?:u8|[LuU])?R"([^ ()\\\t\v\f\n]{0,16})\(')
"""A raw string's opening, with its delimiter: the string ends at `)delimiter"`."""


class Prose:
    """The prose spans of one source, each with whether it is a comment, read as far as a question
    needs: a host file's first reference in code (an include at its top, most often) settles
    `references.may_refer` without a reading of the rest."""

    def __init__(self, source: bytes) -> None:
        self._source = source
        self._starts: list[int] = []
        self._spans: list[tuple[int, int, bool]] = []
        self._at = 0
        """Where the reading goes on."""
        self._ended = False
        self._unsure = False

    def holds(self, position: int, comments_only: bool = False) -> bool:
        """Whether the byte at `position` is in a comment or a literal (with `comments_only`, a
        comment); False where the reading up to there is unsure (every byte counts as code)."""
        while not self._ended and self._at <= position:
            self._read_span()
        if self._unsure:
            return False
        index = bisect.bisect_right(self._starts, position) - 1
        if index < 0:
            return False
        _, end, comment = self._spans[index]
        return position < end and (comment or not comments_only)

    def sure(self) -> bool:
        """Whether the whole source reads surely: where it does not, every byte counts as code, and
        what `holds` answered before is void."""
        while not self._ended:
            self._read_span()
        return not self._unsure

    def _read_span(self) -> None:
        """The next comment or literal, to the end a compiler gives it; the reading ends at the source's
        end, or where it is unsure."""
        source = self._source
        opener = _OPENER.search(source, self._at)
        if opener is None:
            self._ended = True
            return
        start, kind = opener.start(), opener.group()
        if kind.endswith(b'R"'):
            raw = _RAW_OPENING.match(source, start)
            close = source.find(b")" + raw.group(1) + b'"', raw.end()) if raw is not None else -1
            if raw is None or close < 0:
                self._ended = self._unsure = True
                return
            self._add(start, close + len(raw.group(1)) + 2, False)
            return
        span = _span(source, start, kind)
        if span is None or (kind == b"//" and span.group().endswith(b"\\")):
            self._ended = self._unsure = True
            return
        self._add(start, span.end(), kind in (b"//", b"/*"))

    def _add(self, start: int, end: int, comment: bool) -> None:
        self._starts.append(start)
        self._spans.append((start, end, comment))
        self._at = end


def _span(source: bytes, start: int, opener: bytes) -> re.Match[bytes] | None:
    """The comment or literal that `opener` starts at `start`, where it closes."""
    if opener == b"//":
        return _LINE_COMMENT_SPAN.match(source, start)
    if opener == b"/*":
        return _BLOCK_COMMENT_SPAN.match(source, start)
    if opener == b'"':
        return _STRING_SPAN.match(source, start)
    return _CHARACTER_SPAN.match(source, start)
