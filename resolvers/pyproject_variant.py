"""What a `pyproject.toml` variant needs beyond the target's fixes, which point its PyTorch index at the target.

uv's guide to PyTorch (https://docs.astral.sh/uv/guides/integration/pytorch/) is the model:

- The index is named for the build it serves (`pytorch-cpu`, `pytorch-rocm6.1`), so the variant
  does not say `pytorch-cu124` for a ROCm index. A CUDA tag in the name of an index the fixes
  moved is replaced with the target's, in the `[[tool.uv.index]]`, Poetry or PDM source that
  names it and in every `[tool.uv.sources]` or Poetry dependency that refers to it.
- PyTorch publishes ROCm builds for Linux only, so a uv source on a ROCm index gets
  `marker = "sys_platform == 'linux'"` (other platforms fall back to PyPI), as the guide's ROCm
  example does. A pin stays as written (`torch==2.4.1`): the index picks the build, and a local
  label would fail on every platform the source does not cover.
- A package the variant drops (xFormers for CPU) loses its `[tool.uv.sources]` entry too.

A pyproject that names no index for its installer (pip reads none from it) gets the target's
local label on exact torch-family pins instead (`torch==2.4.1+cpu`), as a requirements variant
does: without PyTorch's index pip then stops with an error, rather than installing the CUDA build
from PyPI; the variant's note says which index to pass.
"""

from __future__ import annotations

import re
from typing import Any

from packaging.utils import canonicalize_name

from cudaudit.fixers.edits import splice
from cudaudit.model import Edit, Span
from cudaudit.resolvers import declared
from cudaudit.resolvers.requirements import requirement_layout
from cudaudit.resolvers.variants import TORCH_FAMILY
from cudaudit.rules.dependencies.toml_text import TomlText, load_toml

LINUX_ONLY = "sys_platform == 'linux'"
"""The marker uv's guide gives a ROCm source: PyTorch's ROCm wheels are built for Linux only."""
_SOURCE_TABLES = (("tool", "uv"), ("tool", "poetry"), ("tool", "pdm"))
_INDEX_LISTS = (("tool", "uv", "index"), ("tool", "poetry", "source"), ("tool", "pdm", "source"))
_SOURCES = ("tool", "uv", "sources")
_CUDA_TAG = re.compile(r"(?<![a-z])(?:cu(?:da)?-?\d+(?:\.\d+)?|cuda)", re.IGNORECASE)
"""A CUDA build in an index name: `cu124`, `cuda12.1`, `cuda`."""


def pyproject_additions(original: str, fixed: str, target: str, tag: str | None, label_pins: bool) -> str:
    """`fixed` (the variant after the target's fixes) with its indexes named for `tag`, ROCm sources
    limited to Linux, no source for a dropped package, and, with `label_pins`, the target's label on
    exact torch-family pins."""
    if tag is None:
        return fixed
    text = _rename_moved_indexes(original, fixed, tag)
    if target == "rocm":
        text = _linux_only_sources(text, _pytorch_indexes(load_toml(text, "pyproject.toml"), tag))
    text = _drop_sources_of_dropped(original, text)
    if label_pins:
        text = _label_torch_pins(text, tag)
    return text


def _indexes(data: dict[str, Any]) -> dict[str, str]:
    """name -> URL of every uv index and Poetry or PDM source."""
    found = {}
    for path in _INDEX_LISTS:
        entries = _nested(data, path)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str) and isinstance(entry.get("url"), str):
                found[entry["name"]] = entry["url"]
    return found


def _rename_moved_indexes(original: str, fixed: str, tag: str) -> str:
    """`pytorch-cu124` -> `pytorch-rocm6.1` for each index whose URL the fixes changed."""
    before, after = _indexes(load_toml(original, "pyproject.toml")), _indexes(load_toml(fixed, "pyproject.toml"))
    renames = {}
    for name, url in after.items():
        new = _CUDA_TAG.sub(tag, name, count=1)
        if before.get(name) not in (None, url) and new != name and new not in after:
            renames[name] = new
    if not renames:
        return fixed
    doc = TomlText(fixed)
    edits = [
        _replace(doc, literal.content, len(literal.value), renames[literal.value])
        for literal in doc.strings
        if literal.value in renames and literal.exact and _in_tables(doc, literal.start, _SOURCE_TABLES)
    ]
    return splice(fixed, edits)


def _pytorch_indexes(data: dict[str, Any], tag: str) -> set[str]:
    return {name for name, url in _indexes(data).items() if url.rstrip("/").endswith("/" + tag)}


