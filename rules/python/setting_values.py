"""The value a setting of several values starts on, and whether a test of it holds there.

A configuration field or a command-line option may hold one of several values: a mode kept as an
enum member (`sched: Sched = Sched.LEGACY`), a string (`impl: str = "none"`, `add_argument("--impl",
default="none")`), a number (`ring_size: int = 1`), None (`quant: Optional[str] =
Field(default=None)`). A branch a test takes only for another value than that one (`if cfg.sched ==
Sched.ASYNC:`, `if cfg.ring_size > 1:`, `if cfg.quant is not None:`) runs only when a user picks the
other value: another path than the normal one (principle 1), as under a switch that is off by
default. Booleans are the switches' own reading (`names.off_by_default`), and stay out of this one.

This module knows values and comparisons only; which names are settings, and where they are
declared, is `names._chosen_settings`' (one module) and `choice_settings`' (the project).
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable

from cudaudit.facts import SettingValue
from cudaudit.rules.python.nodes import subtree

Value = SettingValue
"""A setting's value: a constant, or an enum member as (its class's name, the member's name)."""
Known = tuple[Value]
"""A value read from code, in a tuple of one, so that None (the value) and "not read" stay apart."""

_ORDERINGS: dict[type[ast.cmpop], Callable[[float, float], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
SETTINGS_CLASS_WORDS = ("Arguments", "Args", "Config", "Options", "Settings", "Params")
"""How an argument or configuration class ends its name (`TrainingArguments`, `ModelArgs`,
`TrainConfig`): a dataclass that `HfArgumentParser`, a plain parser or a configuration loader fills,
its field defaults the defaults."""
_MEMBER_WRAPPERS = frozenset({"field", "Field"})
"""`dataclasses.field(default=...)` and pydantic's `Field(default=...)` / `Field(...)`: the default is an argument."""


def literal(node: ast.expr) -> Known | None:
    """The value `node` spells: a string, a number (with its sign) or None, or an enum member
    (`Sched.LEGACY`, `cfg_enums.Sched.LEGACY`: a capitalised class name, then the member); None for
    anything else, a truth value included."""
    if isinstance(node, ast.Constant):
        value = node.value
        if value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool)):
            return (value,)
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = literal(node.operand)
        number = inner[0] if inner is not None else None
        return (-number,) if isinstance(number, (int, float)) else None
    if isinstance(node, ast.Attribute):
        owner = node.value.id if isinstance(node.value, ast.Name) else node.value.attr if isinstance(node.value, ast.Attribute) else ""
        if owner[:1].isupper() and not node.attr.startswith("_"):
            return ((owner, node.attr),)
    return None


def field_default(annotation: ast.expr, value: ast.expr) -> Known | None:
    """The default of a class field of several values: `mode: Sched = Sched.LEGACY` (the member of
    the annotation's own class), `impl: Literal["none", "local"] = "none"`, `size: int = 1`,
    `quant: Optional[str] = None`, each also as `field(default=...)` or pydantic's `Field(...)`.
    None for a field of booleans, a member of another class than the annotation names, a Literal
    default that is not among its options, or anything that is no plain value."""
    if isinstance(value, ast.Call) and _called_name(value.func) in _MEMBER_WRAPPERS:
        given = next((k.value for k in value.keywords if k.arg == "default"), None)
        if given is None and _called_name(value.func) == "Field" and value.args:
            given = value.args[0]
        if given is None:
            return None
        value = given
    known = literal(value)
    if known is None:
        return None
    named = _annotation_names(annotation)
    if "bool" in named:
        return None  # a switch: `names.off_by_default` reads it
    default = known[0]
    if isinstance(default, tuple):
        return known if default[0] in named else None
    options = _literal_options(annotation)
    if options is not None and default not in options:
        return None
    return known


SETTINGS_CLASS_NAME = re.compile(r"(?:" + "|".join(SETTINGS_CLASS_WORDS) + r")(?:[A-Z_]|$)")
"""A class's name that says it holds settings: one of `SETTINGS_CLASS_WORDS` ends it or one of its
capitalised parts (`TrainConfig`, and `RunArgsLogging` or `ArgsTraining`, the sections of one
argument object that a project splits into several dataclasses)."""


def settings_class(name: str) -> bool:
    """Whether a class's name says it holds settings (`SETTINGS_CLASS_NAME`)."""
    return SETTINGS_CLASS_NAME.search(name) is not None


def _called_name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _annotation_names(annotation: ast.expr) -> set[str]:
    """Every name an annotation spells (`Optional[mod.Sched]` gives Optional, mod, Sched)."""
    found: set[str] = set()
    for node in subtree(annotation):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
    return found


def _literal_options(annotation: ast.expr) -> list[object] | None:
    """The options of a `Literal[...]` annotation, where it is one."""
    if not (isinstance(annotation, ast.Subscript) and _called_name(annotation.value) == "Literal"):
        return None
    items = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
    return [item.value for item in items if isinstance(item, ast.Constant)]


def literals(node: ast.expr) -> list[Value] | None:
    """The values a list, tuple or set of plain values holds (`("img2img", "inpaint")`); None for
    anything else, one item that is no plain value included."""
    if not isinstance(node, (ast.List, ast.Tuple, ast.Set)) or not node.elts:
        return None
    found = [literal(item) for item in node.elts]
    return [known[0] for known in found if known is not None] if all(found) else None


def holds(default: Value, test: ast.cmpop, compared: ast.expr) -> bool | None:
    """Whether `<setting> <test> <compared>` holds while the setting has its default; None where
    that is not known: a member of another enum, a member against a string (an enum of strings
    compares equal to its values), an ordering of anything but numbers."""
    if isinstance(test, (ast.In, ast.NotIn)):
        values = literals(compared)
        if values is None or any(_same(default, value) is None for value in values):
            return None
        inside = any(_same(default, value) for value in values)
        return inside if isinstance(test, ast.In) else not inside
    known = literal(compared)
    if known is None:
        return None
    value = known[0]
    if isinstance(test, (ast.Eq, ast.NotEq)):
        same = _same(default, value)
        return None if same is None else same if isinstance(test, ast.Eq) else not same
    if isinstance(test, (ast.Is, ast.IsNot)):
        if value is not None:
            return None
        return (default is None) is isinstance(test, ast.Is)
    ordering = _ORDERINGS.get(type(test))
    if ordering is None or not _is_number(default) or not _is_number(value):
        return None
    return ordering(default, value)  # type: ignore[arg-type]


def flipped(test: ast.cmpop) -> ast.cmpop | None:
    """The test that holds for `b ? a` where `test` holds for `a ? b` (`1 < x` is `x > 1`); None for
    a membership test, which cannot be turned around."""
    turned: dict[type[ast.cmpop], type[ast.cmpop]] = {
        ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE,
        ast.Eq: ast.Eq, ast.NotEq: ast.NotEq, ast.Is: ast.Is, ast.IsNot: ast.IsNot,
    }
    kind = turned.get(type(test))
    return None if kind is None else kind()


def _is_number(value: Value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(default: Value, value: Value) -> bool | None:
    """Whether two values are equal; None where that depends on what the code does not show."""
    if isinstance(default, tuple) or isinstance(value, tuple):
        if isinstance(default, tuple) and isinstance(value, tuple) and default[0] == value[0]:
            return default[1] == value[1]
        return None
    if _is_number(default) and _is_number(value):
        return default == value
    return type(default) is type(value) and default == value if default is not None and value is not None else default is value
