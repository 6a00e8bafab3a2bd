"""The findings of shell commands, wherever a shell script is written.

A Dockerfile `RUN`, a `.sh` script, a Makefile recipe and a notebook's `!pip install` line all
run shell commands; one reader (`shell.py`, `commands.py`) splits them and this module asks the
catalog about what each command does: the program it runs (`cli-tool`, `modprobe nvidia`
included), what it installs (system packages, pip/uv requirements and indexes through the shared
requirement resolver, conda specs and channels), the variables it sets (`env-var`), toolkit paths
it spells out, CUDA build switches (`-DGGML_CUDA=on`), Docker's NVIDIA GPU options, the image
`docker run` starts (the catalog's image tables, as for a Dockerfile's `FROM`), and the NCCL
backend and the CUDA device given to a program's option (`--dist-backend nccl`, `--vllm.sync_backend=nccl`,
`--device cuda:0`), which the Python analyzer reports where a script hardcodes them (`dist-backend`,
`device-string`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache

from cudaudit.facts import Evidence
from cudaudit.model import Finding, Fix, Severity, Status
from cudaudit.resolvers.requirements import PackageHit, best_key, index_hits, pinned_torch, requirement_hits
from cudaudit.rules.catalog import Catalog, Entry, build_finding
from cudaudit.rules.containers.commands import (
    PRINTERS,
    Command,
    command,
    compiles,
    conda_install,
    docker_gpu_options,
    docker_run,
    nested_script,
    only_sets,
    pip_install,
    probe,
    system_packages,
    variable_assignments,
)
from cudaudit.rules.containers.images import image_entry
from cudaudit.rules.containers.shell import Word, split_commands
from cudaudit.rules.dependencies.report import DependencyContext, Placed, findings, unique
from cudaudit.rules.dependencies.rewrites import FixTarget
from cudaudit.settings import AnalysisSettings
from cudaudit.verdicts import another_path, retarget

TOOLKIT_PATH = "toolkit-path"
SYSTEM_PACKAGE = "system-package"
ENV_VAR = "env-var"
CLI_TOOL = "cli-tool"
CONDA_PACKAGE = "conda-package"
CONDA_BUILD = "conda-build"
CONDA_CHANNEL = "conda-channel"
BUILD_SWITCH = "build-switch"
DOCKER_GPU = "docker-gpu"
DIST_BACKEND = "dist-backend"
DEVICE_STRING = "device-string"

_MAX_NESTING = 3
_SWITCH = re.compile(r"(?:^|-D|\s)([A-Za-z_][A-Za-z0-9_]*)=(?i:on|1|true|yes)\b")
"""`-DGGML_CUDA=on` (a CMake cache switch turned on) or `LLAMA_CUBLAS=1` (a make variable)."""
_BUILDERS = frozenset({"cmake", "make", "gmake", "pip", "pip3", "uv", "python", "python3"})
"""Commands whose arguments may carry build switches (`pip install -C cmake.args=-DGGML_CUDA=on`)."""
_OPTION_NAME = re.compile(r"-{0,2}([A-Za-z_][\w.-]*)")
_NOT_A_WORD = re.compile(r"[^a-z0-9]+")
_OPTION_IN_STRING = re.compile(r"(?<![\w.-])(-{1,2}[A-Za-z_][\w.-]*)(?:=|[ \t]+)([\w:]+)(?![\w.:-])")
"""An option and its value inside a string of options: `--distributed-backend nccl`, `--device cuda:0`."""
_CUDA_DEVICE = re.compile(r"cuda(?::[0-9]+)?", re.IGNORECASE)
"""`cuda`, `cuda:0`: a CUDA device as a program's option takes it."""


CommandObserver = Callable[[list[Word], "Command | None", Placed, Mapping[str, str]], None]
"""`(words, command, placed, variables)`: one simple command as the scan sees it."""


