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
a document, a shell script or a workflow that spells an entry, as a path (`basicsr/train.py`), a
module (`-m pkg.train`) or the name of a console script the project declares (`pkg-train`), where a
Python interpreter or a launcher runs it, or the line starts with it. A line that names the script
in prose runs nothing and is not read. An entry is launched where at least one command launches it
and none runs it as one process; a module that only such entries import (at their top level, to a
fixed point) is on their route too. Conservative on purpose: any single-process command of an
entry, anywhere in the project, keeps the distributed reading of the whole route.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.facts import Evidence

Reader = Callable[[], bytes]

_LAUNCHER_WORDS = (b"torchrun", b"torch.distributed.launch", b"torch.distributed.run", b"deepspeed", b"--multi_gpu")
"""Bytes without which a document launches nothing (a cheap test before a file is read line by line)."""

_LAUNCHERS = frozenset({"torchrun", "torch.distributed.launch", "torch.distributed.run", "deepspeed"})
"""Commands (or `-m` modules) that start each process with `RANK`, `LOCAL_RANK` and `WORLD_SIZE` set."""

_INTERPRETER = re.compile(r"python(?:[23](?:\.\d+)?)?")
"""`python`, `python3`, `python3.10`: a run of the script as one process, unless a launcher precedes it."""

_ENVIRONMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=\S*")
"""`CUDA_VISIBLE_DEVICES=0`: an assignment before a command."""

_STRIPPED = "`'\"$>!(),;"
"""Characters around a token that belong to the document, not the command (prompts, quotes, code marks)."""

_CONSOLE_SCRIPT = re.compile(r"""["']?([A-Za-z_][\w.-]*)["']?\s*=\s*["']?\s*([A-Za-z_][\w.]*)\s*:\s*[A-Za-z_][\w.]*""")
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
    only where some entry is launched). `scripts`
    maps console script names to the display paths of their modules."""
    wanted: dict[str, list[str]] = {}
    for entry in sorted(set(entries) | set(scripts.values())):
        wanted.setdefault(posixpath.basename(entry), []).append(entry)
    texts = _launching_documents(documents) if wanted else {}
    if not texts:
        return {}
    launched: dict[str, Evidence] = {}
    plain: set[str] = set()
    for path, text in sorted(texts.items()):
        for number, line in _logical_lines(text):
            if ".py" not in line and "-m " not in line and not any(name in line for name in scripts):
                continue
            for entry, is_launch in _commands(line, wanted, scripts):
                if is_launch:
                    launched.setdefault(entry, Evidence(path, number, LAUNCHED.format(command=_shortened(line))))
                else:
                    plain.add(entry)
    found = {entry: evidence for entry, evidence in launched.items() if entry not in plain}
    return _with_importers_only(found, importers()) if found else {}


def _launching_documents(documents: Mapping[str, Reader]) -> dict[str, str]:
    """The text of each document that spells a launcher at all, and of every document that could run
    an entry as one process, which is every one of them: the read is skipped only where no document
    launches anything."""
    texts: dict[str, str] = {}
    launches = False
    for path, read in sorted(documents.items()):
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable document runs nothing; its own analysis says why
            continue
        launches = launches or any(word in data for word in _LAUNCHER_WORDS)
        text = data.decode("utf-8", "replace")
        texts[path] = text.replace("\\n", "\n") if path.endswith(".ipynb") else text
    return texts if launches else {}


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """(first line number, the line) for each command line of `text`, with backslash continuations joined."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        stripped = line.rstrip()
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        yield start, " ".join(pending)
        pending = []
    if pending:
        yield start, " ".join(pending)


def _commands(line: str, wanted: Mapping[str, list[str]], scripts: Mapping[str, str]) -> Iterable[tuple[str, bool]]:
    """(entry, whether a launcher starts it) for each entry `line` runs: one a launcher or an
    interpreter before it runs, or one the line starts with as a command (`./train.py`, a console
    script). `wanted` holds the entries by file name."""
    tokens = [token for token in (word.strip(_STRIPPED) for word in line.split()) if token]
    launcher = False
    runner = False
    first = True
    for index, token in enumerate(tokens):
        if first and _ENVIRONMENT.fullmatch(token):
            continue
        module = tokens[index + 1] if token == "-m" and index + 1 < len(tokens) else None
        if token in _LAUNCHERS or module in _LAUNCHERS or _accelerate_multi_gpu(tokens, index):
            launcher = True
        elif _INTERPRETER.fullmatch(posixpath.basename(token)):
            runner = True
        entry = _spelled_entry(token, module, wanted, scripts)
        if entry is not None and (launcher or runner or (first and (token in scripts or token.startswith("./")))):
            yield entry, launcher
        first = False


def _accelerate_multi_gpu(tokens: list[str], index: int) -> bool:
    """`accelerate launch --multi_gpu ...`: without `--multi_gpu` a machine without GPUs runs one
    process (https://huggingface.co/docs/accelerate/basic_tutorials/launch)."""
    return tokens[index] == "accelerate" and tokens[index + 1 : index + 2] == ["launch"] and "--multi_gpu" in tokens


def _spelled_entry(
    token: str, module: str | None, wanted: Mapping[str, list[str]], scripts: Mapping[str, str]
) -> str | None:
    """The entry `token` spells: a script's path (its tail, `train.py` for `tools/train.py`), the
    module after `-m`, or a console script's name."""
    if token in scripts:
        return scripts[token]
    spelled = module.replace(".", "/") + ".py" if module is not None else token
    if not spelled.endswith(".py"):
        return None
    spelled = spelled.removeprefix("./")
    for entry in wanted.get(posixpath.basename(spelled), ()):
        if entry == spelled or entry.endswith("/" + spelled):
            return entry
    return None


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
