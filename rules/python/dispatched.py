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
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping

from cudaudit.filekinds import is_test_path
from cudaudit.firstparty import module_map
from cudaudit.rules.python.project_calls import MODULE_OBJECT, bound_names

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
        objects = {
            match.group(1).decode("ascii", "replace") for match in _LOOKUP.finditer(data)
            if not re.search(rb"\b(?:dir|vars|getmembers)\(\s*%s\b|\b%s\.__(?:all|dict)__" % (match.group(1), match.group(1)), data)
        }
        if not objects:
            continue
        targets: list[tuple[int, str]] = [
            (0, match.group(2).decode("ascii", "replace")) for match in _IMPORT_MODULE.finditer(data)
            if match.group(1).decode("ascii", "replace") in objects
        ]
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
