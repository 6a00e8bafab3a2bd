"""Files and folders the project keeps per target, told apart by a word in their path.

`Dockerfile` and `Dockerfile_amd`, `requirements.txt` and `requirements-rocm.txt`,
`ggml-cuda/` and `ggml-hip/` beside `ggml-cpu/`: two paths that are equal once the target words
are taken out are siblings, and the one named for ROCm (or CPU) is what that target runs instead.
Words are whole tokens of a path component, split at `.`, `_` and `-` (`amd64` names no target);
`ck` is AMD's Composable Kernel (`csrc/flash_attn_ck/` beside `csrc/flash_attn/`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cudaudit.assessment.layout import kinds_of

TARGET_WORDS = {
    "rocm": r"rocm[0-9.]*|hip|hipblas|amd|amdgpu|ck",
    "cpu": r"cpu",
    "cuda": r"cuda[0-9.]*|cu[0-9]{2,3}|gpu|nvidia|cublas",
}
_WORD = {target: re.compile(words) for target, words in TARGET_WORDS.items()}
_ANY = re.compile(r"(?:^|[._-])(?:" + "|".join(TARGET_WORDS.values()) + r")(?=[._-]|$)")
_SPLIT = re.compile(r"[._-]")


def named_for(path: str) -> frozenset[str]:
    """The targets a path's last component is named for: `Dockerfile_amd` -> rocm, `ggml-cuda` -> cuda."""
    tokens = _SPLIT.split(posixpath.basename(path).lower())
    return frozenset(t for t, word in _WORD.items() if any(word.fullmatch(token) for token in tokens))


def neutral(path: str) -> str:
    """`path` with every target word taken out of each component: `docker/rocm/Dockerfile` and
    `docker/cuda/Dockerfile` are both `docker//dockerfile`."""
    return "/".join(_ANY.sub("", part).strip("._-") for part in path.lower().split("/"))


@dataclass(frozen=True)
class Counterparts:
    """Per neutral key, the paths named for each target."""

    files: dict[tuple[str, str], dict[str, str]]
    folders: dict[str, dict[str, str]]
    named_folders: dict[str, tuple[str, ...]]
    """Per target, every folder named for it (`csrc/cpu`, `backends/cpu`, `hip`)."""

    @classmethod
    def of(cls, paths: Iterable[str]) -> Counterparts:
        files: dict[tuple[str, str], dict[str, str]] = {}
        folders: dict[str, dict[str, str]] = {}
        seen_folders: set[str] = set()
        for path in sorted(paths):
            kinds = kinds_of(path)
            if kinds:
                for target in named_for(path) or {"any"}:
                    files.setdefault((kinds[0].value, neutral(path)), {}).setdefault(target, path)
            folder = posixpath.dirname(path)
            while folder and folder not in seen_folders:
                seen_folders.add(folder)
                for target in named_for(folder):
                    folders.setdefault(neutral(folder), {}).setdefault(target, folder)
                folder = posixpath.dirname(folder)
        named: dict[str, list[str]] = {}
        for found in folders.values():
            for target, folder in found.items():
                named.setdefault(target, []).append(folder)
        return cls(files, folders, {target: tuple(sorted(found)) for target, found in named.items()})

    def for_file(self, path: str, target: str) -> str | None:
        """The file that serves `target` where `path` serves CUDA (a ROCm Dockerfile beside the CUDA one)."""
        kinds = kinds_of(path)
        if not kinds or target in named_for(path):
            return None
        other = self.files.get((kinds[0].value, neutral(path)), {}).get(target)
        return other if other != path else None

    def for_folder(self, folder: str, target: str) -> str | None:
        """The folder that serves `target` where `folder` holds CUDA code (`ggml-cpu/` beside `ggml-cuda/`)."""
        if target in named_for(folder):
            return None
        other = self.folders.get(neutral(folder), {}).get(target)
        return other if other != folder else None

    def for_kernels(self, folder: str, target: str, package_folders: Iterable[str]) -> str | None:
        """Where `target` gets what a CUDA kernel folder does: a sibling folder (`ggml-cpu/` beside
        `ggml-cuda/`), a folder inside it named for the target (`csrc/cpu/`, `csrc/hip/`), or a folder of
        the project's packages named for it (`bitsandbytes/backends/cpu/`)."""
        ancestor = folder
        while ancestor not in ("", "/"):  # `csrc/flash_attn_ck/` serves ROCm for the kernels in `csrc/flash_attn/src/`
            sibling = self.for_folder(ancestor, target)
            if sibling is not None:
                return sibling
            ancestor = posixpath.dirname(ancestor)
        named = self.named_folders.get(target, ())
        inside = next((f for f in named if f.startswith(folder.rstrip("/") + "/")), None)
        if inside is not None:
            return inside
        return next((f for f in named for package in package_folders if f.startswith(package.rstrip("/") + "/")), None)

    def named(self, kind: str, target: str) -> list[str]:
        """Every file of `kind` named for `target` (`Dockerfile.rocm`), sibling or not."""
        return sorted(paths[target] for (k, _), paths in self.files.items() if k == kind and target in paths)
