"""The verdict of `cudaudit resolve` as a table: per CUDA-bound package, the target's build and what replaces it."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from cudaudit.printable import markup_safe
from cudaudit.resolvers.resolution_model import Resolution

_AVAILABLE = {"yes": "[green]yes[/]", "from-source": "[yellow]from source[/]", "no": "[red]no[/]"}
_ACTION = {"swap": "swapped", "keep": "kept", "drop": "removed", "manual": "[red]left for you[/]"}


def render_resolution(resolution: Resolution, console: Console, show_sources: bool) -> None:
    """The index chosen, one row per package, then what could not be swapped."""
    index = resolution.index_url()
    torch = f"torch {resolution.torch}" if resolution.torch else "no pinned torch release"
    console.print(f"[bold]{resolution.target}[/]: {torch}; PyTorch index {index or '(none chosen: pin torch)'}", highlight=False)
    if resolution.verdicts:
        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        for column in ("package", "build", "variant", "replacement", *(("source",) if show_sources else ())):
            table.add_column(column, overflow="fold")
        for verdict in resolution.verdicts:
            action = "left as written (opt-in extra)" if verdict.optional else _ACTION[verdict.action]
            detail = markup_safe(verdict.replacement) + (f"\n[dim]{markup_safe(verdict.note)}[/]" if verdict.note else "")
            row = [
                f"{markup_safe(verdict.package)}\n[dim]{markup_safe(f'{verdict.path}:{verdict.line}')}[/]",
                _AVAILABLE[verdict.available],
                action,
                detail,
            ]
            table.add_row(*row, *((markup_safe(verdict.source),) if show_sources else ()))
        console.print(table)
    else:
        console.print("no CUDA-bound packages")
    for variant in resolution.variants:
        for note in variant.notes:
            console.print(f"[dim]{markup_safe(str(variant.source))}: {markup_safe(note)}[/]", highlight=False)
    stuck = resolution.unswappable
    if stuck:
        names = ", ".join(markup_safe(v.package) for v in stuck)
        console.print(f"[bold red]{len(stuck)} package(s) cannot be swapped cleanly for {resolution.target}:[/] {names}")
    else:
        console.print(f"[bold green]every CUDA-bound package swaps cleanly for {resolution.target}[/]")
