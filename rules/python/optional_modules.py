"""The project's own modules that it imports only where importing them may fail.

A package may offer backends that need a library its users install only for one of them: its
`__init__.py` imports each backend's module inside `try:` and binds a stand-in where that fails
(`try: from .gpu_backend import GpuBackend` / `except ImportError: GpuBackend = None`), and a setting
picks the backend by name, another one by default. The project runs where the import fails, so
what the module does (its top-level `import cupy` included) breaks only the backend a user asks
for: another path, at most a warning.

`optional_modules` marks such a module only where every import of it that the scan's modules make
(the test suite aside, as in `opt_in_areas`) sits in the body of a `try` whose handler catches a
failed import and goes on: a handler that raises or exits (`except ImportError: raise
RuntimeError("install cupy")`) says the module is needed. One import anywhere else (at the top of
another module, in a function without such a `try`) puts it on the normal path, and it keeps its
verdicts. Nothing is parsed: each module's `try:` headers are found by a byte search, their
bodies and handlers by indentation (`tried_imports`, one reading per module that the scan's cache
keeps), and only the modules whose import statements spell a marked module's name are read again.
A line this misreads (a header inside a string) keeps the module's verdicts or reads one `try` as
another's, never an import at the top of a module as guarded.

Whether the import can fail decides what the `try` says. A module whose imports at its top level
(column 0: what runs when it is imported) all name the standard library, PyTorch, a distribution
the project's base install declares (`triton` in `[project] dependencies`) or modules of the project
that import only such things in turn imports wherever the project is installed: the handler never
runs on a normal install, and the module keeps its verdicts (`importable`; a Triton kernel behind
`try: from .ops.triton import step` / `except ImportError: step = None` is launched on CPU tensors
where `triton` installs, as it does on a CPU-only Linux host). One that imports a package with no
build for a machine without a GPU at its top level (the catalog's `[[absent_without_gpu]]`:
`from flash_attn.bert_padding import pad_input`) fails to import on every target without a CUDA
device, where its importers go on without it: those targets never run it (`failing_without_gpu`).
"""

from __future__ import annotations

import posixpath
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from cudaudit.facts import Evidence
from cudaudit.filekinds import is_test_path
from cudaudit.firstparty import ModuleMap, module_map
from cudaudit.rules.python.opt_in import import_statements, statement_modules
from cudaudit.rules.python.unnamed import read_or_none

if TYPE_CHECKING:
    from cudaudit.rules.python.extra_only import TopImport

TriedImport = tuple[int, int, str, tuple[str, ...], bool]
"""(line, level, module, names, narrow) of an import statement inside such a `try`, as
`statement_modules` gives them, with whether the `try`'s handlers catch failed imports alone
(`except ImportError:`, not `except Exception:`, which also catches what the body goes on to run):
a module's reading, kept by the scan's cache."""


def tried_imports(data: bytes) -> tuple[TriedImport, ...]:
    """The imports of a module that sit in the body of a `try` whose handler catches a failed import
    and goes on: the `try:` headers found by a byte search, bodies and handlers by indentation."""
    if b"try" not in data or b"except" not in data:
        return ()
    bodies = _tried_bodies(data)
    if not bodies:
        return ()
    return tuple(
        (line, *imported, narrow)
        for line, statement in import_statements(data)
        for narrow in [next((narrow for first, last, narrow in bodies if first <= line <= last), None)]
        if narrow is not None
        for imported in statement_modules(statement)
    )


