"""`cudaudit scan`: analyse files and report the findings in one of four formats."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from cudaudit.baseline import BaselineError, new_findings
from cudaudit.baseline import write_baseline as write_baseline_file
from cudaudit.commands.options import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    ConfigPath,
    Ignore,
    Jobs,
    NoCache,
    Paths,
    Select,
    ShowPortable,
    Targets,
    err,
    fail,
    print_errors,
    report_console,
    session_or_exit,
)
from cudaudit.model import ScanResult, Severity
from cudaudit.printable import markup_safe
from cudaudit.reporters.summary import count_phrase, scope_phrase, summarize
from cudaudit.session import ScanSession, UsageError, run_scan, scan_buffer

if TYPE_CHECKING:
    from cudaudit.assessment.model import Assessment, TargetVerdict

# Each reporter is imported where it is used, SARIF (sarif-om) and the text report (rich) among
# them: a scan, run on every commit by the pre-commit hook, starts faster without what it does not print.


class ReportFormat(str, Enum):
    text = "text"
    concise = "concise"
    summary = "summary"
    json = "json"
    sarif = "sarif"
    github = "github"


STATISTICS_FORMATS = (ReportFormat.text, ReportFormat.concise, ReportFormat.json)


@dataclass(frozen=True)
class TextDetail:
    """What the text report shows beyond one line per finding."""

    verbose: bool = False
    show_sources: bool = False
    project: bool = False
    """The scan covered a folder, so the report closes with the project's verdict per target."""
    verdicts: Mapping[str, TargetVerdict] | None = None


class FailOn(str, Enum):
    note = "note"
    warning = "warning"
    error = "error"


DEFAULT_FAIL_ON = FailOn.warning
"""The one default threshold of the CLI, the pre-commit hook and the Action: warnings and errors
fail (they break a target), notes never do (guarded or merely CUDA-flavoured code, and what
`cudaudit fix` writes)."""


EXAMPLES = """[bold]Examples[/]

  cudaudit scan                        the current folder
  cudaudit scan src/ train.py -t rocm  only ask about ROCm
  cudaudit scan -f concise             one line per finding: path:line:col: RULE message
  cudaudit scan --statistics           how many findings each rule has
  cudaudit scan -f summary             the totals only
  cudaudit scan -f json -o gaps.json   machine-readable report
  cudaudit scan --select CDA1 --ignore CDA111
  cudaudit scan -f sarif -o cudaudit.sarif   for GitHub code scanning
  cudaudit scan -f github --sarif-output x.sarif --markdown-output summary.md   one scan, three reports (CI)
  cudaudit scan --write-baseline .cudaudit-baseline.json   accept today's findings
  cudaudit scan --baseline .cudaudit-baseline.json         then report only new ones
  cudaudit scan -f concise --stdin-filename src/train.py < buffer.py   an editor's unsaved buffer
"""


