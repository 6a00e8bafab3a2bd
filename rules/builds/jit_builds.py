"""Which C/C++ sources a JIT extension build (`torch.utils.cpp_extension.load()`) compiles.

A project may build its extension when it first needs it rather than at install: a module calls
`torch.utils.cpp_extension.load(name=..., sources=[...])` itself, or through a function of its own
(`get_plugin(module_name, sources, **build_kwargs)`) whose parameter reaches `load`'s `sources`,
often rebuilt on the way (`sources = [os.path.join(source_dir, name) for name in sources]`). On a
ROCm build of PyTorch, `load()` hipifies those sources before hipcc compiles them, as `CUDAExtension`
does in a `setup.py` (`_jit_compile` calls `hipify_python.hipify` with the sources as `extra_files` when
`IS_HIP_EXTENSION`,
https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/utils/cpp_extension.py#L2070):
an implicit hipify of the folder those sources sit in. A header they include is converted only where
a file of its name is among the files hipify is given, the sources and the build folder's files
(`any(s.endswith(filename) for s in all_files)`,
https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/utils/hipify/hipify_python.py):
a header the call names (a wrapper's `headers=[...]`, copied into the build folder) is, one beside the
sources is compiled as written (`likely`: a wrapper may copy the folder there, as one that does so only
where `TORCH_EXTENSIONS_DIR` is set).

Read from syntax in two steps, each per module (so the cache keeps them): the functions that hand a
parameter to `load`'s sources (`loaders`), and the calls that name source files (`source_calls`);
the index joins them across the project (`jit_built_folders`). The sources are the paths a call
spells, from its module's folder (`source_sets.path_value`).
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.rules.builds.source_sets import path_value, scope_paths
from cudaudit.rules.python.names import ImportTable, final_name
from cudaudit.rules.python.nodes import children, subtree
from cudaudit.rules.python.regions import TRY_STATEMENTS, try_region
from cudaudit.source import decode_python, read_tree

_LOADS = frozenset({"torch.utils.cpp_extension.load"})
_SOURCE_NAME = re.compile(r"[\w./-]+\.(?:cu|cuh|cpp|cc|cxx)")
_HEADER_NAME = re.compile(r"[\w./-]+\.(?:h|hh|hpp|hxx|inl)")
"""A header a build call names beside its sources (`headers=["op.h"]` of a wrapper that copies them into
the build folder): the JIT build's hipify converts the files there too."""
_SOURCE_STRING = re.compile(rb"\.c(?:u|uh|pp|c|xx)[\"']")
"""The end of a string that names a source (`"op.cu"`, `f"{here}/op.cpp"`): without one, and without
`cpp_extension`, a module neither builds nor names a source, and is not parsed."""
_TEXT_LIMIT = 80
_BOUND = frozenset({"self", "cls"})
Loader = tuple[str, str, int]
"""(function name, parameter name, its position among the positional parameters, -1 for keyword-only)."""
SourceCall = tuple[str, tuple[str, ...], int, int, str, tuple[str, ...], bool]
"""(called name, keyword names, count of positional arguments, line, its text, the display paths of
the sources and headers it spells, whether a target without CUDA goes on without it: it sits in a
`try` that does, or only tensors on CUDA reach it) of a call naming source files; the called name is
"" for `torch.utils.cpp_extension.load` itself."""
JitReading = tuple[tuple[Loader, ...], tuple[SourceCall, ...]]


