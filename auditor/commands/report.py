"""`cudaudit report`: the one-page answer per target for a project, and `report merge` for a fleet."""

from __future__ import annotations

import json
import posixpath
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cudaudit.commands.options import (
    EXIT_CLEAN,
    ConfigPath,
    Ignore,
    Jobs,
    NoCache,
    Paths,
    Select,
    Targets,
    err,
    fail,
    print_errors,
    session_or_exit,
)
from cudaudit.engine import display_path
from cudaudit.model import Finding, ScanResult, Severity
from cudaudit.session import ScanSession, run_scan

if TYPE_CHECKING:
    from cudaudit.assessment.components import Dependencies
    from cudaudit.assessment.model import Assessment

# The assessment (and through it the resolver and the YAML parser) is imported inside the command:
# every command module loads at start-up, and `cudaudit scan` needs none of it.


class ReportFormat(str, Enum):
    markdown = "markdown"
    html = "html"
    json = "json"


SUFFIX_FORMATS = {".md": ReportFormat.markdown, ".markdown": ReportFormat.markdown, ".html": ReportFormat.html,
                  ".htm": ReportFormat.html, ".json": ReportFormat.json}

EXAMPLES = """[bold]Examples[/]

  cudaudit report                         Markdown for the current folder, on stdout
  cudaudit report src/ -t rocm            only ask about ROCm
  cudaudit report -o cuda-audit.html      one self-contained HTML page (the format follows -o)
  cudaudit report -f json -o audit.json   the JSON contract, for a fleet merge
  cudaudit report merge a.json b.json -o fleet.html   many repositories' JSON reports on one page
"""


