"""The cache: each file's analysis, and the parsed catalog, kept while nothing they depend on changes.

A rescan of an unchanged tree then reads each file, hashes it and loads its findings instead
of parsing and walking it; the pre-commit hook skips parsing the catalog. Like ruff's
cache, it is an optimisation only: `--no-cache` gives the same findings, and `cudaudit clean`
removes it.

Where (the first that applies): `$CUDAUDIT_CACHE_DIR`; `cache-dir` in `[tool.cudaudit]`, relative
to that file's folder and never outside it; else the user's cache folder (platformdirs:
`~/.cache/cudaudit` on Linux, `~/Library/Caches/cudaudit` on macOS, `%LOCALAPPDATA%\\cudaudit\\Cache`
on Windows). Nothing is written into a scanned tree unless configured so.

Keys (blake2b): a file's result is keyed by its content digest, its display path (findings
name it), its kinds and enabled rules, the digest of the facts the project index gives it
(`FileFacts.digest`: the porting headers it reaches, its counterparts, the texts of the files a
requirements file includes, whether another workflow answers CDA710...), the modules beside a
Python file (a sibling module is the project's own), and the scan's fingerprint: cudaudit's
version, the size and modification time of each of its own modules and data files (so an edit in
a development checkout is a miss, not a stale answer), the catalog's TOML and the analysis
settings (targets, torch pin, first-party modules). What the project index reads from one file
(its porting-layer facts, a build script's ROCm branch, a workflow's jobs) is kept the same way,
keyed by the reader, the file's path and digest, cudaudit's code and the catalog; the index's
answers to the scan's files are kept whole (`index_answers`), and so is which error sites each
documented script's run reaches (`entry_reach`), keyed by every Python module's digest. The parsed catalog is keyed by its
TOML's digest and cudaudit's code.

The entries of one kind made under one fingerprint (the results of a scan of one tree with one
set of settings, or the index's readings under one version of the code) are kept in one pack
under `v2/`, a slot per file: read once by the first lookup, written once at the end of the scan
that added to it, atomically (a temporary name, then one rename), so two scans sharing the cache
each read a whole pack; a slot holds its file's latest entry only, so a pack does not grow as
files are edited, and a tree's results and digests drop the slots of files that are gone. Packs are not synced to disk: one a crash tore fails to load, counts as empty
and is written again. They are read with the safe reader, as pickles, by an unpickler that builds
only cudaudit's data classes and builtin containers (and, for the catalog, its `Catalog` and
`packaging`'s version ranges): a pack planted in the cache folder can forge a finding, never run code. A pack is never removed except by `cudaudit clean`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import itertools
import os
import pickle
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

from cudaudit import __version__
from cudaudit.rules.catalog import Catalog
from cudaudit.safe_read import UnreadableFile, is_within, read_tree_file

CACHE_ENV = "CUDAUDIT_CACHE_DIR"
FORMAT = "v2"
"""The layout and entry format; a change moves the cache to a new folder rather than misreading the old."""
MAX_ENTRY_BYTES = 64 * 1024 * 1024
MAX_PACK_BYTES = 512 * 1024 * 1024
"""A pack holds a tree's entries: a million-line tree's results take a few megabytes."""
_PACKAGES = ("cudaudit", "cudaudit.rules", "cudaudit.fixers", "cudaudit.resolvers")
_DEPENDENCIES = ("ast", "yaml", "tree_sitter", "tree_sitter_cuda", "libcst", "dockerfile_parse", "packaging")
"""Modules whose behaviour findings follow (`ast` parses by the running Python's grammar, libyaml
composes workflows, tree-sitter parses CUDA): an upgrade of one replaces its files."""
_CODE_SUFFIXES = (".py", ".toml", ".tsv")
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# cudaudit's cache (https://bford.info/cachedir/)\n"
_ALLOWED = {
    "builtins": frozenset({"frozenset", "set", "tuple", "list", "dict", "str", "bytes", "int", "float", "bool", "complex"}),
    "datetime": frozenset({"date", "datetime", "time", "timedelta", "timezone"}),
}
"""Besides the data classes of `_DATA_MODULES`: the containers and the dates TOML may hold (the
catalog's tables keep what its TOML says)."""
_DATA_MODULES = frozenset({
    "cudaudit.model",
    "cudaudit.facts",
    "cudaudit.rules.kernels.porting_layer",
    "cudaudit.rules.kernels.preprocessor",
})
"""Modules whose data classes and enums entries hold: findings, and what the project index reads."""
_counter = itertools.count()


class CacheLocationError(ValueError):
    """A configured cache folder that cannot be used; the message says which and why."""


def cache_folder(configured: str | None, config_root: Path) -> Path:
    """Where the cache lives; see the module docstring. `configured` is `[tool.cudaudit] cache-dir`."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).absolute()
    if configured:
        folder = (config_root / configured).absolute()
        if not is_within(os.path.realpath(folder), os.path.realpath(config_root)):
            raise CacheLocationError(f"cache-dir {configured!r} leaves the project folder {config_root}; "
                                     f"name a folder inside it, or set {CACHE_ENV}")
        return folder
    import platformdirs

    return Path(platformdirs.user_cache_dir("cudaudit", appauthor=False))


class Cache:
    """One cache folder: the parsed catalog, and stores of per-file entries (`store`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._entries = folder / FORMAT

    def catalog(self, digest: str, parse: Callable[[], Catalog]) -> Catalog:
        """The catalog parsed from the TOML whose digest is `digest` by this same code, as an
        earlier run kept it, else `parse()`, kept for the next run (`load_catalog`). One entry,
        replaced on a miss: a catalog of 1.3 MB per version of the code would pile up in a
        development checkout, where every edit is a new version."""
        key = _digest(FORMAT.encode(), code_fingerprint().encode(), digest.encode())
        path = self._entries / "catalog" / "parsed"
        found = self._load(path, unpickler=_CatalogUnpickler)
        if isinstance(found, tuple) and len(found) == 2 and found[0] == key and isinstance(found[1], Catalog):
            return found[1]
        catalog = parse()
        self._store(path, (key, catalog))
        return catalog

    def store(self, namespace: str, fingerprint: str) -> Store:
        """The entries of `namespace` (per-file `results`, the project index's per-file `readings`)
        made under `fingerprint` (`scan_fingerprint`, `code_fingerprint`)."""
        return Store(self, namespace, fingerprint)

    def clean(self) -> bool:
        """Remove what cudaudit wrote here (its entries and the cache tag, not anything else in the
        folder); whether there was anything to remove."""
        found = False
        for name in sorted(os.listdir(self.folder)) if self.folder.is_dir() else ():
            path = self.folder / name
            if name.startswith("v") and name[1:].isdigit() and path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
                found = True
        tag = self.folder / "CACHEDIR.TAG"
        if tag.is_file():
            tag.unlink()
            found = True
        if found and self.folder.is_dir() and not any(self.folder.iterdir()):
            self.folder.rmdir()
        return found

    def _load(self, path: Path, limit: int = MAX_ENTRY_BYTES, unpickler: type[_DataUnpickler] | None = None) -> Any:
        """The object stored at `path`, or None when it is missing, unreadable or not a valid entry."""
        try:
            data = read_tree_file(path, self.folder, limit)
        except UnreadableFile:
            return None
        try:
            return (unpickler or _DataUnpickler)(io.BytesIO(data)).load()
        except Exception:  # noqa: BLE001 - a torn, foreign or planted entry is a miss, and is rewritten
            return None

    def _store(self, path: Path, value: Any) -> None:
        """Write an entry atomically; a cache that cannot be written only makes the next scan slower."""
        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - a value that does not pickle is simply not cached
            return
        try:
            if not self.folder.is_dir():
                self.folder.mkdir(parents=True, exist_ok=True)
                (self.folder / "CACHEDIR.TAG").write_text(_TAG, encoding="utf-8")
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.{next(_counter)}.tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(temporary, path)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
        except OSError:
            return


class Store:
    """Entries of one kind (`namespace`) made under one fingerprint: what every entry depends on
    besides its own key parts, kept together in one pack file.

    Each entry sits in a slot (a file's display path, or a reader and a path) with the key it was
    made under; a slot holds one entry, the latest, so an edited file replaces its old entry
    rather than adding one. The pack is read once, on the first lookup (one read through the safe
    reader and one unpickling, where one file per entry cost a resolved path and an open each),
    and written once, by `save`, with what this scan added merged into what is on disk by then."""

    def __init__(self, cache: Cache, namespace: str, fingerprint: str) -> None:
        self._cache = cache
        self._fingerprint = fingerprint.encode()
        self._path = cache._entries / namespace / f"{_digest(self._fingerprint)}.pack"
        self._entries: dict[str, Any] | None = None
        self._added: dict[str, tuple[str, Any]] = {}

    def key(self, *parts: str) -> str:
        return _digest(self._fingerprint, *(part.encode("utf-8", "surrogateescape") for part in parts))

    def get(self, slot: str, key: str) -> Any:
        """The value stored in `slot` under `key`, or None (missing, made under another key, torn: a miss)."""
        if self._entries is None:
            self._entries = self._read()
        found = self._entries.get(slot)
        if isinstance(found, tuple) and len(found) == 2 and found[0] == key:
            return found[1]
        return None

    def holds_nothing(self) -> bool:
        """Whether no earlier scan left an entry here: every value will be computed."""
        if self._entries is None:
            self._entries = self._read()
        return not self._entries

    def put(self, slot: str, key: str, value: Any) -> None:
        """Keep `value` in `slot` under `key`; written by `save`."""
        self._added[slot] = (key, value)

    def remember(self, slot: str, parts: tuple[str, ...], compute: Callable[[], Any], valid: Callable[[Any], bool]) -> Any:
        """The value stored for `parts` when it is `valid`, else `compute()`, stored for the next run."""
        key = self.key(*parts)
        value = self.get(slot, key)
        if value is not None and valid(value):
            return value
        value = compute()
        self.put(slot, key, value)
        return value

    def save(self, seen: AbstractSet[str] | None = None) -> None:
        """Write the pack when this scan added entries: those on disk now (another scan may have
        written since this one read), with this scan's on top. One atomic rename: a scan reading at
        the same time sees the old pack or the new one, whole; of two scans saving at once, the
        last one's pack stands and the other's additions are misses next time.

        `seen`: every slot the scan had a file for, where the fingerprint holds the scan's roots, so
        that any scan under it meets the same files; the slots of files gone since are dropped."""
        stale = seen is not None and self._entries is not None and not self._entries.keys() <= seen
        if not self._added and not stale:
            return
        merged = self._read()
        merged.update(self._added)
        if seen is not None:
            merged = {slot: entry for slot, entry in merged.items() if slot in seen}
        self._cache._store(self._path, merged)
        self._entries, self._added = merged, {}

    def _read(self) -> dict[str, Any]:
        found = self._cache._load(self._path, MAX_PACK_BYTES)
        return found if isinstance(found, dict) else {}


def scan_fingerprint(catalog_digest: str, settings: Any) -> str:
    """What every file's result depends on besides the file: see the module docstring."""
    return _digest(__version__.encode(), code_fingerprint().encode(), catalog_digest.encode(),
                   repr(canonical(settings)).encode())


@functools.cache
def code_fingerprint() -> str:
    """The running Python, and the size and modification time of every module and data file of
    cudaudit and of the modules of `_DEPENDENCIES`, hashed (about four hundred `stat` calls, once
    per process): an edit in a development checkout, or an upgrade, is a miss, not a stale answer."""
    folders: set[str] = set()
    for package in _PACKAGES:
        spec = importlib.util.find_spec(package)
        locations = (spec.submodule_search_locations if spec else None) or ()
        folders.update(os.path.realpath(p) for p in locations)
    seen = [sys.version, sys.implementation.cache_tag or ""]
    for folder in sorted(folders):
        seen.extend(_code_files(folder, ""))
    for module in _DEPENDENCIES:
        spec = importlib.util.find_spec(module)
        seen.append(f"{module}={spec.origin}:{_stat(spec.origin)}" if spec and spec.origin else f"{module}=None")
    return _digest("\n".join(seen).encode())


def _code_files(folder: str, inside: str) -> Iterator[str]:
    """`path:size:mtime` of each module and data file below `folder` (`inside` it, by name), links
    to files followed, links to folders not (as `os.walk` does). One `scandir` per folder and no
    path arithmetic: the fingerprint is taken by every scan that uses the cache, the pre-commit
    hook's among them."""
    try:
        with os.scandir(folder) as found:
            entries = sorted(found, key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if entry.name != "__pycache__":
                yield from _code_files(entry.path, f"{inside}{entry.name}/")
        elif entry.name.endswith(_CODE_SUFFIXES):
            yield f"{inside}{entry.name}:{_stat(entry.path)}"


def _stat(path: str) -> str:
    try:
        status = os.stat(path)
    except OSError:
        return "missing"
    return f"{status.st_size}:{status.st_mtime_ns}"


def canonical(value: Any) -> Any:
    """`value` as nested tuples that `repr` writes the same way in every process: sets sorted
    (their order follows the per-process string hash), dataclasses and mappings by field."""
    if is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, tuple((f.name, canonical(getattr(value, f.name))) for f in fields(value)))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(canonical(k)), canonical(v)) for k, v in value.items())))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted(repr(canonical(v)) for v in value)))
    if isinstance(value, (list, tuple)):
        return tuple(canonical(v) for v in value)
    if isinstance(value, Path):
        return value.as_posix()
    return value