def optional_modules(
    candidates: Iterable[str],
    sources: Mapping[str, Callable[[], bytes]],
    tried: Mapping[str, tuple[TriedImport, ...]],
    names: Callable[[str], frozenset[str]],
    top_imports: Callable[[str], tuple[TopImport, ...]] | None = None,
    installed: frozenset[str] = frozenset(),
    absent: frozenset[str] = frozenset(),
) -> dict[str, Evidence]:
    """Display path -> the import that makes it optional, for each of `candidates` (modules of
    `sources`, the scan's Python modules by display path) that the scan's modules outside the test
    suite import only inside a `try` with a handler that goes on where the import fails. `tried`
    holds each module's `tried_imports` (those that have some, outside the test suite); `names(path)`
    every name a module's import statements spell (`import_paths.import_names`, from the cache):
    only the modules that spell a marked module's name are read again, for an import of it
    anywhere else. With `top_imports` (a module's `extra_only.top_level_imports`), a module that imports
    wherever the project is installed (`importable`: `installed` are the normalised distributions of
    the base install, `absent` the packages no machine without a GPU installs) is not marked, unless
    an importer's `try` also catches other errors (`except Exception:` around the import and a call
    of what it imports: the run-time failure falls back too)."""
    wanted = {path for path in candidates if posixpath.basename(path) != "__init__.py"}
    if not wanted or not tried:
        return {}
    modules = module_map(sources)
    found: dict[str, Evidence] = {}
    broad: set[str] = set()
    for importer, imports in sorted(tried.items()):
        for line, level, module, listed, narrow in imports:
            for place in sorted(wanted.intersection(modules.resolve(importer, level, module, listed)) - {importer}):
                if not narrow:
                    broad.add(place)
                found.setdefault(place, Evidence(
                    importer, line,
                    "imported only inside `try` with a handler that goes on without it: the project runs where it is missing",
                ))
    if not found:
        return _inside_optional_packages(wanted, modules, sources, tried, names)
    stems = {posixpath.basename(path)[:-3] for path in found}
    normal: set[str] = set()
    for importer, statement in _untried_imports(sources, tried, names, stems):
        normal |= _places(modules, importer, statement, set(found))
    if top_imports is not None and installed:
        known: dict[str, bool] = {}
        own = _own_names(modules, sources)

        def needed(path: str) -> tuple[TopImport, ...]:
            """What must import for the module's own import to bind every name: its top-level
            imports, and those of its `try` blocks, whose names an importer may ask for."""
            return (*top_imports(path), *((line, level, module, listed) for line, level, module, listed, _ in tried.get(path, ())))

        normal |= {
            path for path in found
            if path not in normal and path not in broad
            and importable(path, modules, needed, installed - absent, own, known)
        }
    optional = {path: evidence for path, evidence in sorted(found.items()) if path not in normal}
    return {**optional, **_inside_optional_packages(wanted - set(optional), modules, sources, tried, names)}


def _inside_optional_packages(
    candidates: set[str],
    modules: ModuleMap,
    sources: Mapping[str, Callable[[], bytes]],
    tried: Mapping[str, tuple[TriedImport, ...]],
    names: Callable[[str], frozenset[str]],
) -> dict[str, Evidence]:
    """The modules of `candidates` inside a package that the project imports only inside a `try` whose
    handler goes on where anything the body runs fails (`try: from .fast import FastModel` / `except
    Exception: ...`), which the package's own modules import (its `__init__.py`: `from .engine import
    FastModel`) and no module outside it: they run only where the package does, and where they fail
    the project goes on. (Behind `except ImportError:` alone, a package whose imports cannot fail on
    an install is the normal path: `importable`, which this reading does not follow into packages.)"""
    packages: dict[str, Evidence] = {}
    for importer, imports in sorted(tried.items()):
        for line, level, module, listed, narrow in imports:
            if narrow:
                continue
            for place in modules.resolve(importer, level, module, listed):
                if posixpath.basename(place) == "__init__.py" and place != importer and not _encloses(place, importer):
                    packages.setdefault(place, Evidence(
                        importer, line,
                        "its package is imported only inside `try` with a handler that goes on without it: the project runs where it is missing",
                    ))
    if not packages:
        return {}
    outside = _imported_outside_tries(modules, sources, tried, names, set(packages) | candidates)
    packages = {path: evidence for path, evidence in packages.items() if not outside.get(path, set())}
    found: dict[str, Evidence] = {}
    for path in sorted(candidates):
        importers = outside.get(path, set())
        for package, evidence in packages.items():
            if _encloses(package, path) and importers and all(_encloses(package, importer) for importer in importers):
                found[path] = evidence
    return found


