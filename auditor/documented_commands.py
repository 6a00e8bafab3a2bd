"""The commands a project tells its users to run, read once from its documents and scripts.

Several readings ask the same question of a project's prose and scripts: which commands does it
give? `documented_scripts` (the root scripts a project of scripts is used through), `documented_flags`
(the flags those commands pass) and `launched_entries` (the entries every command starts under a
launcher of several processes) read the answer here. A command is read from a logical line
(backslash continuations joined; a notebook's JSON-escaped lines unescaped) of a document, a shell
script, a notebook or a workflow, split at inline code marks (`` `python a.py` or `torchrun a.py` ``)
and at the shell's separators (`;`, `&&`, `||`, `|`), each part a command of its own. Its words
are the shell's words with the prose's punctuation around them taken off (prompts, quotes, code
marks), never expanded or run.

Each command says what it runs: the program (after `NAME=value` assignments), the runner that
takes a file (`python`, `sh`, `bash`), the launcher of several processes before it (`torchrun`,
`python -m torch.distributed.launch`, `deepspeed`, `accelerate launch --multi_gpu`, and `srun`
with more than one task: each sets the variables a process reads its rank from,
https://docs.pytorch.org/docs/stable/elastic/run.html, https://slurm.schedmd.com/srun.html),
the script or module it runs and the words after it (its arguments). A `cd` before it in the same
code block (or earlier in a shell script) is the folder it runs in.

A shell script a command runs (`./tools/dist_train.sh 8 cfg`, `bash run.sh`) is followed to the
commands it runs (`followed`): each with the caller's arguments in place of `$@`, `${@:2}`, `$*`,
or a variable assigned from them (`PY_ARGS=${@:2}` then `python train.py ${PY_ARGS}`), and under
the caller's launcher, where one starts the script.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from cudaudit.rules.catalog import WordSearch, word_automaton

Reader = Callable[[], bytes]

LAUNCHERS = frozenset({"torchrun", "torch.distributed.launch", "torch.distributed.run", "deepspeed"})
"""Commands (or `-m` modules) that start each process with `RANK`, `LOCAL_RANK` and `WORLD_SIZE` set."""
SHELLS = frozenset({"sh", "bash", "zsh", "source", "."})
"""Programs that run a shell script given as their first file."""
SHELL_SUFFIXES = (".sh", ".bash")
ELLIPSES = frozenset({"...", "\u2026"})
"""A word that stands for the words an excerpt of a command leaves out (`python train.py --lr=0.1 ...`)."""

_INTERPRETER = re.compile(r"python(?:[23](?:\.\d+)?)?")
"""`python`, `python3`, `python3.10`: a run of the script as one process, unless a launcher precedes it."""
_ENVIRONMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*", re.DOTALL)
"""`CUDA_VISIBLE_DEVICES=0`: an assignment before a command."""
_STRIPPED = "`'\"$>!(),;"
"""Characters around a word that belong to the document, not the command (prompts, quotes, code marks)."""
_EXPANSION = re.compile(r"\$\{?[\w@*]")
"""`$@`, `${PY_ARGS}`, `$1`: a word the shell expands, kept as written (its `$` is no prompt)."""
_COMMAND_SEPARATORS = re.compile(r"\s(?:&&|\|\||;|\|)\s|;\s|;$")
"""The shell's separators between commands of one line (`cd ops && sh make.sh; python test.py`)."""
_CONTINUED = re.compile(rb"\\[ \t]*\r?\n")
_CANDIDATES = (b".py", b".sh", b".bash", b"./", b"python", b"torchrun", b"deepspeed", b"accelerate", b"srun", b"-m ", b"cd ", b"```")
"""What a line that runs something, or changes the folder commands run in, holds: the others are
skipped (one search of the file by an automaton finds them)."""
_CALLER_ARGUMENTS = re.compile(r"""["']?\$(?:\{@(?::(\d+))?\}|@|\*|\{\*\})["']?""")
"""`$@`, `"$@"`, `${@:2}`, `$*`: the caller's arguments (from the given one on)."""
_HOLDS_ARGUMENTS = re.compile(r"""^[ \t]*([A-Za-z_]\w*)=["']?\$(?:\{@(?::(\d+))?\}|@|\*|\{\*\})["']?[ \t]*$""", re.MULTILINE)
"""`PY_ARGS=${@:2}`: a variable that holds the caller's arguments."""
_DEPTH = 4
"""Scripts and launchers followed one into another at most (a script that runs itself ends there)."""
_SWITCH = re.compile(r"--([A-Za-z][\w-]*)")
"""An option word with no `=value` in it."""
_PROSE_REACH = 3
"""Lines above a command that the prose introducing it may stand on (a blank line, a code fence)."""
_TASKS = re.compile(r"(?:--ntasks(?:-per-node)?|-n)(?:=|$)(.*)")
"""`srun`'s task count: `--ntasks=8`, `--ntasks-per-node 8`, `-n 8` (https://slurm.schedmd.com/srun.html)."""


