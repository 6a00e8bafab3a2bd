"""Which Python build scripts also build their CUDA extension for ROCm, and how.

A `setup.py` that builds a `CUDAExtension` on a ROCm build of PyTorch gets its sources hipified
at build time: `torch.utils.cpp_extension` renames `cudaMalloc` to `hipMalloc`, `cuda_runtime.h`
to `hip/hip_runtime.h` and the cuBLAS names to hipBLAS ones before hipcc compiles them. Whether
a script does this is read from its syntax, never by running it:

- a ROCm probe (`torch.version.hip`, `IS_HIP_EXTENSION`, `is_rocm_pytorch`, `BUILD_TARGET ==
  "rocm"`, a name such as `IS_ROCM`; see `rules/python/guards.py`) in a script that builds
  extensions (`CUDAExtension`, `BuildExtension`, `cpp_extension`, `hipify`) makes it a ROCm
  build of the sources in its folder: **hipify**;
- unless a branch taken only on ROCm names sources of its own (`csrc/flash_attn_ck/...`): then
  ROCm builds those instead, **separate** sources, and the script's other sources are the CUDA
  side, whose ROCm counterpart is that folder;
- or a branch taken only on ROCm turns the build off (`SKIP_CUDA_BUILD = True`): the CUDA sources
  are not built for ROCm at all, **skips**, and ROCm goes without them (the project's ROCm branch
  chose to);
- a script that builds every extension only for a CUDA target, where a target-device setting the
  installer chooses is `"cuda"` (`if os.getenv("LMDEPLOY_TARGET_DEVICE", "cuda") == "cuda":`,
  `build_gates.py`) or in a branch ROCm never takes (`if not torch.version.hip:`), builds none for
  ROCm: **CUDA target**. Where the project ships a ROCm variant of its dependencies, that is its ROCm
  install, and ROCm goes without the sources; where it ships none, the project has no ROCm route
  around them, and they keep their verdicts;
- a script with no ROCm probe that calls `torch.utils.cpp_extension.CUDAExtension` is still
  hipified on a ROCm build of PyTorch (`CUDAExtension` runs hipify when `IS_HIP_EXTENSION`,
  https://github.com/pytorch/pytorch/blob/cf30153c4c131c8164ee7798e5022d810682e2cb/torch/utils/cpp_extension.py#L1590): **implicit
  hipify**. HIPIFY's renames are done for it, but the project never claims its kernels compile or
  compute right on ROCm, so their hazards keep the severity of a source no ROCm build compiles.

A hipify build also says which sources it leaves out: a source named only in a branch a ROCm
build skips (`if not ROCM_VERSION and COMPILE_MARLIN:`) is compiled for CUDA only.

A source belongs to the nearest build script above it (`ProjectIndex.facts`).
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterator
from dataclasses import replace

from cudaudit.facts import BuildMode, Evidence, RocmBuild, SourceGlob
from cudaudit.rules.builds import build_gates
from cudaudit.rules.builds.build_gates import (
    cuda_target_only,
    extension_gate,
    names_cuda_extension,
    on_default_rocm_install,
    scope_ifs,
    top_level_functions,
)
from cudaudit.rules.builds.opt_in_builds import read_opt_in
from cudaudit.rules.builds.source_sets import (
    PATH_JOINS,
    SOURCE_FILE,
    cuda_arm_globs,
    named_source,
    path_value,
    scope_paths,
)
from cudaudit.rules.python.guards import Polarity, Probe, polarity, probes_in
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import substituted, subtree
from cudaudit.rules.python.walker import device_flags
from cudaudit.source import parse_python

BUILD_WORDS = ("CUDAExtension", "BuildExtension", "cpp_extension", "hipify")
_SOURCE_FOLDER = re.compile(r"(?:^|/)csrc(?:/|$)")
_OFF_WORDS = re.compile(r"(?i)(?:^|_)(?:skip|disable|no)(?:_|$)")
_TEXT_LIMIT = 80
_NVIDIA = frozenset({Probe.NVIDIA, Probe.CUDA})
"""What `torch.version.cuda` probes: NVIDIA's CUDA build, which ROCm builds are not."""


