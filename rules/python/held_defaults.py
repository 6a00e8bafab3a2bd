"""Keyword parameters whose literal default no call of the project replaces.

A loss may choose its formula by a keyword: `def forward(self, real, fake, gan_mode="ls")`, with
`if gan_mode == "hinge":` calling a helper that builds its zero on `.cuda()`, and `elif gan_mode ==
"ls":` the plain formula. Where no script, example, notebook, document or configuration of the project
passes `gan_mode` (by keyword or at its place among the positional arguments), the function always runs
with `"ls"`: the default closes the `hinge` arm. So does `vad=True` close the arm of `if not vad:`.

Whether that arm is another path or no path at all depends on who may call the function (principle 1):
in an installable library (a `setup.py` or `pyproject.toml` at the project's top) a user outside the
project may pass the keyword, which is why it exists: another path, at most a warning. In an application
that installs nothing, every call is one the scan sees: the arm runs nowhere, and what only it reaches
is not reported. False defaults are `kept_off.py`'s and None defaults `defaults.py`'s; this reading
takes strings, numbers and True.

`literal_defaults` reads one module from its bytes: the parameters its signatures give such a default
that an `if` header of the module names. `held_defaults` then keeps a name where nothing in the
project's code outside the test suite gives it a value (a keyword argument, an assignment written
`name=`, a value written at its place in a call of its function; for a default that is no string, a
quoted mention, which a table of keywords may hand on; for a string default, a string its tests
compare it with written anywhere else: a call through `nn.Module.__call__`, `critic(real, fake,
"hinge")`, reaches `forward` at a place no call of `forward` shows, and a command line's `choices=`
offers the value), and no document or configuration gives it one. The walker evaluates a test of a kept parameter (`gan_mode ==
"hinge"`, `not vad`) with the default, in the function that declares it and does not rebind it
(`walker._held_default`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from functools import lru_cache

from cudaudit.filekinds import is_test_path
from cudaudit.rules.catalog import WORD_BYTES, WordSearch, word_automaton
from cudaudit.rules.python.device_syntax import parameter_defaults
from cudaudit.rules.python.kept_off import in_header, positional_slots, positional_values, quoted, valued
from cudaudit.rules.python.kept_on import VALUE_GIVEN, spelled
from cudaudit.rules.python.read_once import outside_tests, read_or_empty
from cudaudit.rules.python.setting_values import flipped, holds
from cudaudit.rules.python.switch_parameters import in_signature

_LITERAL_DEFAULT = re.compile(
    rb"""(?<![\w.])([A-Za-z_]\w*)[ \t]*(?::[ \t]*(?:str|int|float|bool)[ \t]*)?=[ \t]*"""
    rb"""("[^"\\\n]*"|'[^'\\\n]*'|-?\d+(?:\.\d+)?|True)(?=[ \t]*(?:[,)\n#]|\r\n))"""
)
"""A parameter given a literal default: `gan_mode="ls"`, `steps: int = 4`, `vad=True`; a default
written with an escape, or over several lines, is not read (its verdicts are kept)."""
_GIVEN_LITERAL = re.compile(
    rb"""=[ \t]*(?:"[^"\\\n]*"|'[^'\\\n]*'|-?\d+(?:\.\d+)?|True)(?=[ \t]*(?:[,)\n#]|\r\n))"""
)
"""The part of `_LITERAL_DEFAULT` from its `=`: a search for it skips to each `=` at C speed, where
`_LITERAL_DEFAULT`, which starts with a look-behind and a name, is tried at every byte of a module."""


