"""Group a scan's findings into components, the things a team plans porting work around, and
say how each fares on every requested target.

Every finding lands in exactly one component, so the components' counts add up to the scan's.
A finding whose catalog entry names a topic (`attention`, `serving`, `quantization`) joins that
topic's component wherever it is written: `flash-attn` in `requirements.txt` and
`import flash_attn` in a module are one decision. Everything else is placed by what its file is:
a kernel folder (the outermost folder with `.cu`/`.cuh` files), a Triton kernel folder, a build
script, a Dockerfile, a dependency file, a CI workflow, an entry script at the project root, or
the top-level Python package it is in.

The pass is linear in the number of findings (a few dictionary lookups each).
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from cudaudit.assessment.counterparts import Counterparts, named_for
from cudaudit.assessment.layout import (
    CONTAINER_DIRS,
    containing,
    kernel_folders,
    kinds_of,
    python_area,
    relative,
    role_of,
)
from cudaudit.assessment.model import EFFORT_ORDER, Blocker, Component, ComponentTarget, Evidence, Readiness, Role
from cudaudit.filekinds import TARGET_FIXED_KINDS, FileKind
from cudaudit.model import CUDA_API_TARGETS, Finding, Safety, Severity, Status
from cudaudit.project_roots import INSTALL_DECLARATIONS
from cudaudit.rules.catalog import Catalog

TRITON_RULES = frozenset({"CDA301", "CDA302", "CDA303"})
CUDA_STRING_RULES = frozenset({"CDA304"})
BUILD_RULES_PREFIXES = ("CDA44", "CDA45")
DEPENDENCY_KINDS = frozenset({FileKind.REQUIREMENTS, FileKind.PYPROJECT, FileKind.LOCKFILE, FileKind.CONDA, FileKind.PIXI})
TOPIC_NAMES = {"attention": "the attention path", "serving": "the serving stack", "quantization": "quantization kernels"}
LIBRARY_KINDS = frozenset({"python", "sources", "triton", "build", "attention", "serving", "quantization"})
"""Components that are paths of a library: a site that breaks a target breaks one path of many
(partial), not the whole (blocked); a library's Triton kernels and attention backends are fast
paths beside a fallback, and a build script or a C++ file outside the kernel folders follows the
kernels it is built with (which decide). An entry script, a kernel folder or an image with such a site does not run,
nor does a library path whose site stops its module's import (`Finding.at_import`), nor a `setup.py`
whose extension build stops (`_stops_install`): nothing it builds is installed."""
MAX_BLOCKERS = 3


@dataclass(frozen=True)
class Place:
    """Where a finding goes: the component's id, kind, display name and the path that decides its role."""

    id: str
    kind: str
    name: str
    anchor: str


@dataclass(frozen=True)
class Dependencies:
    """What `cudaudit resolve` says of each dependency file's CUDA-bound packages, per target: the
    verdicts of `cudaudit.resolvers.resolution.feasibility`, as plain dicts."""

    verdicts: dict[str, dict[str, list[dict]]]

    def stuck(self, path: str, target: str) -> list[dict]:
        """The packages the variant cannot install a working build of (no build, or nothing mechanical)."""
        return [v for v in self.verdicts.get(path, {}).get(target, ()) if not _swaps_cleanly(v)]

    def phrase(self, path: str, target: str) -> str:
        packages = self.verdicts.get(path, {}).get(target, [])
        if not packages:
            return ""
        clean = len(packages) - len(self.stuck(path, target))
        return f"`resolve`: {clean} of {len(packages)} package(s)"


def _swaps_cleanly(verdict: dict) -> bool:
    return verdict.get("optional") is not None or (verdict["available"] != "no" and verdict["action"] != "manual")


NO_DEPENDENCIES = Dependencies({})


