"""`call-argument` keys: a value passed to a library call that ties the call to CUDA.

Each key says which call, which argument and which value, so the knowledge stays in the catalog:

    transformers.*TrainingArguments|trl.*Config(tf32=True)
    ctranslate2.*(device/1="cuda*")
    *(attn_implementation="flash_attention_2")

- The callee is the qualified name after imports are resolved (a builtin such as `dict` by its
  bare name), as fnmatch patterns separated by `|`. Two more places hold settings before they are
  passed on: `=` is an assignment to a variable, attribute or key of the argument's name
  (`kwargs["attn_implementation"] = "..."`), `{}` a dict display's key. `*` alone is any call,
  `=` and `{}` together: for values no other library uses (`"CUDAExecutionProvider"`).
- The argument is a keyword; `name/N` also takes the N-th positional argument (from 0).
- The value is a Python literal. A string is a set of fnmatch patterns separated by `|`, matched
  against a string constant or an element of a list or tuple (the name of a `(name, options)`
  pair: ONNX Runtime's providers); other literals must be equal (`True` is not `1`).

A value chosen at run time by a CUDA probe (`"cuda" if torch.cuda.is_available() else "cpu"`) is
handled as everywhere (`report_values`), and so is one chosen by an availability check between a
matching value and another literal (`"flash_attention_2" if is_flash_attn_2_available() else
"sdpa"`): not reported. A hit here is the library's own fact about the value, so the generic
`device="cuda"` finding at the same place gives way to it. Comparisons (`"CUDAExecutionProvider"
in ort.get_available_providers()`) check, they do not choose, and are not reported.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase, translate
from functools import cache

from cudaudit.rules.catalog import CatalogError
from cudaudit.rules.python.device_syntax import target_name
from cudaudit.rules.python.literals import string_value
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.walker import Concern

DETECTOR = "call-argument"
ANY_CALL = "*"

ASSIGNED = "="
DICT_KEY = "{}"
_KEY = re.compile(r"^(?P<callees>[\w.*|={}]+?)\((?P<name>\w+)(?:/(?P<index>\d+))?=(?P<value>.+)\)$")


@dataclass(frozen=True)
class ArgumentKey:
    """One parsed `call-argument` key."""

    key: str
    callees: tuple[str, ...]
    name: str
    index: int | None
    value: object

    @property
    def any_call(self) -> bool:
        return self.callees == (ANY_CALL,)

    def calls(self, callee: str | None) -> bool:
        return self.any_call or (callee is not None and any(fnmatchcase(callee, p) for p in self.callees))

    def holds(self, place: str) -> bool:
        """Whether an assignment (`=`) or a dict display (`{}`) of the argument's name counts."""
        return self.any_call or place in self.callees

    def matches(self, node: ast.expr) -> bool:
        """Whether `node` is a literal this key means."""
        if isinstance(self.value, str):
            text = string_value(node)
            return text is not None and any(fnmatchcase(text, p) for p in self.value.split("|"))
        return isinstance(node, ast.Constant) and self.means(node.value)

    def means(self, value: object) -> bool:
        """Whether a plain value (a configuration file's, already read) is one this key means."""
        if isinstance(self.value, str):
            return isinstance(value, str) and any(fnmatchcase(value, p) for p in self.value.split("|"))
        return type(value) is type(self.value) and value == self.value


def stored_settings(keys: frozenset[str]) -> tuple[ArgumentKey, ...]:
    """The keys that count a value stored under the argument's name (`=`, `{}`, or any call): the
    ones a configuration file's `name: value` means too, since the program passes it on as that
    argument (`attn_implementation: flash_attention_2` in a recipe given with `--config`)."""
    return tuple(key for key in _parsed(keys) if key.holds(ASSIGNED) or key.holds(DICT_KEY))


def parse_key(key: str) -> ArgumentKey:
    """A key's parts; a malformed key is a catalog error."""
    found = _KEY.match(key)
    if found is None:
        raise CatalogError(f"call-argument key {key!r} is not `callee(argument=value)`")
    try:
        value = ast.literal_eval(found.group("value"))
    except (ValueError, SyntaxError) as exc:
        raise CatalogError(f"call-argument key {key!r}: the value is not a Python literal") from exc
    index = found.group("index")
    return ArgumentKey(key, tuple(found.group("callees").split("|")), found.group("name"), int(index) if index else None, value)


@cache
def _parsed(keys: frozenset[str]) -> tuple[ArgumentKey, ...]:
    return tuple(parse_key(key) for key in sorted(keys))


@cache
def _asked(keys: frozenset[str]) -> tuple[frozenset[str], int]:
    """The argument names the keys ask about, and the fewest positional arguments any of them needs."""
    parsed = _parsed(keys)
    positional = [key.index + 1 for key in parsed if key.index is not None]
    return frozenset(key.name for key in parsed), min(positional, default=sys.maxsize)


