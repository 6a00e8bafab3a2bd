"""Jupyter notebooks: code cells through the Python analyzer, shell lines through the shell scan.

A notebook is JSON (read with `json`, never executed). Only code cells are read; markdown and raw
cells and every output are ignored. In a code cell, IPython's escapes are split from the Python
before `ast` sees it, each line keeping its number: `!cmd` and the `%pip`/`%conda` line magics are
shell commands (`%pip install x` is `pip install x`), a `%%bash`/`%%sh`/`%%script bash` cell is a
shell script, other magics are left out (`%%writefile` cells are not code of this notebook), and
each line taken out of the Python becomes `pass` at its indentation, so an `if` whose body is a
`!nvidia-smi` still parses. A `!` escape never stops the notebook: IPython runs it in a shell, prints
what the shell prints (`nvidia-smi: command not found`) and goes on with the next line, so an NVIDIA
tool the escape runs is a note on every target. What an escape installs keeps its verdict: `!pip
install` of a CUDA build succeeds, and the cells after it run on that build. A cell that does not
parse is skipped without losing the others. A notebook runs top to bottom as one module, so a
cell's names resolve through the imports of the cells before it (`torch.cuda` in cell 5 after
`import torch` in cell 1).

Findings count lines within their cell and carry `NotebookCell` (the cell's 1-based position among
all cells, and the line of the `.ipynb` file holding the source line). The fixes of code-cell
findings are the Python analyzer's, with positions in the cell as this reader hands it over
(`split_cell`); `fixers/notebook_fixer.py` applies them to the cell and writes the JSON back.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import NamedTuple

from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.model import Finding, NotebookCell, Portability, Severity, Span
from cudaudit.rules.catalog import Catalog
from cudaudit.rules.containers.script_scan import CLI_TOOL, ScriptScan, scan_script
from cudaudit.rules.python.analyzer import analyze_python
from cudaudit.rules.scripts.shell_file import placed_lines
from cudaudit.settings import AnalysisSettings
from cudaudit.source import UnparsableError, parse_python
from cudaudit.suppressions import apply_suppressions
from cudaudit.verdicts import retarget

_SHELL_LINE = re.compile(r"^(?P<indent>[ \t]*)(?:(?P<escape>!!?)|%(?=(?:pip|conda|mamba)\b))(?P<command>.*)$")
"""`!nvidia-smi`, `!!ls`, `%pip install x` (the magic's name is the command's)."""
_MAGIC_LINE = re.compile(r"^(?P<indent>[ \t]*)%")
_SHELL_CELL = re.compile(r"^%%(?:bash|sh|script\s+(?:ba|z)?sh)\b")
_OTHER_CELL_MAGIC = re.compile(r"^%%(?!time\b|timeit\b|capture\b|prun\b)")
"""A cell magic whose body is not this notebook's Python (`%%writefile`, `%%html`); timing and capture magics run Python."""
_SOURCE_KEY = re.compile(r'"source"\s*:')


class ShellCommand(NamedTuple):
    """Shell text of a cell: a `!` escape's command, a `%pip` line magic's, or a `%%bash` cell's script."""

    line: int
    """The line of the cell it starts on."""
    text: str
    escape: bool
    """A `!`/`!!` escape, whose failure IPython prints and never raises."""


@dataclass(frozen=True)
class CodeCell:
    index: int
    """1-based among all cells."""
    source: str
    file_line: int
    """The line of the JSON text where the cell's `"source"` starts."""
    one_line_per_string: bool
    """`"source"` is a list with one line per JSON line, as Jupyter writes it."""


