"""What a dependency file declares of the libraries whose ROCm or CPU support depends on the release.

The project index reads each requirements file and `pyproject.toml` with the dependency readers
(`declared.py`) and keeps, for the libraries the catalog names in a `works_with` fact, every range
the file declares; `cudaudit.releases` then tells whether the ranges allow a working release.
"""

from __future__ import annotations

from collections.abc import Iterable

from cudaudit.resolvers.declared import Declared, pyproject, requirements_file


def declared_ranges(text: str, kind: str, names: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(normalised name, specifier as text) of each requirement of `names` in a file of `kind`
    (`requirements` or `pyproject`); an unversioned requirement declares the empty range."""
    wanted = frozenset(names)
    if not wanted:
        return ()
    declared: list[Declared] = requirements_file(text)[0] if kind == "requirements" else pyproject(text)
    return tuple((found.name, str(found.specifier)) for found in declared if found.name in wanted)
