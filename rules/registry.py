"""Where each catalog string is implemented: a rule's `detector`.

This is the one table from a string in `rules/data/*.toml` to the code behind it, as ruff's
`codes.rs` is for its codes. The catalog loader rejects a rule whose detector is not here, so
a misspelt string is a load error rather than a rule that never fires; the Python walker runs
the concerns registered here; `cudaudit rules --format markdown` names the modules on each rule
page. Modules are named, not imported, so loading the catalog loads no analyzer.

Adding a Python concern: a module under `rules/python/concerns/` whose `CONCERN` is a
`cudaudit.rules.python.walker.Concern` subclass, and its detector strings added here.
"""

from __future__ import annotations

from functools import cache

_CONCERNS = "cudaudit.rules.python.concerns."

DETECTORS: dict[str, tuple[str, ...]] = {
    # Python modules: concerns the walker runs (`rules/python/walker.py`).
    "import": (_CONCERNS + "imports",),
    "symbol": (_CONCERNS + "symbols", _CONCERNS + "tensor_types"),
    "method": (_CONCERNS + "methods",),
    "device-string": (_CONCERNS + "devices", _CONCERNS + "settings"),
    "device-ordinal": (_CONCERNS + "devices",),
    "dist-backend": (_CONCERNS + "distributed", _CONCERNS + "settings"),
    "ddp-device-ids": (_CONCERNS + "distributed",),
    "requirement": (_CONCERNS + "requirements",),
    "checkpoint-load": (_CONCERNS + "checkpoints",),
    "env-var": (_CONCERNS + "environment", "cudaudit.rules.containers.script_scan", "cudaudit.rules.containers.dockerfile"),
    "cli-tool": (_CONCERNS + "commands", "cudaudit.rules.containers.script_scan"),
    # Python modules, beyond the walk: extension builds and kernels in strings.
    "torch-extension": ("cudaudit.rules.builds.python_builds",),
    "nvcc-flag": ("cudaudit.rules.builds.python_builds", "cudaudit.rules.builds.cmake"),
    # CUDA C++ sources (also kernels in Python strings) and CMake.
    "cuda-symbol": ("cudaudit.rules.kernels.references",),
    "cuda-api": ("cudaudit.rules.kernels.references",),
    "cuda-include": ("cudaudit.rules.kernels.references",),
    "cuda-hazard": ("cudaudit.rules.kernels.hazards",),
    "cmake-language": ("cudaudit.rules.builds.cmake",),
    "cmake-package": ("cudaudit.rules.builds.cmake",),
    "cmake-variable": ("cudaudit.rules.builds.cmake",),
    "cmake-target": ("cudaudit.rules.builds.cmake",),
    # Dependency files: requirement strings read by one resolver, placed by each format's module.
    "pip-package": ("cudaudit.resolvers.requirements", "cudaudit.rules.dependencies.report"),
    "local-version": ("cudaudit.resolvers.requirements", "cudaudit.rules.dependencies.report"),
    "package-index": ("cudaudit.resolvers.requirements", "cudaudit.rules.dependencies.report"),
    "conda-package": ("cudaudit.resolvers.requirements", "cudaudit.rules.dependencies.conda", "cudaudit.rules.containers.script_scan"),
    "conda-build": ("cudaudit.resolvers.requirements", "cudaudit.rules.dependencies.conda", "cudaudit.rules.containers.script_scan"),
    "conda-channel": ("cudaudit.resolvers.requirements", "cudaudit.rules.dependencies.conda", "cudaudit.rules.containers.script_scan"),
    # Dockerfiles, and the shell commands of Dockerfiles, scripts, Makefiles and notebooks.
    "container-image": ("cudaudit.rules.containers.dockerfile", "cudaudit.rules.containers.images"),
    "container-env": ("cudaudit.rules.containers.dockerfile",),
    "toolkit-path": ("cudaudit.rules.containers.script_scan",),
    "system-package": ("cudaudit.rules.containers.script_scan",),
    "build-switch": ("cudaudit.rules.containers.script_scan",),
    "docker-gpu": ("cudaudit.rules.containers.script_scan",),
    # Compose, Kubernetes and Helm, GitHub Actions.
    "compose-gpu": ("cudaudit.rules.orchestration.compose",),
    "compose-env": ("cudaudit.rules.orchestration.compose",),
    "k8s-resource": ("cudaudit.rules.orchestration.kubernetes",),
    "k8s-node-label": ("cudaudit.rules.orchestration.kubernetes",),
    "k8s-toleration": ("cudaudit.rules.orchestration.kubernetes",),
    "k8s-runtime-class": ("cudaudit.rules.orchestration.kubernetes",),
    "k8s-gpu-stack": ("cudaudit.rules.orchestration.kubernetes",),
    "k8s-env": ("cudaudit.rules.orchestration.kubernetes",),
    "ci-image": ("cudaudit.rules.orchestration.workflows",),
    "ci-runner-label": ("cudaudit.rules.orchestration.workflows",),
    "ci-action": ("cudaudit.rules.orchestration.workflows",),
    "ci-docker-gpu": ("cudaudit.rules.orchestration.workflows",),
    "ci-tool": ("cudaudit.rules.orchestration.workflows",),
    "ci-job-targets": ("cudaudit.rules.orchestration.workflows",),
    # cudaudit's own: a suppression comment that names an unknown rule, or silences nothing.
    "suppression": ("cudaudit.suppressions",),
    "unused-suppression": ("cudaudit.suppressions",),
}
"""Each catalog `detector` string and the modules that report its keys."""


@cache
def python_concern_modules() -> tuple[str, ...]:
    """The modules of the Python walker's concerns, each once, in table order."""
    modules = (module for implementations in DETECTORS.values() for module in implementations)
    return tuple(dict.fromkeys(module for module in modules if module.startswith(_CONCERNS)))