@dataclass
class ScriptScan:
    """What the shell commands of one file yield: findings, and pip hits kept until the torch pin is known."""

    path: str
    catalog: Catalog
    settings: AnalysisSettings
    fix: FixTarget | None = None
    """The one target to attach fixes for (`cudaudit fix --target`)."""
    on_command: CommandObserver | None = None
    """Called with every simple command before it is scanned (a Dockerfile stage reads its build steps)."""
    found: list[Finding] = field(default_factory=list)
    pip_hits: list[tuple[Placed, list[PackageHit]]] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    rocm_switch: Evidence | None = None
    """The first switch that builds the same sources for ROCm (`-DGGML_HIP=ON`), if the file has one."""
    locations: list[Finding] = field(default_factory=list)
    """The findings of settings that only say where a CUDA toolkit is (`export CUDA_HOME=...`)."""
    builds: list[tuple[int, int]] = field(default_factory=list)
    """Where each command that compiles native code starts (line, column)."""
    in_base: Callable[[Entry], Entry] | None = None
    """What a Dockerfile stage built on a CUDA image makes of a setting that only points into that
    image's toolkit (`_follows_base` in `dockerfile.py`), while one of its `RUN`, `CMD` or `ENTRYPOINT` lines is scanned."""
    docker_aside: Evidence | None = None
    """Why the project's Docker route is one among others (`FileFacts.docker_aside`): the container a
    `docker run` of this file starts, and the GPUs it asks for, are that route's, another path."""

    def report(
        self, entry: Entry | None, placed: Placed, start: int, end: int, text: str, fix: Fix | None = None
    ) -> Finding | None:
        if entry is None:
            return None
        span = placed.span(start, end)
        finding = build_finding(entry, self.path, span, text, self.settings.targets, fix=fix)
        self.found.append(finding)
        return finding

    def report_word(
        self, entry: Entry | None, placed: Placed, word: Word, start: int, end: int, fix: Fix | None = None
    ) -> Finding | None:
        """A finding on `word.text[start:end]`, wherever quotes or expansions put those characters."""
        return self.report(entry, placed, *word.offsets(start, end), word.text[start:end], fix)

    def setting(self, entry: Entry | None, placed: Placed, word: Word, name: str) -> None:
        """The setting of the variable `name` (`word` is `NAME=value`), with the catalog's `entry` for it;
        one that only says where a CUDA toolkit is waits for `results` to know whether a build follows."""
        finding = self.report_word(entry, placed, word, 0, len(name))
        if finding is not None and name in toolkit_variables(self.catalog):
            self.locations.append(finding)

    def pip(self, placed: Placed, word: Word, hits: Iterable[PackageHit], shift: int = 0) -> None:
        """Each hit at its place in the script; hits that land on one place (the characters of one
        `${FILE}` reference) are one site, with the worst verdict of them."""
        placed_hits: dict[tuple[int, int], list[PackageHit]] = {}
        for hit in hits:
            start, end = word.offsets(hit.start + shift, hit.end + shift)
            placed_hits.setdefault((start, end), []).append(replace(hit, start=start, end=end))
        self.pip_hits.extend((placed, group) for group in placed_hits.values())

    def results(self) -> list[Finding]:
        """Every finding, the pip hits placed now that every requirement of the file is known. Where the
        file also builds the same sources for ROCm (`-DGGML_HIP=ON` beside `-DGGML_CUDA=ON`), the CUDA
        switch is the NVIDIA side of a choice of backends: a note on ROCm, naming the ROCm switch."""
        context = DependencyContext(torch=pinned_torch(self.requirements), fix=self.fix)
        for placed, hits in self.pip_hits:
            self.found.extend(findings(placed, hits, self.path, self.catalog, self.settings, context))
        self.pip_hits = []
        if self.locations:
            self.found = [self._unread(finding) for finding in self.found]
            self.locations = []
        if self.rocm_switch is not None:
            self.found = [self._beside_rocm(finding) for finding in self.found]
        return unique(self.found)

    def _unread(self, finding: Finding) -> Finding:
        """A toolkit location that no compile after it in the file reads: on a host without that toolkit
        nothing reads it (PyTorch's extension builds look for `CUDA_HOME` only on a CUDA build of PyTorch,
        and for `ROCM_HOME`/`ROCM_PATH` on a ROCm one): a note on every target. What compiles CUDA code
        with it is reported where it compiles."""
        if not any(finding is location for location in self.locations):
            return finding
        at = (finding.span.line, finding.span.column)
        if any(build >= at for build in self.builds):
            return finding
        why = "nothing this file runs after it compiles code, and only a CUDA build reads the variable"
        source = next((table["source"] for _, table in self.catalog.tables("toolkit_settings") if "source" in table), None)
        return retarget(finding, {
            target: fact if fact.severity is Severity.NOTE else replace(
                fact, status=Status.WORKS, replacement=why, source=source or fact.source, severity=Severity.NOTE
            )
            for target, fact in finding.targets.items()
        })

    def _beside_rocm(self, finding: Finding) -> Finding:
        rule = self.catalog.rules.get(finding.rule)
        fact = finding.targets.get("rocm")
        if rule is None or rule.detector != BUILD_SWITCH or fact is None or self.rocm_switch is None:
            return finding
        where = self.rocm_switch
        rocm = replace(
            fact,
            replacement=f"this file also builds for ROCm with `{where.text}` (line {where.line})",
            source=where.cite(),
            severity=Severity.NOTE,
        )
        return retarget(finding, {**finding.targets, "rocm": rocm})


