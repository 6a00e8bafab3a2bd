"""pyproject.toml, setup.py and setup.cfg through the real CLI: positions, extras, bad input."""

from __future__ import annotations

from support import analyze, scan_json, sites, write

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]

[project]
name = "demo"
# "cupy-cuda12x" in a comment is no dependency
dependencies = [
    "torch==2.4.1",
    "pynvml>=11.5",
]

[project.optional-dependencies]
cuda = ["cupy-cuda12x>=13"]
serve = ["onnxruntime-gpu==1.18.0"]

[dependency-groups]
gpu = ["flash-attn==2.6.3", {include-group = "serve"}]

[tool.uv.sources]
torch = [{ index = "pytorch-cu124", marker = "sys_platform == 'linux'" }]
torchaudio = { url = "https://download.pytorch.org/whl/cu124/torchaudio-2.4.1%2Bcu124-cp311-cp311-linux_x86_64.whl" }

[[tool.uv.index]]
name = "pytorch-cu124"
url = "https://download.pytorch.org/whl/cu124"
explicit = true
"""


def test_pyproject_dependencies_extras_groups_and_uv_indexes(cli, tmp_path):
    write(tmp_path / "pyproject.toml", PYPROJECT)
    report = scan_json(cli)
    assert report["errors"] == []
    assert sites(report, "pyproject.toml") == [
        (9, 6, 12, "CDA604", "error"),
        (13, 10, 22, "CDA604", "warning"),
        (14, 11, 26, "CDA604", "warning"),  # onnxruntime-gpu falls back to the CPU provider
        (17, 9, 19, "CDA604", "warning"),
        (21, 78, 86, "CDA602", "error"),  # its index, in the same URL, is the same site
        (25, 8, 46, "CDA601", "error"),
    ]
    index = next(f for f in report["findings"] if f["line"] == 25)
    assert "rocm6.1" in index["targets"]["rocm"]["replacement"]  # torch 2.4 pinned in [project]


def test_an_extra_named_for_cuda_is_a_note_where_nobody_installs_it(cli, tmp_path):
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[project.optional-dependencies]\ncu121 = ["pycuda"]\n')
    assert sites(scan_json(cli, "--target", "cpu", "--show-portable"), "pyproject.toml") == [(4, 11, 17, "CDA604", "note")]
    assert sites(scan_json(cli, "--target", "rocm"), "pyproject.toml") == [(4, 11, 17, "CDA604", "warning")]  # on request
    write(tmp_path / "README.md", '# x\n\n    pip install "x[cu121]"\n')  # the README's install takes the extra
    assert sites(scan_json(cli, "--target", "rocm"), "pyproject.toml") == [(4, 11, 17, "CDA604", "error")]


def test_an_extra_the_readme_does_not_install_is_another_path(cli, tmp_path):
    """A CUDA-only package only in an extra (`packed`) is installed only by a user who asks for it: a
    warning on every target, naming the extra; the same extra in the README's install keeps its error."""
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\ndependencies = ["torch"]\n[project.optional-dependencies]\npacked = ["flash-attn>=2.0"]\n')
    write(tmp_path / "setup.py", 'from setuptools import setup\nsetup(name="y", extras_require={"packed": ["flash-attn>=2.0"]})\n')
    write(tmp_path / "README.md", "# x\n\n    pip install x\n")
    report = scan_json(cli)
    for path in ("pyproject.toml", "setup.py"):
        [finding] = [f for f in report["findings"] if f["path"] == path]
        assert {t["severity"] for t in finding["targets"].values()} == {"warning"}
        assert "only the `packed` extra installs it" in finding["message"]
    write(tmp_path / "README.md", "# x\n\n    pip install -e .[packed]\n")
    report = scan_json(cli)
    assert {f["targets"]["cpu"]["severity"] for f in report["findings"] if f["rule"] == "CDA604"} == {"error"}


