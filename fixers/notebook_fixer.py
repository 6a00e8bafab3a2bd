"""Fix a Jupyter notebook's code cells in place, keeping every other byte of its JSON.

A notebook is rewritten only if loading and dumping it gives its text back (`JsonLayout`: the
indent, `ensure_ascii` and final newline of the writer that saved it; keys keep their order);
otherwise nothing could promise that metadata and outputs stay byte for byte, so it is left
alone with a message. Each code cell with fixes goes through the Python fixer with the text the
analyzer read (`split_cell`: IPython escapes as `pass`), so a cell gets the rewrites a `.py`
file gets; the escape lines are then put back where their `pass` ended up. A notebook runs as
one module from top to bottom: `DEVICE_TYPE` is defined once, in the first cell that imports
torch (where a person would write it), and a cell after one that imports torch or defines it does
not get them again. `source` stays a list of lines or a string, as it was.
"""

from __future__ import annotations

import ast
import difflib
import json
from dataclasses import dataclass, replace
from typing import Any

from packaging.version import Version

from cudaudit.fixers.edits import FixedText
from cudaudit.fixers.line_length import DEFAULT, wrap_new_long_lines
from cudaudit.fixers.python_fixer import fix_python
from cudaudit.fixers.python_module import ModuleNeedsError, meet_module_needs
from cudaudit.model import Finding
from cudaudit.rules.python.rewrites import DEVICE_TYPE
from cudaudit.rules.scripts.notebook import CodeCell, code_cells, split_cell
from cudaudit.source import UnparsableError, parse_python

NOT_ROUND_TRIP = (
    "its JSON would not be written back byte for byte (a layout or number format json does not reproduce); "
    "left unchanged: fix the cells by hand or save it once with Jupyter"
)
_INDENTS = (1, 2, 4, None, 3, 0)
"""Jupyter writes an indent of 1; other tools 2 or 4, or one line."""


@dataclass(frozen=True)
class JsonLayout:
    """How a notebook's JSON was written, as far as `json.dumps` can write it again."""

    indent: int | None
    ensure_ascii: bool
    final_newline: bool

    def dump(self, data: Any) -> str:
        return json.dumps(data, indent=self.indent, ensure_ascii=self.ensure_ascii) + ("\n" if self.final_newline else "")


def json_layout(text: str) -> JsonLayout | None:
    """The layout that writes `text` back exactly, or None when none does."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    for indent in _INDENTS:
        for ensure_ascii in (False, True):
            dumped = json.dumps(data, indent=indent, ensure_ascii=ensure_ascii)
            if text in (dumped, dumped + "\n"):
                return JsonLayout(indent, ensure_ascii, text.endswith("\n"))
    return None


def fix_notebook(
    text: str, findings: list[Finding], torch_version: Version | None, line_length: int = DEFAULT
) -> FixedText:
    """`text` with the fixes of its cells' findings applied; unchanged (with an error) when it cannot be."""
    layout = json_layout(text)
    if layout is None:
        return FixedText(text, error=NOT_ROUND_TRIP)
    notebook = json.loads(text)
    by_cell: dict[int, list[Finding]] = {}
    for finding in findings:
        if finding.cell is not None:
            by_cell.setdefault(finding.cell.index, []).append(finding)
    cells = list(code_cells(text))
    host = _device_type_host(cells, by_cell)
    met: set[str] = set()
    applied: list[Finding] = []
    conflicting: list[Finding] = []
    for cell in cells:
        wanted = by_cell.get(cell.index, [])
        extra = {DEVICE_TYPE} - met if cell.index == host else set()
        source = cell.source
        if wanted or extra:
            python, _ = split_cell(source)
            fixed = _fix_cell(python, [_without(f, met) for f in wanted], extra, torch_version, line_length)
            if fixed.error:
                return FixedText(text, error=f"cell {cell.index}: {fixed.error}")
            restored = _restore_escapes(source, python, fixed.text)
            if restored is None:
                return FixedText(text, error=f"cell {cell.index}: its IPython lines could not be kept; left unchanged")
            source = restored
            _set_source(notebook["cells"][cell.index - 1], source)
            applied += _originals(fixed.applied, wanted)
            conflicting += _originals(fixed.conflicting, wanted)
        met |= _defines(split_cell(source)[0])
    if not applied:
        return FixedText(text, conflicting=conflicting)
    result = layout.dump(notebook)
    try:
        list(code_cells(result))
    except UnparsableError as exc:  # cannot happen for json.dumps output; kept as the text fixer's guarantee
        return FixedText(text, error=f"the fixed notebook would not load ({exc}); left unchanged")
    return FixedText(result, applied, conflicting)


