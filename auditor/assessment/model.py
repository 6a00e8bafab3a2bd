"""The assessment as plain data: verdicts per target, the checklist, the components.

The `components` stage builds it from a scan's findings; the report formats and the fleet merge
read it, and its JSON form (docs/report-format.md) is a contract: fields are only added. A fleet
merge reads reports written by other runs, so every type here reads back from its JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Readiness(str, Enum):
    """How a component, or the whole project, fares on one target today."""

    WORKS = "works"
    """Runs there today, with the porting layers the project already has."""
    PARTIAL = "partial"
    """Runs, but named paths break or degrade there."""
    BLOCKED = "blocked"
    """Does not run there without porting work."""

    @property
    def rank(self) -> int:
        return _READINESS_RANK[self]


_READINESS_RANK = {Readiness.WORKS: 0, Readiness.PARTIAL: 1, Readiness.BLOCKED: 2}


class Role(str, Enum):
    """What a component is to the project: what decides its verdict, and what only informs it."""

    CORE = "core"
    """The project's main use: its package, entry scripts, kernels, required dependencies."""
    OPTIONAL = "optional"
    """Examples, extra scripts, vendored code: a gap there makes the verdict partial at most."""
    TOOLING = "tooling"
    """Tests, benchmarks, CI, images only used to build or test: reported, never in the verdict."""


class AnswerStatus(str, Enum):
    OK = "ok"
    GAP = "gap"
    BLOCKER = "blocker"
    NOT_APPLICABLE = "not-applicable"


EFFORT_ORDER = ("none", "low", "medium", "high")


