"""The sources a Python build script compiles only where the installer opts in.

A build script may compile a part only under a switch that is off unless the installer sets it:
an environment variable (`if os.getenv("PKG_FAST_NORM", "0") == "1":`), a command-line flag
(`if "--fast_norm" in sys.argv:`), either through a helper of the script that returns true only under
such tests (`def has_flag(flag, env): return flag in sys.argv or os.getenv(env, "0") == "1"`, called
as `has_flag("--fast_norm", "PKG_FAST_NORM")`), or through a name the script binds once to one
(`FAST = os.getenv("PKG_FAST", "FALSE") == "TRUE"`, then `if FAST:`). A default install never
compiles the sources named only in such arms: they are another path, at most a warning. An `and`
needs one opted-in part, an `or` all of them; a negation (`if not SKIP_BUILD:`) is what a default
install takes.

The switches a README's every install command sets are the project's normal build, not an option
(`PKG_CPP_EXT=1 PKG_CUDA_EXT=1 pip install .` in each of them): the index drops the arms of those
(`documented`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable

from cudaudit.facts import Evidence, OptInSource
from cudaudit.rules.builds.build_gates import opt_in_setting, scope_ifs, top_level_functions
from cudaudit.rules.builds.source_sets import cuda_arm_globs, named_source
from cudaudit.rules.python.names import ImportTable
from cudaudit.rules.python.nodes import call_arguments, substituted, subtree
from cudaudit.rules.python.walker import local_flags

_ARGV = "sys.argv"
_DEPTH = 3
"""How deep a switch is followed through names and helpers of the script."""
_COMMAND = re.compile(r"\bpip3? install\b|\bsetup\.py\b")
"""A README line that installs the project: `pip install .`, `python setup.py install`."""
_SET_VARIABLE = re.compile(r"(?<![\w-])([A-Za-z_]\w*)=")
"""A variable a command sets (`PKG_CUDA_EXT=1`); only a word's start is tried, so a long word is read once."""
_GIVEN_FLAG = re.compile(r"(?<![\w-])--[A-Za-z0-9][\w-]*")
"""A flag a command gives (`--cuda_ext`, `--build-option=--cuda_ext`)."""

Switch = tuple[str, ...]
"""The names of an opt-in switch (`--fast_norm`, `PKG_FAST_NORM`); empty where they are not spelled out."""


def opt_in_arms(tree: ast.Module, names: ImportTable) -> list[tuple[int, int, int, Switch]]:
    """The bodies of the script's `if`s taken only where the installer sets a switch, as (first line,
    last line, the `if`'s line, the switch's names)."""
    functions = top_level_functions(tree)
    arms = []
    for scope in (tree, *(node for node in subtree(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))):
        flags = local_flags(scope)
        for node in scope_ifs(scope):
            switch = switch_of(node.test, names, functions, flags)
            if switch is not None and node.body:
                arms.append((node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno, node.lineno, switch))
    return arms


def switch_of(
    test: ast.expr, names: ImportTable, functions: dict[str, ast.FunctionDef], flags: dict[str, ast.expr], depth: int = 0
) -> Switch | None:
    """The names of the switches `test` needs the installer to set, where it holds only then; else None."""
    if depth > _DEPTH:
        return None
    if isinstance(test, ast.BoolOp):
        parts = [switch_of(value, names, functions, flags, depth) for value in test.values]
        if isinstance(test.op, ast.Or) and any(part is None for part in parts):
            return None
        found = [part for part in parts if part is not None]
        return tuple(dict.fromkeys(name for part in found for name in part)) if found else None
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.In):
        container = test.comparators[0]
        container = container.value if isinstance(container, ast.Subscript) else container
        if names.resolve(container) == _ARGV:
            flag = test.left
            return (flag.value,) if isinstance(flag, ast.Constant) and isinstance(flag.value, str) else ()
    setting = opt_in_setting(test, names)
    if setting is not None:
        return (setting,)
    if isinstance(test, ast.Name) and test.id in flags:
        return switch_of(flags[test.id], names, functions, {}, depth + 1)
    if isinstance(test, ast.Name) and (value := names.module_value(test.id)) is not None:
        return switch_of(value, names, functions, {}, depth + 1)
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id in functions:
        return _helper_switch(functions[test.func.id], test, names, functions, depth + 1)
    return None


