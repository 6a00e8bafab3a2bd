"""Which build of a CUDA-bound package serves one target, and which ROCm index a dependency set uses.

The facts are the catalog's: each dependency entry lists, per target and per range of the
package's releases, whether a build exists (`yes`, `from-source`, `no`) and what a variant of
the dependency set does with the requirement (`swap` to another distribution, `keep` it,
`drop` it, or leave it to a person: `manual`); see `TargetBuild` and docs/catalog-format.md.
PyTorch's own packages come from the release table (`wheel_indexes.py`). This module only
combines them with what one dependency set pins: the torch release, which fixes the ROCm index,
and the package's own version, which picks the row.

`cudaudit fix --target` (through `rules/dependencies/rewrites.py`) and `cudaudit resolve` both
decide here, so a requirement is rewritten the same way by both.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from cudaudit.model import Portability
from cudaudit.resolvers.requirements import PACKAGE, package_key, parse_requirement
from cudaudit.resolvers.wheel_indexes import PYTORCH_WHEELS, TABLE_SOURCE, release_for
from cudaudit.rules.catalog import Catalog, Entry, TargetBuild, load_catalog

MANUAL_SOURCE_NOTE = "no mechanical swap is known; the replacement says what to do"
PREVIOUS_VERSIONS = "https://pytorch.org/get-started/previous-versions/"
CPUONLY_SOURCE = "https://github.com/pytorch/pytorch.github.io/pull/1336/files"


class UnpublishedRocm(ValueError):
    """A ROCm version PyTorch never published a build of this torch release for."""

    def __init__(self, torch: Version, requested: str, published: tuple[str, ...]) -> None:
        self.torch, self.requested, self.published = torch, requested, published
        choices = ", ".join(tag.removeprefix("rocm") for tag in published) or "none"
        super().__init__(
            f"PyTorch {torch.major}.{torch.minor} was never published for ROCm {requested.removeprefix('rocm')}; "
            f"its ROCm builds are: {choices}"
        )


@dataclass(frozen=True)
class RocmChoice:
    """The PyTorch ROCm index a dependency set is pointed at."""

    tag: str
    """`rocm6.1`: the index `download.pytorch.org/whl/rocm6.1` and the `+rocm6.1` builds."""
    confirmed: bool
    """Listed by PyTorch's release notes ("previous versions"), not only its build matrix."""

    @property
    def version(self) -> Version:
        return Version(self.tag.removeprefix("rocm"))


def rocm_choice(torch: Version | None, needs: Iterable[TargetBuild] = (), requested: str | None = None) -> RocmChoice | None:
    """The ROCm index for the torch release a set pins: `requested` if PyTorch published it, else the
    newest published one that every package in `needs` has a build on, else the newest published one.

    Raises `UnpublishedRocm` for a requested ROCm version the release was never built for.
    """
    release = release_for(torch) if torch is not None else None
    if release is None or torch is None:
        return None
    if requested is not None:
        tag = normalise_rocm(requested)
        if tag not in release.rocm_tags:
            raise UnpublishedRocm(torch, tag, release.rocm_tags)
        return RocmChoice(tag, any(tag == verified for verified, _ in release.verified_rocm))
    minor = f"{torch.major}.{torch.minor}"
    allowed = [tag for tag in release.rocm_tags if all(_carries(build, minor, tag) for build in needs)]
    chosen = release.rocm_tag(torch, allowed) if allowed else None
    chosen = chosen or release.rocm_tag(torch)
    return RocmChoice(*chosen) if chosen else None


def normalise_rocm(text: str) -> str:
    """`6.1`, `rocm6.1` and `ROCm 6.1` are all the tag `rocm6.1`."""
    return "rocm" + text.lower().replace("rocm", "").strip()


def _carries(build: TargetBuild, minor: str, tag: str) -> bool:
    """Whether the index `tag` of torch release `minor` can serve `build`."""
    if build.pytorch_index and build.pytorch_index.get(minor) not in (None, tag):
        return False
    return build.min_rocm is None or _tag_version(tag) >= Version(build.min_rocm)


def _tag_version(tag: str) -> Version:
    try:
        return Version(tag.removeprefix("rocm"))
    except InvalidVersion:
        return Version("0")


@dataclass(frozen=True)
class Decision:
    """What a variant of a dependency set does with one CUDA-bound requirement on one target."""

    available: str
    """`yes`, `from-source` or `no`: whether a build for the target exists at that version."""
    action: str
    """`swap`, `keep`, `drop` or `manual` (see `TargetBuild`)."""
    package: str | None
    """For a swap: the name (and extras) written instead (`cupy-rocm-5-0`, `jax`)."""
    version: str | None
    """For a swap that changes the version: the specifier written instead (`==0.49.0`, "" for any);
    None keeps the version as written."""
    replacement: str
    """What replaces the package on the target, for people."""
    note: str
    source: str
    pytorch_index: bool = False
    """Installed from PyTorch's wheel index for the target, which the set must then name."""


def index_needs(requirements: Iterable[str], target: str, catalog: Catalog | None = None) -> tuple[TargetBuild, ...]:
    """The builds among `requirements` that limit which of PyTorch's indexes the set can use on `target`:
    a wheel served by only some ROCm indexes (xformers), or one that needs a minimum ROCm (flash-attn)."""
    catalog = catalog or load_catalog()
    needs = []
    for text in requirements:
        requirement = parse_requirement(text)
        found = package_key(requirement.name, requirement.extras, requirement.specifier, catalog) if requirement else None
        entry = catalog.lookup(PACKAGE, found[0]) if found else None
        row = target_build(entry, target, requirement.specifier) if entry and requirement else None
        if row is not None and limits_index(row):
            needs.append(row)
    return tuple(needs)


