"""The sources a Python build script compiles only where it does not build for ROCm, as glob patterns.

Build scripts seldom list their CUDA sources one by one. They glob them, and add the list to the
extension's sources only in the arm of the build that CUDA takes:

    cuda_sources = glob.glob(os.path.join("pkg", "csrc", "cuda", "**", "*.cu"), recursive=True)
    if use_cuda:
        sources += cuda_sources
    elif use_rocm:
        sources += hip_sources

Those files never reach a ROCm build. This module reads, without running anything:

- the paths a script spells (`"a/b.cu"`, `os.path.join(dir, "x", "*.cu")`, `Path(root) / "x"`, through
  names bound once to such a path, and the script's own folder, `os.path.dirname(__file__)`, as where
  it runs), relative to the script;
- the source lists a name holds (a glob call or a list of paths, through `list()`, `sorted()`, `set()`
  and `+`), less what it takes away from itself (`x = list(set(x) - set(y))`, `x = [f for f in x if f
  not in y]`);
- which lists only the CUDA arm adds: each one bound there, and each one every use of which (outside
  its own rebindings and the tests of what to leave out) sits there.

`arm_line` (from `rocm_builds.cuda_arms`) says where a ROCm build never goes.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import lru_cache

from cudaudit.facts import OptInSource, RocmBuild
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import own_nodes, subtree

ArmLine = Callable[[ast.AST], "int | None"]
"""The line of the `if` whose arm, one a ROCm build never takes, holds a node; None outside such arms."""

SOURCE_FILE = re.compile(r"\.(?:cu|cuh|cpp|cc|cxx|c|h|hpp|hip)$")
"""A C, C++, CUDA or HIP source or header, by its name's end."""
_JOINS = frozenset({"os.path.join", "posixpath.join"})
PATH_JOINS = _JOINS | {"pathlib.Path"}
"""Calls that build a path from pieces."""
_GLOBS = frozenset({"glob.glob", "glob.iglob"})
_WRAPPERS = frozenset({"list", "sorted", "set", "tuple"})
_HERE = frozenset({"os.path.dirname", "os.path.abspath", "os.path.realpath", "os.getcwd"})
"""Calls that keep the script's folder, where pip runs it: `os.path.dirname(os.path.abspath(__file__))`."""
_FILE = "__file__"
_ADDERS = frozenset({"extend", "append", "add", "update"})


ArmGlob = tuple[str, tuple[str, ...], int]
"""A source pattern (from the scanned root, `**` for any folders), the patterns taken out of its list,
and the line of the `if` whose arm adds it."""


def listed_sources(build: RocmBuild, sources: Iterable[str]) -> RocmBuild:
    """`build` with the scanned `sources` its CUDA arm's globs list (and no source it names for ROCm)
    among its `cuda_only` sources."""
    named = {source for source, _ in build.cuda_only} | set(build.rocm_named)
    globs = [(_pattern_regex(glob.pattern), [_pattern_regex(p) for p in glob.excluded], glob.evidence)
             for glob in build.cuda_only_globs]
    listed = []
    for source in sorted(sources):
        if source in named:
            continue
        evidence = next((evidence for pattern, excluded, evidence in globs if pattern.fullmatch(source)
                         and not any(other.fullmatch(source) for other in excluded)), None)
        if evidence is not None:
            listed.append((source, evidence))
    return replace(build, cuda_only=(*build.cuda_only, *listed)) if listed else build


def listed_opt_in(build: RocmBuild, sources: Iterable[str]) -> tuple[OptInSource, ...]:
    """`build`'s opt-in sources, each glob of them replaced by the scanned `sources` it lists."""
    found = [source for source in build.opt_in if not source.glob]
    named = {source.path for source in found}
    globs = [(_pattern_regex(s.path), [_pattern_regex(p) for p in s.excluded], s) for s in build.opt_in if s.glob]
    for path in sorted(sources) if globs else ():
        listing = next((s for pattern, excluded, s in globs if pattern.fullmatch(path)
                        and not any(other.fullmatch(path) for other in excluded)), None)
        if listing is not None and path not in named:
            found.append(replace(listing, path=path, glob=False, excluded=()))
    return tuple(found)


def cuda_arm_globs(tree: ast.Module, script: str, names: ImportTable, arm_line: ArmLine) -> tuple[ArmGlob, ...]:
    """The source patterns the build script at display path `script` adds only in an arm a ROCm build
    never takes; the lists it names elsewhere are left alone."""
    folder = posixpath.dirname(script)
    module_paths = path_names(tree.body, names, {})
    found: list[ArmGlob] = []
    for scope in _scopes(tree):
        paths = path_names(scope.body, names, module_paths) if scope is not tree else module_paths
        found.extend(_scope_globs(scope, folder, names, paths, arm_line))
    return tuple(dict.fromkeys(found))


