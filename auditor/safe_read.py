"""Read one file of a scanned tree without letting the tree hang, exhaust or lead the scan astray.

cudaudit reads trees it did not write: pull requests from strangers, extracted archives. Every
file it reads from such a tree goes through `read_tree_file`, which reads only what a file
named in a source tree is expected to be:

- a regular file: a FIFO would block `open()` forever, `/dev/zero` would never end, and a
  tape device rewinds when opened, so anything else is refused from its `stat`, before it is
  opened (and again from `fstat` after, in case the path changed in between);
- inside the root it belongs to, once every symbolic link on the way is resolved: a link may
  point elsewhere in the tree, never out of it (`requirements.txt -> /etc/shadow`);
- no larger than the limit, checked before reading and enforced while reading, so a file
  that grows, or lies about its size, still costs at most `limit` bytes of memory.
"""

from __future__ import annotations

import hashlib
import os
import stat

MAX_FILE_BYTES = 5 * 1024 * 1024
"""Files larger than this are reported and skipped: generated code, not code people port."""

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after the stat check must not block open()
    | getattr(os, "O_NOFOLLOW", 0)  # the path is already resolved: a link appearing now is a swap
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_CHUNK = 1 << 20
_SPECIAL = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class UnreadableFile(Exception):
    """A file that was not read, and why, in words for a per-file diagnostic."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_tree_file(
    path: str | os.PathLike[str],
    root: str | os.PathLike[str],
    limit: int = MAX_FILE_BYTES,
    *,
    head: bool = False,
    folders: Folders | None = None,
) -> bytes:
    """The bytes of the regular file `path`, which must resolve to a place inside `root`.

    Raises `UnreadableFile` for anything else: a special file, a link out of `root`, a file over
    `limit` bytes, or an operating-system error (permission denied, no such file). With `head`,
    a longer file is not refused: its first `limit` bytes are the answer. `folders` remembers the
    folders already resolved (a scan's, for all the files it reads).
    """
    real = resolve_inside(path, root, folders)
    size_limit = None if head else limit
    try:
        _check_regular(os.stat(real), size_limit)
        fd = os.open(real, _OPEN_FLAGS)
    except OSError as exc:
        raise UnreadableFile(f"cannot read: {_os_reason(exc)}") from None
    try:
        _check_regular(os.fstat(fd), size_limit)
        return os.read(fd, limit) if head else _read_bounded(fd, limit)
    except OSError as exc:
        raise UnreadableFile(f"cannot read: {_os_reason(exc)}") from None
    finally:
        os.close(fd)


def content_digest(data: bytes) -> str:
    """The digest that tells, at write time, whether a file still holds the bytes a scan analysed."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def resolve_inside(path: str | os.PathLike[str], root: str | os.PathLike[str], folders: Folders | None = None) -> str:
    """`path` with every link resolved; `UnreadableFile` when that leaves `root`."""
    if folders is None:
        real, real_root = os.path.realpath(path), os.path.realpath(root)
    else:
        real, real_root = folders.realpath(path), folders.folder(os.fspath(root))
    if not is_within(real, real_root):
        raise UnreadableFile("is a link to a place outside the scanned folder; not read")
    return real


class Folders:
    """Folders' real paths, each worked out once, for the reads of one scan.

    `os.path.realpath` looks at every name of a path in turn, one `lstat` each: for every file of a
    scan, its folders and the root's again (about 1% of a cold scan's processor time). Files share
    their folders, so each folder's real path is kept, and only a file's own name is looked at: a
    name that is no link adds itself to its folder's real path, a link is resolved in full. A
    folder replaced by a link while the scan runs is not seen (nor was one replaced between the
    resolution and the open before): what the reads guard against is what a tree holds."""

    def __init__(self) -> None:
        self._real: dict[str, str] = {}

    def folder(self, folder: str) -> str:
        found = self._real.get(folder)
        if found is None:
            found = self._real[folder] = os.path.realpath(folder)
        return found

    def realpath(self, path: str | os.PathLike[str]) -> str:
        """`os.path.realpath(path)`."""
        folder, name = os.path.split(os.fspath(path))
        if name in ("", os.curdir, os.pardir):
            return os.path.realpath(path)
        joined = os.path.join(self.folder(folder), name)
        return os.path.realpath(joined) if os.path.islink(joined) else joined


def is_within(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    """Whether `path` is `folder` or lies under it, comparing the paths as written (no I/O)."""
    path, folder = os.path.normpath(path), os.path.normpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def within_any(path: str | os.PathLike[str], roots: tuple[str, ...]) -> str | None:
    """The first of `roots` that `path` resolves inside of, or None."""
    real = os.path.realpath(path)
    return next((root for root in roots if is_within(real, os.path.realpath(root))), None)


def _check_regular(status: os.stat_result, limit: int | None) -> None:
    for test, what in _SPECIAL:
        if test(status.st_mode):
            raise UnreadableFile(f"is {what}, not a regular file; not read")
    if not stat.S_ISREG(status.st_mode):
        raise UnreadableFile("is not a regular file; not read")
    if limit is not None and status.st_size > limit:
        raise UnreadableFile(too_large(status.st_size, limit))


def too_large(size: int, limit: int = MAX_FILE_BYTES) -> str:
    """The diagnostic for a file over the size limit."""
    return f"is {size / 2**20:.1f} MiB, over the {limit / 2**20:g} MiB limit; not analysed"


def _read_bounded(fd: int, limit: int) -> bytes:
    """At most `limit` bytes; a file that turns out longer than it said is refused, not cut."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise UnreadableFile(f"grew past the {limit / 2**20:g} MiB limit while being read; not analysed")


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)