def _defaults(data: bytes) -> Iterator[tuple[bytes, int, bytes]]:
    """(name, where it is written, the default as written) of each parameter a signature of module
    `data` gives a literal default: the matches `_LITERAL_DEFAULT.finditer` gives, found from each
    `=` that a literal follows (`_GIVEN_LITERAL`), the name before it matched from the line's start."""
    position = 0
    while (given := _GIVEN_LITERAL.search(data, position)) is not None:
        line = data.rfind(b"\n", 0, given.start()) + 1
        end = data.find(b"\n", given.end())
        line_end = len(data) if end < 0 else end + 1  # no match spans lines; the look-ahead may see the newline
        match = next((m for m in _LITERAL_DEFAULT.finditer(data, line, line_end) if m.end() == given.end()), None)
        if match is None:
            position = given.start() + 1  # a match of the whole pattern may still begin inside this one
            continue
        if in_signature(data, match.start()):
            yield match.group(1), match.start(), match.group(2)
        position = match.end()


def literal_defaults(data: bytes) -> tuple[str, ...]:
    """The parameters module `data`'s signatures give a literal default (a string, a number, True)
    that an `if` header of the module names."""
    if b"def " not in data:
        return ()
    names = {name for name, _, _ in _defaults(data)}
    return tuple(sorted(name.decode("ascii") for name in names if in_header(data, name)))


def held_defaults(
    candidates: Mapping[str, tuple[str, ...]],
    code: Mapping[str, Callable[[], bytes]],
    others: Mapping[str, Callable[[], bytes]],
) -> dict[str, frozenset[str]]:
    """Module -> the parameters of `candidates` (module -> `literal_defaults`) that nothing gives a
    value: no spelling in `code` (display path -> bytes: Python modules and notebooks) outside the
    test suite writes one (`gan_mode="hinge"`, `gan_mode = x`, a value at its place in a call of its
    function, a quoted `"vad"` of a default that is no string, a compared string written elsewhere:
    `_OpenedValues`) but the signatures that declare it, and none of `others` (documents and
    configurations) gives it one."""
    found = {path: names for path, names in candidates.items() if not is_test_path(path) and names}
    names = {name for found_names in found.values() for name in found_names}
    words = word_automaton(sorted(name.encode() for name in names))
    if words is None:
        return {}
    held = {name.encode() for name in names}
    slots: dict[bytes, set[tuple[bytes, int]]] = {}
    chosen = set(names)
    opened = _OpenedValues()
    for path, found_names in found.items():
        data = read_or_empty(code[path]) if path in code else b""
        defaults = list(_defaults(data))
        chosen -= {name.decode("ascii") for name, _, value in defaults if not value.startswith((b'"', b"'"))}
        for callee, parameter, index in positional_slots(data, held, [(name, start) for name, start, _ in defaults]):
            slots.setdefault(callee, set()).add((parameter, index))
        opened.compare(data, found_names, defaults)
    callees = word_automaton(sorted(callee + b"(" for callee in slots))
    quotes = opened.search()
    refused: set[str] = set()
    for path, data in outside_tests(code):
        if callees is not None and path.endswith(".py"):
            refused.update(parameter.decode("ascii") for parameter, _ in positional_values(data, callees, slots))
        for word in sorted(words.found(data)):
            name = word.decode("ascii")
            if name in refused:
                continue
            if (name not in chosen and quoted(data, word)) or any(not in_signature(data, start) for start, _ in spelled(data, word, VALUE_GIVEN)):
                refused.add(name)
        if quotes is not None:
            opened.count(quotes, data)
    for read in others.values():
        data = read_or_empty(read)
        refused.update(name for word in words.found(data) if (name := word.decode("ascii")) not in refused and valued(data, word))
    refused |= opened.written_elsewhere()
    result = {path: frozenset(set(found_names) - refused) for path, found_names in found.items()}
    return {path: kept for path, kept in result.items() if kept}


_QUOTED = rb"""(?:"([^"\\\n]*)"|'([^'\\\n]*)')"""
_QUOTED_PATTERN = re.compile(_QUOTED)
_QUOTED_BEFORE = re.compile(_QUOTED + rb"[ \t]*\Z")
"""A string that ends where a comparison starts (`"hinge" != ` before `gan_mode`): the second of
`_compared`'s patterns searches for the comparison and the name, which a search skips to at C
speed, where a pattern that starts with either quote is tried at every byte of the module."""
_IN_LITERALS = re.compile(rb"(?<![ \t])[ \t]+(?:not[ \t]+)?in[ \t]*[(\[{]([^)\]}\n]*)")


