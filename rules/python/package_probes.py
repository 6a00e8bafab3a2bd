"""Flags and functions that hold only where a package was imported: the project's import probes.

A module often probes an optional package once, at import, and tests the answer where it needs
the package:

    try:
        import transformer_engine
        HAVE_TE = True
    except ImportError:
        HAVE_TE = False

    @pytest.mark.skipif(not HAVE_TE, reason="needs Transformer Engine")
    def test_fused_layer(): ...

or wraps the probe in a function the rest of the project calls:

    def fused_attention_ok(minimum="2.0"):
        try:
            import flash_attn
        except ImportError:
            return False
        return version.parse(flash_attn.__version__) >= version.parse(minimum)

Either holds only where the package imports, whatever its name says (`ok` names no package). What
that tells depends on the package. For the catalog's `[[absent_without_gpu]]` packages (Transformer
Engine, FlashAttention, PyCUDA) it tells the machine: they have no CPU build, so on a machine
without a CUDA device the import fails, the flag is False and the test is skipped there
(`skip_conditions.py`; on ROCm the package may be installed, AMD's builds of it, so there the flag
is open). For any package it tells that code under the test runs only where an earlier import of
the package succeeded: `if fused_attention_ok(): from flash_attn import bert_padding` cannot fail
(`guards.tests_library`).

A flag is a module-level name whose module-level assignments are all a false constant (`False`,
`None`) except in the body (or `else`) of a `try` whose handler catches a failed import, where it is
`True` after an import of a package, or the value of another such flag (`HAVE_FUSED = HAVE_TE`, a
flag imported from another module of the project). An assignment under `if TYPE_CHECKING:` never
runs. A probe function is a top-level function whose every `return` of something true comes after
an import of a package in a `try` whose every handler catches a failed import and returns a false
value (`return False`, `return None`, a bare `return`), with no `return` before that `try`
(`flag_functions.imported_library`). The project index reads each module's flags and probe
functions (`read_package_flags`; a function under its name with `()`, what a call of it tests),
follows the copies from module to module, and hands every Python module the project's probes by
qualified name, with the packages each needs (`ImportTable.package_flags`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING

from cudaudit.firstparty import imported_top_modules
from cudaudit.rules.python.flag_functions import imported_library
from cudaudit.rules.python.guards import Polarity, catches_import_error
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree
from cudaudit.source import decode_python, read_tree

if TYPE_CHECKING:
    from cudaudit.rules.catalog import Catalog

PackageFlags = tuple[tuple[str, str, str], ...]
"""(flag name, the qualified name of the flag it copies or "", the packages it needs or "") for each
probe of a module: a copy names the flag it copies and no package (the index follows it), a probe
of packages itself names no flag and its packages' top-level modules, comma-separated; a function's
name ends in `()`. Plain data for the cache and the digest."""

CALLED = "()"
"""What a probe function's name ends with among the flags: a call of it is the test."""

_COPY = re.compile(
    rb"\n[ \t]+[A-Za-z_]\w*[ \t]*=[ \t]*(?:_*(?:HAVE|HAS|have|has)_\w+|\w+_(?:available|AVAILABLE))[ \t]*(?:#[^\n]*)?$",
    re.MULTILINE,
)
"""An indented assignment of an availability flag (`HAVE_FUSED = HAVE_TE`). This pattern and `_SET_TRUE`
are searched after a newline put in front of the module, so that each starts with its literal newline,
which the regex engine skips to (a line's start, `^`, is tried at every byte)."""
_COPY_WORDS = (b"_available", b"has_", b"_AVAILABLE", b"HAS_", b"have_", b"HAVE_")
"""What every `_COPY` spells in the flag it copies: a module with none of them copies no flag, and the
pattern, tried at the start of every line, is not run on it."""
_TRY_IMPORT = re.compile(rb"try:[ \t]*(?:#[^\n]*)?\r?\n[ \t]+(?:import|from)[ \t]")
"""A `try` whose body starts with an import: where a probe of a package starts."""
_FALSE_RETURN = re.compile(rb"return (?:False|None)\b")
_SET_TRUE = re.compile(rb"\n[ \t]+[A-Za-z_]\w*[ \t]*=[ \t]*True[ \t]*(?:#[^\n]*)?$", re.MULTILINE)
"""What such a `try` goes on to: a probe function's false `return`, or an indented `FLAG = True`.
A module with a tried import and neither, no package of the table and no copied flag has no probe,
and is not parsed. Two patterns, the second tried only where `True` is spelled: one pattern of both
had no literal to skip ahead to, and was tried at every byte."""
_FALSE = object()
_OTHER = object()


