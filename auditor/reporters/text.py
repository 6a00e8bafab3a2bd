"""The human report: findings grouped by file, then the totals and the verdict per target.

By default each finding is one line (`line:col severity rule message [targets it breaks]`), which
a person reads on a repository with thousands of findings; `--verbose` (or `--show-sources`) adds
each finding's source line with the span marked, what every requested target needs, and the
totals by rule, by target and for the CUDA sources' migration to HIP."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import groupby
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cudaudit.model import FileError, Finding, ScanResult, Severity, Status
from cudaudit.printable import markup_safe, terminal_safe
from cudaudit.reporters.summary import count_phrase, scope_phrase, summarize
from cudaudit.rules.catalog import Catalog
from cudaudit.source import SourceLines, reread_lines

if TYPE_CHECKING:
    from cudaudit.assessment.model import TargetVerdict

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "note": "cyan"}
STATUS_STYLE = {Status.WORKS: "green", Status.CHANGE: "yellow", Status.BLOCKED: "red"}
VERDICT_STYLE = {"works": "green", "partial": "yellow", "blocked": "red"}


def render_text(
    result: ScanResult,
    targets: tuple[str, ...],
    catalog: Catalog,
    console: Console,
    show_sources: bool = False,
    verbose: bool = False,
    verdicts: Mapping[str, TargetVerdict] | None = None,
) -> None:
    """The findings by file, then the totals; `verdicts` (the project's, from `cudaudit report`'s
    assessment of the same scan) close the report when the scan covered a project."""
    detailed = verbose or show_sources
    omitted = {o.path: o for o in result.omitted}
    for path, findings in groupby(result.findings, key=lambda f: f.path):
        # One print per file: each print costs rich a measure of the console, and a large
        # repository has tens of thousands of lines (DeepSpeed's 2,400 findings: 4 s, then 0.4 s).
        shown = [console.render_str(f"[bold underline]{markup_safe(path)}[/]")]
        if detailed:
            lines = reread_lines(path, result.buffers)
            for finding in findings:
                shown.extend(_finding_lines(finding, lines, console, show_sources))
        else:
            shown.extend(_brief_line(finding, console) for finding in findings)
        if path in omitted:
            shown.append(console.render_str(f"  {omitted[path].listing_tail}"))
        shown.append(Text())
        console.print(Text("\n").join(shown))
    if detailed:
        render_summary(result, targets, catalog, console)
    else:
        render_headline(result, summarize(result, targets), console)
    if verdicts:
        render_verdicts(verdicts, console)
    hints = [] if detailed or not result.findings else ["each finding's source line and what every target needs: --verbose"]
    hints.append("the one-page answer per target (checklist, components, effort): cudaudit report"
                 if verdicts else "the verdict per target for the whole project: cudaudit report on its folder")
    console.print(f"[dim]More: {'; '.join(hints)}.[/]", highlight=False)


def _brief_line(finding: Finding, console: Console) -> Text:
    """One finding on one line, ending with the targets it breaks or degrades (not those where it works,
    nor, on a warning or error, those where it is only a note: a CPU that never wanted a CUDA library)."""
    span = finding.span
    style = SEVERITY_STYLE[finding.severity.value]
    where = markup_safe(finding.location) if finding.cell is not None else f"{span.line}:{span.column}"
    noted = finding.severity is not Severity.NOTE
    hit = [
        name
        for name, fact in finding.targets.items()
        if fact.status is not Status.WORKS and not (noted and fact.severity is Severity.NOTE)
    ]
    marks = f"  [dim]\\[{' '.join(hit)}][/]" if hit else ""
    return console.render_str(
        f"  {where:<8} [{style}]{finding.severity.value:<7}[/] [bold]{finding.rule}[/]  {markup_safe(finding.message)}{marks}",
        highlight=False,
    )


def render_verdicts(verdicts: Mapping[str, TargetVerdict], console: Console) -> None:
    """The project's verdict per target, with the sentence that says why."""
    width = max(len(name) for name in verdicts)
    console.print("\n[bold]Verdict per target[/]")
    for name, verdict in verdicts.items():
        value = verdict.verdict.value
        console.print(f"  {name:<{width}}  [{VERDICT_STYLE[value]}]{value:<7}[/]  {markup_safe(verdict.why)}", highlight=False)


