"""Dockerfile stages: build steps of CUDA stages (CDA509), and severities that follow the stage."""

from __future__ import annotations

import pytest

from cudaudit.model import Severity
from support import analyze, scan_json, write


def stage_steps(dockerfile: str, targets: tuple[str, ...] = ("rocm", "cpu")):
    return [f for f in analyze(dockerfile, targets=targets, path="Dockerfile") if f.rule == "CDA509"]


def flagged_texts(dockerfile: str) -> list[str]:
    lines = dockerfile.split("\n")
    return [lines[f.span.line - 1][f.span.column - 1 : f.span.end_column - 1] for f in stage_steps(dockerfile)]


def test_pypi_torch_names_the_rocm_index_of_the_pinned_release():
    [finding] = stage_steps("FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\nRUN pip install torch==2.7.1\n")
    assert "https://download.pytorch.org/whl/rocm6.3" in finding.targets["rocm"].replacement
    assert "torch 2.7.1" in finding.targets["rocm"].replacement
    assert "`cu126` build" in finding.message
    assert finding.severity is Severity.ERROR


def test_torchvision_pin_gives_the_torch_release_of_the_whole_install():
    findings = stage_steps("FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\nRUN pip install torch torchvision==0.19.1\n")
    assert [f.targets["rocm"].replacement.split("`")[1] for f in findings] == [
        "--index-url https://download.pytorch.org/whl/rocm6.1"
    ] * 2


def test_an_unpinned_install_is_told_the_newest_release_and_to_pin_it():
    [finding] = stage_steps("FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\nRUN pip install 'torch>=2.1'\n")
    assert "the newest release; pin it" in finding.targets["rocm"].replacement


def test_a_step_is_no_more_serious_than_its_stage_image():
    """nvidia/cuda runtime images still start on a CPU host (a note there), so their steps are notes on CPU."""
    [finding] = stage_steps("FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\nRUN pip install torch\n", ("cpu",))
    assert finding.severity is Severity.NOTE
    [rocm] = stage_steps("FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\nRUN pip install torch\n", ("rocm",))
    assert rocm.severity is Severity.ERROR


def test_a_cuda_only_package_in_a_cuda_image_is_no_more_serious_than_the_image():
    """`pip install xformers` in an image built on `nvidia/cuda`: a CPU host meets the image (a note
    there) before the package, so the package is a note on CPU too; on ROCm it stays what it is, the
    image's error bounding it. The same line in a stage on a plain image keeps its CPU verdict."""
    def package(dockerfile: str):
        (found,) = [f for f in analyze(dockerfile, path="Dockerfile") if f.rule == "CDA604"]
        return found.targets["rocm"].severity, found.targets["cpu"].severity

    assert package("FROM nvidia/cuda:12.4.1-base-ubuntu22.04\nRUN pip install cupy-cuda12x\n") == (
        Severity.WARNING, Severity.NOTE)
    assert package("FROM python:3.12-slim\nRUN pip install cupy-cuda12x\n")[1] is not Severity.NOTE


def test_a_cuda_build_pinned_or_indexed_in_a_cuda_image_is_no_more_serious_than_the_image():
    """`torchaudio==0.13.1+cu116` from the `cu116` index in a stage built on a CUDA PyTorch image: a CPU
    host meets the image first (a note there), and the CUDA build runs on its CPU: notes on CPU. On a
    plain image the pin and the index keep their CPU warnings."""
    line = "RUN pip install torchaudio==0.13.1+cu116 --extra-index-url https://download.pytorch.org/whl/cu116\n"

    def cpu(base: str) -> dict[str, Severity]:
        found = analyze(f"FROM {base}\n{line}", path="Dockerfile")
        return {f.rule: f.targets["cpu"].severity for f in found if f.rule in ("CDA601", "CDA602")}

    assert cpu("pytorch/pytorch:1.13.1-cuda11.6-cudnn8-devel") == {"CDA601": Severity.NOTE, "CDA602": Severity.NOTE}
    assert cpu("python:3.10-slim") == {"CDA601": Severity.WARNING, "CDA602": Severity.WARNING}


def test_indexes_and_backends_chosen_on_purpose_are_not_pypi_torch():
    for step in (
        "RUN pip install torch --index-url https://download.pytorch.org/whl/rocm6.2",
        "RUN pip install --extra-index-url=https://download.pytorch.org/whl/cpu torch",
        "RUN uv pip install torch --torch-backend=auto",
        "RUN UV_TORCH_BACKEND=cpu uv pip install torch",
        "RUN export PIP_INDEX_URL=https://download.pytorch.org/whl/cpu && pip install torch",
        "RUN pip install torch==2.5.1+cpu -f https://download.pytorch.org/whl/torch_stable.html",
        "RUN pip install https://download.pytorch.org/whl/cu121/torch-2.3.1%2Bcu121-cp311-cp311-linux_x86_64.whl",
    ):
        assert stage_steps(f"FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n{step}\n") == [], step


