"""The project index: one cheap pass over the scan's files for what no single file can know.

Built once per scan, after discovery and before any file is analysed, and read-only afterwards
(forked workers inherit it). It records:

- the C/C++ porting layer: HIP compatibility headers, the CUDA names they map (with their
  lines), which sources reach them through `#include`, and macros defined on one side only
  (`rules/kernels/porting_layer.py`);
- the Python build scripts that also build their CUDA sources for ROCm, by build-time hipify or
  from separate HIP sources (`rules/builds/rocm_builds.py`), and the CMake builds that compile
  them as HIP (`rules/builds/cmake.py`), with the sources each leaves out of its ROCm build;
- the C/C++ sources only a CUDA build of PyTorch loads, where ROCm runs the project's other route
  (`rules/builds/extension_routes.py`), and the extension modules a `setup.py` gives GPU code only
  where `CUDA_HOME` is set, with the modules that may import them (`rules/builds/unbuilt_extensions.py`);
- files with a ROCm or CPU counterpart (`Dockerfile_amd` beside `Dockerfile`; `siblings.py`) and
  the ROCm and CPU variants the project's dependency files declare
  (`rules/dependencies/target_variants.py`);
- the files each requirements file includes with `-r`/`-c`;
- which workflows need CUDA and which run on CPU, which on ROCm (`rules/orchestration/workflows.py`);
- the Dockerfiles built on a CUDA image with no ROCm stage or counterpart
  (`rules/containers/dockerfile.py`), for the workflows that build and publish them;
- the ranges the project's dependency files declare of the libraries that work on a target only from a release on (`resolvers/allowed_releases.py`);
- the project's own Python modules that only another target's code path imports (Triton kernels
  imported under `if is_torch_npu_available():`; `rules/python/import_paths.py`);
- the project's own device flags, module-level names assigned from a device probe
  (`rules/python/project_flags.py`), by qualified name, and each Python module's dotted name;
- the fixtures each `conftest.py` serves that skip without CUDA (`rules/python/reach.py`), and
  those that fake a CUDA device probe (`rules/python/faked_probes.py`);
- the custom pytest marks a plain `pytest` run leaves out: skipped by a `conftest.py` hook or
  deselected by the configuration's `addopts`, and the tests a `conftest.py` leaves out of
  collection without CUDA (`collect_ignore_glob`; `rules/python/test_selection.py`);
- the skip markers shared test modules keep in module-level names, with where each skips
  (`rules/python/skip_conditions.py`);
- the classes and functions the project's scripts use only under a switch that is off by default
  (`if opt.plms: sampler = PLMSSampler(model)`, `if training_args.fp8: patch_for_fp8()` with `fp8:
  bool = False` in an argument class; `rules/python/opt_in.py`), and the settings each module tests
  that another declares off by default (`if cfg.common.profile:`);
- the calls other modules and the README's examples make of the top-level functions and classes
  that default a parameter to a CUDA device (`from pkg.sampling import Sampler`, then
  `Sampler(steps=50)`), by shape (`rules/python/project_calls.py`);
- what the other modules of the project do with each module's functions and methods whose text holds
  a CUDA site: the guards around each use, or that one is not followed (`rules/python/callers.py`);
- the Python modules with a `__main__` block, and whether another module imports them, with the
  names it takes (`rules/python/main_block.py`);
- the modules of the project's opt-in areas (`pkg/experiments/`, `pkg/dev/`; the catalog's
  `[[opt_in_folder]]` tables) that no module on the normal path imports (`rules/python/opt_in_areas.py`),
  the monkey patches inside a package that nothing in the project imports or names
  (`rules/python/unnamed.py`), the package modules nothing in the project reaches by import or by name
  (`rules/python/unreached.py`), the modules of a copied third-party tree whose imports name a
  top-level package the project has only inside another package (`rules/python/stranded.py`), the files of a
  copied project loaded only through a local torch hub entry, or of a vendored program the project imports
  only in part, that neither `hubconf.py` nor the project's imports reach (`rules/python/copied_projects.py`), and the modules the project imports only inside a `try` that goes on
  where the import fails (`rules/python/optional_modules.py`), the modules that need a package only an
  optional extra installs (`rules/python/extra_only.py`, from `rules/dependencies/declared.py`'s
  reading of each dependency file), the files of developer folders outside the packages
  (`benchmarks/`, a `scripts/` file no document names; the catalog's `[[developer_folder]]` tables,
  `auditor/developer_folders.py`), and the requirements files of optional features beside a base
  install (`requirements-flashattn.txt`; `rules/dependencies/optional_requirements.py`);
- the top-level classes and functions a registry selects by a name that is not its default
  (`@register_backend("remote")`; `rules/python/registries.py`);
- the packages installed only on request (xFormers, FlashAttention) that a module imports and that
  no install route of its part of the project names (`rules/python/unrequested.py`);
- the file names every `torch.save` of the project's modules fills with CPU values only (a data
  preparation script's `"train.pt"`; `rules/python/checkpoint_writers.py`).

Each reader sees one file at a time; a file it cannot read or parse adds nothing (the file's
own analysis reports it), so one bad header never stops the scan. `facts(path, kinds)` then
gives one file's analysis exactly the facts about that file, as a `FileFacts` whose `digest`
a cache can key on.
"""

from __future__ import annotations

import importlib
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, TypeVar

from cudaudit.developer_folders import developer_files
from cudaudit.documented_commands import DocumentedCommands
from cudaudit.documented_scripts import BUILD_SCRIPTS
from cudaudit.facts import BuildMode, Counterpart, Evidence, FileFacts, Launch, PortedName, RocmBuild, SettingValue
from cudaudit.filekinds import (
    REQUIREMENTS_FOLDERS,
    TEST_CONFIGURATIONS,
    FileKind,
    is_document,
    is_named_test,
    is_test_path,
)
from cudaudit.firstparty import ModuleMap, module_map, namespace_modules
from cudaudit.model import TARGETS, Severity
from cudaudit.project_roots import INSTALL_DECLARATIONS, project_prefix, within_project
from cudaudit.rules.catalog import Catalog, word_automaton
from cudaudit.siblings import find_siblings, served_targets
from cudaudit.source import decode_python, decode_text


class PortingFacts(Protocol):
    """What the C/C++ porting layer (`rules/kernels/porting_layer.PortingLayers`) answers per file."""

    def ported_names(self, path: str) -> tuple[PortedName, ...]: ...

    def hip_side(self, path: str) -> Evidence | None: ...

    def cuda_only(self, path: str) -> Evidence | None: ...

    def included_only_by(self, sources: Mapping[str, Evidence]) -> dict[str, Evidence]: ...

_READERS = {
    "source": "cudaudit.rules.kernels.porting_layer:read_source",
    "layers": "cudaudit.rules.kernels.porting_layer:PortingLayers",
    "api_table": "cudaudit.rules.kernels.api_table:api_table",
    "macros": "cudaudit.rules.kernels.preprocessor:merge_macro_sides",
    "macro_values": "cudaudit.rules.kernels.preprocessor:merge_macro_values",
    "build_side": "cudaudit.rules.kernels.preprocessor:Build",
    "build": "cudaudit.rules.builds.rocm_builds:read_build_script",
    "listed_sources": "cudaudit.rules.builds.source_sets:listed_sources",
    "listed_opt_in": "cudaudit.rules.builds.source_sets:listed_opt_in",
    "install_commands": "cudaudit.rules.builds.opt_in_builds:documented",
    "opt_in_sources": "cudaudit.rules.builds.opt_in_builds:opt_in_sources",
    "unbuilt": "cudaudit.rules.builds.unbuilt_extensions:unbuilt_extensions",
    "unbuilt_called": "cudaudit.rules.builds.unbuilt_extensions:called_where_unbuilt",
    "builds_copy_of": "cudaudit.rules.builds.unbuilt_extensions:builds_copy_of",
    "named_sources": "cudaudit.rules.builds.extension_routes:named_sources",
    "naming_lines": "cudaudit.rules.builds.extension_routes:naming_lines",
    "jit_builds": "cudaudit.rules.builds.jit_builds:read_jit",
    "jit_folders": "cudaudit.rules.builds.jit_builds:jit_built_folders",
    "is_build_file": "cudaudit.rules.builds.uncompiled_copies:is_build_file",
    "copy_tops": "cudaudit.rules.builds.uncompiled_copies:copy_tops",
    "copy_evidence": "cudaudit.rules.builds.uncompiled_copies:copy_evidence",
    "cuda_binaries": "cudaudit.rules.builds.uncompiled_copies:cuda_binaries",
    "unnamed_sources": "cudaudit.rules.builds.uncompiled_copies:unnamed",
    "routes": "cudaudit.rules.builds.extension_routes:routed_sources",
    "cmake_build": "cudaudit.rules.builds.cmake:read_cmake_build",
    "cmake_cuda_extensions": "cudaudit.rules.builds.cmake:cmake_cuda_extensions",
    "workflow": "cudaudit.rules.orchestration.workflows:workflow_jobs",
    "cuda_image": "cudaudit.rules.containers.dockerfile:cuda_only_image",
    "runs_at_top_level": "cudaudit.rules.python.unreached:runs_at_top_level",
    "image_severities": "cudaudit.rules.containers.dockerfile:image_severities",
    "variants": "cudaudit.rules.dependencies.target_variants:declared_variants",
    "included": "cudaudit.rules.dependencies.requirements_file:included_files",
    "include_paths": "cudaudit.rules.dependencies.requirements_file:include_paths",
    "torch_pin": "cudaudit.resolvers.torch_pin:project_torch_version",
    "torch_pin_files": "cudaudit.resolvers.torch_pin:pin_files",
    "releases": "cudaudit.resolvers.allowed_releases:declared_ranges",
    "import_paths": "cudaudit.rules.python.import_paths:other_target_modules",
    "flags": "cudaudit.rules.python.project_flags:read_device_flags",
    "is_keyed": "cudaudit.rules.python.keyed_flags:is_keyed",
    "store_pattern": "cudaudit.rules.python.keyed_flags:store_pattern",
    "conftest": "cudaudit.rules.python.reach:conftest_fixtures",
    "faking_fixtures": "cudaudit.rules.python.reach:faking_fixtures",
    "skipping_hooks": "cudaudit.rules.python.test_selection:skipping_hooks",
    "deselected_marks": "cudaudit.rules.python.test_selection:deselected_marks",
    "ignored_without_cuda": "cudaudit.rules.python.test_selection:ignored_without_cuda",
    "ignored_by_function": "cudaudit.rules.python.test_selection:ignored_by_function",
    "uncollected": "cudaudit.rules.python.test_selection:uncollected",
    "ignored_by_configuration": "cudaudit.rules.python.test_selection:ignored_by_configuration",
    "switches": "cudaudit.rules.python.opt_in:read_switches",
    "switched_definitions": "cudaudit.rules.python.opt_in:switched_definitions",
    "turned_on": "cudaudit.rules.python.opt_in:turned_on",
    "set_in_code": "cudaudit.rules.python.opt_in:set_in_code",
    "requirements_feature": "cudaudit.rules.dependencies.optional_requirements:feature",
    "optional_requirements": "cudaudit.rules.dependencies.optional_requirements:optional_files",
    "choices": "cudaudit.rules.python.choice_settings:declared_choices",
    "chosen_elsewhere": "cudaudit.rules.python.choice_settings:chosen_elsewhere",
    "model_parallel_settings": "cudaudit.rules.python.parallel_sizes:model_parallel_settings",
    "registrations": "cudaudit.rules.python.registries:read_registrations",
    "tables": "cudaudit.rules.python.registries:read_tables",
    "passed_switches": "cudaudit.rules.python.switch_parameters:passed_switches",
    "switch_parameters": "cudaudit.rules.python.switch_parameters:switch_parameters",
    "environment_switches": "cudaudit.rules.python.environment_tables:environment_switches",
    "switch_readers": "cudaudit.rules.python.environment_tables:switch_readers",
    "declared_dependencies": "cudaudit.rules.dependencies.declared:declared_dependencies",
    "top_level_imports": "cudaudit.rules.python.extra_only:top_level_imports",
    "top_level_importers": "cudaudit.rules.python.extra_only:top_level_importers",
    "readme_extras": "cudaudit.rules.python.extra_only:readme_extras",
    "extra_only_modules": "cudaudit.rules.python.extra_only:extra_only_modules",
    "registered_definitions": "cudaudit.rules.python.registries:registered_definitions",
    "settings_calls": "cudaudit.rules.python.opt_in:settings_calls",
    "switches_on": "cudaudit.rules.python.launch_switches:switches_on",
    "always_launched": "cudaudit.rules.python.launched_entries:always_launched",
    "console_scripts": "cudaudit.rules.python.launched_entries:console_scripts",
    "defaulted_on": "cudaudit.rules.python.kept_on:defaulted_on",
    "kept_on": "cudaudit.rules.python.kept_on:kept_on",
    "passed_on_candidates": "cudaudit.rules.python.always_passed:passed_on_candidates",
    "threshold_helpers": "cudaudit.rules.python.capability_arguments:threshold_helpers",
    "handed_switches": "cudaudit.rules.python.cpu_handed:handed_switches",
    "cpu_parameters": "cudaudit.rules.python.cpu_handed:cpu_parameters",
    "passed_thresholds": "cudaudit.rules.python.capability_arguments:passed_thresholds",
    "always_passed": "cudaudit.rules.python.always_passed:always_passed",
    "defaulted_off": "cudaudit.rules.python.kept_off:defaulted_off",
    "literal_defaults": "cudaudit.rules.python.held_defaults:literal_defaults",
    "held_defaults": "cudaudit.rules.python.held_defaults:held_defaults",
    "off_lookups": "cudaudit.rules.python.kept_off:off_lookups",
    "documented_flags": "cudaudit.rules.python.documented_flags:documented_flags",
    "flag_settings": "cudaudit.rules.python.documented_flags:flag_settings",
    "documented_values": "cudaudit.rules.python.documented_flags:documented_values",
    "cpu_options": "cudaudit.rules.python.documented_flags:cpu_options",
    "only_routes": "cudaudit.rules.python.entry_routes:only_routes",
    "kept_off": "cudaudit.rules.python.kept_off:kept_off_reading",
    "yaml_tests": "cudaudit.rules.python.kept_off:yaml_tests",
    "off_in_yaml": "cudaudit.rules.python.kept_off:off_in_yaml",
    "documented_runs": "cudaudit.rules.python.documented_flags:documented_runs",
    "given_in_code": "cudaudit.rules.python.kept_off:given_in_code",
    "switched_by": "cudaudit.rules.python.opt_in:switched_by",
    "area_folders": "cudaudit.rules.python.opt_in_areas:area_folders",
    "unreached_in_areas": "cudaudit.rules.python.opt_in_areas:unreached_in_areas",
    "unnamed_modules": "cudaudit.rules.python.unnamed:unnamed_modules",
    "unreached_modules": "cudaudit.rules.python.unreached:unreached_modules",
    "unreached_runs_nowhere": "cudaudit.rules.python.unreached:runs_nowhere",
    "unnamed_scripts": "cudaudit.rules.python.unnamed_scripts:unnamed_scripts",
    "run_scripts": "cudaudit.rules.python.unnamed_scripts:run_scripts",
    "saved_files": "cudaudit.rules.python.checkpoint_writers:saved_files",
    "cpu_saved_files": "cudaudit.rules.python.checkpoint_writers:cpu_saved_files",
    "loaded_files": "cudaudit.rules.python.shipped_checkpoints:loaded_files",
    "cpu_only_files": "cudaudit.rules.python.shipped_checkpoints:cpu_only_files",
    "stranded_modules": "cudaudit.rules.python.stranded:stranded_modules",
    "copied_project_files": "cudaudit.rules.python.copied_projects:copied_project_files",
    "nested_project_files": "cudaudit.rules.python.nested_projects:nested_project_files",
    "optional_modules": "cudaudit.rules.python.optional_modules:optional_modules",
    "tried_imports": "cudaudit.rules.python.optional_modules:tried_imports",
    "failing_without_gpu": "cudaudit.rules.python.optional_modules:failing_without_gpu",
    "import_names": "cudaudit.rules.python.import_paths:import_names",
    "requested_spellings": "cudaudit.rules.python.unrequested:requested_spellings",
    "named_packages": "cudaudit.rules.python.unrequested:named_packages",
    "unrequested_packages": "cudaudit.rules.python.unrequested:unrequested_packages",
    "code_folders": "cudaudit.rules.python.unrequested:code_folders",
    "superseded_builds": "cudaudit.rules.builds.nested_builds:superseded_builds",
    "op_self_tests": "cudaudit.rules.builds.op_self_tests:op_self_tests",
    "binding_tables": "cudaudit.rules.dependencies.unimported:binding_tables",
    "declares_one": "cudaudit.rules.dependencies.unimported:declares_one",
    "unimported_bindings": "cudaudit.rules.dependencies.unimported:unimported_bindings",
    "switched_off_packages": "cudaudit.rules.dependencies.switched_off:switched_off_packages",
    "option_settings": "cudaudit.rules.builds.cmake:option_settings",
    "options_turned_on": "cudaudit.rules.builds.cmake_options:turned_on",
    "makefile_turned_on": "cudaudit.rules.builds.cmake_options:makefile_turned_on",
    "pure_python": "cudaudit.rules.builds.compiled:pure_python",
    "home_repositories": "cudaudit.rules.builds.home_repository:home_repositories",
    "unnamed_files": "cudaudit.rules.containers.references:unnamed_files",
    "unincluded_headers": "cudaudit.rules.kernels.unincluded_headers:unincluded_headers",
    "unincluded_why": "cudaudit.rules.kernels.unincluded_headers:UNINCLUDED",
    "dockerless_builds": "cudaudit.rules.containers.references:dockerless_builds",
    "docker_first": "cudaudit.rules.containers.references:docker_first",
    "requirements_beside_environments": "cudaudit.rules.containers.references:requirements_beside_environments",
    "created_environments": "cudaudit.rules.containers.references:created_environments",
    "package_first": "cudaudit.rules.containers.references:package_first",
    "multi_gpu_siblings": "cudaudit.rules.python.multi_gpu_routes:multi_gpu_siblings",
    "install_scripts": "cudaudit.rules.containers.references:install_scripts",
    "cog_predictors": "cudaudit.rules.containers.cog:gpu_predictors",
    "hosted_notebooks": "cudaudit.rules.scripts.hosted_notebooks:hosted_notebooks",
    "main_block": "cudaudit.rules.python.main_block:main_block",
    "statements_kept": "cudaudit.rules.python.opt_in:statements_kept",
    "imported_modules": "cudaudit.rules.python.main_block:imported_modules",
    "left_behind": "cudaudit.rules.python.taken_names:left_behind",
    "dispatched_packages": "cudaudit.rules.python.dispatched:dispatched_packages",
    "shipped_configurations": "cudaudit.rules.python.dispatched:shipped_configurations",
    "user_methods": "cudaudit.rules.python.unused:user_methods",
    "dispatched_methods": "cudaudit.rules.python.library_dispatch:dispatched_methods",
    "unread_devices": "cudaudit.rules.python.unread_devices:unread_devices",
    "backend_settings": "cudaudit.rules.python.unread_settings:backend_settings",
    "unread_settings": "cudaudit.rules.python.unread_settings:unread_settings",
    "library_read": "cudaudit.rules.python.unread_settings:library_read",
    "library_builders": "cudaudit.rules.python.unread_settings:library_builders",
    "unbuilt_configurations": "cudaudit.rules.python.unread_settings:unbuilt_configurations",
    "device_keys": "cudaudit.rules.python.unread_settings:device_keys",
    "unread_keys": "cudaudit.rules.python.unread_settings:unread_keys",
    "unshipped_load": "cudaudit.rules.python.unshipped_configs:unshipped_load",
    "shipped_in": "cudaudit.rules.python.unshipped_configs:shipped_in",
    "skip_markers": "cudaudit.rules.python.skip_conditions:read_skip_markers",
    "set_up_skips": "cudaudit.rules.python.test_classes:read_set_up_skips",
    "cuda_extensions": "cudaudit.rules.python.unimportable:cuda_extensions",
    "unimportable": "cudaudit.rules.python.unimportable:unimportable_modules",
    "started_modules": "cudaudit.rules.python.started_modules:started_modules",
    "module_level_imports": "cudaudit.rules.python.started_modules:module_level_imports",
    "unshipped_imports": "cudaudit.rules.python.unshipped_imports:unshipped_imports",
    "package_flags": "cudaudit.rules.python.package_probes:read_package_flags",
    "absent_packages": "cudaudit.rules.python.package_probes:absent_packages",
    "cuda_defaults": "cudaudit.rules.python.project_calls:cuda_defaults",
    "named_nowhere": "cudaudit.rules.python.project_calls:named_nowhere",
    "from_imports": "cudaudit.rules.python.project_calls:from_imports",
    "calls_elsewhere": "cudaudit.rules.python.project_calls:calls_elsewhere",
    "method_calls": "cudaudit.rules.python.project_calls:method_calls",
    "device_fallbacks": "cudaudit.rules.python.fallback_callees:device_fallbacks",
    "handed_to_fallbacks": "cudaudit.rules.python.fallback_callees:handed_to_fallbacks",
    "module_loaders": "cudaudit.rules.python.module_loaders:module_loaders",
    "handed_loaders": "cudaudit.rules.python.module_loaders:handed_loaders",
    "readme_examples": "cudaudit.rules.python.project_calls:readme_examples",
    "configured_calls": "cudaudit.rules.python.configured_calls:configured_calls",
    "with_constructions": "cudaudit.rules.python.dynamic_builds:with_constructions",
    "definitions": "cudaudit.rules.python.callers:definitions",
    "uses_elsewhere": "cudaudit.rules.python.callers:uses_elsewhere",
    "guarded_uses": "cudaudit.rules.python.callers:guarded_uses",
    "trains": "cudaudit.rules.python.inference_only:trains",
}
"""The readers, imported on first use as the analyzers are: a scan of Python files never loads the
C++ reader (`auditor/analyzers.py`)."""


