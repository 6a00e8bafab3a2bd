"""The command-line flags the project's documents pass each script, and the settings a flag turns on.

A training script may read a mode from its configuration tree, `if config.THROUGHPUT_MODE:
throughput(...)`, where the tree's default is False (`_C.THROUGHPUT_MODE = False`) and the
configuration module turns it on only for a flag (`if _check_args("throughput"):
config.THROUGHPUT_MODE = True`). The mode is another path for a script whose documented commands
never pass `--throughput`, and the normal path of one whose documented command does (`python
main.py --cfg ... --throughput`): the documents say which use the project offers as its own.

`documented_flags` reads the documented commands (`documented_commands`): each that runs a script
(`python main.py`, `torchrun tools/x.py`, or through a shell script the documents run) with the
flags after it. `flag_settings`
reads the code: the settings a module sets to True (a constant) right under an `if` header that
names a flag, in quotes or as an attribute of the arguments (`_check_args("throughput")`,
`args.throughput`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping

from cudaudit.documented_commands import SHELL_SUFFIXES, DocumentedCommands
from cudaudit.filekinds import is_test_path
from cudaudit.rules.python.read_once import outside_tests

_FLAG = re.compile(r"--([A-Za-z][\w-]*)")
_PLAIN_VALUE = re.compile(r"[\w.-]+")
"""A value a command gives as it is (`pytorch`, `4`), not one the shell fills in (`${LAUNCHER}`, `$1`)."""
_CUDA_DEVICE = re.compile(r"cuda(?::[0-9]+)?")
_TURNED_ON = re.compile(
    rb"\n([ \t]*)(?:el)?if[ \t][^\n]*?(?:['\"]-*([\w-]+)['\"]|args\.(\w+))[^\n]*:[ \t]*\r?\n"
    rb"\1[ \t]+(?:\w+\.)+(\w+)[ \t]*=[ \t]*True\b"
)
"""`if _check_args("throughput"):` then, one level deeper, `config.THROUGHPUT_MODE = True`
(searched after a newline put in front)."""


def documented_flags(commands: DocumentedCommands) -> dict[str, frozenset[str]]:
    """Script file name (`main.py`) -> the flags the documented `commands` outside the test suite
    pass it (`throughput`, with `-` read as `_`)."""
    found: dict[str, set[str]] = {}
    for command in commands.reached():
        if command.script is None or not command.script.endswith(".py") or is_test_path(command.source):
            continue
        flags = {match.group(1).replace("-", "_") for word in command.arguments if (match := _FLAG.match(word))}
        if flags:
            found.setdefault(posixpath.basename(command.script), set()).update(flags)
    return {script: frozenset(flags) for script, flags in found.items()}


def cpu_options(commands: DocumentedCommands) -> dict[str, frozenset[str]]:
    """Script file name (`infer.py`) -> the options a documented command outside the test suite that
    runs it sets to the CPU (`python infer.py --device cpu`, `--device=cpu`): the project's own route
    to a machine without a GPU, whatever its other commands run with."""
    found: dict[str, set[str]] = {}
    for script, runs in documented_runs(commands).items():
        on_cpu = {option for run in runs for option, value in run.items() if value == "cpu"}
        if on_cpu:
            found.setdefault(script, set()).update(on_cpu)
    return {script: frozenset(options) for script, options in found.items()}


def documented_values(commands: DocumentedCommands) -> dict[str, dict[str, str | int]]:
    """Script file name (`train.py`) of each script a documented command outside the test suite
    runs -> the value every such command of it gives an option (`--launcher pytorch`, `--ring-size=4`:
    `launcher` -> "pytorch", `ring_size` -> 4), for each option all of them give the same value."""
    found: dict[str, dict[str, str | int]] = {}
    for script, runs in documented_runs(commands).items():
        common = set.intersection(*(set(run.items()) for run in runs))
        found[script] = {option: value for option, value in common if value is not None}
    return found


def documented_runs(commands: DocumentedCommands) -> dict[str, list[dict[str, str | int | None]]]:
    """Script file name (`train.py`) -> the options each documented command outside the test suite
    that runs it gives, with their values (`_option_values`): an option a command leaves out holds
    the script's default there."""
    given: dict[str, list[dict[str, str | int | None]]] = {}
    for command in commands.reached():
        if command.script is None or not command.script.endswith(".py") or is_test_path(command.source):
            continue
        scripted = command.source.endswith(SHELL_SUFFIXES)
        given.setdefault(posixpath.basename(command.script), []).append(_option_values(command.arguments, scripted))
    return given


def _option_values(arguments: tuple[str, ...], scripted: bool) -> dict[str, str | int | None]:
    """Option (`-` read as `_`) -> the value `arguments` give it (`--name value`, `--name=value`; a
    whole number as one), None for an option given no plain value (a flag, `--name ${VALUE}`). A CUDA
    device (`--device cuda:0`) is a value where a shell script gives it (`scripted`), whose line the
    shell analyzer reports, and none where a document's command does: the program's own default is
    then the site that stands for that command's break, and keeps its severity."""
    found: dict[str, str | int | None] = {}
    for index, word in enumerate(arguments):
        match = _FLAG.fullmatch(word.partition("=")[0])
        if match is None:
            continue
        value: str | None = word.partition("=")[2] if "=" in word else (
            arguments[index + 1] if index + 1 < len(arguments) and not arguments[index + 1].startswith("-") else None
        )
        device = value is not None and _CUDA_DEVICE.fullmatch(value) is not None
        plain = value if value and (scripted if device else _PLAIN_VALUE.fullmatch(value)) else None
        found[match.group(1).replace("-", "_")] = int(plain) if plain is not None and plain.isdigit() else plain
    return found


def flag_settings(code: Mapping[str, Callable[[], bytes]]) -> dict[str, frozenset[str]]:
    """Setting (`THROUGHPUT_MODE`) -> the flags under which the project's code outside the test suite
    sets it to True (`throughput`)."""
    found: dict[str, set[str]] = {}
    for _, data in outside_tests(code):
        if b"= True" not in data and b"=True" not in data:
            continue
        for match in _TURNED_ON.finditer(b"\n" + data):
            flag = (match.group(2) or match.group(3)).replace(b"-", b"_").decode("ascii")
            found.setdefault(match.group(4).decode("ascii"), set()).add(flag)
    return {setting: frozenset(flags) for setting, flags in found.items()}