@dataclass(frozen=True)
class Command:
    """One command of a document or script: what it runs, under which launcher, with which words."""

    source: str
    """The display path of the document or script that gives it."""
    line: int
    """The first line of its logical line there."""
    text: str
    """Its logical line, as the evidence quotes it."""
    words: tuple[str, ...]
    folder: str
    """The folder it runs in, from the project's root: a `cd` before it, or its source's folder."""
    program: str = ""
    """Its first word after `NAME=value` assignments."""
    launcher: str | None = None
    """The launcher of several processes that starts what it runs (`torchrun`, `srun`), if any."""
    runner: str | None = None
    """The program that runs the file (`python`, `bash`), None where the command starts with the file."""
    script: str | None = None
    """The file it runs (`tools/train.py`, `./configs/run.sh`), as written."""
    module: str | None = None
    """The module after `-m`, where it runs one."""
    arguments: tuple[str, ...] = ()
    """The words after the script or module."""
    waiting: bool = False
    """A command of a shell script no command runs that takes the caller's arguments (`$@`): the
    script waits for a caller, so whether a launcher starts it is not known."""

    @property
    def runs_shell(self) -> bool:
        """Whether what it runs is a shell script."""
        return self.script is not None and self.script.endswith(SHELL_SUFFIXES)

    @property
    def switches(self) -> frozenset[str]:
        """The options it turns on without a value (`--eval` before another option or at the end;
        `-` read as `_`): the switches that pick a use of its script (`python main.py --eval`)."""
        found = set()
        for index, word in enumerate(self.arguments):
            following = self.arguments[index + 1] if index + 1 < len(self.arguments) else "-"
            match = _SWITCH.fullmatch(word)
            if match is not None and (following.startswith("-") or following in ELLIPSES):
                found.add(match.group(1).replace("-", "_"))
        return frozenset(found)


def command_of(
    words: Iterable[str], source: str = "", line: int = 0, text: str = "", folder: str = "", launcher: str | None = None
) -> Command:
    """The command `words` spell: the first script or module after a runner or a launcher, or the
    first word where it names a file to run itself (`./train.sh`, `./tools/run.py`); `launcher`
    the one that starts the words (the project's own launcher, given the command to start)."""
    words = tuple(words)
    start = next((index for index, word in enumerate(words) if not _ENVIRONMENT.fullmatch(word)), len(words))
    program = words[start] if start < len(words) else ""
    runner: str | None = None
    index = start
    while index < len(words):
        word = words[index]
        module = words[index + 1] if word == "-m" and index + 1 < len(words) else None
        if word in LAUNCHERS or module in LAUNCHERS or _accelerate_multi_gpu(words, index) or _several_tasks(words, index):
            launcher = module or word
            index += 2 if module else 1
            continue
        if is_interpreter(word) or word == "accelerate" or (index == start and word in SHELLS):
            runner = runner or word  # `accelerate launch` without `--multi_gpu` runs one process on a machine without GPUs
        elif module is not None and (runner or launcher):
            return Command(source, line, text, words, folder, program, launcher, runner, None, module, words[index + 2 :])
        elif (runner or launcher or index == start) and _runnable(word, index == start and not (runner or launcher)):
            return Command(source, line, text, words, folder, program, launcher, runner, word, None, words[index + 1 :])
        index += 1
    return Command(source, line, text, words, folder, program, launcher, runner)


