"""`torch.load` of a file the project ships, and whether every tensor in that file is on the CPU.

A load without `map_location` restores each tensor on the device it was saved from, so a file
saved from GPU tensors fails on a machine without one (`concerns/checkpoints.py`). Whether a file
of the scanned tree was saved so need not be guessed: `torch.save` writes each storage's device
into the file's pickle, as the persistent id `("storage", type, key, location, numel)` of the
tensor's storage (`torch/serialization.py`, `_save` and `_legacy_save`:
https://github.com/pytorch/pytorch/blob/v2.5.0/torch/serialization.py). Those ids are read here
statically, opcode by opcode (`pickletools.genops`): the pickle is never loaded, so nothing in it
runs, and a file the scan cannot read this way (too large, another format, an id of another shape)
keeps the load's verdict.

Two readings:
- `loaded_files`, per module (the index keeps it with the module's digest): the `torch.load` calls
  without a `map_location` whose path the module spells from its own folder
  (`os.path.join(os.path.dirname(__file__), "data", "norms.pth")`, a name bound to one, or a
  parameter whose default is one and which the function never binds again, read directly or from
  the attribute of `self` the function stores it in), with that path;
- `storage_locations`, per file such a call names: the devices its storages were saved from.
"""

from __future__ import annotations

import ast
import io
import pickletools
import posixpath
import zipfile
from collections.abc import Iterable, Iterator

from cudaudit.rules.builds.source_sets import path_value, scope_paths
from cudaudit.rules.python.device_syntax import parameter_defaults
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import own_nodes, subtree
from cudaudit.safe_read import UnreadableFile, read_tree_file, within_any
from cudaudit.source import decode_python, read_tree

LOADERS = frozenset({"torch.load"})
LoadedFile = tuple[int, int, str]
"""(line, column) of a `torch.load` call and the display path of the file it loads."""
MAX_PICKLE_BYTES = 1 << 20
"""The largest `data.pkl` read: a checkpoint's pickle holds its structure, not its tensors' bytes."""
_LEGACY_PICKLES = 4
"""A file of `torch.save`'s legacy format is pickles in a row: a magic number, the protocol version,
the system's sizes, then the object whose storages are persistent ids; its raw storages follow."""


def loaded_files(path: str, data: bytes) -> tuple[LoadedFile, ...]:
    """The module's `torch.load` calls without a `map_location` whose file the module spells from
    its own folder, with that file's display path; empty for a module that names no such load."""
    if b"load(" not in data or b"torch" not in data:
        return ()
    tree = read_tree(decode_python(data), filename=path)
    names = ImportTable(tree)
    loads = list(_loads(tree, names))
    if not loads:
        return ()
    paths = scope_paths(tree, names)  # after the loads: most modules that pass the byte test have none
    folder = posixpath.dirname(path)
    found: list[LoadedFile] = []
    for function, call in loads:
        argument = call.args[0]
        if function is not None:
            argument = _stored_from(function, argument) or argument
        spelled = path_value(argument, names, paths(call.lineno))
        if spelled is None and function is not None and isinstance(argument, ast.Name):
            spelled = _default_path(function, argument.id, names, paths(function.lineno))
        if spelled:
            found.append((call.lineno, call.col_offset, posixpath.normpath(posixpath.join(folder, spelled))))
    return tuple(found)


def _loads(tree: ast.Module, names: ImportTable) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef | None, ast.Call]]:
    """Each `torch.load(path)` with no `map_location` (by keyword or position), with the function around it.
    A call resolves to `torch.load` only by a bare name (an alias an import binds) or by an attribute
    `load`: no other call is resolved."""
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef] | None = None
    for node in subtree(tree):
        if (
            isinstance(node, ast.Call)
            and (isinstance(node.func, ast.Name) or (isinstance(node.func, ast.Attribute) and node.func.attr == "load"))
            and len(node.args) == 1
            and not isinstance(node.args[0], ast.Starred)
            and not any(keyword.arg in (None, "map_location") for keyword in node.keywords)
            and names.resolve(node.func) in LOADERS
        ):
            if functions is None:
                functions = [each for each in subtree(tree) if isinstance(each, (ast.FunctionDef, ast.AsyncFunctionDef))]
            around = [f for f in functions if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)]
            yield (around[-1] if around else None), node


def _stored_from(function: ast.FunctionDef | ast.AsyncFunctionDef, argument: ast.expr) -> ast.Name | None:
    """The name an attribute of `self` is stored from in the same function (`self.norm_file =
    norm_file`, then `torch.load(self.norm_file)`), where that is its one store there."""
    if not (isinstance(argument, ast.Attribute) and isinstance(argument.value, ast.Name) and argument.value.id == "self"):
        return None
    stores = [
        node for node in own_nodes(function.body) if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign))
        and any(isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"
                and target.attr == argument.attr
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target]))
    ]
    if len(stores) == 1 and isinstance(stores[0], ast.Assign) and isinstance(stores[0].value, ast.Name):
        return stores[0].value
    return None


