"""Everything `scan` and `fix` share: settings from config and options, and running the scan."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.version import InvalidVersion, Version
from rich.console import Console

from cudaudit.analyzers import summariser, supported
from cudaudit.cache import Cache, CacheLocationError, cache_folder
from cudaudit.config import Config, ConfigError, find_config, load_config, parse_targets
from cudaudit.discovery import Candidate, Excludes, discover, named_file_kinds
from cudaudit.engine import FileTask, analyze_bytes, display_path, scan
from cudaudit.filekinds import FileKind, classify
from cudaudit.firstparty import first_party_modules
from cudaudit.model import ScanResult
from cudaudit.progress import progress_bar
from cudaudit.resolvers.torch_pin import project_torch_version
from cudaudit.resolvers.variants import single_target
from cudaudit.rules.catalog import Catalog, load_catalog
from cudaudit.rules.kernels.preprocessor import project_macros
from cudaudit.selection import RuleSelection, SelectionError
from cudaudit.settings import AnalysisSettings

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
        catalog = load_catalog(cache.parse_toml if cache else None)
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
    version = _torch_version(torch_version, config.root)
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
    return ScanSession(paths, config, catalog, selection, analysis, jobs or os.cpu_count() or 1, skipped, cache)


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


def _torch_version(option: str | None, root: Path) -> Version | None:
    if option is None:
        return project_torch_version(root)
    try:
        return Version(option)
    except InvalidVersion:
        raise UsageError(f"--torch-version {option!r} is not a version; give one like 2.6") from None


def summary_context(paths: list[Path], candidates: list[Candidate], excludes: Excludes) -> list[Candidate]:
    """The files a summariser must see beside a scan of named files: the other files of its kind
    in the named files' folders, as a scan of those folders would find them.

    pre-commit names only the staged files; "does any workflow run on CPU or ROCm?" (CDA710) is
    asked of the repository's workflows, so the ones not staged are read too, never analysed."""
    folders = sorted({p.absolute().parent for p in paths if p.is_file() and any(summariser(k) for k in classify(p.absolute()))})
    if not folders:
        return []
    scanned = {c.path for c in candidates}
    found, _ = discover(folders, excludes)
    return [c for c in found if c.path not in scanned and any(summariser(k) for k in c.kinds)]


def run_scan(session: ScanSession, progress_console: Console) -> ScanResult:
    """Discover and analyse; a progress bar on the console when it is a terminal and the scan is long."""
    excludes = Excludes.from_patterns(session.config.root, list(session.config.exclude))
    candidates, discovery_errors = discover(session.paths, excludes)
    rules_for, jobs = session.selection.rules_for, session.jobs
    analysis = replace(session.analysis, roots=tuple(sorted({str(c.root) for c in candidates})))
    cuda_files = [(str(c.path), str(c.root)) for c in candidates if FileKind.CUDA in c.kinds]
    if cuda_files:  # a header's `#define PTX_AVAILABLE` decides branches in the files that include it
        analysis = replace(analysis, cuda_macros=project_macros(cuda_files))
    context = summary_context(session.paths, candidates, excludes)
    with progress_bar(progress_console, "scanning", len(candidates), PROGRESS_MIN_FILES) as on_progress:
        result = scan(candidates, rules_for, analysis, jobs, on_progress, context)
    result.errors[:0] = discovery_errors
    return result


def scan_buffer(session: ScanSession, name: Path, data: bytes) -> ScanResult:
    """A buffer an editor pipes in, analysed as the file `name` would be (which need not exist,
    and is never read): its kinds, its configuration and per-file rules, its path in reports.

    Questions that span files (CDA710 across workflows) are answered from this buffer alone."""
    absolute = name.absolute()
    kinds = tuple(kind for kind in classify(absolute, data[:128]) if supported(kind))
    if not kinds:
        raise UsageError(f"nothing to scan: {not_read((name,))}")
    display = display_path(absolute, Path.cwd())
    task = FileTask(str(absolute), display, kinds, session.selection.rules_for(absolute), str(absolute.parent))
    analysis = replace(session.analysis, roots=(str(absolute.parent),))
    findings, errors = analyze_bytes(data, task, analysis)
    lines = data.count(b"\n") + (bool(data) and not data.endswith(b"\n"))
    return ScanResult(sorted(findings, key=lambda f: f.sort_key), errors, files_scanned=1, lines_scanned=lines,
                      paths=[display])
