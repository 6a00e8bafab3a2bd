"""Where each catalog string is implemented: a rule's `detector` and the `kind` of its fix.

These are the tables from a string in `rules/data/*.toml` to the code behind it, as ruff's
`codes.rs` is for its codes. The catalog loader rejects a detector or fix kind that is not
here, so a misspelt string is a load error rather than a rule that never fires; the Python
walker runs the concerns registered here and the Python and dependency fixes are built by the
functions registered here; `cudaudit rules --format markdown` names the modules on each rule
page. Modules are named, not imported, so loading the catalog loads no analyzer.

Adding a Python concern: a module under `rules/python/concerns/` whose `CONCERN` is a
`cudaudit.rules.python.walker.Concern` subclass, and its detector strings added here. Adding a
fix: its builder function, and its kind added to `FIX_BUILDERS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

_CONCERNS = "cudaudit.rules.python.concerns."
_PYTHON_REWRITES = "cudaudit.rules.python.rewrites:"
_DEPENDENCY_REWRITES = "cudaudit.rules.dependencies.rewrites:"
_PACKAGE_FOLDERS = {
    "cudaudit.rules": "rules",
    "cudaudit.fixers": "fixers",
    "cudaudit.resolvers": "resolvers",
    "cudaudit": "auditor",
}
"""The folder of this repository each package is installed from (pyproject's package-dir)."""

DETECTORS: dict[str, tuple[str, ...]] = {
    # Python modules: concerns the walker runs (`rules/python/walker.py`).
    "import": (_CONCERNS + "imports",),
    "symbol": (_CONCERNS + "symbols", _CONCERNS + "tensor_types"),
    "method": (_CONCERNS + "methods",),
    "device-string": (_CONCERNS + "devices", _CONCERNS + "settings", _CONCERNS + "custom_ops",
                      "cudaudit.rules.containers.script_scan"),
    "device-ordinal": (_CONCERNS + "devices",),
    "dist-backend": (_CONCERNS + "distributed", _CONCERNS + "settings", "cudaudit.rules.containers.script_scan",
                     "cudaudit.rules.orchestration.kubernetes"),
    "ddp-device-ids": (_CONCERNS + "distributed",),
    "requirement": (_CONCERNS + "requirements",),
    "checkpoint-load": (_CONCERNS + "checkpoints",),
    "sync-batchnorm": (_CONCERNS + "sync_batchnorm",),
    "env-var": (_CONCERNS + "environment", "cudaudit.rules.containers.script_scan", "cudaudit.rules.containers.dockerfile"),
    "cli-tool": (_CONCERNS + "commands", "cudaudit.rules.containers.script_scan"),
    "call-argument": (_CONCERNS + "call_arguments",),
    # Python modules, beyond the walk: extension builds and kernels in strings.
    "torch-extension": (
        "cudaudit.rules.builds.python_builds", "cudaudit.rules.builds.extension_routes", "cudaudit.rules.builds.unbuilt_extensions",
    ),
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
    "container-image": ("cudaudit.rules.containers.dockerfile", "cudaudit.rules.containers.images", "cudaudit.rules.containers.script_scan"),
    "container-env": ("cudaudit.rules.containers.dockerfile",),
    "toolkit-path": ("cudaudit.rules.containers.script_scan",),
    "system-package": ("cudaudit.rules.containers.script_scan",),
    "build-switch": ("cudaudit.rules.containers.script_scan",),
    "docker-gpu": ("cudaudit.rules.containers.script_scan",),
    "stage-build": ("cudaudit.rules.containers.build_steps",),
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
    "ci-image-build": ("cudaudit.rules.orchestration.workflows",),
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


FIX_BUILDERS: dict[str, str] = {
    # Python: a Hit of the walker and the module's text in, a Rewrite out.
    "guard": _PYTHON_REWRITES + "guard",
    "to-device": _PYTHON_REWRITES + "to_device",
    "device-string": _PYTHON_REWRITES + "device_string",
    "amp": _PYTHON_REWRITES + "amp",
    "legacy-tensor": _PYTHON_REWRITES + "legacy_tensor",
    "dist-backend": _PYTHON_REWRITES + "dist_backend",
    "ddp-device-ids": _PYTHON_REWRITES + "ddp_device_ids",
    "device-ordinal": _PYTHON_REWRITES + "device_ordinal",
    "device-variable": _PYTHON_REWRITES + "device_variable",
    "device-count": _PYTHON_REWRITES + "device_count",
    "pin-memory": _PYTHON_REWRITES + "pin_memory",
    "map-location": _PYTHON_REWRITES + "map_location",
    "requirement": _PYTHON_REWRITES + "requirement",
    "sync-batchnorm": _PYTHON_REWRITES + "sync_batchnorm",
    "build-where-cuda": _PYTHON_REWRITES + "build_where_cuda",
    # Requirements in any dependency format, for one named target.
    "wheel-index": _DEPENDENCY_REWRITES + "wheel_index_fix",
    "wheel-label": _DEPENDENCY_REWRITES + "wheel_label_fix",
    "target-build": _DEPENDENCY_REWRITES + "target_build_fix",
    # A Dockerfile's base image and a workflow's missing test job, for one named target.
    "image": "cudaudit.rules.containers.rewrites:image_fix",
    "ci-job": "cudaudit.rules.orchestration.rewrites:second_backend_job",
}
"""Each catalog `fix.kind` string and the function that builds its fix (`module:function`)."""


ONE_TARGET_REWRITES = frozenset(
    {
        _DEPENDENCY_REWRITES.rstrip(":"),
        "cudaudit.rules.containers.rewrites",
        "cudaudit.rules.orchestration.rewrites",
    }
)
"""Modules whose fixes rewrite a file for one named target (`cudaudit fix --target`); every other
fix rewrites Python code so that it runs on every target."""


def made_for_one_target(kind: str) -> bool:
    """Whether fix `kind` rewrites a dependency file, Dockerfile or workflow for one named target."""
    return FIX_BUILDERS[kind].partition(":")[0] in ONE_TARGET_REWRITES


@cache
def fix_kinds_of(module: str) -> frozenset[str]:
    """The fix kinds whose builders live in `module`."""
    return frozenset(kind for kind, builder in FIX_BUILDERS.items() if builder.partition(":")[0] == module)


@cache
def fix_builder(kind: str) -> Callable[..., Any]:
    """The function registered for fix `kind`, imported on first use."""
    module, _, name = FIX_BUILDERS[kind].partition(":")
    builder: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return builder


def source_file(module: str) -> str:
    """The file of this repository that holds `module` (`cudaudit.rules.python.walker` → `rules/python/walker.py`)."""
    module = module.partition(":")[0]
    package = max((p for p in _PACKAGE_FOLDERS if module == p or module.startswith(p + ".")), key=len)
    rest = module[len(package) :].lstrip(".").replace(".", "/")
    return f"{_PACKAGE_FOLDERS[package]}/{rest}.py" if rest else f"{_PACKAGE_FOLDERS[package]}/__init__.py"
