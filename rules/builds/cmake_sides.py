"""The parts of a CMake build with a HIP arm that only its CUDA build takes, without naming CUDA.

`cmake.py` reads the chains that name their sides (`if(GPU_BACKEND STREQUAL "hip") ... else()`).
A build with a HIP arm also keeps parts for NVIDIA GPUs behind tests that say so in other words:

- a test that an architecture list names an NVIDIA architecture (`if(ARCHS MATCHES "9\\\\.0a")`,
  `string(REGEX MATCH "sm_100a" HAS_SM100 "${TORCH_CUDA_ARCH_LIST}")` then `if(HAS_SM100)`): a ROCm
  build lists `gfx` targets, never `sm_90a`;
- a test of the CUDA compiler's or toolkit's version (`CMAKE_CUDA_COMPILER_VERSION VERSION_GREATER_EQUAL
  12.8`): a HIP build has no CUDA compiler, so no version that passes;
- a test of a variable that only such branches, or the CUDA side of the HIP chain, turn on (`set(WITH_FP4
  OFF)`, `set(WITH_FP4 ON)` in the `else()` of the ROCm test, then `if(WITH_FP4)`), leaving aside the
  branches an installer opts into (a cache setting or `option()` compared with a value other than its
  default: `if(BUILD_FP4 STREQUAL "ON")` for `set(BUILD_FP4 "AUTO" CACHE STRING ...)`), which a default
  ROCm build never takes;
- a test of what a configure-time probe prints only on a CUDA build of PyTorch (`execute_process(COMMAND
  python -c "print('1' if torch.version.cuda and ... else '0')" OUTPUT_VARIABLE HAS_SM90)`, then
  `if(HAS_SM90 STREQUAL "1")`): `torch.version.cuda` is None on ROCm builds of PyTorch.

The sources named in such branches are what the ROCm build leaves out, and their commands configure
the CUDA build alone: at most notes, as in the CUDA side of the HIP chain.

The same build hands flags to the CUDA compiler only for CUDA-language sources
(`$<$<COMPILE_LANGUAGE:CUDA>:--use_fast_math>`, or a list every use of which is such an expression,
`target_compile_options(ops PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:${GPU_FLAGS}>)`): its HIP arm compiles
HIP-language sources, which those flags never reach (CMake's `COMPILE_LANGUAGE` generator expression,
https://cmake.org/cmake/help/latest/manual/cmake-generator-expressions.7.html#genex:COMPILE_LANGUAGE).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from cudaudit.rules.kernels.preprocessor import LineState
from cudaudit.rules.python.names import ImportTable
from cudaudit.source import parse_python

if TYPE_CHECKING:
    from cudaudit.rules.builds.cmake import Command

_FALSE_CONSTANTS = frozenset({"", "OFF", "FALSE", "NO", "N", "0", "IGNORE", "NOTFOUND"})
"""CMake's false constants (the `if()` documentation), and the empty string."""
_NVIDIA_ARCHITECTURE = re.compile(
    r"(?<![\w.\\])(?:sm_?\d{2,3}[af]?|compute_\d{2,3}[af]?|\d{1,2}(?:\\*\.)\d[af]|\d{2,3}[af])(?![\w])"
)
"""An NVIDIA architecture as arch lists spell it: `sm_90a`, `compute_80`, `9.0a` (`9\\\\.0a` in a regex), `100a`;
never a `gfx90a`, which the lookbehind refuses."""
_ARCHITECTURE_LIST = re.compile(r"(?i)arch")
"""A variable named for an architecture list (`CUDA_ARCHS`, `TORCH_CUDA_ARCH_LIST`)."""
_VERSION_NUMBER = re.compile(r"\d\\*\.\d")
_CUDA_VERSIONS = frozenset({"CMAKE_CUDA_COMPILER_VERSION", "CUDAToolkit_VERSION"})
"""Versions only a CUDA compiler or toolkit gives; empty in a build without them."""
_PASSING_VERSIONS = frozenset({"VERSION_GREATER", "VERSION_GREATER_EQUAL", "VERSION_EQUAL"})
"""Comparisons an empty version never passes."""
_FOUND_CUDA = frozenset({"CMAKE_CUDA_COMPILER"})
"""Set where `check_language(CUDA)` found nvcc, false elsewhere (https://cmake.org/cmake/help/latest/module/CheckLanguage.html)."""
_TORCH_CUDA_VERSION = "torch.version.cuda"
"""None on ROCm builds of PyTorch (https://pytorch.org/docs/stable/notes/hip.html)."""
_MATCHING = frozenset({"MATCHES", "STREQUAL", "EQUAL"})
_SET_COMMANDS = frozenset({"set", "option"})
_LIST_COMMANDS = frozenset({"set", "list", "message"})
"""Commands whose uses of a variable pass it to no compiler: building the list itself, or printing it."""
_VARIABLE = re.compile(r"\$\{(\w+)\}")
_CUDA_LANGUAGE = re.compile(r"\$<(?:COMPILE_LANGUAGE|COMPILE_LANG_AND_ID):CUDA\b")


