"""A catalog entry met at a byte range of CUDA source: what every C++ detector yields."""

from __future__ import annotations

from dataclasses import dataclass

from cudaudit.model import Severity
from cudaudit.rules.catalog import Entry


@dataclass(frozen=True)
class CudaHit:
    entry: Entry
    start: int
    """Byte offset of the flagged code in the analysed source."""
    end: int
    cap: Severity | None = None
    """At most this severity: a note in a branch that HIP builds never compile."""
