"""Reading the project's files from the index's readers, each at most once.

The project index hands its readers a reader per file rather than the bytes, so that files no
reader needs are never read. Readers that look at some files several times keep what they read
here; a file that cannot be read reads as empty: it adds no facts, and its own analysis says why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from cudaudit.filekinds import is_test_path


class ReadOnce:
    """`read(path)`: the bytes of `sources[path]()`, read on the first call only; b"" where reading fails."""

    def __init__(self, sources: Mapping[str, Callable[[], bytes]]) -> None:
        self._sources = sources
        self._texts: dict[str, bytes] = {}

    def __call__(self, path: str) -> bytes:
        if path not in self._texts:
            self._texts[path] = read_or_empty(self._sources[path])
        return self._texts[path]


def read_or_empty(read: Callable[[], bytes]) -> bytes:
    """The bytes `read` gives; b"" where reading fails."""
    try:
        return read()
    except Exception:  # noqa: BLE001 - an unreadable file adds no facts; its own analysis says why
        return b""


def outside_tests(sources: Mapping[str, Callable[[], bytes]]) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of each of `sources` outside the test suite that can be read, once each, in the
    mapping's order: what the project itself passes, sets or documents, where tests may pass anything."""
    for path, read in sources.items():
        if is_test_path(path):
            continue
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable file adds no facts; its own analysis says why
            continue
        yield path, data
