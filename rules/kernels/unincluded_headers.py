"""The C/C++ and CUDA headers that nothing the project compiles includes: no target compiles them.

A header is compiled only inside a translation unit that includes it, directly or through other
headers (a `.cu`, `.cpp`, `.cc`, `.cxx` or `.c` file). A `.cuh` whose kernels no source includes
(a header kept from an older version of the code, a variant nobody switched to) breaks no target,
whatever CUDA it spells, so its sites are notes (`verdicts.never_built`).

The include graph is `porting_layer.PortingLayers`': a quoted include resolves beside its includer,
any other (`<lib/x.cuh>`, an include directory's path, `"../x.cuh"`) by its path suffix among the
scan's C/C++ files. Three readings keep a header that may be compiled after all:

- a header whose file name another file of the project spells outside the C/C++ sources (a build
  script's source list, `target_sources(... x.cuh)`, a JIT build's `#include` in a Python string,
  a kernel generator's template, a `.hip` or `.mm` source the scan does not read, a document): some
  build or tool may compile it, and every header it includes is reached with it;
- a header below a folder named `include` (`include/lib/x.h`, `third_party/cutlass/include/...`): the
  public headers a library installs, which its users' code includes;
- every header of a project with no translation unit of its own: a header-only library, whose headers
  are what its users compile.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping

from cudaudit.rules.containers.references import unnamed_files
from cudaudit.rules.kernels.porting_layer import PortingLayers

HEADER_SUFFIXES = (".h", ".cuh", ".hpp", ".hh", ".inl")
"""The suffixes of the scan's C/C++ files (`filekinds`) that no build compiles on their own."""
UNINCLUDED = (
    "no source the project compiles includes this header (directly or through other headers), and no build "
    "script, source list, other file or document names it: no target compiles it"
)
_PUBLIC_FOLDERS = frozenset({"include"})
"""Folders of a library's installed headers (CMake's `install(DIRECTORY include/ ...)`, pip's `include/`)."""


def unincluded_headers(
    layers: PortingLayers, others: Mapping[str, Callable[[], bytes]], place: Callable[[str], str], top: str = ""
) -> frozenset[str]:
    """The headers of `layers`' sources that no translation unit reaches and no file of `others` (display
    path -> its bytes: the scan's files that are no C/C++ source) names; `place` gives a display path
    from its project's root, whose folders tell a library's public headers; `top` is the folder the
    scan's paths share (`references.unnamed_files`)."""
    sources = layers.paths()
    units = [path for path in sources if not path.endswith(HEADER_SUFFIXES)]
    if not units:
        return frozenset()
    reached = layers.reached(units)
    candidates = [
        path for path in sources
        if path.endswith(HEADER_SUFFIXES) and path not in reached and not _public(place(path))
    ]
    if not candidates:
        return frozenset()
    named = set(candidates) - unnamed_files(candidates, dict(others), top, copies=False).keys()
    if named:
        reached |= layers.reached(named)
    return frozenset(path for path in candidates if path not in reached)


def _public(path: str) -> bool:
    """Whether `path` (from its project's root) sits below a folder of installed headers."""
    return any(folder.lower() in _PUBLIC_FOLDERS for folder in posixpath.dirname(path).split("/"))

