"""Where a file sits in a project, and what that makes it: the main package, an entry script, an
example, a test, a kernel folder.

Only paths are read here (the scan's display paths), never file contents: the layout of a
repository says which code is the project's main use and which only shows or tests it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from pathlib import PurePosixPath

from cudaudit.assessment.model import Role
from cudaudit.filekinds import BENCHMARK_DIRS, TEST_DIRS, FileKind, classify

TOOLING_DIRS = TEST_DIRS | BENCHMARK_DIRS | frozenset({
    "docs", "doc", ".github", ".gitlab", ".circleci", ".buildkite", "ci", ".ci", "perf", "profiling",
})
"""Folders whose code tests, measures or documents the project: never its main use."""
OPTIONAL_DIRS = frozenset({
    "example", "examples", "samples", "sample", "demo", "demos", "tutorials", "tutorial", "notebooks",
    "scripts", "script", "tools", "tool", "utils_scripts", "contrib", "community", "research_projects",
    "research", "experimental", "third_party", "thirdparty", "3rdparty", "vendor", "vendored", "extern",
    "external", "deps", "legacy", "deprecated", "playground", "cookbook", "recipes",
})
"""Folders of code beside the main use: examples, helper scripts, vendored copies."""
CONTAINER_DIRS = frozenset({"src", "lib", "python", "py", "source"})
"""Folders that only hold the package (`src/diffusers`): the package is the next component down."""
CUDA_SOURCE_SUFFIXES = (".cu", ".cuh")


def role_of(path: str) -> Role:
    """Tooling or optional by the folders a path runs through or its file name; otherwise core."""
    parts = path.lower().split("/")
    folders, name = parts[:-1], parts[-1]
    if any(part in TOOLING_DIRS for part in folders) or _is_test_file(name):
        return Role.TOOLING
    if any(part in OPTIONAL_DIRS for part in folders):
        return Role.OPTIONAL
    return Role.CORE


def _is_test_file(name: str) -> bool:
    stem = name.rsplit(".", 1)[0]
    return stem.startswith(("test_", "bench_", "benchmark")) or stem.endswith("_test") or stem in ("conftest", "bench")


def python_area(path: str, root: str) -> tuple[str, str]:
    """The Python component a module belongs to: (id path, kind).

    A module at the project root is an entry script of its own (`train.py`); anything in a
    folder belongs to that folder's top-level package (`deepspeed/`, `src/diffusers/`), or to the
    examples/tests folder it sits in.
    """
    rel = _relative(path, root)
    parts = rel.split("/")
    if len(parts) == 1:
        return path, "script"
    depth = 1
    while depth < len(parts) - 1 and parts[depth - 1].lower() in CONTAINER_DIRS:
        depth += 1
    return _join(root, "/".join(parts[:depth])), "python"


def kernel_folders(paths: Iterable[str]) -> list[str]:
    """The folders that hold CUDA kernels: each folder with a `.cu`/`.cuh` file, merged into an
    ancestor that is one too, so a kernel tree (`csrc/flash_attn/src/...`) is one component."""
    folders = {posixpath.dirname(p) for p in paths if p.lower().endswith(CUDA_SOURCE_SUFFIXES)}
    return _outermost(folders)


def _outermost(folders: set[str]) -> list[str]:
    kept: list[str] = []
    for folder in sorted(folders, key=lambda f: (f.count("/"), f)):
        if not any(_under(folder, outer) for outer in kept):
            kept.append(folder)
    return sorted(kept)


def containing(path: str, folders: Iterable[str]) -> str | None:
    """The folder among `folders` that `path` lies in, if any."""
    return next((folder for folder in folders if _under(path, folder)), None)


def _under(path: str, folder: str) -> bool:
    return folder == "" or path == folder or path.startswith(folder.rstrip("/") + "/")


def project_root(paths: Iterable[str]) -> str:
    """The folder all scanned paths share (`""` when they are relative to the current folder)."""
    folders = [posixpath.dirname(p) for p in paths]
    if not folders:
        return ""
    common = posixpath.commonpath(folders) if all(f.startswith("/") == folders[0].startswith("/") for f in folders) else ""
    return common


def _relative(path: str, root: str) -> str:
    return path[len(root) + 1 :] if root and path.startswith(root + "/") else path


def _join(root: str, rel: str) -> str:
    return f"{root}/{rel}" if root else rel


def relative(path: str, root: str) -> str:
    """`path` relative to the project root, for names shown to people."""
    return _relative(path, root)


def kinds_of(path: str) -> tuple[FileKind, ...]:
    return classify(PurePosixPath(path))
