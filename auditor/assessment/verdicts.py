"""The project's verdict per target, from its components.

`blocked` when a core component (the package's entry scripts, its kernels, its required
dependencies, the image it ships) does not run on the target; `partial` when the core runs but
a core library path, an example or an optional image does not, or runs only with a command-line
option set (`--device=cpu`, where its default is `cuda`); `works` otherwise. Tooling (tests,
benchmarks, CI) never decides: it answers checklist question 8 instead. Nor does, on another
target, an artifact the project names for CUDA (`docker/cuda_simple/Dockerfile`,
`requirements_cuda.txt`): it is the NVIDIA variant by its own name, not a path that target was
meant to take; the component table still shows it, and the checklist says whether the target has
an image or dependency set of its own.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cudaudit.assessment.components import breaks
from cudaudit.assessment.counterparts import named_for
from cudaudit.assessment.model import EFFORT_ORDER, Component, Readiness, Role, TargetVerdict
from cudaudit.model import Finding, Severity, Status, option_setting
from cudaudit.rules.catalog import Catalog

NAMED_IN_WHY = 2


ARTIFACT_KINDS = frozenset({"image", "deployment", "dependencies", "ci"})
"""Kinds a project keeps one of per target, and names for the target it serves."""


@dataclass(frozen=True)
class Stop:
    """A site that stops a documented script's run on a target, wherever it is written: the
    component it is in, and what a sentence names of it (its rule's name, `generator.py:90`)."""

    component: str
    label: str
    site: str


def verdict(
    components: Sequence[Component],
    target: str,
    documented: frozenset[str] = frozenset(),
    stops: Mapping[str, Sequence[Stop]] | None = None,
    launched: Mapping[str, Sequence[tuple[str, bool]]] | None = None,
    aside: frozenset[str] = frozenset(),
) -> TargetVerdict:
    """`documented`: the root scripts the project's documents run, alternatives of one another: while
    one of them runs on the target, the others that stop leave the main use partial, not blocked.
    `stops`: documented script -> the sites its run reaches that stop it on the target
    (`entry_reach`); a script none of whose sites stops, and whose run reaches none, runs.
    `launched`: documented script -> the documented scripts it runs (`launched_scripts`), each with
    whether it is a step, whose stops are its own; one it runs before another on one route (`process.py`
    before `main.py`) prepares that one's input, a step of a use rather than a use of its own, so its
    running alone says nothing; one it runs instead of another (the arms of an `if`) is a use.
    `aside`: the components no documented run takes on the target (`off_path`), which decide nothing."""
    stops, uses = _with_launched(stops or {}, documented, launched or {})
    deciding = [c for c in components if target in c.targets and decides(c, target) and c.id not in aside]
    core = [c for c in deciding if c.role is Role.CORE]
    others = [c for c in deciding if c.role is Role.OPTIONAL]
    blocked = [c for c in core if c.targets[target].status is Readiness.BLOCKED]
    alternatives = [c for c in blocked if c.kind == "script" and set(c.paths) <= documented]
    stopped = {path for c in alternatives for path in c.paths} | {script for script in uses if stops.get(script)}
    sites: dict[str, str] = {}
    if uses - stopped:
        blocked = [c for c in blocked if c not in alternatives]  # another documented script runs
    else:
        alternatives = []
        # every documented run stops: what stops a run that is no blocked script of its own is named too
        own = {path for c in blocked for path in c.paths}
        for script in sorted(uses - own):
            first = stops[script][0]
            sites.setdefault(first.component, f"{first.label}, {first.site}")
        by_id = {c.id: c for c in components}
        blocked += [by_id[cid] for cid in sites if cid in by_id and by_id[cid] not in blocked]
    if blocked:
        return _verdict(Readiness.BLOCKED, blocked, target, sites)
    partial = alternatives + [c for c in core if c.targets[target].status is Readiness.PARTIAL]
    partial += [c for c in others if c.targets[target].status is not Readiness.WORKS]
    if partial:
        return _verdict(Readiness.PARTIAL, partial, target)
    ported = [c for c in core if c.targets[target].note]
    why = "nothing on the main path needs a change"
    if ported:
        why += "; " + "; ".join(f"{c.name}: {c.targets[target].note}" for c in ported[:NAMED_IN_WHY])
    return TargetVerdict(Readiness.WORKS, why + ".", tuple(c.id for c in ported))


def _with_launched(
    stops: Mapping[str, Sequence[Stop]], documented: frozenset[str], launched: Mapping[str, Sequence[tuple[str, bool]]],
) -> tuple[dict[str, Sequence[Stop]], frozenset[str]]:
    """`stops` with each launching script's own followed by those of the scripts it runs, and the
    documented scripts that are uses of their own: all but those a launcher runs before another on
    every route that runs them (its steps)."""
    merged: dict[str, Sequence[Stop]] = {script: (*stops.get(script, ()), *(stop for run, _ in launched.get(script, ()) for stop in stops.get(run, ())))
              for script in {*stops, *launched}}
    steps = {run for script, runs in launched.items() if script in documented for run, step in runs if step}
    return merged, documented - steps


def run_stops(
    findings: Sequence[Finding],
    reached: Mapping[str, frozenset[int]],
    components: Sequence[Component],
    target: str,
    catalog: Catalog,
    shown: frozenset[str] = frozenset(),
) -> dict[str, tuple[Stop, ...]]:
    """Documented script -> the sites its run reaches (`reached`: positions in `findings`) that stop
    it on `target`: errors there that no command-line option avoids, outside the project's tooling.
    A usage example's (`shown`) are those in the project's core: its own lines (`.cuda()` in the
    example) say how the example was written, not whether the use it shows runs."""
    owner = {index: c for c in components for index in c.findings}
    found = {}
    for script, indexes in reached.items():
        kept = (Role.CORE,) if script in shown else (Role.CORE, Role.OPTIONAL)
        found[script] = tuple(
            Stop(owner[i].id, _label(findings[i].rule, catalog), f"{posixpath.basename(findings[i].path)}:{findings[i].span.line}")
            for i in sorted(indexes)
            if i in owner and owner[i].role in kept and _stops_run(findings[i], target)
        )
    return found


def off_path(components: Sequence[Component], findings: Sequence[Finding], target: str,
             imported: frozenset[str] | None) -> frozenset[str]:
    """The core Python package components each of whose sites that break `target` is in a module no
    documented run imports (`imported`: the modules the runs import and those a document runs; None
    where the documented runs are not the whole use, beside an installed package): a vendored copy's
    unused half, a tool nothing on the documented path loads. Their sites stay findings; they are no
    reason of the verdict. Examples and demos (optional) are scripts of their own, which nothing imports."""
    if imported is None:
        return frozenset()
    return frozenset(
        c.id for c in components if c.kind == "python" and c.role is Role.CORE and target in c.targets
        and all(findings[i].path.endswith(".py") and findings[i].path not in imported
                for i in c.findings if breaks(findings[i], target))
    )


def _stops_run(finding: Finding, target: str) -> bool:
    fact = finding.targets.get(target)
    return (fact is not None and fact.status is not Status.WORKS and fact.severity is Severity.ERROR
            and finding.option is None)


def _label(rule_id: str, catalog: Catalog) -> str:
    rule = catalog.rules.get(rule_id)
    return rule.name if rule else rule_id


def decides(component: Component, target: str) -> bool:
    """Whether a component can decide `target`'s verdict: not an artifact named for CUDA (the file or
    a folder it is in) when `target` is another."""
    if component.kind not in ARTIFACT_KINDS or target == "cuda":
        return True
    return not all(_named_for_cuda(path) for path in component.paths)


def _named_for_cuda(path: str) -> bool:
    parts = path.split("/")
    return any("cuda" in named_for(part) for part in parts)


def _verdict(readiness: Readiness, deciding: list[Component], target: str,
             sites: Mapping[str, str] | None = None) -> TargetVerdict:
    effort = max((c.targets[target].effort for c in deciding), key=EFFORT_ORDER.index)
    if readiness is Readiness.BLOCKED:
        why = f"blocked by {_listed(deciding, target, sites)}; {effort} effort."
    else:
        # components that stop only where a command-line option keeps its default run with the option set
        flagged = [c for c in deciding if c.targets[target].options]
        rest = [c for c in deciding if not c.targets[target].options]
        why = "the main use runs"
        if flagged:
            settings = sorted({option_setting(o, target) or o for c in flagged for o in c.targets[target].options})
            stop = "stops" if len(flagged) == 1 else "stop"
            why += f" with {_join([f'`{s}`' for s in settings])}; without, {_listed(flagged, target)} {stop}"
        # a component with errors does not run there; one with warnings alone degrades, or breaks on another path
        stopping = [c for c in rest if c.targets[target].errors]
        degrading = [c for c in rest if not c.targets[target].errors]
        if stopping:
            why += f"; {_listed(stopping, target)} {'does' if len(stopping) == 1 else 'do'} not"
        if degrading:
            why += f"; {_listed(degrading, target)} may not"
        why += f" ({effort} effort)."
    return TargetVerdict(readiness, why[0].upper() + why[1:], tuple(c.id for c in deciding), effort)


def _listed(components: list[Component], target: str, sites: Mapping[str, str] | None = None) -> str:
    """The first components by name, each with what decides it: the site that stops a documented run
    where `sites` names one (component id -> `cuda-method, generator.py:90`), else its own blocker."""
    names = [f"{c.name} ({sites[c.id]})" if sites and sites.get(c.id) else _named(c, target)
             for c in components[:NAMED_IN_WHY]]
    more = len(components) - len(names)
    return _join(names + ([f"{more} more component{'s' * (more != 1)}"] if more else []))


def hardest(components: Sequence[Component], target: str, verdict: TargetVerdict,
            aside: frozenset[str] = frozenset()) -> TargetVerdict:
    """Name the hardest work on the target when the deciding components do not include it, so a
    verdict decided by low-effort items does not hide a rewrite elsewhere (but not work in the
    components no documented run takes, `aside`)."""
    candidates = [c for c in components if c.role is not Role.TOOLING and target in c.targets
                  and c.targets[target].status is not Readiness.WORKS and decides(c, target) and c.id not in aside]
    if not candidates:
        return verdict
    top = max(candidates, key=lambda c: EFFORT_ORDER.index(c.targets[target].effort))
    level = top.targets[target].effort
    if top.id in verdict.deciding or EFFORT_ORDER.index(level) <= EFFORT_ORDER.index(verdict.effort):
        return verdict
    why = f"{verdict.why} Hardest: {_named(top, target)}, {level} effort ({top.role.value})."
    return TargetVerdict(verdict.verdict, why, verdict.deciding, verdict.effort)


def _named(component: Component, target: str) -> str:
    """The component, with what decides it: its note, else its worst rule and that rule's first site
    of its worst severity (`dice_loss.py:133`), so that a reader can check the sentence at the line."""
    state = component.targets[target]
    if state.note:
        return f"{component.name} ({state.note})"
    if not state.blockers:
        return component.name
    top = state.blockers[0]
    return f"{component.name} ({top.label}, {posixpath.basename(top.evidence.path)}:{top.evidence.line})"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
