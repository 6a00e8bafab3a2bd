"""Scan files: index the project, then read, prefilter, analyse, suppress and settle each file,
in parallel for large trees.

One file never stops the scan: every failure to read or parse becomes a `FileError`
for that file. Scanned code is parsed, never imported or run.

Each file is read at most once here in the main process, when the index or the analysis first
needs its bytes (`Contents`); with several workers and no index readings in the cache, the workers
also read the files for the index's per-file readings first (`_read_ahead`), and each then analyses
the files it read, with the trees it parsed for the index (`parallel.KeptWorkers`). A file's digest, with
the facts the index gives it, looks its result up in the cache (`cache.Store`); a file whose status
is unchanged since an earlier scan hashed it is not even read for its digest. Only the files whose
result is not there travel, with their bytes, to the analysis (in worker processes when there are
enough of them), so a rescan of an unchanged tree starts no worker and reads no file. The index's
own per-file readings are cached the same way, and its answers whole (`index_answers`): a rescan of
an unchanged tree builds no index.
"""

from __future__ import annotations

import functools
import gc
import os
import pickle
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from cudaudit.analyzers import ALWAYS_READ, LOOKS_BESIDE, SUPPRESSES_ITSELF, analyzer, decoder, supported
from cudaudit.cache import Cache, Store, code_fingerprint, scan_fingerprint
from cudaudit.discovery import Candidate
from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.filekinds import FileKind
from cudaudit.firstparty import sibling_modules
from cudaudit.index_answers import IndexAnswers, index_answers
from cudaudit.model import FileError, Finding, Omitted, ScanResult
from cudaudit.parallel import KeptWorkers
from cudaudit.project_index import (
    IndexedFile,
    ProjectIndex,
    Remember,
    build_index,
    file_readings,
    guarded_walk,
    sees_project,
    torch_pin,
    torch_pin_files,
)
from cudaudit.project_roots import scope, within_project
from cudaudit.rules.catalog import Catalog, load_catalog
from cudaudit.safe_read import Folders, UnreadableFile, content_digest, read_tree_file
from cudaudit.settings import AnalysisSettings
from cudaudit.source import UndecodableError, UnparsableError, keeping_trees
from cudaudit.suppressions import MARKER, FileSuppressions
from cudaudit.vendored_sdks import nvidia_sdks, vendored_sdks
from cudaudit.verdicts import settle_file

MAX_FINDINGS_PER_FILE = 1000
"""Findings of one file past this many are counted, not listed (nor sent between processes)."""
CHUNK_SIZE = 32
PARALLEL_THRESHOLD = 2 * CHUNK_SIZE
WALK_CHUNK_SIZE = 4
"""Importers walked per chunk (`_walk_ahead`): a walk costs what a module's analysis does, and the few
there are should spread evenly over the workers."""
ANALYSIS_GC_THRESHOLD = 50_000
"""Allocations between two collections of the young generation while files are analysed (Python's
default is 700): more than most modules' trees hold, so most trees are freed before any pass sees them."""
KEPT_SOURCE = 4 * 2**20
"""Characters of Python source whose trees a scan keeps from the project index for the modules'
analyses (`source.keeping_trees`), so that a module the index parses is parsed once: DeepSpeed's
index keeps 1.9 million characters of trees, the issue-9 trees scanned together 3.1 million (with
half this room, 2.2 million characters of their modules were parsed again by their analyses). At
about 30 bytes a character, at most some 120 MB of trees: a larger tree (diffusers' index parses
12.5 million characters) keeps what the room holds and parses the rest twice."""



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
        if kind not in ALWAYS_READ and not catalog.may_match(kind.value, data) and not facts.reports_own_findings():
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
    kept = [f for f in findings if f.rule in task.rules]
    return (settle_file(kept, facts, catalog, _inside(task)) if kept else kept), errors


def _inside(task: FileTask) -> str:
    """The file's path from its project's root (`project_roots`): what its place in the project says
    (`tests/`, `.github/`), without the folders above the project, which may be named anything."""
    return within_project(task.display)


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
    """POSIX path relative to the current folder when under it, else absolute.

    Told from the text where it can be (`relative_to` parses both paths again, and raises for a tree
    outside the folder; a scan asks this of every file): a path spelled below the folder is cut, and
    where names are case-sensitive, one whose text does not start with the folder's is not below it."""
    text, folder = os.fspath(path), os.fspath(cwd)
    if text.startswith(folder + os.sep):
        return text[len(folder) + 1:].replace(os.sep, "/")
    if not text.startswith(folder) and os.path.normcase(folder) == folder:
        return path.as_posix()
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
    with scope(settings.project_prefixes), KeptWorkers(jobs, partial(keeping_trees, KEPT_SOURCE)) as workers:
        return _scan(list(candidates), rules_for, settings, workers, on_progress, project_root, context, cache)


