"""Write a fixed file atomically, keeping its encoding, byte-order mark, line endings, mode and owner.

The new text goes to a temporary file in the same folder, which then replaces the original
in one rename: a crash or a full disk leaves either the old file or the new one, never half.

`replace_verified` is how `cudaudit fix` writes: it refuses what it should not rewrite.
- A file that changed since it was scanned: the fixes' positions are the scan's, so they would
  land on the wrong text. The content digest is compared just before the rename.
- A symbolic link: replacing it would put a regular file where the link was (and writing
  through it could reach outside the tree).
- A read-only file (no write permission bit, or no write access): someone meant it to stay as
  it is; `allow_read_only` (`cudaudit fix --write-read-only`) rewrites it anyway.
The owner and group are kept where the process may set them (root may; anyone may keep a group
they belong to). A file with several hard links becomes a file of its own: the rename gives
this name the new text, and the other names keep the old one.
"""

from __future__ import annotations

import codecs
import difflib
import io
import os
import stat
import tempfile
import tokenize
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from cudaudit.safe_read import UnreadableFile, content_digest, read_tree_file

STALE = "changed since it was scanned; left unchanged: run cudaudit fix again"


class WriteRefused(Exception):
    """A file `replace_verified` left alone, and why, for a per-file diagnostic."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def encode_like(original: bytes, text: str, encoding: str | None = None) -> bytes:
    """`text` (with `\\n` newlines) encoded the way `original` was: its encoding, BOM and line endings.

    `encoding` is the one the file was decoded with; None reads it as Python would (BOM, coding cookie).
    """
    if encoding is None:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(original).readline)
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    data = with_line_endings(original.decode(encoding, errors="replace"), text).encode(encoding)
    if original.startswith(codecs.BOM_UTF8) and not data.startswith(codecs.BOM_UTF8):
        data = codecs.BOM_UTF8 + data
    return data


def with_line_endings(original: str, text: str) -> str:
    """`text` (lines ending in `\\n`) with the line endings of `original`, line by line.

    A file with one kind of ending (LF, CRLF or CR) keeps it everywhere. In a mixed file, each
    line the fixes kept or rewrote keeps its own ending, and an added line takes the ending the
    file uses most.
    """
    lines, endings = _split_endings(original)
    kinds = Counter(endings)
    if len(kinds) <= 1:
        ending = next(iter(kinds), "\n")
        return text if ending == "\n" else text.replace("\n", ending)
    dominant = kinds.most_common(1)[0][0]
    new_lines = text.split("\n")
    parts = []
    matcher = difflib.SequenceMatcher(a=lines, b=new_lines[:-1], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for offset, line in enumerate(new_lines[j1:j2]):
            own = i1 + offset if tag in ("equal", "replace") and i1 + offset < i2 else None
            parts.append(line + (endings[own] if own is not None else dominant))
    return "".join(parts) + new_lines[-1]


def _split_endings(text: str) -> tuple[list[str], list[str]]:
    """The lines of `text` that end in a line break, and each one's break (`\\r\\n`, `\\r`, `\\n`)."""
    lines, endings, start, index = [], [], 0, 0
    while index < len(text):
        char = text[index]
        if char in "\r\n":
            ending = "\r\n" if text.startswith("\r\n", index) else char
            lines.append(text[start:index])
            endings.append(ending)
            index += len(ending)
            start = index
        else:
            index += 1
    return lines, endings


def replace_verified(path: Path, data: bytes, digest: str, allow_read_only: bool = False) -> None:
    """Replace `path` with `data` if it still holds the bytes whose digest is `digest`; raise
    `WriteRefused` (or `OSError`) and leave it untouched otherwise."""
    status = os.lstat(path)
    if stat.S_ISLNK(status.st_mode):
        raise WriteRefused("is a symbolic link; fix does not write through links: left unchanged")
    if not stat.S_ISREG(status.st_mode):
        raise WriteRefused("is not a regular file; left unchanged")
    if not allow_read_only and (not status.st_mode & stat.S_IWUSR or not os.access(path, os.W_OK)):
        raise WriteRefused("is read-only; left unchanged (--write-read-only rewrites it)")

    def unchanged() -> None:
        try:
            current = read_tree_file(path, path.absolute().parent)
        except UnreadableFile as exc:
            raise WriteRefused(f"{exc.reason}; left unchanged") from None
        if content_digest(current) != digest:
            raise WriteRefused(STALE)

    write_atomic(path, data, before_replace=unchanged)


def write_atomic(path: Path, data: bytes, before_replace: Callable[[], None] | None = None) -> None:
    """Replace `path`'s contents with `data` in one rename, keeping its permission bits and, where
    allowed, its owner and group (a new file gets the mode the umask leaves, and the caller's owner).
    `before_replace` runs last, just before the rename; what it raises cancels the write."""
    try:
        status: os.stat_result | None = path.stat()
    except FileNotFoundError:
        status = None
    mode = stat.S_IMODE(status.st_mode) if status else 0o666 & ~_umask()
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - its name outlives the handle, to rename or remove
        dir=path.parent, prefix=f".{path.name}.", suffix=".cudaudit", delete=False
    )
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            if status is not None:
                _keep_owner(handle.fileno(), status)
        os.chmod(handle.name, mode)
        if before_replace is not None:
            before_replace()
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _keep_owner(fd: int, status: os.stat_result) -> None:
    """Give the new file the old one's owner and group, or at least its group, as far as allowed."""
    if not hasattr(os, "fchown"):
        return
    for uid in (status.st_uid, -1):
        try:
            os.fchown(fd, uid, status.st_gid)
            return
        except PermissionError:
            continue


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    current = os.umask(0o022)
    os.umask(current)
    return current
