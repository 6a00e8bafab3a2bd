"""Optional accelerator packages that no install route of the project asks for.

Some packages are never installed by PyTorch or by the usual libraries: a user gets them only by
asking (`pip install xformers`, a FlashAttention build, NVIDIA Apex from source) or from a base
image that ships them. A module may try one and go on without it:

    try:
        import xformers.ops
        FAST_ATTENTION = True
    except ImportError:
        FAST_ATTENTION = False

Where no dependency file, Dockerfile, install script or README of the module's part of the project
names the package, no install of the project has it, on any target: the handler runs everywhere,
NVIDIA's CUDA included, and the import fails alike on every install. The import concern
(`concerns/imports.py`) then quiets it on ROCm (a user who asks for the package there installs its
ROCm build, as one on CUDA installs the CUDA one), and on the targets without CUDA too for a package
no machine without a GPU can install; one the project installs keeps its verdicts (its fallback
silently replaces, on ROCm, what the CUDA install runs).

The packages are the catalog's `[[installed_on_request]]` tables, each with the words its install
spells (`flash-attn`, `flash_attn`, an image that ships it). A file names a package where it spells
one of them as a word of its own, anywhere in its text (a requirement, `pip install`, a comment
about installing it, a base image): a mention keeps the verdicts. A file speaks for the nearest
folder at or above its own that holds Python code of the project, and the folders below it:
`tools/caption/requirements.txt` for the caption tool; `requirements/gpu.txt`, `docs/install.md` or
`containers/docker/Dockerfile` for the whole project. The index judges a module only where an
install of its part of the project is declared (a requirements, pyproject, setup or environment
file there or above, or a Cog configuration, `cog.yaml`), in a scan that sees the project's
documents (a folder's scan): elsewhere it knows nothing of what is installed.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cudaudit.rules.catalog import Catalog

Spellings = tuple[tuple[str, tuple[str, ...]], ...]
"""(top-level module, the words an install of it spells) for each package installed only on request."""

@cache
def requested_spellings(catalog: Catalog) -> Spellings:
    """The catalog's `[[installed_on_request]]` packages, read once per catalog."""
    return tuple(sorted(
        (table["module"], tuple(table["installs"]))
        for _, tables in catalog.tables("installed_on_request") for table in tables
    ))


def named_packages(data: bytes, spellings: Spellings) -> tuple[str, ...]:
    """The packages of `spellings` whose install the text `data` spells as a word of its own (not
    part of a longer name: `flash_attn_func`, `--xformers` are no install), in any case."""
    found = []
    lowered = data.lower()
    for module, words in spellings:
        for word in words:
            if word.encode() in lowered and _word(word).search(lowered) is not None:
                found.append(module)
                break
    return tuple(found)


@cache
def _word(word: str) -> re.Pattern[bytes]:
    return re.compile(rb"(?<![\w-])" + re.escape(word.lower().encode()) + rb"(?![\w])")


def scope(path: str, code: frozenset[str]) -> str:
    """The folder a file of an install route speaks for: the nearest at or above its own of `code`,
    the folders that hold Python code of the project (at any depth), or the scan's top."""
    folders = _folders(path)
    return next((folder for folder in folders if folder in code), folders[-1])


def code_folders(paths: Iterable[str]) -> frozenset[str]:
    """The folders at or above each of `paths` (the scan's Python modules)."""
    return frozenset(folder for path in paths for folder in _folders(path))


def unrequested_packages(
    modules: Mapping[str, frozenset[str]],
    installs: Iterable[str],
    named: Mapping[str, tuple[str, ...]],
    spellings: Spellings,
    code: frozenset[str],
) -> dict[str, tuple[str, ...]]:
    """Display path -> the packages of `spellings` that the module imports (`modules`: each module's
    `import_paths.import_names`) and that no file of `named` (display path -> `named_packages`) speaks
    for its folder about, for the modules below an install declaration of `installs` (display paths
    of requirements, pyproject, setup and environment files); `code` are the folders that hold the
    project's Python code (`code_folders`), which say what each file speaks for (`scope`)."""
    declared = {scope(path, code) for path in installs}
    naming: dict[str, set[str]] = {}
    for path, packages in named.items():
        naming.setdefault(scope(path, code), set()).update(packages)
    found: dict[str, tuple[str, ...]] = {}
    for path, imported in sorted(modules.items()):
        wanted = {module for module, _ in spellings if module in imported}
        if not wanted:
            continue
        folders = _folders(path)
        if not declared.intersection(folders):
            continue
        asked = set().union(*(naming.get(folder, set()) for folder in folders))
        if wanted - asked:
            found[path] = tuple(sorted(wanted - asked))
    return found


def _folders(path: str) -> list[str]:
    """The folders at or above `path`'s, the top (`""`, or `/` for an absolute path) last."""
    folders = [posixpath.dirname(path)]
    while folders[-1] and posixpath.dirname(folders[-1]) != folders[-1]:
        folders.append(posixpath.dirname(folders[-1]))
    return folders
