"""Decide what kinds of file a path is, from its name and, for scripts, its first line.

A file can be of more than one kind: `setup.py` is Python source and a dependency list.
"""

from __future__ import annotations

import fnmatch
import re
from enum import Enum
from functools import lru_cache
from pathlib import PurePath

from cudaudit.project_roots import within_project


class FileKind(str, Enum):
    PYTHON = "python"
    CUDA = "cuda"
    """CUDA and C/C++ sources (C++ counts only when it uses CUDA, which the prefilter decides)."""
    DOCKERFILE = "dockerfile"
    REQUIREMENTS = "requirements"
    PYPROJECT = "pyproject"
    SETUP = "setup"
    """`setup.py` and `setup.cfg` as dependency lists (read statically, never run)."""
    LOCKFILE = "lockfile"
    CONDA = "conda"
    PIXI = "pixi"
    """pixi manifests (`pixi.toml`): conda and PyPI dependencies per feature."""
    COMPOSE = "compose"
    WORKFLOW = "workflow"
    MANIFEST = "manifest"
    """Any other YAML: Kubernetes manifests and Helm values are recognised by content."""
    CMAKE = "cmake"
    SHELL = "shell"
    """Shell scripts (`*.sh`, `*.bash`, or a shell shebang on a file named explicitly)."""
    MAKEFILE = "makefile"
    """Makefiles: their recipes are shell scripts."""
    NOTEBOOK = "notebook"
    """Jupyter notebooks: code cells are Python, `!`/`%pip` lines and `%%bash` cells are shell."""


_BY_SUFFIX = {
    ".py": (FileKind.PYTHON,),
    ".pyw": (FileKind.PYTHON,),
    ".cu": (FileKind.CUDA,),
    ".cuh": (FileKind.CUDA,),
    ".cpp": (FileKind.CUDA,),
    ".cc": (FileKind.CUDA,),
    ".cxx": (FileKind.CUDA,),
    ".c": (FileKind.CUDA,),
    ".h": (FileKind.CUDA,),
    ".hpp": (FileKind.CUDA,),
    ".hh": (FileKind.CUDA,),
    ".inl": (FileKind.CUDA,),
    ".cmake": (FileKind.CMAKE,),
    ".sh": (FileKind.SHELL,),
    ".bash": (FileKind.SHELL,),
    ".mk": (FileKind.MAKEFILE,),
    ".ipynb": (FileKind.NOTEBOOK,),
}
_BY_NAME = {
    "setup.py": (FileKind.PYTHON, FileKind.SETUP),
    "setup.cfg": (FileKind.SETUP,),
    "pyproject.toml": (FileKind.PYPROJECT,),
    "cmakelists.txt": (FileKind.CMAKE,),
    "dockerfile": (FileKind.DOCKERFILE,),
    "containerfile": (FileKind.DOCKERFILE,),
    "uv.lock": (FileKind.LOCKFILE,),
    "poetry.lock": (FileKind.LOCKFILE,),
    "pdm.lock": (FileKind.LOCKFILE,),
    "pipfile": (FileKind.LOCKFILE,),
    "pipfile.lock": (FileKind.LOCKFILE,),
    "pylock.toml": (FileKind.LOCKFILE,),
    "pixi.toml": (FileKind.PIXI,),
    "makefile": (FileKind.MAKEFILE,),
    "gnumakefile": (FileKind.MAKEFILE,),
}
_NOT_DOCKERFILES = (
    ".md", ".mdx", ".rst", ".txt", ".html", ".dockerignore", ".json", ".yml", ".yaml", ".sh", ".py", ".lock",
)
"""`Dockerfile.md`, `dockerfile_build_guidance.rst` and `Dockerfile.dockerignore` sit next to
Dockerfiles or write about them but are not ones: read as a Dockerfile, a document fails to parse."""
_BY_PATTERN = [
    ("dockerfile[._-]*", FileKind.DOCKERFILE),
    ("*.dockerfile", FileKind.DOCKERFILE),
    ("containerfile[._-]*", FileKind.DOCKERFILE),
    # Spelled loosely: `requirement.txt` and `requirments_cpu.txt` are what their READMEs install with `pip install -r`.
    ("*requir*.txt", FileKind.REQUIREMENTS),
    ("*requir*.in", FileKind.REQUIREMENTS),
    ("constraints*.txt", FileKind.REQUIREMENTS),
    ("pylock.*.toml", FileKind.LOCKFILE),
    ("environment*.yml", FileKind.CONDA),
    ("environment*.yaml", FileKind.CONDA),
    ("conda*.yml", FileKind.CONDA),
    ("conda*.yaml", FileKind.CONDA),
    ("docker-compose*.yml", FileKind.COMPOSE),
    ("docker-compose*.yaml", FileKind.COMPOSE),
    ("compose*.yml", FileKind.COMPOSE),
    ("compose*.yaml", FileKind.COMPOSE),
]
_ANY_PATTERN = re.compile("|".join(fnmatch.translate(pattern) for pattern, _ in _BY_PATTERN))
"""Whether a name matches some pattern of `_BY_PATTERN`: one match for most files, which match none."""
REQUIREMENTS_FOLDERS = frozenset({"requirements", "reqs"})
"""Folders a project keeps its requirements files in (`requirements/dev.txt`)."""
TEST_DIRS = frozenset({"test", "tests", "testing", "unittests", "unit_tests"})
"""Folders of a project's tests."""


