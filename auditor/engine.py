"""Scan files: index the project, then read, prefilter, analyse, suppress and settle each file,
in parallel for large trees.

One file never stops the scan: every failure to read or parse becomes a `FileError`
for that file. Scanned code is parsed, never imported or run.

Each file is read once, here in the main process, before the index: the index reads from those
bytes, and a file's digest, with the facts the index gives it, looks its result up in the cache
(`cache.Store`). Only the files whose result is not there travel, with their bytes, to the
analysis (in worker processes when there are enough of them), so a rescan of an unchanged tree
starts no worker. The index's own per-file readings are cached the same way.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from cudaudit.analyzers import ALWAYS_READ, LOOKS_BESIDE, SUPPRESSES_ITSELF, analyzer, decoder, supported
from cudaudit.cache import Cache, Store, code_fingerprint, scan_fingerprint
from cudaudit.discovery import Candidate
from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.filekinds import FileKind
from cudaudit.firstparty import sibling_modules
from cudaudit.model import FileError, Finding, Omitted, ScanResult
from cudaudit.parallel import map_in_chunks
from cudaudit.project_index import IndexedFile, ProjectIndex, build_index
from cudaudit.rules.catalog import load_catalog
from cudaudit.safe_read import UnreadableFile, content_digest, read_tree_file
from cudaudit.settings import AnalysisSettings
from cudaudit.source import UndecodableError, UnparsableError
from cudaudit.suppressions import MARKER, FileSuppressions
from cudaudit.verdicts import settle_file

MAX_FINDINGS_PER_FILE = 1000
"""Findings of one file past this many are counted, not listed (nor sent between processes)."""
CHUNK_SIZE = 32
PARALLEL_THRESHOLD = 2 * CHUNK_SIZE



@dataclass(frozen=True)
class FileTask:
    """One file to analyse: where it is, how to name it in reports, as what, what to report,
    and the root its reads must stay inside."""

    path: str
    display: str
    kinds: tuple[FileKind, ...]
    rules: frozenset[str]
    root: str = "."


@dataclass(frozen=True)
class FileReport:
    findings: list[Finding]
    errors: list[FileError]
    lines: int
    omitted: Omitted | None = None
    digest: str | None = None
    """Of the bytes analysed, when there are findings (`ScanResult.digests`)."""

    def cached(self) -> tuple[object, ...]:
        """The report as a cache entry holds it: plain data of `cudaudit.model`."""
        return (self.findings, self.errors, self.lines, self.omitted, self.digest)

    @classmethod
    def from_cached(cls, entry: object) -> FileReport | None:
        """The report a cache entry holds, or None for an entry of another shape (a foreign one)."""
        if not (isinstance(entry, tuple) and len(entry) == 5):
            return None
        findings, errors, lines, omitted, digest = entry
        if (
            isinstance(findings, list)
            and all(isinstance(f, Finding) for f in findings)
            and isinstance(errors, list)
            and all(isinstance(e, FileError) for e in errors)
            and isinstance(lines, int)
            and (omitted is None or isinstance(omitted, Omitted))
            and (digest is None or isinstance(digest, str))
        ):
            return cls(findings, errors, lines, omitted, digest)
        return None


def analyze_file(task: FileTask, settings: AnalysisSettings, index: ProjectIndex) -> FileReport:
    """Findings for one file, or an error entry saying why it could not be analysed."""
    try:
        data = read_tree_file(task.path, task.root)
    except UnreadableFile as exc:
        return _failed(task, exc.reason)
    return analyze_read(task, data, settings, index.facts(task.display, task.kinds))


def analyze_read(task: FileTask, data: bytes, settings: AnalysisSettings, facts: FileFacts) -> FileReport:
    """The report of a file already read: findings (at most `MAX_FINDINGS_PER_FILE`), errors, lines."""
    lines = data.count(b"\n") + (not data.endswith(b"\n") and bool(data))
    findings, errors = analyze_bytes(data, task, settings, facts)
    digest = content_digest(data) if findings else None
    if len(findings) <= MAX_FINDINGS_PER_FILE:
        return FileReport(findings, errors, lines, None, digest)
    findings.sort(key=lambda f: f.sort_key)
    omitted = Omitted(task.display, len(findings) - MAX_FINDINGS_PER_FILE, MAX_FINDINGS_PER_FILE)
    return FileReport(findings[:MAX_FINDINGS_PER_FILE], errors, lines, omitted, digest)


def analyze_bytes(
    data: bytes, task: FileTask, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> tuple[list[Finding], list[FileError]]:
    """The analysis of one file's contents as each of its kinds, shared by scans and rule examples.

    `facts` are what the rest of the project says about the file (`ProjectIndex.facts`); a file
    analysed on its own gets none. The findings are settled (`verdicts.settle_file`): counterparts,
    one finding per site, NVIDIA-only constructs once per file."""
    if b"\0" in data:
        return [], [FileError(task.display, "contains NUL bytes: binary data, not source text; not analysed")]
    catalog = load_catalog()
    findings: list[Finding] = []
    errors: list[FileError] = []
    suppressions: FileSuppressions | None = None
    for kind in task.kinds:
        if kind not in ALWAYS_READ and not catalog.may_match(kind.value, data):
            continue
        try:
            text = decoder(kind)(data)
            found = analyzer(kind)(text, task.display, catalog, settings, facts)
        except Exception as exc:  # noqa: BLE001 - one file's surprise must not end the scan
            errors.append(_error_for(task.display, exc))
            continue
        if kind not in SUPPRESSES_ITSELF:
            suppressions = suppressions or FileSuppressions.parse(text, task.display)
            found = suppressions.filter(found)
        findings.extend(found)
    if suppressions is None and MARKER.encode() in data:  # skipped by the prefilter: no finding to silence
        suppressions = _unanalysed_suppressions(data, task)
    if suppressions is not None:
        findings.extend(suppressions.problems(catalog, settings.targets, task.rules, complete=not errors))
    return settle_file([f for f in findings if f.rule in task.rules], facts, catalog), errors


def _unanalysed_suppressions(data: bytes, task: FileTask) -> FileSuppressions | None:
    """The suppressions of a file none of whose kinds had anything to analyse."""
    kind = next((k for k in task.kinds if k not in SUPPRESSES_ITSELF), None)
    if kind is None:
        return None
    try:
        return FileSuppressions.parse(decoder(kind)(data), task.display)
    except UndecodableError:
        return None


def _error_for(path: str, exc: Exception) -> FileError:
    """The one-line diagnostic for a file that could not be analysed as one of its kinds."""
    if isinstance(exc, UndecodableError):
        return FileError(path, f"cannot decode: {exc}")
    if isinstance(exc, SyntaxError):
        return FileError(path, f"syntax error: {exc.msg}; not analysed", exc.lineno)
    if isinstance(exc, UnparsableError):
        return FileError(path, f"{exc}; not analysed", exc.line)
    if isinstance(exc, (RecursionError, MemoryError)):
        return FileError(path, "too deeply nested to analyse; not analysed")
    return FileError(path, f"internal error ({type(exc).__name__}: {exc}); please report it")


def _failed(task: FileTask, message: str) -> FileReport:
    return FileReport([], [FileError(task.display, message)], 0)


def display_path(path: Path, cwd: Path) -> str:
    """POSIX path relative to the current folder when under it, else absolute."""
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


def scan(
    candidates: Iterable[Candidate],
    rules_for: Callable[[Path], frozenset[str]],
    settings: AnalysisSettings,
    jobs: int,
    on_progress: Callable[[int, int], None] | None = None,
    project_root: Path | None = None,
    context: Iterable[Candidate] = (),
    cache: Cache | None = None,
) -> ScanResult:
    """Index the candidates, then analyse each; `rules_for` gives the rule ids enabled for a path.

    `context` files are indexed, never analysed: the rest of the repository's answer to a question
    that spans files (see `session.index_context`). The torch pin is read from `project_root`'s
    dependency files unless `settings` names one. `cache` holds earlier runs' results and index
    readings, reused and added to; None for none (`--no-cache`)."""
    cwd = Path.cwd()
    tasks = [
        FileTask(str(c.path), display_path(c.path, cwd), kinds, rules_for(c.path), str(c.root))
        for c in candidates
        if (kinds := tuple(k for k in c.kinds if supported(k)))
    ]
    unscanned = [FileTask(str(c.path), display_path(c.path, cwd), c.kinds, frozenset(), str(c.root)) for c in context]
    catalog = load_catalog()
    contents = {task.path: _read(task) for task in [*tasks, *unscanned]}
    readings = cache.store("readings", code_fingerprint() + catalog.digest) if cache is not None else None
    index = build_index(
        (IndexedFile(t.display, t.kinds, partial(_bytes, contents[t.path])) for t in [*tasks, *unscanned]),
        catalog,
        settings.roots,
        None if settings.torch_version else project_root,
        partial(_remember, readings) if readings is not None else None,
    )
    settings = replace(settings, torch_version=settings.torch_version or index.torch_pin)
    results = cache.store("results", scan_fingerprint(catalog.digest, settings)) if cache is not None else None
    result = ScanResult(
        files_scanned=len(tasks), paths=sorted(task.display for task in tasks), torch_version=settings.torch_version
    )
    for report in _run(tasks, contents, settings, index, jobs, on_progress, results):
        result.findings.extend(report.findings)
        result.errors.extend(report.errors)
        result.lines_scanned += report.lines
        if report.omitted is not None:
            result.omitted.append(report.omitted)
        if report.digest is not None:
            result.digests[report.findings[0].path] = report.digest
    result.findings.sort(key=lambda f: f.sort_key)
    result.errors.sort(key=lambda e: (e.path, e.line or 0))
    result.omitted.sort(key=lambda o: o.path)
    return result


def _read(task: FileTask) -> bytes | UnreadableFile:
    """The file's bytes, or why they could not be read (reported once, by the file's own analysis)."""
    try:
        return read_tree_file(task.path, task.root)
    except UnreadableFile as exc:
        return exc


def _bytes(content: bytes | UnreadableFile) -> bytes:
    if isinstance(content, UnreadableFile):
        raise content
    return content


def _remember(readings: Store, reader: str, path: str, data: bytes, compute: Callable[[], object]) -> object:
    """An index reading from the cache, keyed by the reader, the file's display path and its digest."""
    found = readings.remember((reader, path, content_digest(data)), lambda: (compute(),), _is_one_value)
    return found[0]