@cache
def toolkit_variables(catalog: Catalog) -> frozenset[str]:
    """The variables the catalog's `[toolkit_settings]` name: they only say where a CUDA toolkit is."""
    return frozenset(name for _, table in catalog.tables("toolkit_settings") for name in table.get("variables", ()))


def scan_script(placed: Placed, variables: Mapping[str, str], scan: ScriptScan, start: int = 0) -> list[Finding]:
    """Report every command of the script `placed.text[start:]`; returns the findings it added, in order."""
    before = len(scan.found)
    for words in split_commands(placed.text, variables, start):
        scan_command(words, placed, variables, scan)
    return scan.found[before:]


def scan_command(
    words: list[Word], placed: Placed, variables: Mapping[str, str], scan: ScriptScan, depth: int = 0
) -> None:
    """Report what one simple command runs, installs and sets, and the commands of `sh -c '...'`."""
    catalog = scan.catalog
    assignments = variable_assignments(words)
    # `export PATH=/usr/local/cuda/bin:$PATH` (or the line echoed into a profile) in a stage built on a
    # CUDA image points into that image's toolkit, as an `ENV` there does; a command that runs something keeps its verdict
    settle = scan.in_base if scan.in_base is not None and only_sets(words) else None
    known = []  # a variable the catalog knows carries the verdict on its value, as a Dockerfile's `ENV` does
    for word, name in assignments:
        entry = catalog.lookup_setting(ENV_VAR, name, word.text.partition("=")[2])
        if entry is not None and settle is not None and name in toolkit_variables(catalog):
            scan.report_word(settle(entry), placed, word, 0, len(name))
        else:
            scan.setting(entry, placed, word, name)
        if entry is not None:
            known.append(word)
    found = command(words)
    if found is not None and compiles(found):
        start, end = found.program.offsets(0, len(found.program.text))
        span = placed.span(start, end)
        scan.builds.append((span.line, span.column))
    if scan.on_command is not None:
        scan.on_command(words, found, placed, variables)
    if probe(words) and not _fails_otherwise(words, placed):
        return  # `[ -d /usr/local/cuda ]`, `command -v nvidia-smi`: where nothing is there the test is false
    build_switches([word for word, _ in assignments], placed, scan)
    _backend_options(words, found, placed, scan)
    _device_options(words, found, placed, scan)
    if found is None:
        return
    if found.name in _BUILDERS:
        build_switches(found.arguments, placed, scan)
    _program(found, placed, scan)
    toolkit_paths([word for word in words if not any(word is set_word for set_word in known)], placed, scan, settle)
    for word, name in system_packages(found):
        key = best_key(catalog, SYSTEM_PACKAGE, name)
        scan.report_word(catalog.lookup(SYSTEM_PACKAGE, key) if key else None, placed, word, 0, len(name))
    before = len(scan.found)
    for word, key in docker_gpu_options(found):
        scan.report_word(catalog.lookup(DOCKER_GPU, key), placed, word, 0, len(word.text))
    _container_image(found, placed, scan)
    if scan.docker_aside is not None:
        scan.found[before:] = [another_path(finding) for finding in scan.found[before:]]
    _pip(found, placed, scan)
    _conda(found, placed, scan)
    script = nested_script(found)
    if script is not None and depth < _MAX_NESTING:
        for inner in split_commands(script.text, variables):
            scan_command([_within(script, w) for w in inner], placed, variables, scan, depth + 1)


_EXITS_IF_ABSENT = re.compile(r"(?:[^\n;&|]|(?<=[<>])&)*\|\|[^\n]*\bexit\b(?![ \t]+0\b)")
"""`|| exit 1` (or a bare `exit`, which keeps the test's failing status) after a probe and its
redirections (`2>&1`): a requirement."""


def _fails_otherwise(words: list[Word], placed: Placed) -> bool:
    """`[ -d /usr/local/cuda ] || exit 1`: the script stops where the probe fails."""
    return bool(_EXITS_IF_ABSENT.match(placed.text, words[-1].end))