@cache
def _reader(name: str) -> Any:
    module, _, attribute = _READERS[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def _read_bytes(name: str, data: Callable[[], bytes]) -> Any:
    """Reader `name` given the bytes alone, as `remember` computes it."""
    return _reader(name)(data())


Remember = Callable[[str, str, Callable[[], Any]], Any]
"""`remember(reader, path, compute)`: what `compute()` gives for the file at display path `path`,
or what it gave in an earlier run for the same bytes there (the scan's cache, `cudaudit.cache`):
every reader it is asked about is a function of the file's path and bytes alone. `compute` reads
the file only when it runs, so an answer from the cache costs no read."""
Walks = Callable[[list[tuple[str, str, tuple[str, ...], tuple[Any, ...], bool]]], None]
"""`callers.Walks`, spelled here so that the index imports no reader before it needs one: takes the
importers' walks (reader, module's display path, names, documented values, whether the module is a
script nothing imports) the callers' reading will ask `remember` for, ahead and all at once
(`guarded_walk` each)."""


def _compute(reader: str, path: str, compute: Callable[[], Any]) -> Any:
    return compute()


def _once(remember: Remember) -> Remember:
    """`remember`, asked once per reader and file in a build: several of the index's readers take the
    same reading of a module (its top-level imports: the extras', the stranded copies', the optional
    and unimportable modules'), which is a function of the file's path and bytes. A reading that
    raises is asked again, and raises again."""
    answers: dict[tuple[str, str], Any] = {}

    def once(reader: str, path: str, compute: Callable[[], Any]) -> Any:
        key = (reader, path)
        if key not in answers:
            answers[key] = remember(reader, path, compute)
        return answers[key]

    return once


Reader = Callable[[], bytes]
"""Returns a file's bytes, or raises `UnreadableFile` (`safe_read.read_tree_file` for a scan)."""


@dataclass(frozen=True)
class IndexedFile:
    """One file of the scan as the index sees it: its display path, its kinds, how to read it."""

    display: str
    kinds: tuple[FileKind, ...]
    read: Reader


@dataclass(frozen=True)
class ProjectIndex:
    """What the scan's files say about each other; see the module docstring."""

    porting: PortingFacts | None = None
    """The C/C++ porting layer; None when the scan has no C/C++ file."""
    cuda_macros: tuple[tuple[str, bool | None, bool | None], ...] = ()
    cuda_macro_values: tuple[tuple[str, bool | None, bool | None], ...] = ()
    builds: dict[str, RocmBuild | None] = field(default_factory=dict)
    """Folder -> the ROCm build of the build script in it (None: a build script that does nothing for ROCm)."""
    counterparts: dict[str, tuple[Counterpart, ...]] = field(default_factory=dict)
    variants: tuple[Counterpart, ...] = ()
    included: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    ci_carrier: str | None = None
    """The workflow that answers "does any job run on CPU or ROCm?" (the first CUDA one), if none does."""
    workflows_known: bool = False
    ci_targets: tuple[tuple[str, str], ...] = ()
    """(target, the first workflow with a job on it) for ROCm and CPU."""
    cuda_images: tuple[tuple[str, int, str], ...] = ()
    """(Dockerfile, line, image): the Dockerfiles built on a CUDA image that have no ROCm stage or counterpart."""
    other_paths: dict[str, tuple[tuple[str, Evidence], ...]] = field(default_factory=dict)
    """Python module -> (target, the import that reaches it) for each target whose path never imports it."""
    device_flags: tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...] = ()
    """(qualified name, what a test of it probes) for each device flag of the project's modules."""
    modules: dict[str, tuple[str, bool]] = field(default_factory=dict)
    """Python module's display path -> (its dotted name, whether it is a package's `__init__.py`)."""
    conftests: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    """Folder -> (name, autouse) of the fixtures its `conftest.py` serves that skip without CUDA."""
    faking_fixtures: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    """Folder -> (name, autouse) of the fixtures its `conftest.py` serves that fake a CUDA device probe."""
    left_out_marks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Folder -> the custom pytest marks a plain `pytest` run leaves out of the tests below it: its
    `conftest.py` skips tests carrying them, or its configuration deselects them by default."""
    deselected_marks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Folder -> those of them its pytest configuration deselects by default (`-m 'not gpu'`)."""
    skip_markers: tuple[tuple[str, tuple[bool | None, bool | None]], ...] = ()
    """(qualified name, (skipped without CUDA, skipped on every ROCm GPU)) of each skip marker a shared
    module of the project keeps in a module-level name."""
    package_flags: tuple[tuple[str, str], ...] = ()
    """(qualified name, the packages it needs, comma-separated) of the project's flags and probe
    functions (a function's name with `()`) that hold only where packages import (`package_probes.py`)."""
    unimportable: tuple[str, ...] = ()
    """The dotted names of the project's CUDA extensions and of its modules that import one at their
    top level, directly or through each other (`unimportable.py`): no machine without a GPU has them."""
    ignored_without_cuda: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """Folder -> what its `conftest.py` leaves out of collection without CUDA: ("glob", pattern) and
    ("path", path) items relative to the folder (`test_selection.ignored_without_cuda`)."""
    never_collected: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """Folder -> what the pytest configuration in it leaves out of every run (`--ignore=PATH`,
    `--ignore-glob=PATTERN` in its `addopts`; `test_selection.ignored_by_configuration`)."""
    failing_collection: frozenset[str] = frozenset()
    """The test modules, and the package modules nothing reaches, whose top-level import names a module
    their package does not ship: their collection, or their import, fails on every target
    (`unshipped_imports.py`)."""
    releases: tuple[tuple[str, str], ...] = ()
    """(library, range) for each range the dependency files declare of a library the catalog knows to
    work on a target only from a release on (`works_with`)."""
    switched: dict[str, tuple[tuple[str, Evidence], ...]] = field(default_factory=dict)
    """Python module -> (name, the switch) for each top-level class or function of it that the scan
    uses only under a command-line switch that is off by default."""
    unselected: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Python module -> its registered definitions that no shipped configuration, document, script or
    code selects, of a registry they select from, and those only they use (`registries.py`)."""
    settings_off: dict[str, frozenset[str]] = field(default_factory=dict)
    """Python module -> the settings its `if` headers test that another module declares off by default
    (`_settings_elsewhere`)."""
    settings_chosen: dict[str, tuple[tuple[str, SettingValue], ...]] = field(default_factory=dict)
    """Python module -> (setting, default) for the settings of several values it reads that another
    module declares (`choice_settings.chosen_elsewhere`)."""
    settings_documented: dict[str, tuple[tuple[str, SettingValue], ...]] = field(default_factory=dict)
    """Python module -> (option, value) for the options every documented command of every entry
    whose route reaches it gives one value (`_settings_documented`)."""
    cpu_routes: dict[str, frozenset[str]] = field(default_factory=dict)
    """Script -> the options a command of the project's documents sets to the CPU when it runs the
    script (`python infer.py --device cpu`; `_cpu_routes`)."""
    launched_by_default: dict[str, frozenset[str]] = field(default_factory=dict)
    """Python module -> the multi-process switches its `if` headers test that the project's
    configuration turns on (`_launched_by_default`)."""
    always_launched: dict[str, Launch] = field(default_factory=dict)
    """Python module -> the documented command that starts its route under a launcher of several
    processes, and whether every documented command of it does or only those of one use
    (`_always_launched`)."""
    kept_on: dict[str, frozenset[str]] = field(default_factory=dict)
    """Python module -> the parameters its functions default to True that every caller keeps True
    (`kept_on.kept_on`)."""
    cpu_parameters: dict[str, frozenset[str]] = field(default_factory=dict)
    """Python module -> the parameters of its functions that another module's calls hand a CPU switch
    (`cpu_handed.cpu_parameters`)."""
    calls_elsewhere: dict[str, tuple[tuple[str, tuple[Any, ...]], ...]] = field(default_factory=dict)
    """Python module -> (name, the shapes of its calls in other modules) for its top-level functions
    and classes that default a parameter to a CUDA device (`project_calls.calls_elsewhere`)."""
    named_nowhere: dict[str, frozenset[str]] = field(default_factory=dict)
    """Python module of an application -> its top-level functions and classes that default a parameter
    to a CUDA device and that no other file names (`project_calls.named_nowhere`, `FileFacts.named_nowhere`)."""
    methods_called: dict[str, tuple[tuple[str, tuple[Any, ...]], ...]] = field(default_factory=dict)
    """Python module -> (method, the shapes of every call of its name) for its public methods that
    default a parameter to a CUDA device (`project_calls.method_calls`)."""
    used_elsewhere: dict[str, tuple[tuple[str, tuple[Any, ...] | None], ...]] = field(default_factory=dict)
    """Python module -> what the other modules do with its functions and methods that hold a CUDA
    site (`callers.uses_elsewhere`), in a scan that sees the whole project."""
    fallback_callees: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = field(default_factory=dict)
    """Python module -> (name, parameters) of the project's functions and classes it defines or imports
    that replace a device parameter with the CPU where CUDA is unavailable (`fallback_callees.py`)."""
    module_loaders: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """Python module -> (name, library) of the project's functions it defines or imports that return a
    library which fails only at its first call (`module_loaders.py`)."""
    unrun_libraries: frozenset[str] = frozenset()
    """The modules of `main_blocks` read as libraries that no file of the project runs by their file or
    module name (`FileFacts.main_unrun`)."""
    main_blocks: dict[str, tuple[Evidence, tuple[str, ...] | None] | None] = field(default_factory=dict)
    """Python module with a `__main__` block -> how other modules import it (`main_block.Imported`: a
    library), or None (a script nothing imports)."""
    loose_libraries: frozenset[str] = frozenset()
    """The modules of `main_blocks` that other modules import and no package holds (`FileFacts.loose_module`)."""
    taken_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Module -> what the project takes of it, for a module no install makes an API (`FileFacts.taken_names`)."""
    unread_devices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Module nothing imports -> its top-level names bound to a CUDA device that it never reads (`FileFacts.unread_devices`)."""
    unread_settings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Module -> its top-level names bound to a dict that spells the NCCL backend, which no code of the
    project reads (`FileFacts.unread_settings`)."""
    unshipped_loads: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Library module -> where its `__main__` block loads a configuration the scan has no file of
    (`FileFacts.unshipped_load`)."""
    unread_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """YAML file -> its top-level keys set to a CUDA device that no code of the project reads (`FileFacts.unread_keys`)."""
    never_on: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Module -> the `kept_off` names its tests read, in a project that installs nothing (`FileFacts.never_on`)."""
    held_defaults: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Module -> the parameters with a literal default that nothing of the project gives a value (`FileFacts.held_defaults`)."""
    held_nowhere: bool = False
    """Whether the scan sees the whole project and it installs nothing: no caller outside it passes a
    `held_defaults` keyword (`FileFacts.held_nowhere`)."""
    documented_scripts: frozenset[str] = frozenset()
    """The modules named like tests that a document runs by path (`FileFacts.documented_script`)."""
    off_default_path: dict[str, Evidence] = field(default_factory=dict)
    """File -> why nothing on the project's normal path runs it (`opt_in_areas`, `unnamed`, `references`)."""
    never_built: dict[str, Evidence] = field(default_factory=dict)
    """C/C++ or CUDA source -> the definition nothing runs that alone builds it (`FileFacts.never_built`)."""
    uncompiled: dict[str, Evidence] = field(default_factory=dict)
    """C/C++ or CUDA source -> the vendored package copy, built by nothing, that holds it (`FileFacts.uncompiled`)."""
    shipped_binaries: dict[str, bool] = field(default_factory=dict)
    """Package copy -> whether it ships an extension binary that links CUDA (`uncompiled_copies.cuda_binaries`):
    files outside the scan's list, which the index's cache reads again (`index_answers.py`)."""
    runs_nowhere: dict[str, str] = field(default_factory=dict)
    """File -> why no target compiles or runs it (`FileFacts.runs_nowhere`)."""
    never_trained: bool = False
    """Whether no module on the project's normal path differentiates (`FileFacts.never_trained`)."""
    namespace_modules: tuple[str, ...] = ()
    """The modules of the project's namespace packages named like a library the catalog knows by its
    imports, by two-part name (`firstparty.namespace_modules`)."""
    pure_python: Evidence | None = None
    """Where the project shows that installing it compiles nothing (`rules/builds/compiled.py`), judged
    only in a scan given the project's documents (a folder's scan), which sees every source it has."""
    home_repositories: tuple[str, ...] = ()
    """The repositories the project's build declaration names as its home (`rules/builds/home_repository.py`)."""
    rocm_routes: dict[str, Evidence] = field(default_factory=dict)
    """C/C++ source -> the import that loads it only on CUDA builds of PyTorch, where ROCm runs the
    project's other route (`extension_routes.routed_sources`)."""
    route_gates: dict[str, tuple[tuple[Evidence, int, str], ...]] = field(default_factory=dict)
    """Python module -> (each such import in it, how many sources it leaves out of ROCm, the module
    ROCm loads instead or "")."""
    unbuilt_extensions: dict[str, tuple[tuple[str, Evidence, bool, bool], ...]] = field(default_factory=dict)
    """Python module -> (extension module, the build's test, whether ROCm builds no module at all) for
    the extension modules it may import that a build script compiles GPU code into only where
    `CUDA_HOME` is set (`unbuilt_extensions.py`)."""
    unbuilt_called: dict[str, Evidence] = field(default_factory=dict)
    """Build script -> the first call of one of those extensions that fails on a ROCm install."""
    installs: dict[str, str] = field(default_factory=dict)
    """Folder -> the first file there that declares what installing the project installs (a requirements
    file, `pyproject.toml`, `setup.py`, a conda environment; in `requirements/`, its parent's): a way to
    install the project without Docker, which makes its Dockerfiles and compose files one route among others."""
    docker_routes: frozenset[str] = frozenset()
    """The Dockerfiles and compose files of the first way to install the project that the README of their
    install's folder shows (`references.docker_first`): the normal path, one route among others no more."""
    images_after_packages: dict[str, Evidence] = field(default_factory=dict)
    """Dockerfile or compose file of a project with no dependency declaration -> the line of the README
    above it that shows a package manager's install first (`_images_after_packages`)."""
    images: tuple[str, ...] = ()
    """The scan's Dockerfiles and compose files (`_images`)."""
    image_declarations: frozenset[str] = frozenset()
    """The dependency declarations of an image (`docker/requirements.txt`) whose Dockerfiles beside them
    are one route among others (`_image_declarations`): what the image installs is on its route too."""
    image_bases: dict[str, tuple[Evidence, tuple[tuple[str, str], ...]]] = field(default_factory=dict)
    """Dependency declaration of an image -> the `FROM` line of the CUDA image the Dockerfiles beside it
    are built on, with its severity per target (`_image_bases`): what it installs goes into that image."""
    unimported_bindings: tuple[str, ...] = ()
    """`unimported.unimported_bindings`: the bindings the project pins whose modules its code never spells."""
    switched_off_packages: tuple[str, ...] = ()
    """`switched_off.switched_off_packages`: the pinned packages the project imports only under a switch
    every shipped configuration turns off."""
    created_environments: frozenset[str] = frozenset()
    """The conda environment files the README of their folder or above creates (`conda env create`:
    `references.created_environments`): what the project's users install."""
    readme_extras: tuple[str, ...] = ()
    """The extras the install commands of the shallowest README files name (`extra_only.readme_extras`),
    read where the scan has a dependency file: the others are installed only on request."""
    opt_in_options: tuple[str, ...] = ()
    """`cmake_options`: the CMake options declared off that the project's plain build leaves off (`cmake_options.turned_on`)."""
    pip_installs: dict[str, str] = field(default_factory=dict)
    """The same for the declarations pip installs (requirements files, `pyproject.toml`, `setup.py`): a way
    to install the project without pixi, which makes a pixi manifest one route among others."""
    unrequested: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Python module -> the packages installed only on request that it imports and that no install
    route of its part of the project names (`unrequested.unrequested_packages`)."""
    started: dict[str, Evidence] = field(default_factory=dict)
    """Python module -> the top-level import through which the project's start reaches it
    (`started_modules.started_modules`)."""
    cpu_saved_files: tuple[str, ...] = ()
    """The file names every `torch.save` of the project's modules outside the tests fills with CPU
    values only (`checkpoint_writers.cpu_saved_files`), sorted once: every Python file's facts carry them."""
    shipped_checkpoints: dict[str, bool] = field(default_factory=dict)
    """Display path -> whether it holds CPU storages only, for each file of the tree a module's
    `torch.load` names (`shipped_checkpoints.cpu_only_files`): files outside the scan's list, which
    the index's cache reads again (`index_answers.py`)."""
    cpu_loads: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    """Python module -> (line, column) of its `torch.load` calls whose file holds CPU storages only."""
    threshold_calls: dict[str, tuple[tuple[str, tuple[tuple[tuple[str, int], ...], ...]], ...]] = field(default_factory=dict)
    """Python module -> for each of its capability helpers, what every call gives its parameters (`FileFacts.threshold_calls`)."""

    def facts(self, path: str, kinds: Iterable[FileKind]) -> FileFacts:
        """The facts about the file at display path `path` that an analyzer of `kinds` may consult."""
        kinds = set(kinds)
        facts: dict = {
            "counterparts": self.counterparts.get(path, ()), "releases": self.releases, "never_built": self.never_built.get(path),
            "uncompiled": self.uncompiled.get(path),
            "runs_nowhere": self.runs_nowhere.get(path),
        }
        served = served_targets(path, (kind.value for kind in kinds))
        if served is not None:
            facts["named_for"] = tuple(sorted(served))
        if FileKind.PYTHON in kinds:
            facts["other_paths"] = self.other_paths.get(path, ())
            facts["cuda_only_loads"] = self.route_gates.get(path, ())
            facts["unbuilt_extensions"] = self.unbuilt_extensions.get(path, ())
            facts["unbuilt_called"] = self.unbuilt_called.get(path)
            facts["switched"] = self.switched.get(path, ())
            facts["unselected"] = self.unselected.get(path, ())
            facts["settings_off"] = tuple(sorted(self.settings_off.get(path, ())))
            facts["settings_chosen"] = self.settings_chosen.get(path, ())
            facts["settings_documented"] = self.settings_documented.get(path, ())
            facts["cpu_route_options"] = self.cpu_routes.get(path, frozenset())
            facts["launched_by_default"] = tuple(sorted(self.launched_by_default.get(path, ())))
            facts["kept_on"] = tuple(sorted(self.kept_on.get(path, ())))
            facts["cpu_parameters"] = tuple(sorted(self.cpu_parameters.get(path, ())))
            launch = self.always_launched.get(path)
            facts["always_launched"] = launch is not None and launch.every
            facts["launched_some"] = launch is not None and not launch.every
            facts["scheduler_launched"] = launch is not None and launch.scheduler
            facts["called_elsewhere"] = self.calls_elsewhere.get(path, ())
            facts["methods_called"] = self.methods_called.get(path, ())
            facts["named_nowhere"] = self.named_nowhere.get(path, frozenset())
            facts["used_elsewhere"] = self.used_elsewhere.get(path, ())
            facts["fallback_callees"] = self.fallback_callees.get(path, ())
            facts["module_loaders"] = self.module_loaders.get(path, ())
            facts["off_default_path"] = self.off_default_path.get(path)
            facts["documented_script"] = path in self.documented_scripts
            facts["never_trained"] = self.never_trained
            facts["started"] = self.started.get(path)
            facts["unrequested"] = self.unrequested.get(path, ())
            facts["cpu_saved_files"] = self.cpu_saved_files
            facts["cpu_loads"] = self.cpu_loads.get(path, ())
            facts["threshold_calls"] = self.threshold_calls.get(path, ())
            if self.unimportable and is_test_path(path):
                facts["unimportable"] = self.unimportable
            facts["loose_module"] = path in self.loose_libraries
            facts["taken_names"] = self.taken_names.get(path)
            facts["unread_devices"] = self.unread_devices.get(path, ())
            facts["unread_settings"] = self.unread_settings.get(path, ())
            facts["unshipped_load"] = self.unshipped_loads.get(path)
            facts["never_on"] = self.never_on.get(path, ())
            held = self.held_defaults.get(path, ())
            if held:
                facts["held_defaults"] = held
                facts["held_nowhere"] = self.held_nowhere
            if path in self.main_blocks:
                imported = self.main_blocks[path]
                facts["main_block"] = ("library", *imported) if imported is not None else ("script", None, ())
                facts["main_unrun"] = path in self.unrun_libraries
        if kinds & {FileKind.PYTHON, FileKind.NOTEBOOK}:
            facts["namespace_modules"] = self.namespace_modules
        if FileKind.MANIFEST in kinds:
            facts["unread_keys"] = self.unread_keys.get(path, ())
        if FileKind.CUDA in kinds and self.porting is not None:
            facts["ported_names"] = self.porting.ported_names(path)
            facts["porting_layer"] = self.porting.hip_side(path)
            facts["cuda_only"] = self.porting.cuda_only(path)
            facts["cuda_macros"] = self.cuda_macros
            facts["cuda_macro_values"] = self.cuda_macro_values
            build = _nearest_at_or_above(path, self.builds)
            if build is not None and build.python_fallback is not None:
                facts["python_fallback"] = build.python_fallback
            left_out = _left_out(path, build) or self._included_only_by_left_out(facts["cuda_only"])
            route = self.rocm_routes.get(path)
            separate = build is not None and build.mode is BuildMode.SEPARATE and _stood_in_for(path, build.rocm_sources)
            if route is not None and (build is None or path not in build.rocm_named):
                facts["rocm_route"] = route
            elif left_out is not None and not separate:
                if not _beside_rocm_sources(path, build):
                    facts["rocm_goes_without"] = left_out
                    facts["cuda_only"] = None
            elif build is not None and build.mode in (BuildMode.HIPIFY, BuildMode.HIP_LANGUAGE):
                facts["rocm_build"] = build.evidence
                if build.mode is BuildMode.HIPIFY:
                    facts["hipified_by"] = build.evidence
            elif build is not None and build.mode is BuildMode.IMPLICIT_HIPIFY:
                if build.hipified is None or path in build.hipified or not path.endswith(_HEADER_SUFFIXES):
                    facts["hipified_by"] = build.evidence
            elif separate and build is not None:
                rocm = Evidence(build.evidence.path, build.evidence.line, f"ROCm builds {', '.join(build.rocm_sources)}")
                facts["counterparts"] = (*facts["counterparts"], Counterpart("rocm", rocm))
            else:
                facts["rocm_goes_without"] = self._built_for_cuda_only(build)
        if FileKind.CMAKE in kinds:
            facts["rocm_goes_without"] = self._built_for_cuda_only(_nearest_at_or_above(path, self.builds))
        if kinds & {FileKind.REQUIREMENTS, FileKind.PYPROJECT, FileKind.SETUP, FileKind.CONDA, FileKind.PIXI, FileKind.LOCKFILE}:
            facts["target_variants"] = self.variants
        if FileKind.REQUIREMENTS in kinds:
            facts["included"] = self.included.get(path, ())
        if kinds & _DECLARING_KINDS or FileKind.LOCKFILE in kinds:
            facts["unimported_bindings"] = self.unimported_bindings
        if kinds & _DECLARING_KINDS or FileKind.CONDA in kinds:
            facts["switched_off_packages"] = self.switched_off_packages
        if FileKind.CONDA in kinds:
            facts["created_environment"] = path in self.created_environments
        if kinds & _DECLARING_KINDS:
            facts["readme_extras"] = self.readme_extras
        if FileKind.CMAKE in kinds:
            facts["opt_in_options"] = self.opt_in_options
        if FileKind.PYTHON in kinds and self.conftests and is_test_path(path):
            facts["conftest_fixtures"] = _served_fixtures(path, self.conftests)
        if FileKind.PYTHON in kinds and self.faking_fixtures and is_test_path(path):
            facts["faking_fixtures"] = _served_fixtures(path, self.faking_fixtures)
        if FileKind.PYTHON in kinds and self.left_out_marks and is_test_path(path):
            facts["left_out_marks"] = _left_out_marks(path, self.left_out_marks)
            facts["deselected_marks"] = _left_out_marks(path, self.deselected_marks)
        if FileKind.PYTHON in kinds and self.ignored_without_cuda and _collected(path):
            facts["uncollected_without_cuda"] = _uncollected_without_cuda(path, self.ignored_without_cuda)
        if FileKind.PYTHON in kinds and self.never_collected and (_collected(path) or posixpath.basename(path) == "conftest.py"):
            facts["never_collected"] = _uncollected_without_cuda(path, self.never_collected)
        if path in self.failing_collection:
            facts["never_collected"] = True
        if FileKind.PYTHON in kinds and (self.device_flags or self.skip_markers or self.package_flags) and path in self.modules:
            facts["device_flags"] = self.device_flags
            facts["skip_markers"] = self.skip_markers
            facts["package_flags"] = self.package_flags
            facts["module"] = self.modules[path]
        if facts.get("off_default_path") is None:
            facts["off_default_path"] = self.off_default_path.get(path)  # a Dockerfile, a developer's benchmark
        if kinds & {FileKind.DOCKERFILE, FileKind.WORKFLOW}:
            facts["pure_python"] = self.pure_python
            facts["home_repositories"] = self.home_repositories
        if kinds & {FileKind.DOCKERFILE, FileKind.COMPOSE} and facts.get("off_default_path") is None:
            facts["off_default_path"] = self._image_aside(path)
        if kinds & {FileKind.SHELL, FileKind.MAKEFILE}:
            facts["docker_aside"] = self._docker_aside()
        if path in self.image_bases:
            facts["installed_in_image"] = self.image_bases[path]
        if path in self.image_declarations and facts.get("off_default_path") is None:
            install = _nearest_at_or_above(path, self.installs)
            if install is not None:
                facts["off_default_path"] = Evidence(install, 1, "the project installs without Docker; its image installs this")
        if FileKind.PIXI in kinds:
            install = _nearest_at_or_above(path, self.pip_installs)
            if install is not None:
                facts["off_default_path"] = Evidence(install, 1, "the project installs with pip too")
        if FileKind.WORKFLOW in kinds:
            facts["ci_answered_elsewhere"] = self.workflows_known and self.ci_carrier != path
            facts["ci_targets"] = self.ci_targets
            facts["cuda_images"] = self.cuda_images
        return FileFacts(**facts)


    def _image_aside(self, path: str) -> Evidence | None:
        """Why the Dockerfile or compose file at `path` is one route among others (nothing names it, the
        project installs without Docker and its README does not show the image first, or the README of a
        project that declares no install shows a package manager's install first), or None."""
        named = self.off_default_path.get(path)
        if named is not None:
            return named
        install = _nearest_at_or_above(path, self.installs)
        if install is not None and path not in self.docker_routes:
            return Evidence(install, 1, "the project installs without Docker")
        return self.images_after_packages.get(path) if install is None else None

    def _docker_aside(self) -> Evidence | None:
        """Why the project's Docker route is one among others, where it has Dockerfiles or compose files
        and each is (`_image_aside`, the first one's reason): a container a script runs is on that route."""
        asides = [self._image_aside(path) for path in self.images]
        return asides[0] if asides and all(asides) else None

    def _included_only_by_left_out(self, include: Evidence | None) -> Evidence | None:
        """Where a build leaves out of ROCm the source that (through headers only such sources
        include) is the first to include a header every includer includes only on CUDA: that
        header is part of what ROCm goes without, as its includer is."""
        seen: set[str] = set()
        while include is not None and include.path not in seen and self.porting is not None:
            seen.add(include.path)
            left_out = _left_out(include.path, _nearest_at_or_above(include.path, self.builds))
            if left_out is not None:
                return left_out
            include = self.porting.cuda_only(include.path)
        return None

    def _built_for_cuda_only(self, build: RocmBuild | None) -> Evidence | None:
        """Where `build` compiles nothing for ROCm, so that ROCm goes without its sources: a script whose
        ROCm branch skips its build, or one that builds only for a CUDA target in a project that ships a
        ROCm variant of its dependencies (its ROCm install, which builds none)."""
        if build is None or build.mode not in (BuildMode.SKIPS, BuildMode.CUDA_TARGET):
            return None
        if build.mode is BuildMode.CUDA_TARGET and not any(variant.target == "rocm" for variant in self.variants):
            return None
        return build.evidence


