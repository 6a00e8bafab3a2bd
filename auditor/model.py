"""The plain data that flows between stages: findings, their per-target facts, file errors.

Analyzers produce these, reporters and fixers consume them; nothing here knows about
parsers or output formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Status(str, Enum):
    """How a site fares on one target backend."""

    WORKS = "works"
    CHANGE = "change"
    BLOCKED = "blocked"


class Severity(str, Enum):
    """Ordered from least to most serious; `rank` gives the order."""

    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def at_most(self, cap: Severity | None) -> Severity:
        """This severity, lowered to `cap` where `cap` is less serious; None caps nothing."""
        return cap if cap is not None and cap.rank < self.rank else self


_SEVERITY_RANK = {Severity.NOTE: 0, Severity.WARNING: 1, Severity.ERROR: 2}

TARGETS = ("rocm", "cpu", "xpu", "mps")
"""Every target backend cudaudit knows facts for, in report order."""

DEFAULT_TARGETS = ("rocm", "cpu")

OPTION_DEVICES = frozenset({"cpu", "xpu", "mps"})
"""Targets whose PyTorch device type is the target's own name (ROCm's PyTorch calls its GPUs `cuda`)."""


def option_setting(option: str, target: str) -> str | None:
    """`--device=cpu`: the command-line option `option` set to `target`'s device; None for a target
    whose device is not called by its name."""
    return f"{option}={target}" if target in OPTION_DEVICES else None


CUDA_API_TARGETS = frozenset({"rocm"})
"""Targets on which `torch.cuda` answers (HIP poses as CUDA), so a CUDA guard lets code through."""


@dataclass(frozen=True)
class Portability:
    """What one target needs at a site: whether it works, what replaces it, and who says so."""

    status: Status
    replacement: str
    source: str
    severity: Severity
    """How serious a non-working status is on this target (a silent degradation is a warning). In a
    finding, the severity at that site: a guard the target never passes lowers it to a note."""
    severity_when_built: Severity | None = None
    """The severity in a source the project's own build already compiles for this target (a hazard
    that compiles there and may compute wrongly is left to check: a warning); None: unchanged."""
    works_with: str | None = None
    """The release from which a library works on this target (`bitsandbytes>=0.49.0`): the site works
    there unless the project's dependency files allow only older ones (`cudaudit.releases`)."""

    def to_json(self) -> dict[str, str]:
        return {
            "status": self.status.value,
            "replacement": self.replacement,
            "source": self.source,
            "severity": self.severity.value,
        }


@dataclass(frozen=True, order=True)
class Span:
    """1-based lines, 1-based columns counted in characters; the end column is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


class Safety(str, Enum):
    """SAFE: unchanged behaviour on a CUDA machine. UNSAFE: may change it (applied on request)."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Edit:
    """Replace the text at `span` with `replacement` (an insertion when the span is empty)."""

    span: Span
    replacement: str

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "replacement": self.replacement,
        }


@dataclass(frozen=True)
class Fix:
    """How to rewrite a finding's site, and what the module needs for the rewrite to hold."""

    safety: Safety
    description: str
    edits: tuple[Edit, ...]
    requires: tuple[str, ...] = ()
    """Module-level needs the fixer satisfies once per file: `device_type` (a `DEVICE_TYPE`
    value), `import torch`."""
    unused_imports: tuple[str, ...] = ()
    """Qualified names (`torch.cuda.amp.autocast`) whose import the rewrite may leave unused."""
    covers: tuple[Span, ...] = ()
    """For a fix that lifts a requirement (`assert torch.cuda.is_available()`): the code it
    protects. It applies only when every finding there at warning or above is fixed in the same run."""
    unchecked: tuple[str, ...] = ()
    """For a fix that lifts a requirement: what the code it protects uses from the project's other
    modules (`models.build_model`). Their findings were not weighed (the analysis sees one file),
    so the fix summary names them for a person to check."""

    def protects(self, span: Span) -> bool:
        return any(c.line <= span.line and span.end_line <= c.end_line for c in self.covers)

    def to_json(self) -> dict[str, Any]:
        return {
            "safety": self.safety.value,
            "description": self.description,
            "edits": [edit.to_json() for edit in self.edits],
            "requires": list(self.requires),
        }


@dataclass(frozen=True, order=True)
class NotebookCell:
    """Where a finding in a Jupyter notebook is: its span counts lines within one cell."""

    index: int
    """The cell's 1-based position among all the notebook's cells (markdown and raw cells count)."""
    file_line: int
    """The line of the `.ipynb` file that holds the flagged source line, for viewers of the raw file (SARIF)."""


