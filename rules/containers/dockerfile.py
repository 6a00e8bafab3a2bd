"""The Dockerfile analyzer: CUDA base images, NVIDIA variables and paths, CUDA installs.

Each instruction is read as Docker reads it (`instructions.py`); shell scripts of `RUN`,
`CMD`, `ENTRYPOINT` and `HEALTHCHECK` are split into commands (`shell.py`, `commands.py`).
What is lock-in is the catalog's answer: images (`container-image`, with tag patterns in
`images.py`), NVIDIA container variables (`container-env`), toolkit paths (`toolkit-path`),
system packages (`system-package`), and the facts other analyzers already own: environment
variables (`env-var`), NVIDIA tools (`cli-tool`), and pip, uv and conda installs through the
shared requirement resolver, so a `pip install` in an image reports exactly what the same
line in a requirements file would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache

from cudaudit.model import Finding, Fix
from cudaudit.resolvers.requirements import PackageHit, best_key, index_hits, pinned_torch, requirement_hits
from cudaudit.rules.catalog import Catalog, Entry, build_finding
from cudaudit.rules.containers.commands import (
    SHELLS,
    Command,
    command,
    conda_install,
    nested_script,
    pip_install,
    system_packages,
)
from cudaudit.rules.containers.images import fill_targets, match_image
from cudaudit.rules.containers.instructions import Instruction, parse_dockerfile
from cudaudit.rules.containers.rewrites import image_fix
from cudaudit.rules.containers.shell import Word, split_commands
from cudaudit.rules.dependencies.report import DependencyContext, Placed, findings, unique
from cudaudit.rules.dependencies.rewrites import FixTarget
from cudaudit.settings import AnalysisSettings

IMAGE = "container-image"
CONTAINER_ENV = "container-env"
TOOLKIT_PATH = "toolkit-path"
SYSTEM_PACKAGE = "system-package"
ENV_VAR = "env-var"
CLI_TOOL = "cli-tool"
CONDA_PACKAGE = "conda-package"
CONDA_BUILD = "conda-build"
CONDA_CHANNEL = "conda-channel"

_SCRIPTED = frozenset({"RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK"})
_HEALTHCHECK = re.compile(r"^\s*(?:--\S+\s+)*CMD\s+", re.IGNORECASE)
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_MAX_NESTING = 3


@dataclass
class _Scan:
    """What one Dockerfile yields: findings, and pip hits kept until the torch pin is known."""

    path: str
    catalog: Catalog
    settings: AnalysisSettings
    fix: FixTarget | None = None
    """The one target to attach fixes for (`cudaudit fix --target`)."""
    found: list[Finding] = field(default_factory=list)
    pip_hits: list[tuple[Placed, PackageHit]] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)

    def report(
        self, entry: Entry | None, placed: Placed, start: int, end: int, text: str, fix: Fix | None = None
    ) -> None:
        if entry is not None:
            span = placed.span(start, end)
            self.found.append(build_finding(entry, self.path, span, text, self.settings.targets, fix=fix))

    def report_word(
        self, entry: Entry | None, placed: Placed, word: Word, start: int, end: int, fix: Fix | None = None
    ) -> None:
        """A finding on `word.text[start:end]`, wherever quotes or expansions put those characters."""
        self.report(entry, placed, *word.offsets(start, end), word.text[start:end], fix)

    def pip(self, placed: Placed, word: Word, hits: Iterable[PackageHit], shift: int = 0) -> None:
        for hit in hits:
            start, end = word.offsets(hit.start + shift, hit.end + shift)
            self.pip_hits.append((placed, replace(hit, start=start, end=end)))


def analyze_dockerfile(text: str, path: str, catalog: Catalog, settings: AnalysisSettings) -> list[Finding]:
    """Findings for one Dockerfile; raises UnparsableError where Docker would refuse the file too."""
    scan = _Scan(path, catalog, settings, FixTarget.of(settings, text))
    stages: set[str] = set()
    for instruction in parse_dockerfile(text):
        keyword = instruction.keyword
        if keyword == "FROM":
            _base_image(instruction, stages, scan)
        elif keyword in ("COPY", "ADD"):
            _copy(instruction, stages, scan)
        elif keyword in ("ENV", "ARG"):
            _variables(instruction, scan)
        elif keyword in _SCRIPTED:
            _scripts(instruction, scan)
    context = DependencyContext(torch=pinned_torch(scan.requirements), fix=scan.fix)
    for placed, hit in scan.pip_hits:
        scan.found.extend(findings(placed, [hit], path, catalog, settings, context))
    return unique(scan.found)


# -- FROM, COPY --from ----------------------------------------------------------------


def _base_image(instruction: Instruction, stages: set[str], scan: _Scan) -> None:
    """`FROM [--platform=...] image [AS name]`: each stage's image on its own; a stage name is no image."""
    placed = instruction.arguments
    words = [w for command in split_commands(placed.text, instruction.variables) for w in command]
    words = [w for w in words if not w.text.startswith("--")]
    if not words:
        return
    if len(words) >= 3 and words[1].text.lower() == "as":
        stages.add(words[2].text.lower())
    _image(words[0], 0, placed, stages, scan, base=True)


