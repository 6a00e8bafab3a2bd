"""Opt-in areas: a project's experimental folders that its own normal path never imports.

Projects keep work that is not part of their core in folders named by a documented convention
(torchtitan's `experiments/`, "optional for core to run successfully"; torchtune's `dev/`, "not
public"; torchao's `prototype/`; TRL's and Diffusers' `experimental/`: the catalog's
`[[opt_in_folder]]` tables, each with the project page that says so). A user reaches such code only
by naming it (`--module graph_trainer.llama3`, a `dev/` recipe), so its CUDA calls break an opt-in
feature, not the normal path: another path, at most a warning.

The name alone is no proof: a core module may import from the folder (`from pkg.experimental
import fast_path`), which puts what it imports on the normal path. So `unreached_in_areas` follows
the project's static imports: a module of an area keeps its verdicts where a module outside every
area (tests aside) imports it, directly or through modules of its area that are so reached
(`firstparty.ModuleMap` resolves each import, with the packages above it). Only folders inside a
package count (`pkg/experiments/`, whose parent has an `__init__.py`): a top-level `experiments/`
folder of scripts is what a research repository runs. An import this reading does not see
(`importlib.import_module` of a built name) leaves a module unreached, which is what an opt-in area
means: the project loads it by name when the user asks.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Collection, Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.filekinds import is_test_path
from cudaudit.firstparty import ModuleMap, module_map
from cudaudit.project_roots import lies_under
from cudaudit.rules.python.opt_in import import_lines, import_statements, statement_modules
from cudaudit.rules.python.unnamed import read_or_none


def area_folders(paths: Iterable[str], names: Iterable[str]) -> tuple[str, ...]:
    """The outermost folders among `paths`' (the scan's Python modules) named as one of `names`
    (lower case) whose parent folder is a package (holds an `__init__.py` of the scan)."""
    paths = frozenset(paths)
    wanted = frozenset(names)
    found: set[str] = set()
    for path in paths:
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts)):
            if parts[depth].lower() in wanted and "/".join([*parts[:depth], "__init__.py"]) in paths:
                found.add("/".join(parts[: depth + 1]))
                break
    return tuple(sorted(folder for folder in found if not any(lies_under(folder, other) for other in found if other != folder)))


def unreached_in_areas(
    areas: tuple[str, ...], sources: Mapping[str, Callable[[], bytes]], aside: Collection[str] = frozenset()
) -> dict[str, Evidence]:
    """Display path -> why it is another path, for each module of `areas` (`area_folders`) that no
    module on the project's normal path imports, directly or through the area's reached modules;
    `sources` are the scan's Python modules, display path -> their bytes. Test modules neither reach
    nor are reached, and neither do the modules of `aside` (the developers' folders' scripts) nor
    those below a folder named as an area is (`benchmarks/prototype/attention/`,
    `docs/examples/prototype/`): each is the area's own opt-in world, which imports it by name."""
    if not areas:
        return {}
    modules = module_map(sources)
    inside = {path: area for path in sources for area in areas if lies_under(path, area)}
    names = {posixpath.basename(area).lower() for area in areas}
    words = {name.encode() for name in names} | {posixpath.basename(area).encode() for area in areas}
    reached: set[str] = set()
    set_aside: dict[str, str] = {}  # an area's module -> the opt-in importer that alone imports it
    for importer in sorted(sources):
        if importer in inside or is_test_path(importer):
            continue
        data = read_or_none(sources.get(importer))
        if data is None or not any(word in import_lines(data) for word in words):
            continue
        imported = _imported(modules, importer, data).intersection(inside)
        if importer in aside or names.intersection(part.lower() for part in importer.split("/")[:-1]):
            for module in imported:
                set_aside.setdefault(module, importer)
            continue
        reached |= imported
    queue = sorted(reached)
    while queue:
        module = queue.pop()
        data = read_or_none(sources.get(module))
        if data is None:
            continue
        for found in sorted(_imported(modules, module, data).intersection(inside) - reached):
            reached.add(found)
            queue.append(found)
    return {
        path: Evidence(area, 0, f"nothing outside `{area}/` imports this module: the project loads it only when asked")
        if path not in set_aside else
        Evidence(area, 0, f"only `{set_aside[path]}`, itself off the normal path, imports this module from outside `{area}/`")
        for path, area in sorted(inside.items())
        if path not in reached and not is_test_path(path)
    }


def _imported(modules: ModuleMap, importer: str, data: bytes) -> set[str]:
    """The scan's modules the import statements of `importer` (`data`) run."""
    found: set[str] = set()
    for _, statement in import_statements(data):
        for level, module, names in statement_modules(statement):
            found |= modules.resolve(importer, level, module, names)
    return found - {importer}