def group(
    findings: Sequence[Finding],
    paths: Sequence[str],
    targets: Sequence[str],
    catalog: Catalog,
    root: str,
    counterparts: Counterparts,
    dependencies: Dependencies = NO_DEPENDENCIES,
    documented: frozenset[str] = frozenset(),
    imported: frozenset[str] = frozenset(),
) -> list[Component]:
    """The components of a scan, most serious first; `documented` holds the root scripts the
    project's documents run, the core of a project with nothing to install; `imported` the root
    modules their runs import, which no document runs: named modules, not scripts."""
    kernels = kernel_folders(paths)
    members: dict[str, list[int]] = defaultdict(list)
    places: dict[str, Place] = {}
    modules = imported - documented
    for index, finding in enumerate(findings):
        place = _place(finding, kernels, root, imported=modules)
        places.setdefault(place.id, place)
        members[place.id].append(index)
    known = frozenset(paths)
    on_demand = _builds_on_demand(findings, root)
    core_scripts = frozenset() if installs_package(paths, root) else documented or None
    roles = {
        cid: _role(places[cid], [findings[i] for i in indexes], root, known, on_demand, core_scripts, kernels)
        for cid, indexes in members.items()
    }
    packages = [places[cid].anchor for cid, role in roles.items() if places[cid].kind == "python" and role is Role.CORE]
    components = []
    for component_id, indexes in members.items():
        place = places[component_id]
        own = [findings[i] for i in indexes]
        component_paths = tuple(sorted({f.path for f in own}))
        states = {}
        for target in targets:
            state = _target(place, own, indexes, target, catalog, dependencies)
            if place.kind == "kernels":
                state = _kernels_on(state, place, own, target, counterparts, packages, root)
            elif place.kind == "dependencies" and state.status is Readiness.BLOCKED:
                state = _dependencies_on(state, place, target, dependencies)
            elif place.kind in ("image", "dependencies", "deployment", "ci") and state.status is not Readiness.WORKS:
                state = _counterpart_on(state, place, target, counterparts, root)
            states[target] = state
        components.append(
            Component(component_id, place.kind, place.name, roles[component_id], component_paths, tuple(indexes), states)
        )
    return sorted(components, key=_seriousness)


def _counterpart_on(state: ComponentTarget, place: Place, target: str, counterparts: Counterparts, root: str) -> ComponentTarget:
    """A file with a sibling for the target (`Dockerfile_amd` beside `Dockerfile`) is not what that
    target runs; an image among others when the project has one for the target is an alternative."""
    other = counterparts.for_file(place.anchor, target)
    if other is not None:
        return replace(state, status=Readiness.WORKS, effort="none", note=f"{target} counterpart: {relative(other, root)}")
    folder = _counterpart_folder(place.anchor, target, counterparts)
    if folder is not None:  # `docker/docker-cuda/Dockerfile.base` beside `docker/docker-rocm/`
        return replace(state, status=Readiness.WORKS, effort="none", note=f"{target} counterpart: {relative(folder, root)}/")
    own = counterparts.named("dockerfile", target) if place.kind == "image" else []
    if own and state.status is Readiness.BLOCKED:
        return replace(state, status=Readiness.PARTIAL, note=f"the project's {target} image: {relative(own[0], root)}")
    return state


def _counterpart_folder(path: str, target: str, counterparts: Counterparts) -> str | None:
    """The folder the project keeps for `target` beside a folder named for CUDA that holds `path`."""
    folder = posixpath.dirname(path)
    while folder not in ("", "/"):  # an absolute path ends at the root, whose dirname is itself
        if "cuda" in named_for(folder):
            found = counterparts.for_folder(folder, target)
            if found is not None:
                return found
        folder = posixpath.dirname(folder)
    return None


def _dependencies_on(state: ComponentTarget, place: Place, target: str, dependencies: Dependencies) -> ComponentTarget:
    """A dependency set is blocked only by a required package that has no build for the target; one
    the resolver swaps, or that a person pins or picks by hand, leaves it partial."""
    verdicts = dependencies.verdicts.get(place.anchor, {}).get(target)
    if not verdicts:
        return state
    stuck = dependencies.stuck(place.anchor, target)
    if any(v["available"] == "no" for v in stuck):
        return state
    if stuck:
        return replace(state, status=Readiness.PARTIAL, note=f"pin or choose by hand: {', '.join(v['package'] for v in stuck[:3])}")
    return replace(state, status=Readiness.PARTIAL, effort="low", note=f"`cudaudit resolve --target {target}` writes a variant")


