"""The scanned project's own modules.

Inside flash-attention, `from flash_attn import ...` is the project importing itself, not
a dependency on a CUDA-only library; the same goes for a script importing a module that
sits beside it. Such imports are never lock-in findings. `ModuleMap` names every module of the
scan, for the project index's import graph (`rules/python/import_paths.py`).
"""

from __future__ import annotations

import ast
import os
import posixpath
from collections.abc import Container, Iterable, Iterator
from functools import lru_cache
from pathlib import Path


def first_party_modules(roots: Iterable[Path]) -> frozenset[str]:
    """Packages and modules at the top of each root (or its `src/`), and the roots themselves.

    `os.path` answers False for a folder the scan may not enter, where `Path.is_file` raises."""
    names: set[str] = set()
    for root in roots:
        root = root.absolute()
        if not os.path.isdir(root):
            continue
        if os.path.isfile(root / "__init__.py"):
            names.add(root.name)
        for base in (root, root / "src"):
            try:
                children = list(base.iterdir())
            except OSError:
                continue
            for child in children:
                if child.suffix == ".py" and os.path.isfile(child):
                    names.add(child.stem)
                elif os.path.isfile(child / "__init__.py"):
                    names.add(child.name)
    return frozenset(names)


def namespace_modules(paths: Iterable[str], roots: Iterable[str] = (), names: Container[str] = ()) -> tuple[str, ...]:
    """The modules of the namespace packages at the top of each root (or its `src/`) that bear one of
    `names` (the libraries an import could be taken for), by two-part dotted name, from the scan's
    Python file paths alone: `awq.quantize` for `awq/quantize/qmodule.py` and `awq.entry` for
    `awq/entry.py` where the scan has no `awq/__init__.py`. Python imports such a folder as a
    package, so `from awq.quantize import x` there is the project's own code; the folder's name alone
    is not (`import awq` finds an installed regular package before a namespace folder). Only those
    names, so that a module added to `tools/` changes no file's facts. Without roots, the paths are
    taken as relative to the project's top (a rule's example)."""
    tops = [posixpath.join(os.path.abspath(root).replace(os.sep, "/"), "") for root in roots]
    relative = {rel for path in paths if path.endswith(".py") and (rel := _below(path, tops)) is not None}
    found = set()
    for rel in relative:
        parts = rel.split("/")
        if parts[0] == "src" and len(parts) > 2:
            parts = parts[1:]
        if len(parts) < 2 or parts[0] not in names:
            continue
        base = rel[: len(rel) - len("/".join(parts))] + parts[0]
        second = parts[1][:-3] if len(parts) == 2 else parts[1]
        if second.isidentifier() and second != "__init__" and base + "/__init__.py" not in relative:
            found.add(f"{parts[0]}.{second}")
    return tuple(sorted(found))


def _below(path: str, tops: list[str]) -> str | None:
    """`path` relative to the root it lies in, with `/` separators; as given where there are no roots."""
    if not tops:
        return posixpath.normpath(path.replace(os.sep, "/"))
    absolute = os.path.abspath(path).replace(os.sep, "/")
    for top in tops:
        if absolute.startswith(top):
            return absolute[len(top) :]
    return None


def is_first_party(module: str, first_party: frozenset[str], namespace: Iterable[str] = ()) -> bool:
    """`pkg.ops` for a top-level module `pkg`, or `ns.ops.kernels` for a namespace package's `ns.ops`."""
    parts = module.split(".", 2)
    return parts[0] in first_party or (len(parts) > 1 and f"{parts[0]}.{parts[1]}" in namespace)


