"""The report as one self-contained HTML page: a card per target with its verdict and a readiness
chart of its components, the checklist, every component, and the findings the answers link to."""

from __future__ import annotations

from cudaudit.assessment.layout import relative
from cudaudit.assessment.model import Assessment, Component, Evidence, Readiness
from cudaudit.reporters.html_page import badge, dot, e, inline_code, page, stacked_bar
from cudaudit.reporters.report_markdown import target_name

FINDINGS_SHOWN = 2000
"""Findings listed at the end (the ones the page links to come first); a scan's JSON has them all."""


def render_report_html(assessment: Assessment, root: str = "") -> str:
    targets = list(assessment.targets)
    linked = _linked(assessment)
    body = [
        f"<h1>CUDA portability: {e(assessment.project)}</h1>",
        f'<p class="sub">{assessment.findings_total} findings in {assessment.summary.get("files", 0)} files, '
        f"{len(assessment.components)} components · targets {e(', '.join(map(target_name, targets)))} · "
        f"cudaudit {e(assessment.version)}</p>",
        '<div class="cards">',
        *(_card(assessment, t) for t in targets),
        "</div>",
        "<h2>Checklist</h2>",
        _checklist(assessment, targets, root, linked),
        "<h2>Components</h2>",
        _components(assessment, targets, root),
        _findings(assessment, root, linked),
        '<footer>Effort: low = minutes, mechanical; medium = hours; high = a rewrite (graded as SYCLomatic grades '
        "its migration diagnostics). Role: core decides the verdict; optional makes it partial at most; tooling "
        "(tests, benchmarks, CI) never decides.</footer>",
    ]
    return page(f"CUDA portability: {assessment.project}", "\n".join(body))


def _card(assessment: Assessment, target: str) -> str:
    verdict = assessment.targets[target]
    counts = {r: 0 for r in Readiness}
    for component in assessment.components:
        if target in component.targets:
            counts[component.targets[target].status] += 1
    chart = stacked_bar([(r.value, counts[r]) for r in Readiness], f"{target_name(target)}: components by readiness")
    effort = f'<span class="effort">effort {e(verdict.effort)}</span>' if verdict.effort != "none" else ""
    return (
        f'<section class="card"><h3>{e(target_name(target))} {badge(verdict.verdict.value)} {effort}</h3>'
        f'<p class="why">{inline_code(verdict.why)}</p>{chart}</section>'
    )


def _checklist(assessment: Assessment, targets: list[str], root: str, linked: dict[int, int]) -> str:
    head = "<tr><th>#</th><th>question</th>" + "".join(f"<th>{e(target_name(t))}</th>" for t in targets) + "</tr>"
    rows = []
    for question in assessment.checklist:
        cells = []
        for target in targets:
            answer = question.answers[target]
            cites = " ".join(_cite(ev, root, linked) for ev in answer.evidence[:4])
            cells.append(f'<td><div class="status">{dot(answer.status.value)}</div>{inline_code(answer.text)}'
                         f'<div class="small">{cites}</div></td>')
        rows.append(f"<tr><td>{question.number}</td><td>{e(question.question)}</td>{''.join(cells)}</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _cite(evidence: Evidence, root: str, linked: dict[int, int]) -> str:
    shown = relative(evidence.path, root) + (f":{evidence.line}" if evidence.line else "")
    if evidence.finding is not None and evidence.finding in linked:
        return f'<a href="#f{evidence.finding}"><code>{e(shown)}</code></a>'
    if evidence.component:
        return f'<a href="#{_anchor(evidence.component)}"><code>{e(shown)}</code></a>'
    return f"<code>{e(shown)}</code>"


def _components(assessment: Assessment, targets: list[str], root: str) -> str:
    head = ('<tr><th>component</th><th class="nowrap">role</th>'
            + "".join(f"<th>{e(target_name(t))}</th>" for t in targets)
            + '<th>cudaudit can</th><th>top blockers</th><th class="nowrap">findings</th></tr>')
    rows = [_component_row(c, targets, root) for c in assessment.components]
    return f'<table class="components">{head}{"".join(rows)}</table>'


def _component_row(component: Component, targets: list[str], root: str) -> str:
    cells = []
    blockers = []
    for target in targets:
        state = component.targets[target]
        effort = f'<div class="small">{e(state.effort)} effort · {state.sites} site(s)</div>' if state.effort != "none" else ""
        note = f'<div class="small">{inline_code(state.note)}</div>' if state.note else ""
        cells.append(f'<td class="status">{dot(state.status.value)}{effort}{note}</td>')
        for blocker in state.blockers:
            site = f"{relative(blocker.evidence.path, root)}:{blocker.evidence.line}"
            item = (f'<a href="#f{blocker.evidence.finding}"><code>{e(blocker.rule)}</code></a> {e(blocker.label)}'
                    f" ×{blocker.count} <span class=\"small\">{e(site)}</span>")
            if item not in blockers:
                blockers.append(item)
    automatic = "<br>".join(f"{e(target_name(t))}: {inline_code(component.targets[t].automatic)}" for t in targets
                            if component.targets[t].automatic) or "—"
    return (f'<tr id="{_anchor(component.id)}"><td>{e(component.name)}</td>'
            f'<td class="nowrap">{e(component.role.value)}</td>{"".join(cells)}<td>{automatic}</td>'
            f'<td>{"<br>".join(blockers[:4]) or "—"}</td><td class="nowrap">{len(component.findings)}</td></tr>')


def _linked(assessment: Assessment) -> dict[int, int]:
    """Findings the page lists (and so can link to): those cited first, then the rest up to a limit."""
    cited = [ev.finding for q in assessment.checklist for a in q.answers.values() for ev in a.evidence
             if ev.finding is not None]
    cited += [b.evidence.finding for c in assessment.components for t in c.targets.values() for b in t.blockers
              if b.evidence.finding is not None]
    order = list(dict.fromkeys([*cited, *range(len(assessment.findings))]))[:FINDINGS_SHOWN]
    return {index: position for position, index in enumerate(sorted(order))}


def _findings(assessment: Assessment, root: str, linked: dict[int, int]) -> str:
    if not assessment.findings:
        return ""
    rows = []
    for index in sorted(linked):
        finding = assessment.findings[index]
        targets = " ".join(f"{e(t)}: {e(fact['status'])}" for t, fact in finding["targets"].items())
        rows.append(f'<tr id="f{index}"><td><code>{e(relative(finding["path"], root))}:{finding["line"]}</code></td>'
                    f"<td>{e(finding['rule'])}</td><td>{e(finding['severity'])}</td>"
                    f"<td>{inline_code(finding['message'])}</td><td>{targets}</td></tr>")
    left = len(assessment.findings) - len(linked)
    more = f'<p class="small">{left} more in <code>cudaudit scan -f json</code>.</p>' if left > 0 else ""
    return (f"<h2>Findings</h2><details open><summary>{len(linked)} finding(s)</summary>"
            f'<table class="findings"><tr><th>site</th><th>rule</th><th>severity</th><th>message</th><th>targets</th></tr>'
            f"{''.join(rows)}</table>{more}</details>")


def _anchor(component_id: str) -> str:
    return "c-" + "".join(ch if ch.isalnum() else "-" for ch in component_id)
