"""Lock files and conda environments through the real CLI: package-entry lines, channels, bad input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cudaudit.engine import FileTask, analyze_bytes
from cudaudit.filekinds import FileKind
from cudaudit.rules.catalog import load_catalog
from cudaudit.settings import AnalysisSettings
from support import scan_json, sites, write

UV_LOCK = """\
version = 1
requires-python = ">=3.10"

[[package]]
name = "nvidia-cublas-cu12"
version = "12.1.3.1"
source = { registry = "https://pypi.org/simple" }
wheels = [
    { url = "https://files.pythonhosted.org/packages/nvidia_cublas_cu12-12.1.3.1-py3-none-manylinux1_x86_64.whl", hash = "sha256:ee53" },
]

[[package]]
name = "torch"
version = "2.3.1+cu121"
source = { registry = "https://download.pytorch.org/whl/cu121" }
dependencies = [
    { name = "nvidia-cublas-cu12", marker = "platform_machine == 'x86_64'" },
]
wheels = [
    { url = "https://download.pytorch.org/whl/cu121/torch-2.3.1%2Bcu121-cp311-cp311-linux_x86_64.whl", hash = "sha256:1" },
]
"""

POETRY_LOCK = """\
[[package]]
name = "torch"
version = "2.4.1+cu124"
description = "Tensors and Dynamic neural networks in Python with strong GPU acceleration"
optional = false
python-versions = ">=3.8.0"
files = [
    {file = "torch-2.4.1+cu124-cp311-cp311-linux_x86_64.whl", hash = "sha256:2"},
]

[package.dependencies]
filelock = "*"

[package.source]
type = "legacy"
url = "https://download.pytorch.org/whl/cu124"
reference = "pytorch-cu124"

[[package]]
name = "cupy-cuda12x"
version = "13.3.0"
description = "CuPy: NumPy & SciPy for GPU"
optional = false
python-versions = ">=3.9"
files = []

[metadata]
lock-version = "2.0"
"""

PIPFILE = """\
[[source]]
url = "https://download.pytorch.org/whl/cu118"
verify_ssl = true
name = "pytorch"

[packages]
torch = {version = "==2.1.2+cu118", index = "pytorch"}
"onnxruntime-gpu" = "*"
numpy = "*"

[requires]
python_version = "3.10"
"""

PIPFILE_LOCK = """\
{
    "_meta": {
        "sources": [
            {"name": "pytorch", "url": "https://download.pytorch.org/whl/cu118", "verify_ssl": true}
        ]
    },
    "default": {
        "numpy": {"hashes": ["sha256:1"], "version": "==1.26.4"},
        "nvidia-nccl-cu11": {"hashes": ["sha256:2"], "version": "==2.19.3"},
        "torch": {"hashes": ["sha256:3"], "index": "pytorch", "version": "==2.1.2+cu118"}
    },
    "develop": {}
}
"""

PYLOCK = """\
lock-version = "1.0"
created-by = "uv"

[[packages]]
name = "torch"
version = "2.5.1+cu124"
index = "https://download.pytorch.org/whl/cu124"

[[packages.wheels]]
url = "https://download.pytorch.org/whl/cu124/torch-2.5.1%2Bcu124-cp311-cp311-linux_x86_64.whl"

[[packages]]
name = "numpy"
version = "2.1.3"
index = "https://pypi.org/simple"
"""

PDM_LOCK = """\
[metadata]
groups = ["default"]

