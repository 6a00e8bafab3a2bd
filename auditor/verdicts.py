"""The last word on one file's findings: what its counterparts change, one finding per site, and
wholly NVIDIA-only constructs once per file.

Analyzers report every site they recognise; a user acts on verdicts. Eleven steps turn the first
into the second, each a pure function of the file's findings and its `FileFacts`:

- `within_releases`: a library that works on a target from a release on (the catalog's
  `works_with`, `bitsandbytes>=0.49.0` on ROCm) works there unless a range the project's
  dependency files declare of it allows only older releases (`cudaudit.releases`); the verdict
  then names that range.
- `own_target`: a file named for a target (`docker-rocm/Dockerfile`, `Dockerfile.cpu`,
  `requirements-rocm.txt`, `kernels_hip.cpp`, `npu_ops.py`; `siblings.served_targets`) is judged
  for that target only: its sites are notes on the others.
- `off_path`: a Python module that every first-party importer imports only on another target's
  path (`if is_torch_npu_available():`) never runs on the targets that path skips: its sites are
  notes there, naming the import.
- `with_counterparts`: a file with a ROCm (or CPU) counterpart, `Dockerfile` beside
  `Dockerfile_amd`, is not what runs on that target; its sites are at most warnings there (notes
  when the file is named for CUDA: `requirements-cuda.txt` is the NVIDIA variant), and the
  verdict names the counterpart.
- `coverage_only`: a file only a CI service runs (anything under `.github/`, a `.gitlab-ci.yml`,
  `.circleci/config.yml`, ...), a developer's environment (a `.devcontainer/` post-create script or
  Dockerfile; the folders and files are the catalog's `[[coverage_path]]` tables) or only the test suite runs (under `tests/`, a `test_*.py`, a
  `conftest.py`: `filekinds.is_test_path`; not a `test_*.py` that a document runs,
  `facts.in_test_suite`) is the project's test and release coverage, not a path
  its users run: its sites are at most warnings on every target, whichever analyzer read it (a
  workflow, a GitLab job's `image:`, a script under `.github/scripts/`, a GPU-only test without a
  skip marker, a benchmark kept with the tests). Where a skip marker keeps a test off a target,
  the walk has already made its sites notes there. The path is taken from the scanned root, so
  the folders above the project do not count.
- `in_image`: an image's dependency declaration (`docker/requirements.txt`) that the Dockerfiles beside
  it install into a CUDA image (`FileFacts.installed_in_image`) is no more serious on each target than
  that image (a `+cu121` pin a CPU host runs in an NVIDIA CUDA image: a note), as a `pip install` in
  the Dockerfile's own CUDA stage is.
- `off_default_path`: a file the project's normal path never runs (a Python module nothing on it
  imports, an opt-in area's, a superseded `setup.py`; a Dockerfile nothing in the project names; a
  Dockerfile or compose file of a project that also installs without Docker; `FileFacts.off_default_path`, from the project index): at most warnings on every
  target.
- `never_built`: a C/C++ or CUDA source that only a definition nothing runs builds (`FileFacts.never_built`:
  the JIT build of a plugin whose only user is a class nothing takes) is compiled on no target: its
  sites are notes on every target, naming that definition; so are the sites of a header no source
  the project compiles includes and no other file names, of a helper script whose image build finds no
  Dockerfile, and of a module of a package an application never imports or names (`FileFacts.runs_nowhere`,
  which says why).
- `uncompiled`: a C/C++ or CUDA source of a vendored package copy that no build of the scan compiles
  (`FileFacts.uncompiled`: the copy ships its extension prebuilt, without CUDA, or not at all) is
  compiled on no target either: notes on every target, naming the copy.
- `one_per_site`: the same rule and message twice on one line (`CUBLAS_OP_N, CUBLAS_OP_N`), or
  findings of one rule family whose spans overlap (a package name, then the same name in its URL,
  `f"cuda:{torch.cuda.current_device()}"`), leave the most
  telling finding: the most severe, then one with a fix, then the narrowest span, then the
  higher rule id (the catalog numbers a family's generic rules first, its specific ones after).
  A finding whose fix would be lost with it stays: `fix` rewrites every site it is given.
- `grouped`: a rule marked `group = "file"` (CUTLASS/CuTe, inline PTX) is a verdict on the
  whole file, not on each line: its sites become one finding at the first, with their count;
  in a file such a construct makes NVIDIA-only, the other CUDA C++ sites join that finding; in a
  file another grouped construct keeps HIP from compiling (inline PTX), the warp-size hazards
  (`threadIdx.x % 32`) are moot and join it, while the renamed API stays the port's work.

- `engine_share`: a file of the project's share for an engine that exists only for NVIDIA GPUs (the
  catalog's `[[nvidia_engine]]` words in a folder or file name below the project's top-level folder:
  `backends/trtllm/`, `Dockerfile_trtllm`, `pipeline_tensorrt.py`) is a route beside the project's
  others that no change of a line ports: its sites are one finding at the first, with their count,
  blocked on the other targets and at most a warning there (another path), naming the engine.

`is_portable` says which findings a report leaves out unless asked: a site that works on every
requested target (a note on each) is not lock-in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cache

from cudaudit.facts import FileFacts, in_test_suite
from cudaudit.model import Finding, Portability, Severity, Status
from cudaudit.releases import excluding
from cudaudit.rules.catalog import Catalog, finding_severity
from cudaudit.siblings import name_targets

TARGET_NAMES = {"rocm": "ROCm", "cpu": "CPU", "xpu": "XPU", "mps": "MPS"}


def settle_file(findings: list[Finding], facts: FileFacts, catalog: Catalog, inside: str) -> list[Finding]:
    """One file's findings as they are reported (see the module docstring); `inside` is the file's
    path from the scanned root."""
    if not findings:
        return findings
    settled = with_counterparts(off_path(own_target(within_releases(findings, facts), facts), facts), facts)
    settled = never_built(off_default_path(in_image(coverage_only(settled, inside, _coverage_paths(catalog), facts), facts), facts), facts)
    settled = uncompiled(settled, facts)
    return engine_share(grouped(one_per_site(settled, catalog), catalog), inside, _engines(catalog), catalog)


@cache
def _coverage_paths(catalog: Catalog) -> CoveragePaths:
    """`CoveragePaths.of(catalog)`, read once per catalog (a scan settles every file with one)."""
    return CoveragePaths.of(catalog)


@dataclass(frozen=True)
class CoveragePaths:
    """The folders and file names whose files only a CI service or a developer's environment runs,
    from the catalog's `[[coverage_path]]` tables (each with its public source)."""

    folders: frozenset[str]
    files: frozenset[str]

    @classmethod
    def of(cls, catalog: Catalog) -> CoveragePaths:
        tables = [table for _, tables in catalog.tables("coverage_path") for table in tables]
        return cls(
            frozenset(table["folder"].lower() for table in tables if "folder" in table),
            frozenset(name.lower() for table in tables for name in table.get("files", ())),
        )

    def holds(self, path: str) -> bool:
        """Whether only a CI service or a developer's environment runs the file at `path`."""
        parts = path.replace("\\", "/").split("/")
        return parts[-1].lower() in self.files or any(part.lower() in self.folders for part in parts[:-1])