def read_jit(path: str, data: bytes) -> JitReading:
    """The module's functions whose parameter reaches a JIT `load()`'s sources, and its calls that
    name C/C++ source files; empty where the module names neither `load` nor a source."""
    if b"cpp_extension" not in data and _SOURCE_STRING.search(data) is None:
        return (), ()
    text = decode_python(data)
    tree = read_tree(text, filename=path)
    names = ImportTable(tree)
    paths = scope_paths(tree, names)
    lines = text.split("\n")
    loaders: list[Loader] = []
    calls: list[SourceCall] = []
    loading = bool(_load_calls(tree, names))  # most modules only name sources: no scope of theirs binds any
    bound = {**_bound_arguments(tree, names), **(_bound_sources(tree, names) if loading else {})}
    spared: set[int] | None = None  # read on the first call naming a source: most modules have none
    for node in subtree(tree):
        if loading and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            loaders.extend(_loaders(node, names))
        elif isinstance(node, ast.Call):
            called = "" if names.resolve(node.func) in _LOADS else final_name(node.func)
            values = [*node.args, *(k.value for k in node.keywords), *bound.get(id(node), ())]
            spelled = _spelled_sources(values, path, names, paths(node.lineno)) if called is not None else ()
            if called is not None and any(_SOURCE_NAME.fullmatch(source) for source in spelled):
                keywords = tuple(sorted(k.arg for k in node.keywords if k.arg))
                line = " ".join(lines[node.lineno - 1].split())[:_TEXT_LIMIT]
                if spared is None:
                    spared = _tried_calls(tree) | _cuda_dispatched_calls(tree)
                calls.append((called, keywords, len(node.args), node.lineno, line, spelled, id(node) in spared))
    return tuple(loaders), tuple(calls)


def _tried_calls(tree: ast.Module) -> set[int]:
    """The ids of the calls in the body of a `try` whose handler goes on without what the body makes
    (`try: _plugin = get_plugin(...)` / `except: warnings.warn("falling back to the reference")`,
    `regions.try_region`): where such a build fails, the module runs its Python path."""
    return {
        id(node)
        for statement in subtree(tree) if isinstance(statement, TRY_STATEMENTS) and try_region(statement).cap is not None
        for part in statement.body for node in subtree(part) if isinstance(node, ast.Call)
    }


def _cuda_dispatched_calls(tree: ast.Module) -> set[int]:
    """The ids of the calls in the module's top-level functions that only tensors on CUDA reach:
    every mention of the function in the module comes after a test that a tensor is on CUDA, in
    the same `and` (`if impl == "cuda" and x.device.type == "cuda" and _init():`) or in the body of
    an `if` that makes it: a CPU tensor takes the op's Python path, and nothing builds the plugin."""
    functions = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    behind: dict[str, bool] = {}

    def visit(node: ast.AST, after_test: bool) -> None:
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            for value in node.values:
                visit(value, after_test)
                after_test = after_test or _tensor_on_cuda(value)
            return
        if isinstance(node, (ast.If, ast.IfExp)):
            visit(node.test, after_test)
            inner = after_test or _tensor_on_cuda(node.test) or (
                isinstance(node.test, ast.BoolOp) and isinstance(node.test.op, ast.And)
                and any(_tensor_on_cuda(value) for value in node.test.values)
            )
            for part in node.body if isinstance(node, ast.If) else [node.body]:
                visit(part, inner)
            for part in node.orelse if isinstance(node, ast.If) else [node.orelse]:
                visit(part, after_test)
            return
        if isinstance(node, ast.Name) and node.id in functions and isinstance(node.ctx, ast.Load):
            behind[node.id] = behind.get(node.id, True) and after_test
        for child in children(node):
            visit(child, after_test)

    visit(tree, False)
    return {
        id(node) for name, only in behind.items() if only
        for node in subtree(functions[name]) if isinstance(node, ast.Call)
    }


def _tensor_on_cuda(test: ast.expr) -> bool:
    """`x.is_cuda`, `x.device.type == "cuda"`: a test that a tensor is on a CUDA device."""
    if isinstance(test, ast.Attribute):
        return test.attr == "is_cuda"
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(side, ast.Constant) and side.value == "cuda" for side in sides) and any(
        isinstance(side, ast.Attribute) and side.attr == "type" and isinstance(side.value, ast.Attribute)
        and side.value.attr == "device" for side in sides
    )


def _spelled_sources(values: Iterable[ast.expr], path: str, names: ImportTable, paths: dict[str, str]) -> tuple[str, ...]:
    """The C/C++ or CUDA sources `values` (a call's arguments, and what its sources' names are bound to)
    spell, as display paths from the module's folder: a name, a path joined from the module's folder
    (`os.path.join(here, "src", "op.cu")`), an f-string read piece by piece (`f"{here}/csrc/op.cu"`);
    each string is also read on its own, from the module's folder, for the lists a comprehension joins
    (`[join(here, s) for s in ["a.cu"]]`)."""
    folder = posixpath.dirname(path)
    found: set[str] = set()
    for argument in values:
        elements = argument.elts if isinstance(argument, (ast.List, ast.Tuple)) else [argument]
        spelled = [_formatted_path(element, names, paths) if isinstance(element, ast.JoinedStr)
                   else path_value(element, names, paths) for element in elements]
        joined = _joined_over_names(argument, names, paths)
        spelled += joined if joined is not None and any(joined) else [
            node.value for node in subtree(argument) if isinstance(node, ast.Constant) and isinstance(node.value, str)
        ]
        for path_text in spelled:
            if path_text is not None and (_SOURCE_NAME.fullmatch(path_text) or _HEADER_NAME.fullmatch(path_text)):
                source = posixpath.normpath(posixpath.join(folder, path_text))
                if not source.startswith(".."):
                    found.add(source)
    return tuple(sorted(found))


