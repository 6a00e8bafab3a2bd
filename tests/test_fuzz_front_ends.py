"""Every front end survives hostile bytes: random bytes, truncation, deep nesting, long lines,
odd encodings and token soup built from its own syntax.

The property is the per-file promise of `engine.analyze_bytes`: a file it cannot read is one
diagnostic of a known kind (cannot decode, syntax error, unparsable, too deeply nested), never
an "internal error", and the project index (`build_index`, the project-level readers) never
raises. Each front end is driven through the same entry points a scan uses, with every rule
selected. The fast run keeps the example counts modest; the `slow` variant runs many more.
"""

from __future__ import annotations

import json
import tempfile
import unicodedata
import urllib.parse
from functools import partial
from pathlib import Path, PurePath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cudaudit.cli import app
from cudaudit.engine import FileTask, _error_for, analyze_bytes
from cudaudit.filekinds import FileKind, classify
from cudaudit.model import FileError
from cudaudit.project_index import IndexedFile, build_index
from cudaudit.rules.catalog import load_catalog
from cudaudit.settings import AnalysisSettings
from support import raw_name, working_directory, write

NOTEBOOK = json.dumps(
    {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": ["import torch\n", "x = torch.ones(2).cuda()\n"]},
            {"cell_type": "code", "metadata": {}, "source": ["!pip install cupy-cuda12x\n"]},
            {"cell_type": "code", "metadata": {}, "source": ["%%bash\n", "nvidia-smi\n"]},
        ],
        "metadata": {"kernelspec": {"name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
)
SEEDS = {
    "train.py": (
        "import torch\nfrom torch.utils.cpp_extension import load\n"
        "device = 'cuda' if torch.cuda.is_available() else 'cpu'\n"
        "x = torch.ones(2).cuda()\nwith torch.autocast('cuda'):\n    y = x @ x\n"
        "torch.backends.cudnn.benchmark = True  # cudaudit: ignore[CDA101]\n"
    ),
    "analysis.ipynb": NOTEBOOK,
    "requirements.txt": (
        "--extra-index-url https://download.pytorch.org/whl/cu121\n-r base.txt\n"
        "torch==2.3.1+cu121 --hash=sha256:abc \\\n    --hash=sha256:def\ncupy-cuda12x>=13 ; sys_platform == 'linux'  # gpu\n"
    ),
    "pyproject.toml": (
        '[project]\nname = "demo"\ndependencies = ["torch>=2.1", "nvidia-cublas-cu12"]\n'
        '[project.optional-dependencies]\ngpu = ["cupy-cuda12x"]\n'
        '[[tool.uv.index]]\nname = "pytorch-cu121"\nurl = "https://download.pytorch.org/whl/cu121"\n'
        '[tool.uv.sources]\ntorch = { index = "pytorch-cu121" }\n'
    ),
    "environment.yml": (
        "name: demo\nchannels:\n  - nvidia\n  - pytorch\ndependencies:\n  - pytorch=2.1\n"
        "  - pytorch-cuda=12.1\n  - cudatoolkit\n  - pip:\n    - cupy-cuda12x\n"
    ),
    "pixi.toml": (
        '[workspace]\nname = "demo"\nchannels = ["nvidia", "conda-forge"]\nplatforms = ["linux-64"]\n'
        '[system-requirements]\ncuda = "12"\n[dependencies]\npytorch = { version = "2.4.*", build = "*cuda*" }\n'
        '[feature.gpu.target.linux-64.pypi-dependencies]\ntorch = { version = "==2.4.1+cu121", index = "https://download.pytorch.org/whl/cu121" }\n'
        '[environments]\ngpu = ["gpu"]\n'
    ),
    "Dockerfile": (
        "FROM nvidia/cuda:12.1.0-devel-ubuntu22.04 AS build\nARG TORCH=2.3.1\n"
        "ENV TORCH_CUDA_ARCH_LIST=\"8.0 9.0\"\nRUN pip install torch==${TORCH} \\\n"
        "    --index-url https://download.pytorch.org/whl/cu121\nRUN <<EOF\nnvcc -o k k.cu\nEOF\n"
        'CMD ["python", "train.py"]\n'
    ),
    "setup_gpu.sh": (
        "#!/bin/bash\nset -e\nexport CUDA_HOME=/usr/local/cuda-12.1\n"
        "pip install cupy-cuda12x 'torch==2.3.1' --index-url https://download.pytorch.org/whl/cu121\n"
        "nvidia-smi && nvcc --version\n"
    ),
    "kernel.cu": (
        "#include <cuda_runtime.h>\n#ifndef USE_ROCM\n#define HAS_PTX 1\n#endif\n"
        "__global__ void k(float* x) {\n  unsigned m = __ballot_sync(0xffffffff, x[threadIdx.x] > 0);\n"
        '#ifdef HAS_PTX\n  asm volatile("mov.u32 %0, %%laneid;" : "=r"(m));\n#endif\n}\n'
        "int main() { float* p; cudaMalloc(&p, 4); k<<<1, 32>>>(p); cudaDeviceSynchronize(); }\n"
    ),
    "CMakeLists.txt": (
        "cmake_minimum_required(VERSION 3.18)\nproject(demo LANGUAGES CXX CUDA)\n"
        'set(CMAKE_CUDA_ARCHITECTURES "80;90")\nfind_package(CUDAToolkit REQUIRED)\n'
        "add_library(k kernel.cu)\ntarget_link_libraries(k CUDA::cudart CUDA::cublas)\n"
    ),
    "setup.py": (
        "from setuptools import setup\nfrom torch.utils.cpp_extension import BuildExtension, CUDAExtension\n"
        "setup(name='k', install_requires=['torch>=2.1', 'cupy-cuda12x'],\n"
        "      ext_modules=[CUDAExtension('k', ['kernel.cu'], extra_compile_args={'nvcc': ['-O3', '--use_fast_math']})],\n"
        "      cmdclass={'build_ext': BuildExtension})\n"
    ),
    ".github/workflows/ci.yml": (
        "on: [push]\njobs:\n  test:\n    runs-on: [self-hosted, gpu]\n    container: nvidia/cuda:12.1.0-base-ubuntu22.04\n"
        "    strategy:\n      matrix:\n        cuda: ['12.1']\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: nvidia-smi && pip install torch --index-url https://download.pytorch.org/whl/cu${{ matrix.cuda }}\n"
    ),
    "deploy.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: demo\nspec:\n  template:\n    spec:\n"
        "      nodeSelector:\n        nvidia.com/gpu.present: 'true'\n      containers:\n        - name: t\n"
        "          image: nvcr.io/nvidia/pytorch:24.01-py3\n          env:\n            - name: NVIDIA_VISIBLE_DEVICES\n"
        "              value: all\n          resources:\n            limits:\n              nvidia.com/gpu: {{ .Values.gpus }}\n"
    ),
    "docker-compose.yml": (
        "services:\n  train:\n    image: nvcr.io/nvidia/pytorch:24.01-py3\n    runtime: nvidia\n"
        "    deploy:\n      resources:\n        reservations:\n          devices:\n"
        "            - driver: nvidia\n              count: all\n              capabilities: [gpu]\n"
    ),
}
"""One small file per front end, written for this test, full of what each front end looks for."""
SPECIALS = [" ", "\t", "\n", "\r\n", "\r", "\\", '"', "'", "#", "[", "]", "{", "}", "(", ")", "<<", ":", "=", "-", "é", "\ufeff"]
NESTERS = ["(", "[", "{", "[[", "- ", "  ", "#if 1\n", "<", "f'{", "!"]
"""What nests in some front end: brackets, YAML indentation and lists, C++ conditionals, f-strings, negations."""
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"]
CATALOG = load_catalog()
ALL_RULES = frozenset(CATALOG.rules)
KNOWN_DIAGNOSTICS = ("cannot decode", "syntax error", "not analysed", "contains NUL bytes")


def _tokens(seed: str) -> list[str]:
    """The seed cut at blanks and punctuation, so the soup keeps each front end's own words."""
    words, current = [], ""
    for char in seed:
        if char.isalnum() or char in "_.":
            current += char
            continue
        words += [w for w in (current, char) if w]
        current = ""
    return [*dict.fromkeys([*words, current] if current else words)]


def hostile(seed: str) -> st.SearchStrategy[bytes]:
    """Bytes derived from `seed`: token soup, a truncation, deep nesting, a long line, another
    encoding or line ending, random bytes spliced in, or random bytes alone."""
    tokens = _tokens(seed) + SPECIALS
    soup = st.lists(st.sampled_from(tokens), max_size=80).map("".join).map(str.encode)
    truncated = st.integers(0, len(seed)).map(lambda n: seed.encode()[:n])
    nested = st.tuples(st.sampled_from(NESTERS), st.integers(100, 3000), st.integers(0, len(seed))).map(
        lambda t: (seed[: t[2]] + t[0] * t[1] + seed[t[2] :]).encode()
    )
    long_line = st.tuples(st.sampled_from(tokens), st.integers(1000, 20_000)).map(lambda t: (seed + t[0] * t[1]).encode())
    encoded = st.tuples(st.sampled_from(ENCODINGS), st.sampled_from(["\n", "\r\n", "\r"])).map(
        lambda t: seed.replace("\n", t[1]).encode(t[0], "replace")
    )
    spliced = st.tuples(st.integers(0, len(seed)), st.binary(max_size=64)).map(
        lambda t: seed.encode()[: t[0]] + t[1] + seed.encode()[t[0] :]
    )
    return st.one_of(soup, truncated, nested, long_line, encoded, spliced, st.binary(max_size=512))


def unexpected(errors: list[FileError]) -> list[str]:
    """The diagnostics that are not one of the known per-file kinds (an internal error is not)."""
    return [e.message for e in errors if not any(known in e.message for known in KNOWN_DIAGNOSTICS)]


def check(name: str, data: bytes) -> None:
    """`data` as file `name`: analysed without an internal error, indexed without an exception."""
    kinds = classify(PurePath(name))
    task = FileTask(name, name, kinds, ALL_RULES)
    _, errors = analyze_bytes(data, task, AnalysisSettings())
    assert all(error.path == name for error in errors)
    assert not unexpected(errors)
    build_index([IndexedFile(name, kinds, partial(bytes, data))], CATALOG)


def test_every_front_end_has_a_seed_of_its_kind_that_it_reads():
    kinds = {kind for name in SEEDS for kind in classify(PurePath(name))}
    assert kinds >= set(FileKind) - {FileKind.LOCKFILE, FileKind.MAKEFILE}
    for name, seed in SEEDS.items():
        task = FileTask(name, name, classify(PurePath(name)), ALL_RULES)
        findings, errors = analyze_bytes(seed.encode(), task, AnalysisSettings())
        assert findings and not errors, name


def test_an_internal_error_is_not_a_known_diagnostic():
    """The property is not vacuous: what the engine makes of an analyzer's surprise fails it,
    while the diagnostics of bad input pass."""
    assert unexpected([_error_for("x.py", KeyError("surprise"))])
    assert not unexpected([_error_for("x.py", RecursionError()), _error_for("x.py", SyntaxError("bad"))])


@pytest.mark.parametrize("name", sorted(SEEDS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_hostile_bytes_never_break_a_front_end(name, data):
    check(name, data.draw(hostile(SEEDS[name])))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SEEDS))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_many_hostile_bytes_never_break_a_front_end(name, data):
    check(name, data.draw(hostile(SEEDS[name])))


NAME_BYTES = st.binary(min_size=1, max_size=40).filter(lambda b: b"/" not in b and b"\0" not in b)
"""A file name's bytes: anything a POSIX file system takes (escapes, markup, invalid UTF-8, `#?%`)."""


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stem=NAME_BYTES)
def test_any_file_name_gives_valid_reports_and_a_clean_terminal(stem):
    """`--show-portable`: a name may say which target the file serves (`hip.py`), which makes the
    site a note on the others; it is still reported, with its name intact."""
    with tempfile.TemporaryDirectory() as folder, working_directory(Path(folder)):
        write(raw_name(Path(folder), stem + b".py"), "import torch\ntorch.cuda.synchronize()\n")
        runner = CliRunner()
        document = json.loads(runner.invoke(app, ["scan", "-f", "json", "--show-portable", "."]).stdout_bytes.decode("utf-8"))
        assert len(document["findings"]) == 1 and not document["errors"]
        sarif = json.loads(runner.invoke(app, ["scan", "-f", "sarif", "--show-portable", "."]).stdout_bytes.decode("utf-8"))
        uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert urllib.parse.quote(urllib.parse.unquote(uri, errors="surrogateescape"), safe="/", errors="surrogateescape") == uri
        text = runner.invoke(app, ["scan", "."]).stdout
        assert not [c for c in text if unicodedata.category(c) == "Cc" and c != "\n"]
