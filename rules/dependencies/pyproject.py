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

from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.model import Finding
from cudaudit.resolvers.requirements import (
    index_hits,
    name_hits,
    pinned_torch,
    requirement_hits,
    version_constraint,
    version_hits,
)
from cudaudit.rules.catalog import Catalog
from cudaudit.rules.dependencies.report import (
    DependencyContext,
    Placed,
    findings,
    one_per_variant_extra,
    optional_group,
    pins_cuda_build,
    set_torch,
    unique,
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

    def report(placed: Placed, hits, group: str | None = None, unbound: str | None = None, bound: bool = False) -> None:
        """`unbound`: the URL of an explicit uv index no source names (`index_urls`), whose findings
        are notes that say why in place of what the index would install. `bound`: an index that only
        the opt-in `group` takes packages from, another path on every target (`index_urls`)."""
        quiet = optional_group(group, facts, group in cuda_builds) if group else frozenset()
        if unbound is not None:
            quiet = frozenset(settings.targets)
        context = DependencyContext(torch, quiet, fix, frozenset(facts.unimported_bindings))
        reported = findings(placed, hits, path, catalog, settings, context)
        if unbound is not None:
            message = f"`{unbound}` is an explicit uv index that no `[tool.uv.sources]` entry names: no install of the project takes packages from it"
            reported = [replace(f, message=message) for f in reported]
        if bound:
            reported = [another_path(f) for f in reported]
        found.extend((group, f) for f in reported)

    for item in lists:
        anchor = _anchor(doc, item.table, item.key)
        for requirement in item.requirements:
            literal = doc.string(requirement, anchor)
            if literal is not None:
                report(doc.placed(literal), requirement_hits(requirement, catalog), item.group)
    for table, url, group, unbound in index_urls(data):
        literal = doc.string(url, doc.section_start(table))
        if literal is not None:
            report(doc.placed(literal), index_hits(url, catalog), group, url if unbound else None, group is not None)
    for table, url in source_urls(data):
        literal = doc.string(url, doc.section_start(table))
        if literal is not None:
            report(doc.placed(literal), requirement_hits(url, catalog))
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


def index_urls(data: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], str, str | None, bool]]:
    """(table, URL, opt-in extra or group, unbound) of every package index or find-links location.

    A uv index that `[tool.uv.sources]` only selects for extras, or groups `uv sync` does not install
    by default, named for CUDA (`{ index = "pytorch-cu121", extra = "gpu" }`) is as opt-in as those
    extras, and serves only the installs that ask for them
    (https://docs.astral.sh/uv/guides/integration/pytorch/, "Configuring accelerators with optional
    dependencies"): its findings are another path on every target, as the lock file's entries
    from it are (`lockfiles.normal_indexes`); a ROCm host that picks the extra gets a CUDA torch
    that runs on the CPU, a silent loss. One marked
    `explicit = true` serves only the packages a source pins to it
    (https://docs.astral.sh/uv/concepts/indexes/#pinning-a-package-to-an-index): where no source
    names it, it is unbound, and no install of the project takes a package from it.
    """
    for table, key in _INDEX_KEYS:
        for url in _strings(_nested(data, table).get(key)):
            yield table, url, None, False
    for table in _INDEX_TABLES:
        entries = _nested(data, table[:-1]).get(table[-1])
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and isinstance(entry.get("url"), str):
                uv = table == _UV_INDEX
                unbound = uv and entry.get("explicit") is True and not _users(data, entry.get("name"))
                yield table, entry["url"], _opt_in(data, entry.get("name")) if uv else None, unbound


def source_urls(data: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], str]]:
    """(table, URL) of `[tool.uv.sources]` entries that install a package from a URL."""
    for entry in _uv_sources(data):
        if isinstance(entry.get("url"), str):
            yield _UV_SOURCES, entry["url"]


def _uv_sources(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for source in _nested(data, _UV_SOURCES).values():
        yield from (entry for entry in (source if isinstance(source, list) else [source]) if isinstance(entry, dict))


def _users(data: dict[str, Any], index: Any) -> list[dict[str, Any]]:
    """The `[tool.uv.sources]` entries that pin a package to the uv index named `index`."""
    return [entry for entry in _uv_sources(data) if entry.get("index") == index]


def _opt_in(data: dict[str, Any], index: Any) -> str | None:
    """The CUDA-named extra or group that every source using `index` is limited to, if there is one.
    A group `uv sync` installs by default (`[tool.uv] default-groups`, `["dev"]` unless set:
    https://docs.astral.sh/uv/concepts/projects/dependencies/#default-groups, and the release that
    brought groups: https://github.com/astral-sh/uv/releases/tag/0.4.27) is no opt-in."""
    users = _users(data, index)
    defaults = _nested(data, ("tool", "uv")).get("default-groups", ["dev"])
    installed = defaults == "all" or any(entry.get("group") in _strings(defaults) for entry in users)
    groups = [entry.get("extra") or (None if installed else entry.get("group")) for entry in users]
    if users and all(isinstance(g, str) and optional_group(g) for g in groups):
        return groups[0]
    return None


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
