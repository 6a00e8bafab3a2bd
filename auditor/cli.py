"""The `cudaudit` command line.

Exit codes: 0 nothing to report, 1 findings (or files that could not be analysed, or with
`fix --diff` changes to make), 2 usage, configuration or internal errors.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

from cudaudit import __version__
from cudaudit.baseline import BaselineError, new_findings
from cudaudit.baseline import write_baseline as write_baseline_file
from cudaudit.model import TARGETS, ScanResult, Severity
from cudaudit.reporters.github import render_github
from cudaudit.reporters.json_report import render_json
from cudaudit.reporters.text import render_text
from cudaudit.ruledocs import reference_markdown, rule_markdown
from cudaudit.rules.catalog import load_catalog
from cudaudit.session import ScanSession, UsageError, open_session, run_scan

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# Fixers (libcst) and SARIF (sarif-om) are imported where they are used: a scan, run on
# every commit by the pre-commit hook, starts in half the time without them.

app = typer.Typer(
    name="cudaudit",
    help="Find CUDA lock-in in ML code and say what each target (ROCm, CPU, XPU, MPS) needs.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)


class ReportFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class FailOn(str, Enum):
    note = "note"
    warning = "warning"
    error = "error"


class RulesFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


Paths = Annotated[
    Optional[list[Path]],
    typer.Argument(help="Files or folders (default: the current folder).", show_default=False),
]
Targets = Annotated[
    Optional[list[str]],
    typer.Option(
        "--target",
        "-t",
        help=f"Target backends, comma-separated: {', '.join(TARGETS)}. \\[default: rocm,cpu, or the config's]",
        show_default=False,
    ),
]
Select = Annotated[
    Optional[list[str]],
    typer.Option(help="Only these rules: ids or prefixes, comma-separated (CDA1, CDA203).", show_default=False),
]
Ignore = Annotated[
    Optional[list[str]],
    typer.Option(help="Skip these rules: ids or prefixes, comma-separated; adds to the config's.", show_default=False),
]
Jobs = Annotated[int, typer.Option("--jobs", "-j", min=0, help="Worker processes; 0 uses every core.")]
ConfigPath = Annotated[
    Optional[Path],
    typer.Option(
        "--config", help="pyproject.toml to read \\[tool.cudaudit] from. \\[default: the nearest one above the first path]"
    ),
]


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


def _session(paths, target, select, ignore, config, jobs, torch_version=None) -> ScanSession:  # noqa: ANN001
    try:
        return open_session(paths, _split(target), _split(select), _split(ignore), config, jobs, torch_version)
    except UsageError as exc:
        raise _fail(str(exc)) from None


def _print_errors(result: ScanResult) -> None:
    for error in result.errors:
        where = f"{error.path}:{error.line}" if error.line else error.path
        err.print(f"[yellow]cudaudit: {where}: {error.message}[/]", highlight=False)


SCAN_EXAMPLES = """[bold]Examples[/]

  cudaudit scan                        the current folder
  cudaudit scan src/ train.py -t rocm  only ask about ROCm
  cudaudit scan -f json -o gaps.json   machine-readable report
  cudaudit scan --select CDA1 --ignore CDA111
  cudaudit scan -f sarif -o cudaudit.sarif   for GitHub code scanning
  cudaudit scan --write-baseline .cudaudit-baseline.json   accept today's findings
  cudaudit scan --baseline .cudaudit-baseline.json         then report only new ones
