"""`cudaudit resolve --lock`: pip-compile locks the variant against the target's index, for real and offline.

The test builds small stub wheels (torch and torchvision with `+rocm6.1` and `+cpu` local
versions, the packages the resolver swaps in, their dependencies), serves them as PEP 503 indexes
on 127.0.0.1 — one standing in for PyPI, one for PyTorch's wheel indexes — and has the real
pip-compile resolve the variant against them. Nothing goes beyond the loopback interface.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import write

pytestmark = pytest.mark.slow

PYPI = {
    "numpy": [("1.26.4", [])],
    "bitsandbytes": [("0.42.0", ["torch"]), ("0.49.0", ["torch", "numpy"])],
    "onnxruntime": [("1.17.1", ["numpy"])],
    "onnxruntime-gpu": [("1.17.1", ["numpy"])],
    "amdsmi": [("6.2.4", [])],
    "pynvml": [("11.5.0", [])],
    "cupy-rocm-5-0": [("13.3.0", ["numpy", "fastrlock"])],
    "fastrlock": [("0.8.2", [])],
    "nvidia-cublas-cu12": [("12.1.3.1", [])],
    # PyPI's torch is the CUDA build: a lock that picks it has gone wrong.
    "torch": [("2.4.1", ["nvidia-cublas-cu12"])],
}
PYTORCH = {
    "rocm6.1": {
        "torch": [("2.4.1+rocm6.1", ["pytorch-triton-rocm==3.0.0", "numpy"])],
        "torchvision": [("0.19.1+rocm6.1", ["torch==2.4.1", "numpy"])],
        "pytorch-triton-rocm": [("3.0.0", [])],
        "xformers": [("0.0.28.post1", ["torch==2.4.1", "numpy"])],
        "numpy": [("1.26.4", [])],
    },
    "cpu": {
        "torch": [("2.4.1+cpu", ["numpy"])],
        "torchvision": [("0.19.1+cpu", ["torch==2.4.1", "numpy"])],
        "numpy": [("1.26.4", [])],
    },
}
REQUIREMENTS = """\
# Serving stack, compiled on the CUDA build box
--extra-index-url https://download.pytorch.org/whl/cu121
torch==2.4.1+cu121
torchvision==0.19.1+cu121
xformers==0.0.28.post1      # attention
bitsandbytes==0.42.0
onnxruntime-gpu==1.17.1
cupy-cuda12x==13.3.0
pynvml==11.5.0
nvidia-cublas-cu12==12.1.3.1
numpy==1.26.4
"""


def stub_wheel(folder: Path, name: str, version: str, requires: list[str]) -> Path:
    """A minimal, installable wheel: one empty module and its metadata."""
    module = name.replace("-", "_")
    dist = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": "",
        f"{dist}/METADATA": "\n".join(
            ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", *(f"Requires-Dist: {r}" for r in requires)]
        )
        + "\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: cudaudit-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    records = [f"{path},sha256={_digest(body.encode())},{len(body.encode())}" for path, body in files.items()]
    files[f"{dist}/RECORD"] = "\n".join([*records, f"{dist}/RECORD,,"]) + "\n"
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, body in files.items():
            archive.writestr(member, body)
    return path


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def pep503_index(root: Path, packages: dict[str, list[tuple[str, list[str]]]]) -> None:
    """`root/<name>/index.html` pages linking each stub wheel, as a PEP 503 simple index serves them."""
    for name, releases in packages.items():
        page = root / name
        page.mkdir(parents=True)
        links = []
        for version, requires in releases:
            wheel = stub_wheel(page, name, version, requires)
            sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
            links.append(f'<a href="{wheel.name}#sha256={sha}">{wheel.name}</a><br/>')
        (page / "index.html").write_text("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # pip's requests are not the test's output
        pass


@pytest.fixture
def local_indexes(tmp_path: Path) -> Iterator[str]:
    """http://127.0.0.1:PORT serving /simple (PyPI's stand-in) and /whl/<tag> (PyTorch's)."""
    served = tmp_path / "served"
    pep503_index(served / "simple", PYPI)
    for tag, packages in PYTORCH.items():
        pep503_index(served / "whl" / tag, packages)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *args: _Quiet(*args, directory=str(served))  # type: ignore[misc]
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def offline_pip(monkeypatch: pytest.MonkeyPatch, local_indexes: str, tmp_path: Path) -> str:
    """pip and pip-compile see only the local PyPI stand-in, with no user configuration or cache."""
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_INDEX_URL", f"{local_indexes}/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("PIP_CACHE_DIR", str(tmp_path / "pip-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return local_indexes


def pins(lock: Path) -> dict[str, str]:
    """name -> version of every `name==version` line pip-compile wrote."""
    found = {}
    for line in lock.read_text().splitlines():
        if "==" in line and not line.lstrip().startswith(("#", "-")):
            name, _, version = line.split(";")[0].strip().partition("==")
            found[name.strip()] = version.strip()
    return found


def test_the_rocm_variant_locks_against_the_rocm_index(cli, tmp_path, offline_pip):
    write(tmp_path / "requirements.txt", REQUIREMENTS)
    result = cli(
        "resolve", "requirements.txt", "--target", "rocm", "-o", "requirements-rocm.txt",
        "--pytorch-index", f"{offline_pip}/whl", "--lock",
    )  # fmt: skip
    assert result.exit_code == 1, result.output  # onnxruntime-gpu is left for a person on ROCm
    assert "onnxruntime-gpu" in " ".join(result.output.split()).split("cannot be swapped cleanly")[1]
    variant = (tmp_path / "requirements-rocm.txt").read_text()
    assert f"--extra-index-url {offline_pip}/whl/rocm6.1\n" in variant
    locked = pins(tmp_path / "requirements-rocm.lock.txt")
    assert locked["torch"] == "2.4.1+rocm6.1"
    assert locked["torchvision"] == "0.19.1+rocm6.1"
    assert locked["pytorch-triton-rocm"] == "3.0.0"
    assert locked["xformers"] == "0.0.28.post1"
    assert locked["bitsandbytes"] == "0.49.0"
    assert locked["cupy-rocm-5-0"] == "13.3.0"
    assert "amdsmi" in locked and "pynvml" not in locked
    assert not [name for name in locked if name.startswith("nvidia-")]
    assert (tmp_path / "requirements.txt").read_text() == REQUIREMENTS


def test_the_cpu_variant_locks_against_the_cpu_index(cli, tmp_path, offline_pip):
    write(tmp_path / "requirements.txt", REQUIREMENTS)
    result = cli(
        "resolve", "requirements.txt", "--target", "cpu", "-o", "requirements-cpu.txt",
        "--pytorch-index", f"{offline_pip}/whl", "--lock", "--exit-zero",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    locked = pins(tmp_path / "requirements-cpu.lock.txt")
    assert locked["torch"] == "2.4.1+cpu"
    assert locked["onnxruntime"] == "1.17.1" and "onnxruntime-gpu" not in locked
    assert "xformers" not in locked and "cupy-rocm-5-0" not in locked  # no CPU build: removed, and named
    assert not [name for name in locked if name.startswith(("nvidia-", "pytorch-triton"))]


def test_a_lock_that_cannot_resolve_says_why(cli, tmp_path, offline_pip):
    """An index that lacks the build (here: no ROCm 6.0 index served) fails with pip-compile's reason."""
    write(tmp_path / "requirements.txt", "torch==2.3.1\n")
    result = cli(
        "resolve", "requirements.txt", "--target", "rocm", "-o", "out.txt",
        "--pytorch-index", f"{offline_pip}/whl", "--lock",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "pip-compile could not lock out.txt" in " ".join(result.output.split())
    assert not (tmp_path / "out.lock.txt").exists()