def build_index(
    files: Iterable[IndexedFile],
    catalog: Catalog,
    roots: tuple[str, ...] = (),
    remember: Remember | None = None,
    read_ahead: dict[tuple[str, str], Callable[[], Any]] | None = None,
    walks: Walks | None = None,
) -> ProjectIndex:
    """Read what the index needs from `files`; `roots` bound requirement includes, `remember` may
    answer a reader from an earlier run, `read_ahead` gives (reader, path) -> the reading worker
    processes took ahead (`file_readings`), which is taken in place of reading the file; `walks`
    adds to it the importers' walks `callers.uses_elsewhere` will ask for, taken by worker processes
    while this one waits. Each Python module's import statements are read once for all the readers
    that read them (`opt_in.statements_kept`)."""
    files = list(files)
    kept = _reader("statements_kept") if any(FileKind.PYTHON in file.kinds for file in files) else nullcontext
    with kept():
        return _read_index(files, catalog, roots, remember, read_ahead, walks)


def guarded_walk(data: bytes, names: tuple[str, ...], catalog: Catalog, documented: tuple[Any, ...], script: bool) -> Any:
    """`callers.guarded_uses` of a module's bytes: one of the walks `Walks` takes ahead, for a worker
    process that keeps the module's tree (`engine.py`)."""
    return _reader("guarded_uses")(data, names, catalog, dict(documented), script)


def file_readings(
    files: list[IndexedFile], catalog: Catalog, roots: tuple[str, ...], whole_project: bool
) -> list[tuple[str, str, Any]]:
    """(reader, display path, reading) of every reading the index's pass over each file takes of
    `files` alone, as `build_index` takes them: for a worker process that reads some of a scan's
    files ahead of the index (`engine.py`), whose answers `build_index` is then given (`read_ahead`).
    `whole_project` is `sees_project` of all the scan's files."""
    readings: list[tuple[str, str, Any]] = []

    def record(reader: str, path: str, compute: Callable[[], Any]) -> Any:
        value = compute()
        readings.append((reader, path, value))
        return value

    found = _Found(follows_callers=whole_project)
    kept = _reader("statements_kept") if any(FileKind.PYTHON in file.kinds for file in files) else nullcontext
    with kept():
        for file in files:
            _read_file(found, file, catalog, roots, record)
    return readings


def _read_index(
    files: list[IndexedFile],
    catalog: Catalog,
    roots: tuple[str, ...],
    remember: Remember | None,
    read_ahead: dict[tuple[str, str], Callable[[], Any]] | None = None,
    walks: Walks | None = None,
) -> ProjectIndex:
    cached = remember
    remember = _once(_ahead(read_ahead, remember or _compute) if read_ahead else remember or _compute)
    found = _Found(follows_callers=sees_project(files))
    python = {file.display: file.read for file in files if FileKind.PYTHON in file.kinds and file.display.endswith(".py")}
    for file in files:
        _read_file(found, file, catalog, roots, remember)
    named = module_map(f.display for f in files) if found.flags or found.markers or found.package_flags else None
    modules = _module_names(files, named) if named is not None else {}
    cuda_workflows = sorted(path for path, cuda, _, _ in found.workflows if cuda)
    portable = any(rocm or cpu for _, _, rocm, cpu in found.workflows)
    ci_targets: dict[str, str] = {}
    for path, _, rocm, cpu in sorted(found.workflows):
        for target, runs in (("rocm", rocm), ("cpu", cpu)):
            if runs:
                ci_targets.setdefault(target, path)
    if any(build is not None and build.cuda_only_globs for build in found.builds.values()):
        listed = _reader("listed_sources")
        found.builds = {folder: listed(build, found.sources) if build is not None and build.cuda_only_globs else build
                        for folder, build in found.builds.items()}
    if found.jit_builds and found.sources:
        _add_jit_builds(found)
    left_out = {source: evidence for build in found.builds.values() if build is not None
                for source, evidence in build.cuda_only}
    counterparts = _counterparts(files, found.include_paths)
    import_lines: dict[str, bytes] = {}  # each module's import lines, read once for the two readers that read them
    keyed = [flag for flag in found.flags if _reader("is_keyed")(flag[1])]
    if keyed:
        found.flags = [flag for flag in found.flags if not _reader("is_keyed")(flag[1])]
    other_paths = _other_paths(python, cached, _cuda_flags(found.flags))
    importers = _importers_of_unbuilt(python, found.unbuilt)
    routes, route_gates = (
        _reader("routes")(found.named_sources, other_paths, found.sources) if found.named_sources and found.sources else ({}, {})
    )
    commands = _documented_commands(files)
    if found.grouped:
        _read_groups(found, commands)
    settings_elsewhere, turned = _settings_elsewhere(files, python, found, commands) if found.switched or found.tested else ({}, frozenset())
    switches, kept_off = _switches_elsewhere(files, python, found)
    settings_elsewhere = {
        path: settings_elsewhere.get(path, frozenset()) | switches.get(path, frozenset())
        for path in {*settings_elsewhere, *switches}
    }
    documented_on = _documented_on(python, found, settings_elsewhere, commands)
    settings_elsewhere = {
        path: kept for path, settings in settings_elsewhere.items()
        if (kept := settings - documented_on.get(path, frozenset()))
    }
    never_on = {} if not kept_off or not sees_project(files) or _installable(files) else {  # no library user calls it
        path: tuple(sorted(kept)) for path, names in kept_off.items() if (kept := names - documented_on.get(path, frozenset()))
    }
    declarations = _vendored_folders(files)  # for the two readers that weigh installs
    registered = _registered(files, python, found, declarations)
    default_entries = registered.default_modules if registered is not None else frozenset()
    every_main_block = _main_blocks(found.main_blocks | found.other_main_blocks, python, import_lines)
    main_blocks = {path: imported for path, imported in every_main_block.items() if path in found.main_blocks}
    main_blocks, unrun_libraries = _unrun_libraries(files, found, main_blocks)
    libraries = frozenset(path for path, imported in every_main_block.items() if imported is not None)
    porting = _reader("layers")(found.sources, left_out) if found.sources else None
    imports = partial(_top_level_imports, python, remember)
    # The catalog's `[[absent_without_gpu]]` packages, for the two readers that take them (the reader's
    # module is not imported by a scan that needs neither).
    absent = _reader("absent_packages")(catalog) if found.cuda_extensions or found.tried_imports else frozenset()
    optional, failing = _optional_modules(python, found, remember, imports, absent)
    documented_values = _settings_documented(files, python, found, imports, commands)
    cpu_routes = _cpu_routes(files, python, commands)
    left_behind = _taken_names(files, python, found, import_lines, catalog, declarations)
    scripts_aside = _unnamed_scripts(files, found, every_main_block)
    unnamed_scripts = {path: why for path, why in scripts_aside.items() if path in found.main_blocks}
    nested = _nested_projects(files, python)
    unreached = _unreached(files, python, found, {**nested, **scripts_aside})
    installs = _installs(found.installs)
    docker_routes = _docker_routes(files, installs)
    readme_extras = _readme_extras(files) if found.declared else frozenset()
    # What the other readers judge off the normal path first: a developer folder's module that only
    # such files import is no part of the normal path either (`_developer_folders`).
    before = {
        **unreached, **_stranded(files, python, imports), **_copied_projects(files, python), **nested,
        **optional, **_unnamed(files, python, found),
    }
    created = _created_environments(files)
    after = {
        **_superseded_builds(python), **_unnamed_files(files, created, python, commands),
        **_cog_predictors(files, python), **_hosted_notebooks(files, python, catalog),
        **_op_self_tests(main_blocks, python, commands), **unnamed_scripts,
        **_multi_gpu_siblings(python, commands),
        **_unnamed_examples(files, python, found, import_lines), **_side_scripts(files, python, found, import_lines, commands),
        **_extra_only(python, found, imports, default_entries, readme_extras),
    }
    developer = _developer_folders(files, python, catalog, frozenset({*before, *after}))
    off_default_path = {
        **before, **_off_default_path(python, catalog, developer), **after, **developer,
        **_optional_requirements(files, found), **_opt_in_sources(files, found, porting),
    }
    off_default_path = {**_built_off_path(found, off_default_path, porting), **off_default_path}
    return ProjectIndex(
        porting=porting,
        cuda_macros=_reader("macros")([*(facts.macro_sides for facts in found.sources.values()),
                                       *_build_defines(found.builds)]) if found.sources else (),
        cuda_macro_values=(
            _reader("macro_values")(facts.macro_values for facts in found.sources.values()) if found.sources else ()
        ),
        builds=found.builds,
        counterparts=counterparts,
        variants=tuple(sorted(set(found.variants))),
        included=found.included,
        ci_carrier=cuda_workflows[0] if cuda_workflows and not portable else None,
        workflows_known=bool(found.workflows),
        ci_targets=tuple(sorted(ci_targets.items())),
        cuda_images=tuple(sorted(
            (path, *image) for path, image in found.cuda_images.items()
            if not any(counterpart.target == "rocm" for counterpart in counterparts.get(path, ()))
        )),
        other_paths=_without_gpu(other_paths, failing),
        rocm_routes=routes,
        route_gates=route_gates,
        unbuilt_extensions=importers,
        unbuilt_called=_unbuilt_called(python, importers),
        device_flags=_by_import_name(found.flags, named) + (_keyed_flags(keyed, python) if keyed else ()),
        skip_markers=_by_import_name(found.markers, named, outer=True),
        package_flags=_package_flags(found.package_flags, named),
        modules=modules,
        conftests={folder: fixtures for folder, fixtures in found.conftests.items() if fixtures},
        faking_fixtures={folder: fixtures for folder, fixtures in found.faking_fixtures.items() if fixtures},
        left_out_marks={folder: tuple(sorted(marks)) for folder, marks in found.left_out_marks.items() if marks},
        deselected_marks={folder: tuple(sorted(marks)) for folder, marks in found.deselected_marks.items() if marks},
        ignored_without_cuda=_resolved_ignores(found.ignored, python, files),
        never_collected=found.configured,
        failing_collection=_failing_collection(files, python, imports, unreached),
        releases=tuple(sorted(set(found.releases))),
        switched=_with_registered(_with_registered(
            _switched(python, found, catalog, import_lines, settings_elsewhere, turned, switches, documented_on)
            if found.switched or settings_elsewhere else {},
            registered.chosen if registered is not None else {},
        ), _vendored_only(left_behind)),
        unselected=registered.unselected if registered is not None else {},
        settings_off=settings_elsewhere,
        launched_by_default=_launched_by_default(files, python, found) if found.tested else {},
        always_launched=_always_launched(files, python, found, imports, commands),
        kept_on=_kept_on(files, found),
        cpu_parameters=_cpu_parameters(files, found),
        settings_chosen=_with_one_rank(_chosen_elsewhere(files, python, found), files, python, found, catalog),
        settings_documented=documented_values,
        cpu_routes=cpu_routes,
        calls_elsewhere=(
            _reader("calls_elsewhere")(
                python, found.cuda_defaults, found.from_imports, remember, _readme_examples(files),
                _reader("with_constructions")(_configured_calls(files, found.cuda_defaults), python),
                libraries,
            )
            if found.cuda_defaults else {}
        ),
        named_nowhere=_named_nowhere(files, found),
        methods_called=(
            _reader("method_calls")(python, found.default_methods)
            if found.default_methods and found.follows_callers else {}
        ),
        used_elsewhere=_looked_up(
            _reader("uses_elsewhere")(
                python, found.definitions, found.from_imports, catalog, remember, documented_values, walks,
                frozenset(path for path, imported in every_main_block.items() if imported is None),
            )
            if found.definitions else {},
            left_behind,
        ),
        fallback_callees=(
            _reader("handed_to_fallbacks")(python, found.fallbacks, found.from_imports) if found.fallbacks else {}
        ),
        module_loaders=_reader("handed_loaders")(python, found.loaders, found.from_imports) if found.loaders else {},
        main_blocks=main_blocks,
        unrun_libraries=unrun_libraries,
        loose_libraries=frozenset(
            path for path, imported in main_blocks.items()
            if imported is not None and posixpath.join(posixpath.dirname(path), "__init__.py") not in python
        ),
        taken_names=left_behind.taken if left_behind is not None else {},
        unread_devices=_unread_devices(files, python, found, import_lines),
        unread_settings=_unread_settings(files, found, catalog, commands),
        unshipped_loads=_unshipped_loads(files, python, main_blocks),
        unread_keys=_unread_keys(files, catalog, remember),
        never_on=never_on,
        held_defaults=_held_defaults(files, found),
        held_nowhere=sees_project(files) and not _installable(files),
        off_default_path=off_default_path,
        documented_scripts=_documented_scripts(python, commands),
        never_trained=_never_trained(files, python, off_default_path),
        never_built=_dead_sources(left_behind, python, found, porting),
        **_uncompiled(files, found, porting, roots),
        runs_nowhere={
            **_unincluded(files, porting), **_dockerless_builds(files),
            **(_reader("unreached_runs_nowhere")(unreached) if unreached else {}),
        },
        threshold_calls=_threshold_calls(files, found),
        namespace_modules=namespace_modules(python, roots, {key.partition(".")[0] for key in catalog.keys("import")}),
        pure_python=_pure_python(files),
        home_repositories=_home_repositories(files),
        installs=installs,
        docker_routes=docker_routes,
        images_after_packages=_images_after_packages(files, installs),
        images=tuple(_images(files)),
        image_bases=_image_bases(files, found.installs, found.cuda_images, catalog),
        image_declarations=_image_declarations(files, found.installs, installs, docker_routes),
        pip_installs=_installs(path for path, kind in found.installs.items() if kind in _OWN_INSTALL_KINDS),
        unimported_bindings=_unimported_bindings(files, catalog),
        switched_off_packages=_switched_off_packages(files, catalog),
        created_environments=frozenset(created),
        readme_extras=tuple(sorted(readme_extras)),
        opt_in_options=_opt_in_options(files),
        unimportable=_unimportable(python, found, imports, absent),
        started=_reader("started_modules")(
            python, roots, partial(_top_level_imports, python, remember, reader="module_level_imports"),
            commands().python_run(python),
        ) if python else {},
        unrequested=_unrequested(files, python, found, catalog, remember),
        cpu_saved_files=tuple(sorted(_reader("cpu_saved_files")(found.saved.values()))) if found.saved else (),
        **_shipped_checkpoints(found.loaded, roots),
    )


def _read_file(found: _Found, file: IndexedFile, catalog: Catalog, roots: tuple[str, ...], remember: Remember) -> None:
    """What one file tells the index by itself, added to `found`."""
    kinds = [kind for kind in file.kinds if _wanted(kind, file.display)]
    if not file.kinds and posixpath.basename(file.display).lower() in TEST_CONFIGURATIONS:
        try:
            found.read_configuration(file.display, partial(_decoded, _Source(file.read)), remember)
        except Exception:  # noqa: BLE001 - an unreadable configuration leaves nothing out
            return
    if not kinds:
        return
    data = _Source(file.read)
    for kind in kinds:
        try:
            found.read(file.display, kind, data, catalog, roots, remember)
        except Exception:  # noqa: BLE001 - an unreadable, binary or odd file adds no facts; its own analysis reports it
            continue


def _ahead(read_ahead: dict[tuple[str, str], Callable[[], Any]], remember: Remember) -> Remember:
    """`remember`, given the reading a worker took ahead (`file_readings`) in place of computing it;
    each is taken once (`_once` asks once), and dropped once taken."""

    def ahead(reader: str, path: str, compute: Callable[[], Any]) -> Any:
        return remember(reader, path, read_ahead.pop((reader, path), compute))

    return ahead


def _top_level_imports(
    python: dict[str, Reader], remember: Remember, path: str, reader: str = "top_level_imports"
) -> tuple[Any, ...]:
    """`extra_only.top_level_imports` of the module at `path` (or the reading `reader` names, of the
    same shape: `started_modules.module_level_imports`), from the cache: the one reading of a
    module's top-level imports that the extras', the stranded copies', the optional and the
    unimportable modules' readers share; an unreadable module imports nothing here (its own
    analysis says why)."""
    try:
        return tuple(remember(reader, path, lambda: _reader(reader)(python[path]())))
    except Exception:  # noqa: BLE001 - an unreadable module imports nothing here; its own analysis says why
        return ()


TopImports = Callable[[str], tuple[Any, ...]]
"""`_top_level_imports` of the scan's modules, by display path."""


def _failing_collection(
    files: list[IndexedFile], python: dict[str, Reader], imports: TopImports, unreached: Mapping[str, object]
) -> frozenset[str]:
    """`unshipped_imports.unshipped_imports` of the scan's test modules and of the package modules
    nothing in the project reaches (`unreached`), with its build scripts."""
    if not unreached and not any(is_test_path(path) for path in python):
        return frozenset()
    scripts = {file.display: file.read for file in files if posixpath.basename(file.display) in _BUILD_SCRIPTS}
    return frozenset(_reader("unshipped_imports")(python, (file.display for file in files), imports, scripts, frozenset(unreached)))


_BUILD_SCRIPTS = frozenset({"setup.py", "setup.cfg", "pyproject.toml", "CMakeLists.txt", "meson.build"})
"""The files that may build a module the source tree does not hold (`unshipped_imports.py`)."""


def _unimportable(
    python: dict[str, Reader], found: _Found, imports: TopImports, absent: frozenset[str]
) -> tuple[str, ...]:
    """`unimportable.unimportable_modules`, read only in a project whose build scripts compile CUDA
    extensions, with the packages of `absent` (the catalog's `[[absent_without_gpu]]`)."""
    if not found.cuda_extensions:
        return ()
    return tuple(_reader("unimportable")(python, frozenset(found.cuda_extensions) | absent, imports))


def _unrequested(
    files: list[IndexedFile], python: dict[str, Reader], found: _Found, catalog: Catalog, remember: Remember
) -> dict[str, tuple[str, ...]]:
    """`unrequested.unrequested_packages` for the modules outside the test suite that the catalog's
    prefilter passes and that spell a package installed only on request, read only in a scan that sees
    the project's documents (a folder's scan) and declares an install (a dependency file, or a Cog
    configuration, whose `build.python_packages` are its image's install): the files that may install
    one (dependency files, Dockerfiles, shell scripts, README and install pages) each searched once,
    by the cache."""
    spellings = _reader("requested_spellings")(catalog)
    installs = [
        path for path, kind in found.installs.items()
        if kind is not FileKind.PYPROJECT or any(found.declared.get(path, ((), ()))[:2])
    ]
    installs += [file.display for file in files if _cog_config(file)]
    if not spellings or not installs or not sees_project(files):
        return {}
    words = [module.encode() for module, _ in spellings]
    modules: dict[str, frozenset[str]] = {}
    for path in sorted(found.prefiltered):
        try:
            names = remember("unrequested:imports", path, partial(_requested_imports, python[path], words))
        except Exception:  # noqa: BLE001 - an unreadable module imports nothing here; its own analysis says why
            continue
        if names:
            modules[path] = frozenset(names)
    if not modules:
        return {}
    named: dict[str, tuple[str, ...]] = {}
    reader = _reader("named_packages")
    for file in files:
        if not (_INSTALLING_KINDS.intersection(file.kinds) or _install_page(file) or _cog_config(file)):
            continue
        try:
            found_here = remember("unrequested:named", file.display, partial(_named_in, reader, file.read, spellings))
        except Exception:  # noqa: BLE001 - an unreadable file names nothing; its own analysis says why
            continue
        if found_here:
            named[file.display] = found_here
    return _reader("unrequested_packages")(modules, installs, named, spellings, _reader("code_folders")(python))


def _named_in(reader: Callable[[bytes, Any], tuple[str, ...]], read: Reader, spellings: Any) -> tuple[str, ...]:
    """`reader` (`unrequested.named_packages`) of the bytes `read` gives."""
    return reader(read(), spellings)