def _program(found: Command, placed: Placed, scan: ScriptScan) -> None:
    """`nvidia-smi`, and `modprobe nvidia` (a program whose first argument says what it does)."""
    program = found.program
    if found.arguments:
        argument = found.arguments[0]
        entry = scan.catalog.lookup(CLI_TOOL, f"{found.name} {argument.text}")
        if entry is not None:
            start, _ = program.offsets(0, len(program.text))
            _, end = argument.offsets(0, len(argument.text))
            scan.report(entry, placed, start, end, f"{program.text} {argument.text}")
            return
    scan.report_word(scan.catalog.lookup(CLI_TOOL, found.name), placed, program, 0, len(program.text))


def _container_image(found: Command, placed: Placed, scan: ScriptScan) -> None:
    """The image `docker run` starts (`ghcr.io/huggingface/text-generation-inference:3.3.5`), asked of the
    catalog's image tables as a Dockerfile's `FROM` is; the fix of a `FROM` line is not offered here."""
    run = docker_run(found)
    image = run.image if run is not None else None
    known = image_entry(image.text, scan.catalog) if image is not None else None
    if image is not None and known is not None:
        scan.report_word(known[0], placed, image, 0, len(image.text))


def _backend_options(words: list[Word], found: Command | None, placed: Placed, scan: ScriptScan) -> None:
    """`--dist-backend nccl`, `--backend=nccl`, `--vllm.sync_backend nccl`, a Hydra-style
    `dist.backend=nccl`: the NCCL backend given to an option named for a backend, at the value."""
    _option_values(words, found, placed, scan, "backend", _is_nccl, scan.catalog.lookup(DIST_BACKEND, "option"))


def _device_options(words: list[Word], found: Command | None, placed: Placed, scan: ScriptScan) -> None:
    """`--device cuda:0`, `--device=cuda`, `trainer.device=cuda`: the CUDA device given to an option
    named for a device, at the value. The program the script runs puts its tensors there wherever the
    script is run; a device index alone (`--gpu 0`) names no device type and is not read."""
    _option_values(words, found, placed, scan, "device", _is_cuda_device, scan.catalog.lookup(DEVICE_STRING, "option"))


def _is_nccl(value: str) -> bool:
    return value.lower() == "nccl"


def _is_cuda_device(value: str) -> bool:
    return _CUDA_DEVICE.fullmatch(value) is not None


def _option_values(
    words: list[Word], found: Command | None, placed: Placed, scan: ScriptScan,
    word: str, chosen: Callable[[str], bool], entry: Entry | None,
) -> None:
    """Report `entry` at each value `chosen` picks that the command gives an option named for `word`
    (`backend`, `device`). The words of a command include the elements of an array of arguments
    (`ARGS=(` then one option per line, which the shell reader splits as commands of their own); a
    word with spaces in it is a string of options kept for later (`opts="--distributed-backend nccl
    --lr 1"`, `bash -c "..."`), read option by option."""
    if entry is None or (found is not None and found.name in PRINTERS):
        return
    for position, argument in enumerate(words):
        text = argument.text
        if any(space in text for space in " \t\n"):
            for match in _OPTION_IN_STRING.finditer(text):
                if chosen(match.group(2)) and _names(match.group(1), word):
                    scan.report_word(entry, placed, argument, match.start(2), match.end(2))
            continue
        name, equals, value = text.partition("=")
        if not _names(name, word):
            continue
        if equals and chosen(value) and (text.startswith("-") or "." in name or "_" in name):
            scan.report_word(entry, placed, argument, len(name) + 1, len(text))
        elif not equals and text.startswith("-") and position + 1 < len(words):
            following = words[position + 1]
            if chosen(following.text):
                scan.report_word(entry, placed, following, 0, len(following.text))


def _names(option: str, word: str) -> bool:
    """`--dist-backend`, `--vllm.sync_backend`, `trainer.backend`: an option named for `word`."""
    name = _OPTION_NAME.fullmatch(option)
    return name is not None and word in _NOT_A_WORD.split(name.group(1).lower())