def sibling_modules(folder: str) -> tuple[str, ...]:
    """The top-level names `is_sibling_module` finds in `folder` (`x` for `x.py`, and for `x/`
    with an `__init__.py`), sorted: what a cached analysis of a file in `folder` depends on
    besides the file itself.

    One `scandir`: its entries know their own type (a link is followed, as `is_sibling_module`'s
    `isfile` follows it), so only a folder costs a `stat`, of its `__init__.py`."""
    modules = set()
    try:
        with os.scandir(folder or ".") as listing:
            for entry in listing:
                if entry.name.endswith(".py") and _is_file(entry):
                    modules.add(entry.name[:-3])
                if _is_folder(entry) and os.path.isfile(os.path.join(entry.path, "__init__.py")):
                    modules.add(entry.name)
    except OSError:
        return ()
    return tuple(sorted(modules))


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def is_sibling_module(path: str, module: str) -> bool:
    """Whether `module`'s top level sits beside the file at `path` (script-style imports)."""
    folder = Path(path).parent
    top = module.partition(".")[0]
    return os.path.isfile(folder / f"{top}.py") or os.path.isfile(folder / top / "__init__.py")


class ModuleMap:
    """The scan's own Python modules by dotted name, from their display paths alone.

    A folder is a package where the scan has its `__init__.py` (or its parent's: a namespace package
    inside a regular one); a module's dotted name starts at
    its outermost package (`src/pkg/ops/kernels.py` is `pkg.ops.kernels` when `src/` has no
    `__init__.py`), and a module outside any package is its file name (a script's sibling), also
    found by the names its folders give it as namespace packages (`networks.lora`); a package's
    module is also found by the names namespace folders above its package give it (`outer_names`:
    `proj.core.utils` for `proj/core/utils.py` without `proj/__init__.py`), as a
    checkout's root on the path imports it.
    Nothing is read from the disk: the names are what the scan's file list says."""

    def __init__(self, paths: Iterable[str]) -> None:
        self._paths = frozenset(paths)
        self._packages: dict[str, bool] = {}
        self._by_name: dict[str, list[str]] = {}
        self._names: dict[str, str] = {}
        self._resolved: dict[tuple[str, int, str, tuple[str, ...]], frozenset[str]] = {}
        """`resolve`'s answers: the index's readers resolve the same import statements again and again
        (75,097 times, 10,200 distinct, on the issue-9 trees)."""
        for path in sorted(self._paths):
            name = self._dotted(path)
            self._names[path] = name
            self._by_name.setdefault(name, []).append(path)
            for alias in (*self._namespace_names(path, name), *self.outer_names(path)):
                self._by_name.setdefault(alias, []).append(path)

    def _dotted(self, path: str) -> str:
        folder, file = posixpath.split(path)
        parts = [] if file == "__init__.py" else [file[:-3]]
        while folder and self._is_package(folder):
            folder, package = posixpath.split(folder)
            parts.append(package)
        return ".".join(reversed(parts))

    def _namespace_names(self, path: str, name: str) -> list[str]:
        """The names a module outside any package is also imported by, through the folders above it
        as namespace packages: `networks.lora` for `networks/lora.py` where `networks/` has no
        `__init__.py`, as a script beside `networks/` imports it (`from networks.lora import
        Network`: Python finds the folder on the script's path). Folders are taken up to the first
        whose name is no identifier."""
        if "." in name or posixpath.basename(path) == "__init__.py":
            return []
        aliases = []
        folder = posixpath.dirname(path)
        while folder and (part := posixpath.basename(folder)).isidentifier():
            name = f"{part}.{name}"
            aliases.append(name)
            folder = posixpath.dirname(folder)
        return aliases

    def _is_package(self, folder: str) -> bool:
        """A folder with an `__init__.py`, or a namespace package inside one (`pkg/third_party/kernels/`)."""
        known = self._packages.get(folder)
        if known is None:
            known = self._packages[folder] = any(
                f + "/__init__.py" in self._paths for f in (folder, posixpath.dirname(folder)) if f
            )
        return known

    def name(self, path: str) -> str:
        """The dotted name of the module at `path` (`pkg.ops` for `pkg/ops/__init__.py`)."""
        return self._names.get(path, "")

    def import_names(self, path: str) -> list[str]:
        """Every dotted name other modules may import the module at `path` by: its name, then those
        its folders give it as namespace packages (`ldm_patched.modules.model_management` for
        `ldm_patched/modules/model_management.py` where no folder has an `__init__.py`)."""
        name = self.name(path)
        return [name, *self._namespace_names(path, name)] if name else []

    def outer_names(self, path: str) -> list[str]:
        """The names a module of a regular package is also imported by where the folders above its
        outermost package are namespace packages: `proj.core.utils` for `proj/core/utils.py` where
        `proj/core/` has an `__init__.py` and `proj/` none (PEP 420), as a checkout's root on the
        path imports it. Folders are taken up to the first whose name is no identifier; a name whose
        first folder sits inside a package is none: for `pkg/vendor/tools/seg/utils.py`, where `seg/`
        and `pkg/` have an `__init__.py` and the folders between none, `tools.seg.utils` would need
        `pkg/vendor/` on the path, and `pkg.vendor.tools.seg.utils` is the name."""
        name = self.name(path)
        parts = name.split(".") if name else []
        inside = len(parts) if posixpath.basename(path) == "__init__.py" else len(parts) - 1
        if inside < 1:
            return []  # a module outside any package: `_namespace_names`
        folder = posixpath.dirname(path)
        for _ in range(inside):
            folder = posixpath.dirname(folder)
        aliases = []
        while folder and (part := posixpath.basename(folder)).isidentifier():
            name = f"{part}.{name}"
            folder = posixpath.dirname(folder)
            if not (folder and self._is_package(folder)):
                aliases.append(name)
        return aliases

    def resolve(self, importer: str, level: int, module: str, names: Iterable[str] = ()) -> set[str]:
        """The scan's modules an import statement in `importer` runs: the module, each name that is a
        submodule of it, and the packages above it (whose `__init__.py` runs first). A function of the
        statement and the importer's folder (of nothing for an absolute import), kept once found."""
        listed = tuple(names)
        key = (posixpath.dirname(importer) if level else "", level, module, listed)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolved[key] = frozenset(self._resolve(importer, level, module, listed))
        return set(found)

    def _resolve(self, importer: str, level: int, module: str, names: tuple[str, ...]) -> set[str]:
        if level:
            folder = posixpath.dirname(importer)
            for _ in range(level - 1):
                folder = posixpath.dirname(folder)
            base = posixpath.join(folder, *module.split(".")) if module else folder
            found = self._file_or_package(base)
            for name in names:
                found |= self._file_or_package(posixpath.join(base, name))
            parent = posixpath.dirname(base) if module else base
            while found and posixpath.join(parent, "__init__.py") in self._paths:
                found.add(posixpath.join(parent, "__init__.py"))
                parent = posixpath.dirname(parent)
            return found
        found = set(self._by_name.get(module, ()))
        for name in names:
            found.update(self._by_name.get(f"{module}.{name}", ()))
        parts = module.split(".")
        if found:
            for end in range(1, len(parts)):
                found.update(self._by_name.get(".".join(parts[:end]), ()))
        return found

    def _file_or_package(self, base: str) -> set[str]:
        return file_or_package(base, self._paths)


def module_map(paths: Iterable[str]) -> ModuleMap:
    """The `ModuleMap` of `paths`, built once per set of paths: the project index's readers each map
    the scan's modules (most of them the same set), and a map is a function of its paths alone, which
    nothing changes once it is built."""
    return _module_map(frozenset(paths))


@lru_cache(maxsize=2)
def _module_map(paths: frozenset[str]) -> ModuleMap:
    return ModuleMap(paths)


def file_or_package(base: str, paths: Container[str]) -> set[str]:
    """Of `paths`, the module `base` names: `base.py`, or the package `base/__init__.py`."""
    return {path for path in (base + ".py", posixpath.join(base, "__init__.py")) if path in paths}


def imported_top_modules(statement: ast.stmt) -> Iterator[str]:
    """The top-level modules an absolute import statement imports (`transformer_engine` of `import
    transformer_engine.pytorch as te`, of `from transformer_engine.pytorch import Linear`)."""
    if isinstance(statement, ast.Import):
        yield from (alias.name.partition(".")[0] for alias in statement.names)
    elif isinstance(statement, ast.ImportFrom) and statement.level == 0 and statement.module:
        yield statement.module.partition(".")[0]
