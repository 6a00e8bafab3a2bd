"""GitHub Actions workflows: jobs that only run on NVIDIA, and whether any job runs elsewhere.

A job is tied to NVIDIA by where it runs (a runner label such as `gpu` or `a100`, a CUDA
container image for the job or a service, as the Dockerfile rules' image tables know them)
and by what it does (a CUDA toolkit setup action,
`docker run --gpus`, `nvidia-smi` or `nvcc` in a `run:` script). Scripts are split into
commands and words with the shell reader the Dockerfile analyzer uses, so a word in an
`echo`, a comment or a quoted string is not a command.

A job that builds a Dockerfile (`docker/build-push-action`, or `docker build` / `docker buildx
build` in a script) which the project index knows to be built on a CUDA image, with no ROCm stage
and no ROCm counterpart, publishes (or tests) an NVIDIA-only image: the step is reported once, at
warning, citing the Dockerfile's `FROM` line; the Dockerfile's own finding says what its ROCm
image would be, this one where the project's images are built.

A CUDA image on a runner without a GPU runs the job on CPU; where the job also names no CUDA build
(`FORCE_CUDA`, `TORCH_CUDA_ARCH_LIST`, `nvcc`, a toolkit action) and the project's install compiles
nothing (`FileFacts.pure_python`), a ROCm image would run its steps the same way: a note on ROCm too.

Every job is also given a verdict: CUDA, or portable (on CPU or ROCm), or neither. A job
is ROCm when a runner label names ROCm or an AMD GPU (`rocm`, `mi300x`) or it runs in a
`rocm/` image or maps `/dev/kfd`; CPU when every label is a GitHub-hosted runner
(`ubuntu-latest`, `windows-2025`, `macos-15`; no GPU) and nothing in it needs CUDA; CUDA
when a label, image, action or command above needs NVIDIA. A self-hosted runner labelled
`cpu` is CPU too; one with no GPU, ROCm or CPU label is neither: nothing says what it is.
Runner labels taken from the job's matrix (`runs-on: ${{ matrix.runner }}`) are read per
matrix value. A job that calls a reusable workflow is judged by the runner it passes it
(`with: {runner: ...}`), the convention of PyTorch's shared CI workflows.

The repository question ("does any job run on CPU or ROCm?") spans every workflow. Each file
reports it at its first CUDA job's `runs-on` when that file has no CPU or ROCm job, unless the
project index (`workflow_jobs`, run on every workflow of the scan before any is analysed) says
another workflow has one, or an earlier workflow carries the answer: then it is reported once,
in the first CUDA workflow, and only when no workflow in the scan runs on CPU or ROCm.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from yaml.nodes import Node, ScalarNode

from cudaudit.facts import NO_FACTS, Evidence, FileFacts
from cudaudit.model import Edit, Finding, Portability, Severity, Span
from cudaudit.rules.catalog import Catalog
from cudaudit.rules.containers.images import needs_cuda
from cudaudit.rules.containers.shell import Word, split_commands
from cudaudit.rules.orchestration.images import parse_image
from cudaudit.rules.orchestration.rewrites import second_backend_job
from cudaudit.rules.orchestration.sites import Sites, find_entry
from cudaudit.rules.orchestration.yamldoc import (
    Positions,
    entry,
    get,
    items,
    load_documents,
    node_span,
    pair_span,
    pairs,
    scalar,
    scalar_source,
    scalars,
)
from cudaudit.settings import AnalysisSettings
from cudaudit.verdicts import TARGET_NAMES as _TARGET_NAMES
from cudaudit.verdicts import retarget

IMAGE = "ci-image"
"""Detector: the image of a job container or a service container."""
CUDA_IMAGE = "cuda-image"
"""Its key: an image the `[[image]]` tables of the container catalog know as a CUDA build."""
RUNNER_LABEL = "ci-runner-label"
"""Detector: a word of a runner label (`gpu` in `linux-gpu-a100`)."""
ACTION = "ci-action"
"""Detector: an action a step uses, lower case, without its `@ref`."""
DOCKER_GPU = "ci-docker-gpu"
"""Detector: how a `docker run` or a job container reaches GPUs (`--gpus`, `--runtime=nvidia`, `nvidia-docker`)."""
TOOL = "ci-tool"
"""Detector: the command a script runs."""
IMAGE_BUILD = "ci-image-build"
"""Detector: a step that builds a Dockerfile the index knows as CUDA-only."""
CUDA_IMAGE_ONLY = "cuda-image-only"
_BUILD_ACTIONS = frozenset({"docker/build-push-action"})
_BUILD_VALUED_OPTIONS = frozenset(
    {"-t", "--tag", "--build-arg", "--target", "--platform", "--cache-from", "--cache-to", "--label", "--secret",
     "-o", "--output", "--progress", "--network", "--add-host", "--ssh", "--iidfile", "--metadata-file",
     "--builder", "--shm-size", "--ulimit", "--build-context", "--annotation", "--attest", "--allow"}
)
"""`docker build` options that take the next word as their value; the first other word is the context."""
JOB_TARGETS = "ci-job-targets"
"""Detector: the repository-level verdict on what the jobs run on."""
NO_PORTABLE_JOB = "no-cpu-or-rocm-job"

GITHUB_HOSTED = re.compile(r"^(?:ubuntu|windows|macos)-[a-z0-9.-]+$")
"""GitHub-hosted runner labels, which have no GPU: ubuntu-latest, ubuntu-24.04-arm, windows-2025,
macos-15... (https://docs.github.com/en/actions/reference/runners/github-hosted-runners)."""
_ROCM_WORDS = re.compile(r"^(?:rocm|amdgpu|radeon|instinct|mi\d{3}[a-z]?|gfx[0-9a-f]{3,4})$")
"""Label words that name ROCm or an AMD GPU (`linux.rocm.gpu.2`, `mi300x`, `gfx942`); plain `amd` counts
only beside a GPU word, since `amd64` and AMD CPUs are common labels too."""
_CPU_WORD = "cpu"
"""A self-hosted runner labelled `cpu` says what it is."""
_MATRIX_VALUE = re.compile(r"^\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}$")
_MAX_VARIANTS = 64
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_WRAPPERS = frozenset(
    {"sudo", "time", "exec", "env", "nohup", "command", "watch", "timeout", "xargs",
     "if", "then", "else", "elif", "do", "while", "until", "!", "{"}
)
"""Words before the command proper: `sudo nvidia-smi`, `if nvidia-smi; then`."""
_CONTAINER_CLIS = frozenset({"docker", "podman", "nvidia-docker"})
_CONTAINER_STARTS = frozenset({"run", "create"})
_VALUED_OPTIONS = frozenset(
    {"-v", "--volume", "-e", "--env", "--env-file", "-w", "--workdir", "-p", "--publish", "-u", "--user",
     "--name", "--network", "--net", "--shm-size", "--ipc", "--entrypoint", "--mount", "--device",
     "--group-add", "--security-opt", "--cap-add", "--cap-drop", "--runtime", "--gpus", "-l", "--label",
     "--ulimit", "--platform", "--pull", "-h", "--hostname", "-m", "--memory", "--cpus", "--add-host",
     "--tmpfs", "--log-driver", "--restart", "--pid", "--userns", "--volumes-from", "--cidfile"}
)
"""`docker run` options that take the next word as their value; the first other word is the image."""


_IMAGE_RULE = "CDA701"
_CUDA_BUILD = re.compile(r"FORCE_CUDA|TORCH_CUDA_ARCH_LIST|CUDA_ARCH|nvcc|CUDA_HOME|cuda-toolkit|CUDACXX|CMAKE_CUDA")
"""What in a job's text builds for CUDA: the switches and paths of PyTorch's extension builds and
CMake's, the compiler, a toolkit setup action."""


@dataclass(frozen=True)
class JobVerdict:
    """What one job runs on, and where it says so."""

    runs_on: Span
    cuda: bool
    rocm: bool = False
    """It runs on ROCm: a runner labelled for AMD GPUs, a `rocm/` image, `/dev/kfd`."""
    cpu: bool = False
    """It runs on CPU: a GitHub-hosted runner or one labelled `cpu`, and nothing in it needs CUDA."""
    cpu_runner: bool = False
    """Its runner has no GPU, whatever its containers hold (a CUDA build image on `ubuntu-22.04`)."""
    builds_cuda: bool = False
    """Its text names a CUDA build (`FORCE_CUDA`, `TORCH_CUDA_ARCH_LIST`, `nvcc`, `CUDA_HOME`, a
    toolkit action): what it compiles in a CUDA image is CUDA code, GPU or not."""
    lines: tuple[int, int] = (0, 0)
    """The first and last line of the job."""

    @property
    def portable(self) -> bool:
        return self.rocm or self.cpu


@dataclass
class _Needs:
    """What a job's containers and steps need, whatever runner it lands on."""

    cuda: bool = False
    rocm: bool = False


def analyze_workflow(
    text: str, path: str, catalog: Catalog, settings: AnalysisSettings, facts: FileFacts = NO_FACTS
) -> list[Finding]:
    """Findings for one workflow; raises UnparsableError for malformed YAML."""
    sites = Sites(text, path, catalog, settings)
    built: dict[Span, tuple[str, int, str]] = {}
    jobs = read_jobs(text, sites, _BuiltImages(path, facts.cuda_images, built))
    job_sites = [_with_dockerfile(finding, built) for finding in sites.findings()]
    first_cuda = next((job for job in jobs if job.cuda), None)
    if first_cuda is not None and not any(job.portable for job in jobs) and not facts.ci_answered_elsewhere:
        sites.report(JOB_TARGETS, NO_PORTABLE_JOB, first_cuda.runs_on, _second_backend_job(text, first_cuda, settings))
    covered = dict(facts.ci_targets)
    # The repository-level finding (CDA710), if any, comes after the jobs' own sites.
    return [
        _where_ci_runs(finding, jobs, covered, facts.pure_python) for finding in job_sites
    ] + sites.findings()[len(job_sites):]


class _BuiltImages:
    """The CUDA-only Dockerfiles of the project, by their path from the repository's top, and the
    steps of this workflow found to build one (`built`)."""

    def __init__(self, workflow: str, images: tuple[tuple[str, int, str], ...], built: dict[Span, tuple[str, int, str]]):
        marker = ".github/workflows/"
        at = workflow.find(marker)
        self.root = workflow[:at] if at >= 0 else ""
        self.images = {posixpath.normpath(path): (path, line, image) for path, line, image in images}
        self.built = built

    def dockerfile(self, context: str | None, file: str | None) -> tuple[str, int, str] | None:
        """The CUDA-only Dockerfile a build of `context` (default: the checkout) with `file` uses, if any."""
        if not self.images or any("$" in part for part in (context or "", file or "")):
            return None
        if file is None:
            file = posixpath.join(context or ".", "Dockerfile")
        return self.images.get(posixpath.normpath(posixpath.join(self.root, file)))


def _with_dockerfile(finding: Finding, built: dict[Span, tuple[str, int, str]]) -> Finding:
    """A build step's finding names the Dockerfile and the CUDA image it is built on."""
    found = built.get(finding.span)
    if found is None or finding.rule != "CDA706":
        return finding
    path, line, image = found
    targets = {
        target: Portability(fact.status, f"`{path}` is built on `{image}`; {fact.replacement}", f"{path}:{line}", fact.severity)
        for target, fact in finding.targets.items()
    }
    return retarget(finding, targets)


def _where_ci_runs(finding: Finding, jobs: list[JobVerdict], covered: dict[str, str], pure: Evidence | None) -> Finding:
    """A CUDA site of one job, on the targets the CI already runs on: a job on a runner without a GPU
    runs on CPU whatever image it uses, and where some job of the project runs on ROCm (or CPU), a
    job on NVIDIA's hardware is NVIDIA's share of the CI, not what keeps the project off that target.
    A CUDA image on a runner without a GPU, in a job that names no CUDA build, of a project whose
    install compiles nothing (`pure`): its steps run the project on CPU, and a ROCm image would run
    the same steps the same way, so it needs no change for ROCm either."""
    job = next((job for job in jobs if job.lines[0] <= finding.span.line <= job.lines[1]), None)
    targets = dict(finding.targets)
    cpu_tests = (
        finding.rule == _IMAGE_RULE and pure is not None and job is not None and job.cpu_runner and not job.builds_cuda
    )
    for target, fact in finding.targets.items():
        if fact.severity is Severity.NOTE:
            continue
        if target == "cpu" and job is not None and job.cpu_runner:
            reason, source = "the job already runs on a runner without a GPU", f"{finding.path}:{job.runs_on.line}"
        elif cpu_tests and job is not None and pure is not None:
            reason = f"the job runs on a runner without a GPU and builds nothing for CUDA (`{pure.path}`: {pure.text}): its steps run on CPU"
            source = f"{finding.path}:{job.runs_on.line}"
        elif target in covered:
            reason, source = f"`{covered[target]}` runs CI jobs on {_TARGET_NAMES[target]}", covered[target]
        else:
            continue
        replacement = reason + (f"; else {fact.replacement}" if fact.replacement else "")
        targets[target] = Portability(fact.status, replacement, source, Severity.NOTE)
    return retarget(finding, targets)


def _second_backend_job(text: str, first_cuda: JobVerdict, settings: AnalysisSettings) -> tuple[str, Edit] | None:
    """The CDA710 rewrite for the document that holds the first CUDA job."""
    for document in load_documents(text):
        start, end = document.start_mark.line + 1, document.end_mark.line + 1
        if start <= first_cuda.runs_on.line <= end:
            return second_backend_job(text, document, settings)
    return None


def workflow_jobs(path: str, text: str, catalog: Catalog) -> tuple[bool, bool, bool]:
    """Whether a workflow has a job that needs CUDA, one that runs on ROCm and one that runs on CPU
    (for the index)."""
    jobs = read_jobs(text, Sites(text, path, catalog, AnalysisSettings()))
    return any(job.cuda for job in jobs), any(job.rocm for job in jobs), any(job.cpu for job in jobs)


def read_jobs(text: str, sites: Sites, images: _BuiltImages | None = None) -> list[JobVerdict]:
    """Report every CUDA site of a workflow's jobs to `sites`; the verdict on each job. `images`:
    the project's CUDA-only Dockerfiles, whose builds are reported too."""
    positions = Positions(text)
    verdicts = []
    for document in load_documents(text):
        for name, job in pairs(get(document, "jobs")):
            verdicts.append(_Job(job, name, text, positions, sites, images).verdict())
    return verdicts


class _Job:
    """One job, read once: its CUDA sites are reported as they are met, then its verdict is given."""

    def __init__(
        self, job: Node, name: ScalarNode, text: str, positions: Positions, sites: Sites, images: _BuiltImages | None
    ) -> None:
        self.job = job
        self.name = name
        self.text = text
        self.positions = positions
        self.sites = sites
        self.images = images
        self.needs = _Needs()

    def verdict(self) -> JobVerdict:
        self._containers()
        self._steps()
        runs_on = self._runs_on()
        variants = [self._variant(labels) for labels in self._runner_variants(runs_on[1] if runs_on else None)]
        return JobVerdict(
            pair_span(*runs_on) if runs_on else node_span(self.name),
            cuda=any(variant[0] for variant in variants),
            rocm=any(variant[1] for variant in variants),
            cpu=any(variant[2] for variant in variants),
            cpu_runner=bool(variants) and all(variant[3] for variant in variants),
            builds_cuda=_CUDA_BUILD.search(self.text, self.name.start_mark.index, self.job.end_mark.index) is not None,
            lines=(self.name.start_mark.line + 1, self.job.end_mark.line + 1),
        )

    def _runs_on(self) -> tuple[ScalarNode, Node] | None:
        """`runs-on:`, or for a job that calls a reusable workflow the runner it passes it.

        The called workflow (often in another repository, such as pytorch/test-infra's
        `linux_job_v2.yml`) runs on `${{ inputs.runner }}`; the caller's `with: runner:` (or
        `runs-on:`) is the only place the label is written.
        """
        if get(self.job, "uses") is None:
            return entry(self.job, "runs-on")
        arguments = get(self.job, "with")
        return entry(arguments, "runner") or entry(arguments, "runs-on")

    def _containers(self) -> None:
        """The job container (`container: image` or `container: {image, options}`) and `services`."""
        containers = [found for found in [entry(self.job, "container")] if found]
        containers.extend(pairs(get(self.job, "services")))
        for key, container in containers:
            image = (key, container) if scalar(container) is not None else entry(container, "image")
            name = (scalar(image[1]) or "") if image else ""
            reference = parse_image(name)
            if reference is not None and reference.is_rocm:
                self.needs.rocm = True
            elif image and needs_cuda(name, self.sites.catalog) and self.sites.report(IMAGE, CUDA_IMAGE, pair_span(*image)):
                self.needs.cuda = True
            options = get(container, "options")
            if isinstance(options, ScalarNode) and scalar(options) is not None:
                script, base = scalar_source(options, self.text)
                for words in split_commands(script):
                    self._container_options(words, base)

    def _steps(self) -> None:
        for step in items(get(self.job, "steps")):
            uses = entry(step, "uses")
            action = (scalar(uses[1]) or "").partition("@")[0].lower() if uses else ""
            if uses and action and self.sites.report(ACTION, action, pair_span(*uses)):
                self.needs.cuda = True
            if uses and action in _BUILD_ACTIONS:
                arguments = get(step, "with")
                self._built(scalar(get(arguments, "context")), scalar(get(arguments, "file")), pair_span(*uses))
            run = get(step, "run")
            if isinstance(run, ScalarNode) and scalar(run) is not None:
                self._script(*scalar_source(run, self.text))

    def _script(self, script: str, base: int) -> None:
        for words in split_commands(script):
            self._command(words, base)
            for word in words:
                for start, end in _substitutions(word, script):
                    self._script(script[start:end], base + start)

    def _command(self, words: list[Word], base: int) -> None:
        first = _command_word(words)
        if first is None:
            return
        word = words[first]
        name = word.text.rpartition("/")[2]
        span = self.positions.span(base + word.start, base + word.end)
        if any([self.sites.report(TOOL, name, span), self.sites.report(DOCKER_GPU, name, span)]):
            self.needs.cuda = True  # `nvidia-smi`, `nvcc`, or the `nvidia-docker` wrapper
        rest = words[first + 1 :]
        if rest and rest[0].text == "container":
            rest = rest[1:]
        if name in _CONTAINER_CLIS and rest and rest[0].text in _CONTAINER_STARTS:
            self._container_options(_options_before_image(rest[1:]), base)
        if rest and rest[0].text in ("buildx", "image"):
            rest = rest[1:]
        if name in _CONTAINER_CLIS and rest and rest[0].text == "build":
            context, file = _build_arguments(rest[1:])
            self._built(context, file, span)

    def _built(self, context: str | None, file: str | None, span: Span) -> None:
        """A step that builds an image: reported where the Dockerfile it builds is CUDA-only."""
        if self.images is None:
            return
        found = self.images.dockerfile(context, file)
        if found is not None and self.sites.report(IMAGE_BUILD, CUDA_IMAGE_ONLY, span):
            self.images.built[span] = found

    def _container_options(self, words: list[Word], base: int) -> None:
        """`--gpus all`, `--gpus=all`, `--runtime=nvidia`; `--device /dev/kfd` makes the job ROCm."""
        for at, word in enumerate(words):
            flag, _, value = word.text.partition("=")
            following = words[at + 1] if at + 1 < len(words) else None
            if not value and following is not None and flag in ("--gpus", "--runtime"):
                value, end = following.text, following.end
            else:
                end = word.end
            if "/dev/kfd" in word.text:
                self.needs.rocm = True
            elif flag in ("--gpus", "--runtime"):
                key = flag if flag == "--gpus" else f"{flag}={value}"
                if self.sites.report(DOCKER_GPU, key, self.positions.span(base + word.start, base + end)):
                    self.needs.cuda = True

    def _runner_variants(self, runs_on: Node | None) -> list[list[ScalarNode]]:
        """The label sets the job may run on: one per matrix value its `runs-on` names."""
        labels = scalars(runs_on) or scalars(get(runs_on, "group")) + scalars(get(runs_on, "labels"))
        matrix = get(get(self.job, "strategy"), "matrix")
        variants: list[list[ScalarNode]] = [[]]
        for label in labels:
            choices = _matrix_values(label, matrix) or [[label]]
            variants = [variant + choice for variant in variants for choice in choices][:_MAX_VARIANTS]
        return variants

    def _variant(self, labels: list[ScalarNode]) -> tuple[bool, bool, bool, bool]:
        """(CUDA, ROCm, CPU, a runner without a GPU) for the job on a runner with these labels."""
        words = [_words(scalar(label) or "") for label in labels]
        gpu = [find_entry(self.sites.catalog, RUNNER_LABEL, label_words) is not None for label_words in words]
        flat = {word for label_words in words for word in label_words}
        if self.needs.rocm or any(_ROCM_WORDS.match(word) for word in flat) or ("amd" in flat and any(gpu)):
            return False, True, False, False
        cuda = self.needs.cuda
        for label, label_words, is_gpu in zip(labels, words, gpu):
            if is_gpu and self.sites.report(RUNNER_LABEL, label_words, node_span(label)):
                cuda = True
                break  # one runner, one finding: `[self-hosted, nvidia, v100]` names one machine twice
        hosted = bool(labels) and all(GITHUB_HOSTED.match((scalar(label) or "").lower()) for label in labels)
        cpu_runner = (hosted or _CPU_WORD in flat) and not any(gpu)
        return cuda, False, cpu_runner and not cuda, cpu_runner


def _words(label: str) -> list[str]:
    """`linux.g5.4xlarge.nvidia.gpu` as `linux`, `g5`, `4xlarge`, `nvidia`, `gpu`: the catalog knows words."""
    return [word for word in re.split(r"[^a-z0-9]+", label.lower()) if word]


def _matrix_values(label: ScalarNode, matrix: Node | None) -> list[list[ScalarNode]]:
    """`${{ matrix.runner }}` as the label sets its matrix lists, `include` entries too; [] when not one."""
    found = _MATRIX_VALUE.match((scalar(label) or "").strip())
    if found is None:
        return []
    values = items(get(matrix, found.group(1)))
    values.extend(value for extra in items(get(matrix, "include")) if (value := get(extra, found.group(1))) is not None)
    return [choice for value in values if (choice := scalars(value))]


def _command_word(words: list[Word]) -> int | None:
    """The index of the command a simple command runs, past assignments and wrappers."""
    wrapped = False
    for at, word in enumerate(words):
        text = word.text
        if text in _WRAPPERS or _ASSIGNMENT.match(text):
            wrapped = wrapped or text in _WRAPPERS
        elif not (wrapped and (text.startswith("-") or text[:1].isdigit())):
            return at
    return None


def _build_arguments(words: list[Word]) -> tuple[str | None, str | None]:
    """The context and the `-f`/`--file` Dockerfile of `docker build`'s arguments."""
    context = file = None
    at = 0
    while at < len(words):
        text = words[at].text
        if text in ("-f", "--file") and at + 1 < len(words):
            file, at = words[at + 1].text, at + 2
        elif text.startswith("--file="):
            file, at = text.partition("=")[2], at + 1
        elif text in _BUILD_VALUED_OPTIONS:
            at += 2
        elif text.startswith("-"):
            at += 1
        else:
            context = context or text
            at += 1
    return context, file


def _options_before_image(words: list[Word]) -> list[Word]:
    """The options of `docker run`: arguments after the image belong to the container's command."""
    at = 0
    while at < len(words) and words[at].text.startswith("-"):
        takes_value = words[at].text in _VALUED_OPTIONS
        at += 2 if takes_value else 1
    return words[: min(at, len(words))]


def _substitutions(word: Word, script: str) -> list[tuple[int, int]]:
    """Script offsets of the commands inside `$( ... )` in a word, which the reader keeps as written."""
    found = []
    for match in re.finditer(r"\$\(", word.text):
        start = word.offsets(match.start(), match.end())[0] + 2
        if not script.startswith("$(", start - 2):
            continue
        depth, at = 1, start
        while at < len(script) and depth:
            depth += {"(": 1, ")": -1}.get(script[at], 0)
            at += 1
        found.append((start, at - 1 if depth == 0 else at))
    return found