@dataclass(frozen=True)
class Finding:
    """One CUDA-specific site with its verdict for each requested target."""

    rule: str
    path: str
    span: Span
    message: str
    severity: Severity
    targets: dict[str, Portability]
    fix: Fix | None = None
    topic: str | None = None
    """The part of the stack the site belongs to when the catalog names one (`attention`, `serving`,
    `quantization`): `cudaudit report` groups such sites into one component across files."""
    cell: NotebookCell | None = None
    """For a notebook, the cell the span is in; None for every other kind of file."""
    sites: int = 1
    """How many sites of the file this finding stands for: more than one where a wholly NVIDIA-only
    construct (CUTLASS, inline PTX) is reported once per file, at its first site."""
    option: str | None = None
    """The command-line option whose default the site is (`--device`): the default invocation takes
    it, and the option set to another value avoids it. None where no option does."""
    at_import: bool = False
    """Whether the site runs when its module is imported and, where it breaks a target, stops the
    import (a CUDA extension the module's top level compiles): every importer of the module stops
    with it, so the component it is in does not run, library or not."""
    extent: Span | None = None
    """The whole construct the site heads, where it reaches past the span: a multi-line
    `CUDAExtension(...)` call reported at its name, whose sources and flags are part of what breaks.
    The span stays the site (merging, suppressions, the quoted text); reports give the region."""

    @property
    def sort_key(self) -> tuple[str, int, Span, str]:
        return (self.path, self.cell.index if self.cell else 0, self.span, self.rule)

    @property
    def region(self) -> Span:
        """The code a report points at: from the site's start to the end of its construct."""
        extent = self.extent
        if extent is None or (extent.end_line, extent.end_column) <= (self.span.end_line, self.span.end_column):
            return self.span
        return Span(self.span.line, self.span.column, extent.end_line, extent.end_column)

    @property
    def location(self) -> str:
        """`path:line` for people, `nb.ipynb:cell 3:2` in a notebook."""
        if self.cell is not None:
            return f"{self.path}:cell {self.cell.index}:{self.span.line}"
        return f"{self.path}:{self.span.line}"

    def to_json(self) -> dict[str, Any]:
        region = self.region
        return {
            "rule": self.rule,
            "path": self.path,
            "line": region.line,
            "column": region.column,
            "end_line": region.end_line,
            "end_column": region.end_column,
            "severity": self.severity.value,
            "message": self.message,
            "targets": {name: p.to_json() for name, p in self.targets.items()},
            "fix": self.fix.to_json() if self.fix else None,
            "topic": self.topic,
            **({"cell": self.cell.index} if self.cell is not None else {}),
            "sites": self.sites,
            **({"option": self.option} if self.option is not None else {}),
            **({"at_import": True} if self.at_import else {}),
        }


@dataclass(frozen=True)
class FileError:
    """A file that could not be analysed, and why; the scan goes on without it."""

    path: str
    message: str
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "message": self.message}


@dataclass(frozen=True)
class Omitted:
    """Findings of one file past the per-file limit: counted, not listed (a generated file with
    half a million `.cuda()` calls needs one answer, not half a million)."""

    path: str
    count: int
    limit: int

    @property
    def listing_tail(self) -> str:
        """What ends the file's list in the reports that list findings by file."""
        return f"… and {self.count} more (only the first {self.limit} of a file are listed)"

    @property
    def notice(self) -> str:
        """The same said as a finding of its own (an annotation, a SARIF result)."""
        return f"and {self.count} more findings, not listed: only the first {self.limit} of a file are"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "findings": self.count, "limit": self.limit}


@dataclass
class ScanResult:
    """Everything a scan produced, in deterministic order."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    omitted: list[Omitted] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    """Path → digest of the bytes analysed, for each file with findings: `fix` writes a file only
    while it still holds them."""
    files_scanned: int = 0
    lines_scanned: int = 0
    paths: list[str] = field(default_factory=list)
    """Display paths of every file the scan analysed, findings or not: a `Dockerfile.rocm` without
    a finding still answers "is there a ROCm image beside the CUDA one?"."""
    buffers: dict[str, bytes] = field(default_factory=dict)
    """Display path → bytes analysed that did not come from that file (an editor's unsaved buffer
    on standard input): reports quote and fingerprint these, not the file on disk."""
    portable_hidden: int = 0
    """Sites left out because they work on every requested target (shown with --show-portable)."""
    hidden: list[Finding] = field(default_factory=list)
    """Those sites: `fix` weighs them before it lifts a requirement, since the code behind one is
    quiet on the targets it stops (`fixers/run.py`)."""
    torch_version: str | None = None
    """The oldest PyTorch the scan assumed (the --torch-version option, else the project's pin)."""