def read_build_script(path: str, text: str) -> RocmBuild | None:
    """What the build script at display path `path` does for ROCm, with the sources it compiles only
    where the installer opts in; None when it does nothing for ROCm."""
    if "Extension" not in text and not any(word in text for word in BUILD_WORDS):
        return None
    tree = parse_python(text, filename=path)
    names = ImportTable(tree)
    lines = text.split("\n")
    extension_names = build_gates.extension_names(tree)
    build = _rocm_build(path, text, tree, names, lines, extension_names)
    if build is None:
        return None
    opt_in = read_opt_in(tree, path, names, lambda line: line_evidence(path, line, lines), extension_names)
    return replace(build, opt_in=opt_in) if opt_in else build


def _rocm_build(
    path: str, text: str, tree: ast.Module, names: ImportTable, lines: list[str], extension_names: set[int]
) -> RocmBuild | None:
    """The script's ROCm build; `extension_names` are the ids of the strings that name an extension
    module (`build_gates.extension_names`), which are no sources."""
    functions = top_level_functions(tree)
    target_gate = extension_gate(tree, lambda test, in_body: cuda_target_only(test, in_body, names, functions))
    if target_gate is not None:
        return RocmBuild(path, BuildMode.CUDA_TARGET, line_evidence(path, target_gate.lineno, lines))
    if not any(word in text for word in BUILD_WORDS):
        return None
    probe: ast.stmt | None = None
    separate: dict[tuple[str, str], int] = {}
    skip: ast.stmt | None = None
    paths = scope_paths(tree, names)
    for node in subtree(tree):
        if not isinstance(node, (ast.If, ast.Assign, ast.AnnAssign)):
            continue
        test = _test(node)
        if test is None or Probe.ROCM not in probes_in(test, names):
            continue
        probe = probe if probe is not None and probe.lineno <= node.lineno else node
        for statement in _rocm_only_branch(node, test, names):
            for spelled in _spelled_paths(statement, names, paths(statement.lineno), extension_names):
                named = _source_folder(spelled, path)
                if named is not None:
                    separate.setdefault(named, statement.lineno)
            if skip is None and any(_turns_build_off(sub) for sub in subtree(statement)):
                skip = statement
    if probe is None:
        call = _cuda_extension_call(tree, names)
        if call is None:
            return None
        return RocmBuild(path, BuildMode.IMPLICIT_HIPIFY, line_evidence(path, call.lineno, lines), (), (),
                         _sources_by_side(tree, path, names, lines, extension_names)[1])
    if separate:
        first = min(separate.values())
        cuda_only, rocm_named, globs = _sources_by_side(tree, path, names, lines, extension_names)
        rocm_sources = _rocm_side(separate, [source for source, _ in cuda_only])
        return RocmBuild(path, BuildMode.SEPARATE, line_evidence(path, first, lines), rocm_sources,
                         cuda_only, rocm_named, cuda_only_globs=globs)
    if skip is not None:
        return RocmBuild(path, BuildMode.SKIPS, line_evidence(path, skip.lineno, lines))
    cuda_gate = extension_gate(tree, lambda test, in_body: _decides_rocm(test, names, _never_on_rocm(in_body)))
    if cuda_gate is not None:
        return RocmBuild(path, BuildMode.CUDA_TARGET, line_evidence(path, cuda_gate.lineno, lines))
    cuda_only, rocm_named, globs = _sources_by_side(tree, path, names, lines, extension_names)
    return RocmBuild(path, BuildMode.HIPIFY, line_evidence(path, probe.lineno, lines), (), cuda_only, rocm_named,
                     cuda_only_globs=globs)


def _cuda_extension_call(tree: ast.Module, names: ImportTable) -> ast.Call | ast.stmt | None:
    """The first call of PyTorch's `CUDAExtension` in the script, else the first statement that
    chooses it for a later call (`extension = CUDAExtension`)."""
    call = next((node for node in subtree(tree) if isinstance(node, ast.Call)
                 and names.resolve(node.func) == "torch.utils.cpp_extension.CUDAExtension"), None)
    return call or next((node for node in subtree(tree) if isinstance(node, ast.stmt) and names_cuda_extension(node, names)), None)