def test_a_pypi_mirror_is_still_pypi():
    dockerfile = (
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n"
        "RUN pip install -i https://mirrors.aliyun.com/pypi/simple/ torch torchaudio\n"
    )
    assert flagged_texts(dockerfile) == ["torch", "torchaudio"]


def test_an_export_lasts_for_its_own_run_only():
    dockerfile = (
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n"
        "RUN export TORCH_CUDA_ARCH_LIST='8.0' && pip install .\n"
        "RUN pip install -e /src\n"
    )
    assert flagged_texts(dockerfile) == ["pip install ."]


def test_a_stage_built_on_a_cuda_stage_keeps_its_environment():
    dockerfile = (
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04 AS base\n"
        "ENV TORCH_CUDA_ARCH_LIST=\"8.0;9.0\"\n"
        "FROM base AS build\n"
        "RUN bash -c 'pip install git+https://github.com/example/kernels.git'\n"
    )
    [finding] = stage_steps(dockerfile)
    assert finding.span.line == 4 and "`TORCH_CUDA_ARCH_LIST`" in finding.message


def test_cmake_and_make_switches_that_turn_cuda_on():
    dockerfile = (
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n"
        "RUN cmake -B b -DWITH_CUDA=ON -DUSE_CUDA=OFF -DGPU_RUNTIME=CUDA -DCMAKE_CUDA_ARCHITECTURES=OFF"
        " -DGGML_CUDA=ON && make CUDA=1 GPU=1\n"
    )
    assert flagged_texts(dockerfile) == ["-DWITH_CUDA=ON", "-DGPU_RUNTIME=CUDA", "CUDA=1"]


def test_architectures_for_a_cuda_switch_that_is_off_build_nothing():
    dockerfile = (
        "FROM nvidia/cuda:12.8.0-cudnn-devel-ubuntu24.04\n"
        "ARG llamacpp_cuda=OFF\n"
        "RUN cmake -B build -DCMAKE_CUDA_ARCHITECTURES=80-real -DGGML_CUDA=${llamacpp_cuda}\n"
    )
    assert stage_steps(dockerfile) == []


def test_a_rocm_stage_makes_the_cuda_stages_notes_on_rocm_and_is_named():
    dockerfile = (
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04 AS cuda\n"
        "RUN pip install torch && nvidia-smi\n"
        "FROM ghcr.io/huggingface/text-generation-inference:3.3.5-rocm AS rocm\n"
        "RUN pip install torch --index-url https://download.pytorch.org/whl/rocm6.2\n"
    )
    findings = analyze(dockerfile, targets=("rocm",), path="Dockerfile")
    assert {f.rule for f in findings} == {"CDA501", "CDA509", "CDA211"}
    assert {f.severity for f in findings} == {Severity.NOTE}
    assert all("`rocm` stage on line 3" in f.targets["rocm"].replacement for f in findings)


def test_a_plain_distribution_stage_is_no_rocm_sibling():
    dockerfile = (
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04 AS build\n"
        "RUN pip install torch\n"
        "FROM python:3.12-slim\n"
        "COPY --from=build /opt /opt\n"
    )
    [finding] = stage_steps(dockerfile)
    assert finding.severity is Severity.ERROR


def test_build_steps_outside_cuda_stages_are_left_to_other_rules():
    dockerfile = (
        "FROM python:3.12-slim\n"
        "ENV TORCH_CUDA_ARCH_LIST=8.0\n"
        "RUN pip install torch && pip install . && cmake -B b -DUSE_CUDA=ON\n"
    )
    assert stage_steps(dockerfile) == []


def test_built_wheels_and_output_folders_are_no_source_builds():
    dockerfile = (
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n"
        "ENV TORCH_CUDA_ARCH_LIST=9.0\n"
        "RUN pip wheel --no-deps --wheel-dir /wheels ninja && pip install /wheels/*.whl\n"
        "RUN pip download -d /tmp/src numpy\n"
    )
    assert stage_steps(dockerfile) == []


