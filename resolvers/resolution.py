"""`cudaudit resolve`: the ROCm or CPU variant of a project's dependency files, and a verdict on each
CUDA-bound package.

A run reads every file it is given (and the files requirements include with `-r`/`-c`) as one
dependency set: one torch release (the one pinned, or `--torch-version`; for ROCm, else the newest
release the set's torch range admits with ROCm builds, as pip would take it), one PyTorch index for
the target (for ROCm the newest published for that release on which every package that needs
it has a build, or `--rocm-version`). Each file then gets its variant:

* requirements files and `pyproject.toml` are rewritten by the very fixes `cudaudit fix --target`
  makes (`rules/dependencies/rewrites.py`), then by what only a variant needs: the target's
  build label on a plain `torch==X` pin, the target's PyTorch index where the file installs from
  it and names none, and includes pointed at the included files' variants;
* a lock file becomes the requirements it pins (`lock_input.py`), rewritten the same way: the
  input from which to lock again;
* a conda environment file is rewritten by `conda_variant.py`.

Everything else is kept byte for byte. The verdicts say, per CUDA-bound package, whether the
target has a build at that version, what replaces it and where that fact comes from
(`builds.py`, from the catalog). `feasibility()` is that verdict as plain data, for callers that
do not need the files (`cudaudit report`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path, PurePath
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from cudaudit.analyzers import analyzer
from cudaudit.filekinds import FileKind, classify
from cudaudit.fixers.edits import apply_edits, splice
from cudaudit.model import Edit, Span
from cudaudit.resolvers import conda_variant, declared
from cudaudit.resolvers.builds import (
    RocmChoice,
    UnpublishedRocm,
    decide,
    limits_index,
    rocm_choice,
    target_build,
    torch_decision,
)
from cudaudit.resolvers.lock_input import lock_input
from cudaudit.resolvers.pyproject_variant import pyproject_additions
from cudaudit.resolvers.requirements import (
    CONDA_PACKAGE,
    INCLUDE_OPTIONS,
    INDEX_OPTIONS,
    PACKAGE,
    best_key,
    index_location,
    package_key,
    parse_option,
    requirement_layout,
    trailing_hashes,
)
from cudaudit.resolvers.resolution_model import Problem, Resolution, Variant, Verdict
from cudaudit.resolvers.variant_names import variant_path
from cudaudit.resolvers.variants import FIX_TARGETS, TORCH_FAMILY
from cudaudit.resolvers.wheel_indexes import PYTORCH_WHEELS, releases, torch_version_of
from cudaudit.rules.catalog import Entry, load_catalog
from cudaudit.rules.dependencies.report import Placed
from cudaudit.rules.dependencies.requirements_file import included_files, logical_lines
from cudaudit.rules.dependencies.rewrites import annotation, removal_span
from cudaudit.safe_read import UnreadableFile, read_tree_file
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines, UndecodableError, UnparsableError, decode_text

RESOLVABLE_KINDS = (FileKind.REQUIREMENTS, FileKind.PYPROJECT, FileKind.LOCKFILE, FileKind.CONDA)


class ResolveError(ValueError):
    """An input that cannot be resolved at all; nothing is written. The message says why and what to do."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        where = f"{path}:{line}: " if path and line else f"{path}: " if path else ""
        super().__init__(where + message)
        self.path, self.line = path, line


def feasibility(
    paths: Sequence[str | os.PathLike[str]],
    target: str,
    rocm_version: str | None = None,
    torch_version: str | None = None,
) -> list[dict[str, Any]]:
    """For each CUDA-bound package the dependency files install: can the target have it?

    Returns one plain dict per package (and per file and line that requires it), with keys
    `path`, `line`, `package` (the requirement as written), `target`, `available` (`"yes"`,
    `"from-source"` or `"no"`: whether a build for the target exists at that version),
    `action` (what `cudaudit resolve` writes: `"swap"` to another package, `"keep"` it,
    `"drop"` it, or `"manual"`: nothing mechanical is right), `replacement`, `note`, `source`
    (where the fact comes from: a URL or a file of cudaudit) and `optional` (the opt-in extra
    it sits in, or None). A package "swaps cleanly" when `available != "no"` and
    `action != "manual"`. Raises `ResolveError` for files it cannot read (a kind other than
    requirements, pyproject.toml, lock files and conda environments; malformed TOML or YAML).
    """
    return [verdict.to_json() for verdict in resolve([Path(p) for p in paths], target, rocm_version, torch_version).verdicts]


