"""Build steps that make a Dockerfile stage built on a CUDA image a CUDA build.

Each is a `stage-build` key of the catalog, reported only inside a CUDA stage (`stages.py`):

* `pypi-torch`: `pip install torch` (torchvision, torchaudio) from PyPI, whose Linux x86_64
  wheels are PyTorch's CUDA build; an index or find-links page other than a PyPI mirror, uv's
  `--torch-backend`, or a `+cuXXX`/`+cpu` pin chose the build on purpose (a CUDA index is CDA601's);
* `extension-build`: a source build of a Python project (`pip install .`, `-e .`, a VCS URL,
  `setup.py install`, `python -m build`) while a variable asks for CUDA kernels
  (`TORCH_CUDA_ARCH_LIST`, `FORCE_CUDA=1`), unless it builds the project's own files (a folder
  the build context was copied to, `context.py`, or a `git clone` of the repository the project's
  declaration names as its home, `home_repository.py`) and the project compiles nothing
  (`FileFacts.pure_python`): that install is the same in any image, and the base is the lock-in;
* `cmake-cuda`: `cmake -D...` or `make X=1` turning on a CUDA build (`-DUSE_CUDA=ON`,
  `-DCMAKE_CUDA_ARCHITECTURES=86`); switches the catalog knows by name (ggml's) are their own rule's.

What each step is on ROCm and CPU is the catalog's answer; the replacement of PyPI's torch names
the ROCm index of the torch release the step installs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from cudaudit.facts import Evidence
from cudaudit.resolvers.requirements import index_location, parse_requirement, pinned_torch
from cudaudit.resolvers.wheel_indexes import PYTORCH_WHEELS, release_for, releases, torch_version_of
from cudaudit.rules.builds.home_repository import repository_address
from cudaudit.rules.catalog import Entry
from cudaudit.rules.containers.commands import Command, pip_install, source_build, variable_assignments
from cudaudit.rules.containers.context import resolve, within
from cudaudit.rules.containers.images import fill, fill_targets
from cudaudit.rules.containers.script_scan import BUILD_SWITCH, ScriptScan
from cudaudit.rules.containers.shell import Word
from cudaudit.rules.containers.stages import Stage, capped
from cudaudit.rules.dependencies.report import Placed

STAGE_BUILD = "stage-build"
PYPI_TORCH = "pypi-torch"
EXTENSION_BUILD = "extension-build"
CMAKE_CUDA = "cmake-cuda"

_TORCH_FAMILY = frozenset({"torch", "torchvision", "torchaudio"})
_INDEX_VARIABLES = frozenset(
    {
        "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL",
        "UV_INDEX", "UV_DEFAULT_INDEX", "UV_FIND_LINKS", "UV_TORCH_BACKEND",
    }
)
"""Variables through which pip and uv are given an index (or uv a PyTorch build) without an option."""
_CUDA_BUILD_VARIABLES = re.compile(r"^(?:TORCH_CUDA_ARCH_LIST|[A-Z0-9_]*CUDA_ARCHITECTURES|FORCE_CUDA|BUILD_CUDA_EXT)$")
"""Variables that ask a PyTorch extension build (`torch.utils.cpp_extension`, AutoGPTQ's, tiny-cuda-nn's) for CUDA kernels."""
_FLAGS = frozenset({"FORCE_CUDA", "BUILD_CUDA_EXT"})
"""Of those, the ones that are switches: set to `0` they ask for no CUDA build."""
_CLONE_VALUED = frozenset(
    {"-b", "--branch", "-o", "--origin", "-c", "--config", "-j", "--jobs", "-u", "--upload-pack", "--depth",
     "--reference", "--reference-if-able", "--separate-git-dir", "--template", "--filter", "--shallow-since",
     "--shallow-exclude"}
)
"""Options of `git clone` that take the next word as their value."""
_OFF = frozenset({"", "0", "off", "false", "no", "none"})
_ON = frozenset({"1", "on", "true", "yes", "cuda"})
_CMAKE_DEFINE = re.compile(r"^-D([A-Za-z_][A-Za-z0-9_]*)(?::[A-Z]+)?=(.*)$")
_MAKE_VARIABLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_VALUED = re.compile(r"(?:ARCHITECTURES|COMPILER|_FLAGS|TOOLKIT_ROOT_DIR)$")
"""CMake CUDA variables whose mere setting configures a CUDA build (`-DCMAKE_CUDA_ARCHITECTURES=86`)."""


@dataclass
class StageSteps:
    """Reads the commands of one CUDA stage's `RUN` steps; reports through the file's scan."""

    stage: Stage
    scan: ScriptScan
    pure_python: Evidence | None = None
    """Where the project shows that installing it compiles nothing (`FileFacts.pure_python`)."""
    homes: tuple[str, ...] = ()
    """The repositories the project names as its home (`FileFacts.home_repositories`)."""
    exported: dict[str, str] = field(default_factory=dict)
    """Variables exported earlier in the same `RUN` (each `RUN` is a new shell)."""
    cwd: str | None = None
    """The working directory of the `RUN`'s next command: the stage's, then where its `cd`s lead."""

    def __post_init__(self) -> None:
        self.cwd = self.stage.workdir

    def __call__(self, words: list[Word], found: Command | None, placed: Placed, variables: Mapping[str, str]) -> None:
        assigned = {name: word.text.partition("=")[2] for word, name in variable_assignments(words)}
        if found is not None and found.name == "cd":
            self.cwd = resolve(found.arguments[0].text, self.cwd) if len(found.arguments) == 1 else None
            return
        if found is None or found.name in ("export", "declare", "typeset"):
            self.exported.update(assigned)
            return
        if found.name == "git":
            self._own_clone(found)
            return
        environment = {**self.stage.environment, **variables, **self.exported, **assigned}
        self._pypi_torch(found, placed, environment)
        self._extension_build(words, found, placed, environment)
        self._cmake_cuda(found, placed)

    def _pypi_torch(self, found: Command, placed: Placed, environment: Mapping[str, str]) -> None:
        install = pip_install(found)
        if install is None or _chooses_build(install.indexes, install.options, environment):
            return
        texts = [word.text for word in install.requirements]
        for word in install.requirements:
            requirement = parse_requirement(word.text)
            if requirement is None or requirement.url or canonicalize_name(requirement.name) not in _TORCH_FAMILY:
                continue
            if any("+" in spec.version for spec in requirement.specifier):
                continue  # a `+cu121`/`+cpu` pin chose its build (CDA602 reports the CUDA ones)
            torch = _installed_release(canonicalize_name(requirement.name), requirement, texts)
            self._report(PYPI_TORCH, placed, word, len(requirement.name), _torch_fields(torch))

    def _extension_build(
        self, words: list[Word], found: Command, placed: Placed, environment: Mapping[str, str]
    ) -> None:
        asked = [name for name, value in environment.items() if _asks_for_cuda(name, value)]
        if not asked:
            return
        target = source_build(found)
        if target is None or self._builds_pure_project(target):
            return
        start, _ = found.program.offsets(0, len(found.program.text))
        _, end = target.offsets(0, len(target.text))
        text = " ".join(w.text for w in words[words.index(found.program) : words.index(target) + 1])
        entry = self._entry(EXTENSION_BUILD, {"variable": sorted(asked)[0]})
        if entry is not None:
            self.scan.report(entry, placed, start, end, text)

    def _own_clone(self, found: Command) -> None:
        """`git clone URL [DIR]` of the project's own repository: DIR holds the project's files for the
        rest of the stage, as a folder `COPY . DIR` filled does."""
        words = [word.text for word in found.arguments]
        if not words or words[0] != "clone":
            return
        positional: list[str] = []
        skip = False
        for text in words[1:]:
            if skip:
                skip = False
            elif text.startswith("-"):
                skip = text in _CLONE_VALUED
            else:
                positional.append(text)
        if not positional or repository_address(positional[0]) not in self.homes:
            return
        name = positional[0].rstrip("/").rpartition("/")[2].removesuffix(".git")
        folder = resolve(positional[1] if len(positional) > 1 else name, self.cwd)
        if folder is not None:
            self.stage.context += (folder,)

    def _builds_pure_project(self, target: Word) -> bool:
        """Whether the source build `target` names (a folder, or `setup.py`'s command, which builds the
        working directory) is of the project's own files, in a project that compiles nothing."""
        if self.pure_python is None or target.text.startswith(("git+", "hg+", "svn+", "bzr+")) or "@" in target.text:
            return False
        folder = target.text.partition("[")[0] if target.text.startswith((".", "/")) else "."
        return within(resolve(folder, self.cwd), self.stage.context)

    def _cmake_cuda(self, found: Command, placed: Placed) -> None:
        if found.name == "cmake":
            pattern = _CMAKE_DEFINE
        elif found.name in ("make", "gmake"):
            pattern = _MAKE_VARIABLE
        else:
            return
        defined = [(word, m.group(1), m.group(2).strip().lower()) for word in found.arguments if (m := pattern.match(word.text))]
        # `-DGGML_CUDA=OFF -DCMAKE_CUDA_ARCHITECTURES=86`: the architectures wait for a switch that is off.
        switched_off = any("CUDA" in name.upper() and value in _OFF for _, name, value in defined)
        for word, name, value in defined:
            if self.scan.catalog.lookup(BUILD_SWITCH, name) is not None or not _turns_on_cuda(name, value):
                continue
            if switched_off and _VALUED.search(name.upper()):
                continue
            self._report(CMAKE_CUDA, placed, word, len(word.text), {})

    def _report(self, key: str, placed: Placed, word: Word, length: int, fields: dict[str, str]) -> None:
        entry = self._entry(key, fields)
        if entry is not None:
            self.scan.report_word(entry, placed, word, 0, length)

    def _entry(self, key: str, fields: dict[str, str]) -> Entry | None:
        """The catalog's entry for `key`, its replacements filled and its severities capped by the stage."""
        entry = self.scan.catalog.lookup(STAGE_BUILD, key)
        if entry is None:
            return None
        targets = capped(fill_targets(entry.targets, fields), self.stage)
        return replace(entry, message=fill(entry.message, fields), targets=targets)