[[package]]
name = "xformers"
version = "0.0.28.post1"
summary = "XFormers: A collection of composable Transformer building blocks."
dependencies = ["torch==2.4.1", "numpy"]
files = [
    {file = "xformers-0.0.28.post1-cp311-cp311-manylinux_2_28_x86_64.whl", hash = "sha256:4"},
]
"""


def test_each_lock_format_reports_the_lines_of_its_package_entries(cli, tmp_path):
    for name, text in [("uv.lock", UV_LOCK), ("poetry.lock", POETRY_LOCK), ("Pipfile", PIPFILE),
                       ("Pipfile.lock", PIPFILE_LOCK), ("pylock.toml", PYLOCK), ("pdm.lock", PDM_LOCK)]:
        write(tmp_path / name, text)
    report = scan_json(cli)
    assert report["errors"] == []
    # A generated lock restates its declarations: at most warnings; the Pipfile is a declaration.
    # Each `[[package]]` entry is one site, from its first CUDA line to its end (wheels, dependencies).
    assert entries(report, "uv.lock") == [(5, 10, "CDA603", "warning"), (14, 21, "CDA602", "warning")]
    assert entries(report, "poetry.lock") == [(3, 17, "CDA602", "warning"), (20, 25, "CDA604", "warning")]
    assert sites(report, "Pipfile") == [
        (2, 8, 46, "CDA601", "error"),
        (7, 28, 34, "CDA602", "error"),
        (8, 2, 17, "CDA604", "warning"),  # onnxruntime-gpu runs on the CPU provider elsewhere
    ]
    assert sites(report, "Pipfile.lock") == [
        (4, 41, 79, "CDA601", "warning"),
        (9, 10, 26, "CDA603", "warning"),
        (10, 82, 88, "CDA602", "warning"),
    ]
    assert entries(report, "pylock.toml") == [(6, 10, "CDA602", "warning")]
    assert entries(report, "pdm.lock") == [(5, 11, "CDA604", "warning")]
    torch = next(f for f in report["findings"] if f["path"] == "uv.lock" and f["line"] == 14)
    assert "rocm6.0" in torch["targets"]["rocm"]["replacement"]


def entries(report: dict, path: str) -> list[tuple[int, int, str, str]]:
    """(line, end line, rule, severity) of each finding in `path`."""
    return [(f["line"], f["end_line"], f["rule"], f["severity"]) for f in report["findings"] if f["path"] == path]


def test_malformed_lock_files_are_one_error_each(cli, tmp_path):
    write(tmp_path / "uv.lock", '[[package]]\nname = "nvidia-cublas-cu12\n')
    write(tmp_path / "Pipfile.lock", '{"default": {"nvidia-cublas-cu12": }\n')
    write(tmp_path / "requirements.txt", "pycuda\n")
    report = scan_json(cli)
    assert {(e["path"], e["line"]) for e in report["errors"]} == {("uv.lock", 2), ("Pipfile.lock", 1)}
    assert [f["path"] for f in report["findings"]] == ["requirements.txt"]


ENVIRONMENT = """\
# conda env create -f environment.yml
name: train
channels:
  - pytorch
  - nvidia
  - "https://conda.anaconda.org/nvidia/label/cuda-12.1.0"
  - conda-forge
dependencies:
  - python=3.10
  - pytorch=2.1.2
  - pytorch-cuda=12.1
  - "pytorch::torchvision=0.16.2=py310_cu121"
  - conda-forge::pytorch=2.4.1=cuda118_py310h1234567_300
  - nvidia::cuda-nvcc=12.1
  - numpy>=1.24
  # - cudatoolkit=11.8
  - cpuonly
  - pip
  - pip:
      - --extra-index-url https://download.pytorch.org/whl/cu121
      - xformers==0.0.23.post1