def branch_states(commands: Sequence[Command], kinds: dict[int, str]) -> list[LineState | None]:
    """Each command's state from the kinds of the branches around it (None for the `if`/`else`/`endif` themselves)."""
    states: list[LineState | None] = []
    current: list[str] = []  # per open if(): the kind of the branch the walk is in
    for index, command in enumerate(commands):
        if command.name == "if":
            current.append(kinds.get(index, "neutral"))
            states.append(None)
        elif command.name in ("elseif", "else") and current:
            current[-1] = kinds.get(index, "neutral")
            states.append(None)
        elif command.name == "endif" and current:
            current.pop()
            states.append(None)
        elif "hip" in current:
            states.append(LineState.PORTED)
        else:
            states.append(LineState.CUDA_ONLY if "cuda" in current else LineState.NEUTRAL)
    return states


def with_cuda_sides(commands: Sequence[Command], kinds: dict[int, str]) -> dict[int, str]:
    """`kinds` with the neutral `if`/`elseif` branches whose condition holds only on a CUDA build
    made CUDA sides, to a fixed point (a variable turned on in one such branch makes the next
    test of it one). For a build with a HIP arm only: elsewhere the whole build is CUDA's."""
    kinds = dict(kinds)
    probes = _cuda_probes(commands)
    while True:
        variables = _cuda_variables(commands, branch_states(commands, kinds))
        found = [
            index for index, command in enumerate(commands)
            if command.name in ("if", "elseif") and kinds.get(index) == "neutral"
            and _holds_on_cuda_only([a.text for a in command.arguments], variables, probes)
        ]
        if not found:
            return kinds
        kinds.update(dict.fromkeys(found, "cuda"))


def _holds_on_cuda_only(words: list[str], variables: set[str], probes: dict[str, set[str]] | None = None) -> bool:
    """A condition one part of whose `AND` holds only on a CUDA build; an `OR` may hold on either."""
    if any(word.upper() == "OR" for word in words):
        return False
    return any(_part_on_cuda_only(part, variables, probes or {}) for part in and_operands(words))


def and_operands(words: Sequence[str]) -> list[list[str]]:
    """The operands of a condition's `AND`s, each its words in order (the whole condition where it has none)."""
    parts: list[list[str]] = [[]]
    for word in words:
        if word.upper() == "AND":
            parts.append([])
        else:
            parts[-1].append(word)
    return parts


def _part_on_cuda_only(part: list[str], variables: set[str], probes: dict[str, set[str]]) -> bool:
    if not part or part[0].upper() == "NOT":
        return False
    if len(part) == 1:
        return _name(part[0]) in variables or _name(part[0]) in _FOUND_CUDA
    if len(part) != 3:
        return False
    left, operator, right = _name(part[0]), part[1].upper(), part[2]
    if operator in _PASSING_VERSIONS:
        return left in _CUDA_VERSIONS
    if operator == "STREQUAL" and right in probes.get(left, ()):
        return True
    if operator in _MATCHING:
        return _names_nvidia_architecture(right, left)
    if operator == "IN_LIST":
        return _names_nvidia_architecture(part[0], _name(right))
    return False


