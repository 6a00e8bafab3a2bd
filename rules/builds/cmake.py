"""The CMake analyzer: `CMakeLists.txt` and `*.cmake` files that build CUDA.

CMake's syntax is small and regular: commands `name(arguments)`, with quoted, bracket and
unquoted arguments and `#` comments. It is tokenised here (no well-kept Python parser for
it exists) and every command is checked for what makes a build CUDA-only: the CUDA language,
CUDA packages and FindCUDA commands, CUDA architecture and `CMAKE_CUDA_*` variables, `CUDA::`
targets, and nvcc flags. Commands in an `if()` branch for HIP/ROCm are the port itself and
never findings; those in its CUDA sibling are at most notes.
"""

from __future__ import annotations

import bisect
import itertools
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from cudaudit.facts import NO_FACTS, BuildMode, FileFacts, RocmBuild
from cudaudit.model import Finding, Severity, Span
from cudaudit.rules.builds import nvcc_flags
from cudaudit.rules.builds.cmake_options import off_options, opt_in_commands, set_on
from cudaudit.rules.builds.cmake_sides import branch_states, cuda_language_arguments, under_found_cuda, with_cuda_sides
from cudaudit.rules.builds.goes_without import rocm_goes_without
from cudaudit.rules.builds.rocm_builds import line_evidence
from cudaudit.rules.catalog import Catalog, Entry, build_finding
from cudaudit.rules.kernels.preprocessor import LineState, names_hip
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines, UnparsableError

_TOKEN = re.compile(
    r"""
    (?P<comment>\#\[(?P<ceq>=*)\[.*?\](?P=ceq)\]|\#[^\n]*)
  | (?P<bracket>\[(?P<beq>=*)\[.*?\](?P=beq)\])
  | (?P<quoted>"(?:\\.|[^"\\])*")
  | (?P<open>\()
  | (?P<close>\))
  | (?P<word>(?:\\.|[^\s()#"\\])+)
  | (?P<space>\s+)
  | (?P<other>.)
    """,
    re.X | re.S,
)
_CONDITION_WORD = re.compile(r"[^a-z0-9]+")
_COMMAND_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENV = re.compile(r"^\$?ENV\{(\w+)\}$")
_NOT_ARGUMENTS = frozenset({"if", "elseif", "else", "endif", "while", "endwhile", "message", "option"})
"""Commands whose arguments test or print settings rather than make them."""
_PROJECT_KEYWORDS = frozenset({"VERSION", "DESCRIPTION", "HOMEPAGE_URL", "LANGUAGES"})
_OPTIONAL_CUDA_QUIET = frozenset({"cpu"})
"""Where a branch needs a CUDA compiler the build found (`if(CMAKE_CUDA_COMPILER)`), a CPU host builds
the rest and loses nothing it could run; a GPU host without CUDA loses that part (at most a warning)."""
_COMPARISONS = frozenset({"STREQUAL", "MATCHES", "EQUAL", "IN_LIST", "STRLESS", "STRGREATER"})
"""Binary tests a `NOT` before their left operand negates as a whole."""
_OPT_IN = "; only where the installer turns on `{}`, an option that is off by default and that the project's plain build leaves off"
_FALSE_CONSTANTS = frozenset({"OFF", "FALSE", "NO", "N", "0", "IGNORE", "NOTFOUND"})
"""CMake's false constants (the `if()` documentation)."""


@dataclass(frozen=True)
class Argument:
    text: str
    """Without its quotes or brackets."""
    start: int
    """Offset of `text` in the file."""
    quoted: bool


@dataclass(frozen=True)
class Command:
    name: str
    start: int
    arguments: list[Argument]


