"""The root scripts a project's own documents run: the entries of a repository of scripts.

A project with nothing to install (no `setup.py`, `setup.cfg` or `pyproject.toml` beside its
package folders) is used by running the scripts its documents give commands for: `python main.py
--cfg ...` in `get_started.md`, `torchrun --nproc_per_node=8 train.py` in the README. Those scripts
are its main use, alternatives of one another: the project runs on a target where one of them does,
and does not where every one stops. `cudaudit report` reads them here, once per report, from the
commands (`documented_commands`) of the Markdown and reStructuredText files at the project's root:
the script a command runs (`python train.py config/small.py` runs `train.py`, with
`config/small.py` its argument); a script a document only links to or mentions (`[config](config.py)`)
is not run by it.

A command may run a module instead (`python -m demo.app`: `documented_modules`). A documented entry
may itself run others (`subprocess.run(f"python main.py --config {cfg}")`, a demo app that runs the
documented pipeline): `launched_scripts` reads the command lines its string literals spell (an
f-string's literal parts), in the order they are written.

A root document may instead send its reader to a folder of usage examples (`see [examples](./examples)`)
whose own document gives the commands (`python txt2img/run.py`, run in that folder): where the root
documents run nothing, `linked_scripts` reads those, the uses a library shows (`examples/README.md`).
"""

from __future__ import annotations

import ast
import os
import posixpath
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import partial
from itertools import chain

from cudaudit.documented_commands import Command, DocumentedCommands, command_of, is_interpreter
from cudaudit.firstparty import imported_top_modules
from cudaudit.safe_read import UnreadableFile, read_tree_file
from cudaudit.source import UndecodableError, decode_python, read_tree

BUILD_SCRIPTS = frozenset({"setup.py"})
"""`python setup.py install` builds the project; it is no use of it."""
DOCUMENT_SUFFIXES = (".md", ".rst", ".markdown")
MAX_DOCUMENTS = 32
"""Root documents read at most (a root holding hundreds of text files is no script repository's)."""
DOCUMENT_BYTES = 1 << 20


def documented_scripts(root: str, scripts: Iterable[str]) -> frozenset[str]:
    """The display paths among `scripts` (the project's root `.py` files) that a command line of a
    document at the root of `root` runs (`documented_commands`)."""
    by_name = {name: path for path in scripts if (name := os.path.basename(path)) not in BUILD_SCRIPTS}
    if not by_name:
        return frozenset()
    found: set[str] = set()
    for command in _run(root):
        script = command.script.removeprefix("./") if command.script is not None else None
        if script in by_name:
            found.add(by_name[script])
    return frozenset(found)


def preparation_scripts(root: str, scripts: Iterable[str], libraries: frozenset[str]) -> frozenset[str]:
    """The display paths among `scripts` whose module imports nothing but Python's standard library
    and `libraries` (the catalog's `[[preparation_library]]` modules: `huggingface_hub`, `gdown`):
    a documented `python download_ckpt.py` fetches what a use needs and loads no model, so it is a
    step before the uses, no use of its own. One that imports anything else (PyTorch, a module of the
    project, a library that loads models), that cannot be read or parsed, or that imports nothing at
    all is kept as a use."""
    found: set[str] = set()
    for path in scripts:
        tree = _entry_tree(path, root, b"import")
        if tree is None:
            continue
        statements = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
        if any(isinstance(statement, ast.ImportFrom) and statement.level for statement in statements):
            continue  # a module of the project's own, imported relative to the script
        imported = {module for statement in statements for module in imported_top_modules(statement)}
        if imported and all(name in sys.stdlib_module_names or name in libraries for name in imported):
            found.add(path)
    return frozenset(found)


def _entry_tree(path: str, root: str, needle: bytes) -> ast.Module | None:
    """The syntax tree of the entry at display path `path`, where its bytes hold `needle` (a file that
    cannot hold what is asked about is not parsed); None where they do not, or it cannot be read,
    decoded or parsed."""
    try:
        data = read_tree_file(path, root or ".")
        return read_tree(decode_python(data), path) if needle in data else None
    except (UnreadableFile, UndecodableError, SyntaxError, ValueError, RecursionError):
        return None


