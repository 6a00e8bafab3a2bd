"""`--format github`: workflow commands that GitHub Actions shows as annotations on the diff."""

from __future__ import annotations

from cudaudit.model import ScanResult
from cudaudit.printable import terminal_safe

_LEVELS = {"error": "error", "warning": "warning", "note": "notice"}


def render_github(result: ScanResult) -> str:
    lines = []
    for f in result.findings:
        span = f.span
        title = f"{f.rule} {', '.join(f'{t}: {p.status.value}' for t, p in f.targets.items())}"
        if f.cell is not None:  # the notebook's JSON line; the title names the cell and its line
            properties: dict[str, object] = {"file": f.path, "line": f.cell.file_line, "title": f"{title} ({f.location})"}
        else:
            properties = {
                "file": f.path,
                "line": span.line,
                "col": span.column,
                "endLine": span.end_line,
                "endColumn": span.end_column,
                "title": title,
            }
        rendered = ",".join(f"{key}={_escape_property(str(value))}" for key, value in properties.items())
        lines.append(f"::{_LEVELS[f.severity.value]} {rendered}::{_escape_data(f.message)}")
    for error in result.errors:
        where = f"file={_escape_property(error.path)}" + (f",line={error.line}" if error.line else "")
        lines.append(f"::warning {where},title=cudaudit could not analyse this file::{_escape_data(error.message)}")
    for omitted in result.omitted:
        where = f"file={_escape_property(omitted.path)}"
        message = f"and {omitted.count} more findings, not listed: only the first {omitted.limit} of a file are"
        lines.append(f"::notice {where},title=cudaudit::{_escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def _escape_data(text: str) -> str:
    text = terminal_safe(text)  # the Actions log renders escape sequences
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
