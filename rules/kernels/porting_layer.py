"""A project's own HIP porting layer: compatibility headers, what they map, and who includes them.

Projects that build one CUDA source tree for AMD GPUs often do it with a header of their own
rather than with HIPIFY: llama.cpp's `vendors/hip.h` `#define`s `cudaStream_t` to `hipStream_t`,
`__shfl_xor_sync(mask, v, l, w)` to `__shfl_xor(v, l, w)` (dropping the 32-bit mask) and
hundreds more, and every CUDA source reaches it through `common.cuh` in HIP builds. For such a
source, a name the header maps compiles on ROCm as it is.

`read_source` reads one C/C++ file cheaply (regular expressions over its lines, never a parse):
its `#include`s, the CUDA names it gives a HIP meaning (a `#define`, `typedef`, `using` or
function definition of a name the CUDA API table knows, written where only HIP builds compile
it: in a HIP-only branch, or anywhere in a file that includes HIP's runtime unconditionally),
and the macros it defines on one side only (`preprocessor.py`). `PortingLayers` then follows
the include graph: a source gets the names of every header it reaches, directly or through
other headers. Quoted includes resolve against the including file's folder first; any include
that does not resolve there is matched by its path suffix among the scan's C/C++ files,
nearest folder first: include directories are not known without running the build, and this
is the approximation compilers' search order makes right for most trees.
"""

from __future__ import annotations

import posixpath
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cudaudit.facts import Evidence, PortedName
from cudaudit.rules.kernels.api_table import ApiTable
from cudaudit.rules.kernels.preprocessor import BranchMap, LineState, MacroSides, MacroValues

_INCLUDE = re.compile(rb'#[ \t]*include[ \t]*[<"]([^>"\n]+)[>"]')
"""An `#include`, wherever its `#` is: `_includes` keeps those that begin their line. Starting at the
`#` lets the engine skip to each `#`, where a pattern anchored at every line start tried each line."""
_HIP_INCLUDE = re.compile(rb"^(?:hip/|hipblas|hipblaslt|hipcub|hiprand|hipfft|hipsparse|rocblas|rccl|rocprim)")
_HIP_WORDS = (b"HIP", b"hip_", b"ROCM", b"rocm")
"""Without any of these a source has no HIP branch: four byte searches, faster than one pattern."""
_DEFINE = re.compile(rb"\n[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(\(([^)\n]*)\))?[ \t]*(.*)$", re.M)
_TYPEDEF = re.compile(rb"\n[ \t]*typedef\b[^;{}\n]*?\b([A-Za-z_]\w*)[ \t]*;")
_USING = re.compile(rb"\n[ \t]*using[ \t]+([A-Za-z_]\w*)[ \t]*=")
_FUNCTION = re.compile(
    rb"\n[ \t]*(?:template[ \t]*<[^>\n]*>[ \t]*)?(?:(?:static|inline|__device__|__host__|__forceinline__|constexpr)[ \t]+)+"
    rb"[A-Za-z_][\w:<>*& \t]*?[ \t*&]([A-Za-z_]\w*)[ \t]*\(",
)
"""`_DEFINE`, `_TYPEDEF`, `_USING` and `_FUNCTION`: definitions at the start of a line, from the newline
before it, searched in the source after a newline put in front, so that the engine skips from newline
to newline (a pattern anchored with `^` was tried at every byte). A match starts where its line starts
in the source itself."""
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_WARP_SYNC = re.compile(r"__\w+_sync")
"""Warp intrinsics with a mask (`__all_sync`), whether or not HIPIFY's tables list them."""
_TEXT_LIMIT = 80


@dataclass(frozen=True)
class SourceFacts:
    """What one C/C++ file says about the project's porting layer."""

    includes: tuple[tuple[str, int, LineState], ...] = ()
    """Each `#include` path, as written, with its line and the branch it sits in."""
    ported: tuple[PortedName, ...] = ()
    hip_side: Evidence | None = None
    """The unconditional `#include <hip/...>` that makes the whole file HIP-only."""
    macro_sides: MacroSides = field(default_factory=dict)
    macro_values: MacroValues = field(default_factory=dict)