def resolve(
    paths: Sequence[Path],
    target: str,
    rocm_version: str | None = None,
    torch_version: str | None = None,
    pytorch_index: str | None = None,
) -> Resolution:
    """The variants of the dependency files `paths` (and the files they include) for `target`.

    `pytorch_index`: a mirror of `https://download.pytorch.org/whl` that the variants name instead.
    Raises `ResolveError` when any input cannot be read or parsed, or the ROCm version asked for
    was never published for the set's torch release.
    """
    if target not in FIX_TARGETS:
        raise ResolveError(f"cannot resolve for {target!r}: the targets are {', '.join(FIX_TARGETS)}")
    inputs = _read_inputs(paths)
    sets = {variant.source: _declared(variant) for variant in inputs}
    everything = [d for found, _ in sets.values() for d in found]
    pinned = _pinned_torch(everything)
    torch = pinned or (_version(torch_version, "--torch-version") if torch_version else None)
    from_range = torch is None and target == "rocm"
    torch = torch or (_newest_admitted(everything) if from_range else None)
    rocm = _rocm(target, torch, everything, rocm_version)
    settings = AnalysisSettings((target,), torch_release=str(torch) if torch else None, rocm_version=rocm.tag if rocm else None)
    resolution = Resolution(target, torch, rocm, inputs, torch_given=pinned is None and torch is not None)
    for variant in inputs:
        found, unreadable = sets[variant.source]
        variant.problems.extend(Problem(str(variant.source), u.line, f"pip cannot read `{u.text}`; kept as it was") for u in unreadable)
        variant.verdicts.extend(_verdicts(found, variant, target, torch, rocm, from_range and torch is not None))
        variant.text = _rewrite(variant, settings, resolution)
    _point_includes_at_variants(inputs)
    if pytorch_index:
        for variant in inputs:
            variant.text = variant.text.replace(f"{PYTORCH_WHEELS}/", f"{pytorch_index.rstrip('/')}/")
    return resolution


def resolve_kind(path: Path) -> FileKind | None:
    """The kind `cudaudit resolve` reads `path` as; any other `.txt`/`.in` is a requirements file."""
    kinds = [kind for kind in classify(PurePath(path)) if kind in RESOLVABLE_KINDS]
    if kinds:
        return kinds[0]
    return FileKind.REQUIREMENTS if path.suffix.lower() in (".txt", ".in") else None


def _read_inputs(paths: Sequence[Path]) -> list[Variant]:
    inputs: list[Variant] = []
    seen: set[str] = set()
    for path in paths:
        kind = resolve_kind(path)
        if kind is None:
            raise ResolveError(
                "not a file cudaudit resolve reads: give requirements files, pyproject.toml, "
                "conda environment files or lock files (uv.lock, poetry.lock, pdm.lock, pylock.toml, Pipfile.lock)",
                str(path),
            )
        _add(inputs, seen, path, kind, _read(path), included=False)
        if kind is FileKind.REQUIREMENTS:
            for include, text in included_files(inputs[-1].original, str(path), (str(path.absolute().parent),)):
                _add(inputs, seen, Path(include), FileKind.REQUIREMENTS, text, included=True)
    return inputs


def _add(inputs: list[Variant], seen: set[str], path: Path, kind: FileKind, text: str, included: bool) -> None:
    key = os.path.normcase(os.path.abspath(path))
    if key in seen:
        return
    seen.add(key)
    inputs.append(Variant(path, kind, text, text, Path(), included=included))


def _read(path: Path) -> str:
    if not path.exists() and not path.is_symlink():
        raise ResolveError("no such file", str(path))
    try:
        return decode_text(read_tree_file(path, path.absolute().parent))
    except UnreadableFile as exc:
        raise ResolveError(exc.reason, str(path)) from None
    except UndecodableError as exc:
        raise ResolveError(f"{exc}; save it as UTF-8", str(path)) from None


def _declared(variant: Variant) -> tuple[list[declared.Declared], list[declared.Unreadable]]:
    """What the file requires; a file that does not parse stops the run (`ResolveError`)."""
    try:
        if variant.kind is FileKind.PYPROJECT:
            return declared.pyproject(variant.original), []
        if variant.kind is FileKind.CONDA:
            return conda_variant.declared(variant.original), []
        if variant.kind is FileKind.LOCKFILE:
            pins = lock_input(variant.original, str(variant.source))
            found, unreadable = declared.requirements_file(pins.text)
            return [replace(d, line=pins.lines.get(d.line, d.line)) for d in found], unreadable
        return declared.requirements_file(variant.original)
    except UnparsableError as exc:
        raise ResolveError(f"{exc}; nothing was written", str(variant.source), exc.line) from None


def _pinned_torch(found: Iterable[declared.Declared]) -> Version | None:
    for requirement in found:
        if requirement.name not in TORCH_FAMILY or requirement.optional:
            continue
        for spec in requirement.specifier:
            version = spec.version.removesuffix(".*")  # a conda `pytorch=2.1` is any 2.1.x
            if spec.operator in ("==", "===") and "*" not in version:
                torch = torch_version_of(requirement.name, version)
                if torch is not None:
                    return torch
    return None