def documented_modules(root: str, modules: Iterable[str]) -> frozenset[str]:
    """The display paths among `modules` (the scan's `.py` files) that a command line of a document at
    the root of `root` runs as a module (`python -m demo.app`: `demo/app.py`, or a package's `__main__.py`)."""
    known = frozenset(modules)
    return frozenset(path for command in _run(root) if command.module is not None for path in _targets(command, root, known))


def linked_scripts(root: str, modules: Iterable[str]) -> frozenset[str]:
    """The display paths among `modules` (the scan's `.py` files) that a command of a document in a
    folder a root document links to (`[examples](./examples)`) runs, from that folder
    (`python txt2img/run.py` in `examples/README.md` runs `examples/txt2img/run.py`) or from the root."""
    known = frozenset(modules)
    top = root or "."
    found: set[str] = set()
    for folder in _linked_folders(top):
        for command in _run(root, folder):
            if command.script is not None and command.script.endswith(".py"):
                found.update(path for path in (posixpath.normpath(posixpath.join(root, place, command.script))
                                               for place in (command.folder, "")) if path in known)
    return frozenset(found)


_LINK = re.compile(rb"\]\(\s*(?:\./|https://github\.com/[\w.-]+/[\w.-]+/(?:tree|blob)/[\w.-]+/)?([\w.-]+(?:/[\w.-]+)*)/?\s*\)")
"""A Markdown link to a path of the project (`[examples](./examples/)`), or to one of a repository's
tree on GitHub (`.../tree/main/demos/web`), which the checkout holds where the folder exists; any
other URL has a `:` where a path has none."""


def _linked_folders(top: str) -> list[str]:
    """The folders of the project (from its root) that a root document links to, each once, in order."""
    found: dict[str, None] = {}
    for read in _documents(top).values():
        try:
            data = read()
        except UnreadableFile:
            continue
        for match in _LINK.finditer(data):
            folder = posixpath.normpath(match.group(1).decode())
            if folder.endswith(DOCUMENT_SUFFIXES):  # a folder's own document (`demos/web/README.md`)
                folder = posixpath.dirname(folder)
            if folder and not folder.startswith(".") and os.path.isdir(os.path.join(top, folder)):
                found.setdefault(folder)
    return list(found)


def documented_runs(root: str, modules: Iterable[str]) -> frozenset[str]:
    """The display paths among `modules` (the scan's `.py` files), in any folder, that a command line of
    a root document, or of a document in a folder one links to, runs: as a script, from the root or
    from the folder the command runs in (`cd tools && python train.py`), or as a module (`python -m demo.app`)."""
    known = frozenset(modules)
    commands = chain(_run(root), *(_run(root, folder) for folder in _linked_folders(root or ".")))
    found: set[str] = set()
    for command in commands:
        found.update(_targets(command, root, known))
        home = posixpath.dirname(command.source)
        # a `cd` in a folder's document may be written from the root (`cd demos/web` in `demos/web/README.md`)
        folders = {command.folder, command.folder.removeprefix(home + "/")} if home else {command.folder}
        script = command.script
        if script is None:
            continue
        for folder in folders - {""}:
            found.update(_targets(replace(command, script=posixpath.join(folder, script)), root, known))
    return frozenset(found)


def spelled_scripts(root: str, entries: Iterable[str], modules: Iterable[str]) -> frozenset[str]:
    """The display paths among `modules` that a string of one of `entries` spells as a word, from the
    root (`'"%s" -s tools/train.py --config %s' % (python, cfg)`): a script the entry starts with an
    interpreter it keeps in a variable, which `launched_scripts` cannot read as a command. Only the
    entries are read, and parsed only where their bytes hold `.py`."""
    known = frozenset(modules)
    found: set[str] = set()
    for path in sorted(entries):
        tree = _entry_tree(path, root, b".py")
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ".py" in node.value:
                words = (word.strip("'\"") for word in node.value.split())
                found.update(run for word in words if word.endswith(".py")
                             and (run := posixpath.normpath(posixpath.join(root, word))) in known)
    return frozenset(found)


def _run(root: str, folder: str = "") -> Iterator[Command]:
    """The commands of the root documents (or of `folder`'s) that run something, by an interpreter or
    a launcher: a link or a mention runs nothing."""
    return (command for command in DocumentedCommands(_documents(root or ".", folder)) if command.runner or command.launcher)


