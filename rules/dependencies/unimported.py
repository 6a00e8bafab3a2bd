"""Bindings a project pins and never imports.

Some packages do nothing but bind a library for code that calls them: NVML's Python bindings
(`nvidia-ml-py`, `pynvml`) are a pure-Python wheel that installs on any host, and what ties them to
NVIDIA is their calls, which fail without an NVIDIA driver (the Python analyzer reports each call).
A project that pins one in its requirements and never imports its module installs it and then
changes nothing on any target: the pin is not lock-in, at most a note.

`unimported_bindings` reads the catalog's `[[binding]]` tables (packages, the modules they install,
a source) against the project's code: the packages of a table none of whose modules any code file
of the scan spells as a word (an import, a string given to `importlib`, a comment alike: a
misreading keeps the finding).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cudaudit.rules.catalog import WordSearch
from cudaudit.rules.python.read_once import ReadOnce


def binding_tables(tables: list[tuple[str, Any]]) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """(catalog keys of the packages, their modules) of each `[[binding]]` table."""
    return tuple(
        (tuple(row["packages"]), tuple(row["modules"])) for _, rows in tables for row in rows
    )


def declares_one(bindings: Iterable[tuple[tuple[str, ...], tuple[str, ...]]], declaring: Iterable[bytes]) -> bool:
    """Whether any dependency file's bytes spell one of the packages (`nvidia-ml-py` for `nvidia-ml-py*`)."""
    words = [package.rstrip("*").lower().encode() for packages, _ in bindings for package in packages]
    return any(word in data.lower() for data in declaring for word in words)


def unimported_bindings(
    bindings: Iterable[tuple[tuple[str, ...], tuple[str, ...]]], code: Mapping[str, Callable[[], bytes]]
) -> tuple[str, ...]:
    """The catalog keys of the packages of `bindings` whose modules no file of `code` spells as a word."""
    bindings = list(bindings)
    modules = sorted({module for _, names in bindings for module in names})
    if not modules:
        return ()
    pattern = re.compile(rb"\b(?:" + b"|".join(re.escape(m.encode()) for m in modules) + rb")\b")
    automaton = WordSearch([module.encode() for module in modules])  # most files spell none: one pass says so
    text = ReadOnce(code)
    spelled: set[str] = set()
    for path in sorted(code):
        data = text(path)
        if automaton.any_in(data):
            spelled.update(match.group(0).decode() for match in pattern.finditer(data))
        if len(spelled) == len(modules):
            break
    return tuple(sorted(
        package for packages, names in bindings if not spelled.intersection(names) for package in packages
    ))
