"""Requirements files through the real CLI, and the shared requirement logic other analyzers reuse."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cudaudit.resolvers.requirements import PackageHit, index_hits, requirement_hits
from support import scan_json, sites, write


def finding(report: dict, path: str, rule: str) -> dict:
    (found,) = [f for f in report["findings"] if f["path"] == path and f["rule"] == rule]
    return found


def test_index_pin_and_cuda_only_packages_are_reported_on_their_own_lines(cli, tmp_path):
    write(
        tmp_path / "requirements.txt",
        "# GPU training stack\n"
        "--extra-index-url https://download.pytorch.org/whl/cu121\n"
        "\n"
        "torch==2.3.1+cu121\n"
        "numpy==1.26.4  # not cupy-cuda12x\n"
        "cupy-cuda12x==13.2.0\n"
        "nvidia-cudnn-cu12==8.9.2.26\n",
    )
    report = scan_json(cli)
    assert report["errors"] == []
    assert sites(report, "requirements.txt") == [
        (2, 19, 57, "CDA601", "error"),
        (4, 13, 19, "CDA602", "error"),
        (6, 1, 13, "CDA604", "error"),
        (7, 1, 18, "CDA603", "warning"),
    ]


def test_rocm_replacement_is_the_index_of_the_pinned_torch_release(cli, tmp_path):
    write(tmp_path / "requirements.txt", "--index-url https://download.pytorch.org/whl/cu121\ntorch==2.3.1\n")
    report = scan_json(cli)
    targets = finding(report, "requirements.txt", "CDA601")["targets"]
    assert "https://download.pytorch.org/whl/rocm6.0" in targets["rocm"]["replacement"]
    assert "pytorch-wheel-indexes.tsv" in targets["rocm"]["source"]
    assert "https://download.pytorch.org/whl/cpu" in targets["cpu"]["replacement"]


def test_torchvision_pin_selects_the_torch_release(cli, tmp_path):
    write(tmp_path / "requirements.txt", "torchvision==0.19.1+cu124\n")
    rocm = finding(scan_json(cli), "requirements.txt", "CDA602")["targets"]["rocm"]["replacement"]
    assert "`+rocm6.1`" in rocm and "torch 2.4" in rocm


def test_without_a_torch_pin_every_release_of_that_cuda_index_is_listed(cli, tmp_path):
    write(tmp_path / "requirements.txt", "--extra-index-url https://download.pytorch.org/whl/cu121\ntorch>=2.1\n")
    rocm = finding(scan_json(cli), "requirements.txt", "CDA601")["targets"]["rocm"]["replacement"]
    assert "2.1 → `rocm5.6`" in rocm and "2.3 → `rocm6.0`" in rocm and "2.5 → `rocm6.2`" in rocm


def test_includes_report_in_the_file_that_writes_them_and_give_the_torch_release(cli, tmp_path):
    write(tmp_path / "requirements.txt", "-r base.txt\n-c constraints.txt\n-r requirements-gpu.txt\n")
    write(tmp_path / "base.txt", "numpy==1.26.4\nnvidia-nccl-cu12==2.20.5\n")
    write(tmp_path / "constraints.txt", "torch==2.4.1\n")
    write(tmp_path / "requirements-gpu.txt", "--extra-index-url https://download.pytorch.org/whl/cu124\n")
    report = scan_json(cli)
    assert report["errors"] == []
    assert sites(report, "base.txt") == [(2, 1, 17, "CDA603", "warning")]
    assert sites(report, "requirements.txt") == []
    # requirements-gpu.txt is scanned on its own: reported once, not again through the include
    assert sites(report, "requirements-gpu.txt") == [(1, 19, 57, "CDA601", "error")]


def test_an_include_gives_the_torch_release_to_the_including_file(cli, tmp_path):
    write(tmp_path / "requirements.txt", "-c pins.txt\n--extra-index-url https://download.pytorch.org/whl/cu124\n")
    write(tmp_path / "pins.txt", "torch==2.5.1\n")
    rocm = finding(scan_json(cli), "requirements.txt", "CDA601")["targets"]["rocm"]["replacement"]
    assert "rocm6.2" in rocm and "torch 2.5" in rocm


def test_include_loops_and_missing_includes_are_harmless(cli, tmp_path):
    write(tmp_path / "requirements.txt", "-r a.txt\n-r missing.txt\ncupy-cuda11x\n")
    write(tmp_path / "a.txt", "-r requirements.txt\n-r a.txt\nxformers==0.0.26\n")
    report = scan_json(cli)
    assert report["errors"] == []
    assert [s[3] for s in sites(report, "requirements.txt")] == ["CDA604"]
    assert [s[3] for s in sites(report, "a.txt")] == ["CDA604"]


def test_hashes_continuations_and_markers(cli, tmp_path):
    write(
        tmp_path / "requirements.txt",
        "bitsandbytes==0.43.1 \\\n"
        "    --hash=sha256:52c1c7189a6ca006555a9663e544e75f40520a97a26e075411f9f9aca0771fcd \\\n"
        "    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000\n"
        "    # via -r requirements.in\n"
        'flash-attn==2.5.9.post1; sys_platform == "linux" and platform_machine == "x86_64"\n'
        'torch==2.3.1; platform_machine == "x86_64"  # nvidia-cudnn-cu12 comes with it\n'
        "torch\\\n"
        "==2.3.1+cu118\n",
    )
    report = scan_json(cli)
    assert sites(report, "requirements.txt") == [
        (1, 1, 13, "CDA604", "error"),
        (5, 1, 11, "CDA604", "error"),
        (8, 8, 14, "CDA602", "error"),
    ]


def test_bitsandbytes_is_flagged_only_when_its_range_excludes_rocm_releases(cli, tmp_path):
    pins = ["==0.43.1", "<0.49", "~=0.48.0", ">=0.41,<0.45", ">=0.41", "<=0.49.0", "~=0.48", "", "!=0.43.0"]
    write(tmp_path / "requirements.txt", "".join(f"bitsandbytes{pin}\n" for pin in pins))
    flagged = {s[0] for s in sites(scan_json(cli), "requirements.txt")}
    assert flagged == {1, 2, 3, 4}


def test_environment_variables_in_index_urls(cli, tmp_path):
    write(
        tmp_path / "requirements.txt",
        "--extra-index-url https://download.pytorch.org/whl/cu${CUDA_SHORT}\n"
        "--extra-index-url https://download.pytorch.org/whl/${TORCH_VARIANT}\n"
        "--extra-index-url https://${NGC_USER}:${NGC_TOKEN}@pypi.nvidia.com\n"
        "-i ${PIP_INDEX_URL}\n",
    )
    report = scan_json(cli)
    assert [(s[0], s[3]) for s in sites(report, "requirements.txt")] == [(1, "CDA601"), (3, "CDA601")]


def test_prose_look_alikes_and_portable_builds_are_not_findings(cli, tmp_path):
    write(
        tmp_path / "requirements.txt",
        "# pip install cupy-cuda12x --extra-index-url https://download.pytorch.org/whl/cu121\n"
        "--extra-index-url https://download.pytorch.org/whl/rocm6.0\n"
        "torch==2.3.1+rocm6.0\n"
        "torchvision==0.18.1+cpu\n"
        "cupy-rocm-7-0\n"
        "onnxruntime==1.18.0\n"
        "cudatoolkit-helpers==1.0\n"
        "faiss-cpu==1.8.0\n"
        "-e git+https://github.com/example/flash-attn-utils.git#egg=flash-attn-utils\n"
        "this is not a requirement\n",
    )
    report = scan_json(cli)
    assert report["errors"] == [] and report["findings"] == []


def test_a_suppression_comment_silences_one_line(cli, tmp_path):
    write(tmp_path / "requirements.txt", "cupy-cuda12x  # cudaudit: ignore[CDA604]\npycuda==2024.1\n")
    assert [s[0] for s in sites(scan_json(cli), "requirements.txt")] == [2]


def test_wheel_urls_report_the_index_and_the_cuda_build(cli, tmp_path):
    url = "https://download.pytorch.org/whl/cu121/torch-2.3.1%2Bcu121-cp311-cp311-linux_x86_64.whl"
    write(tmp_path / "requirements.txt", f"torch @ {url}\n{url}\n")
    # One finding per requirement: the CUDA build it pins says more than the index it comes from.
    assert [(s[0], s[3]) for s in sites(scan_json(cli), "requirements.txt")] == [(1, "CDA602"), (2, "CDA602")]


def test_a_cuda_local_label_means_what_its_package_builds_mean(cli, tmp_path):
    write(
        tmp_path / "requirements.txt",
        "k2==1.24.4.dev20241030+cuda12.4.torch2.4.0\n"
        "jaxlib==0.4.30+cuda12.cudnn89\n"
        "speechkit==0.3+cuda12.1\n",
    )
    found = {f["line"]: f for f in scan_json(cli)["findings"] if f["rule"] == "CDA602"}
    assert [found[line]["message"] for line in (1, 2, 3)] == [
        "`+cuda12.4.torch2.4.0` pins k2's CUDA build",
        "`+cuda12.cudnn89` pins a CUDA build of jaxlib",
        "`+cuda12.1` pins a CUDA build of its package",
    ]
    assert "`+rocm7.x.torchX`" in found[1]["targets"]["rocm"]["replacement"]
    assert "jax[rocm7-local]" in found[2]["targets"]["rocm"]["replacement"]


def test_a_package_named_apart_from_its_version_gives_its_label_its_meaning(cli, tmp_path):
    write(
        tmp_path / "pyproject.toml",
        '[tool.poetry]\nname = "asr"\nversion = "0.1"\n\n'
        '[tool.poetry.dependencies]\npython = "^3.10"\nk2 = "1.24.4.dev20241030+cuda12.4.torch2.4.0"\n',
    )
    (found,) = [f for f in scan_json(cli)["findings"] if f["rule"] == "CDA602"]
    assert found["message"] == "`+cuda12.4.torch2.4.0` pins k2's CUDA build"


def test_a_wheel_file_name_gives_its_label_its_package(cli, tmp_path):
    wheel = "k2-1.24.4.dev20241030+cuda12.1.torch2.4.1-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    write(tmp_path / "requirements.txt", f"https://example.org/k2/{wheel}\n")
    (found,) = [f for f in scan_json(cli)["findings"] if f["rule"] == "CDA602"]
    assert found["message"] == "`+cuda12.1.torch2.4.1` pins k2's CUDA build"


# The shared logic the Dockerfile analyzer calls with one `pip install` argument.


def test_requirement_hits_give_offsets_into_the_string_passed():
    text = "  jax[cuda12]==0.4.30"
    (hit,) = requirement_hits(text)
    assert hit == PackageHit("pip-package", "jax[cuda*]", 2, 13, "jax[cuda12]")
    assert text[hit.start : hit.end] == hit.text
    (pin,) = requirement_hits("torch==2.3.1+cu121")
    assert (pin.detector, pin.key, pin.text) == ("local-version", "cu[0-9]*", "+cu121")
    (index,) = requirement_hits("--index-url=https://download.pytorch.org/whl/cu118")
    assert index.start == len("--index-url=") and index.key == "download.pytorch.org/whl/cu*"
    assert index_hits("https://download.pytorch.org/whl/cpu") == []


def test_version_control_urls_are_read_by_the_package_they_install():
    """pip names a VCS install by its `#egg=` fragment or, without one, by the project's metadata, which
    the repository's name stands for; `name @ git+URL` is read once, by its name."""
    bare = "git+https://github.com/NVlabs/nvdiffrast/"
    (hit,) = requirement_hits(bare)
    assert (hit.key, hit.text, bare[hit.start : hit.end]) == ("nvdiffrast", "nvdiffrast", "nvdiffrast")
    (egg,) = requirement_hits("git+https://example.org/mirror/render.git@v0.3.3#egg=nvdiffrast&subdirectory=py")
    assert egg.key == "nvdiffrast"
    (named,) = requirement_hits("nvdiffrast @ git+https://github.com/NVlabs/nvdiffrast.git@v0.3.3")
    assert (named.start, named.end) == (0, len("nvdiffrast"))
    assert requirement_hits("git+https://github.com/lhotse-speech/lhotse") == []
    assert requirement_hits("git+https://github.com/org/render.git@nvdiffrast") == []


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["torch", "cupy-cuda12x", "==", "+cu121", "[", "]", "cuda12", ";", " ", "@", "https://",
                         "download.pytorch.org/whl/cu121", "-", "--index-url", "=", "${X}", "%2B", ".whl", "\\", "é",
                         "bitsandbytes", "<0.49", "~=", ",", "'", "extra ==", "\t", "#", "git+", "#egg=", "/"]),
    ).map("".join)
)
def test_requirement_logic_never_raises_and_offsets_match(text):
    for hit in requirement_hits(text) + index_hits(text):
        assert text[hit.start : hit.end] == hit.text