def _documents(top: str, folder: str = "") -> dict[str, Callable[[], bytes]]:
    """Display name (`folder/README.md`) -> reader of each document of the root or of one of its
    folders (at most `MAX_DOCUMENTS`, their heads)."""
    place = os.path.join(top, folder)
    try:
        with os.scandir(place) as entries:
            names = sorted(e.name for e in entries if e.name.lower().endswith(DOCUMENT_SUFFIXES) or e.name.upper().startswith("README"))
    except OSError:
        return {}
    return {posixpath.join(folder, name): partial(read_tree_file, os.path.join(place, name), top, DOCUMENT_BYTES, head=True)
            for name in names[:MAX_DOCUMENTS]}


def launched_scripts(root: str, entries: Iterable[str], modules: Iterable[str]) -> dict[str, tuple[tuple[str, bool], ...]]:
    """Documented entry -> the other modules among `modules` (the scan's `.py` files) it runs through a
    command line in a string (`"python process.py " + path`, `"python -m demo.worker ..."`), each once,
    in the order written, with whether it is a step (`_steps`) wherever it is run; an entry that runs
    none is left out. Only the entries are read, and parsed only where their bytes hold `python `."""
    known = frozenset(modules)
    found = {}
    for path in sorted(entries):
        tree = _entry_tree(path, root, b"python ")
        if tree is None:
            continue
        targets = {key: [run for run in _targets(command, root, known) if run != path] for key, command in _commands_in(tree)}
        steps: set[int] = set()
        _steps(tree.body, False, frozenset(key for key, runs in targets.items() if runs), steps)
        runs: dict[str, bool] = {}
        for key, scripts in targets.items():
            for run in scripts:
                runs[run] = runs.get(run, True) and key in steps
        if runs:
            found[path] = tuple(runs.items())
    return found


def _targets(command: Command, root: str, known: frozenset[str]) -> list[str]:
    """The paths among `known` that `command`, run in `root`, runs: its script, or its `-m` module's file."""
    if command.module is not None:
        base = posixpath.join(root, *command.module.split("."))
        return [path for path in (f"{base}.py", f"{base}/__main__.py") if path in known]
    if command.script is not None and command.script.endswith(".py"):
        path = posixpath.normpath(posixpath.join(root, command.script))
        return [path] if path in known else []
    return []


def _commands_in(tree: ast.Module) -> Iterator[tuple[int, Command]]:
    """The command lines of `tree`'s string literals that run Python, in the order written, each with
    the id of its literal."""
    literals = sorted(  # an f-string's literal parts are constants of their own
        (node.lineno, node.col_offset, node) for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "python " in node.value
    )
    for _, _, node in literals:
        command = command_of(str(node.value).split())
        if command.runner is not None and is_interpreter(command.runner):
            yield id(node), command


def _steps(body: list[ast.stmt], followed: bool, runs: frozenset[int], steps: set[int]) -> bool:
    """Add to `steps` the runs (the ids of literals that run another module) in `body` that another run follows on their route: a later
    statement of their block, or of a block around it (`followed`), in the same function. Such a run
    prepares the next one's input (`process.py` before `main.py`): a step of one pipeline. A run in one
    arm of an `if` and one in the other (`if args.fast: run("python a.py") else: run("python b.py")`),
    or in two functions (two buttons of an app), are alternatives, each a use of its own; so are runs
    one statement spells together. Whether `body` runs any."""
    found = False
    for statement in reversed(body):
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            _steps(statement.body, False, runs, steps)  # a route of its own
            continue
        after = followed or found
        for value in (value for _, value in ast.iter_fields(statement)):
            items = value if isinstance(value, list) else [value]
            if items and isinstance(items[0], ast.stmt):
                found |= _steps(items, after, runs, steps)
                continue
            for item in items:
                if isinstance(item, (ast.ExceptHandler, ast.match_case)):
                    found |= _steps(item.body, after, runs, steps)
                elif isinstance(item, ast.AST):
                    own = [id(node) for node in ast.walk(item) if id(node) in runs]
                    found |= bool(own)
                    if after:
                        steps.update(own)
    return found