def limits_index(row: TargetBuild) -> bool:
    """Whether a build the set installs narrows the PyTorch indexes it can use (`rocm_choice`)."""
    return row.action != "drop" and bool(row.pytorch_index or row.min_rocm)


def torch_decision(
    package: str, target: str, torch: Version | None, rocm: RocmChoice | None, conda: bool = False
) -> Decision:
    """torch, torchvision or torchaudio on `target`: the build of the same release from the target's index
    (for a conda package on CPU: the same channel's CPU build)."""
    if target == "cpu" and conda:
        return Decision("yes", "keep", None, None, "the CPU build from the same channel (`cpuonly` selects it on the `pytorch` channel)", "", CPUONLY_SOURCE)
    if target == "cpu":
        return Decision("yes", "keep", None, None, f"the `+cpu` build from `{PYTORCH_WHEELS}/cpu`", "", TABLE_SOURCE, True)
    if rocm is None:
        known = torch is not None and release_for(torch) is not None
        why = (
            f"{package} is not pinned to a torch release, so no ROCm index can be chosen: pin it (`==X.Y.Z`), "
            "or name the release with --torch-version"
            if not known and torch is None
            else f"torch {torch} is not in cudaudit's release table: pick its ROCm index from {PREVIOUS_VERSIONS}"
        )
        return Decision("yes", "manual", None, None, f"the `+rocmX.Y` build from `{PYTORCH_WHEELS}/rocmX.Y`", why, TABLE_SOURCE)
    note = "" if rocm.confirmed else f"{rocm.tag} is listed in PyTorch's build matrix, not yet in its release notes"
    return Decision("yes", "keep", None, None, f"the `+{rocm.tag}` build from `{PYTORCH_WHEELS}/{rocm.tag}`", note, TABLE_SOURCE, True)


def target_build(entry: Entry, target: str, specifier: SpecifierSet) -> TargetBuild | None:
    """The catalog's row for the releases a requirement admits, or None when the catalog has none."""
    return next((row for row in entry.builds.get(target, ()) if row.covers(specifier)), None)


def decide(
    entry: Entry,
    target: str,
    extras: Iterable[str],
    specifier: SpecifierSet,
    torch: Version | None,
    rocm: RocmChoice | None,
) -> Decision:
    """The decision for a requirement (`extras`, `specifier`) that `entry` flags, in a set that pins
    `torch` and uses the ROCm index `rocm`."""
    fact = entry.targets.get(target)
    row = target_build(entry, target, specifier)
    if row is None:
        return Decision(
            "no" if fact is not None and fact.status.value == "blocked" else "yes",
            "manual",
            None,
            None,
            fact.replacement if fact else "",
            MANUAL_SOURCE_NOTE,
            fact.source if fact else "",
        )
    package, version = _swapped(entry, row, extras, specifier) if row.action == "swap" else (None, None)
    missing = _missing_build(row, target, torch, rocm)
    if missing is not None:
        instead = row.replacement or (fact.replacement if fact else "")
        if target == "rocm" and row.min_rocm and "ROCm" in missing:
            instead = f"a torch release whose ROCm builds use ROCm {row.min_rocm} or newer; then: {instead}"
        return Decision("no", "drop", None, None, instead, missing, row.source)
    shown = f"`{package}{specifier if version is None else version}`" if package else _replacement(row, fact)
    return Decision(row.available, row.action, package, version, shown, row.note, row.source, bool(row.pytorch_index))


def _missing_build(row: TargetBuild, target: str, torch: Version | None, rocm: RocmChoice | None) -> str | None:
    """Why the row's build cannot be had with this torch release and ROCm index; None when it can."""
    minor = f"{torch.major}.{torch.minor}" if torch is not None else None
    if row.pytorch_index and minor is not None:
        wanted = row.pytorch_index.get(minor)
        if wanted is None:
            first = min(row.pytorch_index, key=lambda m: Version(m))
            return f"no {target} build for torch {minor} (the first is for torch {first})"
        here = rocm.tag if target == "rocm" and rocm is not None else target
        if wanted != here:
            return f"the build for torch {minor} is on PyTorch's {wanted} index; this set uses {here}"
    if target == "rocm" and row.min_rocm is not None and rocm is not None and rocm.version < Version(row.min_rocm):
        return f"needs ROCm {row.min_rocm} or newer; torch {minor}'s ROCm builds use {rocm.tag}"
    return None


def _swapped(entry: Entry, row: TargetBuild, extras: Iterable[str], specifier: SpecifierSet) -> tuple[str, str | None]:
    """`row.package` with the requirement's other extras, and the version the row asks for (None: as written)."""
    assert row.package is not None
    cuda_extra = entry.match.partition("[")[2].rstrip("]") if "[" in entry.match else None
    kept = sorted(e for e in extras if cuda_extra is None or not fnmatch.fnmatchcase(canonicalize_name(e), cuda_extra))
    package = row.package + (f"[{','.join(kept)}]" if kept else "")
    if row.version is None:
        return package, None
    if row.version.startswith(">=") and any(spec.operator in ("==", "===") for spec in specifier):
        return package, "==" + row.version[2:]
    return package, row.version


def _replacement(row: TargetBuild, fact: Portability | None) -> str:
    """For people: what stands in for the package on the target."""
    if row.action == "keep":
        return "the same requirement" + (", from PyTorch's index for the target" if row.pytorch_index else "")
    if row.action == "drop" and row.available != "no":
        return "nothing: the target does not need it"
    return row.replacement or (fact.replacement if fact else row.note)