def _kernels_on(state: ComponentTarget, place: Place, own: list[Finding], target: str, counterparts: Counterparts,
                packages: list[str], root: str) -> ComponentTarget:
    """CUDA kernels never run where `torch.cuda` has no device: they need a CPU (XPU, MPS) path of
    their own, a folder the project keeps for it, or a Python path the project runs where the
    kernels are not built (every site works there: a JIT build the project goes on without,
    `goes_without.python_path_without`). On ROCm a HIP build the project keeps (`ggml-hip/`,
    `csrc/hip/`) carries them."""
    found = counterparts.for_kernels(place.anchor.rstrip("/"), target, packages)
    other = relative(found, root) if found is not None else None
    if target not in CUDA_API_TARGETS:
        if other is not None:
            return replace(state, status=Readiness.WORKS, effort="none", note=f"{target} path: {other}/")
        if all(target in f.targets and f.targets[target].status is Status.WORKS for f in own):
            return replace(state, status=Readiness.WORKS, effort="none", note="the Python path runs without them")
        return replace(state, status=Readiness.BLOCKED, effort="high", note=f"no {target} implementation beside the CUDA kernels")
    if other is not None and state.status is Readiness.BLOCKED:
        return replace(state, status=Readiness.PARTIAL, note=f"{target} build: {other}/")
    if other is not None:
        return replace(state, note=f"{target} build: {other}/")
    return state


def _place(finding: Finding, kernels: list[str], root: str, by_topic: bool = True,
           imported: frozenset[str] = frozenset()) -> Place:
    if finding.topic and by_topic:
        return Place(f"topic:{finding.topic}", finding.topic, TOPIC_NAMES.get(finding.topic, finding.topic), finding.path)
    path = finding.path
    kinds = set(kinds_of(path))
    shown = relative(path, root)
    if FileKind.CUDA in kinds or FileKind.CMAKE in kinds or (FileKind.SETUP in kinds and finding.rule.startswith(BUILD_RULES_PREFIXES)):
        folder = containing(path, kernels)
        if folder is not None:
            return Place(f"kernels:{folder}", "kernels", f"CUDA kernels in {_folder(folder, root)}", folder + "/")
        if FileKind.CUDA in kinds:
            folder = posixpath.dirname(path)
            return Place(f"sources:{folder}", "sources", f"C/C++ using CUDA in {_folder(folder, root)}", path)
    if finding.rule in TRITON_RULES:
        folder = posixpath.dirname(path)
        return Place(f"triton:{folder}", "triton", f"Triton kernels in {_folder(folder, root)}", path)
    if finding.rule in CUDA_STRING_RULES:
        return Place(f"kernels:{path}", "kernels", f"CUDA kernel strings in {shown}", path)
    if FileKind.DOCKERFILE in kinds:
        return Place(f"image:{path}", "image", f"image {shown}", path)
    if kinds & {FileKind.COMPOSE, FileKind.MANIFEST}:
        return Place(f"deployment:{path}", "deployment", f"deployment {shown}", path)
    if FileKind.WORKFLOW in kinds:
        return Place(f"ci:{path}", "ci", f"CI workflow {shown}", path)
    if kinds & DEPENDENCY_KINDS or (FileKind.SETUP in kinds and finding.rule.startswith("CDA6")):
        return Place(f"dependencies:{path}", "dependencies", f"dependencies {shown}", path)
    if FileKind.SETUP in kinds or FileKind.CMAKE in kinds:
        return Place(f"build:{path}", "build", f"CUDA build in {shown}", path)
    area, kind = python_area(path, root)
    if kind == "script":
        return Place(f"script:{area}", "script", f"{'module' if path in imported else 'script'} {shown}", area)
    return Place(f"python:{area}", "python", f"{_folder(area, root)} code", area + "/")


def _folder(folder: str, root: str) -> str:
    shown = relative(folder, root)
    return f"{shown}/" if shown and shown != root else "the project root"


