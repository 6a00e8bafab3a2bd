"""The files of the developers' folders outside the project's packages: another path than the users'.

A folder named as one of the catalog's `[[developer_folder]]` tables, below the scan's common folder,
whose parent folder is no Python package (a top-level `benchmarks/`, `examples/benchmarks/`; a
package's own `benchmarks/` may be API it exports: an opt-in folder, judged by what imports it), holds what the project's developers run:
benchmarks, maintainer probes, release and lint helpers. Its files' sites are at most warnings. A
table's name may be a pattern: `.*` takes every hidden folder (`.dev_scripts/`, `.github/`).

A folder name that also holds the scripts a project tells its users to run (`scripts/train.py`,
`tools/convert.py`: a table with `unless_documented = true`) counts only for the files no document of
the project names. A document (a file of no kind: `README.md`, `docs/*.md`, `*.rst`) names a file by
its path from the developer folder's parent (`scripts/convert.py`, which also matches a longer path
and a document of a sub-project that writes it from its own folder), by its dotted module
(`python -m scripts.convert`), or, for a document inside the developer folder (its own README), by
its path from that document's folder (`convert.py`). A named file keeps its verdicts, and so does
each file of the same developer folder that a named file spells by its module name (the helpers
a script imports from beside itself, `from common import load`), to a fixed point. Only a scan given
the project's documents (a folder's scan) judges these names: one of named files cannot tell that no
document names a script, and keeps every verdict there. The project index then gives back the
modules a module outside the developer folders imports (`project_index._developer_folders`): a
top-level `tools/` package that the documented `infer.py` imports is the project's own code.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.rules.catalog import word_automaton

Reader = Callable[[], bytes]
_PATTERN = re.compile(r"[*?\[]")
"""A folder name with a wildcard is a pattern (`fnmatch`), matched against lowered names."""


def developer_files(
    paths: Iterable[str], documents: Mapping[str, Reader], python: Iterable[str],
    folders: Mapping[str, bool], reads: Mapping[str, Reader],
) -> dict[str, Evidence]:
    """Display path -> the developer folder, for each of `paths` under a folder named as a key of
    `folders` (lowered, or a pattern: `.*`; the value says whether documents may name its files as entry points) whose
    parent holds no `__init__.py` of `python`. `documents` are the scan's documents, `reads` every
    file's reader (for the named scripts' own text); both by display path."""
    paths = list(paths)
    if not folders or len(paths) < 2:
        return {}
    try:
        top = posixpath.commonpath(paths)
    except ValueError:  # absolute and relative paths together: no folder is common to them
        return {}
    packages = {posixpath.dirname(path) for path in python if posixpath.basename(path) == "__init__.py"}
    prefix = top.rstrip("/") + "/" if top else ""
    found: dict[str, Evidence] = {}
    pending: dict[str, str] = {}
    names = _FolderNames(folders)
    for path in paths:
        folder = _developer_folder(path[len(prefix):], top, names, packages)  # every path starts with the common folder
        if folder is None:
            continue
        if names.documented(posixpath.basename(folder)):
            pending[path] = folder
        else:
            found[path] = Evidence(folder, 0, "a benchmark the project's developers run")
    if pending and documents:
        named = _named(pending, documents, reads)
        found.update(
            (path, Evidence(folder, 0, "a developer's script that no document of the project names"))
            for path, folder in pending.items() if path not in named
        )
    return found


class _FolderNames:
    """The catalog's developer folder names, some of them patterns (`.*`: every hidden folder)."""

    def __init__(self, folders: Mapping[str, bool]) -> None:
        self._exact = {name: documented for name, documented in folders.items() if not _PATTERN.search(name)}
        self._patterns = [(name, documented) for name, documented in folders.items() if _PATTERN.search(name)]

    def _match(self, part: str) -> bool | None:
        """Whether the folder named `part` may hold documented entry points; None for no developer folder."""
        lowered = part.lower()
        if lowered in self._exact:
            return self._exact[lowered]
        return next((documented for pattern, documented in self._patterns if fnmatch.fnmatchcase(lowered, pattern)), None)

    def named(self, part: str) -> bool:
        return self._match(part) is not None

    def documented(self, part: str) -> bool:
        return bool(self._match(part))


def _developer_folder(inside: str, top: str, names: _FolderNames, packages: set[str]) -> str | None:
    """The first folder of `inside` (a path below `top`) named as a developer folder whose parent is no package."""
    parts = inside.split("/")[:-1]
    if not any(names.named(part) for part in parts):
        return None
    folder = top
    for part in parts:
        parent, folder = folder, posixpath.join(folder, part)
        if names.named(part) and parent not in packages:
            return folder
    return None


def _named(pending: Mapping[str, str], documents: Mapping[str, Reader], reads: Mapping[str, Reader]) -> set[str]:
    """The files of `pending` (path -> its developer folder) that a document names, with those a
    named file of the same folder spells by its module name, to a fixed point."""
    spellings: dict[bytes, set[str]] = {}
    for path, folder in pending.items():
        below = path[len(posixpath.dirname(folder)):].lstrip("/")  # `scripts/tool/convert.py`
        for spelling in (below, posixpath.splitext(below)[0].replace("/", ".")):
            spellings.setdefault(spelling.lower().encode(), set()).add(path)
    search = word_automaton(spellings)
    named: set[str] = set()
    for document, read in documents.items():
        try:
            text = read().lower()
        except OSError:  # an unreadable document names nothing
            continue
        if search is not None:
            named.update(path for word in search.found(text) for path in spellings[word])
        named.update(_named_from_inside(document, text, pending))
    return _with_helpers(named, pending, reads)


def _named_from_inside(document: str, text: bytes, pending: Mapping[str, str]) -> set[str]:
    """The files below a document kept inside a developer folder (its README) that it names by their
    path from its own folder."""
    here = posixpath.dirname(document)
    return {
        path for path, folder in pending.items()
        if (here + "/").startswith(folder + "/") and path.startswith(here + "/")
        and path[len(here) + 1:].lower().encode() in text
    }


def _with_helpers(named: set[str], pending: Mapping[str, str], reads: Mapping[str, Reader]) -> set[str]:
    """`named` with the files of the same developer folder its files spell by module name, to a fixed point."""
    stems = {path: posixpath.splitext(posixpath.basename(path))[0].encode() for path in pending}
    todo = list(named)
    while todo:
        path = todo.pop()
        try:
            text = reads[path]()
        except (KeyError, OSError):  # an unreadable script names nothing
            continue
        for other, stem in stems.items():
            if other not in named and pending[other] == pending[path] and re.search(rb"\b%s\b" % re.escape(stem), text):
                named.add(other)
                todo.append(other)
    return named
