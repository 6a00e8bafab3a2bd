"""What `cudaudit fix` did and what it left, grouped by the reason each finding was left."""

from __future__ import annotations

from itertools import groupby

from rich.console import Console

from cudaudit.fix_report import FixReport
from cudaudit.printable import markup_safe
from cudaudit.reporters.text import error_markup


def render_fix_summary(report: FixReport, dry_run: bool, console: Console) -> None:
    verb = "would fix" if dry_run else "fixed"
    counts = report.fixed_by_rule()
    if counts:
        listing = ", ".join(f"{rule} ×{count}" for rule, count in counts.items())
        console.print(f"[bold green]{verb} {len(report.fixed)}[/] ({listing}) in {len(report.changed)} file(s)")
    else:
        console.print("nothing to fix automatically")
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