@cache
def _engines(catalog: Catalog) -> tuple[Engine, ...]:
    """The catalog's `[[nvidia_engine]]` tables, read once per catalog."""
    return tuple(
        Engine(table["name"], tuple(table["words"]), table["source"])
        for _, tables in catalog.tables("nvidia_engine")
        for table in tables
    )


@dataclass(frozen=True)
class Engine:
    """An engine that exists only for NVIDIA GPUs (TensorRT-LLM), and the path words that name its share
    of a project (`trtllm`, `tensorrt-llm`), from the catalog's `[[nvidia_engine]]` tables."""

    name: str
    words: tuple[str, ...]
    source: str

    def share(self, inside: str) -> str | None:
        """The part of `inside` (a path from the scanned root) that names this engine, below the project's
        top-level folder: `backends/trtllm/` of `backends/trtllm/src/x.cpp`, or the file itself."""
        parts = inside.replace("\\", "/").split("/")
        for at, part in enumerate(parts):
            if at == 0 and len(parts) > 1:
                continue  # the project's own top-level folder: a project that is the engine
            tokens = "-" + _SEPARATORS.sub("-", part.lower()) + "-"
            if any(f"-{word}-" in tokens for word in self.words):
                return "/".join(parts[: at + 1]) + ("/" if at + 1 < len(parts) else "")
        return None


