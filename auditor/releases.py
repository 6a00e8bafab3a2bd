"""Whether the releases a project allows of a library include one that works on a target.

Some libraries support ROCm or CPUs only from a release on (bitsandbytes ships ROCm binaries from
0.49.0). The catalog gives such a fact as a requirement (`works_with = "bitsandbytes>=0.49.0"` on
a target); the project index reads what the project's dependency files declare of the library;
this module compares the two. A library the project does not declare is what `pip install`
picks: its latest release, which has the support.
"""

from __future__ import annotations

from collections.abc import Iterable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

_LATEST = Version("999999")
"""A release later than any: a range without an upper bound allows it."""


def first_working(requirement: str) -> tuple[str, Version] | None:
    """(normalised name, the first release that works) of a catalog requirement `name>=version`; None if malformed.

    packaging's requirement parser (with its markers, tags and logging: a twelfth of start-up) is
    imported here, when the project index first asks, not by every run that loads the catalog."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        parsed = Requirement(requirement)
    except InvalidRequirement:
        return None
    floors = [spec.version for spec in parsed.specifier if spec.operator == ">="]
    if len(floors) != 1 or len(parsed.specifier) != 1:
        return None
    try:
        return canonicalize_name(parsed.name), Version(floors[0])
    except InvalidVersion:
        return None


def excluding(requirement: str, declared: Iterable[tuple[str, str]]) -> str | None:
    """The first declared range of the requirement's library that allows no working release
    (`bitsandbytes==0.43.1`, `bitsandbytes<0.45`), as written; None when every declared range allows one."""
    working = first_working(requirement)
    if working is None:
        return None
    name, floor = working
    for declared_name, specifier in declared:
        if declared_name == name and not _allows_from(specifier, floor):
            return f"{declared_name}{specifier}"
    return None


def _allows_from(specifier: str, floor: Version) -> bool:
    """Whether `specifier` allows `floor` or a later release: the floor itself, a bound the range
    names at or above it (`>=0.50`, `==0.52.0`), or any release at all above every bound."""
    try:
        allowed = SpecifierSet(specifier)
    except InvalidSpecifier:
        return True  # what pip cannot read does not exclude anything it installs
    candidates = [floor, _LATEST]
    for spec in allowed:
        try:
            version = Version(spec.version)
        except InvalidVersion:
            continue  # `==0.49.*`: the floor itself answers
        if version >= floor:
            candidates.append(version)
    return any(allowed.contains(candidate, prereleases=True) for candidate in candidates)