def _helper_switch(
    function: ast.FunctionDef, call: ast.Call, names: ImportTable, functions: dict[str, ast.FunctionDef], depth: int
) -> Switch | None:
    """Where a helper of the script returns true only under switches (`has_flag("--x", "X")`): their
    names, with the call's arguments put in for the parameters."""
    values, parameters = call_arguments(function, call)
    if not values and parameters:
        return None
    found: list[str] = []
    returned = False
    for statement, tests in _returns(function.body, ()):
        if statement.value is None or _false(statement.value):
            continue
        returned = True
        reads = [substituted(test, values) for test in tests]
        if not isinstance(statement.value, ast.Constant):
            reads.append(substituted(statement.value, values))
        switches = [switch_of(test, names, functions, {}, depth) for test in reads]
        if not any(switch is not None for switch in switches):
            return None
        found.extend(name for switch in switches if switch is not None for name in switch)
    return tuple(dict.fromkeys(found)) if returned else None


def _returns(body: list[ast.stmt], tests: tuple[ast.expr, ...]) -> Iterable[tuple[ast.Return, tuple[ast.expr, ...]]]:
    """Each `return` of a function's body with the tests of the `if` bodies around it (an `else` adds none)."""
    for statement in body:
        if isinstance(statement, ast.Return):
            yield statement, tests
        elif isinstance(statement, ast.If):
            yield from _returns(statement.body, (*tests, statement.test))
            yield from _returns(statement.orelse, tests)
        elif not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody"):
                yield from _returns(getattr(statement, field, []), tests)
            for handler in getattr(statement, "handlers", []):
                yield from _returns(handler.body, tests)


def _false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and not node.value


def documented(readme: str) -> tuple[frozenset[str], ...]:
    """The words of each install command of a README (`PKG_CUDA_EXT=1 pip install .`), for the
    switches it sets: a variable assigned (`X=1`) or a flag given (`--x`, `--build-option=--x`)."""
    commands = []
    for line in readme.splitlines():
        if _COMMAND.search(line):
            words = set(_SET_VARIABLE.findall(line)) | set(_GIVEN_FLAG.findall(line))
            commands.append(frozenset(words))
    return tuple(commands)


def opt_in_sources(sources: Iterable[OptInSource], commands: Iterable[frozenset[str]]) -> dict[str, Evidence]:
    """The sources, and where a build compiles them only under a switch, less those whose switch every
    install command of the README that sets one of the build's switches sets too (the normal build)."""
    sources = list(sources)
    spelled = {name for source in sources for name in source.switch}
    setting = [command for command in commands if command & spelled]
    return {
        source.path: source.evidence for source in sources
        if not (setting and source.switch and all(command & set(source.switch) for command in setting))
    }


def read_opt_in(
    tree: ast.Module, script: str, names: ImportTable, evidence: Callable[[int], Evidence], extension_names: set[int]
) -> tuple[OptInSource, ...]:
    """The sources the build script at display path `script` names, or lists by a glob, only in arms
    taken where the installer opts in (each with `evidence` of its `if`'s line); a source it also names
    elsewhere is built by default. `extension_names` are the strings that name an extension."""
    arms = opt_in_arms(tree, names)
    if not arms:
        return ()

    def arm_of(node: ast.AST) -> tuple[int, int, int, Switch] | None:
        line = getattr(node, "lineno", 0)
        around = [arm for arm in arms if arm[0] <= line <= arm[1]]
        return max(around, key=lambda arm: arm[0]) if around else None

    switches = {at: switch for _, _, at, switch in arms}
    opted: dict[str, tuple[int, Switch]] = {}
    default: set[str] = set()
    for constant in subtree(tree):
        if not isinstance(constant, ast.Constant) or id(constant) in extension_names:
            continue
        source = named_source(constant, script)
        if source is None:
            continue
        arm = arm_of(constant)
        if arm is None:
            default.add(source)
        else:
            opted.setdefault(source, (arm[2], arm[3]))
    found = [OptInSource(source, evidence(at), switch) for source, (at, switch) in sorted(opted.items()) if source not in default]

    def arm_line(node: ast.AST) -> int | None:
        arm = arm_of(node)
        return arm[2] if arm is not None else None

    def default_line(node: ast.AST) -> int | None:
        return None if arm_of(node) is not None else 1

    by_default = tuple(pattern for pattern, _, _ in cuda_arm_globs(tree, script, names, default_line))
    for pattern, excluded, at in cuda_arm_globs(tree, script, names, arm_line):
        found.append(OptInSource(pattern, evidence(at), switches[at], glob=True, excluded=(*excluded, *by_default)))
    return tuple(found)