def _linux_only_sources(text: str, indexes: set[str]) -> str:
    """`{ index = "pytorch-rocm6.1" }` -> `{ index = "pytorch-rocm6.1", marker = "sys_platform == 'linux'" }`."""
    doc = TomlText(text)
    edits = []
    for literal in doc.strings:
        if literal.value not in indexes or not _in_tables(doc, literal.start, (_SOURCES,)):
            continue
        line_start = text.rfind("\n", 0, literal.start) + 1
        line_end = _line_end(text, literal.start)
        opening = text.rfind("{", line_start, literal.start)
        closing = text.find("}", literal.start, line_end)
        if opening != -1 and closing != -1:  # an inline table: `torch = { index = "..." }`
            if "marker" not in text[opening:closing]:
                at = len(text[:closing].rstrip())
                edits.append(Edit(_span(doc, at, at), f', marker = "{LINUX_ONLY}"'))
        elif "marker" not in text[_section_of(doc, literal.start) : _section_end(doc, literal.start)]:
            edits.append(Edit(_span(doc, line_end, line_end), f'\nmarker = "{LINUX_ONLY}"'))
    return splice(text, edits) if edits else text


def _drop_sources_of_dropped(original: str, text: str) -> str:
    """The `[tool.uv.sources]` entries of packages the original declares and the variant no longer does."""
    gone = {d.name for d in declared.pyproject(original)} - {d.name for d in declared.pyproject(text)}
    sources = _nested(load_toml(text, "pyproject.toml"), _SOURCES)
    keys = [key for key in sources if canonicalize_name(key) in gone] if isinstance(sources, dict) else []
    if not keys:
        return text
    doc = TomlText(text)
    edits = []
    for key in keys:
        found = doc.key(_SOURCES, key)
        if found is None:
            continue
        start = text.rfind("\n", 0, found[0]) + 1
        end = _value_end(text, text.index("=", found[0]) + 1)
        end = _line_end(text, end)
        edits.append(Edit(_span(doc, start, min(end + 1, len(text))), ""))
    return splice(text, edits) if edits else text


def _label_torch_pins(text: str, tag: str) -> str:
    """`"torch==2.4.1"` -> `"torch==2.4.1+cpu"` in the PEP 621 lists, where pip installs from no named index."""
    doc = TomlText(text)
    edits = []
    for literal in doc.strings:
        layout = requirement_layout(literal.value) if literal.exact else None
        if layout is None or canonicalize_name(layout.requirement.name) not in TORCH_FAMILY:
            continue
        pins = list(layout.requirement.specifier)
        if len(pins) != 1 or pins[0].operator != "==" or "+" in pins[0].version or "*" in pins[0].version:
            continue
        if not _in_tables(doc, literal.start, (("project",), ("dependency-groups",))):
            continue
        at = literal.content + layout.specifier_end
        edits.append(Edit(_span(doc, at, at), f"+{tag}"))
    return splice(text, edits) if edits else text


def _in_tables(doc: TomlText, offset: int, tables: tuple[tuple[str, ...], ...]) -> bool:
    section = next((s for s in doc.sections if s.start <= offset < s.end), None)
    return section is not None and any(section.path[: len(table)] == table for table in tables)


def _section_of(doc: TomlText, offset: int) -> int:
    return next((s.start for s in doc.sections if s.start <= offset < s.end), 0)


def _section_end(doc: TomlText, offset: int) -> int:
    return next((s.end for s in doc.sections if s.start <= offset < s.end), len(doc.text))


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end == -1 else end


def _value_end(text: str, i: int) -> int:
    """The offset after the TOML value that starts at or after `i` (brackets and braces matched, strings skipped)."""
    depth = 0
    while i < len(text):
        char = text[i]
        if char in "\"'":
            close = text.find(char, i + 1)
            while char == '"' and close != -1 and text[close - 1] == "\\":
                close = text.find(char, close + 1)
            i = len(text) if close == -1 else close + 1
            if depth == 0:
                return i
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        elif char == "\n" and depth == 0:
            return i
        i += 1
    return i


def _replace(doc: TomlText, start: int, length: int, new: str) -> Edit:
    return Edit(_span(doc, start, start + length), new)


def _span(doc: TomlText, start: int, end: int) -> Span:
    return Span(*doc.position(start), *doc.position(end))


def _nested(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    for part in path:
        data = data.get(part, {}) if isinstance(data, dict) else {}
    return data
