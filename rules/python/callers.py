"""What the rest of the project does with a module's functions and methods, and under which guards.

A helper that captures a CUDA graph, opens a side stream or wraps a model for DistributedDataParallel
with device ids is often public, and called from another module under a device test there: `if
x.device.type == "cuda": graph = capture(fn, x)`, or `if cuda and rank != -1: model = wrap(model)` with
`cuda = device.type != "cpu"`. `reach.py` reads the uses a module makes of its own functions; this
reading gives it the uses the rest of the project makes, so that a function whose every use anywhere
is guarded runs only where the guards hold. Three readings, through the project index:

- `definitions`, per module (kept with its digest): the top-level functions, and the methods of
  top-level classes, whose own text the catalog's prefilter passes: only their verdicts can move;
  and those that call one of them, to a fixed point, whose callers' guards are theirs (the guard two
  calls up: `def report(): return peak()`, called elsewhere only under a device test);
- `uses_elsewhere`, once per scan: every other Python module that mentions one of those names as a
  word (one pass of an automaton over each module). A module that imports a function from the module
  that defines it (`from pkg.graphs import capture`, or from a package above it that re-exports it:
  `project_calls.importers`; a star import, `from .graphs import *`, too) is parsed and walked without concerns (`guarded_uses`), which records the
  context of each use of the name as `reach.py` records a helper's: the module's own guards, local
  flags and helpers all count. Any other mention (a module attribute, `graphs.capture(x)`; a name
  rebound; a method's name anywhere outside its module, for the receiver of `runner.capture()` is not
  known) is a use that is not followed, and keeps the verdicts; only a private name that the other
  module defines itself (two classes, each with its own `_capture`) is that module's own. A method a
  library call reaches by its name (`library_dispatch.py`: diffusers'
  `enable_xformers_memory_efficient_attention()` calls each block's
  `set_use_memory_efficient_attention_xformers`) is used wherever another module calls that entry
  (`unet.enable_xformers_memory_efficient_attention()` under `if torch.cuda.is_available():`), walked
  as an imported function's call is; another class's own definition of the method uses nothing. A module
  that only re-exports the name (`from .graphs import capture` in an `__init__.py`, `__all__`) uses
  nothing; one that imports it from another module that defines it too mentions another definition. A
  mention of a function in the test suite is not walked (its fixtures and marks are read by the suite's
  own analysis, with the index's facts): the suite runs on the project's own machines, where a GPU test
  calls a helper directly (`capture(x)` of a CUDA tensor), and says nothing of where the helper runs
  for the project's users (`reach.SUITE`). Beside the project's own uses it counts for nothing; alone
  it makes no helper (a function only tests call is the project's API and keeps its verdicts). A
  method's name a test mentions is not followed (its receiver is not known). One more import is
  followed, and no further: an importing module whose uses sit in its own public top-level functions
  (a pipeline stage, `def estimate(folder): return match_views(paths)`, that a script calls in a `try`
  with a default) is walked again with what the rest of the project does with those functions, read as
  above (`_relays`).
- the module's analysis counts these uses with its own (`reach.Elsewhere`). A public function or
  method is followed only in a scan that sees the whole project (a folder's, which lists its
  documents too): a scan of a few named files cannot tell that nothing else calls it. A public
  function the project never calls keeps its verdicts (an installable library's API has its callers
  outside); a private one that no module names runs nowhere (`unused.py`).
"""

from __future__ import annotations

import ast
import bisect
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cudaudit.filekinds import is_test_path
from cudaudit.firstparty import module_map
from cudaudit.model import Severity
from cudaudit.rules.catalog import WORD_BYTES, Catalog, WordSearch, word_automaton
from cudaudit.rules.python.guards import names_cuda
from cudaudit.rules.python.library_dispatch import dispatched_methods, reaching
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import attribute_stores, subtree
from cudaudit.rules.python.opt_in import Statements, import_statements, only_imports, statement_lines
from cudaudit.rules.python.project_calls import closing, importers
from cudaudit.rules.python.reach import SUITE, elsewhere_uses
from cudaudit.rules.python.setting_values import Value
from cudaudit.rules.python.unset_flags import CLEARED, SETTER
from cudaudit.rules.python.walker import PythonWalker
from cudaudit.source import decode_python, read_tree

Remember = Callable[[str, str, Callable[[], Any]], Any]
"""`project_index.Remember`: a module's reading, from the scan's cache where it has it."""
Definitions = tuple[tuple[str, bool], ...]
"""(name, whether it is a method, or a public class: followed only within its module) of each definition `definitions` finds."""
GuardedUse = tuple[tuple[str, ...], str | None]
"""The context of uses elsewhere: the targets they are quiet on, and their cap (a severity's value)."""
UsesElsewhere = tuple[tuple[str, tuple[GuardedUse, ...] | None], ...]
"""(name, the contexts of its uses in other modules, or None where one is not followed): `FileFacts.used_elsewhere`."""
Walk = tuple[str, str, tuple[str, ...], tuple[tuple[str, Value], ...], bool]
"""A `guarded_uses` reading `uses_elsewhere` takes: (its reader's name for `remember`, the importing
module's display path, the names walked, the values documented commands give its options, whether
the module is a script nothing imports)."""
Walks = Callable[[list[Walk]], None]
"""Takes the walks ahead, all at once (in worker processes: `engine.py`), for `remember` to answer."""

