"""Strings that come from a scanned tree, made safe to print and to serialise.

A file name is whatever bytes the file system allows: `[/x]` is rich markup, `\\x1b]0;...\\x07`
retitles the terminal and `\\x1b[2J` clears it, U+202E reverses the rest of the line, and a
byte that is not UTF-8 becomes a lone surrogate in Python (`os.fsdecode`), which no UTF-8
writer accepts. Source lines and parser messages quoted in reports carry the same risks.
Every string from the tree passes through one of these before it leaves cudaudit.
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote

_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
"""C0 and C1 controls (a tab is left alone), DEL, bidirectional marks, embeddings, overrides
and isolates, and lone surrogates (undecodable bytes of a file name)."""
_RAW_BYTE = re.compile("[\udc80-\udcff]")
"""What `os.fsdecode` makes of a byte that is not UTF-8."""


def utf8_safe(text: str) -> str:
    """`text`, with each undecodable byte of a file name written as `\\xNN`: valid UTF-8, for JSON,
    SARIF and baselines, where every other character is kept (their encoders escape controls)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _RAW_BYTE.sub(_visible, text).encode("utf-8", "backslashreplace").decode("utf-8")


def terminal_safe(text: str) -> str:
    """`text` with every character a terminal would act on, or that would reorder the line, shown
    as an escape (`\\x1b`, `\\u202e`), and undecodable bytes as `\\xNN`."""
    return _UNPRINTABLE.sub(_visible, text)


def markup_safe(text: str) -> str:
    """`terminal_safe`, then escaped for rich markup: for strings placed inside markup."""
    from rich.markup import escape  # rich loads only when something is printed through it

    return escape(terminal_safe(text))


def uri_path(path: str) -> str:
    """A relative POSIX path as a URI reference: every byte outside the unreserved set and `/`
    percent-encoded (`my file#1.py` → `my%20file%231.py`), undecodable bytes as themselves."""
    return quote(os.fsencode(path), safe="/")


def diff_path(path: str) -> str:
    """`path` for a diff header as git writes one: as is when plain, else in double quotes with
    C escapes for quotes, backslashes, controls and bytes past ASCII, so `git apply` reads it back
    and a terminal shows no control character."""
    raw = os.fsencode(path)
    if all(0x20 < byte < 0x7F and byte not in b'"\\' for byte in raw):
        return path
    return '"' + "".join(_C_ESCAPES.get(byte) or (chr(byte) if 0x20 <= byte < 0x7F else f"\\{byte:03o}") for byte in raw) + '"'


_C_ESCAPES = {ord('"'): '\\"', ord("\\"): "\\\\", ord("\t"): "\\t", ord("\n"): "\\n"}


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
