"""Standalone projects carried inside a part of the host project that nothing of the host names.

A project may carry, deep inside one of its parts, a whole other project: a human-parsing model
vendored into `preprocess/` that brings along its multi-person extension, which in turn holds a
complete detector checkout with its own `setup.py`, README, `tools/` and Docker files. The host's
own routes (its README, scripts and imports) never install nor run that nested project: only a user
who follows the nested project's own README does. Its CUDA sites break no target on the host's
normal path: another path, at most a warning (`verdicts.off_default_path`), never silence.

`nested_project_files` reads a folder so where it holds an install declaration of its own
(`setup.py`, `setup.cfg`, `pyproject.toml`) and a README, lies below a top-level folder of the scan
(a repository's top-level folders are its parts, an umbrella's `det/` and `seg/` each with its own
install, which the umbrella's users run), and where nothing outside it names it:
- no module outside it imports it: an import statement whose modules all lie in the folder (an
  absolute import that also finds a module outside it, a second copy of the same package that the
  host runs, is that copy's);
- no file outside it spells its path's last two folders (`extension/detector`), nor its own name
  where no folder outside it has that name (`detector` alone may be another copy's).
A folder nested in such a folder is part of it; one nested in a named folder is judged by itself.
A misreading keeps a verdict: what is named anywhere outside counts as the host's.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping

from cudaudit.facts import Evidence
from cudaudit.filekinds import is_test_path
from cudaudit.firstparty import ModuleMap, module_map
from cudaudit.project_roots import INSTALL_DECLARATIONS, lies_under, within_project
from cudaudit.rules.catalog import word_automaton
from cudaudit.rules.python.opt_in import import_statements, statement_modules
from cudaudit.rules.python.unnamed import read_or_none

Reader = Callable[[], bytes]

def nested_project_files(python: Mapping[str, Reader], others: Mapping[str, Reader]) -> dict[str, Evidence]:
    """Display path -> why it is another path, for each file of a standalone project nested in a part
    of the host that nothing outside it names (see the module docstring); `python` are the scan's
    Python modules, `others` its other files."""
    everything = sorted({*python, *others})
    held: dict[str, set[str]] = {}
    for path in everything:
        held.setdefault(posixpath.dirname(path), set()).add(posixpath.basename(path).lower())
    candidates = sorted(
        (folder for folder, names in held.items()
         if names & INSTALL_DECLARATIONS and any(name.startswith("readme") for name in names)
         and within_project(f"{folder}/_").count("/") >= 2 and not is_test_path(f"{folder}/_.py")),
        key=lambda folder: (folder.count("/"), folder),
    )
    if not candidates:
        return {}
    modules = module_map(python)
    folders: set[str] = set()
    for folder in held:
        while folder and folder not in folders and within_project(f"{folder}/_") != "_":
            folders.add(folder)
            folder = posixpath.dirname(folder)
    basenames: dict[str, list[str]] = {}
    for folder in sorted(folders):
        basenames.setdefault(posixpath.basename(folder), []).append(folder)
    found: dict[str, Evidence] = {}
    unnamed: list[str] = []
    for folder in candidates:
        if any(lies_under(folder, other) for other in unnamed):
            continue  # part of a nested project already read so
        inside = [path for path in everything if lies_under(path, folder)]
        outside = [path for path in everything if not lies_under(path, folder)]
        if _named(folder, inside, outside, python, others, modules, basenames):
            continue
        unnamed.append(folder)
        declaration = next(path for path in inside if posixpath.dirname(path) == folder
                           and posixpath.basename(path).lower() in INSTALL_DECLARATIONS)
        evidence = Evidence(
            declaration, 1,
            f"`{folder}/` is a project of its own (its install declaration and README) nested in a part of the "
            "host, which no module, document or script of the host imports, runs or names: only the nested "
            "project's own routes run this file",
        )
        for path in inside:
            if not is_test_path(path):
                found.setdefault(path, evidence)
    return found


def _named(
    folder: str,
    inside: list[str],
    outside: list[str],
    python: Mapping[str, Reader],
    others: Mapping[str, Reader],
    modules: ModuleMap,
    basenames: Mapping[str, list[str]],
) -> bool:
    """Whether a file of `outside` imports a module of the folder or spells the folder (see the
    module docstring)."""
    name = posixpath.basename(folder)
    spellings = {f"{posixpath.basename(posixpath.dirname(folder))}/{name}".encode()}
    if all(other == folder or lies_under(other, folder) for other in basenames.get(name, ())):
        spellings.add(name.encode())  # no folder outside it has its name (its own package may)
    tops = {modules.name(path).partition(".")[0] for path in inside if path in python} - {""}
    automaton = word_automaton(sorted(spellings | {top.encode() for top in tops}))
    if automaton is None:
        return False
    for path in outside:
        data = read_or_none(python.get(path) or others.get(path))
        if not data:
            continue
        words = automaton.whole_words(data)
        if words & spellings or (path in python and words and _imports_from(folder, path, data, modules)):
            return True
    return False


def _imports_from(folder: str, importer: str, data: bytes, modules: ModuleMap) -> bool:
    """Whether an import statement of `importer` runs modules of the folder alone."""
    for _, statement in import_statements(data):
        for level, module, names in statement_modules(statement):
            found = modules.resolve(importer, level, module, names)
            if found and all(lies_under(path, folder) for path in found):
                return True
    return False
