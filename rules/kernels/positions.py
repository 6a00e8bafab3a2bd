"""Where a byte range of analysed CUDA source sits in the file a finding names.

The C++ analysis works on UTF-8 bytes (tree-sitter's offsets and the regular expressions
both count bytes). Findings count lines and characters. A `.cu` file maps its own bytes
(`FilePositions`); CUDA taken out of Python string literals maps each character back to the
line and column of the literal it came from (`EmbeddedPositions`), so a finding in a
`cupy.RawKernel` source points into the `.py` file.
"""

from __future__ import annotations

import bisect
import re

from cudaudit.model import Span
from cudaudit.source import SourceLines

_NEWLINE = re.compile(rb"\n")


class FilePositions:
    """Byte offsets of a whole file's UTF-8 text as 1-based lines and character columns."""

    def __init__(self, data: bytes, lines: SourceLines) -> None:
        self._starts = [0] + [m.end() for m in _NEWLINE.finditer(data)]
        self._lines = lines

    def span(self, start: int, end: int) -> Span:
        line = bisect.bisect_right(self._starts, start)
        end_line = bisect.bisect_right(self._starts, max(start, end - 1))
        return self._lines.span_from_utf8(
            line, start - self._starts[line - 1], end_line, end - self._starts[end_line - 1]
        )


class EmbeddedPositions:
    """CUDA source assembled from string literals, with the file position of each character.

    `places[i]` is the 1-based line and 0-based character column in the host file of the
    source's i-th character; escapes (`\\n` written as two characters) map to where they start.
    """

    def __init__(self, text: str, places: list[tuple[int, int]]) -> None:
        if len(text) != len(places):
            raise ValueError("every character of embedded source needs a place")
        self.text = text
        self.data = text.encode("utf-8")
        self._places = places
        self._ascii = text.isascii()

    def span(self, start: int, end: int) -> Span:
        """The file span of bytes `[start, end)` of the embedded source (an empty source maps nowhere)."""
        first_char = min(self._char(start), len(self._places) - 1)
        last_char = min(max(first_char, self._char(end) - 1), len(self._places) - 1)
        first = self._places[first_char]
        last = self._places[last_char]
        return Span(first[0], first[1] + 1, last[0], last[1] + 2)

    def _char(self, offset: int) -> int:
        """The character index of byte `offset` (`len(text)` for the end of the source)."""
        if self._ascii:
            return offset
        return len(self.data[:offset].decode("utf-8", errors="ignore"))
