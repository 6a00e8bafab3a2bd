"""Every fact in the catalog names a source a reader can check: a public URL, a file of this
repository, an observation on a named public build, or says it is unverified. A path on the
machine the catalog was written on (`/home/...`, `../data/...`) is none of these."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cudaudit.tomlcompat import tomllib
from support import REPO

CATALOG_FILES = sorted([*(REPO / "rules" / "data").glob("*.toml"), *(REPO / "rules" / "kernels").glob("*.toml")])
OBSERVED_ON = ("torch ",)
"""Sources that are an observation on a public build, written `torch 2.13.0 CPU build: what happened`."""


def _sources(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "source" and isinstance(value, str):
                yield value
            elif key == "sources" and isinstance(value, dict):
                yield from (v for v in value.values() if isinstance(v, str))
            else:
                yield from _sources(value)
    elif isinstance(node, list):
        for item in node:
            yield from _sources(item)


def _every_source() -> list[tuple[str, str]]:
    return [
        (path.relative_to(REPO).as_posix(), source)
        for path in CATALOG_FILES
        for source in _sources(tomllib.loads(path.read_text(encoding="utf-8")))
    ]


def _checkable(source: str) -> bool:
    first = source.split(" ", 1)[0]
    if first.startswith("https://") or first == "unverified:" or source.startswith(OBSERVED_ON):
        return True
    return not first.startswith(("/", "..")) and (REPO / first).is_file()


def test_every_source_is_a_url_a_file_of_this_repository_or_an_observation():
    sources = _every_source()
    assert len(sources) > 500
    unpublished = [f"{path}: {source}" for path, source in sources if not _checkable(source)]
    assert unpublished == [], "sources a reader cannot check:\n" + "\n".join(unpublished)


def test_a_machine_path_is_not_a_source():
    assert not _checkable("/home/me/data/python-package-equivalents.tsv")
    assert not _checkable("../data/pytorch-wheel-indexes.tsv")
    assert not _checkable("resolvers/no-such-table.tsv")
    assert _checkable("resolvers/pytorch-wheel-indexes.tsv (every release has a cpu index)")