def _requested_imports(read: Reader, words: list[bytes]) -> tuple[str, ...]:
    """The words of `words` (packages installed only on request) that the module's import statements
    spell; none without a byte match first."""
    data = read()
    if not any(word in data for word in words):
        return ()
    names = _reader("import_names")(data)
    return tuple(sorted(word.decode() for word in words if word.decode() in names))


_INSTALLING_KINDS = frozenset({
    FileKind.REQUIREMENTS, FileKind.PYPROJECT, FileKind.SETUP, FileKind.CONDA, FileKind.PIXI,
    FileKind.DOCKERFILE, FileKind.SHELL, FileKind.MAKEFILE,
})
"""Files that may install a package the project's code tries."""


def _cog_config(file: IndexedFile) -> bool:
    """A Cog configuration (`cog.yaml`), which declares the packages its image installs
    (https://github.com/replicate/cog/blob/main/docs/yaml.md)."""
    return posixpath.basename(file.display).lower() == "cog.yaml"


def _install_page(file: IndexedFile) -> bool:
    """A document (a file of no kind) that may tell a user what to install, by its name: a README, an
    install page, a requirements or environment file of another format, a container definition."""
    name = posixpath.basename(file.display).lower()
    return not file.kinds and (any(word in name for word in _INSTALL_WORDS) or name.endswith(".def"))


_INSTALL_WORDS = ("readme", "install", "requirement", "pyproject", "environment", "docker", "container", "apptainer", "singularity")
"""Words in the name of a document that may say what the project installs (`.def`: an Apptainer definition)."""


def _decoded(source: Callable[[], bytes]) -> str:
    return decode_text(source())


def _opt_in_options(files: list[IndexedFile]) -> tuple[str, ...]:
    """`cmake_options`: the options the scan's CMake files declare off by default that no CMake file sets
    on and no other file of the scan turns on (`-DNAME=ON` in a document, script, build script, Dockerfile
    or workflow; in a Makefile, in its default goal's recipes); read only in a folder's scan, which sees the
    documents that would tell an installer to turn one on."""
    if not sees_project(files):
        return ()
    declared: set[str] = set()
    on: set[str] = set()
    cmake = [file for file in files if FileKind.CMAKE in file.kinds]
    for declaring in (True, False):  # the files that declare options first: most projects declare none
        for file in cmake:
            try:
                data = file.read()
                if (b"option" in data.lower()) is not declaring:
                    continue
                off, set_here = _reader("option_settings")(decode_text(data))
            except Exception:  # noqa: BLE001 - an unreadable CMake file declares nothing here; its own analysis says why
                continue
            declared.update(off)
            on.update(set_here)
        if not declared:
            return ()
    declared -= on
    if not declared:
        return ()
    spelled = word_automaton(b"-D" + name.encode() for name in sorted(declared))  # one pass over each file, for every option
    for file in files:
        if FileKind.CMAKE in file.kinds or not (not file.kinds or set(file.kinds) & _OPTION_SETTING_KINDS):
            continue
        try:
            data = file.read()
            if spelled is None or not spelled.any_in(data):
                continue
            if FileKind.MAKEFILE in file.kinds:
                declared -= _reader("makefile_turned_on")(decode_text(data), declared)
            else:
                # a document's variables are the reader's to set (a guide's `cuda=ON` for one variant of a wheel)
                declared -= _reader("options_turned_on")(data, declared, data if file.kinds else b"")
        except Exception:  # noqa: BLE001 - an unreadable file turns nothing on
            continue
    return tuple(sorted(declared))


_OPTION_SETTING_KINDS = frozenset({
    FileKind.SHELL, FileKind.PYTHON, FileKind.DOCKERFILE, FileKind.WORKFLOW, FileKind.MAKEFILE, FileKind.MANIFEST,
    FileKind.SETUP, FileKind.PYPROJECT, FileKind.NOTEBOOK,
})
"""Files besides documents that may run cmake for the installer (build scripts, CI, images, configurations)."""


def sees_project(files: list[IndexedFile]) -> bool:
    """Whether the scan is of a folder, which lists the project's documents (files of no kind) beside
    its code: one of named files (pre-commit's staged files) cannot tell that nothing else calls a function."""
    return any(not file.kinds for file in files)


_INSTALL_KINDS = frozenset({FileKind.REQUIREMENTS, FileKind.PYPROJECT, FileKind.SETUP, FileKind.CONDA, FileKind.PIXI})
_DECLARING_KINDS = frozenset({FileKind.REQUIREMENTS, FileKind.PYPROJECT, FileKind.SETUP})
"""Files that declare a base install, extras or console scripts (`declared.declared_dependencies`)."""


def _installs(declarations: Iterable[str]) -> dict[str, str]:
    """Folder -> the first dependency declaration that installs the project from there; a file named for
    Docker (`requirements_docker.txt`), or kept in a folder that is (`docker/cuda/requirements.txt`), is
    an image's, not a way around it."""
    found: dict[str, str] = {}
    for path in sorted(declarations):
        if _for_image(path):
            continue
        folder = posixpath.dirname(path)
        if posixpath.basename(folder).lower() in REQUIREMENTS_FOLDERS:
            folder = posixpath.dirname(folder)
        found.setdefault(folder, path)
    return found


def _for_image(declaration: str) -> bool:
    """Whether a dependency declaration is an image's: named for Docker (`requirements_docker.txt`), or
    kept in a folder that is (`docker/cuda/requirements.txt`)."""
    return any("docker" in part.lower() for part in declaration.split("/")[-3:])


def _image_declarations(
    files: list[IndexedFile], declarations: Iterable[str], installs: Mapping[str, str], routes: frozenset[str]
) -> frozenset[str]:
    """The image's declarations (`_for_image`) beside Dockerfiles or compose files none of which is the
    first route of its README (`routes`: `_docker_routes`), where the project installs without Docker from their
    folder or above (`installs`: `_installs`): the image is one route among others, and so is what it installs."""
    images = _images(files)
    found = set()
    for path in declarations:
        if not _for_image(path) or _nearest_at_or_above(path, installs) is None:
            continue
        beside = {image for image in images if posixpath.dirname(image) == posixpath.dirname(path)}
        if beside and not beside & routes:
            found.add(path)
    return frozenset(found)


def _image_bases(
    files: list[IndexedFile], declarations: Iterable[str], cuda_images: Mapping[str, tuple[int, str]], catalog: Catalog
) -> dict[str, tuple[Evidence, tuple[tuple[str, str], ...]]]:
    """An image's declaration (`_for_image`: `docker/requirements.txt`) -> the `FROM` line of the CUDA image
    that the Dockerfiles beside it are all built on (`cuda_images`, the first of them), with the most
    serious severity of those images per target (`dockerfile.image_severities`): a `+cu121` pin installed
    into an NVIDIA CUDA image is no more serious than the image (a CPU note where the image runs on a CPU
    host), as a `pip install` in the Dockerfile's own CUDA stage is."""
    dockerfiles = [file.display for file in files if FileKind.DOCKERFILE in file.kinds]
    found: dict[str, tuple[Evidence, tuple[tuple[str, str], ...]]] = {}
    for path in sorted(declarations):
        beside = [image for image in dockerfiles if posixpath.dirname(image) == posixpath.dirname(path)]
        if not _for_image(path) or not beside or not all(image in cuda_images for image in beside):
            continue
        worst: dict[str, Severity] = {}
        for image in beside:
            for target, severity in _reader("image_severities")(cuda_images[image][1], catalog):
                worst[target] = max(worst.get(target, Severity.NOTE), Severity(severity), key=lambda s: s.rank)
        if worst:
            line, reference = cuda_images[beside[0]]
            found[path] = (Evidence(beside[0], line, reference), tuple(sorted((t, s.value) for t, s in worst.items())))
    return found


def _docker_routes(files: list[IndexedFile], installs: Mapping[str, str]) -> frozenset[str]:
    """The Dockerfiles and compose files that the README of the folder whose declaration installs them
    (`_installs`) shows as its first way to install the project (`references.docker_first`): one in
    that folder (`docker build .`, or a Makefile's target that runs it), or one whose path from there
    the README spells (`docker/Dockerfile`)."""
    images = _images(files)
    if not images or not installs:
        return frozenset()
    readmes = _readmes_by_folder(files)
    first: dict[str, bytes | None] = {}
    found = set()
    for path in images:
        folder = _nearest_folder(path, installs)
        if folder is None or folder not in readmes:
            continue
        if folder not in first:
            text = _read_or_empty(readmes[folder][1])
            first[folder] = text if _reader("docker_first")(text) is not None else None
        readme = first[folder]
        if readme is None:
            continue
        inside = posixpath.relpath(path, folder) if folder else path
        if posixpath.dirname(path) == folder or inside.lower().encode() in readme.lower():
            found.add(path)
    return frozenset(found)


def _images_after_packages(files: list[IndexedFile], installs: Mapping[str, str]) -> dict[str, Evidence]:
    """Dockerfile or compose file -> the line of the nearest README at or above it whose first way to
    install is a package manager's (`references.package_first`: `pip install click requests` before
    "Docker users: use the provided Dockerfile"), for those of a project that declares no install
    (`_installs` names no folder at or above them): the README's first route is the normal path, the
    image one route among others, as beside a requirements file."""
    readmes = _readmes_by_folder(files)
    found: dict[str, Evidence] = {}
    for path in _images(files):
        folder = _nearest_folder(path, readmes)
        if folder is None or _nearest_folder(path, installs) is not None:
            continue
        display, read = readmes[folder]
        line = _reader("package_first")(_read_or_empty(read))
        if line is not None:
            found[path] = Evidence(display, line, "the README shows a package manager's install before Docker")
    return found


def _images(files: list[IndexedFile]) -> list[str]:
    """The display paths of the scan's Dockerfiles and compose files."""
    return [file.display for file in files if {FileKind.DOCKERFILE, FileKind.COMPOSE}.intersection(file.kinds)]


def _readmes_by_folder(files: list[IndexedFile]) -> dict[str, tuple[str, Reader]]:
    """Folder -> (display path, reader) of its README."""
    return {
        posixpath.dirname(file.display): (file.display, file.read) for file in files
        if not file.kinds and posixpath.basename(file.display).lower() in _READMES
    }


_READMES = frozenset({"readme.md", "readme.rst", "readme.txt", "readme"})


def _nearest_folder(path: str, by_folder: Mapping[str, object]) -> str | None:
    """The nearest folder at or above `path`'s that `by_folder` names (`_nearest_at_or_above`'s folder)."""
    folder, above = posixpath.dirname(path), None
    while folder != above:
        if folder in by_folder:
            return folder
        folder, above = posixpath.dirname(folder), folder
    return None


def _importers_of_unbuilt(
    python: dict[str, Reader], unbuilt: list[tuple[str, Evidence, bool, bool]]
) -> dict[str, tuple[tuple[str, Evidence, bool, bool], ...]]:
    """Python module -> the extensions of `unbuilt` whose last name it spells (`_ext` of `pkg._ext`),
    built by a script that builds the copy of the package the module imports (`builds_copy_of`):
    the modules that may import one. Read only in a project that has such an extension (few)."""
    if not unbuilt:
        return {}
    extensions = tuple(sorted(set(unbuilt)))
    packages = frozenset(posixpath.dirname(path) for path in python if posixpath.basename(path) == "__init__.py")
    found: dict[str, tuple[tuple[str, Evidence, bool, bool], ...]] = {}
    for path, read in python.items():
        if posixpath.basename(path) == "setup.py":
            continue
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable module says nothing; its own analysis reports it
            continue
        spelled = tuple(
            item for item in extensions
            if item[0].rpartition(".")[2].encode() in data and _reader("builds_copy_of")(item[1].path, item[0], path, packages)
        )
        if spelled:
            found[path] = spelled
    return found


def _unbuilt_called(
    python: dict[str, Reader], importers: dict[str, tuple[tuple[str, Evidence, bool, bool], ...]]
) -> dict[str, Evidence]:
    """Build script -> the first call (by path, then line) in a module outside the test suite of an
    extension it builds without GPU code on ROCm, where that call fails there."""
    called: dict[str, Evidence] = {}
    for path in sorted(importers):
        if is_test_path(path):
            continue
        try:
            found = _reader("unbuilt_called")(path, python[path](), importers[path])
        except Exception:  # noqa: BLE001 - an unreadable or unparsable module says nothing; its own analysis reports it
            continue
        for script, call in found:
            called.setdefault(script, call)
    return called


def _nearest_at_or_above(path: str, by_folder: Mapping[str, _T]) -> _T | None:
    """What `by_folder` holds for the nearest folder at or above `path`'s that it names: a build
    script or a dependency declaration applies to the files of its folder and the folders below."""
    folder = _nearest_folder(path, by_folder)
    return by_folder[folder] if folder is not None else None


def _unnamed(files: list[IndexedFile], python: dict[str, Reader], found: _Found) -> dict[str, Evidence]:
    """`unnamed.unnamed_modules` for the modules inside a package that the catalog's prefilter passes,
    outside the test suite, with no `__main__` block, read against the files that may name a module."""
    modules = module_map(python)
    candidates = [
        path for path in sorted(found.prefiltered)
        if posixpath.basename(path) != "__init__.py" and "." in modules.name(path) and path not in found.main_blocks
    ]
    if not candidates:
        return {}
    naming = {file.display: file.read for file in files if set(file.kinds) & _NAMING_KINDS and not is_test_path(file.display)}
    tests = {path: read for path, read in python.items() if is_test_path(path)}
    return _reader("unnamed_modules")(candidates, naming, tests)


def _unreached(
    files: list[IndexedFile], python: dict[str, Reader], found: _Found, aside: Mapping[str, Evidence]
) -> dict[str, Evidence]:
    """`unreached.unreached_modules` for the modules inside a package that the catalog's prefilter
    passes, read against the project's other files outside the test suite, in a scan that sees the
    whole project (one given its documents): named files cannot tell that nothing imports a module.
    `aside` are the files already known to be another path (scripts nothing names, a nested project's
    files), whose imports and names run nothing on the normal path. A project that installs nothing
    (`_installable`) is an application: its top-level packages run only where it imports them."""
    if not found.prefiltered or not sees_project(files):
        return {}
    others = {
        file.display: file.read for file in files
        if FileKind.PYTHON not in file.kinds and not is_test_path(file.display) and file.display not in aside
    }
    return _reader("unreached_modules")(sorted(found.prefiltered), python, others, aside, not _installable(files))


def _nested_projects(files: list[IndexedFile], python: dict[str, Reader]) -> dict[str, Evidence]:
    """`nested_projects.nested_project_files`: the files of a standalone project nested in a part of
    the host that nothing of the host imports or names, in a scan that sees the whole project (one
    given its documents)."""
    if not sees_project(files):
        return {}
    others = {file.display: file.read for file in files if FileKind.PYTHON not in file.kinds}
    return _reader("nested_project_files")(python, others)


def _taken_names(
    files: list[IndexedFile], python: dict[str, Reader], found: _Found, import_lines: dict[str, bytes], catalog: Catalog,
    declarations: tuple[set[str], set[str]],
) -> Any:
    """`taken_names.left_behind` for the modules outside the test suite that the catalog's prefilter
    passes, with no `__main__` block (`main_block.py` reads those), that no install makes an API: no
    package holds them, or no build declaration (`setup.py`, `setup.cfg`, `pyproject.toml`) of the project's
    own stands at or above their folder (`_vendored_folders`: a vendored package's makes no API); and,
    so that a use counts only where it runs, the modules of that kind that import them by name, and
    those that import these, until none is added. Read in a scan that sees the whole project, against
    every file of it, the vendored packages' own scripts, tests and documents set aside (`_aside`). The
    `__init__.py` of a vendored package, or of one no install makes an API that a module outside it
    imports (`_imported_packages`), serves only the project: what it re-exports counts only where another
    file spells it (`served`). None where it reads nothing."""
    if not found.prefiltered or not sees_project(files):
        return None
    _, vendored = declarations
    installed = _installed(files, python, declarations)

    def no_api(path: str) -> bool:
        return (
            not is_test_path(path) and posixpath.basename(path) != "__init__.py"
            and path not in found.main_blocks and path not in found.other_main_blocks
            and not installed(path)
        )

    faces = _reader("dispatched_packages")(python, found.from_imports)
    folders_looked_up = {posixpath.dirname(face) for face in faces}

    def looked_up(path: str) -> bool:
        return (
            not is_test_path(path) and posixpath.basename(path) != "__init__.py" and posixpath.dirname(path) in folders_looked_up
            and path not in found.main_blocks and path not in found.other_main_blocks
        )

    candidates = {path for path in found.prefiltered if no_api(path)}
    chosen = {path for path in found.prefiltered if looked_up(path) and path not in candidates}
    candidates |= chosen
    if not candidates:
        return None
    takers: dict[str, dict[str, set[str]]] = {}
    imported = _reader("imported_modules")(candidates, python, import_lines, takers)
    read = set(candidates)
    while True:
        more = {importer for path in takers for importer in takers[path] if importer not in read and no_api(importer)}
        if not more:
            break
        read |= more
        imported.update(_reader("imported_modules")(more, python, import_lines, takers))
    names = {path: taken for path, (_, taken) in imported.items()}
    if not names:
        return None
    aside = _aside(files, python, vendored)
    copies = dict.fromkeys(vendored, True)
    package_faces = [path for path in python if posixpath.basename(path) == "__init__.py" and not is_test_path(path)]
    serving = _imported_packages(python, found.from_imports) if any(not installed(path) for path in package_faces) else set()
    served = frozenset(
        path for path in package_faces
        if _nearest_at_or_above(path, copies) or (not installed(path) and _outermost_package(path, python) in serving)
    )
    left = _reader("left_behind")(
        names, {file.display: file.read for file in files}, takers, _reader("user_methods")(catalog), aside, served | faces,
        _reader("dispatched_methods")(catalog),
    )
    fixed = {posixpath.dirname(face) for face in _reader("shipped_configurations")(python, faces)} if chosen else set()
    for path in chosen:  # an installed package's member a user's own configuration may name: another path
        if posixpath.dirname(path) in fixed:  # but no configuration of a user's reaches the lookup: as in a script's package
            left.named[path] = left.taken.get(path, ())
            continue
        left.named[path] = left.taken.pop(path, ())
        gone = left.dead.pop(path, ())
        if gone:
            left.unnamed[path] = tuple(name for _, _, name in gone)
    return left


def _outermost_package(path: str, python: Mapping[str, Reader]) -> str | None:
    """The folder of the outermost regular package that holds `path` (`pkg` for `pkg/sub/ops.py` where
    `pkg/` and `pkg/sub/` have an `__init__.py`), None outside every package."""
    found = None
    folder = posixpath.dirname(path)
    while posixpath.join(folder, "__init__.py") in python:
        found = folder
        if not folder:
            break
        folder = posixpath.dirname(folder)
    return found


def _imported_packages(python: Mapping[str, Reader], imports: Mapping[str, tuple[tuple[int, str, str], ...]]) -> set[str]:
    """The folders of the outermost packages (`_outermost_package`) of which a module outside them and
    outside the test suite imports a module (`imports`: each module's `project_calls.from_imports`).
    Such a package serves the project that imports it: where no install makes it an API, what its
    `__init__.py` re-exports runs only where the project takes it. A package nothing outside it imports
    is read as an API its users import, whatever declares it."""
    modules = module_map(python)
    found: set[str] = set()
    for importer, statements in imports.items():
        if is_test_path(importer):
            continue
        for level, module, _ in statements:  # an `import` statement's level (below 0) is an absolute one's
            for path in modules.resolve(importer, max(level, 0), module):
                top = _outermost_package(path, python)
                if top and top not in found and not importer.startswith(top + "/"):
                    found.add(top)
    return found


def _registered(
    files: list[IndexedFile], python: dict[str, Reader], found: _Found, declarations: tuple[set[str], set[str]]
) -> Any:
    """`registries.registered_definitions` of the scan's registries, read against the project's YAML
    files, documents and scripts, which may select a registry's entries by name (in a scan that sees
    the whole project); None where the scan has no registry."""
    if not found.registrations and not found.tables:
        return None
    configurations = {
        file.display: file.read for file in files
        if file.display.endswith(_COMMAND_FILES) or {FileKind.MANIFEST, FileKind.SHELL} & set(file.kinds)
    } if sees_project(files) else {}  # named files (pre-commit's staged ones) cannot tell that nothing names an entry
    return _reader("registered_definitions")(python, found.registrations, found.tables, configurations, _installed(files, python, declarations))


def _installed(
    files: list[IndexedFile], python: dict[str, Reader], declarations: tuple[set[str], set[str]]
) -> Callable[[str], bool]:
    """Whether a module is part of an installable package's API: inside a package (an `__init__.py`
    beside it) with a build declaration of the project's own at or above its folder (a vendored
    package's makes no API: `declarations` is `_vendored_folders`' answer); every module is, in a
    scan that does not see the whole project."""
    if not sees_project(files):
        return lambda path: True
    folders, vendored = declarations
    declared = dict.fromkeys(folders - vendored, True)
    return lambda path: (
        posixpath.join(posixpath.dirname(path), "__init__.py") in python and _nearest_at_or_above(path, declared) is not None
    )


def _vendored_folders(files: list[IndexedFile]) -> tuple[set[str], set[str]]:
    """The folders of the scan's build declarations (`setup.py`, `pyproject.toml`), and those of them
    that hold a vendored package: all of a project's, in a scan that sees the whole project and where
    the project's top folder declares nothing (a copied detector with its own `setup.py`, a kernel
    library the README installs with `pip install -e lib`: the project is the product, and the copy
    runs only what the project takes of it); none otherwise. A scan of several projects (`cudaudit scan
    a b`) weighs each by itself (`project_prefix`): one's declaration makes no other's a copy."""
    projects: dict[str, list[str]] = {}
    for file in files:
        projects.setdefault(project_prefix(file.display), []).append(file.display)
    declared: dict[str, set[str]] = {}
    for file in files:
        if {FileKind.SETUP, FileKind.PYPROJECT} & set(file.kinds):
            declared.setdefault(project_prefix(file.display), set()).add(posixpath.dirname(file.display))
    folders = {folder for own in declared.values() for folder in own}
    if not sees_project(files):
        return folders, set()
    return folders, {
        folder for project, own in declared.items()
        if (posixpath.commonpath(projects[project]) if len(projects[project]) > 1 else "") not in own
        for folder in own
    }


def _aside(files: list[IndexedFile], python: dict[str, Reader], vendored: set[str]) -> frozenset[str]:
    """The files of the vendored packages' folders that are off the project's normal path: those
    outside the packages there (the copy's own benchmarks, evaluation scripts, README and `setup.py`)
    and its tests. A user may run them by hand from the copy; the project runs none."""
    if not vendored:
        return frozenset()
    copies = dict.fromkeys(vendored, True)
    return frozenset(
        file.display for file in files
        if _nearest_at_or_above(file.display, copies)
        and (is_test_path(file.display) or posixpath.join(posixpath.dirname(file.display), "__init__.py") not in python)
    )


def _looked_up(uses: dict[str, Any], left: Any) -> dict[str, Any]:
    """`callers.uses_elsewhere`'s answer, with the members of a package the project looks up by a
    name read at run time that a file of the project names (`LeftBehind.named`: a configuration's
    `type: calculate_ssim`) used where it is not followed: the lookup runs them, unguarded."""
    if left is None or not left.named:
        return uses
    merged = dict(uses)
    for path, names in left.named.items():
        if path in merged:
            merged[path] = tuple((name, None if name in names else found) for name, found in merged[path])
    return merged


