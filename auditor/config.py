"""`[tool.cudaudit]` in `pyproject.toml`: targets, rule selection, excludes, per-file ignores.

The nearest `pyproject.toml` with a `[tool.cudaudit]` table, looking up from the first
scanned path, is the configuration; its folder is the root that exclude and per-file
patterns are relative to. Command-line options override it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cudaudit.model import DEFAULT_TARGETS, TARGETS
from cudaudit.safe_read import UnreadableFile, read_tree_file
from cudaudit.tomlcompat import tomllib

KNOWN_KEYS = ("targets", "select", "ignore", "exclude", "per-file-ignores", "cache-dir")


class ConfigError(ValueError):
    """The user's configuration cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Config:
    root: Path
    source: Path | None = None
    targets: tuple[str, ...] = DEFAULT_TARGETS
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cache_dir: str | None = None
    """Where results are cached, relative to `root` (`cache.cache_folder`); None: the user's cache folder."""


def find_config(start: Path) -> Path | None:
    """The nearest `pyproject.toml` at or above `start` that has a `[tool.cudaudit]` table."""
    folder = start.absolute()
    if not os.path.isdir(folder):
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if os.path.isfile(pyproject) and b"[tool.cudaudit" in _read_bytes(pyproject):
            return pyproject
    return None


def load_config(pyproject: Path | None, default_root: Path) -> Config:
    """The configuration in `pyproject`, or the defaults rooted at `default_root`."""
    if pyproject is None:
        return Config(root=default_root.absolute())
    try:
        data = tomllib.loads(_read_bytes(pyproject).decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{pyproject}: not valid TOML: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"{pyproject}: nested too deeply to read") from None
    where = f"{pyproject}: [tool.cudaudit]"
    tool = data.get("tool", {})
    table = tool.get("cudaudit", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - set(KNOWN_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(KNOWN_KEYS)}")
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{where}: per-file-ignores must be a table of pattern = [rule ids]")
    return Config(
        root=pyproject.parent.absolute(),
        source=pyproject,
        targets=_targets(where, table.get("targets", list(DEFAULT_TARGETS))),
        select=_strings(where, "select", table.get("select", [])),
        ignore=_strings(where, "ignore", table.get("ignore", [])),
        exclude=_strings(where, "exclude", table.get("exclude", [])),
        per_file_ignores={
            pattern: _strings(where, f"per-file-ignores.{pattern!r}", ids) for pattern, ids in per_file.items()
        },
        cache_dir=_string(where, "cache-dir", table.get("cache-dir")),
    )


def parse_targets(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validated target names, in cudaudit's report order."""
    wanted = {name.strip().lower() for name in names if name.strip()}
    unknown = sorted(wanted - set(TARGETS))
    if unknown:
        raise ConfigError(f"unknown target {unknown[0]!r}; choose from {', '.join(TARGETS)}")
    if not wanted:
        raise ConfigError(f"no target given; choose from {', '.join(TARGETS)}")
    return tuple(name for name in TARGETS if name in wanted)


def _targets(where: str, value: Any) -> tuple[str, ...]:
    names = _strings(where, "targets", value)
    try:
        return parse_targets(names)
    except ConfigError as exc:
        raise ConfigError(f"{where}: targets: {exc}") from None


def _strings(where: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def _string(where: str, key: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string")
    return value


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, read as any file of a scanned tree is (regular, bounded, no link out of its folder)."""
    try:
        return read_tree_file(path, path.absolute().parent)
    except UnreadableFile as exc:
        raise ConfigError(f"{path}: {exc.reason}") from None
