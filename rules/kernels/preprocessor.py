"""Which lines sit in a preprocessor branch for HIP/ROCm, and which in its CUDA-only sibling.

Code under `#if defined(__HIP_PLATFORM_AMD__)`, `#ifdef USE_ROCM`, `#if defined(__HIPCC__)`
or the `#else` of `#ifndef USE_ROCM` is the ROCm port itself: it is never a finding. Code in a
branch whose condition excludes HIP (`#ifndef USE_ROCM`, the `#else` of `#ifdef USE_ROCM`) is
never compiled for ROCm, so what it uses cannot break a ROCm build: findings there are at most
notes. Everything else is neutral.

Directives are read line by line, not from the syntax tree: a conditional that splits an
expression leaves tree-sitter with ERROR nodes, but its lines are as clear as ever. Conditions
are evaluated three-valued, asking only "does this hold on HIP, on CUDA, or either?"; macros
that are not about HIP leave the answer open, unless the file itself defines them only on one
side (`#ifndef __HIP_PLATFORM_AMD__` / `#define HAS_PTX`): then `#ifdef HAS_PTX` is that side.
`__CUDA_ARCH__` is never defined on HIP, so `#if __CUDA_ARCH__ >= 800` is a branch HIP skips.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True)
class Build:
    """Whether a condition holds on a HIP build and on a CUDA build: True, False or unknown (None).

    Kleene's three-valued logic keeps every step sound: `!defined(USE_ROCM) && X` is false on
    HIP whatever X is, while its negation, `defined(USE_ROCM) || !X`, says nothing for certain.
    """

    on_hip: bool | None
    on_cuda: bool | None

    def negate(self) -> Build:
        return Build(_not(self.on_hip), _not(self.on_cuda))


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


def _and(values) -> bool | None:
    values = list(values)
    if False in values:
        return False
    return None if None in values else True


def _or(values) -> bool | None:
    values = list(values)
    if True in values:
        return True
    return None if None in values else False


HIP_ONLY = Build(True, False)
UNKNOWN = Build(None, None)


class LineState(Enum):
    NEUTRAL = "neutral"
    PORTED = "ported"
    """In a branch only HIP builds compile: already ported, never a finding."""
    CUDA_ONLY = "cuda-only"
    """In a branch HIP builds skip: at most a note."""


_DIRECTIVE = re.compile(
    rb"\n[ \t]*#[ \t]*(if|ifdef|ifndef|elif|elifdef|elifndef|else|endif|define)\b((?:[^\\\n]|\\.|\\\n)*)"
)
"""A conditional directive with its condition, continued over `\\`-newlines, from the newline before
its line: searched in the source after a newline put in front, so that the engine skips from newline
to newline (anchored with `^`, it was tried at every byte), a match starting where its line starts
in the source itself."""
_LINE_COMMENT = re.compile(rb"//.*$|/\*(?:.*?\*/|.*$)")
"""An unterminated `/*` runs to the end of the line, so each opening is read once."""
_TOKEN = re.compile(r"\s*(?:(defined\b)|([A-Za-z_]\w*)|(0[xX][0-9a-fA-F]+|\d+)[uUlL]*|(&&|\|\||==|!=|>=|<=|[!()<>]|[\s\S]))")
"""Every position starts a token (the last alternative takes any character), so `finditer` never
scans a run of blanks twice."""
_HIP_WORDS = frozenset({"HIP", "HIPCC", "ROCM", "HCC", "AMD", "AMDGCN", "AMDGPU", "MFMA"})
_AMD_ARCHITECTURES = re.compile(r"^(?:RDNA|CDNA)\d*$")
_CUDA_WORDS = frozenset({"NVIDIA", "NVCC", "CUDA"})
_GFX = re.compile(r"^__gfx[0-9a-f]+__$")
_OTHER_PLATFORM_WORDS = frozenset({"MUSA"})
"""Words of GPU platforms that are neither CUDA nor HIP: Moore Threads' MUSA
(https://github.com/ggml-org/llama.cpp/blob/master/docs/build.md, "MUSA"), which projects such as
llama.cpp build from the same CUDA sources with macros of their own (`GGML_USE_MUSA`)."""


NEVER_ON_HIP = frozenset({"__CUDA_ARCH__"})
"""Macros no HIP build defines, whatever builds the source: clang defines `__CUDA_ARCH__` for CUDA
device compilation only (`InitPreprocessor.cpp`, https://reviews.llvm.org/D45441), and HIPIFY's
tables leave the name as it is."""


def names_other_platform(macro: str) -> bool:
    """`GGML_USE_MUSA`, `__MUSACC__`: a macro only a build for another GPU platform defines, so
    neither a CUDA nor a HIP build does."""
    return bool(set(filter(None, macro.upper().split("_"))) & _OTHER_PLATFORM_WORDS)


def names_hip(macro: str) -> bool:
    """`__HIP_PLATFORM_AMD__`, `USE_ROCM`, `__HIPCC__`, `GGML_USE_HIP`, `HIP_VERSION`,
    `AMD_MFMA_AVAILABLE`, `RDNA3`, `__gfx90a__`: macros only HIP builds for AMD GPUs define.

    `__HIP_PLATFORM_NVIDIA__` is HIP on NVIDIA hardware: a CUDA build, so it does not count.
    """
    words = set(filter(None, macro.upper().split("_")))
    if words & _CUDA_WORDS:
        return False
    return bool(words & _HIP_WORDS) or any(_AMD_ARCHITECTURES.match(w) for w in words) or bool(_GFX.match(macro))


@dataclass
class _Group:
    """One `#if ... #endif` chain being read: its branches' own conditions, the open branch."""

    conditions: list[Build]
    current: Build
    start: int
    """The 1-based line the open branch starts on."""
    branches: list[tuple[int, int, Build]] = field(default_factory=list)
    """Finished branches: first line, line after the last, and the build they hold on."""


class BranchMap:
    """The state of every line of one source, from its conditional directives.

    `project_macros` are the sides of macros other files of the project define, as the project
    index collects them (`merge_macro_sides`): DeepSpeed defines `PTX_AVAILABLE` for CUDA in a
    shared header. `toolkit_macros` are version macros only CUDA's toolkit defines
    (`CUDART_VERSION`, `toolkit_macros()`), which a HIP build leaves undefined: 0 in an `#if`,
    unless this file defines them.
    """

    def __init__(
        self,
        source: bytes,
        project_macros: MacroSides | None = None,
        project_values: MacroValues | None = None,
        toolkit_macros: frozenset[str] = frozenset(),
    ) -> None:
        line_count = source.count(b"\n") + 1
        self._states = [LineState.NEUTRAL] * (line_count + 2)
        self.conditions: set[int] = set()
        """Lines of conditional directives (`#if defined(__CUDACC__)`): tests, not uses, of what they name."""
        open_groups: list[_Group] = []
        macros = self.macros = _FileMacros(project_macros, project_values, toolkit_macros)
        line = 1
        position = 0
        for match in _DIRECTIVE.finditer(b"\n" + source):
            line += source.count(b"\n", position, match.start())
            position = match.start()
            directive_line = line
            next_line = line + match.group(0).count(b"\n")  # the newline before the line is the match's
            if match.group(1) != b"define":
                self.conditions.update(range(directive_line, next_line))
            directive = match.group(1).decode()
            condition = match.group(2).replace(b"\\\n", b" ")
            condition = _LINE_COMMENT.sub(b" ", condition).decode("utf-8", errors="replace").strip()
            if directive == "define":
                macros.define(condition, _all(g.current for g in open_groups))
                continue
            if directive in ("if", "ifdef", "ifndef"):
                own = _condition(directive, condition, macros)
                open_groups.append(_Group([own], own, next_line))
                continue
            if not open_groups:
                continue  # an #else or #endif without its #if: nothing to attribute
            group = open_groups[-1]
            group.branches.append((group.start, directive_line, group.current))
            if directive == "endif":
                self._mark(open_groups.pop().branches)
                continue
            excluded = [c.negate() for c in group.conditions]
            if directive == "else":
                group.current = _all(excluded)
            else:
                own = _condition(directive, condition, macros)
                group.conditions.append(own)
                group.current = _all([own, *excluded])
            group.start = next_line
        for group in reversed(open_groups):  # unterminated: the branch runs to the end of the file
            self._mark([*group.branches, (group.start, line_count + 1, group.current)])

    def _mark(self, branches: list[tuple[int, int, Build]]) -> None:
        for first, end, build in branches:
            if build.on_cuda is False:
                state = LineState.PORTED  # never compiled by a CUDA build: the HIP side (or dead code)
            elif build.on_hip is False:
                state = LineState.CUDA_ONLY
            else:
                continue
            for line in range(first, min(end, len(self._states))):
                if self._states[line] is not LineState.PORTED:
                    self._states[line] = state

    def state(self, line: int) -> LineState:
        """The state of 1-based `line`."""
        return self._states[line] if 0 < line < len(self._states) else LineState.NEUTRAL


MacroSides = dict[str, "Build | None"]
"""Macro name → the side it is defined on (`Build(False, None)`: not on HIP), None for both."""


def merge_macro_sides(per_file: Iterable[MacroSides]) -> tuple[tuple[str, bool | None, bool | None], ...]:
    """The one-sided macros of the project's C++ files (for `FileFacts.cuda_macros`), merged from each
    file's `BranchMap(...).macros.sides`: a macro defined on both sides, or on different sides in
    two files, says nothing about the build."""
    merged: MacroSides = {}
    for sides in per_file:
        for name, side in sides.items():
            merged[name] = side if name not in merged or merged[name] == side else None
    return tuple(sorted((name, side.on_hip, side.on_cuda) for name, side in merged.items() if side is not None))


MacroValues = dict[str, Build]
"""Macro name → its value in `#if NAME` on each side: `#define BNB_HIP 1` where HIP compiles and
`#define BNB_HIP 0` where it does not is `Build(True, False)`; None where a side is not known."""


def merge_macro_values(per_file: Iterable[MacroValues]) -> tuple[tuple[str, bool | None, bool | None], ...]:
    """The side-telling flag macros of the project's C++ files (for `FileFacts.cuda_macro_values`):
    a side two files give different values is not known."""
    merged: dict[str, list[set[bool | None]]] = {}
    for values in per_file:
        for name, value in values.items():
            sides = merged.setdefault(name, [set(), set()])
            sides[0].add(value.on_hip)
            sides[1].add(value.on_cuda)
    known = {name: [_single(side) for side in sides] for name, sides in merged.items()}
    return tuple(sorted((name, hip, cuda) for name, (hip, cuda) in known.items() if hip is not None or cuda is not None))


def _single(values: set[bool | None]) -> bool | None:
    return next(iter(values)) if len(values) == 1 else None


_LITERAL_VALUE = re.compile(r"\(?\s*(\d+)[uUlL]*\s*\)?")


class _FileMacros:
    """Macros defined only where one side compiles (`HAS_PTX` under `#ifndef USE_ROCM`), and flag
    macros whose value tells the sides apart (`#define BNB_HIP 1` under `#if defined(__HIPCC__)`,
    `0` in its `#else`), in this file and, as known beforehand, in the rest of the project."""

    def __init__(
        self,
        project: MacroSides | None = None,
        project_values: MacroValues | None = None,
        toolkit: frozenset[str] = frozenset(),
    ) -> None:
        self._project = project or {}
        self._project_values = project_values or {}
        self._toolkit = toolkit
        self.sides: dict[str, Build | None] = {}
        self._values: dict[str, list[set[bool | None]]] = {}

    @property
    def values(self) -> MacroValues:
        """This file's flag macros whose value on one side at least is known."""
        known = {name: Build(_single(hip), _single(cuda)) for name, (hip, cuda) in self._values.items()}
        return {name: value for name, value in known.items() if value.on_hip is not None or value.on_cuda is not None}

    def value(self, name: str) -> Build | None:
        """What `#if name` says about the build, where a definition's value tells."""
        if name in self._values:
            return self.values.get(name)
        return self._project_values.get(name)

    def undefined_on_hip(self, name: str) -> bool:
        """A CUDA toolkit macro (`CUDART_VERSION`) that nothing here defines: 0 in a HIP build's `#if`."""
        return name in self._toolkit and name not in self._values

    def define(self, definition: str, where: Build) -> None:
        name = re.match(r"\s*([A-Za-z_]\w*)", definition)
        if name is None:
            return
        self._record_value(name.group(1), definition[name.end():], where)
        if where.on_hip is False:
            side = Build(False, None)  # defined only where HIP is not: `#ifdef NAME` excludes HIP
        elif where.on_cuda is False:
            side = Build(None, False)
        else:
            side = None
        key = name.group(1)
        # Defined on both sides, or anywhere unconditionally: it says nothing about the build.
        self.sides[key] = side if key not in self.sides or self.sides[key] == side else None

    def _record_value(self, name: str, body: str, where: Build) -> None:
        """The value a definition gives on each side it is made on; a side a definition may or may
        not reach (an unknown condition), or one given a value that is not a number, is not known."""
        literal = None if body.startswith("(") else _LITERAL_VALUE.fullmatch(body.strip())
        value = None if literal is None else int(literal.group(1)) != 0
        sides = self._values.setdefault(name, [set(), set()])
        for index, reached in enumerate((where.on_hip, where.on_cuda)):
            if reached is not False:
                sides[index].add(value if reached else None)

    def defined(self, name: str) -> Build:
        """What `defined(name)` says about the build."""
        if names_hip(name):
            return HIP_ONLY
        if names_other_platform(name):
            return Build(False, False)
        if name in NEVER_ON_HIP:
            return Build(False, None)
        if name in self.sides:
            return self.sides[name] or UNKNOWN
        return self._project.get(name) or UNKNOWN


def _condition(directive: str, condition: str, macros: _FileMacros) -> Build:
    """The build a branch's own condition implies (`#ifdef X`, `#elifndef X`, `#if expr`)."""
    if directive in ("ifdef", "ifndef", "elifdef", "elifndef"):
        name = condition.split()[0] if condition.split() else ""
        build = macros.defined(name)
        return build.negate() if directive.endswith("ndef") else build
    return _Expression(condition, macros).evaluate()


def _all(builds) -> Build:
    builds = list(builds)
    return Build(_and(b.on_hip for b in builds), _and(b.on_cuda for b in builds))


def _any(builds) -> Build:
    builds = list(builds)
    return Build(_or(b.on_hip for b in builds), _or(b.on_cuda for b in builds))


class _Expression:
    """A tolerant reader of `#if` expressions; anything it does not follow is `UNKNOWN`."""

    def __init__(self, text: str, macros: _FileMacros) -> None:
        self.tokens = [m.group(0).strip() for m in _TOKEN.finditer(text) if m.group(0).strip()]
        self.position = 0
        self.macros = macros

    def evaluate(self) -> Build:
        try:
            result = self._or()
        except IndexError:
            return UNKNOWN
        return result if self.position == len(self.tokens) else UNKNOWN

    def _peek(self) -> str:
        return self.tokens[self.position] if self.position < len(self.tokens) else ""

    def _take(self) -> str:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _or(self) -> Build:
        parts = [self._and()]
        while self._peek() == "||":
            self._take()
            parts.append(self._and())
        return _any(parts)

    def _and(self) -> Build:
        parts = [self._comparison()]
        while self._peek() == "&&":
            self._take()
            parts.append(self._comparison())
        return _all(parts)

    def _comparison(self) -> Build:
        left = self._unary()
        if self._peek() in (">", ">=", "==", "!=", "<", "<="):
            operator = self._take()
            right = self._take()
            # `HIP_VERSION >= 50000` is false on CUDA, where the macro is 0 (`CUDART_VERSION >= 12000`
            # on HIP); `< 50000` is true there.
            positive = operator in (">", ">=") or (operator == "==" and right not in ("0", "0x0"))
            if positive and left.on_cuda is False:
                return Build(None, False)
            return Build(False, None) if positive and left.on_hip is False else UNKNOWN
        return left

    def _unary(self) -> Build:
        token = self._take()
        if token == "!":
            return self._unary().negate()
        if token == "(":
            inner = self._or()
            if self._take() != ")":
                raise IndexError
            return inner
        if token == "defined":
            name = self._take()
            if name == "(":
                name = self._take()
                self._take()
            return self.macros.defined(name)
        if token[:1].isalpha() or token[:1] == "_":
            if self._peek() == "(":  # a function-like macro call: skip its arguments
                depth = 0
                while True:
                    part = self._take()
                    depth += part == "("
                    depth -= part == ")"
                    if depth == 0:
                        break
                return UNKNOWN
            # A HIP macro's value on HIP is unknown (`USE_ROCM` may be 0); on CUDA it is undefined: 0.
            # A CUDA toolkit macro's is unknown on CUDA and 0 on HIP.
            if names_hip(token):
                fallback = Build(None, False)
            elif self.macros.undefined_on_hip(token) or token in NEVER_ON_HIP:
                fallback = Build(False, None)
            else:
                fallback = UNKNOWN
            value = self.macros.value(token)
            if value is None:
                return fallback
            return Build(
                fallback.on_hip if value.on_hip is None else value.on_hip,
                fallback.on_cuda if value.on_cuda is None else value.on_cuda,
            )
        return UNKNOWN


TOOLKIT_TABLE = "toolkit_macros"


def toolkit_macros(tables: list[tuple[str, dict]]) -> frozenset[str]:
    """The version macros only CUDA's toolkit defines, from the catalog's `[toolkit_macros]` tables."""
    return frozenset(name for _, table in tables for name in table.get("names", ()))