def _vendored_only(left: Any) -> dict[str, tuple[tuple[str, Evidence], ...]]:
    """The top-level definitions that only a vendored package's own scripts, tests and documents reach
    (`taken_names.left_behind`'s `aside`), and the members of a package the project looks up by a
    name read at run time that no file of the project names (`unnamed`, `dispatched.py`): another
    path, read as a switched definition is."""
    if left is None or not (left.aside or left.unnamed):
        return {}
    found = {
        path: tuple((name, Evidence(path, 0, "only the vendored package's own scripts, tests and documents use it")) for name in names)
        for path, names in left.aside.items()
    }
    for path, names in left.unnamed.items():
        found[path] = (*found.get(path, ()), *(
            (name, Evidence(path, 0, "looked up by a name no configuration, script or document of the project gives")) for name in names
        ))
    return found


def _dead_sources(left: Any, python: dict[str, Reader], found: _Found, porting: PortingFacts | None) -> dict[str, Evidence]:
    """The C/C++ and CUDA sources that every module naming them names only inside its definitions
    that nothing reaches (`taken_names.left_behind`: a JIT `load(sources=[...])` in an `_init()` whose
    only callers run nowhere never builds them), and the headers only they include."""
    if left is None or not left.dead or not found.named_sources or not found.sources:
        return {}
    namers: dict[str, list[str]] = {}
    for module, sources in found.named_sources.items():
        for source in sources:
            namers.setdefault(source, []).append(module)
    lines: dict[str, dict[str, tuple[int, ...]]] = {}
    chosen: dict[str, Evidence] = {}
    for source, modules in sorted(namers.items()):
        if source not in found.sources or any(module not in left.dead for module in modules):
            continue
        builders = []
        for module in modules:
            if module not in lines:
                lines[module] = _reader("naming_lines")(module, _read_or_empty(python[module])) if module in python else {}
            spans = left.dead[module]
            builders += [
                next(((module, first, name) for first, last, name in spans if first <= line <= last), None)
                for line in lines[module].get(source, (0,))
            ]
        if builders and all(builder is not None for builder in builders):
            module, first, name = builders[0]  # type: ignore[misc]
            chosen[source] = Evidence(module, first, f"def {name}")
    return porting.included_only_by(chosen) if porting is not None and chosen else chosen


def _built_off_path(found: _Found, off_path: Mapping[str, Evidence], porting: PortingFacts | None) -> dict[str, Evidence]:
    """The C/C++ and CUDA sources that only modules off the normal path name (a JIT `load()` in a module
    that only another route imports), outside the folders a build script compiles (the nearest build
    above a source may be only that JIT load itself: a `setup.py` that compiles it, by name or by glob,
    builds it on the normal path), and the headers only they include: what builds them runs on another
    path, and so do they (`FileFacts.off_default_path`)."""
    if not (found.named_sources or found.jit_builds) or not found.sources or not off_path:
        return {}
    namers: dict[str, set[str]] = {}
    jit_named = {module: [source for call in calls for source in call[5]] for module, (_, calls) in found.jit_builds.items()}
    for named in (found.named_sources, jit_named):
        for module, sources in named.items():
            for source in sources:
                namers.setdefault(source, set()).add(module)
    chosen: dict[str, Evidence] = {}
    for source, modules in sorted(namers.items()):
        build = _nearest_at_or_above(source, found.builds)
        if (source in found.sources and source not in off_path and all(module in off_path for module in modules)
                and (build is None or (build.hipified is not None and build.script in modules))):
            module = min(modules)
            chosen[source] = Evidence(module, off_path[module].line, f"built only by {module}, which runs on another path: {off_path[module].text}")
    found_headers = porting.included_only_by(chosen) if porting is not None and chosen else chosen
    return {path: evidence for path, evidence in found_headers.items() if path not in off_path}


_NAMING_KINDS = frozenset({
    FileKind.PYTHON, FileKind.NOTEBOOK, FileKind.CMAKE, FileKind.MAKEFILE, FileKind.SHELL, FileKind.SETUP,
    FileKind.PYPROJECT, FileKind.CUDA,
})
"""Files that may name a source to compile: build lists, JIT loads, compiler lines, `#include`s."""


def _uncompiled(files: list[IndexedFile], found: _Found, porting: PortingFacts | None, roots: tuple[str, ...]) -> dict[str, Any]:
    """`ProjectIndex.uncompiled` and `shipped_binaries`: the sources of vendored package copies that no
    build compiles and no file names (`uncompiled_copies.py`), with the headers only they include."""
    if not found.sources or not sees_project(files):
        return {}
    packages = frozenset(posixpath.dirname(file.display) for file in files if posixpath.basename(file.display) == "__init__.py")
    builds = [file.display for file in files if _reader("is_build_file")(file.display)]
    units = [source for source in found.sources if not source.endswith(_HEADER_SUFFIXES)]
    tops = _reader("copy_tops")(units, packages, builds, roots) if packages else {}
    if not tops:
        return {}
    binaries = read_binaries(tops.values(), roots)
    candidates = {source: _reader("copy_evidence")(top) for source, top in tops.items() if not binaries[top]}
    texts = [  # a build file lists sources from its own folder: one not at or above a copy's never reaches it
        file.read for file in files
        if file.display not in candidates and set(file.kinds) & _NAMING_KINDS and not _reader("is_build_file")(file.display)
    ]
    left = _reader("unnamed_sources")(candidates, texts) if candidates else {}
    return {
        "uncompiled": porting.included_only_by(left) if porting is not None and left else left,
        "shipped_binaries": binaries,
    }


def _unread_devices(
    files: list[IndexedFile], python: dict[str, Reader], found: _Found, import_lines: dict[str, bytes]
) -> dict[str, tuple[str, ...]]:
    """`unread_devices.unread_devices` of the modules outside every package that no other module of
    a scan that sees the whole project imports: only their own text could read the names."""
    candidates = {
        path for path in found.unread_devices
        if posixpath.basename(path) != "__init__.py" and posixpath.join(posixpath.dirname(path), "__init__.py") not in python
    }
    if not candidates or not sees_project(files):
        return {}
    imported = _reader("imported_modules")(candidates, python, import_lines)
    return {path: found.unread_devices[path] for path in sorted(candidates - imported.keys())}


def _unshipped_loads(
    files: list[IndexedFile], python: dict[str, Reader], main_blocks: Mapping[str, object]
) -> dict[str, tuple[int, int]]:
    """`unshipped_configs.unshipped_load` of the libraries' `__main__` blocks (modules other modules
    import), in a scan that sees the whole project: named files cannot tell that a path is not shipped."""
    libraries = sorted(path for path, imported in main_blocks.items() if imported is not None)
    if not libraries or not sees_project(files):
        return {}
    shipped = _reader("shipped_in")(frozenset(file.display for file in files))
    found = {path: _reader("unshipped_load")(path, _read_or_empty(python[path]), shipped) for path in libraries}
    return {path: where for path, where in found.items() if where is not None}


def _held_defaults(files: list[IndexedFile], found: _Found) -> dict[str, tuple[str, ...]]:
    """Module -> the parameters its functions give a literal default that nothing of the project gives
    a value (`held_defaults.held_defaults`), for the modules the catalog's prefilter passes: only they
    have sites a test of one guards."""
    candidates = {path: names for path, names in found.literal_defaults.items() if path in found.prefiltered}
    if not candidates:
        return {}
    code = {file.display: file.read for file in files if {FileKind.PYTHON, FileKind.NOTEBOOK} & set(file.kinds)}
    others = {
        file.display: file.read for file in files
        if (set(file.kinds) & _CONFIG_KINDS or not file.kinds) and not is_test_path(file.display)
    }
    return {path: tuple(sorted(names)) for path, names in _reader("held_defaults")(candidates, code, others).items()}


def _kept_on(files: list[IndexedFile], found: _Found) -> dict[str, frozenset[str]]:
    """Module -> the parameters its functions default to True that every caller keeps True
    (`kept_on.kept_on`), and those a function of a module the catalog's prefilter passes defaults to
    False that every call turns on, with the attributes that keep them (`always_passed.always_passed`)."""
    code = {file.display: file.read for file in files if {FileKind.PYTHON, FileKind.NOTEBOOK} & set(file.kinds)}
    kept = _reader("kept_on")(found.defaulted_on, code) if found.defaulted_on else {}
    candidates = {path: listed for path, listed in found.passed_on.items() if path in found.prefiltered}
    if candidates:
        for path, names in _reader("always_passed")(candidates, code).items():
            kept[path] = kept.get(path, frozenset()) | names
    return kept


def _cpu_parameters(files: list[IndexedFile], found: _Found) -> dict[str, frozenset[str]]:
    """Module -> the parameters of its functions that a call in another module hands a CPU switch
    (`cpu_handed.cpu_parameters`); nothing where no module hands one, as most projects."""
    if not found.handed_switches:
        return {}
    code = {file.display: file.read for file in files if FileKind.PYTHON in file.kinds}
    return _reader("cpu_parameters")(found.handed_switches, code, found.from_imports)


def _unread_settings(
    files: list[IndexedFile], found: _Found, catalog: Catalog, commands: Callable[[], DocumentedCommands]
) -> dict[str, tuple[str, ...]]:
    """`unread_settings.unread_settings` of the modules with backend settings, read against every
    Python module and notebook of a scan that sees the whole project (another file could read them),
    with the library-read ones of the modules no route gives the library (`unbuilt_configurations`)."""
    if not found.backend_settings or not sees_project(files):
        return {}
    code = {file.display: file.read for file in files if {FileKind.PYTHON, FileKind.NOTEBOOK} & set(file.kinds)}
    tables = [table for _, found_tables in catalog.tables("configuration_reader") for table in found_tables]
    libraries = _reader("library_read")(tables)
    unread = dict(_reader("unread_settings")(found.backend_settings, code, libraries))
    held = {path: kept for path, names in found.backend_settings.items() if (kept := tuple(set(names) & libraries))}
    if held:
        runs = [
            (command.folder, command.script, command.arguments) for command in commands().reached()
            if command.script and not is_test_path(command.source)
        ]
        unbuilt = _reader("unbuilt_configurations")(held, code, runs, _reader("library_builders")(tables))
        for path, names in unbuilt.items():
            unread[path] = tuple(sorted({*unread.get(path, ()), *names}))
    return unread


def _unread_keys(files: list[IndexedFile], catalog: Catalog, remember: Remember) -> dict[str, tuple[str, ...]]:
    """`unread_settings.unread_keys` of the YAML files outside the test suite with top-level CUDA
    device keys (`device_keys`), read against every Python module and notebook of a scan that sees the
    whole project (another file could read them)."""
    if not sees_project(files):
        return {}
    candidates = {
        file.display: keys for file in files
        if FileKind.MANIFEST in file.kinds and not is_test_path(file.display)
        and (keys := remember("device_keys", file.display, partial(_device_keys, file.read)))
    }
    if not candidates:
        return {}
    code = {file.display: file.read for file in files if {FileKind.PYTHON, FileKind.NOTEBOOK} & set(file.kinds)}
    libraries = _reader("library_read")(table for _, tables in catalog.tables("configuration_reader") for table in tables)
    return _reader("unread_keys")(candidates, code, libraries)


def _device_keys(read: Reader) -> tuple[str, ...]:
    """`unread_settings.device_keys` of a YAML file; none where it cannot be read (its analysis says why)."""
    return _reader("device_keys")(_read_or_empty(read))


def _unrun_libraries(
    files: list[IndexedFile], found: _Found, main_blocks: dict[str, tuple[Evidence, tuple[str, ...] | None] | None]
) -> tuple[dict[str, tuple[Evidence, tuple[str, ...] | None] | None], frozenset[str]]:
    """`main_blocks` with the package modules that no module imports and no file runs read as
    libraries imported whole (a configuration's `target: pkg.mod.Class` builds one of their classes;
    one nothing names at all is another path as a whole, `unnamed_scripts`), and the libraries that
    no file runs by their file or module name (`unnamed_scripts.run_scripts`): their `__main__`
    blocks are self-tests or demos. Read only in a scan that sees the whole project."""
    if not found.main_blocks or not sees_project(files):
        return main_blocks, frozenset()
    readers = {file.display: file.read for file in files}
    candidates = sorted(path for path in found.main_blocks if not is_test_path(path))
    run = _reader("run_scripts")(candidates, readers)
    named = {
        path for path in candidates
        if path not in main_blocks and path not in run and posixpath.basename(path) != "__init__.py"
    }
    whole: dict[str, tuple[Evidence, tuple[str, ...] | None] | None] = {
        path: (Evidence(path, 0, "no file of the project runs this module"), None) for path in sorted(named)
    }
    libraries = {**main_blocks, **whole}
    return libraries, frozenset(path for path in candidates if libraries.get(path) is not None and path not in run)


def _unnamed_scripts(
    files: list[IndexedFile], found: _Found, every_main_block: Mapping[str, object]
) -> dict[str, Evidence]:
    """`unnamed_scripts.unnamed_scripts` for the modules outside the test suite with a `__main__` block
    and no importer, read against every other file of a scan that sees the whole project (one given its
    documents): named files cannot tell that nothing names a script. Those the catalog's prefilter
    passes are another path; the others too import only on another path (`_unreached`)."""
    candidates = [
        path for path in sorted(found.main_blocks | found.other_main_blocks)
        if every_main_block.get(path) is None and not is_test_path(path)
    ]
    if not candidates or not sees_project(files):
        return {}
    return _reader("unnamed_scripts")(candidates, {file.display: file.read for file in files})


def _unnamed_examples(
    files: list[IndexedFile], python: dict[str, Reader], found: _Found, import_lines: dict[str, bytes]
) -> dict[str, Evidence]:
    """`unnamed_scripts.unnamed_scripts` for the example scripts beside an installable package: the
    modules without a `__main__` block that the catalog's prefilter passes, in the folder of an
    install declaration (`pyproject.toml`, `setup.py`) that holds a package they import, outside that
    package and the test suite, that no module imports, in a scan that sees the whole project. The
    project's product is the package; a script at its side that nothing names is an example a user
    finds and runs by hand (another path), as a script with a `__main__` block is."""
    if not found.prefiltered or not sees_project(files):
        return {}
    declared = {posixpath.dirname(file.display) for file in files if posixpath.basename(file.display) in INSTALL_DECLARATIONS}
    packages: dict[str, set[str]] = {}
    for path in python:
        if posixpath.basename(path) == "__init__.py":
            package = posixpath.dirname(path)
            packages.setdefault(posixpath.dirname(package), set()).add(posixpath.basename(package))
    candidates = [
        path for path in sorted(found.prefiltered)
        if posixpath.dirname(path) in declared and posixpath.dirname(path) in packages
        and path not in found.main_blocks and path not in found.other_main_blocks and not is_test_path(path)
        and posixpath.join(posixpath.dirname(path), "__init__.py") not in python
        and _imports_any(_read_or_empty(python[path]), packages[posixpath.dirname(path)])
    ]
    if not candidates:
        return {}
    imported = _reader("imported_modules")(candidates, python, import_lines)
    rest = [path for path in candidates if path not in imported]
    return _reader("unnamed_scripts")(rest, {file.display: file.read for file in files}) if rest else {}


def _side_scripts(
    files: list[IndexedFile], python: dict[str, Reader], found: _Found, import_lines: dict[str, bytes],
    commands: Callable[[], DocumentedCommands],
) -> dict[str, Evidence]:
    """`unnamed_scripts.unnamed_scripts` for the scripts that run at module level beside the project's
    routes: the modules without a `__main__` block that the catalog's prefilter passes, in a folder below
    the one of the project's top README, or in that folder itself where a command of the project's
    documents, shell scripts or workflows runs another of its scripts (`_runs_top_script`), and in no
    package, whose top level runs something (a call, a loop, a `with`: `unreached.runs_at_top_level`; a
    module of definitions is no script), outside the test suite, that no module imports, in a scan that
    sees the whole project. Such a script (`community/reproduce_crash.py`, a `demo_variant.py` beside the
    README's `python demo.py`, its statements at the top level) runs only where someone runs it by hand:
    nothing naming it, it is another path, as a script with a `__main__` block that nothing names is. At
    a top folder whose scripts no command runs, the scripts are the project, its README telling of them
    in prose."""
    readmes = [file.display for file in files if not file.kinds and posixpath.basename(file.display).lower() in _READMES]
    if not found.prefiltered or not readmes or not sees_project(files):
        return {}
    top = posixpath.dirname(min(readmes, key=lambda path: (path.count("/"), path)))
    candidates = [
        path for path in sorted(found.prefiltered)
        if (not top or path.startswith(top + "/"))
        and path not in found.main_blocks and path not in found.other_main_blocks and not is_test_path(path)
        and posixpath.join(posixpath.dirname(path), "__init__.py") not in python
    ]
    if any(posixpath.dirname(path) == top for path in candidates) and not _runs_top_script(python, top, commands):
        candidates = [path for path in candidates if posixpath.dirname(path) != top]
    # the folder's gate before any file's bytes: a module's top level is searched only where it may be one
    runs_at_top_level = _reader("runs_at_top_level")
    candidates = [path for path in candidates if runs_at_top_level(_read_or_empty(python[path]))]
    if not candidates:
        return {}
    imported = _reader("imported_modules")(candidates, python, import_lines)
    rest = [path for path in candidates if path not in imported]
    return _reader("unnamed_scripts")(rest, {file.display: file.read for file in files}) if rest else {}


def _runs_top_script(python: dict[str, Reader], top: str, commands: Callable[[], DocumentedCommands]) -> bool:
    """Whether a command of the project's documents, shell scripts, notebooks or workflows outside the
    test suite runs a module of the `top` folder by its path (`python demo.py`; not the build script,
    `python setup.py install`, which is no use of the project): the project's routes are then named,
    and a sibling nothing names is not one of them."""
    here = [path for path in python if posixpath.dirname(path) == top and posixpath.basename(path) not in BUILD_SCRIPTS]
    return bool(here) and bool(commands().python_run(here, lambda source: not is_test_path(source)))


def _imports_any(data: bytes, packages: Iterable[str]) -> bool:
    """Whether a module's bytes import one of `packages` (`import pkg`, `from pkg.models import Net`)."""
    return any(re.search(rb"^[ \t]*(?:from|import)[ \t]+" + re.escape(name.encode()) + rb"\b", data, re.MULTILINE) for name in packages)


def _stranded(files: list[IndexedFile], python: dict[str, Reader], imports: TopImports) -> dict[str, Evidence]:
    """`stranded.stranded_modules`: the modules of a copy of third-party code whose imports name a
    top-level package the project has only inside another package, read against the project's other
    files outside the test suite, in a scan that sees the whole project."""
    if not sees_project(files):
        return {}
    others = {
        file.display: file.read for file in files
        if FileKind.PYTHON not in file.kinds and not is_test_path(file.display)
    }
    return _reader("stranded_modules")(python, others, imports)


def _copied_projects(files: list[IndexedFile], python: dict[str, Reader]) -> dict[str, Evidence]:
    """`copied_projects.copied_project_files`: the files of a copied project that the project loads only
    through a local torch hub entry, or of a vendored program it imports only in part, that neither its
    `hubconf.py` nor the project's imports reach, in a scan that sees the whole project (one given its
    documents)."""
    if not sees_project(files):
        return {}
    others = {file.display: file.read for file in files if FileKind.PYTHON not in file.kinds}
    return _reader("copied_project_files")(python, others)


def _optional_modules(
    python: dict[str, Reader], found: _Found, remember: Remember, imports: TopImports, absent: frozenset[str]
) -> tuple[dict[str, Evidence], dict[str, Evidence]]:
    """`optional_modules.optional_modules` for the modules outside the test suite that the catalog's
    prefilter passes: those the project imports only where it goes on without them, less those that
    import wherever the project's base install is (`optional_modules.importable`); and of them, those
    whose own top-level import fails without a GPU (`optional_modules.failing_without_gpu`, through
    `unimportable.unimportable_modules`). The
    names each module's imports spell come from the cache, as the import graph's do (one reading for
    both); `absent` are the catalog's `[[absent_without_gpu]]` packages."""
    if not (found.prefiltered and found.tried_imports):
        return {}, {}

    def names(path: str) -> frozenset[str]:
        try:
            return frozenset(remember("import_paths:names", path, lambda: _reader("import_names")(python[path]())))
        except Exception:  # noqa: BLE001 - an unreadable module imports nothing here; its own analysis says why
            return frozenset()

    optional = _reader("optional_modules")(
        sorted(found.prefiltered), python, found.tried_imports, names, imports, _base_install(found), absent
    )
    return optional, _reader("failing_without_gpu")(
        optional, python, lambda missing: _reader("unimportable")(python, missing, imports), absent
    )


def _base_install(found: _Found) -> frozenset[str]:
    """The normalised distributions the project's base install declares: every dependency file's but
    the extras' (and the requirements files a setup.py assigns to an extra)."""
    assigned = {file for _, _, pairs, _ in found.declared.values() for _, file in pairs}
    return frozenset(name for path, (base, _, _, _) in found.declared.items() if path not in assigned for name in base)


def _without_gpu(
    other_paths: dict[str, tuple[tuple[str, Evidence], ...]], failing: dict[str, Evidence]
) -> dict[str, tuple[tuple[str, Evidence], ...]]:
    """The import graph's answer with the optional modules whose import fails without a GPU: the
    targets without a CUDA device never run them (ROCm may install the package: AMD's builds)."""
    if not failing:
        return other_paths
    merged = dict(other_paths)
    for path, evidence in failing.items():
        have = {target for target, _ in merged.get(path, ())}
        merged[path] = (*merged.get(path, ()), *((target, evidence) for target in TARGETS if target != "rocm" and target not in have))
    return merged


def _unnamed_files(
    files: list[IndexedFile],
    created: Mapping[str, tuple[str, int, bool]],
    python: dict[str, Reader],
    commands: Callable[[], DocumentedCommands],
) -> dict[str, Evidence]:
    """`references.unnamed_files` for the scan's Dockerfiles, its conda environment files and
    install scripts (`references.install_scripts`) where the project also declares an install of its
    own, and its notebooks where it also gives a route of its own (`_routes_beside_notebooks`), read
    against every other file of the scan and the project's documents (files of no kind); and
    `references.requirements_beside_environments`: its requirements files beside a conda environment
    file the README creates (`created`), which nothing else installs.
    Only a scan given documents sees the project (a folder's scan; `session.run_scan`): one of named
    files (pre-commit's staged files, one Dockerfile) cannot tell that nothing names a file, and
    judges none."""
    if all(file.kinds for file in files):
        return {}
    installs = any(_OWN_INSTALL_KINDS.intersection(file.kinds) for file in files)
    environments = [file.display for file in files if installs and FileKind.CONDA in file.kinds]
    scripts = _reader("install_scripts")(
        {file.display: file.read for file in files if FileKind.SHELL in file.kinds}
    ) if installs else []
    notebooks = [file.display for file in files if FileKind.NOTEBOOK in file.kinds]
    if notebooks and not _routes_beside_notebooks(files, python, commands):
        notebooks = []
    judged = [file.display for file in files if FileKind.DOCKERFILE in file.kinds] + environments + scripts + notebooks
    requirements = [file.display for file in files if FileKind.REQUIREMENTS in file.kinds]
    conda = [file.display for file in files if FileKind.CONDA in file.kinds]
    if not judged and not (requirements and conda):
        return {}
    top = posixpath.commonpath([file.display for file in files]) if len(files) > 1 else ""
    others = {file.display: file.read for file in files}
    found: dict[str, Evidence] = _reader("unnamed_files")(judged, others, top, environments + scripts) if judged else {}
    if requirements and conda:
        setups = [file.display for file in files if FileKind.SETUP in file.kinds]
        named = {path: why for path, why in created.items() if path not in found}
        found.update(_reader("requirements_beside_environments")(requirements, named, others, setups, top))
    return found


