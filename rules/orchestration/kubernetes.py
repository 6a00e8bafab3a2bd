"""Kubernetes manifests and Helm values: what schedules a workload onto NVIDIA GPUs.

Any YAML that is not compose, a workflow or a conda environment lands here. Manifests
(`apiVersion` + `kind`, many documents to a file) and Helm values share the shapes that
matter, so both are read by shape rather than by schema: a key under a `limits:` or
`requests:` mapping is a resource name, a key under `nodeSelector:` or a `matchExpressions`
item's `key:` is a node label, a `tolerations` item's `key:` a taint, `runtimeClassName:`
a runtime class, an `image:` (or Helm's `image: {repository: ...}`) an image, `env:` a
container's variables. An image that is no part of a GPU stack is looked up in the catalog's
image tables, as a Dockerfile's `FROM` is (a serving engine's CUDA image). YAML that has none of
these shapes is left alone, and so is a helm-unittest suite (`suite:` and `tests:`), whose
`set:` values test a chart without deploying it. One shape is no deployment's: a key named for a
distributed backend set to NCCL (`distributed_backend: nccl` in a training configuration), the
backend a script's `--dist-backend nccl` chooses (`dist-backend`). Another is a key named for a
device set to CUDA (`device: cuda`, `generate_device: "cuda:0"`), the device every run of the
configuration places its tensors on (`device-string`): one finding for the file, at its first such
key, with the count, since the file's device keys are one choice of where it runs; a top-level key
that no code of the project reads from the mappings it loads is data (`FileFacts.unread_keys`). A third is a
library argument's CUDA-only value stored under the argument's name (`attn_implementation:
flash_attention_2` in a recipe a training script reads with `--config`), for the `call-argument`
keys of rules that name this kind.

Helm chart templates are Go templates, not YAML, until rendered. When a file does not parse
and holds `{{ ... }}` actions, the actions are blanked (keeping every line and column) and
the rest is read; a template that still does not parse is reported as such.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace

from yaml.nodes import Node, ScalarNode

from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.model import Finding, Severity, Span
from cudaudit.rules.catalog import Catalog
from cudaudit.rules.containers.images import image_entry
from cudaudit.rules.orchestration.images import parse_image
from cudaudit.rules.orchestration.sites import Sites
from cudaudit.rules.orchestration.yamldoc import (
    entry,
    get,
    items,
    load_documents,
    mappings,
    node_span,
    pair_span,
    pairs,
    scalar,
)
from cudaudit.rules.python.concerns.call_arguments import DETECTOR as CALL_ARGUMENT
from cudaudit.rules.python.concerns.call_arguments import ArgumentKey, stored_settings
from cudaudit.settings import AnalysisSettings
from cudaudit.source import UnparsableError

_YAML_BOOLEANS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}
"""The plain scalars YAML 1.1 (PyYAML's resolver) reads as booleans."""
RESOURCE = "k8s-resource"
"""Detector: an extended resource requested or limited (`nvidia.com/gpu`)."""
NODE_LABEL = "k8s-node-label"
"""Detector: a node label a pod selects or requires (`nvidia.com/gpu.product`)."""
TOLERATION = "k8s-toleration"
"""Detector: the key of a taint a pod tolerates."""
RUNTIME_CLASS = "k8s-runtime-class"
"""Detector: a `runtimeClassName`."""
GPU_STACK = "k8s-gpu-stack"
"""Detector: a component of a vendor's GPU stack: an image, a Helm chart, a custom resource kind."""
ENVIRONMENT = "k8s-env"
"""Detector: a variable set in a container's `env`."""
DIST_BACKEND = "dist-backend"
"""Detector: the NCCL backend set in a configuration (`distributed_backend: nccl`)."""
DEVICE_STRING = "device-string"
"""Detector: a CUDA device set in a configuration (`device: cuda`), CDA103's."""
_CUDA_DEVICE = re.compile(r"cuda(?::[0-9]+)?")
_NOT_A_WORD = re.compile(r"[^a-z0-9]+")

_QUOTA_SCOPES = ("requests.", "limits.")
_ACTION_BODY = re.compile(r"[^\n]")
_TEMPLATE_START = re.compile(r"(?<!\$)\{\{")
"""A Go template action; `${{ ... }}` is a GitHub Actions expression, which is plain YAML text."""

Handler = Callable[[ScalarNode, Node, Sites], None]


def analyze_manifest(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    """Findings for one manifest or values file; raises UnparsableError for malformed YAML."""
    sites = Sites(text, path, catalog, settings)
    devices: list[Span] = []
    arguments = _stored_arguments(catalog)
    for document in _documents(text):
        if get(document, "suite") is not None and get(document, "tests") is not None:
            continue  # a helm-unittest suite: values it sets test the chart, nothing is deployed
        _custom_resource(document, sites)
        images = {id(value) for mapping in mappings(document) for key, value in pairs(mapping) if key.value == "image"}
        rocm = any(_names_rocm_image(key, value) for mapping in mappings(document) for key, value in pairs(mapping))
        for mapping in mappings(document):
            unread = facts.unread_keys if mapping is document else ()
            for key, value in pairs(mapping):
                handler = _HANDLERS.get(key.value)
                if handler is not None:
                    handler(key, value, sites)
                else:
                    _backend_setting(key, value, sites)
                    if key.value not in unread:  # a top-level key no code of the project reads
                        _device_setting(key, value, devices)
                    _argument_setting(key, value, arguments, sites)
                    _image_setting(key, value, sites, rocm)
            if id(mapping) not in images and entry(mapping, "tag") and not entry(mapping, "image"):
                _catalog_image(mapping, sites)  # Helm values that name an image without an `image:` key
    if devices and sites.report(DEVICE_STRING, "config", min(devices)):
        return [_with_count(finding, len(devices), min(devices)) for finding in sites.findings()]
    return sites.findings()


def _documents(text: str) -> list[Node]:
    try:
        return load_documents(text)
    except UnparsableError as error:
        if not _TEMPLATE_START.search(text):
            raise
        try:
            return load_documents(_blank_template_actions(text))
        except UnparsableError:
            raise UnparsableError(
                "a Go/Helm template that is not YAML until rendered: scan the output of `helm template` instead,"
                " or exclude the file",
                error.line,
            ) from None


def _blank_template_actions(text: str) -> str:
    """Lines of nothing but actions (`{{- if ... }}`, `{{- /* ... */ -}}`) become blank lines,
    other actions a placeholder scalar of the same width; line and column numbers stay."""
    bare, filled, position = [], [], 0
    for start, end in _template_actions(text):
        action = text[start:end]
        bare += [text[position:start], "\n" * action.count("\n")]
        filled += [text[position:start], _ACTION_BODY.sub("x", action)]
        position = end
    bare_lines = "".join([*bare, text[position:]]).split("\n")
    filled_lines = "".join([*filled, text[position:]]).split("\n")
    return "\n".join(line if rest.strip() else "" for rest, line in zip(bare_lines, filled_lines))


def _template_actions(text: str) -> Iterator[tuple[int, int]]:
    """The spans of `{{ ... }}` actions, each from `{{` to the first `}}` after it. Found with
    `str.find`, so text with many `{{` and no `}}` is read once (a lazy `{{.*?}}` rescanned the
    rest of the file from every `{{`)."""
    position = 0
    while (start := text.find("{{", position)) >= 0:
        end = text.find("}}", start + 2)
        if end < 0:
            return
        yield start, end + 2
        position = end + 2


def _backend_setting(key: ScalarNode, value: Node, sites: Sites) -> None:
    """`distributed_backend: nccl`, `dist_backend: "nccl"`: NCCL chosen for every machine the
    configuration runs on."""
    if (
        isinstance(value, ScalarNode)
        and value.value.lower() == "nccl"
        and "backend" in _NOT_A_WORD.split(str(key.value).lower())
    ):
        sites.report(DIST_BACKEND, "config", node_span(value))


def _stored_arguments(catalog: Catalog) -> dict[str, list[ArgumentKey]]:
    """The `call-argument` keys that count values stored under the argument's name, by that name,
    of the rules that say configuration files hold them too (`also_kinds = ["manifest"]`)."""
    by_name: dict[str, list[ArgumentKey]] = {}
    for setting in stored_settings(catalog.keys(CALL_ARGUMENT)):
        entry = catalog.lookup(CALL_ARGUMENT, setting.key)
        if entry is not None and "manifest" in entry.rule.also_kinds:
            by_name.setdefault(setting.name, []).append(setting)
    return by_name


def _argument_setting(key: ScalarNode, value: Node, arguments: dict[str, list[ArgumentKey]], sites: Sites) -> None:
    """`attn_implementation: flash_attention_2`: a library argument's CUDA-only value, stored under
    the argument's name as a program's configuration passes it on (`call-argument` keys that count
    values stored under the name, `call_arguments.stored_settings`)."""
    if not isinstance(value, ScalarNode) or not isinstance(key.value, str) or key.value not in arguments:
        return
    plain = value.value if value.tag.endswith(":str") else _YAML_BOOLEANS.get(value.value.lower(), value.value)
    for setting in arguments[key.value]:
        if setting.means(plain):
            sites.report(CALL_ARGUMENT, setting.key, node_span(value))
            return


def _device_setting(key: ScalarNode, value: Node, devices: list[Span]) -> None:
    """`device: cuda`, `prefill_device: "cuda:0"`: the device a run of this configuration puts its
    tensors on. A list (`choices: [cpu, cuda]`) or any other value is no such setting."""
    if (
        isinstance(value, ScalarNode)
        and _CUDA_DEVICE.fullmatch(value.value.strip())
        and "device" in _NOT_A_WORD.split(str(key.value).lower())
    ):
        devices.append(node_span(value))


def _with_count(finding: Finding, count: int, first: Span) -> Finding:
    """The file's one device-setting finding, naming how many keys it stands for."""
    if count == 1 or finding.rule != "CDA103" or finding.span != first:
        return finding
    return replace(finding, message=f"{finding.message} ({count} sites in this file; the first is shown)", sites=count)


def _custom_resource(document: Node, sites: Sites) -> None:
    """An object of a vendor's own API group (`nvidia.com/v1` `ClusterPolicy`), or a RuntimeClass."""
    api_version, kind = scalar(get(document, "apiVersion")), entry(document, "kind")
    if api_version is None or kind is None or scalar(kind[1]) is None:
        return
    group = api_version.partition("/")[0] if "/" in api_version else ""
    sites.report(GPU_STACK, f"{group}/{scalar(kind[1])}", pair_span(*kind))
    handler = entry(document, "handler")
    if scalar(kind[1]) == "RuntimeClass" and handler and scalar(handler[1]):
        sites.report(GPU_STACK, f"RuntimeClass handler: {scalar(handler[1])}", pair_span(*handler))


def _resources(_: ScalarNode, value: Node, sites: Sites) -> None:
    for name, amount in pairs(value):
        sites.report(RESOURCE, name.value, pair_span(name, amount))


def _quota(_: ScalarNode, value: Node, sites: Sites) -> None:
    """A ResourceQuota's `hard:` names resources with a scope: `requests.nvidia.com/gpu`."""
    for name, amount in pairs(value):
        for scope in _QUOTA_SCOPES:
            if name.value.startswith(scope):
                sites.report(RESOURCE, name.value.removeprefix(scope), pair_span(name, amount))


def _node_selector(_: ScalarNode, value: Node, sites: Sites) -> None:
    for label, wanted in pairs(value):
        sites.report(NODE_LABEL, label.value, pair_span(label, wanted))


def _match_expressions(_: ScalarNode, value: Node, sites: Sites) -> None:
    for expression in items(value):
        label = entry(expression, "key")
        if label and (name := scalar(label[1])):
            sites.report(NODE_LABEL, name, pair_span(*label))


def _tolerations(_: ScalarNode, value: Node, sites: Sites) -> None:
    for toleration in items(value):
        taint = entry(toleration, "key")
        if taint and (name := scalar(taint[1])):
            sites.report(TOLERATION, name, pair_span(*taint))


def _runtime_class(key: ScalarNode, value: Node, sites: Sites) -> None:
    if name := scalar(value):
        sites.report(RUNTIME_CLASS, name, pair_span(key, value))


def _image(key: ScalarNode, value: Node, sites: Sites) -> None:
    """`image: nvcr.io/nvidia/k8s-device-plugin:v0.17.0`, or Helm's `image: {repository: ..., tag: ...}`:
    a part of a GPU stack, else an image the catalog's image tables know (a serving engine's CUDA build)."""
    name_key, name = entry(value, "repository") or (key, value)
    image = parse_image(scalar(name) or "")
    if image is not None and not sites.report(GPU_STACK, image.keys, pair_span(name_key, name)):
        _catalog_image(value, sites, name)


def _catalog_image(mapping: Node, sites: Sites, name: Node | None = None) -> None:
    """An image reference (`name`, else the mapping's `repository`, with its `tag`) the image tables know."""
    if name is None:
        found = entry(mapping, "repository")
        name = found[1] if found else None
    reference = scalar(name) or ""
    image = parse_image(reference)
    if name is None or image is None:
        return
    tag = scalar(get(mapping, "tag"))
    known = image_entry(f"{reference}:{tag}" if tag and image.tag == "latest" else reference, sites.catalog)
    if known is not None:
        sites.report_entry(known[0], node_span(name))


def _image_setting(key: ScalarNode, value: Node, sites: Sites, rocm: bool) -> None:
    """`BASE_IMAGE: nvidia/cuda:12.4.1-devel-ubuntu22.04` in a list of values an image build or a job
    reads (a build matrix a Docker workflow passes as `--build-arg`): a CUDA image the image tables
    know, chosen for whatever reads the file. The file is that build's input, not what a user runs:
    at most a warning on each target, the build that reads it carries the normal path's verdict; a
    note on ROCm where the same document names a ROCm image under such a key (`rocm`)."""
    if not _names_image(key) or not isinstance(value, ScalarNode) or parse_image(value.value) is None:
        return
    known = image_entry(value.value, sites.catalog)
    if known is not None:
        entry, _ = known
        caps = {target: Severity.NOTE if rocm and target == "rocm" else Severity.WARNING for target in entry.targets}
        capped = {target: replace(fact, severity=fact.severity.at_most(caps[target])) for target, fact in entry.targets.items()}
        sites.report_entry(replace(entry, targets=capped), node_span(value))


def _names_image(key: ScalarNode) -> bool:
    """`BASE_IMAGE`, `docker_image`: a key named for an image other than `image:` itself (a container's)."""
    words = _NOT_A_WORD.split(str(key.value).lower())
    return len(words) >= 2 and words[-1] == "image"


def _names_rocm_image(key: ScalarNode, value: Node) -> bool:
    image = parse_image(value.value) if _names_image(key) and isinstance(value, ScalarNode) else None
    return image is not None and image.is_rocm


def _chart(key: ScalarNode, value: Node, sites: Sites) -> None:
    """A Helm chart by name, as Flux, Argo CD and helmfile write it (`nvidia/gpu-operator`)."""
    name = (scalar(value) or "").rstrip("/").rpartition("/")[2]
    if name:
        sites.report(GPU_STACK, f"chart: {name}", pair_span(key, value))


def _environment(_: ScalarNode, value: Node, sites: Sites) -> None:
    """`env: [{name: X, value: ...}]` in a container, or `env: {X: ...}` in Helm values."""
    for item in items(value):
        named = entry(item, "name")
        if named and (variable := scalar(named[1])):
            sites.report(ENVIRONMENT, variable, pair_span(*named))
    for name, setting in pairs(value):
        sites.report(ENVIRONMENT, name.value, pair_span(name, setting))


_HANDLERS: dict[str, Handler] = {
    "limits": _resources,
    "requests": _resources,
    "hard": _quota,
    "nodeSelector": _node_selector,
    "matchExpressions": _match_expressions,
    "tolerations": _tolerations,
    "runtimeClassName": _runtime_class,
    "image": _image,
    "chart": _chart,
    "env": _environment,
}