def is_interpreter(word: str) -> bool:
    """Whether `word` runs Python's interpreter (`python3`, `/usr/bin/python`)."""
    return "python" in word and _INTERPRETER.fullmatch(posixpath.basename(word)) is not None


def _runnable(word: str, first: bool) -> bool:
    """Whether `word` names a file a command runs: a Python or shell script after a runner, or a
    path from the current folder that the command starts with (`./run.sh`)."""
    if first:
        return word.startswith("./")
    return word.endswith((".py", *SHELL_SUFFIXES)) or word.startswith("./")


def _accelerate_multi_gpu(words: tuple[str, ...], index: int) -> bool:
    """`accelerate launch --multi_gpu ...`: without `--multi_gpu` a machine without GPUs runs one
    process (https://huggingface.co/docs/accelerate/basic_tutorials/launch)."""
    return words[index] == "accelerate" and words[index + 1 : index + 2] == ("launch",) and "--multi_gpu" in words


def _several_tasks(words: tuple[str, ...], index: int) -> bool:
    """`srun --ntasks=8 ...` (or `-n 8`, `--ntasks-per-node=8`): Slurm starts that many processes,
    each with its own `SLURM_PROCID`; a count of one, or none given, starts one."""
    if words[index] != "srun":
        return False
    for position, word in enumerate(words[index + 1 :], index + 1):
        match = _TASKS.fullmatch(word)
        if match is None:
            continue
        count = match.group(1) or (words[position + 1] if position + 1 < len(words) else "1")
        if count != "1":
            return True
    return False


