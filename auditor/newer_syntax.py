"""Python 3.12's type parameter syntax read by an older interpreter.

A project that requires Python 3.12 writes `type Vector = list[float]` and `def first[T](xs: list[T])
-> T:` (PEP 695); `ast` on Python 3.11 cannot parse them, and the whole module would be "not
analysed". libcst's native parser knows the newer grammar on every supported Python, so a module
that `ast` rejects is parsed again with it and written in the older grammar, line for line: `type X =
V` becomes `X = V` and a definition loses its `[T, ...]`. Neither carries a device, a backend or a
call, so what the analyzers see is unchanged but for columns on those lines. A module whose
rewrite would move lines (type parameters spread over several) is left to fail as it did.
"""

from __future__ import annotations

from typing import Any


def older_grammar(text: str) -> str | None:
    """`text` without PEP 695's statements and type parameters, or None where libcst does not parse it
    either or the rewrite would move its lines."""
    import libcst as cst  # only for modules `ast` rejects: most scans never load it

    class _WithoutTypeParameters(cst.CSTTransformer):
        def leave_TypeAlias(self, original: Any, updated: Any) -> Any:
            return cst.Assign(targets=[cst.AssignTarget(updated.name)], value=updated.value)

        def leave_FunctionDef(self, original: Any, updated: Any) -> Any:
            return updated.with_changes(type_parameters=None)

        def leave_ClassDef(self, original: Any, updated: Any) -> Any:
            return updated.with_changes(type_parameters=None)

    try:
        rewritten: str = cst.parse_module(text).visit(_WithoutTypeParameters()).code
    except Exception:  # noqa: BLE001 - not Python of any grammar libcst knows: the original error stands
        return None
    return rewritten if rewritten.count("\n") == text.count("\n") else None
