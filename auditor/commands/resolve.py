"""`cudaudit resolve`: the ROCm or CPU variant of dependency files, the verdict on each CUDA-bound
package, and optionally its lock and a CI workflow for the target."""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cudaudit.commands.options import EXIT_CLEAN, EXIT_FINDINGS, err, fail
from cudaudit.filekinds import FileKind
from cudaudit.printable import markup_safe

if TYPE_CHECKING:
    from cudaudit.resolvers.resolution_model import Resolution, Variant

# The resolver is imported inside the command: every command module loads at start-up, and
# `cudaudit scan` needs none of it.

EXAMPLES = """[bold]Examples[/]

  cudaudit resolve requirements.txt -t rocm                       print the ROCm variant
  cudaudit resolve requirements.txt -t cpu -o requirements-cpu.txt
  cudaudit resolve requirements.txt -t rocm --rocm-version 6.1    another published ROCm build
  cudaudit resolve pyproject.toml environment.yml uv.lock -t rocm  one variant beside each file
  cudaudit resolve requirements.in -t cpu -o requirements-cpu.in --lock   and lock it with pip-compile
  cudaudit resolve requirements.txt -t cpu --ci github            and a CPU test job in CI
"""


class Target(str, Enum):
    rocm = "rocm"
    cpu = "cpu"


class Format(str, Enum):
    text = "text"
    json = "json"


class Ci(str, Enum):
    github = "github"


def resolve_command(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Requirements files, pyproject.toml, conda environment files or lock files "
            "(uv.lock, poetry.lock, pdm.lock, pylock.toml, Pipfile.lock).",
            show_default=False,
        ),
    ],
    target: Annotated[Target, typer.Option("--target", "-t", help="The target to resolve for.", show_default=False)],
    rocm_version: Annotated[
        str | None,
        typer.Option(help="A ROCm release PyTorch published the torch release for (6.1). \\[default: the newest the packages allow]"),
    ] = None,
    torch_version: Annotated[
        str | None,
        typer.Option(help="The torch release the files install when they pin none (2.4.1). "
                     "\\[default for rocm: the newest with ROCm builds that their range admits]"),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o",
            help="Write the variant here (a folder with several files). \\[default: print it; with several files, "
            "write each beside its input, named for the target]",
        ),
    ] = None,
    lock_variants: Annotated[
        bool, typer.Option("--lock", help="Lock each written requirements variant with pip-compile (cudaudit\\[lock]).")
    ] = False,
    format: Annotated[Format, typer.Option("--format", "-f", help="Report format.")] = Format.text,
    ci: Annotated[
        Ci | None, typer.Option("--ci", help="Also write a workflow that tests the project on the target.")
    ] = None,
    pytorch_index: Annotated[
        str | None, typer.Option(help="A mirror of https://download.pytorch.org/whl for the variants to name instead.")
    ] = None,
    show_sources: Annotated[bool, typer.Option("--show-sources", help="Say where each fact comes from.")] = False,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when a package cannot be swapped cleanly.")
    ] = False,
) -> None:
    """Write the ROCm or CPU variant of dependency files, and say whether each CUDA-bound package swaps cleanly.

    torch, torchvision and torchaudio get the same release's `+rocmX.Y` or `+cpu` build and PyTorch's index for it (for ROCm the newest one published for that release on which every package that needs it has a build, or --rocm-version); `nvidia-*` wheels are dropped; CUDA-only packages become the target's build (cupy-cuda12x → cupy-rocm-5-0, onnxruntime-gpu → onnxruntime on CPU, bitsandbytes → the first release with ROCm binaries) or are removed where the target has none. Everything else is kept as written: order, comments, markers; --hash options go only from lines whose pin changed. The inputs are never modified. A lock file becomes the requirements it pins (uv.lock → uv-rocm.in), to lock again.

    A line pip cannot read is reported with its file and line and kept. Nothing is written when any file fails to parse.

    Exit status: 0 every CUDA-bound package swaps cleanly, 1 some cannot (they are named), 2 a file cannot be read or an option is wrong.
    """
    from cudaudit.fixers.writer import encode_like, write_atomic
    from cudaudit.reporters.resolution import render_resolution
    from cudaudit.resolvers.lock import LockError, lock
    from cudaudit.resolvers.resolution import ResolveError, resolve

    try:
        resolution = resolve(files, target.value, rocm_version, torch_version, pytorch_index)
    except ResolveError as exc:
        raise fail(str(exc)) from None
    for variant in resolution.variants:
        for problem in variant.problems:
            where = f"{problem.path}:{problem.line}" if problem.line else problem.path
            err.print(f"[yellow]cudaudit: {markup_safe(where)}: {markup_safe(problem.message)}[/]", highlight=False)
    destinations = _destinations(resolution, files, output)
    if lock_variants and not destinations:
        raise fail("--lock locks the variant it writes: give --output")
    try:
        for variant, destination in destinations.items():
            write_atomic(destination, encode_like(_reread(variant.source), variant.text, "utf-8"))
            err.print(f"wrote {markup_safe(str(destination))}", highlight=False)
        locked = [lock(destinations[v]) for v in destinations if _lockable(v)] if lock_variants else []
        for done in locked:
            err.print(f"locked {markup_safe(str(done.source))} into {markup_safe(str(done.lock))}", highlight=False)
        for variant in destinations if lock_variants else ():
            if not _lockable(variant):
                err.print(f"not locked: {markup_safe(str(destinations[variant]))} (lock it with uv lock, or conda-lock)", highlight=False)
        if ci is not None:
            _write_workflow(resolution)
    except LockError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write {exc.filename}: {exc.strerror}") from None
    if format is Format.json:
        sys.stdout.write(json.dumps(resolution.to_json(), indent=2) + "\n")
    else:
        if not destinations:
            _print_variants(resolution)
        render_resolution(resolution, err, show_sources)
    raise typer.Exit(EXIT_FINDINGS if resolution.unswappable and not exit_zero else EXIT_CLEAN)


