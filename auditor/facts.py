"""What the project index tells one file's analysis: plain, picklable data with a digest.

A file's findings may depend on other files of the project: a header that `#define`s CUDA names
to HIP ones, a setup.py that also builds the extension for ROCm, a `Dockerfile_amd` beside the
`Dockerfile`. The index (`cudaudit.project_index`) reads those once per scan and hands each
file's analysis only the facts about that file, as a `FileFacts`. The analysis is then a pure
function of the file's text and its `FileFacts`, and `FileFacts.digest` is the part of a cache
key that says "what the rest of the project told this file".
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, fields
from enum import Enum

from cudaudit.filekinds import is_test_path

SettingValue = str | int | float | tuple[str, str] | None
"""A setting's value as the index hands it on: a constant, or an enum member as (its class's name,
the member's name)."""


@dataclass(frozen=True, order=True)
class Evidence:
    """Where the project itself says something about a target: a file of the scan, a line, the text."""

    path: str
    line: int
    text: str = ""

    def cite(self) -> str:
        """`path:line` with the quoted text, for a `Portability.source`."""
        return f"{self.path}:{self.line}" + (f" (`{self.text}`)" if self.text else "")


@dataclass(frozen=True)
class Launch:
    """How the documented commands start a route: under a launcher of several processes, by `every`
    one of them, or by those of one use while another runs it as one process (`launched_entries.py`)."""

    evidence: Evidence
    every: bool
    scheduler: bool = False
    """Whether a batch scheduler starts it (`srun`), which sets the variables a Slurm test reads
    (`SLURM_PROCID`); the other launchers set only PyTorch's (`RANK`)."""


@dataclass(frozen=True, order=True)
class PortedName:
    """A CUDA name that a compatibility header gives a HIP meaning (`#define cudaStream_t hipStream_t`)."""

    name: str
    evidence: Evidence
    dropped: tuple[int, ...] = ()
    """Parameters (0-based) a function-like macro never uses: `__shfl_xor_sync(mask, v, l, w)
    __shfl_xor(v, l, w)` drops its mask, so a 32-bit mask passed to it never reaches HIP."""


@dataclass(frozen=True, order=True)
class Counterpart:
    """A file (or folder) of the project that serves `target` where this file serves CUDA."""

    target: str
    evidence: Evidence


class BuildMode(Enum):
    """What a build script does with its CUDA sources on ROCm (`rules/builds/rocm_builds.py`)."""

    HIPIFY = "hipify"
    IMPLICIT_HIPIFY = "implicit-hipify"
    """A `CUDAExtension` in a script that never asks whether PyTorch is a ROCm build: PyTorch still
    hipifies its sources there, but the project does not claim that they compile or compute right."""
    SEPARATE = "separate"
    SKIPS = "skips"
    """A script whose ROCm branch turns its build off (`SKIP_CUDA_BUILD = True`): ROCm goes without its sources."""
    CUDA_TARGET = "cuda-target"
    """A script that builds every extension only for a CUDA target: where a target-device setting the
    installer chooses is `"cuda"`, or in a branch ROCm never takes (`rules/builds/build_gates.py`)."""
    HIP_LANGUAGE = "hip-language"
    """A CMake build that compiles the CUDA sources as HIP (`enable_language(HIP)`, `LANGUAGE HIP`)."""


@dataclass(frozen=True)
class SourceGlob:
    """Files a build names by a glob (`pkg/csrc/cuda/**/*.cu`, from the scanned root), less the
    patterns it takes out of that list, and the arm of the build that adds them."""

    pattern: str
    excluded: tuple[str, ...]
    evidence: Evidence


@dataclass(frozen=True)
class OptInSource:
    """A source a build compiles only where the installer sets a switch (`if has_flag("--fast_norm",
    "PKG_FAST_NORM"):`), or with `glob` the sources a pattern of such an arm lists (less `excluded`)."""

    path: str
    evidence: Evidence
    switch: tuple[str, ...]
    """The switch's names (`--fast_norm`, `PKG_FAST_NORM`); empty where the build does not spell them."""
    glob: bool = False
    excluded: tuple[str, ...] = ()