def _copy(instruction: Instruction, stages: set[str], scan: _Scan) -> None:
    """`COPY --from=image ...` pulls files out of an image; its sources (not its destination) may be toolkit paths."""
    placed = instruction.arguments
    words = [w for command_words in split_commands(placed.text, instruction.variables) for w in command_words]
    for word in words:
        if word.text.startswith("--from="):
            _image(word, len("--from="), placed, stages, scan)
    sources = [w for w in words if not w.text.startswith("--")][:-1]
    _toolkit_paths(sources, placed, scan)


def _image(word: Word, start: int, placed: Placed, stages: set[str], scan: _Scan, base: bool = False) -> None:
    """An image reference; `base`: a stage's `FROM` image, which a fix may replace."""
    reference = word.text[start:]
    if reference.lower() in stages or reference.isdigit() or reference == "scratch":
        return
    found = match_image(reference)
    entry = scan.catalog.lookup(IMAGE, found.key) if found else None
    if found is not None and entry is not None:
        fix = image_fix(entry, found.fields, word, placed, scan.fix) if base else None
        entry = replace(entry, targets=fill_targets(entry.targets, found.fields))
        scan.report_word(entry, placed, word, start, len(word.text), fix)


# -- ENV, ARG ---------------------------------------------------------------------------


def _variables(instruction: Instruction, scan: _Scan) -> None:
    """`ENV A=1 B=2`, `ENV A 1`, `ARG A[=1]`: a known variable at its name, else toolkit paths in its value."""
    placed = instruction.arguments
    words = [w for command in split_commands(placed.text) for w in command]
    if not words:
        return
    pairs = [(w, w.text.partition("=")[0]) for w in words] if "=" in words[0].text else [(words[0], words[0].text)]
    for word, name in pairs:
        entry = scan.catalog.lookup(ENV_VAR, name) or scan.catalog.lookup(CONTAINER_ENV, name)
        if entry is not None:
            scan.report_word(entry, placed, word, 0, len(name))
        else:
            _toolkit_paths([word] if "=" in words[0].text else words[1:], placed, scan)


def _toolkit_paths(words: Iterable[Word], placed: Placed, scan: _Scan) -> None:
    """`/usr/local/cuda` and the like, where the file spells them out (not through a variable)."""
    pattern = _toolkit_pattern(scan.catalog)
    if pattern is None:
        return
    for word in words:
        for match in pattern.finditer(placed.text, word.start, word.end):
            entry = scan.catalog.lookup(TOOLKIT_PATH, match.group(1))
            scan.report(entry, placed, match.start(), match.end(), match.group(0))


@cache
def _toolkit_pattern(catalog: Catalog) -> re.Pattern[str] | None:
    """One expression for the catalog's toolkit paths, with a versioned suffix (`/usr/local/cuda-12.4`)."""
    keys = sorted(catalog.keys(TOOLKIT_PATH), key=len, reverse=True)
    if not keys:
        return None
    alternatives = "|".join(re.escape(key) for key in keys)
    return re.compile(rf"(?<![\w./-])({alternatives})(?:-[0-9][0-9.]*)?(?![\w.-])")


# -- RUN, CMD, ENTRYPOINT, HEALTHCHECK ---------------------------------------------------


def _scripts(instruction: Instruction, scan: _Scan) -> None:
    placed = instruction.arguments
    start = 0
    if instruction.keyword == "HEALTHCHECK":
        found = _HEALTHCHECK.match(placed.text)
        if found is None:
            return
        start = found.end()
    commands = _exec_form(placed.text, start) or split_commands(placed.text, instruction.variables, start)
    if instruction.keyword == "RUN" and commands:
        commands[0] = _without_run_flags(commands[0])
        commands = [c for c in commands if c]
    for words in commands:
        _command(words, placed, instruction.variables, scan, depth=0)
    if instruction.keyword == "RUN" and _runs_heredoc_as_script(commands):
        for body in instruction.heredocs:
            for words in split_commands(body.text, instruction.variables):
                _command(words, body, instruction.variables, scan, depth=0)


