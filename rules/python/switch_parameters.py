"""Function parameters that every call hands a switch the user sets to turn something on.

A generation loop may time its first steps only when asked: `def decode(..., is_bench: bool =
False)`, with `if is_bench: torch.cuda.synchronize()` inside, and a script that calls it with
`is_bench=os.environ.get("USE_BENCH", "0") == "1"`. The parameter is off unless the user sets the
variable, as the variable's own test is (`names.is_environment_switch`), so what it guards is
another path than the normal one, at most a warning. A Streamlit demo may hand a loader the box the
user ticks to load an optional model (`load(with_prior=use_prior)`, `use_prior = st.checkbox("Use
the prior", False)`, `opt_in.unticked_boxes`): the same holds. So it does where a script binds the
name it hands on only under its own option that is off by default, None otherwise (`if args.engine:
engine_file = "model.pth"` / `else: engine_file = None`, then `Predictor(model, engine_file)`, whose
`engine_file=None` parameter opens `if engine_file is not None:`, `opt_in.switched_values`): like
the keywords, such a name is followed by its spelling, so a call that hands it on positionally under
another name is not seen.

`passed_switches` reads one module from its bytes: the keywords it passes an environment switch to
(most modules pass none and are not parsed). `switch_parameters` then keeps a keyword where every
module of the scan outside the test suite that gives it a value (`is_bench=...`, a call's keyword or
a parameter's default) gives False, None or such a switch (or box), and finds the modules whose functions
take it with a False default: there the parameter is a setting that is off by default
(`FileFacts.settings_off`). A keyword given any other value anywhere (`is_bench=True`, a setting
the user may turn on) keeps its verdicts.
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from functools import lru_cache

from cudaudit.filekinds import is_test_path
from cudaudit.rules.python.names import is_environment_switch
from cudaudit.rules.python.opt_in import lines_holding, modules_mentioning, switched_values, unticked_boxes
from cudaudit.rules.python.read_once import ReadOnce

_PASSED = re.compile(
    rb"(?<![\w.])([A-Za-z_]\w*)[ \t]*=(?!=)[ \t]*((?:(?:int|str|bool)\([ \t]*)?(?:os\.)?(?:environ\.get|getenv)\([^()\n]*\)"
    rb"(?:\.\w+\(\))*\)?[ \t]*(?:==|in)[ \t]*(?:[\"'][^\"'\n]*[\"']|\d+|[(\[][^()\[\]\n]*[)\]]))"
)
"""A keyword given an environment variable's test (`is_bench=os.environ.get("USE_BENCH", "0") == "1"`)."""
_LOOKUPS = (b"environ.get(", b"getenv(")
_LOOKUP = re.compile(rb"environ\.get\(|getenv\(")
"""Where a line holds one of `_LOOKUPS`: `_PASSED` starts with a name, which the regex engine would try
at every byte of the module, and each of its matches lies within a line that spells a lookup."""


def passed_switches(data: bytes) -> tuple[str, ...]:
    """The keywords module `data` gives an environment switch, a test that is true only where the
    user set the variable to an on value (`names.is_environment_switch`), or the name of a checkbox
    it keeps that is off until the user ticks it (`opt_in.unticked_boxes`)."""
    found = set()
    if any(lookup in data for lookup in _LOOKUPS):
        for match in _PASSED.finditer(lines_holding(data, _LOOKUP)):
            try:
                value = ast.parse(match.group(2).decode("utf-8", "replace").strip(), mode="eval").body
            except (SyntaxError, ValueError, RecursionError):
                continue
            if is_environment_switch(value):
                found.add(match.group(1).decode("ascii"))
    boxes = unticked_boxes(data)
    if boxes:
        for match in _PASSED_NAME.finditer(lines_holding(data, _words(boxes))):
            if match.group(2) in boxes and match.group(1) not in boxes:
                found.add(match.group(1).decode("ascii"))
    if b"store_true" in data:
        found.update(switched_values(data))
    return tuple(sorted(found))


_PASSED_NAME = re.compile(rb"(?<![\w.])([A-Za-z_]\w*)[ \t]*=(?!=)[ \t]*([A-Za-z_]\w*)[ \t]*(?=[,)])")
"""A keyword given a name as it is (`load_prior=use_prior`), in a call's arguments."""