def _device_type_host(cells: list[CodeCell], by_cell: dict[int, list[Finding]]) -> int | None:
    """The cell that should define `DEVICE_TYPE`: the first that imports torch, up to the first cell
    whose fixes need it, as a person writes the definition next to the imports; None when no cell
    before that imports torch (the cell itself then imports it) or one already defines it."""
    needing = [
        cell.index
        for cell in cells
        if any(f.fix is not None and DEVICE_TYPE in f.fix.requires for f in by_cell.get(cell.index, []))
    ]
    if not needing:
        return None
    for cell in cells:
        if cell.index > needing[0]:
            return None
        defines = _defines(split_cell(cell.source)[0])
        if DEVICE_TYPE in defines:
            return None
        if "import torch" in defines:
            return cell.index
    return None


def _fix_cell(
    python: str, findings: list[Finding], extra: set[str], torch_version: Version | None, line_length: int
) -> FixedText:
    """One cell's Python with its fixes applied and, for the cell that hosts them, the notebook's module needs met."""
    fixed = fix_python(python, findings, torch_version, line_length) if findings else FixedText(python)
    if fixed.error or not extra:
        return fixed
    try:
        text = wrap_new_long_lines(python, meet_module_needs(fixed.text, extra, (), torch_version, line_length), line_length)
    except ModuleNeedsError as exc:
        return FixedText(python, error=str(exc))
    return replace(fixed, text=text)


def _without(finding: Finding, met: set[str]) -> Finding:
    """The finding with the module needs an earlier cell already meets dropped from its fix."""
    if finding.fix is None or not met & set(finding.fix.requires):
        return finding
    return replace(finding, fix=replace(finding.fix, requires=tuple(r for r in finding.fix.requires if r not in met)))


def _originals(chosen: list[Finding], wanted: list[Finding]) -> list[Finding]:
    """The scan's findings behind the ones the fixer was given (their needs may have been trimmed)."""
    by_place = {(f.rule, f.span): f for f in wanted}
    return [by_place.get((f.rule, f.span), f) for f in chosen]


def _defines(python: str) -> set[str]:
    """The module needs a cell meets for the cells after it: `import torch`, `DEVICE_TYPE`."""
    try:
        tree = parse_python(python)
    except (SyntaxError, ValueError, RecursionError):
        return set()
    found = set()
    for node in tree.body:
        if isinstance(node, ast.Import) and any(a.name == "torch" and a.asname is None for a in node.names):
            found.add("import torch")
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == DEVICE_TYPE for t in node.targets):
            found.add(DEVICE_TYPE)
    return found


def _restore_escapes(source: str, python: str, fixed: str) -> str | None:
    """`fixed` with the cell's IPython lines (`!pip ...`, `%time`) back where their `pass` lines went."""
    original, analysed, new = source.split("\n"), python.split("\n"), fixed.split("\n")
    escapes = {i for i, (a, b) in enumerate(zip(original, analysed)) if a != b}
    if len(original) != len(analysed):
        return None
    moved: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(a=analysed, b=new, autojunk=False)
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag == "equal":
            moved.update({i: j1 + i - i1 for i in range(i1, i2) if i in escapes})
    if set(moved) != escapes:
        return None
    for i, j in moved.items():
        new[j] = original[i]
    restored = "\n".join(new)
    # Jupyter ends a cell's last line without a newline; a definition added at the end keeps that.
    return restored[:-1] if restored.endswith("\n") and not source.endswith("\n") else restored


def _set_source(cell: dict[str, Any], source: str) -> None:
    """Store `source` as the cell had it: Jupyter's list of lines (each but the last ending in a newline) or one string."""
    if isinstance(cell.get("source"), list):
        lines = source.split("\n")
        cell["source"] = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    else:
        cell["source"] = source