_TOP_DEF = re.compile(rb"\n(?:async[ \t]+)?def[ \t]+(\w+)")
_TOP_CLASS = re.compile(rb"\nclass[ \t]+(\w+)")
_TOP_PRODUCT = re.compile(rb"\n(\w+)[ \t]*=[ \t]*(\w+)\(")
"""A module-level name bound to a call of a function (`forward = make_forward()`): where the function
returns a function it defines, that one runs where the name is used (`reach.py`'s products)."""
_TOP_LINE = re.compile(rb"\n(?=[^ \t\r\n#)\]}])")
"""A line of top-level code (a statement, a decorator), not the bracket that closes a header's list."""
_METHOD = re.compile(rb"\n([ \t]+)(?:async[ \t]+)?def[ \t]+(\w+)")
_DEFINED = re.compile(rb"\n[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)")
"""A function or method the module defines itself, at any depth."""
# These patterns are searched in the module after a newline put in front, so that each starts with its
# literal newline, which the regex engine skips to (one that starts with `^` is tried at every byte);
# a match's start is then the index of its line in the module itself.


def definitions(data: bytes, may_report: Callable[[bytes], bool]) -> Definitions:
    """The module's top-level functions, classes (`reach.py`'s helper classes: their methods run on the
    objects built where they are named, so a public class that only a guarded function of its own
    module builds runs guarded; a public class is listed as a method is, followed only where no other
    module mentions it) and the methods
    of its top-level classes whose text (read
    by indentation, from its header to the next definition at its level) `may_report` passes, and
    those whose text names one of them, to a fixed point: a caller of such a function runs it
    wherever it runs itself, so the guards of the caller's own callers, in other modules, are its
    guards two calls up (`def memory_report(): return peak_memory()`, called only under a device
    test elsewhere); and the module-level names bound to a call of one of those functions (`forward =
    make_forward()`), whose uses elsewhere are those of the function it returns. Not dunder methods,
    which Python calls itself."""
    lined = b"\n" + data
    tops = [match.start() for match in _TOP_LINE.finditer(lined)]
    texts: list[tuple[tuple[str, bool], bytes]] = []
    decorated: dict[tuple[str, bool], bytes] = {}
    """A top-level function's text from its first decorator: what a decorator says (`@triton.jit`)
    is reported in the function's scope."""
    for match in _TOP_DEF.finditer(lined):
        definition = (match.group(1).decode("ascii", "replace"), False)
        end = _next(tops, match.start(), len(data))
        texts.append((definition, data[match.start():end]))
        at = bisect.bisect_left(tops, match.start())
        while at and lined[tops[at - 1] + 1:tops[at - 1] + 2] == b"@":
            at -= 1
        if tops[at] < match.start():
            decorated[definition] = data[tops[at]:end]
    flagged: list[tuple[str, bool]] = []
    """The flags a class clears and turns on in its methods, and the methods that turn them on
    (`unset_flags.py`): what they do elsewhere decides whether the flag is ever on."""
    for match in _TOP_CLASS.finditer(lined):
        end = _next(tops, match.start(), len(data))
        name = match.group(1).decode("ascii", "replace")
        flagged.extend(_flag_setters(data[match.start():end]))
        if name.startswith("_") and not name.startswith("__"):
            texts.append(((name, False), data[match.start():end]))  # a private helper class, built where it is named
        elif not name.startswith("__"):
            # a public class, followed only where no other module mentions it: another module's use of it
            # may sit under a command-line switch its documented commands turn on, which the walk of
            # that module does not weigh (`documented_flags.py`)
            texts.append(((name, True), data[match.start():end]))
        methods = list(_METHOD.finditer(lined, match.end() - 1, end))
        if not methods:
            continue
        indent = min(len(method.group(1)) for method in methods)
        heads = [method for method in methods if len(method.group(1)) == indent]
        for index, method in enumerate(heads):
            name = method.group(2).decode("ascii", "replace")
            stop = heads[index + 1].start() if index + 1 < len(heads) else end
            if not name.startswith("__"):
                texts.append(((name, True), data[method.start():stop]))
    found = {definition for definition, text in texts if may_report(decorated.get(definition, text))}
    if not found:
        return ()
    rest = [(definition, text) for definition, text in texts if definition not in found]
    named = {name for name, _ in found}
    while rest and (automaton := word_automaton(name.encode() for name in named)) is not None:
        callers = [definition for definition, text in rest if _calls(text, automaton)]
        named = {name for name, _ in callers} - {name for name, _ in found}
        found.update(callers)
        rest = [(definition, text) for definition, text in rest if definition not in found]
    functions = {name for name, method in found if not method}
    products = {
        (match.group(1).decode("ascii", "replace"), False)
        for match in _TOP_PRODUCT.finditer(lined)
        if match.group(2).decode("ascii", "replace") in functions
    }
    return tuple(sorted(found | products | set(flagged)))


