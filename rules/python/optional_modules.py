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
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.filekinds import is_test_path
from cudaudit.firstparty import ModuleMap
from cudaudit.rules.python.opt_in import import_statements, statement_modules

TriedImport = tuple[int, int, str, tuple[str, ...]]
"""(line, level, module, names) of an import statement inside such a `try`, as `statement_modules`
gives them: a module's reading, kept by the scan's cache."""


def tried_imports(data: bytes) -> tuple[TriedImport, ...]:
    """The imports of a module that sit in the body of a `try` whose handler catches a failed import
    and goes on: the `try:` headers found by a byte search, bodies and handlers by indentation."""
    if b"try" not in data or b"except" not in data:
        return ()
    bodies = _tried_bodies(data)
    if not bodies:
        return ()
    return tuple(
        (line, *imported)
        for line, statement in import_statements(data)
        if any(first <= line <= last for first, last in bodies)
        for imported in statement_modules(statement)
    )


def optional_modules(
    candidates: Iterable[str],
    sources: Mapping[str, Callable[[], bytes]],
    tried: Mapping[str, tuple[TriedImport, ...]],
    names: Callable[[str], frozenset[str]],
) -> dict[str, Evidence]:
    """Display path -> the import that makes it optional, for each of `candidates` (modules of
    `sources`, the scan's Python modules by display path) that the scan's modules outside the test
    suite import only inside a `try` with a handler that goes on where the import fails. `tried`
    holds each module's `tried_imports` (those that have some, outside the test suite); `names(path)`
    every name a module's import statements spell (`import_paths.import_names`, from the cache):
    only the modules that spell a marked module's name are read again, for an import of it
    anywhere else."""
    wanted = {path for path in candidates if posixpath.basename(path) != "__init__.py"}
    if not wanted or not tried:
        return {}
    modules = ModuleMap(sources)
    found: dict[str, Evidence] = {}
    for importer, imports in sorted(tried.items()):
        for line, level, module, listed in imports:
            for place in sorted(wanted.intersection(modules.resolve(importer, level, module, listed)) - {importer}):
                found.setdefault(place, Evidence(
                    importer, line,
                    "imported only inside `try` with a handler that goes on without it: the project runs where it is missing",
                ))
    if not found:
        return {}
    stems = {posixpath.basename(path)[:-3] for path in found}
    normal: set[str] = set()
    for importer in sorted(sources):
        if is_test_path(importer) or not stems.intersection(names(importer)):
            continue
        data = _read(sources, importer)
        if data is None:
            continue
        inside = {line for line, *_ in tried.get(importer, ())}
        for line, statement in import_statements(data):
            if line not in inside:
                normal |= _places(modules, importer, statement, set(found))
    return {path: evidence for path, evidence in sorted(found.items()) if path not in normal}


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
_STOPS = re.compile(rb"(?:raise\b|(?:sys\.|os\._)?exit[ \t]*\()")
"""A statement that leaves the program or re-raises: a handler that ends so says the module is needed."""


def _tried_bodies(data: bytes) -> list[tuple[int, int]]:
    """The (first, last) 1-based lines of the body of each `try` of a module whose handler catches a
    failed import and goes on: each `try:` header found by a byte search (the word first, then
    what comes before it on its line and after it), its body and handlers by indentation."""
    found: list[tuple[int, int]] = []
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
            if last > line and _goes_on(lines, line, depth):
                found.append((line + 2, last + 1))
        position = data.find(b"try", position + 3)
    return found


def _goes_on(lines: list[bytes], header: int, depth: int) -> bool:
    """Whether one of the handlers of the `try` at line `header` (indented `depth`) catches a failed
    import and does not end by raising or exiting (its last statement at the handler's own level)."""
    position = header + 1
    while position < len(lines):
        line = lines[position]
        stripped = line.lstrip(b" \t")
        position += 1
        if not stripped or stripped.startswith(b"#") or len(line) - len(stripped) > depth:
            continue
        if len(line) - len(stripped) < depth or not stripped.startswith(b"except"):
            return False  # `else:`, `finally:` or the next statement: no more handlers
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
        catches = _BARE_HANDLER.match(stripped) is not None or _HANDLER_NAMES.search(head) is not None
        if catches and (last is None or _STOPS.match(last) is None):
            return True
    return False


def _read(sources: Mapping[str, Callable[[], bytes]], path: str) -> bytes | None:
    try:
        return sources[path]()
    except Exception:  # noqa: BLE001 - an unreadable module imports nothing here; its own analysis says why
        return None