def _compared(data: bytes, name: bytes) -> list[bytes]:
    """The strings module `data` compares `name` with (`gan_mode == "hinge"`, `"hinge" != gan_mode`,
    `gan_mode in ("hinge", "wgan")`), once per comparison that writes them."""
    name_first, name_last, in_literals = _comparisons(name)
    found: list[bytes] = []
    for match in _after_a_boundary(name_first, data):
        found.append(match.group(1) if match.group(1) is not None else match.group(2))
    for match in name_last.finditer(data):  # the comparison found, then the string before it on its line
        before = _QUOTED_BEFORE.search(data, data.rfind(b"\n", 0, match.start()) + 1, match.start())
        if before is not None:
            found.append(before.group(1) if before.group(1) is not None else before.group(2))
    for match in _after_a_boundary(in_literals, data):
        found.extend(a or b for a, b in _QUOTED_PATTERN.findall(match.group(1)))
    return found


@lru_cache(maxsize=4096)
def _comparisons(name: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes], re.Pattern[bytes]]:
    """`_compared`'s three patterns for `name`, compiled once per name: the scan asks for the same
    names in every module that declares them, and `re`'s own cache of 512 patterns does not keep
    three per name of a large project. Bounded, for a process that scans one project after another."""
    word = re.escape(name)
    return (
        re.compile(word + rb"[ \t]*[!=]=[ \t]*" + _QUOTED),
        re.compile(rb"[!=]=[ \t]*" + word + rb"(?!\w)"),
        re.compile(word + _IN_LITERALS.pattern),
    )


def _after_a_boundary(pattern: re.Pattern[bytes], data: bytes) -> Iterator[re.Match[bytes]]:
    """The matches `re.finditer` gives for `(?<![\\w.])` followed by `pattern`, which starts with a
    name: a search for the name skips to it at C speed, where a pattern that starts with a look-behind
    is tried at every byte. A match inside a longer name or after a dot is passed over, and the search
    goes on from the byte after its start, as the look-behind's scan does."""
    position = 0
    while (match := pattern.search(data, position)) is not None:
        start = match.start()
        if start and (data[start - 1] in WORD_BYTES or data[start - 1] == ord(".")):
            position = start + 1
            continue
        yield match
        position = match.end() if match.end() > start else start + 1


class _OpenedValues:
    """The strings the tests of the candidate parameters compare them with, and how often the
    project's code outside the test suite writes each: a name whose arm opens on a value written
    anywhere else is refused. A call may hand the value on at a place this reading does not follow
    (`critic(real, fake, "hinge")`, through `nn.Module.__call__` to `forward`), or a choice of the
    command line may offer it. Where the value that opens an arm is written nowhere but in the tests
    of the parameter, no call can pass it.

    The writings are counted in the one pass `held_defaults` makes over the project's files, with one
    automaton of every quoted value (`search`), not one count per value and file: on a tree of 400
    modules with 150 compared values the counts were most of the reading's time."""

    def __init__(self) -> None:
        self.expected: dict[bytes, int] = {}
        self.owners: dict[bytes, set[str]] = {}
        self.written: dict[bytes, int] = {}

    def compare(self, data: bytes, names: Collection[str], defaults: list[tuple[bytes, int, bytes]]) -> None:
        """Note the strings module `data` compares each of `names` with (`_compared`), once per
        comparison that writes them, but the value its default (`defaults`: `_defaults`) holds,
        which opens no closed arm."""
        held = {name: value[1:-1] for name, _, value in defaults}
        for name in names:
            for value in _compared(data, name.encode()):
                if value == held.get(name.encode()):
                    continue
                self.expected[value] = self.expected.get(value, 0) + 1
                self.owners.setdefault(value, set()).add(name)

    def search(self) -> WordSearch | None:
        """One search for every compared value, written between double or single quotes."""
        return word_automaton(sorted(quote + value + quote for value in self.expected for quote in (b'"', b"'")))

    def count(self, quotes: WordSearch, data: bytes) -> None:
        """Add the quoted values `data` writes, counted as `bytes.count` counts each: matches of one
        word that do not overlap, from the left."""
        ends: dict[int, int] = {}
        for index, start, end in quotes.matches(data):  # in the order of their ends: of their starts, for one word
            if start >= ends.get(index, 0):
                ends[index] = end
                value = quotes.words[index][1:-1]
                self.written[value] = self.written.get(value, 0) + 1

    def written_elsewhere(self) -> set[str]:
        """The names one of whose compared values the project writes more often than its tests do."""
        return {
            name for value, count in self.written.items() if count > self.expected[value] for name in self.owners[value]
        }


