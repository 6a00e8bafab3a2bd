"""What every analyzer is told about the scan it is part of."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cudaudit.model import DEFAULT_TARGETS

if TYPE_CHECKING:
    from cudaudit.resolvers.ci_plan import CiPlan


@dataclass(frozen=True)
class AnalysisSettings:
    targets: tuple[str, ...] = DEFAULT_TARGETS
    """The requested target backends, in report order."""
    first_party: frozenset[str] = field(default_factory=frozenset)
    """Top-level modules of the scanned project itself: importing them is not a dependency."""
    torch_version: str | None = None
    """The oldest PyTorch the project allows, so fixes only use APIs it has; None if unknown."""
    torch_release: str | None = None
    """The torch release a dependency set installs when it pins none (`cudaudit resolve --torch-version`),
    which picks the PyTorch ROCm index its rewrites use."""
    rocm_version: str | None = None
    """The ROCm release whose PyTorch index rewrites for ROCm use (`cudaudit resolve --rocm-version`);
    None: the newest one published for the pinned torch release that the set's packages allow."""
    ci_plan: CiPlan | None = None
    """How the project's tests run, for the CI job the CDA710 rewrite adds; read from the project
    only when one target is named (`cudaudit fix --target`)."""
    roots: tuple[str, ...] = ()
    """The scanned folders (for a named file, its folder). Anything an analyzer reads besides its
    own file (a requirements file's `-r` include) must resolve inside one of them; with none,
    nothing else is read."""
    project_prefixes: tuple[str, ...] = ()
    """The reported paths of the scanned projects' folders (`project_roots.project_prefixes`): what a
    file's path says about its place is read below them."""
