"""Module-level settings of a distributed backend that no code of the project reads: data, not a launch.

A configuration module keeps its settings as top-level names that a configuration loader turns into
keys: `dist_params = dict(backend="nccl")` is the key an MMCV 1.x project's own training script hands
to its launch (`init_dist(args.launcher, **cfg.dist_params)`). A project whose code no longer reads
the key (its runner reads another one, `env_cfg`, set beside it) keeps the line as data that nothing
hands to a process group, and an inherited base configuration or a copied third-party one keeps it
the same way: it breaks no target.

`backend_settings` reads one module from its bytes: the names its top-level lines bind to a dict
(`dict(...)`, `{...}`) whose text spells the NCCL backend. `unread_settings` then keeps a name where
no Python module or notebook of the scan spells it as a word other than a top-level binding of the
name (another configuration setting it, `dist_params = dict(backend="gloo")`): any other mention
(`cfg.dist_params`, `opt["dist_params"]`, `"dist_params" in cfg`, a comment) reads it, and a misreading
keeps the verdict. The keys a library reads itself from the configuration it is given, which the
project's code never spells (MMEngine's `Runner.from_cfg` reads `env_cfg`), are the catalog's
`[[configuration_reader]]` tables: such a name is always read. The index keeps the names only in a
scan that sees the whole project; `unread_statements` finds those bindings in the parsed module, whose
sites the analysis then quiets on every target.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.rules.catalog import WORD_BYTES, word_automaton
from cudaudit.rules.python.project_calls import closing
from cudaudit.rules.python.read_once import read_or_empty

_SETTING = re.compile(rb"^([A-Za-z_]\w*)[ \t]*=[ \t]*(?:dict[ \t]*\(|\{)", re.M)
"""A top-level line that binds a name to a dict, up to the bracket that opens it."""
_BACKEND = re.compile(rb"""['"]nccl['"]""", re.I)
_BINDING_AFTER = re.compile(rb"[ \t]*(?::[^=\n]*)?=(?!=)")
"""What follows a name a top-level line binds (`dist_params = `, `dist_params: dict = `)."""


def backend_settings(data: bytes) -> tuple[str, ...]:
    """The names top-level lines of module `data` bind to a dict whose text spells the NCCL backend."""
    if b"nccl" not in data and b"NCCL" not in data:
        return ()
    found = set()
    for setting in _SETTING.finditer(data):
        end = closing(data, setting.end() - 1, len(data))
        if end is not None and _BACKEND.search(data, setting.end(), end):
            found.add(setting.group(1).decode("ascii"))
    return tuple(sorted(found))


def library_read(tables: Iterable[Mapping[str, object]]) -> frozenset[str]:
    """The keys of the catalog's `[[configuration_reader]]` tables: read by a library, not by the project."""
    return frozenset(str(table["key"]) for table in tables if "key" in table)


def unread_settings(
    candidates: Mapping[str, tuple[str, ...]], code: Mapping[str, Callable[[], bytes]], read_by_libraries: frozenset[str]
) -> dict[str, tuple[str, ...]]:
    """Module -> the names of `candidates` (module -> `backend_settings`) that no module or notebook
    of `code` (display path -> bytes) reads (see the module docstring), less `read_by_libraries`."""
    names = {name for found in candidates.values() for name in found} - read_by_libraries
    words = word_automaton(sorted(name.encode() for name in names))
    if words is None:
        return {}
    read: set[str] = set()
    for _, source in code.items():
        data = read_or_empty(source)
        for index, start, end in words.matches(data):
            name = words.words[index].decode("ascii")
            if name in read or (start and data[start - 1] in WORD_BYTES) or (end < len(data) and data[end] in WORD_BYTES):
                continue
            if not ((start == 0 or data[start - 1] == 0x0A) and _BINDING_AFTER.match(data, end)):
                read.add(name)
        if read >= names:
            return {}
    found = {path: tuple(name for name in found if name in names - read) for path, found in candidates.items()}
    return {path: kept for path, kept in found.items() if kept}


def unread_statements(tree: ast.Module, names: frozenset[str]) -> frozenset[int]:
    """The ids of the top-level statements of `tree` that bind one of `names` (the project index's
    `unread_settings` for the module)."""
    if not names:
        return frozenset()
    return frozenset(
        id(statement) for statement in tree.body
        if isinstance(statement, (ast.Assign, ast.AnnAssign))
        and any(isinstance(target, ast.Name) and target.id in names for target in _targets(statement))
    )


def _targets(statement: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    return statement.targets if isinstance(statement, ast.Assign) else [statement.target]
