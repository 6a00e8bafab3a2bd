"""What a project's dependency files declare: its base install, its extras and its console scripts.

Read from one file at a time, without running it: `pyproject.toml`'s `[project]` tables, a
setup.py's `setup(...)` arguments (and the requirements files it assigns to an extra by name), a
requirements file's lines. The project index keeps each file's reading; `rules/python/extra_only.py`
puts them together.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterable

from packaging.requirements import InvalidRequirement, Requirement

from cudaudit.filekinds import FileKind
from cudaudit.rules.dependencies.setup_files import setup_py_requirements
from cudaudit.rules.dependencies.toml_text import load_toml
from cudaudit.source import UnparsableError, parse_python

Declared = tuple[tuple[str, ...], tuple[tuple[str, str], ...], tuple[tuple[str, str], ...], tuple[str, ...]]
"""What one dependency file declares: the base install's distributions (normalised names), (extra,
distribution) for each extra's, (extra, requirements file) for each file a setup.py assigns to an
extra, and the modules of its console scripts (dotted names)."""

_SCRIPT = re.compile(r"""["']\s*[\w.-]+\s*=\s*([A-Za-z_][\w.]*)\s*:\s*[\w.]+""")
"""A console script of a setup.py's `entry_points`: `"name = pkg.cli:main"`."""


def declared_dependencies(path: str, text: str, kind: FileKind) -> Declared:
    """What the dependency file at `path` declares (see `Declared`); nothing for a file of another kind."""
    if kind is FileKind.PYPROJECT:
        try:
            project = load_toml(text, "pyproject.toml").get("project")
        except UnparsableError:
            return (), (), (), ()  # the file's own analysis reports it
        if not isinstance(project, dict):
            return (), (), (), ()
        optional = project.get("optional-dependencies")
        scripts = project.get("scripts")
        return (
            tuple(_names(project.get("dependencies"))),
            tuple(
                (extra, name) for extra, items in (optional.items() if isinstance(optional, dict) else ())
                for name in _names(items)
            ),
            (),
            tuple(value.partition(":")[0].strip() for value in (scripts.values() if isinstance(scripts, dict) else ()) if isinstance(value, str)),
        )
    if kind is FileKind.SETUP and path.endswith(".py"):
        return _setup_py(path, text)
    if kind is FileKind.REQUIREMENTS:
        return tuple(_names(text.splitlines())), (), (), ()
    return (), (), (), ()


def _names(items: object) -> Iterable[str]:
    """The normalised distribution names of a list of requirement strings (or requirements-file
    lines: options, includes and comments are no requirement)."""
    for item in items if isinstance(items, (list, tuple)) else ():
        line = item.split("#")[0].strip() if isinstance(item, str) else ""
        if not line or line.startswith("-"):
            continue
        try:
            yield normal_name(Requirement(line).name)
        except InvalidRequirement:
            continue


def _setup_py(path: str, text: str) -> Declared:
    """A setup.py's base requirements and extras (its `setup(...)` arguments), the requirements files
    it assigns to an extra key of a name spelled with `extra` (`extras["x"] = read("req/x.txt")`,
    `extra_requires["x"], _ = parse("req/x.txt")`), and its console scripts."""
    try:
        tree = parse_python(text)
        requirements = list(setup_py_requirements(text, path))
    except (SyntaxError, ValueError, RecursionError):
        return (), (), (), ()
    base = tuple(name for placed, extra in requirements if extra is None for name in _names([placed.text]))
    extras = tuple((extra, name) for placed, extra in requirements if extra is not None for name in _names([placed.text]))
    folder = posixpath.dirname(path)
    files: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign):
            continue
        targets = [item for target in node.targets for item in (target.elts if isinstance(target, ast.Tuple) else [target])]
        keys = [
            target.slice.value for target in targets
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and "extra" in target.value.id.lower()
            and isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str)
        ]
        texts = [
            inner.value for inner in ast.walk(node.value)
            if isinstance(inner, ast.Constant) and isinstance(inner.value, str) and inner.value.endswith(".txt")
        ]
        files += [(key, posixpath.normpath(posixpath.join(folder, name))) for key in keys for name in texts]
    scripts = tuple(match.group(1) for match in _SCRIPT.finditer(text) if "entry_points" in text)
    return base, extras, tuple(files), scripts


def normal_name(name: str) -> str:
    """A distribution's name as PEP 503 compares it, with `_` for the separators."""
    return re.sub(r"[-_.]+", "_", name).lower()