def _flag_setters(text: bytes) -> list[tuple[str, bool]]:
    """For a class's text, each attribute it sets to False and to True (`self.split = False`, `self.split
    = True`), and each method that sets one to True, as definitions (a method's)."""
    if b"= True" not in text and b"=True" not in text:
        return []
    on = {match.group(1) for match in SETTER.finditer(text)}
    flags = on & {match.group(1) for match in CLEARED.finditer(text)}
    if not flags:
        return []
    found = [(flag.decode("ascii", "replace"), True) for flag in sorted(flags)]
    methods = list(_METHOD.finditer(b"\n" + text))
    for index, method in enumerate(methods):
        body = text[method.start():methods[index + 1].start() if index + 1 < len(methods) else len(text)]
        if any(match.group(1) in flags for match in SETTER.finditer(body)):
            found.append((method.group(2).decode("ascii", "replace"), True))
    return found


def _calls(text: bytes, automaton: WordSearch) -> bool:
    """Whether a definition's text, its header line aside, calls one of the automaton's names (`peak(`,
    `self._peak(`) or launches it (a Triton kernel's `_kernel[grid](`)."""
    body = text.find(b"\n") + 1
    size = len(text)
    for _, start, end in automaton.matches(text):
        if start < body or (start and text[start - 1] in WORD_BYTES):
            continue
        after = _blank_end(text, end)
        if after < size and text[after] == 0x5B:  # `[`: a launch's grid
            close = closing(text, after, size)
            after = size if close is None else _blank_end(text, close + 1)
        if after < size and text[after] == 0x28:  # `(`
            return True
    return False


def _blank_end(text: bytes, at: int) -> int:
    """The first position from `at` that holds no space or tab."""
    while at < len(text) and text[at] in b" \t":
        at += 1
    return at


def _next(starts: list[int], position: int, end: int) -> int:
    """The first of `starts` after `position`, else `end`."""
    at = bisect.bisect_right(starts, position)
    return starts[at] if at < len(starts) else end