def _role(place: Place, own: list[Finding], root: str, known: frozenset[str], on_demand: bool,
          core_scripts: frozenset[str] | None, kernels: list[str]) -> Role:
    """`core_scripts`: the root scripts that are the project, None for every one. Beside an installed
    package none is (a root script is a utility); in a repository of scripts, those its documents
    run; where they run none, every one."""
    if place.kind in TOPIC_NAMES:
        # As central as the most central place its sites are in: a serving engine that only an
        # image in a sub-folder builds is optional, as that image is.
        return min((_role(_place(f, kernels, root, by_topic=False), [f], root, known, on_demand, core_scripts, kernels)
                    for f in own), key=_role_rank)
    if place.kind == "ci":
        return Role.TOOLING
    if place.kind == "python":
        # As central as the most central file its sites are in: a folder whose sites are all in its
        # test modules (`ops/fused/unit_test.py`) or its examples tests or shows the code, whatever the
        # folder's own name says.
        return min((role_of(relative(f.path, root)) for f in own), key=_role_rank)
    role = role_of(relative(place.anchor, root))
    if role is not Role.CORE:
        return role
    if place.kind in ("image", "deployment") and "/" in relative(place.anchor, root):
        return Role.OPTIONAL  # an image in a folder builds, tests or demonstrates; a root one is how the project runs
    if place.kind == "script" and core_scripts is not None and place.anchor not in core_scripts:
        return Role.OPTIONAL
    if place.kind == "kernels" and (on_demand or _optional_kernels(place.anchor.rstrip("/"), root, known)):
        return Role.OPTIONAL
    return role


def installs_package(paths: Sequence[str], root: str) -> bool:
    """Whether the project is an installed Python package (an `__init__.py` in a core folder, and an
    install declaration at the root or in a folder that only holds the package, `python/setup.py`),
    not a set of scripts. Package folders beside scripts with nothing to install them (`models/`,
    `data/` next to `train.py`) are the scripts' modules: the scripts the documents run are the project."""
    return any(_declares_install(relative(p, root)) for p in paths) and any(
        p.endswith("/__init__.py") and role_of(relative(p, root)) is Role.CORE and python_area(p, root)[1] == "python"
        for p in paths
    )


def _declares_install(path: str) -> bool:
    folder, name = posixpath.split(path)
    return name in INSTALL_DECLARATIONS and (not folder or folder.lower() in CONTAINER_DIRS)


def _builds_on_demand(findings: Sequence[Finding], root: str) -> bool:
    """Whether the project compiles its CUDA only on demand: an extension build in a module
    (`torch.utils.cpp_extension.load()`, DeepSpeed's op builders) and none in its own build (a core
    `setup.py` or CMake file). Such kernels accelerate the features that load them; they are not
    the main use."""
    core = [f for f in findings if f.rule.startswith(BUILD_RULES_PREFIXES) and role_of(relative(f.path, root)) is Role.CORE]
    installed = any(set(kinds_of(f.path)) & {FileKind.SETUP, FileKind.CMAKE} for f in core)
    return not installed and any(f.rule == "CDA440" for f in core)


def _optional_kernels(folder: str, root: str, known: frozenset[str]) -> bool:
    """Kernels that are an add-on rather than the project's build: a package of their own (a
    `setup.py` or `pyproject.toml` between them and the project root, as `hopper/setup.py`), or a
    feature's accelerator three folders or more inside the Python package (`src/peft/tuners/boft/fbd/`)."""
    parts = relative(folder, root).split("/")
    for depth in range(1, len(parts) + 1):
        prefix = "/".join([root, *parts[:depth]] if root else parts[:depth])
        if prefix + "/setup.py" in known or prefix + "/pyproject.toml" in known:
            return True
    package, kind = python_area(folder + "/x.py", root)
    if kind != "python" or not folder.startswith(package + "/") or package + "/__init__.py" not in known:
        return False
    return relative(folder, package).count("/") >= 2


def _role_rank(role: Role) -> int:
    return (Role.CORE, Role.OPTIONAL, Role.TOOLING).index(role)


def _target(
    place: Place,
    own: list[Finding],
    indexes: list[int],
    target: str,
    catalog: Catalog,
    dependencies: Dependencies,
) -> ComponentTarget:
    sites = [(i, f) for i, f in zip(indexes, own) if breaks(f, target)]
    errors = [f for _, f in sites if f.targets[target].severity is Severity.ERROR]
    # a command-line option's default stops the default invocation; the option set, the component runs
    stopping = [f for f in errors if f.option is None]
    options = () if stopping else tuple(sorted({f.option for f in errors if f.option is not None}))
    status = Readiness.WORKS
    if sites:
        # a library path stops alone, unless it stops the import of its module (and so every importer)
        blocks = place.kind not in LIBRARY_KINDS or any(f.at_import or _stops_install(f) for f in stopping)
        status = Readiness.BLOCKED if stopping and blocks else Readiness.PARTIAL
    effort = max((_effort(f, target, catalog) for _, f in sites), key=EFFORT_ORDER.index, default="none")
    fixable = [f for _, f in sites if _fixable(f, target, catalog)]
    automatic = _automatic(place, sites, fixable, target, dependencies)
    return ComponentTarget(
        status, effort, len(sites), automatic, len(fixable), _blockers(sites, target, catalog), options=options,
        errors=len(errors),
    )