def _without_run_flags(words: list[Word]) -> list[Word]:
    """The first command of a `RUN` without the instruction's own flags (`--mount=...`, `--network=...`)."""
    at = 0
    while at < len(words) and words[at].text.startswith("--"):
        at += 1
    return words[at:]


def _runs_heredoc_as_script(commands: list[list[Word]]) -> bool:
    """`RUN <<EOF` and `RUN bash <<EOF` run their heredoc; `RUN python3 <<EOF` feeds it to Python."""
    if not commands:
        return True
    found = command(commands[0])
    return found is not None and found.name in SHELLS and len(commands) == 1


def _exec_form(text: str, start: int) -> list[list[Word]] | None:
    """`RUN ["pip", "install", "x"]`: the JSON array as one command, or None for the shell form."""
    body = text[start:]
    if not body.lstrip().startswith("["):
        return None
    try:
        items = json.loads(body)
    except ValueError:
        return None
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        return None
    words = []
    for literal, item in zip(_JSON_STRING.finditer(text, start), items):
        first, last = literal.start(1), literal.end(1)
        if last - first == len(item):
            starts, ends = tuple(range(first, last)), tuple(range(first + 1, last + 1))
        else:  # escapes inside: every character maps to the whole literal
            starts, ends = (first,) * len(item), (last,) * len(item)
        words.append(Word(item, starts, ends, literal.start(), literal.end()))
    return [words] if words else None


def _command(words: list[Word], placed: Placed, variables: dict[str, str], scan: _Scan, depth: int) -> None:
    found = command(words)
    if found is None:
        return
    scan.report_word(scan.catalog.lookup(CLI_TOOL, found.name), placed, found.program, 0, len(found.program.text))
    _toolkit_paths(words, placed, scan)
    for word, name in system_packages(found):
        key = best_key(scan.catalog, SYSTEM_PACKAGE, name)
        scan.report_word(scan.catalog.lookup(SYSTEM_PACKAGE, key) if key else None, placed, word, 0, len(name))
    _pip(found, placed, scan)
    _conda(found, placed, scan)
    script = nested_script(found)
    if script is not None and depth < _MAX_NESTING:
        for inner in split_commands(script.text, variables):
            _command([_within(script, w) for w in inner], placed, variables, scan, depth + 1)


def _pip(found: Command, placed: Placed, scan: _Scan) -> None:
    install = pip_install(found)
    if install is None:
        return
    for word in install.requirements:
        scan.requirements.append(word.text)
        scan.pip(placed, word, requirement_hits(word.text, scan.catalog))
    for word, start in install.indexes:
        url = word.text[start:]
        if "=" in url.split("://", 1)[0]:  # uv's `--index name=URL`
            start += url.index("=") + 1
        scan.pip(placed, word, index_hits(word.text[start:], scan.catalog), shift=start)


def _conda(found: Command, placed: Placed, scan: _Scan) -> None:
    """`conda install -c nvidia pytorch-cuda=12.1`: the conda analyzer's package, build and channel keys."""
    install = conda_install(found)
    if install is None:
        return
    for spec in install.specs:
        parts = [(CONDA_PACKAGE, spec.name), (CONDA_BUILD, spec.build), (CONDA_CHANNEL, spec.channel)]
        for detector, where in parts:
            if where is not None:
                _conda_key(detector, spec.word, *where, placed, scan)
    for word, start in install.channels:
        _conda_key(CONDA_CHANNEL, word, start, len(word.text), placed, scan)


def _conda_key(detector: str, word: Word, start: int, end: int, placed: Placed, scan: _Scan) -> None:
    key = best_key(scan.catalog, detector, word.text[start:end])
    scan.report_word(scan.catalog.lookup(detector, key) if key else None, placed, word, start, end)


def _within(outer: Word, inner: Word) -> Word:
    """A word of the script inside `outer` (`bash -c '...'`), with offsets in the outer text."""
    starts = tuple(outer.starts[i] if i < len(outer.starts) else outer.end for i in inner.starts)
    ends = tuple(outer.ends[i - 1] if 0 < i <= len(outer.ends) else outer.end for i in inner.ends)
    start, end = outer.offsets(inner.start, inner.end) if inner.end > inner.start else (outer.start, outer.end)
    return Word(inner.text, starts, ends, start, end)
