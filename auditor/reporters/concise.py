"""`--format concise`: one line per finding, `path:line:col: RULE message`, as compilers and ruff
print them, so that terminals and editors make each one a link to the site and `grep` finds it."""

from __future__ import annotations

from cudaudit.model import Finding, ScanResult
from cudaudit.printable import terminal_safe
from cudaudit.reporters.summary import count_phrase, scope_phrase, summarize


def render_concise(result: ScanResult, targets: tuple[str, ...]) -> str:
    summary = summarize(result, targets)
    lines = [concise_line(f) for f in result.findings]
    lines += [
        f"{terminal_safe(o.path)}: {o.listing_tail}"
        for o in result.omitted
    ]
    lines.append(f"{count_phrase(summary)} {scope_phrase(summary)}")
    return "\n".join(lines) + "\n"


def concise_line(finding: Finding) -> str:
    """The finding as `path:line:col: RULE message`, path and message made safe for a terminal.

    In a notebook the line is the `.ipynb` file's own (where an editor opens), and the message
    ends with the cell and the line within it."""
    path, message = terminal_safe(finding.path), terminal_safe(finding.message)
    if finding.cell is not None:
        return f"{path}:{finding.cell.file_line}:1: {finding.rule} {message} (cell {finding.cell.index}, line {finding.span.line})"
    return f"{path}:{finding.span.line}:{finding.span.column}: {finding.rule} {message}"
