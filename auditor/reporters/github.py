"""`--format github`: workflow commands that GitHub Actions shows as annotations on the diff.

GitHub shows at most 10 error and 10 warning annotations per step (and 50 per job); the rest
are dropped without a word (https://github.com/actions/toolkit/blob/main/docs/problem-matchers.md,
"Limitations"). So the most that is shown is annotated, one notice says how many were not, and
those follow as plain `path:line:col: RULE message` lines, which the log keeps in full.
"""

from __future__ import annotations

from collections import Counter

from cudaudit.model import Finding, ScanResult
from cudaudit.printable import terminal_safe
from cudaudit.reporters.concise import concise_line

_LEVELS = {"error": "error", "warning": "warning", "note": "notice"}
SHOWN_PER_STEP = {"error": 10, "warning": 10, "notice": 9}
"""Annotations GitHub shows per step and level; one notice is kept for the count of the rest."""


def render_github(result: ScanResult) -> str:
    annotations = [(_LEVELS[f.severity.value], _finding(f), concise_line(f)) for f in result.findings]
    for error in result.errors:
        where = f"file={_escape_property(error.path)}" + (f",line={error.line}" if error.line else "")
        message = _escape_data(error.message)
        plain = f"{terminal_safe(error.path)}:{error.line or 1}:1: {terminal_safe(error.message)}"
        annotations.append(("warning", f"::warning {where},title=cudaudit could not analyse this file::{message}", plain))
    for omitted in result.omitted:
        where = f"file={_escape_property(omitted.path)}"
        message = omitted.notice
        annotations.append(("notice", f"::notice {where},title=cudaudit::{_escape_data(message)}", message))
    shown: Counter[str] = Counter()
    lines, rest = [], []
    for level, command, plain in annotations:
        shown[level] += 1
        if shown[level] <= SHOWN_PER_STEP[level]:
            lines.append(command)
        else:
            rest.append((level, plain))
    if rest:
        lines.append(f"::notice title=cudaudit::{_escape_data(_not_annotated(rest))}")
        lines += [plain for _, plain in rest]
    return "\n".join(lines) + ("\n" if lines else "")


def _finding(f: Finding) -> str:
    title = f"{f.rule} {', '.join(f'{t}: {p.status.value}' for t, p in f.targets.items())}"
    if f.cell is not None:  # the notebook's JSON line; the title names the cell and its line
        properties: dict[str, object] = {"file": f.path, "line": f.cell.file_line, "title": f"{title} ({f.location})"}
    else:
        span = f.region
        properties = {
            "file": f.path,
            "line": span.line,
            "col": span.column,
            "endLine": span.end_line,
            "endColumn": span.end_column,
            "title": title,
        }
    rendered = ",".join(f"{key}={_escape_property(str(value))}" for key, value in properties.items())
    return f"::{_LEVELS[f.severity.value]} {rendered}::{_escape_data(f.message)}"


def _not_annotated(rest: list[tuple[str, str]]) -> str:
    counts = Counter(level for level, _ in rest)
    listed = ", ".join(f"{counts[level]} {level}{'s' * (counts[level] != 1)}" for level in _LEVELS.values() if counts[level])
    return (
        f"{len(rest)} more not annotated ({listed}): GitHub shows 10 errors and 10 warnings per step. "
        "They follow in this log; the code scanning alerts and the job summary count them all."
    )


def _escape_data(text: str) -> str:
    text = terminal_safe(text)  # the Actions log renders escape sequences
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
