"""Decide what kind of file a path is, from its name and, for scripts, its first line."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path


class FileKind(str, Enum):
    PYTHON = "python"


_SUFFIXES = {".py": FileKind.PYTHON, ".pyw": FileKind.PYTHON}
_PYTHON_SHEBANG = re.compile(rb"^#![^\n]*\bpython[0-9.]*\b")


def classify(path: Path, head: bytes | None = None) -> FileKind | None:
    """The kind of `path`, or None when cudaudit has no analyzer for it.

    `head`, the file's first bytes, lets an extension-less script be recognised by its
    shebang; callers pass it only for files named explicitly, to avoid reading every file.
    """
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None and head is not None and not path.suffix and _PYTHON_SHEBANG.match(head):
        kind = FileKind.PYTHON
    return kind
