"""Where a Dockerfile puts the files of its build context, and whether a step builds them.

`COPY . /src` (or `ADD`, with no `--from` and no URL among its sources) puts the project's own files
in `/src`; so does `ONBUILD COPY` for the stages built on that stage, and `COPY --from=stage` out of
such a folder of that stage. A `pip install .` whose folder (after `WORKDIR` and the step's own
`cd`) lies at or below one of those folders builds the project itself, which the project index
knows about (`rules/builds/compiled.py`); any other folder (a `git clone`, an unpacked download, a
folder a variable names) is someone else's project, and keeps its verdict.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from cudaudit.rules.containers.shell import Word
from cudaudit.rules.containers.stages import Stage

_REMOTE = ("http://", "https://", "git@", "git://", "ssh://")


def resolve(path: str, cwd: str | None) -> str | None:
    """`path` as an absolute, normalised folder, from the working directory `cwd`; None where unknown."""
    if "$" in path or path.startswith("~"):
        return None
    if path.startswith("/"):
        return posixpath.normpath(path)
    return posixpath.normpath(posixpath.join(cwd, path)) if cwd is not None else None


def within(path: str | None, folders: tuple[str, ...]) -> bool:
    """Whether `path` is one of `folders` or lies below one."""
    return path is not None and any(path == folder or path.startswith(folder.rstrip("/") + "/") for folder in folders)


def copied_context(words: list[Word], stage: Stage, named: Callable[[str], Stage | None]) -> tuple[str, ...]:
    """The folders a `COPY`/`ADD` (its words, flags included) fills with build-context files; `named`
    finds the stage a `--from=` names (None for an image)."""
    origin = next((word.text.partition("=")[2] for word in words if word.text.startswith("--from=")), None)
    paths = [word.text for word in words if not word.text.startswith("--")]
    if len(paths) < 2:
        return ()
    *sources, destination = paths
    target = resolve(destination, stage.workdir)
    if target is None:
        return ()
    if origin is not None:
        source_stage = named(origin)
        if source_stage is None or not all(within(resolve(s, source_stage.workdir), source_stage.context) for s in sources):
            return ()
    elif any(source.startswith(_REMOTE) for source in sources):
        return ()
    if destination.endswith("/") or len(sources) > 1 or any(_is_folder(source) for source in sources):
        return (target,)
    return (posixpath.dirname(target),)  # one file copied to a file's name: its folder holds project files


def _is_folder(source: str) -> bool:
    name = posixpath.basename(source.rstrip("/"))
    return source.endswith("/") or name in (".", "..", "") or "." not in name