def _finding_lines(finding: Finding, lines: SourceLines, console: Console, show_sources: bool) -> list[Text]:
    """The lines that show one finding, as `console.print` would have rendered each of them."""
    span = finding.span
    style = SEVERITY_STYLE[finding.severity.value]
    where = markup_safe(finding.location) if finding.cell is not None else f"{span.line}:{span.column}"
    shown = [console.render_str(
        f"  {where}  [{style}]{finding.severity.value}[/]  "
        f"[bold]{finding.rule}[/]  {markup_safe(finding.message)}"
    )]
    source = lines.line(span.line).expandtabs(1) if finding.cell is None else ""  # the file's lines are JSON
    if source.strip():
        end = span.end_column if span.end_line == span.line else len(source) + 1
        # Control characters are shown as escapes, which are wider: the marks follow the shown text.
        before, marked = terminal_safe(source[: span.column - 1]), terminal_safe(source[span.column - 1 : end - 1])
        gutter = f"{span.line:>6} │ "
        shown.append(Text.assemble((gutter, "dim"), terminal_safe(source)))
        marks = "^" * max(1, len(marked))
        shown.append(console.render_str(f"[dim]{' ' * (len(gutter) - 2)}│[/] {' ' * len(before)}[{style}]{marks}[/]"))
    for name, fact in finding.targets.items():
        verdict = f"[{STATUS_STYLE[fact.status]}]{fact.status.value}[/]"
        replacement = f" → {markup_safe(fact.replacement)}" if fact.replacement and fact.status is not Status.WORKS else ""
        shown.append(console.render_str(f"         {name:<5} {verdict}{replacement}", highlight=False))
        if show_sources:
            shown.append(console.render_str(f"[dim]               source: {markup_safe(fact.source)}[/]", highlight=False))
    return shown


def render_summary(result: ScanResult, targets: tuple[str, ...], catalog: Catalog, console: Console) -> None:
    """The closing totals alone: by rule, by target, CUDA migration counts, and one headline (`-f summary`)."""
    summary = summarize(result, targets)
    if result.findings:
        by_rule = Table(title="Findings by rule", title_justify="left", box=None, pad_edge=False)
        by_rule.add_column("rule")
        by_rule.add_column("name")
        by_rule.add_column("count", justify="right")
        for rule_id, count in summary["by_rule"].items():
            by_rule.add_row(rule_id, catalog.rules[rule_id].name, str(count))
        console.print(by_rule)
        by_target = Table(title="Sites by target", title_justify="left", box=None, pad_edge=False)
        by_target.add_column("target")
        for status in Status:
            by_target.add_column(status.value, justify="right")
        for name, counts in summary["by_target"].items():
            by_target.add_row(name, *(str(counts[s.value]) for s in Status))
        console.print(by_target)
        _render_migration(summary["migration"], console)
        console.print()
    render_headline(result, summary, console)


def render_headline(result: ScanResult, summary: dict, console: Console) -> None:
    """The counts in one sentence (`summary` is `summarize`'s), what was left out, and files that
    could not be analysed."""
    console.print(f"[bold]{count_phrase(summary)}[/] {scope_phrase(summary)}")
    if result.portable_hidden:
        hidden = result.portable_hidden
        console.print(
            f"{hidden} site{'s' * (hidden != 1)} that work{'s' * (hidden == 1)} on every target not shown (--show-portable)."
        )
    if result.errors:
        console.print(f"[yellow]{len(result.errors)} file(s) could not be analysed; see the messages above.[/]")


def _render_migration(migration: dict, console: Console) -> None:
    """CUDA references, how many map to HIP, and the hazards HIPIFY is silent on, per file."""
    total = migration["total"]
    if not total["references"] and not total["hazards"]:
        return
    table = Table(title="CUDA sources: migration to HIP", title_justify="left", box=None, pad_edge=False)
    for column in ("file", "references", "mappable", "not mappable", "hazards"):
        table.add_column(column, justify="left" if column == "file" else "right")
    rows = [*migration["files"].items(), (f"total ({total['files']} file{'s' * (total['files'] != 1)})", total)]
    for path, counts in rows:
        values = (counts["references"], counts["mappable"], counts["not_mappable"], counts["hazards"])
        table.add_row(markup_safe(path), *("—" if v is None else str(v) for v in values))
    console.print(table)


def error_markup(error: FileError) -> str:
    """One diagnostic line, in markup, with the path and message (both from the tree) made safe."""
    where = f"{error.path}:{error.line}" if error.line else error.path
    return f"[yellow]cudaudit: {markup_safe(where)}: {markup_safe(error.message)}[/]"