def _chooses_build(indexes: tuple[tuple[Word, int], ...], options: tuple[Word, ...], environment: Mapping[str, str]) -> bool:
    """Whether the install names where torch comes from: an index that is not a PyPI mirror, or uv's backend."""
    urls = [word.text[start:] for word, start in indexes]
    urls += [value for name, value in environment.items() if name in _INDEX_VARIABLES and name != "UV_TORCH_BACKEND"]
    if environment.get("UV_TORCH_BACKEND") or any(w.text.startswith("--torch-backend") for w in options):
        return True
    return any("pypi" not in index_location(url.partition("=")[2] if "=" in url.split("://")[0] else url) for url in urls)


def _installed_release(name: str, requirement: Requirement, texts: list[str]) -> Version | None:
    """The torch release an install resolves to: its own `==` pin, another of the family's, else the newest."""
    for spec in requirement.specifier:
        if spec.operator in ("==", "===") and "*" not in spec.version:
            found = torch_version_of(name, spec.version)
            if found is not None:
                return found
    return pinned_torch(texts)


def _torch_fields(torch: Version | None) -> dict[str, str]:
    """`{rocm_index}`, `{release}` and `{pypi_build}` for the replacements of `pypi-torch`."""
    release = release_for(torch) if torch is not None else releases()[-1]
    if release is None:
        return {"rocm_index": f"{PYTORCH_WHEELS}/rocmX.Y", "release": f"torch {torch}", "pypi_build": "a CUDA build"}
    tag = release.rocm_tag(torch)
    version = str(torch) if torch is not None else f"{release.torch} (the newest release; pin it)"
    return {
        "rocm_index": f"{PYTORCH_WHEELS}/{tag[0]}" if tag else f"{PYTORCH_WHEELS}/rocmX.Y",
        "release": f"torch {version}",
        "pypi_build": f"its `{release.pypi_cuda}` build" if release.pypi_cuda else "a CUDA build",
    }


def _asks_for_cuda(name: str, value: str) -> bool:
    if not _CUDA_BUILD_VARIABLES.match(name):
        return False
    return value.strip().lower() in _ON if name in _FLAGS else value.strip().lower() not in _OFF


def _turns_on_cuda(name: str, value: str) -> bool:
    if "CUDA" not in name.upper() and value != "cuda":
        return False
    if _VALUED.search(name.upper()):
        return value not in _OFF
    return value in _ON
