"""Checklist question 4 asks whether the resolver can swap a project's CUDA builds cleanly: ask it.

`cudaudit resolve`'s feasibility verdict (`resolvers.resolution.feasibility`) is computed for each
dependency file that has CUDA-bound findings, for the targets `resolve` knows. A file the resolver
cannot read is left out; the scan reports it already.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cudaudit.assessment.components import Dependencies
from cudaudit.model import Finding
from cudaudit.resolvers.resolution import ResolveError, feasibility, resolve_kind
from cudaudit.resolvers.variants import FIX_TARGETS


def dependency_verdicts(findings: Sequence[Finding], targets: Sequence[str]) -> Dependencies:
    files = sorted({f.path for f in findings if f.rule.startswith("CDA6") and resolve_kind(Path(f.path)) is not None})
    verdicts: dict[str, dict[str, list[dict]]] = {}
    for path in files:
        for target in (t for t in targets if t in FIX_TARGETS):
            try:
                verdicts.setdefault(path, {})[target] = feasibility([path], target)
            except (ResolveError, OSError):
                continue
    return Dependencies(verdicts)