_SEPARATORS = re.compile(r"[._-]+")


def engine_share(findings: list[Finding], inside: str, engines: tuple[Engine, ...], catalog: Catalog) -> list[Finding]:
    """The sites of a file of the project's share for an NVIDIA-only engine (`backends/trtllm/`): no change
    of a line ports the engine, and the project's other backends serve the other targets. Every target
    that is not the engine's is blocked there, at most a warning (another path), and the file's sites
    are one finding, at the first, with their count. A CUDA C/C++ site's CPU note (the CPU's verdict on
    CUDA C++ is the build's, which reports the CUDA language) is blocked too: the engine's C++ share (a
    deployment example beside the project, built by nothing the scan reads) neither builds nor runs on a CPU."""
    found = next(((engine, where) for engine in engines if (where := engine.share(inside)) is not None), None)
    if found is None:
        return findings
    engine, where = found
    kept: list[Finding] = []
    joined: list[Finding] = []
    for finding in findings:
        if is_portable(finding):
            kept.append(finding)
            continue
        cuda_source = _is_cuda_source_rule(finding, catalog)
        targets = {
            target: fact if fact.severity is Severity.NOTE and not cuda_source else Portability(
                Status.BLOCKED,
                f"`{where}` is the project's {engine.name} share, and {engine.name} runs only on NVIDIA GPUs:"
                f" no change ports it; {TARGET_NAMES.get(target, target)} takes the project's other routes",
                engine.source,
                Severity.WARNING if fact.severity is Severity.NOTE else fact.severity.at_most(Severity.WARNING),
            )
            for target, fact in finding.targets.items()
        }
        joined.append(replace(retarget(finding, targets), fix=None))
    if not joined:
        return findings
    carrier = one_for_the_site(sorted(joined, key=lambda f: f.sort_key))
    count = sum(f.sites for f in joined) - carrier.sites
    if count:
        message = f"{carrier.message}; with {count} other site{'s' * (count != 1)} of this {engine.name} file"
        carrier = replace(carrier, message=message, sites=carrier.sites + count)
    return sorted([*kept, carrier], key=lambda f: f.sort_key)


def coverage_only(findings: list[Finding], inside: str, paths: CoveragePaths, facts: FileFacts) -> list[Finding]:
    """The sites of a file only CI, the test suite or a developer's environment runs: at most warnings
    on every target (another path, not a user's). `inside` is the file's path from the scanned root; a
    script named like a test that a document runs is no test (`facts.in_test_suite`)."""
    if not (paths.holds(inside) or in_test_suite(inside, facts)):
        return findings
    return [another_path(finding) for finding in findings]


def in_image(findings: list[Finding], facts: FileFacts) -> list[Finding]:
    """The sites of an image's declaration (`FileFacts.installed_in_image`): each target's severity at most
    the CUDA image's there, naming it; what the image installs cannot be more CUDA-bound than the image."""
    if facts.installed_in_image is None:
        return findings
    base, severities = facts.installed_in_image
    caps = {target: Severity(severity) for target, severity in severities}
    why = f"installed into the CUDA image `{base.text}` ({base.path}:{base.line}), which is what this target meets first"
    return [
        retarget(finding, {
            target: replace(fact, severity=caps[target], replacement=f"{fact.replacement} ({why})" if fact.replacement else why)
            if target in caps and fact.severity.rank > caps[target].rank else fact
            for target, fact in finding.targets.items()
        })
        for finding in findings
    ]


def off_default_path(findings: list[Finding], facts: FileFacts) -> list[Finding]:
    """The sites of a file the project's normal path never runs (`FileFacts.off_default_path`: a module
    nothing on it imports, a Dockerfile or compose file beside a local install): at most warnings on every target."""
    if facts.off_default_path is None:
        return findings
    return [another_path(finding) for finding in findings]


