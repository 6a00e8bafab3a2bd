"""Which of the project's own modules only another target's code path imports.

A project may keep kernels for one accelerator in a module of their own and import it only where
that accelerator runs: under `if is_torch_npu_available():`, in the `elif name == "xpu":` arm of
an accelerator switch, after a gate that returns elsewhere (`if not is_torch_npu_available():
return`), or in a function that only such a branch calls. On ROCm and CPU that module is never
imported, so what it does is no lock-in there, however CUDA-like its Triton kernels look. A CUDA
test (`if torch.cuda.is_available():`, `if HAS_CUDA:`) is such a branch for CPU, XPU and MPS; ROCm's
PyTorch passes it, so a module imported only under one keeps its ROCm verdicts, while a test of
`torch.version.cuda` (set on CUDA builds only) is passed by none of the targets; so is a test of a
flag the project index read from a device probe (`SUPPORTS_X = torch.cuda.is_available() and ...`)
where the module defines or imports that flag.

`other_target_modules` follows the project's first-party imports (names resolved by
`firstparty.ModuleMap`) and marks a module for a target only when every import of it that the scan
has sits on another target's path, directly or through modules marked the same way; a module no
file imports (an entry point, a script) keeps its verdicts, and so does one imported anywhere on the
normal path. It never parses every module a second time (the Python analyzer parses each one once,
after the index): a byte search finds the modules that name another target at all and import
something inside a block; for those imports the headers of the enclosing blocks, found by
indentation, say which branch they sit in, and only those headers' conditions are parsed. A
function's body is on the path of the calls to it in its module. Every line this reading does not
follow counts as "runs everywhere", so a misreading keeps a verdict rather than dropping one.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cudaudit.facts import Evidence
from cudaudit.firstparty import ModuleMap, module_map
from cudaudit.model import TARGETS
from cudaudit.rules.catalog import word_automaton
from cudaudit.rules.python.guards import NEGATING_WORDS
from cudaudit.rules.python.names import dotted_name
from cudaudit.rules.python.read_once import ReadOnce
from cudaudit.siblings import DEVICE_WORDS

Remember = Callable[[str, str, Callable[[], Any]], Any]
"""`project_index.Remember`: a module's reading, from the scan's cache where it has it."""


def _compute(reader: str, path: str, compute: Callable[[], Any]) -> Any:
    return compute()


Runs = frozenset[str] | None
"""The targets a piece of code runs on; None where it is not known to be limited (everywhere)."""

ALL_TARGETS = frozenset(TARGETS)
NOWHERE: frozenset[str] = frozenset()

_DEVICE_WORDS: dict[str, frozenset[str]] = {
    **{word: frozenset(targets) for word, (targets, _) in DEVICE_WORDS.items()},
    "rocm": frozenset({"rocm"}),
    "hip": frozenset({"rocm"}),
    "cuda": frozenset({"cuda", "rocm"}),
}
"""Words naming a device, and the targets code taken only for that device runs on: PyTorch's
device types for Ascend NPUs (`torch_npu`), Intel Gaudi (`hpu`), Cambricon (`mlu`), Moore
Threads (`musa`) and PyTorch/XLA (`xla`, `tpu`) are none of cudaudit's targets; `xpu`, `mps`, Intel's (`xpu` and `cpu`) and
ROCm (`torch.version.hip`) are their own (https://docs.pytorch.org/docs/stable/tensor_attributes.html#torch-device;
the words and their sources are `siblings.DEVICE_WORDS`). A CUDA test
(`torch.cuda.is_available()`, `HAS_CUDA`, `device.type == "cuda"`) passes on NVIDIA GPUs and on ROCm,
whose PyTorch answers to the `cuda` device (https://docs.pytorch.org/docs/stable/notes/hip.html);
`cuda` itself is no cudaudit target, so the `else` of such a test is not known to skip ROCm."""
_BOTH_SIDES = frozenset({"rocm"})
"""Targets whose probe also decides the other branch: `if torch.version.hip:`'s `else` never runs on ROCm."""
_CUDA_BUILD = frozenset({"torch.version.cuda"})
"""Set on CUDA builds of PyTorch only: `None` on ROCm builds, which set `torch.version.hip` instead
(https://docs.pytorch.org/docs/stable/notes/hip.html), and on CPU, XPU and MPS builds, so code taken only where it is set runs on none of cudaudit's targets, and its `else` on all of them."""
_CUDA_BUILD_SIDES: tuple[Runs, Runs] = (NOWHERE, ALL_TARGETS)
_ENUM_WORDS = tuple(word.upper().encode() for word, (targets, _) in DEVICE_WORDS.items() if not targets)
"""Other devices as an enum's members spell them (`DistributedType.XLA`), read in headers only."""
_PREFILTER = (*(word.encode() for word in DEVICE_WORDS), b"rocm", b"hip", b"cuda", b"CUDA", *_ENUM_WORDS)
"""A module that names no device cannot choose an import by one (the byte search before any reading,
its one cost on every module); a header names its device in lower case (`is_torch_npu_available`,
`torch.version.hip`, `device.type == "xpu"`), and CUDA in a flag's capitals too (`HAS_CUDA`)."""
_GUARD_ONLY = frozenset({b"cuda", b"CUDA", *_ENUM_WORDS})
"""Words read only in `if`/`elif` headers: most modules spell `cuda` many times, and a function is put
on a CUDA test's path by the calls under that test, not by its name."""
_WORD_PATTERNS = tuple((word, re.compile(re.escape(word) + rb"(?<![A-Za-z]" + re.escape(word) + rb")(?![a-z])")) for word in _PREFILTER)
"""Each word where it is a word of its own: `is_npu`, `torch.version.hip`, not `input`, `relationship`
or `json.dumps`. The word comes first, so the search runs at the speed of a plain byte search."""
_PREFILTER_WORDS = word_automaton(_PREFILTER)
"""Finds which of `_PREFILTER`'s words a line spells in one pass over it, where a byte search per
word read it once per word."""
_HEADER_LINE = re.compile(rb"\n([ \t]*)((?:if|elif|def|async def) [^\n]*)")
"""A line that may head a device block, its indentation and the rest, found from the newline before it
(searched in the module's text after a newline): the engine skips from newline to newline."""
_EXIT = re.compile(rb"(?:return|raise)\b")
"""A block with a statement that starts so leaves its function: what follows runs where its test fails."""
_ONE_LINE_GATE = re.compile(rb"if[ \t]+(.+?):[ \t]*(?:return|raise)\b")
"""A gate written on one line (`if not is_torch_npu_available(): return`), and its test."""
_CALL = re.compile(rb"(?<![\w.])([A-Za-z_]\w*)\(")
_RETURNED_NAME = re.compile(rb"return[ \t]+([A-Za-z_]\w*)[ \t]*(?:#|\r?$)")
"""`return _triton_rms_norm`: a dispatcher hands out one of its module's functions for the device it tests."""
_FLAG_LIMIT = 16
"""The most CUDA flags searched for as headers (each a byte search of every module)."""
_BLOCK_LIMIT = 4000
"""Bytes of a device block read for an import or a call: a longer block counts as holding none."""
_IMPORT = re.compile(
    rb"^([ \t]*)(?:from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(.*)|import[ \t]+(.*))$",
    re.M,
)
_IMPORT_WORD = re.compile(rb"import[ \t]")
"""What every line `_IMPORT` matches holds: the pattern is tried only at the lines that hold it."""
_PY_NAME = re.compile(r"[A-Za-z_]\w*")
_WORD = re.compile(rb"\w+")
_WORD_SPLIT = re.compile(r"[_\W\d]+|(?<=[a-z])(?=[A-Z])")
_IMPORTER_LIMIT = 24
"""Files that import a module beyond which it counts as imported on the normal path, unread."""
_MENTION_LIMIT = 4 * _IMPORTER_LIMIT
"""Files that spell a module's name (in their imports, or anywhere without the cache) beyond which
the same holds."""
_CALL_DEPTH = 3
"""How many functions deep a call chain is followed back to its branch."""
_SEARCHES = 4
"""Names searched for in every module's bytes before every module's imports are read (`_Graph._spelling`):
reading them all costs about as much as seven such searches (0.07 s against 0.01 s on the 1,230 modules
of issue 9's trees), so a scan that asks about few names (diffusers: four) never reads them all, and one
that asks about many (those trees: 37) pays for at most four searches more than the reading."""
_MODULE_LIMIT = 48
"""The most modules whose importers are looked up (those a branch imports first): beyond, the rest
keep their verdicts."""
_TEXT_LIMIT = 80


@dataclass(frozen=True)
class _Import:
    """One import statement: its line (0-based), whether it is inside a block, what it names."""

    index: int
    indented: bool
    level: int
    module: str
    names: tuple[str, ...]


def other_target_modules(
    sources: Mapping[str, Callable[[], bytes]], remember: Remember | None = None, cuda_flags: Iterable[str] = ()
) -> dict[str, tuple[tuple[str, Evidence], ...]]:
    """Display path -> (target, the import that reaches it) for each target on whose path no import
    of the module lies; `sources` are the scan's Python modules, display path -> their bytes.
    `remember(reader, path, compute)` may answer a module's own readings (does it have a device
    block, which names do its imports spell) from an earlier run, without reading it. `cuda_flags` are
    the project's module-level flags whose value is a CUDA test (`SUPPORTS_X = torch.cuda.is_available()
    and ...`, from `project_flags`): a test of one, where its module defines or imports it, is that test."""
    graph = _Graph(sources, remember, cuda_flags)
    pending: list[str] = []
    for path in sources:
        if not graph.device_blocks(path):
            continue
        for found in graph.imports(path):
            if not found.indented:
                continue
            targets = graph.modules.resolve(path, found.level, found.module, found.names) - {path}
            if targets and graph.runs(path, found) is not None:
                pending.extend(sorted(targets))
    if not pending:
        return {}
    edges: dict[str, list[tuple[str, Runs, Evidence]]] = {module: [] for module in pending}
    evaluated: list[str] = []
    queue = deque(dict.fromkeys(pending))
    while queue and len(evaluated) < _MODULE_LIMIT:
        module = queue.popleft()
        if module in evaluated:
            continue
        evaluated.append(module)
        edges[module] = list(graph.importers(module))
        if any(runs is None and importer not in edges for importer, runs, _ in edges[module]):
            continue  # imported on the normal path: reached everywhere, as is all it imports
        for found in graph.imports(module):
            for target in sorted(graph.modules.resolve(module, found.level, found.module, found.names)):
                if target != module and target not in edges:
                    edges[target] = []
                    queue.append(target)
    return _unreached(set(evaluated), edges)


class _Graph:
    """The scan's Python modules, read as far as the questions asked of them need."""

    def __init__(
        self, sources: Mapping[str, Callable[[], bytes]], remember: Remember | None, cuda_flags: Iterable[str] = ()
    ) -> None:
        self._sources = sources
        self._flags = tuple(sorted(set(cuda_flags)))[:_FLAG_LIMIT]
        self._flag_patterns = tuple(
            (flag.encode(), re.compile(rb"(?<![\w.])" + re.escape(flag.encode()) + rb"(?!\w)")) for flag in self._flags
        )
        self._remember = remember or _compute
        self._uncached = remember is None
        """Without a cache every module is read anyway: a byte search passes over most before their imports are."""
        self._names: dict[str, frozenset[str]] = {}
        self._read = ReadOnce(self._sources)
        self._imports: dict[str, list[_Import]] = {}
        self._modules: dict[str, _Module] = {}
        self._device_blocks: dict[str, bool] = {}
        self._searches = 0
        """Names looked for so far with a byte search of every module (`_spelling`)."""
        self._spelled_by: dict[str, list[str]] | None = None
        """Each name the scan's import statements spell, with the modules that spell it, in scan order."""

    @cached_property
    def modules(self) -> ModuleMap:
        """The scan's module names, built when a device block first asks."""
        return module_map(self._sources)

    def text(self, path: str) -> bytes:
        return self._read(path)

    def imports(self, path: str) -> list[_Import]:
        if path not in self._imports:
            self._imports[path] = list(_imports(self.text(path)))
        return self._imports[path]

    def device_blocks(self, path: str) -> bool:
        """Whether a block of the module that names a device imports something or calls its functions."""
        if path not in self._device_blocks:
            self._device_blocks[path] = bool(
                self._reading(
                    ":".join(("import_paths:device", *self._flags)),
                    path,
                    lambda: _imports_in_device_block(self.text(path), self._flag_patterns),
                    False,
                )
            )
        return self._device_blocks[path]

    def _reading(self, reader: str, path: str, compute: Callable[[], Any], default: Any) -> Any:
        """A module's reading, from the cache where it has it; `default` for a module that cannot be
        read (its own analysis says why)."""
        try:
            return self._remember(reader, path, compute)
        except Exception:  # noqa: BLE001 - one unreadable module adds no edges; the scan goes on
            return default

    def import_names(self, path: str) -> frozenset[str]:
        """Every name the module's import statements spell (`pkg`, `ops`, `kernels`, `run`)."""
        if path not in self._names:
            self._names[path] = frozenset(
                self._reading("import_paths:names", path, lambda: import_names(self.text(path)), ())
            )
        return self._names[path]

    def runs(self, path: str, found: _Import) -> Runs:
        """The targets whose path reaches an import: None (all) for one outside any block, or in a
        module without a device block."""
        if not found.indented or not self.device_blocks(path):
            return None
        if path not in self._modules:
            text = self.text(path)
            flags = frozenset(
                flag for flag in self._flags
                if flag in self.import_names(path) or re.search(rb"^" + re.escape(flag.encode()) + rb"[ \t]*(?::[^=\n]*)?=", text, re.M)
            )
            self._modules[path] = _Module(text, flags)
        return _runs_on(self._modules[path], found.index, 0)

    def _spelling(self, name: str) -> Iterable[str]:
        """The modules whose import statements spell `name`, in scan order.

        Everything `importers` counts comes from the imports themselves, so a scan with the cache
        counts the same modules as one without. Without a cache, a module whose text lacks the name
        cannot spell it: for the first few names a byte search of every module spares reading the
        imports of most. Each search reads every module again, where reading every module's
        imports once answers every later name: past `_SEARCHES`, and with the cache (which holds
        those readings), the modules are looked up by name."""
        if self._uncached and self._searches < _SEARCHES:
            self._searches += 1
            token = name.encode()
            return (path for path in self._sources if token in self.text(path) and name in self.import_names(path))
        if self._spelled_by is None:
            self._spelled_by = {}
            for path in self._sources:
                for spelled in self.import_names(path):
                    self._spelled_by.setdefault(spelled, []).append(path)
        return self._spelled_by.get(name, ())

    def importers(self, module: str) -> Iterable[tuple[str, Runs, Evidence]]:
        """Every import of `module` in the scan: the importer, the targets it runs on, where it is."""
        dotted = self.modules.name(module)
        name = dotted.rpartition(".")[2] or posixpath.basename(posixpath.dirname(module))
        # Outside its own folder, an import of `pkg.ops.kernels` names `ops` too (`from ..ops import kernels`).
        folder = posixpath.dirname(module)
        package = posixpath.basename(folder) if "." in dotted and not module.endswith("/__init__.py") else ""
        files = mentions = 0
        for path in self._spelling(name):
            if path == module:
                continue
            names = self.import_names(path)
            mentions += 1
            if mentions > _MENTION_LIMIT:
                yield "", None, Evidence(path, 1)  # a name this many modules spell is imported on the normal path
                return
            if package and posixpath.dirname(path) != folder and package not in names:
                continue
            files += 1
            if files > _IMPORTER_LIMIT:
                yield "", None, Evidence(path, 1)  # a module this many files name is on the normal path
                return
            for found in self.imports(path):
                if (name in found.names or name in found.module.split(".")) and module in self.modules.resolve(
                    path, found.level, found.module, found.names
                ):
                    line = self.text(path).split(b"\n", found.index + 1)[found.index]
                    yield path, self.runs(path, found), Evidence(path, found.index + 1, _quote(line))


def _unreached(evaluated: set[str], edges: dict[str, list[tuple[str, Runs, Evidence]]]) -> dict[str, tuple[tuple[str, Evidence], ...]]:
    """For each evaluated module, the targets no chain of imports from the normal path reaches."""
    found: dict[str, dict[str, Evidence]] = {}
    for target in TARGETS:
        reached = {module for module in evaluated if not edges.get(module)}
        changed = True
        while changed:
            changed = False
            for module in evaluated - reached:
                if any(
                    (importer not in evaluated or importer in reached) and (runs is None or target in runs)
                    for importer, runs, _ in edges.get(module, ())
                ):
                    reached.add(module)
                    changed = True
        for module in sorted(evaluated - reached):
            found.setdefault(module, {})[target] = _first_branch(module, edges, evaluated)
    return {module: tuple(sorted(targets.items())) for module, targets in found.items()}


def _first_branch(module: str, edges: dict[str, list[tuple[str, Runs, Evidence]]], evaluated: set[str]) -> Evidence:
    """The import that puts `module` on another target's path: its own, or its importer's."""
    seen = {module}
    while True:
        branch = next((evidence for _, runs, evidence in edges[module] if runs is not None), None)
        if branch is not None:
            return branch
        importer, _, evidence = edges[module][0]
        if importer not in evaluated or importer in seen:
            return evidence
        seen.add(importer)
        module = importer


def _imports_in_device_block(data: bytes, flags: tuple[tuple[bytes, re.Pattern[bytes]], ...] = ()) -> bool:
    """Whether a block headed by a line naming a device (`if is_torch_npu_available():`,
    `def load_xpu_kernels():`) holds an import, or calls a function the module defines: the only
    places the module can import something for one device. Only the lines that can head a block are
    searched for the words (a tenth of a module's bytes), and only the lines of those blocks are read."""
    if _PREFILTER_WORDS is None:
        return False
    headers = list(_HEADER_LINE.finditer(b"\n" + data))
    lines = b"\n".join([header.group(2) for header in headers])
    named = _PREFILTER_WORDS.found(lines)
    for word, pattern in (*((w, p) for w, p in _WORD_PATTERNS if w in named), *((f, p) for f, p in flags if f in lines)):
        heads = (b"if ", b"elif ") if word in _GUARD_ONLY or any(word == flag for flag, _ in flags) else (b"if ", b"elif ", b"def ", b"async def ")
        for found in pattern.finditer(lines):
            header = headers[lines.count(b"\n", 0, found.start())]
            stripped = header.group(2)
            gate = _ONE_LINE_GATE.match(stripped) is not None
            # the headers were searched in the text after a newline: their ends in `data` are a byte less
            if stripped.startswith(heads) and _block_imports(data, header.end(2) - 1, len(header.group(1)), gate):
                return True
    return False


def _block_imports(data: bytes, end: int, indent: int, exits: bool = False) -> bool:
    """Whether the block after a header line (ending at `end`, indented `indent`) imports or calls a
    function of its module; for a gate inside a function (a block that returns or raises, or a
    header that does so itself, `exits`), whether the statements after it in the enclosing block do."""
    after = False
    for line in data[end + 1 : end + 1 + _BLOCK_LIMIT].split(b"\n"):
        stripped = line.lstrip(b" \t")
        if not stripped or stripped.startswith(b"#"):
            continue
        depth = len(line) - len(stripped)
        if depth < indent or (depth == indent and not (after or (exits and indent))):
            return False
        if depth == indent:
            after = True
        exits = exits or _EXIT.match(stripped) is not None
        if stripped.startswith((b"import ", b"from ")):
            return True
        for call in _CALL.finditer(stripped):
            if b"def " + call.group(1) + b"(" in data:
                return True
        if (returned := _returned_name(stripped)) is not None and b"def " + returned + b"(" in data:
            return True
    return False


def _returned_name(stripped: bytes) -> bytes | None:
    """The name a line (without its indentation) returns and nothing else, `return _triton_rms_norm`:
    a function handed out, not run."""
    returned = _RETURNED_NAME.match(stripped)
    return returned.group(1) if returned is not None else None


def _imports(data: bytes) -> Iterable[_Import]:
    """The import statements of a module."""
    index, counted = 0, 0
    for match in _import_statements(data):
        index += data.count(b"\n", counted, match.start())
        counted = match.start()
        indented = bool(match.group(1))
        if match.group(5) is not None:
            for dotted in _names(match.group(5).decode("utf-8", "replace"), dotted=True):
                yield _Import(index, indented, 0, dotted, ())
            continue
        names_text = match.group(4).decode("utf-8", "replace")
        if names_text.lstrip().startswith("(") and ")" not in names_text:
            following = data[match.end() : match.end() + 2000].decode("utf-8", "replace")
            names_text += " " + following.partition(")")[0]
        module = match.group(3).decode("ascii", "replace")
        yield _Import(index, indented, len(match.group(2)), module, tuple(_names(names_text)))


def _import_statements(data: bytes) -> Iterator[re.Match[bytes]]:
    """`_IMPORT`'s matches, each a whole line, in order. Every such line spells `import` and a blank:
    the word is found by a byte search and only its lines are matched, where the pattern, anchored
    at every line start, was tried at every byte of the module (the import graph's largest cost)."""
    position = 0
    while (found := _IMPORT_WORD.search(data, position)) is not None:
        start = data.rfind(b"\n", 0, found.start()) + 1
        match = _IMPORT.match(data, start)
        if match is not None:
            yield match
        position = data.find(b"\n", found.end())
        if position < 0:
            return


def import_names(data: bytes) -> frozenset[str]:
    """Every name a module's import statements spell, read without placing them on lines."""
    names: set[bytes] = set()
    for match in _import_statements(data):
        module, listed, dotted = match.group(3, 4, 5)
        if dotted is not None:
            names.update(_WORD.findall(dotted))
            continue
        names.update(module.split(b"."))
        if listed.lstrip().startswith(b"(") and b")" not in listed:
            listed += data[match.end() : match.end() + 2000].partition(b")")[0]
        names.update(_WORD.findall(listed))
    return frozenset(name.decode("ascii", "replace") for name in names if name)


def _names(text: str, dotted: bool = False) -> Iterable[str]:
    """The names an import statement lists (`a as b, c`), each without its alias."""
    for part in text.partition("#")[0].strip("() \t\r\\").split(","):
        words = part.split()
        if words and (dotted or _PY_NAME.fullmatch(words[0])):
            yield words[0]


class _Module:
    """One module's text as lines, each line's enclosing block header (by indentation), and what
    `_runs_on` learns about its functions."""

    def __init__(self, data: bytes, flags: frozenset[str] = frozenset()) -> None:
        self.data = data
        self.flags = flags
        self.lines = data.split(b"\n")
        self.starts = _line_starts(data)
        self.callers: dict[str, Runs] = {}
        self.parents = [-1] * len(self.lines)
        open_blocks: list[tuple[int, int]] = []
        for index, line in enumerate(self.lines):
            stripped = line.lstrip(b" \t")
            if not stripped or stripped.startswith(b"#"):
                continue
            indent = len(line) - len(stripped)
            while open_blocks and open_blocks[-1][0] >= indent:
                open_blocks.pop()
            self.parents[index] = open_blocks[-1][1] if open_blocks else -1
            if stripped.rstrip().endswith(b":"):
                open_blocks.append((indent, index))


def _runs_on(module: _Module, index: int, depth: int) -> Runs:
    """The targets the code at line `index` runs on, from the branches and functions around it."""
    runs: Runs = None
    header, line = module.parents[index], index
    while header >= 0:
        runs = _meet(runs, _after_gates(module, header, line))
        line = header
        stripped = module.lines[header].strip()
        if stripped.startswith((b"if ", b"elif ")):
            runs = _meet(runs, _branches(_header_test(stripped), module.flags)[0])
        elif stripped.startswith(b"else") and stripped[4:].strip().startswith(b":"):
            runs = _meet(runs, _else_runs(module, header))
        elif stripped.startswith((b"def ", b"async def ")):
            name = _PY_NAME.search(stripped.decode("utf-8", "replace").partition("def ")[2])
            if name is not None and depth < _CALL_DEPTH:
                runs = _meet(runs, _called_from(name.group(), module, depth))
        header = module.parents[header]
    return runs


def _after_gates(module: _Module, header: int, index: int) -> Runs:
    """Where the statement at line `index` runs given the gates before it in the block under line
    `header`: each `if` whose block returns or raises lets through only where its test fails
    (`if not is_torch_npu_available(): return`, then the NPU imports)."""
    runs: Runs = None
    for position in range(header + 1, index):
        if module.parents[position] != header:
            continue
        stripped = module.lines[position].lstrip(b" \t")
        if not stripped.startswith(b"if "):
            continue
        if _exits(module, position):
            runs = _meet(runs, _branches(_header_test(stripped.rstrip()), module.flags)[1])
        elif (gate := _ONE_LINE_GATE.match(stripped)) is not None:
            runs = _meet(runs, _branches(_header_test(b"if " + gate.group(1) + b":"), module.flags)[1])
    return runs


def _exits(module: _Module, header: int) -> bool:
    """Whether the block under line `header` returns or raises at its own level."""
    for position in range(header + 1, len(module.lines)):
        parent = module.parents[position]
        if parent == header and _EXIT.match(module.lines[position].lstrip(b" \t")):
            return True
        if parent < header and module.lines[position].strip() and not module.lines[position].lstrip().startswith(b"#"):
            return False
    return False


def _called_from(name: str, module: _Module, depth: int) -> Runs:
    """The targets the calls to function `name` in its module run on: None where it is used in any
    other way (handed on, decorated into a table) or not called here at all (another module calls it).
    A `return name` counts as a call where it stands: a dispatcher that hands out the function only in
    its `if device == "cuda":` branch lets it run only where that branch is taken."""
    callers, data, lines = module.callers, module.data, module.lines
    if name in callers:
        return callers[name]
    callers[name] = None  # a function that reaches itself runs everywhere as far as this reading goes
    runs: Runs = NOWHERE
    calls = 0
    for match in re.finditer(rb"\b" + re.escape(name.encode()) + rb"\b", data):
        index = _line_index(module.starts, match.start())
        stripped = lines[index].strip()
        if stripped.startswith((b"def ", b"async def ", b"#")):
            continue
        if data[match.end() : match.end() + 1] != b"(" and _returned_name(stripped) != name.encode():
            runs = None
            break
        calls += 1
        runs = _join(runs, _runs_on(module, index, depth + 1))
        if runs is None:
            break
    callers[name] = runs if calls else None
    return callers[name]


def _else_runs(module: _Module, index: int) -> Runs:
    """Where an `else:` runs: where every test of its `if`/`elif` chain above fails."""
    parent, runs = module.parents[index], None
    position = index - 1
    while position >= 0:
        stripped = module.lines[position].strip()
        position -= 1
        if not stripped or stripped.startswith(b"#") or module.parents[position + 1] != parent:
            continue
        if not stripped.startswith((b"if ", b"elif ")):
            return None  # the `else` of a loop or a `try`, or a chain broken by another statement
        runs = _meet(runs, _branches(_header_test(stripped), module.flags)[1])
        if stripped.startswith(b"if "):
            return runs
    return None


def _header_test(header: bytes) -> ast.expr | None:
    """The condition of an `if`/`elif` header line; None where it does not parse on its own line."""
    text = header.decode("utf-8", "replace").partition(" ")[2]
    for candidate in (text, text.partition("#")[0]):
        candidate = candidate.rstrip()
        if not candidate.endswith(":"):
            continue
        try:
            return ast.parse(candidate[:-1].strip(), mode="eval").body
        except (SyntaxError, ValueError, RecursionError):
            continue
    return None


def _branches(test: ast.expr | None, flags: frozenset[str] = frozenset()) -> tuple[Runs, Runs]:
    """Where a condition's true branch runs, and where its false branch does; `flags` are the CUDA
    flags the module can test by their bare names."""
    if test is None:
        return None, None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        negated = _branches(test.operand, flags)
        return negated[1], negated[0]
    if isinstance(test, ast.BoolOp):
        parts = [_branches(value, flags) for value in test.values]
        every: Runs = None
        if isinstance(test.op, ast.And):
            for part in parts:
                every = _meet(every, part[0])
            return every, None
        joined: Runs = NOWHERE
        for part in parts:
            joined = _join(joined, part[0])
            every = _meet(every, part[1])
        return joined, every
    if isinstance(test, ast.Compare):
        if len(test.ops) != 1:
            return None, None
        if dotted_name(test.left) in _CUDA_BUILD and _is_none(test.comparators[0]):
            built = _CUDA_BUILD_SIDES  # `torch.version.cuda is not None`, or its `is None`
            return built if isinstance(test.ops[0], (ast.IsNot, ast.NotEq)) else (built[1], built[0])
        strings = [
            node.value
            for operand in (test.left, *test.comparators)
            for node in (operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand])
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        ]
        if not strings:
            strings = _enum_devices(test.comparators[0])
        if not strings:
            return None, None
        device: Runs = NOWHERE
        for value in strings:
            device = _join(device, _device(value, whole=True))
        sides = (device, _complement(device))
        inverse = isinstance(test.ops[0], (ast.NotEq, ast.NotIn, ast.IsNot))
        return (sides[1], sides[0]) if inverse else sides
    if isinstance(test, ast.Call):
        return _branches(test.func, flags)
    if isinstance(test, ast.Name) and test.id in flags:
        return _DEVICE_WORDS["cuda"], None
    if isinstance(test, ast.Attribute) and dotted_name(test) in _CUDA_BUILD:
        return _CUDA_BUILD_SIDES
    if isinstance(test, (ast.Name, ast.Attribute)):
        named = _device(dotted_name(test))
        return named, _complement(named)
    return None, None


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _enum_devices(compared: ast.expr) -> list[str]:
    """The devices enum members name (`DistributedType.XLA`, `(Backend.NPU, Backend.HPU)`), where
    every member compared with is one; empty where any is not (`DistributedType.MULTI_GPU`)."""
    members = compared.elts if isinstance(compared, (ast.Tuple, ast.List, ast.Set)) else [compared]
    devices = [member.attr.lower() for member in members if isinstance(member, ast.Attribute)]
    return devices if members and len(devices) == len(members) and all(d in _DEVICE_WORDS for d in devices) else []


