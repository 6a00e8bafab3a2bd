"""A conda environment file for one target.

The CUDA conda packages, build strings and channels are rewritten by the shared fixes
(`pytorch-cuda` → `cpuonly` on CPU, `cudatoolkit` and the `nvidia` channel removed, a
`=*cuda*` build string dropped) and the `pip:` list like a requirements file. ROCm needs one
move more: no conda channel publishes ROCm builds of PyTorch, so `pytorch`, `torchvision` and
`torchaudio` leave the conda list for the `pip:` list, pinned to the same release's ROCm build
and installed from PyTorch's ROCm index.
"""

from __future__ import annotations

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from cudaudit.analyzers import analyzer
from cudaudit.filekinds import FileKind
from cudaudit.fixers.edits import apply_edits, splice
from cudaudit.model import Edit, Span
from cudaudit.resolvers.declared import Declared, requirement
from cudaudit.resolvers.requirements import CONDA_PACKAGE, INDEX_OPTIONS, best_key, index_location, parse_option
from cudaudit.rules.catalog import load_catalog
from cudaudit.rules.dependencies.conda import environment, spec_name, spec_version
from cudaudit.rules.dependencies.report import Placed
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines

CONDA_TORCH = {"pytorch": "torch", "torchvision": "torchvision", "torchaudio": "torchaudio"}
"""PyTorch's conda packages and the pip names of the same releases."""


def declared(text: str) -> list[Declared]:
    """PyTorch's conda packages, the CUDA conda packages and the `pip:` requirements of an environment file.

    Raises `UnparsableError` for malformed YAML."""
    catalog = load_catalog()
    _, specs, pip = environment(text)
    found = []
    for spec in specs:
        name, line = spec_name(spec.text), _line(spec)
        if name in CONDA_TORCH:
            found.append(Declared(CONDA_TORCH[name], frozenset(), _pin(spec_version(spec.text)), spec.text, line, detector=CONDA_PACKAGE))
        elif name and best_key(catalog, CONDA_PACKAGE, name):
            found.append(Declared(name, frozenset(), SpecifierSet(), spec.text, line, detector=CONDA_PACKAGE))
    found.extend(d for item in pip if (d := requirement(item.text, _line(item))) is not None)
    return found


def rewrite(text: str, path: str, settings: AnalysisSettings, index_url: str | None) -> str:
    """The environment for the one target of `settings`; `index_url` is PyTorch's index for it."""
    findings = [f for f in analyzer(FileKind.CONDA)(text, path, load_catalog(), settings) if f.fix]
    text = apply_edits(text, findings).text
    if settings.targets == ("rocm",) and index_url and settings.rocm_version:
        text = _torch_to_pip(text, index_url, settings.rocm_version, settings.torch_release)
    return text


def _torch_to_pip(text: str, index_url: str, tag: str, torch: str | None) -> str:
    """Move PyTorch's conda packages to the `pip:` list as the same releases' ROCm builds (an unpinned
    `pytorch` as the set's torch release: a range beside the ROCm index lets pip take a CUDA torch)."""
    _, specs, pip = environment(text)
    moved = [spec for spec in specs if spec_name(spec.text) in CONDA_TORCH]
    if not moved:
        return text
    lines = SourceLines(text)
    edits = [Edit(Span(_line(spec), 1, _line(spec) + 1, 1), "") for spec in moved]
    wanted = [
        CONDA_TORCH[name] + _pip_pin(spec_version(spec.text) or (torch if name == "pytorch" and torch else ""), tag)
        for spec in moved
        if (name := spec_name(spec.text) or "")
    ]
    if not any(_is_index(item.text, index_url) for item in pip):
        wanted.insert(0, f"--extra-index-url {index_url}")
    if pip:
        last = _line(pip[-1])
        indent = _indent(lines.line(last))
        block = "".join(f"{indent}- {item}\n" for item in wanted)
    else:
        last = max(_line(spec) for spec in specs)
        indent = _indent(lines.line(last))
        has_pip = any(spec_name(spec.text) == "pip" for spec in specs)
        block = ("" if has_pip else f"{indent}- pip\n") + f"{indent}- pip:\n" + "".join(f"{indent}    - {item}\n" for item in wanted)
    if last >= len(lines.lines):  # the last line has no newline after it
        edits.append(Edit(Span(last, len(lines.line(last)) + 1, last, len(lines.line(last)) + 1), "\n" + block.rstrip("\n")))
    else:
        edits.append(Edit(Span(last + 1, 1, last + 1, 1), block))
    return splice(text, edits)


def _pin(version: str) -> SpecifierSet:
    """A conda version as a pip specifier: `2.1.0` is that release, `2.1` any 2.1.x."""
    if not version or not version[0].isdigit():
        return SpecifierSet()
    try:
        return SpecifierSet(f"=={version}" if version.count(".") >= 2 else f"=={version}.*")
    except InvalidSpecifier:
        return SpecifierSet()


def _pip_pin(version: str, tag: str) -> str:
    """`2.1.0` → `==2.1.0+rocm5.6`; `2.1` → `==2.1.*` (the newest 2.1.x, which the ROCm index serves)."""
    pin = _pin(version)
    if not pin:
        return ""
    (spec,) = tuple(pin)
    return f"=={spec.version}+{tag}" if "*" not in spec.version else f"=={spec.version}"


def _is_index(item: str, url: str) -> bool:
    option = parse_option(item) if item.lstrip().startswith("-") else None
    return option is not None and option.name in INDEX_OPTIONS.values() and index_location(option.value) == index_location(url)


def _indent(line: str) -> str:
    """The blanks before a list item's dash."""
    return line[: len(line) - len(line.lstrip(" \t"))]


def _line(item: Placed) -> int:
    return item.segments[0][1]