"""


def test_conda_channels_packages_builds_and_pip_list(cli, tmp_path):
    write(tmp_path / "environment.yml", ENVIRONMENT)
    report = scan_json(cli)
    assert report["errors"] == []
    assert sites(report, "environment.yml") == [
        (5, 5, 11, "CDA607", "warning"),
        (6, 6, 57, "CDA607", "warning"),
        (11, 5, 17, "CDA605", "error"),
        (12, 34, 45, "CDA606", "error"),
        (13, 32, 57, "CDA606", "error"),
        (14, 13, 22, "CDA605", "error"),  # one finding for the spec: the package, not its channel too
        (20, 27, 65, "CDA601", "error"),
        (21, 9, 17, "CDA604", "error"),
    ]
    index = next(f for f in report["findings"] if f["rule"] == "CDA601")
    assert "rocm5.6" in index["targets"]["rocm"]["replacement"]  # pytorch=2.1.2 from the conda list


def test_malformed_yaml_is_one_error_and_tags_never_run_anything(cli, tmp_path):
    write(tmp_path / "environment.yml", "dependencies:\n  - pytorch-cuda=12.1\n  - [unclosed\n")
    write(
        tmp_path / "envs" / "environment-tags.yml",
        "dependencies:\n  - !!python/object/apply:os.system ['touch ran']\n  - pytorch-cuda=12.1\n",
    )
    report = scan_json(cli)
    (error,) = report["errors"]
    assert (error["path"], error["line"]) == ("environment.yml", 4) and "invalid YAML" in error["message"]
    assert sites(report, "envs/environment-tags.yml") == [(3, 5, 17, "CDA605", "error")]
    assert not (tmp_path / "ran").exists()


def test_yaml_that_is_not_an_environment_is_quietly_skipped(cli, tmp_path):
    write(tmp_path / "environment.yml", "- just\n- a list of nvidia things\n")
    write(tmp_path / "conda-build.yaml", "channels: nvidia\ndependencies: {pytorch-cuda: 1}\n")
    report = scan_json(cli)
    assert report["errors"] == [] and report["findings"] == []


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([(FileKind.LOCKFILE, "uv.lock"), (FileKind.LOCKFILE, "Pipfile.lock"), (FileKind.PYPROJECT, "pyproject.toml"),
                     (FileKind.CONDA, "environment.yml"), (FileKind.SETUP, "setup.cfg"), (FileKind.REQUIREMENTS, "requirements.txt")]),
    st.lists(
        st.sampled_from(["[[package]]", "\n", "name = ", '"torch"', "'", '"""', "version", '"2.3.1+cu121"', "{", "}", "[", "]",
                         ",", ":", "- ", "nvidia", "pytorch-cuda=12.1", "#", "=", "cuda", "dependencies", "pip:", "  ", "\\", "é"]),
    ).map("".join),
)
def test_dependency_analyzers_never_raise(kind_and_name, text):
    kind, name = kind_and_name
    task = FileTask(name, name, (kind,), frozenset(load_catalog().rules))
    findings, errors = analyze_bytes(text.encode(), task, AnalysisSettings())
    assert not any("internal error" in e.message for e in errors), errors
    assert not (findings and errors)


VARIANT_LOCK = """\
version = 1
requires-python = ">=3.10"
conflicts = [[
    { package = "app", extra = "cpu" },
    { package = "app", extra = "gpu-cuda" },
    { package = "app", extra = "rocm" },
]]

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "numpy" },
]

[package.optional-dependencies]
cpu = [
    { name = "torch", version = "2.5.1+cpu", source = { registry = "https://download.pytorch.org/whl/cpu" } },
]
gpu-cuda = [
    { name = "torch", version = "2.5.1+cu124", source = { registry = "https://download.pytorch.org/whl/cu124" } },
]
rocm = [
    { name = "torch", version = "2.5.1+rocm6.2", source = { registry = "https://download.pytorch.org/whl/rocm6.2" } },
]
fast = [
    { name = "cupy-cuda12x" },
]

[[package]]
name = "numpy"
version = "2.1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "cupy-cuda12x"
version = "13.3.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "nvidia-cublas-cu12"
version = "12.4.5.8"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "torch"
version = "2.5.1+cpu"
source = { registry = "https://download.pytorch.org/whl/cpu" }

[[package]]
name = "torch"
version = "2.5.1+cu124"
source = { registry = "https://download.pytorch.org/whl/cu124" }
dependencies = [
    { name = "nvidia-cublas-cu12", marker = "(platform_machine == 'x86_64' and sys_platform == 'linux' and extra == 'extra-3-app-gpu-cuda') or (extra == 'extra-3-app-cpu' and extra == 'extra-3-app-rocm')" },
]

[[package]]
name = "torch"
version = "2.5.1+rocm6.2"
source = { registry = "https://download.pytorch.org/whl/rocm6.2" }
dependencies = [
    { name = "numpy", marker = "python_full_version >= '3.11'" },
]
"""