def _destinations(resolution: Resolution, files: list[Path], output: Path | None) -> dict[Variant, Path]:
    """Where each variant is written; empty when the one variant is printed instead."""
    named = [v for v in resolution.variants if not v.included]
    extra = [v for v in resolution.variants if v.included and v.changed]
    if output is None and len(named) == 1:
        return {}
    if len(named) > 1 and output is not None and not output.is_dir():
        raise fail(f"--output {output}: with several files, give a folder to write their variants in")
    chosen: dict[Variant, Path] = {}
    for variant in named:
        if output is None:
            chosen[variant] = variant.output
        elif output.is_dir():
            chosen[variant] = output / variant.output.name
        else:
            chosen[variant] = output
    chosen.update({variant: variant.output for variant in extra})
    return chosen


def _print_variants(resolution: Resolution) -> None:
    shown = [v for v in resolution.variants if not v.included or v.changed]
    for variant in shown:
        if len(shown) > 1:
            sys.stdout.write(f"# ==> {variant.output} <==\n")
        sys.stdout.write(variant.text)


def _lockable(variant: Variant) -> bool:
    """pip-compile locks requirements files, and the requirements a lock file's variant lists."""
    return variant.kind in (FileKind.REQUIREMENTS, FileKind.LOCKFILE)


def _write_workflow(resolution: Resolution) -> None:
    """`.github/workflows/tests-<target>.yml` in the current folder: the project's tests on the target."""
    from cudaudit.resolvers.ci_plan import project_plan
    from cudaudit.resolvers.ci_workflow import workflow, workflow_path

    root = Path.cwd()
    pip_files = [
        os.path.relpath(v.source, root).replace(os.sep, "/")
        for v in resolution.variants
        if not v.included and v.kind in (FileKind.REQUIREMENTS, FileKind.PYPROJECT)
    ]
    path = workflow_path(root, resolution.target)
    if path.exists():
        raise fail(f"{path} exists: remove it or move it aside to write a new one")
    path.parent.mkdir(parents=True, exist_ok=True)
    plan = project_plan(root, pip_files)
    path.write_text(workflow(plan, resolution.target), encoding="utf-8")
    err.print(f"wrote {markup_safe(str(path))}: {plan.test_command} on {resolution.target}", highlight=False)


def _reread(source: Path) -> bytes:
    """The input's bytes again, for its encoding and line endings, through the same bounded reader
    that read it first: a file replaced by a FIFO or a link out of its folder since then is an error."""
    from cudaudit.safe_read import UnreadableFile, read_tree_file

    try:
        return read_tree_file(source, source.absolute().parent)
    except UnreadableFile as exc:
        raise fail(f"{source}: {exc.reason}") from None