def _stops_install(finding: Finding) -> bool:
    """Whether an error stops an install: an extension build (CDA44x, CDA45x) in a `setup.py`, which
    `pip install` runs, fails there, so nothing the script builds is installed."""
    return finding.rule.startswith(BUILD_RULES_PREFIXES) and FileKind.SETUP in kinds_of(finding.path)


def breaks(finding: Finding, target: str) -> bool:
    """A site that breaks or degrades `target`: not `works`, and at least a warning there."""
    fact = finding.targets.get(target)
    return fact is not None and fact.status is not Status.WORKS and fact.severity is not Severity.NOTE


def _effort(finding: Finding, target: str, catalog: Catalog) -> str:
    if finding.fix is not None:
        return "low"
    rule = catalog.rules.get(finding.rule)
    if rule is None or rule.effort is None:
        return "medium"
    return rule.effort.level(finding.targets[target].status)


def _fixable(finding: Finding, target: str, catalog: Catalog) -> bool:
    """`cudaudit fix` rewrites it: now (a Python fix), or for one named target (dependency, image, CI rewrites)."""
    if finding.fix is not None:
        return True
    rule = catalog.rules.get(finding.rule)
    rewritten = any(kind in TARGET_FIXED_KINDS for kind in kinds_of(finding.path))
    return rule is not None and rule.fix is not None and rule.kind != "python" and rewritten and target in ("rocm", "cpu")


def _automatic(place: Place, sites: list, fixable: list[Finding], target: str, dependencies: Dependencies) -> str:
    if place.kind == "dependencies":
        phrase = dependencies.phrase(place.anchor, target)
        if phrase:
            return phrase
    if not fixable:
        return ""
    safe = sum(1 for f in fixable if f.fix is not None and f.fix.safety is Safety.SAFE)
    unsafe = sum(1 for f in fixable if f.fix is not None) - safe
    by_target = len(fixable) - safe - unsafe
    parts = []
    if safe or unsafe:
        parts.append(f"`fix`: {safe} of {len(sites)} site(s)" + (f" ({safe + unsafe} with `--unsafe-fixes`)" if unsafe else ""))
    if by_target:
        parts.append(f"`fix --target`: {by_target} of {len(sites)}")
    return "; ".join(parts)


def _blockers(sites: list[tuple[int, Finding]], target: str, catalog: Catalog) -> tuple[Blocker, ...]:
    by_rule: dict[str, list[tuple[int, Finding]]] = defaultdict(list)
    for index, finding in sites:
        by_rule[finding.rule].append((index, finding))

    def weight(rule_id: str) -> tuple:
        found = by_rule[rule_id]
        worst = max(f.targets[target].severity.rank for _, f in found)
        effort = max(EFFORT_ORDER.index(_effort(f, target, catalog)) for _, f in found)
        return (-worst, -effort, -len(found), rule_id)

    blockers = []
    for rule_id in sorted(by_rule, key=weight)[:MAX_BLOCKERS]:
        found = by_rule[rule_id]
        # the site a sentence names is one that decides it: the rule's first site of its worst severity
        # (`max` keeps the first of equals)
        index, first = max(found, key=lambda site: site[1].targets[target].severity.rank)
        rule = catalog.rules.get(rule_id)
        effort = max((_effort(f, target, catalog) for _, f in found), key=EFFORT_ORDER.index)
        evidence = Evidence(first.path, first.span.line, rule=rule_id, finding=index)
        blockers.append(Blocker(rule_id, rule.name if rule else rule_id, first.message, len(found), effort, evidence))
    return tuple(blockers)


def _seriousness(component: Component) -> tuple:
    worst = max((t.status.rank for t in component.targets.values()), default=0)
    sites = sum(t.sites for t in component.targets.values())
    return (_role_rank(component.role), -worst, -sites, component.id)