def _words(names: set[bytes]) -> re.Pattern[bytes]:
    """A pattern of `names` as words, for `opt_in.lines_holding`."""
    return re.compile(rb"(?<![\w.])(?:" + rb"|".join(re.escape(name) for name in sorted(names)) + rb")(?!\w)")


def _passes_a_box(data: bytes, position: int, boxes: set[bytes]) -> bool:
    """Whether the value that starts at `position` of module `data` is one of its unticked `boxes`, as it is."""
    value = re.match(rb"([A-Za-z_]\w*)[ \t]*(?=[,)])", data[position : position + 200])
    return value is not None and value.group(1) in boxes


_OFF_VALUE = re.compile(rb"(?:False|None)\b")


def switch_parameters(
    sources: Mapping[str, Callable[[], bytes]], passed: Mapping[str, tuple[str, ...]]
) -> dict[str, frozenset[str]]:
    """Module -> the parameters of its functions that default to False (or None) and that every
    module outside the test suite gives only False, None or an environment switch (`passed` holds
    each module's `passed_switches`)."""
    names = {name for path, found in passed.items() if not is_test_path(path) for name in found}
    if not names:
        return {}
    text = ReadOnce(sources)
    paths = [path for path in sources if not is_test_path(path)]
    mentions = modules_mentioning(paths, text, names)
    boxes: dict[str, set[bytes]] = {}
    switched: dict[str, dict[str, set[int]]] = {}
    """Each module's unticked boxes and switched values, read once for all the names it passes."""
    found: dict[str, set[str]] = {}
    for name in sorted(names):
        given = re.compile(rb"(?<![\w.])" + re.escape(name.encode()) + rb"[ \t]*(?::[^=\n,()]*)?=(?!=)[ \t]*")
        defining: list[str] = []
        for path in mentions[name]:
            data = text(path)
            switches = set(passed.get(path, ()))
            if name in switches and path not in boxes:
                boxes[path] = unticked_boxes(data)
                switched[path] = switched_values(data) if b"store_true" in data else {}
            unticked = boxes[path] if name in switches else set()
            lines = switched[path].get(name, set()) if name in switches else set()
            for match in given.finditer(data):
                if _OFF_VALUE.match(data, match.end()):
                    if in_signature(data, match.start()):
                        defining.append(path)
                    continue
                if name in switches and (
                    _PASSED.match(data, match.start()) or _passes_a_box(data, match.end(), unticked)
                    or data.count(b"\n", 0, match.start()) + 1 in lines
                ):
                    continue
                defining = []
                break
            else:
                continue
            break
        for path in defining:
            found.setdefault(path, set()).add(name)
    return {path: frozenset(names) for path, names in found.items()}


def in_signature(data: bytes, position: int) -> bool:
    """Whether `position` lies in a `def` statement's parameters: the last `def` before it opens a
    parenthesis that is still open there (more `(` than `)` from that parenthesis to `position`)."""
    defs, opens, closes = _signature_marks(data)
    last = bisect_right(defs, position - len(b"def ")) - 1  # `data.rfind(b"def ", 0, position)`
    if last < 0:
        return False
    first = bisect_left(opens, defs[last])
    if first == len(opens) or opens[first] >= position:
        return False
    return bisect_left(opens, position) - first > bisect_left(closes, position) - bisect_left(closes, opens[first])


@lru_cache(maxsize=4)
def _signature_marks(data: bytes) -> tuple[list[int], list[int], list[int]]:
    """Where module `data` writes `def `, `(` and `)`, each in order: `in_signature` is asked about
    every default and spelling of a name in a module, and searching back to the `def` and counting
    the parentheses from there took time in proportion to the function's length each time (a tenth
    of the index's reading of held defaults). The readers ask about one module after another, so
    the last few modules' marks are kept."""
    return (
        [match.start() for match in _DEF.finditer(data)],
        [match.start() for match in _OPEN.finditer(data)],
        [match.start() for match in _CLOSE.finditer(data)],
    )


_DEF = re.compile(rb"def ")
_OPEN = re.compile(rb"\(")
_CLOSE = re.compile(rb"\)")