@cache
def absent_packages(catalog: Catalog) -> frozenset[str]:
    """The top-level modules of the catalog's `[[absent_without_gpu]]` tables, read once per catalog."""
    return frozenset(table["module"] for _, tables in catalog.tables("absent_without_gpu") for table in tables)


def _probe_ends(data: bytes) -> bool:
    """Whether a module has what a probe of a tried import goes on to (`_FALSE_RETURN`, `_SET_TRUE`)."""
    return _FALSE_RETURN.search(data) is not None or (b"True" in data and _SET_TRUE.search(b"\n" + data) is not None)


def read_package_flags(path: str, data: bytes, catalog: Catalog) -> PackageFlags:
    """The probes the module at display path `path` defines, for the project index; raises
    SyntaxError for a module that does not parse (its own analysis reports it)."""
    if b"try" not in data or not (
        any(package.encode() in data for package in absent_packages(catalog))
        or (any(word in data for word in _COPY_WORDS) and _COPY.search(b"\n" + data) is not None)
        or (_TRY_IMPORT.search(data) is not None and _probe_ends(data))
    ):
        return ()
    tree = read_tree(decode_python(data), filename=path)
    flags = package_flags(ImportTable(tree))
    return tuple(sorted((name, source or "", ",".join(sorted(needed))) for name, (source, needed) in flags.items()))


def package_flags(names: ImportTable) -> dict[str, tuple[str | None, frozenset[str]]]:
    """The module's probes: name -> (None, the packages it needs) for a probe of packages itself, or
    (the qualified name of another module's flag it copies, which the index follows, no packages).
    A probe function's name ends in `()`."""
    values: dict[str, set[object]] = {}
    for name, value in _assignments(getattr(names.tree, "body", []), names, None):
        values.setdefault(name, set()).add(value)
    found: dict[str, object] = {}
    for name, assigned in values.items():
        probes = assigned - {_FALSE}
        if len(probes) == 1 and _OTHER not in probes:
            found[name] = probes.pop()
    flags: dict[str, tuple[str | None, frozenset[str]]] = {}
    for name, value in found.items():
        if isinstance(value, str) and value.startswith("."):
            value = found.get(value[1:])  # a copy of a flag of this module
        if isinstance(value, frozenset):
            flags[name] = (None, value)
        elif isinstance(value, str) and not value.startswith("."):
            flags[name] = (value, frozenset())
    for statement in getattr(names.tree, "body", []):
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name not in values:
            library = imported_library(statement)
            if library is not None:
                flags[statement.name + CALLED] = (None, frozenset({library}))
    return flags