def uses_elsewhere(
    sources: Mapping[str, Callable[[], bytes]],
    defined: Mapping[str, Definitions],
    imports: Mapping[str, tuple[tuple[int, str, str], ...]],
    catalog: Catalog,
    remember: Remember | None = None,
    documented: Mapping[str, tuple[tuple[str, Value], ...]] | None = None,
    walks: Walks | None = None,
    scripts: frozenset[str] = frozenset(),
    relayed: bool = True,
) -> dict[str, UsesElsewhere]:
    """Defining module's display path -> what the other modules of `sources` do with each name of
    `defined` (`definitions`) that it defines (see the module docstring); `imports` are the modules'
    `project_calls.from_imports`, `remember` may answer an importer's reading from an earlier run,
    `documented` gives a module the values every documented command of its route gives its options
    (`project_index._settings_documented`), which its tests of them are read with. `walks` is handed
    every importer's walk before any is asked of `remember`: the walks, most of the time this reading
    takes, need nothing but their module, so worker processes may take them while this one waits.
    `scripts` are the modules that run as programs nothing imports (`main_block.py`): their public
    functions are helpers too, as their own analysis reads them (`reach.py`): a `worker` handed to
    `mp.spawn` only where several GPUs are calls what it calls only there. Where `relayed`, an importer
    whose uses are not followed only because they sit in its own public functions is read once more,
    with the uses the rest of the project makes of those (`_relays`): one more import, no further."""
    functions = {path: {name for name, method in names if not method} for path, names in defined.items()}
    methods = {path: {name for name, method in names if method} for path, names in defined.items()}
    owners: dict[str, list[str]] = {}
    for path, names in defined.items():
        for name in sorted({name for name, _ in names}):
            owners.setdefault(name, []).append(path)
    dispatched = dispatched_methods(catalog)
    entries = {
        entry: [(owner, method) for method in sorted(reached) for owner in owners.get(method, ()) if method in methods[owner]]
        for entry, reached in reaching(dispatched).items()
    }
    entries = {entry: reached for entry, reached in entries.items() if reached}
    # A public name two modules define (`main`, `forward`) is mentioned in each by the other's own
    # definition, which is no use that is followed: neither is looked for. A method a library call
    # reaches by its name is that call's wherever it is defined: its uses are the call's.
    shared = {name for name, paths in owners.items() if len(paths) > 1 and not name.startswith("_") and name not in dispatched}
    uses: dict[tuple[str, str], list[GuardedUse] | None] = {
        (path, name): None if name in shared else [] for path, names in defined.items() for name, _ in names
    }
    automaton = word_automaton({name.encode() for name in (*owners, *entries) if name not in shared})
    if automaton is None:
        return _by_owner(uses)
    modules = module_map(sources)
    imported = importers(modules, {path: names - shared for path, names in functions.items()}, imports)
    pending: dict[str, set[str]] = {}
    """Importing module -> the names it imports from a module that defines them, and the library
    calls of `entries` it spells: read by a walk, last."""
    for path, read in sources.items():
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable module uses nothing here; its own analysis says why
            continue
        mentioned = _mentioned(data, automaton)
        reached = imported.get(path, {}) if mentioned else {}
        statements: Statements | None = None
        own: set[bytes] | None = None
        for name in sorted(mentioned):
            if name in entries:
                _mention_entry(uses, pending, path, name, entries[name])
            for owner in owners.get(name, ()):
                if owner == path or uses[(owner, name)] is None:
                    continue
                if name in dispatched and name in methods[owner] and _only_defines(data, name):
                    continue  # another class's own copy of the method the library call reaches
                if name.startswith("_") and name not in reached:
                    own = set(_DEFINED.findall(b"\n" + data)) if own is None else own
                    if name.encode() in own:
                        continue  # its own private method or function of that name (`self._capture()`)
                if name not in methods[owner] and owner in reached.get(name, ()) and not is_test_path(path):
                    pending.setdefault(path, set()).add(name)
                    continue
                if name not in methods[owner] and name in reached and owner not in reached[name]:
                    continue  # imported from another module that defines the name: another function
                if name not in methods[owner] and not is_test_path(path):
                    if statements is None:
                        statements = import_statements(data)
                    if only_imports(data, name, False, statements):
                        continue  # re-exported, not used
                found = uses[(owner, name)]
                if found is not None and name not in methods[owner] and is_test_path(path):
                    found.append(_SUITE_USE)
                    continue
                uses[(owner, name)] = None
    # Each importer's names and the walk they need, as the uses stand before any importer is read:
    # reading one may settle a name (a use the walk finds unguarded), so each is read again below, where
    # a name no owner still follows drops out and the walk asked of `remember` may be a smaller one.
    importing: list[tuple[str, bytes, tuple[str, ...], set[str]]] = []
    unfollowed: dict[str, tuple[bytes, set[str]]] = {}
    """Importing module -> its bytes and the names whose uses there were not followed: `_relays`."""
    for path, wanted in sorted(pending.items()):
        reached = imported.get(path, {})
        data = sources[path]()
        lines = statement_lines(import_statements(data))
        alive = tuple(sorted(
            name for name in wanted
            if any(uses[key] is not None for key in _keys(reached, entries, name)) and (name in entries or _used(data, name, lines))
        ))
        importing.append((path, data, alive, _plain_uses(data, alive, path in scripts) if alive else set()))
    if walks is not None:
        ahead: list[Walk] = []
        for path, _, alive, plain in importing:
            walked = tuple(name for name in alive if name not in plain)
            if walked:
                given = (documented or {}).get(path, ())
                ahead.append((_reading_name(walked, given, path in scripts), path, walked, given, path in scripts))
        walks(ahead)
    for path, data, first, plain in importing:
        reached = imported.get(path, {})
        alive = tuple(name for name in first if any(uses[key] is not None for key in _keys(reached, entries, name)))
        walked = tuple(name for name in alive if name not in plain)
        given = (documented or {}).get(path, ())
        readings = _readings(path, data, walked, catalog, remember, given, path in scripts) if walked else {}
        for name in alive:
            found = None if name in plain else readings.get(name, [])  # imported and never used: no use
            if (
                found is None and relayed and name not in entries and path not in scripts and not is_test_path(path)
                and _relays_of(data, (name,))
            ):
                unfollowed.setdefault(path, (data, set()))[1].add(name)
                continue
            _add(uses, _keys(reached, entries, name), found)
    if unfollowed:
        for path, found_here in _relays(
            unfollowed, {path: imported[path] for path in unfollowed}, uses, sources, imports, catalog, remember,
            documented or {}, scripts,
        ).items():
            for name, found in found_here.items():
                _add(uses, _keys(imported[path], {}, name), found)
    return _by_owner(uses)


def _keys(imported: Mapping[str, set[str]], entries: Mapping[str, list[tuple[str, str]]], name: str) -> list[tuple[str, str]]:
    """The (defining module, name) whose uses an importer's use of `name` is: of a library call of
    `entries`, each (owner, method) it reaches; of a function it imports, each owner's function."""
    return entries[name] if name in entries else [(owner, name) for owner in imported[name]]


def _mention_entry(
    uses: dict[tuple[str, str], list[GuardedUse] | None], pending: dict[str, set[str]], path: str, entry: str,
    reached: Iterable[tuple[str, str]],
) -> None:
    """Count a module's spelling of a library call that reaches methods by their name (`library_dispatch.py`)
    for those methods, as an import of a function counts for it: a module outside the test suite is
    walked for the call's uses (`pending`), a test module's is the suite's, and one in a module that
    defines such a method is not followed (the module's own analysis does not read it)."""
    for owner, method in reached:
        found = uses[(owner, method)]
        if found is None:
            continue
        if owner == path:
            uses[(owner, method)] = None
        elif is_test_path(path):
            found.append(_SUITE_USE)
        else:
            pending.setdefault(path, set()).add(entry)