def _newest_admitted(found: Iterable[declared.Declared]) -> Version | None:
    """The newest torch release in the wheel table that every torch requirement of the set admits
    and PyTorch built for ROCm: what `pip install` takes from that release's ROCm index for an
    unpinned `torch>=2.1`. None when the set names no torch, or its ranges admit no such release."""
    ranges = [r.specifier for r in found if r.name == "torch" and not r.optional]
    if not ranges:
        return None
    admitted = [r.torch for r in releases() if r.rocm_tags and all(spec.contains(r.torch, prereleases=False) for spec in ranges)]
    return max(admitted, default=None)


def _version(text: str, option: str) -> Version:
    try:
        return Version(text)
    except ValueError:
        raise ResolveError(f"{option} {text!r} is not a version; give one like 2.4.1") from None


def _rocm(target: str, torch: Version | None, found: list[declared.Declared], requested: str | None) -> RocmChoice | None:
    if target != "rocm":
        return None
    needs = []
    for requirement in found:
        entry = _entry(requirement) if not requirement.optional else None
        row = target_build(entry, target, requirement.specifier) if entry else None
        if row is not None and limits_index(row):
            needs.append(row)
    try:
        return rocm_choice(torch, needs, requested)
    except UnpublishedRocm as exc:
        raise ResolveError(str(exc) + "; pass one of those to --rocm-version") from None


def _verdicts(
    found: list[declared.Declared],
    variant: Variant,
    target: str,
    torch: Version | None,
    rocm: RocmChoice | None,
    from_range: bool = False,
) -> list[Verdict]:
    verdicts = []
    for requirement in found:
        if requirement.name in TORCH_FAMILY:
            decision = torch_decision(requirement.name, target, torch, rocm, conda=requirement.detector == CONDA_PACKAGE)
            if from_range and rocm is not None and decision.action == "keep":
                chosen = (f"not pinned: the newest release its range admits with ROCm builds is torch {torch}, from "
                          f"`{rocm.tag}` (pin torch, or name a release with --torch-version, for another)")
                decision = replace(decision, note="; ".join(filter(None, (chosen, decision.note))))
        else:
            entry = _entry(requirement)
            if entry is None:
                continue
            decision = decide(entry, target, requirement.extras, requirement.specifier, torch, rocm)
        verdicts.append(
            Verdict(
                str(variant.source),
                requirement.line,
                requirement.text,
                target,
                decision.available,
                decision.action,
                decision.replacement,
                decision.note,
                decision.source,
                requirement.optional,
                decision.pytorch_index,
            )
        )
    return verdicts


def _entry(requirement: declared.Declared) -> Entry | None:
    """The catalog entry that flags a requirement: by pip name (and extras, version), or conda name."""
    catalog = load_catalog()
    if requirement.detector != PACKAGE:
        key = best_key(catalog, requirement.detector, requirement.name)
        return catalog.lookup(requirement.detector, key) if key else None
    found = package_key(requirement.name, requirement.extras, requirement.specifier, catalog)
    return catalog.lookup(PACKAGE, found[0]) if found else None


def _rewrite(variant: Variant, settings: AnalysisSettings, resolution: Resolution) -> str:
    """The variant's text: the target's fixes, then what only a variant needs."""
    variant.output = variant_path(variant.source, resolution.target, variant.kind)
    if variant.kind is FileKind.CONDA:
        return conda_variant.rewrite(variant.original, str(variant.source), settings, resolution.index_url())
    if variant.kind is FileKind.LOCKFILE:
        requirements = lock_input(variant.original, str(variant.source))
        variant.notes.extend(requirements.notes)
        text, path, kind = requirements.text, str(variant.output), FileKind.REQUIREMENTS
    else:
        text, path, kind = variant.original, str(variant.source), variant.kind
    findings = [f for f in analyzer(kind)(text, path, load_catalog(), settings) if f.fix and f.path == path]
    fixed = apply_edits(text, findings).text
    if kind is FileKind.REQUIREMENTS:
        fixed = _requirements_additions(fixed, resolution, needs_index=_installs_from_pytorch(variant))
    elif kind is FileKind.PYPROJECT:
        url = resolution.index_url()
        # pyproject.toml names indexes for uv, Poetry and PDM only; pip is told on its command line.
        names_no_index = _installs_from_pytorch(variant) and url is not None and index_location(url) not in fixed
        fixed = pyproject_additions(text, fixed, resolution.target, _build_tag(resolution), label_pins=names_no_index)
        if names_no_index:
            variant.notes.append(f"it names no PyTorch index: install with --extra-index-url {url} (or add it as a uv index)")
    try:
        analyzer(kind)(fixed, path, load_catalog(), settings)
    except (UnparsableError, SyntaxError) as exc:  # a bug in a rewrite: keep the input rather than break it
        variant.problems.append(Problem(str(variant.source), None, f"the variant would not parse ({exc}); left unchanged"))
        return text
    return fixed