def _imported_outside_tries(
    modules: ModuleMap,
    sources: Mapping[str, Callable[[], bytes]],
    tried: Mapping[str, tuple[TriedImport, ...]],
    names: Callable[[str], frozenset[str]],
    wanted: set[str],
) -> dict[str, set[str]]:
    """Each module of `wanted` -> the modules outside the test suite (and outside its own package, for a
    package's `__init__.py`) that run it by an import statement outside such a `try`; only the modules
    whose imports spell its name (a package's by its folder) are read."""
    spelled = {path: posixpath.basename(posixpath.dirname(path) if path.endswith("/__init__.py") else path).removesuffix(".py") for path in wanted}
    words = set(spelled.values())
    found: dict[str, set[str]] = {}
    for importer, statement in _untried_imports(sources, tried, names, words):
        for place in _places(modules, importer, statement, wanted):
            if not _encloses(place, importer):
                found.setdefault(place, set()).add(importer)
    return found


def _untried_imports(
    sources: Mapping[str, Callable[[], bytes]],
    tried: Mapping[str, tuple[TriedImport, ...]],
    names: Callable[[str], frozenset[str]],
    words: set[str],
) -> Iterator[tuple[str, bytes]]:
    """(importer, statement) of each import statement outside a `try` of `tried`, in the modules outside
    the test suite whose imports spell one of `words` (the others are not read)."""
    for importer in sorted(sources):
        if is_test_path(importer) or not words.intersection(names(importer)):
            continue
        data = read_or_none(sources.get(importer))
        if data is None:
            continue
        inside = {line for line, *_ in tried.get(importer, ())}
        for line, statement in import_statements(data):
            if line not in inside:
                yield importer, statement


_STANDARD = frozenset(sys.stdlib_module_names) | {"torch"}
"""Modules every install that runs PyTorch code has: the standard library's, and PyTorch."""


def importable(
    path: str,
    modules: ModuleMap,
    imports: Callable[[str], tuple[TopImport, ...]],
    installed: frozenset[str],
    own: frozenset[str],
    known: dict[str, bool],
) -> bool:
    """Whether importing the module at `path` succeeds wherever the project is installed: each import
    `imports` gives of it (those its import runs, and those of its `try` blocks, whose names an
    importer may ask for: `from .adam import Adam` fails where `Adam` is defined only after a
    compiled extension imported) names the standard library, PyTorch, a distribution of
    `installed` (normalised names, as `extra_only.spellings` spells an import's), or modules of the
    project (`own`: their top-level names) that are importable in turn. An import of something the
    scan has no module for (a compiled extension, `from pkg import _ext`) may fail. The `__init__.py`
    of a package the module is in is being imported already when the module is (its import started
    there), so it is no part of the answer. `known` keeps the answers, and a module met again on its own import chain counts as
    importable (the chain decides)."""
    if path in known:
        return known[path]
    known[path] = True
    answer = True
    try:
        for _, level, module, listed in imports(path):
            if level or module.partition(".")[0] in own:
                places = [place for place in sorted(modules.resolve(path, level, module, listed)) if not _encloses(place, path)]
                answer = bool(places) and all(importable(place, modules, imports, installed, own, known) for place in places)
            else:
                from cudaudit.rules.python.extra_only import spellings  # the dependency readings, only where asked

                answer = module.partition(".")[0] in _STANDARD or any(name in installed for name in spellings(module))
            if not answer:
                break
    except RecursionError:
        answer = False
    known[path] = answer
    return answer


def _own_names(modules: ModuleMap, sources: Iterable[str]) -> frozenset[str]:
    """The top-level names of the project's own modules (`pkg` of `pkg/ops/step.py`)."""
    return frozenset(name.partition(".")[0] for name in map(modules.name, sorted(sources)) if name)


def _encloses(place: str, path: str) -> bool:
    """Whether `place` is the `__init__.py` of a package the module at `path` is in."""
    folder = posixpath.dirname(place)
    return posixpath.basename(place) == "__init__.py" and (not folder or path.startswith(folder + "/"))


def failing_without_gpu(
    found: Mapping[str, Evidence], sources: Iterable[str], unimportable: Callable[[frozenset[str]], Iterable[str]], absent: frozenset[str]
) -> dict[str, Evidence]:
    """Display path -> why, for each module of `found` (the optional modules, with the import that makes
    each optional) that no machine without a GPU can import: its top-level imports name a package of
    `absent` (the catalog's `[[absent_without_gpu]]`), or such a module of the project, in turn
    (`unimportable(missing)`: `unimportable.unimportable_modules` of the project's `sources` for
    those packages). There every importer goes on without the module. A package the project itself
    is (its own tree: FlashAttention's `flash_attn/`) is no package it goes without."""
    if not found:
        return {}
    modules = module_map(sources)
    missing = frozenset(unimportable(absent - _own_names(modules, sources)))
    return {
        path: Evidence(
            evidence.path, evidence.line,
            f"{evidence.text}; its own top-level imports need a package that has no build for a machine without a GPU",
        )
        for path, evidence in sorted(found.items())
        if any(name in missing for name in modules.import_names(path))
    }