def _scan(
    candidates: list[Candidate],
    rules_for: Callable[[Path], frozenset[str]],
    settings: AnalysisSettings,
    workers: KeptWorkers,
    on_progress: Callable[[int, int], None] | None,
    project_root: Path | None,
    context: Iterable[Candidate],
    cache: Cache | None,
) -> ScanResult:
    cwd = Path.cwd()
    tasks = [
        FileTask(str(c.path), display_path(c.path, cwd), kinds, rules_for(c.path), str(c.root))
        for c in candidates
        if (kinds := tuple(k for k in c.kinds if supported(k)))
    ]
    unscanned = [FileTask(str(c.path), display_path(c.path, cwd), c.kinds, frozenset(), str(c.root)) for c in context]
    catalog = load_catalog()
    known = cache.store("digests", repr(settings.roots)) if cache is not None else None
    listed = [*tasks, *unscanned]
    contents = Contents(listed, known)
    readings = cache.store("readings", code_fingerprint() + catalog.digest) if cache is not None else None
    build = partial(
        _build_index,
        [IndexedFile(t.display, t.kinds, partial(contents.read, t.display)) for t in listed],
        catalog,
        settings.roots,
        readings,
        contents,
        listed,
        settings,
        workers,
    )
    answers = index_answers(
        [(t.display, t.kinds) for t in listed],
        [(t.display, t.kinds) for t in tasks],
        build,
        cache.store("index", code_fingerprint() + catalog.digest + repr((settings.roots, settings.project_prefixes))) if cache is not None else None,
        contents.digest,
        contents.read,
        settings.roots,
    )
    if not settings.torch_version and project_root is not None:
        settings = replace(settings, torch_version=_torch_pin(project_root, cache))
    results = cache.store("results", scan_fingerprint(catalog.digest, settings)) if cache is not None else None
    result = ScanResult(
        files_scanned=len(tasks), paths=sorted(task.display for task in tasks), torch_version=settings.torch_version
    )
    with keeping_trees(KEPT_SOURCE):  # the index, built on the first file's facts, and the analyses
        for report in _run(tasks, contents, settings, answers, workers, on_progress, results):
            result.findings.extend(report.findings)
            result.errors.extend(report.errors)
            result.lines_scanned += report.lines
            if report.omitted is not None:
                result.omitted.append(report.omitted)
            if report.digest is not None:
                result.digests[report.findings[0].path] = report.digest
    if results is not None:
        results.save(seen=frozenset(task.display for task in tasks))
    if readings is not None:
        readings.save()
    result.findings = vendored_sdks(result.findings, result.paths, nvidia_sdks(catalog))
    result.findings.sort(key=lambda f: f.sort_key)
    result.errors.sort(key=lambda e: (e.path, e.line or 0))
    result.omitted.sort(key=lambda o: o.path)
    return result


RACY_NS = 3 * 10**9
"""A file changed less than this long before a scan hashed it may change again within the same
timestamp (filesystems keep them to a tick, FAT to two seconds): its status is not kept for the
next scan, which reads and hashes it again (git's "racily clean" entries)."""


