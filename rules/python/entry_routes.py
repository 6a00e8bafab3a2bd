"""The modules only some entries of a project reach: the route a fact of those entries holds on.

A fact the documents give about some entry scripts (every command starts them under a launcher,
`launched_entries.py`; every command gives an option one value, `documented_flags.documented_values`)
holds in the modules those entries import and no other route does. `only_routes` follows the
top-level imports (through cycles) from the chosen entries, less what another route reaches:
another entry some documented command runs, or a script of its own (a module outside any package
that no module imports). An entry no documented command runs (another path, which the documents
offer no user) holds nothing back, nor does a package's module no module imports at its top level
(one a function imports: `from .panoptic import build` in the arm of one dataset).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping


def only_routes(
    chosen: Iterable[str], importers: Mapping[str, set[str]], entries: frozenset[str], unrun: frozenset[str]
) -> dict[str, str]:
    """Module -> the first of the `chosen` entries whose route reaches it, for each module (the
    entries themselves included) that no other route reaches; `importers` gives module -> the
    modules that import it at their top level, `entries` every entry, `unrun` those no command runs."""
    imports = _imports(importers)
    known = importers.keys() | imports.keys()
    picked = frozenset(chosen)
    scripts = {
        module for module in imports
        if not importers.get(module) and posixpath.join(posixpath.dirname(module), "__init__.py") not in known
    }
    return _first_entries(picked, imports, _reached((entries | scripts) - picked - unrun, imports))


def on_routes(chosen: Iterable[str], importers: Mapping[str, set[str]]) -> dict[str, str]:
    """Module -> the first of the `chosen` entries whose route reaches it, for every module those
    routes reach, whatever other routes reach it too."""
    return _first_entries(chosen, _imports(importers), set())


def _first_entries(chosen: Iterable[str], imports: Mapping[str, set[str]], elsewhere: set[str]) -> dict[str, str]:
    """Module -> the first of the `chosen` entries (in name order) whose route reaches it, for each
    module those routes reach that is not `elsewhere`."""
    found: dict[str, str] = {}
    for entry in sorted(chosen):
        for module in sorted(_reached([entry], imports) - elsewhere):
            found.setdefault(module, entry)
    return found


def _imports(importers: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Module -> the modules it imports at its top level, from module -> its importers."""
    imports: dict[str, set[str]] = {}
    for module, by in importers.items():
        for importer in by:
            imports.setdefault(importer, set()).add(module)
    return imports


def _reached(starts: Iterable[str], imports: Mapping[str, set[str]]) -> set[str]:
    """`starts` and every module they import, directly or through others."""
    reached = set(starts)
    pending = list(reached)
    while pending:
        for module in imports.get(pending.pop(), ()):
            if module not in reached:
                reached.add(module)
                pending.append(module)
    return reached
