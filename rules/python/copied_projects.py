"""The parts of a copied project that the project uses only in part: a local torch hub entry, or a
vendored program of which it imports a few modules.

A project may keep a copy of another project (a backbone's whole repository, with its trainer,
its evaluators and its dependency files) only to build a model from it. It does so in one of two
ways:

- by `torch.hub.load(folder, "model_name", source="local")`: PyTorch imports the copy's
  `hubconf.py` with the copy's folder first on the path and calls the entry named
  (https://pytorch.org/docs/stable/hub.html: "`source='local'`: `repo_or_dir` is expected to be a
  path to a local directory"). A copy is read so where a module outside its folder loads it with
  `source="local"` and a path literal that ends in the copy's folder (`"../vendor/backbone_main"`),
  and where the folder holds a `hubconf.py`;
- by importing a few of its modules (`from .vendor_net.backbones import get_model`): the copy is a
  vendored program, a folder below the project's root with a README and a launcher script, a
  requirements file, a conda environment file or a license file of its own (`README.md` beside `run.sh`
  that runs its `train.py`, or beside the upstream `LICENSE`), no install declaration of its own (a nested `setup.py` or `pyproject.toml` makes it a
  project the user installs, whose routes are the user's), that no file outside it names except by an
  import statement, a comment or a path to a part of it that is no Python module (a README of the
  project that says `cd vendor_net && bash run.sh` makes the copy's routes the project's; one that says
  `pip install ./vendor_net/ext` names the extension alone, which stays the project's), and of whose
  Python modules the project's imports reach some but not all.

What the hub entries or the project's imports reach, at any depth, runs on the project's normal
path; the copy's own scripts, the modules only they import, and its requirements, environment and
build files are the copied project's routes, which the project's user never runs nor installs (the
copy's own README names them for the copied project's users): another path, at most a warning
(`verdicts.off_default_path`), never silence. A module of the copy is kept where `hubconf.py` or a
module outside the copy reaches it by its static imports; any other file of the copy is kept where a
file outside the copy spells its path, or the path of a folder above it, from the copy's folder (`pip
install -r backbone_main/requirements.txt` in the README). A nested project that no hub load names and the
project does not import in part keeps its verdicts here (`nested_projects.py` reads one that nothing of
the host imports or names at all).
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from cudaudit.facts import Evidence
from cudaudit.filekinds import LICENSE_NAMES, is_test_path
from cudaudit.firstparty import ModuleMap, module_map
from cudaudit.project_roots import INSTALL_DECLARATIONS, lies_under, within_project
from cudaudit.rules.catalog import word_automaton
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.opt_in import import_statements, statement_modules
from cudaudit.rules.python.unnamed import read_or_none
from cudaudit.rules.python.unreached import imported_modules
from cudaudit.source import parse_python

Reader = Callable[[], bytes]

_HUB_LOAD = "torch.hub.load"
_ENTRIES = "hubconf.py"
_LAUNCHER_SUFFIXES = (".sh", ".bash", ".bat")
"""A program's own launcher scripts (`run.sh` that runs its trainer)."""
_DEPENDENCY_FILES = ("requirement", "environment.y")
"""The starts of a program's own dependency files: `requirements.txt`, a conda `environment.yml`."""
_PATH_CHARACTERS = re.compile(rb"[\w.\-/]*")


@dataclass(frozen=True)
class _Copy:
    """A copied project's folder and how the project enters it."""

    folder: str
    entry: Evidence
    """The load or import through which the project uses the copy."""
    hub: bool
    """Entered through its `hubconf.py` (else through the project's imports of its modules)."""


def copied_project_files(python: Mapping[str, Reader], others: Mapping[str, Reader]) -> dict[str, Evidence]:
    """Display path -> why it is another path, for each file of a copy the project uses only in part
    (see the module docstring); `python` are the scan's Python modules, `others` its other files."""
    copies = _hub_copies(python)
    programs = _program_folders(python, others, copies)
    if not copies and not programs:
        return {}
    modules = module_map(python)
    texts: dict[str, bytes | None] = {}

    def text(path: str) -> bytes | None:
        if path not in texts:
            texts[path] = read_or_none(python.get(path))
        return texts[path]

    while True:
        folders = [*copies, *programs]
        reached = _reached(python, modules, text, folders, set(copies))
        entered = {
            folder: entry for folder in programs
            if (entry := _entry(folder, python, modules, text, folders)) is not None
            and any(lies_under(path, folder) for path in reached)
        }
        if entered.keys() == programs:
            break
        programs = set(entered)
    everything = sorted({*python, *others})
    found: dict[str, Evidence] = {}
    for copy in [*(_Copy(folder, entry, True) for folder, entry in copies.items()),
                 *(_Copy(folder, entered[folder], False) for folder in sorted(programs))]:
        outside = [path for path in everything if not lies_under(path, copy.folder)]
        copied = [path for path in everything if lies_under(path, copy.folder) and not is_test_path(path)]
        named = _spelled_outside(copy.folder, copied, outside, python, others)
        for path in copied:
            if path not in reached and path not in named:
                found.setdefault(path, _why(copy))
    return found


