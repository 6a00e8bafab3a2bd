"""A program's CPU switch handed to a function of another module of the project.

A script may take a CPU switch (`--cpu`, `action="store_true"`, help "cpu mode.") and hand it to the
functions that load and run the model: `load_checkpoints(path, cpu=opt.cpu)`, where `load_checkpoints`
comes from a module of the project that writes `def load_checkpoints(path, cpu=False):` and `if not cpu:
generator.cuda()`. In the script's own module `names.ImportTable.cpu_switches` reads the parameter as
the switch; in the module that defines the function, the script's option is not in sight. There the
test is as much a CPU test: the program's CPU route sets the parameter, and the GPU arm is the other
side of it, as where both are in one module.

`handed_switches` reads one module from its bytes: the calls that give a keyword one of its CPU options,
as (the callee as written, the keyword): `load` or `models.load`. `cpu_parameters` then finds, in one
pass over the project's modules outside the test suite, those that define a function of such a name with
such a parameter, keeps those the call reaches through the handing module's imports (`from .models import
load`, `from pkg import models`: `project_calls.importers` and `module_objects`), and gives each module
the parameters a CPU switch reaches. A function of the same name in a module the call does not import (a
`load(path, cpu=False)` of an unrelated package, `self.load`) is not handed the switch; nor is a parameter
nothing hands one (`def load(path, cpu=False)` that every call leaves off): every run, a CPU's too, takes
its GPU arm.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping

from cudaudit.firstparty import module_map
from cudaudit.rules.catalog import word_automaton
from cudaudit.rules.python.names import attribute_chain, cpu_options, dotted_name, reads_option
from cudaudit.rules.python.nodes import subtree
from cudaudit.rules.python.project_calls import importers, module_objects
from cudaudit.rules.python.read_once import outside_tests
from cudaudit.source import decode_python, read_tree

_CPU_FLAG = re.compile(rb"(?i)(?<![\w-])--[\w-]*cpu")
"""A command-line flag that names the CPU (`"--cpu"`, `'--use_cpu'`): the bytes a module with a CPU switch
spells, where `.cpu()` alone is in most modules that move tensors. Tried only where a flag starts, so
that a rule of dashes (`# ------`) is read once."""

Handed = tuple[tuple[str, str], ...]
"""(the callee as written, `load` or `models.load`, the keyword) for each call that hands a CPU switch to a keyword."""


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
        # a chain that hangs from a name (`load`, `models.load`); a method of a built object
        # (`Loader().load(...)`) names no function of the project by its module
        if isinstance(node, ast.Call) and isinstance(attribute_chain(node.func)[0], ast.Name):
            callee = dotted_name(node.func)
            found.update((callee, k.arg) for k in node.keywords if k.arg and reads_option(k.value, options))
    return tuple(sorted(found))


def cpu_parameters(
    handed: Mapping[str, Handed],
    code: Mapping[str, Callable[[], bytes]],
    imports: Mapping[str, tuple[tuple[int, str, str], ...]],
) -> dict[str, frozenset[str]]:
    """Module -> the parameters of its functions that a call elsewhere hands a CPU switch (`handed`:
    display path -> `handed_switches` of each module that has some), for the modules of `code` (display
    path -> bytes) outside the test suite that define such a function and that the call reaches through
    its module's imports (`imports`: each module's `project_calls.from_imports`)."""
    keywords: dict[str, set[str]] = {}
    for pairs in handed.values():
        for callee, keyword in pairs:
            keywords.setdefault(callee.rpartition(".")[2], set()).add(keyword)
    definitions = word_automaton(sorted(b"def " + name.encode() + b"(" for name in keywords))
    if definitions is None:
        return {}
    defined: dict[str, dict[str, set[str]]] = {}
    """Defining module -> function name -> its parameters some call hands a switch by that name."""
    for path, data in outside_tests(code):
        if not path.endswith(".py") or not definitions.any_in(data):
            continue
        try:
            module = read_tree(decode_python(data))
        except (SyntaxError, ValueError):
            continue
        for node in subtree(module):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in keywords:
                arguments = (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
                parameters = {argument.arg for argument in arguments} & keywords[node.name]
                if parameters:
                    defined.setdefault(path, {}).setdefault(node.name, set()).update(parameters)
    if not defined:
        return {}
    modules = module_map(code)
    handing = {path: imports.get(path, ()) for path in handed}
    reached = importers(modules, defined, handing)
    through = module_objects(modules, defined, handing)
    found: dict[str, set[str]] = {}
    for path, pairs in handed.items():
        for callee, keyword in pairs:
            owners = (through if "." in callee else reached).get(path, {}).get(callee, ())
            for owner in owners:
                if keyword in defined[owner].get(callee.rpartition(".")[2], ()):
                    found.setdefault(owner, set()).add(keyword)
    return {path: frozenset(parameters) for path, parameters in found.items()}
