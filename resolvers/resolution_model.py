"""What `cudaudit resolve` found, as plain data: the variants of a dependency set and a verdict per package.

`resolution.py` computes it; the verdict table (`cudaudit.reporters.resolution`), the JSON output
and the readiness report read it without importing the resolver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import Version

from cudaudit.filekinds import FileKind
from cudaudit.resolvers.builds import RocmChoice
from cudaudit.resolvers.wheel_indexes import PYTORCH_WHEELS


@dataclass(frozen=True)
class Verdict:
    """Whether one CUDA-bound package has a build for the target, and what the variant does with it."""

    path: str
    line: int
    package: str
    """The requirement as written (`xformers==0.0.23.post1`)."""
    target: str
    available: str
    """`yes`, `from-source` or `no`."""
    action: str
    """`swap`, `keep`, `drop` or `manual` (left for a person)."""
    replacement: str
    note: str
    source: str
    optional: str | None = None
    """The extra or group named for CUDA it is in: opt-in for NVIDIA users, left as written."""
    pytorch_index: bool = False
    """Installed from PyTorch's wheel index for the target."""

    @property
    def swappable(self) -> bool:
        """The variant installs something that works on the target (or nothing, where nothing is needed)."""
        return self.optional is not None or (self.available != "no" and self.action != "manual")

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "package": self.package,
            "target": self.target,
            "available": self.available,
            "action": self.action,
            "replacement": self.replacement,
            "note": self.note,
            "source": self.source,
            "optional": self.optional,
            "pytorch_index": self.pytorch_index,
        }


@dataclass(frozen=True)
class Problem:
    """A line no reader could make sense of: reported, and kept as it was."""

    path: str
    line: int | None
    message: str


@dataclass(eq=False)
class Variant:
    """One input file and the variant written for it (each is its own: compared and hashed by identity)."""

    source: Path
    kind: FileKind
    original: str
    text: str
    output: Path
    """Where the variant goes unless told otherwise: beside the input, named for the target."""
    verdicts: list[Verdict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What a reader of the variant should know (packages a lock file's requirements leave out)."""
    included: bool = False
    """Read because another input includes it (`-r base.txt`), not named by the user."""

    @property
    def changed(self) -> bool:
        return self.text != self.original


@dataclass
class Resolution:
    """The variants of one dependency set for one target."""

    target: str
    torch: Version | None
    rocm: RocmChoice | None
    variants: list[Variant]
    torch_given: bool = False
    """The torch release comes from --torch-version: no file pins one."""

    @property
    def verdicts(self) -> list[Verdict]:
        return [v for variant in self.variants for v in variant.verdicts]

    @property
    def unswappable(self) -> list[Verdict]:
        """The packages the variant cannot install a working build of: what a person must settle."""
        return [v for v in self.verdicts if not v.swappable]

    def index_url(self, base: str = PYTORCH_WHEELS) -> str | None:
        """The PyTorch index the set installs from on the target."""
        if self.target == "cpu":
            return f"{base}/cpu"
        return f"{base}/{self.rocm.tag}" if self.rocm else None

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "torch": str(self.torch) if self.torch else None,
            "pytorch_index": self.index_url(),
            "swappable": not self.unswappable,
            "files": [
                {
                    "path": str(variant.source),
                    "output": str(variant.output),
                    "changed": variant.changed,
                    "variant": variant.text,
                    "packages": [verdict.to_json() for verdict in variant.verdicts],
                    "problems": [{"path": p.path, "line": p.line, "message": p.message} for p in variant.problems],
                    "notes": variant.notes,
                }
                for variant in self.variants
            ],
        }