def _scopes(tree: ast.Module) -> Iterator[ast.Module | ast.FunctionDef | ast.AsyncFunctionDef]:
    yield tree
    yield from (node for node in subtree(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))



def scope_paths(tree: ast.Module, names: ImportTable) -> Callable[[int], dict[str, str]]:
    """`paths(line)`: the names bound to a path the script spells (`path_names`) where `line` is, at
    the module's top level or in the innermost function around it."""
    module_paths = path_names(tree.body, names, {})
    functions = sorted((node for node in subtree(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))),
                       key=lambda node: node.lineno)
    found: dict[int, dict[str, str]] = {}

    def paths(line: int) -> dict[str, str]:
        around = [f for f in functions if f.lineno <= line <= (f.end_lineno or f.lineno)]
        if not around:
            return module_paths
        inner = around[-1]
        if id(inner) not in found:
            found[id(inner)] = path_names(inner.body, names, module_paths)
        return found[id(inner)]

    return paths


def path_names(body: list[ast.stmt], names: ImportTable, outer: dict[str, str]) -> dict[str, str]:
    """The names `body` binds once, by a plain assignment, to a path the script spells (`""` for the
    script's own folder), with those of `outer` it does not bind itself."""
    stores: dict[str, int] = {}
    values: dict[str, ast.expr] = {}
    for node in own_nodes(body):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            stores[node.id] = stores.get(node.id, 0) + 1
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = node.value
    paths = {name: value for name, value in outer.items() if name not in stores}
    once = {name: value for name, value in values.items() if stores.get(name) == 1}
    for _ in range(3):  # names built on names: `csrc = os.path.join(root, "csrc")` after `root = ...`
        for name, value in once.items():
            path = path_value(value, names, paths) if name not in paths else None
            if path is not None:
                paths[name] = path
    return paths


def named_source(node: ast.Constant, script: str) -> str | None:
    """The C/C++ or CUDA source file a string in the script names, as a display path."""
    if not isinstance(node.value, str) or not SOURCE_FILE.search(node.value.strip()):
        return None
    value = node.value.strip()
    if SOURCE_FILE.fullmatch(posixpath.basename(value)):
        return None  # a suffix, no source
    if "\n" in value or " " in value or "*" in value:
        return None
    source = posixpath.normpath(posixpath.join(posixpath.dirname(script), value))
    return None if source.startswith("..") else source


def path_value(node: ast.expr, names: ImportTable, paths: dict[str, str]) -> str | None:
    """The path `node` spells, relative to the script's folder, else None."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        if node.id == _FILE:
            return ""
        return paths.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Add)):
        left, right = path_value(node.left, names, paths), path_value(node.right, names, paths)
        if left is None or right is None:
            return None
        return posixpath.join(left, right) if isinstance(node.op, ast.Div) else left + right
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        return "" if path_value(node.value, names, paths) == "" else None
    resolved = names.resolve(node.func) if isinstance(node, ast.Call) else names.resolve(node)
    if resolved == "os.path.curdir":
        return ""
    if not isinstance(node, ast.Call) or node.keywords:
        return None
    parts = [path_value(argument, names, paths) for argument in node.args]
    if any(part is None for part in parts):
        return None
    if resolved in _JOINS or resolved == "pathlib.Path":
        return posixpath.join(*parts) if parts else ""  # type: ignore[arg-type]
    if resolved in _HERE and parts in ([""], []):
        return ""  # the script's folder, where pip runs it
    return None


def _scope_globs(
    scope: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef,
    folder: str,
    names: ImportTable,
    paths: dict[str, str],
    arm_line: ArmLine,
) -> Iterator[ArmGlob]:
    bindings: dict[str, list[tuple[ast.AST, ast.expr]]] = {}
    uses: dict[str, list[ast.Name]] = {}
    rebinding: set[int] = set()
    excluded_loads: set[int] = set()
    for node in own_nodes(scope.body):
        for name, statement, value in _binding(node):
            bindings.setdefault(name, []).append((statement, value))
            rebinding.update(id(sub) for sub in subtree(value) if isinstance(sub, ast.Name) and sub.id == name)
        excluded_loads.update(id(sub) for sub in _taken_out(node) if isinstance(sub, ast.Name))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            uses.setdefault(node.id, []).append(node)
    read = {id(call) for bound in bindings.values() for _, value in bound for call in _listed_globs(value, names)}
    for node in own_nodes(scope.body):  # a glob no list holds: `CUDAExtension("ops", sources=glob.glob(...))`
        if isinstance(node, ast.Call) and id(node) not in read and names.resolve(node.func) in _GLOBS and node.args:
            line, pattern = arm_line(node), path_value(node.args[0], names, paths)
            if line is not None and pattern is not None and SOURCE_FILE.search(pattern):
                yield _display(folder, pattern), (), line
    for name, bound in bindings.items():
        lists = [(statement, _sources(value, folder, names, paths)) for statement, value in bound]
        if not any(patterns for _, (patterns, _) in lists):
            continue
        excluded = tuple(sorted({pattern for _, (_, taken) in lists for taken_name in taken
                                 for pattern in _names_patterns(taken_name, bindings, folder, names, paths)}))
        own_uses = [use for use in uses.get(name, ()) if id(use) not in rebinding and id(use) not in excluded_loads]
        use_lines = [arm_line(use) for use in own_uses]
        every_use = use_lines[0] if use_lines and all(line is not None for line in use_lines) else None
        for statement, (patterns, _) in lists:
            line = arm_line(statement) or every_use
            if line is not None:
                yield from ((pattern, excluded, line) for pattern in patterns)


def _binding(node: ast.AST) -> Iterator[tuple[str, ast.AST, ast.expr]]:
    """The names `node` gives a value or adds to: `x = v`, `x += v`, `x.extend(v)`."""
    if isinstance(node, ast.Assign):
        yield from ((target.id, node, node.value) for target in node.targets if isinstance(target, ast.Name))
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name) and node.value is not None:
        yield node.target.id, node, node.value
    elif (
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr in _ADDERS and isinstance(node.value.func.value, ast.Name) and node.value.args
    ):
        yield node.value.func.value.id, node, ast.List(elts=list(node.value.args), ctx=ast.Load())


def _listed_globs(value: ast.expr, names: ImportTable) -> Iterator[ast.Call]:
    """The glob calls whose lists `_sources` reads in `value`."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in _WRAPPERS and len(value.args) == 1:
        yield from _listed_globs(value.args[0], names)
    elif isinstance(value, ast.Call) and names.resolve(value.func) in _GLOBS:
        yield value
    elif isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        for item in value.elts:
            yield from _listed_globs(item, names)
    elif isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub)):
        yield from _listed_globs(value.left, names)
        if isinstance(value.op, ast.Add):
            yield from _listed_globs(value.right, names)


