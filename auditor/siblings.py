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


DEVICE_WORDS: dict[str, tuple[tuple[str, ...], str]] = {
    "xpu": (("xpu",), "https://docs.pytorch.org/docs/stable/notes/get_start_xpu.html"),
    "mps": (("mps",), "https://docs.pytorch.org/docs/stable/notes/mps.html"),
    "intel": (("xpu", "cpu"), "https://github.com/intel/intel-extension-for-pytorch"),
    "macos": (("mps", "cpu"), "https://rocm.docs.amd.com/projects/install-on-linux/en/latest/reference/system-requirements.html"),
    "osx": (("mps", "cpu"), "https://rocm.docs.amd.com/projects/install-on-linux/en/latest/reference/system-requirements.html"),
    "darwin": (("mps", "cpu"), "https://rocm.docs.amd.com/projects/install-on-linux/en/latest/reference/system-requirements.html"),
    "npu": ((), "https://github.com/Ascend/pytorch"),
    "ascend": ((), "https://github.com/Ascend/pytorch"),
    "hpu": ((), "https://docs.habana.ai/en/latest/PyTorch/Getting_Started_with_PyTorch_and_Gaudi/index.html"),
    "gaudi": ((), "https://docs.habana.ai/en/latest/PyTorch/Getting_Started_with_PyTorch_and_Gaudi/index.html"),
    "mlu": ((), "https://github.com/Cambricon/torch_mlu"),
    "musa": ((), "https://github.com/MooreThreads/torch_musa"),
    "xla": ((), "https://github.com/pytorch/xla"),
    "tpu": ((), "https://github.com/pytorch/xla"),
}
"""Words that name one device's share of a project (`npu_accelerator.py`, `Dockerfile.xpu`), as
whole lower-case tokens: the cudaudit targets it is (none: a device none of the targets is), and
where the device type comes from. ROCm's and CPU's words are `TARGET_WORDS`'. Intel's share of a
project (`requirements_intel.txt`, `Dockerfile_intel`) serves its GPUs and its CPUs, which Intel's
extension for PyTorch both runs on. A Mac's share (`start_macos.sh`, `sys.platform == "darwin"`) runs on
its GPU through MPS or on its CPU, never on ROCm, which runs on Linux and Windows only. PyTorch/XLA's device
type is `xla` (on Cloud TPUs, or on GPUs through XLA's own runtime): code taken only for it runs
under XLA, on none of the targets' PyTorch builds."""
_DEVICE = re.compile("|".join(DEVICE_WORDS))
_ANY_NAMING = re.compile(r"(?:^|[._/-])(?:" + "|".join([*TARGET_WORDS.values(), *DEVICE_WORDS]) + r")(?=[._/-]|$)")
"""A token of a path that `served_targets` reads: most paths have none, and one search over the
path tells so, where each token was matched against each target's words (a scan asks of every file)."""
CPU_NAMED_KINDS = frozenset({"dockerfile", "requirements", "conda", "lockfile", "shell", "compose", "workflow", "makefile"})
"""Kinds whose files named for CPU serve CPU alone (`Dockerfile.cpu`, `requirements-cpu.txt`). A
Python or C++ module named for CPU (`cpu_offload.py`, `cpu_adam.cpp`) is as often a GPU program's
host side, so its name says nothing about where it runs."""


def served_targets(path: str, kinds: Iterable[str]) -> frozenset[str] | None:
    """The targets a file serves by its name alone, or None where its name does not tell
    (`docker/docker-rocm/Dockerfile` serves ROCm; `ops/npu_kernels.py` serves none of the targets;
    `Dockerfile.cuda` and `train.py` are None). A name with a CUDA word is the NVIDIA variant, which
    the counterpart step judges (`verdicts.with_counterparts`)."""
    lowered = path.lower()
    if _ANY_NAMING.search(lowered) is None:
        return None
    tokens = _SPLIT.split(lowered)
    named = {target for target, word in _TOKEN.items() if any(word.fullmatch(token) for token in tokens)}
    if "cuda" in named:
        return None
    if "cpu" in named and not CPU_NAMED_KINDS.intersection(kinds):
        named.discard("cpu")
    devices = [DEVICE_WORDS[token][0] for token in tokens if _DEVICE.fullmatch(token)]
    if not named and not devices:
        return None
    return frozenset(named).union(*devices)


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
