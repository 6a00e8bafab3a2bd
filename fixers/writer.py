"""Write a fixed file atomically, keeping its encoding, byte-order mark, newlines and mode.

The new text goes to a temporary file in the same folder, which then replaces the original
in one rename: a crash or a full disk leaves either the old file or the new one, never half.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
import tempfile
import tokenize
from pathlib import Path


def encode_like(original: bytes, text: str, encoding: str | None = None) -> bytes:
    """`text` (with `\\n` newlines) encoded the way `original` was: its encoding, BOM and newlines.

    `encoding` is the one the file was decoded with; None reads it as Python would (BOM, coding cookie).
    """
    if encoding is None:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(original).readline)
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    if b"\r\n" in original:
        text = text.replace("\n", "\r\n")
    data = text.encode(encoding)
    if original.startswith(codecs.BOM_UTF8) and not data.startswith(codecs.BOM_UTF8):
        data = codecs.BOM_UTF8 + data
    return data


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path`'s contents with `data` in one rename, keeping its permission bits (a new file
    gets the ones the umask leaves)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - its name outlives the handle, to rename or remove
        dir=path.parent, prefix=f".{path.name}.", suffix=".cudaudit", delete=False
    )
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, mode)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    current = os.umask(0o022)
    os.umask(current)
    return current
