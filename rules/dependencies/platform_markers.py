"""The targets a requirement's environment marker leaves out.

`nvidia-cublas==13.1.0.3 ; platform_machine == 'aarch64' and sys_platform == 'linux'` is installed
only on Linux on Arm. A target whose PyTorch exists on no host where the marker holds (the catalog's
`[[target_host]]`: PyTorch's ROCm wheels are for Linux on x86-64 alone) never installs the line, so
what the line pins is not that target's concern: its finding is a note there. A marker this reading
cannot decide (a Python version, an extra) counts as holding, so a line is left out only where its
marker says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cudaudit.resolvers.requirements import parse_requirement
from cudaudit.rules.catalog import Catalog
from cudaudit.rules.dependencies.lock_installs import holds


def target_hosts(tables: list[tuple[str, Any]]) -> tuple[tuple[str, Mapping[str, str]], ...]:
    """(target, the marker variables of the one host its PyTorch exists on) of each `[[target_host]]` table."""
    return tuple((row["target"], dict(row["markers"])) for _, rows in tables for row in rows)


def absent_targets(requirement: str, catalog: Catalog) -> frozenset[str]:
    """The targets whose hosts the marker of `requirement` (a PEP 508 string) excludes."""
    parsed = parse_requirement(requirement) if ";" in requirement else None
    if parsed is None or parsed.marker is None:
        return frozenset()
    marker = str(parsed.marker)
    hosts = target_hosts(catalog.tables("target_host"))
    return frozenset(target for target, host in hosts if holds(marker, set(), host) is False)