def _joined_over_names(node: ast.expr, names: ImportTable, paths: dict[str, str]) -> list[str | None] | None:
    """The paths a comprehension over a literal list of names spells, each name in its place:
    `[path.join(src, f) for f in ["op.cpp", "op.cu"]]`, `src` a folder the module names (None in the
    place of each where it names none). None for anything else."""
    if not (isinstance(node, (ast.ListComp, ast.GeneratorExp)) and len(node.generators) == 1):
        return None
    loop = node.generators[0]
    if loop.ifs or not isinstance(loop.target, ast.Name) or not isinstance(loop.iter, (ast.List, ast.Tuple)):
        return None
    items = [item.value for item in loop.iter.elts if isinstance(item, ast.Constant) and isinstance(item.value, str)]
    if len(items) != len(loop.iter.elts):
        return None
    return [path_value(node.elt, names, {**paths, loop.target.id: item}) for item in items]


def _formatted_path(node: ast.JoinedStr, names: ImportTable, paths: dict[str, str]) -> str | None:
    """The path an f-string spells from paths the module names: `f"{here}/csrc/op.cu"`."""
    pieces: list[str] = []
    for value in node.values:
        piece = path_value(value.value, names, paths) if isinstance(value, ast.FormattedValue) else path_value(value, names, paths)
        if piece is None:
            return None
        pieces.append(piece)
    return "".join(pieces).lstrip("/") if pieces and pieces[0] == "" else "".join(pieces)


def _bound_sources(tree: ast.Module, names: ImportTable) -> dict[int, list[ast.expr]]:
    """id(a `load()` call) -> the values its scopes (the module, each function around it) bind to the
    names its sources hold, followed back: `sources=paths` after `paths = [join(here, f) for f in
    files]` and `files = ["op.cu", "op.cpp"]` reaches the list of names, which the call then spells."""
    bound: dict[int, list[ast.expr]] = {}
    scopes: list[ast.AST] = [tree, *(n for n in subtree(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]
    for scope in scopes:
        for call in _load_calls(scope, names):
            sources = _sources_argument(call)
            if sources is not None:
                _, values = _reaching(scope, _names_in(sources))
                bound.setdefault(id(call), []).extend(values)
    return bound


def _bound_arguments(tree: ast.Module, names: ImportTable) -> dict[int, list[ast.expr]]:
    """id(a call in a function) -> the values that function binds to the names it passes that hold
    source files: `get_plugin("ops", sources=sources)` after `sources = [join(here, s) for s in
    sources]` and `sources = ["op.cpp", "op.cu"]`, a project's JIT-build wrapper given names."""
    bound: dict[int, list[ast.expr]] = {}
    for function in subtree(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        holding = _source_names(function)
        if not holding:
            continue
        for call in subtree(function):
            if not isinstance(call, ast.Call) or names.resolve(call.func) in _LOADS:
                continue
            passed = {a.id for a in [*call.args, *(k.value for k in call.keywords)] if isinstance(a, ast.Name)} & holding
            if passed:
                bound[id(call)] = _reaching(function, passed)[1]
    return bound


def _source_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The names `function` assigns a source file's name, or a value made from such a name."""
    assignments = [node for node in subtree(function) if isinstance(node, ast.Assign)]
    holding: set[str] = set()
    grown = True
    while grown:
        grown = False
        for assignment in assignments:
            targets = {t.id for t in assignment.targets if isinstance(t, ast.Name)} - holding
            if targets and any(
                (isinstance(node, ast.Constant) and isinstance(node.value, str) and _SOURCE_NAME.fullmatch(node.value))
                or (isinstance(node, ast.Name) and node.id in holding)
                for node in subtree(assignment.value)
            ):
                holding |= targets
                grown = True
    return holding


def _load_calls(scope: ast.AST, names: ImportTable) -> list[ast.Call]:
    return [node for node in subtree(scope) if isinstance(node, ast.Call) and names.resolve(node.func) in _LOADS]


def _sources_argument(call: ast.Call) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == "sources"), call.args[1] if len(call.args) > 1 else None)


def _reaching(scope: ast.AST, start: set[str]) -> tuple[set[str], list[ast.expr]]:
    """The names that reach `start` through the assignments of `scope`, with the values assigned to them."""
    reaching = set(start)
    values: list[ast.expr] = []
    if not reaching:
        return reaching, values
    assignments = [node for node in subtree(scope) if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign))]
    taken: set[int] = set()
    grown = True
    while grown:
        grown = False
        for assignment in assignments:
            targets = assignment.targets if isinstance(assignment, ast.Assign) else [assignment.target]
            if id(assignment) in taken or assignment.value is None:
                continue
            if not any(isinstance(t, ast.Name) and t.id in reaching for t in targets):
                continue
            taken.add(id(assignment))
            values.append(assignment.value)
            reaching |= _names_in(assignment.value)
            grown = True
    return reaching, values