def _device(text: str, whole: bool = False) -> Runs:
    """The targets of the devices a name (`is_torch_npu_available`, `torch.version.hip`) or a device
    string (`"npu"`, `"xpu:0"`, with `whole`) names; None where it names none."""
    if whole:
        words = [text.partition(":")[0].lower()]
    else:
        words = [word.lower() for word in _WORD_SPLIT.split(text) if word]
        if NEGATING_WORDS.intersection(words):
            return None  # `args.no_npu`, `disable_xpu`: which branch is the device's is not said
    runs: Runs = None
    for word in words:
        if word in _DEVICE_WORDS:
            runs = _DEVICE_WORDS[word] if runs is None else runs | _DEVICE_WORDS[word]
    return runs


def _complement(runs: Runs) -> Runs:
    """Where the other branch of a device test runs: known only for a target whose probe decides both."""
    return ALL_TARGETS - runs if runs is not None and runs and runs <= _BOTH_SIDES else None


def _meet(first: Runs, second: Runs) -> Runs:
    if first is None:
        return second
    if second is None:
        return first
    return first & second


def _join(first: Runs, second: Runs) -> Runs:
    return None if first is None or second is None else first | second


def _line_starts(data: bytes) -> list[int]:
    return [0] + [match.end() for match in re.finditer(rb"\n", data)]


def _line_index(starts: list[int], offset: int) -> int:
    low, high = 0, len(starts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if starts[middle] <= offset:
            low = middle
        else:
            high = middle - 1
    return low


def _quote(line: bytes) -> str:
    return " ".join(line.decode("utf-8", "replace").split())[:_TEXT_LIMIT]
