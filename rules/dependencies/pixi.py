"""pixi manifests (`pixi.toml`): conda channels, conda and PyPI dependencies and CUDA system
requirements, per feature.

A pixi workspace installs environments, each a set of features
(https://pixi.prefix.dev/latest/reference/pixi_manifest/). The top-level tables (`[dependencies]`,
`[pypi-dependencies]`, `[system-requirements]`, `[pypi-options]`) are the default feature, which
every environment includes; `[feature.NAME.*]` tables are features that `[environments]` combines;
`[target.PLATFORM.*]` tables refine either for one platform. The default feature and the features
of the `default` environment are what a plain `pixi install` or `pixi run` installs: the normal
path. Any other feature is opt-in, read like an extra (`report.optional_group`): a `cuda` feature
beside `rocm` or `cpu` environments is the NVIDIA variant.

Conda dependencies are conda specs written apart (`pytorch-cuda = "12.1.*"`, `pytorch = { version =
"2.4", build = "*cuda*", channel = "pytorch" }`): their name, build string and channel are looked up
as in an environment file. PyPI dependencies are requirements written apart, as Poetry's are.
`[system-requirements] cuda = "12"` sets the `__cuda` virtual package: pixi refuses to run such an
environment on a machine whose NVIDIA driver does not provide it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.model import Finding
from cudaudit.resolvers.requirements import (
    CONDA_PACKAGE,
    PackageHit,
    best_key,
    index_hits,
    name_hits,
    pinned_torch,
    requirement_hits,
    shift,
    version_constraint,
    version_hits,
)
from cudaudit.rules.catalog import Catalog
from cudaudit.rules.dependencies.conda import build_hits, channel_hits, spec_hits
from cudaudit.rules.dependencies.report import (
    DependencyContext,
    Placed,
    findings,
    one_per_variant_extra,
    optional_group,
    set_torch,
    unique,
)
from cudaudit.rules.dependencies.toml_text import TomlText, load_toml
from cudaudit.settings import AnalysisSettings

CUDA_DRIVER = "__cuda"
"""The conda virtual package that `[system-requirements] cuda` sets."""


@dataclass(frozen=True)
class Feature:
    """The tables of one feature (or of one platform of it) and the opt-in name it goes by.

    `table` is where its tables sit (`()` for the default feature, `("feature", "gpu")`, either
    followed by `("target", "linux-64")`); `group` is None on the normal path."""

    table: tuple[str, ...]
    body: dict[str, Any]
    group: str | None


def parse_pixi(text: str) -> dict[str, Any]:
    """The data of a pixi manifest; malformed TOML raises `UnparsableError` with its line."""
    return load_toml(text, "pixi.toml")


def analyze_pixi(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    """Findings in one pixi manifest; malformed TOML raises `UnparsableError`."""
    data = parse_pixi(text)
    doc = TomlText(text)
    features = list(pixi_features(data))
    torch = set_torch(pinned_torch(_torch_pins(features)), settings)
    found: list[tuple[str | None, Finding]] = []

    def report(placed: Placed | None, hits: list[PackageHit], group: str | None) -> None:
        if placed is None:
            return
        quiet = optional_group(group, facts) if group else frozenset()
        context = DependencyContext(torch, quiet)
        found.extend((group, f) for f in findings(placed, hits, path, catalog, settings, context))

    workspace = _table(data, "workspace") or _table(data, "project")
    channels_table = ("workspace",) if "workspace" in data else ("project",)
    for channel in _channel_names(workspace.get("channels")):
        report(_literal(doc, channel, channels_table), channel_hits(channel, catalog), None)
    for feature in features:
        for kind, read in _READERS.items():
            for name, spec in _table(feature.body, kind).items():
                # One site per dependency: its name where that says CUDA, else its build, channel, version or URL.
                placed, hits = next(((p, h) for p, h in read(doc, (*feature.table, kind), name, spec, catalog) if h), (None, []))
                report(placed, hits, feature.group)
        for channel in _channel_names(feature.body.get("channels")):
            report(_literal(doc, channel, feature.table), channel_hits(channel, catalog), feature.group)
        for url in _index_urls(_table(feature.body, "pypi-options")):
            report(_literal(doc, url, (*feature.table, "pypi-options")), index_hits(url, catalog), feature.group)
    return unique(one_per_variant_extra(found, facts))


def pixi_features(data: dict[str, Any]) -> Iterator[Feature]:
    """The default feature and each named one, with their platform refinements, each with the opt-in
    name it goes by (None for the default feature and the features of the `default` environment)."""
    environments = _environments(data)
    normal = set(environments.get("default", ()))
    yield from _with_targets((), data, None)
    for name, body in _table(data, "feature").items():
        if isinstance(body, dict):
            yield from _with_targets(("feature", name), body, None if name in normal else _opt_in_name(name, environments))


def feature_names(data: dict[str, Any]) -> Iterator[str]:
    """The names of a manifest's features and environments: what its variants are called."""
    yield from _table(data, "feature")
    yield from _environments(data)


def _with_targets(table: tuple[str, ...], body: dict[str, Any], group: str | None) -> Iterator[Feature]:
    yield Feature(table, body, group)
    for platform, refined in _table(body, "target").items():
        if isinstance(refined, dict):
            yield Feature((*table, "target", platform), refined, group)


