"""The cache: the catalog's parsed TOML, kept while the text is unchanged.

Parsing the catalog's megabyte of TOML with `tomllib` is most of what a scan of a few files
(the pre-commit hook's) costs; loading what an earlier run parsed takes milliseconds. Like ruff's
cache, it is an optimisation only: `--no-cache` gives the same findings, and `cudaudit clean`
removes it.

Where (the first that applies): `$CUDAUDIT_CACHE_DIR`; `cache-dir` in `[tool.cudaudit]`, relative
to that file's folder and never outside it; else the user's cache folder (platformdirs:
`~/.cache/cudaudit` on Linux, `~/Library/Caches/cudaudit` on macOS, `%LOCALAPPDATA%\\cudaudit\\Cache`
on Windows). Nothing is written into a scanned tree unless configured so.

Entries are one file each under `v1/`, keyed (blake2b) by what they were computed from, written
atomically (a temporary name, then one rename), so two runs sharing the cache each read whole
entries, and read with the safe reader. They are not synced to disk: an entry a crash tore fails
to load, counts as a miss and is written again. Entries are pickles read back by an unpickler that
builds only cudaudit's data classes, dates and builtin containers: an entry planted in the cache
folder can forge data, never run code.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

from cudaudit.safe_read import UnreadableFile, is_within, read_tree_file
from cudaudit.tomlcompat import tomllib

CACHE_ENV = "CUDAUDIT_CACHE_DIR"
FORMAT = "v1"
"""The layout and entry format; a change moves the cache to a new folder rather than misreading the old."""
MAX_ENTRY_BYTES = 64 * 1024 * 1024
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# cudaudit's cache (https://bford.info/cachedir/)\n"
_ALLOWED = {
    "builtins": frozenset({"frozenset", "set", "tuple", "list", "dict", "str", "bytes", "int", "float", "bool", "complex"}),
    "datetime": frozenset({"date", "datetime", "time", "timedelta", "timezone"}),
}
"""Besides the classes defined in `cudaudit.model`: the containers and the dates TOML may hold."""
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
    """One cache folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._entries = folder / FORMAT

    def parse_toml(self, text: str) -> dict[str, Any]:
        """`tomllib.loads(text)`, or what it gave for the same text before (JSON-like data: fast to load)."""
        key = _digest(FORMAT.encode(), text.encode("utf-8"))
        path = self._entries / "toml" / key
        found = self._load(path)
        if isinstance(found, tuple) and len(found) == 2 and found[0] == key and isinstance(found[1], dict):
            return found[1]
        data = tomllib.loads(text)
        self._store(path, (key, data))
        return data

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

    def _load(self, path: Path) -> Any:
        """The object stored at `path`, or None when it is missing, unreadable or not a valid entry."""
        try:
            data = read_tree_file(path, self.folder, MAX_ENTRY_BYTES)
        except UnreadableFile:
            return None
        try:
            return _DataUnpickler(io.BytesIO(data)).load()
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


def _digest(*parts: bytes) -> str:
    hasher = hashlib.blake2b(digest_size=20)
    for part in parts:
        hasher.update(len(part).to_bytes(8, "little"))
        hasher.update(part)
    return hasher.hexdigest()


class _DataUnpickler(pickle.Unpickler):
    """Builds cudaudit's data classes (`cudaudit.model`), dates and builtin containers, and nothing
    else: the pattern of the pickle documentation's "Restricting Globals"."""

    def find_class(self, module: str, name: str) -> Any:
        if name in _ALLOWED.get(module, ()):
            return super().find_class(module, name)
        if module == "cudaudit.model":
            from cudaudit import model

            found = getattr(model, name, None)
            if isinstance(found, type) and found.__module__ == module:  # its own classes, not what it imports
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not cudaudit data")