def test_poetry_dependencies_and_sources(cli, tmp_path):
    write(
        tmp_path / "pyproject.toml",
        '[tool.poetry.dependencies]\n'
        'python = "^3.10"\n'
        'bitsandbytes = "^0.43"\n'
        '"jax" = { version = "0.4.30", extras = ["cuda12"] }\n'
        'torch = { version = "2.4.1+cu124", source = "pytorch" }\n'
        'numpy = "^1.26"\n'
        '\n'
        '[tool.poetry.group.gpu.dependencies]\n'
        'nvidia-ml-py = "^12.535"\n'
        '\n'
        '[[tool.poetry.source]]\n'
        'name = "pytorch"\n'
        'url = "https://download.pytorch.org/whl/cu124"\n'
        'priority = "explicit"\n',
    )
    report = scan_json(cli)
    assert sites(report, "pyproject.toml") == [
        (3, 1, 13, "CDA604", "error"),
        (4, 2, 5, "CDA604", "error"),
        (5, 27, 33, "CDA602", "error"),
        (9, 1, 13, "CDA604", "error"),
        (13, 8, 46, "CDA601", "error"),
    ]


def test_malformed_toml_is_one_error_and_the_scan_goes_on(cli, tmp_path):
    write(tmp_path / "broken" / "pyproject.toml", '[project]\nname = "x"\ndependencies = ["cupy-cuda12x",\n[tool\n')
    write(tmp_path / "good" / "requirements.txt", "cupy-cuda12x\n")
    report = scan_json(cli)
    (error,) = report["errors"]
    assert error["path"] == "broken/pyproject.toml" and error["line"] == 4 and "invalid TOML" in error["message"]
    assert [f["path"] for f in report["findings"]] == ["good/requirements.txt"]


def test_setup_py_is_read_statically_and_never_run(cli, tmp_path):
    marker = tmp_path / "ran"
    write(
        tmp_path / "setup.py",
        "from setuptools import setup\n"
        f"open({str(marker)!r}, 'w').write('x')\n"
        'GPU = ["cupy-cuda12x>=12", "pynvml"]\n'
        "\n"
        "setup(\n"
        '    name="demo",\n'
        "    install_requires=[\n"
        '        "torch==2.3.1+cu121",\n'
        "        'numpy',\n"
        "    ] + open('requirements.txt').read().split(),\n"
        '    extras_require={"cuda": GPU, "serve": """\n'
        "        onnxruntime-gpu==1.18.0  # fast\n"
        "        fastapi\n"
        '    """},\n'
        ")\n",
    )
    report = scan_json(cli)
    assert not marker.exists()
    assert sites(report, "setup.py") == [
        (3, 9, 21, "CDA604", "warning"),
        (3, 29, 35, "CDA604", "warning"),  # the `cuda` extra, which no README installs: on request
        (12, 9, 24, "CDA604", "warning"),
    ]


def test_setup_py_literal_install_requires(cli, tmp_path):
    write(tmp_path / "setup.py", 'import setuptools\nsetuptools.setup(install_requires=["torch==2.3.1+cu121", "numpy"])\n')
    assert sites(scan_json(cli), "setup.py") == [(2, 49, 55, "CDA602", "error")]


def test_setup_cfg_install_requires_and_extras(cli, tmp_path):
    write(
        tmp_path / "setup.cfg",
        "[metadata]\nname = demo\n\n[options]\ninstall_requires =\n    torch==2.3.1\n    tensorrt==10.0.1  # inference\n"
        "python_requires = >=3.10\n\n[options.extras_require]\ngpu = faiss-gpu==1.7.2\n",
    )
    write(tmp_path / "README.md", "# demo\n\n    pip install demo[gpu]\n")
    report = scan_json(cli)
    assert sites(report, "setup.cfg") == [(7, 5, 13, "CDA604", "warning"), (11, 7, 16, "CDA604", "error")]
    faiss = next(f for f in report["findings"] if f["line"] == 11)
    assert "faiss-cpu" in faiss["targets"]["cpu"]["replacement"]


def test_malformed_setup_cfg_is_one_error(cli, tmp_path):
    write(tmp_path / "setup.cfg", "install_requires = cupy-cuda12x\n")
    (error,) = scan_json(cli)["errors"]
    assert error["path"] == "setup.cfg" and error["line"] == 1