def test_a_lock_of_per_target_variants_reports_only_what_each_target_installs(cli, tmp_path):
    """The CUDA extra's torch and the NVIDIA wheel its marker pulls are installed by neither the
    `rocm` nor the `cpu` extra: one note. An ordinary extra that pulls a CUDA wheel into every
    variant keeps its warning."""
    write(tmp_path / "uv.lock", VARIANT_LOCK)
    assert entries(scan_json(cli), "uv.lock") == [(37, 39, "CDA604", "warning")]
    shown = [f for f in scan_json(cli, "--show-portable")["findings"] if f["path"] == "uv.lock"]
    assert [(f["line"], f["severity"], f["sites"]) for f in shown] == [(37, "warning", 1), (42, "note", 2)]
    assert "2 sites of entries that the project's own ROCm and CPU variants do not install" in shown[1]["message"]


def test_a_lock_with_a_rocm_variant_alone_keeps_the_cuda_entries_for_cpu(cli, tmp_path):
    write(tmp_path / "uv.lock", VARIANT_LOCK.replace('    { package = "app", extra = "cpu" },\n', "").replace("\ncpu = [", "\nother = ["))
    found = {f["line"]: f["targets"] for f in scan_json(cli)["findings"]}
    assert sorted(found) == [36, 41, 52]  # torch 2.5.1+cu124: its version and its registry are one entry
    assert [found[line]["rocm"]["severity"] for line in (36, 41, 52)] == ["warning", "note", "note"]
    assert {found[line]["cpu"]["severity"] for line in found} == {"warning"}



def _project(dependencies: str, binding: str) -> str:
    return f"""\
[project]
name = "sketch"
version = "0.1.0"
{dependencies}
[tool.uv.sources]
torch = [{binding}]

[[tool.uv.index]]
name = "torch-cu126"
url = "https://download.pytorch.org/whl/cu126"
explicit = true
"""


def _lock(root: str, marker: str) -> str:
    """A uv.lock as `uv lock` writes it: the project's entry (`root`, with `requires-dist` binding torch
    to the CUDA index under `marker`), then the CUDA torch and the NVIDIA wheel it depends on."""
    return f"""\
version = 1
requires-python = ">=3.10"
{root}
[[package]]
name = "nvidia-cublas-cu12"
version = "12.6.4.1"
source = {{ registry = "https://pypi.org/simple" }}
wheels = [
    {{ url = "https://files.pythonhosted.org/packages/nvidia_cublas_cu12-12.6.4.1-py3-none-manylinux2014_x86_64.whl", hash = "sha256:08ed" }},
]

[[package]]
name = "torch"
version = "2.7.1+cu126"
source = {{ registry = "https://download.pytorch.org/whl/cu126" }}
dependencies = [
    {{ name = "nvidia-cublas-cu12", marker = "{marker}" }},
]
wheels = [
    {{ url = "https://download.pytorch.org/whl/cu126/torch-2.7.1%2Bcu126-cp311-cp311-manylinux_2_28_x86_64.whl", hash = "sha256:1c2d" }},
]
"""


OPT_IN_ROOT = """conflicts = [[
    { package = "sketch", extra = "cpu" },
    { package = "sketch", extra = "gpu" },
]]

[[package]]
name = "sketch"
version = "0.1.0"
source = { editable = "." }

[package.optional-dependencies]
cpu = [
    { name = "torch", version = "2.7.1+cpu", source = { registry = "https://download.pytorch.org/whl/cpu" } },
]
gpu = [
    { name = "torch", version = "2.7.1+cu126", source = { registry = "https://download.pytorch.org/whl/cu126" } },
]

[package.metadata]
requires-dist = [
    { name = "torch", marker = "extra == 'cpu'", specifier = ">=2.6", index = "https://download.pytorch.org/whl/cpu" },
    { name = "torch", marker = "extra == 'gpu'", specifier = ">=2.6", index = "https://download.pytorch.org/whl/cu126" },
]

[[package]]
name = "torch"
version = "2.7.1+cpu"
source = { registry = "https://download.pytorch.org/whl/cpu" }
"""

