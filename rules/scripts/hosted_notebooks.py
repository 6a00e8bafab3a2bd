"""Notebooks the project opens in a hosted notebook service: the service's route, not the project's.

A project often links a notebook through a hosted service's badge (`[![Open In Colab](...)](
https://colab.research.google.com/github/owner/repo/blob/main/demo.ipynb)` in its README, or in the
notebook's own first cell). The service opens the notebook from the repository in a machine of its
own, with its own PyTorch and its own GPUs (NVIDIA's, or none), and the notebook's install cells
(`!pip install torch==1.12.1+cu113 --extra-index-url .../cu113`, `!apt-get install`, paths under the
service's working folder) set up that machine, not the user's host. A user on the project's normal
path installs it by its own instructions and runs its scripts: what the notebook does is another
path, at most a warning (`verdicts.off_default_path`), never silence: a user may still download the
notebook and run it at home.

The links are the catalog's `[[hosted_notebook]]` tables (`rules/data/paths.toml`): the URL prefix
of a service that opens a notebook from a GitHub repository by its path (`.../github/OWNER/REPO/blob/
BRANCH/PATH`), each with the page that documents it. A notebook is read so where a document of the
project or a notebook (its own badge) links its path from the project's root so; a notebook no such
link names keeps its verdicts, and so does every notebook of a project with no Python module of its
own besides (the notebook is then its normal path).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import unquote

from cudaudit.facts import Evidence
from cudaudit.project_roots import within_project

Reader = Callable[[], bytes]

_REPOSITORY_PATH = rb"[\w.-]+/[\w.-]+/blob/[^/\s]+/([^\s)\"'<>\]?#]+\.ipynb)"
"""After a service's prefix: `OWNER/REPO/blob/BRANCH/` and the notebook's path in the repository."""


def hosted_notebooks(
    notebooks: Iterable[str], linking: Mapping[str, Reader], services: Mapping[str, str]
) -> dict[str, Evidence]:
    """Display path -> why it is another path, for each of `notebooks` (display paths) whose path from
    the project's root a file of `linking` (documents and notebooks, display path -> bytes) opens
    through one of `services` (URL prefix -> the service's name)."""
    wanted = {within_project(path): path for path in notebooks}
    if not wanted:
        return {}
    pattern = re.compile(rb"(" + rb"|".join(re.escape(prefix.encode()) for prefix in services) + rb")" + _REPOSITORY_PATH)
    found: dict[str, Evidence] = {}
    for other, read in sorted(linking.items()):
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable file links nothing here; its own analysis says why
            continue
        if not any(prefix.encode() in data for prefix in services):
            continue
        for match in pattern.finditer(data):
            path = wanted.get(unquote(match.group(2).decode("utf-8", "replace")))
            if path is None or path in found:
                continue
            service = services[match.group(1).decode()]
            line = data.count(b"\n", 0, match.start()) + 1
            found[path] = Evidence(
                other, line,
                f"`{other}` opens this notebook in {service}, which runs it on a machine of its own: "
                "the hosted notebook's route, not the project's install",
            )
    return found
