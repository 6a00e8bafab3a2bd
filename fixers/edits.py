"""Apply text edits to a file's text: non-overlapping, all of a fix or none of it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from cudaudit.model import Edit, Finding


@dataclass
class FixedText:
    """A file's text after its fixes, as a fixer of any file kind returns it."""

    text: str
    applied: list[Finding] = field(default_factory=list)
    conflicting: list[Finding] = field(default_factory=list)
    error: str | None = None
    """Why nothing was changed, when the result would not have parsed as the file's kind."""


@dataclass
class EditResult:
    text: str
    applied: list[Finding]
    conflicting: list[Finding]
    """Findings whose fix overlapped one applied before it; a second run picks them up."""


def apply_edits(text: str, findings: Iterable[Finding]) -> EditResult:
    """Apply the fixes of `findings` in source order; skip a fix that overlaps an earlier one."""
    offsets = _LineOffsets(text)
    taken: list[tuple[int, int]] = []
    chosen: list[tuple[int, int, str]] = []
    applied: list[Finding] = []
    conflicting: list[Finding] = []
    for finding in sorted(findings, key=lambda f: f.sort_key):
        assert finding.fix is not None
        ranges = [
            (offsets.of(e.span.line, e.span.column), offsets.of(e.span.end_line, e.span.end_column), e.replacement)
            for e in finding.fix.edits
        ]
        # Two fixes may share an edit (each drops the `--hash` options of the line they both change).
        new = [edit for edit in ranges if edit not in chosen]
        if any(_overlaps(start, end, other) for start, end, _ in new for other in taken):
            conflicting.append(finding)
            continue
        for start, end, replacement in new:
            taken.append((start, end))
            chosen.append((start, end, replacement))
        applied.append(finding)
    return EditResult(_splice(text, chosen), applied, conflicting)


def splice(text: str, edits: Iterable[Edit]) -> str:
    """`text` with `edits` applied; their spans, in `text`, must not overlap."""
    offsets = _LineOffsets(text)
    return _splice(
        text,
        [
            (offsets.of(e.span.line, e.span.column), offsets.of(e.span.end_line, e.span.end_column), e.replacement)
            for e in edits
        ],
    )


def _splice(text: str, chosen: list[tuple[int, int, str]]) -> str:
    for start, end, replacement in sorted(chosen, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _overlaps(start: int, end: int, other: tuple[int, int]) -> bool:
    other_start, other_end = other
    if start == end or other_start == other_end:  # insertions only clash at the same point
        return start == other_start and end == other_end
    return start < other_end and other_start < end


class _LineOffsets:
    """Character offsets of 1-based (line, column) positions in a text with `\\n` newlines."""

    def __init__(self, text: str) -> None:
        self._starts = [0]
        for index, char in enumerate(text):
            if char == "\n":
                self._starts.append(index + 1)

    def of(self, line: int, column: int) -> int:
        return self._starts[line - 1] + column - 1

