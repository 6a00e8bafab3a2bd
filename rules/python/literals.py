"""Literal values in Python syntax trees, as the concerns read them."""

from __future__ import annotations

import ast


def string_value(node: ast.AST) -> str | None:
    """The value of a plain string literal; None for anything else (an f-string, a name, a number)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None
