"""Conda environment files (environment*.yml, conda*.yml): channels, conda specs and the `pip:` list.

A `pytorch` spec the `pytorch` channel serves (`pytorch::pytorch=1.11.0`, or `pytorch` where that
channel is the first listed) in an environment that selects no build otherwise (no CUDA package or
build string, no `cpuonly`) and that the README creates (`conda env create -f environment.yml`,
`FileFacts.created_environment`: what its users install) is that channel's PyTorch, which it publishes for CUDA and the CPU only:
ROCm builds are wheels (`PYTORCH_CHANNEL_KEY`).

The YAML is composed, never constructed (`yamldoc`): nodes with their line and column, tags
left inert. A conda spec is `[channel::]name[ version[ build]]` in its
`name=version=build`, `name version build` or `name[build=...]` spellings; its name, build
string and channel are looked up separately. The `pip:` sub-list is read like a requirements
file, through the shared requirement logic.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.model import Finding
from cudaudit.resolvers.requirements import (
    CONDA_BUILD,
    CONDA_CHANNEL,
    CONDA_PACKAGE,
    PackageHit,
    best_key,
    pinned_torch,
    requirement_hits,
    shift,
)
from cudaudit.rules.catalog import Catalog
from cudaudit.rules.dependencies.report import DependencyContext, Placed, findings, set_torch, unique
from cudaudit.rules.dependencies.rewrites import FixTarget
from cudaudit.rules.orchestration.yamldoc import LOADER, get, items
from cudaudit.settings import AnalysisSettings
from cudaudit.source import UnparsableError

PACKAGE, BUILD, CHANNEL = CONDA_PACKAGE, CONDA_BUILD, CONDA_CHANNEL
_STRING_TAG = "tag:yaml.org,2002:str"

_SPEC = re.compile(r"^\s*(?:(?P<channel>[^\s:=<>!\[]+)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)(?P<rest>.*)$")
_BRACKET_BUILD = re.compile(r"""\bbuild\s*=\s*["']?([^"',\]\s]+)""")
_CHANNEL_URL = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]+/")
PYTORCH_CHANNEL_KEY = "pytorch-channel"
"""The conda-package key of PyTorch from the `pytorch` channel, where nothing else in the environment
chooses its build."""
_PYTORCH = "pytorch"
_CPU_SELECTOR = "cpuonly"