class Contents:
    """The scan's files by display path: each read at most once, in the main process, and hashed
    at most once.

    With the cache, a file's digest is kept with its status (device, inode, size, modification
    and change times, from `lstat`). A later scan that finds a file with the same status takes
    the digest without reading the file, as git's index and ruff's cache do; a result or an
    index reading found under that digest then needs no read at all. This is sound because any
    write to a file moves its change time, which no program can set back, and a status is kept
    only when it is older than `RACY_NS` (taken before the read, so a write during the read is a
    miss next time), and only for a regular file that `read_tree_file` read (inside its root,
    under the size limit): a link, a special file or an unreadable one is read every time."""

    def __init__(self, tasks: Iterable[FileTask], known: Store | None) -> None:
        self._tasks = {task.display: task for task in tasks}
        self._data: dict[str, bytes | UnreadableFile] = {}
        self._digests: dict[str, str] = {}
        self._known = known
        self._started = time.time_ns()
        self._folders = Folders()

    def read(self, display: str) -> bytes:
        """The file's bytes; `UnreadableFile` when they cannot be read (reported once, by its own analysis)."""
        found = self._data.get(display)
        if found is None:
            task = self._tasks[display]
            try:
                found = read_tree_file(task.path, task.root, folders=self._folders)
            except UnreadableFile as exc:
                found = exc
            self._data[display] = found
        if isinstance(found, UnreadableFile):
            raise found
        return found

    def take(self, display: str) -> bytes:
        """The file's bytes, which the scan then no longer keeps (they travel to the analysis)."""
        try:
            return self.read(display)
        finally:
            self.forget(display)

    def forget(self, display: str) -> None:
        """Drop the file's bytes, if they were read: its result came from the cache."""
        self._data.pop(display, None)

    def digest(self, display: str) -> str:
        """The digest of the file's bytes, without reading them when its status is the one it had
        when an earlier scan hashed it; `UnreadableFile` when they cannot be read."""
        digest = self._digests.get(display)
        if digest is None:
            digest = self._digests[display] = self._hash(self._tasks[display])
        return digest

    def _hash(self, task: FileTask) -> str:
        known = self._known
        status = _status(task.path) if known is not None else None
        if known is None or status is None:
            return content_digest(self.read(task.display))
        key = " ".join(map(str, status))  # the pack is the tree's: its own fingerprint needs no hashing in
        found = known.get(task.path, key)
        if isinstance(found, str):
            return found
        digest = content_digest(self.read(task.display))
        if self._started - max(status[3:]) > RACY_NS:
            known.put(task.path, key, digest)
        return digest

    def save(self) -> None:
        if self._known is not None:
            self._known.save(seen=frozenset(task.path for task in self._tasks.values()))


def _status(path: str) -> tuple[int, int, int, int, int] | None:
    """(device, inode, size, modification ns, change ns) of a regular file that is no link, else None."""
    try:
        status = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode):
        return None
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


def _torch_pin(root: Path, cache: Cache | None) -> str | None:
    """`torch_pin(root)`, kept in the cache while every file it may read keeps its status (see
    `Contents`: a status is kept only when older than `RACY_NS`, a link or special file is read
    every time). A rescan, or a commit of five edited modules, then neither reads the project's
    dependency files nor imports their readers (0.01 s of a warm scan's 0.22 s)."""
    if cache is None:
        return torch_pin(root)
    started = time.time_ns()
    statuses: list[tuple[int, int, int, int, int]] = []
    parts = []
    for path in torch_pin_files(root):
        status = _status(str(path))
        if status is None and os.path.lexists(path):
            return torch_pin(root)
        parts.append(f"{path}\0{status}")
        statuses.extend(() if status is None else (status,))
    store = cache.store("pins", code_fingerprint())
    key = store.key(*parts)
    found = store.get(str(root.absolute()), key)
    if isinstance(found, tuple) and len(found) == 1 and (found[0] is None or isinstance(found[0], str)):
        return found[0]
    pin = torch_pin(root)
    if all(started - max(status[3:]) > RACY_NS for status in statuses):
        store.put(str(root.absolute()), key, (pin,))
        store.save()
    return pin


def _remember(readings: Store, contents: Contents, reader: str, path: str, compute: Callable[[], object]) -> object:
    """An index reading from the cache, keyed by the reader, the file's display path and its digest."""
    found = readings.remember(f"{reader}\0{path}", (reader, path, contents.digest(path)), lambda: (compute(),), _is_one_value)
    return found[0]


def _is_one_value(value: object) -> bool:
    return isinstance(value, tuple) and len(value) == 1


