"""Modules that run only where the user has installed one of the project's optional extras.

A project may ship a second stack that users install on request: `pip install pkg[megatron]`,
declared in `[project.optional-dependencies]`, a setup.py's `extras_require`, or a requirements
file the setup.py gives an extra (`extras["megatron"] = read("requirements/megatron.txt")`). The
code that needs that stack imports it at its top level (`from megatron.core import mpu`), and so
do the modules that import such a module at their top level in turn. None of them can be imported
without the extra, so the install the project's normal path runs, which lacks it, never runs them:
their sites are another path, at most a warning, as an opt-in area's are.

`declared.declared_dependencies` reads each dependency file: the packages of its base install, those
of each extra, the requirements files a setup.py assigns to an extra, and the console scripts it
declares (`[project.scripts]`, `entry_points`). `top_level_imports` reads a module's imports at column 0 (an
indented import runs only when its block does: `try`, `if`, a function). `extra_only_modules` then
takes the packages that only extras declare (a requirements file no setup.py assigns to an extra is
the base install), the modules whose top-level imports name one (a distribution's import name is
its name, `mcore_bridge` for `mcore-bridge`, or the dotted path its words spell, `megatron.core` for
`megatron-core`), and the modules that import those at their top level, to a fixed point.

An extra the project cannot run without is its main stack, whatever its packaging says: a project
that declares torch only in a `torch` extra (users bring their own build) imports it everywhere.
So an extra whose modules include a console script's module, a top-level package's `__init__.py`
(what `import pkg` runs) or the default entry of one of the project's registries (the backend a
setting picks unless told otherwise: `registries.py`), or most of the project's modules outside the
test suite, changes nothing; so does an extra the project's README installs (`pip install
"pkg[megatron]"` in the README, not only in a page of its documentation): the README's install is
the normal one. A standalone script (a module outside any package that nothing imports: an example
of the feature the extra serves) keeps its severity: running it is its user's normal path, and the
extra is one step of that path's install.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.filekinds import is_test_path
from cudaudit.firstparty import ModuleMap, module_map
from cudaudit.rules.dependencies.declared import Declared, normal_name
from cudaudit.rules.python.opt_in import code_import_statements, statement_modules

TopImport = tuple[int, int, str, tuple[str, ...]]
"""(line, level, module, names) of an import statement at a module's column 0."""

_TEST_RUNNERS = frozenset({"pytest"})
"""Distributions (normalised) that make an extra the developers' environment."""
_EXTRAS = re.compile(r"(?<=[\w.])\[([\w,\s.-]+)\]")
"""The extras list after a distribution's name or `.`: `pkg[a,b]`, `.[a]`."""
_MAIN_STACK_SHARE = 0.5
"""An extra that more than this share of the project's modules (tests aside) needs is its main stack."""


def top_level_imports(data: bytes) -> tuple[TopImport, ...]:
    """The import statements of a module that start at column 0: those that run when it is imported.
    A line inside a triple-quoted string (an example in a docstring, a template) that starts with
    `import` is none: an odd count of either triple quote before it says it is in one."""
    return tuple(
        (line, level, module, names)
        for line, statement in code_import_statements(data) if statement[:1] not in (b" ", b"\t")
        for level, module, names in statement_modules(statement)
    )


def extra_only_modules(
    sources: Iterable[str],
    declared: Mapping[str, Declared],
    imports: Callable[[str], tuple[TopImport, ...]],
    normal: Iterable[str] = (),
    installed: Iterable[str] = (),
) -> dict[str, Evidence]:
    """Display path -> the top-level import that needs an extra, for each Python module of `sources`
    that can only be imported where an extra is installed (see the module docstring). `declared`
    are the scan's dependency files read by `declared_dependencies`; `imports(path)` a module's
    `top_level_imports`; `normal` modules the project's normal path runs besides its entry points
    (a registry's default entry): an extra one of them needs is part of the normal install;
    `installed` the extras the project's README installs (`readme_extras`), which are its normal
    install."""
    named = {normal_name(extra) for extra in installed}
    only = {name: extra for name, extra in _extra_only(declared).items() if normal_name(extra) not in named}
    if not only:
        return {}
    paths = sorted(sources)
    modules = module_map(paths)
    own = {name.partition(".")[0] for name in map(modules.name, paths) if name}
    needs: dict[str, dict[str, Evidence]] = {}  # extra -> module -> the import that needs it
    for path in paths:
        if is_test_path(path):
            continue  # the test suite's needs are its own
        for line, level, module, _ in imports(path):
            if level or not module or module.partition(".")[0] in own:
                continue
            extra = next((only[name] for name in spellings(module) if name in only), None)
            if extra is not None:
                needs.setdefault(extra, {}).setdefault(path, Evidence(path, line, f"import {module}"))
    if not needs:
        return {}
    entries = _entries(modules, paths, declared) | set(normal)
    counted = sum(1 for path in paths if not is_test_path(path))  # the closure holds no test module
    found: dict[str, Evidence] = {}
    importers = top_level_importers(modules, paths, imports)
    for extra, needing in sorted(needs.items()):
        closure = importers_closure(importers, needing)
        if closure.keys() & entries or len(closure) > _MAIN_STACK_SHARE * counted:
            continue
        for path, evidence in closure.items():
            if _standalone_script(modules, importers, path):
                continue
            found.setdefault(path, Evidence(evidence.path, evidence.line, f"{evidence.text}: only the `{extra}` extra installs it"))
    return found