def _is_one_value(value: object) -> bool:
    return isinstance(value, tuple) and len(value) == 1


def _run(
    tasks: list[FileTask],
    contents: dict[str, bytes | UnreadableFile],
    settings: AnalysisSettings,
    index: ProjectIndex,
    jobs: int,
    on_progress: Callable[[int, int], None] | None,
    results: Store | None,
) -> Iterator[FileReport]:
    """Each task's report: from the cache when it has it, else analysed (and then cached)."""
    load_catalog()  # parsed once here, inherited by forked workers
    pending: list[tuple[FileTask, bytes, FileFacts, str | None]] = []
    beside: dict[str, str] = {}
    shared: dict[int, tuple[object, str]] = {}
    for task in tasks:
        data = contents.pop(task.path)
        if isinstance(data, UnreadableFile):
            yield _failed(task, data.reason)
            continue
        facts = index.facts(task.display, task.kinds)
        key = None
        if results is not None:
            context = ""
            if LOOKS_BESIDE.intersection(task.kinds):
                folder = os.path.dirname(task.display)
                if folder not in beside:
                    beside[folder] = ",".join(sibling_modules(folder))
                context = beside[folder]
            kinds = ",".join(kind.value for kind in task.kinds)
            key = results.key(content_digest(data), task.display, kinds, _rules_key(task.rules), facts.digest(shared), context)
            report = FileReport.from_cached(results.get(key))
            if report is not None:
                yield report
                continue
        pending.append((task, data, facts, key))
    done = len(tasks) - len(pending)
    progress = (lambda count, _: on_progress(done + count, len(tasks))) if on_progress else None
    work = partial(_analyze_chunk, settings=settings)
    for key, report in map_in_chunks(work, pending, jobs, CHUNK_SIZE, PARALLEL_THRESHOLD, progress):
        if key is not None and results is not None:
            results.put(key, report.cached())
        yield report


@functools.cache
def _rules_key(rules: frozenset[str]) -> str:
    return ",".join(sorted(rules))


def _analyze_chunk(
    chunk: list[tuple[FileTask, bytes, FileFacts, str | None]], settings: AnalysisSettings
) -> list[tuple[str | None, FileReport]]:
    return [(key, analyze_read(task, data, settings, facts)) for task, data, facts, key in chunk]
