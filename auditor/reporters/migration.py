"""Migration statistics for CUDA sources, the counts `hipify-perl -examine` reports for a port.

Counted from findings alone, per file and in total:

* `references`: CUDA API names and headers found (the `cuda-api` and `cuda-include` rules);
* `mappable`: references ROCm has a counterpart for (ROCm `works` or `change`);
* `not_mappable`: references ROCm has none for (ROCm `blocked`);
* `hazards`: findings of the other CUDA-source rules (inline PTX, warp size, WMMA, ...),
  which HIPIFY passes through silently.

A finding that stands for several sites (`Finding.sites`) counts each; the sites of an NVIDIA-only
file (CUTLASS/CuTe) count with the construct that makes it one, as hazards. Findings carry facts for
the requested targets only, so `mappable` and `not_mappable` are
`None` when ROCm was not requested.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from cudaudit.model import Finding, Status
from cudaudit.rules.catalog import Catalog

REFERENCE_DETECTORS = frozenset({"cuda-api", "cuda-include"})
CUDA_KIND = "cuda"
FIELDS = ("references", "mappable", "not_mappable", "hazards")


def migration_summary(findings: Iterable[Finding], catalog: Catalog, targets: Iterable[str]) -> dict[str, Any]:
    """`{"total": {...}, "files": {path: {...}}}`, with every file that has a CUDA finding."""
    with_rocm = "rocm" in targets
    files: dict[str, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    for finding in findings:
        rule = catalog.rules.get(finding.rule)
        if rule is None or rule.kind != CUDA_KIND:
            continue
        counts = files[finding.path]
        if rule.detector not in REFERENCE_DETECTORS:
            counts["hazards"] += finding.sites
            continue
        counts["references"] += finding.sites
        rocm = finding.targets.get("rocm")
        if rocm is not None:
            counts["not_mappable" if rocm.status is Status.BLOCKED else "mappable"] += finding.sites
    total = {field: sum(counts[field] for counts in files.values()) for field in FIELDS}
    total["files"] = len(files)
    result = {"total": total, "files": {path: files[path] for path in sorted(files)}}
    if not with_rocm:
        for counts in (total, *result["files"].values()):
            counts["mappable"] = counts["not_mappable"] = None
    return result