def _environments(data: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Environment -> its features (`gpu = ["cuda"]` or `gpu = { features = ["cuda"] }`)."""
    found: dict[str, tuple[str, ...]] = {}
    for name, value in _table(data, "environments").items():
        listed = value.get("features") if isinstance(value, dict) else value
        found[name] = tuple(item for item in listed if isinstance(item, str)) if isinstance(listed, list) else ()
    return found


def _opt_in_name(feature: str, environments: dict[str, tuple[str, ...]]) -> str:
    """The name a feature off the default environment goes by: its own, unless that says nothing about
    a target and an environment that includes it is named for CUDA (`gpu = ["train"]`)."""
    if optional_group(feature):
        return feature
    return next((env for env, members in environments.items() if feature in members and optional_group(env)), feature)


def _conda(doc: TomlText, table: tuple[str, ...], name: str, spec: Any, catalog: Catalog) -> Iterator[tuple[Placed | None, list[PackageHit]]]:
    """A conda dependency: its name at its key, then a build string and channel where they are written
    (read lazily: the first that says CUDA is the site)."""
    yield doc.key_placed(table, name), spec_hits(name, catalog)
    if isinstance(spec, str):
        literal = _literal(doc, spec, table)
        offset = len(name) + 1
        yield literal, shift([hit for hit in spec_hits(f"{name} {spec}", catalog) if hit.start >= offset], -offset)
    elif isinstance(spec, dict):
        build, channel = spec.get("build"), spec.get("channel")
        if isinstance(build, str):
            yield _literal(doc, build, table), build_hits(build, catalog)
        if isinstance(channel, str):
            yield _literal(doc, channel, table), channel_hits(channel, catalog)


def _pypi(doc: TomlText, table: tuple[str, ...], name: str, spec: Any, catalog: Catalog) -> Iterator[tuple[Placed | None, list[PackageHit]]]:
    """A PyPI dependency: its name (with extras and version) at its key, a local version, URL or index
    where they are written."""
    body = spec if isinstance(spec, dict) else {"version": spec}
    version = body["version"] if isinstance(body.get("version"), str) else ""
    extras = [extra for extra in body.get("extras", ()) if isinstance(extra, str)] if isinstance(body.get("extras"), list) else []
    yield doc.key_placed(table, name), name_hits(name, extras, version_constraint(version), catalog)
    if version:
        yield _literal(doc, version, table), version_hits(version, catalog, name)
    for key, hits in (("url", requirement_hits), ("index", index_hits)):
        value = body.get(key)
        if isinstance(value, str):
            yield _literal(doc, value, table), hits(value, catalog)


def _system(doc: TomlText, table: tuple[str, ...], name: str, spec: Any, catalog: Catalog) -> Iterator[tuple[Placed | None, list[PackageHit]]]:
    """`cuda = "12"`: the `__cuda` virtual package, at its key."""
    key = best_key(catalog, CONDA_PACKAGE, CUDA_DRIVER) if name == "cuda" else None
    if key is not None:
        yield doc.key_placed(table, name), [PackageHit(CONDA_PACKAGE, key, 0, len(name), name)]


_Reader = Callable[[TomlText, tuple[str, ...], str, Any, Catalog], Iterator[tuple[Placed | None, list[PackageHit]]]]
_READERS: dict[str, _Reader] = {"dependencies": _conda, "pypi-dependencies": _pypi, "system-requirements": _system}
"""Each dependency table of a feature and how its entries are read."""


def _torch_pins(features: list[Feature]) -> list[str]:
    """`torch==X` for the torch release each feature pins, through conda's `pytorch` or PyPI's `torch`."""
    pins = []
    for feature in features:
        for kind, name in (("dependencies", "pytorch"), ("pypi-dependencies", "torch")):
            spec = _table(feature.body, kind).get(name)
            version = spec.get("version") if isinstance(spec, dict) else spec
            if isinstance(version, str) and version[:1].isdigit():
                pins.append(f"torch=={version}")
            elif isinstance(version, str) and version.startswith("=="):
                pins.append(f"torch{version}")
    return pins


def _channel_names(value: Any) -> Iterator[str]:
    """The channels of a `channels` list: names, URLs, or `{ channel = ..., priority = ... }` tables."""
    for item in value if isinstance(value, list) else ():
        channel = item.get("channel") if isinstance(item, dict) else item
        if isinstance(channel, str):
            yield channel


def _index_urls(options: dict[str, Any]) -> Iterator[str]:
    """The index and find-links URLs of a `[pypi-options]` table."""
    if isinstance(options.get("index-url"), str):
        yield options["index-url"]
    extra = options.get("extra-index-urls")
    yield from (url for url in extra if isinstance(url, str)) if isinstance(extra, list) else ()
    links = options.get("find-links")
    for link in links if isinstance(links, list) else ():
        if isinstance(link, dict) and isinstance(link.get("url"), str):
            yield link["url"]


def _literal(doc: TomlText, value: str, table: tuple[str, ...]) -> Placed | None:
    literal = doc.string(value, doc.section_start(table))
    return doc.placed(literal) if literal is not None else None


def _table(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}