def _default_path(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str, names: ImportTable,
                  outer: dict[str, str]) -> str | None:
    """The path a parameter's default spells (`norm_file=DEFAULT_NORMS`), where the function never
    binds the parameter again: the file every call that leaves the parameter out loads."""
    default = next((value for parameter, _, value in parameter_defaults(function.args) if parameter == name), None)
    if default is None:
        return None
    if any(isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load)
           for node in own_nodes(function.body)):
        return None
    return path_value(default, names, outer)


def storage_locations(data: bytes) -> frozenset[str] | None:
    """The devices the storages of the `torch.save` file `data` were saved from (`"cpu"`,
    `"cuda:0"`), read from its pickle's persistent ids; None where the file is not one this reads
    (neither a `torch.save` zip archive nor the legacy format, or an id of another shape)."""
    if data.startswith(b"PK"):
        return _archive_locations(data)
    stream = io.BytesIO(data)
    locations: set[str] = set()
    try:
        for _ in range(_LEGACY_PICKLES):
            found = _persistent_locations(pickletools.genops(stream))
            if found is None:
                return None
            locations |= found
    except Exception:  # noqa: BLE001 - bytes that are not pickles say nothing
        return None
    return frozenset(locations)


def _archive_locations(data: bytes) -> frozenset[str] | None:
    """The storages' devices of a zip archive `torch.save` wrote: its one `<name>/data.pkl`."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            pickles = [info for info in archive.infolist() if info.filename.count("/") == 1
                       and info.filename.endswith("/data.pkl")]
            if len(pickles) != 1 or pickles[0].file_size > MAX_PICKLE_BYTES:
                return None
            return _persistent_locations(pickletools.genops(archive.read(pickles[0])))
    except Exception:  # noqa: BLE001 - a damaged or foreign archive says nothing
        return None


_STRINGS = frozenset({
    "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING",
})
_PUTS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_GETS = frozenset({"GET", "BINGET", "LONG_BINGET"})
_SMALL_TUPLES = {"EMPTY_TUPLE": 0, "TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3}
_MARK = object()
_OTHER = object()


def _persistent_locations(opcodes: Iterator[tuple[pickletools.OpcodeInfo, object, int | None]]) -> frozenset[str] | None:
    """The location field of every storage id one pickle's opcodes push for `BINPERSID`. The stack
    is followed only as far as ids need: strings, the memo, marks and tuples are what they are, any
    other value is a placeholder, so the count of items each opcode takes and leaves stays right."""
    stack: list[object] = []
    memo: dict[object, object] = {}
    locations: set[str] = set()
    for opcode, argument, _ in opcodes:
        name = opcode.name
        if name in _STRINGS:
            stack.append(argument)
        elif name in _PUTS:
            memo[argument] = stack[-1]
        elif name == "MEMOIZE":
            memo[len(memo)] = stack[-1]
        elif name in _GETS:
            stack.append(memo.get(argument, _OTHER))
        elif name == "TUPLE":
            stack.append(tuple(_pop_to_mark(stack)))
        elif name in _SMALL_TUPLES:
            count = _SMALL_TUPLES[name]
            items = stack[len(stack) - count:] if count else []
            del stack[len(stack) - count:]
            stack.append(tuple(items))
        elif name == "BINPERSID":
            persistent = stack.pop()
            if not (isinstance(persistent, tuple) and len(persistent) >= 5 and persistent[0] == "storage"
                    and isinstance(persistent[3], str)):
                return None
            locations.add(persistent[3])
            stack.append(_OTHER)
        elif name == "PERSID":
            return None  # an id written as text: not `torch.save`'s
        else:
            for taken in reversed(opcode.stack_before):
                if taken is pickletools.markobject:
                    _pop_to_mark(stack)
                elif taken is not pickletools.stackslice:
                    stack.pop()
            stack.extend(_MARK if left is pickletools.markobject else _OTHER for left in opcode.stack_after)
    return frozenset(locations)


def _pop_to_mark(stack: list[object]) -> list[object]:
    """The items above the top mark, taken off with it."""
    index = len(stack) - 1 - stack[::-1].index(_MARK)
    items = stack[index + 1:]
    del stack[index:]
    return items


def cpu_only_files(paths: Iterable[str], roots: tuple[str, ...]) -> dict[str, bool]:
    """Display path -> whether the file there holds storages saved from the CPU only, for each of
    `paths`; a file outside `roots`, missing, over the size limit or not read as `torch.save`'s
    (`storage_locations`) is not. Read from the disk on every call: these files are not among the
    scan's, so the index's cache compares them again (`index_answers.py`)."""
    found: dict[str, bool] = {}
    for path in sorted(set(paths)):
        root = within_any(path, roots)
        try:
            data = read_tree_file(path, root) if root is not None else None
        except UnreadableFile:
            data = None
        locations = storage_locations(data) if data is not None else None
        found[path] = locations is not None and all(location == "cpu" for location in locations)
    return found