def _only_defines(data: bytes, name: str) -> bool:
    """Whether every mention of `name` in the module is a definition of that name (`def name(`)."""
    word = re.escape(name.encode())
    return len(re.findall(word + rb"(?<!\w" + word + rb")(?!\w)", data)) == len(re.findall(rb"\n[ \t]*(?:async[ \t]+)?def[ \t]+" + word + rb"(?!\w)", b"\n" + data))


def _add(uses: dict[tuple[str, str], list[GuardedUse] | None], keys: Iterable[tuple[str, str]], found: list[GuardedUse] | None) -> None:
    """Count an importer's uses `found` of a name (None: one not followed) for each of its `keys`:
    (defining module, name)."""
    for key in keys:
        kept = uses[key]
        if kept is not None:
            uses[key] = None if found is None else [*kept, *found]


def _relays(
    unfollowed: Mapping[str, tuple[bytes, set[str]]],
    reached: Mapping[str, Mapping[str, set[str]]],
    uses: Mapping[tuple[str, str], list[GuardedUse] | None],
    sources: Mapping[str, Callable[[], bytes]],
    imports: Mapping[str, tuple[tuple[int, str, str], ...]],
    catalog: Catalog,
    remember: Remember | None,
    documented: Mapping[str, tuple[tuple[str, Value], ...]],
    scripts: frozenset[str],
) -> dict[str, dict[str, list[GuardedUse] | None]]:
    """Importing module -> name -> its uses, for the importers (`unfollowed`: their bytes and the names
    whose uses the first walk did not follow) that hand the names on through public functions of their
    own: a stage of a pipeline (`def estimate(folder): return match_views(paths)`) that a script two
    imports above calls in a `try` with a default. Each public top-level function calling one of the
    names is a relay, whose uses elsewhere `uses_elsewhere` reads without a further hop; the importer
    is walked again with those uses, so that a use inside a relay takes the relay's callers' context.
    A name some owner no longer follows is not read again, nor an importer whose relays have no use
    followed: their uses stay unfollowed (None)."""
    found: dict[str, dict[str, list[GuardedUse] | None]] = {}
    candidates: dict[str, tuple[bytes, tuple[str, ...], tuple[str, ...]]] = {}
    for path, (data, names) in sorted(unfollowed.items()):
        alive = tuple(sorted(name for name in names if any(uses[(owner, name)] is not None for owner in reached[path][name])))
        found[path] = dict.fromkeys(names)
        relays = _relays_of(data, alive)
        if relays:
            candidates[path] = (data, alive, relays)
    if not candidates:
        return found
    relayed = uses_elsewhere(
        sources, {path: tuple((relay, False) for relay in relays) for path, (_, _, relays) in candidates.items()},
        imports, catalog, remember, documented, None, scripts, relayed=False,
    )
    for path, (data, alive, _) in candidates.items():
        outside = tuple((relay, relay_uses) for relay, relay_uses in relayed.get(path, ()) if relay_uses)
        followed = {relay for relay, _ in outside}
        # a relay nothing else calls is the project's API, and one called in a way not followed keeps
        # the verdicts: a name one of them calls is not walked again
        hopeful = tuple(name for name in alive if followed.issuperset(_relays_of(data, (name,))))
        if hopeful:
            found[path].update(
                _readings(path, data, hopeful, catalog, remember, documented.get(path, ()), False, outside)
            )
    return found


def _relays_of(data: bytes, names: Iterable[str]) -> tuple[str, ...]:
    """The module's public top-level functions whose text calls one of `names`, sorted; none where a
    name is also mentioned elsewhere (at the top level, in a class or a private function), outside
    the module's import statements: such a use is not the relays' to settle."""
    wanted = tuple(names)
    automaton = word_automaton(name.encode() for name in wanted)
    if automaton is None:
        return ()
    lined = b"\n" + data
    tops = [match.start() for match in _TOP_LINE.finditer(lined)]
    relays, spans = [], []
    for match in _TOP_DEF.finditer(lined):
        name = match.group(1).decode("ascii", "replace")
        end = _next(tops, match.start(), len(data))
        if not name.startswith("_") and _calls(data[match.start():end], automaton):
            relays.append(name)
            spans.append((match.start(), end))
    if not relays:
        return ()
    imports = statement_lines(import_statements(data))
    for name in wanted:
        line, counted = 1, 0
        # the word first, then a look behind it: a pattern that starts with the lookbehind is tried at
        # every byte of the module (44 times slower on a 180 kB module), the word's literal is skipped to
        word = re.escape(name.encode())
        for mention in re.finditer(word + rb"(?<![\w.]" + word + rb")(?!\w)", data):
            line += data.count(b"\n", counted, mention.start())
            counted = mention.start()
            if line not in imports and not any(start <= mention.start() < end for start, end in spans):
                return ()
    return tuple(sorted(relays))


_SUITE_USE: GuardedUse = ((SUITE,), None)
"""A function a test module names (`reach.SUITE`)."""


