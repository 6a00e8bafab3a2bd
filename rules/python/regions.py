"""What the code around a site says about where it runs, as the walk goes down the tree.

The detector enters a context for each guarded region (a branch, a loop, a decorated
function, an `enabled=` argument) and leaves it on the way back up; every hit takes the
context it was found in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cudaudit.model import CUDA_API_TARGETS, TARGETS, Severity

NO_CUDA_API_TARGETS = frozenset(TARGETS) - CUDA_API_TARGETS


@dataclass(frozen=True)
class Region:
    """How one region of code changes the severity of what is found in it."""

    cuda_guarded: bool = False
    """Runs only where `torch.cuda` has a device: quiet for CPU, XPU and MPS."""
    rocm_aware: bool = False
    """Sits in a branch chosen by a ROCm probe: already written with ROCm in mind."""
    cap: Severity | None = None
    """The most severe level anything here can be (another path, a probe's own test)."""

    def __bool__(self) -> bool:
        return self.cuda_guarded or self.rocm_aware or self.cap is not None


NEUTRAL = Region()


class SiteContext:
    """The stack of regions the walk is inside."""

    def __init__(self) -> None:
        self._cuda_guarded = 0
        self._rocm_aware = 0
        self._caps: list[Severity] = []

    @contextmanager
    def inside(self, region: Region) -> Iterator[None]:
        self.enter(region)
        try:
            yield
        finally:
            self.leave(region)

    def enter(self, region: Region) -> None:
        """Enter `region` until `leave(region)`: for the rest of a block after an early exit."""
        self._cuda_guarded += region.cuda_guarded
        self._rocm_aware += region.rocm_aware
        if region.cap is not None:
            self._caps.append(region.cap)

    def leave(self, region: Region) -> None:
        self._cuda_guarded -= region.cuda_guarded
        self._rocm_aware -= region.rocm_aware
        if region.cap is not None:
            self._caps.pop()

    def quiet_targets(self, guarded: bool = False) -> frozenset[str]:
        """Targets whose severity this context lowers to a note."""
        quiet = frozenset()
        if guarded or self._cuda_guarded:
            quiet |= NO_CUDA_API_TARGETS
        if self._rocm_aware:
            quiet |= CUDA_API_TARGETS
        return quiet

    def cap(self, extra: Severity | None = None) -> Severity | None:
        caps = [*self._caps, *([extra] if extra else [])]
        return min(caps, key=lambda s: s.rank) if caps else None
