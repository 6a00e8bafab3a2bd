"""Fix one Python file from its findings: site edits, then module needs, then a parse check."""

from __future__ import annotations

from packaging.version import Version

from cudaudit.fixers.edits import FixedText, apply_edits
from cudaudit.fixers.line_length import DEFAULT, wrap_new_long_lines
from cudaudit.fixers.python_module import ModuleNeedsError, meet_module_needs
from cudaudit.model import Finding
from cudaudit.source import parse_python


def fix_python(
    text: str, findings: list[Finding], torch_version: Version | None, line_length: int = DEFAULT
) -> FixedText:
    """`text` with the fixes of `findings` applied, new lines kept within `line_length`;
    unchanged (with an error) if that breaks it."""
    edited = apply_edits(text, findings)
    waiting = [f for f in edited.applied if f.fix and any(f.fix.protects(c.span) for c in edited.conflicting)]
    if waiting:  # a requirement goes only with everything it protects: the next run removes it
        edited = apply_edits(text, [f for f in findings if f not in waiting])
        edited.conflicting.extend(waiting)
    if not edited.applied:
        return FixedText(text, conflicting=edited.conflicting)
    fixes = [f.fix for f in edited.applied if f.fix is not None]  # every applied finding carries one
    requires = {need for fix in fixes for need in fix.requires}
    unused = sorted({name for fix in fixes for name in fix.unused_imports})
    try:
        fixed = meet_module_needs(edited.text, requires, unused, torch_version, line_length)
        fixed = wrap_new_long_lines(text, fixed, line_length)
        parse_python(fixed)
    except ModuleNeedsError as exc:
        return FixedText(text, error=str(exc))
    except SyntaxError as exc:
        return FixedText(text, error=f"the fixed code would not parse ({exc.msg}, line {exc.lineno}); left unchanged")
    except Exception as exc:  # noqa: BLE001 - libcst rejects what it cannot parse with its own errors
        return FixedText(text, error=f"the fixed code would not parse ({type(exc).__name__}); left unchanged")
    return FixedText(fixed, edited.applied, edited.conflicting)
