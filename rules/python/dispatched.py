"""Packages whose members a project fetches by a name read at run time: a configuration's choice.

A model builder often takes the class or function a configuration names from a package of the
project:

    from . import backbones
    net = getattr(backbones, cfg["backbone"])(**cfg["args"])

or `metric_module = importlib.import_module("pkg.metrics")`, then `getattr(metric_module,
opt["type"])(...)`. The package's `__init__.py` re-exports every member so that the lookup finds
it: that face serves the lookup, not a user, and what a member does runs only where a configuration
(or another file of the project) names it. A member no shipped configuration, script or document
names (`mobilenet_v3` where every YAML file says `backbone: resnet18`) runs on no route the project
ships; a user who writes a configuration of their own naming it runs it: another path, at most a
warning (`taken_names.left_behind`, with the package's `__init__.py` among the faces that serve the
project only, `project_index._taken_names`).

`dispatched_packages` finds, in the project's modules outside the test suite that spell
`getattr(`, each first argument that is a module object (bound by `from . import backbones`, `import
pkg.metrics as metrics` or `metrics = importlib.import_module("pkg.metrics")`) whose second argument is
no string literal, and resolves it to a package of the scan (its `__init__.py`). A lookup with a
literal name (`getattr(backbones, "resnet18")`) names its member, as any spelling does; a module that
lists the package's members (`dir(backbones)`, `vars(...)`, `inspect.getmembers(...)`,
`backbones.__all__`) may look each of them up, and makes no choice.

An installed package may read its configuration from a file it ships, at a path built from its own
place (`os.path.join(os.path.dirname(__file__), "configs", "infer.yaml")`), where its user picks a
variant of that file (`Detector(variant="small")`) and never a member by name: no configuration of the
user's reaches the lookup. `shipped_configurations` finds the packages looked up so, and a member
none of the project's files names there runs nowhere, as in a package no install makes an API.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Mapping

from cudaudit.filekinds import is_test_path
from cudaudit.firstparty import module_map
from cudaudit.rules.python.names import dotted_name
from cudaudit.rules.python.project_calls import MODULE_OBJECT, bound_names
from cudaudit.rules.python.read_once import read_or_empty
from cudaudit.source import decode_python, read_tree

Reader = Callable[[], bytes]
_LOOKUP = re.compile(rb"\bgetattr\(\s*(\w+)\s*,\s*(?![\s'\"])")
"""`getattr(NAME, ` followed by anything but a string literal."""
_IMPORT_MODULE = re.compile(rb"\b(\w+)[ \t]*=[ \t]*(?:importlib\.)?import_module\(\s*['\"]([\w.]+)['\"]\s*\)")
"""`NAME = importlib.import_module("pkg.metrics")`."""


def dispatched_packages(
    python: Mapping[str, Reader], imports: Mapping[str, tuple[tuple[int, str, str], ...]]
) -> frozenset[str]:
    """The `__init__.py` (display path) of each package of `python` (display path -> its bytes) whose
    members a module outside the test suite looks up by a name read at run time; `imports` are the
    modules' `project_calls.from_imports`."""
    modules = module_map(python)
    found: set[str] = set()
    for path, read in sorted(python.items()):
        if is_test_path(path):
            continue
        try:
            data = read()
        except OSError:
            continue
        if b"getattr(" not in data:
            continue
        objects = {  # each name looked up once, however many lookups spell it
            name.decode("ascii", "replace") for name in {match.group(1) for match in _LOOKUP.finditer(data)}
            if not re.search(rb"\b(?:dir|vars|getmembers)\(\s*%s\b|\b%s\.__(?:all|dict)__" % (name, name), data)
        }
        if not objects:
            continue
        targets: list[tuple[int, str]] = [
            (0, match.group(2).decode("ascii", "replace")) for match in _IMPORT_MODULE.finditer(data)
            if match.group(1).decode("ascii", "replace") in objects
        ] if b"import_module(" in data else []  # the pattern tries each word of the module: most call none
        for level, module, listed in imports.get(path, ()):
            if level == MODULE_OBJECT:
                if listed in objects:
                    targets.append((0, module))
                continue
            targets.extend(
                (level, f"{module}.{name}" if module else name) for name, bound in bound_names(listed) if bound in objects
            )
        for level, dotted in targets:
            package = _package(modules.resolve(path, level, dotted), dotted)
            if package is not None:
                found.add(package)
    return frozenset(found)


