"""The scripts a document introduces as the multi-GPU way beside a single-process one.

A README often gives two commands for one task: `python train.py` for one GPU and, "if you have
several GPUs", `python train_multi.py`, a sibling that spawns one process per GPU and joins them
over NCCL. The first is the route every user can take; the second is the route of users with
several GPUs, as a documented launch of several processes is where a single-process route is
documented: another path on a machine without a GPU, where the sibling's every line of setup
(`init_process_group("nccl")`, `torch.cuda.set_device(rank)`) breaks, and the single-process script
says what the project does there.

A script is such a sibling where every command of the project's documents that runs it says so
beside it (in the comment of its own line, `python train_ddp.py --cfg base  # if you run on multi GPU`,
or, where that line has no comment, on the nearest line of prose above it, `If you have several
GPUs, run the distributed script instead:`), no
shell script, notebook or workflow runs it, and a document that introduces it so also runs its
single-process sibling as one process without such words on that command's line: a script of its
folder it is named as a variant of (`train_ddp.py` of `train.py`), or one run with the same
arguments. A multi-GPU command that is its task's only route (`torchrun --nproc_per_node=8 train.py`
beside a data tool's command) keeps its verdicts. The words are the
machine's, never the script's name (`train_distributed.py` says nothing by itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from cudaudit.documented_commands import Command, DocumentedCommands, resolved_path
from cudaudit.facts import Evidence
from cudaudit.filekinds import is_document, is_test_path

_SEVERAL_GPUS = re.compile(
    r"\bmulti[- ]?(?:gpu|node|card)s?\b|\b(?:several|multiple|many|more|two|[2-9]|[1-9][0-9]+)[ \t]+(?:gpus|cards)\b",
    re.IGNORECASE,
)
"""`multi-GPU`, `multi gpu`, `several GPUs`, `8 GPUs`: words that say a command is for a machine
with more than one GPU."""
_HELP = frozenset({"help"})


def multi_gpu_siblings(commands: DocumentedCommands, known: Iterable[str]) -> dict[str, Evidence]:
    """Script (display path, among `known`) -> the document line that introduces it as the multi-GPU
    way beside a single-process script (see the module docstring)."""
    paths = frozenset(known)
    several: dict[str, list[Command]] = {}
    single: dict[str, list[tuple[str, Command]]] = {}
    elsewhere: set[str] = set()
    for path in commands.paths():
        documented = is_document(PurePosixPath(path)) and not is_test_path(path)
        for command in commands.of(path):
            if command.script is None or not command.script.endswith(".py") or not (command.runner or command.launcher):
                continue
            if command.switches & _HELP or "-h" in command.arguments:
                continue  # `python train.py --help` shows the options and runs nothing
            # a script of the project may run one by a path from the root (`python train_ddp.py` in
            # `scripts/run.sh`): any script its path may be counts as run there
            for script in resolved_path(command.script, command.folder, paths, tails=not documented):
                if not documented:
                    elsewhere.add(script)
                elif _says_several(command, commands):
                    several.setdefault(script, []).append(command)
                else:
                    single.setdefault(path, []).append((script, command))
    singles = {script for runs in single.values() for script, _ in runs}
    found: dict[str, Evidence] = {}
    for script, introduced in several.items():
        if script in singles or script in elsewhere:
            continue
        for command in introduced:
            beside = sorted(other for other, run in single.get(command.source, []) if _siblings(script, command, other, run))
            if not beside:
                continue
            found[script] = Evidence(
                command.source, command.line,
                f"the document runs it for several GPUs, beside `{beside[0]}` for one: the multi-GPU route",
            )
            break
    return found


def _siblings(script: str, command: Command, other: str, run: Command) -> bool:
    """Whether `other`, run by `run`, is the single-process way of the task `script`, run by `command`,
    does for several GPUs: a script of the same folder named as its variant (`train_ddp.py` beside
    `train.py`), or one the document runs with the same arguments (`--yaml=custom_data_train` in both
    commands); a script for another task (a data tool beside the trainer) is no sibling."""
    if other == script:
        return False
    folder, _, name = script.rpartition("/")
    other_folder, _, other_name = other.rpartition("/")
    stem = other_name.removesuffix(".py")
    if folder == other_folder and name.startswith((f"{stem}_", f"{stem}-")):
        return True
    return bool(run.arguments) and run.arguments == command.arguments


def _says_several(command: Command, commands: DocumentedCommands) -> bool:
    """Whether the comment on `command`'s own line (`python train_ddp.py  # on multi GPU`) says it is
    for several GPUs, or, where that line has none, the prose above it: the words of a sentence that
    quotes a command inline (`` see `python train.py --help`; the batch is split among 8 GPUs ``) are
    about something else."""
    _, comment, own = command.text.replace(command.script or "", " ").partition("#")
    if comment:
        return _SEVERAL_GPUS.search(own) is not None
    return _SEVERAL_GPUS.search(commands.prose_before(command)) is not None