def test_a_cuda_index_selected_only_for_a_gpu_extra_is_opt_in(cli, tmp_path):
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n[project.optional-dependencies]\ncpu = ["torch>=2.3"]\ngpu = ["torch>=2.3"]\n\n'
        "[tool.uv.sources]\n"
        'torch = [{ index = "pytorch-cpu", extra = "cpu" }, { index = "pytorch-cu121", extra = "gpu" }]\n\n'
        '[[tool.uv.index]]\nname = "pytorch-cpu"\nurl = "https://download.pytorch.org/whl/cpu"\nexplicit = true\n\n'
        '[[tool.uv.index]]\nname = "pytorch-cu121"\nurl = "https://download.pytorch.org/whl/cu121"\nexplicit = true\n',
    )
    assert sites(scan_json(cli, "--target", "cpu", "--show-portable"), "pyproject.toml") == [(17, 8, 46, "CDA601", "note")]
    # a ROCm host that picks the extra gets a CUDA torch running on the CPU: another path, a warning
    assert sites(scan_json(cli, "--target", "rocm"), "pyproject.toml") == [(17, 8, 46, "CDA601", "warning")]


def test_a_cuda_index_for_a_group_uv_syncs_by_default_is_the_normal_path():
    """`uv sync` installs the `dev` group, or those `default-groups` names: no opt-in."""
    project = '[project]\nname = "x"\n[dependency-groups]\ngpu = ["torch>=2.3"]\n\n[tool.uv.sources]\ntorch = { index = "cu121", group = "gpu" }\n'
    index = '\n[[tool.uv.index]]\nname = "cu121"\nurl = "https://download.pytorch.org/whl/cu121"\nexplicit = true\n'
    (opt_in,) = analyze(project + index, path="pyproject.toml")
    assert opt_in.targets["rocm"].severity.value == "warning"
    (synced,) = analyze(project + index + '\n[tool.uv]\ndefault-groups = ["gpu"]\n', path="pyproject.toml")
    assert synced.targets["rocm"].severity.value == "error"


def test_an_explicit_uv_index_no_source_names_installs_nothing():
    """uv takes packages from an explicit index only for the sources pinned to it: unnamed, the
    index is a note on every target that says so; named by a source, it keeps its error."""
    index = '[[tool.uv.index]]\nname = "cu121"\nurl = "https://download.pytorch.org/whl/cu121"\nexplicit = true\n'
    project = '[project]\nname = "x"\ndependencies = ["torch>=2.3"]\n\n'
    (unbound,) = analyze(project + index, path="pyproject.toml")
    assert unbound.severity.value == "note" and "no `[tool.uv.sources]` entry names" in unbound.message
    (bound,) = analyze(project + index + '\n[tool.uv.sources]\ntorch = { index = "cu121" }\n', path="pyproject.toml")
    assert bound.severity.value == "error" and "torch resolves to a CUDA build" in bound.message


def test_an_extra_that_pins_cuda_builds_is_the_nvidia_variant_once_per_extra():
    code = """[project]
name = "kit"
dependencies = ["torch"]

[project.optional-dependencies]
fast-attention = [
    "flash-attn @ https://example.org/wheels/flash_attn-2.6.3+cu121torch2.4-cp311-cp311-linux_x86_64.whl",
    "xformers==0.0.28",
]
rocm62 = ["torch==2.4.1"]
"""
    (only,) = analyze(code, path="pyproject.toml", files={"README.md": 'pip install "kit[fast-attention]"\n'})
    assert (only.rule, only.sites) == ("CDA604", 2)
    assert (only.targets["rocm"].severity.value, only.targets["cpu"].severity.value) == ("note", "error")
    # without a ROCm variant the extra is no variant of anything: each requirement is its own finding
    alone = analyze(code.replace('rocm62 = ["torch==2.4.1"]\n', ""), path="pyproject.toml", files={"README.md": 'pip install "kit[fast-attention]"\n'})
    assert [f.sites for f in alone] == [1, 1]


