"""What `cudaudit fix` did, as plain data: the fixers fill it in, the reporters read it.

It sits beside `model.py` so that the reporters never import the fixers that produce it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from cudaudit.model import FileError, Finding, ScanResult


@dataclass(frozen=True)
class Remaining:
    """A finding the run did not fix, and why."""

    finding: Finding
    reason: str


@dataclass
class FixReport:
    fixed: list[Finding] = field(default_factory=list)
    remaining: list[Remaining] = field(default_factory=list)
    """Findings left at warning or error: what still breaks a target."""
    notes_left: int = 0
    """Notes left (guarded or merely CUDA-flavoured code), counted rather than listed."""
    changed: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)

    def fixed_by_rule(self) -> dict[str, int]:
        """How many sites of each rule were fixed, by rule id."""
        return dict(sorted(Counter(finding.rule for finding in self.fixed).items()))


@dataclass
class BranchOutcome:
    """What `cudaudit fix --branch` made: the branch, its commit, and the scans around the fix."""

    branch: str
    commit: str | None
    """None when there was nothing to fix (the branch is then not created)."""
    before: ScanResult
    after: ScanResult
    report: FixReport
    title: str