def _by_owner(uses: Mapping[tuple[str, str], list[GuardedUse] | None]) -> dict[str, UsesElsewhere]:
    """`uses_elsewhere`'s answer from the uses found of each (defining module, name)."""
    result: dict[str, list[tuple[str, tuple[GuardedUse, ...] | None]]] = {}
    for (owner, name), found in sorted(uses.items()):
        result.setdefault(owner, []).append((name, None if found is None else tuple(sorted(set(found), key=repr))))
    return {owner: tuple(items) for owner, items in result.items()}


_HEADER = re.compile(rb"[ \t]*(?:async[ \t]+)?(def|class)[ \t]+(\w+)")
_MAY_GUARD_INLINE = re.compile(rb"\b(?:if|and|or|else|lambda)\b")
"""Words of a use's own line that may choose whether it runs (`wrap(m) if cuda else m`)."""
_MAY_LEAVE = re.compile(rb"\b(?:return|raise|assert|exit|skip|skipTest|importorskip|continue|break)\b")
"""Words of a statement that may end its block (`return`, `sys.exit()`, `pytest.skip()`)."""
_BLOCK = re.compile(rb"(?:if|for|while|with|async[ \t]+for|async[ \t]+with)\b[^#]*:[ \t]*(?:#.*)?$")
"""The header of a block, on one line, that runs its body on a test or over an iterable."""
_FLAG_TEST = re.compile(rb"if[ \t]+(?:not[ \t]+)?(?:self\.)?\w+[ \t]*:")
"""`if flag:`, `if not self.flag:`: a flag whose value its function or class may have from a device test."""
_MAY_PROBE = re.compile(
    rb"cuda|gpu|nvidia|nccl|rocm|hip|cpu|device|accelerat|avail|rank|world|distrib|ddp|slurm|launch|xla|npu|xpu"
    rb"|mps|triton|flash|has_|is_|use_|enable|skip|mark|version|capab|backend|environ|getenv|args?\.|cfg|config|opt\.|setting",
    re.I,
)
"""Words a test that `guards.py` may read as a probe spells somewhere: a block whose test spells none
(`if batch is None:`, `with torch.no_grad():`) is no guard. A word found where it guards nothing only
costs a walk."""
_BRANCH = re.compile(rb"(?:if|elif|else|assert)\b")
_MAY_GUARD_DECORATOR = re.compile(rb"cuda|gpu|skip|mark|requir|rocm|hip|nvidia|device|only|run_?if", re.I)
"""Words of a decorator that may run its function only on a device (`@requires_cuda`, `@pytest.mark.skipif`)."""


def _plain_uses(data: bytes, names: Iterable[str], script: bool) -> set[str]:
    """The names of `names` that the module uses at least once where nothing can guard the use: the
    walk is the reading of guards, and this only spares it where the text leaves it nothing to read (see
    `_plainly_unguarded`; in a `script`, any function is a helper its uses may guard)."""
    found = set()
    for name in names:
        pattern = re.compile(rb"(?<![\w.])" + re.escape(name.encode()) + rb"(?!\w)")
        if any(_plainly_unguarded(data, match.start(), script) for match in pattern.finditer(data)):
            found.add(name)
    return found


def _plainly_unguarded(data: bytes, offset: int, script: bool) -> bool:
    """Whether the use at `offset` runs wherever the function around it runs, and that function
    wherever it is called, by the text alone: its line holds no condition; every block around it is a
    `def` of a public function outside a `script` or a `class` that names no device (`guards.names_cuda`), neither with a
    decorator that may ask for one, or a block whose test can guard nothing (`_plain_block`: `if batch
    is None:`, `with torch.no_grad():`); and no earlier statement of those blocks (of the module, above
    them) may end the rest (`return`, `assert`, `sys.exit()`, a skip, or an `if`, `elif` or `else`
    whose block holds one). An import line, a block of any other kind (`else`, `try`, `except`), a
    block whose test may probe, a line of a statement over several lines, or a docstring less
    indented than the use, and the answer is no: the walk reads it. A use at the module's own level is
    left to the walk too. The walk reads more guards than these words name (a setting off by default);
    where this answers wrongly that nothing guards a use, the use only keeps its verdicts."""
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    line = data[start:end if end >= 0 else len(data)]
    stripped = line.lstrip(b" \t")
    if (_MAY_GUARD_INLINE.search(line) and _MAY_PROBE.search(line)) or stripped.startswith((b"from", b"import", b"@")):
        return False
    indent = len(line) - len(stripped)
    if not indent:
        return False
    position, leaves = start, False
    while position > 0:
        above = data.rfind(b"\n", 0, position - 1) + 1
        text = data[above:position - 1]
        position = above
        stripped = text.lstrip(b" \t")
        if not stripped.strip() or stripped.startswith(b"#"):
            continue
        level = len(text) - len(stripped)
        if level > indent:
            leaves = leaves or _MAY_LEAVE.search(stripped) is not None
            continue
        if level == indent:
            if _BRANCH.match(stripped):
                if (leaves or stripped.startswith(b"assert")) and not _plain_test(stripped):
                    return False  # `if not x.is_cuda: return`, `assert torch.cuda.is_available()`
            elif _MAY_LEAVE.search(stripped):
                return False
            if stripped.startswith(b"@") and _MAY_GUARD_DECORATOR.search(stripped):
                return False
            leaves = False
            continue
        header = _HEADER.match(text)
        if header is None:
            if not _plain_block(stripped):
                return False
            indent, leaves = level, False
            continue
        kind, name = header.group(1), header.group(2).decode("ascii", "replace")
        helper = script or (name.startswith("_") and not name.startswith("__"))
        if (kind == b"def" and helper) or (kind == b"class" and names_cuda(name)):
            return False
        indent, leaves = level, False
    return indent == 0