def read_source(path: str, data: bytes, table: ApiTable) -> SourceFacts:
    """The porting-layer facts of one source; `path` is its display path."""
    found = _includes(data)
    if not any(word in data for word in _HIP_WORDS):
        return SourceFacts(tuple((name, line, LineState.NEUTRAL) for name, line in found))
    branches = BranchMap(data)
    includes = tuple((name, line, branches.state(line)) for name, line in found)
    hip_side = next(
        (
            Evidence(path, line, f"#include <{name}>")
            for name, line, state in includes
            if _HIP_INCLUDE.match(name.encode()) and state is LineState.NEUTRAL
        ),
        None,
    )
    sides: MacroSides = {name: side for name, side in branches.macros.sides.items() if side is not None} if b"#define" in data else {}
    values = branches.macros.values if b"#define" in data else {}
    return SourceFacts(includes, tuple(_ported_names(path, data, table, branches, hip_side is not None)), hip_side, sides, values)


def _ported_names(path: str, data: bytes, table: ApiTable, branches: BranchMap, hip_side: bool) -> Iterable[PortedName]:
    """CUDA names defined where only HIP builds compile the definition."""
    seen: set[str] = set()
    searched = b"\n" + data
    for pattern in (_DEFINE, _TYPEDEF, _USING, _FUNCTION):
        for match in pattern.finditer(searched):
            name = match.group(1).decode("ascii")
            if name in seen or (
                table.name(name) is None and not _WARP_SYNC.fullmatch(name) and name not in table.toolkit_macros
            ):
                continue
            line = _line(data, match.start())
            state = branches.state(line)
            if not (state is LineState.PORTED or (hip_side and state is LineState.NEUTRAL)):
                continue
            seen.add(name)
            text = " ".join(match.group(0).decode("utf-8", "replace").split())
            dropped = _dropped_parameters(match) if pattern is _DEFINE else ()
            yield PortedName(name, Evidence(path, line, text[:_TEXT_LIMIT]), dropped)


def _dropped_parameters(match: re.Match[bytes]) -> tuple[int, ...]:
    """Parameters of a function-like macro that its body never mentions (`mask` in a `_sync` shim)."""
    if match.group(2) is None or match.group(4).rstrip().endswith(b"\\"):
        return ()  # an object-like macro, or a body continued on lines not read here
    parameters = [p.strip() for p in match.group(3).decode("utf-8", "replace").split(",")]
    used = set(_IDENTIFIER.findall(match.group(4).decode("utf-8", "replace")))
    return tuple(i for i, p in enumerate(parameters) if p.isidentifier() and p not in used)


def _includes(data: bytes) -> list[tuple[str, int]]:
    """Each `#include` at the start of a line (after blanks), with its path as written and its line."""
    found: list[tuple[str, int]] = []
    line, counted = 1, 0
    for match in _INCLUDE.finditer(data):
        start = data.rfind(b"\n", 0, match.start()) + 1
        if data[start : match.start()].strip(b" \t"):
            continue  # a `#` after something else on its line
        line += data.count(b"\n", counted, start)
        counted = start
        found.append((match.group(1).decode("utf-8", "replace").strip(), line))
    return found


def _line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


