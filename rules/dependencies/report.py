"""Turn resolver hits in a string of a dependency file into findings at the right place.

Every dependency format hands over strings (a requirements line, a TOML or YAML string, a
Python string literal) whose characters sit somewhere in the file; `Placed` remembers where,
so a hit's offsets become a span on the offending item's own line. The PyTorch wheel index
and `+cuXXX` pins get a ROCm replacement computed for the torch release the file pins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.model import CUDA_API_TARGETS, TARGETS, Finding, Portability, Severity, Span, Status
from cudaudit.resolvers.builds import target_build
from cudaudit.resolvers.requirements import (
    CONDA_PACKAGE,
    INDEX,
    LOCAL_VERSION,
    PACKAGE,
    PackageHit,
    index_location,
    requirement_hits,
)
from cudaudit.resolvers.wheel_indexes import PYTORCH_WHEELS, TABLE_SOURCE, is_cuda_tag, rocm_indexes
from cudaudit.rules.catalog import Catalog, Entry, build_finding
from cudaudit.rules.dependencies.platform_markers import absent_targets
from cudaudit.rules.dependencies.rewrites import FixTarget, dependency_fix
from cudaudit.settings import AnalysisSettings
from cudaudit.siblings import name_targets
from cudaudit.verdicts import TARGET_NAMES, another_path, group_of, one_for_the_site

_PYTORCH_CUDA_INDEX = re.compile(r"^download\.pytorch\.org/whl/(cu\d+)(?:/|$)")
_CUDA_GROUP = re.compile(r"(?i)cuda|(?:^|[^a-z])cu\d|gpu|nvidia")
"""An extra or dependency group named for CUDA: `cuda`, `cu121`, `gpu`, `nvidia-gpu`."""


@dataclass(frozen=True)
class Placed:
    """A string read from a file, and where its characters are.

    `segments` lists (offset in `text`, line, 1-based column) for each physical line the
    string spans: one for a string on one line, several for a requirements line continued
    with a backslash.
    """

    text: str
    segments: tuple[tuple[int, int, int], ...]

    @classmethod
    def at(cls, text: str, line: int, column: int) -> Placed:
        return cls(text, ((0, line, column),))

    def position(self, offset: int) -> tuple[int, int]:
        start, line, column = next(s for s in reversed(self.segments) if s[0] <= offset)
        return line, column + offset - start

    def sub(self, start: int, end: int) -> Placed:
        """The part [start, end) of the string, placed where it is."""
        inside = tuple((offset - start, line, column) for offset, line, column in self.segments if start < offset < end)
        return Placed(self.text[start:end], ((0, *self.position(start)), *inside))

    def span(self, start: int, end: int) -> Span:
        line, column = self.position(start)
        end_line, end_column = self.position(max(start, end - 1))
        return Span(line, column, end_line, end_column + (end > start))


@dataclass(frozen=True)
class DependencyContext:
    """What a file says beyond one string: the torch release it pins, and whether a list is opt-in."""

    torch: Version | None = None
    quiet: frozenset[str] = frozenset()
    """Targets on which these findings are at most notes (see `optional_group`)."""
    fix: FixTarget | None = None
    """The one target to attach fixes for (`cudaudit fix --target`); None: no fixes."""
    unimported: frozenset[str] = frozenset()
    """Catalog keys of packages nothing in the project imports (`FileFacts.unimported_bindings`): the
    pin installs on every target and changes nothing there, a note on each."""
    switched_off: frozenset[str] = frozenset()
    """Catalog keys of packages the project imports only under a switch every shipped configuration
    turns off (`FileFacts.switched_off_packages`): the pin breaks another path only, a warning at most."""


def set_torch(pinned: Version | None, settings: AnalysisSettings) -> Version | None:
    """The torch release a dependency set installs: the one it pins, else the one the run was given."""
    if pinned is not None or settings.torch_release is None:
        return pinned
    return Version(settings.torch_release)


def optional_group(name: str, facts: FileFacts = NO_FACTS, pins_cuda_builds: bool = False) -> frozenset[str]:
    """The targets that never install an extra or group named `name`, when it is a CUDA variant.

    `pip install .[cuda]` is opted into by NVIDIA users only; as with a `torch.cuda` guard in
    code, a ROCm user may still pick a GPU extra, so ROCm keeps its severity, unless the project
    ships a variant of its own for ROCm (a `rocm` extra, `requirements-rocm.txt`): then a ROCm
    user installs that, and the CUDA extra is the NVIDIA variant. An extra whose name does not
    say CUDA but whose requirements pin CUDA builds (`+cu121` wheels: `pins_cuda_builds`) is the
    NVIDIA variant too for the targets the project has variants of; a CPU user, whom its name
    does not warn off, keeps the finding."""
    variants = frozenset(variant.target for variant in facts.target_variants)
    if _CUDA_GROUP.search(name):
        return frozenset(TARGETS) - CUDA_API_TARGETS | variants
    return variants if pins_cuda_builds else frozenset()


def unrequested_extra(findings: list[Finding], extra: str, facts: FileFacts) -> list[Finding]:
    """The findings of a requirement of the extra `extra` where the project's README installs no such
    extra (`FileFacts.readme_extras`): `pip install pkg` leaves it out, so only a user who asks for it
    (`pip install "pkg[extra]"`) installs it, another path, at most a warning on every target."""
    if extra in facts.readme_extras:
        return findings
    said = f"; only the `{extra}` extra installs it, which the README's install does not name"
    return [another_path(replace(finding, message=finding.message + said)) for finding in findings]


def pins_cuda_build(requirement: str, catalog: Catalog) -> bool:
    """`flash-attn @ https://.../flash_attn-2.6.3+cu121torch2.4-...whl`, `torch==2.5.0+cu121`: a
    requirement that installs a CUDA build (see `optional_group`)."""
    return any(hit.detector == LOCAL_VERSION for hit in requirement_hits(requirement, catalog))


def one_per_variant_extra(found: list[tuple[str | None, Finding]], facts: FileFacts, cuda_builds: frozenset[str] = frozenset()) -> list[Finding]:
    """Findings, those of a CUDA extra that is one variant among the project's own reported once
    per extra: where every target it lacks has a variant of its own, and in any extra that pins CUDA
    builds (`cuda_builds`) in a project with variants (a CPU user gets one finding for the extra,
    with its requirements' worst verdict, not one per requirement). A finding with a fix stays itself."""
    kept: list[Finding] = []
    extras: dict[str, list[Finding]] = {}
    for group, finding in found:
        covered = group is not None and finding.fix is None and optional_group(group, facts) >= set(finding.targets)
        variant = group in cuda_builds and finding.fix is None
        if (covered or variant) and group is not None and facts.target_variants:
            extras.setdefault(group, []).append(finding)
        else:
            kept.append(finding)
    for group, members in extras.items():
        grouped = group_of(members, f"of the `{group}` extra")
        kept.append(replace(one_for_the_site([grouped, *members]), message=grouped.message))
    return kept


def findings(
    placed: Placed,
    hits: Iterable[PackageHit],
    path: str,
    catalog: Catalog,
    settings: AnalysisSettings,
    context: DependencyContext,
) -> list[Finding]:
    """One finding for the requirement or option in `placed`, at the place of its most specific hit.

    `flash-attn @ https://.../flash_attn-2.7.0+cu121torch2.5-...whl` names its package twice and a
    CUDA build once: one site. The package's own entry (at its name) tells what it is and what
    replaces it; each target's verdict is the most severe of the site's hits (the CUDA build the
    URL pins is what keeps it off ROCm). A hit with a fix of its own stays a finding of its own.

    In a file named for ROCm alone (`docker-rocm/Dockerfile`, `requirements-rocm.txt`) a package is
    what ROCm installs: where the catalog says its ROCm build is the same package (`action = "keep"`),
    ROCm works."""
    found: list[tuple[bool, Finding]] = []
    rocm_file = name_targets(path) == {"rocm"}
    absent = absent_targets(placed.text, catalog)
    for hit in hits:
        entry = catalog.lookup(hit.detector, hit.key)
        if entry is None:
            continue
        entry = _for_torch_release(entry, hit, context.torch)
        if rocm_file:
            entry = _rocm_build(entry, hit)
        fix = dependency_fix(entry, hit, placed, context.fix, context.torch, opt_in=bool(context.quiet))
        span = placed.span(hit.start, hit.end)
        unused = hit.key in context.unimported
        quiet = frozenset(settings.targets) if unused else context.quiet | absent
        cap = Severity.WARNING if hit.key in context.switched_off else None
        finding = build_finding(entry, path, span, hit.text, settings.targets, quiet, cap, fix)
        if unused:
            finding = replace(finding, message=f"{finding.message}; nothing in the project imports it, so the pin changes nothing")
        elif absent & set(finding.targets):
            names = " and ".join(TARGET_NAMES.get(t, t) for t in sorted(absent & set(finding.targets)))
            finding = replace(finding, message=f"{finding.message}; its marker leaves out every {names} host")
        found.append((hit.detector in (PACKAGE, CONDA_PACKAGE), finding))
    # The package's own entry first, then the narrowest hit (a `+cu121` pin says more than the index it comes from).
    ordered = [f for _, f in sorted(sorted(found, key=lambda pair: pair[1].rule, reverse=True), key=_specific)]
    with_fix = [f for f in ordered if f.fix is not None]
    without = [f for f in ordered if f.fix is None]
    return with_fix + ([one_for_the_site(without)] if without else [])


def _specific(pair: tuple[bool, Finding]) -> tuple[bool, int]:
    package, finding = pair
    span = finding.span
    return (not package, (span.end_line - span.line) * 10_000 + span.end_column - span.column)


def unique(found: Iterable[Finding]) -> list[Finding]:
    """Findings without repeats of the same rule at the same place."""
    return list({(f.rule, f.span): f for f in found}.values())


def _for_torch_release(entry: Entry, hit: PackageHit, torch: Version | None) -> Entry:
    """The entry with the ROCm replacement of a PyTorch CUDA index or pin for this torch release."""
    if hit.detector == INDEX:
        match = _PYTORCH_CUDA_INDEX.match(index_location(hit.text))
        tag = match.group(1) if match else None
    elif hit.detector == LOCAL_VERSION:
        label = hit.text.lower().removeprefix("%2b").removeprefix("+")
        tag = label if is_cuda_tag(label) else None
    else:
        tag = None
    if tag is None or "rocm" not in entry.targets:
        return entry
    replacement = _rocm_replacement(tag, torch, pin=hit.detector == LOCAL_VERSION)
    if replacement is None:
        return entry
    rocm = replace(entry.targets["rocm"], replacement=replacement, source=TABLE_SOURCE)
    return replace(entry, targets={**entry.targets, "rocm": rocm})


def _rocm_build(entry: Entry, hit: PackageHit) -> Entry:
    """The entry as a ROCm file installs the package: where the catalog's ROCm build for the releases
    the requirement admits keeps the package (flash-attn builds its ROCm backend from the same
    sources), ROCm works, citing that build's source."""
    fact = entry.targets.get("rocm")
    if fact is None or fact.status is Status.WORKS or not entry.builds.get("rocm"):
        return entry
    try:
        specifier = Requirement(hit.text).specifier
    except InvalidRequirement:
        specifier = SpecifierSet()
    build = target_build(entry, "rocm", specifier)
    if build is None or build.action != "keep":
        return entry
    works = Portability(Status.WORKS, f"the ROCm build of the same package: {build.note}", build.source, Severity.NOTE)
    return replace(entry, targets={**entry.targets, "rocm": works})


def _rocm_replacement(cuda_tag: str, torch: Version | None, pin: bool) -> str | None:
    indexes = rocm_indexes(cuda_tag, torch)
    if torch is not None and indexes:
        (index,) = indexes
        what = f"`+{index.tag}` builds from `{index.url}`" if pin else f"`{index.url}`"
        note = "" if index.confirmed else "; listed in PyTorch's build matrix, not yet in its release notes"
        return f"{what}, the ROCm index of torch {index.torch}{note}"
    if not indexes:
        return None
    choices = ", ".join(f"{index.torch} → `{index.tag}`" for index in indexes)
    label = "`+rocmX.Y` builds from " if pin else ""
    return f"{label}`{PYTORCH_WHEELS}/rocmX.Y` for your torch release ({cuda_tag} builds: {choices})"
