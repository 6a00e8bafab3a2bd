"""Requirements files of optional features: what a user installs only to turn a feature on.

A project that installs from requirements files keeps its base install in one
(`requirements.txt`, `requirements/requirements.txt`, or whatever its setup.py or pyproject.toml
reads) and each optional feature in a file of its own beside it (`requirements-flashattn.txt`,
`requirements/vllm.txt`, `requirements_dev.txt`): "to use X, install the additional dependencies
in ...". A CUDA-only package in such a file breaks that feature on a host without CUDA, not the
install: another path, at most a warning (principle 1), as a module that needs an extra's package is
(`rules/python/extra_only.py`).

`optional_files` reads the scan's requirements files by their paths, what they include (`-r`), the
project's declarations (setup.py, pyproject.toml, setup.cfg) and the shallowest README. A file is
optional where its name names a feature (a word beside `requirements`, or its own name inside a
`requirements/` folder), a base install stands beside it (a requirements file named for no feature
in its folder or the one above, or a declaration there), and nothing that makes up the base install
takes it in: no base file includes it, however deep; no declaration spells its name, unless a
setup.py assigns it to an extra; no install command of the README names it (`pip install -r
requirements-x.txt`; a sentence that only points to the file is the feature's own documentation). A file named for the
base (`base`, `runtime`, `common`, ...) is the base wherever it stands.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.filekinds import REQUIREMENTS_FOLDERS

_BASE_WORDS = frozenset({"", "base", "common", "core", "default", "install", "main", "minimal", "prod", "production", "runtime", "requirements"})
"""Names a project gives its base install's file (`requirements/base.txt`, `requirements/runtime.txt`)."""
_WORD = re.compile(r"(?i)requir[a-z]*")
"""The word that says requirements, however spelled (`requirement`, `requirments`)."""
_SEPARATORS = "-_. "


def feature(path: str) -> str:
    """The feature a requirements file's name names (`requirements-flashattn.txt`: `flashattn`,
    `requirements/vllm.txt`: `vllm`, `dev-requirements.txt`: `dev`); "" for the base's own names."""
    stem = posixpath.splitext(posixpath.basename(path))[0].lower()
    if stem.startswith("constraints"):
        return ""  # pins, not an install of its own
    word = _WORD.sub(" ", stem).strip(_SEPARATORS)
    return "" if word in _BASE_WORDS else word


def optional_files(
    requirements: Iterable[str],
    includes: Mapping[str, frozenset[str]],
    declarations: Mapping[str, str],
    assigned: Mapping[str, str],
    readme: str,
) -> dict[str, Evidence]:
    """Display path -> why it is an optional feature's install, for each of the scan's `requirements`
    files that is one (see the module's text). `includes` holds each file's `-r`/`-c` paths,
    `declarations` the text of each setup.py, pyproject.toml and setup.cfg, `assigned` the files a
    setup.py assigns to an extra (path -> the extra), `readme` the shallowest README's text."""
    paths = sorted(requirements)
    bases = [path for path in paths if not feature(path)]
    reached = _included(bases, includes)
    commands = [line for line in readme.splitlines() if "-r" in line or "--requirement" in line]
    found: dict[str, Evidence] = {}
    for path in paths:
        name = posixpath.basename(path)
        if not feature(path) or path in reached or any(_installs(line, name) for line in commands):
            continue
        if path in assigned:
            found[path] = Evidence(path, 1, f"only the `{assigned[path]}` extra installs it")
            continue
        if any(name in text for text in declarations.values()):
            continue  # a declaration reads it: part of the base install, as far as this reading knows
        base = _base_beside(path, bases, declarations)
        if base is not None:
            found[path] = Evidence(base, 1, f"the base install is `{base}`; `{name}` adds an optional feature")
    return found


def _installs(line: str, name: str) -> bool:
    """Whether a README's line installs the requirements file `name` (`pip install -r
    requirements/name`, `--requirement=name`): a sentence that only names it ("to use X, install the
    packages in `name`") is the feature's documentation, not the install."""
    return re.search(r"(?:^|\s)(?:-r|--requirement)(?:\s+|=)[^\s`'\"]*?" + re.escape(name) + r"(?![\w.-])", line) is not None


def _included(roots: list[str], includes: Mapping[str, frozenset[str]]) -> set[str]:
    """The files `roots` include, however deep."""
    reached: set[str] = set()
    queue = list(roots)
    while queue:
        for included in includes.get(queue.pop(), frozenset()):
            if included not in reached:
                reached.add(included)
                queue.append(included)
    return reached


def _base_beside(path: str, bases: list[str], declarations: Mapping[str, str]) -> str | None:
    """The base install that stands beside requirements file `path`: a base requirements file or a
    declaration in its folder, or in the folder above where its folder is a `requirements/` one."""
    folder = posixpath.dirname(path)
    folders = [folder]
    if posixpath.basename(folder).lower() in REQUIREMENTS_FOLDERS:
        folders.append(posixpath.dirname(folder))
    for place in folders:
        for candidate in [*bases, *sorted(declarations)]:
            if posixpath.dirname(candidate) == place:
                return candidate
    return None
