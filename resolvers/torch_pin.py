"""The oldest PyTorch a project allows, read from its dependency files (never by running them).

Fixes may only use APIs that every allowed PyTorch has: `torch.accelerator` exists from 2.6,
its memory functions from 2.9. A lock file's exact version wins over a requirement range; a
range's lower bound is the answer; no pin at all means unknown, and fixes then use APIs
every PyTorch 2.x has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from packaging.version import InvalidVersion, Version

from cudaudit.resolvers.requirements import parse_requirement
from cudaudit.rules.dependencies.requirements_file import requirement_strings
from cudaudit.tomlcompat import tomllib

_LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "pylock.toml")
_REQUIREMENT_GLOBS = ("requirements*.txt", "requirements*.in", "requirements/*.txt")
_CONDA_GLOBS = ("environment*.yml", "environment*.yaml")
_CONDA_PIN = re.compile(r"^\s*-\s*(?:[\w-]+::)?(?:pytorch|torch)\s*(==?|>=|~=)\s*(\d+\.\d+)", re.MULTILINE)
"""`- pytorch=1.7.0`, `- pytorch::pytorch>=2.1`, `- torch==2.3.1` (in a `pip:` list)."""


def project_torch_version(root: Path) -> Version | None:
    """The project's oldest allowed PyTorch (major.minor), or None when nothing pins it."""
    locked = _locked_version(root)
    if locked is not None:
        return locked
    requirements = list(_pyproject_requirements(root / "pyproject.toml"))
    for pattern in _REQUIREMENT_GLOBS:
        for path in sorted(root.glob(pattern)):
            requirements.extend(_requirement_lines(path))
    bounds = [bound for text in requirements if (bound := _lower_bound(text)) is not None]
    for pattern in _CONDA_GLOBS:
        for path in sorted(root.glob(pattern)):
            bounds.extend(_conda_bounds(path))
    return min(bounds) if bounds else None


def _conda_bounds(path: Path) -> list[Version]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    return [Version(match.group(2)) for match in _CONDA_PIN.finditer(text)]


def _locked_version(root: Path) -> Version | None:
    for name in _LOCK_FILES:
        path = root / name
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        for package in data.get("package", data.get("packages", [])):
            if isinstance(package, dict) and package.get("name") == "torch" and "version" in package:
                return _minor(package["version"])
    return None


def _pyproject_requirements(path: Path) -> Iterable[str]:
    try:
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    texts = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        texts.extend(extra)
    return [t for t in texts if isinstance(t, str)]


def _requirement_lines(path: Path) -> list[str]:
    try:
        return requirement_strings(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return []


def _lower_bound(text: str) -> Version | None:
    requirement = parse_requirement(text)
    if requirement is None or requirement.name.lower() != "torch":
        return None
    bounds = [_minor(spec.version) for spec in requirement.specifier if spec.operator in (">=", "==", "~=", "===", ">")]
    bounds = [b for b in bounds if b is not None]
    return min(bounds) if bounds else None


def _minor(text: str) -> Version | None:
    match = re.match(r"\d+\.\d+", text)
    try:
        return Version(match.group(0)) if match else None
    except InvalidVersion:
        return None