def _places(modules: ModuleMap, importer: str, statement: bytes, wanted: set[str]) -> set[str]:
    """The modules of `wanted` an import statement of `importer` runs."""
    return wanted.intersection(
        place for imported in statement_modules(statement) for place in modules.resolve(importer, *imported)
    ) - {importer}


_TRY = re.compile(rb"try[ \t]*:[ \t]*(?:#|\r?$)", re.M)
"""A `try:` header alone on its line."""
_BARE_HANDLER = re.compile(rb"except[ \t]*:")
_HANDLER_NAMES = re.compile(rb"\b(?:ImportError|ModuleNotFoundError|Exception|BaseException)\b")
"""The exceptions whose handler catches a failed import (`except (OSError, ImportError) as e:`)."""
_BROAD_NAMES = re.compile(rb"\b(?:Exception|BaseException)\b")
"""Handlers that catch more than a failed import: whatever the `try` body goes on to run."""
_STOPS = re.compile(rb"(?:raise\b|(?:sys\.|os\._)?exit[ \t]*\()")
"""A statement that leaves the program or re-raises: a handler that ends so says the module is needed."""


def _tried_bodies(data: bytes) -> list[tuple[int, int, bool]]:
    """The (first, last) 1-based lines of the body of each `try` of a module whose handler catches a
    failed import and goes on, with whether its handlers catch failed imports alone: each `try:`
    header found by a byte search (the word first, then what comes before it on its line and after
    it), its body and handlers by indentation."""
    found: list[tuple[int, int, bool]] = []
    lines: list[bytes] = []
    line, counted = 0, 0
    position = data.find(b"try")
    while position >= 0:
        start = data.rfind(b"\n", 0, position) + 1
        if not data[start:position].strip(b" \t") and _TRY.match(data, position):
            line += data.count(b"\n", counted, start)
            counted = start
            lines = lines or data.split(b"\n")
            depth = position - start
            last = line
            while last + 1 < len(lines):
                stripped = lines[last + 1].lstrip(b" \t")
                if stripped and not stripped.startswith(b"#") and len(lines[last + 1]) - len(stripped) <= depth:
                    break
                last += 1
            goes_on, narrow = _goes_on(lines, line, depth)
            if last > line and goes_on:
                found.append((line + 2, last + 1, narrow))
        position = data.find(b"try", position + 3)
    return found


def _goes_on(lines: list[bytes], header: int, depth: int) -> tuple[bool, bool]:
    """Whether one of the handlers of the `try` at line `header` (indented `depth`) catches a failed
    import and does not end by raising or exiting (its last statement at the handler's own level),
    and whether no handler catches more than a failed import (a bare `except:`, `Exception`)."""
    position = header + 1
    goes_on, narrow = False, True
    while position < len(lines):
        line = lines[position]
        stripped = line.lstrip(b" \t")
        position += 1
        if not stripped or stripped.startswith(b"#") or len(line) - len(stripped) > depth:
            continue
        if len(line) - len(stripped) < depth or not stripped.startswith(b"except"):
            break  # `else:`, `finally:` or the next statement: no more handlers
        head, _, rest = stripped.split(b"#")[0].partition(b":")
        last = rest.strip() or None  # `except ImportError: pass` on one line
        level = None
        while position < len(lines):
            inner = lines[position].lstrip(b" \t")
            if inner and not inner.startswith(b"#"):
                inner_depth = len(lines[position]) - len(inner)
                if inner_depth <= depth:
                    break
                level = inner_depth if level is None else level
                if inner_depth == level:
                    last = inner
            position += 1
        bare = _BARE_HANDLER.match(stripped) is not None
        catches = bare or _HANDLER_NAMES.search(head) is not None
        if bare or _BROAD_NAMES.search(head) is not None:
            narrow = False
        if catches and (last is None or _STOPS.match(last) is None):
            goes_on = True
    return goes_on, narrow

