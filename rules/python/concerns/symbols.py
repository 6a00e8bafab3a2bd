"""`symbol` keys: every name used, resolved through the module's imports and the catalog's aliases.

`th.cuda.synchronize`, `from torch import cuda; cuda.synchronize` and
`from torch.cuda import synchronize` all meet the key `torch.cuda.synchronize`; the catalog's
longest dotted prefix answers, so a name under `torch.cuda` without facts of its own takes the
module's. A name written only as an annotation is never met (the walker does not visit them).
"""

from __future__ import annotations

import ast

from cudaudit.rules.python.walker import Concern

DETECTOR = "symbol"


class Symbols(Concern):
    def on_qualified_name(self, node: ast.Name | ast.Attribute, qualified: str) -> None:
        self.walk.report(DETECTOR, qualified, node)


CONCERN = Symbols
