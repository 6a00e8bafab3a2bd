"""Turn the keys an orchestration analyzer sees into findings, one per rule and place.

The analyzers recognise shapes (a key under `limits:`, a runner label, an image reference);
the catalog says which keys matter. Keys of these detectors are exact words or, for
families that share their facts, glob patterns (`nvcr.io/nvidia/*`, `nvidia.com/mig-*`).
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

from cudaudit.model import Edit, Finding, Fix, Span
from cudaudit.rules.catalog import Catalog, Entry, build_finding
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines


def find_entry(catalog: Catalog, detector: str, keys: Iterable[str]) -> Entry | None:
    """The entry of the first key the catalog names exactly, else of the longest pattern matching one."""
    keys = [key for key in keys if key]
    for key in keys:
        entry = catalog.lookup(detector, key)
        if entry is not None:
            return entry
    patterns = [p for p in catalog.keys(detector) if "*" in p and any(fnmatchcase(key, p) for key in keys)]
    return catalog.lookup(detector, max(patterns, key=len)) if patterns else None


class Sites:
    """The findings of one file: each catalog key reported at a place becomes one finding there."""

    def __init__(self, text: str, path: str, catalog: Catalog, settings: AnalysisSettings) -> None:
        self.path = path
        self.catalog = catalog
        self.settings = settings
        self._lines = SourceLines(text)
        self._found: dict[tuple[str, Span], Finding] = {}

    def report(
        self, detector: str, keys: str | Iterable[str], span: Span, rewrite: tuple[str, Edit] | None = None
    ) -> bool:
        """Report the first of `keys` the catalog knows at `span`; False when it knows none.

        `rewrite` (a description and an edit) becomes the finding's fix where its entry has one."""
        entry = find_entry(self.catalog, detector, [keys] if isinstance(keys, str) else keys)
        if entry is None:
            return False
        fix = Fix(entry.fix.safety, rewrite[0], (rewrite[1],)) if rewrite and entry.fix else None
        self.report_entry(entry, span, fix)
        return True

    def report_entry(self, entry: Entry, span: Span, fix: Fix | None = None) -> None:
        """A finding for an entry found another way (an image matched by the catalog's image tables)."""
        finding = build_finding(entry, self.path, span, self._lines.snippet(span), self.settings.targets, fix=fix)
        self._found.setdefault((finding.rule, span), finding)

    def findings(self) -> list[Finding]:
        return list(self._found.values())
