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
holds none back. Conservative on purpose: any single-process command of an entry, anywhere in the
project, keeps the distributed reading of the whole route.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.documented_commands import Command, DocumentedCommands, resolved_path
from cudaudit.facts import Evidence
from cudaudit.rules.python.entry_routes import only_routes

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

LAUNCHED = "every documented command of this route starts it under a launcher of several processes ({command})"


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
) -> dict[str, Evidence]:
    """Display path -> the command that launches it, for each of `entries` (display paths of entry
    modules) that the documented `commands` start only under a launcher (the project's own
    included: a module `code` gives the bytes of that starts a process per rank), and each module
    that only such modules import (`importers` gives module -> its importers, read only where some
    entry is launched). `scripts` maps console script names to the display paths of their modules."""
    every = frozenset(entries)
    known = _Entries(every, scripts)
    launched: dict[str, Evidence] = {}
    plain: set[str] = set()

    def starts_ranks(command: Command) -> bool:
        found = known.run_by(command)
        return len(found) == 1 and _starts_ranks(code(found[0]))

    run: set[str] = set()
    for command in commands.reached(starts_ranks):
        found = known.run_by(command)
        run.update(found)
        if not found or starts_ranks(command):
            continue
        if command.launcher is None:
            if not command.waiting:  # a script that waits for its caller may be started by a launcher
                plain.update(found)
        elif len(found) == 1:  # a launch of a name several entries have launches none of them for sure
            launched.setdefault(found[0], Evidence(command.source, command.line, LAUNCHED.format(command=_shortened(command.text))))
    kept = {entry: evidence for entry, evidence in launched.items() if entry not in plain}
    return _on_routes(kept, importers(), every, every - run) if kept else {}


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


def _on_routes(
    found: dict[str, Evidence], importers: Mapping[str, set[str]], entries: frozenset[str], unrun: frozenset[str]
) -> dict[str, Evidence]:
    """`found`, with every module only their routes reach (`entry_routes.only_routes`), each with the
    evidence of the launched entry it is reached from."""
    return {module: found[entry] for module, entry in only_routes(found, importers, entries, unrun).items()}
