"""Build scripts that another build of the project supersedes.

A project may keep, inside the source folder of one of its extensions, the standalone `setup.py`
that the extension came with (`kernels/csrc/attention/setup.py`, copied from the project it was
taken from), while its own build (`kernels/setup.py`) compiles the same sources as part of one
extension: `sources=["csrc/attention/ft_attention.cpp", ...]`. The user installs the project's
build; the nested script is a second way to build what it already builds, another path than the
normal one. Its nvcc flags and toolkit checks break the ROCm and CPU builds only for someone who
runs it on purpose: at most a warning.

An extension's folder may also hold the module that builds the same sources when the package
is first imported (`_backend = load(name="_ops", sources=[...])`, PyTorch's just-in-time build,
https://docs.pytorch.org/docs/stable/cpp_extension.html#torch.utils.cpp_extension.load), beside a
`setup.py` that builds them ahead of time (`pip install ./ops`, which a README offers as
optional). Without the `setup.py` the package still runs: the run-time build is the normal path
(its own findings say what breaks), the script the second way to build the same.

`superseded_builds` reads the build scripts from bytes: the source files each names (string
literals ending in a C, C++ or CUDA extension), and, for a script in a folder below another
script's, whether the nearest one above spells every one of them by its path from that folder; or
whether a Python module of its own folder that calls `cpp_extension.load` names every one of them
too. A script that names no source, or one neither build spells, keeps its verdicts.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.rules.python.read_once import ReadOnce

_SOURCE = re.compile(rb"""["']((?:\./)?[\w.+/-]+\.(?:cu|cuh|cpp|cc|cxx|c|hip))["']""")
"""A source file a build script names as a string (`"ft_attention.cpp"`, `"csrc/gemv_cuda.cu"`)."""
_TEXT_LIMIT = 80
_EXTENSION_NAME = re.compile(rb"""\b(?:CUDAExtension|CppExtension)\(\s*(?:name\s*=\s*)?["']([\w.]+)["']""")
"""The module an extension builds: `CUDAExtension(name="_ops", ...)`, `CUDAExtension("_ops", [...])`."""
_LOAD = re.compile(rb"(?:\bcpp_extension\.|(?<![\w.]))load\(")
"""A call of PyTorch's run-time build (`load(name=..., sources=[...])`, `cpp_extension.load(...)`)."""


def superseded_builds(
    scripts: Mapping[str, Callable[[], bytes]], modules: Mapping[str, Callable[[], bytes]] | None = None
) -> dict[str, Evidence]:
    """Display path -> where another build compiles its first source, for each `setup.py` whose
    every named source the nearest `setup.py` in a folder above it names too, by its path from
    there, or a module of `modules` (the scan's Python modules by display path) in its own folder
    names too in a run-time build (`cpp_extension.load`). `scripts` are the scan's `setup.py` files."""
    folders = {posixpath.dirname(path): path for path in scripts}
    found: dict[str, Evidence] = {}
    text = ReadOnce(scripts)
    beside = _modules_beside(modules or {}, folders.keys())
    module_text = ReadOnce(modules or {})
    for path in sorted(scripts):
        folder = posixpath.dirname(path)
        sources = {match.group(1).decode("ascii").removeprefix("./") for match in _SOURCE.finditer(text(path))}
        if not sources:
            continue
        outer = _nearest_above(folder, folders)
        if outer is not None:
            above = posixpath.dirname(outer)
            relative = posixpath.relpath(folder, above) if above else folder
            evidence = _naming(outer, text(outer), [f"{relative}/{source}" for source in sorted(sources)])
            if evidence is not None:
                found[path] = evidence
                continue
        own = [(module, module_text(module)) for module in beside.get(folder, [])]
        if not _imported_with_fallback(text(path), [data for _, data in own]):
            continue
        for module, data in own:
            if b"cpp_extension" not in data or not _LOAD.search(data):
                continue  # no run-time build
            evidence = _naming(module, data, [posixpath.basename(source) for source in sorted(sources)])
            if evidence is not None:
                found[path] = evidence
                break
    return found


def _imported_with_fallback(script: bytes, modules: list[bytes]) -> bool:
    """Whether every extension `script` builds is imported where its import may fail
    (`try: import _ops as _backend` / `except ImportError: from .backend import _backend`), in
    the folder's modules (`modules`): the package runs without it."""
    names = {match.group(1) for match in _EXTENSION_NAME.finditer(script)}
    code = [data for data in modules if b"ImportError" in data]
    return bool(names) and all(any(re.search(rb"\bimport[ \t]+" + re.escape(name) + rb"\b", data) for data in code) for name in names)


def _modules_beside(modules: Iterable[str], folders: Iterable[str]) -> dict[str, list[str]]:
    """Folder -> the path of each module of `modules` in it but its `setup.py`, for the `folders` given;
    read only for a script whose sources no build above it names (a top-level `setup.py`'s folder holds
    every top-level module)."""
    wanted = frozenset(folders)
    found: dict[str, list[str]] = {}
    for path in sorted(modules):
        folder = posixpath.dirname(path)
        if folder in wanted and posixpath.basename(path) != "setup.py":
            found.setdefault(folder, []).append(path)
    return found


def _naming(path: str, data: bytes, spelled: list[str]) -> Evidence | None:
    """Where `data` (the file `path`) first spells one of `spelled`, where it spells every one."""
    places = [data.find(text.encode()) for text in spelled]
    if not places or min(places) < 0:
        return None
    first = min(places)
    line = data.count(b"\n", 0, first) + 1
    start = data.rfind(b"\n", 0, first) + 1
    end = data.find(b"\n", first)
    quoted = " ".join(data[start : len(data) if end < 0 else end].decode("utf-8", "replace").split())
    return Evidence(path, line, quoted[:_TEXT_LIMIT])


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