class DocumentedCommands:
    """The commands of a project's documents and scripts (display path -> reader), each file read once."""

    def __init__(self, sources: Mapping[str, Reader], names: Iterable[str] = ()) -> None:
        """`names`: the programs a line may start with besides the ones every reading knows (the
        project's console scripts)."""
        self._sources = dict(sources)
        self._candidates = word_automaton([*_CANDIDATES, *(name.encode() for name in sorted(names))])
        self._read: dict[str, list[Command]] = {}
        self._assigned: dict[str, dict[str, int]] = {}
        self._by_file: dict[str, set[str]] = {}
        self._lines: dict[str, tuple[list[str], frozenset[int]]] = {}

    def prose_before(self, command: Command) -> str:
        """The nearest line of prose above `command`'s in its source, within `_PROSE_REACH` lines:
        not blank, no code fence, no line of a command (`If you have several GPUs, run:` above
        `python train_multi.py`); '' where there is none."""
        if command.source not in self._lines:
            try:
                data = self._sources[command.source]()
            except Exception:  # noqa: BLE001 - an unreadable file has no prose; its own analysis says why
                data = b""
            lines = data.decode("utf-8", "replace").splitlines()
            self._lines[command.source] = (lines, frozenset(other.line for other in self.of(command.source)))
        lines, commands = self._lines[command.source]
        for number in range(command.line - 1, max(command.line - 1 - _PROSE_REACH, 0), -1):
            text = lines[number - 1].strip() if number <= len(lines) else ""
            if text and not text.startswith(("```", "~~~")) and number not in commands:
                return text
        return ""

    def paths(self) -> list[str]:
        """The display paths of the files read, in order."""
        return sorted(self._sources)

    def of(self, path: str) -> list[Command]:
        """The commands `path` gives itself, in order (read on the first call)."""
        if path not in self._read:
            self._read[path] = list(self._commands(path))
        return self._read[path]

    def __iter__(self) -> Iterator[Command]:
        """Every command of every file, each file's in order."""
        for path in self.paths():
            yield from self.of(path)

    def reached(self, starts_ranks: Callable[[Command], bool] = lambda command: False) -> Iterator[Command]:
        """Every command the project tells its users to run: each file's own, but for the shell
        scripts some command runs (read through that command instead, `followed`), and the commands
        those run in turn: a shell script's, and the one the project's own launcher starts
        (`starts_ranks(command)`: the module `command` runs starts one process per rank), under it."""
        run = self.scripts_run()
        for path in self.paths():
            if path in run:
                continue
            shell = path.endswith(SHELL_SUFFIXES)
            for command in self.of(path):
                waiting = shell and self._takes_arguments(command)
                yield from self._through(replace(command, waiting=True) if waiting else command, starts_ranks, _DEPTH)

    def _through(self, command: Command, starts_ranks: Callable[[Command], bool], depth: int) -> Iterator[Command]:
        """`command`, then what it runs through a shell script or the project's launcher (`depth` levels more at most)."""
        yield command
        if depth == 0:
            return
        if command.runs_shell:
            for inner in self.followed(command):
                yield from self._through(replace(inner, waiting=True) if command.waiting else inner, starts_ranks, depth - 1)
        elif command.script is not None and starts_ranks(command):
            inner = command_of(command.arguments, command.source, command.line, command.text, command.folder, command.script)
            yield from self._through(replace(inner, waiting=True) if command.waiting else inner, starts_ranks, depth - 1)

    def _takes_arguments(self, command: Command) -> bool:
        """Whether `command` passes on its script's arguments (`$@`, or a variable assigned from them)."""
        return any(self._caller_arguments(command.source, word) is not None for word in command.words)

    def _caller_arguments(self, source: str, word: str) -> int | None:
        """The first of the caller's arguments that `word` (of the shell script `source`) stands
        for (`$@`: 0, `${@:2}`: 1, `${PY_ARGS}` after `PY_ARGS=${@:2}`: 1), None where it is none."""
        match = _CALLER_ARGUMENTS.fullmatch(word)
        if match is not None:
            return max(int(match.group(1) or 1) - 1, 0)
        return self._assigned.get(source, {}).get(word.strip("\"'${}")) if word.startswith("$") else None

    def python_run(self, known: Iterable[str], given_by: Callable[[str], bool] = lambda source: True) -> set[str]:
        """The paths of `known` that a command the project gives runs by their path (from the root,
        or the folder it runs in), Python's interpreter or a launcher running them; `given_by` picks
        the sources (by display path) whose commands count."""
        paths = frozenset(known)
        run: set[str] = set()
        for command in self.reached():
            if given_by(command.source) and command.script is not None and command.script.endswith(".py") and (command.runner or command.launcher):
                run.update(resolved_path(command.script, command.folder, paths, tails=False))
        return run

    def scripts_run(self) -> set[str]:
        """The display paths of the shell scripts among the files that some command runs."""
        run: set[str] = set()
        for command in self:
            if command.runs_shell:
                run.update(self.resolved(command))
        return run

    def resolved(self, command: Command) -> list[str]:
        """The files among the sources that `command`'s shell script may be (`resolved_path`)."""
        assert command.script is not None
        if not self._by_file:
            for path in self._sources:
                self._by_file.setdefault(posixpath.basename(path), set()).add(path)
        candidates = self._by_file.get(posixpath.basename(command.script))
        return resolved_path(command.script, command.folder, candidates) if candidates else []

    def followed(self, command: Command) -> list[Command]:
        """The commands of the shell script `command` runs, with its arguments for the script's `$@`,
        under its launcher; none where the script is not one path of the project."""
        paths = self.resolved(command) if command.runs_shell else []
        if len(paths) != 1:
            return []
        inner = []
        for own in self.of(paths[0]):
            words = tuple(self._substituted(own, command.arguments))
            runs = command_of(words, own.source, own.line, own.text, own.folder)
            inner.append(replace(runs, launcher=runs.launcher or command.launcher))
        return inner

    def _substituted(self, command: Command, arguments: tuple[str, ...]) -> Iterator[str]:
        """`command`'s words with the caller's `arguments` for the words that stand for them."""
        for word in command.words:
            first = self._caller_arguments(command.source, word)
            if first is None:
                yield word
            else:
                yield from arguments[first:]

    def _commands(self, path: str) -> Iterator[Command]:
        try:
            data = self._sources[path]()
        except Exception:  # noqa: BLE001 - an unreadable file gives no commands; its own analysis says why
            return
        if path.endswith(".ipynb"):
            data = data.replace(b"\\n", b"\n")  # a notebook's lines are JSON strings
        if path.endswith(SHELL_SUFFIXES):
            text = data.decode("utf-8", "replace")
            self._assigned[path] = {name: max(int(start or 1) - 1, 0) for name, start in _HOLDS_ARGUMENTS.findall(text)}
        home = posixpath.dirname(path)
        folder = home
        for number, line in _logical_lines(data, self._candidates):
            if line.lstrip().startswith("```"):
                folder = home  # a new code block starts where the document's reader is
                continue
            shell = path.endswith(SHELL_SUFFIXES)
            for span in [line] if shell else line.split("`"):
                for part in _COMMAND_SEPARATORS.split(span):
                    words = [word for word in map(_word, _split(part, shell)) if word]
                    if words[:1] == ["cd"] and len(words) == 2:
                        folder = posixpath.normpath(posixpath.join(folder, words[1]))
                    elif words:
                        yield command_of(words, path, number, line, folder)


