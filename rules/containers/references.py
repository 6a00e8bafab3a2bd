"""The Dockerfiles nothing else in the project names: images no one is told to build.

A Dockerfile is a way to run the project when something leads a user or a job to it: a README or
document that names it or tells how to build it, a CI workflow that builds it (`context:
./docker/gpu`, `docker build -f docker/Dockerfile.gpu .`), a compose file's `build:`, a Makefile
or script. One that no other file of the scan names (detr's root `Dockerfile`, which its README,
install steps and CI never mention) is another path: whoever finds it may build it, but no
instruction of the project does.

What counts as naming it, in any other file's text, ignoring case: its file name as a word of its
own (`Dockerfile.gpu`, `[Dockerfile](Dockerfile)`, `docker/Dockerfile-uv-base`); for one with the
default name (`Dockerfile`, `Containerfile`), which `docker build DIR` finds by itself, also its
folder's name (`docker build docker/peft-gpu`, `context: ./docker/accelerate-gpu`) and any command
that builds or starts a context (`docker build`, `docker buildx`, `docker compose`,
`docker-compose`, `podman build`). A loose reading on purpose: a Dockerfile any such word may
reach keeps its verdicts.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable

from cudaudit.facts import Evidence

_DEFAULT_NAMES = frozenset({"dockerfile", "containerfile"})
_BUILDS = r"docker[ \t]+(?:buildx?|compose)\b|docker-compose\b|podman[ \t]+(?:build|compose)\b"
_BUILDERS = (b"docker", b"podman")
"""What a command that builds a context starts with: a file that spells neither (in any case) runs none."""

UNNAMED = "no README, document, workflow, compose file, Makefile or script of the project names it"


def unnamed_dockerfiles(
    dockerfiles: Iterable[str], others: dict[str, Callable[[], bytes]], top: str = ""
) -> dict[str, Evidence]:
    """Dockerfile -> why it is another path, for each of `dockerfiles` (display paths) that no file of
    `others` (display path -> its bytes; unreadable ones raise and are skipped) names. `top` is the
    folder the scan's paths share: its name is the project's, which names no Dockerfile in it."""
    wanted = {path: _names(path, top) for path in sorted(dockerfiles)}
    words = sorted({word for names in wanted.values() for word in names} - {"<build>"})
    # One pattern per word, searched in the lowered text, that starts with the word itself and looks
    # behind it for the character before: the regex engine skips to each occurrence of a literal
    # prefix, where a pattern that starts with a lookbehind (or an alternation of every word) runs
    # at each byte of the file. A short word inside longer ones (`dev` in every `device`) made that
    # 0.6 s of a 10 s scan of seven trees.
    word_patterns = {word: _standalone(word.encode()) for word in words}
    build = re.compile(_BUILDS.encode())
    named: set[str] = set()
    for path, read in others.items():
        if len(named) == len(wanted):
            break
        pending = [d for d in wanted if d != path and d not in named]
        if not pending:
            continue
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable file names nothing; its own analysis reports it
            continue
        low = data.lower()  # ASCII case folding, as the patterns' \w is ASCII on bytes
        found = {word for word, pattern in word_patterns.items() if word.encode() in low and pattern.search(low)}
        if any(builder in low for builder in _BUILDERS) and build.search(low):
            found.add("<build>")
        named.update(d for d in pending if wanted[d] & found)
    return {path: Evidence(path, 1, UNNAMED) for path in wanted if path not in named}


def _standalone(word: bytes) -> re.Pattern[bytes]:
    """`word` where no word character, dot or dash touches it on either side."""
    literal = re.escape(word)
    return re.compile(literal + rb"(?<![\w.-]" + literal + rb")(?![\w.-])")


def _names(path: str, top: str) -> frozenset[str]:
    """The words that name the Dockerfile at `path`: its file name; for a default name also its folder's
    name (unless the folder is `top`) and any command that builds a context (`<build>`)."""
    name = posixpath.basename(path).lower()
    if name not in _DEFAULT_NAMES:
        return frozenset({name})
    folder = posixpath.dirname(path)
    word = posixpath.basename(folder).lower() if folder != top else ""
    return frozenset({name, "<build>", *([word] if word else [])})
