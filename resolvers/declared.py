"""The requirements a dependency file declares, where, and the lines pip could not read.

`cudaudit resolve` judges each CUDA-bound requirement of a file on its own line, so it reads the
same strings the dependency analyzers read, with their readers: pip's logical lines for
requirements files, `requirement_lists`/`poetry_dependencies` for `pyproject.toml`, the `pip:`
list and conda specs of an environment file. Lock files are first turned into requirements
(`lock_input.py`) and read as such.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from cudaudit.resolvers.requirements import PACKAGE, requirement_layout, version_constraint
from cudaudit.rules.dependencies.pyproject import poetry_dependencies, requirement_lists
from cudaudit.rules.dependencies.report import optional_group
from cudaudit.rules.dependencies.requirements_file import logical_lines
from cudaudit.rules.dependencies.toml_text import TomlText, load_toml

_LOCATION_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")


@dataclass(frozen=True)
class Declared:
    """One requirement as a file writes it."""

    name: str
    """The normalised distribution name."""
    extras: frozenset[str]
    specifier: SpecifierSet
    text: str
    """The requirement as written, for people."""
    line: int
    optional: str | None = None
    """The extra or dependency group named for CUDA it belongs to (opt-in for NVIDIA users), if any."""
    detector: str = PACKAGE
    """How the catalog knows it: a pip package, or a conda package (`conda-package`)."""


@dataclass(frozen=True)
class Unreadable:
    """A line pip would reject: reported, and kept as it was in the variant."""

    line: int
    text: str


def requirements_file(text: str) -> tuple[list[Declared], list[Unreadable]]:
    """The requirements of a requirements file (continuations joined, options and comments skipped)."""
    declared, unreadable = [], []
    for placed in logical_lines(text):
        line = placed.segments[0][1]
        written = placed.text.strip()
        if not written or written.startswith("-"):
            continue
        found = requirement(written, line)
        if found is not None:
            declared.append(found)
        elif not _is_location(written):
            unreadable.append(Unreadable(line, written))
    return declared, unreadable


def requirement(written: str, line: int, optional: str | None = None) -> Declared | None:
    """One PEP 508 requirement string written on `line`; None for a URL, a path or invalid text."""
    layout = requirement_layout(written)
    if layout is None:
        return None
    parsed = layout.requirement
    shown = written[: max(layout.specifier_end, layout.extras_end)].strip()
    return Declared(canonicalize_name(parsed.name), frozenset(parsed.extras), parsed.specifier, shown, line, optional)


def pyproject(text: str) -> list[Declared]:
    """PEP 621 dependencies and extras, dependency groups, uv's lists and Poetry's tables of a pyproject.toml.

    Raises `UnparsableError` for malformed TOML."""
    data = load_toml(text, "pyproject.toml")
    doc = TomlText(text)
    declared = []
    for item in requirement_lists(data):
        optional = item.group if item.group and optional_group(item.group) else None
        for written in item.requirements:
            literal = doc.string(written, doc.section_start(item.table), take=False)
            found = requirement(written, doc.position(literal.start)[0], optional) if literal else None
            if found is not None:
                declared.append(found)
    for dependency in poetry_dependencies(data):
        key = doc.key(dependency.table, dependency.name)
        if key is None:
            continue
        optional = dependency.group if dependency.group and optional_group(dependency.group) else None
        declared.append(
            Declared(
                canonicalize_name(dependency.name),
                frozenset(dependency.extras),
                version_constraint(dependency.version) or SpecifierSet(),
                f"{dependency.name} = {dependency.version!r}" if dependency.version else dependency.name,
                doc.position(key[0])[0],
                optional,
            )
        )
    return sorted(declared, key=lambda d: d.line)


def _is_location(text: str) -> bool:
    """A URL, a path or an archive pip installs as is (`git+https://...`, `./pkg`, `x.whl`, `-e .`)."""
    head = text.split(";", 1)[0].split(" #", 1)[0].strip()
    return "://" in head or head.startswith((".", "/", "~")) or head.endswith(_LOCATION_SUFFIXES) or " @ " in head