def scan_command(
    paths: Paths = None,
    format: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            "-f",
            help="Report format: text (findings by file, then the verdict per target; --verbose for each "
            "finding's source line and per-target needs), concise (one line per finding: path:line:col: RULE "
            "message), summary (totals only), json, sarif, github (workflow annotations).",
        ),
    ] = ReportFormat.text,
    statistics: Annotated[
        bool,
        typer.Option("--statistics", help="Print how many findings each rule has, instead of the findings (text or json)."),
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file instead of stdout.")
    ] = None,
    target: Targets = None,
    select: Select = None,
    ignore: Ignore = None,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when there are findings.")] = False,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 only for findings at least this severe; notes never fail by default.")
    ] = DEFAULT_FAIL_ON,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Report only findings that are not in this baseline file.")
    ] = None,
    write_baseline: Annotated[
        Path | None, typer.Option("--write-baseline", help="Record the current findings as the baseline in this file.")
    ] = None,
    sarif_output: Annotated[
        Path | None,
        typer.Option("--sarif-output", help="Also write the SARIF report to this file, from the same scan.", show_default=False),
    ] = None,
    markdown_output: Annotated[
        Path | None,
        typer.Option(
            "--markdown-output",
            help="Also write the one-page Markdown report (`cudaudit report`), with the finding counts, to this file.",
            show_default=False,
        ),
    ] = None,
    sarif_category: Annotated[
        str, typer.Option("--sarif-category", help="SARIF automationDetails category, to tell several uploads apart.")
    ] = "cudaudit",
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="In the text report, show each finding's source line, what every target "
                     "needs, and the totals by rule and by target."),
    ] = False,
    show_sources: Annotated[
        bool, typer.Option("--show-sources", help="As --verbose, and say where each per-target fact comes from.")
    ] = False,
    stdin_filename: Annotated[
        Path | None,
        typer.Option(
            "--stdin-filename",
            help="Read the source from standard input and report it as this file (for editors: its kind, "
            "configuration and per-file rules follow the name; the file itself is not read).",
            show_default=False,
        ),
    ] = None,
    show_portable: ShowPortable = False,
    jobs: Jobs = 0,
    no_cache: NoCache = False,
    config: ConfigPath = None,
) -> None:
    """Scan files for CUDA lock-in and report what each target needs.

    Sources are analysed statically: never imported or run. Inside a git checkout the files git ignores are skipped.

    Exit status: 0 no findings at --fail-on (default: warning) or above, 1 such findings or files that could not be analysed, 2 usage or internal error.
    """
    if statistics and format not in STATISTICS_FORMATS:
        raise fail(f"--statistics prints counts as text or json, not as {format.value}")
    if stdin_filename is not None and paths and paths != [Path("-")]:
        raise fail("--stdin-filename reads standard input: give no paths (or -)")
    if stdin_filename is not None:
        folder = stdin_filename.absolute().parent
        paths = [folder if folder.is_dir() else Path(".")]
    session = session_or_exit(paths, target, select, ignore, config, jobs, no_cache=no_cache, show_portable=show_portable)
    try:
        if stdin_filename is not None:
            result = scan_buffer(session, stdin_filename, sys.stdin.buffer.read())
        else:
            result = run_scan(session, err)
        if write_baseline is not None:  # what was asked for: the findings it records are accepted, not reported
            write_baseline_file(write_baseline, result.findings, result.buffers)
            err.print(f"cudaudit: wrote {len(result.findings)} finding(s) to the baseline {write_baseline}; "
                      f"scans with --baseline {write_baseline} report only new ones", markup=False, highlight=False)
        else:
            detail = TextDetail(verbose, show_sources, project=stdin_filename is None and any(p.is_dir() for p in session.paths))
            _report_all(result, session, format, statistics, baseline, output, sarif_output, markdown_output,
                        sarif_category, detail)
    except (BaselineError, UsageError) as exc:
        raise fail(str(exc)) from None
    except BrokenPipeError:  # `cudaudit scan | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
    except OSError as exc:
        raise fail(f"cannot write {exc.filename}: {exc.strerror}") from None
    except Exception as exc:  # noqa: BLE001 - no traceback reaches the user
        raise fail(f"internal error: {type(exc).__name__}: {exc}; please report it") from None
    if write_baseline is not None:
        raise typer.Exit(EXIT_CLEAN)
    threshold = Severity(fail_on.value)
    failing = result.errors or any(f.severity.rank >= threshold.rank for f in result.findings)
    raise typer.Exit(EXIT_FINDINGS if failing and not exit_zero else EXIT_CLEAN)