def analyze_notebook(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    """Findings of every code cell; raises UnparsableError when the file is not notebook JSON."""
    found: list[Finding] = []
    imported: list[str] = []
    for cell in code_cells(text):
        python, shell = split_cell(cell.source)
        cell_findings: list[Finding] = []
        parsed = False
        # A cell with IPython syntax this reader does not know is skipped as Python; its shell lines are still read.
        with suppress(SyntaxError, ValueError, RecursionError):
            cell_findings += _analyze_cell(python, imported, path, catalog, settings, facts)
            parsed = True
            imported += _imports(python)
        for escape in (False, True):
            scan = ScriptScan(path, catalog, settings)
            for command in shell:
                if command.escape is escape:
                    scan_script(placed_lines(command.text, command.line), {}, scan)
            found_here = scan.results()
            cell_findings += [_printed_not_raised(f, catalog) for f in found_here] if escape else found_here
        kept = apply_suppressions(cell_findings, cell.source, path, catalog, settings.targets, complete=parsed)
        found.extend(_in_cell(finding, cell) for finding in kept)
    return found


def _printed_not_raised(finding: Finding, catalog: Catalog) -> Finding:
    """An NVIDIA tool a `!` escape runs: where it is missing, IPython prints the shell's `command not
    found` and the notebook goes on, so it is a note on every target."""
    if catalog.rules[finding.rule].detector != CLI_TOOL:
        return finding
    reason = "a `!` escape that fails prints the shell's error and the notebook goes on"
    return retarget(
        finding,
        {
            target: Portability(fact.status, f"{reason}; {fact.replacement}", fact.source, Severity.NOTE)
            for target, fact in finding.targets.items()
        },
    )


def _analyze_cell(
    python: str, imported: list[str], path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts
) -> list[Finding]:
    """The cell's Python findings, its names resolved through the imports of the cells before it
    (a notebook runs top to bottom as one module); lines count within the cell."""
    header = "".join(f"{line}\n" for line in imported)
    findings = analyze_python(header + python, path, catalog, settings, facts)
    return [_shifted(f, len(imported)) for f in findings if f.span.line > len(imported)]


def _imports(python: str) -> list[str]:
    """The cell's top-level imports, one line each, for the cells after it."""
    tree = parse_python(python)
    return [
        ast.unparse(node)
        for node in tree.body
        if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and not node.level)
    ]


def _shifted(finding: Finding, lines: int) -> Finding:
    """`finding` with its lines, and those of its fix, moved up by `lines`."""

    def up(span: Span) -> Span:
        return Span(span.line - lines, span.column, span.end_line - lines, span.end_column)

    fix = finding.fix
    if fix is not None:
        edits = tuple(replace(edit, span=up(edit.span)) for edit in fix.edits)
        fix = replace(fix, edits=edits, covers=tuple(up(span) for span in fix.covers))
    extent = finding.extent and up(finding.extent)
    return replace(finding, span=up(finding.span), fix=fix, extent=extent)


def code_cells(text: str) -> Iterator[CodeCell]:
    """The code cells of a notebook's JSON text, with where each one's source starts in the file."""
    try:
        notebook = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise UnparsableError(f"invalid notebook JSON: {exc}", line) from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise UnparsableError("not a Jupyter notebook: no `cells` list (nbformat 4)")
    source_lines = [text.count("\n", 0, m.start()) + 1 for m in _SOURCE_KEY.finditer(text)]
    # Every cell has a "source"; when the JSON holds exactly one per cell, the n-th is the n-th cell's.
    aligned = len(source_lines) == len(cells)
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        raw = cell.get("source", "")
        source = "".join(raw) if isinstance(raw, list) else raw if isinstance(raw, str) else ""
        if not isinstance(source, str):
            continue
        file_line = source_lines[index - 1] if aligned else 1
        yield CodeCell(index, source, file_line, aligned and isinstance(raw, list) and len(raw) > 1)


def split_cell(source: str) -> tuple[str, list[ShellCommand]]:
    """The cell's Python (IPython escapes replaced by `pass`) and its shell commands with their line numbers."""
    lines = source.split("\n")
    if _SHELL_CELL.match(source):
        return "", [ShellCommand(2, "\n".join(lines[1:]), escape=False)]
    if _OTHER_CELL_MAGIC.match(source):
        return "", []
    python: list[str] = []
    shell: list[ShellCommand] = []
    for number, line in enumerate(lines, start=1):
        escaped = _SHELL_LINE.match(line)
        if escaped is not None:
            indent = escaped.group("indent")
            command = escaped.group("command")
            # The command stays where it was in the line, so columns point into the cell.
            shell.append(ShellCommand(number, " " * (len(line) - len(command)) + command, bool(escaped.group("escape"))))
            python.append(indent + "pass")
        elif _MAGIC_LINE.match(line) or line.lstrip().startswith("%%"):
            python.append(line[: len(line) - len(line.lstrip())] + "pass")
        else:
            python.append(line)
    return "\n".join(python), shell


def _in_cell(finding: Finding, cell: CodeCell) -> Finding:
    file_line = cell.file_line + finding.span.line if cell.one_line_per_string else cell.file_line
    return replace(finding, cell=NotebookCell(cell.index, file_line))
