"""Which PyTorch wheel index serves each PyTorch release for ROCm, CUDA and CPU.

PyTorch publishes one wheel index per accelerator build (`download.pytorch.org/whl/cu121`,
`.../rocm6.0`, `.../cpu`), and the set of ROCm and CUDA builds changes with every release.
A CUDA index or a `+cu121` pin can only be replaced by the ROCm build *of the same torch
release*, so the replacement is computed from `pytorch-wheel-indexes.tsv` (copied from the
team's research data, which cites the PyTorch build matrix and the "previous versions" page)
instead of being written by hand into each message.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from importlib import resources

from packaging.version import InvalidVersion, Version

PYTORCH_WHEELS = "https://download.pytorch.org/whl"
TABLE = "pytorch-wheel-indexes.tsv"
TABLE_SOURCE = "https://pytorch.org/get-started/previous-versions/ (as tabulated in cudaudit/resolvers/pytorch-wheel-indexes.tsv)"
"""Where a computed replacement comes from, for the finding's `source`."""

_TAGGED = re.compile(r"^(rocm[0-9.]+)(?:\(([0-9.]+)(\+?)\))?$")
_CUDA_TAG = re.compile(r"^cu(\d+)$")


@dataclass(frozen=True)
class TorchRelease:
    """One `major.minor` PyTorch release and the wheel indexes it was built for."""

    torch: Version
    torchvision: Version
    rocm_tags: tuple[str, ...]
    verified_rocm: tuple[tuple[str, str], ...]
    """(tag, condition) pairs the release notes confirm; condition `2.2.0` or `2.2.1+` or ``."""
    cuda_tags: tuple[str, ...]
    pypi_cuda: str | None = None
    """The CUDA build PyPI's Linux x86_64 wheels of this release are (`cu124`); None where unverified."""

    def rocm_tag(self, exact: Version | None = None, allowed: Collection[str] | None = None) -> tuple[str, bool] | None:
        """The ROCm index for this release (the newest confirmed one) and whether it is confirmed.

        `exact`, the full pinned version, picks among tags confirmed for some patch releases only
        (torch 2.2.0 was built for rocm5.6, 2.2.1 and later for rocm5.7); `allowed` limits the
        choice to tags some other package needs (the index that also carries xformers).
        """
        chosen = None
        for tag, condition in self.verified_rocm:
            if (allowed is None or tag in allowed) and (exact is None or not condition or _admits(condition, exact)):
                chosen = tag
        if chosen is not None:
            return chosen, True
        pool = [tag for tag in self.rocm_tags if allowed is None or tag in allowed]
        return (pool[-1], False) if pool else None


def _admits(condition: str, version: Version) -> bool:
    if condition.endswith("+"):
        return version.release >= Version(condition[:-1]).release
    return version.release == Version(condition).release


@cache
def releases() -> tuple[TorchRelease, ...]:
    """Every release in the table, oldest first."""
    text = (resources.files("cudaudit.resolvers") / TABLE).read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    header, body = rows[0], rows[1:]
    found = []
    for row in body:
        cells = dict(zip(header, row + [""] * (len(header) - len(row))))
        verified = []
        for part in filter(None, cells["verified_rocm"].split(",")):
            match = _TAGGED.match(part.strip())
            if match:
                verified.append((match.group(1), (match.group(2) or "") + (match.group(3) or "")))
        found.append(
            TorchRelease(
                torch=Version(cells["torch"]),
                torchvision=Version(cells["torchvision"]),
                rocm_tags=tuple(filter(None, cells["rocm_tags"].split(","))),
                verified_rocm=tuple(verified),
                cuda_tags=tuple(filter(None, cells["cuda_tags"].split(","))),
                pypi_cuda=cells["pypi_default_cuda"] if is_cuda_tag(cells["pypi_default_cuda"]) else None,
            )
        )
    return tuple(sorted(found, key=lambda r: r.torch))


def release_for(torch: Version) -> TorchRelease | None:
    """The table row of a torch version (any patch release of it)."""
    minor = torch.release[:2]
    return next((r for r in releases() if r.torch.release[:2] == minor), None)


def torch_version_of(package: str, version: str) -> Version | None:
    """The torch release that `package==version` belongs to: torch itself, torchvision or torchaudio.

    torchvision's minor is torch's plus 15 (0.18 ships with 2.3); torchaudio shares torch's
    version number through 2.11, the last release the table vouches for.
    """
    try:
        parsed = Version(version)
    except InvalidVersion:
        return None
    public = Version(parsed.public)
    if package == "torch":
        return public
    if package == "torchaudio" and public.release[:2] <= (2, 11):
        return public
    if package == "torchvision":
        release = next((r for r in releases() if r.torchvision.release[:2] == public.release[:2]), None)
        return release.torch if release else None
    return None


@dataclass(frozen=True)
class RocmIndex:
    """The ROCm wheel index that replaces a CUDA one for one torch release."""

    torch: Version
    tag: str
    confirmed: bool
    """Listed by PyTorch's release notes ("previous versions"), not only its build matrix."""

    @property
    def url(self) -> str:
        return f"{PYTORCH_WHEELS}/{self.tag}"


def rocm_indexes(cuda_tag: str, torch: Version | None) -> list[RocmIndex]:
    """The ROCm index for the pinned torch release; without a pin, one per release built for `cuda_tag`."""
    candidates: list[tuple[TorchRelease, Version | None]]
    if torch is not None:
        candidates = [(release, torch) for release in [release_for(torch)] if release is not None]
    else:
        candidates = [(release, None) for release in releases() if cuda_tag in release.cuda_tags]
    found = []
    for release, exact in candidates:
        tag = release.rocm_tag(exact)
        if tag is not None:
            found.append(RocmIndex(release.torch, *tag))
    return found


def is_cuda_tag(tag: str) -> bool:
    return _CUDA_TAG.match(tag) is not None