@dataclass(frozen=True)
class RocmBuild:
    """A build script that knows about ROCm: what it does with its folder's CUDA sources there."""

    script: str
    mode: BuildMode
    evidence: Evidence
    rocm_sources: tuple[str, ...] = ()
    """Folders (display paths) of the sources a SEPARATE build compiles for ROCm instead."""
    cuda_only: tuple[tuple[str, Evidence], ...] = ()
    """Sources (display path, and the branch of the build file that names them) the build compiles
    only where it does not build for ROCm: named only in a branch a ROCm build skips (`if not ROCM_VERSION:`,
    `if(BUILD_CUDA)` beside `elseif(BUILD_HIP)`)."""
    rocm_named: tuple[str, ...] = ()
    """Sources (display paths) the build names outside such branches: what its ROCm build compiles."""
    defines: tuple[tuple[str, bool | None, bool | None], ...] = ()
    """Macros the build defines for its sources, as (name, defined on HIP builds, on CUDA builds):
    False where that side never defines it (`add_compile_definitions(HAS_SM80)` under `if(BUILD_CUDA)`)."""
    cuda_only_globs: tuple[SourceGlob, ...] = ()
    """The lists of sources a Python build adds only in an arm a ROCm build never takes, by glob
    (`sources += glob.glob("csrc/cuda/*.cu")` under `if use_cuda:`); the index turns the scanned
    files they list into `cuda_only` entries."""
    opt_in: tuple[OptInSource, ...] = ()
    """The sources the build compiles only where the installer opts in (`rules/builds/opt_in_builds.py`)."""
    hipified: tuple[str, ...] | None = None
    """The sources (display paths) a JIT `load()` names: its hipify converts only them (and an included
    header only where a file of that name is among them), so a header beside them is compiled as
    written; None where the build hipifies the whole folder (a `setup.py`'s `CUDAExtension`)."""
    python_fallback: Evidence | None = None
    """A JIT build every call of which a target without CUDA goes on without: in a `try` whose
    handler falls back to the module's Python path, or reached only by tensors on CUDA
    (`x.device.type == "cuda" and _init()`): the call, else None."""


