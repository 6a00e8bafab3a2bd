"""Which container images are CUDA builds, and the facts that let a finding name their replacement.

The knowledge lives in the catalog's `[[image]]` tables (`data/containers.toml` for CUDA and
framework images, `data/serving.toml` for serving engines; format in docs/catalog-format.md): repository patterns and a tag pattern per `container-image` key. The
tag's named groups fill the `{placeholders}` in the replacements of the key's `[[entry]]`, so a
CUDA 12.4 Ubuntu 22.04 image is told to become `rocm/dev-ubuntu-22.04`, keeping its OS.
Compose files, manifests and workflows name images too; `match_image` answers for them as well.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from cudaudit.model import Portability, Status
from cudaudit.rules.catalog import Catalog, CatalogError, Entry, load_catalog
from cudaudit.rules.orchestration.images import parse_image

IMAGE = "container-image"
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class ImagePattern:
    key: str
    repositories: tuple[str, ...]
    tag: re.Pattern[str]


@dataclass(frozen=True)
class ImageMatch:
    """An image the catalog knows: the key to look up and the parts its tag names."""

    key: str
    fields: dict[str, str]


def match_image(text: str) -> ImageMatch | None:
    """The first `[[image]]` pattern that `text`, an image reference, matches; where none matches the
    reference as written, the first that the path below its registry host matches (a mirror's copy)."""
    reference = parse_image(text)
    if reference is None:
        return None
    for repository in reference.repositories:  # as written, then the path below a mirror's host
        for pattern in image_patterns():
            if not any(fnmatch.fnmatchcase(repository, r) for r in pattern.repositories):
                continue
            found = pattern.tag.fullmatch(reference.tag)
            if found is not None:
                return ImageMatch(pattern.key, {k: v for k, v in found.groupdict().items() if v is not None})
    return None


def image_entry(text: str, catalog: Catalog) -> tuple[Entry, ImageMatch] | None:
    """The catalog's entry for an image reference, its message and replacements filled from the tag, and the match."""
    found = match_image(text)
    entry = catalog.lookup(IMAGE, found.key) if found else None
    if found is None or entry is None:
        return None
    filled = replace(entry, message=fill(entry.message, found.fields), targets=fill_targets(entry.targets, found.fields))
    return filled, found


def needs_cuda(text: str, catalog: Catalog) -> bool:
    """Whether an image reference is a CUDA build that a CPU host cannot use as it is.

    Ollama's default image serves CUDA and CPUs alike: the catalog says it works on CPU, so a CI
    job running it is no CUDA job.
    """
    found = match_image(text)
    if found is None:
        return False
    entry = catalog.lookup(IMAGE, found.key)
    cpu = entry.targets.get("cpu") if entry is not None else None
    return cpu is None or cpu.status is not Status.WORKS


def fill_targets(targets: dict[str, Portability], fields: dict[str, str]) -> dict[str, Portability]:
    """The targets with `{placeholders}` in their replacements filled from the image's tag."""
    return {name: replace(fact, replacement=fill(fact.replacement, fields)) for name, fact in targets.items()}


def fill(text: str, fields: dict[str, str]) -> str:
    """`text` with each `{name}` the tag named replaced by its part; unknown names stay as written."""
    return _PLACEHOLDER.sub(lambda m: fields.get(m.group(1), m.group(0)), text)


def placeholders(text: str) -> set[str]:
    """The `{names}` a replacement expects an image pattern to provide."""
    return set(_PLACEHOLDER.findall(text))


@cache
def image_patterns() -> tuple[ImagePattern, ...]:
    """The `[[image]]` tables of the shipped catalog, file by file in name order, each in file order."""
    return tuple(_pattern(source, raw) for source, tables in load_catalog().tables("image") for raw in tables)


def _pattern(file_name: str, raw: dict[str, Any]) -> ImagePattern:
    where = f"{file_name}: image {raw.get('key', '?')!r}"
    try:
        return ImagePattern(str(raw["key"]), tuple(raw["repositories"]), re.compile(str(raw["tag"])))
    except KeyError as exc:
        raise CatalogError(f"{where}: missing field {exc}") from exc
    except re.error as exc:
        raise CatalogError(f"{where}: bad tag pattern: {exc}") from exc