def report_command(
    paths: Paths = None,
    format: Annotated[
        ReportFormat | None,
        typer.Option("--format", "-f", help="markdown, html or json. \\[default: from -o's extension, else markdown]",
                     show_default=False),
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")] = None,
    target: Targets = None,
    select: Select = None,
    ignore: Ignore = None,
    project: Annotated[
        str | None, typer.Option("--project", help="The name the report gives the project. \\[default: its folder]",
                                 show_default=False)
    ] = None,
    link_base: Annotated[
        str | None,
        typer.Option("--link-base", help="Link sites in Markdown to this URL + path (a GitHub blob URL at a commit).",
                     show_default=False),
    ] = None,
    jobs: Jobs = 0,
    no_cache: NoCache = False,
    config: ConfigPath = None,
) -> None:
    """Answer the CUDA audit in one page: a verdict per target, the portability checklist, the components.

    `cudaudit report merge A.json B.json ... -o fleet.html` merges the JSON reports of many repositories.

    Exit status: 0 report written, 2 usage or internal error.
    """
    chosen = format or SUFFIX_FORMATS.get(output.suffix.lower() if output else "", ReportFormat.markdown)
    if paths and paths[0] == Path("merge") and not Path("merge").exists():
        _merge(paths[1:], chosen, output)
        raise typer.Exit(EXIT_CLEAN)
    session = session_or_exit(paths, target, select, ignore, config, jobs, no_cache=no_cache)
    try:
        result = run_scan(session, err)
        print_errors(result)
        _write(render_assessment(result, session, chosen, project, link_base), output)
    except OSError as exc:
        raise fail(f"cannot write {exc.filename}: {exc.strerror}") from None
    except Exception as exc:  # noqa: BLE001 - no traceback reaches the user
        raise fail(f"internal error: {type(exc).__name__}: {exc}; please report it") from None
    raise typer.Exit(EXIT_CLEAN)


def render_assessment(
    result: ScanResult,
    session: ScanSession,
    chosen: ReportFormat = ReportFormat.markdown,
    project: str | None = None,
    link_base: str | None = None,
    assessment: Assessment | None = None,
) -> str:
    """The report of one scan's result: `cudaudit report`, and `scan --markdown-output` from the same
    scan (which passes the `assessment` its text report already made)."""
    root = _root(session.paths, result.paths)
    return _render(assessment or assessment_of(result, session, project), chosen, root, link_base)


def assessment_of(result: ScanResult, session: ScanSession, project: str | None = None) -> Assessment:
    """The assessment of one scan's result: what `cudaudit report` renders, and the verdicts that
    close `cudaudit scan`'s text report of a folder."""
    from cudaudit.assessment import assess
    from cudaudit.assessment.components import installs_package
    from cudaudit.assessment.layout import python_area, relative, role_of
    from cudaudit.assessment.model import Role
    from cudaudit.cache import code_fingerprint
    from cudaudit.documented_scripts import (
        documented_modules,
        documented_runs,
        documented_scripts,
        launched_scripts,
        linked_scripts,
        preparation_scripts,
        spelled_scripts,
    )
    from cudaudit.entry_reach import reached_sites
    from cudaudit.reporters.summary import summarize

    root = _root(session.paths, result.paths)
    name = project or Path(root or ".").resolve().name
    scripts = [  # a benchmark a document runs (`python bench.py`) measures the main use, it is none
        path for path in result.paths
        if path.endswith(".py") and python_area(path, root)[1] == "script" and role_of(relative(path, root)) is Role.CORE
    ]
    documented = documented_scripts(root, scripts)
    python = [p for p in result.paths if p.endswith(".py")]
    # in a project of scripts, the modules `python -m` runs are uses too; an installed package's are its tools
    entries = documented if installs_package(result.paths, root) else documented | documented_modules(root, python)
    # where the root documents run nothing, the usage examples a root document links to are the uses
    # shown (`examples/README.md`), but not a benchmark, and only through the project's own core code
    shown = frozenset() if entries else frozenset(
        path for path in linked_scripts(root, python) if role_of(relative(path, root)) is not Role.TOOLING)
    entries |= shown
    sites = {  # an error stops a run; a warning's module a run reaches is imported, no script of its own
        index: (finding.path, finding.span.line) for index, finding in enumerate(result.findings)
        if finding.severity.rank >= Severity.WARNING.rank and finding.cell is None and finding.path.endswith(".py")
    }
    store = session.cache.store("reach", code_fingerprint()) if session.cache is not None else None
    launched = launched_scripts(root, entries, python)
    # a documented download or install script that loads nothing prepares the uses, it is none itself
    libraries = frozenset(table["module"] for _, tables in session.catalog.tables("preparation_library") for table in tables)
    preparing = preparation_scripts(root, sorted(path for path in entries if not launched.get(path)), libraries)
    if entries - preparing:
        entries -= preparing
    runs = entries | {script for launches in launched.values() for script, _ in launches}
    # a module's own level (line 0) is reached where a run imports it
    tops = {path: (path, 0) for path in sorted({path for path, _ in sites.values()})}
    # where the documented runs are the whole use (a project of scripts), a module none imports is off
    # it; what any document runs, in any folder, or an entry starts through a variable counts as run
    whole = bool(entries) and not shown and not installs_package(result.paths, root)
    others = (documented_runs(root, python) | spelled_scripts(root, runs, python)) - runs if whole else frozenset()
    found = reached_sites(runs | others, python, {**sites, **tops}, root, store) if sites and runs else {}
    reached = {script: frozenset(key for key in keys if isinstance(key, int)) for script, keys in found.items() if script in runs}
    imported = (frozenset(key for keys in found.values() for key in keys if isinstance(key, str)) | others
                | _notebook_packages(result.paths, root, python)) if whole else None
    return assess(result, session.targets, session.catalog, name, root,
                  dependency_verdicts(result.findings, session.targets), summarize(result, session.targets),
                  documented, reached, launched, entries, shown, imported)


def _notebook_packages(paths: list[str], root: str, python: list[str]) -> frozenset[str]:
    """The modules of each package folder that a notebook of the project may use, which no run here
    reads: one a notebook sits in, or whose name a notebook spells (`from vox3d.model import Box`)."""
    from cudaudit.assessment.layout import python_area
    from cudaudit.safe_read import UnreadableFile, read_tree_file

    notebooks = [path for path in paths if path.endswith(".ipynb")]
    if not notebooks:
        return frozenset()
    areas = {path: python_area(path, root) for path in python}
    folders = {area for area, kind in areas.values() if kind == "python"}
    used = {folder for folder in folders for notebook in notebooks if notebook.startswith(folder + "/")}
    for notebook in notebooks:
        try:
            data = read_tree_file(notebook, root or ".", head=True)
        except UnreadableFile:
            continue
        used |= {folder for folder in folders - used if posixpath.basename(folder).encode() in data}
    return frozenset(path for path, (area, _) in areas.items() if area in used)


def dependency_verdicts(findings: list[Finding], targets: tuple[str, ...]) -> Dependencies:
    """Checklist question 4 asks whether the resolver can swap a project's CUDA builds cleanly: ask
    it (`cudaudit resolve`'s feasibility verdict) for each dependency file with CUDA-bound findings.
    A file the resolver cannot read is left out; the scan reports it already."""
    from cudaudit.assessment.components import NO_DEPENDENCIES, Dependencies

    if not any(f.rule.startswith("CDA6") for f in findings):
        return NO_DEPENDENCIES  # no dependency file to ask about: the resolver is not even imported
    from cudaudit.resolvers.resolution import ResolveError, feasibility, resolve_kind
    from cudaudit.resolvers.variants import FIX_TARGETS

    files = sorted({f.path for f in findings if f.rule.startswith("CDA6") and resolve_kind(Path(f.path)) is not None})
    verdicts: dict[str, dict[str, list[dict]]] = {}
    for path in files:
        for target in (t for t in targets if t in FIX_TARGETS):
            try:
                verdicts.setdefault(path, {})[target] = feasibility([path], target)
            except (ResolveError, OSError):
                continue
    return Dependencies(verdicts)


def _root(paths: list[Path], scanned: list[str]) -> str:
    """The project's folder as the scan displays paths: the one folder named, else what all share.

    A folder outside the current one is shown as it was given (`../demo/Dockerfile`), not as its
    absolute path: the root is whichever form the scanned paths start with, so that a report of
    `../demo` judges the same components as one made inside it."""
    if len(paths) == 1 and paths[0].is_dir():
        for shown in (display_path(paths[0].resolve(), Path.cwd().resolve()), posixpath.normpath(paths[0].as_posix())):
            shown = "" if shown == "." else shown
            if not shown or all(path.startswith(shown + "/") for path in scanned):
                return shown
    from cudaudit.assessment.layout import project_root

    return project_root(scanned)


def _render(assessment, chosen: ReportFormat, root: str, link_base: str | None) -> str:
    if chosen is ReportFormat.json:
        from cudaudit.reporters.report_json import render_report_json

        return render_report_json(assessment)
    if chosen is ReportFormat.html:
        from cudaudit.reporters.report_html import render_report_html

        return render_report_html(assessment, root)
    from cudaudit.reporters.report_markdown import render_report_markdown

    return render_report_markdown(assessment, root, link_base)


def _merge(inputs: list[Path], chosen: ReportFormat, output: Path | None) -> None:
    if not inputs:
        raise fail("report merge needs the JSON reports to merge: cudaudit report merge a.json b.json -o fleet.html")
    reports = []
    for path in inputs:
        try:
            reports.append((path, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, UnicodeDecodeError) as exc:
            raise fail(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
        except json.JSONDecodeError as exc:
            raise fail(f"{path}: not JSON ({exc.msg} at line {exc.lineno}); give reports written by `cudaudit report -f json`") from None
    from cudaudit.assessment.fleet import FleetError, merge

    try:
        fleet = merge(reports)
    except FleetError as exc:
        raise fail(str(exc)) from None
    from cudaudit.reporters import report_fleet

    if chosen is ReportFormat.json:
        text = report_fleet.render_fleet_json(fleet)
    elif chosen is ReportFormat.html:
        text = report_fleet.render_fleet_html(fleet)
    else:
        text = report_fleet.render_fleet_markdown(fleet)
    try:
        _write(text, output)
    except OSError as exc:
        raise fail(f"cannot write {exc.filename}: {exc.strerror}") from None


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
