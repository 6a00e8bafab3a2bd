"""Where a project ships its dependencies once per target: ROCm and CPU extras, groups and files.

`pip install .[rocm]` beside `.[cu121]`, a `[dependency-groups] cpu`, `requirements-rocm.txt`
beside `requirements-cuda.txt`, `environment-rocm.yml`: a project that offers a variant for a
target has already made its CUDA extras the NVIDIA variant. The project index reads these
declarations once per scan; the dependency analyzers then keep the CUDA extras as notes for that
target, one per extra.
"""

from __future__ import annotations

from collections.abc import Iterator

from cudaudit.facts import Counterpart, Evidence
from cudaudit.filekinds import FileKind
from cudaudit.rules.dependencies.pixi import feature_names, parse_pixi
from cudaudit.rules.dependencies.pyproject import requirement_lists
from cudaudit.rules.dependencies.setup_files import setup_py_extras
from cudaudit.rules.dependencies.toml_text import TomlText, load_toml
from cudaudit.siblings import name_targets

PORTABLE_TARGETS = ("rocm", "cpu")


def declared_variants(path: str, text: str, kind: FileKind) -> Iterator[Counterpart]:
    """The ROCm and CPU variants one dependency file declares (by extra, group or its own name)."""
    if kind is FileKind.PYPROJECT:
        data = load_toml(text, "pyproject.toml")
        doc = TomlText(text)
        for item in requirement_lists(data):
            if item.group is not None:
                found = doc.key(item.table, item.group)
                line = doc.position(found[0])[0] if found else 1
                yield from _named(item.group, Evidence(path, line, f"{item.group} = [...]"))
    elif kind is FileKind.SETUP and path.endswith(".py"):
        for extra, line in setup_py_extras(text, path):
            yield from _named(extra, Evidence(path, line, f'"{extra}": [...]'))
    elif kind in (FileKind.REQUIREMENTS, FileKind.CONDA):
        yield from _named(path, Evidence(path, 1))
    elif kind is FileKind.PIXI:
        doc = TomlText(text)
        for name in feature_names(parse_pixi(text)):
            found = doc.key(("feature",), name) or doc.key(("environments",), name)
            line = doc.position(found[0])[0] if found else 1
            yield from _named(name, Evidence(path, line, f"pixi feature or environment `{name}`"))


def _named(name: str, evidence: Evidence) -> Iterator[Counterpart]:
    targets = name_targets(name)
    if "cuda" in targets:
        return
    for target in PORTABLE_TARGETS:
        if target in targets:
            yield Counterpart(target, evidence)
