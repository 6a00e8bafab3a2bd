"""CUDA extension builds written in Python: `CUDAExtension`, `load()`/`load_inline()` with CUDA
sources, and nvcc flags in build arguments (`extra_compile_args={"nvcc": ["-arch=sm_80"]}`).

setup.py is read, never run. A call counts as a CUDA build when its callee resolves to
`torch.utils.cpp_extension` and it is given CUDA: `CUDAExtension` always, `load` whose sources hold
a `.cu`/`.cuh` file (read through lists, globs, names and the module's functions that return them;
where they are not read, `extra_cuda_cflags` says CUDA), `load_inline` with `cuda_sources`. A string counts as nvcc flags
when every word of it is a command-line flag and one of them is nvcc's (a sentence that
mentions `-arch=sm_80` is prose). A script that asks nothing about ROCm and chooses `CUDAExtension`
only under a test of `CUDA_HOME` (`None` on ROCm builds of PyTorch) builds its C++ sources alone
there: the test is reported (CDA444), where the lock-in is, rather than the names in its kernels.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import partial

from cudaudit.model import Finding, Portability, Severity, Status
from cudaudit.rules.builds import nvcc_flags
from cudaudit.rules.builds.build_gates import (
    CUDA_EXTENSION,
    cuda_home_gate,
    cuda_home_requirement,
    raises_without_cuda_home,
)
from cudaudit.rules.builds.rocm_builds import cuda_arms
from cudaudit.rules.catalog import Catalog, build_finding
from cudaudit.rules.kernels.string_literals import literal_positions
from cudaudit.rules.python.guards import Polarity, Probe, polarity, probes_in
from cudaudit.rules.python.names import ImportTable, final_name
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.regions import branch_contexts
from cudaudit.rules.python.rewrites import FixContext, build_fix
from cudaudit.rules.python.walker import Hit, device_flags
from cudaudit.settings import AnalysisSettings

EXTENSION_DETECTOR = "torch-extension"
FLAG_DETECTOR = "nvcc-flag"
CPP_EXTENSION = "torch.utils.cpp_extension."
MARKERS = (
    "cpp_extension", "sm_", "compute_", "gencode", "generate-code", "fast_math", "expt-", "ptxas", "-arch",
    "allow-unsupported-compiler", "extra-device-vectorization",
)
"""Words without which a module has nothing for this check: it is not walked at all."""
_FLAG_MARKERS = (
    ("gencode", None), ("generate-code", None), ("fast_math", None), ("--expt-", None), ("ptxas", None),
    ("allow-unsupported-compiler", None), ("extra-device-vectorization", None), ("-lcuda", None), ("-lnvrtc", None),
    ("-arch", re.compile(r"-arch\b")), ("sm_", re.compile(r"(?<!\w)sm_\d")), ("compute_", re.compile(r"compute_\d")),
)
"""What a module needs before its strings are searched for nvcc flags (`compute_loss` is not one): a
word, and the pattern that must then match. Each word is searched for on its own, where one pattern
of all of them starts with no word and was tried at every character of the module."""

_CUDA_SOURCE = re.compile(r"\.(cu|cuh)$")
_FLAG_LIKE = re.compile(r"-\S+|arch=compute_\S+|(?:sm|compute)_\d+[af]?")


def build_findings(tree: ast.Module, path: str, catalog: Catalog, settings: AnalysisSettings, fixes: FixContext) -> list[Finding]:
    """Findings for the extension builds and nvcc flags of one parsed module; `fixes` is the
    Python analyzer's, so a build made conditional is built by the registered rewrite."""
    findings = []
    names, lines = fixes.names, fixes.lines
    text = "\n".join(lines.lines)
    extension_calls = _extension_calls(tree, names) if "cpp_extension" in text else ()
    at_import = {id(statement.value): statement for statement in tree.body if isinstance(statement, ast.Assign)}
    built_where_cuda = {id(choice.body) for s in tree.body if (choice := _cuda_only_choice(s, names)) is not None}
    contexts: dict[int, tuple[frozenset[str], Severity | None]] | None = None

    def context_of(node: ast.AST) -> tuple[frozenset[str], Severity | None]:
        """The targets the branch around `node` is quiet on, and its cap (`regions.branch_contexts`:
        `if use_cuda: CUDAExtension(...)`, `if HIP_BUILD: ... else: <nvcc flags>`), read once per module."""
        nonlocal contexts
        if contexts is None:
            contexts = branch_contexts(tree, names, partial(device_flags, names=names))
        return contexts.get(id(node), (frozenset(), None))

    for key, node, call in extension_calls:
        if id(call) in built_where_cuda:
            continue  # `ops = load(...) if torch.cuda.is_available() else None`: the CPU never builds it
        quiet, cap = context_of(node)
        built_at_import = id(call) in at_import and key in JIT_BUILDS
        cpu_path = built_at_import and has_cpu_path(tree)
        entry = catalog.lookup(EXTENSION_DETECTOR, IMPORT_TIME_BUILD if built_at_import and not cpu_path else key)
        if entry is not None:
            hit = Hit(entry, node, frozenset(), None, at_import.get(id(call)), call)
            fix = build_fix(hit, fixes) if cpu_path else None  # with no CPU path, nothing to make conditional
            span = lines.node_span(node)
            finding = build_finding(entry, path, span, lines.snippet(span), settings.targets, quiet, cap, fix=fix)
            message = finding.message.replace("{path}", path)
            findings.append(replace(finding, message=message, at_import=built_at_import, extent=lines.node_span(call)))
    gated = _cuda_home_gate(tree, names) if "CUDA_HOME" in text and "cpp_extension" in text else None
    entry = catalog.lookup(EXTENSION_DETECTOR, CUDA_HOME_GATE) if gated is not None else None
    if gated is not None and entry is not None:
        gate, overrides = gated
        span = lines.node_span(gate.test)
        finding = build_finding(entry, path, span, lines.snippet(span), settings.targets)
        finding = _unless_set(finding, overrides)
        stop = raises_without_cuda_home(gate, names)
        findings.append(finding if stop is None else _stops_without_cuda_home(finding, f"{path}:{stop.lineno}"))
    elif "CUDA_HOME" in text and "CUDAExtension" in text and "cpp_extension" in text:
        findings.extend(_cuda_home_required(tree, path, catalog, settings, fixes, context_of))
    flags = any(word in text and (pattern is None or pattern.search(text)) for word, pattern in _FLAG_MARKERS)
    arms: list[tuple[int, int, int]] | None = None  # the arms a ROCm build never takes, read at the first flag
    rejected = nvcc_flags.rejected_options(catalog) if flags else frozenset()
    linked: frozenset[int] | None = None
    for key, node, start, end in _flag_strings(tree) if flags else ():
        if key == nvcc_flags.CUDA_LINK:
            linked = _link_flag_strings(tree) if linked is None else linked
            if id(node) not in linked:
                continue  # `-lcudart` among compile flags, or returned for a build this module does not make
        entry = catalog.lookup(FLAG_DETECTOR, nvcc_flags.rocm_key(key, str(node.value)[start:end], rejected))
        positions = literal_positions(node, lines)
        if entry is None or positions is None:
            continue
        quiet, cap = context_of(node)
        arms = cuda_arms(tree, names) if arms is None else arms
        if any(first <= node.lineno <= last for first, last, _ in arms):
            quiet |= {"rocm"}  # the arm a ROCm build never takes (`if CUDA_HOME is not None or FORCE_CUDA:`)
        span = positions.span(len(positions.text[:start].encode()), len(positions.text[:end].encode()))
        findings.append(build_finding(entry, path, span, lines.snippet(span), settings.targets, quiet, cap))
    return findings


