"""What a simple shell command in a Dockerfile does: which program it runs, what it installs.

This knows command lines, not lock-in: `apt-get install -y X` installs system package X,
`python3 -m pip install --extra-index-url URL Y` passes index URL and requirement Y to pip.
Whether X, URL or Y ties the image to CUDA is the catalog's answer, asked by the analyzer.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from cudaudit.rules.containers.shell import Word, split_commands

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PREFIXES = frozenset({"sudo", "env", "nohup", "time", "exec", "command", "nice", "stdbuf"})
_RUNNERS = frozenset({"conda", "mamba", "micromamba"})
"""`conda run -n env pip install ...` runs the command that follows its options."""
_RUNNER_VALUE_OPTIONS = frozenset({"-n", "--name", "-p", "--prefix", "--cwd", "-e", "--env"})
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ash"})
_CONDA_VERBS = frozenset({"install", "create"})
_CONDA_VALUE_OPTIONS = frozenset(
    {"-n", "--name", "-p", "--prefix", "-f", "--file", "--solver", "--platform", "--subdir", "--repodata-fn"}
)
_SYSTEM_INSTALL = {
    "apt-get": frozenset({"install"}),
    "apt": frozenset({"install"}),
    "aptitude": frozenset({"install"}),
    "yum": frozenset({"install"}),
    "dnf": frozenset({"install"}),
    "microdnf": frozenset({"install"}),
    "tdnf": frozenset({"install"}),
    "zypper": frozenset({"install", "in"}),
}
_SYSTEM_VALUE_OPTIONS = frozenset(
    {"-o", "-t", "--target-release", "-c", "--config-file", "--setopt", "--repo", "--enablerepo", "--disablerepo"}
)
_PIP = re.compile(r"^pip[0-9.]*$")
_PIP_VERBS = frozenset({"install", "wheel", "download"})
"""pip commands whose arguments name packages the image is built from (`uninstall` is the opposite)."""
_PYTHON = re.compile(r"^python[0-9.]*$")
INDEX_OPTIONS = frozenset(
    {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--index", "--default-index"}
)
"""Options of pip and uv whose value is a package index or a find-links page."""
_EDITABLE = frozenset({"-e", "--editable"})
_PIP_VALUE_OPTIONS = INDEX_OPTIONS | frozenset(
    {
        "-r", "--requirement", "--requirements", "-c", "--constraint", "--constraints", "--overrides",
        "--build-constraints", "-e", "--editable", "-t", "--target", "--prefix", "--root", "--src",
        "--platform", "--python-platform", "--python-version", "--implementation", "--abi",
        "--upgrade-strategy", "--progress-bar", "--root-user-action", "--report", "--no-binary",
        "--only-binary", "-C", "--config-settings", "--global-option", "--cache-dir", "--log",
        "--proxy", "--retries", "--timeout", "--exists-action", "--trusted-host", "--cert",
        "--client-cert", "--keyring-provider", "--python", "-p", "--index-strategy",
        "--torch-backend", "--resolution", "--prerelease", "--extra", "--group", "--link-mode",
        "--config-file", "--exclude-newer", "-P", "--upgrade-package", "--reinstall-package",
        "-w", "--wheel-dir", "-d", "--dest",
    }
)
"""Options of pip and uv that take a value, so the word after them is no requirement."""


@dataclass(frozen=True)
class Command:
    """A simple command with its wrappers (`sudo`, `env X=1`, `conda run -n env`) removed."""

    program: Word
    arguments: tuple[Word, ...]

    @property
    def name(self) -> str:
        """The program's file name (`pip3` for `/opt/conda/bin/pip3`)."""
        return posixpath.basename(self.program.text)


@dataclass(frozen=True)
class PipInstall:
    """The arguments of `pip install` / `uv pip install` / `uv add` that name what to install."""

    requirements: tuple[Word, ...]
    indexes: tuple[tuple[Word, int], ...]
    """Each index or find-links URL: its word and where the URL starts in the word's text."""
    editables: tuple[Word, ...] = ()
    """What `-e`/`--editable` installs: a project folder or a VCS URL."""
    options: tuple[Word, ...] = ()
    """Every option word (`--no-build-isolation`, `--torch-backend=cpu`)."""


