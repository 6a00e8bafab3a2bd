"""The Dockerfile analyzer: CUDA base images, NVIDIA variables and paths, CUDA installs.

Each instruction is read as Docker reads it (`instructions.py`); shell scripts of `RUN`,
`CMD`, `ENTRYPOINT` and `HEALTHCHECK` are split into commands (`shell.py`, `commands.py`).
What is lock-in is the catalog's answer: images (`container-image`, with tag patterns in
`images.py`), NVIDIA container variables (`container-env`), toolkit paths (`toolkit-path`),
system packages (`system-package`), and the facts other analyzers already own: environment
variables (`env-var`), NVIDIA tools (`cli-tool`), and pip, uv and conda installs through the
shared requirement resolver, so a `pip install` in an image reports exactly what the same
line in a requirements file would. Stages are followed (`stages.py`): the build steps of a stage
built on a CUDA image are reported as part of the CUDA build (`build_steps.py`), and a stage
built on a ROCm image makes the CUDA stages beside it notes on ROCm.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import partial

from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.model import Finding, Portability, Severity
from cudaudit.rules.catalog import Catalog, Entry
from cudaudit.rules.containers.build_steps import StageSteps
from cudaudit.rules.containers.commands import SHELLS, command
from cudaudit.rules.containers.context import copied_context, resolve
from cudaudit.rules.containers.images import image_entry, needs_cuda
from cudaudit.rules.containers.instructions import Instruction, parse_dockerfile
from cudaudit.rules.containers.rewrites import image_fix
from cudaudit.rules.containers.script_scan import (
    ENV_VAR,
    ScriptScan,
    build_switches,
    scan_command,
    toolkit_paths,
    toolkit_variables,
)
from cudaudit.rules.containers.shell import Word, split_commands
from cudaudit.rules.containers.stages import Stage, Stages, cuda_severities
from cudaudit.rules.dependencies.report import Placed
from cudaudit.rules.dependencies.rewrites import FixTarget
from cudaudit.rules.orchestration.images import parse_image
from cudaudit.settings import AnalysisSettings

CONTAINER_ENV = "container-env"
_PACKAGE_DETECTORS = frozenset({"pip-package", "conda-package", "local-version", "package-index"})
"""What a `pip` or `conda` install puts in the image: a package, a CUDA build pinned by its label
(`torchaudio==0.13.1+cu116`), the CUDA index it is resolved from."""

_SCRIPTED = frozenset({"RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK"})
_HEALTHCHECK = re.compile(r"^\s*(?:--\S+\s+)*CMD\s+", re.IGNORECASE)
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def cuda_only_image(path: str, text: str, catalog: Catalog) -> tuple[int, str] | None:
    """(line, image) of the CUDA image the Dockerfile's last stage is built on, when none of its
    stages is built on a ROCm image (for the index: what a workflow that builds it publishes)."""
    bases: dict[str, tuple[int, str] | None] = {}
    built: tuple[int, str] | None = None
    rocm = False
    for instruction in parse_dockerfile(text):
        if instruction.keyword != "FROM":
            continue
        words = [w.text for command in split_commands(instruction.arguments.text, instruction.variables) for w in command]
        words = [w for w in words if not w.startswith("--")]
        if not words:
            continue
        reference = words[0]
        parsed = parse_image(reference)
        rocm = rocm or (parsed is not None and parsed.is_rocm)
        if reference.lower() in bases:
            built = bases[reference.lower()]
        else:
            built = (instruction.line, reference) if needs_cuda(reference, catalog) else None
        if len(words) >= 3 and words[1].lower() == "as":
            bases[words[2].lower()] = built
    return None if rocm else built


def image_severities(reference: str, catalog: Catalog) -> tuple[tuple[str, str], ...]:
    """(target, severity) of the CUDA image `reference` on each target, a note where it works (as a stage
    built on it caps its steps, `stages.cuda_severities`); () for an image the catalog has no CUDA facts
    about. For the index: what the image installs from a declaration beside it is capped the same way."""
    known = image_entry(reference, catalog)
    severities = cuda_severities(known[0].targets if known is not None else None)
    return tuple(sorted((target, severity.value) for target, severity in severities.items())) if severities else ()


def analyze_dockerfile(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    """Findings for one Dockerfile; raises UnparsableError where Docker would refuse the file too."""
    scan = ScriptScan(path, catalog, settings, FixTarget.of(settings, text))
    stages = Stages()
    stage: Stage | None = None
    for instruction in parse_dockerfile(text):
        keyword = instruction.keyword
        if keyword == "FROM":
            stage = _base_image(instruction, stages, scan)
            continue
        if stage is not None:
            stage.environment.update(instruction.variables)  # what a stage built FROM this one starts with
        if keyword in ("COPY", "ADD"):
            _copy(instruction, stages.names, scan)
            if stage is not None:
                stage.needs.extend(_copied_stages(instruction))
                _copy_context(instruction, stage, stages, 0)
        elif keyword == "ONBUILD" and stage is not None:
            _copy_context(instruction, stage, stages, 1)  # `ONBUILD COPY . /src`: for the stages built on this one
        elif keyword == "WORKDIR" and stage is not None:
            _workdir(instruction, stage)
        elif keyword in ("ENV", "ARG"):
            _variables(instruction, scan, stage)
        elif keyword in _SCRIPTED:
            if keyword == "RUN" and stage is not None:
                stage.needs.extend(_mounted_stages(instruction))
            cuda_build = keyword == "RUN" and stage is not None and stage.cuda is not None
            scan.on_command = StageSteps(stage, scan, facts.pure_python, facts.home_repositories) if cuda_build and stage is not None else None
            scan.in_base = partial(_follows_base, line=stage.line) if stage is not None and stage.cuda is not None else None
            _scripts(instruction, scan)
            scan.on_command = scan.in_base = None
    return stages.settle(scan.results(), lambda finding: _installs_package(finding, catalog))


def _installs_package(finding: Finding, catalog: Catalog) -> bool:
    """Whether `finding` is a package a `pip` or `conda` install puts in the image, or the CUDA build or
    index it takes it from (`_PACKAGE_DETECTORS`)."""
    rule = catalog.rules.get(finding.rule)
    return rule is not None and rule.detector in _PACKAGE_DETECTORS


# -- FROM, COPY --from ----------------------------------------------------------------


def _base_image(instruction: Instruction, stages: Stages, scan: ScriptScan) -> Stage | None:
    """`FROM [--platform=...] image [AS name]`: each stage's image on its own; a stage name is no image."""
    placed = instruction.arguments
    words = [w for command in split_commands(placed.text, instruction.variables) for w in command]
    words = [w for w in words if not w.text.startswith("--")]
    if not words:
        return None
    name = words[2].text.lower() if len(words) >= 3 and words[1].text.lower() == "as" else None
    image = _image(words[0], 0, placed, stages.names, scan, base=True)
    return stages.start(instruction.line, words[0].text, name, image, placed.text[words[0].start : words[0].end])