def _why(copy: _Copy) -> Evidence:
    """The evidence that a file of the copy is the copied project's own route."""
    if copy.hub:
        text = (
            f"{copy.entry.text} loads `{copy.folder}/` through its `{_ENTRIES}`, which does not reach this file: "
            "only the copied project's own routes run it"
        )
    else:
        text = (
            f"`{copy.folder}/` is a copy of another program (its own README and launcher, requirements or license, no "
            f"install of its own), of which the project only imports what `{copy.entry.text}` reaches: "
            "only the copied program's own routes run this file"
        )
    return Evidence(copy.entry.path, copy.entry.line, text)


def _hub_copies(python: Mapping[str, Reader]) -> dict[str, Evidence]:
    """Folder of a `hubconf.py` -> the local hub load of it by a module outside it."""
    folders = {posixpath.dirname(path) for path in python if posixpath.basename(path) == _ENTRIES}
    folders.discard("")
    loads: dict[str, Evidence] = {}
    if not folders:
        return loads
    for path in sorted(python):
        data = read_or_none(python[path])
        if data is None or not all(word in data for word in (b"hub", b"load(", b"source", b"local")):
            continue
        for line, literal in _local_hub_loads(path, data):
            for folder in folders:
                if not lies_under(path, folder) and _names_folder(literal, folder):
                    loads.setdefault(folder, Evidence(path, line, f"torch.hub.load({literal!r}, ..., source='local')"))
    return loads


def _program_folders(python: Mapping[str, Reader], others: Mapping[str, Reader], hubs: Mapping[str, Evidence]) -> set[str]:
    """The folders below the project's root that look like a vendored program (a README and a launcher,
    requirements or license file of their own, no install declaration, Python modules), the outermost of
    nested ones, outside the hub copies, that a Python module outside them spells by their name in an
    import statement and no file outside them spells otherwise (one search of every file for every
    such folder's name)."""
    names: dict[str, set[str]] = {}
    for path in {*python, *others}:
        names.setdefault(posixpath.dirname(path), set()).add(posixpath.basename(path).lower())
    candidates = sorted(
        folder for folder, held in names.items()
        if folder and "/" in within_project(f"{folder}/_")
        and any(name.startswith("readme") for name in held)
        and any(name.endswith(_LAUNCHER_SUFFIXES) or name.startswith((*_DEPENDENCY_FILES, *LICENSE_NAMES)) for name in held)
        and not held & INSTALL_DECLARATIONS
        and not is_test_path(f"{folder}/_.py")
        and not any(folder == hub or lies_under(folder, hub) for hub in hubs)
    )
    outermost = [
        folder for folder in candidates
        if not any(lies_under(folder, other) for other in candidates) and any(lies_under(path, folder) for path in python)
    ]
    words: dict[bytes, list[str]] = {}
    for folder in outermost:
        words.setdefault(posixpath.basename(folder).encode(), []).append(folder)
    automaton = word_automaton(words)
    if automaton is None:
        return set()
    imported: set[str] = set()
    named: set[str] = set()
    everything = {*python, *others}
    for path in sorted(everything):
        if len(named) == len(outermost):
            break  # every folder is named: none is read so
        data = read_or_none(python.get(path) or others.get(path)) or b""
        for word in automaton.whole_words(data):
            for folder in words[word]:
                if folder in named or lies_under(path, folder):
                    continue
                mention = _mention(data, word, folder, path in python, everything)
                if mention is not None:
                    (imported if mention else named).add(folder)
    return imported - named