def _sources_by_side(
    tree: ast.Module, path: str, names: ImportTable, lines: list[str], extension_names: set[int]
) -> tuple[tuple[tuple[str, Evidence], ...], tuple[str, ...], tuple[SourceGlob, ...]]:
    """The source files the script names only in branches a ROCm build skips (with the line of the
    branch), those it names anywhere else, and the globs of sources it adds only in such branches."""
    skipped = cuda_arms(tree, names)

    def arm_line(node: ast.AST) -> int | None:
        line = getattr(node, "lineno", 0)
        return next((at for first, last, at in skipped if first <= line <= last), None)

    globs = tuple(SourceGlob(pattern, excluded, line_evidence(path, line, lines))
                  for pattern, excluded, line in cuda_arm_globs(tree, path, names, arm_line))
    cuda_only: dict[str, int] = {}
    rocm_named: set[str] = set()
    for constant in subtree(tree):
        source = named_source(constant, path) if isinstance(constant, ast.Constant) and id(constant) not in extension_names else None
        if source is None or not isinstance(constant, ast.Constant):
            continue
        branch_line = next((at for first, last, at in skipped if first <= constant.lineno <= last), None)
        if branch_line is None:
            rocm_named.add(source)
        else:
            cuda_only.setdefault(source, branch_line)
    left_out = tuple((source, line_evidence(path, line, lines)) for source, line in sorted(cuda_only.items())
                     if source not in rocm_named)
    return left_out, tuple(sorted(rocm_named)), globs


def cuda_arms(tree: ast.Module, names: ImportTable) -> list[tuple[int, int, int]]:
    """The arms of the script's `if`s that a ROCm build never takes, as (first line, last line, the
    `if`'s line): those `_non_rocm_branches` finds, reading a test of names the module or the function
    binds once to a device test (`use_cuda = torch.version.cuda and CUDA_HOME is not None`, then
    `if use_cuda:`) as the test they hold; then, to a fixed point, the `if`s that test a name set only
    in such arms past a false start (`_armed_ifs`) and the top-level functions only they call
    (`_armed_functions`)."""
    arms: list[tuple[int, int, int]] = []
    scopes = (tree, *(node for node in subtree(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))))
    for scope in scopes:
        ifs = scope_ifs(scope)
        flags = device_flags(scope, names) if ifs else {}
        for node in ifs:
            test = substituted(node.test, flags) if flags and _names_any(node.test, flags) else node.test
            for first, last in _non_rocm_branches(node, test, names):
                arms.append((first, last, node.lineno))
    while arms:  # what only those arms set or call, to a fixed point
        found = [arm for scope in scopes for arm in _armed_ifs(scope, arms)] + _armed_functions(tree, arms)
        found = [arm for arm in found if arm not in arms]
        if not found:
            break
        arms.extend(found)
    return arms


def _in_arms(node: ast.AST, arms: list[tuple[int, int, int]]) -> int | None:
    """The line of the `if` whose arm of `arms` holds `node`; None outside them."""
    line = getattr(node, "lineno", 0)
    return next((at for first, last, at in arms if first <= line <= last), None)


def _armed_ifs(scope: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef, arms: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """The bodies of `scope`'s `if`s that test a name it sets only in `arms`, past a false start
    (`use_cutlass = False`, then `use_cutlass = True` in the CUDA arm, then `if use_cutlass:`), as arms
    with the line of the arm that sets it."""
    stores: dict[str, list[tuple[ast.AST, ast.expr | None]]] = {}
    for node in _own_statements(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for name in _target_names(target):
                    stores.setdefault(name, []).append((node, node.value if isinstance(target, ast.Name) else None))
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name):
            stores.setdefault(node.target.id, []).append((node, None if isinstance(node, ast.AugAssign) else node.value))
        elif isinstance(node, (ast.For, ast.With, ast.AsyncFor, ast.AsyncWith, ast.Import, ast.ImportFrom)):
            for name in _bound_by(node):
                stores.setdefault(name, []).append((node, None))
    armed: dict[str, int] = {}
    for name, bound in stores.items():
        inside = [at for node, _ in bound if (at := _in_arms(node, arms)) is not None]
        falsy = [node for node, value in bound if _in_arms(node, arms) is None and isinstance(value, ast.Constant) and not value.value]
        if inside and falsy and len(inside) + len(falsy) == len(bound):
            armed[name] = inside[0]
    found = []
    for node in scope_ifs(scope) if armed else ():
        at = _tests_set(node.test, armed)
        if at is not None and node.body and _in_arms(node, arms) is None:
            found.append((node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno, at))
    return found


def _own_statements(scope: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
    """The statements of `scope` outside the functions and classes it defines: where its names are set."""
    found, stack = [], list(scope.body)
    while stack:
        node = stack.pop()
        found.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stack.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))
            stack.extend(s for handler in getattr(node, "handlers", []) for s in handler.body)
    return found