def _used(data: bytes, name: str, imports: set[int]) -> bool:
    """Whether the module spells `name` outside its import statements (1-based `imports` lines) and
    outside a string of that name alone (`__all__ = ["capture"]`): a module that only re-exports a
    name uses nothing."""
    line, counted = 1, 0
    for match in re.finditer(rb"(?<![\w.])" + re.escape(name.encode()) + rb"(?!\w)", data):
        start, end = match.start(), match.end()
        line += data.count(b"\n", counted, start)
        counted = start
        quoted = start and data[start - 1] in b"'\"" and data[end:end + 1] == data[start - 1:start]
        if line not in imports and not quoted:
            return True
    return False


def _plain_test(statement: bytes) -> bool:
    """Whether an `if`, `elif` or `assert` tests nothing a probe may spell (`if closure is not None:`,
    `assert x.dim() == 2`): what it lets through is not chosen by a device. An `else` is not judged
    here: its test is the `if` above it."""
    return not (
        statement.startswith(b"else") or _FLAG_TEST.match(statement) is not None or _MAY_PROBE.search(statement) is not None
    )


def _plain_block(header: bytes) -> bool:
    """Whether a line heads a block (`if`, `for`, `while`, `with`) whose test can guard nothing: it
    spells no word a probe may spell, and is no test of a bare flag."""
    return (
        _BLOCK.match(header) is not None and _FLAG_TEST.match(header) is None and _MAY_PROBE.search(header) is None
    )


def _mentioned(data: bytes, automaton: WordSearch) -> set[str]:
    """The names of `automaton` that `data` spells as a word."""
    return {word.decode("ascii", "replace") for word in automaton.whole_words(data)}


def _readings(
    path: str, data: bytes, names: tuple[str, ...], catalog: Catalog, remember: Remember | None,
    documented: tuple[tuple[str, Value], ...] = (), script: bool = False, elsewhere: UsesElsewhere = (),
) -> dict[str, list[GuardedUse] | None]:
    """`guarded_uses` of the module at `path` for `names`, from the cache where it has it. A module
    Python cannot parse never runs (its import raises `SyntaxError`, `if x =< 0:`): it uses nothing.
    One this reading fails on otherwise, or whose error may be a newer Python's grammar (Python 3.12's
    f-strings, which nest quotes), is not followed, and keeps the verdicts."""
    try:
        found = (remember or _compute)(
            _reading_name(names, documented, script, elsewhere), path,
            lambda: guarded_uses(data, names, catalog, dict(documented), script, elsewhere),
        )
    except SyntaxError as error:  # reported by the module's own analysis
        return dict.fromkeys(names) if "f-string" in str(error.msg) else {}
    except Exception:  # noqa: BLE001 - reported by the module's own analysis
        return dict.fromkeys(names)
    return {name: None if uses is None else [uses] for name, uses in found}


def _reading_name(
    names: tuple[str, ...], documented: tuple[tuple[str, Value], ...], script: bool, elsewhere: UsesElsewhere = ()
) -> str:
    """The name `remember` knows a module's `guarded_uses` reading by: its names, documented values,
    whether it is a script and the uses elsewhere of its relays."""
    key = (
        "\0".join(names) + (repr(documented) if documented else "") + ("\0script" if script else "")
        + (repr(elsewhere) if elsewhere else "")
    )
    return "callers:" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def _compute(reader: str, path: str, compute: Callable[[], Any]) -> Any:
    return compute()