def never_built(findings: list[Finding], facts: FileFacts) -> list[Finding]:
    """The sites of a source nothing in the project builds (`FileFacts.never_built`), or of a file no
    target compiles or runs at all (`FileFacts.runs_nowhere`): notes on every target, naming why (the
    definition whose build alone would compile it)."""
    built = facts.never_built
    if built is not None:
        why = f"{built.cite()}: the file is built only there, and nothing in the project runs that"
    elif facts.runs_nowhere is not None:
        why = facts.runs_nowhere
    else:
        return findings
    return _compiled_nowhere(findings, why)


def uncompiled(findings: list[Finding], facts: FileFacts) -> list[Finding]:
    """The sites of a vendored package copy's source that no build compiles (`FileFacts.uncompiled`):
    notes on every target, naming the copy."""
    copy = facts.uncompiled
    if copy is None:
        return findings
    return _compiled_nowhere(findings, (
        f"{copy.cite()}: no build file sits in the copy or above it, no file names the source and no binary"
        " the copy ships links CUDA, so nothing compiles it"
    ))


def _compiled_nowhere(findings: list[Finding], why: str) -> list[Finding]:
    """`findings` of a file no target compiles: notes on every target, for the reason `why`."""
    return [
        retarget(finding, {
            target: replace(fact, severity=Severity.NOTE, source=f"{why}; {fact.source}") if fact.severity is not Severity.NOTE else fact
            for target, fact in finding.targets.items()
        })
        for finding in findings
    ]


def another_path(finding: Finding) -> Finding:
    """`finding` on a path other than the program's normal one: at most a warning on every target."""
    return retarget(finding, {
        target: replace(fact, severity=fact.severity.at_most(Severity.WARNING))
        for target, fact in finding.targets.items()
    })


def within_releases(findings: list[Finding], facts: FileFacts) -> list[Finding]:
    """Each target whose fact works from a release on: a note where the project allows that release,
    else the fact, naming the declared range that holds the project back."""
    settled = []
    for finding in findings:
        targets = dict(finding.targets)
        for target, fact in finding.targets.items():
            if fact.works_with is None or fact.severity is Severity.NOTE:
                continue
            held_back = excluding(fact.works_with, facts.releases)
            if held_back is None:
                targets[target] = Portability(
                    Status.WORKS,
                    f"`{fact.works_with}` runs on {TARGET_NAMES.get(target, target)}, and the project's dependencies allow it",
                    fact.source,
                    Severity.NOTE,
                )
            else:
                targets[target] = replace(fact, replacement=f"the project declares `{held_back}`: {fact.replacement}")
        settled.append(retarget(finding, targets))
    return settled


def own_target(findings: list[Finding], facts: FileFacts) -> list[Finding]:
    """A file named for a target (`docker-rocm/Dockerfile`, `Dockerfile.cpu`, `npu_ops.py`) is what
    that target runs, not what the others run: its sites are notes on every other target."""
    if facts.named_for is None:
        return findings
    served = set(facts.named_for)
    names = ", ".join(TARGET_NAMES.get(t, t) for t in facts.named_for) or "another device"
    settled = []
    for finding in findings:
        targets = dict(finding.targets)
        for target, fact in finding.targets.items():
            if target in served or fact.severity is Severity.NOTE:
                continue
            targets[target] = replace(
                fact,
                replacement=f"`{finding.path}` is named for {names}: {TARGET_NAMES.get(target, target)} does not run it",
                severity=Severity.NOTE,
            )
        settled.append(retarget(finding, targets))
    return settled


def off_path(findings: list[Finding], facts: FileFacts) -> list[Finding]:
    """A module only another target's code path imports never runs on the targets that path skips:
    its sites are notes there, and the verdict names the import that reaches it."""
    if not facts.other_paths:
        return findings
    settled = []
    for finding in findings:
        targets = dict(finding.targets)
        for target, where in facts.other_paths:
            fact = targets.get(target)
            if fact is None or fact.severity is Severity.NOTE:
                continue
            targets[target] = Portability(
                fact.status,
                f"this module is imported only where {TARGET_NAMES.get(target, target)} does not run it"
                f" (`{where.path}:{where.line}`: `{where.text}`)",
                where.cite(),
                Severity.NOTE,
            )
        settled.append(retarget(finding, targets))
    return settled