def _mention(data: bytes, word: bytes, folder: str, module: bool, paths: set[str]) -> bool | None:
    """How a file outside the copy `folder` spells its name `word`: True where each mention in a module
    is an import statement's first line (`from .vendor_net.nets import get_net`); False where one names
    the copy otherwise (`cd vendor_net && bash run.sh`); None where every mention is a comment's, or a
    path to a file or folder of the copy that is no Python module (`pip install ./vendor_net/ext`), which
    names that part alone (`_spelled_outside` keeps it), not the copy's programs."""
    imports = False
    at = data.find(word)
    while at >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        end = at + len(word)
        line = data[start:at].lstrip()
        if not _whole(data, at, end):
            pass  # a longer name (`vendor_net_utils`)
        elif module and line.startswith((b"from ", b"import ")):
            imports = True
        elif not ((module and line.startswith(b"#")) or _inner_part(data, end, folder, paths)):
            return False
        at = data.find(word, end)
    return True if imports else None


def _whole(data: bytes, start: int, end: int) -> bool:
    return not (data[start - 1:start].isalnum() or data[start - 1:start] == b"_"
                or data[end:end + 1].isalnum() or data[end:end + 1] == b"_")


def _inner_part(data: bytes, end: int, folder: str, paths: set[str]) -> bool:
    """Whether the path spelled from `end` on (`/ext/setup.py` after the copy's name) names a file of
    the copy other than a Python module, or a folder of it."""
    if data[end:end + 1] != b"/":
        return False
    inner = _PATH_CHARACTERS.match(data, end + 1)
    spelled = (inner.group().decode("utf-8", "replace") if inner else "").rstrip("./")
    if not spelled or spelled.endswith(".py"):
        return False
    part = f"{folder}/{spelled}"
    return any(path == part or lies_under(path, part) for path in paths)


def _reached(
    python: Mapping[str, Reader],
    modules: ModuleMap,
    text: Callable[[str], bytes | None],
    folders: list[str],
    hubs: set[str],
) -> set[str]:
    """The Python modules the static imports of the modules outside every copy, and of the hub copies'
    `hubconf.py`, reach at any depth (those modules included)."""
    queue = [
        path for path in sorted(python)
        if not any(lies_under(path, folder) for folder in folders)
        or (posixpath.basename(path) == _ENTRIES and posixpath.dirname(path) in hubs)
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
    return reached


def _entry(
    folder: str, python: Mapping[str, Reader], modules: ModuleMap, text: Callable[[str], bytes | None], folders: list[str]
) -> Evidence | None:
    """The first import statement of a module outside every copy that runs a module of the folder."""
    for path in sorted(python):
        if any(lies_under(path, other) for other in folders):
            continue
        data = text(path)
        if data is None or posixpath.basename(folder).encode() not in data:
            continue
        for line, statement in import_statements(data):
            for level, module, imported in statement_modules(statement):
                if any(lies_under(found, folder) for found in modules.resolve(path, level, module, imported)):
                    return Evidence(path, line, " ".join(statement.decode("utf-8", "replace").split()))
    return None


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
    """The files of `copied` other than Python modules whose path from the copy's folder, after the
    folder's name (`backbone_main/requirements.txt`), a file of `outside` spells, and the files, modules
    too, under a folder of the copy it spells so (`pip install ./backbone_main/ext` installs `ext/`)."""
    name = posixpath.basename(folder)
    spellings = {f"{name}/{path[len(folder) + 1:]}".encode(): path for path in copied if path not in python}
    found: set[str] = set()
    for path in outside:
        data = read_or_none(python.get(path) or others.get(path))
        if data:
            found.update(copied_path for spelled, copied_path in spellings.items() if spelled in data)
            found.update(_under_spelled_folders(data, name.encode(), folder, copied))
    return found


def _under_spelled_folders(data: bytes, name: bytes, folder: str, copied: list[str]) -> set[str]:
    """The files of `copied` under a folder of the copy that `data` spells by a path from the copy's
    name (`pip install ./backbone_main/ext` keeps every file of `ext/`)."""
    found: set[str] = set()
    at = data.find(name + b"/")
    while at >= 0:
        inner = _PATH_CHARACTERS.match(data, at + len(name) + 1)
        spelled = (inner.group().decode("utf-8", "replace") if inner else "").rstrip("./")
        if spelled:
            found.update(path for path in copied if lies_under(path, f"{folder}/{spelled}"))
        at = data.find(name + b"/", at + 1)
    return found