@dataclass(frozen=True)
class Evidence:
    """Where an answer comes from: a finding (by its position in the report's list), or a file or component."""

    path: str
    line: int | None = None
    text: str = ""
    rule: str | None = None
    finding: int | None = None
    component: str | None = None

    def cite(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "text": self.text,
            "rule": self.rule,
            "finding": self.finding,
            "component": self.component,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        return cls(data["path"], data.get("line"), data.get("text", ""), data.get("rule"), data.get("finding"),
                   data.get("component"))


@dataclass(frozen=True)
class Blocker:
    """One kind of problem in a component on a target: the rule, what it says, how often, the first site."""

    rule: str
    label: str
    """The rule's name (`inline-ptx`): short enough for a sentence."""
    message: str
    count: int
    effort: str
    evidence: Evidence

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "label": self.label, "message": self.message, "count": self.count,
                "effort": self.effort, "evidence": self.evidence.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Blocker:
        return cls(data["rule"], data["label"], data["message"], data["count"], data["effort"],
                   Evidence.from_json(data["evidence"]))


@dataclass(frozen=True)
class ComponentTarget:
    """A component on one target: how ready, how much work, what cudaudit can do, what stands in the way."""

    status: Readiness
    effort: str
    """`none`, `low`, `medium` or `high`: the hardest site's grade (SYCLomatic's scale)."""
    sites: int
    """Sites that break or degrade the target (errors and warnings)."""
    automatic: str
    """What `cudaudit fix` and `cudaudit resolve` do for it, in one phrase ("" when nothing)."""
    fixable: int
    """How many of `sites` those commands rewrite."""
    blockers: tuple[Blocker, ...] = ()
    note: str = ""
    """Why the status is what it is where findings alone do not say (a CPU path beside CUDA kernels)."""
    options: tuple[str, ...] = ()
    """The command-line options (`--device`) whose defaults are the only sites that stop the
    component on the target when it runs as documented: set, they avoid them (`Finding.option`);
    the component is partial, not blocked."""
    errors: int = 0
    """How many of `sites` are errors: where none is, the component degrades or breaks only on
    another path, and the verdict says it may not run rather than that it does not."""

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "effort": self.effort,
            "sites": self.sites,
            "errors": self.errors,
            "automatic": self.automatic,
            "fixable": self.fixable,
            "blockers": [b.to_json() for b in self.blockers],
            "note": self.note,
            "options": list(self.options),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ComponentTarget:
        return cls(Readiness(data["status"]), data["effort"], data["sites"], data["automatic"], data["fixable"],
                   tuple(Blocker.from_json(b) for b in data["blockers"]), data.get("note", ""),
                   tuple(data.get("options", ())), data.get("errors", data["sites"]))


@dataclass(frozen=True)
class Component:
    """A thing a team plans work around: a kernel folder, an image, a dependency set, a CI workflow..."""

    id: str
    kind: str
    """`kernels`, `triton`, `build`, `python`, `script`, `image`, `deployment`, `dependencies`, `ci`,
    `attention`, `serving` or `quantization`."""
    name: str
    role: Role
    paths: tuple[str, ...]
    findings: tuple[int, ...]
    """Positions in the report's findings list; every finding belongs to exactly one component."""
    targets: dict[str, ComponentTarget]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "role": self.role.value,
            "paths": list(self.paths),
            "findings": list(self.findings),
            "targets": {name: t.to_json() for name, t in self.targets.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Component:
        return cls(data["id"], data["kind"], data["name"], Role(data["role"]), tuple(data["paths"]),
                   tuple(data["findings"]), {n: ComponentTarget.from_json(t) for n, t in data["targets"].items()})


@dataclass(frozen=True)
class Answer:
    """One checklist question answered for one target."""

    status: AnswerStatus
    text: str
    evidence: tuple[Evidence, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "text": self.text, "evidence": [e.to_json() for e in self.evidence]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        return cls(AnswerStatus(data["status"]), data["text"], tuple(Evidence.from_json(e) for e in data["evidence"]))


@dataclass(frozen=True)
class Question:
    number: int
    id: str
    title: str
    question: str
    answers: dict[str, Answer]

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "id": self.id, "title": self.title, "question": self.question,
                "answers": {name: a.to_json() for name, a in self.answers.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Question:
        return cls(data["number"], data["id"], data["title"], data["question"],
                   {n: Answer.from_json(a) for n, a in data["answers"].items()})


@dataclass(frozen=True)
class TargetVerdict:
    verdict: Readiness
    why: str
    deciding: tuple[str, ...] = ()
    """Ids of the components that decide the verdict."""
    effort: str = "none"
    """The hardest effort among the deciding components."""

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict.value, "why": self.why, "deciding": list(self.deciding), "effort": self.effort}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TargetVerdict:
        return cls(Readiness(data["verdict"]), data["why"], tuple(data.get("deciding", ())), data.get("effort", "none"))


@dataclass
class Assessment:
    """The one-page answer for one project."""

    project: str
    targets: dict[str, TargetVerdict]
    checklist: list[Question]
    components: list[Component]
    findings: list[dict[str, Any]] = field(default_factory=list)
    """The findings as `cudaudit scan -f json` writes them; components and evidence point into it."""
    summary: dict[str, Any] = field(default_factory=dict)
    """`cudaudit scan -f json`'s summary of the same scan."""
    version: str = ""

    @property
    def findings_total(self) -> int:
        return len(self.findings)

    def component(self, component_id: str) -> Component:
        return next(c for c in self.components if c.id == component_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "project": self.project,
            "targets": {name: v.to_json() for name, v in self.targets.items()},
            "checklist": [q.to_json() for q in self.checklist],
            "components": [c.to_json() for c in self.components],
            "findings_total": self.findings_total,
            "summary": self.summary,
            "findings": self.findings,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Assessment:
        return cls(
            data["project"],
            {n: TargetVerdict.from_json(v) for n, v in data["targets"].items()},
            [Question.from_json(q) for q in data["checklist"]],
            [Component.from_json(c) for c in data["components"]],
            data.get("findings", []),
            data.get("summary", {}),
            data.get("version", ""),
        )
