"""The oldest PyTorch a project allows, read from its dependency files (never by running them).

Fixes may only use APIs that every allowed PyTorch has: `torch.accelerator` exists from 2.6,
its memory functions from 2.9. A lock file's exact version wins over a requirement range; a
range's lower bound is the answer; no pin at all means unknown, and fixes then use APIs
every PyTorch 2.x has.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from packaging.version import InvalidVersion, Version

from cudaudit.safe_read import read_tree_file

T = TypeVar("T")

_LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "pylock.toml")
_REQUIREMENT_GLOBS = ("requirements*.txt", "requirements*.in", "requirements/*.txt")
_CONDA_GLOBS = ("environment*.yml", "environment*.yaml")
_CONDA_PIN = re.compile(r"^[ \t]*-[ \t]*(?:[\w-]+::)?(?:pytorch|torch)[ \t]*(==?|>=|~=)[ \t]*(\d+\.\d+)", re.MULTILINE)
"""`- pytorch=1.7.0`, `- pytorch::pytorch>=2.1`, `- torch==2.3.1` (in a `pip:` list)."""


def project_torch_version(root: Path) -> Version | None:
    """The project's oldest allowed PyTorch (major.minor), or None when nothing pins it.

    Each file is read inside `root` with `read_tree_file` and parsed on its own: a file that is
    missing, special, a link out of the project, too deep or of the wrong shape adds nothing.
    """
    from cudaudit.resolvers.requirements import requirement_strings  # see `pin_files`

    locked = next(filter(None, (_from_file(root / name, root, _locked_version) for name in _LOCK_FILES)), None)
    if locked is not None:
        return locked
    requirements = _from_file(root / "pyproject.toml", root, _pyproject_requirements) or []
    for pattern in _REQUIREMENT_GLOBS:
        for path in sorted(root.glob(pattern)):
            requirements.extend(_from_file(path, root, requirement_strings) or [])
    bounds = [bound for text in requirements if (bound := _lower_bound(text)) is not None]
    for pattern in _CONDA_GLOBS:
        for path in sorted(root.glob(pattern)):
            bounds.extend(_from_file(path, root, _conda_bounds) or [])
    return min(bounds) if bounds else None


def pin_files(root: Path) -> list[Path]:
    """Every file `project_torch_version` may read in `root`, by the same names and patterns: what
    its answer depends on. A scan keeps the answer while none of them changes, and then never
    imports the readers of requirements and TOML this module leaves to the reading itself."""
    named = [root / name for name in (*_LOCK_FILES, "pyproject.toml")]
    return named + [path for pattern in (*_REQUIREMENT_GLOBS, *_CONDA_GLOBS) for path in sorted(root.glob(pattern))]


def _from_file(path: Path, root: Path, read: Callable[[str], T]) -> T | None:
    """`read(text)` of one file, or None when the file cannot be read or `read` fails on it."""
    try:
        return read(read_tree_file(path, root).decode("utf-8"))
    except Exception:  # noqa: BLE001 - one odd file must not stop the session; its own scan reports it
        return None


def _conda_bounds(text: str) -> list[Version]:
    return [Version(match.group(2)) for match in _CONDA_PIN.finditer(text)]


def _locked_version(text: str) -> Version | None:
    from cudaudit.tomlcompat import tomllib

    data = _table(tomllib.loads(text))
    packages = data.get("package", data.get("packages", []))
    for package in packages if isinstance(packages, list) else []:
        if isinstance(package, dict) and package.get("name") == "torch" and isinstance(package.get("version"), str):
            return _minor(package["version"])
    return None


def _pyproject_requirements(text: str) -> list[str]:
    from cudaudit.tomlcompat import tomllib

    project = _table(_table(tomllib.loads(text)).get("project"))
    texts = _strings(project.get("dependencies"))
    for extra in _table(project.get("optional-dependencies")).values():
        texts.extend(_strings(extra))
    return texts


def _table(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _lower_bound(text: str) -> Version | None:
    from cudaudit.resolvers.requirements import parse_requirement

    requirement = parse_requirement(text)
    if requirement is None or requirement.name.lower() != "torch":
        return None
    minors = (_minor(spec.version) for spec in requirement.specifier if spec.operator in (">=", "==", "~=", "===", ">"))
    bounds = [bound for bound in minors if bound is not None]
    return min(bounds) if bounds else None


def _minor(text: str) -> Version | None:
    match = re.match(r"\d+\.\d+", text)
    try:
        return Version(match.group(0)) if match else None
    except InvalidVersion:
        return None
