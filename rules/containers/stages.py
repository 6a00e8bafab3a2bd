"""The build stages of a Dockerfile: which are built on a CUDA image, which on a ROCm one.

A stage built on a CUDA image (or on a stage that was) is part of the CUDA build: its build
steps (`build_steps.py`) are reported as such, as serious on each target as the image itself is
there, since a step cannot be more CUDA-bound than the stage it runs in. A stage built on a ROCm
image is the file's own ROCm build (`FROM nvidia/cuda... AS cuda` next to
`FROM rocm/dev-ubuntu-... AS rocm`, one chosen with `--target`): a ROCm user builds that one, so
every finding of the CUDA stages is at most a note on ROCm and names the ROCm stage. A stage on
a plain distribution image is no ROCm sibling: only targets without ROCm could use it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field, replace

from cudaudit.model import Finding, Portability, Severity, Status
from cudaudit.rules.orchestration.images import parse_image

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


@dataclass
class Stages:
    """The stages of one Dockerfile, in order."""

    all: list[Stage] = field(default_factory=list)

    @property
    def names(self) -> set[str]:
        return {stage.name for stage in self.all if stage.name}

    def start(self, line: int, reference: str, name: str | None, image: dict[str, Portability] | None) -> Stage:
        """A new stage `FROM reference [AS name]`; `image`: the catalog's facts about the reference, if any."""
        parent = self.named(reference)
        if parent is not None:
            stage = replace(parent, line=line, name=name, environment=dict(parent.environment))
        else:
            parsed = parse_image(reference)
            stage = Stage(line, name, _cuda_severities(image), parsed is not None and parsed.is_rocm)
        self.all.append(stage)
        return stage

    def named(self, reference: str) -> Stage | None:
        """The stage a `FROM` or `COPY --from` names, if it names one."""
        wanted = reference.lower()
        return next((stage for stage in reversed(self.all) if stage.name == wanted), None)

    def settle(self, found: list[Finding]) -> list[Finding]:
        """The findings with those of CUDA stages at most notes on ROCm where a ROCm stage builds the same file."""
        sibling = next((stage for stage in self.all if stage.rocm), None)
        if sibling is None:
            return found
        starts = [stage.line for stage in self.all]
        settled = []
        for finding in found:
            at = bisect_right(starts, finding.span.line) - 1
            inside = self.all[at] if at >= 0 else None
            settled.append(_under_sibling(finding, sibling) if inside is not None and inside.cuda else finding)
        return settled


def _cuda_severities(image: dict[str, Portability] | None) -> dict[str, Severity] | None:
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


def capped(targets: dict[str, Portability], stage: Stage) -> dict[str, Portability]:
    """A build step's facts, each no more serious than the stage's image on that target."""
    assert stage.cuda is not None
    return {
        target: replace(fact, severity=fact.severity.at_most(stage.cuda.get(target, Severity.NOTE)))
        for target, fact in targets.items()
    }