def _target_names(target: ast.expr) -> list[str]:
    """The names an assignment's target binds: `a`, and each of `a, b = ...`."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for item in target.elts for name in _target_names(item)]
    return []


def _bound_by(node: ast.stmt) -> list[str]:
    """The names a loop, a `with` or an import binds: none of them starts a name false."""
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return _target_names(node.target)
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [name for item in node.items if item.optional_vars is not None for name in _target_names(item.optional_vars)]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(alias.asname or alias.name).partition(".")[0] for alias in node.names]
    return []


def _tests_set(test: ast.expr, armed: dict[str, int]) -> int | None:
    """The arm line of a name of `armed` that `test` needs set: `name`, `name is not None`, or one
    part of an `and`."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return next((at for value in test.values if (at := _tests_set(value, armed)) is not None), None)
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.IsNot, ast.NotEq)):
        right = test.comparators[0]
        if isinstance(right, ast.Constant) and right.value is None:
            return _tests_set(test.left, armed)
    return armed.get(test.id) if isinstance(test, ast.Name) else None


def _armed_functions(tree: ast.Module, arms: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """The bodies of the script's top-level functions that only `arms` call (a CUDA version helper
    only the CUDA arm calls), and that no other statement names, as arms with the line of the first call's."""
    functions = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    mentions: dict[str, list[ast.Name]] = {}
    for node in subtree(tree):
        if isinstance(node, ast.Name) and node.id in functions:
            mentions.setdefault(node.id, []).append(node)
    found = []
    for name, function in functions.items():
        named = mentions.get(name, [])
        calls = [line for mention in named if (line := _in_arms(mention, arms)) is not None]
        if calls and len(calls) == len(named) and _in_arms(function.body[0], arms) is None:
            found.append((function.body[0].lineno, function.end_lineno or function.body[-1].lineno, calls[0]))
    return found


def _names_any(test: ast.expr, flags: dict[str, ast.expr]) -> bool:
    return any(isinstance(node, ast.Name) and node.id in flags for node in subtree(test))


def _non_rocm_branches(node: ast.If, test: ast.expr, names: ImportTable) -> list[tuple[int, int]]:
    """The lines of the branches of `node` (whose test reads `test`) that a ROCm build never takes: a
    branch a probe keeps off ROCm (`if not torch.version.hip:`, `if torch.version.cuda:`, None on ROCm
    builds), or a test of `CUDA_HOME` does, which ROCm builds leave None, unless the installer sets a
    switch (`if (CUDA_HOME is not None and ...) or os.getenv("FORCE_CUDA", "0") == "1":`)."""
    branches = []
    default_rocm, _ = on_default_rocm_install(test, names)
    if node.body and (default_rocm is False or _decides_rocm(test, names, _never_on_rocm(True), nvidia=True)):
        branches.append((node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno))
    if node.orelse and (default_rocm is True or _decides_rocm(test, names, _never_on_rocm(False), nvidia=True)):
        branches.append((node.orelse[0].lineno, node.orelse[-1].end_lineno or node.orelse[-1].lineno))
    return branches


def _never_on_rocm(in_body: bool) -> Polarity:
    """What a test must be for ROCm builds never to take its body (false on every one of them) or its
    `else` (true only on them)."""
    return Polarity.NEGATIVE if in_body else Polarity.POSITIVE


def _decides_rocm(test: ast.expr, names: ImportTable, side: Polarity, nvidia: bool = False) -> bool:
    """Whether `test` is false on every ROCm build (`side` NEGATIVE: `not ROCM_VERSION and
    COMPILE_MARLIN`) or true only on ROCm builds (POSITIVE: `IS_ROCM and USE_FAST`); with `nvidia`,
    a test of NVIDIA's CUDA build (`torch.version.cuda`, None on ROCm builds) decides too."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _decides_rocm(test.operand, names, side.flipped, nvidia)
    if isinstance(test, ast.BoolOp):
        parts = [_decides_rocm(value, names, side, nvidia) for value in test.values]
        return any(parts) if isinstance(test.op, ast.And) else all(parts)
    probes = probes_in(test, names)
    if Probe.ROCM in probes:
        return polarity(test, names, Probe.ROCM) is side
    return nvidia and probes == _NVIDIA and polarity(test, names, Probe.NVIDIA) is side.flipped


def _test(node: ast.If | ast.Assign | ast.AnnAssign) -> ast.expr | None:
    """The condition of a statement that decides something: `if`, `x = a if c else b`, `x = probe`."""
    return node.test if isinstance(node, ast.If) else node.value


def _rocm_only_branch(node: ast.If | ast.Assign | ast.AnnAssign, test: ast.expr, names: ImportTable) -> list[ast.stmt]:
    if not isinstance(node, ast.If):
        return []
    side = polarity(test, names, Probe.ROCM)
    if side is Polarity.POSITIVE:
        return node.body
    if side is Polarity.NEGATIVE:
        return node.orelse
    return []


def _spelled_paths(statement: ast.stmt, names: ImportTable, paths: dict[str, str], skipped: set[int]) -> Iterator[str]:
    """The paths a statement spells, each whole (`Path(here) / "csrc" / "hip"` is `csrc/hip`, not
    `csrc`), less the strings in `skipped` (an extension's name)."""
    todo: list[ast.AST] = [statement]
    while todo:
        node = todo.pop()
        spelled = path_value(node, names, paths) if isinstance(node, ast.expr) and id(node) not in skipped else None
        if spelled is not None:
            yield spelled
        elif not isinstance(node, ast.Constant) and not _joins_path(node, names):
            todo.extend(ast.iter_child_nodes(node))


def _joins_path(node: ast.AST, names: ImportTable) -> bool:
    """`os.path.join(torch_dir, "include", "x.h")`, `root / "csrc"`: a path built on a folder the script
    cannot place, whose pieces are no paths of their own."""
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, ast.Div)
    return isinstance(node, ast.Call) and names.resolve(node.func) in PATH_JOINS


def _source_folder(value: str, script: str) -> tuple[str, str] | None:
    """The folder of a C/C++ source, or a source folder, that a path the script spells names, with
    the source's own path ("" for a folder), as display paths."""
    value = value.strip()
    if not value or "\n" in value or " " in value or value.startswith("-"):
        return None
    here = posixpath.dirname(script)
    if SOURCE_FILE.fullmatch(posixpath.basename(value)):
        return None  # `name.endswith(".cu")`: a suffix, no source
    if SOURCE_FILE.search(value):
        folder, source = posixpath.dirname(value), posixpath.normpath(posixpath.join(here, value))
    elif _SOURCE_FOLDER.search(value):
        folder, source = value, ""
    else:
        return None
    folder = posixpath.normpath(posixpath.join(here, folder))
    return None if folder.startswith("..") or "*" in folder else (folder, source)


def _rocm_side(named: dict[tuple[str, str], int], cuda_side: list[str]) -> tuple[str, ...]:
    """The folders a ROCm branch's sources stand for, each (folder, source) of `named`: the folder,
    unless the sources the build compiles for CUDA alone sit in it too (`ops_hip.cpp` beside
    `setup.py`, whose folder holds every source): then the source itself."""
    def holds_cuda_side(folder: str) -> bool:
        return any(posixpath.dirname(source) == folder or source.startswith(folder.rstrip("/") + "/")
                   or folder == "." for source in cuda_side)

    return tuple(sorted({source if source and holds_cuda_side(folder) else folder for folder, source in named}))


def _turns_build_off(node: ast.AST) -> bool:
    """`SKIP_CUDA_BUILD = True`: a branch that switches the CUDA build off."""
    if not isinstance(node, ast.Assign) or not (isinstance(node.value, ast.Constant) and node.value.value is True):
        return False
    return any(isinstance(t, ast.Name) and _OFF_WORDS.search(t.id) for t in node.targets)


def line_evidence(path: str, line: int, lines: list[str]) -> Evidence:
    """The build file's `line` (1-based, of `lines`) as evidence, its text squeezed and shortened."""
    text = " ".join(lines[line - 1].split()) if 0 < line <= len(lines) else ""
    return Evidence(path, line, text[:_TEXT_LIMIT])