def command(words: list[Word]) -> Command | None:
    """The command that `words` run, looking through wrappers and variable assignments."""
    at = 0
    wrapped = False
    while at < len(words):
        word = words[at].text
        name = posixpath.basename(word)
        if _ASSIGNMENT.match(word) or (wrapped and word.startswith("-")):
            at += 1
        elif name in _PREFIXES:
            wrapped = True
            at += 1
        elif name in _RUNNERS and at + 1 < len(words) and words[at + 1].text == "run":
            at = _after_options(words, at + 2, _RUNNER_VALUE_OPTIONS)
        else:
            return Command(words[at], tuple(words[at + 1 :]))
    return None


_KEYWORDS = frozenset({"if", "elif", "while", "until", "then", "else", "do", "{"})
"""Shell words that may start a simple command as the reader splits it (`if [ -d x ]; then ...`)."""
_TESTS = frozenset({"[", "[[", "test"})
_FILE_TESTS = frozenset({"-a", "-d", "-e", "-f", "-h", "-L", "-r", "-s", "-w", "-x"})
"""`test`'s operators that ask whether a path exists (as a folder, a file, a link, an executable)."""
_LOOKUPS = frozenset({"which", "type", "hash"})


def probe(words: list[Word]) -> bool:
    """Whether the command asks whether something is there rather than using it: `[ -d
    /usr/local/cuda ]`, `test -x /usr/local/cuda/bin/nvcc`, `command -v nvidia-smi`, `which nvcc`
    (https://pubs.opengroup.org/onlinepubs/9799919799/utilities/test.html, .../command.html). A
    negated test (`! command -v nvcc`, `[ ! -d ... ]`) asks for the opposite: no probe."""
    at = 0
    while at < len(words) and words[at].text in _KEYWORDS:
        at += 1
    rest = [word.text for word in words[at:]]
    if len(rest) < 2:
        return False
    name = rest[0]
    if name in _TESTS:
        return rest[1] in _FILE_TESTS
    if name == "command":
        return rest[1] in ("-v", "-V")
    return name in _LOOKUPS


_EXPORTERS = frozenset({"export", "declare", "typeset", "readonly", "env"})
"""Commands whose `NAME=value` arguments set variables (`export CUDA_VISIBLE_DEVICES=0`)."""
_CONTAINER_CLIS = frozenset({"docker", "podman", "nvidia-docker"})
_CONTAINER_STARTS = frozenset({"run", "create"})
_DOCKER_SWITCHES = frozenset(
    {"--rm", "--detach", "--interactive", "--tty", "--privileged", "--init", "--read-only", "--no-healthcheck", "--help"}
)
"""Options of `docker run` that take no value; every other option is followed by its value unless written `--x=y`."""
_SHORT_SWITCHES = re.compile(r"-[ditP]+")


def variable_assignments(words: list[Word]) -> list[tuple[Word, str]]:
    """The variables a command line sets: `NAME=value` before the program, or given to `export`/`env`."""
    assigned = []
    exporting = True
    for word in words:
        name, equals, _ = word.text.partition("=")
        if equals and _ASSIGNMENT.match(word.text) and exporting:
            assigned.append((word, name))
        elif posixpath.basename(word.text) in _EXPORTERS or (exporting and word.text.startswith("-")):
            continue
        else:
            exporting = False
    return assigned


PRINTERS = frozenset({"echo", "printf"})
"""Commands whose arguments are text, not options a program reads."""


def only_sets(words: list[Word]) -> bool:
    """Whether the command line only sets variables (`_sets`) or prints such a line (`echo "export
    PATH=/usr/local/cuda/bin:$PATH" >> /etc/bash.bashrc`, which the shells started later run): it
    runs, installs and builds nothing."""
    found = command(words)
    if found is None or found.name not in PRINTERS:
        return _sets(words)
    printed = " ".join(word.text for word in found.arguments if not word.text.startswith("-"))
    lines = split_commands(printed, {})
    return bool(lines) and all(_sets(line) for line in lines)


def _sets(words: list[Word]) -> bool:
    """`NAME=value` alone, or `export NAME=value` (`declare -x`, `readonly`): only variables change."""
    found = command(words)
    if found is None:
        return bool(variable_assignments(words))
    arguments = [word for word in found.arguments if not word.text.startswith("-")]
    return found.name in _EXPORTERS and bool(arguments) and all(_ASSIGNMENT.match(word.text) for word in arguments)


@dataclass(frozen=True)
class DockerRun:
    """`docker run [options] IMAGE [command]`: each option as (word, flag, value), and the image's word."""

    options: tuple[tuple[Word, str, str], ...]
    image: Word | None