def test_only_the_stages_the_default_build_reaches_keep_their_severity():
    """`FROM ${CUDA_VERSION}-base` with `ARG CUDA_VERSION=cu128`: BuildKit builds `final`, `cu128-base` and
    the stages they copy from; `cu130-base` and its steps only with `--build-arg CUDA_VERSION=cu130`."""
    dockerfile = (
        "ARG CUDA_VERSION=cu128\n"
        "FROM nvidia/cuda:12.8.1-devel-ubuntu24.04 AS builder\n"
        "RUN pip wheel --wheel-dir /wheels torch\n"
        "FROM nvidia/cuda:13.0.3-base-ubuntu24.04 AS cu130-base\n"
        "RUN pip install torch\n"
        "FROM nvidia/cuda:12.8.1-base-ubuntu24.04 AS cu128-base\n"
        "FROM ${CUDA_VERSION}-base AS final\n"
        "COPY --from=0 /wheels /wheels\n"
    )
    found = {(f.span.line, f.rule): f.severity for f in analyze(dockerfile, path="Dockerfile") if f.rule in ("CDA501", "CDA509")}
    assert found == {
        (2, "CDA501"): Severity.ERROR,
        (3, "CDA509"): Severity.ERROR,
        (4, "CDA501"): Severity.WARNING,
        (5, "CDA509"): Severity.WARNING,
        (6, "CDA501"): Severity.ERROR,
    }


def test_without_a_stage_chosen_by_a_build_argument_every_stage_keeps_its_severity():
    """An unreached stage of a file that picks no stage by argument may be what `--target` builds."""
    dockerfile = "FROM nvidia/cuda:12.8.1-devel-ubuntu24.04 AS dev\nFROM python:3.12-slim AS app\n"
    [finding] = [f for f in analyze(dockerfile, path="Dockerfile") if f.rule == "CDA501"]
    assert finding.severity is Severity.ERROR


PURE_PROJECT = {
    "pyproject.toml": '[project]\nname = "sampler"\nversion = "0.1"\n',
    "sampler/__init__.py": "STEPS = 4\n",
    "README.md": "Build the image with `docker build .`\n",
}
"""A project whose install copies Python files: no C, C++, CUDA or CMake source, no compiling backend."""


def _scanned(cli, tmp_path, dockerfile: str, files: dict[str, str]) -> list[tuple[int, str]]:
    for name, text in {**files, "Dockerfile": dockerfile}.items():
        write(tmp_path / name, text)
    return [(f["line"], f["rule"]) for f in scan_json(cli, str(tmp_path))["findings"] if f["rule"] == "CDA509"]


def test_installing_the_projects_own_pure_python_files_builds_no_cuda_extension(cli, tmp_path):
    dockerfile = (
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n"
        "ENV TORCH_CUDA_ARCH_LIST=\"8.0;9.0\"\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "RUN pip install -e .\n"
        "COPY . /opt/src\n"
        "RUN cd /opt/src && pip install '.[serve]'\n"
        "RUN git clone https://github.com/example/kernels.git /opt/kernels && cd /opt/kernels && pip install .\n"
        "RUN cd /tmp && pip install .\n"
    )
    # The clone and a folder no COPY filled are someone else's project: they keep their findings.
    assert _scanned(cli, tmp_path, dockerfile, PURE_PROJECT) == [(8, "CDA509"), (9, "CDA509")]


def test_the_context_is_followed_through_onbuild_and_copies_between_stages(cli, tmp_path):
    dockerfile = (
        "FROM scratch AS source\n"
        "ONBUILD COPY . /tmp/project\n"
        "FROM source AS copied\n"
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n"
        "COPY --from=copied /tmp/project/ /tmp/project\n"
        "RUN export TORCH_CUDA_ARCH_LIST=8.0 && pip install /tmp/project\n"
    )
    assert _scanned(cli, tmp_path, dockerfile, PURE_PROJECT) == []


def test_a_project_that_compiles_something_keeps_its_extension_build(cli, tmp_path):
    dockerfile = "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\nENV FORCE_CUDA=1\nCOPY . /src\nRUN pip install /src\n"
    with_source = {**PURE_PROJECT, "sampler/csrc/op.cpp": "int op() { return 0; }\n"}
    assert _scanned(cli, tmp_path / "a", dockerfile, with_source) == [(4, "CDA509")]
    with_extension = {**PURE_PROJECT, "setup.py": "from setuptools import Extension, setup\nsetup(ext_modules=[Extension('op', ['op.c'])])\n"}
    assert _scanned(cli, tmp_path / "b", dockerfile, with_extension) == [(4, "CDA509")]
    handed_on = {**PURE_PROJECT, "setup.py": "from setuptools import setup\nfrom build_config import options\nsetup(**options)\n# Extension\n"}
    assert _scanned(cli, tmp_path / "c", dockerfile, handed_on) == [(4, "CDA509")]