def _names_nvidia_architecture(value: str, variable: str) -> bool:
    """Whether a value (or a pattern) tested against `variable` names an NVIDIA architecture: spelled
    as one (`sm_90a`, `9.0a`), or a version number tested against an architecture list (`9.0` in `CUDA_ARCHS`)."""
    if "gfx" in value.lower():
        return False
    if _NVIDIA_ARCHITECTURE.search(value):
        return True
    return bool(_ARCHITECTURE_LIST.search(variable)) and bool(_VERSION_NUMBER.search(value))


def _name(word: str) -> str:
    """`V` for `V` and `${V}`."""
    return word[2:-1] if word.startswith("${") and word.endswith("}") else word


def _cuda_variables(commands: Sequence[Command], states: list[LineState | None]) -> set[str]:
    """The variables every setting of which to a true value is on the CUDA side (in such a branch, or
    a match of an NVIDIA architecture), with at least one, the settings an installer opts into aside
    unless they are on the CUDA side too (`if(BACKEND STREQUAL "cuda")` beside `elseif(BACKEND STREQUAL
    "hip")`, for a cache default of `cpu`): `if(V)` holds only on a CUDA build."""
    settings: dict[str, list[bool]] = {}
    opted = _opted_in(commands)
    for index, (command, state) in enumerate(zip(commands, states, strict=True)):
        words = [a.text for a in command.arguments]
        cuda_side = state is LineState.CUDA_ONLY
        if command.name in _SET_COMMANDS and words:
            value = words[2:3] if command.name == "option" else [w for w in words[1:] if w not in ("CACHE", "PARENT_SCOPE")][:1]
            sides = settings.setdefault(words[0], [])
            if value and value[0].upper() not in _FALSE_CONSTANTS and (cuda_side or index not in opted):
                sides.append(cuda_side)
        elif index in opted and not cuda_side:
            continue
        elif command.name == "string" and len(words) >= 4 and words[0] == "REGEX" and words[1] == "MATCH":
            settings.setdefault(words[3], []).append(cuda_side or _names_nvidia_architecture(words[2], ""))
        elif command.name == "list" and len(words) >= 3 and words[0] in ("APPEND", "PREPEND", "INSERT"):
            settings.setdefault(words[1], []).append(cuda_side)
    return {name for name, sides in settings.items() if sides and all(sides)}


def _cache_defaults(commands: Sequence[Command]) -> dict[str, str]:
    """The default of each setting the installer may give (`set(V "AUTO" CACHE STRING ...)`,
    `option(V "..." OFF)`), upper-cased."""
    defaults: dict[str, str] = {}
    for command in commands:
        words = [a.text for a in command.arguments]
        if command.name == "option" and words:
            defaults.setdefault(words[0], (words[2] if len(words) > 2 else "OFF").upper())
        elif command.name == "set" and len(words) >= 3 and "CACHE" in words[2:]:
            defaults.setdefault(words[0], words[1].upper())
    return defaults


def _opted_in(commands: Sequence[Command]) -> set[int]:
    """The commands inside a branch taken only where the installer gave a setting another value
    than its default (`if(BUILD_FP4 STREQUAL "ON")` for a default of `AUTO`, `if(WITH_X)` for `OFF`)."""
    defaults = _cache_defaults(commands)
    if not defaults:
        return set()
    return _inside_branches(commands, lambda words: _opts_in(words, defaults))


def _opts_in(words: list[str], defaults: dict[str, str]) -> bool:
    """`V STREQUAL "ON"` where V's default is another value, or `V` alone where it is false."""
    if len(words) == 1:
        return _name(words[0]) in defaults and defaults[_name(words[0])] in _FALSE_CONSTANTS
    if len(words) == 3 and words[1].upper() == "STREQUAL" and _name(words[0]) in defaults:
        return words[2].upper() != defaults[_name(words[0])]
    return False