class PortingLayers:
    """The compatibility headers of a scan and the sources that reach them.

    A source reaches a header it includes, directly or through other headers, where HIP builds
    compile the include (not in a branch only CUDA builds take). A header that includes nothing
    of the layer itself is read in its includers' context: it has the names every one of its
    includers reaches (`mmid.cuh`, included after `common.cuh`, uses `cudaStream_t` as mapped).
    A header that every includer includes only in CUDA-only branches (`vendors/cuda.h` in the
    `#else` of `#if defined(GGML_USE_HIP)`) is CUDA-only as a whole, and so is one that only
    sources the build compiles for CUDA alone include (`left_out`: source -> where the build says so).
    """

    def __init__(self, sources: Mapping[str, SourceFacts], left_out: Mapping[str, Evidence] | None = None) -> None:
        self._sources = sources
        self._left_out = dict(left_out or {})
        self._resolved: dict[tuple[str, str], str | None] = {}
        self._by_basename: dict[str, list[str]] = {}
        for path in sources:
            self._by_basename.setdefault(posixpath.basename(path), []).append(path)
        self._included_by: dict[str, list[tuple[str, LineState, int]]] = {}
        self._includes: dict[str, list[str]] | None = None
        """Includer -> the files it includes, built from `_included_by` on first need (`reached`)."""
        for path, facts in sources.items():
            for name, line, state in facts.includes:
                target = self.resolve(path, name)
                if target is not None and target != path:
                    self._included_by.setdefault(target, []).append((path, state, line))
        reach = self._reach([path for path, facts in sources.items() if facts.ported])
        self._names: dict[str, tuple[PortedName, ...]] = {}
        shared: dict[frozenset[str], tuple[PortedName, ...]] = {}
        for path, headers in reach.items():
            if headers not in shared:
                names: dict[str, PortedName] = {}
                for header in sorted(headers):
                    for ported in sources[header].ported:
                        names.setdefault(ported.name, ported)
                shared[headers] = tuple(sorted(names.values()))
            self._names[path] = shared[headers]
        self._cuda_only = self._cuda_only_headers()

    def ported_names(self, path: str) -> tuple[PortedName, ...]:
        return self._names.get(path, ())

    def paths(self) -> tuple[str, ...]:
        """The display paths of the scan's C/C++ files."""
        return tuple(self._sources)

    def reached(self, roots: Iterable[str]) -> set[str]:
        """`roots` and every file they may include, directly or through other files, whatever the branch:
        an include that does not resolve beside its includer reaches every file with its path's suffix
        (`"type_shim.h"` where two folders hold one: the build's include directories choose, and they
        are not known here)."""
        if self._includes is None:
            self._includes = {
                path: [target for name, _, _ in facts.includes for target in self._matching(posixpath.dirname(path), name)]
                for path, facts in self._sources.items()
            }
        seen = set(roots)
        queue = deque(seen)
        while queue:
            for target in self._includes.get(queue.popleft(), ()):
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
        return seen

    def hip_side(self, path: str) -> Evidence | None:
        facts = self._sources.get(path)
        return facts.hip_side if facts is not None else None

    def cuda_only(self, path: str) -> Evidence | None:
        """The first include of a header that every includer includes only where HIP builds do not."""
        return self._cuda_only.get(path)

    def _reach(self, headers: list[str]) -> dict[str, frozenset[str]]:
        """For every source, the mapping headers HIP builds include in it, itself included."""
        reached: dict[str, set[str]] = {}
        for header in headers:
            queue, seen = deque([header]), {header}
            while queue:
                current = queue.popleft()
                reached.setdefault(current, set()).add(header)
                for includer, state, _ in self._included_by.get(current, ()):
                    if state is not LineState.CUDA_ONLY and includer not in seen:
                        seen.add(includer)
                        queue.append(includer)
        changed = bool(reached)
        while changed:  # headers read in their includers' context, until nothing more follows
            changed = False
            for path, includers in self._included_by.items():
                if path in reached:
                    continue
                contexts = [reached.get(includer) for includer, _, _ in includers]
                if all(contexts):
                    reached[path] = set.intersection(*(set(c) for c in contexts if c))
                    changed = changed or bool(reached[path])
        return {path: frozenset(headers) for path, headers in reached.items() if headers}

    def _cuda_only_headers(self) -> dict[str, Evidence]:
        return self.included_only_by(self._left_out, cuda_only_includes=True)

    def included_only_by(self, sources: Mapping[str, Evidence], cuda_only_includes: bool = False) -> dict[str, Evidence]:
        """`sources` with the headers that only they include, directly or through such headers, each with
        its first include; with `cuda_only_includes`, an include only CUDA builds compile counts too."""
        found: dict[str, Evidence] = dict(sources)
        changed = True
        while changed:
            changed = False
            for path, includers in self._included_by.items():
                if path in found:
                    continue
                if all((cuda_only_includes and state is LineState.CUDA_ONLY) or includer in found for includer, state, _ in includers):
                    includer, _, line = min(includers, key=lambda item: (item[0], item[2]))
                    found[path] = Evidence(includer, line)
                    changed = True
        return found

    def resolve(self, includer: str, name: str) -> str | None:
        """The scanned file an `#include` names: beside the includer, else the nearest with that suffix.

        The answer depends on the includer's folder and the name alone, and the sources of one
        folder include much the same headers: each pair is worked out once."""
        folder = posixpath.dirname(includer)
        if (folder, name) not in self._resolved:
            self._resolved[folder, name] = self._resolve(folder, name)
        return self._resolved[folder, name]

    def _resolve(self, folder: str, name: str) -> str | None:
        candidates = self._matching(folder, name)
        if not candidates:
            return None
        return max(candidates, key=lambda p: (_shared_folders(folder, posixpath.dirname(p)), p))

    def _matching(self, folder: str, name: str) -> list[str]:
        """The file beside `folder` that an `#include` names, else every scanned file with its path's suffix."""
        beside = posixpath.normpath(posixpath.join(folder, name))
        if beside in self._sources:
            return [beside]
        suffix = "/" + name.lstrip("./")
        return [p for p in self._by_basename.get(posixpath.basename(name), ()) if ("/" + p).endswith(suffix)]


def _shared_folders(first: str, second: str) -> int:
    """How many leading folders two paths share."""
    count = 0
    for a, b in zip(first.split("/"), second.split("/")):
        if a != b:
            break
        count += 1
    return count
