"""Which analyzer reads which kind of file, and how its bytes become text.

Analyzers are named here and imported on first use, so a scan of Python files never loads
the C++ parser, and each file kind's analyzer stays in its own module under `rules/`.
Every analyzer has the signature
`analyze(text: str, path: str, catalog: Catalog, settings: AnalysisSettings) -> list[Finding]`
and raises `SyntaxError` (or `cudaudit.source.UnparsableError`) for input it cannot parse.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from cudaudit.filekinds import FileKind
from cudaudit.model import Finding
from cudaudit.source import decode_python

AnalyzeFunction = Callable[..., list[Finding]]

_ANALYZERS: dict[FileKind, tuple[Callable[[bytes], str], str]] = {
    FileKind.PYTHON: (decode_python, "cudaudit.rules.python.analyzer:analyze_python"),
}


def supported(kind: FileKind) -> bool:
    return kind in _ANALYZERS


def decoder(kind: FileKind) -> Callable[[bytes], str]:
    return _ANALYZERS[kind][0]


@cache
def analyzer(kind: FileKind) -> AnalyzeFunction:
    module, _, name = _ANALYZERS[kind][1].partition(":")
    return getattr(importlib.import_module(module), name)

