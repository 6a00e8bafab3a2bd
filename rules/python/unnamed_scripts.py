"""Scripts that nothing in the project names: a route no document, script or configuration gives.

A project keeps scripts its documents never mention: a developer's one-off export, a benchmark of
a kernel, a LoRA variant of a training example whose README runs only the full one. A user who
follows the project's README, shell scripts, workflows and configurations never runs them; one who
finds the file and runs it by hand does. Their CUDA sites break no target on the project's normal
path: another path, at most a warning (`verdicts.off_default_path`), as a package module that
nothing imports is (`unreached.py`).

`unnamed_scripts` reads, for the candidates the index gives it (modules with a `__main__` block that
no other module imports), whether any other file of the scan spells the script's name, its file name
without `.py`, as a word of its own: `python tools/export_onnx.py`, `-m tools.export_onnx`,
`bash run.sh` whose line runs it, a notebook's `%run export_onnx.py`, a workflow step, a Makefile
target, an entry point `tools.export_onnx:main`, a test that runs it. A misreading keeps a verdict:
a name spelled anywhere (`train` in a README's prose) counts as a use, so only scripts with names of
their own can be judged unnamed. The developers' folders (`scripts/`, `tools/`: `developer_folders.py`)
judge their files by the project's documents alone, as a stricter reading of folders that hold
maintainers' helpers; this one reads every folder, and any file that names a script keeps its verdicts.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.rules.catalog import word_automaton
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
        for word in automaton.whole_words(read_or_none(read) or b""):
            left -= stems[word] - {other}
    return {path: Evidence(path, 0, UNNAMED) for path in sorted(left)}
