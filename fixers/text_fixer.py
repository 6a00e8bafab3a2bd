"""Fix a dependency file, Dockerfile or workflow from its findings: text edits, then a parse check as its kind.

The edits come with the findings (the analyzers make them for one named target); what this adds
is the guarantee the Python fixer gives with `ast.parse`: the fixed text is parsed again the way
its kind's analyzer parses it (`cudaudit.analyzers.parser`), and a text that parser rejects
(`UnparsableError`, `SyntaxError`) is not written.
"""

from __future__ import annotations

from cudaudit.analyzers import parser
from cudaudit.filekinds import FileKind
from cudaudit.fixers.edits import FixedText, apply_edits
from cudaudit.model import Finding
from cudaudit.source import UnparsableError


def fix_text(text: str, findings: list[Finding], kind: FileKind) -> FixedText:
    """`text` with the fixes of `findings` applied; unchanged (with an error) if it no longer parses as `kind`."""
    edited = apply_edits(text, findings)
    if not edited.applied:
        return FixedText(text, conflicting=edited.conflicting)
    parse = parser(kind)
    try:
        if parse is not None:
            parse(edited.text)
    except UnparsableError as exc:
        return FixedText(text, error=_not_written(kind, str(exc), exc.line))
    except SyntaxError as exc:
        return FixedText(text, error=_not_written(kind, exc.msg, exc.lineno))
    return FixedText(edited.text, edited.applied, edited.conflicting)


def _not_written(kind: FileKind, message: str, line: int | None) -> str:
    where = f", line {line}" if line else ""
    return f"the fixed file would not parse as a {kind.value} file ({message}{where}); left unchanged"
