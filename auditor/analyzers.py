"""Which analyzer reads which kind of file, and how its bytes become text.

Analyzers are named here and imported on first use, so a scan of Python files never loads
the C++ parser, and each file kind's analyzer stays in its own module under `rules/`.
Every analyzer has the signature
`analyze(text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts)
-> list[Finding]`, where `facts` are what the project index knows about the file from the rest of
the project (a porting header it reaches, a counterpart file), and raises `SyntaxError` (or
`cudaudit.source.UnparsableError`) for input it cannot parse. Given the same text and facts, an
analyzer gives the same findings: questions that span files are answered by the index, never
by reading other files.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

from cudaudit.filekinds import FileKind
from cudaudit.model import Finding
from cudaudit.source import decode_python, decode_text

AnalyzeFunction = Callable[..., list[Finding]]

_ANALYZERS: dict[FileKind, tuple[Callable[[bytes], str], str]] = {
    FileKind.PYTHON: (decode_python, "cudaudit.rules.python.analyzer:analyze_python"),
    FileKind.REQUIREMENTS: (decode_text, "cudaudit.rules.dependencies.requirements_file:analyze_requirements"),
    FileKind.PYPROJECT: (decode_text, "cudaudit.rules.dependencies.pyproject:analyze_pyproject"),
    FileKind.SETUP: (decode_python, "cudaudit.rules.dependencies.setup_files:analyze_setup"),
    FileKind.LOCKFILE: (decode_text, "cudaudit.rules.dependencies.lockfiles:analyze_lockfile"),
    FileKind.CONDA: (decode_text, "cudaudit.rules.dependencies.conda:analyze_conda"),
    FileKind.PIXI: (decode_text, "cudaudit.rules.dependencies.pixi:analyze_pixi"),
    FileKind.DOCKERFILE: (decode_text, "cudaudit.rules.containers.dockerfile:analyze_dockerfile"),
    FileKind.COMPOSE: (decode_text, "cudaudit.rules.orchestration.compose:analyze_compose"),
    FileKind.MANIFEST: (decode_text, "cudaudit.rules.orchestration.kubernetes:analyze_manifest"),
    FileKind.WORKFLOW: (decode_text, "cudaudit.rules.orchestration.workflows:analyze_workflow"),
    FileKind.CUDA: (decode_text, "cudaudit.rules.kernels.analyzer:analyze_cuda"),
    FileKind.CMAKE: (decode_text, "cudaudit.rules.builds.cmake:analyze_cmake"),
    FileKind.SHELL: (decode_text, "cudaudit.rules.scripts.shell_file:analyze_shell"),
    FileKind.MAKEFILE: (decode_text, "cudaudit.rules.scripts.shell_file:analyze_makefile"),
    FileKind.NOTEBOOK: (decode_text, "cudaudit.rules.scripts.notebook:analyze_notebook"),
}

ALWAYS_READ = frozenset({FileKind.NOTEBOOK})
"""Kinds analysed even when the prefilter finds no trigger word: a notebook that is not valid JSON
is reported as an error whatever it mentions."""

SUPPRESSES_ITSELF = frozenset({FileKind.NOTEBOOK})
"""Kinds whose analyzer applies `# cudaudit: ignore[...]` comments itself, because the lines its
findings count are not the file's lines (a notebook's are lines within a cell)."""

LOOKS_BESIDE = frozenset({FileKind.PYTHON, FileKind.NOTEBOOK})
"""Kinds whose analysis looks at the modules beside the file (`import helpers` of `helpers.py` next
to a script is the project's own code): their cached results are keyed by those modules too."""

_PARSERS: dict[FileKind, str | None] = {
    FileKind.REQUIREMENTS: None,
    FileKind.PYPROJECT: "cudaudit.rules.dependencies.pyproject:parse_pyproject",
    FileKind.CONDA: "cudaudit.rules.dependencies.conda:load_environment",
    FileKind.DOCKERFILE: "cudaudit.rules.containers.instructions:parse_dockerfile",
    FileKind.WORKFLOW: "cudaudit.rules.orchestration.yamldoc:load_documents",
}
"""How the analyzer of each kind the text fixer edits reads a file, as `parse(text)`, which raises
`UnparsableError` where the analyzer would; None where every text reads (pip's line format).
The text fixer checks its output with it before anything is written."""


def supported(kind: FileKind) -> bool:
    return kind in _ANALYZERS


def decoder(kind: FileKind) -> Callable[[bytes], str]:
    return _ANALYZERS[kind][0]


def analyzer(kind: FileKind) -> AnalyzeFunction:
    return _load(_ANALYZERS[kind][1])


def parser(kind: FileKind) -> Callable[[str], object] | None:
    """How `kind`'s analyzer parses a file; None when every text reads. KeyError for a kind no fix edits."""
    target = _PARSERS[kind]
    return _load(target) if target else None


@cache
def _load(target: str) -> Callable[..., Any]:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)

