"""Rewrites of dependency findings for one named target (`cudaudit fix --target rocm|cpu`, `cudaudit resolve`).

A requirement set cannot be device-agnostic the way code can: the CUDA wheel index, a
`+cu121` pin or an NVIDIA library wheel has to become the ROCm or the CPU one, so these fixes
are made only when the user names exactly one target, and are always unsafe (a CUDA machine
would install something else). Each fix is the smallest edit that does the job — the URL, the
build label, the package name and version, or the lines of a requirement the target does not
install — so comments and order stay as written; `--hash` options go with a line whose pin
changed. Where the answer is not mechanical (no pinned torch release to pick a ROCm index for,
a direct wheel URL, an opt-in CUDA extra, text whose characters do not map one to one onto
the file) no fix is made and the finding stays.

The fix kinds (`fix = { kind = "..." }` in the catalog, registered in
`cudaudit.rules.registry.FIX_BUILDERS`) are `wheel-index`, `wheel-label` and `target-build`,
which does what the entry's `builds` rows say for the target (swap, drop, keep;
`cudaudit.resolvers.builds`); `image` is the Dockerfile's (`rules/containers/rewrites.py`).
`cudaudit resolve` writes its variants with these same fixes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from cudaudit.model import Edit, Fix, Span
from cudaudit.resolvers.builds import RocmChoice, UnpublishedRocm, decide, index_needs, rocm_choice
from cudaudit.resolvers.requirements import (
    CONDA_BUILD,
    CONDA_CHANNEL,
    CONDA_PACKAGE,
    INDEX,
    LOCAL_VERSION,
    PACKAGE,
    PackageHit,
    requirement_layout,
    trailing_hashes,
)
from cudaudit.resolvers.variants import TORCH_FAMILY, Variant, build_label, single_target, wheel_index
from cudaudit.rules.catalog import Entry, TargetBuild
from cudaudit.rules.registry import fix_builder, fix_kinds_of
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines

if TYPE_CHECKING:
    from cudaudit.rules.dependencies.report import Placed

_PINNED_NAME = re.compile(r"(?<![A-Za-z0-9._-])([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\][]*\]\s*)?===?\s*[^\s;,'\"=]*$")
"""`name[extras] == version` at the end of the text. A name starts only after a non-name character,
and the extras stop at the next bracket, so no part of the text is scanned twice. The package a pinned version belongs to, read
backwards from the version's build label."""
_LINE_REST = re.compile(r"""[\s,'"\\-]*(?:#.*)?""")
"""What may stand beside a requirement on a line it alone occupies: indentation, list
punctuation, quotes, a continuation backslash, a comment."""
_ANNOTATION = re.compile(r"[ \t]+#")
"""pip-compile's `    # via torch` lines, which belong to the requirement above them."""


@dataclass(frozen=True)
class FixTarget:
    """The one target fixes are made for, the lines of the file being analysed, and what limits the
    choice of PyTorch's ROCm index (the builds the file's packages need, a ROCm version asked for)."""

    target: str
    lines: SourceLines
    needs: tuple[TargetBuild, ...] = ()
    rocm_version: str | None = None

    @classmethod
    def of(cls, settings: AnalysisSettings, text: str, requirements: tuple[str, ...] = ()) -> FixTarget | None:
        """Fixes are made only when the scan asks about exactly one of the targets they know."""
        target = single_target(settings.targets)
        if target is None:
            return None
        return cls(target, SourceLines(text), index_needs(requirements, target), settings.rocm_version)

    def writes(self, span: Span, text: str) -> bool:
        """Whether the file has exactly `text` at `span`: an edit there replaces what was flagged."""
        return self.lines.text(span) == text

    def rocm(self, torch: Version | None) -> RocmChoice | None:
        """The ROCm index for a set pinning `torch` (None: not pinned, or no such ROCm build)."""
        try:
            return rocm_choice(torch, self.needs, self.rocm_version)
        except UnpublishedRocm:
            return None


