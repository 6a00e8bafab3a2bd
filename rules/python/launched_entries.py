"""Entry scripts that every documented command starts under a launcher of several processes.

A test of the launch (`if "RANK" in os.environ:`, `if args.distributed:`, `if world_size > 1:`) is
read as the branch a launch of several processes takes: another path than the single-process run a
machine without GPUs makes (`guards.py`). That holds where the project's documents run the script
both ways, or only as one process. A training script whose README, guides and shell scripts start
it only through `torchrun`, `python -m torch.distributed.launch`, `deepspeed` or `accelerate launch
--multi_gpu` (all of which set `RANK`, `LOCAL_RANK` and `WORLD_SIZE` for every process they start,
https://docs.pytorch.org/docs/stable/elastic/run.html) runs the launch's branch on its documented
route: there, `init_process_group("nccl")` and `torch.cuda.set_device(local_rank)` are the normal
path, and the single-process branch is the user's own choice.

`always_launched` reads the documented commands (`documented_commands`: documents, shell scripts,
notebooks and workflows, a shell script a command runs followed with the caller's arguments), each
that runs an entry by its path (`basicsr/train.py`, from the project's root or the folder the
command runs in, or the tail of one path: `train.py` for every `*/train.py`), a module (`-m
pkg.train`) or the name of a console script the project declares (`pkg-train`). A launch of a name
several entries may have launches none of them. The project's own launcher counts as one: a module
a command runs that sets `RANK` (or `LOCAL_RANK`) and `WORLD_SIZE` in an environment and starts
processes (a copy of `torch.distributed.launch`) runs the command it is given under it
(`python tools/launch.py --nproc_per_node 8 ./configs/base.sh`). An entry is launched where at
least one command launches it and none runs it as one process, but for a command of a shell
script no command runs that passes on the script's arguments (`python main.py ${PY_ARGS}`): it
waits for a caller, which may be a launcher. A module that only such entries import (at their top
level, through import cycles) is on their route too; an entry no command runs (another path)
holds none back. A module that a launched route imports and another route too (the helpers of a
training script, which a demo imports as well) runs launched on the one and as one process on the
other: neither branch of its launch tests is another path (`Launch.every` False); another entry
that the documents run keeps the reading of its own commands. Conservative on purpose: a single-process command of an entry, anywhere in the
project, keeps the distributed reading of the whole route, but for one that turns on a switch no
launching command of it gives (`python main.py --eval --resume ckpt.pth` beside training scripts
that all run `torchrun main.py --model ...`): that is another use of the script, and the launch's
branch is the normal path of the launched use while the single-process branch stays the normal
path of the other (`Launch.every` False). A launcher of PyTorch's sets no variable of a batch
scheduler: a Slurm test (`"SLURM_PROCID" in os.environ`) reads a launch only where `srun` starts
the route (`Launch.scheduler`). A Slurm launcher written with submitit (`python submit_train.py
--nodes 4`, whose job imports `train_net` and calls its `main` in each of a task per GPU) starts the
entries of its folder it imports so: the command that runs the launcher launches them under a batch
scheduler, though no command runs them by name.

A script may start its processes itself: `python train.py --gpus=8` spawns one process per GPU
that the count asks for (`--gpus`, `--num_gpus`, `--world_size`: `guards.names_process_count`).
A command that gives such a count above one launches the script as a launcher's would; one that
gives one, or none, runs it as one process.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.documented_commands import ELLIPSES, Command, DocumentedCommands, resolved_path
from cudaudit.facts import Evidence, Launch
from cudaudit.rules.python.entry_routes import on_routes, only_routes
from cudaudit.rules.python.guards import names_process_count

_CONSOLE_SCRIPT = re.compile(r"""(?<![\w.-])([A-Za-z_][\w.-]*)["']?[ \t]*=[ \t]*(?:["'][ \t]*)?([A-Za-z_][\w.]*)[ \t]*:[ \t]*[A-Za-z_]""")
"""A console script's declaration: `name = pkg.cli:main` (setup.py's `entry_points`, setup.cfg) or
`name = "pkg.cli:main"` (pyproject's `[project.scripts]`)."""

_STARTS_RANKS = (
    re.compile(rb"""\[\s*["'](?:RANK|LOCAL_RANK)["']\s*\]\s*=(?!=)"""),
    re.compile(rb"""\[\s*["']WORLD_SIZE["']\s*\]\s*=(?!=)"""),
    re.compile(rb"\b(?:subprocess\.)?Popen\(|\bmultiprocessing\b[^\n]*\bProcess\("),
)
"""A module that sets `RANK` (or `LOCAL_RANK`) and `WORLD_SIZE` in an environment
(`current_env["RANK"] = str(rank)`) and starts processes: a copy of `torch.distributed.launch`."""

_SUBMITS_TASKS = (re.compile(rb"^[ \t]*(?:import|from)[ \t]+submitit\b", re.MULTILINE), re.compile(rb"\btasks_per_node[ \t]*="))
"""A module that submits Slurm jobs through submitit with tasks of their own on each node
(`executor.update_parameters(tasks_per_node=num_gpus_per_node, ...)`): a batch scheduler starts one
process per task, with `SLURM_PROCID` set (https://github.com/facebookincubator/submitit/blob/main/docs/examples.md)."""
_IMPORTED = re.compile(rb"^[ \t]*(?:import|from)[ \t]+([A-Za-z_]\w*)[ \t]*(?:\bas\b|\bimport\b|$)", re.MULTILINE)
"""A module a line imports by its bare name (`import main_train as trainer`, `from main_train import
main`), indented or not: the entry a submitit launcher's job runs is imported in its callable."""

LAUNCHED = "every documented command of this route starts it under a launcher of several processes ({command})"
_USES = frozenset({
    "eval", "evaluate", "evaluation", "test", "testing", "val", "validate", "validation", "inference", "infer",
    "predict", "demo", "export", "generate", "sample", "sampling", "visualize", "throughput", "benchmark", "help",
})
"""Words of a switch that picks another use of a training script than training itself."""
LAUNCHED_FOR_SOME = (
    "documented commands of this route start it under a launcher of several processes ({command}); "
    "those that run it as one process turn on a use of their own ({plain})"
)


def console_scripts(declarations: Iterable[bytes]) -> dict[str, str]:
    """Console script name -> its module (dotted), from the text of the project's declarations."""
    found: dict[str, str] = {}
    for data in declarations:
        text = data.decode("utf-8", "replace")
        if "scripts" not in text and "entry_points" not in text:
            continue
        for match in _CONSOLE_SCRIPT.finditer(text):
            found.setdefault(match.group(1), match.group(2))
    return found


def always_launched(
    entries: Iterable[str],
    scripts: Mapping[str, str],
    commands: DocumentedCommands,
    importers: Callable[[], Mapping[str, set[str]]],
    code: Callable[[str], bytes],
) -> dict[str, Launch]:
    """Display path -> how the documented `commands` launch it, for each of `entries` (display paths
    of entry modules) that some command starts under a launcher (the project's own included: a
    module `code` gives the bytes of that starts a process per rank; or a count of processes above
    one in a `--gpus` option) and each module that only such modules import (`importers` gives
    module -> its importers, read only where some entry is launched). An entry is launched by every
    command where none runs it as one process, and for some where each command that does turns on
    a switch (`--eval`) no launching command of it gives: another use of the script, with a route
    of its own. `scripts` maps console script names to the display paths of their modules."""
    every = frozenset(entries)
    known = _Entries(every, scripts)
    launched: dict[str, list[Command]] = {}
    plain: dict[str, list[Command]] = {}

    ranks: dict[str, bool] = {}  # by module: the documents run a few modules by many commands
    submits: dict[str, list[str]] = {}

    def starts_ranks(command: Command) -> bool:
        found = known.run_by(command)
        if len(found) != 1:
            return False
        if found[0] not in ranks:
            ranks[found[0]] = _starts_ranks(code(found[0]))
        return ranks[found[0]]

    ran: set[str] = set()
    submitted: set[str] = set()
    for command in commands.reached(starts_ranks):
        found = known.run_by(command)
        ran.update(found)
        if not found or starts_ranks(command):
            continue
        if len(found) == 1 and found[0] not in submits:
            submits[found[0]] = _submitted(found[0], code(found[0]), every)
        jobs = submits[found[0]] if len(found) == 1 else []
        for entry in jobs:  # the scheduler starts the job's entry once per task
            launched.setdefault(entry, []).append(command)
        ran.update(jobs)
        submitted.update(jobs)
        if command.launcher is None and not _asks_processes(command):
            if not (command.waiting or _elided(command)):  # a script that waits for its caller may be launched
                for entry in found:
                    plain.setdefault(entry, []).append(command)
        elif len(found) == 1:  # a launch of a name several entries have launches none of them for sure
            launched.setdefault(found[0], []).append(command)
    by_every: dict[str, Evidence] = {}
    by_some: dict[str, Evidence] = {}
    scheduled = submitted | {entry for entry, launches in launched.items() if any(run.launcher == "srun" for run in launches)}
    for entry, launches in launched.items():
        shown = _shortened(launches[0].text)
        own = plain.get(entry, [])
        if not own:
            by_every[entry] = Evidence(launches[0].source, launches[0].line, LAUNCHED.format(command=shown))
        elif _own_uses(own, launches):
            text = LAUNCHED_FOR_SOME.format(command=shown, plain=_shortened(own[0].text))
            by_some[entry] = Evidence(launches[0].source, launches[0].line, text)
    if not (by_every or by_some):
        return {}
    imported = importers()
    only_every = only_routes(by_every, imported, every, every - ran)
    chosen = {**by_every, **by_some}
    return {  # another entry the documents run keeps the reading of its own commands
        module: Launch(chosen[entry], module in only_every, entry in scheduled)
        for module, entry in on_routes(chosen, imported).items() if module in chosen or module not in ran
    }


def _asks_processes(command: Command) -> bool:
    """Whether `command` asks its script for several processes by a count (`--gpus=8`,
    `--num_gpus 4`), one per GPU, which the script starts itself."""
    for index, word in enumerate(command.arguments):
        option, _, value = word.partition("=")
        if not option.startswith("--") or not names_process_count(option[2:].replace("-", "_")):
            continue
        value = value or (command.arguments[index + 1] if index + 1 < len(command.arguments) else "")
        if value.isdigit() and int(value) > 1:
            return True
    return False


def _elided(command: Command) -> bool:
    """Whether `command` is an excerpt (`python train.py --lr=0.1 ...`): the options it leaves out
    (the process count among them) are the ones a full command gives."""
    return any(word in ELLIPSES for word in command.arguments)


def _own_uses(plain: list[Command], launches: list[Command]) -> bool:
    """Whether every single-process command turns on a switch that names another use of the script
    (`--eval`, `--test`, `--export`: `_USES`) and that no launching command gives: a use of its own
    (`python main.py --eval`), not the one-process run of a launched use (`--no-amp`, `--debug`)."""
    given = frozenset().union(*(command.switches for command in launches))
    return all(any(_USES.intersection(switch.split("_")) for switch in command.switches - given) for command in plain)


def _submitted(launcher: str, data: bytes, entries: frozenset[str]) -> list[str]:
    """The entries of `launcher`'s folder that its bytes import, where it submits Slurm jobs of a
    task per GPU through submitit (`_SUBMITS_TASKS`): the job it submits runs such an entry's
    `main` in each task, so every command that runs the launcher launches that entry."""
    if not all(pattern.search(data) for pattern in _SUBMITS_TASKS):
        return []
    folder = posixpath.dirname(launcher)
    named = (posixpath.join(folder, match.group(1).decode() + ".py") for match in _IMPORTED.finditer(data))
    return sorted({path for path in named if path in entries and path != launcher})


def _starts_ranks(data: bytes) -> bool:
    """Whether a module's bytes set the rank variables of the processes it starts (`_STARTS_RANKS`)."""
    return all(pattern.search(data) for pattern in _STARTS_RANKS)


class _Entries:
    """The entries a command may run, by path, module name and console script name."""

    def __init__(self, entries: Iterable[str], scripts: Mapping[str, str]) -> None:
        self.scripts = dict(scripts)
        self._by_file: dict[str, set[str]] = {}
        for entry in {*entries, *scripts.values()}:
            self._by_file.setdefault(posixpath.basename(entry), set()).add(entry)

    def run_by(self, command: Command) -> list[str]:
        """The entries `command` may run: a console script it starts with, its script's path from
        the project's root or the folder it runs in, or the tail of one (every entry whose path
        ends so, where the tail is no path of its own); the module after `-m` as the path it names."""
        if command.script is None and command.module is None:
            named = command.program if command.runner is None and command.launcher is None else next(
                (word for word in command.words if word in self.scripts), None
            )
            return [self.scripts[named]] if named in self.scripts else []
        written = command.module.replace(".", "/") + ".py" if command.module is not None else command.script
        candidates = self._by_file.get(posixpath.basename(written)) if written is not None else None
        return resolved_path(written, command.folder, candidates) if written is not None and candidates else []


def _shortened(line: str) -> str:
    """The command as the evidence quotes it: its first words."""
    words = line.split()
    return " ".join(words[:6]) + (" ..." if len(words) > 6 else "")


