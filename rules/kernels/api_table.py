"""The generated CUDA -> HIP name table (`[api]` in data/cuda_api.toml), read on first use.

The table holds thousands of names as tab-separated rows in one TOML string (see
generate_catalog.py for why); it is split here only when a CUDA source is analysed, and a
catalog `Entry` is built for a name the first time a file uses it. Facts for ROCm come from the
row; the other targets keep the facts of the row's rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from cudaudit.model import Portability, Severity, Status
from cudaudit.rules.catalog import Catalog, CatalogError, Entry
from cudaudit.rules.kernels.preprocessor import TOOLKIT_TABLE, toolkit_macros

TABLE_FILE = "cuda_api.toml"


@dataclass(frozen=True)
class _Row:
    rule: str
    family: str
    status: Status
    replacement: str
    source: str
    severity: Severity | None
    note: str


class ApiTable:
    """Lookups of identifiers and included headers; `None` for anything that is not CUDA."""

    def __init__(self, catalog: Catalog, data: dict) -> None:
        self._catalog = catalog
        self._families: dict[str, str] = data["families"]
        columns = data["columns"]
        sources = data["sources"]
        self._exact: dict[str, dict[str, _Row]] = {"n": {}, "i": {}}
        prefixes: dict[str, list[tuple[str, _Row]]] = {"n": [], "i": []}
        for line in data["rows"].splitlines():
            if not line:
                continue
            values = dict(zip(columns, line.split("\t")))
            row = _Row(
                values["rule"],
                values["family"],
                Status(values["status"]),
                values["replacement"],
                sources[int(values["source"])],
                Severity(values["severity"]) if values["severity"] else None,
                values["note"],
            )
            if values["rule"] not in catalog.rules:
                raise CatalogError(f"{TABLE_FILE}: {values['match']!r} names unknown rule {values['rule']}")
            if values["match"].endswith("*"):
                prefixes[values["kind"]].append((values["match"][:-1], row))
            else:
                self._exact[values["kind"]][values["match"]] = row
        self._prefix_rows = {kind: dict(found) for kind, found in prefixes.items()}
        # Longest first, so that the alternation's first match is the longest prefix.
        self._prefixes = {
            kind: re.compile("|".join(re.escape(p) for p, _ in sorted(found, key=lambda p: -len(p[0]))) or "(?!)")
            for kind, found in prefixes.items()
        }
        self._entries: dict[tuple[str, str], Entry | None] = {}
        self.toolkit_macros = toolkit_macros(catalog.tables(TOOLKIT_TABLE))
        """Version macros only CUDA's toolkit defines (`CUDART_VERSION`): undefined in a HIP build."""

    def name_starts(self) -> frozenset[str]:
        """The first three characters of every name and name prefix the table knows."""
        return frozenset(name[:3] for name in (*self._exact["n"], *self._prefix_rows["n"]))

    def include_keys(self) -> tuple[str, ...]:
        """Every header path the table knows and every header prefix (`thrust/`), sorted."""
        return tuple(sorted({*self._exact["i"], *self._prefix_rows["i"]}))

    def name(self, name: str) -> Entry | None:
        """The entry for an identifier or `::`-qualified name (`cudaMalloc`, `cub::DeviceScan`)."""
        return self._entry("n", name)

    def include(self, path: str) -> Entry | None:
        """The entry for an included header path (`cuda_runtime.h`, `thrust/sort.h`)."""
        return self._entry("i", path)

    def _entry(self, kind: str, name: str) -> Entry | None:
        key = (kind, name)
        try:
            return self._entries[key]
        except KeyError:
            pass
        row = self._exact[kind].get(name)
        if row is None:
            prefix = self._prefixes[kind].match(name)
            if prefix is not None and (kind == "i" or _continues_api_name(prefix.group(), name)):
                row = self._prefix_rows[kind][prefix.group()]
        entry = self._entries[key] = None if row is None else self._build(name, row)
        return entry

    def _build(self, name: str, row: _Row) -> Entry:
        rule = self._catalog.rules[row.rule]
        targets = dict(rule.targets)
        default = targets.get("rocm")
        replacement = row.replacement or (default.replacement if default else "")
        # A row says its own severity; else one with the rule's ROCm status takes the rule's (a
        # mapped name is a mechanical hipify rename), and any other the status's default.
        if row.severity:
            severity = row.severity
        elif default is not None and row.status is default.status:
            severity = default.severity
        else:
            severity = Severity.NOTE if row.status is Status.WORKS else Severity.ERROR
        targets["rocm"] = Portability(row.status, replacement, row.source, severity)
        message = rule.message.replace("{family}", self._families.get(row.family, row.family))
        return Entry(rule, name, message.replace("{note}", row.note), targets)


def _continues_api_name(prefix: str, name: str) -> bool:
    """`nvtxRangePushEx` and `ncclComm_t` continue the `nvtx`/`nccl` API; `nvtx_range` and
    `nccl_comm` are a project's own variables. A prefix ending in `::` or `_` takes anything."""
    if prefix.endswith(("::", "_")):
        return True
    following = name[len(prefix) : len(prefix) + 1]
    return following.isupper() or following.isdigit()


@cache
def api_table(catalog: Catalog) -> ApiTable:
    """The table for `catalog`'s rules, parsed once per process and catalog."""
    tables = catalog.tables("api")
    if [source for source, _ in tables] != [TABLE_FILE]:
        raise CatalogError(f"{TABLE_FILE}: the catalog needs exactly one [api] table, there; regenerate it")
    return ApiTable(catalog, tables[0][1])
