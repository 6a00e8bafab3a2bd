"""Flags that hold only where a package no machine without a GPU can install was imported.

A test module often probes an optional package once, at import, and skips what needs it:

    try:
        import transformer_engine
        HAVE_TE = True
    except ImportError:
        HAVE_TE = False

    @pytest.mark.skipif(not HAVE_TE, reason="needs Transformer Engine")
    def test_fused_layer(): ...

For most packages that says nothing about the machine. For the catalog's `[[absent_without_gpu]]`
packages (Transformer Engine, FlashAttention, PyCUDA) it does: they have no CPU build, so on a
machine without a CUDA device the import fails, the flag is False and the test is skipped there
(`skip_conditions.py`). On ROCm the package may be installed (AMD's builds of it), so there the
flag is open.

A flag is a module-level name whose module-level assignments are all a false constant (`False`,
`None`) except in the body (or `else`) of a `try` whose handler catches a failed import, where it is
`True` after an import of such a package, or the value of another such flag (`HAVE_FUSED =
HAVE_TE`, a flag imported from another module of the project). An assignment under `if
TYPE_CHECKING:` never runs. The project index reads each module's flags (`read_package_flags`),
follows the copies from module to module, and hands every Python module the project's flags by
qualified name (`ImportTable.package_flags`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING

from cudaudit.rules.python.guards import catches_import_error
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree
from cudaudit.source import decode_python, read_tree

if TYPE_CHECKING:
    from cudaudit.rules.catalog import Catalog

PackageFlags = tuple[tuple[str, str], ...]
"""(flag name, the qualified name of the flag it copies, or "" for a probe of a package itself), as
plain data for the cache and the digest."""

_COPY = re.compile(
    rb"^[ \t]+[A-Za-z_]\w*[ \t]*=[ \t]*(?:_*(?:HAVE|HAS|have|has)_\w+|\w+_(?:available|AVAILABLE))[ \t]*(?:#[^\n]*)?$",
    re.MULTILINE,
)
"""An indented assignment of an availability flag (`HAVE_FUSED = HAVE_TE`): a module that has none and
names no package of the table copies no flag, and is not parsed."""
_FALSE = object()
_OTHER = object()


@cache
def absent_packages(catalog: Catalog) -> frozenset[str]:
    """The top-level modules of the catalog's `[[absent_without_gpu]]` tables, read once per catalog."""
    return frozenset(table["module"] for _, tables in catalog.tables("absent_without_gpu") for table in tables)


def read_package_flags(path: str, data: bytes, catalog: Catalog) -> PackageFlags:
    """The package flags the module at display path `path` defines, for the project index; raises
    SyntaxError for a module that does not parse (its own analysis reports it)."""
    packages = absent_packages(catalog)
    if b"try" not in data or not (
        any(package.encode() in data for package in packages) or _COPY.search(data) is not None
    ):
        return ()
    tree = read_tree(decode_python(data), filename=path)
    flags = package_flags(ImportTable(tree), packages)
    return tuple(sorted((name, source or "") for name, source in flags.items()))


def package_flags(names: ImportTable, packages: frozenset[str]) -> dict[str, str | None]:
    """The module's package flags: name -> None for a probe of a package of `packages`, or the
    qualified name of another module's flag it copies (which the index follows)."""
    if not packages:
        return {}
    values: dict[str, set[object]] = {}
    for name, value in _assignments(getattr(names.tree, "body", []), names, packages, None):
        values.setdefault(name, set()).add(value)
    found: dict[str, object] = {}
    for name, assigned in values.items():
        probes = assigned - {_FALSE}
        if len(probes) == 1 and _OTHER not in probes:
            found[name] = probes.pop()
    flags: dict[str, str | None] = {}
    for name, value in found.items():
        if isinstance(value, str) and value.startswith("."):
            value = found.get(value[1:])  # a copy of a flag of this module
        if value is True:
            flags[name] = None
        elif isinstance(value, str) and not value.startswith("."):
            flags[name] = value
    return flags


def _assignments(
    body: list[ast.stmt], names: ImportTable, packages: frozenset[str], imported: bool | None
) -> Iterator[tuple[str, object]]:
    """(name, what it is assigned) for the module-level assignments of `body`: `_FALSE`, `True` (a
    probe, where the enclosing `try` imported a package: `imported`, None outside such a `try`), a
    copied flag (its qualified name, or `.name` for one of the module), or `_OTHER`."""
    for statement in body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                for node in subtree(target):
                    if isinstance(node, ast.Name):
                        yield node.id, _assigned(statement.value if target is node else None, names, imported)
        elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)) and isinstance(statement.target, ast.Name):
            value = statement.value if isinstance(statement, ast.AnnAssign) else None
            yield statement.target.id, _assigned(value, names, imported)
        elif isinstance(statement, ast.If):
            if names.resolve(statement.test) != "typing.TYPE_CHECKING":  # what only a type checker reads never runs
                yield from _assignments(statement.body, names, packages, imported)
            yield from _assignments(statement.orelse, names, packages, imported)
        elif isinstance(statement, ast.Try) and any(catches_import_error(h) for h in statement.handlers):
            tried = imported is True or _imports_package(statement.body, packages)
            yield from _assignments([*statement.body, *statement.orelse], names, packages, tried)
            for handler in statement.handlers:
                yield from _assignments(handler.body, names, packages, None)
            yield from _assignments(statement.finalbody, names, packages, None)
        elif not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for inner in subtree(statement):
                if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
                    yield inner.id, _OTHER


def _assigned(value: ast.expr | None, names: ImportTable, imported: bool | None) -> object:
    """What one assignment gives a name (see `_assignments`)."""
    if isinstance(value, ast.Constant) and (value.value is False or value.value is None):
        return _FALSE
    if imported is None or value is None:
        return _OTHER
    if isinstance(value, ast.Constant) and value.value is True:
        return True if imported else _OTHER
    if isinstance(value, ast.Name):
        return names.resolve(value) or f".{value.id}"
    return _OTHER


def _imports_package(body: list[ast.stmt], packages: frozenset[str]) -> bool:
    """Whether `body` (a `try`'s) imports a module of one of `packages` at its own level."""
    return any(imports_package(statement, packages) for statement in body)


def imports_package(statement: ast.stmt, packages: frozenset[str]) -> bool:
    """Whether `statement` is an import of a module of one of `packages` (`import transformer_engine
    as te`, `from transformer_engine.pytorch import Linear`)."""
    if isinstance(statement, ast.Import):
        return any(alias.name.partition(".")[0] in packages for alias in statement.names)
    return (
        isinstance(statement, ast.ImportFrom)
        and statement.level == 0
        and (statement.module or "").partition(".")[0] in packages
    )


def holds_only_with_package(node: ast.expr, names: ImportTable) -> bool:
    """Whether the name or attribute `node` is a package flag: of this module, or of another module
    of the project that it imports (through the index). False wherever `torch.cuda` has no device."""
    if isinstance(node, ast.Name) and names.binding(node.id) is None:
        if names.local_package_flags is None:
            names.local_package_flags = frozenset(
                name
                for name, source in package_flags(names, names.absent_packages).items()
                if source is None or source in names.package_flags
            )
        return node.id in names.local_package_flags
    return isinstance(node, (ast.Name, ast.Attribute)) and names.is_package_flag(node)
