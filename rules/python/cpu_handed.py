"""A program's CPU switch handed to a function of another module of the project.

A script may take a CPU switch (`--cpu`, `action="store_true"`, help "cpu mode.") and hand it to the
functions that load and run the model: `load_checkpoints(path, cpu=opt.cpu)`, where `load_checkpoints`
comes from a module of the project that writes `def load_checkpoints(path, cpu=False):` and `if not cpu:
generator.cuda()`. In the script's own module `names.ImportTable.cpu_switches` reads the parameter as
the switch; in the module that defines the function, the script's option is not in sight. There the
test is as much a CPU test: the program's CPU route sets the parameter, and the GPU arm is the other
side of it, as where both are in one module.

`handed_switches` reads one module from its bytes: the calls that give a keyword one of its CPU options,
as (the callee's name, the keyword). `cpu_parameters` then finds, in one pass over the project's
modules outside the test suite, those that define a function of such a name with such a parameter, and
gives each module the parameters a CPU switch reaches. A parameter nothing hands a switch (`def
load(path, cpu=False)` that every call leaves off) is not one: every run, a CPU's too, takes its GPU arm.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.rules.catalog import word_automaton
from cudaudit.rules.python.names import cpu_options, reads_option
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.read_once import outside_tests
from cudaudit.source import decode_python, read_tree

_CPU_FLAG = re.compile(rb"(?i)(?<![\w-])--[\w-]*cpu")
"""A command-line flag that names the CPU (`"--cpu"`, `'--use_cpu'`): the bytes a module with a CPU switch
spells, where `.cpu()` alone is in most modules that move tensors. Tried only where a flag starts, so
that a rule of dashes (`# ------`) is read once."""

Handed = tuple[tuple[str, str], ...]
"""(the callee's name, the keyword) for each call that hands a CPU switch to a keyword."""


def handed_switches(data: bytes) -> Handed:
    """The calls of module `data` that hand one of its CPU options to a keyword (`load(path, cpu=opt.cpu)`)."""
    if b"store_true" not in data or _CPU_FLAG.search(data) is None:
        return ()
    try:
        module = read_tree(decode_python(data))
    except (SyntaxError, ValueError):
        return ()
    nodes = list(subtree(module))
    options = frozenset(cpu_options([node for node in nodes if isinstance(node, ast.stmt)]))
    if not options:
        return ()
    found: set[tuple[str, str]] = set()
    for node in nodes:
        if isinstance(node, ast.Call) and (callee := _callee(node.func)) is not None:
            found.update((callee, k.arg) for k in node.keywords if k.arg and reads_option(k.value, options))
    return tuple(sorted(found))


def _callee(func: ast.expr) -> str | None:
    """The name a call's function is known by where it is defined: `load` for `load(...)` and `models.load(...)`."""
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def cpu_parameters(handed: Iterable[Handed], code: Mapping[str, Callable[[], bytes]]) -> dict[str, frozenset[str]]:
    """Module -> the parameters of its functions that a call elsewhere hands a CPU switch (`handed`:
    `handed_switches` of each module that has some), for the modules of `code` (display path -> bytes)
    outside the test suite that define such a function."""
    keywords: dict[str, set[str]] = {}
    for pairs in handed:
        for callee, keyword in pairs:
            keywords.setdefault(callee, set()).add(keyword)
    definitions = word_automaton(sorted(b"def " + name.encode() + b"(" for name in keywords))
    if definitions is None:
        return {}
    found: dict[str, frozenset[str]] = {}
    for path, data in outside_tests(code):
        if not path.endswith(".py") or not definitions.any_in(data):
            continue
        try:
            module = read_tree(decode_python(data))
        except (SyntaxError, ValueError):
            continue
        parameters = {
            argument.arg
            for node in subtree(module)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in keywords
            for argument in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
            if argument.arg in keywords[node.name]
        }
        if parameters:
            found[path] = frozenset(parameters)
    return found