def readme_extras(text: str) -> frozenset[str]:
    """The extras a README's install commands name: `pip install "pkg[a,b]"`, `pip install -e .[a]`,
    on the lines that spell `install`."""
    return frozenset(
        extra.strip()
        for line in text.splitlines() if "install" in line
        for group in _EXTRAS.findall(line)
        for extra in group.split(",") if extra.strip()
    )


def _extra_only(declared: Mapping[str, Declared]) -> dict[str, str]:
    """Normalised distribution -> an extra that declares it, for those no base install declares;
    a requirements file counts as the base install unless a setup.py assigns it to an extra. An
    extra that installs a test runner is the developers' environment (`test`, `dev`): it gathers
    libraries the tests and examples import for themselves, and says nothing of what users opt into."""
    assigned = {file: extra for _, _, files, _ in declared.values() for extra, file in files}
    base: set[str] = set()
    members: dict[str, set[str]] = {}
    for path, (names, in_extras, _, _) in sorted(declared.items()):
        if path in assigned:
            members.setdefault(assigned[path], set()).update(names)
        else:
            base.update(names)
        for extra, name in in_extras:
            members.setdefault(extra, set()).add(name)
    extras: dict[str, str] = {}
    for extra, members_of in sorted(members.items(), key=lambda item: (len(item[1]), item[0])):  # the narrowest names it
        if not members_of & _TEST_RUNNERS:
            extras.update((name, extra) for name in sorted(members_of - base) if name not in extras)
    return extras


def spellings(module: str) -> Iterable[str]:
    """The normalised distribution names an import may need: its top-level name, and the names its
    dotted path spells (`megatron_core` for `megatron.core.mpu`, the `megatron-core` distribution)."""
    parts = normal_name(module).split("_") if "." in module else [normal_name(module)]
    top = normal_name(module.partition(".")[0])
    yield top
    for end in range(2, len(parts) + 1):
        yield "_".join(parts[:end])


def _entries(modules: ModuleMap, paths: list[str], declared: Mapping[str, Declared]) -> set[str]:
    """The modules a user's first step runs: each console script's module and each top-level
    package's `__init__.py`."""
    scripts = {script for _, _, _, found in declared.values() for script in found}
    found = {path for path in paths if modules.name(path) in scripts}
    found |= {path for path in paths if posixpath.basename(path) == "__init__.py" and "." not in modules.name(path)}
    return found


def top_level_importers(modules: ModuleMap, paths: list[str], imports: Callable[[str], tuple[TopImport, ...]]) -> dict[str, set[str]]:
    """Module -> the modules outside the test suite that import it at their top level (each import
    resolved once, with the packages above it, whose `__init__.py` runs first)."""
    found: dict[str, set[str]] = {}
    for path in paths:
        if is_test_path(path):
            continue
        for _, level, module, names in imports(path):
            for target in modules.resolve(path, level, module, names):
                found.setdefault(target, set()).add(path)
    return found


def _standalone_script(modules: ModuleMap, importers: Mapping[str, set[str]], path: str) -> bool:
    """A module outside any package that no module imports: a script run on its own (an example, a
    demo). Whoever runs it has installed what it imports, extras included: the extra is a step of
    that script's own normal path, not a route the project's users opt into, so its sites keep their
    severity."""
    file = posixpath.basename(path)
    return file != "__init__.py" and modules.name(path) == file[:-3] and not importers.get(path)


def importers_closure(importers: Mapping[str, set[str]], needing: dict[str, Evidence]) -> dict[str, Evidence]:
    """`needing` with every module that imports one of them at its top level, to a fixed point; each
    keeps the evidence of the module it reaches the extra through."""
    closure = dict(needing)
    queue = sorted(needing)
    while queue:
        module = queue.pop()
        for importer in sorted(importers.get(module, ()) - closure.keys()):
            closure[importer] = closure[module]
            queue.append(importer)
    return closure
