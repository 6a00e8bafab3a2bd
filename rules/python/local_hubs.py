"""The parts of a copied project that the project loads only through a local torch hub entry.

A project may keep a copy of another project (a backbone's whole repository, with its trainer,
its evaluators and its dependency files) only to build a model from it by `torch.hub.load(folder,
"model_name", source="local")`. PyTorch then imports the copy's `hubconf.py` with the copy's
folder first on the path and calls the entry named (https://pytorch.org/docs/stable/hub.html:
"`source='local'`: `repo_or_dir` is expected to be a path to a local directory"). What the hub
entries import, at any depth, runs on the project's normal path; the copy's own scripts, the
modules only they import, and its requirements, environment and build files are the copied
project's routes, which the project's user never runs nor installs: another path, at most a
warning (`verdicts.off_default_path`).

A copy is read so only where a module outside its folder loads it with `source="local"` and a path
literal that ends in the copy's folder (`"../vendor/backbone_main"`), and where the folder holds a
`hubconf.py`. A module of the copy is kept where `hubconf.py` or a module outside the copy reaches
it by its static imports (the project may also import the copy's modules itself); any other file of
the copy is kept where a file outside the copy spells its path from the copy's folder
(`pip install -r backbone_main/requirements.txt` in the README). A nested project that is not loaded
through a local hub entry keeps its verdicts.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Callable, Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.filekinds import is_test_path
from cudaudit.firstparty import module_map
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.unnamed import read_or_none
from cudaudit.rules.python.unreached import imported_modules
from cudaudit.source import parse_python

Reader = Callable[[], bytes]

_HUB_LOAD = "torch.hub.load"
_ENTRIES = "hubconf.py"


def hub_copies(python: Mapping[str, Reader], others: Mapping[str, Reader]) -> dict[str, Evidence]:
    """Display path -> why it is another path, for each file of a copy the project loads only through
    a local torch hub entry (see the module docstring); `python` are the scan's Python modules,
    `others` its other files."""
    folders = {posixpath.dirname(path) for path in python if posixpath.basename(path) == _ENTRIES}
    folders.discard("")
    if not folders:
        return {}
    loads: dict[str, Evidence] = {}
    for path in sorted(python):
        data = read_or_none(python[path])
        if data is None or not all(word in data for word in (b"hub", b"load(", b"source", b"local")):
            continue
        for line, literal in _local_hub_loads(path, data):
            for folder in folders:
                if not _under(path, folder) and _names_folder(literal, folder):
                    loads.setdefault(folder, Evidence(path, line, f"torch.hub.load({literal!r}, ..., source='local')"))
    if not loads:
        return {}
    modules = module_map(python)
    texts: dict[str, bytes | None] = {}

    def text(path: str) -> bytes | None:
        if path not in texts:
            texts[path] = read_or_none(python.get(path))
        return texts[path]

    queue = [
        path for path in sorted(python)
        if posixpath.basename(path) == _ENTRIES or not any(_under(path, folder) for folder in loads)
    ]
    reached: set[str] = set()
    while queue:
        path = queue.pop()
        if path in reached:
            continue
        reached.add(path)
        data = text(path)
        if data is not None:
            queue.extend(sorted(imported_modules(modules, path, data) - reached))
    outside = [path for path in sorted({*python, *others}) if not any(_under(path, folder) for folder in loads)]
    found: dict[str, Evidence] = {}
    for folder, load in sorted(loads.items()):
        copied = sorted(path for path in {*python, *others} if _under(path, folder) and not is_test_path(path))
        named = _spelled_outside(folder, [path for path in copied if path not in python], outside, python, others)
        for path in copied:
            if path in reached or path in named:
                continue
            found[path] = Evidence(
                load.path, load.line,
                f"{load.text} loads `{folder}/` through its `{_ENTRIES}`, which does not reach this file: "
                "only the copied project's own routes run it",
            )
    return found


def _local_hub_loads(path: str, data: bytes) -> Iterable[tuple[int, str]]:
    """(line, path literal) of each `torch.hub.load(literal, ..., source="local")` call of the module."""
    try:
        tree = parse_python(data.decode("utf-8", "replace"), filename=path)
    except (SyntaxError, ValueError):  # an unparsable module loads nothing here; its own analysis says why
        return
    names = ImportTable(tree)
    for node in subtree(tree):
        if not isinstance(node, ast.Call) or not node.args or names.resolve(node.func) != _HUB_LOAD:
            continue
        source = next((keyword.value for keyword in node.keywords if keyword.arg == "source"), None)
        first = node.args[0]
        if (
            isinstance(source, ast.Constant) and source.value == "local"
            and isinstance(first, ast.Constant) and isinstance(first.value, str)
        ):
            yield node.lineno, first.value


def _names_folder(literal: str, folder: str) -> bool:
    """Whether a hub path literal (relative to where the project runs, `../vendor/backbone_main`)
    ends in the folder's display path."""
    parts = [part for part in posixpath.normpath(literal.replace("\\", "/")).split("/") if part not in ("", ".", "..")]
    return bool(parts) and folder.split("/")[-len(parts):] == parts


def _spelled_outside(
    folder: str, copied: list[str], outside: list[str], python: Mapping[str, Reader], others: Mapping[str, Reader]
) -> set[str]:
    """The files of `copied` whose path from the copy's folder, after the folder's name
    (`backbone_main/requirements.txt`), a file of `outside` spells."""
    name = posixpath.basename(folder)
    spellings = {f"{name}/{path[len(folder) + 1:]}".encode(): path for path in copied}
    found: set[str] = set()
    for path in outside:
        data = read_or_none(python.get(path) or others.get(path))
        if data:
            found.update(copied_path for spelled, copied_path in spellings.items() if spelled in data)
    return found


def _under(path: str, folder: str) -> bool:
    """Whether the display path lies inside the folder."""
    return path.startswith(folder + "/")