"""


@app.command("scan", epilog=SCAN_EXAMPLES)
def scan_command(
    paths: Paths = None,
    format: Annotated[ReportFormat, typer.Option("--format", "-f", help="Report format.")] = ReportFormat.text,
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Write the report to this file instead of stdout.")
    ] = None,
    target: Targets = None,
    select: Select = None,
    ignore: Ignore = None,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when there are findings.")] = False,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 only for findings at least this severe.")
    ] = FailOn.note,
    baseline: Annotated[
        Optional[Path], typer.Option("--baseline", help="Report only findings that are not in this baseline file.")
    ] = None,
    write_baseline: Annotated[
        Optional[Path], typer.Option("--write-baseline", help="Record the current findings as the baseline in this file.")
    ] = None,
    sarif_category: Annotated[
        str, typer.Option("--sarif-category", help="SARIF automationDetails category, to tell several uploads apart.")
    ] = "cudaudit",
    show_sources: Annotated[
        bool, typer.Option("--show-sources", help="In the text report, say where each per-target fact comes from.")
    ] = False,
    jobs: Jobs = 0,
    config: ConfigPath = None,
) -> None:
    """Scan files for CUDA lock-in and report what each target needs.

    Sources are analysed statically: never imported or run. Inside a git checkout the files git ignores are skipped.

    Exit status: 0 no findings (at --fail-on or above), 1 findings or files that could not be analysed, 2 usage or internal error.
    """
    session = _session(paths, target, select, ignore, config, jobs)
    try:
        result = run_scan(session, err)
        if write_baseline is not None:
            write_baseline_file(write_baseline, result.findings)
            err.print(f"cudaudit: wrote {len(result.findings)} finding(s) to the baseline {write_baseline}")
        if baseline is not None:
            result.findings = new_findings(baseline, result.findings)
        if format is ReportFormat.json:
            _write(render_json(result, session.targets), output)
        elif format is ReportFormat.sarif:
            from cudaudit.reporters.sarif import render_sarif

            warn = lambda message: err.print(f"[yellow]cudaudit: {message}[/]")  # noqa: E731
            _write(render_sarif(result, session.catalog, session.targets, sarif_category, warn), output)
        elif format is ReportFormat.github:
            _write(render_github(result), output)
        else:
            _print_errors(result)
            if output is None:
                render_text(result, session.targets, session.catalog, Console(soft_wrap=True), show_sources)
            else:
                with output.open("w", encoding="utf-8") as handle:
                    console = Console(file=handle, soft_wrap=True)
                    render_text(result, session.targets, session.catalog, console, show_sources)
    except BaselineError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"cannot write {exc.filename}: {exc.strerror}") from None
    except Exception as exc:  # noqa: BLE001 - no traceback reaches the user
        raise _fail(f"internal error: {type(exc).__name__}: {exc}; please report it") from None
    threshold = Severity(fail_on.value)
    failing = result.errors or any(f.severity.rank >= threshold.rank for f in result.findings)
    raise typer.Exit(EXIT_FINDINGS if failing and not exit_zero else EXIT_CLEAN)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


FIX_EXAMPLES = """[bold]Examples[/]

  cudaudit fix --diff                  show what would change, write nothing
  cudaudit fix                         apply the safe fixes
  cudaudit fix --unsafe-fixes src/     also the fixes that need a review
  cudaudit fix -t cpu --unsafe-fixes   also requirements and images, for CPU
  cudaudit fix --branch cudaudit/fixes --pr-body pr.md --open-pr