def _run(
    tasks: list[FileTask],
    contents: Contents,
    settings: AnalysisSettings,
    answers: IndexAnswers,
    workers: KeptWorkers,
    on_progress: Callable[[int, int], None] | None,
    results: Store | None,
) -> Iterator[FileReport]:
    """Each task's report: from the cache when it has it, else analysed (and then cached)."""
    load_catalog()  # parsed once here, inherited by forked workers
    pending: list[tuple[FileTask, bytes, FileFacts, str | None]] = []
    beside: dict[str, str] = {}
    for task in tasks:
        key = None
        try:
            if results is not None:
                context = ""
                if LOOKS_BESIDE.intersection(task.kinds):
                    folder = os.path.dirname(task.display)
                    if folder not in beside:
                        beside[folder] = ",".join(sibling_modules(folder))
                    context = beside[folder]
                kinds = ",".join(kind.value for kind in task.kinds)
                facts_digest = answers.digest(task.display, task.kinds)
                key = results.key(contents.digest(task.display), task.display, kinds, _rules_key(task.rules),
                                  facts_digest, context)
                report = FileReport.from_cached(results.get(task.display, key))
                if report is not None:
                    contents.forget(task.display)
                    yield report
                    continue
            data = contents.take(task.display)
        except UnreadableFile as exc:
            yield _failed(task, exc.reason)
            continue
        pending.append((task, data, answers.facts(task.display, task.kinds), key))
    contents.save()
    # The largest files first: the workers take chunks in this order, so the last ones are the
    # shortest, and no worker is left alone with a chunk of large files while the other idles
    # (results are sorted afterwards, so the order never shows).
    pending.sort(key=lambda item: len(item[1]), reverse=True)
    done = len(tasks) - len(pending)
    progress = (lambda count, _: on_progress(done + count, len(tasks))) if on_progress else None
    work = partial(_analyze_chunk, settings=settings)
    with _collected_rarely():
        for (display, key), report in workers.map(
            work, pending, CHUNK_SIZE, PARALLEL_THRESHOLD, _item_path, _lost_analyses, progress
        ):
            if key is not None and results is not None:
                results.put(display, key, report.cached())
            yield report


