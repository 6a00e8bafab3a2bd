"""The `cudaudit` command line.

Exit codes: 0 no findings, 1 findings (or files that could not be analysed),
2 usage, configuration or internal errors.
"""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cudaudit import __version__
from cudaudit.config import Config, ConfigError, find_config, load_config, parse_targets
from cudaudit.discovery import Excludes, discover
from cudaudit.engine import scan
from cudaudit.firstparty import first_party_modules
from cudaudit.model import TARGETS, ScanResult
from cudaudit.reporters.json_report import render_json
from cudaudit.reporters.text import render_text
from cudaudit.ruledocs import reference_markdown, rule_markdown
from cudaudit.rules.catalog import Catalog, load_catalog
from cudaudit.selection import RuleSelection, SelectionError
from cudaudit.settings import AnalysisSettings

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
PROGRESS_MIN_FILES = 200

app = typer.Typer(
    name="cudaudit",
    help="Find CUDA lock-in in ML code and say what each target (ROCm, CPU, XPU, MPS) needs.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


class ReportFormat(str, Enum):
    text = "text"
    json = "json"


class RulesFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


def _version(value: bool) -> None:
    if value:
        print(f"cudaudit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Find CUDA lock-in in ML code and say what each target (ROCm, CPU, XPU, MPS) needs."""


def _split(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]cudaudit: error:[/] {message}", highlight=False)
    return typer.Exit(EXIT_ERROR)


SCAN_EXAMPLES = """[bold]Examples[/]

  cudaudit scan                        the current folder
  cudaudit scan src/ train.py -t rocm  only ask about ROCm
  cudaudit scan -f json -o gaps.json   machine-readable report
  cudaudit scan --select CDA1 --ignore CDA111
"""


@app.command("scan", epilog=SCAN_EXAMPLES)
def scan_command(
    paths: Annotated[
        Optional[list[Path]],
        typer.Argument(help="Files or folders to scan (default: the current folder).", show_default=False),
    ] = None,
    format: Annotated[ReportFormat, typer.Option("--format", "-f", help="Report format.")] = ReportFormat.text,
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Write the report to this file instead of stdout.")
    ] = None,
    target: Annotated[
        Optional[list[str]],
        typer.Option(
            "--target",
            "-t",
            help=f"Target backends to check, comma-separated: {', '.join(TARGETS)}. \\[default: rocm,cpu, or the config's]",
            show_default=False,
        ),
    ] = None,
    select: Annotated[
        Optional[list[str]],
        typer.Option(help="Only these rules: ids or prefixes, comma-separated (CDA1, CDA203).", show_default=False),
    ] = None,
    ignore: Annotated[
        Optional[list[str]],
        typer.Option(help="Skip these rules: ids or prefixes, comma-separated; adds to the config's.", show_default=False),
    ] = None,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when there are findings.")] = False,
    show_sources: Annotated[
        bool, typer.Option("--show-sources", help="In the text report, say where each per-target fact comes from.")
    ] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=0, help="Worker processes; 0 uses every core.")] = 0,
    config: Annotated[
        Optional[Path],
        typer.Option(
            help="pyproject.toml to read \\[tool.cudaudit] from. \\[default: the nearest one above the first path]"
        ),
    ] = None,
) -> None:
    """Scan files for CUDA lock-in and report what each target needs.

    Python files are analysed statically: never imported or run. Inside a git checkout the files git ignores are skipped.

    Exit status: 0 no findings, 1 findings or files that could not be analysed, 2 usage or internal error.
    """
    paths = paths or [Path(".")]
    missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise _fail(f"no such file or folder: {missing[0]}")
    try:
        settings = load_config(config or find_config(paths[0]), Path.cwd())
        if config is not None and settings.source is None:
            raise ConfigError(f"{config}: no [tool.cudaudit] table")
        targets = parse_targets(_split(target)) if target else settings.targets
        catalog = load_catalog()
        selection = RuleSelection.build(
            catalog,
            select=_split(select) or list(settings.select),
            ignore=[*settings.ignore, *_split(ignore)],
            per_file_ignores=settings.per_file_ignores,
            root=settings.root,
        )
    except (ConfigError, SelectionError) as exc:
        raise _fail(str(exc)) from None
    try:
        result = _run_scan(paths, settings, selection, targets, jobs or os.cpu_count() or 1)
        _report(result, format, output, targets, catalog, show_sources)
    except OSError as exc:
        raise _fail(f"cannot write {exc.filename}: {exc.strerror}") from None
    except Exception as exc:  # noqa: BLE001 - no traceback reaches the user
        raise _fail(f"internal error: {type(exc).__name__}: {exc}; please report it") from None
    if exit_zero or (not result.findings and not result.errors):
        raise typer.Exit(EXIT_CLEAN)
    raise typer.Exit(EXIT_FINDINGS)


def _run_scan(
    paths: list[Path], settings: Config, selection: RuleSelection, targets: tuple[str, ...], jobs: int
) -> ScanResult:
    candidates, discovery_errors = discover(paths, Excludes.from_patterns(settings.root, list(settings.exclude)))
    analysis = AnalysisSettings(targets, first_party_modules([settings.root, Path.cwd(), *paths]))
    if err.is_terminal and len(candidates) >= PROGRESS_MIN_FILES:
        columns = (TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task("scan", total=len(candidates))
            result = scan(
                candidates, selection.rules_for, analysis, jobs, lambda done, _: progress.update(task, completed=done)
            )
    else:
        result = scan(candidates, selection.rules_for, analysis, jobs)
    result.errors[:0] = discovery_errors
    return result


def _report(
    result: ScanResult,
    format: ReportFormat,
    output: Path | None,
    targets: tuple[str, ...],
    catalog: Catalog,
    show_sources: bool,
) -> None:
    if format is ReportFormat.json:
        text = render_json(result, targets)
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8")
        return
    for error in result.errors:
        where = f"{error.path}:{error.line}" if error.line else error.path
        err.print(f"[yellow]cudaudit: {where}: {error.message}[/]", highlight=False)
    if output is None:
        render_text(result, targets, catalog, Console(soft_wrap=True), show_sources)
    else:
        with output.open("w", encoding="utf-8") as handle:
            render_text(result, targets, catalog, Console(file=handle, soft_wrap=True), show_sources)


@app.command("rules")
def rules_command(
    format: Annotated[RulesFormat, typer.Option("--format", "-f", help="Listing format.")] = RulesFormat.text,
) -> None:
    """List every rule: id, name and what it finds. `--format markdown` prints docs/rules.md."""
    catalog = load_catalog()
    if format is RulesFormat.markdown:
        sys.stdout.write(reference_markdown(catalog))
    elif format is RulesFormat.json:
        listing = [{"id": r.id, "name": r.name, "summary": r.summary} for r in catalog.rules.values()]
        sys.stdout.write(json.dumps(listing, indent=2) + "\n")
    else:
        table = Table(box=None, pad_edge=False, show_header=True)
        for column in ("id", "name", "what it finds"):
            table.add_column(column, overflow="fold")
        for rule in catalog.rules.values():
            table.add_row(rule.id, rule.name, rule.summary)
        Console().print(table, highlight=False)


@app.command("rule")
def rule_command(rule_id: Annotated[str, typer.Argument(help="A rule id, e.g. CDA101.")]) -> None:
    """Explain one rule: what it finds, why, the per-target mapping with sources, examples."""
    catalog = load_catalog()
    rule = catalog.rules.get(rule_id.upper())
    if rule is None:
        raise _fail(f"no rule {rule_id!r}; `cudaudit rules` lists them")
    Console().print(Markdown(rule_markdown(rule)))