def _copied_stages(instruction: Instruction) -> list[str]:
    """The stage or image `COPY --from=NAME` takes files from."""
    words = [w.text for command in split_commands(instruction.arguments.text, instruction.variables) for w in command]
    return [word.partition("=")[2] for word in words if word.startswith("--from=")]


def _mounted_stages(instruction: Instruction) -> list[str]:
    """The stages or images `RUN --mount=type=bind,from=NAME,...` mounts (the step's own flags only)."""
    commands = split_commands(instruction.arguments.text, instruction.variables)
    flags = [w.text for w in commands[0] if w.text.startswith("--mount=")] if commands else []
    return [
        value for flag in flags for field in flag[len("--mount="):].split(",")
        for key, _, value in [field.partition("=")] if key == "from" and value
    ]


def _copy_context(instruction: Instruction, stage: Stage, stages: Stages, skip: int) -> None:
    """Note the folders a `COPY`/`ADD` (after `skip` words: `ONBUILD`'s own keyword) fills with the
    build context's files (`context.copied_context`)."""
    words = [w for command in split_commands(instruction.arguments.text, instruction.variables) for w in command]
    if skip and (not words or words[0].text.upper() not in ("COPY", "ADD")):
        return
    stage.context = (*stage.context, *copied_context(words[skip:], stage, stages.named))


def _workdir(instruction: Instruction, stage: Stage) -> None:
    words = [w for command in split_commands(instruction.arguments.text, instruction.variables) for w in command]
    stage.workdir = resolve(words[0].text, stage.workdir) if len(words) == 1 else None


def _copy(instruction: Instruction, stages: set[str], scan: ScriptScan) -> None:
    """`COPY --from=image ...` pulls files out of an image; its sources (not its destination) may be toolkit paths."""
    placed = instruction.arguments
    words = [w for command_words in split_commands(placed.text, instruction.variables) for w in command_words]
    for word in words:
        if word.text.startswith("--from="):
            _image(word, len("--from="), placed, stages, scan)
    sources = [w for w in words if not w.text.startswith("--")][:-1]
    toolkit_paths(sources, placed, scan)


