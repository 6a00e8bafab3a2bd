"""Everything `scan` and `fix` share: settings from config and options, and running the scan."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from cudaudit.analyzers import supported
from cudaudit.cache import Cache, CacheLocationError, cache_folder
from cudaudit.config import Config, ConfigError, find_config, load_config, parse_targets
from cudaudit.discovery import Candidate, Excludes, discover, named_file_kinds
from cudaudit.engine import FileTask, analyze_bytes, display_path, scan
from cudaudit.filekinds import BENCHMARK_DIRS, TEST_DIRS, classify
from cudaudit.firstparty import first_party_modules
from cudaudit.model import ScanResult
from cudaudit.progress import progress_bar
from cudaudit.project_index import CONTEXT_KINDS, IndexedFile, build_index
from cudaudit.project_roots import project_prefixes, scope
from cudaudit.resolvers.variants import single_target
from cudaudit.rules.catalog import Catalog, load_catalog
from cudaudit.selection import RuleSelection, SelectionError
from cudaudit.settings import AnalysisSettings
from cudaudit.verdicts import is_portable

if TYPE_CHECKING:
    from rich.console import Console

PROGRESS_MIN_FILES = 200


class UsageError(ValueError):
    """Options or configuration that cannot work together; the message says which and why."""


@dataclass(frozen=True)
class ScanSession:
    paths: list[Path]
    config: Config
    catalog: Catalog
    selection: RuleSelection
    analysis: AnalysisSettings
    jobs: int
    skipped: tuple[Path, ...] = ()
    """Files named on the command line that are of no kind cudaudit reads."""
    cache: Cache | None = None
    """Where what earlier runs computed is reused; None with `--no-cache`."""
    show_portable: bool = False
    """Report sites that work on every requested target too (`--show-portable`)."""

    @property
    def targets(self) -> tuple[str, ...]:
        return self.analysis.targets

    @property
    def torch_version(self) -> Version | None:
        return Version(self.analysis.torch_version) if self.analysis.torch_version else None


def open_session(
    paths: list[Path] | None,
    targets: list[str],
    select: list[str],
    ignore: list[str],
    config_path: Path | None,
    jobs: int,
    torch_version: str | None = None,
    no_cache: bool = False,
    show_portable: bool = False,
) -> ScanSession:
    """Resolve paths, configuration and options; raise UsageError for anything unusable."""
    paths = paths or [Path(".")]
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    if missing:
        raise UsageError(f"no such file or folder: {missing[0]}")
    skipped = tuple(p for p in paths if not p.is_dir() and not any(supported(k) for k in named_file_kinds(p, [])))
    if len(skipped) == len(paths):
        raise UsageError(f"nothing to scan: {not_read(skipped)}")
    try:
        config = load_config(config_path or find_config(paths[0]), Path.cwd())
        if config_path is not None and config.source is None:
            raise ConfigError(f"{config_path}: no [tool.cudaudit] table")
        cache = None if no_cache else Cache(cache_folder(config.cache_dir, config.root))
        catalog = load_catalog(cache.catalog if cache else None)
        _check_configured_rules(config, catalog)
        selection = RuleSelection.build(
            catalog,
            select=select or list(config.select),
            ignore=[*config.ignore, *ignore],
            per_file_ignores=config.per_file_ignores,
            root=config.root,
        )
        chosen_targets = parse_targets(targets) if targets else config.targets
    except (ConfigError, SelectionError, CacheLocationError) as exc:
        raise UsageError(str(exc)) from None
    version = _torch_version(torch_version)
    plan = None
    if single_target(chosen_targets):  # how tests run matters only to a fix made for one target
        from cudaudit.resolvers.ci_plan import project_plan

        plan = project_plan(config.root)
    analysis = AnalysisSettings(
        chosen_targets,
        first_party_modules([config.root, Path.cwd(), *paths]),
        str(version) if version else None,
        ci_plan=plan,
    )
    return ScanSession(paths, config, catalog, selection, analysis, jobs or os.cpu_count() or 1, skipped, cache, show_portable)


def not_read(paths: tuple[Path, ...]) -> str:
    """Why named files are skipped, naming them and what cudaudit does read."""
    names = ", ".join(str(p) for p in paths)
    verb = "is not a kind of file" if len(paths) == 1 else "are not kinds of file"
    return f"{names} {verb} cudaudit reads ({READ_KINDS})"


READ_KINDS = (
    "Python, notebooks, CUDA C/C++, CMake, requirements, pyproject.toml, setup files, lock files, conda "
    "environments, Dockerfiles, compose, Kubernetes and workflow YAML, shell scripts, Makefiles"
)


def _check_configured_rules(config: Config, catalog: Catalog) -> None:
    """Rule ids in the configuration that name no rule, reported with the file they are in."""
    if config.source is None:
        return
    try:
        RuleSelection.build(catalog, list(config.select), list(config.ignore), config.per_file_ignores, config.root)
    except SelectionError as exc:
        raise ConfigError(f"{config.source}: [tool.cudaudit]: {exc}") from None


def _torch_version(option: str | None) -> Version | None:
    """The --torch-version option; without it the project index reads the project's own pin."""
    if option is None:
        return None
    try:
        return Version(option)
    except InvalidVersion:
        raise UsageError(f"--torch-version {option!r} is not a version; give one like 2.6") from None