"""


@app.command("fix", epilog=FIX_EXAMPLES)
def fix_command(
    paths: Paths = None,
    unsafe_fixes: Annotated[
        bool, typer.Option("--unsafe-fixes", help="Also apply fixes that may change behaviour on CUDA (review them).")
    ] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff and write nothing.")] = False,
    torch_version: Annotated[
        Optional[str],
        typer.Option(
            help="The oldest PyTorch the code must run on, which decides the APIs fixes use. "
            "\\[default: read from requirements, pyproject.toml or a lock file]"
        ),
    ] = None,
    branch: Annotated[
        Optional[str],
        typer.Option(help="Commit the fixes on this new branch (from HEAD), leaving your working tree as it is."),
    ] = None,
    pr_body: Annotated[
        Optional[Path], typer.Option(help="With --branch: write the pull request description (Markdown) here.")
    ] = None,
    commit_message: Annotated[Optional[str], typer.Option(help="With --branch: the commit message.")] = None,
    open_pr: Annotated[
        bool, typer.Option("--open-pr", help="With --branch: push it and open a pull request with gh, if installed.")
    ] = False,
    allow_dirty: Annotated[
        bool, typer.Option("--allow-dirty", help="With --branch: go ahead although the working tree has changes.")
    ] = False,
    target: Targets = None,
    select: Select = None,
    ignore: Ignore = None,
    jobs: Jobs = 0,
    config: ConfigPath = None,
) -> None:
    """Rewrite CUDA-only code into device-agnostic PyTorch that still runs the same on CUDA.

    Safe fixes keep a CUDA machine's behaviour exactly; unsafe ones (for example `.cuda()` on an object that may not be a tensor) apply only with --unsafe-fixes. Requirements files, pyproject.toml and Dockerfiles are rewritten only for one named target (--target rocm or --target cpu), as unsafe fixes. Files are written atomically, with their encoding, newlines and permissions kept; a file whose result would not parse is left alone.

    Exit status: 0 nothing left to fix or report, 1 findings remain (or, with --diff, there are changes), 2 usage or internal error.
    """
    from cudaudit.fixers.run import run_fixes
    from cudaudit.reporters.fix_text import render_fix_summary

    if branch is not None:
        _fix_on_branch(paths, branch, unsafe_fixes, pr_body, commit_message, open_pr, allow_dirty, torch_version,
                       target, select, ignore, config, jobs)
    session = _session(paths, target, select, ignore, config, jobs, torch_version)
    try:
        result = run_scan(session, err)
        report = run_fixes(result, unsafe_fixes, session.torch_version, write=not diff, targets=session.targets)
    except Exception as exc:  # noqa: BLE001 - no traceback reaches the user
        raise _fail(f"internal error: {type(exc).__name__}: {exc}; please report it") from None
    if diff:
        sys.stdout.write("".join(report.diffs))
    render_fix_summary(report, diff, Console(stderr=diff, soft_wrap=True))
    if diff:
        raise typer.Exit(EXIT_FINDINGS if report.changed else EXIT_CLEAN)
    raise typer.Exit(EXIT_FINDINGS if report.remaining or report.errors else EXIT_CLEAN)


def _fix_on_branch(
    paths, branch, unsafe, pr_body, commit_message, open_pr, allow_dirty, torch_version, target, select, ignore, config, jobs
) -> None:  # noqa: ANN001 - the fix command's own options, passed through
    """`fix --branch`: fix in a worktree of HEAD on a new branch, commit, write the PR text, exit."""
    from cudaudit.fixers.branch import BranchError, fix_on_branch, open_pr_command
    from cudaudit.fixers.branch import open_pr as open_pull_request
    from cudaudit.fixers.run import FixReport, run_fixes
    from cudaudit.reporters.fix_text import render_fix_summary
    from cudaudit.reporters.pr_body import render_pr_body

    relative = [Path(os.path.relpath(p)) for p in paths or [Path(".")]]
    box: dict[str, ScanSession] = {}

    def scan() -> ScanResult:
        box["session"] = _session(relative, target, select, ignore, config, jobs, torch_version)
        return run_scan(box["session"], err)

    def fix(result: ScanResult) -> FixReport:
        return run_fixes(result, unsafe, box["session"].torch_version, write=True, targets=box["session"].targets)

    try:
        outcome = fix_on_branch(branch, allow_dirty, commit_message, scan, fix)
    except BranchError as exc:
        raise _fail(str(exc)) from None
    if outcome.commit is None:
        err.print(f"nothing to fix automatically; branch {branch!r} not created")
        raise typer.Exit(EXIT_CLEAN)
    body = render_pr_body(outcome, box["session"].targets)
    body_file = pr_body or Path(tempfile.mkdtemp(prefix="cudaudit-")) / "pr-body.md"
    body_file.write_text(body, encoding="utf-8")
    render_fix_summary(outcome.report, False, err)
    err.print(f"committed {outcome.commit[:12]} on branch {branch}; pull request text in {body_file}")
    if open_pr and not open_pull_request(outcome, body_file):
        commands = "\n".join("  " + shlex.join(c) for c in open_pr_command(outcome, body_file))
        err.print(f"gh is not installed; to open the pull request run:\n{commands}", highlight=False)
    raise typer.Exit(EXIT_CLEAN)


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