NORMAL_ROOT = """
[[package]]
name = "sketch"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "torch", marker = "sys_platform == 'linux'" },
]

[package.metadata]
requires-dist = [{ name = "torch", marker = "sys_platform == 'linux'", specifier = ">=2.6", index = "https://download.pytorch.org/whl/cu126" }]
"""


def _uncovered(report: dict, path: str, text: str, word: str) -> list[int]:
    """The lines of `text` past the project's own entry that spell `word` and lie in no finding's span."""
    spans = [(f["line"], f["end_line"]) for f in report["findings"] if f["path"] == path]
    first = text.index('name = "nvidia-cublas-cu12"\n')
    lines = [n for n, line in enumerate(text.splitlines(), 1) if word in line and n > text.count("\n", 0, first)]
    return [n for n in lines if not any(start <= n <= end for start, end in spans)]


def _verdicts(report: dict) -> dict[tuple[str, int], tuple[str, str]]:
    return {(f["path"], f["line"]): (f["targets"]["rocm"]["severity"], f["targets"]["cpu"]["severity"]) for f in report["findings"]}


def test_an_index_only_a_gpu_extra_takes_torch_from_is_another_path_in_both_files(cli, tmp_path):
    """`uv sync --extra gpu` is the opt-in GPU install: on a ROCm host it brings a CUDA torch that
    runs on the CPU. The index in pyproject.toml and the lock's entries from it are one fact, a ROCm
    warning in both (a CPU note: the `cpu` extra is CPU's own variant); each lock entry is one
    finding, which covers the entry's dependency and wheel lines."""
    extras = '\n[project.optional-dependencies]\ncpu = ["torch>=2.6"]\ngpu = ["torch>=2.6"]\n'
    lock = _lock(OPT_IN_ROOT, "sys_platform == 'linux' and extra == 'extra-6-sketch-gpu'")
    write(tmp_path / "pyproject.toml", _project(extras, '{ index = "torch-cu126", extra = "gpu" }'))
    write(tmp_path / "uv.lock", lock)
    report = scan_json(cli, "--show-portable")
    assert _verdicts(report) == {
        ("pyproject.toml", 14): ("warning", "note"),
        ("uv.lock", 33): ("warning", "note"),
        ("uv.lock", 42): ("warning", "note"),
    }
    assert [f["rule"] for f in report["findings"] if f["path"] == "uv.lock"] == ["CDA603", "CDA602"]
    assert _uncovered(report, "uv.lock", lock, "cu12") == []


def test_an_index_every_install_takes_torch_from_is_the_normal_path_in_both_files(cli, tmp_path):
    """Bound with no extra, the index is what `uv sync` installs: a ROCm error in pyproject.toml and
    at the lock's entry from it alike; the NVIDIA wheel that entry pulls keeps the lock's warning."""
    lock = _lock(NORMAL_ROOT, "sys_platform == 'linux'")
    write(tmp_path / "pyproject.toml", _project('dependencies = ["torch>=2.6"]\n', """{ index = "torch-cu126", marker = "sys_platform == 'linux'" }"""))
    write(tmp_path / "uv.lock", lock)
    report = scan_json(cli)
    assert _verdicts(report) == {
        ("pyproject.toml", 11): ("error", "warning"),
        ("uv.lock", 16): ("warning", "warning"),
        ("uv.lock", 25): ("error", "warning"),
    }
    assert _uncovered(report, "uv.lock", lock, "cu12") == []