def build_switches(words: Iterable[Word], placed: Placed, scan: ScriptScan) -> None:
    """`-DGGML_CUDA=on` given to a build, `CMAKE_ARGS="-DGGML_CUDA=on"`, and make's `LLAMA_CUBLAS=1`;
    a switch that builds the same sources for ROCm (`-DGGML_HIP=ON`) is remembered."""
    for word in words:
        for match in _SWITCH.finditer(word.text):
            if match.group(1) in rocm_switches(scan.catalog):
                if scan.rocm_switch is None:
                    line, _ = placed.position(word.offsets(match.start(), match.end())[0])
                    scan.rocm_switch = Evidence(scan.path, line, match.group(0).strip())
                continue
            entry = scan.catalog.lookup(BUILD_SWITCH, match.group(1))
            scan.report_word(entry, placed, word, match.start(), match.end())


ROCM_SWITCHES = "rocm_build_switches"


@cache
def rocm_switches(catalog: Catalog) -> frozenset[str]:
    """The build switches that build a project's sources for ROCm (`[rocm_build_switches]` in the catalog)."""
    return frozenset(name for _, table in catalog.tables(ROCM_SWITCHES) for name in table.get("names", ()))


def toolkit_paths(
    words: Iterable[Word], placed: Placed, scan: ScriptScan, settle: Callable[[Entry], Entry] | None = None
) -> None:
    """`/usr/local/cuda` and the like, where the script spells them out (not through a variable);
    `settle`: what the place makes of each path's entry (a Dockerfile's `ENV` in a CUDA stage)."""
    pattern = toolkit_pattern(scan.catalog)
    if pattern is None:
        return
    for word in words:
        for match in pattern.finditer(placed.text, word.start, word.end):
            entry = scan.catalog.lookup(TOOLKIT_PATH, match.group(1))
            if entry is not None and settle is not None:
                entry = settle(entry)
            scan.report(entry, placed, match.start(), match.end(), match.group(0))


@cache
def toolkit_pattern(catalog: Catalog) -> re.Pattern[str] | None:
    """One expression for the catalog's toolkit paths, with a versioned suffix (`/usr/local/cuda-12.4`)."""
    keys = sorted(catalog.keys(TOOLKIT_PATH), key=len, reverse=True)
    if not keys:
        return None
    alternatives = "|".join(re.escape(key) for key in keys)
    return re.compile(rf"(?<![\w./-])({alternatives})(?:-[0-9][0-9.]*)?(?![\w.-])")


def _pip(found: Command, placed: Placed, scan: ScriptScan) -> None:
    install = pip_install(found)
    if install is None:
        return
    for word in install.requirements:
        scan.requirements.append(word.text)
        scan.pip(placed, word, _requirement_hits(word.text, scan.catalog))
    for word, start in install.indexes:
        url = word.text[start:]
        if "=" in url.split("://", 1)[0]:  # uv's `--index name=URL`
            start += url.index("=") + 1
        scan.pip(placed, word, index_hits(word.text[start:], scan.catalog), shift=start)


_UNKNOWN_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
"""A reference the shell reader could not expand (a variable a command substitution sets)."""


def _requirement_hits(text: str, catalog: Catalog) -> list[PackageHit]:
    """The hits of a requirement, read with each reference left unexpanded taken as some word of as
    many letters: `flash_attn-2.8.0+cu12torch2.7cxx11abi${ABI}-cp310-...whl` is a wheel of a CUDA
    build whatever `ABI` is. Each hit keeps the characters as written."""
    masked = _UNKNOWN_REFERENCE.sub(lambda match: "x" * len(match.group(0)), text) if "$" in text else text
    hits = requirement_hits(masked, catalog)
    return hits if masked == text else [replace(hit, text=text[hit.start : hit.end]) for hit in hits]


def _conda(found: Command, placed: Placed, scan: ScriptScan) -> None:
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


def _conda_key(detector: str, word: Word, start: int, end: int, placed: Placed, scan: ScriptScan) -> None:
    key = best_key(scan.catalog, detector, word.text[start:end])
    scan.report_word(scan.catalog.lookup(detector, key) if key else None, placed, word, start, end)


def _within(outer: Word, inner: Word) -> Word:
    """A word of the script inside `outer` (`bash -c '...'`), with offsets in the outer text."""
    starts = tuple(outer.starts[i] if i < len(outer.starts) else outer.end for i in inner.starts)
    ends = tuple(outer.ends[i - 1] if 0 < i <= len(outer.ends) else outer.end for i in inner.ends)
    start, end = outer.offsets(inner.start, inner.end) if inner.end > inner.start else (outer.start, outer.end)
    return Word(inner.text, starts, ends, start, end)