@dataclass(frozen=True)
class FileFacts:
    """The facts about one file that other files of the project establish.

    Every field defaults to "the project says nothing", which is also what a file analysed on
    its own (a rule's example, one named file) gets beyond what it says about itself.
    """

    ported_names: tuple[PortedName, ...] = ()
    """CUDA names the compatibility headers this file reaches map for HIP builds, by name."""
    porting_layer: Evidence | None = None
    """This file is itself HIP-side (it includes HIP's runtime unconditionally): a porting layer."""
    python_fallback: Evidence | None = None
    """The JIT build of this file's folder, where its every call goes on without it when it fails
    (`RocmBuild.python_fallback`): a target that never builds the file runs the Python path."""
    cuda_only: Evidence | None = None
    """Every file that includes this header does so where only CUDA builds compile (the `#else` of
    `#if defined(GGML_USE_HIP)`): nothing in it reaches a ROCm build."""
    cuda_macros: tuple[tuple[str, bool | None, bool | None], ...] = ()
    """Macros the project's C++ defines on one side only, as (name, holds on HIP, holds on CUDA):
    `PTX_AVAILABLE`, defined in a header under `#ifndef __HIP_PLATFORM_AMD__`, is (name, False, None)."""
    cuda_macro_values: tuple[tuple[str, bool | None, bool | None], ...] = ()
    """Flag macros whose value tells the sides apart, as (name, value on HIP, value on CUDA):
    `BNB_HIP`, 1 under `#if defined(__HIPCC__)` and 0 in its `#else`, is (name, True, False)."""
    hipified_by: Evidence | None = None
    """The build script whose `CUDAExtension` PyTorch hipifies on a ROCm build, with this source."""
    rocm_build: Evidence | None = None
    """The project's build also compiles this source for ROCm (a hipify build script, a CMake
    build that compiles it as HIP): what still needs a change there compiles, and is left to check."""
    rocm_goes_without: Evidence | None = None
    """The project's build compiles this source only for CUDA, and nothing of its folder for ROCm:
    what it does (an extension, a kernel family) is missing on ROCm, while the rest runs."""
    rocm_route: Evidence | None = None
    """The import that loads this source only on CUDA builds of PyTorch (`if torch.version.cuda:`),
    where ROCm runs the project's other route (`rules/builds/extension_routes.py`)."""
    cuda_only_loads: tuple[tuple[Evidence, int, str], ...] = ()
    """The imports in this module that load a CUDA extension only on CUDA builds of PyTorch, with
    how many C/C++ sources each leaves out of ROCm and the module ROCm loads instead ("" for none)."""
    unbuilt_extensions: tuple[tuple[str, Evidence, bool, bool], ...] = ()
    """(module, the build's test, whether ROCm builds no module at all, whether the build raises
    there, a CPU install's too) for the extension modules the
    project builds with GPU code only where `CUDA_HOME` is set that this module may import
    (`rules/builds/unbuilt_extensions.py`)."""
    unbuilt_called: Evidence | None = None
    """In a build script whose extension gets GPU code only where `CUDA_HOME` is set: the first call
    of it in another module that fails on ROCm (`unbuilt_extensions.failing_calls`)."""
    counterparts: tuple[Counterpart, ...] = ()
    """Files that do this file's job on other targets (`Dockerfile_amd`, `requirements-rocm.txt`,
    the separate HIP sources a build uses for ROCm)."""
    target_variants: tuple[Counterpart, ...] = ()
    """Where the project ships a dependency variant per target (a `rocm` extra, a ROCm
    requirements file): its CUDA extras are then the NVIDIA variant, not lock-in."""
    included: tuple[tuple[str, str], ...] = ()
    """(path, text) of the files a requirements file includes with `-r`/`-c`, recursively."""
    ci_answered_elsewhere: bool = False
    """Another workflow of the scan runs on CPU or ROCm, or an earlier one carries the repository
    verdict: this workflow does not report "no job runs on CPU or ROCm" (CDA710)."""
    ci_targets: tuple[tuple[str, str], ...] = ()
    """(target, workflow) for ROCm and CPU where some workflow of the scan runs a job on that target:
    a CUDA job's sites are notes there."""
    cuda_images: tuple[tuple[str, int, str], ...] = ()
    """(Dockerfile, line, image) for each Dockerfile of the scan built on a CUDA image, with no stage on
    a ROCm image and no ROCm counterpart: a workflow that builds one publishes an NVIDIA-only image."""
    releases: tuple[tuple[str, str], ...] = ()
    """(library, range) the project's dependency files declare, for the libraries that work on a
    target only from a release on (`Portability.works_with`): `("bitsandbytes", "<0.45")`."""
    named_for: tuple[str, ...] | None = None
    """The targets this file serves by its name (`docker-rocm/Dockerfile`: ROCm; `npu_ops.py`: none of
    them); None where its name does not tell. It is not judged for the other targets."""
    other_paths: tuple[tuple[str, Evidence], ...] = ()
    """(target, the import that reaches this module) for each target on whose code path no import of
    this Python module lies: every first-party importer imports it only where another target runs
    (`if is_torch_npu_available():`), directly or through modules imported the same way."""
    device_flags: tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...] = ()
    """The project's device flags, as (qualified name, ((probe, the branch that needs it), ...)):
    `pkg.utils.SUPPORTS_BF16 = torch.cuda.is_available() and ...` is ("pkg.utils.SUPPORTS_BF16",
    (("cuda", "body"),)), so `if SUPPORTS_BF16:` in a module that imports it is a CUDA guard."""
    skip_markers: tuple[tuple[str, tuple[bool | None, bool | None]], ...] = ()
    """The skip markers the project keeps in shared modules, as (qualified name, (skipped without CUDA,
    skipped on every ROCm GPU)): `tests.utils.needs_sm80 = pytest.mark.skipif(capability < (8, 0))`
    is ("tests.utils.needs_sm80", (True, False)) (`skip_conditions.read_skip_markers`)."""
    package_flags: tuple[tuple[str, str], ...] = ()
    """The project's flags and probe functions that hold only where packages import, as (qualified
    name, the packages' top-level modules, comma-separated): ("tests.utils.HAVE_TE",
    "transformer_engine") for `try: import transformer_engine; HAVE_TE = True` / `except ImportError:
    HAVE_TE = False`, a function's name with `()` (`rules/python/package_probes.py`)."""
    unimportable: tuple[str, ...] = ()
    """For a test module: the dotted names of the project's CUDA extensions and of its modules that
    import one at their top level, directly or through each other (`rules/python/unimportable.py`),
    which no machine without a GPU can import."""
    conftest_fixtures: tuple[tuple[str, bool], ...] = ()
    """(name, autouse) of the fixtures that skip without CUDA which the `conftest.py` files in this
    test module's folder and above serve it (the nearest one's where two define a name)."""
    faking_fixtures: tuple[tuple[str, bool], ...] = ()
    """(name, autouse) of the fixtures that fake a CUDA device probe (`monkeypatch.setattr(torch.cuda,
    "device_count", lambda: 2)`) which the `conftest.py` files in this test module's folder and above
    serve it (`rules/python/faked_probes.py`)."""
    uncollected_without_cuda: bool = False
    """A `conftest.py` in this test module's folder or above leaves it out of collection on a machine
    without a CUDA device (`collect_ignore_glob = ["*"]` under `if not torch.cuda.is_available():`):
    none of its tests runs there (`rules/python/test_selection.py`)."""
    never_collected: bool = False
    """The project's pytest configuration leaves this test module out of every run (`addopts =
    --ignore=tests/legacy` in `pytest.ini`, `tox.ini`, `setup.cfg` or `pyproject.toml`): none of its
    tests runs anywhere (`rules/python/test_selection.py`); or its top-level import names a module its
    package does not ship, in a test module or one nothing in the project reaches: it fails on every
    target (`rules/python/unshipped_imports.py`)."""
    left_out_marks: tuple[str, ...] = ()
    """The custom pytest marks a plain `pytest` run leaves out of this test module: a `conftest.py` in
    its folder or above skips the tests carrying them, or the pytest configuration there deselects
    them by default (`addopts = "-m 'not gpu'"`; `rules/python/test_selection.py`)."""
    deselected_marks: tuple[str, ...] = ()
    """Those of them the pytest configuration deselects by default: a plain run on any machine
    leaves the tests carrying them out, where a hook skips them only where it skips."""
    switched: tuple[tuple[str, Evidence], ...] = ()
    """(name, the switch) for each top-level class or function of this Python module that the
    project's scripts construct or call only under a switch that is off by default (`if opt.plms:
    sampler = PLMSSampler(model)`, `if training_args.flash_attn: patch()`), or that a registry selects
    by a name other than its default (`@register_backend("remote")`, `rules/python/registries.py`):
    what it does is another path.
    The empty name stands for the module itself, which every importer imports only under such a switch."""
    unselected: tuple[str, ...] = ()
    """The top-level classes and functions of this Python module that a registry files under a name
    (`@datasets.register("dtu")`) that no shipped configuration, document, script or code selects,
    where they select other names of the same registry, in a project no install makes an API, and the
    definitions only they use: they run nowhere (`rules/python/registries.py`)."""
    settings_off: tuple[str, ...] = ()
    """The settings this Python module's `if` headers read from an argument object that another module
    declares off by default (`if cfg.common.profile:`, with `profile: bool = False` in a configuration
    dataclass; `opt_in.read_switches` and `project_index._settings_elsewhere`): what such a test
    guards is another path, as where the module declares the setting itself."""
    launched_by_default: tuple[str, ...] = ()
    """The multi-process switches this Python module's `if` headers read from a configuration object
    that the project's configuration tables or YAML files turn on (`"distributed": True`;
    `launch_switches.py`): the launch's branch is the normal path, the other one another path."""
    always_launched: bool = False
    """Whether every documented command of this Python module's route starts it under a launcher of
    several processes (`torchrun`; `launched_entries.py`): a launch test's launched branch is its
    normal path, the single-process one another path."""
    launched_some: bool = False
    """Whether the documented commands of this Python module's route start it under a launcher of
    several processes for one use and as one process for another (`python main.py --eval`;
    `launched_entries.py`): both branches of a launch test are a normal path."""
    scheduler_launched: bool = False
    """Whether a batch scheduler (`srun`) is among the launchers of this Python module's route: a
    test of its variables (`"SLURM_PROCID" in os.environ`) reads a launch only where one is."""
    cpu_parameters: tuple[str, ...] = ()
    """The parameters of this Python module's functions that a call in another module hands the program's
    CPU switch (`load(path, cpu=opt.cpu)` with `--cpu`; `cpu_handed.py`): a test of one is a CPU test."""
    kept_on: tuple[str, ...] = ()
    """The parameters this Python module's functions default to True and test alone (`if vad:`) that
    every call in the project keeps True (`kept_on.py`): the arm they take where it is False is
    another path."""
    settings_chosen: tuple[tuple[str, SettingValue], ...] = ()
    """(setting, default) for each setting of several values this Python module reads from an object of
    settings that another module declares (`sched: Sched = Sched.LEGACY` in a configuration
    dataclass, `add_argument("--impl", default="none")`; `choice_settings.chosen_elsewhere`): a branch
    only another value takes (`if self.config.sched == Sched.ASYNC:`) is another path, as where the
    module declares the setting itself."""
    settings_documented: tuple[tuple[str, SettingValue], ...] = ()
    """(option, value) for each option of several values every documented command of this Python
    module's route gives one value (`--launcher pytorch`; `project_index._settings_documented`): the
    value it holds there, over the module's own default, so a branch only the default takes (`if
    args.launcher == "none":`) is another path, and the documented value's the normal one."""
    cpu_route_options: frozenset[str] = frozenset()
    """The command-line options a command of the project's documents sets to `cpu` where it runs this
    module as a script (`python infer.py --device cpu`; `project_index._cpu_routes`): a CUDA default
    of such an option is not what the CPU's documented route runs with."""
    never_trained: bool = False
    """Whether the project only infers: no install declaration at its top (a library's users train),
    and no module on its normal path (outside its test suite and the files off that path) spells a
    backward pass, a gradient, an optimizer or a trainer (`rules/python/inference_only.py`), judged in a
    scan that sees the whole project; the `backward` of an autograd `Function` then runs on no target."""
    off_default_path: Evidence | None = None
    """Why nothing on the project's normal path runs this file (a Python module of an opt-in area that
    no module outside such areas imports, `rules/python/opt_in_areas.py`; a module that needs a package
    only an optional extra installs, `rules/python/extra_only.py`; a file of a developer benchmark
    folder, `developer_folders.developer_files`; an op's self-check script beside the build that
    compiles the op, `rules/builds/op_self_tests.py`; a monkey patch that nothing
    in the project imports or names, `rules/python/unnamed.py`; a package module that nothing in the project
    reaches by import or by name, `rules/python/unreached.py`; a file of a copied project the project loads
    only through a local torch hub entry, or of a vendored program it imports only in part, beyond what
    `hubconf.py` or the project's imports reach, `rules/python/copied_projects.py`;
    a Dockerfile, or a conda environment file
    or an install script beside the project's own install, that nothing in the project names, `rules/containers/references.py`; a Dockerfile or compose file of a project that also installs without Docker): all it does is another path (`verdicts.off_default_path`)."""
    installed_in_image: tuple[Evidence, tuple[tuple[str, str], ...]] | None = None
    """For an image's dependency declaration (`docker/requirements.txt`): the `FROM` line of the CUDA image
    the Dockerfiles beside it build on, with that image's severity per target; what the declaration pins
    goes into that image, no more serious than it (`verdicts.in_image`)."""
    docker_aside: Evidence | None = None
    """Why the project's Docker route is one among others, where each of its Dockerfiles and compose
    files is (the project installs without Docker, its README shows another install first): what a
    shell script's `docker run` starts is on that route, another path (`script_scan.ScriptScan`)."""
    documented_script: bool = False
    """A module named like a test (`test_denoise.py`, outside any test folder) that a command of
    one of the project's documents runs by its path (`python test_denoise.py --save`): an evaluation
    script the users run, the normal path, not the test suite (`in_test_suite`)."""
    never_built: Evidence | None = None
    """The definition whose build alone compiles this C/C++ or CUDA source (or the source alone that
    includes this header), where nothing in the project runs that definition (a JIT `load(sources=[...])`
    in an `_init()` whose only callers run nowhere, `taken_names.left_behind`): no target compiles the
    file, so its sites are notes on every target (`verdicts.never_built`)."""
    uncompiled: Evidence | None = None
    """For a C/C++ or CUDA source: the vendored package copy that holds it, where no build of the scan
    compiles it (no build file in the copy or above it, no file naming it, no shipped binary of the copy
    linking CUDA; `rules/builds/uncompiled_copies.py`), or for a header, the source alone that includes
    it: no target compiles the file, so its sites are notes on every target (`verdicts.uncompiled`)."""
    runs_nowhere: str | None = None
    """Why no target compiles or runs the file at all: a C/C++ or CUDA header that no translation unit of
    the project includes and nothing else names (`unincluded_headers.py`), a helper script whose image
    build finds no Dockerfile (`references.dockerless_builds`), a module of a package an application
    (no install) never imports or names (`unreached.runs_nowhere`). Its sites are notes on every target
    (`verdicts.never_built`)."""
    started: Evidence | None = None
    """For a Python module: the top-level import through which the project's start (a top-level
    package's `__init__.py`, a script in a scanned folder) reaches this module at module level
    (`rules/python/started_modules.py`): a module-level import that fails here stops that start."""
    unrequested: tuple[str, ...] = ()
    """The packages installed only on request (the catalog's `[[installed_on_request]]`: xFormers,
    FlashAttention) that this Python module imports and that no install route of its part of the
    project names (`rules/python/unrequested.py`): no install has them, on any target, so an import of
    one that goes on without it where it fails loses nothing a target had."""
    opt_in_options: tuple[str, ...] = ()
    """For a CMake file: the options the project's CMake files declare off (`option(X "..." OFF)`) that
    the project's plain build leaves off (`rules/builds/cmake_options.py`): what they guard is another path."""
    readme_extras: tuple[str, ...] = ()
    """For a dependency file: the extras the project's README installs (`pip install "pkg[a]"`), from the
    project index; an extra it does not name is installed only on request, another path."""
    unimported_bindings: tuple[str, ...] = ()
    """The catalog keys of the packages of the catalog's `[[binding]]` tables whose modules no code of the
    project spells (`rules/dependencies/unimported.py`): pinned, they install and change nothing."""
    switched_off_packages: tuple[str, ...] = ()
    """For a dependency file: the catalog keys of the pinned packages the project imports only under a
    switch every shipped configuration turns off (`rules/dependencies/switched_off.py`)."""
    created_environment: bool = False
    """For a conda environment file: whether the README of its folder or above creates it (`conda env
    create -f environment.yml`): what the project's users install (`references.created_environments`)."""
    pure_python: Evidence | None = None
    """For a Dockerfile: where the project shows that installing it compiles nothing (a `pyproject.toml`
    or `setup.py` that names no compiler's route, in a project with no C, C++, CUDA or CMake source,
    `rules/builds/compiled.py`): `pip install .` of it builds no CUDA extension in any image."""
    home_repositories: tuple[str, ...] = ()
    """For a Dockerfile: the repositories (`host/owner/name`) the project's `setup.py` or `pyproject.toml`
    names as its home: a `git clone` of one fetches the project's own files (`rules/builds/home_repository.py`)."""
    called_elsewhere: tuple[tuple[str, tuple[tuple[int, tuple[str, ...], bool], ...]], ...] = ()
    """(name, the shapes of its calls) for each top-level function or class of this Python module that
    defaults a parameter to a CUDA device and that other modules of the scan import and call:
    (positional arguments, keywords with `"**"` for a mapping, whether a `*sequence` is passed)
    per distinct call (`rules/python/project_calls.py`)."""
    methods_called: tuple[tuple[str, tuple[tuple[int, tuple[str, ...], bool], ...]], ...] = ()
    """(method, the shapes of every call of its name through an object, `gen.grid_priors(...)`, in the
    project outside the test suite) for each public method of this Python module that defaults a
    parameter to a CUDA device in its header, in a scan that sees the whole project; an empty tuple
    where nothing calls it (`project_calls.method_calls`)."""
    used_elsewhere: tuple[tuple[str, tuple[tuple[tuple[str, ...], str | None], ...] | None], ...] = ()
    """(name, the contexts of its uses in other modules) for each top-level function and method of
    this Python module whose text holds a CUDA site, where the scan sees the whole project: (the
    targets a use is quiet on, its cap) per distinct context, none where no other module uses it, or
    None where one uses it in a way that is not followed (`rules/python/callers.py`)."""
    fallback_callees: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(name, parameters) of the project's functions and classes the module defines or imports that
    replace a device parameter with the CPU where CUDA is unavailable (`fallback_callees.py`)."""
    module_loaders: tuple[tuple[str, str], ...] = ()
    """(name, library) of the project's functions the module defines or imports that return a library
    which fails only at its first call (`import pynvml` ... `return pynvml`: `module_loaders.py`)."""
    main_block: tuple[str, Evidence | None, tuple[str, ...] | None] | None = None
    """For a Python module with an `if __name__ == "__main__":` block: ("library", the first import of
    it in another module, the names other modules import from it or None for all), whose block is
    another path unless it reads the command line, or ("script", None, ()) for one nothing imports,
    whose top-level functions nothing calls are another path (`rules/python/main_block.py`)."""
    main_unrun: bool = False
    """This module's `__main__` block is a library's (`main_block`) and the scan, seeing the whole
    project, finds no file that runs the module itself by its file or module name
    (`unnamed_scripts.run_scripts`): the block is a self-test or demo, another path even where it
    reads the command line."""
    cpu_saved_files: tuple[str, ...] = ()
    """The file names every `torch.save` of the project's modules outside the tests fills with CPU
    values only (`rules/python/checkpoint_writers.py`): a load of one restores CPU tensors anywhere."""
    cpu_loads: tuple[tuple[int, int], ...] = ()
    """(line, column) of the module's `torch.load` calls of a file the project ships whose storages
    are all on the CPU (`rules/python/shipped_checkpoints.py`): such a load restores CPU tensors anywhere."""
    threshold_calls: tuple[tuple[str, tuple[tuple[tuple[str, int], ...], ...]], ...] = ()
    """For a Python module: each function of it that compares the compute capability with its parameters
    (`def has_capability(major, minor)`), with what every call of it in the project gives them, where
    each gives whole numbers (`capability_arguments.py`): thresholds `capability_use.py` judges as literals."""
    loose_module: bool = False
    """This Python module has a `__main__` block, other modules import it, and no package holds it (no
    `__init__.py` beside it): its own folder's scripts are its only importers, so a public function
    none of them imports by name is no API (`rules/python/unused.py`)."""
    taken_names: tuple[str, ...] | None = None
    """For a Python module that no install makes an API and that the project's modules import only by
    name (`from utils.loss import ComputeLoss`): the names they take and the names of its definitions
    another file spells; its other top-level classes and functions run nowhere (`rules/python/taken_names.py`,
    `rules/python/unused.py`). None for any other module."""
    unread_devices: tuple[str, ...] = ()
    """For a Python module outside every package that no other module imports: its top-level names bound
    to a CUDA device (`device = torch.device("cuda")`) that its own text never reads: no tensor is ever
    placed there (`rules/python/unread_devices.py`)."""
    unread_settings: tuple[str, ...] = ()
    """For a Python module: its top-level names bound to a dict that spells the NCCL backend
    (`dist_params = dict(backend="nccl")`) that no code of the project reads, nor a library the
    catalog knows reads from its configuration: data no process group is given
    (`rules/python/unread_settings.py`)."""
    unshipped_load: tuple[int, int] | None = None
    """For a Python module other modules import: (the last line of the statement of its `__main__` block
    that loads a configuration no file of the scan is, the block's last line): the lines between run on
    no target as the project ships (`rules/python/unshipped_configs.py`)."""
    never_on: tuple[str, ...] = ()
    """For a Python module of a project that installs nothing (no `setup.py` or `pyproject.toml` at its
    top): the keywords defaulting to False that its tests read and that nothing of the project turns
    on, with the attributes keeping them (`rules/python/kept_off.py`): no caller outside the project
    passes them, so what they guard runs nowhere."""
    named_nowhere: frozenset[str] = frozenset()
    """For a Python module of an application (a scan that sees the whole project, which installs
    nothing): its top-level functions and classes with a CUDA default that no other file of the project
    spells (`rules/python/project_calls.py`): where the module itself neither calls nor hands one on,
    nothing runs it, and its default is never taken (`defaults.ModuleCalls.never_called`)."""
    held_defaults: tuple[str, ...] = ()
    """For a Python module: the parameters its signatures give a literal default (a string, a number,
    True) that its tests read and that nothing of the project gives a value (`rules/python/held_defaults.py`):
    the arm the default closes (`if gan_mode == "hinge":` for `gan_mode="ls"`) runs only for a caller
    the scan does not see."""
    held_nowhere: bool = False
    """Whether the scan sees the whole project and it installs nothing (no `setup.py` or
    `pyproject.toml` at its top): no caller outside it passes a `held_defaults` keyword, so the arm its
    default closes runs nowhere; in a library it is another path."""
    unread_keys: tuple[str, ...] = ()
    """For a YAML file: its top-level keys set to a CUDA device (`device: "cuda"`) that no code of the
    project reads from the mappings it loads: the device of no run (`rules/python/unread_settings.py`)."""
    module: tuple[str, bool] | None = None
    """This Python module's dotted name and whether it is a package's `__init__.py`, for its
    relative imports of the flags and markers (given only where the project has some)."""
    namespace_modules: tuple[str, ...] = ()
    """The modules of the project's own namespace packages (top-level folders of Python code without
    an `__init__.py`) named like a library the catalog knows by its imports, by their two-part
    dotted names (`awq.quantize`): an import of one, or of a module below it, is the project's own
    code, not that library (`firstparty.namespace_modules`)."""

    def reports_own_findings(self) -> bool:
        """Whether the project index gives the file a finding of its own to report (an import that
        leaves a CUDA extension out of ROCm, calls of an extension ROCm builds without GPU code),
        which a file whose bytes name nothing the catalog looks for must still be analysed for."""
        return bool(self.cuda_only_loads or self.unbuilt_extensions)

    def counterpart(self, target: str) -> Evidence | None:
        return next((c.evidence for c in self.counterparts if c.target == target), None)

    def variant(self, target: str) -> Evidence | None:
        return next((c.evidence for c in self.target_variants if c.target == target), None)

    def digest(self, shared: dict[int, tuple[object, str]] | None = None) -> str:
        """A short content hash of every fact, stable across runs and processes.

        The index hands many files the same tuples (a header's ported names, the project's
        macros): `shared`, kept for one scan, holds each tuple's text by identity, with the tuple
        (so that its `id` stays its own), and each is written out once rather than once per file."""
        parts = []
        for name in _field_names():
            value = getattr(self, name)
            if value is None or value is False or value == ():
                text = repr(value)  # most facts of most files: their text is short and known
            elif shared is not None and isinstance(value, tuple):
                known = shared.get(id(value))
                if known is None:
                    known = shared[id(value)] = (value, repr(value))
                text = known[1]
            else:
                text = repr(value)
            parts.append(f"{name}={text}\0")
        return hashlib.blake2b("".join(parts).encode(), digest_size=16).hexdigest()


def in_test_suite(path: str, facts: FileFacts) -> bool:
    """Whether the module at `path` is the project's test suite (`filekinds.is_test_path`), unless a
    document runs it by its path (`FileFacts.documented_script`): a script's name does not make it a
    test where the project's documents tell its users to run it."""
    return is_test_path(path) and not facts.documented_script


@functools.cache
def _field_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(FileFacts))


NO_FACTS = FileFacts()