def with_counterparts(findings: list[Finding], facts: FileFacts) -> list[Finding]:
    """Cap each target that has a counterpart file at a warning, and name the counterpart."""
    if not facts.counterparts:
        return findings
    settled = []
    for finding in findings:
        # A file named for CUDA (`Dockerfile.cuda`) is the NVIDIA variant; an unmarked one may still be used.
        cap = Severity.NOTE if "cuda" in name_targets(finding.path) else Severity.WARNING
        targets = dict(finding.targets)
        for counterpart in facts.counterparts:
            fact = targets.get(counterpart.target)
            if fact is None or fact.status is Status.WORKS:
                continue
            where = counterpart.evidence
            targets[counterpart.target] = Portability(
                fact.status,
                f"`{where.path}` serves {TARGET_NAMES.get(counterpart.target, counterpart.target)} in this project"
                + (f" ({where.text})" if where.text else "")
                + (f"; else {fact.replacement}" if fact.replacement else ""),
                where.cite(),
                fact.severity.at_most(cap),
            )
        settled.append(retarget(finding, targets))
    return settled


def retarget(finding: Finding, targets: dict[str, Portability]) -> Finding:
    """`finding` with other per-target facts; its severity follows them down, never up."""
    if targets == finding.targets:
        return finding
    severity = finding_severity(targets, finding.severity).at_most(finding.severity)
    return replace(finding, targets=targets, severity=severity)


def one_per_site(findings: list[Finding], catalog: Catalog) -> list[Finding]:
    """The most telling finding of each site; see the module docstring."""
    ordered = sorted(findings, key=lambda f: f.sort_key)
    kept: list[Finding] = []
    seen_lines: set[tuple[str, int, int, str, str]] = set()
    for finding in ordered:
        repeat = (finding.path, finding.cell.index if finding.cell else 0, finding.span.line, finding.rule, finding.message)
        if repeat in seen_lines and finding.fix is None:
            continue
        seen_lines.add(repeat)
        if kept and _same_site(kept[-1], finding, catalog):
            kept[-1] = max(kept[-1], finding, key=_telling)
        else:
            kept.append(finding)
    return kept


def _same_site(first: Finding, second: Finding, catalog: Catalog) -> bool:
    """Whether two findings of one rule family say something about one piece of code: `second`, which
    starts no earlier, starts before `first` ends. A finding that stands for more than its span (a
    rule with a `group`) is not merged, nor are two that both carry a fix."""
    a, b = first.span, second.span
    if first.path != second.path or first.cell != second.cell or first.rule[:4] != second.rule[:4]:
        return False
    if (b.line, b.column) >= (a.end_line, a.end_column):
        return False
    if first.fix is not None and second.fix is not None:
        return False
    return not any(_group(catalog, f.rule) for f in (first, second))


def one_for_the_site(findings: list[Finding]) -> Finding:
    """Several findings about one site as the first of them, each target's verdict the most severe
    any of them gives it: the first says what the site is, the others may know why a target fails."""
    first = findings[0]
    targets = dict(first.targets)
    for other in findings[1:]:
        for name, fact in other.targets.items():
            if name not in targets or fact.severity.rank > targets[name].severity.rank:
                targets[name] = fact
    if targets == first.targets:
        return first
    return replace(first, targets=targets, severity=finding_severity(targets, first.severity))


def _group(catalog: Catalog, rule_id: str) -> str | None:
    rule = catalog.rules.get(rule_id)
    return rule.group if rule is not None else None


def _telling(finding: Finding) -> tuple[int, bool, int, str]:
    span = finding.span
    width = (span.end_line - span.line) * 10_000 + span.end_column - span.column
    return (finding.severity.rank, finding.fix is not None, -width, finding.rule)