_LINK_KEYWORDS = frozenset({"extra_ldflags", "extra_link_args"})


def _link_flag_strings(tree: ast.Module) -> frozenset[int]:
    """The ids of the strings a call of the module hands to the linker: the elements of a list given as
    `extra_ldflags=` (`load()`) or `extra_link_args=` (`CUDAExtension`), or bound to a name the module
    gives there (`ldflags = ["-lcuda"]`, then `load(..., extra_ldflags=ldflags)`)."""
    given: list[ast.expr] = []
    for node in subtree(tree):
        if isinstance(node, ast.Call):
            given += [k.value for k in node.keywords if k.arg in _LINK_KEYWORDS]
    names = {value.id for value in given if isinstance(value, ast.Name)}
    lists = [value for value in given if isinstance(value, (ast.List, ast.Tuple))]
    for node in subtree(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple)) and any(
            isinstance(target, ast.Name) and target.id in names for target in node.targets
        ):
            lists.append(node.value)
    return frozenset(id(element) for value in lists for element in value.elts)


def _extension_calls(tree: ast.Module, names: ImportTable) -> Iterator[tuple[str, ast.expr, ast.Call]]:
    for node in subtree(tree):
        if not isinstance(node, ast.Call):
            continue
        qualified = names.resolve(node.func) or ""
        if not qualified.startswith(CPP_EXTENSION):
            continue
        function = qualified[len(CPP_EXTENSION) :]
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        with_cuda = keywords.get("with_cuda")
        asks_cuda = isinstance(with_cuda, ast.Constant) and with_cuda.value is True
        if function == "CUDAExtension" or (function == "load" and (asks_cuda or _loads_cuda(node, keywords, tree))) or (function == "load_inline" and (asks_cuda or "cuda_sources" in keywords or len(node.args) > 2)):
            yield function, node.func, node


