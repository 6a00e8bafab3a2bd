"""The root scripts a project's own documents run: the entries of a repository of scripts.

A project with nothing to install (no `setup.py`, `setup.cfg` or `pyproject.toml` beside its
package folders) is used by running the scripts its documents give commands for: `python main.py
--cfg ...` in `get_started.md`, `torchrun --nproc_per_node=8 train.py` in the README. Those scripts
are its main use, alternatives of one another: the project runs on a target where one of them does,
and does not where every one stops. `cudaudit report` reads them here, once per report, from the
Markdown and reStructuredText files at the project's root: the first file name after the command
(`python train.py config/small.py` runs `train.py`, with `config/small.py` its argument); a script a
document only links to or mentions (`[config](config.py)`) is not run by it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from cudaudit.safe_read import UnreadableFile, read_tree_file

BUILD_SCRIPTS = frozenset({"setup.py"})
"""`python setup.py install` builds the project; it is no use of it."""
DOCUMENT_SUFFIXES = (".md", ".rst", ".markdown")
MAX_DOCUMENTS = 32
"""Root documents read at most (a root holding hundreds of text files is no script repository's)."""
DOCUMENT_BYTES = 1 << 20
_LAUNCH = re.compile(rb"(?:^|[\s`$>(])(?:python[0-9.]*|torchrun|deepspeed|accelerate[ \t]+launch)(?=\s)")
"""A command that runs a Python file: the interpreter or a launcher that takes a script's path."""
_CONTINUED = re.compile(rb"\\[ \t]*\r?\n")
"""A shell line continued on the next (`torchrun --nproc_per_node 8 \\` then `  main.py --cfg ...`)."""
_SCRIPT = re.compile(rb"(?<![\w/.-])(?:\./)?([A-Za-z_][\w-]*\.py)\b")
"""A file name with no folder (a root script) as a command's argument."""


def documented_scripts(root: str, scripts: Iterable[str]) -> frozenset[str]:
    """The display paths among `scripts` (the project's root `.py` files) that a command line of a
    document at the root of `root` runs."""
    by_name = {name: path for path in scripts if (name := os.path.basename(path)) not in BUILD_SCRIPTS}
    if not by_name:
        return frozenset()
    folder = root or "."
    found: set[str] = set()
    for data in _documents(folder):
        for line in _CONTINUED.sub(b" ", data).splitlines():
            for launch in _LAUNCH.finditer(line):
                # the first file after the command is what it runs; later ones are its arguments
                match = _SCRIPT.search(line, launch.end())
                path = by_name.get(match.group(1).decode("utf-8", "replace")) if match is not None else None
                if path is not None:
                    found.add(path)
    return frozenset(found)


def _documents(folder: str) -> Iterable[bytes]:
    try:
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries if e.name.lower().endswith(DOCUMENT_SUFFIXES) or e.name.upper().startswith("README"))
    except OSError:
        return
    for name in names[:MAX_DOCUMENTS]:
        try:
            yield read_tree_file(os.path.join(folder, name), folder, DOCUMENT_BYTES, head=True)
        except UnreadableFile:
            continue
