"""The portability checklist, answered per target from the findings and the components.

Eight questions an engineering lead asks before moving a project off NVIDIA. Each answer has a
status (`ok`, `gap`, `blocker`, `not-applicable`), one or two sentences, and the evidence they rest
on: findings (by position in the report), files or components.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cudaudit.assessment.components import DEPENDENCY_KINDS, NO_DEPENDENCIES, Dependencies
from cudaudit.assessment.counterparts import Counterparts
from cudaudit.assessment.layout import kinds_of, relative
from cudaudit.assessment.model import Answer, AnswerStatus, Component, Evidence, Question, Readiness, Role
from cudaudit.filekinds import FileKind
from cudaudit.model import Finding, Severity, Status, option_setting

QUESTIONS = (
    ("libraries", "CUDA-only libraries", "Which CUDA-only libraries does the code import, and which are optional?"),
    ("devices", "Hardcoded devices", "Are devices hardcoded on the normal path?"),
    ("images", "Images", "Which images are CUDA base images, and is there an image for this target beside them?"),
    ("wheels", "Pinned wheels", "Which wheels are pinned to CUDA builds, and can the resolver swap them cleanly?"),
    ("custom-ops", "Custom ops", "Which custom ops exist (CUDA extensions, kernels, Triton), and does this target have a path?"),
    ("attention", "Attention", "What is the attention-kernel story on this target?"),
    ("serving", "Serving", "Can the serving stack run on this target today?"),
    ("ci", "CI", "Is there a CI job for this target?"),
)
IMPORT_RULE = re.compile(r"CDA2(0[1-9]|10|1[3-7])$")
"""Imports of CUDA-only libraries (CDA211 and CDA212 are tools and variables, not libraries)."""
DEVICE_RULES = frozenset({"CDA102", "CDA103", "CDA105", "CDA107", "CDA112"})
IMAGE_RULES = frozenset({"CDA501", "CDA502", "CDA503", "CDA507"})
CUSTOM_OP_KINDS = ("kernels", "triton", "build")
ATTENTION_WORDS = re.compile(r"attn|attention|flash", re.IGNORECASE)
MAX_EVIDENCE = 6
TARGET_NAMES = {"rocm": "ROCm", "cpu": "CPU", "xpu": "XPU", "mps": "MPS"}
_TICKED = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Scan:
    """What the questions read: the findings, the components, the scanned paths and their siblings."""

    findings: Sequence[Finding]
    components: Sequence[Component]
    paths: Sequence[str]
    counterparts: Counterparts
    root: str = ""
    dependencies: Dependencies = NO_DEPENDENCIES

    def at(self, path: str, line: int | None = None) -> str:
        """A site as people read it: relative to the project root."""
        shown = relative(path, self.root)
        return f"{shown}:{line}" if line else shown


def answer_all(scan: Scan, targets: Sequence[str]) -> list[Question]:
    answerers: dict[str, Callable[[Scan, str], Answer]] = {
        "libraries": _libraries,
        "devices": _devices,
        "images": _images,
        "wheels": _wheels,
        "custom-ops": _custom_ops,
        "attention": _attention,
        "serving": _serving,
        "ci": _ci,
    }
    return [
        Question(number, qid, title, text, {target: answerers[qid](scan, target) for target in targets})
        for number, (qid, title, text) in enumerate(QUESTIONS, start=1)
    ]


def _sites(scan: Scan, keep: Callable[[Finding], bool], target: str) -> list[tuple[int, Finding]]:
    return [(i, f) for i, f in enumerate(scan.findings) if keep(f) and target in f.targets]


def _evidence(sites: Sequence[tuple[int, Finding]], component: Callable[[int], str | None] | None = None) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(f.path, f.span.line, _subject(f), f.rule, i, component(i) if component else None)
        for i, f in sites[:MAX_EVIDENCE]
    )


def _subject(finding: Finding) -> str:
    """The name a message is about: the first backticked text (`flash_attn`, `"cuda"`)."""
    match = _TICKED.search(finding.message)
    return match.group(1) if match else finding.rule


def _cites(scan: Scan, sites: Sequence[tuple[int, Finding]], limit: int = 3) -> str:
    shown = ", ".join(f"`{_subject(f)}` ({scan.at(f.path, f.span.line)})" for _, f in _unique_subjects(sites)[:limit])
    more = len(_unique_subjects(sites)) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _unique_subjects(sites: Sequence[tuple[int, Finding]]) -> list[tuple[int, Finding]]:
    seen: dict[str, tuple[int, Finding]] = {}
    for index, finding in sites:
        seen.setdefault(_subject(finding), (index, finding))
    return list(seen.values())


def _breaks(finding: Finding, target: str, at_least: Severity = Severity.WARNING) -> bool:
    fact = finding.targets.get(target)
    return fact is not None and fact.status is not Status.WORKS and fact.severity.rank >= at_least.rank


def _libraries(scan: Scan, target: str) -> Answer:
    imports = _sites(scan, lambda f: bool(IMPORT_RULE.match(f.rule)) and f.path.endswith((".py", ".ipynb")), target)
    if not imports:
        return Answer(AnswerStatus.OK, "No CUDA-only library is imported.")
    required = [(i, f) for i, f in imports if _breaks(f, target, Severity.ERROR)]
    optional = [(i, f) for i, f in imports if not _breaks(f, target, Severity.ERROR) and _breaks(f, target, Severity.NOTE)]
    fine = [(i, f) for i, f in imports if f.targets[target].status is Status.WORKS]
    parts = []
    if required:
        parts.append(f"Required: {_cites(scan, required, 1)}.")
    if optional:
        names = ", ".join(f"`{_subject(f)}`" for _, f in _unique_subjects(optional))
        parts.append(f"Optional (a fallback or a guard): {names}.")
    if fine and not parts:
        parts.append(f"All run on {_name(target)}: {_cites(scan, fine)}.")
    status = AnswerStatus.BLOCKER if required else AnswerStatus.GAP if optional else AnswerStatus.OK
    return Answer(status, " ".join(parts), _evidence(required + optional + fine))


def _devices(scan: Scan, target: str) -> Answer:
    sites = _sites(scan, lambda f: f.rule in DEVICE_RULES, target)
    if not sites:
        return Answer(AnswerStatus.OK, "No hardcoded CUDA device.")
    normal = [(i, f) for i, f in sites if f.targets[target].severity is Severity.ERROR]
    breaking = [(i, f) for i, f in normal if f.targets[target].status is not Status.WORKS]
    fixable = sum(1 for _, f in breaking if f.fix is not None)
    if not breaking:
        if all(f.targets[target].status is Status.WORKS for _, f in sites):
            return Answer(AnswerStatus.OK, f"{len(sites)} site(s) name `cuda`: the GPU on {_name(target)}'s PyTorch build.",
                          _evidence(sites))
        return Answer(AnswerStatus.OK, f"{len(sites)} site(s) name `cuda`, all behind a guard or on another path.",
                      _evidence(sites))
    files = len({f.path for _, f in breaking})
    text = f"Yes: {len(breaking)} site(s) in {files} file(s) on the normal path, e.g. {_cites(scan, breaking, 1)}."
    defaults = [f for _, f in breaking if f.option is not None]
    if defaults:
        settings = sorted({option_setting(f.option, target) or f.option for f in defaults if f.option is not None})
        text += (f" {len(defaults)} of them {'is' if len(defaults) == 1 else 'are'} the default of a command-line option:"
                 f" {', '.join(f'`{s}`' for s in settings)} avoids {'it' if len(defaults) == 1 else 'them'}.")
    if fixable:
        text += f" `cudaudit fix` rewrites {fixable}."
    status = AnswerStatus.GAP if len(defaults) == len(breaking) else AnswerStatus.BLOCKER
    return Answer(status, text, _evidence(breaking))


def _images(scan: Scan, target: str) -> Answer:
    dockerfiles = [p for p in scan.paths if FileKind.DOCKERFILE in _kinds(p)]
    if not dockerfiles:
        return Answer(AnswerStatus.NOT_APPLICABLE, "No Dockerfile in the scan.")
    bases = _sites(scan, lambda f: f.rule in IMAGE_RULES, target)
    cuda_images = sorted({f.path for _, f in bases})
    own = scan.counterparts.named("dockerfile", target)
    if not cuda_images:
        return Answer(AnswerStatus.OK, f"No CUDA base image among {len(dockerfiles)} Dockerfile(s).",
                      tuple(Evidence(p) for p in dockerfiles[:MAX_EVIDENCE]))
    missing = [p for p in cuda_images if scan.counterparts.for_file(p, target) is None]
    first = {f.path: (i, f) for i, f in reversed(bases)}
    cited = ", ".join(f"{scan.at(p, first[p][1].span.line)} `{_subject(first[p][1])}`" for p in cuda_images[:2])
    more = f" and {len(cuda_images) - 2} more" if len(cuda_images) > 2 else ""
    text = f"{cited}{more}."
    if own:
        text += f" {_name(target)} image(s): {', '.join(scan.at(p) for p in own[:3])}."
    if missing and not own:
        text += f" None has a {_name(target)} image beside it."
    elif missing:
        text += f" {len(missing)} have no {_name(target)} sibling."
    core = [c for c in scan.components if c.kind == "image" and c.role is Role.CORE and any(p in missing for p in c.paths)]
    status = AnswerStatus.OK if not missing else AnswerStatus.BLOCKER if core else AnswerStatus.GAP
    return Answer(status, text, _evidence([first[p] for p in cuda_images]) + tuple(Evidence(p) for p in own[:2]))


def _wheels(scan: Scan, target: str) -> Answer:
    sets = [c for c in scan.components if c.kind == "dependencies"]
    if not any(DEPENDENCY_KINDS.intersection(_kinds(p)) for p in scan.paths) and not sets:
        return Answer(AnswerStatus.NOT_APPLICABLE, "No dependency file in the scan.")
    pinned = _sites(scan, lambda f: f.rule.startswith("CDA6") and _breaks(f, target), target)
    if not pinned:
        return Answer(AnswerStatus.OK, "No wheel or index is pinned to a CUDA build.")
    files = len({f.path for _, f in pinned})
    where = ", ".join(dict.fromkeys(scan.at(f.path, f.span.line) for _, f in pinned[:2]))
    text = f"{len(pinned)} site(s) in {files} file(s) ({where}{', ...' if len(pinned) > 2 else ''})."
    packages = [v for c in sets for path in c.paths for v in scan.dependencies.verdicts.get(path, {}).get(target, ())]
    if packages:
        clean = len(packages) - sum(len(scan.dependencies.stuck(p, target)) for c in sets for p in c.paths)
        text += f" `cudaudit resolve` swaps {clean} of {len(packages)} package(s) cleanly."
    stuck = [(c, v) for c in sets for path in c.paths for v in scan.dependencies.stuck(path, target)]
    if stuck:
        more = f" and {len(stuck) - 2} more" if len(stuck) > 2 else ""
        text += " Not swappable: " + ", ".join(f"`{v['package']}`" for _, v in stuck[:2]) + more + "."
    status = AnswerStatus.BLOCKER if any(c.role is Role.CORE for c, _ in stuck) else AnswerStatus.GAP
    return Answer(status, text, _evidence(pinned))


def _custom_ops(scan: Scan, target: str) -> Answer:
    ops = [c for c in scan.components if c.kind in CUSTOM_OP_KINDS and target in c.targets]
    if not ops:
        return Answer(AnswerStatus.NOT_APPLICABLE, "No CUDA extension, kernel or Triton kernel.")
    return _by_component(scan, ops, target)


def _attention(scan: Scan, target: str) -> Answer:
    parts = [c for c in scan.components if target in c.targets and (
        c.kind == "attention" or (c.kind in ("triton", "kernels") and ATTENTION_WORDS.search(c.name)))]
    if not parts:
        return Answer(AnswerStatus.NOT_APPLICABLE, "No FlashAttention, xFormers or custom attention kernel found.")
    return _by_component(scan, parts, target)


def _serving(scan: Scan, target: str) -> Answer:
    parts = [c for c in scan.components if c.kind == "serving" and target in c.targets]
    if not parts:
        return Answer(AnswerStatus.NOT_APPLICABLE, "No serving engine or inference runtime found.")
    return _by_component(scan, parts, target)


def _ci(scan: Scan, target: str) -> Answer:
    workflows = [p for p in scan.paths if FileKind.WORKFLOW in _kinds(p)]
    if not workflows:
        return Answer(AnswerStatus.GAP, "No CI workflow in the scan.")
    missing = _sites(scan, lambda f: f.rule == "CDA710", target)
    if missing:
        return Answer(AnswerStatus.GAP, f"No: every job of the {len(workflows)} workflow(s) needs an NVIDIA GPU "
                      "(`cudaudit fix --target` adds one).", _evidence(missing))
    cuda = [c for c in scan.components if c.kind == "ci"]
    text = f"Yes: a job of the {len(workflows)} workflow(s) runs on a CPU runner or a ROCm target."
    if cuda:
        text += f" {len(cuda)} workflow(s) also need NVIDIA GPUs."
    return Answer(AnswerStatus.OK, text, tuple(Evidence(p, component=None) for p in workflows[:MAX_EVIDENCE]))


def _by_component(scan: Scan, parts: Sequence[Component], target: str) -> Answer:
    lines = []
    evidence: list[Evidence] = []
    for component in parts[:4]:
        state = component.targets[target]
        detail = state.note or (
            f"{state.blockers[0].label} at {scan.at(state.blockers[0].evidence.path, state.blockers[0].evidence.line)}"
            if state.blockers else ""
        )
        lines.append(f"{component.name}: {state.status.value}" + (f" ({detail})" if detail else ""))
        evidence.append(Evidence(component.paths[0] if component.paths else component.id, component=component.id))
        evidence.extend(b.evidence for b in state.blockers[:1])
    more = len(parts) - 4
    text = "; ".join(lines) + (f"; and {more} more" if more > 0 else "") + "."
    worst = max(parts, key=lambda c: (c.role is Role.CORE, c.targets[target].status.rank))
    readiness = worst.targets[target].status
    status = (AnswerStatus.OK if readiness is Readiness.WORKS
              else AnswerStatus.BLOCKER if readiness is Readiness.BLOCKED and worst.role is Role.CORE else AnswerStatus.GAP)
    return Answer(status, text[0].upper() + text[1:], tuple(evidence[:MAX_EVIDENCE]))


def _name(target: str) -> str:
    return TARGET_NAMES.get(target, target)


def _kinds(path: str) -> tuple[FileKind, ...]:
    return kinds_of(path)
