"""Methods of the project's objects that a library call reaches by their name alone.

Some library calls walk the project's objects and call, on each that has it, a method of a given
name: diffusers' `enable_xformers_memory_efficient_attention()` (of a model or a pipeline) calls
`set_use_memory_efficient_attention_xformers(True, ...)` on every submodule that defines it. A model
block copied from diffusers keeps such a method, often with `elif not torch.cuda.is_available():
raise ValueError(...)` in it, and nothing in the project spells its name: the project's call of the
library's entry is its call. The catalog's `[[dispatched_method]]` tables list these entries and the
methods they reach; the readings that ask whether, and under which switch, the project calls a
method (`unused.py`, `taken_names.py`, `opt_in.py`) count a spelling of an entry as one of each
method it reaches, and the reading of under which guards the rest of the project uses a module's
methods (`callers.py`) counts each call of the entry, in its guards, as a call of each.
"""

from __future__ import annotations

from collections.abc import Mapping

from cudaudit.rules.catalog import Catalog

Dispatched = Mapping[str, frozenset[str]]
"""Method name -> the library entries that call it by that name (`dispatched_methods`)."""


def dispatched_methods(catalog: Catalog) -> dict[str, frozenset[str]]:
    """The catalog's `[[dispatched_method]]` tables: each method name with the entries that reach it."""
    found: dict[str, frozenset[str]] = {}
    for _, tables in catalog.tables("dispatched_method"):
        for table in tables:
            for method in table["methods"]:
                found[method] = found.get(method, frozenset()) | frozenset(table["entries"])
    return found


def reaching(dispatched: Dispatched) -> dict[str, frozenset[str]]:
    """Entry -> the methods it reaches: `dispatched` turned around."""
    found: dict[str, frozenset[str]] = {}
    for method, entries in dispatched.items():
        for entry in entries:
            found[entry] = found.get(entry, frozenset()) | {method}
    return found
