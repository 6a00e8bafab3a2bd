"""A lock file as the requirements it pins: the input from which a target's set is locked again.

A lock file resolved on a CUDA machine cannot be edited into a ROCm or CPU one: its hashes,
wheel URLs and dependency graph belong to the CUDA builds. What can be carried over is every
package's pinned version, written as a requirements file that `cudaudit resolve` then rewrites
like any other and `pip-compile` (or `uv pip compile`) locks again. Packages the project
installs from its own source (itself, a folder, a git checkout) have no pin to carry over and
are left out, and so is `triton` next to torch: the CUDA torch wheels require it, while the
ROCm ones bring their own (`pytorch-triton-rocm`) and the CPU ones none.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import PurePath

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from cudaudit.rules.dependencies.lockfiles import LockedPackage, locked_packages

TORCH_TRITON_SOURCE = "https://github.com/pytorch/pytorch/blob/main/.github/scripts/build_triton_wheel.py"
"""PyTorch builds its Triton as `pytorch-triton-rocm` for ROCm: a `triton` wheel beside it would own the same module."""


@dataclass(frozen=True)
class LockInput:
    text: str
    """The requirements, one `name==version` per line, under a header that says where they come from."""
    notes: tuple[str, ...]
    """What did not carry over as written: packages left out, and why; one version kept of several."""
    lines: dict[int, int]
    """The line of each requirement in `text` -> the line of its package in the lock file."""


def lock_input(text: str, path: str) -> LockInput:
    """The pinned packages of the lock file `text` (named `path`) as a requirements file.

    Raises `UnparsableError` for a lock file that does not parse."""
    every = locked_packages(text, path)[0]
    packages = _newest_of_each(every)
    starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
    names = {canonicalize_name(p.name) for p in packages}
    lines = [
        f"# The packages pinned by {PurePath(path).name}, for `cudaudit resolve`: lock this file again",
        "# (pip-compile, uv pip compile) against the target's index; transitive pins may move.",
    ]
    notes = [
        f"{p.name}: {PurePath(path).name} pins it once per platform or Python; the newest, {p.version}, is carried over"
        for p in packages
        if sum(canonicalize_name(q.name) == canonicalize_name(p.name) for q in every) > 1
    ]
    origin = {}
    for package in packages:
        name = canonicalize_name(package.name)
        if not name:
            continue
        if package.own_source:
            notes.append(f"left out {package.name}: installed from its own source, not from an index")
        elif name == "triton" and "torch" in names:
            notes.append(f"left out triton: pinned by the CUDA torch wheels; the target's torch brings its own ({TORCH_TRITON_SOURCE})")
        else:
            lines.append(package.name + _version(package.version))
            origin[len(lines)] = bisect.bisect_right(starts, package.start)
    return LockInput("\n".join(lines) + "\n", tuple(notes), origin)


def _newest_of_each(packages: list[LockedPackage]) -> list[LockedPackage]:
    """One entry per package: uv locks a package once per platform or Python range it forks on
    (`torch 2.7.0` for macOS, `2.7.0+cu128` for Linux); the variant takes the newest, and says so."""
    newest: dict[str, LockedPackage] = {}
    for package in packages:
        name = canonicalize_name(package.name)
        current = newest.get(name)
        if current is None or _sort_key(package.version) > _sort_key(current.version):
            newest[name] = package
    return [p for p in packages if newest.get(canonicalize_name(p.name)) is p]


def _sort_key(version: str) -> Version:
    try:
        return Version(version)
    except InvalidVersion:
        return Version("0")


def _version(version: str) -> str:
    """A locked `2.1.2`, a Pipfile `==2.1.2`, `>=1.0` or `*` as a requirement's version part."""
    version = version.strip()
    if not version or version == "*":
        return ""
    return f"=={version}" if version[0].isdigit() else version