def test_a_setup_py_that_gives_setup_no_extension_compiles_nothing(cli, tmp_path):
    """A leftover helper that would build a `CUDAExtension`, while `setup()` is given none: nothing compiles."""
    dockerfile = "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\nENV FORCE_CUDA=1\nCOPY . /src\nRUN pip install /src\n"
    setup = (
        "from setuptools import setup\nfrom torch.utils.cpp_extension import BuildExtension, CUDAExtension\n\n"
        "def make_ext(name, sources):\n    return CUDAExtension(name, sources)\n\n"
        "setup(name='sampler', ext_modules=[], cmdclass={'build_ext': BuildExtension})\n"
    )
    assert _scanned(cli, tmp_path, dockerfile, {**PURE_PROJECT, "setup.py": setup}) == []


PLAIN_SETUP = {
    "setup.py": "from setuptools import find_packages, setup\n\nsetup(name='sampler', url='https://github.com/example-org/sampler', packages=find_packages())\n",
    "sampler/__init__.py": "STEPS = 4\n",
    "README.md": "Build the image with `docker build docker/`\n",
}
"""A project whose `setup.py` names its home repository and gives `setup()` no extension."""


def test_a_clone_of_the_projects_own_repository_holds_its_own_files(cli, tmp_path):
    """The image fetches the project it belongs to instead of copying the build context: installing it
    builds what the project builds (nothing here); a clone of another repository keeps its finding."""
    dockerfile = (
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n"
        "ARG TOKEN=none\n"
        "RUN git clone --depth 1 https://ci:${TOKEN}@github.com/Example-Org/sampler.git /sampler\n"
        "WORKDIR /sampler\n"
        "ENV FORCE_CUDA=\"1\"\n"
        "RUN pip install --no-cache-dir -e .\n"
        "RUN git clone -b main https://github.com/example-org/kernels /opt/kernels\n"
        "RUN cd /opt/kernels && pip install .\n"
        "RUN cd /tmp && git clone https://github.com/example-org/sampler && pip install ./sampler\n"
    )
    assert _scanned(cli, tmp_path, dockerfile, PLAIN_SETUP) == [(8, "CDA509")]


def test_a_home_is_read_only_from_the_declarations_own_tables(cli, tmp_path):
    """A `project` that is no table, or a dependency's URL, names no home: the clone keeps its finding."""
    dockerfile = (
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\nENV FORCE_CUDA=1\n"
        "RUN git clone https://github.com/example-org/sampler /sampler && cd /sampler && pip install .\n"
    )
    odd = {"pyproject.toml": 'project = "sampler"\n', "sampler/__init__.py": "STEPS = 4\n", "README.md": "docker\n"}
    assert _scanned(cli, tmp_path / "a", dockerfile, odd) == [(3, "CDA509")]
    dependency = "from setuptools import setup\nsetup(name='app', install_requires=['sampler @ git+https://github.com/example-org/sampler'])\n"
    assert _scanned(cli, tmp_path / "b", dockerfile, {**PLAIN_SETUP, "setup.py": dependency}) == [(3, "CDA509")]


def test_native_files_beside_a_plain_setup_py_are_not_compiled_by_its_install(cli, tmp_path):
    """C++ in a deployment example is not what `setup()` builds; a `setup.py` running a command of its own may build it."""
    dockerfile = "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\nENV FORCE_CUDA=1\nCOPY . /src\nRUN pip install /src\n"
    example = {"examples/deploy/src/main.cpp": "int main() { return 0; }\n"}
    assert _scanned(cli, tmp_path / "a", dockerfile, {**PLAIN_SETUP, **example}) == []
    command = (
        "import subprocess\nfrom setuptools import setup\nfrom setuptools.command.build_py import build_py\n\n"
        "class Build(build_py):\n    def run(self):\n        subprocess.check_call(['make', '-C', 'examples/deploy'])\n"
        "        super().run()\n\nsetup(name='sampler', cmdclass={'build_py': Build})\n"
    )
    with_command = {**PLAIN_SETUP, **example, "setup.py": command}
    assert _scanned(cli, tmp_path / "b", dockerfile, with_command) == [(4, "CDA509")]


def test_named_files_alone_cannot_tell_that_the_project_compiles_nothing(cli, tmp_path):
    dockerfile = "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\nENV FORCE_CUDA=1\nCOPY . /src\nRUN pip install /src\n"
    for name, text in {**PURE_PROJECT, "Dockerfile": dockerfile}.items():
        write(tmp_path / name, text)
    report = scan_json(cli, "Dockerfile", "pyproject.toml")
    assert [f["line"] for f in report["findings"] if f["rule"] == "CDA509"] == [4]