@dataclass(frozen=True)
class RequirementSite:
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
    if fix is None or entry.fix is None or opt_in or entry.fix.kind not in fix_kinds_of(__name__):
        return None
    builder: Callable[[RequirementSite], Fix | None] = fix_builder(entry.fix.kind)
    return builder(RequirementSite(entry, hit, placed, fix, torch))


def wheel_index_fix(site: RequirementSite) -> Fix | None:
    if site.hit.detector != INDEX:
        return None
    variant = wheel_index(site.hit.text, site.fix.target, site.fix.rocm(site.torch))
    return site.replace(variant, f"use the {site.fix.target} wheel index `{variant.text}`") if variant else None


def wheel_label_fix(site: RequirementSite) -> Fix | None:
    """`torch==2.3.1+cu121` → `+rocm6.0`/`+cpu`: only for PyTorch's own packages, pinned by name."""
    if site.hit.detector != LOCAL_VERSION:
        return None
    pinned = _PINNED_NAME.search(site.placed.text[: site.hit.start])
    if pinned is None or canonicalize_name(pinned.group(1)) not in TORCH_FAMILY:
        return None
    variant = build_label(site.hit.text, site.fix.target, site.fix.rocm(site.torch))
    if variant is None or not site.fix.writes(site.span, site.hit.text):
        return None
    note = f" ({variant.note})" if variant.note else ""
    edits = (Edit(site.span, variant.text), *_hash_removal(site))
    return site.fix_with(f"pin the {site.fix.target} build `{variant.text}`{note}", edits)


def target_build_fix(site: RequirementSite) -> Fix | None:
    """What the entry's build for the target says: install another package, or remove the requirement."""
    if site.hit.detector in (CONDA_PACKAGE, CONDA_BUILD, CONDA_CHANNEL):
        return _conda_build(site)
    if site.hit.detector != PACKAGE:
        return None
    head = requirement_layout(site.placed.text[site.hit.start :])
    if head is None and "[" in site.hit.text:
        return None
    # Without a layout the name is written apart from its version (Poetry, Pipfile): only the name is known.
    name = head.requirement.name if head else site.hit.text
    extras: set[str] = head.requirement.extras if head else set()
    specifier = head.requirement.specifier if head else SpecifierSet()
    decision = decide(site.entry, site.fix.target, extras, specifier, site.torch, site.fix.rocm(site.torch))
    if decision.action == "drop":
        return _removal(site, decision.note or "not installed on the target")
    if decision.action != "swap" or decision.package is None:
        return None
    if head is None:
        if decision.version is not None:
            return None
        return site.replace(Variant(decision.package), f"`{name}` → `{decision.package}` on {site.fix.target}")
    start = site.hit.start + head.name_start
    end = site.hit.start + (head.specifier_end if decision.version is not None else head.extras_end)
    written = site.placed.text[start:end]
    new = decision.package + ("" if decision.version is None else decision.version)
    span = site.placed.span(start, end)
    if written == new or not site.fix.writes(span, written):
        return None
    note = f" ({decision.note})" if decision.note else ""
    edits = (Edit(span, new), *(_hash_removal(site) if decision.version is not None or decision.package != name else ()))
    return site.fix_with(f"`{written}` → `{new}` on {site.fix.target}{note}", edits)


def _conda_build(site: RequirementSite) -> Fix | None:
    """A conda spec's package, build string or channel: swapped for another spec, or dropped."""
    decision = decide(site.entry, site.fix.target, (), SpecifierSet(), site.torch, site.fix.rocm(site.torch))
    if decision.action == "drop" and site.hit.detector == CONDA_BUILD:
        # `pytorch=2.1.0=py3.10_cuda11.8_0` keeps its version: conda picks the target's build.
        start = site.hit.start - 1 if site.hit.start and site.placed.text[site.hit.start - 1] in "= " else site.hit.start
        span = site.placed.span(start, site.hit.end)
        written = site.placed.text[start : site.hit.end]
        if not site.fix.writes(span, written):
            return None
        return site.fix_with(f"drop the build string `{site.hit.text}` on {site.fix.target}: {decision.note}", (Edit(span, ""),))
    if decision.action == "drop":
        return _removal(site, decision.note or "not installed on the target")
    if decision.action != "swap" or decision.package is None or site.hit.detector != CONDA_PACKAGE:
        return None
    span = site.placed.span(site.hit.start, len(site.placed.text))
    written = site.placed.text[site.hit.start :]
    if not site.fix.writes(span, written):
        return None
    return site.fix_with(f"`{written}` → `{decision.package}` on {site.fix.target}: {decision.note}", (Edit(span, decision.package),))