def _taken_out(node: ast.AST) -> Iterator[ast.AST]:
    """What `node` tests or takes away, never adds: the right of `-`, a `not in` list, a `.remove()`."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
        yield from subtree(node.right)
    elif isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
        for comparator in node.comparators:
            yield from subtree(comparator)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in {"remove", "discard"}:
        for argument in node.args:
            yield from subtree(argument)


def _sources(value: ast.expr, folder: str, names: ImportTable, paths: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The source patterns `value` adds (display paths) and the names whose lists it takes out."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in _WRAPPERS and len(value.args) == 1:
        return _sources(value.args[0], folder, names, paths)
    if isinstance(value, ast.Call) and names.resolve(value.func) in _GLOBS and value.args:
        pattern = path_value(value.args[0], names, paths)
        return ((_display(folder, pattern),) if pattern is not None and SOURCE_FILE.search(pattern) else ()), ()
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        found = [_sources(item, folder, names, paths) for item in value.elts]
        return tuple(p for patterns, _ in found for p in patterns), tuple(n for _, taken in found for n in taken)
    if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub)):
        left, right = _sources(value.left, folder, names, paths), _sources(value.right, folder, names, paths)
        if isinstance(value.op, ast.Sub):
            return left[0], (*left[1], *_list_names(value.right))
        return (*left[0], *right[0]), (*left[1], *right[1])
    if isinstance(value, ast.ListComp) and len(value.generators) == 1:
        taken = tuple(n for condition in value.generators[0].ifs for sub in _taken_out(condition) for n in _list_names(sub))
        return (), taken
    path = path_value(value, names, paths)
    if path is not None and SOURCE_FILE.search(path) and not SOURCE_FILE.fullmatch(posixpath.basename(path)):
        return (_display(folder, path),), ()
    return (), ()


def _list_names(node: ast.AST) -> tuple[str, ...]:
    return tuple(sub.id for sub in subtree(node) if isinstance(sub, ast.Name))


def _names_patterns(
    name: str, bindings: dict[str, list[tuple[ast.AST, ast.expr]]], folder: str, names: ImportTable, paths: dict[str, str]
) -> Iterator[str]:
    for _, value in bindings.get(name, ()):
        yield from _sources(value, folder, names, paths)[0]


def _display(folder: str, pattern: str) -> str:
    return posixpath.normpath(posixpath.join(folder, pattern))


@lru_cache(maxsize=256)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """What `glob.glob(pattern, recursive=True)` run from the scanned root lists, as a regular expression."""
    parts = []
    for piece in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
        if piece == "**/":
            parts.append("(?:[^/]+/)*")
        elif piece == "**":
            parts.append(".*")
        elif piece == "*":
            parts.append("[^/]*")
        elif piece == "?":
            parts.append("[^/]")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts))