def _loaders(function: ast.FunctionDef | ast.AsyncFunctionDef, names: ImportTable) -> Iterable[Loader]:
    """The parameters of `function` that reach the sources of a `load()` it calls: the names in
    that argument, followed back through the function's assignments."""
    start: set[str] = set()
    for call in _load_calls(function, names):
        sources = _sources_argument(call)
        if sources is not None:
            start |= _names_in(sources)
    reaching, _ = _reaching(function, start)
    if not reaching:
        return
    positional = [*function.args.posonlyargs, *function.args.args]
    if positional and positional[0].arg in _BOUND:
        positional = positional[1:]  # a method: its callers do not pass `self`
    for index, argument in enumerate(positional):
        if argument.arg in reaching:
            yield function.name, argument.arg, index
    for argument in function.args.kwonlyargs:
        if argument.arg in reaching:
            yield function.name, argument.arg, -1


def _names_in(node: ast.AST) -> set[str]:
    return {sub.id for sub in subtree(node) if isinstance(sub, ast.Name)}


def jit_built_folders(
    readings: Mapping[str, JitReading], sources: Iterable[str]
) -> dict[str, tuple[Evidence, tuple[str, ...], Evidence | None]]:
    """Folder of scanned sources -> the call that JIT-builds them (a module's `load()` naming them, or
    its call of a project function that hands the argument in that parameter's place to `load()`),
    with the scanned sources the folder's JIT builds name: what their hipify converts; and that call
    again where a target without CUDA goes on without every build of the folder (`_tried_calls`,
    `_cuda_dispatched_calls`), else None."""
    loaders: dict[str, list[tuple[str, int]]] = {}
    for found, _ in readings.values():
        for function, parameter, index in found:
            loaders.setdefault(function, []).append((parameter, index))
    scanned = set(sources)
    folders: dict[str, Evidence] = {}
    named: dict[str, set[str]] = {}
    unguarded: set[str] = set()
    for module, (_, calls) in sorted(readings.items()):
        for called, keywords, count, line, text, spelled, tried in calls:
            if not _builds(called, keywords, count, loaders):
                continue
            for source in spelled:
                if source in scanned and _SOURCE_NAME.fullmatch(source):
                    folders.setdefault(posixpath.dirname(source), Evidence(module, line, text))
                    if not tried:
                        unguarded.add(posixpath.dirname(source))
                if source in scanned:
                    named.setdefault(posixpath.dirname(source), set()).add(source)
    return {
        folder: (evidence, tuple(sorted(named[folder])), None if folder in unguarded else evidence)
        for folder, evidence in folders.items()
    }


def _builds(called: str, keywords: tuple[str, ...], count: int, loaders: Mapping[str, list[tuple[str, int]]]) -> bool:
    """Whether a call naming sources is a JIT build: `load()` itself, or a loader given its parameter."""
    if called == "":
        return True
    return any(parameter in keywords or 0 <= index < count for parameter, index in loaders.get(called, ()))