def test_a_setup_py_extra_that_pins_cuda_builds_is_the_nvidia_variant_too():
    code = """from setuptools import setup

setup(
    name="kit",
    install_requires=["torch"],
    extras_require={
        "fast": [
            "flash-attn @ https://example.org/wheels/flash_attn-2.6.3+cu121torch2.4-cp311-cp311-linux_x86_64.whl",
            "xformers==0.0.28",
        ],
        "rocm": ["torch==2.4.1"],
    },
)
"""
    (only,) = analyze(code, path="setup.py", files={"README.md": 'pip install "kit[fast]"\n'})
    assert (only.rule, only.sites) == ("CDA604", 2)
    assert (only.targets["rocm"].severity.value, only.targets["cpu"].severity.value) == ("note", "error")


PIXI = """\
[workspace]
name = "trainer"
channels = ["conda-forge", { channel = "nvidia", priority = 1 }]
platforms = ["linux-64", "osx-arm64"]

[dependencies]
python = "3.11.*"
cuda-nvcc = { version = "12.4.*", channel = "nvidia" }

[target.linux-64.dependencies]
pytorch = { version = "2.4.*", build = "*cuda*" }

[feature.serve.pypi-dependencies]
vllm = ">=0.6"

[feature.train.pypi-dependencies]
flash-attn = { version = "==2.6.3", extras = [] }

[environments]
default = ["train"]
serve = ["serve"]
"""


def test_pixi_default_environment_is_the_normal_path(cli, tmp_path):
    write(tmp_path / "pixi.toml", PIXI)
    report = scan_json(cli)
    assert report["errors"] == []
    found = {(f["line"], f["rule"]): f["severity"] for f in report["findings"]}
    assert found == {
        (3, "CDA607"): "warning",  # a channel table's name, as an environment file's channel
        (8, "CDA605"): "error",  # the package, once: its channel is the same site
        (11, "CDA606"): "error",  # a platform's table refines the default feature
        (14, "CDA604"): "error",  # a feature named for no target keeps its severity, as an extra does
        (17, "CDA604"): "error",  # `train` is in the default environment
    }


def test_pixi_feature_named_for_cuda_off_the_default_environment_is_opt_in(cli, tmp_path):
    write(tmp_path / "pixi.toml", PIXI.replace("feature.serve.", "feature.gpu.").replace('serve = ["serve"]', 'gpu = ["gpu"]'))
    report = scan_json(cli)
    vllm = next(f for f in report["findings"] if f["line"] == 14)
    assert (vllm["targets"]["rocm"]["severity"], vllm["targets"]["cpu"]["severity"]) == ("error", "note")


def test_pixi_rocm_environment_makes_cuda_extras_the_nvidia_variant(cli, tmp_path):
    write(tmp_path / "pixi.toml", """\
[workspace]
name = "trainer"
channels = ["conda-forge"]
platforms = ["linux-64"]

[feature.rocm.pypi-dependencies]
torch = { version = "==2.4.1", index = "https://download.pytorch.org/whl/rocm6.1" }

[environments]
rocm = ["rocm"]
""")
    write(tmp_path / "pyproject.toml", '[project]\nname = "trainer"\n[project.optional-dependencies]\ncuda = ["cupy-cuda12x>=13"]\n')
    report = scan_json(cli)
    assert not [f for f in report["findings"] if f["path"].endswith("pyproject.toml")]
    report = scan_json(cli, "--show-portable")
    cupy = next(f for f in report["findings"] if f["path"].endswith("pyproject.toml"))
    assert {t["severity"] for t in cupy["targets"].values()} == {"note"}


def test_malformed_pixi_manifest_is_reported_and_the_scan_goes_on(cli, tmp_path):
    write(tmp_path / "pixi.toml", '[dependencies]\npytorch-cuda = "12.1\n')
    write(tmp_path / "requirements.txt", "cupy-cuda12x\n")
    report = scan_json(cli)
    assert [e["path"] for e in report["errors"]] == ["pixi.toml"]
    assert "invalid TOML in pixi.toml" in report["errors"][0]["message"]
    assert any(f["path"] == "requirements.txt" for f in report["findings"])