@contextmanager
def _collected_rarely() -> Iterator[None]:
    """The cycle collector's regime while the index is built and while files are analysed. What lives
    through the phase (the catalog, the index, the files' bytes and facts) is set aside from the
    collector: each of its full passes would otherwise walk all of it again while the modules' trees
    come and go (about a tenth of a cold scan's processor time on DeepSpeed). Forked workers inherit
    it set aside, so the collector does not touch its pages. The young generation is collected less
    often too: a module's syntax tree is freed by reference counting once it has been read (the walker
    breaks its cycles), so the collector's passes while it is built and read only walk live nodes
    (0.23 s of the issue-9 trees' 8 s)."""
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(ANALYSIS_GC_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _build_index(
    files: list[IndexedFile],
    catalog: Catalog,
    roots: tuple[str, ...],
    readings: Store | None,
    contents: Contents,
    tasks: list[FileTask],
    settings: AnalysisSettings,
    workers: KeptWorkers,
) -> ProjectIndex:
    """`build_index` of `files` (the `tasks`) under the analysis' regime of the cycle collector
    (`_collected_rarely`): its readers parse and walk modules as the analysis does. `readings` is the
    cache's store of its per-file readings.

    With several workers, the index's readings of each file by itself (`file_readings`) are taken
    ahead in the scan's worker processes, the files split among them, and the index is then built
    from their answers: the pass over the files, most of the index's time, runs in parallel rather
    than in this process before any worker starts. Only when every reading must be computed (no
    cache, or one that holds no readings), asked only here: a rescan whose index answers are cached
    reads no readings, and one that builds the index computes few. The workers live on for the
    analysis (`KeptWorkers`), each keeping the trees it parsed, and each file's analysis goes to the
    worker that read it, so a module the index's readers parsed is not parsed again. So do the walks of
    importing modules that the callers' reading asks for (`_walk_ahead`), its largest part."""
    remember: Remember | None = partial(_remember, readings, contents) if readings is not None else None
    ahead = [task for task in tasks if task.kinds] if workers.jobs > 1 else []
    with _collected_rarely():
        read_ahead = (
            _read_ahead(ahead, settings, workers, sees_project(files))
            if len(ahead) >= PARALLEL_THRESHOLD and (readings is None or readings.holds_nothing()) else None
        )
        walks = (
            partial(_walk_ahead, {task.display: task for task in ahead}, settings, workers, read_ahead)
            if read_ahead is not None else None
        )
        return build_index(files, catalog, roots, remember, read_ahead, walks)


def _read_ahead(
    tasks: list[FileTask], settings: AnalysisSettings, workers: KeptWorkers, whole_project: bool
) -> dict[tuple[str, str], Callable[[], Any]]:
    """(reader, display path) -> the reading, from worker processes (`_read_chunk`). A worker that
    dies (killed for its memory) takes its chunk's readings with it: the index computes them itself."""
    work = partial(_read_chunk, settings=settings, whole_project=whole_project)
    found: dict[tuple[str, str], Callable[[], Any]] = {}
    for reader, path, reading in workers.map(work, tasks, CHUNK_SIZE, PARALLEL_THRESHOLD, _task_path, _no_readings):
        found[(reader, path)] = partial(pickle.loads, reading)
    return found


def _walk_ahead(
    tasks: dict[str, FileTask],
    settings: AnalysisSettings,
    workers: KeptWorkers,
    read_ahead: dict[tuple[str, str], Callable[[], Any]],
    walks: list[tuple[str, str, tuple[str, ...], tuple[Any, ...], bool]],
) -> None:
    """The importers' walks `callers.uses_elsewhere` is about to ask for, each taken by the worker
    that read its module for the index (which keeps the module's tree), into `read_ahead`. A walk that
    raises, or whose worker dies, is left out: the index takes it itself and meets what the worker met."""
    work = partial(_walk_chunk, settings=settings)
    items = [
        (tasks[path], reader, names, documented, script) for reader, path, names, documented, script in walks if path in tasks
    ]
    for reader, path, reading in workers.map(work, items, WALK_CHUNK_SIZE, 1, _item_path, _no_readings):
        read_ahead[(reader, path)] = partial(pickle.loads, reading)


def _walk_chunk(
    chunk: list[tuple[FileTask, str, tuple[str, ...], Any, bool]], settings: AnalysisSettings
) -> list[tuple[str, str, bytes]]:
    """`project_index.guarded_walk` of each importer of `chunk`, pickled, by its reader's name and path."""
    found = []
    with scope(settings.project_prefixes):
        catalog = load_catalog()
        for task, reader, names, documented, script in chunk:
            try:
                reading = guarded_walk(read_tree_file(task.path, task.root), names, catalog, documented, script)
            except Exception:  # noqa: BLE001 - left to the index, which takes the walk itself
                continue
            pickled = _pickled(reading)
            if pickled is not None:
                found.append((reader, task.display, pickled))
    return found


def _task_path(task: FileTask) -> str:
    return task.display


def _no_readings(chunk: list[Any], why: str) -> list[tuple[str, str, bytes]]:
    """What a lost chunk of readings or walks gives: nothing, which the index then computes itself."""
    return []


def _read_chunk(chunk: list[FileTask], settings: AnalysisSettings, whole_project: bool) -> list[tuple[str, str, bytes]]:
    """The index's readings of each file of `chunk` by itself, each pickled here: one that does not
    pickle stays behind, and the index computes it again. The worker keeps the trees it parses
    (several readers read each module, and then its analysis: `KeptWorkers`)."""
    with scope(settings.project_prefixes):
        files = [IndexedFile(t.display, t.kinds, partial(read_tree_file, t.path, t.root)) for t in chunk]
        readings = file_readings(files, load_catalog(), settings.roots, whole_project)
    return [(reader, path, pickled) for reader, path, reading in readings if (pickled := _pickled(reading)) is not None]


def _pickled(value: object) -> bytes | None:
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - what does not pickle is read again where it is needed
        return None


@functools.cache
def _rules_key(rules: frozenset[str]) -> str:
    return ",".join(sorted(rules))


def _item_path(item: tuple[Any, ...]) -> str:
    """The display path of the file an item of work carries first (its `FileTask`): the key that sends
    the item to the worker that read the file."""
    task: FileTask = item[0]
    return task.display


def _lost_analyses(
    chunk: list[tuple[FileTask, bytes, FileFacts, str | None]], why: str
) -> list[tuple[tuple[str, str | None], FileReport]]:
    """The reports of files whose analysis ended with its worker: a diagnostic each, never cached."""
    return [((task.display, None), _failed(task, f"not analysed: {why}")) for task, _, _, _ in chunk]


def _analyze_chunk(
    chunk: list[tuple[FileTask, bytes, FileFacts, str | None]], settings: AnalysisSettings
) -> list[tuple[tuple[str, str | None], FileReport]]:
    with scope(settings.project_prefixes):  # a worker started by spawning has not inherited the scan's
        return [((task.display, key), analyze_read(task, data, settings, facts)) for task, data, facts, key in chunk]
