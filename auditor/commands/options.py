"""What the commands share: path, target and rule options, errors, exit codes.

They live here rather than in `cli.py` because `cli.py` imports every command to register it;
a command importing `cli.py` back would make the two modules a cycle.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from cudaudit.model import TARGETS, ScanResult
from cudaudit.printable import markup_safe
from cudaudit.session import ScanSession, UsageError, not_read, open_session

if TYPE_CHECKING:
    from rich.console import Console

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _StandardError:
    """Standard error as a rich console, made on first use: rich takes about a fifth of cudaudit's
    start-up, and a scan that reports JSON with nothing to say on standard error never needs it.

    Whether it is a terminal (`is_terminal`, asked before a progress bar) is answered without
    rich when standard error is no terminal at all: a bar is never shown in a log or a pipe."""

    _console: Console | None = None

    @property
    def is_terminal(self) -> bool:
        if self._console is None and not sys.stderr.isatty():
            return False
        return self._made().is_terminal

    def __getattr__(self, name: str) -> Any:
        return getattr(self._made(), name)

    def __enter__(self) -> Console:  # a progress bar holds the console while it draws
        return self._made().__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        self._made().__exit__(*exc_info)

    def _made(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True, soft_wrap=True)
        return self._console


err: Console = _StandardError()  # type: ignore[assignment]  # a Console in every way that is used

UNLIMITED_WIDTH = 1_000_000
"""Report width when the output is not a terminal: a file, a pipe or a CI log has no edge, so a
table is never cut or folded at rich's default of 80 columns."""


def report_console(file: TextIO | None = None) -> Console:
    """A console for a report: the terminal's width on a terminal, no limit anywhere else."""
    from rich.console import Console

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
    from cudaudit.reporters.text import error_markup

    for error in result.errors:
        err.print(error_markup(error), highlight=False)