def _hash_removal(site: RequirementSite) -> tuple[Edit, ...]:
    """Delete the `--hash` options that end the requirement's line: they name the files of the old pin."""
    found = trailing_hashes(site.placed.text)
    if found is None:
        return ()
    span = site.placed.span(*found)
    # pip joined the option lines: the file has `\` and a newline where the string has neither.
    written = site.fix.lines.text(span).replace("\\\n", "")
    return (Edit(span, ""),) if written == site.placed.text[found[0] : found[1]] else ()


def _removal(site: RequirementSite, why: str) -> Fix | None:
    """Delete the lines of a requirement, and pip-compile's annotation lines under it, when nothing
    else is written on them."""
    if site.hit.start != len(site.placed.text) - len(site.placed.text.lstrip()):
        return None  # the string is more than this requirement (a `RUN pip install ...` script)
    span = removal_span(site.placed, site.fix.lines) or _element_span(site.placed, site.fix.lines)
    return site.fix_with(f"remove `{site.hit.text}` on {site.fix.target}: {why}", (Edit(span, ""),)) if span else None


def _element_span(placed: Placed, lines: SourceLines) -> Span | None:
    """A quoted element of a one-line list (`dependencies = ["torch", "xformers"]`) with the comma
    that separates it from the next element (or, for the last one, from the one before; the only
    one leaves `[]`)."""
    text = placed.text
    line, column = placed.position(0)
    end_line, end_column = placed.position(max(len(text) - 1, 0))
    row = lines.line(line)
    start, end = column - 2, end_column + 1  # the opening quote, and just after the closing one
    if line != end_line or start < 0 or end > len(row) or row[start] not in "\"'" or row[end - 1] != row[start]:
        return None
    following = _ELEMENT_COMMA.match(row, end)
    if following:
        return Span(line, start + 1, line, following.end() + 1)
    if not _LIST_END.match(row, end):
        return None
    preceding = _COMMA_BEFORE.search(row, 0, start)
    if preceding:
        return Span(line, preceding.start() + 1, line, end + 1)
    return Span(line, start + 1, line, end + 1) if row[:start].rstrip().endswith("[") else None


_ELEMENT_COMMA = re.compile(r"[ \t]*,[ \t]*(?=\S)")
_COMMA_BEFORE = re.compile(r"(?<![ \t])[ \t]*,[ \t]*$")  # a blank run is tried once, not from each blank
_LIST_END = re.compile(r"[ \t]*\]")


def removal_span(placed: Placed, lines: SourceLines) -> Span | None:
    """The whole lines a requirement and pip-compile's annotation lines under it take, when nothing
    else is written on them; None when something is."""
    text = placed.text
    line, column = placed.position(0)
    end_line, end_column = placed.position(max(len(text) - 1, 0))
    before = lines.line(line)[: column - 1]
    after = lines.line(end_line)[end_column:]
    if not (_LINE_REST.fullmatch(before) and _LINE_REST.fullmatch(after)):
        return None
    end_line += len(annotation(lines, end_line))
    if end_line < len(lines.lines):
        return Span(line, 1, end_line + 1, 1)
    if line > 1:  # the last line, without a newline after it: take the one before it
        return Span(line - 1, len(lines.line(line - 1)) + 1, end_line, len(lines.line(end_line)) + 1)
    return None


def annotation(lines: SourceLines, last_line: int) -> list[str]:
    """pip-compile's `# via` lines under the requirement that ends on `last_line`."""
    found: list[str] = []
    while last_line + len(found) < len(lines.lines) and _ANNOTATION.match(lines.line(last_line + len(found) + 1)):
        found.append(lines.line(last_line + len(found) + 1))
    return found
