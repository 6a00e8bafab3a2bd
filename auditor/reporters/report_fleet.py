"""The fleet view in three formats: verdicts per repository and target, and shared blockers."""

from __future__ import annotations

import json

from cudaudit.assessment.fleet import Fleet
from cudaudit.assessment.model import Readiness
from cudaudit.reporters.html_page import badge, e, inline_code, page, stacked_bar
from cudaudit.reporters.report_markdown import READINESS_MARK, target_name


def render_fleet_json(fleet: Fleet) -> str:
    return json.dumps(fleet.to_json(), indent=2, ensure_ascii=False) + "\n"


def render_fleet_markdown(fleet: Fleet) -> str:
    targets = fleet.targets
    out = [f"## CUDA portability of {len(fleet.repositories)} repositories", ""]
    for target in targets:
        counts = fleet.verdict_counts(target)
        out.append(f"- **{target_name(target)}**: " + ", ".join(f"{counts[r.value]} {r.value}" for r in Readiness))
    out += ["", "| repository | " + " | ".join(target_name(t) for t in targets) + " | findings |",
            "|---" * (len(targets) + 2) + "|"]
    for repo in fleet.repositories:
        cells = []
        for target in targets:
            verdict = repo.verdicts.get(target)
            cells.append(f"{READINESS_MARK[verdict.verdict]} {verdict.verdict.value}" if verdict else "—")
        out.append(f"| {repo.name} | " + " | ".join(cells) + f" | {repo.findings_total} |")
    if fleet.blockers:
        out += ["", "### Most common blockers", "", "| blocker | target | repositories | sites | effort |", "|---|---|---|---|---|"]
        for b in fleet.blockers:
            out.append(f"| `{b.rule}` {b.label} | {target_name(b.target)} | {len(b.repositories)}: "
                       f"{', '.join(b.repositories[:4])}{'…' if len(b.repositories) > 4 else ''} | {b.sites} | {b.effort} |")
    return "\n".join(out) + "\n"


def render_fleet_html(fleet: Fleet) -> str:
    targets = fleet.targets
    cards = []
    for target in targets:
        counts = fleet.verdict_counts(target)
        chart = stacked_bar([(r.value, counts[r.value]) for r in Readiness], f"{target_name(target)}: repositories by verdict")
        cards.append(f'<section class="card"><h3>{e(target_name(target))}</h3>'
                     f'<p class="why">{counts["works"]} of {len(fleet.repositories)} repositories run there today.</p>'
                     f"{chart}</section>")
    head = "<tr><th>repository</th>" + "".join(f"<th>{e(target_name(t))}</th>" for t in targets) + '<th class="nowrap">findings</th></tr>'
    rows = []
    for repo in fleet.repositories:
        cells = []
        for target in targets:
            verdict = repo.verdicts.get(target)
            if verdict is None:
                cells.append("<td>—</td>")
            else:
                cells.append(f'<td>{badge(verdict.verdict.value)}<div class="small">{inline_code(verdict.why)}</div></td>')
        rows.append(f"<tr><td class=\"name\"><strong>{e(repo.name)}</strong></td>{''.join(cells)}<td class=\"nowrap\">{repo.findings_total}</td></tr>")
    blockers = ""
    if fleet.blockers:
        items = "".join(
            f"<tr><td><code>{e(b.rule)}</code> {e(b.label)}<div class=\"small\">{inline_code(b.message)}</div></td>"
            f'<td class="nowrap">{e(target_name(b.target))}</td><td>{len(b.repositories)}: {e(", ".join(b.repositories))}</td>'
            f'<td class="nowrap">{b.sites}</td><td class="nowrap">{e(b.effort)}</td></tr>'
            for b in fleet.blockers
        )
        blockers = ('<h2>Most common blockers</h2><table><tr><th>blocker</th><th class="nowrap">target</th>'
                    f'<th>repositories</th><th class="nowrap">sites</th><th class="nowrap">effort</th></tr>{items}</table>')
    body = (f"<h1>CUDA portability of {len(fleet.repositories)} repositories</h1>"
            f'<p class="sub">Merged from the JSON reports of <code>cudaudit report -f json</code>.</p>'
            f'<div class="cards">{"".join(cards)}</div><h2>Repositories</h2><table>{head}{"".join(rows)}</table>{blockers}')
    return page(f"CUDA portability of {len(fleet.repositories)} repositories", body)
