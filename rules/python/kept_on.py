"""Keyword parameters that default to True and that every caller in the project keeps True.

A helper may choose its method by a keyword: `def extract(path, model, vad=True)`, with `if vad:
split_by_silence(...)` and, in the `else` arm, a Whisper model built on `device="cuda"`. Where the
default is True and every call the project makes (its scripts, its app, its notebooks) passes
`vad=True` or leaves the keyword out, the `else` arm runs only for a user who calls the helper
with `vad=False` themselves: another path than the normal one (principle 1), at most a warning.
It is not silence: the arm is still code a user may call.

`defaulted_on` reads one module from its bytes: the parameters its signatures default to True that
it tests alone (`if vad:`, `if not vad:`). `kept_on` then keeps a parameter where every spelling of
the keyword with a value (`vad=...`, in a call or a signature) in the project's code outside the
test suite, notebooks included, gives True, and at least one call gives it: a keyword given
anything else anywhere, or never passed, keeps its verdicts. A call that passes it by position is
not seen.

A keyword named for the GPU (`def __init__(self, net="vgg", use_gpu=True)`, with `if use_gpu:
self.net.cuda()`) is kept even where no call passes it: a test of it is no test of the machine
(`guards.py` reads no probe in it), so the `.cuda()` under it runs wherever the function does, on
its normal path where that is the normal path, and the arm without the GPU is the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping

from cudaudit.filekinds import is_test_path
from cudaudit.rules.catalog import WORD_BYTES, word_automaton
from cudaudit.rules.python.guards import Probe, identifier_probes
from cudaudit.rules.python.read_once import outside_tests
from cudaudit.rules.python.switch_parameters import in_signature

_DEFAULT_ON = re.compile(rb"(?<![ \t])[ \t]*(?::[ \t]*bool[ \t]*)?=[ \t]*True\b")
"""What follows a parameter or keyword given True: `vad=True`, `vad: bool = True`. Matched right after
the name (`spelled`), where no blank stands before it; the lookbehind keeps a search of the pattern
from starting again at every blank of a run."""
_TESTED_ALONE = re.compile(rb"\n[ \t]*(?:el)?if[ \t]+(?:not[ \t]+)?([A-Za-z_]\w*)[ \t]*:")
"""An `if` header that tests a name alone (`if vad:`, `elif not vad:`), with the name: read once per
module, where a search per candidate name read the module once for each."""
VALUE_GIVEN = re.compile(rb"(?<![ \t])[ \t]*(?::[ \t]*bool[ \t]*)?=(?!=)[ \t]*")
"""What follows a keyword's name where it is given a value (`vad=`, `vad: bool = `); an annotation
other than `bool` is not read, so that prose (`f"after vad: dur = {d}"`) gives nothing. Matched right
after the name, as `_DEFAULT_ON`."""


def defaulted_on(data: bytes) -> tuple[str, ...]:
    """The parameters module `data`'s signatures default to True and that an `if` header of the
    module tests alone (`if vad:`, `if not vad:`)."""
    if b"=True" not in data and b"= True" not in data:
        return ()
    found = set()
    for name in set(_TESTED_ALONE.findall(data)):
        if any(in_signature(data, start) for start, _ in spelled(data, name, _DEFAULT_ON)):
            found.add(name.decode("ascii"))
    return tuple(sorted(found))


_WORD_OR_DOT = WORD_BYTES | frozenset(b".")


def spelled(data: bytes, name: bytes, after: re.Pattern[bytes]) -> Iterator[tuple[int, int]]:
    """(start, end) of each place `data` spells `name` as a word of its own (no word byte or dot
    before it) followed by `after`, left to right without overlap, as a pattern of the name and
    then `after` would find them. Found from each occurrence of the name, where a pattern compiled
    per name (one for each name a module tests alone) cost more than the search."""
    start = data.find(name)
    while start >= 0:
        match = after.match(data, start + len(name)) if start == 0 or data[start - 1] not in _WORD_OR_DOT else None
        if match is None:
            start = data.find(name, start + 1)
        else:
            yield start, match.end()
            start = data.find(name, match.end())


def kept_on(
    candidates: Mapping[str, tuple[str, ...]], code: Mapping[str, Callable[[], bytes]]
) -> dict[str, frozenset[str]]:
    """Module -> the parameters of `candidates` (module -> `defaulted_on`) that every spelling with
    a value in `code` (display path -> bytes, Python modules and notebooks) outside the test suite
    gives True, where at least one call gives it or the parameter is named for the GPU (`use_gpu`,
    `guards.identifier_probes`): a call that leaves such a keyword out takes the GPU route."""
    names = {name for path, found in candidates.items() if not is_test_path(path) for name in found}
    if not names:
        return {}
    words = word_automaton(sorted(name.encode() for name in names))
    passed: set[str] = set()
    refused: set[str] = set()
    for _, data in outside_tests(code):
        for word in sorted(words.found(data)) if words is not None else ():
            name = word.decode("ascii")
            if name in refused:
                continue  # a keyword given anything but True once is refused whatever else passes it
            for start, end in spelled(data, word, VALUE_GIVEN):
                if not data.startswith(b"True", end):
                    refused.add(name)
                elif not in_signature(data, start):
                    passed.add(name)
    kept = {name for name in names - refused if name in passed or Probe.CUDA in identifier_probes(name)}
    found = {path: frozenset(kept.intersection(names)) for path, names in candidates.items() if not is_test_path(path)}
    return {path: names for path, names in found.items() if names}