def grouped(findings: list[Finding], catalog: Catalog) -> list[Finding]:
    """Findings of `group = "file"` rules once per rule, severity and ROCm status, at the first site.

    A file that uses a construct no ROCm build can compile in any form (a `whole_file` rule,
    CUTLASS/CuTe, blocked on ROCm at error) is NVIDIA-only as a whole: its other CUDA C++ sites
    (renamed names, warp-size hazards) are part of that one answer, not findings of their own."""
    groups: dict[tuple[str, str, Severity, Status | None], list[Finding]] = {}
    settled: list[Finding] = []
    for finding in findings:
        if _group(catalog, finding.rule) == "file" and finding.fix is None:
            rocm = finding.targets.get("rocm")
            groups.setdefault((finding.path, finding.rule, finding.severity, rocm.status if rocm else None), []).append(finding)
        else:
            settled.append(finding)
    settled += [group_of(members) for members in groups.values()]
    for path in sorted({f.path for f in settled if _blocks_the_file(f, catalog)}):
        settled = _one_for_the_file(settled, path, catalog, _blocks_the_file, _is_cuda_source_rule, "CUDA site")
    for path in sorted({f.path for f in settled if _blocks_hip_compile(f, catalog)}):
        settled = _one_for_the_file(settled, path, catalog, _blocks_hip_compile, _is_hip_hazard, "warp-size hazard")
    return sorted(settled, key=lambda f: f.sort_key)


def _one_for_the_file(
    findings: list[Finding],
    path: str,
    catalog: Catalog,
    carries: Callable[[Finding, Catalog], bool],
    joins: Callable[[Finding, Catalog], bool],
    what: str,
) -> list[Finding]:
    """The findings of a file that `joins` as one, carried by its first finding that `carries`
    (a use rather than an `#include` where it has one)."""
    carrier = min(
        (f for f in findings if f.path == path and carries(f, catalog)),
        key=lambda f: (catalog.rules[f.rule].detector == "cuda-include", f.sort_key),
    )
    joined = [f for f in findings if f.path == path and f is not carrier and f.fix is None and joins(f, catalog)]
    if not joined:
        return findings
    count = sum(f.sites for f in joined)
    message = f"{carrier.message}; with {count} other {what}{'s' * (count != 1)} of this NVIDIA-only file"
    kept = [f for f in findings if f is not carrier and not any(f is j for j in joined)]
    return [*kept, replace(carrier, message=message, sites=carrier.sites + count)]


def _blocks_the_file(finding: Finding, catalog: Catalog) -> bool:
    """A site of a wholly NVIDIA-only construct that stops a ROCm build, on the normal path (an error)
    or on another (a warning: a source the project's build compiles for CUDA only)."""
    rocm = finding.targets.get("rocm")
    rule = catalog.rules.get(finding.rule)
    return (
        rule is not None
        and rule.whole_file
        and rocm is not None
        and rocm.status is Status.BLOCKED
        and rocm.severity.rank >= Severity.WARNING.rank
        and _is_cuda_source_rule(finding, catalog)
    )


def _blocks_hip_compile(finding: Finding, catalog: Catalog) -> bool:
    """A site of a construct HIP cannot compile (inline PTX, `nvcuda::wmma`), reported once for
    its file, that stops a ROCm build, on the normal path or another."""
    rule = catalog.rules.get(finding.rule)
    rocm = finding.targets.get("rocm")
    return (
        rule is not None
        and rule.group == "file"
        and rocm is not None
        and rocm.status is Status.BLOCKED
        and rocm.severity.rank >= Severity.WARNING.rank
        and _is_cuda_source_rule(finding, catalog)
    )


def _is_hip_hazard(finding: Finding, catalog: Catalog) -> bool:
    """A shape that compiles for HIP but behaves otherwise there (a 32-lane warp, a 32-bit lane
    mask): moot in a file HIP cannot compile at all."""
    rule = catalog.rules.get(finding.rule)
    return rule is not None and rule.detector == "cuda-hazard" and rule.group is None and rule.kind == "cuda"


def _is_cuda_source_rule(finding: Finding, catalog: Catalog) -> bool:
    rule = catalog.rules.get(finding.rule)
    return rule is not None and rule.kind == "cuda"


def group_of(members: Iterable[Finding], where: str = "in this file") -> Finding:
    """One finding for several sites of one construct: the first, with the count."""
    members = sorted(members, key=lambda f: f.sort_key)
    first = members[0]
    count = sum(member.sites for member in members)
    if count == 1:
        return first
    return replace(first, message=f"{first.message} ({count} sites {where}; the first is shown)", sites=count)


def is_portable(finding: Finding) -> bool:
    """A site that works on every requested target: each target's verdict is at most a note."""
    return bool(finding.targets) and finding.severity is Severity.NOTE


