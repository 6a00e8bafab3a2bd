"""Rewrites of dependency findings for one named target (`cudaudit fix --target rocm|cpu`).

A requirement set cannot be device-agnostic the way code can: the CUDA wheel index, a
`+cu121` pin or an NVIDIA library wheel has to become the ROCm or the CPU one, so these fixes
are made only when the user names exactly one target, and are always unsafe (a CUDA machine
would install something else). Each fix is the smallest edit that does the job — the URL, the
build label, the package name, or the lines of a requirement that only CUDA builds need — so
comments and order stay as written. Where the answer is not mechanical (no pinned torch release
to pick a ROCm index for, a direct wheel URL, an opt-in CUDA extra, text whose characters do
not map one to one onto the file) no fix is made and the finding stays.

The fix kinds (`fix = { kind = "..." }` in the catalog) are `wheel-index`, `wheel-label`,
`remove-requirement` and `drop-in` (with the replacing package per target:
`fix = { kind = "drop-in", cpu = "onnxruntime" }`); `image` is the Dockerfile's
(`rules/containers/rewrites.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import Version

from cudaudit.model import Edit, Fix, Span
from cudaudit.resolvers.requirements import INDEX, LOCAL_VERSION, PACKAGE, PackageHit
from cudaudit.resolvers.variants import TORCH_FAMILY, Variant, build_label, single_target, wheel_index
from cudaudit.rules.catalog import Entry
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines

if TYPE_CHECKING:
    from cudaudit.rules.dependencies.report import Placed

TEXT_FIX_KINDS = frozenset({"wheel-index", "wheel-label", "remove-requirement", "drop-in", "image"})
"""Fix kinds of dependency files and Dockerfiles, applied by `cudaudit.fixers.text_fixer`."""

_PINNED_NAME = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*[^\s;,'\"=]*$")
"""The package a pinned version belongs to, read backwards from the version's build label."""
_LINE_REST = re.compile(r"""[\s,'"\\-]*(?:#.*)?""")
"""What may stand beside a requirement on a line it alone occupies: indentation, list
punctuation, quotes, a continuation backslash, a comment."""


@dataclass(frozen=True)
class FixTarget:
    """The one target fixes are made for, and the lines of the file being analysed."""

    target: str
    lines: SourceLines

    @classmethod
    def of(cls, settings: AnalysisSettings, text: str) -> FixTarget | None:
        """Fixes are made only when the scan asks about exactly one of the targets they know."""
        target = single_target(settings.targets)
        return cls(target, SourceLines(text)) if target else None

    def writes(self, span: Span, text: str) -> bool:
        """Whether the file has exactly `text` at `span`: an edit there replaces what was flagged."""
        return self.lines.text(span) == text


@dataclass(frozen=True)
class _Site:
    entry: Entry
    hit: PackageHit
    placed: Placed
    fix: FixTarget
    torch: Version | None

    @property
    def span(self) -> Span:
        return self.placed.span(self.hit.start, self.hit.end)

    def replace(self, variant: Variant, description: str) -> Fix | None:
        """A fix replacing the flagged text with `variant`, if the flagged text is what the file holds."""
        if not self.fix.writes(self.span, self.hit.text):
            return None
        note = f" ({variant.note})" if variant.note else ""
        return self.fix_with(description + note, (Edit(self.span, variant.text),))

    def fix_with(self, description: str, edits: tuple[Edit, ...]) -> Fix:
        assert self.entry.fix is not None
        return Fix(self.entry.fix.safety, description, edits, requires=())


def dependency_fix(
    entry: Entry, hit: PackageHit, placed: Placed, fix: FixTarget | None, torch: Version | None, opt_in: bool
) -> Fix | None:
    """The fix for one resolver hit, or None when there is none to make mechanically.

    `opt_in`: the hit is in an extra or group named for CUDA (`.[cuda]`), which stays CUDA's.
    """
    if fix is None or entry.fix is None or opt_in:
        return None
    builder = _BUILDERS.get(entry.fix.kind)
    return builder(_Site(entry, hit, placed, fix, torch)) if builder else None


def _wheel_index(site: _Site) -> Fix | None:
    if site.hit.detector != INDEX:
        return None
    variant = wheel_index(site.hit.text, site.fix.target, site.torch)
    return site.replace(variant, f"use the {site.fix.target} wheel index `{variant.text}`") if variant else None


def _wheel_label(site: _Site) -> Fix | None:
    """`torch==2.3.1+cu121` → `+rocm6.0`/`+cpu`: only for PyTorch's own packages, pinned by name."""
    if site.hit.detector != LOCAL_VERSION:
        return None
    pinned = _PINNED_NAME.search(site.placed.text[: site.hit.start])
    if pinned is None or canonicalize_name(pinned.group(1)) not in TORCH_FAMILY:
        return None
    variant = build_label(site.hit.text, site.fix.target, site.torch)
    return site.replace(variant, f"pin the {site.fix.target} build `{variant.text}`") if variant else None


def _drop_in(site: _Site) -> Fix | None:
    """A package with a drop-in replacement on the target (`onnxruntime-gpu` → `onnxruntime`)."""
    replacement = site.entry.fix.to.get(site.fix.target) if site.entry.fix else None
    if site.hit.detector != PACKAGE or replacement is None:
        return None
    by_extra = "[" in site.entry.match
    if by_extra != ("[" in site.hit.text) or "," in site.hit.text:  # the CUDA extra alone, as flagged
        return None
    return site.replace(Variant(replacement), f"`{site.hit.text}` → `{replacement}`, its {site.fix.target} drop-in")


def _remove_requirement(site: _Site) -> Fix | None:
    """Delete the lines of a requirement only CUDA builds need, when nothing else is written on them."""
    text, lines = site.placed.text, site.fix.lines
    if site.hit.detector != PACKAGE or site.hit.start != len(text) - len(text.lstrip()):
        return None  # the string is more than this requirement (a `RUN pip install ...` script)
    line, column = site.placed.position(0)
    end_line, end_column = site.placed.position(max(len(text) - 1, 0))
    before = lines.line(line)[: column - 1]
    after = lines.line(end_line)[end_column:]
    if not (_LINE_REST.fullmatch(before) and _LINE_REST.fullmatch(after)):
        return None
    if end_line < len(lines.lines):
        span = Span(line, 1, end_line + 1, 1)
    elif line > 1:  # the last line, without a newline after it: take the one before it
        span = Span(line - 1, len(lines.line(line - 1)) + 1, end_line, len(lines.line(end_line)) + 1)
    else:
        return None
    return site.fix_with(f"remove `{site.hit.text}`: only CUDA builds load it", (Edit(span, ""),))


_BUILDERS: dict[str, Callable[[_Site], Fix | None]] = {
    "wheel-index": _wheel_index,
    "wheel-label": _wheel_label,
    "drop-in": _drop_in,
    "remove-requirement": _remove_requirement,
}
