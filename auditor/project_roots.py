"""The folders above each scanned project, which what a path says about its file must not read.

A path's folders tell a file's place in its project: `tests/` holds its tests, `benchmarks/` its
benchmarks. Reports name files by their path from the current folder, or by their absolute path for a
tree outside it, so a project checked out under a folder named `tests` (`/ci/tests/project/`, or
`tests/project` from `/ci`) would have every file read as a test, and every verdict softened.

A folder named on the command line is its project's root, or its parent when the folder's own name is
a role (`tests`, `benchmarks`: a scan of a project's tests keeps their test-ness). A named file
(pre-commit names the staged files, from the repository's root) is read from the current folder, as
reports spell it, or, outside the current folder, from its own folder, lifted the same way. Nothing
above the scanned tree is looked at: a marker file there (`.git`) may be another repository's that
holds the scanned one among its test data.

`within_project(path)` drops the folders above the project from a reported path. The prefixes it drops
are the scan's (`project_prefixes`), set for the scan's duration by `scope`: the path predicates of
`filekinds` are called on reported paths from every analyzer and from the project index, and a scan
enters the scope in the main process and in each worker it starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

_prefixes: tuple[str, ...] = ()


def project_prefixes(named: Iterable[Path], cwd: Path, roles: frozenset[str]) -> tuple[str, ...]:
    """The path of each named folder's or file's project folder as reports spell it in the paths below it:
    from the current folder (`checkouts/project`), or absolute for a folder outside it (`/ci/tests/project`,
    whose files reports name by absolute paths); none for the current folder, nor for a named file below it.
    `roles`: lowered folder names that say what a folder holds (`tests`). Longest first."""
    found: set[str] = set()
    here = cwd.absolute()
    for path in named:
        absolute = path.absolute()
        if not absolute.is_dir():
            if here in absolute.parents:
                continue
            absolute = absolute.parent
        folder = _lifted(absolute, roles)
        if folder != here and folder.parent != folder:
            found.add(_reported(folder, here))
    return tuple(sorted(found, key=lambda prefix: (-len(prefix), prefix)))


def _lifted(folder: Path, roles: frozenset[str]) -> Path:
    """`folder`, or the nearest folder above it whose name is no role (`project/tests` -> `project`)."""
    while folder.name.lower() in roles and folder.parent != folder:
        folder = folder.parent
    return folder


def _reported(folder: Path, cwd: Path) -> str:
    """`folder` as reports spell the paths below it: from the current folder, or absolute."""
    return folder.relative_to(cwd).as_posix() if cwd in folder.parents else folder.as_posix()


INSTALL_DECLARATIONS = frozenset({"setup.py", "setup.cfg", "pyproject.toml"})
"""The files that declare a folder's own install: a project a user installs by itself."""


def lies_under(path: str, folder: str) -> bool:
    """Whether the display path lies inside the folder (below it, not the folder itself)."""
    return path.startswith(folder + "/")


@contextmanager
def scope(prefixes: tuple[str, ...]) -> Iterator[None]:
    """`within_project` drops `prefixes` while the block runs (a scan: see the module docstring)."""
    global _prefixes
    previous, _prefixes = _prefixes, prefixes
    try:
        yield
    finally:
        _prefixes = previous


def within_project(path: str) -> str:
    """`path` (as reports spell it) from its project's root: without the scan's prefix it starts with."""
    prefix = project_prefix(path)
    return path[len(prefix) + 1:] if prefix else path


def project_prefix(path: str) -> str:
    """The scan's prefix that `path` (as reports spell it) starts with: its project's folder, empty where
    none does (a scan of the current folder). A scan of several projects tells their files apart by it."""
    for prefix in _prefixes:
        if path.startswith(prefix) and path[len(prefix):len(prefix) + 1] == "/":
            return prefix
    return ""