class CallArguments(Concern):
    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """For some key: a value it matches (a string its patterns match, where its value is one),
        given where it looks, under its argument's name (a keyword, or as many positional arguments,
        of a call it names; a store or a dict key where it counts them)."""
        keys = _parsed(survey.catalog.keys(DETECTOR))
        stored = {target_name(target) for node in survey.of(ast.Assign) for target in node.targets}
        stored |= {target_name(node.target) for node in survey.of(ast.AnnAssign) if node.value is not None}
        displayed = {string_value(key) for node in survey.of(ast.Dict) for key in node.keys if key is not None}
        named = {keyword.arg for call in survey.of(ast.Call) for keyword in call.keywords}
        for key in keys:
            if isinstance(key.value, str) and not survey.has_string(_pattern(key.value).match):
                continue
            if (key.holds(ASSIGNED) and key.name in stored) or (key.holds(DICT_KEY) and key.name in displayed):
                return True
            if key.name in named or key.index is not None:
                for call, callee in survey.calls:
                    passed = any(k.arg == key.name for k in call.keywords) or (key.index is not None and len(call.args) > key.index)
                    if passed and key.calls(callee if callee is not None or not isinstance(call.func, ast.Name) else call.func.id):
                        return True
        return False

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        if self.walk.in_comparison:
            return
        if callee is None and isinstance(call.func, ast.Name):
            callee = call.func.id  # a builtin (`dict(...)`) or a name the module defines
        if not call.keywords and not call.args:
            return
        named = {keyword.arg for keyword in call.keywords}
        given = len(call.args)
        asked, fewest = _asked(self.walk.keys(DETECTOR))
        if given < fewest and asked.isdisjoint(named):
            return  # most calls: no argument any key asks about
        for key in self._keys():
            # first: most calls pass no argument of the key's name, nor as many positional ones
            if key.name not in named and (key.index is None or given <= key.index):
                continue
            values = list(_arguments(call, key))
            if values and key.calls(callee):
                for value in values:
                    self._report(value, key)

    def on_Dict(self, node: ast.Dict) -> None:
        for name, value in zip(node.keys, node.values):
            self._setting(DICT_KEY, string_value(name) if name is not None else None, value)

    def on_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._setting(ASSIGNED, target_name(target), node.value)

    def on_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._setting(ASSIGNED, target_name(node.target), node.value)

    def _setting(self, place: str, name: str | None, value: ast.expr) -> None:
        """A value stored under an argument's name, for keys that count such a place."""
        if name is None:
            return
        for key in self._keys():
            if key.name == name and key.holds(place):
                self._report(value, key)

    def _keys(self) -> tuple[ArgumentKey, ...]:
        return _parsed(self.walk.keys(DETECTOR))

    def _report(self, value: ast.expr, key: ArgumentKey) -> None:
        if _chosen_by_availability(value, key.matches):
            return
        for candidate in _elements(value):
            self.walk.report_values(candidate, DETECTOR, key.matches, key=key.key, specific=True)


@cache
def _pattern(value: str) -> re.Pattern[str]:
    """A key's string value as one pattern: any of its fnmatch patterns."""
    return re.compile("|".join(f"(?:{translate(part)})" for part in value.split("|")))


def _arguments(call: ast.Call, key: ArgumentKey) -> Iterator[ast.expr]:
    for keyword in call.keywords:
        if keyword.arg == key.name:
            yield keyword.value
    positional = call.args[: key.index + 1] if key.index is not None else []
    if len(positional) == (key.index or 0) + 1 and not any(isinstance(arg, ast.Starred) for arg in positional):
        yield positional[-1]


def _elements(value: ast.expr) -> Iterable[ast.expr]:
    """The value, or the items of a list/tuple/set of them (the name of a `(name, options)` pair)."""
    if not isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return (value,)
    return [item.elts[0] if isinstance(item, ast.Tuple) and item.elts else item for item in value.elts]


def _chosen_by_availability(value: ast.expr, matches: Callable[[ast.expr], bool]) -> bool:
    """`"flash_attention_2" if is_flash_attn_2_available() else "sdpa"`: a fallback is chosen at run time."""
    if not isinstance(value, ast.IfExp) or not _is_availability_check(value.test):
        return False
    branches = (value.body, value.orelse)
    return any(matches(b) for b in branches) and any(isinstance(b, ast.Constant) and not matches(b) for b in branches)


def _is_availability_check(test: ast.expr) -> bool:
    if isinstance(test, ast.UnaryOp):
        return _is_availability_check(test.operand)
    if not isinstance(test, ast.Call):
        return False
    func = test.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return "available" in name


CONCERN = CallArguments
