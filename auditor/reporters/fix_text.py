"""What `cudaudit fix` did and what it left, with the reason for each finding it left."""

from __future__ import annotations

from itertools import groupby

from rich.console import Console
from rich.markup import escape

from cudaudit.fixers.run import FixReport, fixed_by_rule


def render_fix_summary(report: FixReport, dry_run: bool, console: Console) -> None:
    verb = "would fix" if dry_run else "fixed"
    counts = fixed_by_rule(report)
    if counts:
        listing = ", ".join(f"{rule} ×{count}" for rule, count in counts.items())
        console.print(f"[bold green]{verb} {len(report.fixed)}[/] ({listing}) in {len(report.changed)} file(s)")
    else:
        console.print("nothing to fix automatically")
    for error in report.errors:
        where = f"{error.path}:{error.line}" if error.line else error.path
        console.print(f"[yellow]cudaudit: {where}: {error.message}[/]", highlight=False)
    if report.notes_left:
        console.print(
            f"{report.notes_left} note(s) left on guarded or merely CUDA-flavoured code; `cudaudit scan` lists them"
        )
    if not report.remaining:
        return
    console.print(f"[bold]{len(report.remaining)} finding(s) remain:[/]")
    ordered = sorted(report.remaining, key=lambda r: r.finding.sort_key)
    for path, group in groupby(ordered, key=lambda r: r.finding.path):
        console.print(f"  [bold]{escape(path)}[/]")
        for item in group:
            f = item.finding
            console.print(
                f"    {f.span.line}:{f.span.column}  {f.rule}  {escape(f.message)}\n      [dim]{escape(item.reason)}[/]",
                highlight=False,
            )
