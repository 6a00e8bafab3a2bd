"""`import` keys: modules imported by absolute `import` and `from ... import` statements.

`from numba import cuda` imports the module `numba.cuda`, so each imported name is tried as a
module below the one named; `from numba import njit` finds no key. A project's own modules
(`first_party`, or a sibling file of the scanned one) are never a third-party library, whatever
their name. An import inside `try:` with an `except ImportError:` fallback is at most a warning.
"""

from __future__ import annotations

import ast

from cudaudit.model import Severity
from cudaudit.rules.python.walker import Concern

DETECTOR = "import"


class Imports(Concern):
    def on_Import(self, node: ast.Import) -> None:
        self._report(node, [alias.name for alias in node.names])

    def on_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self._report(node, [f"{node.module}.{alias.name}" for alias in node.names])

    def _report(self, node: ast.stmt, modules: list[str]) -> None:
        """One hit per rule and statement: `import cupy, cupyx` reports the rule once."""
        walk = self.walk
        seen: set[str] = set()
        for module in modules:
            entry = walk.catalog.lookup(DETECTOR, module)
            if entry is not None and entry.rule.id not in seen and not walk.is_first_party(module):
                seen.add(entry.rule.id)
                walk.report(DETECTOR, entry.match, node, cap=Severity.WARNING if walk.optional_import else None)


CONCERN = Imports