def _assignments(body: list[ast.stmt], names: ImportTable, imported: frozenset[str] | None) -> Iterator[tuple[str, object]]:
    """(name, what it is assigned) for the module-level assignments of `body`: `_FALSE`, the packages
    a probe needs (where the enclosing `try` imported them: `imported`, None outside such a `try`), a
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
                yield from _assignments(statement.body, names, imported)
            yield from _assignments(statement.orelse, names, imported)
        elif isinstance(statement, ast.Try) and any(catches_import_error(h) for h in statement.handlers):
            tried = _imported_packages(statement.body) | (imported or frozenset())
            yield from _assignments([*statement.body, *statement.orelse], names, tried or None)
            for handler in statement.handlers:
                yield from _assignments(handler.body, names, None)
            yield from _assignments(statement.finalbody, names, None)
        elif not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for inner in subtree(statement):
                if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
                    yield inner.id, _OTHER


def _assigned(value: ast.expr | None, names: ImportTable, imported: frozenset[str] | None) -> object:
    """What one assignment gives a name (see `_assignments`)."""
    if isinstance(value, ast.Constant) and (value.value is False or value.value is None):
        return _FALSE
    if imported is None or value is None:
        return _OTHER
    if isinstance(value, ast.Constant) and value.value is True:
        return imported
    if isinstance(value, ast.Name):
        return names.resolve(value) or f".{value.id}"
    return _OTHER


def _imported_packages(body: list[ast.stmt]) -> frozenset[str]:
    """The top-level modules of the packages `body` (a `try`'s) imports at its own level (absolute
    imports; PyTorch, which any PyTorch code has, aside)."""
    return frozenset(
        module for statement in body for module in imported_top_modules(statement) if module != "torch"
    )


def needed_packages(node: ast.expr, names: ImportTable) -> frozenset[str] | None:
    """The packages a probe that `node` names needs: a flag (a name or an attribute) or a call of a
    probe function, of this module or of another module of the project that it imports (through the
    index); None for anything else."""
    suffix = CALLED if isinstance(node, ast.Call) else ""  # a call's arguments never make an import succeed
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name) and names.binding(node.id) is None:
        if names.local_package_flags is None:
            names.local_package_flags = _local_flags(names)
        if node.id + suffix in names.local_package_flags:
            return names.local_package_flags[node.id + suffix]
    return names.package_flag(node, suffix) if isinstance(node, (ast.Name, ast.Attribute)) else None


def _local_flags(names: ImportTable) -> dict[str, frozenset[str]]:
    """The module's own probes by name, a copy of an imported flag with the packages the index says it needs."""
    local = {}
    for name, (source, needed) in package_flags(names).items():
        if source is None:
            local[name] = needed
        elif source in names.package_flags:
            local[name] = names.package_flags[source]
    return local


def holds_only_with_package(node: ast.expr, names: ImportTable) -> bool:
    """Whether the name or attribute `node` is a flag that needs a package no machine without a GPU can
    install: of this module, or of another module of the project that it imports (through the index).
    False wherever `torch.cuda` has no device."""
    needed = needed_packages(node, names) if isinstance(node, (ast.Name, ast.Attribute)) else None
    return bool(needed and needed & names.absent_packages)


def needs_package(test: ast.expr, library: str, names: ImportTable) -> Polarity | None:
    """Which branch of `test` runs only where `library` (a top-level module) imported, by the probes of
    it that `test` reads (`if HAVE_TE:`, `if not fused_attention_ok(): ... else:`, `if ok and x:`):
    POSITIVE for the true branch, NEGATIVE for the false one, None where neither needs it."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = needs_package(test.operand, library, names)
        return inner.flipped if inner is not None else None
    if isinstance(test, ast.BoolOp):
        sides = [needs_package(value, library, names) for value in test.values]
        one, every = (Polarity.POSITIVE, Polarity.NEGATIVE) if isinstance(test.op, ast.And) else (Polarity.NEGATIVE, Polarity.POSITIVE)
        if one in sides:  # `ok and x` is true only where ok is; `not ok or x` false only where ok is
            return one
        return every if all(side is every for side in sides) else None
    if isinstance(test, (ast.Name, ast.Attribute, ast.Call)):
        needed = needed_packages(test, names)
        return Polarity.POSITIVE if needed and library in needed else None
    return None


def imports_package(statement: ast.stmt, packages: frozenset[str]) -> bool:
    """Whether `statement` is an import of a module of one of `packages` (`import transformer_engine
    as te`, `from transformer_engine.pytorch import Linear`)."""
    return any(module in packages for module in imported_top_modules(statement))