def default_holds(test: ast.expr, defaults: Mapping[str, object]) -> bool | None:
    """Whether `test` holds where each name of `defaults` holds its default (`gan_mode == "hinge"`
    for `gan_mode="ls"`: False; `not vad` for `vad=True`: False); None where that does not decide it
    (a name it reads that `defaults` lacks, a comparison `setting_values.holds` cannot judge, any
    other form)."""
    if isinstance(test, ast.Name):
        return bool(defaults[test.id]) if test.id in defaults else None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = default_holds(test.operand, defaults)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        values = [default_holds(value, defaults) for value in test.values]
        decisive = isinstance(test.op, ast.Or)  # True decides an `or`, False an `and`
        if decisive in values:
            return decisive
        return None if None in values else not decisive
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if isinstance(right, ast.Name) and not isinstance(left, ast.Name):
            left, right, turned = right, left, flipped(op)  # `"hinge" == gan_mode`
            if turned is None:
                return None
            op = turned
        if not (isinstance(left, ast.Name) and left.id in defaults):
            return None
        default = defaults[left.id]
        if not (default is None or isinstance(default, (str, int, float))):
            return None
        return holds(default, op, right)
    return None


def held_parameters(function: ast.FunctionDef | ast.AsyncFunctionDef, held: Collection[str]) -> dict[str, object]:
    """The parameters of `function` among `held` (`FileFacts.held_defaults`) whose default is a literal
    other than False or None, with that default, that the function never binds again (`gan_mode =
    gan_mode.lower()` makes the tests read another value)."""
    found: dict[str, object] = {
        name: default.value for name, _, default in parameter_defaults(function.args)
        if name in held and isinstance(default, ast.Constant) and default.value is not None and default.value is not False
    }
    if found:
        for node in ast.walk(function):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                found.pop(node.id, None)
    return found


def maybe_passed_unseen(function: ast.FunctionDef | ast.AsyncFunctionDef, test: ast.expr, defaults: Mapping[str, object]) -> bool:
    """Whether `test` reads a parameter of `defaults` that a call may give at its place without the
    scan seeing it: a positional parameter, whose default is no string, of a function called by
    another name. A module's `forward` runs as `net(x, False)`, through `nn.Module.__call__`, and an
    object's `__call__` as `obj(x, False)`, where no call of the function's own name shows the value
    (`kept_off.positional_values` follows those); a string a test compares with is looked for
    wherever it is written (`_OpenedValues`), a truth value or a number cannot be."""
    if function.name not in _CALLED_BY_ANOTHER_NAME:
        return False
    positional = {argument.arg for argument in (*function.args.posonlyargs, *function.args.args)}
    return any(
        isinstance(node, ast.Name) and node.id in positional and node.id in defaults and not isinstance(defaults[node.id], str)
        for node in ast.walk(test)
    )


_CALLED_BY_ANOTHER_NAME = frozenset({"forward", "__call__"})
"""Methods Python or PyTorch call for a call of the object: `net(x)` runs `Net.forward`."""