def _image(
    word: Word, start: int, placed: Placed, stages: set[str], scan: ScriptScan, base: bool = False
) -> dict[str, Portability] | None:
    """An image reference; `base`: a stage's `FROM` image, which a fix may replace. Returns the catalog's
    facts about the image, if it has any."""
    reference = word.text[start:]
    if reference.lower() in stages or reference.isdigit() or reference == "scratch":
        return None
    known = image_entry(reference, scan.catalog)
    if known is None:
        return None
    entry, found = known
    fix = image_fix(entry, found.fields, word, placed, scan.fix) if base else None
    scan.report_word(entry, placed, word, start, len(word.text), fix)
    return entry.targets


# -- ENV, ARG ---------------------------------------------------------------------------


def _variables(instruction: Instruction, scan: ScriptScan, stage: Stage | None) -> None:
    """`ENV A=1 B=2`, `ENV A 1`, `ARG A[=1]`: a known variable at its name, else toolkit paths in its
    value. In a stage built on a CUDA image, a setting that only locates that image's toolkit follows
    from the base (`_follows_base`)."""
    placed = instruction.arguments
    words = [w for command in split_commands(placed.text) for w in command]
    if not words:
        return
    in_cuda_image = stage is not None and stage.cuda is not None
    locations = toolkit_variables(scan.catalog) if in_cuda_image else frozenset()
    configured = _base_settings(scan.catalog) if in_cuda_image else {}
    settle = partial(_follows_base, line=stage.line) if in_cuda_image and stage is not None else None
    pairs = [(w, w.text.partition("=")[0]) for w in words] if "=" in words[0].text else [(words[0], words[0].text)]
    build_switches(words, placed, scan)  # `ENV CMAKE_ARGS="-DGGML_CUDA=on"`
    for word, name in pairs:
        value = word.text.partition("=")[2] if "=" in words[0].text else " ".join(w.text for w in words[1:])
        entry = scan.catalog.lookup_setting(ENV_VAR, name, value) or scan.catalog.lookup(CONTAINER_ENV, name)
        if entry is not None and settle is not None and name in locations:
            scan.report_word(settle(entry), placed, word, 0, len(name))
        elif entry is not None and settle is not None and name in configured:
            scan.report_word(settle(entry, why=configured[name]), placed, word, 0, len(name))
        elif entry is not None:
            scan.setting(entry, placed, word, name)
        else:
            toolkit_paths([word] if "=" in words[0].text else words[1:], placed, scan, settle)


_BASE_SETTINGS = ("runtime_settings", "build_settings")
"""The catalog's tables of variables that follow from a CUDA base: `[runtime_settings]`, which only
NVIDIA's container runtime reads and NVIDIA's CUDA images set already, and `[build_settings]`, which
only the CUDA build of PyTorch such a base brings reads (`TORCH_CUDA_ARCH_LIST`)."""


def _base_settings(catalog: Catalog) -> dict[str, str]:
    """The variables of the catalog's `_BASE_SETTINGS` tables, with why they follow from a CUDA base."""
    return {
        name: table["why"]
        for kind in _BASE_SETTINGS for _, table in catalog.tables(kind) for name in table.get("variables", ())
    }


def _follows_base(entry: Entry, line: int, why: str = "") -> Entry:
    """A toolkit location (or, with `why`, a setting only the base's runtime or CUDA build reads) set in a stage built
    on a CUDA image: it points into the base, whose own finding is the lock-in; on another base nothing
    reads it. A note on every target, naming the base."""
    why = why.format(line=line) if why else (
        f"the stage's CUDA image (line {line}) carries the toolkit this points into; a ROCm or CPU base leaves it pointing at nothing anything reads"
    )
    targets = {
        target: replace(fact, severity=Severity.NOTE, replacement=f"{fact.replacement} ({why})" if fact.replacement else why)
        for target, fact in entry.targets.items()
    }
    return replace(entry, targets=targets)


# -- RUN, CMD, ENTRYPOINT, HEALTHCHECK ---------------------------------------------------


def _scripts(instruction: Instruction, scan: ScriptScan) -> None:
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
        scan_command(words, placed, instruction.variables, scan)
    if instruction.keyword == "RUN" and _runs_heredoc_as_script(commands):
        for body in instruction.heredocs:
            for words in split_commands(body.text, instruction.variables):
                scan_command(words, body, instruction.variables, scan)


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
