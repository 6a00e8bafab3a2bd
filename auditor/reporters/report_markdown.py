"""The report as Markdown: one page that reads well as a pull-request or issue comment.

Verdicts first, then the checklist (one line per question; targets with the same answer share
it), then the components that need work, then where the detail is. Sites are `path:line`,
links when `link_base` says where the files are browsable (a GitHub blob URL at a commit).
"""

from __future__ import annotations

from collections.abc import Sequence

from cudaudit.assessment.checklist import TARGET_NAMES
from cudaudit.assessment.layout import relative
from cudaudit.assessment.model import Answer, Assessment, Component, Evidence, Readiness, Role

READINESS_MARK = {Readiness.WORKS: "✅", Readiness.PARTIAL: "⚠️", Readiness.BLOCKED: "❌"}
ANSWER_MARK = {"ok": "✅", "gap": "⚠️", "blocker": "❌", "not-applicable": "➖"}
COMPONENT_ROWS = 4
"""Components listed in the table; the rest are counted (the HTML and JSON reports list all)."""


def target_name(target: str) -> str:
    return TARGET_NAMES.get(target, target)


def render_report_markdown(assessment: Assessment, root: str = "", link_base: str | None = None) -> str:
    targets = list(assessment.targets)
    out = [f"## CUDA portability: {assessment.project}", ""]
    for target, verdict in assessment.targets.items():
        mark = READINESS_MARK[verdict.verdict]
        out.append(f"- {mark} **{target_name(target)}: {verdict.verdict.value}**. {_inline(verdict.why)}")
    out += ["", "### Checklist", ""]
    for question in assessment.checklist:
        groups = _shared(question.answers, targets)
        lines = []
        for names, answer in groups:
            label = "/".join(target_name(t) for t in names)
            text = _answer_text(answer, root, link_base).replace(target_name(names[0]), label)
            lines.append(f"{ANSWER_MARK[answer.status.value]} {label}: {text}")
        out.append(f"{question.number}. **{question.title}**: " + " · ".join(lines))
    out += ["", *_components(assessment, targets, root)]
    summary = assessment.summary
    severities = ", ".join(f"{n} {s}" for s, n in summary.get("by_severity", {}).items() if n)
    out[-1] += (f" {assessment.findings_total} findings ({severities}) in {summary.get('files', 0)} files: "
                "`cudaudit scan` lists them, `cudaudit report -f html` every component.")
    return "\n".join(out) + "\n"


def _shared(answers: dict[str, Answer], targets: list[str]) -> list[tuple[list[str], Answer]]:
    """Targets whose answers read the same once the target's name is taken out share one line."""
    groups: list[tuple[list[str], Answer]] = []
    for target in targets:
        answer = answers[target]
        key = (answer.status, _neutral(answer.text, target))
        for names, other in groups:
            if (other.status, _neutral(other.text, names[0])) == key:
                names.append(target)
                break
        else:
            groups.append(([target], answer))
    return groups


def _neutral(text: str, target: str) -> str:
    return text.replace(target_name(target), "{target}")


def _answer_text(answer: Answer, root: str, link_base: str | None) -> str:
    text = _inline(answer.text)
    if link_base and answer.evidence:
        links = ", ".join(_link(e, root, link_base) for e in answer.evidence[:3])
        text += f" ({links})"
    return text


def _link(evidence: Evidence, root: str, link_base: str) -> str:
    shown = relative(evidence.path, root)
    anchor = f"#L{evidence.line}" if evidence.line else ""
    label = f"{shown}:{evidence.line}" if evidence.line else shown
    return f"[{label}]({link_base.rstrip('/')}/{shown}{anchor})"


def _components(assessment: Assessment, targets: Sequence[str], root: str) -> list[str]:
    needing = [c for c in assessment.components if c.role is not Role.TOOLING and _needs_work(c)]
    tooling = [c for c in assessment.components if c.role is Role.TOOLING and _needs_work(c)]
    if not needing and not tooling:
        return ["### Components", "", "Nothing to port: every component runs on " + ", ".join(map(target_name, targets)) + "."]
    header = "| component | " + " | ".join(target_name(t) for t in targets) + " | cudaudit does | top blocker |"
    rows = ["### Components", "", header, "|---" * (len(targets) + 3) + "|"]
    shown = needing[:COMPONENT_ROWS]
    rows += [_row(c, targets, root) for c in shown]
    rest = len(needing) - len(shown)
    notes = []
    if rest:
        notes.append(f"{rest} more component{'s' * (rest != 1)}")
    if tooling:
        notes.append(f"{len(tooling)} in tests, benchmarks or CI")
    legend = "✅ works ⚠️ partial ❌ blocked; effort: low = minutes, medium = hours, high = a rewrite"
    rows += ["", "; ".join([legend, *notes]) + "."]
    return rows


def _needs_work(component: Component) -> bool:
    return any(t.status is not Readiness.WORKS for t in component.targets.values())


def _row(component: Component, targets: Sequence[str], root: str) -> str:
    cells = []
    for target in targets:
        state = component.targets[target]
        cells.append(f"{READINESS_MARK[state.status]} {state.effort if state.effort != 'none' else ''}".rstrip())
    automatic = next((component.targets[t].automatic for t in targets if component.targets[t].automatic), "")
    worst = max(targets, key=lambda t: (component.targets[t].status.rank, component.targets[t].sites))
    state = component.targets[worst]
    blocker = ""
    if state.blockers:
        first = state.blockers[0]
        site = f"{relative(first.evidence.path, root)}:{first.evidence.line}"
        blocker = f"{first.label} ×{first.count} (`{site}`)" if first.count > 1 else f"{first.label} (`{site}`)"
    elif state.note:
        blocker = state.note
    name = component.name if component.role is Role.CORE else f"{component.name} ({component.role.value})"
    return f"| {_cell(name)} | " + " | ".join(cells) + f" | {_cell(automatic) or '—'} | {_cell(blocker) or '—'} |"


def _cell(text: str) -> str:
    return _inline(text).replace("|", "\\|")


def _inline(text: str) -> str:
    return " ".join(text.split())
