"""Keyword parameters that default to False and that every call of their function turns on.

A demo's renderer may time its steps with CUDA events unless told not to: `def __init__(self,
disable_timing=False)`, with `if not disable_timing: self.start = torch.cuda.Event(...)` and the
flag kept in `self._disable_timing` for a later `if self._disable_timing: ... else:
self.start.record(torch.cuda.current_stream())`. Where every construction of the class in the
project passes `disable_timing=True` (`Renderer(disable_timing=True)`), the arm a False value takes
runs only for a user who builds the class another way: another path than the normal one
(principle 1), at most a warning, as for a keyword every caller keeps on (`kept_on.py`).

`passed_on_candidates` reads one module from its bytes: the parameters its signatures default to
False and take by position (`kept_off.positional_slots`), that an `if` header tests alone (`if not
disable_timing:`) or that the module keeps in an attribute of `self` that an `if` header tests alone
(`self._disable_timing = disable_timing`, `if self._disable_timing:`), with the name the function
is called by (a class's for `__init__`) and the parameter's place. `always_passed` then keeps a
parameter, and the attribute, where the project's Python modules outside the test suite call the
function at least once and every call gives the parameter True, by name or at its place: a call that
leaves it out, passes anything else, or passes a `*sequence` or a `**mapping` keeps the verdicts. A
call through another name (the class handed on and built elsewhere) is not seen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from cudaudit.filekinds import is_test_path
from cudaudit.rules.catalog import word_automaton
from cudaudit.rules.python.kept_off import STORED, call_arguments, false_defaults, positional_slots, project_calls
from cudaudit.rules.python.kept_on import spelled

Candidate = tuple[str, str, int, str]
"""(the name the function is called by, the parameter, its place among a call's positional
arguments, the attribute of `self` it is kept in or "")."""

_ENDS_TEST = re.compile(rb"(?<![ \t])[ \t]*:")
"""A colon right after a name (`kept_on.spelled` matches it there, after the name's last byte); the
lookbehind keeps a search over a run of blanks from starting again at every blank of it."""
_TEST_HEADS = frozenset({b"if", b"elif", b"if not", b"elif not"})
"""What stands before a name an `if` header tests alone, on its line."""
_KEYWORD = re.compile(rb"\s*([A-Za-z_]\w*)\s*=(?!=)\s*(.*?)\s*\Z", re.S)


def passed_on_candidates(data: bytes) -> tuple[Candidate, ...]:
    """The parameters of module `data` this module's docstring describes, as `Candidate`s."""
    if b"False" not in data or b"if" not in data:
        return ()
    defaults = list(false_defaults(data))
    parameters = {name for name, _ in defaults}
    if not parameters:
        return ()
    kept = {
        held: stored for stored, held in (match.groups() for match in STORED.finditer(b"\n" + data))
        if held in parameters and _tested_alone(data, b"self." + stored)
    } if b"self." in data else {}
    relevant = {parameter for parameter in parameters if parameter in kept or _tested_alone(data, parameter)}
    if not relevant:
        return ()
    found = {
        (callee.decode("ascii"), parameter.decode("ascii"), index, kept.get(parameter, b"").decode("ascii"))
        for callee, parameter, index in positional_slots(data, relevant, defaults)
    }
    return tuple(sorted(found))


def _tested_alone(data: bytes, name: bytes) -> bool:
    """Whether an `if` or `elif` header of module `data` tests `name` alone (`if not disable_timing:`,
    `if self._disable_timing:`), found from each place the name is spelled before a colon
    (`kept_on.spelled`: a pattern over every line of every module cost more than the rest of the reading)."""
    return any(
        data[data.rfind(b"\n", 0, start) + 1 : start].strip() in _TEST_HEADS for start, _ in spelled(data, name, _ENDS_TEST)
    )


def always_passed(
    candidates: Mapping[str, tuple[Candidate, ...]], code: Mapping[str, Callable[[], bytes]]
) -> dict[str, frozenset[str]]:
    """Module -> the parameters of `candidates` (module -> `passed_on_candidates`), and the attributes
    they are kept in, that every call in `code` (display path -> bytes, Python modules) outside the
    test suite gives True, where there is one."""
    by_callee: dict[bytes, set[tuple[str, int]]] = {}
    """The name a function is called by -> (the parameter, its place) of each candidate."""
    for path, found in candidates.items():
        if not is_test_path(path):
            for callee, parameter, index, _ in found:
                by_callee.setdefault(callee.encode(), set()).add((parameter, index))
    callees = word_automaton(sorted(callee + b"(" for callee in by_callee))
    if callees is None:
        return {}
    called: set[tuple[str, str]] = set()
    refused: set[tuple[str, str]] = set()
    for name, data, opened in project_calls(code, callees):
        callee = name.decode("ascii")
        open_keys = [(parameter, place) for parameter, place in by_callee[name] if (callee, parameter) not in refused]
        items = call_arguments(data, opened) if open_keys else None
        for parameter, place in open_keys:
            called.add((callee, parameter))
            if items is None or not _gives_true(items, parameter, place):
                refused.add((callee, parameter))
    kept = called - refused
    result: dict[str, set[str]] = {}
    for path, found in candidates.items():
        for callee, parameter, _, attribute in found:
            if (callee, parameter) in kept and not is_test_path(path):
                result.setdefault(path, set()).update(name for name in (parameter, attribute) if name)
    return {path: frozenset(names) for path, names in result.items()}


def _gives_true(items: list[bytes], parameter: str, place: int) -> bool:
    """Whether a call's argument items give `parameter` (at `place` among the positional ones) True."""
    positional: list[bytes] = []
    for item in items:
        text = item.strip()
        if text.startswith(b"*"):
            return False  # `*args`, `**options`: what it passes is not known
        keyword = _KEYWORD.match(text)
        if keyword is None:
            positional.append(text)
        elif keyword.group(1).decode("ascii") == parameter:
            return keyword.group(2) == b"True"
    return place < len(positional) and positional[place] == b"True"
