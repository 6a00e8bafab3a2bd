"""Switches a project reads from environment variables through a table of lazy lookups.

A project may keep every environment variable it reads in one module: a dict from a setting's name
to a function that reads it (`"APP_STAGE_TIMING": lambda: bool(int(os.getenv("APP_STAGE_TIMING",
"0")))`), with a module-level `__getattr__` that calls the entry (PEP 562,
https://peps.python.org/pep-0562/), so that other modules read `envs.APP_STAGE_TIMING` as a plain
attribute. An entry whose lookup is a switch the user sets to turn something on
(`names.is_environment_switch`) is False on the normal path: a test of it in another module (`if
envs.APP_STAGE_TIMING:`) guards another path, as the same test of the lookup itself would.

`environment_switches` reads one module (most hold no table and are not parsed); `switch_readers`
finds the modules that read the switches, whose tests the walk then reads as off by default
(`FileFacts.settings_off`).
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Mapping

from cudaudit.filekinds import is_test_path
from cudaudit.rules.python.names import is_environment_switch
from cudaudit.rules.python.opt_in import import_lines, modules_mentioning
from cudaudit.rules.python.read_once import ReadOnce
from cudaudit.source import decode_python, read_tree

_WORDS = (b"__getattr__", b"lambda")
_LOOKUP = re.compile(rb"environ\.get\(|getenv\(")


def environment_switches(data: bytes) -> tuple[str, ...]:
    """The entries of module `data`'s tables of environment lookups (a top-level dict of string keys
    to functions of no arguments, in a module with a top-level `__getattr__`) whose lookup is off
    unless the user sets the variable."""
    if not all(word in data for word in _WORDS) or _LOOKUP.search(data) is None:
        return ()
    try:
        tree = read_tree(decode_python(data))
    except (SyntaxError, ValueError, RecursionError):
        return ()
    if not any(isinstance(node, ast.FunctionDef) and node.name == "__getattr__" for node in tree.body):
        return ()
    found = set()
    for statement in tree.body:
        value = statement.value if isinstance(statement, (ast.Assign, ast.AnnAssign)) else None
        if not isinstance(value, ast.Dict):
            continue
        for key, entry in zip(value.keys, value.values):
            if (
                isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(entry, ast.Lambda)
                and not entry.args.args and is_environment_switch(entry.body)
            ):
                found.add(key.value)
    return tuple(sorted(found))


def switch_readers(
    sources: Mapping[str, Callable[[], bytes]], tables: Mapping[str, tuple[str, ...]], turned: Callable[[set[str]], set[str]]
) -> dict[str, frozenset[str]]:
    """Module -> the switches of `tables` (module -> `environment_switches`) it reads, as an
    attribute of the table's module (`envs.APP_STAGE_TIMING`) or by a name it imports from there
    (`from app.envs import APP_STAGE_TIMING`); the test suite aside, and the switches the project's
    configuration files and scripts turn on in more than one folder (`turned`, `opt_in.turned_on`),
    which are the normal path."""
    names = {name for switches in tables.values() for name in switches}
    names -= turned(names)
    if not names:
        return {}
    text = ReadOnce(sources)
    paths = [path for path in sources if not is_test_path(path) and path not in tables]
    mentions = modules_mentioning(paths, text, names)
    found: dict[str, set[str]] = {}
    for table, switches in tables.items():
        stem = posixpath.splitext(posixpath.basename(table))[0].encode()
        for name in names.intersection(switches):
            word = re.escape(name.encode())
            read = re.compile(rb"(?<![\w.])" + re.escape(stem) + rb"\." + word + rb"(?!\w)")
            imported = re.compile(rb"(?<!\w)" + word + rb"(?!\w)")
            for path in mentions[name]:
                data = text(path)
                if read.search(data) or (stem in data and imported.search(import_lines(data))):
                    found.setdefault(path, set()).add(name)
    return {path: frozenset(switches) for path, switches in found.items()}
