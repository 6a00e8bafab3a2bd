"""The `image` fix: a stage's CUDA base image replaced by the image the catalog maps it to on one target.

The mapping is catalog data on the image's `[[entry]]`:
`fix = { kind = "image", rocm = "rocm/dev-ubuntu-{ubuntu}:7.0-complete", cpu = "ubuntu:{ubuntu}" }`,
its placeholders filled from the parts the `[[image]]` tag pattern named, so the stage keeps its
OS release. Only the image reference is replaced: `--platform` and the stage name (`AS build`)
stay. Like the dependency fixes it is made for one named target only, and is unsafe.
"""

from __future__ import annotations

from cudaudit.model import Edit, Fix
from cudaudit.rules.catalog import Entry
from cudaudit.rules.containers.images import fill, placeholders
from cudaudit.rules.containers.shell import Word
from cudaudit.rules.dependencies.report import Placed
from cudaudit.rules.dependencies.rewrites import FixTarget


def image_fix(entry: Entry, fields: dict[str, str], word: Word, placed: Placed, fix: FixTarget | None) -> Fix | None:
    """The fix replacing the image `word` of a `FROM`, or None when the catalog maps it to nothing on the target.

    An image whose repository comes from a variable (`FROM ${BASE}`, `FROM $REGISTRY/nvidia/cuda:...`)
    is left alone: the replacement belongs where the variable is set. A tag built from variables
    (`nvidia/cuda:${CUDA_VERSION}-devel-ubuntu22.04`) is replaced whole, since the new image
    does not depend on them.
    """
    if fix is None or entry.fix is None or entry.fix.kind != "image":
        return None
    template = entry.fix.to.get(fix.target)
    if template is None:
        return None
    image = fill(template, fields)
    span = placed.span(word.start, word.end)
    written = fix.lines.text(span)
    if placeholders(image) or "$" in written.split(":", 1)[0]:
        return None
    description = f"start the stage from `{image}`, the {fix.target} image for `{word.text}`"
    return Fix(entry.fix.safety, description, (Edit(span, image),), requires=())