def _build_tag(resolution: Resolution) -> str | None:
    """The local label of the target's PyTorch builds: `rocm6.1`, `cpu`."""
    return resolution.rocm.tag if resolution.rocm else ("cpu" if resolution.target == "cpu" else None)


def _installs_from_pytorch(variant: Variant) -> bool:
    """Whether the file installs a package from PyTorch's index: torch and its kin, or a build it serves."""
    return any(v.optional is None and v.pytorch_index and v.action in ("keep", "swap") for v in variant.verdicts)


def _requirements_additions(text: str, resolution: Resolution, needs_index: bool) -> str:
    """Pin plain `torch==X` to the target's build, drop the `triton` pip-compile pinned only for the
    CUDA torch, and name the target's PyTorch index where needed."""
    tag = _build_tag(resolution)
    lines = SourceLines(text)
    edits: list[Edit] = []
    has_index = False
    first_line: int | None = None
    index_url = resolution.index_url()
    for placed in logical_lines(text):
        written = placed.text.strip()
        if not written:
            continue
        line = placed.segments[0][1]
        if written.startswith("-"):
            option = parse_option(placed.text)
            if option and option.name in INDEX_OPTIONS.values() and index_url:
                has_index = has_index or index_location(option.value) == index_location(index_url)
            if first_line is None and option and option.name not in INCLUDE_OPTIONS.values():
                first_line = line
            continue
        first_line = line if first_line is None else first_line
        layout = requirement_layout(placed.text)
        name = canonicalize_name(layout.requirement.name) if layout else None
        if name == "triton" and resolution.torch is not None and _only_for_torch(lines, placed):
            span = removal_span(placed, lines)
            edits.extend([Edit(span, "")] if span else [])
            continue
        if layout is None or tag is None or name not in TORCH_FAMILY:
            continue
        given = resolution.torch if resolution.torch_given else None
        if name == "torch" and given is not None and given in layout.requirement.specifier:
            # The release --torch-version names, as the target's build: the range alone would let pip take
            # a newer CUDA torch from PyPI over the ROCm index.
            span = placed.span(layout.extras_end, layout.specifier_end)
            edits.append(Edit(span, f"=={given}+{tag}"))
            continue
        pins = [spec for spec in layout.requirement.specifier if spec.operator == "=="]
        if len(pins) != 1 or "+" in pins[0].version or "*" in pins[0].version:
            continue
        edits.append(Edit(placed.span(layout.specifier_end, layout.specifier_end), f"+{tag}"))
        hashes = trailing_hashes(placed.text)
        if hashes:
            edits.append(Edit(placed.span(*hashes), ""))
    if needs_index and index_url and not has_index:
        at = first_line or len(text.split("\n"))
        edits.append(Edit(Span(at, 1, at, 1), f"--extra-index-url {index_url}\n"))
    return splice(text, edits) if edits else text


def _only_for_torch(lines: SourceLines, placed: Placed) -> bool:
    """pip-compile says only torch wants it (`# via torch`): the CUDA torch wheels require `triton`, the
    ROCm ones bring their own Triton and the CPU ones none (`lock_input.TORCH_TRITON_SOURCE`)."""
    via = " ".join(annotation(lines, placed.segments[-1][1])).replace("#", " ").split()
    return via[:1] == ["via"] and via[1:] == ["torch"]


def _point_includes_at_variants(variants: list[Variant]) -> None:
    """`-r base.txt` becomes `-r base-rocm.txt` where base.txt has a variant of its own."""
    renamed = {os.path.normcase(os.path.abspath(v.source)): v.output for v in variants if v.included and v.changed}
    if not renamed:
        return
    for variant in variants:
        if variant.kind is not FileKind.REQUIREMENTS:
            continue
        edits = []
        for placed in logical_lines(variant.text):
            option = parse_option(placed.text) if placed.text.lstrip().startswith("-") else None
            if option is None or option.name not in INCLUDE_OPTIONS.values() or "://" in option.value:
                continue
            included = os.path.normcase(os.path.abspath(os.path.join(os.path.dirname(variant.source), option.value)))
            if included in renamed:
                new = os.path.join(os.path.dirname(option.value), renamed[included].name) if os.path.dirname(option.value) else renamed[included].name
                edits.append(Edit(placed.span(option.start, option.start + len(option.value)), new.replace(os.sep, "/")))
        if edits:
            variant.text = splice(variant.text, edits)