def _report_all(
    result: ScanResult,
    session: ScanSession,
    format: ReportFormat,
    statistics: bool,
    baseline: Path | None,
    output: Path | None,
    sarif_output: Path | None,
    markdown_output: Path | None,
    sarif_category: str,
    detail: TextDetail,
) -> None:
    """Every report one scan was asked for, after the baseline's known findings are taken out. The
    project is assessed once, on what is reported: the verdicts closing a folder's text report and
    the one-page Markdown then say the same."""
    if baseline is not None:
        known = len(result.findings)
        result.findings = new_findings(baseline, result.findings, result.buffers)
        err.print(f"cudaudit: the baseline {baseline} hid {known - len(result.findings)} known finding(s)",
                  markup=False, highlight=False)
    closing_verdicts = format is ReportFormat.text and not statistics and detail.project
    assessment = None
    if closing_verdicts or markdown_output is not None:
        from cudaudit.commands.report import assessment_of

        assessment = assessment_of(result, session)
    if closing_verdicts and assessment is not None:
        detail = replace(detail, verdicts=assessment.targets)
    if format in (ReportFormat.text, ReportFormat.concise, ReportFormat.summary):
        print_errors(result)
    with _destination(output) as stream:
        _report(result, session, format, statistics, sarif_category, detail, stream)
    if sarif_output is not None:
        with _destination(sarif_output) as stream:
            _report(result, session, ReportFormat.sarif, False, sarif_category, detail, stream)
    if markdown_output is not None:
        with _destination(markdown_output) as stream:
            stream.write(_markdown_summary(result, session, assessment))
    summary = summarize(result, session.targets)
    for written in (path for path in (output, sarif_output, markdown_output) if path is not None):
        err.print(f"cudaudit: wrote {written}: {count_phrase(summary)} {scope_phrase(summary)}", markup=False, highlight=False)


def _report(
    result: ScanResult,
    session: ScanSession,
    format: ReportFormat,
    statistics: bool,
    sarif_category: str,
    detail: TextDetail,
    stream: TextIO,
) -> None:
    """Write the report in `format` to `stream`."""
    if statistics:
        from cudaudit.reporters.statistics import render_statistics, render_statistics_json

        render = render_statistics_json if format is ReportFormat.json else render_statistics
        stream.write(render(result, session.catalog))
    elif format is ReportFormat.json:
        from cudaudit.reporters.json_report import write_json

        write_json(result, session.targets, stream)
    elif format is ReportFormat.sarif:
        from cudaudit.reporters.sarif import render_sarif

        warn = lambda message: err.print(f"[yellow]cudaudit: {markup_safe(message)}[/]")  # noqa: E731
        stream.write(render_sarif(result, session.catalog, session.targets, sarif_category, warn))
    elif format is ReportFormat.github:
        from cudaudit.reporters.github import render_github

        stream.write(render_github(result))
    elif format is ReportFormat.concise:
        from cudaudit.reporters.concise import render_concise

        stream.write(render_concise(result, session.targets))
    elif format is ReportFormat.summary:
        from cudaudit.reporters.text import render_summary

        render_summary(result, session.targets, session.catalog, report_console(stream))
    else:
        from cudaudit.reporters.text import render_text

        render_text(result, session.targets, session.catalog, report_console(stream), detail.show_sources, detail.verbose,
                    detail.verdicts)


def _markdown_summary(result: ScanResult, session: ScanSession, assessment: Assessment | None) -> str:
    """The one-page report, then the counts a CI job summary needs beside it."""
    from cudaudit.commands.report import render_assessment

    summary = summarize(result, session.targets)
    by_rule = ", ".join(f"{rule} ×{count}" for rule, count in summary["by_rule"].items())
    counts = f"**{count_phrase(summary)}** {scope_phrase(summary)}" + (f" By rule: {by_rule}." if by_rule else "")
    return f"{render_assessment(result, session, assessment=assessment)}\n{counts}\n"


@contextmanager
def _destination(output: Path | None) -> Iterator[TextIO]:
    """Where the report goes: the named file (UTF-8), or standard output."""
    if output is None:
        yield sys.stdout
        return
    with output.open("w", encoding="utf-8") as handle:
        yield handle
