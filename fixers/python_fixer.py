"""Fix one Python file from its findings: site edits, then module needs, then a parse check."""

from __future__ import annotations

import ast

from packaging.version import Version

from cudaudit.fixers.edits import FixedText, apply_edits
from cudaudit.fixers.python_module import ModuleNeedsError, meet_module_needs
from cudaudit.model import Finding


def fix_python(text: str, findings: list[Finding], torch_version: Version | None) -> FixedText:
    """`text` with the fixes of `findings` applied; unchanged (with an error) if that breaks it."""
    edited = apply_edits(text, findings)
    if not edited.applied:
        return FixedText(text, conflicting=edited.conflicting)
    requires = {need for f in edited.applied for need in f.fix.requires}  # type: ignore[union-attr]
    unused = sorted({name for f in edited.applied for name in f.fix.unused_imports})  # type: ignore[union-attr]
    try:
        fixed = meet_module_needs(edited.text, requires, unused, torch_version)
        ast.parse(fixed)
    except ModuleNeedsError as exc:
        return FixedText(text, error=str(exc))
    except SyntaxError as exc:
        return FixedText(text, error=f"the fixed code would not parse ({exc.msg}, line {exc.lineno}); left unchanged")
    except Exception as exc:  # noqa: BLE001 - libcst rejects what it cannot parse with its own errors
        return FixedText(text, error=f"the fixed code would not parse ({type(exc).__name__}); left unchanged")
    return FixedText(fixed, edited.applied, edited.conflicting)
