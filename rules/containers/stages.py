"""The build stages of a Dockerfile: which are built on a CUDA image, which on a ROCm one.

A stage built on a CUDA image (or on a stage that was) is part of the CUDA build: its build
steps (`build_steps.py`) are reported as such, as serious on each target as the image itself is
there, since a step cannot be more CUDA-bound than the stage it runs in. A stage built on a ROCm
image is the file's own ROCm build (`FROM nvidia/cuda... AS cuda` next to
`FROM rocm/dev-ubuntu-... AS rocm`, one chosen with `--target`): a ROCm user builds that one, so
every finding of the CUDA stages is at most a note on ROCm and names the ROCm stage. A stage on
a plain distribution image is no ROCm sibling: only targets without ROCm could use it.

A file that picks a stage by a build argument (`ARG CUDA_VERSION=cu128`, then `FROM
${CUDA_VERSION}-base AS final` beside `cu128-base` and `cu130-base` stages) builds, by default,
the last stage and what it needs: the stage it is built on, the stages it copies or mounts from
(`COPY --from=`, `RUN --mount=...,from=`), with the arguments' defaults. BuildKit builds only
those; a stage only another value of the argument selects is built only when someone passes
that value (`--build-arg CUDA_VERSION=cu130`): another path, its findings at most warnings.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from cudaudit.model import Finding, Portability, Severity, Status
from cudaudit.rules.orchestration.images import parse_image
from cudaudit.verdicts import retarget

ROCM = "rocm"


@dataclass
class Stage:
    line: int
    """The line of its `FROM`."""
    name: str | None
    cuda: dict[str, Severity] | None
    """Per target, how serious the stage's CUDA image is there (a note where the image works);
    None when the stage is not built on a CUDA image."""
    rocm: bool
    """Built on a ROCm image, or on a stage that was."""
    environment: dict[str, str] = field(default_factory=dict)
    """ENV values it inherits from the stage it is built on (Docker keeps them; the parser does not)."""
    needs: list[str] = field(default_factory=list)
    """The stages it is built on, copies from or mounts, by name or number, as written."""
    workdir: str | None = "/"
    """Its working directory (`WORKDIR`), None where a variable makes it unknown."""
    context: tuple[str, ...] = ()
    """Folders that hold files of the build context: where `COPY . /src` (or `ONBUILD COPY`, or `COPY
    --from=` a stage out of such a folder) put them, or a `git clone` of the project's own repository
    (`build_steps.py`). What a step builds there is the project's own."""


@dataclass
class Stages:
    """The stages of one Dockerfile, in order."""

    all: list[Stage] = field(default_factory=list)
    chosen_by_argument: list[str] = field(default_factory=list)
    """What each `FROM` that picks one of the file's stages by a build argument (`FROM ${CUDA_VERSION}`)
    takes with the arguments' defaults, and where."""

    @property
    def names(self) -> set[str]:
        return {stage.name for stage in self.all if stage.name}

    def start(
        self, line: int, reference: str, name: str | None, image: dict[str, Portability] | None, written: str = ""
    ) -> Stage:
        """A new stage `FROM reference [AS name]`; `image`: the catalog's facts about the reference, if any;
        `written`: the reference as the file spells it, before build arguments are expanded."""
        parent = self.named(reference)
        if parent is not None:
            stage = replace(parent, line=line, name=name, environment=dict(parent.environment), needs=[reference])
            if "$" in written:
                self.chosen_by_argument.append(f"`{reference}` on line {line}")
        else:
            parsed = parse_image(reference)
            stage = Stage(line, name, cuda_severities(image), parsed is not None and parsed.is_rocm)
        self.all.append(stage)
        return stage

    def named(self, reference: str) -> Stage | None:
        """The stage a `FROM` or `COPY --from` names, if it names one."""
        wanted = reference.lower()
        return next((stage for stage in reversed(self.all) if stage.name == wanted), None)

    def settle(self, found: list[Finding], installs: Callable[[Finding], bool] = lambda _: False) -> list[Finding]:
        """The findings with those of CUDA stages at most notes on ROCm where a ROCm stage builds the same
        file, those of stages only a build argument's other value selects at most warnings, and the
        packages a CUDA stage installs (`installs`) no more serious on a target than its image there:
        `pip install xformers` in an image built on `nvidia/cuda` serves the GPUs that image is for, and
        a CPU host running that image meets the image first (reported at its `FROM`)."""
        sibling = next((stage for stage in self.all if stage.rocm), None)
        left_out = self._left_out_by_default()
        if sibling is None and not left_out and not any(stage.cuda for stage in self.all):
            return found
        starts = [stage.line for stage in self.all]
        settled = []
        for finding in found:
            at = bisect_right(starts, finding.span.line) - 1
            inside = self.all[at] if at >= 0 else None
            if inside is not None and inside.cuda and installs(finding):
                finding = _in_cuda_image(finding, inside)
            if inside is not None and inside.cuda and sibling is not None:
                finding = _under_sibling(finding, sibling)
            if at in left_out:
                finding = _outside_default_build(finding, self.all[at], ", ".join(self.chosen_by_argument))
            settled.append(finding)
        return settled

    def _left_out_by_default(self) -> set[int]:
        """The positions of the stages a default build leaves out, in a file that picks stages by a build
        argument; none in any other file (an unreached stage there may be what `--target` builds)."""
        if not self.chosen_by_argument:
            return set()
        reached, pending = set(), [len(self.all) - 1]
        while pending:
            at = pending.pop()
            if at in reached:
                continue
            reached.add(at)
            for reference in self.all[at].needs:
                needed = self._position(reference, before=at)
                if needed is not None:
                    pending.append(needed)
        return set(range(len(self.all))) - reached

    def _position(self, reference: str, before: int) -> int | None:
        """The position of the stage `reference` names (a name, or a number) among those before `before`."""
        if reference.isdigit():
            return int(reference) if int(reference) < before else None
        wanted = reference.lower()
        return next((at for at in range(before - 1, -1, -1) if self.all[at].name == wanted), None)