def _created_environments(files: list[IndexedFile]) -> dict[str, tuple[str, int, bool]]:
    """`references.created_environments` of the scan's conda environment files, in a scan that sees
    the project's documents."""
    conda = [file.display for file in files if FileKind.CONDA in file.kinds]
    if not conda or not sees_project(files):
        return {}
    top = posixpath.commonpath([file.display for file in files]) if len(files) > 1 else ""
    return _reader("created_environments")(conda, _readmes_by_folder(files), top)


def _routes_beside_notebooks(
    files: list[IndexedFile], python: dict[str, Reader], commands: Callable[[], DocumentedCommands]
) -> bool:
    """Whether the project gives a route of its own besides its notebooks: a package it installs
    (`setup.py`, `pyproject.toml`), or a script of its own that a user document runs (`python
    train.py`). A tutorial whose code is its notebook and the helper module it imports has none: the
    notebook is its route, named or not."""
    if any({FileKind.SETUP, FileKind.PYPROJECT} & set(file.kinds) for file in files):
        return True
    scripts = [path for path in python if not is_test_path(path)]
    return bool(scripts) and bool(commands().python_run(scripts, _user_document))


def _unincluded(files: list[IndexedFile], porting: PortingFacts | None) -> dict[str, str]:
    """`unincluded_headers.unincluded_headers` of the scan's C/C++ files, named against its other files.
    Only a scan given documents sees the project (`sees_project`): one of named files cannot tell
    that no source includes a header."""
    if porting is None or not sees_project(files):
        return {}
    others = {file.display: file.read for file in files if FileKind.CUDA not in file.kinds}
    top = posixpath.commonpath([file.display for file in files]) if len(files) > 1 else ""
    headers = _reader("unincluded_headers")(porting, others, within_project, top)
    return dict.fromkeys(sorted(headers), _reader("unincluded_why"))


def _threshold_calls(files: list[IndexedFile], found: _Found) -> dict[str, tuple[tuple[str, Any], ...]]:
    """Module -> (helper, `capability_arguments.passed_thresholds` of it) for each capability helper it
    defines whose every call in the project gives whole numbers; only a scan that sees the project
    sees every call."""
    if not found.threshold_helpers or not sees_project(files):
        return {}
    code = {file.display: file.read for file in files if FileKind.PYTHON in file.kinds}
    calls = _reader("passed_thresholds")(found.threshold_helpers, code)
    return {
        path: kept for path, helpers in found.threshold_helpers.items()
        if (kept := tuple((name, calls[name]) for name, _ in helpers if name in calls))
    }


def _dockerless_builds(files: list[IndexedFile]) -> dict[str, str]:
    """`references.dockerless_builds` of the scan's shell scripts, in a scan that sees the project."""
    scripts = {file.display: file.read for file in files if FileKind.SHELL in file.kinds}
    if not scripts or not sees_project(files):
        return {}
    top = posixpath.commonpath([file.display for file in files]) if len(files) > 1 else ""
    dockerfiles = [file.display for file in files if FileKind.DOCKERFILE in file.kinds]
    others = {file.display: file.read for file in files}
    return _reader("dockerless_builds")(scripts, dockerfiles, others, top)


def _cog_predictors(files: list[IndexedFile], python: dict[str, Reader]) -> dict[str, Evidence]:
    """`cog.gpu_predictors` for the scan's `cog.yaml` files: the modules a Cog GPU image serves."""
    configs = {file.display: file.read for file in files if _cog_config(file)}
    return _reader("cog_predictors")(configs, python) if configs else {}


def _hosted_notebooks(files: list[IndexedFile], python: dict[str, Reader], catalog: Catalog) -> dict[str, Evidence]:
    """`hosted_notebooks.hosted_notebooks` for the scan's notebooks, against its documents and notebooks,
    with the services of the catalog's `[[hosted_notebook]]` tables, in a scan that sees the whole project
    (one given its documents) and holds Python modules outside its test suite: a project whose only
    code is its notebooks has no other route."""
    notebooks = [file.display for file in files if FileKind.NOTEBOOK in file.kinds]
    if not notebooks or not sees_project(files) or all(is_test_path(path) for path in python):
        return {}
    services = {table["link"]: table["service"] for _, tables in catalog.tables("hosted_notebook") for table in tables}
    linking = {
        file.display: file.read for file in files
        if FileKind.NOTEBOOK in file.kinds or (not file.kinds and is_document(PurePosixPath(file.display)))
    }
    return _reader("hosted_notebooks")(notebooks, linking, services) if services else {}


def _pure_python(files: list[IndexedFile]) -> Evidence | None:
    """`compiled.pure_python` for the scan's build declarations, in a scan that sees the whole project
    (one given its documents, as `_unnamed_files` asks): named files may leave its sources out. Read
    where a Dockerfile or a workflow may install the project in a CUDA image."""
    if all(file.kinds for file in files) or not any({FileKind.DOCKERFILE, FileKind.WORKFLOW} & set(file.kinds) for file in files):
        return None
    declarations = {file.display: file.read for file in files if {FileKind.PYPROJECT, FileKind.SETUP} & set(file.kinds)}
    # Sources and declarations below a deeper folder with its own build declaration (an op's
    # `setup.py` beside its `.cu` files) are that package's, built by its own install, not the project's.
    folders = sorted({posixpath.dirname(path) for path in declarations}, key=lambda folder: (folder.count("/"), folder))
    own = tuple(folder for folder in folders[1:] if folder != folders[0])
    native = any({FileKind.CUDA, FileKind.CMAKE} & set(file.kinds) and not _under(file.display, own) for file in files)
    return _reader("pure_python")({path: read for path, read in declarations.items() if not _under(path, own)}, native)


def _home_repositories(files: list[IndexedFile]) -> tuple[str, ...]:
    """`home_repository.home_repositories` of the scan's build declarations, read where a Dockerfile may
    clone the project it belongs to."""
    if not any(FileKind.DOCKERFILE in file.kinds for file in files):
        return ()
    declarations = {file.display: file.read for file in files if {FileKind.PYPROJECT, FileKind.SETUP} & set(file.kinds)}
    return _reader("home_repositories")(declarations) if declarations else ()


_CONFIG_SUFFIXES = (".yaml", ".yml")
"""Configuration files that may build the project's classes by dotted path (`configured_calls.py`)."""
_OWN_INSTALL_KINDS = frozenset({FileKind.REQUIREMENTS, FileKind.PYPROJECT, FileKind.SETUP})
"""Files that declare an install of the project without conda."""


_NAMING_KINDS = frozenset({
    FileKind.PYTHON, FileKind.NOTEBOOK, FileKind.SHELL, FileKind.MAKEFILE, FileKind.MANIFEST, FileKind.COMPOSE,
    FileKind.WORKFLOW, FileKind.PYPROJECT, FileKind.SETUP, FileKind.DOCKERFILE,
})
"""Files that may import or name a Python module of the project: code, scripts, configurations."""


def _switched_off_packages(files: list[IndexedFile], catalog: Catalog) -> tuple[str, ...]:
    """`switched_off.switched_off_packages` of the catalog's pip packages named by a plain name (no
    pattern) that the scan's dependency files spell, read only in a folder's scan (one of named files
    cannot tell where the project imports a module, nor what its configurations turn on)."""
    if not sees_project(files):
        return ()
    declared = b"".join(
        _read_or_empty(file.read).lower() for file in files if set(file.kinds) & (_DECLARING_KINDS | {FileKind.CONDA})
    )
    code = {file.display: file.read for file in files if FileKind.PYTHON in file.kinds and not is_test_path(file.display)}
    others = {file.display: file.read for file in files if FileKind.PYTHON not in file.kinds}
    return tuple(_reader("switched_off_packages")(catalog, declared, code, others)) if declared else ()


def _unimported_bindings(files: list[IndexedFile], catalog: Catalog) -> tuple[str, ...]:
    """`unimported.unimported_bindings` over the project's code, read only in a folder's scan (one of
    named files cannot tell that nothing imports a module) whose dependency files spell a binding."""
    bindings = _reader("binding_tables")(catalog.tables("binding"))
    if not bindings or not sees_project(files):
        return ()
    declaring = [file for file in files if set(file.kinds) & _DECLARING_KINDS]

    def data(file: IndexedFile) -> bytes:
        try:
            return file.read()
        except Exception:  # noqa: BLE001 - an unreadable file declares nothing here; its own analysis says why
            return b""

    if not _reader("declares_one")(bindings, (data(file) for file in declaring)):
        return ()
    code = {file.display: file.read for file in files if set(file.kinds) & _CODE_KINDS}
    return tuple(_reader("unimported_bindings")(bindings, code))


_CODE_KINDS = frozenset({FileKind.PYTHON, FileKind.NOTEBOOK, FileKind.SHELL})
"""Files whose text may import a module or run a package's command."""


def _superseded_builds(python: dict[str, Reader]) -> dict[str, Evidence]:
    """`nested_builds.superseded_builds` for the scan's `setup.py` files: another `setup.py` above,
    or a run-time build of the same sources beside one."""
    scripts = {path: read for path, read in python.items() if posixpath.basename(path) == "setup.py"}
    return _reader("superseded_builds")(scripts, python) if scripts else {}


def _op_self_tests(
    main_blocks: dict[str, tuple[Evidence, tuple[str, ...] | None] | None], python: dict[str, Reader],
    commands: Callable[[], DocumentedCommands],
) -> dict[str, Evidence]:
    """`op_self_tests.op_self_tests` for the scripts with a `__main__` block that nothing imports,
    with the scan's `setup.py` files, but for the scripts a documented command runs (an install
    step's check is the user's, not the op developer's)."""
    unimported = [path for path, imported in main_blocks.items() if imported is None]
    if not unimported:
        return {}
    builds = {path: read for path, read in python.items() if posixpath.basename(path) == "setup.py"}
    if not builds:
        return {}
    found = _reader("op_self_tests")(unimported, builds)
    run = commands().python_run(found) if found else set()
    return {path: evidence for path, evidence in found.items() if path not in run}


def _extra_only(
    python: dict[str, Reader], found: _Found, imports: TopImports, default_entries: frozenset[str],
    readme_extras: frozenset[str],
) -> dict[str, Evidence]:
    """`extra_only.extra_only_modules`: the modules that need a package only an extra of the project
    installs, read only where some dependency file declares an extra. The modules of the registries' default entries (`registries`) are on the
    normal path, as console scripts are, and so are the extras the README at the top of the scan
    installs (`readme_extras`: `_readme_extras`)."""
    if not any(extras or assigned for _, extras, assigned, _ in found.declared.values()):
        return {}

    return _reader("extra_only_modules")(python, found.declared, imports, default_entries, readme_extras)


def _optional_requirements(files: list[IndexedFile], found: _Found) -> dict[str, Evidence]:
    """`optional_requirements.optional_files`: the requirements files that only turn an optional
    feature on, read where some requirements file's name names a feature, against the project's
    declarations (setup.py, pyproject.toml, setup.cfg) and the shallowest README."""
    feature = _reader("requirements_feature")
    requirements = [path for path, kind in found.installs.items() if kind is FileKind.REQUIREMENTS]
    if not any(feature(path) for path in requirements):
        return {}
    declarations: dict[str, str] = {}
    for file in files:
        if posixpath.basename(file.display) in INSTALL_DECLARATIONS:
            try:
                declarations[file.display] = decode_text(file.read())
            except Exception:  # noqa: BLE001 - an unreadable declaration reads nothing; its own analysis says why
                continue
    assigned = {path: extra for _, _, pairs, _ in found.declared.values() for extra, path in pairs}
    readme = "\n".join(_readmes(files, str).values())
    return _reader("optional_requirements")(requirements, found.include_paths, declarations, assigned, readme)


def _readme_extras(files: list[IndexedFile]) -> frozenset[str]:
    """The extras the shallowest README files of the scan (a document of no kind, `README.md`)
    install (`extra_only.readme_extras`)."""
    return frozenset().union(*_readmes(files, _reader("readme_extras")).values())


def _readme_examples(files: list[IndexedFile]) -> dict[str, bytes]:
    """The code of the shallowest README files' examples (`project_calls.readme_examples`), by path."""
    return {path: code for path, code in _readmes(files, _reader("readme_examples")).items() if code}


