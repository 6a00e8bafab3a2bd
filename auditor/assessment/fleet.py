"""Many repositories' JSON reports merged into one fleet view: verdicts per repository and target,
and the blockers most of the fleet shares.

An organisation runs `cudaudit report -f json` in each repository's CI and merges the results;
the merge reads only the JSON contract, never the repositories.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cudaudit.assessment.model import Assessment, Readiness, TargetVerdict

TOP_BLOCKERS = 10


class FleetError(ValueError):
    """A file that is not a report `cudaudit report -f json` wrote; the message names it."""


@dataclass(frozen=True)
class Repository:
    name: str
    source: str
    """The JSON file it was read from."""
    verdicts: dict[str, TargetVerdict]
    findings_total: int
    components: dict[str, dict[str, int]]
    """Per target, how many of its components are works / partial / blocked."""


@dataclass(frozen=True)
class SharedBlocker:
    rule: str
    label: str
    message: str
    target: str
    repositories: tuple[str, ...]
    sites: int
    effort: str


@dataclass(frozen=True)
class Fleet:
    targets: tuple[str, ...]
    repositories: tuple[Repository, ...]
    blockers: tuple[SharedBlocker, ...]

    def verdict_counts(self, target: str) -> dict[str, int]:
        counts = {r.value: 0 for r in Readiness}
        for repository in self.repositories:
            verdict = repository.verdicts.get(target)
            if verdict is not None:
                counts[verdict.verdict.value] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "targets": list(self.targets),
            "repositories": [
                {
                    "name": r.name,
                    "source": r.source,
                    "targets": {t: v.to_json() for t, v in r.verdicts.items()},
                    "findings_total": r.findings_total,
                    "components": r.components,
                }
                for r in self.repositories
            ],
            "verdicts": {t: self.verdict_counts(t) for t in self.targets},
            "blockers": [
                {"rule": b.rule, "label": b.label, "message": b.message, "target": b.target,
                 "repositories": list(b.repositories), "sites": b.sites, "effort": b.effort}
                for b in self.blockers
            ],
        }


def merge(reports: Sequence[tuple[Path, dict[str, Any]]]) -> Fleet:
    assessments = []
    for path, data in reports:
        if not isinstance(data, dict) or not {"targets", "components", "checklist"} <= set(data):
            raise FleetError(f"{path}: not a report of `cudaudit report -f json` (it has no `targets`, `components` "
                             "and `checklist`); a `cudaudit scan -f json` report cannot be merged")
        try:
            assessments.append((path, Assessment.from_json(data)))
        except (KeyError, TypeError, ValueError) as exc:
            raise FleetError(f"{path}: malformed report ({type(exc).__name__}: {exc})") from None
    targets = tuple(dict.fromkeys(t for _, a in assessments for t in a.targets))
    names = _names(assessments)
    repositories = tuple(
        Repository(names[i], str(path), a.targets, a.findings_total, _component_counts(a))
        for i, (path, a) in enumerate(assessments)
    )
    return Fleet(targets, tuple(sorted(repositories, key=lambda r: r.name.lower())), _shared(assessments, names))


def _names(assessments: list[tuple[Path, Assessment]]) -> list[str]:
    """Each repository's project name; the file's name disambiguates two projects of one name."""
    counts: dict[str, int] = defaultdict(int)
    for _, a in assessments:
        counts[a.project] += 1
    return [a.project if counts[a.project] == 1 else f"{a.project} ({path.stem})" for path, a in assessments]


def _component_counts(assessment: Assessment) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {t: {r.value: 0 for r in Readiness} for t in assessment.targets}
    for component in assessment.components:
        for target, state in component.targets.items():
            counts.setdefault(target, {r.value: 0 for r in Readiness})[state.status.value] += 1
    return counts


def _shared(assessments: list[tuple[Path, Assessment]], names: list[str]) -> tuple[SharedBlocker, ...]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for name, (_, assessment) in zip(names, assessments):
        for component in assessment.components:
            for target, state in component.targets.items():
                if state.status is Readiness.WORKS:
                    continue
                for blocker in state.blockers:
                    entry = found.setdefault((target, blocker.rule), {
                        "label": blocker.label, "message": blocker.message, "repos": set(), "sites": 0,
                        "effort": blocker.effort,
                    })
                    entry["repos"].add(name)
                    entry["sites"] += blocker.count
    shared = [
        SharedBlocker(rule, e["label"], e["message"], target, tuple(sorted(e["repos"])), e["sites"], e["effort"])
        for (target, rule), e in found.items()
    ]
    shared.sort(key=lambda b: (-len(b.repositories), -b.sites, b.target, b.rule))
    return tuple(shared[:TOP_BLOCKERS])
