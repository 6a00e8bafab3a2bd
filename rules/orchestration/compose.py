"""docker compose files: services that reach NVIDIA GPUs through the NVIDIA container runtime.

A service gets NVIDIA GPUs in one of a few ways: a device reservation under
`deploy.resources.reservations.devices` (`driver: nvidia`, or `capabilities: [gpu]` alone,
which Docker hands to the NVIDIA driver), a CDI device id `nvidia.com/gpu=...`, the legacy
`runtime: nvidia`, the `gpus:` attribute, or the `/dev/nvidia*` device nodes mapped by hand.
Variables of the NVIDIA runtime (`NVIDIA_VISIBLE_DEVICES`) are reported on their own, and so is a
service's `image:` that the catalog's image tables know (a serving engine's CUDA image). Values
may be interpolated (`driver: ${GPU_DRIVER:-nvidia}`); the default is what most hosts get.
"""

from __future__ import annotations

import re

from yaml.nodes import Node

from cudaudit.facts import NO_FACTS, FileFacts
from cudaudit.model import Finding
from cudaudit.rules.catalog import Catalog
from cudaudit.rules.containers.images import image_entry
from cudaudit.rules.orchestration.sites import Sites
from cudaudit.rules.orchestration.yamldoc import (
    entry,
    get,
    items,
    load_documents,
    node_span,
    pair_span,
    pairs,
    scalar,
    scalars,
)
from cudaudit.settings import AnalysisSettings

GPU_ACCESS = "compose-gpu"
"""Detector: how a service reaches GPUs (`driver: nvidia`, `runtime: nvidia`, a device path or CDI id)."""
ENVIRONMENT = "compose-env"
"""Detector: a variable set in a service's `environment`."""

_DEFAULTED = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:?-(?P<default>[^}]*)\}$")


def analyze_compose(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    """Findings for one compose file; raises UnparsableError for malformed YAML."""
    sites = Sites(text, path, catalog, settings)
    for document in load_documents(text):
        for _, service in pairs(get(document, "services")):
            _image(service, sites)
            _runtime_and_gpus(service, sites)
            _device_reservations(service, sites)
            _device_mappings(service, sites)
            _environment(service, sites)
    return sites.findings()


def _value(node: Node | None) -> str | None:
    """A scalar with `${VAR:-default}` read as its default."""
    text = scalar(node)
    if text is None:
        return None
    match = _DEFAULTED.match(text.strip())
    return match.group("default") if match else text.strip()


def _image(service: Node, sites: Sites) -> None:
    """`image: vllm/vllm-openai:v0.8.5`: the catalog's image tables, as for a Dockerfile's `FROM`."""
    image = entry(service, "image")
    reference = _value(image[1]) if image else None
    known = image_entry(reference, sites.catalog) if reference else None
    if image and known is not None:
        sites.report_entry(known[0], node_span(image[1]))


def _runtime_and_gpus(service: Node, sites: Sites) -> None:
    runtime = entry(service, "runtime")
    name = _value(runtime[1]) if runtime else None
    if runtime and name is not None:
        sites.report(GPU_ACCESS, f"runtime: {name}", pair_span(*runtime))
    gpus = entry(service, "gpus")
    if gpus:
        sites.report(GPU_ACCESS, "gpus", pair_span(*gpus))


def _device_reservations(service: Node, sites: Sites) -> None:
    reservations = get(get(get(service, "deploy"), "resources"), "reservations")
    for device in items(get(reservations, "devices")):
        driver = entry(device, "driver")
        name = _value(driver[1]) if driver else None
        if driver and name is not None:
            if not sites.report(GPU_ACCESS, f"driver: {name}", pair_span(*driver)):
                _cdi_ids(get(device, "device_ids"), sites)
            continue
        for capability in scalars(get(device, "capabilities")):
            if _value(capability) == "gpu":
                sites.report(GPU_ACCESS, "capabilities: gpu", node_span(capability))


def _cdi_ids(node: Node | None, sites: Sites) -> None:
    """`driver: cdi` with `device_ids: [nvidia.com/gpu=all]`: the vendor is in the id."""
    for device_id in scalars(node):
        sites.report(GPU_ACCESS, _value(device_id) or "", node_span(device_id))


def _device_mappings(service: Node, sites: Sites) -> None:
    """`devices: [/dev/nvidia0:/dev/nvidia0]`, the long form's `source:`, or a CDI name."""
    for device in items(get(service, "devices")):
        source = entry(device, "source")
        text = _value(source[1] if source else device)
        if text is not None:
            span = pair_span(*source) if source else node_span(device)
            sites.report(GPU_ACCESS, [text, text.split(":")[0]], span)


def _environment(service: Node, sites: Sites) -> None:
    """`environment:` as a mapping (`NAME: value`) or a list (`- NAME=value`, `- NAME`). The catalog's
    entry for the setting (`NVIDIA_VISIBLE_DEVICES=all`, which narrows nothing) comes before the
    variable's own."""
    environment = get(service, "environment")
    for key, value in pairs(environment):
        sites.report(ENVIRONMENT, _setting_keys(key.value, _value(value)), node_span(key))
    for item in items(environment):
        name, equals, text = (scalar(item) or "").partition("=")
        sites.report(ENVIRONMENT, _setting_keys(name.strip(), text.strip() if equals else None), node_span(item))


def _setting_keys(name: str, value: str | None) -> list[str]:
    """`NAME=value` (an interpolation read as its default), then `NAME`."""
    if value is None:
        return [name]
    defaulted = _DEFAULTED.match(value)
    return [f"{name}={defaulted.group('default') if defaulted else value}", name]
