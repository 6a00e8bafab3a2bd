"""Calls into an extension that a ROCm install builds without its GPU code.

A `setup.py` that asks nothing about ROCm and chooses `CUDAExtension` only under a test of
`CUDA_HOME` (`build_gates.cuda_home_gate`, reported there as CDA444) builds, on a ROCm build of
PyTorch (where `CUDA_HOME` is `None`), either the C++ sources alone or, where the other side of
the test returns before any extension is made, no extension module at all. The project's Python
wrapper of the extension then decides what ROCm runs:

- it calls the extension's functions (`_ext.deform_forward(...)`) for GPU tensors, on the normal
  path of a ROCm run (ROCm's PyTorch answers to `x.is_cuda` and `torch.cuda.is_available()`):
  with no module built, the name the import was meant to bind is missing (a `NameError` or an
  `ImportError`); with the C++ module alone, its GPU entry points raise ("Not compiled with GPU
  support"). Either way the forward fails on ROCm: an error at each call (CDA446);
- with no module built, a wrapper that checks the import worked before it calls (`if _ext is not
  None`, `hasattr(_ext, ...)`, a flag the `try` around the import sets) takes its plain PyTorch
  path instead: a silent slowdown, which the build's own warning (CDA444) already says.

`unbuilt_extensions` is the project index's reading of a build script: the extension modules it
names (`CUDAExtension("pkg._ext", ...)`, or a class chosen before: `extension("pkg._ext", ...)`),
the gate, and whether the ROCm side builds nothing. `unbuilt_calls` is the wrapper's side.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Iterator
from dataclasses import replace

from cudaudit.facts import Evidence
from cudaudit.model import Finding, Severity, Status
from cudaudit.rules.builds.build_gates import cuda_home_gate, on_default_rocm_install, raises_without_cuda_home
from cudaudit.rules.builds.rocm_builds import line_evidence
from cudaudit.rules.catalog import Catalog, build_finding
from cudaudit.rules.python.guards import Probe, probes_in
from cudaudit.rules.python.names import ImportTable, final_name
from cudaudit.rules.python.nodes import subtree
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines, decode_python, parse_python

DETECTOR = "torch-extension"
CALL_KEY = "unbuilt-extension-call"
GATE_KEY = "cuda-home-gate"
_CHECKS = frozenset({"hasattr", "getattr"})


Unbuilt = tuple[str, Evidence, bool, bool]
"""(module, the build's gate, whether ROCm builds no module, whether the script raises there: no
install at all where `CUDA_HOME` is None, a CPU one included)."""


def unbuilt_extensions(path: str, text: str) -> tuple[Unbuilt, ...]:
    """`Unbuilt` for each extension module the build script at display path `path` gives GPU code
    only where `CUDA_HOME` is set."""
    if "CUDA_HOME" not in text or "cpp_extension" not in text:
        return ()
    tree = parse_python(text, filename=path)
    names = ImportTable(tree)
    if any(Probe.ROCM in probes_in(test, names) for test in _tests(tree)):
        return ()  # a script that asks about ROCm decides it itself (`rocm_builds.py`)
    gated = cuda_home_gate(tree, names)
    if gated is None:
        return ()
    gate = gated[0]
    modules = sorted(set(_extension_modules(tree)))
    if not modules:
        return ()
    evidence = line_evidence(path, gate.test.lineno, text.split("\n"))
    nothing = _rocm_side_returns(gate, names)
    raises = raises_without_cuda_home(gate, names) is not None
    return tuple((module, evidence, nothing, raises) for module in modules)


def builds_copy_of(script: str, module: str, importer: str, packages: frozenset[str]) -> bool:
    """Whether the build script at display path `script`, which builds the extension `module`
    (`detectron2._C`), builds the copy of it that the module at `importer` imports. A module inside
    a copy of the extension's top-level package (`demo/detectron2/layers/deform_conv.py`, in a folder
    named for it that `packages`, the folders holding an `__init__.py`, has) imports its own copy's
    extension (Python finds the package it was imported from), which a build of another copy
    (`third_party/detectron2/setup.py`) does not make: only a script in the copy's folder or above
    builds it. Which copy a module outside every copy imports (a test beside the package) depends on
    the path it runs with: any build may."""
    top = module.partition(".")[0]
    folder = posixpath.dirname(importer)
    while folder and posixpath.basename(folder) != top:
        parent = posixpath.dirname(folder)
        folder = "" if parent == folder else parent
    if not folder or folder not in packages:
        return True
    built = posixpath.dirname(script)
    holder = posixpath.dirname(folder)
    return not built or holder == built or holder.startswith(built + "/")


def _tests(tree: ast.Module) -> Iterator[ast.expr]:
    for node in subtree(tree):
        if isinstance(node, (ast.If, ast.IfExp)):
            yield node.test
        elif isinstance(node, ast.Assign):
            yield node.value


def _extension_modules(tree: ast.Module) -> Iterator[str]:
    """The dotted module names the script's extension calls build: the first argument (or `name=`)
    of a call of a class named `...Extension`, or of a name the script binds to one."""
    chosen = {
        target.id
        for node in subtree(tree) if isinstance(node, ast.Assign)
        for target, value in _pairs(node) if isinstance(target, ast.Name) and _is_extension_class(value)
    }
    for node in subtree(tree):
        if not isinstance(node, ast.Call):
            continue
        if not (_is_extension_class(node.func) or (isinstance(node.func, ast.Name) and node.func.id in chosen)):
            continue
        named = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "name"), None)
        if isinstance(named, ast.Constant) and isinstance(named.value, str) and named.value.replace(".", "_").isidentifier():
            yield named.value


def _pairs(node: ast.Assign) -> Iterator[tuple[ast.expr, ast.expr]]:
    """(target, value) of each name an assignment binds: `kind = CUDAExtension`, `kind, srcs = CUDAExtension, [...]`."""
    for target in node.targets:
        if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple) and len(target.elts) == len(node.value.elts):
            yield from zip(target.elts, node.value.elts, strict=True)
        else:
            yield target, node.value


def _is_extension_class(node: ast.expr) -> bool:
    name = final_name(node)
    return name is not None and name.endswith("Extension") and name != "BuildExtension"


def _rocm_side_returns(gate: ast.If, names: ImportTable) -> bool:
    """Whether the side of `gate` a ROCm install takes leaves the function (`else: return None`)
    before any extension is made."""
    on_rocm, _ = on_default_rocm_install(gate.test, names)
    side = gate.body if on_rocm else gate.orelse
    return bool(side) and isinstance(side[-1], (ast.Return, ast.Raise))


def unbuilt_calls(
    tree: ast.Module, names: ImportTable, path: str, unbuilt: tuple[Unbuilt, ...],
    lines: SourceLines, catalog: Catalog, settings: AnalysisSettings,
) -> list[Finding]:
    """A finding at each call of a function of an extension module in `unbuilt` that fails on ROCm,
    and on CPU too where the build raises without `CUDA_HOME` and the module imports it outside a
    `try`: a CPU install has no module, and the wrapper cannot be imported. Where that import runs
    when the wrapper is imported, the finding stops the wrapper's import (`Finding.at_import`), and
    with it every module that imports the wrapper."""
    entry = catalog.lookup(DETECTOR, CALL_KEY) if unbuilt else None
    if entry is None:
        return []
    findings = []
    unguarded = _imported_outside_try(tree)
    at_import = _imported_outside_try(tree, module_level=True)
    for call, gate, nothing, raises in failing_calls(tree, names, path, unbuilt):
        span = lines.node_span(call.func)
        finding = build_finding(entry, path, span, lines.snippet(span), settings.targets)
        fact = finding.targets.get("rocm")
        if fact is not None:
            built = "no module is built" if nothing else "only its C++ sources are built"
            source = f"{gate.cite()}: {built} where `CUDA_HOME` is None; {fact.source}"
            finding = replace(finding, targets={**finding.targets, "rocm": replace(fact, source=source)})
        cpu = finding.targets.get("cpu")
        if cpu is not None and raises and _name_of(call) in unguarded:
            stopped = replace(
                cpu, status=Status.CHANGE, severity=Severity.ERROR,
                replacement="build the extension's C++ sources where `CUDA_HOME` is None instead of raising, with a CPU implementation of the op, or import it under `try` with a PyTorch fallback",
                source=f"{gate.cite()}: the build raises where `CUDA_HOME` is None, as on every CPU build of PyTorch, so there is no module to import",
            )
            finding = replace(finding, targets={**finding.targets, "cpu": stopped}, severity=Severity.ERROR)
        if raises and _name_of(call) in at_import:
            finding = replace(
                finding, at_import=True,
                message=f"{finding.message}; the build raises there, so no ROCm or CPU install has the module and importing {path} fails",
            )
        findings.append(finding)
    return findings


def _name_of(call: ast.Call) -> str:
    """The name a call of an extension function calls through (`_ext` of `_ext.forward(...)`)."""
    return call.func.value.id if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) else ""


def _imported_outside_try(tree: ast.Module, module_level: bool = False) -> frozenset[str]:
    """The names the module's imports bind outside any `try`: where the module is missing, importing
    the wrapper fails (or calling the function that imports it). `module_level`: only the imports
    the module runs when it is imported, outside functions and classes."""
    found: set[str] = set()
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if type(node).__name__ in ("Try", "TryStar"):  # `try: ... except*` from Python 3.11
            continue
        if module_level and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update((alias.asname or alias.name).partition(".")[0] for alias in node.names)
        stack.extend(ast.iter_child_nodes(node))
    return frozenset(found)


def failing_calls(
    tree: ast.Module, names: ImportTable, path: str, unbuilt: tuple[Unbuilt, ...]
) -> list[tuple[ast.Call, Evidence, bool, bool]]:
    """(call, the build's gate, whether ROCm builds no module, whether the build raises there) for each call in the module at `path`
    of a function of an extension in `unbuilt` that fails on ROCm: every call where ROCm builds the
    C++ sources alone, and, where it builds no module, every call of a wrapper that never checks."""
    modules = {module: (gate, nothing, raises) for module, gate, nothing, raises in unbuilt}
    bound = _bindings(tree, names, path, modules)
    if not bound:
        return []
    checked = _checked(tree, bound)
    found = []
    for node in subtree(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)):
            continue
        module = bound.get(node.func.value.id)
        if module is None:
            continue
        gate, nothing, raises = modules[module]
        if not (nothing and checked):  # a checking wrapper takes its own path: CDA444's warning says it
            found.append((node, gate, nothing, raises))
    return found


def called_where_unbuilt(path: str, data: bytes, unbuilt: tuple[Unbuilt, ...]) -> tuple[tuple[str, Evidence], ...]:
    """(build script, the first failing call) for the builds whose extensions the module at `path`
    (`data`) calls where a ROCm install fails: the project index's reading, for the build's finding."""
    text = decode_python(data)
    tree = parse_python(text, filename=path)
    first: dict[str, Evidence] = {}
    lines = text.split("\n")
    for call, gate, _, _ in failing_calls(tree, ImportTable(tree), path, unbuilt):
        first.setdefault(gate.path, line_evidence(path, call.lineno, lines))
    return tuple(sorted(first.items()))


def fails_at_call(findings: list[Finding], called: Evidence | None, catalog: Catalog) -> list[Finding]:
    """The build's `CUDA_HOME` gate finding (CDA444) where a wrapper calls its extension where ROCm
    fails (`called`): the install succeeds, then the model's forward raises on ROCm's normal path."""
    gate_entry = catalog.lookup(DETECTOR, GATE_KEY) if called is not None else None
    if called is None or gate_entry is None:
        return findings
    settled = []
    for finding in findings:
        fact = finding.targets.get("rocm")
        if finding.rule == gate_entry.rule.id and fact is not None and fact.severity is not Severity.ERROR:
            raised = replace(fact, severity=Severity.ERROR, source=f"{called.cite()}: calls it for GPU tensors; {fact.source}")
            finding = replace(
                finding, targets={**finding.targets, "rocm": raised}, severity=Severity.ERROR,
                message=f"{finding.message}; `{called.path}:{called.line}` calls it on ROCm all the same, so a ROCm run likely fails there",
            )
        settled.append(finding)
    return settled


def _bindings(tree: ast.Module, names: ImportTable, path: str, modules: dict[str, tuple[Evidence, bool, bool]]) -> dict[str, str]:
    """Local name -> extension module, for the names the module's imports bind to one; a relative
    import (`from .. import _ext`) is resolved from the module's own path."""
    bound = {}
    folder = posixpath.dirname(path).split("/")
    for node in subtree(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        for alias in node.names:
            local = (alias.asname or alias.name).partition(".")[0]
            if isinstance(node, ast.ImportFrom) and node.level:
                base = folder[: len(folder) - node.level + 1] if node.level > 1 else folder
                spelled = [*base, *(node.module.split(".") if node.module else ()), alias.name]
                qualified = next((m for m in modules if spelled[-len(m.split(".")):] == m.split(".")), None)
            else:
                qualified = names.resolve(ast.Name(id=local, ctx=ast.Load()))
            if qualified in modules and (alias.asname or "." not in alias.name):
                bound[local] = qualified
    return bound


def _checked(tree: ast.Module, bound: dict[str, str]) -> bool:
    """Whether the module tests that an extension it imports is there before it relies on it: a test
    that names the module's binding (`if _ext is not None`), `hasattr`/`getattr` of it, or a test of
    a name the `try` around its import assigns (`HAS_EXT = True`, `except ImportError: HAS_EXT = False`);
    or whether the `try`'s handler binds the name to a fallback of its own."""
    flags = set(bound)
    for node in subtree(tree):
        if not (isinstance(node, ast.Try) and _imports_any(node.body, bound)):
            continue
        handled = [inner for handler in node.handlers for statement in handler.body for inner in subtree(statement)]
        if any(_binds_fallback(inner, bound) for inner in handled):
            return True  # `except ImportError: from .reference import ops as _ext`: the name works either way
        for part in (*node.body, *node.orelse, *handled):
            for inner in subtree(part):
                if isinstance(inner, ast.Assign):
                    flags.update(t.id for t in inner.targets if isinstance(t, ast.Name) and t.id not in bound)
    for node in subtree(tree):
        if isinstance(node, (ast.If, ast.IfExp, ast.While, ast.Assert)) and any(
            isinstance(n, ast.Name) and n.id in flags for n in subtree(node.test)
        ):
            return True
        if (isinstance(node, ast.Call) and final_name(node.func) in _CHECKS and node.args
                and isinstance(node.args[0], ast.Name) and node.args[0].id in bound):
            return True
    return False


def _binds_fallback(node: ast.AST, bound: dict[str, str]) -> bool:
    """An import, or an assignment of something other than `None`, that binds the extension's name again."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return any((alias.asname or alias.name).partition(".")[0] in bound for alias in node.names)
    if isinstance(node, ast.Assign) and not (isinstance(node.value, ast.Constant) and node.value.value is None):
        return any(isinstance(target, ast.Name) and target.id in bound for target in node.targets)
    return False


def _imports_any(body: list[ast.stmt], bound: dict[str, str]) -> bool:
    return any(
        isinstance(node, (ast.Import, ast.ImportFrom)) and any((a.asname or a.name).partition(".")[0] in bound for a in node.names)
        for statement in body for node in subtree(statement)
    )
