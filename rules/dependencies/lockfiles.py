"""Lock files: uv.lock, poetry.lock, pdm.lock, pylock.toml (PEP 751), Pipfile and Pipfile.lock.

A lock file resolved on a CUDA machine names CUDA builds outright: `+cu121` versions, the
`download.pytorch.org/whl/cu121` registry, `nvidia-*` library wheels, `cupy-cuda12x`. Each
package entry is one site, reported once from its first CUDA line (its name, else its version's
`+cuXXX`, else its source registry) to the entry's end: its wheel URLs and the dependency lines
inside it (`{ name = "nvidia-cublas-cu12", marker = ... }` of a CUDA torch) say again what the
entry is, and are part of its finding rather than findings of their own.

A generated lock (uv.lock, poetry.lock, pdm.lock, pylock.toml, Pipfile.lock) records what the
project's declarations resolved to: the CUDA index and the packages are chosen in
`pyproject.toml` (`[tool.uv.sources]`, a Poetry source), a requirements file or a Pipfile, which
are reported at their own severity. Its entries are at most warnings on every target: they say
again what the declaration says, and what such a lock installs on an AMD or CPU host (a CUDA
build of torch) imports and runs on the CPU, a silent loss rather than a failure. One exception
keeps the two files' verdicts of one fact the same: an entry from an index that the project's own
entry binds its package to on the normal install (uv records `[tool.uv.sources]` in the root's
`requires-dist` as `index = "..."`, with the extra it is limited to in its marker) is the
declaration's fact on the normal path, and keeps the severity `pyproject.toml` gives that index;
one bound only to an extra named for CUDA stays another path, as there. A Pipfile is a
declaration itself and keeps its severities.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import PurePath
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
from cudaudit.rules.dependencies.lock_installs import holds, not_installed_by
from cudaudit.rules.dependencies.report import DependencyContext, Placed, findings, optional_group, unique
from cudaudit.rules.dependencies.toml_text import TomlText, load_toml
from cudaudit.settings import AnalysisSettings
from cudaudit.source import UnparsableError
from cudaudit.verdicts import TARGET_NAMES, another_path, group_of, one_for_the_site


@dataclass(frozen=True)
class LockedPackage:
    """One package entry: its name, version and the indexes or URLs it resolves from."""

    name: str
    version: str
    start: int
    """Where its entry begins in the text (its table, or its key)."""
    end: int | None = None
    indexes: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    name_at: Placed | None = None
    """Where the name is written when it is a key (Pipfile) rather than a `name = "..."` string."""
    own_source: bool = False
    """Installed from its own source (the project itself, a folder, a git checkout), not from an index."""
    left_out: frozenset[str] = frozenset()
    """The targets whose own variant of the project (a `rocm` extra of a uv.lock) does not install it."""
    entry_end: int | None = None
    """Where the text of a `[[package]]` table entry ends, its sub-tables included: its finding spans
    the entry. None for the formats whose entries are keys (Pipfile, Pipfile.lock)."""
    bound: tuple[str, ...] = ()
    """Its indexes that the project's own entry binds a requirement to on the normal install
    (`normal_indexes`)."""


def analyze_lockfile(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    """Findings in one lock file; malformed TOML or JSON raises `UnparsableError`."""
    doc = TomlText(text)
    packages, indexes = locked_packages(text, path, doc, settings.targets)
    torch = pinned_torch(f"{p.name}=={p.version.lstrip('=')}" for p in packages)
    unimported = frozenset(facts.unimported_bindings)
    found: list[Finding] = []
    declared: list[Finding] = []
    variants: dict[frozenset[str], list[Finding]] = {}

    def hits_of(placed: Placed | None, hits, left_out: frozenset[str] = frozenset()) -> list[Finding]:
        if placed is None:
            return []
        return findings(placed, hits, path, catalog, settings, DependencyContext(torch, left_out, unimported=unimported))

    def literal(value: str, package: LockedPackage) -> Placed | None:
        written = doc.string(value, package.start, package.end) if value else None
        return doc.placed(written) if written else None

    for url in indexes:
        found.extend(hits_of(literal(url, LockedPackage("", "", 0)), index_hits(url, catalog)))
    for package in packages:
        left_out = package.left_out
        name = package.name_at or literal(package.name, package)
        site = hits_of(name, name_hits(package.name, package.extras, version_constraint(package.version), catalog), left_out)
        site += hits_of(literal(package.version, package), version_hits(package.version, catalog, package.name), left_out)
        for index in package.indexes:
            site += hits_of(literal(index, package), index_hits(index, catalog), left_out)
        for url in package.urls:
            site += hits_of(literal(url, package), requirement_hits(url, catalog), left_out)
        # From a CUDA index the project binds on its normal install: the declaration's fact, at its severity.
        normal = any(index_hits(index, catalog) for index in package.bound)
        for finding in _one_per_entry(site, package, doc):
            if package.left_out and finding.fix is None and package.left_out >= set(finding.targets):
                variants.setdefault(package.left_out, []).append(finding)
            else:
                (declared if normal else found).append(finding)
    for left_out, members in variants.items():
        names = " and ".join(TARGET_NAMES.get(target, target) for target in sorted(left_out, key=settings.targets.index))
        found.append(group_of(unique(members), f"of entries that the project's own {names} variants do not install"))
    if PurePath(path).name.lower() in _DECLARATIONS:
        return unique(found + declared)
    return unique([another_path(finding) for finding in found] + declared)


def _one_per_entry(site: list[Finding], package: LockedPackage, doc: TomlText) -> list[Finding]:
    """The findings of one package entry as one, the first of them (its name, else its `+cuXXX`
    version, else its registry) with each target's worst verdict, spanning the entry to its end
    where the entry is a table; a finding with a fix stays itself."""
    with_fix = [f for f in site if f.fix is not None]
    without = [f for f in site if f.fix is None]
    if not without:
        return with_fix
    merged = one_for_the_site(without)
    if package.entry_end is not None:
        last = doc.text[: package.entry_end].rstrip()
        end_line, end_column = doc.position(len(last))
        span = merged.span
        if (end_line, end_column) > (span.end_line, span.end_column):
            merged = replace(merged, span=replace(span, end_line=end_line, end_column=end_column))
    return [*with_fix, merged]


_DECLARATIONS = frozenset({"pipfile"})
"""The files this analyzer reads that a person writes; the others are generated from such files."""


def locked_packages(
    text: str, path: str, doc: TomlText | None = None, targets: Iterable[str] = ()
) -> tuple[list[LockedPackage], list[str]]:
    """The packages a lock file (or Pipfile) names, in file order, and the index URLs it lists apart
    from them; malformed TOML or JSON raises `UnparsableError`. The entries of a uv.lock carry the
    `targets` whose own variant of the project does not install them (`lock_installs`)."""
    kind = PurePath(path).name.lower()
    doc = doc or TomlText(text)
    if kind == "pipfile.lock":
        return _pipfile_lock(text, doc)
    if kind == "pipfile":
        return _pipfile(load_toml(text, "Pipfile"), doc)
    data = load_toml(text, kind)
    left_out = not_installed_by(data, targets) if kind == "uv.lock" else []
    return _locked_packages(data, doc, left_out), []


_OWN_SOURCES = frozenset({"editable", "virtual", "directory", "path", "git", "vcs", "file"})
"""Source keys (uv, pylock.toml) and Poetry source types of packages that come from no index."""


def _locked_packages(data: dict[str, Any], doc: TomlText, left_out: list[frozenset[str]]) -> list[LockedPackage]:
    """`[[package]]` (uv, Poetry, PDM) or `[[packages]]` (pylock.toml) entries, in file order."""
    table = "packages" if "packages" in data else "package"
    listed = data.get(table)
    entries = listed if isinstance(listed, list) else []
    spans = doc.elements((table,))
    bound = normal_indexes(entries)
    packages = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or index >= len(spans):
            continue
        given = entry.get("source")
        source = given if isinstance(given, dict) else {}
        indexes = [entry.get("index"), source.get("registry")]
        urls = []
        if source.get("type") == "legacy":  # Poetry: a package from a secondary index
            indexes.append(source.get("url"))
        elif source.get("type") in (None, "url"):  # uv `source = { url = ... }`, Poetry `type = "url"`
            urls.append(source.get("url"))
        packages.append(
            LockedPackage(
                name=str(entry.get("name", "")),
                version=str(entry.get("version", "")),
                start=spans[index][0],
                end=spans[index][1],
                indexes=tuple(i for i in indexes if isinstance(i, str)),
                urls=tuple(u for u in urls if isinstance(u, str)),
                own_source=bool(_OWN_SOURCES & {*source, source.get("type"), *entry}),
                left_out=left_out[index] if index < len(left_out) else frozenset(),
                entry_end=spans[index][1],
                bound=tuple(i for i in indexes if isinstance(i, str) and i in bound),
            )
        )
    return packages


_EXTRA = re.compile(r"""\bextra\s*==\s*['"]([^'"]+)['"]""")


def normal_indexes(entries: list[Any]) -> frozenset[str]:
    """The indexes the project's own entries of a uv.lock bind a requirement to on the normal install.

    uv writes each `[tool.uv.sources]` binding into the root's `[package.metadata] requires-dist`
    (`{ name = "torch", index = "https://download.pytorch.org/whl/cu128", marker = "extra == 'gpu'" }`;
    https://docs.astral.sh/uv/guides/integration/pytorch/). A binding whose marker limits
    it to extras or groups that are all named for CUDA is opt-in (`pyproject._opt_in` reads the same
    in `pyproject.toml`), and so is one whose marker leaves out Linux on x86-64, the host every ROCm
    install is on (`lock_installs.holds`); any other is what `uv sync` installs."""
    bound: set[str] = set()
    for entry in entries:
        metadata = entry.get("metadata") if isinstance(entry, dict) else None
        if not isinstance(metadata, dict) or not _OWN_SOURCES & set(entry.get("source") or {}):
            continue
        dev = metadata.get("requires-dev")
        lists = [(None, metadata.get("requires-dist"))]
        lists += [(group, items) for group, items in dev.items()] if isinstance(dev, dict) else []
        for group, items in lists:
            for item in items if isinstance(items, list) else ():
                if not isinstance(item, dict) or not isinstance(item.get("index"), str):
                    continue
                marker = item.get("marker")
                if isinstance(marker, str) and holds(marker, set()) is False:
                    continue  # a binding for another platform (Linux on Arm) than the ROCm and CPU variants' host
                extras = [group] if group else _EXTRA.findall(marker) if isinstance(marker, str) else []
                if not (extras and all(optional_group(extra) for extra in extras)):
                    bound.add(item["index"])
    return frozenset(bound)


def _pipfile(data: dict[str, Any], doc: TomlText) -> tuple[list[LockedPackage], list[str]]:
    """Pipfile: `[[source]]` indexes and the package tables (`[packages]`, `[dev-packages]`, ...)."""
    packages = []
    for category, table in data.items():
        if category in ("source", "requires", "scripts", "pipenv") or not isinstance(table, dict):
            continue
        for name, spec in table.items():
            key = doc.key((category,), name)
            if key is None:
                continue
            spec = spec if isinstance(spec, dict) else {"version": spec}
            listed = spec.get("extras")
            extras = listed if isinstance(listed, list) else []
            packages.append(
                LockedPackage(
                    name,
                    spec["version"] if isinstance(spec.get("version"), str) else "",
                    key[0],
                    urls=_file_urls(spec),
                    extras=tuple(e for e in extras if isinstance(e, str)),
                    name_at=doc.key_placed((category,), name),
                )
            )
    return _bounded(packages), _source_urls(data.get("source"))


def _pipfile_lock(text: str, doc: TomlText) -> tuple[list[LockedPackage], list[str]]:
    """Pipfile.lock (JSON): `_meta.sources` and the locked package sections."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnparsableError(f"invalid JSON in Pipfile.lock: {exc.msg}; regenerate it with `pipenv lock`", exc.lineno) from exc
    if not isinstance(data, dict):
        raise UnparsableError("Pipfile.lock is not a JSON object; regenerate it with `pipenv lock`", 1)
    packages = []
    for category, table in data.items():
        if category == "_meta" or not isinstance(table, dict):
            continue
        section = doc.string(category, take=False)
        for name, spec in table.items():
            key = doc.string(name, section.start if section else 0, take=False)
            if key is None or not isinstance(spec, dict):
                continue
            version = spec["version"] if isinstance(spec.get("version"), str) else ""
            packages.append(LockedPackage(name, version, key.start, urls=_file_urls(spec)))
    meta = data.get("_meta")
    return _bounded(packages), _source_urls(meta.get("sources") if isinstance(meta, dict) else None)


def _bounded(packages: list[LockedPackage]) -> list[LockedPackage]:
    """Each entry ends where the next one (in file order) begins."""
    ordered = sorted(packages, key=lambda p: p.start)
    return [replace(p, end=ordered[i + 1].start if i + 1 < len(ordered) else None) for i, p in enumerate(ordered)]


def _source_urls(sources: Any) -> list[str]:
    entries = sources if isinstance(sources, list) else []
    return [s["url"] for s in entries if isinstance(s, dict) and isinstance(s.get("url"), str)]


def _file_urls(spec: dict[str, Any]) -> tuple[str, ...]:
    return tuple(spec[key] for key in ("file", "path") if isinstance(spec.get(key), str) and "://" in spec[key])