def _configured_calls(files: list[IndexedFile], defaults: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """`configured_calls.configured_calls` of each YAML file outside the test suite that spells a key naming a
    class and one of the names that default a parameter to CUDA (a byte search first), by path; an
    unreadable or malformed one is left out (its own analysis, if any, says why)."""
    names = frozenset(name for listed in defaults.values() for name in listed)
    words = [name.encode() for name in names]
    found: dict[str, Any] = {}
    for file in files:
        if not file.display.endswith(_CONFIG_SUFFIXES) or is_test_path(file.display):
            continue
        try:
            data = file.read()
            if not (b"target" in data or b"class_path" in data) or not any(word in data for word in words):
                continue
            calls = _reader("configured_calls")(decode_text(data), names)
        except Exception:  # noqa: BLE001 - an unreadable or malformed file calls nothing here
            continue
        if calls:
            found[file.display] = calls
    return found


def _opt_in_sources(files: list[IndexedFile], found: _Found, porting: PortingFacts | None) -> dict[str, Evidence]:
    """The C/C++ and CUDA sources the builds compile only where the installer opts in, and the headers
    only they include (`opt_in_builds`): less those whose switch every README install command sets."""
    builds = [build for build in found.builds.values() if build is not None and build.opt_in]
    if not builds:
        return {}
    commands = tuple(command for listed in _readmes(files, _reader("install_commands")).values() for command in listed)
    chosen: dict[str, Evidence] = {}
    for build in builds:
        chosen.update(_reader("opt_in_sources")(_reader("listed_opt_in")(build, found.sources), commands))
    return porting.included_only_by(chosen) if porting is not None and chosen else chosen


def _readmes(files: list[IndexedFile], read: Callable[[str], _T]) -> dict[str, _T]:
    """`read` of the text of each of the shallowest README files of the scan (a document of no kind,
    `README.md`), by path; an unreadable one is left out."""
    readmes = [file for file in files if not file.kinds and posixpath.basename(file.display).lower().startswith("readme")]
    if not readmes:
        return {}
    depth = min(file.display.count("/") for file in readmes)
    found: dict[str, _T] = {}
    for file in readmes:
        if file.display.count("/") == depth:
            try:
                found[file.display] = read(decode_text(file.read()))
            except Exception:  # noqa: BLE001 - an unreadable README names nothing
                continue
    return found


def _developer_folders(
    files: list[IndexedFile], python: dict[str, Reader], catalog: Catalog, elsewhere: frozenset[str]
) -> dict[str, Evidence]:
    """`developer_folders.developer_files` for the catalog's `[[developer_folder]]` tables (`benchmarks/`,
    `scripts/`), with the scan's documents (files of no kind) where it was given them (a folder's scan),
    less the modules the normal path imports (`opt_in_areas.unreached_in_areas`, star imports and
    imports through the folder's reached modules included): a top-level `tools/` package that the
    documented `infer.py` imports (`from tools.engine import run`) is the project's own code, not a
    developer's helper. The other developer folders' scripts reach nothing there, and neither do the
    modules of `elsewhere`, which the other readers judge off the normal path (an example script
    nothing names that imports `tools/plot.py` runs it only where someone runs the example)."""
    folders: dict[str, bool] = {}
    for _, tables in catalog.tables("developer_folder"):
        for table in tables:
            folders[table["folder"].lower()] = bool(table.get("unless_documented", False))
    documents = {file.display: file.read for file in files if not file.kinds}
    found = developer_files(
        (file.display for file in files), documents, python, folders, {file.display: file.read for file in files}
    )
    areas = tuple(sorted({evidence.path for path, evidence in found.items() if path in python}))
    if not areas:
        return found
    unreached = _reader("unreached_in_areas")(areas, python, frozenset(found) | elsewhere)
    return {path: evidence for path, evidence in found.items() if path not in python or path in unreached}


def _off_default_path(python: dict[str, Reader], catalog: Catalog, developer: Mapping[str, Evidence]) -> dict[str, Evidence]:
    """The modules of the project's opt-in areas (`opt_in_areas`; the folder names are the catalog's
    `[[opt_in_folder]]` tables) that nothing on the normal path imports (the developers' scripts,
    `developer`, are not on it); nothing where no folder is so named."""
    names = frozenset(table["folder"].lower() for _, tables in catalog.tables("opt_in_folder") for table in tables)
    areas = _reader("area_folders")(python, names) if names else ()
    return _reader("unreached_in_areas")(areas, python, frozenset(developer)) if areas else {}


def _main_blocks(
    candidates: set[str], python: dict[str, Reader], import_lines: dict[str, bytes]
) -> dict[str, tuple[Evidence, tuple[str, ...] | None] | None]:
    """Each module with a `__main__` block, with how other modules import it; a module nothing
    imports only outside a package (a package's module is importable API, whatever the scan imports).
    `import_lines` keeps each module's import lines for `_switched`'s reader."""
    if not candidates:
        return {}
    imported = _reader("imported_modules")(candidates, python, import_lines)
    return {
        path: imported.get(path) for path in sorted(candidates)
        if path in imported or posixpath.join(posixpath.dirname(path), "__init__.py") not in python
    }


def _settings_elsewhere(
    files: list[IndexedFile], python: dict[str, Reader], found: _Found, commands: Callable[[], DocumentedCommands]
) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """Module -> the settings its `if` headers test that another module declares off by default
    (`if cfg.common.profile:` with `profile: bool = False` in a config dataclass), where no module
    declares them with another default, the project's configuration files and scripts turn them
    on in one folder at most and its code outside the test suite never sets them; and the settings
    they turn on in more or the code sets (`opt_in.turned_on`, `opt_in.set_in_code`, read only when
    some setting is pending: the switched calls' as well)."""
    off, other = found.settings_off, found.settings_other
    tested = {path: frozenset(off.intersection(settings) - other) for path, settings in found.tested.items()}
    for path, keys in _yaml_settings(files, python, found, commands).items():
        tested[path] = tested.get(path, frozenset()) | keys
    pending = {setting for settings in tested.values() for setting in settings}
    pending |= {call[5] for calls in found.switched.values() for call in calls if call[5] in off} - other
    turned: frozenset[str] = frozenset()
    if pending:
        configs = {file.display: file.read for file in files if set(file.kinds) & _CONFIG_KINDS}
        code = {path: read for path, read in python.items() if not is_test_path(path)}
        turned = frozenset(_reader("turned_on")(pending, configs)) | frozenset(_reader("set_in_code")(pending, code))
    return {path: settings - turned for path, settings in tested.items() if settings - turned}, turned


def _yaml_settings(
    files: list[IndexedFile], python: dict[str, Reader], found: _Found, commands: Callable[[], DocumentedCommands]
) -> dict[str, frozenset[str]]:
    """Module -> the keys its `if` headers test of a configuration it loads from YAML (`if
    cfg.train.use_extra:`, `if cfg.train.resume is not None:`) that every YAML file it may load and
    that names them leaves off (`kept_off.off_in_yaml`), where no module declares them as settings of
    its own and, for a test against None, no code gives them a value (`kept_off.given_in_code`). The
    files it may load are those its documented commands name for the option that chooses one
    (`--yaml custom_train` -> `custom_train.yaml`), its parser's default where a command gives none
    or no command runs it (`_chosen_yaml`); where that is not known, every shipped YAML file. Only a module the catalog's prefilter passes is read: only it has sites such a
    test guards."""
    tests = _reader("yaml_tests")
    declared = found.settings_off | found.settings_other
    read: dict[str, tuple[frozenset[str], frozenset[str], str | None, str | None]] = {}
    for path in sorted(found.prefiltered):
        if path in python and not is_test_path(path):
            loaded = tests(_read_or_empty(python[path]))
            truth = frozenset(found.tested.get(path, ())) - declared
            if loaded is not None and (truth or loaded.against_none - declared):
                read[path] = (truth, loaded.against_none - declared, loaded.option, loaded.default)
    if not read:
        return {}
    yamls = {
        file.display: file.read for file in files
        if file.display.endswith((".yaml", ".yml")) and not is_test_path(file.display)
    }
    compared = frozenset(key for _, against_none, _, _ in read.values() for key in against_none)
    given = _reader("given_in_code")(compared, python) if compared else frozenset()
    runs = _reader("documented_runs")(commands()) if any(option for _, _, option, _ in read.values()) else {}
    result: dict[str, frozenset[str]] = {}
    for path, (truth, against_none, option, default) in read.items():
        names = _chosen_yaml(option, default, runs.get(posixpath.basename(path), []))
        chosen = {display: yaml for display, yaml in yamls.items() if any(_names_file(display, name) for name in names)}
        if not names or not all(any(_names_file(display, name) for display in chosen) for name in names):
            chosen = yamls  # no option, or a name no shipped file answers: the file is not known
        keys = {key: key in against_none for key in truth | against_none if not (key in against_none and key in given)}
        if keys and (off := _reader("off_in_yaml")(keys, chosen)):
            result[path] = off
    return result


def _chosen_yaml(option: str | None, default: str | None, runs: list[dict[str, str | int | None]]) -> frozenset[str]:
    """The names of the YAML files a module loads on its documented runs (`documented_runs`: each
    command's value of `option`, or `default` where it gives none) or, with none, by `default`; none
    where one of them is not known (an option a command fills in from the shell, no default)."""
    if option is None:
        return frozenset()
    names = [run.get(option, default) for run in runs] if runs else [default]
    return frozenset(str(name) for name in names) if None not in names else frozenset()


def _names_file(display: str, name: str) -> bool:
    """Whether `name` (`custom_train`, `configs/custom_train.yaml`) names the YAML file at `display`."""
    base = name.rsplit(".", 1)[0] if name.endswith((".yaml", ".yml")) else name
    return ("/" + display.rsplit(".", 1)[0]).endswith("/" + base.lstrip("./"))


def _read_groups(found: _Found, commands: Callable[[], DocumentedCommands]) -> None:
    """A params group's settings (`opt_in._grouped`) are read from whatever object holds the group
    (`if pipe.exact_cov:`): tested there as an argument object's are. One a documented command passes
    (`python train.py --exact_cov`, any script: each parses the group) is on in the use the project
    offers, declared with another default."""
    passed = set().union(*_reader("documented_flags")(commands()).values())
    on = found.grouped & passed
    found.settings_off -= on
    found.settings_other |= on
    for path, loosely in found.loosely_tested.items():
        if found.grouped.intersection(loosely) - on:
            found.tested[path] = tuple(sorted({*found.tested.get(path, ()), *(found.grouped.intersection(loosely) - on)}))


def _documented_on(
    python: dict[str, Reader], found: _Found, settings: Mapping[str, frozenset[str]],
    commands: Callable[[], DocumentedCommands],
) -> dict[str, frozenset[str]]:
    """Module -> the settings off by default that it tests and that a flag the documented commands
    pass turns on (`documented_flags`): `if config.THROUGHPUT_MODE:` in `main.py`, which the docs run
    with `--throughput`, is its normal path there, while a sibling script no documented command runs
    so keeps it as another path. A module no documented command runs (`models.py`, handed the `opt`
    of `train.py --fp16`) takes its settings from whichever script imports it: a flag any documented
    command passes turns the setting on there."""
    tested = {path: set(names) for path, names in settings.items()}
    for path, calls in found.switched.items():
        tested.setdefault(path, set()).update(name for call in calls for name in _switch_names(call))
    if not tested:
        return {}
    flags = _reader("documented_flags")(commands())
    if not flags:
        return {}
    passed = frozenset().union(*flags.values())
    scripts = _reader("documented_runs")(commands())
    code = {path: read for path, read in python.items() if not is_test_path(path)}
    turning = _reader("flag_settings")(code)
    found_on = {
        path: frozenset(name for name in names if (turning.get(name, frozenset()) | {name}) & (
            flags.get(posixpath.basename(path), frozenset()) if posixpath.basename(path) in scripts else passed
        ))
        for path, names in tested.items()
    }
    return {path: names for path, names in found_on.items() if names}


_HEADER_ATTRIBUTE = re.compile(r"\.([A-Za-z_]\w*)")


def _switch_names(call: tuple[Any, ...]) -> set[str]:
    """The names under which a switched call's switch may be turned on: the setting it tests, or, for
    a switch the module declares itself (a `store_true` option: `if opt.gui:`), the attributes its
    header reads, each the name of the option that a documented `--gui` sets."""
    return {call[5]} if call[5] else set(_HEADER_ATTRIBUTE.findall(call[4]))


def _launched_by_default(
    files: list[IndexedFile], python: dict[str, Reader], found: _Found
) -> dict[str, frozenset[str]]:
    """Module -> the multi-process switches its `if` headers test (`if config.distributed:`) that a
    configuration table or YAML file of the project turns on and nothing outside the test suite keeps
    off or leaves to the user (`launch_switches.switches_on`)."""
    tested = {setting for settings in found.tested.values() for setting in settings}
    code = {path: read for path, read in python.items() if not is_test_path(path)}
    configs = {
        file.display: file.read for file in files if FileKind.MANIFEST in file.kinds and not is_test_path(file.display)
    }
    on = _reader("switches_on")(tested, code, configs)
    return {path: frozenset(on.intersection(settings)) for path, settings in found.tested.items() if on.intersection(settings)}


def _always_launched(
    files: list[IndexedFile], python: dict[str, Reader], found: _Found, imports: TopImports,
    commands: Callable[[], DocumentedCommands],
) -> dict[str, Launch]:
    """`launched_entries.always_launched` for the scripts (modules with a `__main__` block) and console
    scripts of a scan that sees the whole project, where some module tests a launch: the routes every
    documented command, or every command of one use, starts under a launcher of several processes."""
    if not sees_project(files):
        return {}
    modules = module_map(python)
    by_name = {modules.name(path): path for path in python}
    declarations = [_read_or_empty(file.read) for file in files if posixpath.basename(file.display) in INSTALL_DECLARATIONS]
    scripts = {
        name: by_name[module] for name, module in _reader("console_scripts")(declarations).items() if module in by_name
    }
    entries = sorted(path for path in found.main_blocks | found.other_main_blocks if not is_test_path(path))
    if not (entries or scripts):
        return {}

    def importers() -> dict[str, set[str]]:
        return _reader("top_level_importers")(modules, sorted(python), imports)

    def code(path: str) -> bytes:
        return _read_or_empty(python[path]) if path in python else b""

    return _reader("always_launched")(entries, scripts, commands(), importers, code)


def _settings_documented(
    files: list[IndexedFile], python: dict[str, Reader], found: _Found, imports: TopImports,
    commands: Callable[[], DocumentedCommands],
) -> dict[str, tuple[tuple[str, SettingValue], ...]]:
    """Module -> (option, value) for each option of several values that every documented command of
    every entry whose route reaches the module gives the same value (`--launcher pytorch` in each
    training and test command: the launcher's arm is their normal path, `if args.launcher ==
    "none":` the user's choice; `documented_flags.documented_values`), in a scan that sees the whole
    project where some module declares a setting of several values. An entry whose file name several
    entries share is left out: which one a command runs is not known."""
    if not (found.choices and sees_project(files)):
        return {}
    values = _reader("documented_values")(commands())
    if not any(values.values()):
        return {}
    entries = frozenset(path for path in found.main_blocks | found.other_main_blocks if not is_test_path(path))
    run = {path: values[name] for name, path in _by_unique_file_name(entries).items() if name in values}
    pairs = {pair for given in run.values() for pair in given.items()}
    modules = module_map(python)
    importers = _reader("top_level_importers")(modules, sorted(python), imports)
    found_values: dict[str, dict[str, SettingValue]] = {}
    for option, value in sorted(pairs, key=repr):
        giving = [entry for entry, given in run.items() if given.get(option) == value]
        routes = _reader("only_routes")(giving, importers, entries, entries - run.keys())
        for module in routes:
            found_values.setdefault(module, {})[option] = value
    return {module: tuple(sorted(given.items())) for module, given in found_values.items()}


def _cpu_routes(
    files: list[IndexedFile], python: dict[str, Reader], commands: Callable[[], DocumentedCommands]
) -> dict[str, frozenset[str]]:
    """Module -> the options (`device`) a documented command outside the test suite sets to `cpu` where
    it runs the module as a script (`documented_flags.cpu_options`), in a scan that sees the whole
    project. A script whose file name another module of the project shares is left out: which one a
    command runs is not known."""
    if not sees_project(files):
        return {}
    given = _reader("cpu_options")(commands())
    if not given:
        return {}
    scripts = _by_unique_file_name(path for path in python if not is_test_path(path))
    return {path: given[name] for name, path in scripts.items() if name in given}


def _by_unique_file_name(paths: Iterable[str]) -> dict[str, str]:
    """File name (`train.py`) -> the one of `paths` that has it, for the names no other of `paths`
    shares: a command that runs `python train.py` runs that file."""
    by_file: dict[str, list[str]] = {}
    for path in sorted(paths):
        by_file.setdefault(posixpath.basename(path), []).append(path)
    return {name: found[0] for name, found in by_file.items() if len(found) == 1}


def _documented_scripts(python: dict[str, Reader], commands: Callable[[], DocumentedCommands]) -> frozenset[str]:
    """The modules named like tests (`filekinds.is_named_test`) that a command of a document outside
    the test suite runs by path (`python test_denoise.py --save` in a task folder's README): scripts the
    users run. A workflow or a shell script running one is the project's own coverage, not read here."""
    named = [path for path in python if is_named_test(path)]
    if not named:
        return frozenset()
    return frozenset(commands().python_run(named, _user_document))


def _multi_gpu_siblings(python: dict[str, Reader], commands: Callable[[], DocumentedCommands]) -> dict[str, Evidence]:
    """`multi_gpu_routes.multi_gpu_siblings` for the project's modules outside the test suite: the
    scripts its documents introduce as the multi-GPU way beside a single-process one."""
    known = [path for path in python if not is_test_path(path)]
    return _reader("multi_gpu_siblings")(commands(), known) if known else {}


def _user_document(source: str) -> bool:
    """Whether the file at `source` is a document of the project's users: prose outside the test suite."""
    return is_document(PurePosixPath(source)) and not is_test_path(source)


def _documented_commands(files: list[IndexedFile]) -> Callable[[], DocumentedCommands]:
    """The reading of the commands the project's documents, scripts, notebooks and workflows give
    (`documented_commands`), made once, when a reader first asks; a command line may also start
    with one of the project's console scripts."""
    made: list[DocumentedCommands] = []

    def commands() -> DocumentedCommands:
        if not made:
            sources = {
                file.display: file.read for file in files
                if file.display.endswith(_COMMAND_FILES) or {FileKind.WORKFLOW, FileKind.SHELL} & set(file.kinds)
            }
            declarations = [_read_or_empty(file.read) for file in files if posixpath.basename(file.display) in INSTALL_DECLARATIONS]
            made.append(DocumentedCommands(sources, _reader("console_scripts")(declarations) if sees_project(files) else ()))
        return made[0]

    return commands


_COMMAND_FILES = (".md", ".mdx", ".markdown", ".rst", ".txt", ".sh", ".bash", ".ipynb")
"""The files whose lines may run a script: documents, shell scripts and notebooks."""


def _never_trained(files: list[IndexedFile], python: dict[str, Reader], off: Mapping[str, Evidence]) -> bool:
    """Whether no Python module of the project's normal path (outside the test suite and `off`, the
    files off that path) differentiates (`inference_only.trains`), in a scan that sees the whole
    project (a scan of named files cannot tell) of a project with no install declaration at its top
    (an installable library's users train with it)."""
    if not python or not sees_project(files):
        return False
    if _installable(files):
        return False  # a library: its users train with it
    trains = _reader("trains")
    return not any(trains(_read_or_empty(read)) for path, read in python.items() if not is_test_path(path) and path not in off)


def _named_nowhere(files: list[IndexedFile], found: _Found) -> dict[str, frozenset[str]]:
    """`project_calls.named_nowhere` of the modules' CUDA defaults against the scan's files outside the
    test suite, in an application whose whole project the scan sees (a library's users call its
    functions from outside; a scan of named files cannot tell that nothing names one)."""
    if not found.cuda_defaults or not sees_project(files) or _installable(files):
        return {}
    others = {file.display: file.read for file in files if not is_test_path(file.display)}
    return _reader("named_nowhere")(found.cuda_defaults, others)


def _installable(files: list[IndexedFile]) -> bool:
    """Whether the project declares an install at its top (`setup.py`, `pyproject.toml`): a library,
    whose users call its functions with what they choose."""
    top = min(file.display.count("/") for file in files)
    return any({FileKind.SETUP, FileKind.PYPROJECT} & set(file.kinds) and file.display.count("/") == top for file in files)


def _read_or_empty(read: Reader) -> bytes:
    """The bytes `read` gives, or none where the file cannot be read (its own analysis says why)."""
    try:
        return read()
    except Exception:  # noqa: BLE001 - an unreadable declaration declares nothing
        return b""


def _switches_elsewhere(
    files: list[IndexedFile], python: dict[str, Reader], found: _Found
) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """Module -> the names its tests read that hold a switch the user turns on, set up elsewhere:
    parameters every caller hands one (`switch_parameters`), parameters that default to False and
    that nothing in the project turns on, with the attributes that keep them (`kept_off`), and the
    entries of a table of lazy environment lookups (`environment_tables`); with the `kept_off` names
    alone, less those a configuration's key hands its value (a setting, which a user may turn on)."""
    readings = []
    kept: dict[str, frozenset[str]] = {}
    if found.passed:
        readings.append(_reader("switch_parameters")(python, found.passed))
    # Only a module the catalog's prefilter passes has sites a switch can guard, or imports a module
    # that has them under one.
    candidates = {path: names for path, names in found.defaulted_off.items() if path in found.prefiltered}
    if candidates:
        code = {file.display: file.read for file in files if {FileKind.PYTHON, FileKind.NOTEBOOK} & set(file.kinds)}
        others = {
            file.display: file.read for file in files
            if (set(file.kinds) & _CONFIG_KINDS or not file.kinds) and not is_test_path(file.display)
        }
        reading = _reader("kept_off")(candidates, code, others, found.off_lookups)
        readings.append(reading.by_module)
        kept = {path: kept for path, names in reading.by_module.items() if (kept := names - reading.configured)}
    if found.environment_tables:
        configs = {file.display: file.read for file in files if set(file.kinds) & _CONFIG_KINDS}
        readings.append(_reader("switch_readers")(
            python, found.environment_tables, lambda names: _reader("turned_on")(names, configs)
        ))
    merged: dict[str, frozenset[str]] = {}
    for reading in readings:
        for path, names in reading.items():
            merged[path] = merged.get(path, frozenset()) | names
    return merged, kept


def _chosen_elsewhere(
    files: list[IndexedFile], python: dict[str, Reader], found: _Found
) -> dict[str, tuple[tuple[str, SettingValue], ...]]:
    """`choice_settings.chosen_elsewhere` for the modules the catalog's prefilter passes, where some
    module declares a setting of several values."""
    if not (found.choices and found.prefiltered):
        return {}
    configs = {file.display: file.read for file in files if set(file.kinds) & _CONFIG_KINDS}
    return _reader("chosen_elsewhere")(
        found.choices, frozenset(found.settings_off), sorted(found.prefiltered), python, configs
    )


def _with_one_rank(
    chosen: dict[str, tuple[tuple[str, SettingValue], ...]],
    files: list[IndexedFile], python: dict[str, Reader], found: _Found, catalog: Catalog,
) -> dict[str, tuple[tuple[str, SettingValue], ...]]:
    """`chosen`, and, where every configuration, script, document and declaration of the project
    keeps the model-parallel sizes at one rank (`parallel_sizes.one_rank`), the sizes, ranks and
    their queries as settings of each module the catalog's prefilter passes, where the module's
    own reading has no entry of the name: a branch only a model-parallel launch takes is another path."""
    if not (found.prefiltered and sees_project(files)):
        return chosen
    readable = {
        file.display: file.read for file in files
        if (set(file.kinds) & _CONFIG_KINDS or not file.kinds) and not is_test_path(file.display)
    }
    readable.update((path, read) for path, read in python.items() if not is_test_path(path))
    settings = _reader("model_parallel_settings")(catalog.tables("model_parallel"), readable, found.choices)
    if not settings:
        return chosen
    merged = dict(chosen)
    for path in sorted(found.prefiltered):
        own = dict(merged.get(path, ()))
        merged[path] = tuple(sorted({**dict(settings), **own}.items()))
    return merged


def _switched(
    python: dict[str, Reader], found: _Found, catalog: Catalog, import_lines: dict[str, bytes],
    settings: Mapping[str, frozenset[str]], turned: frozenset[str], switches: Mapping[str, frozenset[str]],
    documented_on: Mapping[str, frozenset[str]],
) -> dict[str, tuple[tuple[str, Evidence], ...]]:
    """`opt_in.switched_definitions`, with the settings another module declares off by default
    (`settings`, by the module that tests them; `turned`, those the project turns on in its
    configuration files and scripts) and the names the index found to hold a switch (`switches`,
    `_switches_elsewhere`), read as the module's own; `import_lines` keeps each module's import
    lines for `_main_blocks`' reader; `documented_on` the settings a script's documented commands
    turn on, which switch nothing there."""
    readings = {
        path: kept for path, calls in found.switched.items()
        if (kept := _not_documented_on(calls, documented_on.get(path, frozenset())))
    }
    for path, tested in settings.items():
        own = switches.get(path, frozenset())
        try:
            calls = () if path in readings or not tested - own else _reader("settings_calls")(python[path](), tested - own)
            if own:  # a module with switches of its own read the settings it tests with them, not these
                known = {call[0] for call in readings.get(path, ())}
                calls = (*calls, *(call for call in _reader("switched_by")(python[path](), own) if call[0] not in known))
        except Exception:  # noqa: BLE001 - an unreadable module calls nothing here; its own analysis says why
            continue
        if calls:
            readings[path] = tuple(sorted({*readings.get(path, ()), *calls}))
    if not readings:
        return {}
    return _reader("switched_definitions")(
        python, readings, (frozenset(found.settings_off), frozenset(found.settings_other | turned)),
        lambda data: catalog.may_match(FileKind.PYTHON.value, data),
        import_lines,
        _reader("dispatched_methods")(catalog),
    )


def _not_documented_on(calls: tuple[Any, ...], turned_on: frozenset[str]) -> tuple[Any, ...]:
    """The switched calls of a script whose names no documented command reaches: a name called under
    a switch a documented command turns on (`if opt.gui: NeRFGUI(...)` run with `--gui`) is on the
    normal path there, whatever other switches the script calls it under (`if opt.test: ... if
    opt.gui: NeRFGUI(...)`, with `--test` never passed)."""
    if not turned_on:
        return calls
    reached = {call[0] for call in calls if _switch_names(call) & turned_on}
    return tuple(call for call in calls if call[0] not in reached)


def _with_registered(
    switched: dict[str, tuple[tuple[str, Evidence], ...]], registered: dict[str, tuple[tuple[str, Evidence], ...]]
) -> dict[str, tuple[tuple[str, Evidence], ...]]:
    """The definitions used only under a switch (`opt_in`), with those chosen only by a name that is not
    the default of their registry (`registries`): both are another path, read the same way."""
    merged = dict(switched)
    for path, names in registered.items():
        known = {name for name, _ in merged.get(path, ())}
        merged[path] = (*merged.get(path, ()), *(item for item in names if item[0] not in known))
    return merged


_CONFIG_KINDS = frozenset({FileKind.MANIFEST, FileKind.SHELL, FileKind.MAKEFILE})
"""Where a project turns its training settings on: YAML configurations and the scripts that run it."""

CONTEXT_KINDS = frozenset({FileKind.WORKFLOW})
"""Kinds whose question spans every file of the kind ("does any workflow run on CPU or ROCm?"): a
scan of named files indexes the other files of these kinds in their folders too."""

_READ_KINDS = frozenset(
    {FileKind.CUDA, FileKind.CMAKE, FileKind.WORKFLOW, FileKind.PYPROJECT, FileKind.SETUP, FileKind.REQUIREMENTS,
     FileKind.CONDA, FileKind.PIXI, FileKind.DOCKERFILE}
)


def _wanted(kind: FileKind, path: str) -> bool:
    """Whether the index reads a file of `kind`: every Python module for its device flags (a byte
    search, most of the time), build scripts for their ROCm build too."""
    return kind in _READ_KINDS or kind is FileKind.PYTHON


class _Source:
    """A file's bytes for the readers, read on first use: an answer from the cache needs none.
    Raises `UnreadableFile`, or ValueError for binary data (NUL bytes), which no reader reads."""

    def __init__(self, read: Reader) -> None:
        self._read = read
        self._data: bytes | None = None

    def __call__(self) -> bytes:
        if self._data is None:
            data = self._read()
            if b"\0" in data:
                raise ValueError("binary data")
            self._data = data
        return self._data


@dataclass
class _Found:
    """What the readers found so far, file by file."""

    follows_callers: bool = True
    """Whether the scan sees the whole project, whose other modules' uses of a module's definitions the
    index reads (`callers.py`): one of named files does not, and reads no definitions."""
    sources: dict[str, Any] = field(default_factory=dict)
    """Display path -> `porting_layer.SourceFacts` of each C/C++ file."""
    builds: dict[str, RocmBuild | None] = field(default_factory=dict)
    variants: list[Counterpart] = field(default_factory=list)
    included: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    include_paths: dict[str, frozenset[str]] = field(default_factory=dict)
    workflows: list[tuple[str, bool, bool, bool]] = field(default_factory=list)
    cuda_images: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Dockerfile -> (line, image) of the CUDA image it is built on, when it has no ROCm stage."""
    flags: list[tuple[str, str, tuple[tuple[str, str | None], ...]]] = field(default_factory=list)
    """(display path, flag name, what a test of the flag probes) for each device flag found."""
    conftests: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    faking_fixtures: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    """Folder -> (name, autouse) of the fixtures its `conftest.py` serves that fake a CUDA device probe."""
    left_out_marks: dict[str, set[str]] = field(default_factory=dict)
    """Folder -> the custom pytest marks its `conftest.py` skips or its configuration deselects."""
    deselected_marks: dict[str, set[str]] = field(default_factory=dict)
    """Folder -> the custom pytest marks its configuration deselects."""
    ignored: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """Folder -> what its `conftest.py` leaves out of collection without CUDA, calls not yet resolved."""
    configured: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """Folder -> what the pytest configuration files in it leave out of every run."""
    markers: list[tuple[str, str, tuple[bool | None, bool | None]]] = field(default_factory=list)
    """(display path, marker name, where it skips) for each skip marker of a shared module."""
    package_flags: list[tuple[str, str, tuple[str, str]]] = field(default_factory=list)
    """(display path, probe name, (the flag it copies or "", the packages it needs or "")) for each
    flag and probe function of a package (`package_probes.py`)."""
    releases: list[tuple[str, str]] = field(default_factory=list)
    """(library, declared range) for the catalog's release-bound libraries, in every dependency file."""
    switched: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    """Display path -> the switched calls (`opt_in.read_switches`) of each module that has any."""
    settings_off: set[str] = field(default_factory=set)
    """Settings some module declares off by default (`use_x: bool = False` in an argument class)."""
    choices: dict[str, tuple[tuple[str, SettingValue], ...]] = field(default_factory=dict)
    """Display path -> `choice_settings.declared_choices` of each module outside the test suite that declares any."""
    settings_other: set[str] = field(default_factory=set)
    """Settings some module declares with another default."""
    cuda_defaults: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Display path -> `project_calls.cuda_defaults` of each module that has such names, its methods aside."""
    default_methods: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Display path -> `project_calls.cuda_defaults` of each module outside the test suite that names a
    public method (`.grid_priors`) among them."""
    from_imports: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    """Display path -> `project_calls.from_imports` of each module that has some."""
    fallbacks: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    """Display path -> `fallback_callees.device_fallbacks` of each module that has some."""
    loaders: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    """Display path -> `module_loaders.module_loaders` of each module that has some."""
    definitions: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    """Display path -> `callers.definitions` of each module outside the test suite the prefilter passes,
    where the scan sees the whole project (`follows_callers`)."""
    registrations: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    """Display path -> `registries.read_registrations` of each module that registers definitions by name."""
    tables: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    """Display path -> `registries.read_tables` of each module outside the test suite that keeps a
    table of implementations keyed by strings."""
    defaulted_on: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Display path -> the parameters its signatures default to True that it tests alone (`kept_on.defaulted_on`)."""
    threshold_helpers: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = field(default_factory=dict)
    """Display path -> `capability_arguments.threshold_helpers` of each module outside the test suite that has any."""
    handed_switches: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """Display path -> `cpu_handed.handed_switches` of each module outside the test suite that has any."""
    passed_on: dict[str, tuple[tuple[str, str, int, str], ...]] = field(default_factory=dict)
    """Display path -> the parameters its signatures default to False that it tests, or keeps in an
    attribute it tests, with their function's name and place (`always_passed.passed_on_candidates`)."""
    defaulted_off: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """Display path -> the parameters its signatures default to False that it tests, and the attributes
    it keeps them in (`kept_off.defaulted_off`)."""
    literal_defaults: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Display path -> the parameters its signatures give a literal default (a string, a number, True)
    that it tests (`held_defaults.literal_defaults`)."""
    off_lookups: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """Display path -> the attributes of `self` it sets from a configuration's lookup with an off
    default, with their keys (`kept_off.off_lookups`)."""
    unread_devices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Display path -> `unread_devices.unread_devices` of each module outside the test suite that has some."""
    backend_settings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Display path -> `unread_settings.backend_settings` of each module outside the test suite that has some."""
    tested: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Display path -> the settings its `if` headers read from argument objects, in a module that
    declares no switch of its own."""
    loosely_tested: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Display path -> the settings its `if` headers read from other objects (`if pipe.debug:`), which
    count only where a params group declares them (`grouped`)."""
    grouped: set[str] = field(default_factory=set)
    """The settings a params group declares off by default (`opt_in._grouped`)."""
    environment_tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Display path -> `environment_tables.environment_switches` of each module outside the test suite
    that keeps a table of lazy environment lookups with switches among them."""
    passed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Display path -> `switch_parameters.passed_switches` of each module outside the test suite that
    passes a keyword an environment switch."""
    main_blocks: set[str] = field(default_factory=set)
    """Python modules with an `if __name__ == "__main__":` block that the catalog's prefilter passes."""
    other_main_blocks: set[str] = field(default_factory=set)
    """The other modules with such a block: their calls of the project's functions are read
    (`project_calls.calls_elsewhere`), their own sites are none."""
    prefiltered: set[str] = field(default_factory=set)
    """Python modules outside the test suite that the catalog's prefilter passes."""
    installs: dict[str, FileKind] = field(default_factory=dict)
    """The dependency declarations (requirements, pyproject, setup, conda files) of the scan."""
    declared: dict[str, Any] = field(default_factory=dict)
    """Display path -> `declared.declared_dependencies` of each requirements, pyproject or setup file."""
    tried_imports: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    """Display path -> `optional_modules.tried_imports` of each module outside the test suite that has
    some: imports inside a `try` that goes on where they fail."""
    named_sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Display path -> the C/C++ sources a module outside the test suite names (`extension_routes.named_sources`)."""
    jit_builds: dict[str, Any] = field(default_factory=dict)
    """Display path -> the module's JIT-build loaders and its calls naming sources (`jit_builds.read_jit`)."""
    unbuilt: list[tuple[str, Evidence, bool, bool]] = field(default_factory=list)
    """`unbuilt_extensions.unbuilt_extensions` of every `setup.py`."""
    saved: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    """Display path -> `checkpoint_writers.saved_files` of each `.py` module outside the test suite that
    saves a checkpoint to a literal file name."""
    loaded: dict[str, tuple[tuple[int, int, str], ...]] = field(default_factory=dict)
    """Display path -> `shipped_checkpoints.loaded_files` of each `.py` module outside the test suite
    that loads a file it spells from its own folder."""
    cuda_extensions: set[str] = field(default_factory=set)
    """The modules the `setup.py` files build as CUDA extensions (`unimportable.cuda_extensions`) and the
    Python modules the CMake files build with CUDA (`cmake.cmake_cuda_extensions`)."""

    def read(
        self, path: str, kind: FileKind, data: _Source, catalog: Catalog, roots: tuple[str, ...], remember: Remember
    ) -> None:
        if kind is FileKind.CUDA:
            self.sources[path] = remember(
                "source", path, lambda: _reader("source")(path, data(), _reader("api_table")(catalog))
            )
        elif kind is FileKind.PYTHON:
            if posixpath.basename(path) == "setup.py":
                build = remember("build", path, lambda: _reader("build")(path, decode_python(data())))
                self._add_build(path, build)
                self.unbuilt.extend(remember("unbuilt", path, lambda: _reader("unbuilt")(path, decode_python(data()))))
                self.cuda_extensions.update(
                    remember("cuda_extensions", path, lambda: _reader("cuda_extensions")(path, decode_python(data())))
                )
            flags = remember("device_flags", path, lambda: _reader("flags")(path, data()))
            self.flags.extend((path, name, meaning) for name, meaning in flags)
            switched, off, other, tested, grouped, loosely = remember("switches", path, lambda: _reader("switches")(path, data()))
            if switched:
                self.switched[path] = switched
            if tested:
                self.tested[path] = tested
            if loosely:
                self.loosely_tested[path] = loosely
            self.grouped.update(grouped)
            self.settings_off.update(off)
            if not is_test_path(path):
                registrations = remember("registrations", path, lambda: _reader("registrations")(data()))
                if registrations[0]:
                    self.registrations[path] = registrations
                kept_by: tuple[tuple[str, dict[str, Any]], ...] = (
                    ("tables", self.tables),
                    ("passed_switches", self.passed),
                    ("defaulted_on", self.defaulted_on),
                    ("defaulted_off", self.defaulted_off),
                    ("literal_defaults", self.literal_defaults),
                    ("off_lookups", self.off_lookups),
                    ("unread_devices", self.unread_devices),
                    ("backend_settings", self.backend_settings),
                    ("environment_switches", self.environment_tables),
                    ("choices", self.choices),
                    ("threshold_helpers", self.threshold_helpers),
                    ("handed_switches", self.handed_switches),
                )
                for reader, kept in kept_by:  # readings of the module's bytes alone, kept where they found something
                    reading = remember(reader, path, partial(_read_bytes, reader, data))
                    if reading:
                        kept[path] = reading
                if path in self.defaulted_off:  # a parameter defaulting to False that a header names, or kept in `self`
                    passed_on = remember("passed_on_candidates", path, partial(_read_bytes, "passed_on_candidates", data))
                    if passed_on:
                        self.passed_on[path] = passed_on
            self.settings_other.update(other)
            defaults = remember("cuda_defaults", path, lambda: _reader("cuda_defaults")(path, data()))
            functions = tuple(name for name in defaults if not name.startswith("."))
            if functions:
                self.cuda_defaults[path] = functions
            if len(functions) < len(defaults) and not is_test_path(path):
                self.default_methods[path] = defaults
            imports = remember("from_imports", path, lambda: _reader("from_imports")(data()))
            if imports:
                self.from_imports[path] = imports
            if not is_test_path(path):
                fallbacks = remember("device_fallbacks", path, lambda: _reader("device_fallbacks")(path, data()))
                if fallbacks:
                    self.fallbacks[path] = fallbacks
            loaders = remember("module_loaders", path, lambda: _reader("module_loaders")(path, data(), catalog))
            if loaders:
                self.loaders[path] = loaders
            prefiltered = not is_test_path(path) and remember(
                "prefilter", path, lambda: catalog.may_match(FileKind.PYTHON.value, data())
            )
            if prefiltered:
                self.prefiltered.add(path)
            if prefiltered and self.follows_callers:
                definitions = remember("definitions", path, lambda: _reader("definitions")(
                    data(), lambda text: catalog.may_match(FileKind.PYTHON.value, text)
                ))
                if definitions:
                    self.definitions[path] = definitions
            if not is_test_path(path):
                named = remember("named_sources", path, lambda: _reader("named_sources")(path, data()))
                if named:
                    self.named_sources[path] = named
                jit = remember("jit_builds", path, lambda: _reader("jit_builds")(path, data()))
                if jit[0] or jit[1]:
                    self.jit_builds[path] = jit
                tried = remember("tried_imports", path, lambda: _reader("tried_imports")(data()))
                if tried:
                    self.tried_imports[path] = tried
            if remember("main_block", path, lambda: _reader("main_block")(path, data())):
                if prefiltered or catalog.may_match(FileKind.PYTHON.value, data()):
                    self.main_blocks.add(path)
                else:
                    self.other_main_blocks.add(path)
            markers = remember("skip_markers", path, lambda: _reader("skip_markers")(path, data(), catalog))
            self.markers.extend((path, name, skips) for name, skips in markers)
            set_ups = remember("set_up_skips", path, lambda: _reader("set_up_skips")(path, data(), catalog))
            self.markers.extend((path, name, skips) for name, skips in set_ups)
            probes = remember("package_flags", path, lambda: _reader("package_flags")(path, data(), catalog))
            self.package_flags.extend((path, name, (source, needed)) for name, source, needed in probes)
            if posixpath.basename(path) == "conftest.py":
                self.conftests[posixpath.dirname(path)] = remember(
                    "conftest_fixtures", path, lambda: _reader("conftest")(path, data())
                )
                self.faking_fixtures[posixpath.dirname(path)] = remember(
                    "faking_fixtures", path, lambda: _reader("faking_fixtures")(path, data())
                )
                skipped = remember("skipping_hooks", path, lambda: _reader("skipping_hooks")(path, data()))
                self.left_out_marks.setdefault(posixpath.dirname(path), set()).update(skipped)
                ignored = remember("ignored_without_cuda", path, lambda: _reader("ignored_without_cuda")(path, data()))
                if ignored:
                    self.ignored[posixpath.dirname(path)] = ignored
            if path.endswith(".py") and not is_test_path(path):
                saved = remember("saved_files", path, lambda: _reader("saved_files")(path, data()))
                if saved:
                    self.saved[path] = saved
                loaded = remember("loaded_files", path, lambda: _reader("loaded_files")(path, data()))
                if loaded:
                    self.loaded[path] = loaded
        elif kind is FileKind.CMAKE:
            build = remember("cmake_build", path, lambda: _reader("cmake_build")(path, decode_text(data())))
            if build is not None:  # a CMake file that builds nothing as HIP says nothing over a setup.py above it
                self._add_build(path, build)
            self.cuda_extensions.update(
                remember("cmake_cuda_extensions", path, lambda: _reader("cmake_cuda_extensions")(path, decode_text(data())))
            )
        elif kind is FileKind.WORKFLOW:
            jobs = remember(
                "workflow_targets", path, lambda: tuple(_reader("workflow")(path, decode_text(data()), catalog))
            )
            self.workflows.append((path, *jobs))
        elif kind is FileKind.DOCKERFILE:
            image = remember("cuda_image", path, lambda: _reader("cuda_image")(path, decode_text(data()), catalog))
            if image is not None:
                self.cuda_images[path] = tuple(image)
        else:
            if kind in _INSTALL_KINDS:
                self.installs[path] = kind

            def text() -> str:
                return decode_python(data()) if kind is FileKind.SETUP and path.endswith(".py") else decode_text(data())

            if kind in _DECLARING_KINDS:
                self.declared[path] = remember(
                    f"declared:{kind.value}", path, lambda: _reader("declared_dependencies")(path, text(), kind)
                )

            if path.endswith((".toml", ".cfg")) and b"addopts" in data():
                self.read_configuration(path, text, remember)

            variants = remember(f"variants:{kind.value}", path, lambda: list(_reader("variants")(path, text(), kind)))
            self.variants.extend(variants)
            if kind in (FileKind.REQUIREMENTS, FileKind.PYPROJECT) and catalog.release_bound_libraries:
                self.releases.extend(remember(
                    f"releases:{kind.value}", path,
                    lambda: _reader("releases")(text(), kind.value, catalog.release_bound_libraries),
                ))
            if kind is FileKind.REQUIREMENTS:
                self.include_paths[path] = remember(
                    "include_paths", path, lambda: frozenset(_reader("include_paths")(text(), path))
                )
                # The included files are read every time: they are other files, which may have changed.
                # A file that names none (most) includes none: the reader, and its imports, are not needed.
                if self.include_paths[path]:
                    self.included[path] = read_included(path, data(), roots)


    def read_configuration(self, path: str, text: Callable[[], str], remember: Remember) -> None:
        """What the pytest configuration at `path` (`pytest.ini`, `tox.ini`, or the `addopts` of a
        `setup.cfg` or `pyproject.toml`) leaves out of every run: the test modules it ignores, and the
        marks its `-m` expression deselects."""
        deselected = remember("deselected_marks", path, lambda: _reader("deselected_marks")(path, text()))
        if deselected:
            folder = posixpath.dirname(path)
            self.left_out_marks.setdefault(folder, set()).update(deselected)
            self.deselected_marks.setdefault(folder, set()).update(deselected)
        ignored = remember("ignored_by_configuration", path, lambda: _reader("ignored_by_configuration")(path, text()))
        if ignored:
            folder = posixpath.dirname(path)
            self.configured[folder] = tuple(sorted({*self.configured.get(folder, ()), *ignored}))

    def _add_build(self, path: str, build: RocmBuild | None) -> None:
        """A folder's build: the one that knows about ROCm where a setup.py and a CMake file share it,
        a build that says what it does on ROCm before a `CUDAExtension` that only gets hipified."""
        folder = posixpath.dirname(path)
        if folder not in self.builds or _build_rank(build) >= max(_build_rank(self.builds[folder]), 1):
            self.builds[folder] = build


_HEADER_SUFFIXES = (".h", ".hh", ".hpp", ".hxx", ".cuh", ".inl")
"""Headers: a JIT build's hipify converts one only where its sources name it (`RocmBuild.hipified`)."""


def _add_jit_builds(found: _Found) -> None:
    """The folders of the sources a JIT `load()` compiles, as implicit hipify builds, where no build
    script at or above them says what their build does."""
    for folder, (evidence, named, fallback) in _reader("jit_folders")(found.jit_builds, found.sources).items():
        if _nearest_at_or_above(posixpath.join(folder, "-"), found.builds) is None:
            found.builds[folder] = RocmBuild(
                evidence.path, BuildMode.IMPLICIT_HIPIFY, evidence, hipified=named, python_fallback=fallback
            )


def _build_rank(build: RocmBuild | None) -> int:
    """How much a folder's build says about ROCm: nothing, an implicit hipify, a ROCm-aware build."""
    return 0 if build is None else 1 if build.mode is BuildMode.IMPLICIT_HIPIFY else 2


def _build_defines(builds: dict[str, RocmBuild | None]) -> list[dict[str, Any]]:
    """The macros each build defines, as the sides `merge_macro_sides` reads (None: both sides)."""
    build_type = _reader("build_side")
    return [
        {name: None if hip is None and cuda is None else build_type(hip, cuda) for name, hip, cuda in build.defines}
        for build in builds.values() if build is not None and build.defines
    ]


def _left_out(path: str, build: RocmBuild | None) -> Evidence | None:
    """Where `build` says it compiles the source at `path` for CUDA only."""
    if build is None:
        return None
    return next((evidence for source, evidence in build.cuda_only if source == path), None)


def _beside_rocm_sources(path: str, build: RocmBuild | None) -> bool:
    """Whether the ROCm build compiles another source of `path`'s folder: then `path` is a CUDA-only
    variant (`gemm_sm80.cu` beside the portable `gemm.cu`), not a part ROCm goes without."""
    folder = posixpath.dirname(path)
    return build is not None and any(posixpath.dirname(source) == folder for source in build.rocm_named)


def _counterparts(files: list[IndexedFile], include_paths: dict[str, frozenset[str]]) -> dict[str, tuple[Counterpart, ...]]:
    """Each file's counterparts by name; a ROCm requirements file that includes this one is an add-on, not one."""
    found: dict[str, list[Counterpart]] = {}
    entries = [(f.display, kind.value) for f in files for kind in f.kinds[:1]]
    for sibling in find_siblings(entries):
        if posixpath.normpath(sibling.path) in include_paths.get(sibling.counterpart, frozenset()):
            continue
        found.setdefault(sibling.path, []).append(Counterpart(sibling.target, Evidence(sibling.counterpart, 1)))
    return {path: tuple(sorted(items)) for path, items in found.items()}


def _served_fixtures(path: str, conftests: dict[str, tuple[tuple[str, bool], ...]]) -> tuple[tuple[str, bool], ...]:
    """The skipping fixtures the conftest files in `path`'s folder and above serve it, the nearest
    one's where two define a name."""
    served: dict[str, bool] = {}
    folder, above = posixpath.dirname(path), None
    while folder != above:
        for name, autouse in conftests.get(folder, ()):
            served.setdefault(name, autouse)
        folder, above = posixpath.dirname(folder), folder
    return tuple(sorted(served.items()))


def _resolved_ignores(
    ignored: dict[str, tuple[tuple[str, str], ...]], python: dict[str, Reader], files: list[IndexedFile]
) -> dict[str, tuple[tuple[str, str], ...]]:
    """What each `conftest.py` leaves out of collection without CUDA, a list a function of another
    of the project's modules returns read from that function (`test_selection.ignored_by_function`)."""
    if not ignored:
        return {}
    resolved: dict[str, tuple[tuple[str, str], ...]] = {}
    modules: dict[str, str] | None = None
    for folder, items in ignored.items():
        found = [item for item in items if item[0] != "call"]
        for _, called in (item for item in items if item[0] == "call"):
            if modules is None:
                every = module_map(f.display for f in files)
                modules = {name: path for path in python for name in every.import_names(path)}
            kind, _, qualified = called.partition(":")
            module, _, function = qualified.rpartition(".")
            path = modules.get(module)
            if path is None:
                continue
            try:
                found.extend(_reader("ignored_by_function")(path, python[path](), function, kind))
            except Exception:  # noqa: BLE001 - an unreadable or unparsable module says nothing; its own analysis reports it
                continue
        if found:
            resolved[folder] = tuple(sorted(set(found)))
    return resolved


def _collected(path: str) -> bool:
    """A module pytest collects by its default `python_files`: `test_*.py` or `*_test.py`."""
    name = posixpath.basename(path)
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def _uncollected_without_cuda(path: str, ignored: dict[str, tuple[tuple[str, str], ...]]) -> bool:
    """Whether a `conftest.py` in `path`'s folder or above leaves the module out of collection without CUDA."""
    folder, above = posixpath.dirname(path), None
    while folder != above:
        if folder in ignored and _reader("uncollected")(path, folder, ignored[folder]):
            return True
        folder, above = posixpath.dirname(folder), folder
    return False


def _left_out_marks(path: str, marks: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The custom pytest marks a plain `pytest` run leaves out of the test module at `path`: those of
    its folder and every folder above it."""
    found: set[str] = set()
    folder, above = posixpath.dirname(path), None
    while folder != above:
        found.update(marks.get(folder, ()))
        folder, above = posixpath.dirname(folder), folder
    return tuple(sorted(found))


def _module_names(files: list[IndexedFile], modules: ModuleMap) -> dict[str, tuple[str, bool]]:
    """Each Python module's dotted name (`firstparty.ModuleMap`), and whether it is a package."""
    return {
        f.display: (modules.name(f.display), posixpath.basename(f.display) == "__init__.py")
        for f in files
        if FileKind.PYTHON in f.kinds and f.display.endswith(".py")
    }


_T = TypeVar("_T")


def _package_flags(found: list[tuple[str, str, tuple[str, str]]], modules: ModuleMap | None) -> tuple[tuple[str, str], ...]:
    """(qualified name, packages) of the package probes: each probe, and each copy of one (`HAVE_FUSED =
    HAVE_TE` after `from .te import HAVE_TE`), followed from module to module, with the packages of the
    probe it copies."""
    copies = dict(_by_import_name(found, modules, outer=True))
    flags = {name: needed for name, (source, needed) in copies.items() if not source}
    while True:
        more = {name: flags[source] for name, (source, _) in copies.items() if source in flags and name not in flags}
        if not more:
            return tuple(sorted(flags.items()))
        flags.update(more)


def _by_import_name(
    found: list[tuple[str, str, _T]], modules: ModuleMap | None, outer: bool = False
) -> tuple[tuple[str, _T], ...]:
    """(qualified name, value) of each name a module defines (a flag, a skip marker), under every name
    the module may be imported by (`ModuleMap.import_names`: a namespace package's too), and with
    `outer` by the names namespace folders above its package give it (`ModuleMap.outer_names`)."""
    if modules is None:
        return ()
    return tuple(sorted(
        (f"{module}.{name}", value)
        for path, name, value in found
        for module in (*modules.import_names(path), *(modules.outer_names(path) if outer else ()))
    ))


def _stood_in_for(path: str, rocm_sources: tuple[str, ...]) -> bool:
    """Whether the sources a separate ROCm build compiles stand in for the CUDA source at `path`: it is
    none of them, and it sits in the part of the tree one of them serves, below that one's parent
    folder (`csrc/cuda/api.cu` for `csrc/hip/`, not `csrc/sparse/gemm.cu` for `csrc/attention/hip/`)."""
    if _under(path, rocm_sources):
        return False
    parents = tuple(posixpath.dirname(source) for source in rocm_sources)
    return "" in parents or _under(path, parents)


def _under(path: str, folders: tuple[str, ...]) -> bool:
    return any(path == folder or path.startswith(folder.rstrip("/") + "/") for folder in folders)


def _keyed_flags(
    found: list[tuple[str, str, tuple[tuple[str, str | None], ...]]], python: dict[str, Reader]
) -> tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...]:
    """The keys that hold one test wherever the project stores them (`keyed_flags.py`): every store
    of the key a module's bytes show is one the reader found holding that test (a module it did not
    parse, or a store it did not count, leaves the key out)."""
    stores: dict[str, Counter[str]] = {}
    meanings: dict[str, set[tuple[tuple[str, str | None], ...]]] = {}
    for path, key, meaning in found:
        stores.setdefault(key, Counter())[path] += 1
        meanings.setdefault(key, set()).add(meaning)
    kept = {key for key, held in meanings.items() if len(held) == 1}
    pattern = _reader("store_pattern")
    for path, read in python.items() if kept else ():
        try:
            data = read()
        except Exception:  # noqa: BLE001 - an unreadable module stores nothing the scan can see
            continue
        for key in [key for key in kept if len(re.findall(pattern(key), data)) != stores[key][path]]:
            kept.discard(key)
    return tuple(sorted((key, next(iter(meanings[key]))) for key in kept))


def _cuda_flags(flags: list[tuple[str, str, tuple[tuple[str, str | None], ...]]]) -> tuple[str, ...]:
    """The device flags whose true value needs a CUDA device (`SUPPORTS_X = torch.cuda.is_available() and
    ...`): ROCm's PyTorch passes such a test too, and a CPU never does."""
    return tuple(sorted({
        name for _, name, meaning in flags
        if meaning and all(probe in ("cuda", "nvidia") and side == "body" for probe, side in meaning)
    }))


def _other_paths(
    python: dict[str, Reader], remember: Remember | None, cuda_flags: tuple[str, ...] = ()
) -> dict[str, tuple[tuple[str, Evidence], ...]]:
    """The import graph's answer; a tree it cannot follow adds no facts (each module is still analysed)."""
    if not python:
        return {}
    try:
        return _reader("import_paths")(python, remember, cuda_flags)
    except (RecursionError, MemoryError, ValueError):
        return {}


def torch_pin(root: Path) -> str | None:
    """The torch release the dependency files in `root` pin (`resolvers/torch_pin.py`), if any. Not
    part of the index: it is read from the project's root, which a scan of named files need not list."""
    version = _reader("torch_pin")(root)
    return str(version) if version is not None else None


def torch_pin_files(root: Path) -> list[Path]:
    """Every file `torch_pin(root)` may read: what its answer depends on."""
    files: list[Path] = _reader("torch_pin_files")(root)
    return files


def _shipped_checkpoints(loaded: dict[str, tuple[tuple[int, int, str], ...]], roots: tuple[str, ...]) -> dict[str, Any]:
    """`ProjectIndex.shipped_checkpoints` and `cpu_loads` from each module's loads of files it spells."""
    if not loaded:
        return {}
    shipped = read_checkpoints((file for loads in loaded.values() for _, _, file in loads), roots)
    cpu_loads = {
        module: tuple((line, column) for line, column, file in loads if shipped[file]) for module, loads in loaded.items()
    }
    return {"shipped_checkpoints": shipped, "cpu_loads": {module: loads for module, loads in cpu_loads.items() if loads}}


def read_checkpoints(paths: Iterable[str], roots: tuple[str, ...]) -> dict[str, bool]:
    """Path -> whether the file there holds CPU storages only (`shipped_checkpoints.cpu_only_files`),
    read from the disk now: files the project's loads name, outside the scan's list."""
    return _reader("cpu_only_files")(paths, roots)


def read_binaries(tops: Iterable[str], roots: tuple[str, ...]) -> dict[str, bool]:
    """Package copy -> whether it ships an extension binary that links CUDA (`uncompiled_copies.cuda_binaries`),
    read from the disk now: files outside the scan's list, as `read_checkpoints`'s are."""
    return _reader("cuda_binaries")(tops, roots)


def read_included(path: str, data: bytes, roots: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(path, text) of the files the requirements file at `path` (`data`) includes inside `roots`,
    read from the disk now: one of the index's two answers that depend on files outside the scan's list
    (the others: `read_checkpoints`, `read_binaries`)."""
    return tuple(_reader("included")(decode_text(data), path, roots))
