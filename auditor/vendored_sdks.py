"""A vendored copy of an NVIDIA-only SDK's headers as one component, not one finding per name.

A project that ships an SDK NVIDIA publishes only for its GPUs (the OptiX headers in
`dependencies/optix/`) carries NVIDIA's declarations: `CUdeviceptr`, `CUstream`, `#include <cuda.h>`,
the SDK's inline PTX. Each is a CUDA name a per-file reading reports, yet nobody renames inside the
SDK: a ROCm build leaves the component out (the project's switch for it) and ports the project's own
uses of it, which keep their findings. So the SDK folder's sites are one finding, at the first, with
their count, blocked on ROCm and at most a warning on every target, naming the SDK.

The SDK's folder is the one that holds its marker header (the catalog's `[[nvidia_sdk]]` tables:
`optix.h`), with the folders below it (`internal/`); a project's own folder of the same name
(`src/optix/`, its programs) holds no such header and keeps its verdicts. This reading spans files,
so it runs on the scan's settled findings (`engine`), after the per-file steps of `verdicts`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, replace

from cudaudit.model import Finding, Portability, Severity, Status
from cudaudit.rules.catalog import Catalog
from cudaudit.verdicts import TARGET_NAMES, is_portable, retarget


@dataclass(frozen=True)
class NvidiaSdk:
    """An SDK that runs only on NVIDIA GPUs, the header that marks the folder of its vendored copy,
    and the public source that says so (the catalog's `[[nvidia_sdk]]` tables)."""

    name: str
    header: str
    source: str


def nvidia_sdks(catalog: Catalog) -> tuple[NvidiaSdk, ...]:
    """The catalog's `[[nvidia_sdk]]` tables."""
    return tuple(
        NvidiaSdk(table["name"], table["header"], table["source"])
        for _, tables in catalog.tables("nvidia_sdk")
        for table in tables
    )


def vendored_sdks(findings: list[Finding], paths: Iterable[str], sdks: tuple[NvidiaSdk, ...]) -> list[Finding]:
    """`findings` (the scan's, settled) with the sites in each vendored NVIDIA-only SDK's folder as one
    finding; `paths` are the scanned files' display paths, among which the SDKs' marker headers are
    looked for."""
    folders = {
        posixpath.dirname(path): sdk
        for sdk in sdks
        for path in paths
        if posixpath.basename(path) == sdk.header
    }
    if not folders:
        return findings
    kept: list[Finding] = []
    members: dict[str, list[Finding]] = {}
    for finding in findings:
        folder = _sdk_folder(finding.path, folders)
        if folder is None or is_portable(finding):
            kept.append(finding)
        else:
            members.setdefault(folder, []).append(finding)
    if not members:
        return findings
    for folder, found in members.items():
        kept.append(_one_component(sorted(found, key=lambda f: f.sort_key), folder, folders[folder]))
    return sorted(kept, key=lambda f: f.sort_key)


def _sdk_folder(path: str, folders: dict[str, NvidiaSdk]) -> str | None:
    """The SDK folder `path` lies in (at any depth), the deepest where they nest."""
    found = [folder for folder in folders if path.startswith(folder + "/") or (not folder and "/" not in path)]
    return max(found, key=len) if found else None


def _one_component(members: list[Finding], folder: str, sdk: NvidiaSdk) -> Finding:
    """The SDK folder's sites as their first, each target's fact the most severe any gives it, at most a
    warning: blocked on ROCm, where the build leaves the SDK out."""
    carrier = members[0]
    targets: dict[str, Portability] = {}
    for target in carrier.targets:
        facts = [member.targets[target] for member in members if target in member.targets]
        worst = max(facts, key=lambda fact: fact.severity.rank)
        severity = worst.severity.at_most(Severity.WARNING)
        if target == "rocm":
            targets[target] = Portability(
                Status.BLOCKED,
                f"{sdk.name} runs only on NVIDIA GPUs: build without it on {TARGET_NAMES[target]} (the project's"
                f" switch for it) and port the project's own uses of it; its vendored headers need no change",
                sdk.source,
                severity,
            )
        else:
            targets[target] = replace(worst, severity=severity)
    count = sum(member.sites for member in members)
    files = len({member.path for member in members})
    message = (
        f"{carrier.message}; with {count - carrier.sites} other site{'s' * (count - carrier.sites != 1)} in"
        f" {files} file{'s' * (files != 1)} of the vendored {sdk.name} SDK (`{folder}/`): NVIDIA's own headers,"
        " one component that runs only on NVIDIA GPUs"
    ) if count > carrier.sites else f"{carrier.message}; in the vendored {sdk.name} SDK (`{folder}/`): NVIDIA's own headers"
    return replace(retarget(carrier, targets), message=message, sites=count, fix=None)