def analyze_cmake(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    """Findings for one CMake file; raises UnparsableError for an unterminated command. In a file of a
    build the project runs for CUDA only (`facts.rocm_goes_without`), a ROCm site is at most a warning."""
    lines = SourceLines(text)
    offsets = _LineOffsets(text)
    findings = []
    gate = facts.rocm_goes_without
    commands = list(_commands(text, offsets))
    hip_arm = _has_hip_arm(commands, _branch_kinds(commands))
    cuda_language = cuda_language_arguments(commands) if hip_arm else set()
    optional = set() if hip_arm else {id(commands[index]) for index in under_found_cuda(commands)}
    opted = {id(commands[index]): option for index, option in opt_in_commands(commands, facts.opt_in_options).items()}
    for command, state in _with_branches(commands):
        if state is LineState.PORTED:
            continue
        another = id(command) in optional or id(command) in opted
        cap = Severity.NOTE if state is LineState.CUDA_ONLY else Severity.WARNING if another else None
        quiet = _OPTIONAL_CUDA_QUIET if id(command) in optional else frozenset()
        for entry, start, end in _hits(command, catalog):
            if gate is not None and "rocm" in entry.targets:
                entry = rocm_goes_without(entry, gate)
            span = offsets.span(start, end)
            hit_cap = Severity.NOTE if _within(start, command, cuda_language) else cap
            finding = build_finding(entry, path, span, lines.snippet(span), settings.targets, quiet=quiet, cap=hit_cap)
            if id(command) in opted:
                finding = replace(finding, message=f"{finding.message}{_OPT_IN.format(opted[id(command)])}")
            findings.append(finding)
    return findings


def option_settings(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The options a CMake file declares off by default, and the variables it sets on
    (`cmake_options`); nothing for a file that does not parse."""
    try:
        commands = list(_commands(text, _LineOffsets(text)))
    except UnparsableError:
        return frozenset(), frozenset()
    return frozenset(off_options(commands)), frozenset(set_on(commands))


def _within(start: int, command: Command, starts: set[int]) -> bool:
    """Whether the offset `start` lies in an argument of `command` that begins at one of `starts`."""
    return any(a.start <= start < a.start + len(a.text) for a in command.arguments if a.start in starts)


def _commands(text: str, offsets: _LineOffsets) -> Iterator[Command]:
    tokens = [m for m in _TOKEN.finditer(text) if m.lastgroup not in ("space", "comment")]
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if (
            token.lastgroup == "word"
            and index + 1 < len(tokens)
            and tokens[index + 1].lastgroup == "open"
            and _COMMAND_NAME.fullmatch(token.group())
        ):
            arguments, index = _arguments(tokens, index + 2, token.start(), offsets)
            yield Command(token.group().lower(), token.start(), arguments)
            continue
        index += 1


def _arguments(tokens: list[re.Match], index: int, start: int, offsets: _LineOffsets) -> tuple[list[Argument], int]:
    arguments: list[Argument] = []
    depth = 1
    while index < len(tokens):
        token = tokens[index]
        kind = token.lastgroup
        index += 1
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth == 0:
                return arguments, index
        elif kind == "quoted":
            arguments.append(Argument(token.group()[1:-1], token.start() + 1, True))
        elif kind == "bracket":
            opening = token.group().index("[", 1) + 1
            arguments.append(Argument(token.group()[opening : -opening], token.start() + opening, True))
        elif kind == "word":
            arguments.append(Argument(token.group(), token.start(), False))
    raise UnparsableError("a command's `(` is never closed", offsets.line(start))


def _with_branches(commands: Iterable[Command]) -> Iterator[tuple[Command, LineState]]:
    """Each command with the state its enclosing `if()` branches give it."""
    listed = list(commands)
    kinds = _branch_kinds(listed)
    if _has_hip_arm(listed, kinds):
        kinds = with_cuda_sides(listed, kinds)
    for command, state in zip(listed, branch_states(listed, kinds), strict=True):
        if state is not None:
            yield command, state


def _has_hip_arm(commands: list[Command], kinds: dict[int, str]) -> bool:
    """A build with a branch for HIP, or one that compiles HIP sources: its other parts may be CUDA's alone."""
    return "hip" in kinds.values() or any(_compiles_hip(command) for command in commands)


def _branch_kinds(commands: list[Command]) -> dict[int, str]:
    """The kind of each `if`/`elseif`/`else` branch, by the index of its command. In a chain with a
    HIP branch, a branch whose condition names CUDA (`if(BUILD_CUDA) ... elseif(BUILD_HIP)`, a
    backend option compared with `"cuda"`) is the CUDA side wherever it stands in the chain."""
    kinds: dict[int, str] = {}
    chains: list[list[int]] = []  # per open if(): the indices of its branch commands
    for index, command in enumerate(commands):
        if command.name == "if":
            chains.append([index])
            kinds[index] = _branch_kind(command)
        elif command.name in ("elseif", "else") and chains:
            earlier = [kinds[i] for i in chains[-1]]
            kinds[index] = _branch_kind(command, after=earlier) if command.name == "elseif" else _else_kind(earlier)
            chains[-1].append(index)
        elif command.name == "endif" and chains:
            _cuda_sides(chains.pop(), commands, kinds)
    for chain in chains:  # unterminated
        _cuda_sides(chain, commands, kinds)
    return kinds


def _cuda_sides(chain: list[int], commands: list[Command], kinds: dict[int, str]) -> None:
    if any(kinds[i] == "hip" for i in chain):
        for i in chain:
            if kinds[i] == "neutral" and _names_cuda(commands[i]):
                kinds[i] = "cuda"


def _names_cuda(command: Command) -> bool:
    """`if(BUILD_CUDA)`, `if(GGML_CUDA)`, `if(${BACKEND} STREQUAL "cuda")`; not `if(NOT USE_CUDA)` nor
    `if(NOT BACKEND STREQUAL "cuda")`, which hold on every other build."""
    words = [a.text for a in command.arguments]
    return any(
        "cuda" in _CONDITION_WORD.split(word.strip("${}").lower()) and not _negated(words, i)
        for i, word in enumerate(words)
    )


def _branch_kind(command: Command, after: list[str] | None = None) -> str:
    """`hip` for `if(USE_ROCM)`, `cuda` for `if(NOT USE_ROCM)` or a branch after a HIP one.

    A condition with `OR` (`if(USE_ROCM OR USE_CUDA)`) may hold on either build: neutral. A
    backend option compared with a HIP name (`if(GPU_BACKEND STREQUAL "hip")`) is a HIP branch.
    """
    words = [a.text for a in command.arguments]  # quoted too: `if(BACKEND STREQUAL "hip")`
    if any(word.upper() == "OR" for word in words):
        return "cuda" if after and "hip" in after else "neutral"
    for index, word in enumerate(words):
        if names_hip(word.strip("${}")):
            return "cuda" if _negated(words, index) else "hip"
    return "cuda" if after and "hip" in after else "neutral"


def _negated(words: list[str], index: int) -> bool:
    """Whether a `NOT` applies to the word at `index`: right before it, or before the left operand of
    the comparison it is the right operand of (`NOT BACKEND STREQUAL "hip"`: CMake compares first)."""
    before = [word.upper() for word in words[:index]]
    if before[-1:] == ["NOT"]:
        return True
    return len(before) >= 3 and before[-1] in _COMPARISONS and before[-3] == "NOT"


def _else_kind(branches: list[str]) -> str:
    if "hip" in branches:
        return "cuda"
    return "hip" if "cuda" in branches and branches.count("neutral") == 0 else "neutral"


def _hits(command: Command, catalog: Catalog) -> Iterator[tuple[Entry, int, int]]:
    def found(detector: str, key: str, argument: Argument) -> Iterator[tuple[Entry, int, int]]:
        entry = catalog.lookup(detector, key)
        if entry is not None:
            yield entry, argument.start, argument.start + len(argument.text)

    words = [a for a in command.arguments if not a.quoted]
    if command.name == "project":
        languages = words[1:]
        if any(w.text == "LANGUAGES" for w in words):
            languages = words[[w.text for w in words].index("LANGUAGES") + 1 :]
        for word in languages:
            if word.text in _PROJECT_KEYWORDS:
                break
            if word.text == "CUDA":
                yield from found("cmake-language", "CUDA", word)
    elif command.name == "enable_language":
        for word in words:
            if word.text == "CUDA":
                yield from found("cmake-language", "CUDA", word)
    elif command.name == "find_package" and words:
        yield from found("cmake-package", words[0].text, words[0])
    command_entry = catalog.lookup("cmake-package", command.name)
    if command_entry is not None:  # FindCUDA's `cuda_add_library(...)`
        yield command_entry, command.start, command.start + len(command.name)
    if command.name in _NOT_ARGUMENTS:
        return
    arguments = command.arguments
    for index, argument in enumerate(arguments):
        if not argument.quoted and not _turned_off(arguments[index + 1 : index + 2]):
            yield from _variable_or_target(argument, catalog)
        yield from _flags(argument, catalog)


def _turned_off(value: list[Argument]) -> bool:
    """A setting given a false constant (`CUDA_ARCHITECTURES OFF`): it configures nothing for nvcc
    (CMake adds no architecture flags), so it ties the build to no NVIDIA GPU."""
    return bool(value) and not value[0].quoted and value[0].text.upper() in _FALSE_CONSTANTS


def _variable_or_target(argument: Argument, catalog: Catalog) -> Iterator[tuple[Entry, int, int]]:
    name = argument.text
    environment = _ENV.match(name)
    start = argument.start
    if environment:
        name = environment.group(1)
        start += argument.text.index(name)
    entry = catalog.lookup("cmake-variable", name)
    if entry is None and name.startswith("CMAKE_CUDA_"):
        entry = catalog.lookup("cmake-variable", "CMAKE_CUDA_*")
    if entry is None and name.startswith("CUDA::"):
        entry = catalog.lookup("cmake-target", name) or catalog.lookup("cmake-target", "CUDA::*")
    if entry is not None:
        yield entry, start, start + len(name)


def _flags(argument: Argument, catalog: Catalog) -> Iterator[tuple[Entry, int, int]]:
    """nvcc flags in an argument, also inside `;`-lists and generator expressions."""
    text = argument.text
    if "-" not in text and "arch=" not in text:
        return
    for piece in re.finditer(r"[^;\s]+", text):
        word = piece.group()
        offset = piece.start()
        if word.startswith("$<") and ":" in word:  # $<$<COMPILE_LANGUAGE:CUDA>:--use_fast_math>
            inner = word.rsplit(":", 1)[1]
            offset += len(word) - len(inner)
            word = inner
        word = word.rstrip(">")  # the end of a generator expression
        for start, end, key in nvcc_flags.flags_in(word):
            entry = catalog.lookup("nvcc-flag", key)
            if entry is not None:
                yield entry, argument.start + offset + start, argument.start + offset + end


_HIP_COMMANDS = frozenset({"hip_add_library", "hip_add_executable"})
_SOURCE_FILE = re.compile(r"\.(?:cu|cuh|cpp|cc|cxx|c|h|hpp)$")
_SOURCE_DIR = re.compile(r"^\$\{(?:CMAKE_CURRENT_SOURCE_DIR|CMAKE_CURRENT_LIST_DIR|PROJECT_SOURCE_DIR|CMAKE_SOURCE_DIR)\}/")


def read_cmake_build(path: str, text: str) -> RocmBuild | None:
    """The ROCm build of the CMake file at display path `path`: None unless it compiles sources as
    HIP (`enable_language(HIP)`, `project(... HIP)`, `LANGUAGE HIP` on sources, `hip_add_library`).

    Its sources are those it names: in a branch a HIP build skips (`if(BUILD_CUDA)` beside
    `elseif(BUILD_HIP)`) they are compiled for CUDA only; anywhere else, for ROCm too (a `set()`
    of sources made outside both branches is taken as used by both)."""
    offsets = _LineOffsets(text)
    lines = text.split("\n")
    marker: int | None = None
    cuda_only: dict[str, int] = {}
    rocm_named: set[str] = set()
    defines: dict[str, set[LineState]] = {}
    for command, state in _with_branches(_commands(text, offsets)):
        if marker is None and _compiles_hip(command):
            marker = command.start
        for name in _defined_macros(command):
            defines.setdefault(name, set()).add(state)
        if command.name in _NOT_ARGUMENTS:
            continue
        for argument in command.arguments:
            source = _named_source(argument.text, path)
            if source is None:
                continue
            if state is LineState.CUDA_ONLY:
                cuda_only.setdefault(source, offsets.line(argument.start))
            else:
                rocm_named.add(source)
    if marker is None:
        return None
    left_out = tuple((source, line_evidence(path, line, lines)) for source, line in sorted(cuda_only.items())
                     if source not in rocm_named)
    sides = tuple(sorted((name, *_side(states)) for name, states in defines.items()))
    marked = line_evidence(path, offsets.line(marker), lines)
    return RocmBuild(path, BuildMode.HIP_LANGUAGE, marked, (), left_out, tuple(sorted(rocm_named)), sides)


_PYTHON_MODULES = frozenset({"python_add_library", "python3_add_library", "pybind11_add_module", "nanobind_add_module"})
"""Commands that build a Python extension module named by their first argument (FindPython's
`Python_add_library(name MODULE ...)`, pybind11's and nanobind's `*_add_module(name ...)`)."""
_CUDA_SOURCE = re.compile(r"\.cu$", re.IGNORECASE)


def cmake_cuda_extensions(path: str, text: str) -> tuple[str, ...]:
    """The Python extension modules the CMake file at display path `path` builds with CUDA: a module
    target (`_PYTHON_MODULES`; FindPython's only with `MODULE`) that names a `.cu` source or that a
    `target_link_libraries` of the file links to a `CUDA::` target (`CUDA::cudart`). No machine without
    a CUDA device builds or loads one with a CPU build of PyTorch (`unimportable.py`); where the same
    target is built as HIP on ROCm, only the ROCm verdicts read it otherwise, and they do not read this."""
    lowered = text.lower()
    if not any(name in lowered for name in _PYTHON_MODULES):
        return ()
    modules: dict[str, bool] = {}
    linked: set[str] = set()
    for command in _commands(text, _LineOffsets(text)):
        words = [argument.text for argument in command.arguments]
        if not words:
            continue
        if command.name in _PYTHON_MODULES and (not command.name.endswith("_library") or "MODULE" in words[1:]):
            named = modules.get(words[0], False)
            modules[words[0]] = named or any(_CUDA_SOURCE.search(word) for word in words[1:])
        elif command.name == "target_link_libraries" and any(word.startswith("CUDA::") for word in words[1:]):
            linked.add(words[0])
    return tuple(sorted(name for name, cuda in modules.items() if (cuda or name in linked) and name.isidentifier()))


_DEFINING = frozenset({"add_compile_definitions", "add_definitions", "target_compile_definitions"})
_SCOPES = frozenset({"PUBLIC", "PRIVATE", "INTERFACE"})
_MACRO_NAME = re.compile(r"(?:-D)?([A-Za-z_]\w*)(?:=.*)?$")


def _defined_macros(command: Command) -> list[str]:
    """The macros `add_compile_definitions(X)`, `add_definitions(-DX)` and
    `target_compile_definitions(t PUBLIC X=1)` define for the sources they build."""
    if command.name not in _DEFINING:
        return []
    words = [a.text for a in command.arguments]
    if command.name == "target_compile_definitions":
        words = [w for w in words[1:] if w not in _SCOPES]
    elif command.name == "add_definitions":
        words = [w for w in words if w.startswith("-D")]
    names = []
    for word in words:
        match = _MACRO_NAME.match(word)
        if match is not None and "$" not in word:
            names.append(match.group(1))
    return names


def _side(states: set[LineState]) -> tuple[bool | None, bool | None]:
    """(defined on HIP builds, defined on CUDA builds) for a macro defined in branches of `states`:
    False where no branch of that side defines it, None where one may."""
    if states == {LineState.CUDA_ONLY}:
        return False, None
    if states == {LineState.PORTED}:
        return None, False
    return None, None


def _compiles_hip(command: Command) -> bool:
    words = [a.text for a in command.arguments]
    if command.name in _HIP_COMMANDS:
        return True
    if command.name in ("enable_language", "project"):
        return "HIP" in words[1 if command.name == "project" else 0 :]
    return any(word == "LANGUAGE" and following == "HIP" for word, following in itertools.pairwise(words))


def _named_source(text: str, cmake_file: str) -> str | None:
    """The display path of the source file a CMake argument names, relative to the file's folder."""
    text = _SOURCE_DIR.sub("", text.strip())
    if not _SOURCE_FILE.search(text) or "$" in text or "*" in text or ";" in text or " " in text:
        return None
    source = posixpath.normpath(posixpath.join(posixpath.dirname(cmake_file), text))
    return None if source.startswith("..") else source


class _LineOffsets:
    """Character offsets of a text as 1-based lines and columns."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)

    def span(self, start: int, end: int) -> Span:
        line = self.line(start)
        end_line = self.line(max(start, end - 1))
        return Span(line, start - self._starts[line - 1] + 1, end_line, end - self._starts[end_line - 1] + 1)
