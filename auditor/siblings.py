"""Files that do one job per target, told apart by a word in their path.

Projects that support ROCm or CPU beside CUDA often keep one file per target: `Dockerfile` and
`Dockerfile_amd`, `requirements-cuda.txt` and `requirements-rocm.txt`, `docker/docker-cuda/` and
`docker/docker-rocm/`, `ggml-cuda/CMakeLists.txt` and `ggml-hip/CMakeLists.txt`. Two files of
the same kind whose paths are equal once the target words are taken out are siblings; the one
named for ROCm (or CPU) is the other's counterpart on that target, and what the CUDA file does
is then not what a ROCm (or CPU) user runs.

Words are whole tokens of a path component, split at `.`, `_` and `-`: `amd64` and `hipster`
name no target.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

TARGET_WORDS = {
    "rocm": r"rocm[0-9]*|hip|amd|amdgpu",
    "cpu": r"cpu",
    "cuda": r"(?:cuda|cu[0-9]{2,3}|gpu|nvidia)[a-z0-9]*",
}
"""The words, as whole lower-case tokens, that name each target (`cuda`: the NVIDIA side)."""
_TOKEN = {target: re.compile(words) for target, words in TARGET_WORDS.items()}
_SPLIT = re.compile(r"[._/-]")
_ANY_WORD = re.compile(r"(?:^|[._-])(?:" + "|".join(TARGET_WORDS.values()) + r")(?=[._-]|$)")


def name_targets(name: str) -> frozenset[str]:
    """The targets a name (an extra, a file or folder name, a path) is named for:
    `requirements-rocm.txt` -> rocm, `cu121only` -> cuda."""
    tokens = _SPLIT.split(name.lower())
    return frozenset(target for target, word in _TOKEN.items() if any(word.fullmatch(token) for token in tokens))


def neutral_key(path: str) -> str:
    """`path` with every target word, and the separator that joins it, taken out of each component:
    `docker/docker-rocm/Dockerfile` and `docker/docker-cuda/Dockerfile` are both `docker/docker/dockerfile`."""
    return "/".join(_ANY_WORD.sub("", component).strip("._-") for component in path.lower().split("/"))


@dataclass(frozen=True)
class Sibling:
    """`path`'s counterpart on `target`."""

    path: str
    target: str
    counterpart: str


def find_siblings(files: Iterable[tuple[str, str]]) -> Iterator[Sibling]:
    """Counterparts among `files`, given as (display path, kind); only files of one kind pair up."""
    groups: dict[tuple[str, str], list[str]] = {}
    for path, kind in files:
        groups.setdefault((kind, neutral_key(path)), []).append(path)
    for members in groups.values():
        if len(members) < 2:
            continue
        named = {path: name_targets(path) for path in members}
        for target in ("rocm", "cpu"):
            for_target = sorted(p for p in members if target in named[p])
            if not for_target:
                continue
            for path in sorted(members):
                if target not in named[path]:
                    yield Sibling(path, target, for_target[0])
