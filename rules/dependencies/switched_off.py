"""Packages a project pins and imports only under a switch every shipped configuration turns off.

A training script often offers an optional optimizer from a CUDA-only package and imports it only
where the user asks for it:

    def main(..., use_8bit_adam: bool = False):
        if use_8bit_adam:
            import bitsandbytes as bnb

with `use_8bit_adam: False` in every configuration the project ships. The pin of that package in
the requirements still installs it (or fails to, where no build exists), but nothing the project
runs as shipped imports it: the pin breaks only the route of a user who turns the switch on,
another path, a warning at most (`DependencyContext.switched_off`).

`switched_off_packages` reads, for the pinned packages the catalog keys (each one's module is its
name with `-` read as `_`), every import of the module in the project's code: each must sit in the
body of an `if` whose test is a setting's name (`if use_8bit_adam:`, `if args.use_8bit_adam:`, `if
cfg.use_8bit_adam:`, inside a `try` there too). Then each such setting must be off wherever the
project says: at least one configuration file (YAML, JSON, a notebook) gives it a false value
(`use_8bit_adam: False`), none a true one, no document, script or notebook passes its flag
(`--use_8bit_adam`), and no Python code sets it true (`use_8bit_adam=True`, `default=True`). An
import anywhere else, or a setting something turns on, keeps the pin's verdicts.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping

from cudaudit.resolvers.requirements import PACKAGE
from cudaudit.rules.catalog import Catalog
from cudaudit.rules.python.nodes import Parents
from cudaudit.rules.python.read_once import ReadOnce
from cudaudit.source import decode_python, read_tree

_CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".ipynb")
_PATTERN = set("*[?")
_NAME_END = re.compile(r"[<>=!~;\s]")
"""What ends the package a key names: `bitsandbytes` of `bitsandbytes<0.49`."""
_FALSE = frozenset({"false", "no", "off", "0"})
_TRUE = frozenset({"true", "yes", "on", "1"})


def switched_off_packages(
    catalog: Catalog, declared: bytes, code: Mapping[str, Callable[[], bytes]], others: Mapping[str, Callable[[], bytes]]
) -> tuple[str, ...]:
    """The catalog's pip-package keys of a plain name (`bitsandbytes<0.49`, no pattern) that the
    dependency files spell (`declared`, their bytes in lower case) whose module every file of `code`
    (display path -> its bytes) imports only under a setting that every file of `others`
    (configurations, documents, scripts, notebooks) leaves off and no file of `code` turns on."""
    names = {key: _NAME_END.split(key, maxsplit=1)[0].lower() for key in catalog.keys(PACKAGE) if not set(key) & _PATTERN}
    modules = {key: name.replace("-", "_") for key, name in names.items() if name and name.encode() in declared}
    read = ReadOnce(code)
    found: list[str] = []
    for key, module in sorted(modules.items()):
        settings = _import_switches(module, code, read)
        if settings and all(_off_everywhere(setting, code, others, read) for setting in settings):
            found.append(key)
    return tuple(found)


def _import_switches(module: str, code: Mapping[str, Callable[[], bytes]], read: ReadOnce) -> frozenset[str]:
    """The settings the imports of `module` sit under; none where some import sits under no setting
    (or no file imports it)."""
    spelled = re.compile(rb"^[ \t]*(?:import|from)[ \t]+" + re.escape(module.encode()) + rb"\b", re.MULTILINE)
    settings: set[str] = set()
    for path in sorted(code):
        data = read(path)
        if module.encode() not in data or spelled.search(data) is None:
            continue
        try:
            tree = read_tree(decode_python(data), filename=path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return frozenset()
        parents = Parents(tree)
        for node in ast.walk(tree):
            if _imports(node, module):
                setting = _switch(node, parents)
                if setting is None:
                    return frozenset()
                settings.add(setting)
    return frozenset(settings)


def _imports(node: ast.AST, module: str) -> bool:
    if isinstance(node, ast.Import):
        return any(alias.name.partition(".")[0] == module for alias in node.names)
    return isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").partition(".")[0] == module


def _switch(node: ast.AST, parents: Parents) -> str | None:
    """The setting the nearest `if` around `node` (within its function) tests in the branch `node` is
    in (`use_8bit_adam` of `if args.use_8bit_adam:`), or None."""
    child, parent = node, parents.parent(node)
    while parent is not None and not isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
        if isinstance(parent, ast.If):
            if not any(statement is child for statement in parent.body):
                return None
            test = parent.test
            if isinstance(test, ast.Name):
                return test.id
            if isinstance(test, ast.Attribute):
                return test.attr
            return None
        child, parent = parent, parents.parent(parent)
    return None


def _off_everywhere(
    setting: str, code: Mapping[str, Callable[[], bytes]], others: Mapping[str, Callable[[], bytes]], read: ReadOnce
) -> bool:
    """Whether a configuration gives `setting` a false value, none a true one, no document, script or
    notebook passes its flag, and no Python code sets it true."""
    word = re.escape(setting.encode())
    assigned = re.compile(rb"""["'\\]*\b""" + word + rb"""\b["'\\]*[ \t]*[:=][ \t]*["']?([A-Za-z0-9]+)""")
    flag = re.compile(rb"--" + word + rb"\b(?![ \t]*[=\s][ \t]*(?:False|false|0)\b)")
    turned_on = re.compile(
        rb"\b" + word + rb"\b[^\n]*?(?:=[ \t]*True\b|default[ \t]*=[ \t]*True\b)|--" + word + rb"\b[^\n]*store_false"
    )
    off = False
    for path, reader in others.items():
        try:
            data = reader()
        except Exception:  # noqa: BLE001 - an unreadable file says nothing; its own analysis reports it
            continue
        if setting.encode() not in data:
            continue
        if flag.search(data):
            return False
        if path.lower().endswith(_CONFIG_SUFFIXES):
            values = {match.group(1).decode().lower() for match in assigned.finditer(data)}
            if values & _TRUE:
                return False
            off = off or bool(values & _FALSE)
    for path in code:
        data = read(path)
        if setting.encode() in data and turned_on.search(data):
            return False
    return off