BENCHMARK_DIRS = frozenset({"benchmark", "benchmarks", "benchmarking", "bench", "benches"})
"""Folders of a project's benchmarks."""


def _place(path: str) -> tuple[list[str], str]:
    """The lowered folders of a reported path inside its project (`project_roots`), and its file name."""
    return _parts(within_project(path))


def _parts(place: str) -> tuple[list[str], str]:
    """The lowered folders of a path inside its project, and its file name."""
    *folders, name = place.lower().replace("\\", "/").split("/")
    return folders, name


def is_benchmark_path(path: str) -> bool:
    """A benchmark, by its folders in its project (`benchmarks/`) or its name (`bench_x.py`, `benchmark_x.py`,
    `bench.py`)."""
    folders, name = _place(path)
    stem = name.rsplit(".", 1)[0]
    return any(part in BENCHMARK_DIRS for part in folders) or stem.startswith(("bench_", "benchmark")) or stem == "bench"


_CONFIGURATION_SUFFIXES = (".yaml", ".yml", ".json", ".toml", ".cfg", ".ini")
"""Files whose `_test` or `test_` names the data split a run evaluates on (`retrieval_coco_test.yaml`), not a test."""


def is_test_path(path: str) -> bool:
    """A test module, by its folders in its project (`tests/`, not a folder above the project:
    `project_roots`) or, for code and requirements, its name (`test_x.py`, `x_test.py`, `conftest.py`,
    `requirements_test.txt`; a configuration's name is not read: `_CONFIGURATION_SUFFIXES`)."""
    return _is_test_place(within_project(path))


def is_named_test(path: str) -> bool:
    """A module that `is_test_path` reads as a test by its name alone (`test_x.py` in no test folder):
    the one reading a documented command of it overrides (`facts.in_test_suite`)."""
    folders, _ = _place(path)
    return is_test_path(path) and not any(part in TEST_DIRS for part in folders)


@lru_cache(maxsize=16384)
def _is_test_place(place: str) -> bool:
    """`is_test_path` of a path inside its project; kept per path, which the project index's readers ask
    about once or more for every module of the scan (45,000 times on the seven speed trees)."""
    folders, name = _parts(place)
    if any(part in TEST_DIRS for part in folders):
        return True
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem = suffix
    elif "." + suffix in _CONFIGURATION_SUFFIXES:
        return False
    return stem.startswith("test_") or stem.endswith("_test") or stem == "conftest"


_PYTHON_SHEBANG = re.compile(rb"^#![^\n]*\bpython[0-9.]*\b")
_SHELL_SHEBANG = re.compile(rb"^#![^\n]*\b(?:ba|da|z)?sh\b")

EMBEDDED_KINDS = {FileKind.NOTEBOOK: (FileKind.PYTHON, FileKind.SHELL)}
"""Kinds whose files hold code of other kinds: a rule of those kinds may fire in them too."""