def docker_run(found: Command) -> DockerRun | None:
    """The options and image of `docker run`/`docker create` (and podman's, nvidia-docker's); None for other commands."""
    if found.name not in _CONTAINER_CLIS:
        return None
    arguments = list(found.arguments)
    if arguments and arguments[0].text == "container":
        arguments = arguments[1:]
    if not arguments or arguments[0].text not in _CONTAINER_STARTS:
        return None
    options = []
    at = 1
    while at < len(arguments) and arguments[at].text.startswith("-"):
        word = arguments[at]
        flag, equals, value = word.text.partition("=")
        valued = not equals and flag not in _DOCKER_SWITCHES and not _SHORT_SWITCHES.fullmatch(flag)
        following = arguments[at + 1].text if valued and at + 1 < len(arguments) else ""
        options.append((word, flag, value or following))
        at += 2 if valued else 1
    return DockerRun(tuple(options), arguments[at] if at < len(arguments) else None)


def docker_gpu_options(found: Command) -> list[tuple[Word, str]]:
    """`docker run --gpus all`, `--gpus=all`, `--runtime=nvidia` and the `nvidia-docker` wrapper, as catalog keys."""
    requests = [(found.program, "nvidia-docker")] if found.name == "nvidia-docker" else []
    run = docker_run(found)
    for word, flag, value in run.options if run is not None else ():
        if flag == "--gpus":
            requests.append((word, "--gpus"))
        elif flag == "--runtime":
            requests.append((word, f"--runtime={value}"))
    return requests


def nested_script(found: Command) -> Word | None:
    """The script of `sh -c '...'` / `bash -lc "..."` / `bash -o pipefail -c "..."`."""
    if found.name not in SHELLS:
        return None
    arguments = found.arguments
    at = 0
    while at < len(arguments) and arguments[at].text[:1] in "-+":
        option = arguments[at].text
        if option in ("-o", "+o"):
            at += 2
            continue
        if not option.startswith("--") and "c" in option:
            return arguments[at + 1] if at + 1 < len(arguments) else None
        at += 1
    return None


def system_packages(found: Command) -> list[tuple[Word, str]]:
    """The packages an `apt-get`/`dnf`/`yum`/`zypper` install names, without version or arch."""
    verbs = _SYSTEM_INSTALL.get(found.name)
    if verbs is None:
        return []
    arguments = found.arguments
    at = _after_options(arguments, 0, _SYSTEM_VALUE_OPTIONS)
    if at >= len(arguments) or arguments[at].text not in verbs:
        return []
    packages = []
    at += 1
    while at < len(arguments):
        word = arguments[at]
        if word.text.startswith("-"):
            at += 2 if word.text in _SYSTEM_VALUE_OPTIONS else 1
            continue
        name = re.split(r"[=:/]", word.text, maxsplit=1)[0]
        if name:
            packages.append((word, name))
        at += 1
    return packages


def pip_install(found: Command) -> PipInstall | None:
    """What `pip install` (or `wheel`, `download`), `python -m pip install`, `uv pip install` or `uv add` is given."""
    arguments = _pip_arguments(found)
    if arguments is None:
        return None
    requirements: list[Word] = []
    indexes: list[tuple[Word, int]] = []
    editables: list[Word] = []
    options: list[Word] = []
    at = 0
    while at < len(arguments):
        word = arguments[at]
        text = word.text
        if not text.startswith("-") or text == "-":
            requirements.append(word)
            at += 1
            continue
        options.append(word)
        option, equals, _ = text.partition("=")
        if equals:
            if option in INDEX_OPTIONS:
                indexes.append((word, len(option) + 1))
            at += 1
        elif option in _PIP_VALUE_OPTIONS:
            if at + 1 < len(arguments):
                if option in INDEX_OPTIONS:
                    indexes.append((arguments[at + 1], 0))
                elif option in _EDITABLE:
                    editables.append(arguments[at + 1])
            at += 2
        else:
            at += 1
    return PipInstall(tuple(requirements), tuple(indexes), tuple(editables), tuple(options))


_SETUP_BUILDS = frozenset({"install", "develop", "build_ext", "bdist_wheel", "build"})
_COMPILERS = frozenset({"nvcc", "cmake", "make", "gmake", "ninja", "meson", "bazel", "gcc", "g++", "cc", "c++", "clang", "clang++"})
"""Programs that compile, or configure a compile of, native code."""


