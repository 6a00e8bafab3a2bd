"""The Dockerfiles, conda environment files, install scripts and notebooks nothing else in the project
names: images no one is told to build, environments no one is told to create, helpers no one is told to
run, notebooks no one is told to open.

A Dockerfile is a way to run the project when something leads a user or a job to it: a README or
document that names it or tells how to build it, a CI workflow that builds it (`context:
./docker/gpu`, `docker build -f docker/Dockerfile.gpu .`), a compose file's `build:`, a Makefile
or script. One that no other file of the scan names (detr's root `Dockerfile`, which its README,
install steps and CI never mention) is another path: whoever finds it may build it, but no
instruction of the project does.

What counts as naming it, in any other file's text, ignoring case: its file name as a word of its
own (`Dockerfile.gpu`, `[Dockerfile](Dockerfile)`, `docker/Dockerfile-uv-base`); for one with the
default name (`Dockerfile`, `Containerfile`), which `docker build DIR` finds by itself, also its
folder's name (`docker build docker/peft-gpu`, `context: ./docker/accelerate-gpu`) and any command
that builds or starts a context (`docker build`, `docker buildx`, `docker compose`,
`docker-compose`, `podman build`). A loose reading on purpose: a Dockerfile any such word may
reach keeps its verdicts.

A conda environment file is named the same way: its file name as a word of its own (`conda env create
-f environment.yml`, a Read the Docs `conda: environment:` key); one with conda's default name
(`environment.yml`, `environment.yaml`), which `conda env create` finds by itself, also by any such
command (`conda env create`, `conda env update`, `mamba env create`). The index asks this only of a
project that also declares an install of its own (requirements, `pyproject.toml`, `setup.py`): an
environment export no instruction names is then another path beside that install. Its own comment
names it too (`# conda env create -f environment.yml`): a file kept by hand as a way to install says
so, where an export carries no such line.

A notebook is named the same way, by its file name (`[demo](notebooks/demo.ipynb)`, `jupyter nbconvert
--execute demo.ipynb`) or, below the project's top, by its folder's name (`see the notebooks in examples/`): the
index asks this only of a project that holds Python modules outside its tests, beside which a notebook
no instruction opens is a developer's evaluation or scratch work (a benchmark notebook pinned to
`CUDA_VISIBLE_DEVICES='1'`), another path. In a project whose code is its notebooks, they are its route.

A requirements file beside a conda environment file that the README of their folder (or above) creates
(`conda env create -f environment.yml`) is another way to install, where no file names it but a
`setup.py` (which reads it for `pip install .`, a route the README does not show): the environment is
what users install, the requirements file what a user may try instead (`requirements_beside_environments`).
A README that also installs the package (`pip install -e .`, `python setup.py develop`) runs the
`setup.py` that reads it: then the `setup.py`'s mention names it too.

A shell script that installs packages (`pip install`, `conda install`; an image's build helper that
installs PyTorch from a CUDA index and builds FlashAttention) is named the same way, by its file name:
the index asks this only of a project that declares an install of its own, beside which a helper no
instruction runs is another path. Its own text names it too (`# Usage: bash setup_env.sh`). A script
that installs nothing (`run.sh`, `train.sh`) is how the project is run, named or not, and is not asked.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable

from cudaudit.facts import Evidence
from cudaudit.project_roots import lies_under
from cudaudit.rules.catalog import word_automaton

_DEFAULT_DOCKERFILES = frozenset({"dockerfile", "containerfile"})
_DEFAULT_ENVIRONMENTS = frozenset({"environment.yml", "environment.yaml"})
_BUILD = "<build>"
_CREATE = "<create>"
_COMMANDS = {
    _BUILD: ((b"docker", b"podman"), r"docker[ \t]+(?:buildx?|compose)\b|docker-compose\b|podman[ \t]+(?:build|compose)\b"),
    _CREATE: ((b"conda", b"mamba"), r"(?:micro)?(?:conda|mamba)[ \t]+env[ \t]+(?:create|update)\b"),
}
"""The commands that find a default-named file by themselves: what each starts with (a file that spells
none of those words, in any case, runs none) and its pattern."""

UNNAMED = "no README, document, workflow, compose file, Makefile or script of the project names it"
_LICENSES = ("license", "licence", "copying")
_INSTALLS = re.compile(rb"\b(?:pip3?|conda|mamba|micromamba|uv[ \t]+pip)[\"']?[ \t]+install\b")
"""A package manager's install command, as a shell script spells it (after any path, quoted or not:
`"$HOME/conda/bin/pip" install`)."""


def install_scripts(scripts: dict[str, Callable[[], bytes]]) -> list[str]:
    """The shell scripts of `scripts` (display path -> its bytes; unreadable ones raise and are skipped)
    that install packages (`_INSTALLS`)."""
    found = []
    for path, read in sorted(scripts.items()):
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable script installs nothing here; its own analysis reports it
            continue
        if b"install" in data and _INSTALLS.search(data):
            found.append(path)
    return found


def unnamed_files(
    paths: Iterable[str], others: dict[str, Callable[[], bytes]], top: str = "", own_word: Iterable[str] = (),
    copies: bool = True,
) -> dict[str, Evidence]:
    """Dockerfile, conda environment file, install script or notebook -> why it is another path, for each of `paths` (display
    paths) that no file of `others` (display path -> its bytes; unreadable ones raise and are skipped)
    names. `top` is the folder the scan's paths share: its name is the project's, which names no file
    in it. A file of `own_word` may name itself: an environment file whose comment says how to create
    it (`# conda env create -f environment.yml`) is kept by hand as a way to install, where an export
    (`conda env export`) carries no such line; so may an install script whose usage line names it.
    With `copies`, a mention by a file of a copy of another project (`_copied_projects`) of a file of
    that copy does not count: the copy's README tells that project's users how to install it. A build
    names what it compiles wherever it is written (a copy's own JIT `load()` of its header): `copies=False`."""
    own = frozenset(own_word)
    wanted = {path: _names(path, top) for path in sorted(paths)}
    words = sorted({word for names in wanted.values() for word in names} - _COMMANDS.keys())
    # One pattern per word, searched in the lowered text, that starts with the word itself and looks
    # behind it for the character before: the regex engine skips to each occurrence of a literal
    # prefix, where a pattern that starts with a lookbehind (or an alternation of every word) runs
    # at each byte of the file. A short word inside longer ones (`dev` in every `device`) made that
    # 0.6 s of a 10 s scan of seven trees.
    word_patterns = {word: _standalone(word.encode()) for word in words}
    # Which words a file spells at all, in one pass over it, where a byte search per word read each
    # file once per word; the patterns then run for those words alone.
    spelled = word_automaton(word.encode() for word in words)
    commands = {
        token: (starts, re.compile(pattern.encode()))
        for token, (starts, pattern) in _COMMANDS.items()
        if any(token in names for names in wanted.values())
    }
    copied = _copied_projects(others, top) if copies else []
    copy_of = {path: _nearest(path, copied) for path in wanted}
    named: set[str] = set()
    for path, read in others.items():
        if len(named) == len(wanted):
            break
        pending = [
            d for d in wanted
            if (d != path or d in own) and d not in named and not (copy_of[d] and lies_under(path, copy_of[d]))
        ]
        if not pending:
            continue
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable file names nothing; its own analysis reports it
            continue
        low = data.lower()  # ASCII case folding, as the patterns' \w is ASCII on bytes
        present = spelled.found(low) if spelled is not None else set()
        found = {word for word, pattern in word_patterns.items() if word.encode() in present and pattern.search(low)}
        found.update(
            token for token, (starts, pattern) in commands.items()
            if any(start in low for start in starts) and pattern.search(low)
        )
        named.update(d for d in pending if wanted[d] & found)
    return {path: Evidence(path, 1, _unnamed(copy_of[path])) for path in wanted if path not in named}


_PACKAGE_INSTALL = re.compile(
    rb"\b(?:pip3?|uv[ \t]+pip)[ \t]+install[ \t]+(?:-[-\w]+[ \t]+)*(?:-e[ \t]+)?\.(?:[ \t\[]|$)|\bsetup\.py[ \t]+(?:install|develop)\b",
    re.MULTILINE,
)
"""An install of the package in the current folder: `pip install -e .`, `pip install .[dev]`, `python setup.py develop`."""


def created_environments(
    environments: Iterable[str], readmes: dict[str, tuple[str, Callable[[], bytes]]], top: str = ""
) -> dict[str, tuple[str, int, bool]]:
    """Conda environment file -> (the README that creates it, the line of its `conda env create`
    command, whether that README also installs the package itself: `pip install -e .`), for each of
    `environments` (display paths) whose nearest README at or above it (`readmes`: folder -> (display
    path, its bytes)) spells such a command, and the file's name unless conda finds it by its default
    name. The environment is then what users install."""
    create = re.compile(_COMMANDS[_CREATE][1].encode(), re.IGNORECASE)
    found: dict[str, tuple[str, int, bool]] = {}
    for path in sorted(environments):
        readme = _nearest_readme(posixpath.dirname(path), readmes)
        if readme is None:
            continue
        name, read = readme
        try:
            text = read()
        except Exception:  # noqa: BLE001 - an unreadable README creates nothing; its own reading says why
            continue
        command = create.search(text)
        if command is None or not (_names(path, top) & {_CREATE} or posixpath.basename(path).lower().encode() in text.lower()):
            continue
        found[path] = (name, text.count(b"\n", 0, command.start()) + 1, _PACKAGE_INSTALL.search(text) is not None)
    return found


def requirements_beside_environments(
    requirements: Iterable[str],
    created: dict[str, tuple[str, int, bool]],
    others: dict[str, Callable[[], bytes]],
    setups: Iterable[str],
    top: str = "",
) -> dict[str, Evidence]:
    """Requirements file -> why it is another path, for each of `requirements` (display paths) in the
    folder of an environment the README creates (`created`: `created_environments`), where no file of
    `others` names the requirements file, the `setups` (`setup.py` files) aside unless that README
    installs the package itself (`pip install -e .`)."""
    by_folder: dict[str, str] = {}
    for environment in sorted(created):
        by_folder.setdefault(posixpath.dirname(environment), environment)
    candidates = {path: by_folder[posixpath.dirname(path)] for path in requirements if posixpath.dirname(path) in by_folder}
    found: dict[str, Evidence] = {}
    for installed in (True, False):
        judged = [path for path, environment in candidates.items() if created[environment][2] is installed]
        if not judged:
            continue
        left_out = frozenset(() if installed else setups)
        naming = {path: read for path, read in others.items() if path not in left_out}
        for path in unnamed_files(judged, naming, top, copies=False):
            environment = candidates[path]
            readme, line, _ = created[environment]
            found[path] = Evidence(
                readme, line,
                f"the README installs the conda environment `{environment}`, and no README, document or script of "
                "the project installs this file",
            )
    return found


def _nearest_readme(folder: str, readmes: dict[str, tuple[str, Callable[[], bytes]]]) -> tuple[str, Callable[[], bytes]] | None:
    """The README of `folder` or of the nearest folder above it that has one."""
    above = None
    while folder != above:
        if folder in readmes:
            return readmes[folder]
        folder, above = posixpath.dirname(folder), folder
    return None


def _unnamed(copy: str) -> str:
    """Why nothing names a file, inside a copy of another project or not."""
    if not copy:
        return UNNAMED
    return (
        f"only the files of `{copy}/`, a copy of another project (a README and a license of its own), name it: "
        "they tell that project's users how to use it, and no README, document, workflow, compose file, Makefile "
        "or script of the project around it names it"
    )


def _copied_projects(files: Iterable[str], top: str) -> list[str]:
    """The folders below `top` that hold a README and a license of their own (`LICENSE`, `COPYING`): a
    copy of another project kept inside this one (a vendored upstream's checkout), whose README and
    scripts are that project's instructions to its own users, not the host's to its users."""
    held: dict[str, set[str]] = {}
    for path in files:
        held.setdefault(posixpath.dirname(path), set()).add(posixpath.basename(path).lower())
    return sorted(
        folder for folder, names in held.items()
        if folder and folder != top and (not top or lies_under(folder, top))
        and any(name.startswith("readme") for name in names) and any(name.startswith(_LICENSES) for name in names)
    )


def _nearest(path: str, folders: list[str]) -> str:
    """The deepest of `folders` that `path` lies under, or ""."""
    return max((folder for folder in folders if lies_under(path, folder)), key=len, default="")


def _standalone(word: bytes) -> re.Pattern[bytes]:
    """`word` where no word character, dot or dash touches it on either side."""
    literal = re.escape(word)
    return re.compile(literal + rb"(?<![\w.-]" + literal + rb")(?![\w.-])")


def _names(path: str, top: str) -> frozenset[str]:
    """The words that name the file at `path`: its file name; for a default Dockerfile name also its
    folder's name (unless the folder is `top`) and any command that builds a context (`<build>`); for
    a notebook also its folder's name (unless the folder is `top`); for conda's default environment
    name any command that creates an environment (`<create>`)."""
    name = posixpath.basename(path).lower()
    if name in _DEFAULT_ENVIRONMENTS:
        return frozenset({name, _CREATE})
    notebook = name.endswith(".ipynb")
    if name not in _DEFAULT_DOCKERFILES and not notebook:
        return frozenset({name})
    folder = posixpath.dirname(path)
    word = posixpath.basename(folder).lower() if folder != top else ""
    return frozenset({name, *([] if notebook else [_BUILD]), *([word] if word else [])})


_ROUTE_LINE = re.compile(
    rb"\b(?:pip3?|conda|mamba|micromamba|uv[ \t]+pip|pixi|poetry)[\"']?[ \t]+install\b"
    rb"|\buv[ \t]+sync\b|\bsetup\.py[ \t]+(?:install|develop)\b|\b(?:conda|mamba)[ \t]+env[ \t]+create\b"
    rb"|(?P<docker>\bdocker[ \t]+(?:buildx?|compose|run|pull)\b|\bdocker-compose\b|^[ \t]*#{1,6}[ \t].*\bdocker\b)",
    re.IGNORECASE | re.MULTILINE,
)
"""The first line of a README that shows a way to install the project: a package manager's install
(`pip install -r requirements.txt`, `uv sync`, `conda env create`), or Docker, by a command that
builds, starts or pulls an image or by a heading that names it (`### Install with Docker`, whose steps
may go through a Makefile: `make build-image`)."""


def docker_first(readme: bytes) -> int | None:
    """The line of `readme` (a README's bytes) where its first way to install the project is Docker, or
    None where its first is a package manager's install or it shows none. The README's first route is
    the one its users take (`## Install with Docker` before `## Install without Docker`): the image is the
    project's normal path there, where Docker offered after a pip install (`You can also build the
    image`) is an alternative."""
    route = _first_route(readme)
    return route[0] if route is not None and route[1] else None


def package_first(readme: bytes) -> int | None:
    """The line of `readme` where its first way to install the project is a package manager's
    (`pip install click requests`, then "Docker users: use the provided Dockerfile"), or None where
    its first is Docker or it shows none: an image the README offers after it is an alternative."""
    route = _first_route(readme)
    return route[0] if route is not None and not route[1] else None


def _first_route(readme: bytes) -> tuple[int, bool] | None:
    """The line of `readme`'s first way to install (`_ROUTE_LINE`) and whether it is Docker."""
    match = _ROUTE_LINE.search(readme)
    if match is None:
        return None
    return readme.count(b"\n", 0, match.start()) + 1, match.group("docker") is not None


_DOCKER_BUILD = re.compile(rb"\b(?:nvidia-)?docker[ \t]+(?:buildx[ \t]+)?build\b([^\n;&|]*)")
"""`docker build` (`nvidia-docker build`, `docker buildx build`) and its arguments, to the end of its command."""
_DOCKERFILE_OPTION = re.compile(rb"(?:^|\s)(?:-f|--file)(?:\s|=)")


def dockerless_builds(
    scripts: dict[str, Callable[[], bytes]], dockerfiles: Iterable[str], others: dict[str, Callable[[], bytes]], top: str = ""
) -> dict[str, str]:
    """Shell script -> why it runs on no host, for each of `scripts` (display path -> its bytes) that builds
    an image from the folder it is run in (`docker build -t name .`, no `-f`) where neither its own folder
    nor the project's top folder (`top`) holds a Dockerfile (`dockerfiles`: the scan's, by display path),
    and that no other file of `others` names (`unnamed_files`). Run from either folder, the build finds
    no Dockerfile and fails, and so does every step after it that runs the image it was to build: on
    every host, NVIDIA's too, so that no line of it is lock-in (a vendored project's `launch_docker.sh`
    whose Dockerfile the copy left behind)."""
    with_dockerfile = {
        posixpath.dirname(path) for path in dockerfiles if posixpath.basename(path).lower() in _DEFAULT_DOCKERFILES
    }
    found: dict[str, str] = {}
    for path, read in sorted(scripts.items()):
        folder = posixpath.dirname(path)
        if folder in with_dockerfile or top in with_dockerfile:
            continue
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable script builds nothing here; its own analysis reports it
            continue
        for match in _DOCKER_BUILD.finditer(data) if b"docker" in data else ():
            words = match.group(1).split()
            if words and words[-1] == b"." and not _DOCKERFILE_OPTION.search(match.group(1)):
                command = " ".join(match.group(0).decode("utf-8", "replace").split())
                found[path] = (
                    f"`{command}` builds the folder it runs in, and neither the script's folder nor the project's "
                    "top folder holds a Dockerfile, and no document names the script: the image is never built, "
                    "so the script fails on every host, NVIDIA's too"
                )
                break
    unnamed = unnamed_files(found, others, top) if found else {}
    return {path: why for path, why in found.items() if path in unnamed}