def _digest(*parts: bytes) -> str:
    """Each part with its length before it, so that no two lists of parts hash alike."""
    return hashlib.blake2b(b"".join(len(part).to_bytes(8, "little") + part for part in parts), digest_size=20).hexdigest()


class _DataUnpickler(pickle.Unpickler):
    """Builds the data classes and enums of cudaudit's data modules (`_DATA_MODULES`), dates and
    builtin containers, and nothing else: the pattern of the pickle documentation's "Restricting Globals"."""

    allowed: ClassVar[Mapping[str, frozenset[str]]] = _ALLOWED
    data_modules: ClassVar[frozenset[str]] = _DATA_MODULES

    def find_class(self, module: str, name: str) -> Any:
        if name in self.allowed.get(module, ()):
            return super().find_class(module, name)
        if module in self.data_modules:
            found = getattr(importlib.import_module(module), name, None)
            if isinstance(found, type) and found.__module__ == module and (is_dataclass(found) or issubclass(found, Enum)):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not cudaudit data")


class _CatalogUnpickler(_DataUnpickler):
    """Builds the parsed catalog too: its data classes, the `Catalog` that holds them, and the
    version ranges of its facts (`packaging`'s specifiers, which set their fields and run nothing)."""

    allowed: ClassVar[Mapping[str, frozenset[str]]] = {
        **_ALLOWED,
        "cudaudit.rules.catalog": frozenset({"Catalog"}),
        "packaging.specifiers": frozenset({"Specifier", "SpecifierSet"}),
    }
    data_modules: ClassVar[frozenset[str]] = _DATA_MODULES | {"cudaudit.rules.catalog"}
