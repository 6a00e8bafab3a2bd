"""nvcc command-line flags written into builds: `-arch=sm_80`, `-gencode ...`, `--use_fast_math`.

Shared by the Python build check (setup.py `extra_compile_args={"nvcc": [...]}`,
`load(extra_cuda_cflags=[...])`) and the CMake analyzer (`CMAKE_CUDA_FLAGS`,
`target_compile_options`). A word is a flag only when it has the exact shape of one, so
prose that mentions `sm_80` is never a finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cudaudit.rules.catalog import Catalog

ARCH = "arch"
"""A CUDA architecture: `-arch=sm_80`, `-gencode=arch=compute_80,code=sm_80`, `--gpu-architecture`."""
NVCC_ONLY = "nvcc-only"
"""An option only nvcc understands: `--use_fast_math`, `--expt-relaxed-constexpr`, `-Xptxas`."""
NVCC_REJECTED = "nvcc-rejected"
"""An nvcc-only option that HIP's compiler rejects as an unknown argument, so a ROCm build given it
fails: the catalog's `[[hip_rejected_option]]` tables."""
REJECTED_TABLE = "hip_rejected_option"
CUDA_LINK = "cuda-link"
"""A link flag naming an NVIDIA library: `-lcuda` (the driver), `-lnvrtc`, `-lcudart`. PyTorch hipifies an
extension's sources, not its link flags, and a ROCm host has none of these libraries."""

_ARCH = re.compile(
    r"-{1,2}(?:arch|gpu-architecture|code|gpu-code)=(?:sm|compute|lto)_\d+[af]?\S*"
    r"|-{1,2}(?:arch|gpu-architecture)=(?:native|all|all-major)"
    r"|-{1,2}gencode(?:=\S*)?|--generate-code(?:=\S*)?"
    r"|arch=compute_\d+[af]?,code=\S+"
    r"|-arch|--gpu-architecture"
)
_NVCC_ONLY = re.compile(
    r"-{1,2}use_fast_math|--expt-relaxed-constexpr|--expt-extended-lambda|--extended-lambda"
    r"|-Xptxas(?:=.*)?|--ptxas-options(?:=.*)?|-Xcudafe(?:=.*)?|--maxrregcount(?:=.*)?|-maxrregcount(?:=.*)?"
    r"|--ftz=(?:true|false)|--prec-div=(?:true|false)|--prec-sqrt=(?:true|false)|--fmad=(?:true|false)"
    r"|-lineinfo|--resource-usage|--keep-device-functions|--default-stream(?:=.*)?"
    r"|--allow-unsupported-compiler|--extra-device-vectorization"
)
_CUDA_LINK = re.compile(r"-l(?:cuda|cudart|nvrtc)")
_WORD = re.compile(r"\S+")
TAKES_VALUE = frozenset({"-arch", "--gpu-architecture", "-gencode", "--gencode", "--generate-code"})


def flag_key(word: str) -> str | None:
    """`ARCH`, `NVCC_ONLY`, `CUDA_LINK` or None for one command-line word."""
    if _ARCH.fullmatch(word):
        return ARCH
    if _NVCC_ONLY.fullmatch(word):
        return NVCC_ONLY
    if _CUDA_LINK.fullmatch(word):
        return CUDA_LINK
    return None


def rejected_options(catalog: Catalog) -> frozenset[str]:
    """The nvcc options the catalog says HIP's compiler rejects (`--use_fast_math`)."""
    return frozenset(table["option"] for _, tables in catalog.tables(REJECTED_TABLE) for table in tables)


def rocm_key(key: str, flag: str, rejected: frozenset[str]) -> str:
    """`NVCC_REJECTED` for an nvcc-only `flag` (`-Xptxas=-v` is `-Xptxas`) among the `rejected`
    options, else `key`."""
    return NVCC_REJECTED if key == NVCC_ONLY and flag.split("=", 1)[0] in rejected else key


def flags_in(text: str) -> Iterator[tuple[int, int, str]]:
    """Each flag in a string of command-line words: its start, end and key.

    A flag written as two words (`-arch sm_80`, `-gencode arch=compute_80,code=sm_80`) is one
    flag spanning both.
    """
    words = list(_WORD.finditer(text))
    index = 0
    while index < len(words):
        word = words[index]
        key = flag_key(word.group())
        end = word.end()
        if key == ARCH and word.group() in TAKES_VALUE and index + 1 < len(words):
            index += 1
            end = words[index].end()
        if key is not None:
            yield word.start(), end, key
        index += 1