def _split(part: str, shell: bool) -> list[str]:
    """The words of a command: a shell script's as the shell splits them (quotes joined, a comment
    left out); a document's at white space, since its prose's apostrophes are no quotes."""
    if shell and any(mark in part for mark in "\"'#\\"):  # else the shell splits at white space too
        try:
            return shlex.split(part, comments=True)
        except ValueError:  # an unclosed quote: the words as they stand
            pass
    return part.split()


def _word(raw: str) -> str:
    """`raw` without the prose's punctuation around it; an expansion keeps its `$` and braces, and
    an ellipsis (`...`, which stands for the words an excerpt leaves out) stays a word."""
    if _EXPANSION.match(raw.lstrip("\"'")):
        return raw.strip("\"';")
    word = raw.strip(_STRIPPED)
    return word if word in ELLIPSES else word.rstrip(".:")


def _logical_lines(data: bytes, candidates: WordSearch | None) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each logical line (backslash continuations joined) that may
    hold a command, or opens a code block: where `candidates` finds one of its words."""
    joined = _CONTINUED.sub(b" \x00", data) if b"\\" in data else data
    counted, number, end = 0, 1, -1
    for _, start, _ in candidates.matches(joined) if candidates is not None else ():
        if start <= end:
            continue  # a line already read
        first = joined.rfind(b"\n", 0, start) + 1
        number += joined.count(b"\n", counted, first) + joined.count(b"\x00", counted, first)
        counted = first
        end = joined.find(b"\n", start)
        end = len(joined) if end < 0 else end
        yield number, joined[first:end].replace(b" \x00", b" ").decode("utf-8", "replace")


def resolved_path(written: str, folder: str, known: Iterable[str], tails: bool = True) -> list[str]:
    """The paths of `known` that a file written `written` in a command run in `folder` may be: the
    path from the project's root or from the folder, else (with `tails`) every path that ends so,
    where the written path is no path of its own."""
    path = posixpath.normpath(written)
    known = known if isinstance(known, (set, frozenset, dict)) else set(known)
    for exact in (path, posixpath.normpath(posixpath.join(folder, path))):
        if exact in known:
            return [exact]
    return sorted(entry for entry in known if entry.endswith("/" + path)) if tails else []
