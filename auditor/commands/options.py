"""What the commands share: path, target and rule options, errors, exit codes.

They live here rather than in `cli.py` because `cli.py` imports every command to register it;
a command importing `cli.py` back would make the two modules a cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console

from cudaudit.model import TARGETS, ScanResult
from cudaudit.printable import markup_safe
from cudaudit.reporters.text import error_markup
from cudaudit.session import ScanSession, UsageError, not_read, open_session

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

err = Console(stderr=True, soft_wrap=True)

UNLIMITED_WIDTH = 1_000_000
"""Report width when the output is not a terminal: a file, a pipe or a CI log has no edge, so a
table is never cut or folded at rich's default of 80 columns."""


def report_console(file: TextIO | None = None) -> Console:
    """A console for a report: the terminal's width on a terminal, no limit anywhere else."""
    console = Console(file=file, soft_wrap=True)
    return console if console.is_terminal else Console(file=file, soft_wrap=True, width=UNLIMITED_WIDTH)

Paths = Annotated[
    list[Path] | None,
    typer.Argument(help="Files or folders (default: the current folder).", show_default=False),
]
Targets = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        "-t",
        help=f"Target backends, comma-separated: {', '.join(TARGETS)}. \\[default: rocm,cpu, or the config's]",
        show_default=False,
    ),
]
Select = Annotated[
    list[str] | None,
    typer.Option(help="Only these rules: ids or prefixes, comma-separated (CDA1, CDA203).", show_default=False),
]
Ignore = Annotated[
    list[str] | None,
    typer.Option(help="Skip these rules: ids or prefixes, comma-separated; adds to the config's.", show_default=False),
]
Jobs = Annotated[int, typer.Option("--jobs", "-j", min=0, help="Worker processes; 0 uses every core.")]
NoCache = Annotated[
    bool,
    typer.Option("--no-cache", help="Analyse every file afresh, neither reading nor writing the cache (`cudaudit clean` empties it)."),
]
ConfigPath = Annotated[
    Path | None,
    typer.Option(
        "--config", help="pyproject.toml to read \\[tool.cudaudit] from. \\[default: the nearest one above the first path]"
    ),
]

ShowPortable = Annotated[
    bool,
    typer.Option(
        "--show-portable",
        help="Also report sites that work on every target asked about (left out by default, and counted).",
    ),
]


def split_values(values: list[str] | None) -> list[str]:
    """`-t rocm,cpu -t xpu` -> ["rocm", "cpu", "xpu"]: repeated and comma-separated values alike."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def fail(message: str) -> typer.Exit:
    err.print(f"[bold red]cudaudit: error:[/] {markup_safe(message)}", highlight=False)
    return typer.Exit(EXIT_ERROR)


def session_or_exit(
    paths, target, select, ignore, config, jobs, torch_version=None, no_cache=False, show_portable=False
) -> ScanSession:
    """The scan session for the shared options, or exit 2 with the usage error."""
    try:
        session = open_session(paths, split_values(target), split_values(select), split_values(ignore), config, jobs,
                               torch_version, no_cache, show_portable)
    except UsageError as exc:
        raise fail(str(exc)) from None
    if session.skipped:
        err.print(f"[yellow]cudaudit: skipped: {markup_safe(not_read(session.skipped))}[/]", highlight=False)
    return session


def print_errors(result: ScanResult) -> None:
    for error in result.errors:
        err.print(error_markup(error), highlight=False)
