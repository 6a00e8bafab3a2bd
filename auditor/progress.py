"""A progress bar for long runs, shown only on a terminal (never in logs, pipes or CI output)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

ProgressCallback = Callable[[int, int], None]
"""`(done, total)`, called as work completes."""


@contextmanager
def progress_bar(console: Console, label: str, total: int, minimum: int) -> Iterator[ProgressCallback | None]:
    """A callback that advances a bar labelled `label`, or None when `console` is not a terminal
    or there are fewer than `minimum` items (too quick to be worth a bar)."""
    if not console.is_terminal or total < minimum:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # only for a bar

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done, total: progress.update(task, completed=done, total=total)