def cuda_language_arguments(commands: Sequence[Command]) -> set[int]:
    """The starts of the arguments that reach the compiler only for CUDA-language sources: those
    inside a `$<COMPILE_LANGUAGE:CUDA>` expression, and the values set into a list variable every use
    of which is inside one. For a build with a HIP arm only: elsewhere every source is CUDA's."""
    inside: set[int] = set()
    uses: dict[str, list[bool]] = {}
    for command in commands:
        balance = 0  # the expression's `$<` still open after the arguments read so far
        for argument in command.arguments:
            text = argument.text
            opened = _CUDA_LANGUAGE.search(text)
            within = balance > 0 or opened is not None
            if within:
                inside.add(argument.start)
                start = 0 if balance > 0 or opened is None else max(opened.start() - 2, 0)
                balance = max(balance + text.count("$<", start) - text.count(">", start), 0)
            if command.name not in _LIST_COMMANDS:
                for variable in _VARIABLE.findall(text):
                    uses.setdefault(variable, []).append(within)
    flag_lists = {name for name, found in uses.items() if found and all(found)}
    for command in commands:
        words = [a.text for a in command.arguments]
        target = words[0] if command.name == "set" and words else words[1] if command.name == "list" and len(words) > 1 else None
        if target in flag_lists:
            inside.update(argument.start for argument in command.arguments[1:])
    return inside


def under_found_cuda(commands: Sequence[Command]) -> set[int]:
    """The commands inside a branch taken only where CMake found a CUDA compiler
    (`check_language(CUDA)`, then `if(CMAKE_CUDA_COMPILER)`): the build goes on without them elsewhere,
    so a host without CUDA loses that part and builds the rest. Only in a file that checks for the
    language: elsewhere the compiler is there because the build requires it."""
    if not any(command.name == "check_language" and [a.text for a in command.arguments] == ["CUDA"] for command in commands):
        return set()
    return _inside_branches(commands, lambda words: _holds_on_cuda_only(words, set()) and _tests_found_cuda(words))


def _inside_branches(commands: Sequence[Command], takes: Callable[[list[str]], bool]) -> set[int]:
    """The indexes of the commands inside an `if()`/`elseif()` branch whose condition's words
    `takes` holds for, however deep (an `else()` branch never)."""
    found: set[int] = set()
    current: list[bool] = []  # per open if(): whether the branch the walk is in is one `takes` holds for
    for index, command in enumerate(commands):
        words = [a.text for a in command.arguments]
        if command.name == "if":
            current.append(takes(words))
        elif command.name == "elseif" and current:
            current[-1] = takes(words)
        elif command.name == "else" and current:
            current[-1] = False
        elif command.name == "endif" and current:
            current.pop()
        elif any(current):
            found.add(index)
    return found


def _tests_found_cuda(words: list[str]) -> bool:
    return any(_name(word) in _FOUND_CUDA for word in words)


def _cuda_probes(commands: Sequence[Command]) -> dict[str, set[str]]:
    """For each `execute_process` output variable, the answers its Python probe prints only on a CUDA
    build of PyTorch: `print("1" if torch.cuda.is_available() and torch.version.cuda else "0")` gives
    `{"1"}`. The probe is parsed, never run."""
    probes: dict[str, set[str]] = {}
    for command in commands:
        if command.name != "execute_process":
            continue
        words = [a.text for a in command.arguments]
        output = words[words.index("OUTPUT_VARIABLE") + 1] if "OUTPUT_VARIABLE" in words[:-1] else None
        code = words[words.index("-c") + 1] if "-c" in words[:-1] else None
        if output is not None and code is not None:
            answers = _printed_on_cuda_only(code.replace("\\n", "\n"))
            if answers:
                probes.setdefault(output, set()).update(answers)
    return probes


def _printed_on_cuda_only(code: str) -> set[str]:
    """The constants a probe prints as the true arm of a test that needs `torch.version.cuda`."""
    try:
        tree = parse_python(code)
    except (SyntaxError, ValueError, RecursionError):
        return set()
    names = ImportTable(tree)
    answers: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print" and node.args):
            continue
        printed = node.args[0]
        if isinstance(printed, ast.IfExp) and isinstance(printed.body, ast.Constant) and _needs_torch_cuda(printed.test, names):
            answers.add(str(printed.body.value))
    return answers


def _needs_torch_cuda(test: ast.expr, names: ImportTable) -> bool:
    """`torch.version.cuda`, or an `and` one of whose parts is."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_needs_torch_cuda(value, names) for value in test.values)
    return names.resolve(test) == _TORCH_CUDA_VERSION