TARGET_FIXED_KINDS = (FileKind.REQUIREMENTS, FileKind.PYPROJECT, FileKind.CONDA, FileKind.DOCKERFILE, FileKind.WORKFLOW)
"""Kinds whose analyzers attach fixes when one target is named (`cudaudit fix --target`), rewritten by the
text fixer; the report counts only their sites as rewritable for a target."""

EXAMPLE_NAMES = {
    FileKind.PYTHON: "example.py",
    FileKind.CUDA: "kernel.cu",
    FileKind.DOCKERFILE: "Dockerfile",
    FileKind.REQUIREMENTS: "requirements.txt",
    FileKind.PYPROJECT: "pyproject.toml",
    FileKind.SETUP: "setup.py",
    FileKind.LOCKFILE: "uv.lock",
    FileKind.CONDA: "environment.yml",
    FileKind.PIXI: "pixi.toml",
    FileKind.COMPOSE: "docker-compose.yml",
    FileKind.WORKFLOW: ".github/workflows/ci.yml",
    FileKind.MANIFEST: "deployment.yaml",
    FileKind.CMAKE: "CMakeLists.txt",
    FileKind.SHELL: "run.sh",
    FileKind.MAKEFILE: "Makefile",
    FileKind.NOTEBOOK: "notebook.ipynb",
}
"""The file name a rule's examples are analysed under, unless the rule names its own."""


DOCUMENT_SUFFIXES = frozenset({".md", ".mdx", ".rst"})


TEST_CONFIGURATIONS = frozenset({"pytest.ini", "tox.ini"})
"""pytest's own configuration files that are no dependency list (`setup.cfg` and `pyproject.toml` are
read as their kinds): the project index reads which tests they leave out of every run."""


def is_test_configuration(path: PurePath) -> bool:
    """`pytest.ini`, `tox.ini`: no analyzer reads them, the project index does."""
    return path.name.lower() in TEST_CONFIGURATIONS


LICENSE_NAMES = ("license", "licence", "copying")
"""The starts of a license file's name (`LICENSE`, `LICENSE.md`, `COPYING`)."""


def is_license(path: PurePath) -> bool:
    """A license file (`LICENSE`, `COPYING`): no analyzer reads it, but one of its own, beside its own
    README, marks a folder as a copy of another program (`rules/python/copied_projects.py`)."""
    return path.name.lower().startswith(LICENSE_NAMES)


def is_document(path: PurePath) -> bool:
    """A project's prose (`README.md`, `docs/docker.md`, `install.rst`): no analyzer reads it, but it
    says which of the project's files a user is told to run (the project index reads it for that)."""
    return path.suffix.lower() in DOCUMENT_SUFFIXES or path.name.lower().startswith("readme")


def classify(path: PurePath, head: bytes | None = None) -> tuple[FileKind, ...]:
    """The kinds of `path`; empty when cudaudit has no analyzer for it.

    `head`, the file's first bytes, lets an extension-less script be recognised by its
    shebang; callers pass it only for files named explicitly, to avoid reading every file.
    """
    name = path.name.lower()
    if name in _BY_NAME:
        return _BY_NAME[name]
    for pattern, kind in _BY_PATTERN if _ANY_PATTERN.match(name) else ():
        if fnmatch.fnmatchcase(name, pattern):
            if kind is FileKind.DOCKERFILE and name.endswith(_NOT_DOCKERFILES):
                continue
            return (kind,)
    suffix = path.suffix.lower()
    if suffix in (".yml", ".yaml"):
        parts = [p.lower() for p in path.parts]
        if len(parts) >= 3 and parts[-3:-1] == [".github", "workflows"]:
            return (FileKind.WORKFLOW,)
        return (FileKind.MANIFEST,)
    if suffix in (".txt", ".in") and len(path.parts) >= 2 and path.parts[-2].lower() in REQUIREMENTS_FOLDERS:
        return (FileKind.REQUIREMENTS,)
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if head is not None and not suffix and _PYTHON_SHEBANG.match(head):
        return (FileKind.PYTHON,)
    if head is not None and not suffix and _SHELL_SHEBANG.match(head):
        return (FileKind.SHELL,)
    return ()
