"""What a dependency file's variant for a target is called."""

from __future__ import annotations

import re
from pathlib import Path

from cudaudit.filekinds import FileKind

_CUDA_WORD = re.compile(r"(?i)^(?:cuda\d*|gpu|nvidia|cu\d+)$")
"""A last word of a file name that names the CUDA build (`requirements-cuda.txt`): the target's replaces it."""


def variant_path(path: Path, target: str, kind: FileKind) -> Path:
    """`requirements.txt` → `requirements-rocm.txt`, `requirements-cuda.txt` → `requirements-rocm.txt`,
    `environment.yml` → `environment-rocm.yml`; a lock file's requirements: `uv.lock` → `uv-rocm.in`."""
    if kind is FileKind.LOCKFILE:
        return path.with_name(f"{path.name.split('.')[0]}-{target}.in")
    stem, suffix = path.stem, path.suffix
    words = re.split(r"([-_.])", stem)
    if len(words) >= 3 and _CUDA_WORD.match(words[-1]):
        return path.with_name("".join(words[:-1]) + target + suffix)
    return path.with_name(f"{stem}-{target}{suffix}")