def source_build(found: Command) -> Word | None:
    """The project a command builds from source: `pip install .`/`-e .`/a VCS URL, `setup.py install`, `-m build`."""
    install = pip_install(found)
    if install is not None:
        targets = [*install.editables, *install.requirements]
        return next((word for word in targets if _is_source(word.text)), None)
    if not _PYTHON.match(found.name):
        return None
    arguments = found.arguments
    for at, word in enumerate(arguments[:-1]):
        if posixpath.basename(word.text) == "setup.py" and arguments[at + 1].text in _SETUP_BUILDS:
            return arguments[at + 1]
        if word.text == "-m" and arguments[at + 1].text == "build":
            return arguments[at + 1]
    return None


def compiles(found: Command) -> bool:
    """Whether the command compiles native code: a compiler or build tool it runs, or a project it builds
    from source (whose build may compile extensions)."""
    return found.name in _COMPILERS or source_build(found) is not None


def _is_source(text: str) -> bool:
    """A local folder or a VCS URL: something pip builds rather than installs as a built wheel."""
    if text.endswith(".whl"):
        return False
    return text.startswith((".", "/", "git+", "hg+", "svn+", "bzr+")) or "@ git+" in text


def _pip_arguments(found: Command) -> tuple[Word, ...] | None:
    """The words after `install`/`wheel`/`download` (or `uv add`), or None when pip fetches nothing."""
    arguments = found.arguments
    if _PYTHON.match(found.name):
        module = next((i for i, w in enumerate(arguments[:-1]) if w.text == "-m"), None)
        if module is None or not _PIP.match(arguments[module + 1].text):
            return None
        arguments = arguments[module + 2 :]
    elif found.name == "uv" and arguments and arguments[0].text == "add":
        return arguments[1:]
    elif found.name == "uv" and arguments and arguments[0].text == "pip":
        arguments = arguments[1:]
    elif not _PIP.match(found.name):
        return None
    at = _after_options(arguments, 0, frozenset())
    if at >= len(arguments) or arguments[at].text not in _PIP_VERBS:
        return None
    return arguments[at + 1 :]


def _after_options(words: tuple[Word, ...] | list[Word], at: int, valued: frozenset[str]) -> int:
    """The index of the first word from `at` on that is neither an option nor an option's value."""
    while at < len(words) and words[at].text.startswith("-"):
        at += 2 if words[at].text in valued else 1
    return at


@dataclass(frozen=True)
class CondaSpec:
    """One package spec of `conda install`: `[channel::]name[=version[=build]]` or `name>=1.0`."""

    word: Word
    name: tuple[int, int]
    """Where the package name is in `word.text`."""
    channel: tuple[int, int] | None
    build: tuple[int, int] | None


@dataclass(frozen=True)
class CondaInstall:
    specs: tuple[CondaSpec, ...]
    channels: tuple[tuple[Word, int], ...]
    """Each `-c`/`--channel` value: its word and where the channel starts in the word's text."""


def conda_install(found: Command) -> CondaInstall | None:
    """What `conda`/`mamba`/`micromamba install` or `create` is given."""
    if found.name not in _RUNNERS:
        return None
    arguments = found.arguments
    at = _after_options(arguments, 0, frozenset())
    if at >= len(arguments) or arguments[at].text not in _CONDA_VERBS:
        return None
    specs: list[CondaSpec] = []
    channels: list[tuple[Word, int]] = []
    at += 1
    while at < len(arguments):
        word = arguments[at]
        option, equals, _ = word.text.partition("=")
        if option in ("-c", "--channel"):
            if equals:
                channels.append((word, len(option) + 1))
            elif at + 1 < len(arguments):
                channels.append((arguments[at + 1], 0))
                at += 1
        elif word.text.startswith("-"):
            at += 1 if equals or option not in _CONDA_VALUE_OPTIONS else 2
            continue
        else:
            specs.append(_conda_spec(word))
        at += 1
    return CondaInstall(tuple(specs), tuple(channels))


def _conda_spec(word: Word) -> CondaSpec:
    text = word.text
    channel = None
    start = 0
    if "::" in text:
        start = text.index("::") + 2
        channel = (0, start - 2)
    name_end = next((i for i in range(start, len(text)) if text[i] in "=<>!~ ["), len(text))
    fields = text[name_end:].split("=")
    build = None
    if text[name_end:].startswith("=") and not text[name_end:].startswith("==") and len(fields) >= 3:
        build_start = len(text) - len(fields[-1])
        build = (build_start, len(text))
    return CondaSpec(word, (start, name_end), channel, build)