def _package(resolved: set[str], dotted: str) -> str | None:
    """The `__init__.py` among `resolved` (what an import of `dotted` runs) of the package `dotted`
    names itself, by its last name; None where that is a module or no package of the scan."""
    last = dotted.rpartition(".")[2]
    for path in resolved:
        if posixpath.basename(path) == "__init__.py" and posixpath.basename(posixpath.dirname(path)) == last:
            return path
    return None


_LOADS = re.compile(rb"\b(?:yaml\.(?:safe_|full_|unsafe_)?load|json\.load|OmegaConf\.load|toml\.load|tomllib\.load)\(")
"""A configuration file's load: `yaml.safe_load(fid)`, `json.load(f)`, `OmegaConf.load(path)`."""


def shipped_configurations(python: Mapping[str, Reader], faces: frozenset[str]) -> frozenset[str]:
    """The `faces` (`dispatched_packages`) whose lookups read only configurations the package ships:
    the modules of the folder above the looked-up package (`pkg/` for `pkg/backbones/__init__.py`,
    where the loader that reads the configuration and the model builder that looks its names up
    live) load a configuration somewhere, and every load opens a file found from the module's own
    place (`os.path.join(os.path.dirname(__file__), "configs", "infer.yaml")`): no path a user gives
    reaches them, so a member none of those files names runs on no route, even in an installed
    package. A load of anything else (a parameter, a command-line path) lets a user's own
    configuration in."""
    found: set[str] = set()
    if not faces:
        return frozenset()
    loading = {  # searched once for every face
        path: data for path, read in python.items() if not is_test_path(path) and _LOADS.search(data := read_or_empty(read))
    }
    own: dict[str, bool] = {}  # each module parsed once, for the first face above it

    def loads_own_files(path: str) -> bool:
        if path not in own:
            own[path] = _loads_own_files(loading[path])
        return own[path]

    for face in sorted(faces):
        above = posixpath.dirname(posixpath.dirname(face))
        loads = [path for path in loading if (path.startswith(above + "/") if above else True)]
        if loads and all(loads_own_files(path) for path in loads):
            found.add(face)
    return frozenset(found)


def _loads_own_files(data: bytes) -> bool:
    """Whether every configuration load of a module reads a file found from the module's own place:
    each load's argument is `open(PATH)`, a name a `with open(PATH) as f:` binds, or PATH itself, and
    PATH spells `__file__` or is a name the module binds only from an expression that does."""
    try:
        tree = read_tree(decode_python(data))
    except (SyntaxError, ValueError, RecursionError):
        return False
    own = _own_paths(tree)
    opened: dict[str, ast.expr] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name) and _is_open(item.context_expr):
                    opened[item.optional_vars.id] = item.context_expr.args[0]  # type: ignore[attr-defined]
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _LOADS.match((dotted_name(node.func) or "").encode() + b"(") and node.args):
            continue
        argument = node.args[0]
        if isinstance(argument, ast.Name) and argument.id in opened:
            argument = opened[argument.id]
        elif _is_open(argument):
            argument = argument.args[0]  # type: ignore[attr-defined]
        if not _from_own_place(argument, own):
            return False
    return True


def _is_open(node: ast.expr) -> bool:
    """Whether `node` is a call of `open` with a first argument."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open" and bool(node.args)


def _own_paths(tree: ast.Module) -> set[str]:
    """The names every assignment in the module gives a value that spells `__file__` (`config_path =
    os.path.join(os.path.dirname(__file__), "configs", "infer.yaml")`)."""
    values: dict[str, list[bool]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values.setdefault(target.id, []).append(_spells_file(node.value))
    return {name for name, own in values.items() if all(own)}


def _spells_file(node: ast.expr) -> bool:
    """Whether an expression reads `__file__`."""
    return any(isinstance(part, ast.Name) and part.id == "__file__" for part in ast.walk(node))


def _from_own_place(node: ast.expr, own: set[str]) -> bool:
    """Whether a path is found from the module's own place: it spells `__file__`, or is a name only
    such values are given (`own`)."""
    return _spells_file(node) or (isinstance(node, ast.Name) and node.id in own)
