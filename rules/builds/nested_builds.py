"""Build scripts that another build of the project supersedes.

A project may keep, inside the source folder of one of its extensions, the standalone `setup.py`
that the extension came with (`kernels/csrc/attention/setup.py`, copied from the project it was
taken from), while its own build (`kernels/setup.py`) compiles the same sources as part of one
extension: `sources=["csrc/attention/ft_attention.cpp", ...]`. The user installs the project's
build; the nested script is a second way to build what it already builds, another path than the
normal one. Its nvcc flags and toolkit checks break the ROCm and CPU builds only for someone who
runs it on purpose: at most a warning.

`superseded_builds` reads the build scripts from bytes: the source files each names (string
literals ending in a C, C++ or CUDA extension), and, for a script in a folder below another
script's, whether the nearest one above spells every one of them by its path from that folder. A
nested script that names no source, or one the build above does not spell, keeps its verdicts.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping

from cudaudit.facts import Evidence
from cudaudit.rules.python.read_once import ReadOnce

_SOURCE = re.compile(rb"""["']((?:\./)?[\w.+/-]+\.(?:cu|cuh|cpp|cc|cxx|c|hip))["']""")
"""A source file a build script names as a string (`"ft_attention.cpp"`, `"csrc/gemv_cuda.cu"`)."""
_TEXT_LIMIT = 80


def superseded_builds(scripts: Mapping[str, Callable[[], bytes]]) -> dict[str, Evidence]:
    """Display path -> where the build above compiles its first source, for each `setup.py` whose
    every named source the nearest `setup.py` in a folder above it names too, by its path from
    there. `scripts` are the scan's `setup.py` files by display path."""
    folders = {posixpath.dirname(path): path for path in scripts}
    found: dict[str, Evidence] = {}
    text = ReadOnce(scripts)
    for path in sorted(scripts):
        folder = posixpath.dirname(path)
        outer = _nearest_above(folder, folders)
        if outer is None:
            continue
        sources = {match.group(1).decode("ascii").removeprefix("./") for match in _SOURCE.finditer(text(path))}
        if not sources:
            continue
        above = posixpath.dirname(outer)
        relative = posixpath.relpath(folder, above) if above else folder
        data = text(outer)
        places = [data.find(f"{relative}/{source}".encode()) for source in sorted(sources)]
        if all(place >= 0 for place in places):
            first = min(places)
            line = data.count(b"\n", 0, first) + 1
            start = data.rfind(b"\n", 0, first) + 1
            end = data.find(b"\n", first)
            quoted = " ".join(data[start : len(data) if end < 0 else end].decode("utf-8", "replace").split())
            found[path] = Evidence(outer, line, quoted[:_TEXT_LIMIT])
    return found


def _nearest_above(folder: str, folders: Mapping[str, str]) -> str | None:
    """The build script of the nearest folder strictly above `folder` that has one."""
    while folder:
        above = posixpath.dirname(folder)
        if above == folder:
            return None  # "/" is its own folder: an absolute display path ends there
        folder = above
        if folder in folders:
            return folders[folder]
    return None
