"""What a site means on ROCm where the project's build compiles its file for CUDA only.

A build that compiles a folder for CUDA only (`if get_target_device() == "cuda":` around every
extension, `if not ROCM_VERSION and COMPILE_MARLIN:` around some sources; the project index's
`FileFacts.rocm_goes_without`) leaves that part out of ROCm, while the rest of the project runs
there. What a site of such a file needs on ROCm is met only by someone who ports that build: at
most a warning (another path). A name HIPIFY renames needs no porting work even then: the gap is
the build, reported where the build is written, not at each name (a note).

A source that only a CUDA build of PyTorch loads, where ROCm runs the project's other route
(`FileFacts.rocm_route`, `extension_routes.py`), is no ROCm lock-in at any of its sites (notes):
what ROCm goes without is reported once, at the import that leaves it out.

A source whose only build is a JIT `load()` in a `try` that goes on without it (the op then runs
its Python reference), or one only tensors on CUDA reach (`if x.device.type == "cuda" and
_init():`), is none of the CPU's concern: without CUDA nothing needs it.
"""

from __future__ import annotations

from dataclasses import replace

from cudaudit.facts import Evidence
from cudaudit.model import CUDA_API_TARGETS, Portability, Severity, Status
from cudaudit.rules.catalog import Entry


def rocm_goes_without(entry: Entry, gate: Evidence, renamed: bool = False) -> Entry:
    """`entry` at a site of a file the build at `gate` compiles for CUDA only; `renamed` where all the
    site needs on ROCm is a HIPIFY rename."""
    fact = entry.targets["rocm"]
    severity = Severity.NOTE if renamed else fact.severity.at_most(Severity.WARNING)
    why = "only the renaming a port of that build does" if renamed else "met only by a port of that build"
    source = f"{gate.cite()}: the build compiles this for CUDA only, and ROCm goes without it; {why}"
    return replace(entry, targets={**entry.targets, "rocm": replace(fact, severity=severity, source=source)})


def python_path_without(entry: Entry, gate: Evidence) -> Entry:
    """`entry` at a site of a source whose only build is a JIT `load()` that a target without CUDA
    goes on without (`gate`: the call, in a `try` whose handler falls back to the Python path, or
    reached only by tensors on CUDA): such a target never needs the source and runs that path, so
    the site asks nothing of it."""
    source = (f"{gate.cite()}: the only build of this source, which a target without CUDA goes on without"
              " (a `try` that falls back, or only tensors on CUDA reach it); there the Python path runs")
    works = {target: Portability(Status.WORKS, "", source, Severity.NOTE)
             for target in entry.targets if target not in CUDA_API_TARGETS}
    return replace(entry, targets={**entry.targets, **works}) if works else entry


def rocm_runs_elsewhere(entry: Entry, gate: Evidence) -> Entry:
    """`entry` at a site of a source only CUDA builds of PyTorch load, behind the import at `gate`."""
    fact = entry.targets["rocm"]
    source = f"{gate.cite()}: only CUDA builds of PyTorch load this source; ROCm runs the project's other route"
    return replace(entry, targets={**entry.targets, "rocm": replace(fact, severity=Severity.NOTE, source=source)})