def index_context(paths: list[Path], candidates: list[Candidate], excludes: Excludes) -> list[Candidate]:
    """The files the project index must see beside a scan of named files: the other files of the
    kinds whose question spans every file of the kind, in the named files' folders, as a scan of
    those folders would find them.

    pre-commit names only the staged files; "does any workflow run on CPU or ROCm?" (CDA710) is
    asked of the repository's workflows, so the ones not staged are read too, never analysed."""
    named = [p for p in paths if p.is_file() and CONTEXT_KINDS.intersection(classify(p.absolute()))]
    folders = sorted({p.absolute().parent for p in named})
    if not folders:
        return []
    scanned = {c.path for c in candidates}
    found, _ = discover(folders, excludes)
    return [c for c in found if c.path not in scanned and CONTEXT_KINDS.intersection(c.kinds)]


def run_scan(session: ScanSession, progress_console: Console) -> ScanResult:
    """Discover, index and analyse; a progress bar on the console when it is a terminal and the scan is long.

    Sites that work on every requested target are left out unless the session shows them; the
    result counts them."""
    excludes = Excludes.from_patterns(session.config.root, list(session.config.exclude))
    found, discovery_errors = discover(session.paths, excludes, documents=True)
    candidates = [c for c in found if c.kinds]
    rules_for, jobs = session.selection.rules_for, session.jobs
    analysis = _rooted(session.analysis, sorted({str(c.root) for c in candidates}), session.paths)
    documents = [c for c in found if not c.kinds]  # read by the index only: which files the project tells users to run
    context = index_context(session.paths, candidates, excludes) + documents
    with progress_bar(progress_console, "scanning", len(candidates), PROGRESS_MIN_FILES) as on_progress:
        result = scan(candidates, rules_for, analysis, jobs, on_progress, session.config.root, context, session.cache)
    result.errors[:0] = discovery_errors
    return _shown(result, session)


def _rooted(analysis: AnalysisSettings, roots: list[str], named: list[Path]) -> AnalysisSettings:
    """`analysis` for a scan of the `named` paths: the folders its reads stay in (`roots`), and the
    projects' folders."""
    prefixes = project_prefixes(named, Path.cwd(), TEST_DIRS | BENCHMARK_DIRS)
    return replace(analysis, roots=tuple(roots), project_prefixes=prefixes)


def _shown(result: ScanResult, session: ScanSession) -> ScanResult:
    """`result` without the sites that work on every requested target, counted, unless they are shown."""
    if not session.show_portable:
        shown = [f for f in result.findings if not is_portable(f)]
        result.hidden = [f for f in result.findings if is_portable(f)]
        result.portable_hidden = len(result.hidden)
        result.findings = shown
    return result


def scan_buffer(session: ScanSession, name: Path, data: bytes) -> ScanResult:
    """A buffer an editor pipes in, analysed as the file `name` would be (which need not exist,
    and is never read): its kinds, its configuration and per-file rules, its path in reports.

    Questions that span files (CDA710 across workflows) are answered from this buffer alone: its
    project index is the buffer's."""
    absolute = name.absolute()
    kinds = tuple(kind for kind in classify(absolute, data[:128]) if supported(kind))
    if not kinds:
        raise UsageError(f"nothing to scan: {not_read((name,))}")
    display = display_path(absolute, Path.cwd())
    task = FileTask(str(absolute), display, kinds, session.selection.rules_for(absolute), str(absolute.parent))
    analysis = _rooted(session.analysis, [str(absolute.parent)], [absolute])
    with scope(analysis.project_prefixes):
        index = build_index([IndexedFile(display, kinds, lambda: data)], session.catalog, analysis.roots)
        findings, errors = analyze_bytes(data, task, analysis, index.facts(display, kinds))
    lines = data.count(b"\n") + (bool(data) and not data.endswith(b"\n"))
    result = ScanResult(sorted(findings, key=lambda f: f.sort_key), errors, files_scanned=1, lines_scanned=lines,
                        paths=[display], buffers={display: data})
    return _shown(result, session)
