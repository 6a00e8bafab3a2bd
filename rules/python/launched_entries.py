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

`always_launched` reads each documented command: a logical line (backslash continuations joined) of
a document, a shell script, a notebook or a workflow that spells an entry, as a path (`basicsr/train.py`,
from the project's root or the document's folder, or the tail of one path: `train.py` for every
`*/train.py`), a module (`-m pkg.train`) or the name of a console script the project declares
(`pkg-train`), where a Python interpreter or a launcher runs it, or the line starts with it; only the
lines where an automaton finds such a name are read. A line that names the script in prose runs
nothing and is not read, and a launch of a name several entries may have launches none of them. An entry is launched where at least one command launches it
and none runs it as one process; a module that only such entries import (at their top level, to a
fixed point) is on their route too. Conservative on purpose: any single-process command of an
entry, anywhere in the project, keeps the distributed reading of the whole route.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping

from cudaudit.facts import Evidence
from cudaudit.rules.catalog import word_automaton
from cudaudit.rules.python.unnamed import read_or_none

Reader = Callable[[], bytes]

_LAUNCHER_WORDS = (b"torchrun", b"torch.distributed.launch", b"torch.distributed.run", b"deepspeed", b"--multi_gpu")
"""Bytes without which no document launches anything: then no entry is launched."""

_LAUNCHERS = frozenset({"torchrun", "torch.distributed.launch", "torch.distributed.run", "deepspeed"})
"""Commands (or `-m` modules) that start each process with `RANK`, `LOCAL_RANK` and `WORLD_SIZE` set."""

_INTERPRETER = re.compile(r"python(?:[23](?:\.\d+)?)?")
"""`python`, `python3`, `python3.10`: a run of the script as one process, unless a launcher precedes it."""

_ENVIRONMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=\S*")
"""`CUDA_VISIBLE_DEVICES=0`: an assignment before a command."""

_STRIPPED = "`'\"$>!(),;"
"""Characters around a token that belong to the document, not the command (prompts, quotes, code marks)."""

_CONSOLE_SCRIPT = re.compile(r"""(?<![\w.-])([A-Za-z_][\w.-]*)["']?[ \t]*=[ \t]*(?:["'][ \t]*)?([A-Za-z_][\w.]*)[ \t]*:[ \t]*[A-Za-z_]""")
"""A console script's declaration: `name = pkg.cli:main` (setup.py's `entry_points`, setup.cfg) or
`name = "pkg.cli:main"` (pyproject's `[project.scripts]`)."""

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
    documents: Mapping[str, Reader],
    importers: Callable[[], Mapping[str, set[str]]],
) -> dict[str, Evidence]:
    """Display path -> the command that launches it, for each of `entries` (display paths of entry
    modules) that the commands of `documents` (display path -> bytes) start only under a launcher,
    and each module that only such modules import (`importers` gives module -> its importers, read
    only where some entry is launched). `scripts` maps console script names to the display paths of
    their modules."""
    known = _Entries(entries, scripts)
    automaton = word_automaton(known.words())
    if automaton is None:
        return {}
    spelled: list[tuple[str, bytes, list[int]]] = []
    launches = False
    for path, read in sorted(documents.items()):
        data = read_or_none(read)
        if not data:
            continue
        launches = launches or any(word in data for word in _LAUNCHER_WORDS)
        if path.endswith(".ipynb"):
            data = data.replace(b"\\n", b"\n")  # a notebook's lines are JSON strings
        starts = sorted({start for _, start, _ in automaton.matches(data)})
        if starts:
            spelled.append((path, data, starts))
    if not launches:
        return {}
    launched: dict[str, Evidence] = {}
    plain: set[str] = set()
    for path, data, starts in spelled:
        for number, line in _lines_at(data, starts):
            for found, is_launch in _commands(line, posixpath.dirname(path), known):
                if not is_launch:
                    plain.update(found)
                elif len(found) == 1:  # a launch of a name several entries have launches none of them for sure
                    launched.setdefault(found[0], Evidence(path, number, LAUNCHED.format(command=_shortened(line))))
    kept = {entry: evidence for entry, evidence in launched.items() if entry not in plain}
    return _with_importers_only(kept, importers()) if kept else {}


