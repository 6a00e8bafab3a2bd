"""The C/C++ and CUDA sources of a vendored package copy that no build of the scan compiles.

A project may carry a copy of another project's Python package (`demo/detectron2/`) with that
package's kernel sources (`layers/csrc/*.cu`) but without its build: no `setup.py`,
`pyproject.toml`, CMake file or Makefile sits in the copy or in a folder above it, and no file of
the scan names the sources (a JIT `load(sources=[...])`, an `nvcc` line of a script, a CMake
list). Nothing the project does compiles them: the copy's extension module is a binary it ships
(`_C.cpython-39-x86_64-linux-gnu.so`). Their sites are
not the project's lock-in, they are notes (`verdicts.uncompiled`); the headers only they include
go with them (`porting_layer.included_only_by`).

Three cases keep the sources reported:
- a copy that ships no extension binary at all: a build the scan cannot read (a JIT `load()` over
  `glob.glob(...)` in the project's own `src/` package) may be what compiles them;
- a binary the copy ships beside its package files that links a CUDA library (`libcudart`,
  `libc10_cuda`, `libtorch_cuda`, named in the ELF's dynamic section): the sources are what that
  build compiled, and what runs is NVIDIA-only. One that links none (`libtorch_cpu` alone) runs the
  same wherever its Python and PyTorch match. Read from the disk on every use, as the shipped
  checkpoints are (`index_answers.py`): these files are not among the scan's;
- a copy at the top of the scanned folder, or the scanned folder itself: the project's own package,
  whose `setup.py` may sit above what was scanned.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.safe_read import UnreadableFile, read_tree_file, within_any

_BUILD_FILES = frozenset({
    "setup.py", "setup.cfg", "pyproject.toml", "cmakelists.txt", "makefile", "gnumakefile", "meson.build",
    "build", "build.bazel", "sconstruct",
})
"""Names of the files that declare a build, lower-cased: one at or above a source may compile it."""
_BINARY_SUFFIXES = (".so", ".pyd")
_CUDA_LIBRARIES = (b"libcudart", b"libc10_cuda", b"libtorch_cuda", b"libcuda.so", b"libcublas", b"libcudnn", b"nvrtc")
"""Names of CUDA libraries a binary's dynamic section lists (`NEEDED`) where it was built against CUDA."""
_BINARY_LIMIT = 4 << 20


def is_build_file(path: str) -> bool:
    """Whether the file at display path `path` declares a build (`setup.py`, `CMakeLists.txt`, a `*.cmake`)."""
    name = posixpath.basename(path).lower()
    return name in _BUILD_FILES or name.endswith(".cmake")


def copy_tops(sources: Iterable[str], packages: frozenset[str], builds: Iterable[str], roots: tuple[str, ...]) -> dict[str, str]:
    """Source -> the top folder of the package copy that holds it, for each source of `sources` inside a
    copy nested below a scanned folder (`packages`: the folders that hold an `__init__.py`) with no build
    file of `builds` in its folder or one above it."""
    built = {posixpath.dirname(path) for path in builds}
    found: dict[str, str] = {}
    for source in sorted(sources):
        folder = posixpath.dirname(source)
        if _at_or_above(folder, built):
            continue
        top = _package_top(folder, packages)
        if top is not None and _nested(top, roots):
            found[source] = top
    return found


def copy_evidence(top: str) -> Evidence:
    """Why a source of the package copy `top` is compiled by nothing (`FileFacts.uncompiled`)."""
    return Evidence(posixpath.join(top, "__init__.py"), 1, f"a copy of the package `{posixpath.basename(top)}` with no build of its own")


def unnamed(candidates: Mapping[str, Evidence], texts: Iterable[Callable[[], bytes]]) -> dict[str, Evidence]:
    """`candidates` less the sources whose file name a text of `texts` spells (a build list, a JIT
    `load()`, a script's compiler line): those may be compiled from there."""
    left = dict(candidates)
    names = {source: posixpath.basename(source).encode() for source in left}
    for read in texts:
        if not left:
            break
        try:
            data = read()
        except Exception:  # noqa: BLE001 - unread, it may name any source: keep them all
            return {}
        for source in [source for source in left if names[source] in data]:
            del left[source]
    return left


def _at_or_above(folder: str, built: set[str]) -> bool:
    while True:
        if folder in built:
            return True
        parent = posixpath.dirname(folder)
        if parent == folder:
            return False
        folder = parent


def _package_top(folder: str, packages: frozenset[str]) -> str | None:
    """The top folder of the package nearest at or above `folder` (`pkg` of `pkg/layers/csrc`), or None."""
    while folder not in packages:
        parent = posixpath.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    while posixpath.dirname(folder) in packages and posixpath.dirname(folder) != folder:
        folder = posixpath.dirname(folder)
    return folder


def _nested(top: str, roots: tuple[str, ...]) -> bool:
    """Whether the folder that holds the package `top` is below a scanned folder, not one itself."""
    holder = os.path.realpath(posixpath.dirname(top) or ".")
    return within_any(holder, roots) is not None and holder not in {os.path.realpath(root) for root in roots}


def cuda_binaries(tops: Iterable[str], roots: tuple[str, ...]) -> dict[str, bool]:
    """Package folder -> whether it ships an extension binary that links a CUDA library, for each of
    `tops`. Read from the disk on every call: the binaries are not among the scan's files, so the
    index's cache compares them again (`index_answers.py`)."""
    return {top: _ships_cuda_binary(top, roots) for top in sorted(set(tops))}


def _ships_cuda_binary(top: str, roots: tuple[str, ...]) -> bool:
    """Whether the package folder `top` may hold a CUDA build of its sources: an extension binary that
    links a CUDA library, an unreadable one, or no extension binary at all (a copy that ships its
    extension prebuilt without CUDA is the one whose sources nothing compiles; with no binary, a build
    the scan cannot read, a JIT `load()` over a glob, may compile them)."""
    root = within_any(top or ".", roots)
    try:
        names = sorted(os.listdir(top or "."))
    except OSError:
        return True
    binaries = [name for name in names if name.endswith(_BINARY_SUFFIXES)]
    if not binaries:
        return True
    for name in binaries:
        try:
            data = read_tree_file(posixpath.join(top, name), root, _BINARY_LIMIT) if root is not None else None
        except UnreadableFile:
            return True
        if data is None or any(library in data for library in _CUDA_LIBRARIES):
            return True
    return False
