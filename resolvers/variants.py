"""What a PyTorch CUDA wheel index or `+cuXXX` build label becomes on one target.

The mechanical half of porting a dependency set: the CUDA index of a torch release has a ROCm
index of the *same* release (from the release table in `wheel_indexes.py`) and a CPU index;
a `+cu121` build has a `+rocm6.0` and a `+cpu` build. `cudaudit fix --target` and `cudaudit
resolve` rewrite files with these answers, so the mapping lives here once. Other packages are
mapped by their catalog entries' `builds` (`builds.py`), images by `[[image]]` entries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # in annotations only: a scan asks `single_target` and need not load the resolvers
    from cudaudit.resolvers.builds import RocmChoice

FIX_TARGETS = ("rocm", "cpu")
"""The targets whose dependency sets and images cudaudit can rewrite mechanically."""

TORCH_FAMILY = frozenset({"torch", "torchvision", "torchaudio"})
"""The packages whose `+cuXXX` builds PyTorch's ROCm and CPU indexes serve under the same version."""

_LABEL = re.compile(r"(\+|%2[Bb])([Cc][Uu]\d+)")
_INDEX_TAG = re.compile(r"(?i)(download\.pytorch\.org/whl/(?:(?:nightly|test)/)?)(cu\d+)(?=/?(?:$|[?#]))")
"""The CUDA tag of an index URL; a URL that goes on into a wheel file is a direct reference, not an index."""


def single_target(targets: Iterable[str]) -> str | None:
    """The target to rewrite dependency files and images for: exactly one, and one of FIX_TARGETS."""
    chosen = tuple(targets)
    return chosen[0] if len(chosen) == 1 and chosen[0] in FIX_TARGETS else None


@dataclass(frozen=True)
class Variant:
    """The replacement text for one target, and what a reviewer should know about it."""

    text: str
    note: str = ""


def wheel_index(url: str, target: str, rocm: RocmChoice | None) -> Variant | None:
    """`url`, a PyTorch CUDA index (`.../whl/cu121`, `.../whl/nightly/cu128`), pointed at `target`'s index.

    ROCm needs the index chosen for the set's torch release (`builds.rocm_choice`: each release
    has its own ROCm indexes) and exists only for stable releases; CPU has one index per channel.
    Anything else (another host, a variable in the tag) gives None.
    """
    found = _INDEX_TAG.search(url)
    if found is None:
        return None
    nightly_or_test = found.group(1).lower().rstrip("/").endswith(("nightly", "test"))
    if target == "cpu":
        tag, note = "cpu", ""
    elif target == "rocm" and not nightly_or_test and rocm is not None:
        tag, note = rocm.tag, rocm_note(rocm)
    else:
        return None
    return Variant(url[: found.start(2)] + tag + url[found.end(2) :], note)


def build_label(label: str, target: str, rocm: RocmChoice | None) -> Variant | None:
    """`+cu121` (or `%2Bcu121` in a URL) as the build label of `target`: `+rocm6.0` for the chosen index, `+cpu`."""
    found = _LABEL.fullmatch(label)
    if found is None:
        return None
    plus = found.group(1)
    if target == "cpu":
        return Variant(plus + "cpu")
    return Variant(plus + rocm.tag, rocm_note(rocm)) if target == "rocm" and rocm is not None else None


def rocm_note(rocm: RocmChoice) -> str:
    """What a reviewer should know about the chosen ROCm index."""
    return "" if rocm.confirmed else f"{rocm.tag} is listed in PyTorch's build matrix, not yet in its release notes"