def guarded_uses(
    data: bytes, names: Iterable[str], catalog: Catalog, documented: Mapping[str, Value] | None = None,
    script: bool = False, elsewhere: UsesElsewhere = (),
) -> tuple[tuple[str, GuardedUse | None], ...]:
    """(name, the context every use of it has in common, or None where one is unguarded or not a plain
    use) for each of `names` that the module imports with `from ... import name` and uses; raises
    SyntaxError for a module that does not parse. The walk is the analysis' own, without concerns and
    without the project's facts: a guard only another module's flag makes is not seen here, and the
    use keeps the verdicts. Functions that cannot lead to a use are left out of the walk (`_prune`), and
    given their bodies back after it: the tree is the scan's one tree of the module (`source.read_tree`),
    which the module's own analysis then takes (most importing modules are analysed too). A `script`
    (nothing imports it) is walked as its own analysis walks it: its public functions are helpers.
    `elsewhere` gives the uses other modules make of the module's relays (`_relays`), as its own
    analysis is given them."""
    text = decode_python(data)
    tree = read_tree(text)
    wanted = frozenset(names)
    entries = wanted & frozenset(reaching(dispatched_methods(catalog)))
    flags, emptied = _prune(tree, text.splitlines(), wanted, script, frozenset(name for name, _ in elsewhere))
    try:
        other = _other_mentions(tree, wanted, entries)
        walker = PythonWalker(
            ImportTable(tree, documented_values=documented), catalog, concerns=(), imported=wanted - entries,
            entries=entries, script=script, attribute_stores=flags, elsewhere=elsewhere_uses(elsewhere),
        )
        walker.visit(tree)
        reach = walker.reach
        walker.release()
    finally:
        for function, body in emptied:
            function.body = body
    if reach is None:
        return ()
    regions = reach.imported_regions()
    return tuple(
        (name, None if name in other or reached is None else (tuple(sorted(reached.quiet)), _value(reached.cap)))
        for name in sorted(wanted)
        if name in other or name in regions
        for reached in (regions.get(name),)
    )


_FLAG_TESTED = re.compile(r"(?:if|elif)[ \t]+(?:not[ \t]+)?self\.(\w+)(?:[ \t]+is(?:[ \t]+not)?[ \t]+None)?[ \t]*:")
"""`if self.graphs:`, `elif not self.graphs:`, `if self.device is None:`: a test of a flag the class may
keep, or of a value it keeps only from a device test (`walker._flag_value`, `sentinels.py`)."""
_SELF_STORE = re.compile(r"self\.(\w+)[ \t]*=(?!=)")


def _prune(
    tree: ast.Module, lines: list[str], wanted: frozenset[str], script: bool, relays: frozenset[str] = frozenset()
) -> tuple[dict[str, int] | None, list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, list[ast.stmt]]]]:
    """Empty the body of each undecorated top-level function and method whose text names neither a
    name of `wanted` nor, in turn, a private function or method whose body is kept (a helper, whose
    callers' guards are its own: the walk of a module nothing tells about the rest of the project
    follows no public one, but in a `script`, where every function is a helper, and the `relays`, whose
    uses elsewhere the walk is given: a function of the module that calls one runs it too), and sets no flag of `self`
    that a kept one tests (`if self.graphs:` after `self.graphs = x.is_cuda`): what it does cannot
    reach a use of those names, and its guards matter to nothing the walk answers. A decorated one (a
    fixture, a skip) is kept whole, for what it guards. Where a kept function tests such a flag, how
    many times the whole module stores each attribute name, counted before any body is emptied (a
    flag is one only where nothing else sets it: `walker._class_flags`), else None; and each emptied
    function with the body it had."""
    functions = [
        node for statement in tree.body
        for node in (statement.body if isinstance(statement, ast.ClassDef) else [statement])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.decorator_list
    ]
    texts = {id(node): "\n".join(lines[node.lineno - 1:node.end_lineno]) for node in functions}
    words, grown = set(wanted), True
    kept: set[int] = set()
    while grown:
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(word) for word in sorted(words)) + r")(?!\w)")
        found = [node for node in functions if id(node) not in kept and pattern.search(texts[id(node)])]
        kept.update(id(node) for node in found)
        helpers = {
            node.name for node in found
            if script or node.name in relays or (node.name.startswith("_") and not node.name.startswith("__"))
        }
        grown = bool(helpers - words)
        words.update(helpers)
    tested = {flag for node in functions if id(node) in kept for flag in _FLAG_TESTED.findall(texts[id(node)])}
    kept.update(id(node) for node in functions if tested.intersection(_SELF_STORE.findall(texts[id(node)])))
    stores = attribute_stores(tree) if tested else None
    emptied = [(node, node.body) for node in functions if id(node) not in kept]
    for node, body in emptied:
        node.body = [ast.copy_location(ast.Pass(), body[0])]
    return stores, emptied


def _value(cap: Severity | None) -> str | None:
    return None if cap is None else cap.value


def _other_mentions(tree: ast.Module, names: frozenset[str], entries: frozenset[str] = frozenset()) -> set[str]:
    """The names of `names` the module binds again, or reads as an attribute (`module.name`,
    `obj.name`): uses that are not of the imported function, or not seen as such; of `entries` (library
    calls that reach a method by its name), a call of an attribute is the use itself (`reach.py` reads
    it; any other attribute, `args.enable_...`, is no call of it), a bare name another mention. A function `_prune` emptied spells none of them."""
    found: set[str] = set()
    for node in subtree(tree):
        if isinstance(node, ast.Name) and node.id in names and (node.id in entries or not isinstance(node.ctx, ast.Load)):
            found.add(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in names - entries:
            found.add(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in names:
            found.add(node.name)
        elif isinstance(node, ast.arg) and node.arg in names:
            found.add(node.arg)
    return found