def _loads_cuda(call: ast.Call, keywords: dict[str, ast.expr], tree: ast.Module) -> bool:
    """Whether a `load()` without `with_cuda=` compiles CUDA: PyTorch decides by its sources' suffixes
    (`with_cuda = any(map(_is_cuda_file, sources))`, torch/utils/cpp_extension.py), and passes
    `extra_cuda_cflags` to nvcc only then. Where the sources are not read, those flags say CUDA."""
    if _has_cuda_source(call):
        return True
    sources = keywords.get("sources", call.args[1] if len(call.args) > 1 else None)
    suffixes = _suffixes(sources, tree, 0) if sources is not None else None
    return bool(suffixes & _CUDA_SUFFIXES) if suffixes is not None else "extra_cuda_cflags" in keywords


_CUDA_SUFFIXES = frozenset({".cu", ".cuh"})
_GLOBS = frozenset({"glob", "iglob"})


def _suffixes(node: ast.expr, tree: ast.Module, depth: int, scope: ast.AST | None = None) -> frozenset[str] | None:
    """The suffixes of the files a sources expression lists (`["a.cpp"]`, `glob.glob(os.path.join(d,
    "*.cpp"))`, a name through each assignment of it in `scope`, `self.sources()` of the module's
    classes); None where it is not read."""
    if depth > 3:
        return None
    if isinstance(node, ast.Name) and scope is not None:
        assigned = [n.value for n in subtree(scope) if isinstance(n, ast.Assign) and len(n.targets) == 1
                    and isinstance(n.targets[0], ast.Name) and n.targets[0].id == node.id]
        parts = [_suffixes(value, tree, depth + 1, scope) for value in assigned]
        return None if not parts or any(part is None for part in parts) else frozenset().union(*parts)  # type: ignore[arg-type]
    if isinstance(node, ast.Constant):
        suffix = posixpath.splitext(node.value)[1] if isinstance(node.value, str) else ""
        return frozenset({suffix}) if suffix else None
    if isinstance(node, (ast.List, ast.Tuple)) or (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)):
        parts = [_suffixes(item, tree, depth, scope) for item in (node.elts if isinstance(node, (ast.List, ast.Tuple)) else (node.left, node.right))]
        return None if any(part is None for part in parts) else frozenset().union(*parts)  # type: ignore[arg-type]
    if not isinstance(node, ast.Call):
        return None
    name = final_name(node.func)
    if name in _GLOBS and node.args:
        return _suffixes(node.args[0], tree, depth, scope)
    if name == "join" and node.args:  # `os.path.join(folder, "*.cpp")`: the last part names the files
        return _suffixes(node.args[-1], tree, depth, scope)
    if name in {"list", "sorted"} and len(node.args) == 1:
        return _suffixes(node.args[0], tree, depth, scope)
    definitions = [f for f in subtree(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name == name]
    returned = [_returned(f, tree, depth) for f in definitions]
    found = [suffixes for suffixes in returned if suffixes != frozenset()]
    return None if not found or any(s is None for s in found) else frozenset().union(*found)  # type: ignore[arg-type]


def _returned(function: ast.FunctionDef | ast.AsyncFunctionDef, tree: ast.Module, depth: int) -> frozenset[str] | None:
    """The suffixes of what `function` returns; empty for a stub that returns nothing (a base class's `pass`)."""
    values = [node.value for node in subtree(function) if isinstance(node, ast.Return) and node.value is not None]
    found: set[str] = set()
    for value in values:
        suffixes = _suffixes(value, tree, depth + 1, function)
        if suffixes is None:
            return None
        found |= suffixes
    return frozenset(found)


CUDA_HOME_GATE = "cuda-home-gate"


CUDA_HOME_REQUIRED = "cuda-home-required"


def _cuda_home_gate(tree: ast.Module, names: ImportTable) -> tuple[ast.If, tuple[str, ...]] | None:
    """The `if` on `CUDA_HOME` that keeps the script's `CUDAExtension` off ROCm (`build_gates`), in
    a script that never asks whether PyTorch is a ROCm build: one that asks decides ROCm itself."""
    return None if _asks_rocm(tree, names) else cuda_home_gate(tree, names)


def _asks_rocm(tree: ast.Module, names: ImportTable) -> bool:
    """Whether a test of the module asks whether PyTorch is a ROCm build (`torch.version.hip`, `ROCM_HOME`)."""
    for node in subtree(tree):
        test = node.test if isinstance(node, (ast.If, ast.IfExp)) else node.value if isinstance(node, ast.Assign) else None
        if test is not None and Probe.ROCM in probes_in(test, names):
            return True
    return False


def _cuda_home_required(
    tree: ast.Module, path: str, catalog: Catalog, settings: AnalysisSettings, fixes: FixContext,
    context_of: Callable[[ast.AST], tuple[frozenset[str], Severity | None]],
) -> Iterator[Finding]:
    """CDA444 at the test that stops a CUDA extension's build script where `CUDA_HOME` is None
    (`assert CUDA_HOME is not None`): the install needs the CUDA toolkit, which CPU builds of PyTorch
    never have and ROCm builds do not read (`build_gates.CUDA_HOME`). A script that asks about ROCm
    itself, or names no CUDA build of PyTorch's, is left alone."""
    names, lines = fixes.names, fixes.lines
    builds_cuda = any(isinstance(node, (ast.Name, ast.Attribute)) and names.resolve(node) == CUDA_EXTENSION for node in subtree(tree))
    required = cuda_home_requirement(tree, names) if builds_cuda and not _asks_rocm(tree, names) else None
    entry = catalog.lookup(EXTENSION_DETECTOR, CUDA_HOME_REQUIRED) if required is not None else None
    if required is None or entry is None:
        return
    test, stop, overrides = required
    quiet, cap = context_of(test)
    span = lines.node_span(test)
    finding = build_finding(entry, path, span, lines.snippet(span), settings.targets, quiet, cap)
    yield replace(_unless_set(finding, overrides), extent=lines.node_span(stop))


def _unless_set(finding: Finding, overrides: Sequence[str]) -> Finding:
    """`finding`, whose message names the installer's settings that let its test pass anyway
    (`FORCE_CUDA=1`): a ROCm install that sets one goes on."""
    if not overrides:
        return finding
    settings_text = ", ".join(f"`{name}=1`" for name in overrides)
    return replace(finding, message=f"{finding.message} (unless the installer sets {settings_text})")


def _stops_without_cuda_home(finding: Finding, stop: str) -> Finding:
    """CDA444 where the script raises on the side without `CUDA_HOME` (at `stop`, `path:line`): a
    ROCm install and a CPU install stop there, with no build at all: an error on both, not the
    missing GPU code of a C++ build (ROCm) or the C++ build that is the CPU's (CPU)."""
    targets = dict(finding.targets)
    rocm = targets.get("rocm")
    if rocm is not None:
        targets["rocm"] = replace(rocm, severity=Severity.ERROR, source=f"{stop}: the script raises there; {rocm.source}")
    if "cpu" in targets:
        targets["cpu"] = Portability(
            Status.CHANGE,
            "build the C++ sources where `CUDA_HOME` is None instead of raising, with a CPU implementation of the op",
            f"{stop}: the script raises where `CUDA_HOME` is None, as on every CPU build of PyTorch",
            Severity.ERROR,
        )
    return replace(
        finding, targets=targets, severity=Severity.ERROR,
        message=f"{finding.message}; it raises where `CUDA_HOME` is None, so a ROCm or CPU install stops there",
    )


JIT_BUILDS = frozenset({"load", "load_inline"})
IMPORT_TIME_BUILD = "load-at-import"
"""The catalog key of a JIT build run when its module is imported, in a module with no CPU path."""
_DEVICE_TYPES = frozenset({"cpu", "cuda"})


def _cuda_only_choice(statement: ast.stmt, names: ImportTable) -> ast.IfExp | None:
    """`ops = load(...) if torch.cuda.is_available() else None`: the choice whose body runs only where CUDA is."""
    if not (isinstance(statement, ast.Assign) and isinstance(statement.value, ast.IfExp)):
        return None
    choice = statement.value
    return choice if polarity(choice.test, names, Probe.CUDA) is Polarity.POSITIVE else None


def has_cpu_path(tree: ast.Module) -> bool:
    """Whether the module branches on where a tensor lives (`x.device.type == "cpu"`, `x.is_cuda`):
    the sign of a plain PyTorch path next to the extension's kernels."""
    for node in subtree(tree):
        if isinstance(node, ast.Attribute) and node.attr == "is_cuda" and isinstance(node.ctx, ast.Load):
            return True
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            operands = (node.left, node.comparators[0])
            on_device = any(isinstance(o, ast.Attribute) and o.attr == "type" for o in operands)
            if on_device and any(isinstance(o, ast.Constant) and o.value in _DEVICE_TYPES for o in operands):
                return True
    return False


def _has_cuda_source(call: ast.Call) -> bool:
    sources = next((k.value for k in call.keywords if k.arg == "sources"), None)
    if sources is None and len(call.args) > 1:
        sources = call.args[1]
    return sources is not None and any(
        isinstance(n, ast.Constant) and isinstance(n.value, str) and _CUDA_SOURCE.search(n.value)
        for n in subtree(sources)
    )


def _flag_strings(tree: ast.Module) -> Iterator[tuple[str, ast.Constant, int, int]]:
    """Flags in strings that hold nothing but command-line flags; a flag split over two list
    elements (`["-gencode", "arch=compute_80,code=sm_80"]`) is reported once, at its first. A string
    a comparison tests (`"-gencode=arch=compute_90a,code=sm_90a" in arch_flags`) asks which flags a
    build has, and passes none."""
    skipped: set[int] = set()
    """The strings that are no flags: docstrings (and other expression statements), and the operands
    of a comparison."""
    strings: list[ast.expr] = []
    for node in subtree(tree):
        if isinstance(node, ast.Expr):
            skipped.add(id(node.value))
        elif isinstance(node, ast.Compare):
            skipped.update(id(part) for part in (node.left, *node.comparators))
        elif isinstance(node, (ast.List, ast.Tuple, ast.Constant)):
            strings.append(node)
    seen: set[int] = set()
    for node in strings:
        if isinstance(node, (ast.List, ast.Tuple)):
            elements = node.elts
        elif isinstance(node, ast.Constant) and id(node) not in seen:
            elements = [node]
        else:
            continue
        skip_next = False
        for element in elements:
            if not (isinstance(element, ast.Constant) and isinstance(element.value, str)) or id(element) in skipped:
                skip_next = False
                continue
            seen.add(id(element))
            if skip_next:
                skip_next = False
                continue
            words = element.value.split()
            if not words or not all(_FLAG_LIKE.fullmatch(w) for w in words):
                continue
            for start, end, key in nvcc_flags.flags_in(element.value):
                yield key, element, start, end
                skip_next = element.value.strip() in nvcc_flags.TAKES_VALUE