def cuda_severities(image: dict[str, Portability] | None) -> dict[str, Severity] | None:
    """Per target, how serious a stage's image is there (a note where it works), from the catalog's facts
    about it; None for an image that works on every target or that the catalog does not know."""
    if not image or all(fact.status is Status.WORKS for fact in image.values()):
        return None
    return {target: Severity.NOTE if fact.status is Status.WORKS else fact.severity for target, fact in image.items()}


def _under_sibling(finding: Finding, sibling: Stage) -> Finding:
    fact = finding.targets.get(ROCM)
    if fact is None or fact.severity is Severity.NOTE:
        return finding
    where = f"`{sibling.name}` stage" if sibling.name else "stage"
    rocm = replace(
        fact,
        severity=Severity.NOTE,
        replacement=f"{fact.replacement} (this file's ROCm build is its {where} on line {sibling.line})",
    )
    targets = {**finding.targets, ROCM: rocm}
    severity = max((f.severity for f in targets.values()), key=lambda s: s.rank)
    return replace(finding, targets=targets, severity=severity)


def _in_cuda_image(finding: Finding, stage: Stage) -> Finding:
    """A package a CUDA stage installs, each target's severity at most the stage's image's there."""
    assert stage.cuda is not None
    why = f"installed in the stage built on the CUDA image on line {stage.line}, which is what this target meets first"
    return retarget(finding, {
        target: replace(fact, severity=stage.cuda.get(target, Severity.NOTE), replacement=f"{fact.replacement} ({why})")
        if fact.severity.rank > stage.cuda.get(target, Severity.NOTE).rank else fact
        for target, fact in finding.targets.items()
    })


def _outside_default_build(finding: Finding, stage: Stage, chooser: str) -> Finding:
    """A finding in a stage the default build leaves out: at most a warning on every target."""
    where = f"the `{stage.name}` stage" if stage.name else "this stage"
    why = f"{where} on line {stage.line} is built only when a build argument is given another value than its default, which chooses {chooser}"
    return retarget(finding, {
        target: replace(fact, severity=fact.severity.at_most(Severity.WARNING), replacement=f"{fact.replacement} ({why})")
        if fact.severity is not Severity.NOTE else fact
        for target, fact in finding.targets.items()
    })


def capped(targets: dict[str, Portability], stage: Stage) -> dict[str, Portability]:
    """A build step's facts, each no more serious than the stage's image on that target."""
    assert stage.cuda is not None
    return {
        target: replace(fact, severity=fact.severity.at_most(stage.cuda.get(target, Severity.NOTE)))
        for target, fact in targets.items()
    }