def test_a_toolkit_location_set_in_a_cuda_stage_follows_from_the_base():
    dockerfile = (
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04\n"
        "ENV CUDA_HOME=/usr/local/cuda \\\n"
        "    TORCH_CUDA_ARCH_LIST=\"8.0\"\n"
        "ENV PATH=/usr/local/cuda/bin:$PATH\n"
        "RUN cp /usr/local/cuda/lib64/libcudart.so /opt/lib/\n"
        "RUN echo \"export LD_LIBRARY_PATH=/usr/local/cuda/lib64:$LD_LIBRARY_PATH\" >> /etc/bash.bashrc\n"
        "RUN export CUDA_HOME=/usr/local/cuda && export PATH=/usr/local/cuda/bin:$PATH && nvcc -o /opt/k /src/k.cu\n"
    )
    found = {(f.span.line, f.rule): f for f in analyze(dockerfile, path="Dockerfile") if f.rule in ("CDA212", "CDA505")}
    # The architecture list is read only by the CUDA build the base brings: it follows from the base too; so does a
    # `RUN` that only exports a toolkit path, or echoes that line into a shell profile, even before a compile.
    for site in ((2, "CDA212"), (3, "CDA212"), (4, "CDA505"), (6, "CDA505"), (7, "CDA212"), (7, "CDA505")):
        assert {t: fact.severity for t, fact in found[site].targets.items()} == {"rocm": Severity.NOTE, "cpu": Severity.NOTE}
        assert "line 1" in found[site].targets["rocm"].replacement
    # A step that copies toolkit files out of the image adds to the lock-in.
    assert found[(5, "CDA505")].targets["rocm"].severity is Severity.WARNING


def test_setting_a_toolkit_location_breaks_nothing_on_cpu():
    """Only reading it does (`os.environ["CUDA_HOME"]` on a CPU host); an `ENV` or `export` sets it."""
    for path, code in (("Dockerfile", "FROM python:3.12-slim\nENV CUDA_HOME=/usr/local/cuda\nRUN pip install .\n"),
                       ("build.sh", "export CUDA_PATH=/usr/local/cuda\ncmake -B build\n")):
        [finding] = [f for f in analyze(code, path=path) if f.rule == "CDA212"]
        assert finding.targets["cpu"].severity is Severity.NOTE
        assert finding.targets["rocm"].severity is Severity.WARNING
    [read] = [f for f in analyze('import os\nnvcc = os.environ["CUDA_HOME"] + "/bin/nvcc"\n') if f.rule == "CDA212"]
    assert read.targets["cpu"].severity is Severity.WARNING


@pytest.mark.parametrize(
    ("path", "code"),
    [
        # a launcher that points the variables at its own environment folder, then starts the app
        ("run_linux.sh", '#!/bin/bash\nENV_DIR="$(pwd)/runtime/env"\nexport CUDA_PATH="$ENV_DIR"\n'
                         'export CUDA_HOME="$CUDA_PATH"\nsource "$ENV_DIR/bin/activate"\npython app.py "$@"\n'),
        # a compile before the setting does not read it
        ("late.sh", "#!/bin/sh\nmake -C native\nexport CUDA_HOME=/usr/local/cuda\n"),
        ("Dockerfile", "FROM python:3.12-slim\nENV CUDA_HOME=/opt/env\nRUN pip install numpy && python -m app\n"),
    ],
)
def test_a_toolkit_location_that_no_compile_reads_is_a_note_everywhere(path, code):
    """On a ROCm host nothing reads `CUDA_HOME`/`CUDA_PATH` (PyTorch's extension builds look for them only on
    a CUDA build of PyTorch); only a compile the file runs after the setting can use it."""
    found = [f for f in analyze(code, path=path) if f.rule == "CDA212"]
    assert found
    for finding in found:
        assert {t: fact.severity for t, fact in finding.targets.items()} == {"rocm": Severity.NOTE, "cpu": Severity.NOTE}
        assert "compiles" in finding.targets["rocm"].replacement


def test_a_toolkit_location_a_later_compile_reads_keeps_its_rocm_warning():
    for path, code in (("build.sh", "export CUDA_HOME=/usr/local/cuda\nnvcc -c k.cu\n"),
                       ("setup.sh", "CUDA_HOME=/usr/local/cuda python setup.py build_ext\n"),
                       ("dev.sh", "export CUDA_HOME=/usr/local/cuda && pip install -e .\n")):
        [finding] = [f for f in analyze(code, path=path) if f.rule == "CDA212"]
        assert finding.targets["rocm"].severity is Severity.WARNING, path
