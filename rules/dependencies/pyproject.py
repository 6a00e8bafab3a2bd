"""pyproject.toml: PEP 621 dependencies and extras, PEP 735 dependency groups, build requirements,
uv / Poetry / PDM indexes and sources, and Poetry's dependency tables.

`tomllib` reads the data; `toml_text` finds where each requirement string, index URL or Poetry
package key is written, so a finding points at the offending item's line. An extra or group
named for CUDA (`[project.optional-dependencies] cuda = [...]`, `[dependency-groups] gpu`) is
opt-in: its findings are notes on the targets that would never install it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name

from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.model import Finding
from cudaudit.resolvers.requirements import (
    index_hits,
    name_hits,
    parse_requirement,
    pinned_torch,
    requirement_hits,
    version_constraint,
    version_hits,
)
from cudaudit.rules.catalog import Catalog
from cudaudit.rules.dependencies.platform_markers import absent_targets
from cudaudit.rules.dependencies.report import (
    DependencyContext,
    Placed,
    findings,
    one_per_variant_extra,
    optional_group,
    pins_cuda_build,
    set_torch,
    unique,
    unrequested_extra,
)
from cudaudit.rules.dependencies.rewrites import FixTarget
from cudaudit.rules.dependencies.toml_text import TomlText, load_toml
from cudaudit.settings import AnalysisSettings
from cudaudit.verdicts import another_path

_REQUIREMENT_KEYS = (
    (("tool", "uv"), "dev-dependencies"),
    (("tool", "uv"), "constraint-dependencies"),
    (("tool", "uv"), "override-dependencies"),
    (("build-system",), "requires"),
)
_INDEX_KEYS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("tool", "uv"), "index-url"),
    (("tool", "uv"), "extra-index-url"),
    (("tool", "uv"), "find-links"),
)
_UV_INDEX: tuple[str, ...] = ("tool", "uv", "index")
_UV_SOURCES = ("tool", "uv", "sources")
_INDEX_TABLES: tuple[tuple[str, ...], ...] = (_UV_INDEX, ("tool", "poetry", "source"), ("tool", "pdm", "source"))


_EXTRAS = ("project", "optional-dependencies")


@dataclass(frozen=True)
class RequirementList:
    """Requirement strings written under `key` of `table`; `group` names an extra or group."""

    table: tuple[str, ...]
    key: str
    requirements: list[str]
    group: str | None = None


@dataclass(frozen=True)
class PoetryDependency:
    table: tuple[str, ...]
    name: str
    version: str
    extras: tuple[str, ...]
    url: str | None
    group: str | None


def parse_pyproject(text: str) -> dict[str, Any]:
    """The data of a pyproject.toml; malformed TOML raises `UnparsableError` with its line."""
    return load_toml(text, "pyproject.toml")


def analyze_pyproject(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    """Findings in one pyproject.toml; malformed TOML raises `UnparsableError`."""
    data = parse_pyproject(text)
    doc = TomlText(text)
    lists = list(requirement_lists(data))
    poetry = list(poetry_dependencies(data))
    requirements = [r for item in lists for r in item.requirements]
    poetry_pins = [f"{dep.name}=={dep.version.lstrip('=')}" for dep in poetry if dep.version[:1].isdigit() or dep.version.startswith("==")]
    torch = set_torch(pinned_torch(requirements + poetry_pins), settings)
    found: list[tuple[str | None, Finding]] = []
    fix = FixTarget.of(settings, text, tuple(requirements))

    cuda_builds = frozenset(
        item.group for item in lists if item.group is not None and any(pins_cuda_build(r, catalog) for r in item.requirements)
    )

    def report(
        placed: Placed, hits, group: str | None = None, unbound: str | None = None, bound: bool = False, prebuilt: bool = False,
        extra: str | None = None,
    ) -> None:
        """`unbound`: the URL of an explicit uv index no source names (`index_urls`), whose findings
        are notes that say why in place of what the index would install. `bound`: what only an
        opt-in group installs (an index only its sources use, its requirements, a source limited to
        it), another path on every target. `prebuilt`: a package a source installs from a wheel
        (`prebuilt_wheels`), at most a warning. `extra`: the `[project.optional-dependencies]` extra
        the requirement belongs to, another path unless the README installs it (`unrequested_extra`)."""
        quiet = optional_group(group, facts, group in cuda_builds) if group else frozenset()
        if unbound is not None:
            quiet = frozenset(settings.targets)
        context = DependencyContext(torch, quiet, fix, frozenset(facts.unimported_bindings), frozenset(facts.switched_off_packages))
        reported = findings(placed, hits, path, catalog, settings, context)
        if unbound is not None:
            message = f"`{unbound}` is an explicit uv index that no `[tool.uv.sources]` entry names: no install of the project takes packages from it"
            reported = [replace(f, message=message) for f in reported]
        if bound:
            reported = [another_path(f) for f in reported]
        if prebuilt:
            reported = [another_path(replace(f, message=f"{f.message}{_PREBUILT}")) for f in reported]
        if extra is not None:
            reported = unrequested_extra(reported, extra, facts)
        found.extend((group, f) for f in reported)

    wheels = prebuilt_wheels(data, catalog)
    for item in lists:
        anchor = _anchor(doc, item.table, item.key)
        opt_in = item.table == ("dependency-groups",) and not installed_group(data, item.group)
        for requirement in item.requirements:
            literal = doc.string(requirement, anchor)
            if literal is not None:
                prebuilt = _named(requirement) in wheels
                extra = item.group if item.table == _EXTRAS else None
                report(doc.placed(literal), requirement_hits(requirement, catalog), item.group, bound=opt_in, prebuilt=prebuilt, extra=extra)
    for table, url, group, unbound, bound in index_urls(data, catalog):
        literal = doc.string(url, doc.section_start(table))
        if literal is not None:
            report(doc.placed(literal), index_hits(url, catalog), group, url if unbound else None, bound)
    for table, url, package, group in source_urls(data):
        literal = doc.string(url, doc.section_start(table))
        if literal is not None:
            report(doc.placed(literal), requirement_hits(url, catalog), bound=not installed_group(data, group), prebuilt=package in wheels)
    for dep in poetry:
        anchor = _anchor(doc, dep.table, dep.name)
        name = doc.key_placed(dep.table, dep.name)
        if name is not None:
            report(name, name_hits(dep.name, dep.extras, version_constraint(dep.version), catalog), dep.group)
        version_literal = doc.string(dep.version, anchor) if dep.version else None
        if version_literal is not None:
            report(doc.placed(version_literal), version_hits(dep.version, catalog, dep.name), dep.group)
        url_literal = doc.string(dep.url, anchor) if dep.url else None
        if url_literal is not None and dep.url is not None:
            report(doc.placed(url_literal), requirement_hits(dep.url, catalog), dep.group)
    return unique(one_per_variant_extra(found, facts, cuda_builds))


def requirement_lists(data: dict[str, Any]) -> Iterator[RequirementList]:
    """Every list of PEP 508 requirement strings the file declares."""
    project = _table(data, "project")
    yield RequirementList(("project",), "dependencies", _strings(project.get("dependencies")))
    for name, items in _table(project, "optional-dependencies").items():
        yield RequirementList(("project", "optional-dependencies"), name, _strings(items), name)
    for name, items in _table(data, "dependency-groups").items():
        yield RequirementList(("dependency-groups",), name, _strings(items), name)
    for table, key in _REQUIREMENT_KEYS:
        yield RequirementList(table, key, _strings(_nested(data, table).get(key)))
    for name, items in _table(_nested(data, ("tool", "pdm")), "dev-dependencies").items():
        yield RequirementList(("tool", "pdm", "dev-dependencies"), name, _strings(items), name)


def index_urls(data: dict[str, Any], catalog: Catalog) -> Iterator[tuple[tuple[str, ...], str, str | None, bool, bool]]:
    """(table, URL, opt-in extra or group, unbound, bound) of every package index or find-links location.

    A uv index that `[tool.uv.sources]` only selects for extras, or groups `uv sync` does not install
    by default, named for CUDA (`{ index = "pytorch-cu121", extra = "gpu" }`) is as opt-in as those
    extras, and serves only the installs that ask for them
    (https://docs.astral.sh/uv/guides/integration/pytorch/, "Configuring accelerators with optional
    dependencies"): its findings are another path on every target, as the lock file's entries
    from it are (`lockfiles.normal_indexes`); a ROCm host that picks the extra gets a CUDA torch
    that runs on the CPU, a silent loss. One marked
    `explicit = true` serves only the packages a source pins to it
    (https://docs.astral.sh/uv/concepts/indexes/#pinning-a-package-to-an-index): where no source
    names it, it is unbound, and no install of the project takes a package from it. `bound`: the
    index serves only opt-in installs where a target runs, another path on every target; its
    `group` is None where a source for another platform's hosts (`platform_machine == 'aarch64'`)
    also takes from it, whose installs the group's name does not warn off.
    """
    for table, key in _INDEX_KEYS:
        for url in _strings(_nested(data, table).get(key)):
            yield table, url, None, False, False
    for table in _INDEX_TABLES:
        entries = _nested(data, table[:-1]).get(table[-1])
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and isinstance(entry.get("url"), str):
                uv = table == _UV_INDEX
                users = _users(data, entry.get("name"))
                unbound = uv and entry.get("explicit") is True and not users
                group = _opt_in(data, entry.get("name"), catalog) if uv else None
                elsewhere = any(_absent_somewhere(user, catalog) for user in users)
                yield table, entry["url"], None if elsewhere else group, unbound, group is not None


def source_urls(data: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], str, str, str | None]]:
    """(table, URL, package, group) of `[tool.uv.sources]` entries that install a package from a URL."""
    for package, entry in _named_sources(data):
        if isinstance(entry.get("url"), str):
            group = entry.get("group")
            yield _UV_SOURCES, entry["url"], package, group if isinstance(group, str) else None


def installed_group(data: dict[str, Any], group: str | None) -> bool:
    """Whether `uv sync` installs the dependency group `group` (None: no group) without being asked:
    those of `[tool.uv] default-groups` (`["dev"]` unless set, `"all"` for every group;
    https://docs.astral.sh/uv/concepts/projects/dependencies/#default-groups). Any other group is
    installed only by `uv sync --group NAME`: another path."""
    if group is None:
        return True
    defaults = _nested(data, ("tool", "uv")).get("default-groups", ["dev"])
    return defaults == "all" or group in _strings(defaults)


_PREBUILT = "; `[tool.uv.sources]` installs it from a prebuilt wheel, so nothing is built: the wheel installs anywhere and runs only where its CUDA build does"


def prebuilt_wheels(data: dict[str, Any], catalog: Catalog) -> frozenset[str]:
    """The packages (normalised names) built from source where no wheel serves a target (a catalog
    build `available = "from-source"`: FlashAttention) that every `[tool.uv.sources]` entry of theirs
    installs from a wheel URL (`flash_attn-2.8.3+cu128torch2.10-...-linux_x86_64.whl`;
    https://docs.astral.sh/uv/concepts/projects/dependencies/#url). No build runs, so the fact that
    the package does not build without CUDA does not apply: the install succeeds and leaves a wheel
    that runs only with CUDA, at most a warning (the code that imports it is reported where it does)."""
    by_package: dict[str, list[dict[str, Any]]] = {}
    for package, entry in _named_sources(data):
        by_package.setdefault(canonicalize_name(package), []).append(entry)
    wheels = set()
    for package, entries in by_package.items():
        if not all(isinstance(e.get("url"), str) and urlsplit(e["url"]).path.endswith(".whl") for e in entries):
            continue
        hits = name_hits(package, catalog=catalog)
        known = catalog.lookup(hits[0].detector, hits[0].key) if hits else None
        if known is not None and any(b.available == "from-source" for builds in known.builds.values() for b in builds):
            wheels.add(package)
    return frozenset(wheels)


def _named(requirement: str) -> str | None:
    """The normalised name of a requirement string; None where it is none pip reads."""
    parsed = parse_requirement(requirement)
    return canonicalize_name(parsed.name) if parsed is not None else None


def _named_sources(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(package, entry) of every `[tool.uv.sources]` entry."""
    for package, source in _nested(data, _UV_SOURCES).items():
        for entry in source if isinstance(source, list) else [source]:
            if isinstance(entry, dict):
                yield package, entry


def _uv_sources(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return (entry for _, entry in _named_sources(data))


def _users(data: dict[str, Any], index: Any) -> list[dict[str, Any]]:
    """The `[tool.uv.sources]` entries that pin a package to the uv index named `index`."""
    return [entry for entry in _uv_sources(data) if entry.get("index") == index]


def _opt_in(data: dict[str, Any], index: Any, catalog: Catalog) -> str | None:
    """The CUDA-named extra or group that every source using `index` is limited to, if there is one.
    A group `uv sync` installs by default (`[tool.uv] default-groups`, `["dev"]` unless set:
    https://docs.astral.sh/uv/concepts/projects/dependencies/#default-groups, and the release that
    brought groups: https://github.com/astral-sh/uv/releases/tag/0.4.27) is no opt-in."""
    users = [entry for entry in _users(data, index) if not _absent_somewhere(entry, catalog)]
    installed = any(installed_group(data, entry.get("group")) for entry in users if entry.get("group"))
    groups = [entry.get("extra") or (None if installed else entry.get("group")) for entry in users]
    if users and all(isinstance(g, str) and optional_group(g) for g in groups):
        return groups[0]
    return None


def _absent_somewhere(source: dict[str, Any], catalog: Catalog) -> bool:
    """Whether a source's `marker` leaves out some target's every host (`platform_machine == 'aarch64'`,
    where PyTorch's ROCm wheels do not exist: `platform_markers`): no install of that target takes it,
    so it does not make the index part of the normal install there."""
    marker = source.get("marker")
    return isinstance(marker, str) and bool(absent_targets(f"x ; {marker}", catalog))


def poetry_dependencies(data: dict[str, Any]) -> Iterator[PoetryDependency]:
    """Poetry's `name = "^1.2"` / `name = { version, extras, url }` dependencies, per table."""
    poetry = _nested(data, ("tool", "poetry"))
    tables: list[tuple[tuple[str, ...], dict[str, Any], str | None]] = [
        (("tool", "poetry", "dependencies"), _table(poetry, "dependencies"), None),
        (("tool", "poetry", "dev-dependencies"), _table(poetry, "dev-dependencies"), "dev"),
    ]
    for group_name, body in _table(poetry, "group").items():
        if isinstance(body, dict):
            tables.append((("tool", "poetry", "group", group_name, "dependencies"), _table(body, "dependencies"), group_name))
    for table, dependencies, group in tables:
        for name, spec in dependencies.items():
            if name == "python":
                continue
            for entry in spec if isinstance(spec, list) else [spec]:
                dependency = _poetry_dependency(table, name, entry, group)
                if dependency is not None:
                    yield dependency


def _poetry_dependency(table: tuple[str, ...], name: str, spec: Any, group: str | None) -> PoetryDependency | None:
    if isinstance(spec, str):
        return PoetryDependency(table, name, spec, (), None, group)
    if not isinstance(spec, dict):
        return None
    version, url = spec.get("version"), spec.get("url")
    return PoetryDependency(
        table,
        name,
        version if isinstance(version, str) else "",
        tuple(_strings(spec.get("extras"))),
        url if isinstance(url, str) else None,
        group,
    )


def _anchor(doc: TomlText, table: tuple[str, ...], key: str) -> int:
    found = doc.key(table, key)
    return found[0] if found else doc.section_start(table)


def _table(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _nested(data: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for key in path:
        data = _table(data, key)
    return data


def _strings(value: Any) -> list[str]:
    """The strings of a list (or a lone string); anything else is not for this analysis."""
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
