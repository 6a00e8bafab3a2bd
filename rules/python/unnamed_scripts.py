"""Scripts that nothing in the project names: a route no document, script or configuration gives.

A project keeps scripts its documents never mention: a developer's one-off export, a benchmark of
a kernel, a LoRA variant of a training example whose README runs only the full one. A user who
follows the project's README, shell scripts, workflows and configurations never runs them; one who
finds the file and runs it by hand does. Their CUDA sites break no target on the project's normal
path: another path, at most a warning (`verdicts.off_default_path`), as a package module that
nothing imports is (`unreached.py`).

`unnamed_scripts` reads, for the candidates the index gives it (modules with a `__main__` block that
no other module imports), whether any other file of the scan spells the script's name, its file name
without `.py`, as a word of its own in a shape that runs or imports it: its file name
(`python tools/export_onnx.py`, `bash run.sh` whose line runs it, a notebook's `%run export_onnx.py`, a
workflow step), a dotted path ending in it (`-m tools.export_onnx`, an entry point
`tools.export_onnx:main`, `from tools.export_onnx import main`), or the bare name after `-m`, `import`
or `from`, or before an entry point's `:main`. The word alone names nothing: a sibling's
`print("prepare small")` or a README's "a small model" runs no `small.py`. The developers' folders (`scripts/`, `tools/`: `developer_folders.py`)
judge their files by the project's documents alone, as a stricter reading of folders that hold
maintainers' helpers; this one reads every folder, and any file that names a script keeps its verdicts.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.rules.catalog import WORD_BYTES, word_automaton
from cudaudit.rules.python.unnamed import read_or_none

Reader = Callable[[], bytes]

CONVENTIONAL_ENTRIES = frozenset({"app.py", "hubconf.py", "setup.py", "conftest.py", "manage.py", "__main__.py"})
"""Scripts a tool runs by their file name, with no line of the project naming them: a Hugging Face
Space runs `app.py` (https://huggingface.co/docs/hub/spaces-sdks-gradio), `torch.hub` loads
`hubconf.py` (https://docs.pytorch.org/docs/stable/hub.html), pip runs `setup.py`, pytest reads
`conftest.py`, Django's `manage.py`, `python -m pkg` runs `pkg/__main__.py`."""
UNNAMED = "no document, script, configuration or other module of the project names this script: only a user who finds it runs it"


def unnamed_scripts(candidates: Iterable[str], files: Mapping[str, Reader]) -> dict[str, Evidence]:
    """Display path -> why it is another path, for each of `candidates` (scripts' display paths) whose
    name no other file of `files` (display path -> its bytes; an unreadable one names nothing)
    spells as a word of its own."""
    stems: dict[bytes, set[str]] = {}
    for path in candidates:
        name = posixpath.basename(path)
        if name not in CONVENTIONAL_ENTRIES and name.endswith(".py"):
            stems.setdefault(name[:-3].encode(), set()).add(path)
    automaton = word_automaton(sorted(stems))
    if automaton is None:
        return {}
    left = {path for paths in stems.values() for path in paths}
    for other, read in sorted(files.items()):
        if not left:
            break
        data = read_or_none(read) or b""
        for index, start, end in automaton.matches(data):
            if _runs_or_imports(data, start, end):
                left -= stems[automaton.words[index]] - {other}
    return {path: Evidence(path, 0, UNNAMED) for path in sorted(left)}


def run_scripts(candidates: Iterable[str], files: Mapping[str, Reader]) -> frozenset[str]:
    """The paths of `candidates` (modules with a `__main__` block) that another file of `files` names
    in a shape that runs the file itself: its file name (`python pkg/scorer.py`, `%run scorer.py`),
    a `-m` module (`python -m pkg.scorer`) or an entry point (`pkg.scorer:main`). An import of it
    (`from pkg.scorer import Scorer`, a configuration's `target: pkg.scorer.Scorer`) runs its
    importers, never its `__main__` block."""
    stems: dict[bytes, set[str]] = {}
    for path in candidates:
        if path.endswith(".py"):
            stems.setdefault(posixpath.basename(path)[:-3].encode(), set()).add(path)
    automaton = word_automaton(sorted(stems))
    if automaton is None:
        return frozenset()
    run: set[str] = set()
    for other, read in sorted(files.items()):
        data = read_or_none(read) or b""
        for index, start, end in automaton.matches(data):
            if _runs(data, start, end):
                run |= stems[automaton.words[index]] - {other}
    return frozenset(run)


_BEFORE = re.compile(rb"(?:-m|\bimport|\bfrom)[ \t]+$")
_RUN_MODULE = re.compile(rb"-m[ \t]+(?:[A-Za-z_][\w.]*\.)?$")
"""What stands before a module's last name where a command runs it: `-m export_onnx`, `-m tools.export_onnx`."""
"""What stands before a script's bare name where it runs or imports it: `python -m export_onnx`,
`import export_onnx`, `from export_onnx import main`."""
_LOOK_BEHIND = 16


def _runs_or_imports(data: bytes, start: int, end: int) -> bool:
    """Whether the name at `data[start:end]` is a word of its own that runs or imports its script: a
    file name (`export_onnx.py`), the last part of a dotted path (`tools.export_onnx`), after `-m`,
    `import` or `from`, or before an entry point's `:main`."""
    if (start and data[start - 1] in WORD_BYTES) or (end < len(data) and data[end] in WORD_BYTES):
        return False
    if _runs(data, start, end):
        return True
    if start >= 2 and data[start - 1 : start] == b"." and data[start - 2] in WORD_BYTES:
        return True
    return _BEFORE.search(data[max(0, start - _LOOK_BEHIND) : start]) is not None


_RUN_LOOK_BEHIND = 64


def _runs(data: bytes, start: int, end: int) -> bool:
    """Whether the name at `data[start:end]` is a word of its own that runs its module's file: a file
    name (`export_onnx.py`), a `-m` module ending in it, or an entry point (`tools.export_onnx:main`)."""
    if (start and data[start - 1] in WORD_BYTES) or (end < len(data) and data[end] in WORD_BYTES):
        return False
    after = data[end : end + 4]
    if after[:3] == b".py" and (len(after) < 4 or after[3] not in WORD_BYTES):
        return True
    if after[:1] == b":" and len(after) > 1 and (after[1:2].isalpha() or after[1:2] == b"_"):
        return True
    if after[:1] == b"." and len(after) > 1 and after[1] in WORD_BYTES:
        return False  # `-m tools.export_onnx.sub`: a module inside it
    return _RUN_MODULE.search(data[max(0, start - _RUN_LOOK_BEHIND) : start]) is not None
