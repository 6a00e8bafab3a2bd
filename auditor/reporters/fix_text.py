"""What `cudaudit fix` did and what it left, grouped by the reason each finding was left."""

from __future__ import annotations

from itertools import groupby

from rich.console import Console

from cudaudit.fix_report import FixReport
from cudaudit.model import Finding
from cudaudit.printable import markup_safe
from cudaudit.reporters.text import error_markup

SHOWN_NAMES = 4


def lifted_unchecked(report: FixReport) -> list[tuple[Finding, tuple[str, ...]]]:
    """Requirements the run lifted whose protected code uses the project's other modules."""
    return [(f, f.fix.unchecked) for f in report.fixed if f.fix is not None and f.fix.unchecked]


def unchecked_note(names: tuple[str, ...]) -> str:
    """Why a lifted requirement still needs a look: the analysis follows calls within one module only."""
    more = f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else ""
    return (
        f"lifts the requirement, but the code it protected also uses {', '.join(names[:SHOWN_NAMES])}{more} "
        "from other modules of the project, which this check does not follow: make sure they run without CUDA"
    )


def render_fix_summary(report: FixReport, dry_run: bool, console: Console) -> None:
    verb = "would fix" if dry_run else "fixed"
    counts = report.fixed_by_rule()
    if counts:
        listing = ", ".join(f"{rule} ×{count}" for rule, count in counts.items())
        console.print(f"[bold green]{verb} {len(report.fixed)}[/] ({listing}) in {len(report.changed)} file(s)")
    else:
        console.print("nothing to fix automatically")
    for finding, names in lifted_unchecked(report):
        where = f"{markup_safe(finding.location)}:{finding.span.column}"
        console.print(f"  {where}  {finding.rule}  {markup_safe(unchecked_note(names))}", highlight=False)
    for error in report.errors:
        console.print(error_markup(error), highlight=False)
    if report.notes_left:
        console.print(
            f"{report.notes_left} note(s) left on guarded or merely CUDA-flavoured code; `cudaudit scan` lists them"
        )
    if not report.remaining:
        return
    console.print(f"[bold]{len(report.remaining)} finding(s) remain[/], by why they were not fixed:")
    by_reason = sorted(report.remaining, key=lambda r: (r.reason, r.finding.sort_key))
    for reason, group in groupby(by_reason, key=lambda r: r.reason):
        console.print(f"  [yellow]{markup_safe(reason)}[/]", highlight=False)
        for item in group:
            f = item.finding
            console.print(
                f"    {markup_safe(f.location)}:{f.span.column}  {f.rule}  {markup_safe(f.message)}", highlight=False
            )