def analyze_conda(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    """Findings in one conda environment file; malformed YAML raises `UnparsableError`."""
    channels, specs, pip = environment(text)
    conda_torch = [f"torch=={spec_version(s.text)}" for s in specs if spec_name(s.text) == "pytorch"]
    requirements = [p.text for p in pip]
    fix = FixTarget.of(settings, text, tuple(requirements))
    context = DependencyContext(
        torch=set_torch(pinned_torch(requirements + conda_torch), settings), fix=fix,
        switched_off=frozenset(facts.switched_off_packages),
    )
    found: list[Finding] = []
    for channel in channels:
        found.extend(findings(channel, channel_hits(channel.text, catalog), path, catalog, settings, context))
    hits = [spec_hits(spec.text, catalog) for spec in specs]
    chosen = any(hits) or any(spec_name(spec.text) == _CPU_SELECTOR for spec in specs)
    first = _channel_name(channels[0].text) if channels else None
    for spec, found_here in zip(specs, hits):
        if not chosen and facts.created_environment:
            found_here = found_here + _pytorch_channel_hits(spec.text, first)
        found.extend(findings(spec, found_here, path, catalog, settings, context))
    for requirement in pip:
        found.extend(findings(requirement, requirement_hits(requirement.text, catalog), path, catalog, settings, context))
    return unique(found)


def spec_hits(spec: str, catalog: Catalog) -> list[PackageHit]:
    """The CUDA package, CUDA build string and CUDA channel a conda spec names (offsets in `spec`)."""
    match = _SPEC.match(spec)
    if match is None:
        return []
    hits = []
    if match.group("channel"):
        hits.extend(shift(channel_hits(match.group("channel"), catalog), match.start("channel")))
    key = best_key(catalog, PACKAGE, match.group("name").lower())
    if key is not None:
        hits.append(PackageHit(PACKAGE, key, match.start("name"), match.end("name"), match.group("name")))
    build = _build(match.group("rest"))
    at = spec.find(build, match.end("name")) if build is not None else -1
    if build is not None and at >= 0:
        hits.extend(shift(build_hits(build, catalog), at))
    return hits


def _pytorch_channel_hits(spec: str, first_channel: str | None) -> list[PackageHit]:
    """`pytorch` (the package, not `pytorch-lightning`) from the `pytorch` channel: named by the spec
    (`pytorch::pytorch`), or, with no channel of its own, the environment's first channel."""
    match = _SPEC.match(spec)
    if match is None or match.group("name").lower() != _PYTORCH:
        return []
    channel = _channel_name(match.group("channel")) if match.group("channel") else first_channel
    if channel != _PYTORCH:
        return []
    return [PackageHit(PACKAGE, PYTORCH_CHANNEL_KEY, match.start("name"), match.end("name"), match.group("name"))]


def _channel_name(channel: str) -> str:
    """`pytorch` of `pytorch`, `https://conda.anaconda.org/pytorch/`."""
    return _CHANNEL_URL.sub("", channel.strip()).strip("/").lower()


def build_hits(build: str, catalog: Catalog) -> list[PackageHit]:
    """A CUDA build string (`py3.10_cuda11.8_0`, `*cuda*`) as a hit on the whole string."""
    key = best_key(catalog, BUILD, build)
    return [PackageHit(BUILD, key, 0, len(build), build)] if key is not None else []


def _build(rest: str) -> str | None:
    """The build string of a spec's version part: `=2.1.0=py3.10_cuda11.8_0`, ` 2.1.0 cuda*`, `[build=cuda*]`."""
    bracket = _BRACKET_BUILD.search(rest)
    if bracket:
        return bracket.group(1)
    rest = rest.split("[", 1)[0].strip()
    if not rest or rest.startswith(("==", "<", ">", "!", "~")):
        return None
    parts = [p for p in re.split(r"=|\s+", rest.lstrip("=").strip()) if p]
    return parts[1] if len(parts) >= 2 else None


def channel_hits(channel: str, catalog: Catalog) -> list[PackageHit]:
    """`nvidia`, `nvidia/label/cuda-12.1.0` or `https://conda.anaconda.org/nvidia` as a channel key."""
    stripped = channel.strip()
    key = best_key(catalog, CHANNEL, _channel_name(channel))
    if key is None:
        return []
    start = channel.index(stripped)
    return [PackageHit(CHANNEL, key, start, start + len(stripped), stripped)]


def spec_name(spec: str) -> str | None:
    """The package a conda spec names, lower case (`pytorch` in `pytorch::pytorch=2.1.0=*cuda*`)."""
    match = _SPEC.match(spec)
    return match.group("name").lower() if match else None


def spec_version(spec: str) -> str:
    """The version a conda spec pins (`2.1.0` in `pytorch=2.1.0=py3.10_cuda11.8_0`), or ""."""
    match = _SPEC.match(spec)
    rest = match.group("rest").strip().lstrip("=") if match else ""
    return re.split(r"[=\s\[]", rest, maxsplit=1)[0] if rest else ""


def environment(text: str) -> tuple[list[Placed], list[Placed], list[Placed]]:
    """The channels, conda specs and `pip:` requirements of an environment file, each placed where it is
    written; malformed YAML raises `UnparsableError`."""
    root = load_environment(text)
    if not isinstance(root, MappingNode):
        return [], [], []
    dependencies = get(root, "dependencies")
    pip = [item for spec in items(dependencies) for item in _items(get(spec, "pip"))]
    return list(_items(get(root, "channels"))), list(_items(dependencies)), pip


def _items(sequence: Node | None) -> Iterator[Placed]:
    """The string items of a YAML sequence, each placed where its text starts (inside its quotes)."""
    for item in items(sequence):
        if isinstance(item, ScalarNode) and item.tag == _STRING_TAG:
            mark = item.start_mark
            quoted = item.style in ("'", '"')
            yield Placed.at(item.value, mark.line + 1, mark.column + 1 + quoted)


def load_environment(text: str) -> Node | None:
    """The YAML of an environment file, composed; malformed YAML raises `UnparsableError` with its line."""
    try:
        return yaml.compose(text, Loader=LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        raise UnparsableError(f"invalid YAML: {problem}; fix the syntax", mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise UnparsableError(f"invalid YAML: {exc}; fix the syntax") from exc