def test_an_nvml_binding_nothing_imports_is_a_pin_that_changes_nothing(cli, tmp_path):
    """NVML's bindings are pure-Python wheels: pinned in a project whose code never imports
    `pynvml`, they install everywhere and do nothing (a note). Once a module imports it, the pin
    is what the calls need, and it keeps its verdict; a scan of the requirements file alone cannot
    tell that nothing imports it."""
    write(tmp_path / "requirements.txt", "torch\nnvidia-ml-py>=12\n")
    write(tmp_path / "train.py", "import torch\n\n\ndef main():\n    return torch.zeros(2)\n")
    write(tmp_path / "README.md", "# demo\n")

    def severities(*paths: str) -> dict[str, str]:
        found = scan_json(cli, "--no-cache", "--show-portable", *paths, cwd=tmp_path)["findings"]
        return {t: v["severity"] for f in found if f["rule"] == "CDA604" for t, v in f["targets"].items()}

    assert severities(".") == {"rocm": "note", "cpu": "note"}
    assert severities("requirements.txt") == {"rocm": "error", "cpu": "error"}
    write(tmp_path / "monitor.py", "import pynvml\n\n\ndef used():\n    pynvml.nvmlInit()\n")
    assert severities(".") == {"rocm": "error", "cpu": "error"}
