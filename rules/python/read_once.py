"""Reading the project's files from the index's readers, each at most once.

The project index hands its readers a reader per file rather than the bytes, so that files no
reader needs are never read. Readers that look at some files several times keep what they read
here; a file that cannot be read reads as empty: it adds no facts, and its own analysis says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping


class ReadOnce:
    """`read(path)`: the bytes of `sources[path]()`, read on the first call only; b"" where reading fails."""

    def __init__(self, sources: Mapping[str, Callable[[], bytes]]) -> None:
        self._sources = sources
        self._texts: dict[str, bytes] = {}

    def __call__(self, path: str) -> bytes:
        if path not in self._texts:
            try:
                self._texts[path] = self._sources[path]()
            except Exception:  # noqa: BLE001 - an unreadable file adds no facts; its own analysis says why
                self._texts[path] = b""
        return self._texts[path]