class _Entries:
    """The entries a command may spell, by file name, module name and console script name."""

    def __init__(self, entries: Iterable[str], scripts: Mapping[str, str]) -> None:
        self.scripts = dict(scripts)
        self._by_file: dict[str, list[str]] = {}
        for entry in sorted(set(entries) | set(scripts.values())):
            self._by_file.setdefault(posixpath.basename(entry), []).append(entry)

    def words(self) -> list[bytes]:
        """What a line that runs an entry spells: its file name, its module's last two parts
        (`tools.train` for `-m tools.train`), `-m` and its name, or a console script's name."""
        found: set[bytes] = {name.encode() for name in self.scripts}
        for file, entries in self._by_file.items():
            found.add(file.encode())
            found.add(b"-m " + file[:-3].encode())
            for entry in entries:
                parts = entry[:-3].split("/")
                if len(parts) > 1:
                    found.add(".".join(parts[-2:]).encode())
        return sorted(found)

    def spelled(self, token: str, module: str | None, folder: str) -> list[str]:
        """The entries `token` may spell, from a document in `folder`: a console script's name, a
        script's path from the project's root or the document's folder, or the tail of one (every
        entry whose path ends so, where the tail is no path of its own); the module after `-m` as
        the path it names."""
        if token in self.scripts:
            return [self.scripts[token]]
        path = module.replace(".", "/") + ".py" if module is not None else token
        if not path.endswith(".py"):
            return []
        path = posixpath.normpath(path)
        candidates = self._by_file.get(posixpath.basename(path), [])
        for exact in (path, posixpath.normpath(posixpath.join(folder, path))):
            if exact in candidates:
                return [exact]
        return [entry for entry in candidates if entry.endswith("/" + path)]


def _lines_at(data: bytes, starts: list[int]) -> Iterator[tuple[int, str]]:
    """(first line number, the command) of each logical line (backslash continuations joined) that
    holds one of the offsets `starts` (in order), once each."""
    seen: set[int] = set()
    for offset in starts:
        first = data.rfind(b"\n", 0, offset) + 1
        while first > 1 and data[first - 2 : first - 1] == b"\\":  # the line above continues into this one
            first = data.rfind(b"\n", 0, first - 1) + 1
        if first in seen:
            continue
        seen.add(first)
        end = data.find(b"\n", offset)
        while end >= 0 and data[end - 1 : end] == b"\\":
            end = data.find(b"\n", end + 1)
        text = data[first : len(data) if end < 0 else end].decode("utf-8", "replace")
        yield data.count(b"\n", 0, first) + 1, text.replace("\\\r\n", " ").replace("\\\n", " ")


def _commands(line: str, folder: str, known: _Entries) -> Iterator[tuple[list[str], bool]]:
    """(the entries it may be, whether a launcher starts it) for each entry `line` (of a document in
    `folder`) runs: one a launcher or an interpreter before it runs, or one the line starts with as
    a command (`./train.py`, a console script). Each inline code span (`` `python train.py` ``) is a
    command of its own, so a launcher in one span does not start the entry another span runs."""
    for span in line.split("`"):
        yield from _span_commands(span, folder, known)


def _span_commands(span: str, folder: str, known: _Entries) -> Iterator[tuple[list[str], bool]]:
    """`_commands` of one command: the words of `span`, without the prose's punctuation around them."""
    tokens = [token for token in (word.strip(_STRIPPED).rstrip(".:") for word in span.split()) if token]
    launcher = False
    runner = False
    first = True
    for index, token in enumerate(tokens):
        if first and _ENVIRONMENT.fullmatch(token):
            continue
        module = tokens[index + 1] if token == "-m" and index + 1 < len(tokens) else None
        if token in _LAUNCHERS or module in _LAUNCHERS or _accelerate_multi_gpu(tokens, index):
            launcher = True
        elif _INTERPRETER.fullmatch(posixpath.basename(token)) or token == "accelerate":
            runner = True  # `accelerate launch` without `--multi_gpu` runs one process where there is no GPU
        if launcher or runner or (first and (token in known.scripts or token.startswith("./"))):
            found = known.spelled(token, module, folder)
            if found:
                yield found, launcher
        first = False


def _accelerate_multi_gpu(tokens: list[str], index: int) -> bool:
    """`accelerate launch --multi_gpu ...`: without `--multi_gpu` a machine without GPUs runs one
    process (https://huggingface.co/docs/accelerate/basic_tutorials/launch)."""
    return tokens[index] == "accelerate" and tokens[index + 1 : index + 2] == ["launch"] and "--multi_gpu" in tokens


def _shortened(line: str) -> str:
    """The command as the evidence quotes it: its first words."""
    words = line.split()
    return " ".join(words[:6]) + (" ..." if len(words) > 6 else "")


def _with_importers_only(found: dict[str, Evidence], importers: Mapping[str, set[str]]) -> dict[str, Evidence]:
    """`found` without the entries some other module imports, with every module that only `found`
    modules import, to a fixed point; each keeps the evidence of an importer."""
    kept = {path: evidence for path, evidence in found.items() if importers.get(path, set()) <= found.keys()}
    changed = True
    while changed:
        changed = False
        for module, by in sorted(importers.items()):
            if module not in kept and by and by <= kept.keys():
                kept[module] = kept[min(by)]
                changed = True
    return kept
